"""Type II and III Wald tests of the fixed-effect terms: car's ``Anova()``.

``fit.wald_anova(type=2, test="Chisq")`` is ``car::Anova(fit, type = "II",
test.statistic = "Chisq")``: Wald chi-square tests for lmer and glmer fits,
or (lmer only) F tests with Kenward-Roger's degrees of freedom, which car
computes with pbkrtest.  The table and its printout are car's.
"""

from __future__ import annotations

from ._r.call import r_call
from .errors import ArgumentError, ArgumentTypeError, choice_error, emit
from .fitbase import MerFitLike
from .inference import AnovaTable
from .options import WALD_TESTS, WALD_TYPES, WaldTest, WaldType


def wald_anova(fit: MerFitLike, type: WaldType = 2, test: WaldTest = "Chisq") -> AnovaTable:
    """Wald tests of each fixed-effect term: ``car::Anova(fit, type=, test.statistic=)``.

    Parameters
    ----------
    type
        2 (or "II", car's default): each term tested after the others that
        do not contain it (marginality respected); 3 (or "III"): each term
        tested after all others, intercept included (meaningful with
        sum-to-zero contrasts, as in R).
    test
        ``"Chisq"`` (car's default): Wald chi-square tests; ``"F"``: F tests
        with Kenward-Roger's denominator df (lmer fits only; needs pbkrtest).

    Returns
    -------
    AnovaTable
        Columns "Chisq", "Df", "Pr(>Chisq)" (or "F", "Df", "Df.res",
        "Pr(>F)"), rows the terms; ``str()`` is car's printout ("Analysis of
        Deviance Table (Type II Wald chisquare tests)" ...).
    """
    if not isinstance(fit, MerFitLike):
        raise ArgumentTypeError(
            "wald_anova() tests a fitted mixed model (lmer/glmer fit), not a "
            f"{fit.__class__.__name__}"
        )
    if isinstance(type, bool) or type not in WALD_TYPES:
        raise choice_error("type", type, (2, 3, "II", "III"))
    if test not in WALD_TESTS:
        raise choice_error("test", test, WALD_TESTS)
    from ._r import session

    session.require_namespace("car")
    if test == "F":
        if not callable(getattr(fit, "lmertest_handle", None)):
            raise ArgumentError(
                "test='F' (Kenward-Roger F tests) applies to linear mixed models (lmer fits); "
                "use test='Chisq' for a glmer fit"
            )
        session.require_namespace("pbkrtest")
    outcome = r_call(
        "pylme4_wald_anova",
        fit.r_handle,
        WALD_TYPES[type],
        test,
        doing="computing car::Anova()",
    )
    emit(outcome.conditions)
    parts = outcome.value
    return AnovaTable(
        table=parts["table"].set_axis([str(r) for r in parts["rows"]], axis=0),
        heading=tuple(str(h) for h in parts["heading"]),
        text=parts["text"],
    )
