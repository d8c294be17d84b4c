"""Intervals, tests and simulation: lme4's ``confint()``, ``anova()`` and
``simulate()``, lmerTest's ``anova()`` and ``ranova()``, and one-sided tests.

The bootstrap (``bootMer``, ``boot.ci``) lives in :mod:`pylme4.bootstrap`;
refitting with every optimizer (``allFit``) in :mod:`pylme4.allfit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks, formatting, parallel, profiles
from ._r.call import r_call, r_value
from ._r.convert import Columns
from .errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    RError,
    choice_error,
    emit,
)
from .fitbase import MerFitLike, forward
from .linear import GlmFit, LmFit
from .options import (
    ANOVA_DDF_VALUES,
    ANOVA_TYPES,
    CONFINT_METHODS,
    AnovaDdf,
    CIType,
    ConfintMethod,
)

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from . import printopts
    from .fitbase import LmerFitLike
    from .profiles import Which


@dataclass(frozen=True)
class AnovaTable(formatting.RPrinted):
    """An R ``anova`` table: its numbers, its heading and R's printout.

    ``str(table)`` is exactly R's ``print()`` of the table.
    """

    table: pd.DataFrame
    """The table as R has it (rows and columns named as R names them)."""
    heading: tuple[str, ...]
    """The lines R prints above the table."""
    text: str = field(repr=False)

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    # print(table, digits =, signif.stars =) as text.
    if TYPE_CHECKING:
        to_string = printopts.anova_text
    else:
        to_string = forward("pylme4.printopts", "anova_text")


def _anova_table(parts: dict[str, Any]) -> AnovaTable:
    table: pd.DataFrame = parts["table"]
    table = table.set_axis([str(r) for r in parts["rows"]], axis=0)
    return AnovaTable(
        table=table, heading=tuple(str(h) for h in parts["heading"]), text=parts["text"]
    )


# ---------------------------------------------------------------------------
# Likelihood-ratio tests between fits: lme4's anova()
# ---------------------------------------------------------------------------


def anova(
    *fits: MerFitLike | LmFit | GlmFit, refit: bool = True, **named: MerFitLike | LmFit | GlmFit
) -> AnovaTable:
    """Compare nested models by likelihood-ratio tests: lme4's ``anova(m1, m2, ...)``.

    Parameters
    ----------
    *fits
        Fits to compare (at least two for a comparison; one fit gives lme4's
        ANOVA table of its fixed-effect terms).  The first must be a mixed
        model; ``lm()`` and ``glm()`` fits may follow it, as lme4's
        ``anova(m_lmer, m_lm)`` takes them.  R names models by the names
        they are bound to, so a positional fit gets the name the calling
        code binds it to (``anova(m0, fit)`` prints the rows "m0" and "fit"
        as R does) when exactly one name there is bound to it; otherwise
        (an expression such as ``anova(fits[0], fits[1])``, or two names for
        one fit) it is ``model1``, ``model2``, ... by its position.
    refit
        Refit REML fits by maximum likelihood before comparing (lme4's
        default, and what a likelihood-ratio test of fixed effects needs).
    **named
        Fits given by keyword are bound to that name, so
        ``anova(small=m0, large=m1)`` prints the rows "small" and "large"
        exactly as R's ``anova(small, large)`` does.

    Returns
    -------
    AnovaTable
        Columns npar, AIC, BIC, logLik, deviance, Chisq, Df, Pr(>Chisq),
        one row per model ordered by number of parameters as R orders them;
        ``str()`` is R's printout, with its "Data:" and "Models:" heading.
        R's message "refitting model(s) with ML (instead of REML)" comes as
        an :class:`~pylme4.errors.RMessage` warning.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> m0 = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleepstudy")
    >>> m1 = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> table = pylme4.anova(m0, m1)  # doctest: +SKIP
    >>> list(table.table.index)  # doctest: +SKIP
    ['m0', 'm1']
    """
    if not isinstance(refit, (bool, np.bool_)):
        raise ArgumentTypeError(f"refit must be True or False, not {refit!r}")
    bound: dict[str, Any] = {}
    for i, (fit, name) in enumerate(zip(fits, formatting.caller_names(fits, set(named))), start=1):
        bound[name or f"model{i}"] = fit
    for name, fit in named.items():
        if name in bound:
            raise ArgumentError(f"two fits are named {name!r}")
        bound[name] = fit
    if not bound:
        raise ArgumentTypeError("anova() needs at least one fitted model")
    for name, fit in bound.items():
        if not isinstance(fit, (MerFitLike, LmFit, GlmFit)):
            raise ArgumentTypeError(
                f"anova() compares fitted mixed models (and lm()/glm() fits after one); "
                f"{name} is a {type(fit).__name__}"
            )
    first_name, first = next(iter(bound.items()))
    if not isinstance(first, MerFitLike):
        # lme4's anova.merMod takes lm/glm fits after a mixed model; with an
        # lm first R would dispatch to anova.lm, which cannot take a merMod.
        raise ArgumentError(
            f"anova() needs a mixed model (lmer/glmer fit) first; {first_name} is a "
            f"{type(first).__name__}: give the mixed model first, e.g. anova(m_lmer, m_lm)"
        )
    outcome = r_call(
        "pylme4_anova",
        {name: fit.r_handle for name, fit in bound.items()},
        bool(refit),
        doing="computing anova()",
    )
    emit(outcome.conditions)
    return _anova_table(outcome.value)


# ---------------------------------------------------------------------------
# lmerTest: F tests of fixed effects, LR tests of random effects
# ---------------------------------------------------------------------------


def lmertest_anova(
    fit: LmerFitLike,
    type: int | str = 3,
    ddf: AnovaDdf = "Satterthwaite",
) -> AnovaTable:
    """F tests of the fixed-effect terms: lmerTest's ``anova(model, type, ddf)``.

    ``type`` is 1, 2 or 3 (or "I", "II", "III"): sequential, marginal
    (respecting hierarchy) or marginal (Type III) sums of squares; ``ddf`` the
    denominator degrees of freedom, Satterthwaite's or Kenward-Roger's (or
    ``"lme4"`` for lme4's table without tests).
    """
    if type not in ANOVA_TYPES:
        raise choice_error("type", type, (1, 2, 3, "I", "II", "III"))
    if ddf not in ANOVA_DDF_VALUES:
        raise choice_error("ddf", ddf, ANOVA_DDF_VALUES)
    if ddf == "Kenward-Roger":
        from ._r import session

        session.require_namespace("pbkrtest")
    outcome = r_call(
        "pylme4_lmertest_anova",
        fit.lmertest_handle(),
        ANOVA_TYPES[type],
        ddf,
        doing="computing lmerTest's anova()",
    )
    emit(outcome.conditions)
    return _anova_table(outcome.value)


def ranova(fit: LmerFitLike, reduce_terms: bool = True) -> AnovaTable:
    """Likelihood-ratio tests of the random effects: lmerTest's ``ranova(model)``.

    Each random-effect term is reduced (``reduce_terms=True``: a slope term
    ``(Days | Subject)`` becomes ``(1 | Subject)``) or removed, the model is
    refitted, and the change in log-likelihood tested.
    """
    if not isinstance(reduce_terms, (bool, np.bool_)):
        raise ArgumentTypeError(f"reduce_terms must be True or False, not {reduce_terms!r}")
    outcome = r_call(
        "pylme4_ranova", fit.lmertest_handle(), bool(reduce_terms), doing="computing ranova()"
    )
    emit(outcome.conditions)
    return _anova_table(outcome.value)


# ---------------------------------------------------------------------------
# Confidence intervals
# ---------------------------------------------------------------------------


def confint(
    fit: MerFitLike,
    parm: Which = None,
    level: float = 0.95,
    method: ConfintMethod = "profile",
    *,
    old_names: bool = True,
    nsim: int = 500,
    seed: int | None = None,
    boot_type: CIType = "perc",
    workers: int = 1,
    progress: bool | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Confidence intervals for the parameters: lme4's ``confint()``.

    Parameters
    ----------
    parm
        The parameters (default all), as lme4's ``parm``: names
        (``".sig01"``, ``".sigma"``, ``"Days"``; with ``old_names=False``
        ``"sd_(Intercept)|Subject"``, ``"sigma"``), 0-based positions in
        that order (R's ``parm = i + 1``), ``"theta_"`` (the variance
        parameters) or ``"beta_"`` (the fixed effects), or a list of these.
    level
        The confidence level.
    method
        ``"profile"`` (likelihood profile, lme4's default), ``"Wald"``
        (estimate +/- z * SE; fixed effects only: the variance parameters'
        rows are NaN, as in R) or ``"boot"`` (parametric bootstrap).
    old_names
        lme4's ``oldNames``: name the variance parameters ``.sig01``,
        ``.sig02``, ..., ``.sigma`` (True, lme4's default) or
        ``sd_(Intercept)|Subject``, ``cor_Days.(Intercept)|Subject``,
        ``sigma`` (False).
    nsim, seed, boot_type
        For ``method="boot"``: the number of bootstrap replicates, the seed
        and the interval type (``"perc"``, ``"basic"`` or ``"norm"``), as in
        ``confint(fit, method = "boot", nsim = nsim, seed = seed, boot.type = boot_type)``.
    workers, executor, progress
        For ``method="boot"``: refit in parallel (see
        :func:`pylme4.bootstrap.boot_mer`); for ``method="profile"``: profile
        each parameter in a worker (see :func:`pylme4.profiles.profile`).
        The intervals are the same.

    Returns
    -------
    DataFrame
        One row per parameter with R's names: ``.sig01``, ``.sig02``, ...
        (the random-effect standard deviations and correlations, in the
        order of ``theta``), ``.sigma``, then the fixed effects; columns as R
        names them ("2.5 %", "97.5 %" for level 0.95).

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> ci = fit.confint(method="Wald")
    >>> list(ci.columns)
    ['2.5 %', '97.5 %']
    >>> list(ci.index)
    ['.sig01', '.sig02', '.sig03', '.sigma', '(Intercept)', 'Days']
    >>> list(fit.confint("beta_", method="Wald", old_names=False).index)
    ['(Intercept)', 'Days']
    """
    if method not in CONFINT_METHODS:
        raise choice_error("method", method, CONFINT_METHODS)
    if not isinstance(old_names, (bool, np.bool_)):
        raise ArgumentTypeError(f"old_names must be True or False, not {old_names!r}")
    from .bootstrap import boot_mer

    checks.level(level)
    place = parallel.where(workers, executor)
    names = r_value(
        "pylme4_confint_names", fit.r_handle, bool(old_names), doing="naming the parameters"
    )
    params = [str(n) for n in names["names"]]
    if isinstance(parm, str) and parm in CONFINT_METHODS and parm not in params:
        raise ArgumentLookupError(
            f"parm: no parameter {parm!r}; confint()'s first argument is parm, as in R: "
            f"did you mean method={parm!r}?"
        )
    rows = None if parm is None else profiles.select(parm, params, int(names["nvp"]), "parm")
    if method == "profile":
        # confint.merMod: profile(fit, which = parm, signames = oldNames), then its confint().
        p = profiles.profile(
            fit,
            which=None if rows is None else [i - 1 for i in rows],
            signames=bool(old_names),
            workers=place.workers,
            executor=place.executor,
            progress=progress,
        )
        return p.confint(level=level)
    if method == "boot":
        # "confint" is confint.merMod's own statistic (.sig01, ..., fixed effects).
        statistic: Any = "confint"
        b = boot_mer(
            fit,
            statistic,
            nsim=nsim,
            seed=seed,
            workers=place.workers,
            executor=place.executor,
            progress=progress,
        )
        if b.t.isna().all().all():
            raise RError(
                "method='boot': every bootstrap refit failed, so there are no intervals "
                "(R: '*all* bootstrap runs failed!')"
            )
        table = b.confint(level=level, type=boot_type)
        # The statistic's values are c(sd/cor parameters, fixed effects), in
        # confint's order: the names differ with oldNames only.
        table = table.set_axis(params, axis=0)
        return table if rows is None else table.iloc[[i - 1 for i in rows]]
    outcome = r_call(
        "pylme4_confint",
        fit.r_handle,
        method,
        float(level),
        rows,
        bool(old_names),
        doing=f"computing {method} intervals",
    )
    emit(outcome.conditions)
    return outcome.value


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------


def simulate(
    fit: MerFitLike,
    nsim: int = 1,
    seed: int | None = None,
    use_u: bool | None = None,
    re_form: str | None = None,
    newdata: pd.DataFrame | None = None,
    allow_new_levels: bool = False,
    newparams: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Responses simulated from the fitted model: lme4's ``simulate()``.

    Parameters
    ----------
    nsim
        Number of simulated responses (columns ``sim_1``, ``sim_2``, ...).
    seed
        ``simulate(..., seed = seed)``; None continues R's random stream.
    use_u
        True: condition on the estimated random effects (simulate only the
        residual noise); False: draw new random effects.  None leaves it to
        lme4 (new random effects).  Give ``use_u`` or ``re_form``, not both.
    re_form
        Random effects to condition on: ``"NA"`` or ``"~0"`` for none, or a
        formula such as ``"~(1 | Subject)"``.
    newdata
        Simulate for these rows instead of the data the model was fitted to.
    allow_new_levels
        Allow grouping levels in ``newdata`` that the fit has not seen.
    newparams
        Simulate with other parameters (lme4's ``newparams``): a dict with
        any of ``"beta"``, ``"theta"`` and ``"sigma"``, as for
        :meth:`predict`; the rest stay the fit's.  To simulate from a
        formula without a fit: :func:`pylme4.simulate_formula`.

    Returns
    -------
    DataFrame
        One column per simulation, exactly R's values for the same seed;
        indexed like ``fitted()`` (or like ``newdata``).

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> fit.simulate(nsim=2, seed=1).shape
    (180, 2)
    """
    nsim = checks.replicates(nsim)
    seed = checks.seed(seed)
    if use_u is not None and not isinstance(use_u, (bool, np.bool_)):
        raise ArgumentTypeError(f"use_u must be True, False or None, not {use_u!r}")
    if use_u is not None and re_form is not None:
        raise ArgumentError("give only one of use_u and re_form (as lme4's simulate() requires)")
    re_form = checks.re_form(re_form)
    params = (
        None
        if newparams is None
        else checks.newparams(newparams, n_beta=len(fit.fixef()), n_theta=len(fit.theta))
    )
    frame = None
    if newdata is not None:
        data = checks.as_frame(newdata, "newdata")
        checks.check_frame(data, "newdata")
        frame = Columns(data, [c for c in data.columns if c in fit.variables])
    outcome = r_call(
        "pylme4_simulate",
        fit.r_handle,
        int(nsim),
        None if seed is None else int(seed),
        None if use_u is None else bool(use_u),
        re_form,
        frame,
        bool(allow_new_levels),
        params,
        doing="simulating from the model",
    )
    emit(outcome.conditions)
    values: pd.DataFrame = outcome.value["values"]
    if frame is not None:
        return values.set_axis(frame.frame.index, axis=0)
    return values.set_axis(fit.row_index(len(values)), axis=0)
