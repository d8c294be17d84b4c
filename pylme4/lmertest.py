"""lmerTest's tools for linear mixed models beyond anova/ranova.

Contrast tests of the fixed effects (``contest``, ``contest1D``,
``contestMD``) with Satterthwaite's or Kenward-Roger's denominator degrees of
freedom.  Every table is computed by lmerTest itself on the fit's lmerTest
version, so values and printed text are R's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import formatting
from ._r.call import r_call
from .errors import ArgumentError, ArgumentTypeError, choice_error, emit
from .fitbase import forward
from .inference import AnovaTable
from .options import ANOVA_DDF_VALUES, ANOVA_TYPES, DDF_VALUES, AnovaDdf, Ddf

if TYPE_CHECKING:
    from . import printopts
    from .fitbase import LmerFitLike


@dataclass(frozen=True, eq=False)
class LmerTestTable(formatting.RPrinted):
    """A table lmerTest returns as a data.frame, with R's printout.

    ``str(table)`` is exactly R's ``print()`` of it.
    """

    table: pd.DataFrame
    """The table with R's row and column names."""
    text: str = field(repr=False)
    r_attributes: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The R attributes its printout reads (class, heading, confidence level, ddf)."""

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    # print(table, digits =, signif.stars =) as text.
    if TYPE_CHECKING:
        to_string = printopts.lmertest_table_text
    else:
        to_string = forward("pylme4.printopts", "lmertest_table_text")


def _table(parts: dict[str, Any]) -> LmerTestTable:
    table: pd.DataFrame = parts["table"]
    rows = parts["rows"]
    if rows is not None:
        table = table.set_axis([str(r) for r in np.atleast_1d(rows)], axis=0)
    attrs = parts.get("attrs") or {}
    return LmerTestTable(table=table, text=parts["text"], r_attributes=dict(attrs))


def _check_ddf(ddf: object) -> None:
    if ddf not in DDF_VALUES:
        raise choice_error("ddf", ddf, DDF_VALUES)
    if ddf == "Kenward-Roger":
        from ._r import session

        session.require_namespace("pbkrtest")


def _numbers(values: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"{what} must hold numbers ({exc})") from None
    return array


def _contrast(fit: LmerFitLike, L: Any) -> tuple[np.ndarray, int | None, list[str] | None]:
    """L as (values row by row, number of rows or None for a vector, row names).

    A dict or Series names coefficients (the others weigh 0); a DataFrame's
    columns name them (in any order), its index names the rows unless it is
    the default 0, 1, ...; an array or list is in the order of ``fixef()``.
    """
    names = [str(n) for n in fit.fixef().index]
    p = len(names)
    if isinstance(L, (Mapping, pd.Series)):
        weights = dict(L.items())
        unknown = [str(k) for k in weights if str(k) not in names]
        if unknown:
            raise ArgumentError(
                f"L names {', '.join(map(repr, unknown))}, which "
                f"{'is not a coefficient' if len(unknown) == 1 else 'are not coefficients'}"
                f" of the model (its coefficients: {', '.join(map(repr, names))})"
            )
        vector = np.zeros(p)
        for key, weight in weights.items():
            vector[names.index(str(key))] = _numbers(weight, f"L[{key!r}]")
        return vector, None, None
    if isinstance(L, pd.DataFrame):
        columns = [str(c) for c in L.columns]
        missing = [n for n in names if n not in columns]
        unknown = [c for c in columns if c not in names]
        if unknown or missing:
            raise ArgumentError(
                "the columns of L must be the model's coefficients "
                f"({', '.join(map(repr, names))}); "
                + (f"not coefficients: {', '.join(map(repr, unknown))}" if unknown else "")
                + ("; " if unknown and missing else "")
                + (f"missing: {', '.join(map(repr, missing))}" if missing else "")
            )
        matrix = _numbers(L.set_axis(columns, axis=1)[names].to_numpy(), "L")
        default_index = isinstance(L.index, pd.RangeIndex) and L.index.start == 0
        rows = None if default_index else [str(i) for i in L.index]
        return matrix.ravel(), matrix.shape[0], rows
    array = _numbers(L, "L")
    if array.ndim == 1:
        if array.shape[0] != p:
            raise ArgumentError(
                f"L has {array.shape[0]} weights; the model has {p} coefficients "
                f"({', '.join(map(repr, names))})"
            )
        return array, None, None
    if array.ndim == 2:
        if array.shape[1] != p:
            raise ArgumentError(
                f"L has {array.shape[1]} columns; the model has {p} coefficients "
                f"({', '.join(map(repr, names))})"
            )
        return array.ravel(), array.shape[0], None
    raise ArgumentError(f"L must be a vector or a matrix, not a {array.ndim}-dimensional array")


def _run_contest(
    fit: LmerFitLike,
    fun: str,
    L: Any,
    rhs: Any,
    joint: bool,
    confint: bool,
    level: float,
    ddf: object,
) -> LmerTestTable:
    _check_ddf(ddf)
    for name, flag in (("joint", joint), ("confint", confint)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ArgumentTypeError(f"{name} must be True or False, not {flag!r}")
    _check_level(level)
    values, nrow, rows = _contrast(fit, L)
    rhs_values = np.atleast_1d(_numbers(rhs, "rhs"))
    if rhs_values.ndim != 1 or len(rhs_values) not in (1, nrow or 1):
        raise ArgumentError(
            f"rhs must be one number or one per row of L ({nrow or 1}), not {len(rhs_values)}"
        )
    outcome = r_call(
        "pylme4_contest",
        fit.lmertest_handle(),
        fun,
        values,
        None if nrow is None else float(nrow),
        rows,
        [str(n) for n in fit.fixef().index],
        rhs_values,
        bool(joint),
        bool(confint),
        float(level),
        ddf,
        doing=f"computing lmerTest's {fun}()",
    )
    emit(outcome.conditions)
    return _table(outcome.value)


def contest(
    fit: LmerFitLike,
    L: Any,
    joint: bool = True,
    ddf: Ddf = "Satterthwaite",
    rhs: Any = 0,
    confint: bool = True,
    level: float = 0.95,
) -> LmerTestTable:
    """Tests of contrasts of the fixed effects: lmerTest's ``contest(model, L, ...)``.

    Parameters
    ----------
    L
        The contrast: a vector with one weight per coefficient (in the order
        of ``fixef()``), a dict or Series ``{coefficient: weight}`` (others
        weigh 0), or a matrix (2-d array, or DataFrame whose columns are the
        coefficients and whose index names the rows) with one contrast a row.
    joint
        One F test of all rows together (lmerTest's ``contestMD``), or with
        ``False`` a t test of each row (``contest1D``) with confidence limits.
    ddf
        Satterthwaite's or Kenward-Roger's denominator degrees of freedom.
    rhs
        The hypothesised value of ``L @ beta``: one number or one per row.
    confint, level
        Confidence limits (``joint=False`` only) and their level.
    """
    return _run_contest(fit, "contest", L, rhs, joint, confint, level, ddf)


def contest1d(
    fit: LmerFitLike,
    L: Any,
    ddf: Ddf = "Satterthwaite",
    rhs: float = 0,
    confint: bool = False,
    level: float = 0.95,
) -> LmerTestTable:
    """The t test of one contrast vector: lmerTest's ``contest1D(model, L, ...)``."""
    return _run_contest(fit, "contest1D", L, rhs, True, confint, level, ddf)


def contest_md(
    fit: LmerFitLike,
    L: Any,
    ddf: Ddf = "Satterthwaite",
    rhs: Any = 0,
) -> LmerTestTable:
    """The F test of a contrast matrix: lmerTest's ``contestMD(model, L, ...)``."""
    return _run_contest(fit, "contestMD", L, rhs, True, False, 0.95, ddf)


# ---------------------------------------------------------------------------
# Least-squares means
# ---------------------------------------------------------------------------


def _which(which: Any) -> list[str] | None:
    if which is None:
        return None
    if isinstance(which, str):
        return [which]
    if isinstance(which, (list, tuple)) and which and all(isinstance(w, str) for w in which):
        return list(which)
    raise ArgumentTypeError(f"which must be a term name or a list of them, not {which!r}")


def _check_level(level: object) -> float:
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise ArgumentError(f"level must be a number between 0 and 1, not {level!r}")
    return float(level)


def _ls_means(
    fit: LmerFitLike, which: Any, level: float, ddf: object, pairwise: bool
) -> LmerTestTable:
    _check_ddf(ddf)
    outcome = r_call(
        "pylme4_ls_means",
        fit.lmertest_handle(),
        _which(which),
        _check_level(level),
        ddf,
        pairwise,
        doing="computing lmerTest's " + ("difflsmeans()" if pairwise else "ls_means()"),
    )
    emit(outcome.conditions)
    return _table(outcome.value)


def ls_means(
    fit: LmerFitLike,
    which: str | list[str] | None = None,
    level: float = 0.95,
    ddf: Ddf = "Satterthwaite",
    pairwise: bool = False,
) -> LmerTestTable:
    """Least-squares means of the factor terms: lmerTest's ``ls_means(model, which, ...)``.

    ``which`` names the terms (all factor terms by default); ``pairwise=True``
    gives their pairwise differences (as :func:`difflsmeans`).  ``str()`` is
    R's printout ("Least Squares Means table:" ...).
    """
    if not isinstance(pairwise, (bool, np.bool_)):
        raise ArgumentTypeError(f"pairwise must be True or False, not {pairwise!r}")
    return _ls_means(fit, which, level, ddf, bool(pairwise))


def difflsmeans(
    fit: LmerFitLike,
    which: str | list[str] | None = None,
    level: float = 0.95,
    ddf: Ddf = "Satterthwaite",
) -> LmerTestTable:
    """Pairwise differences of least-squares means: lmerTest's ``difflsmeans(model, ...)``."""
    return _ls_means(fit, which, level, ddf, True)


@dataclass(frozen=True, eq=False)
class ShowTests(formatting.RPrinted):
    """The contrast matrices behind an ls_means or anova table: lmerTest's
    ``show_tests()``, one matrix per term; ``str()`` is R's printout."""

    tests: dict[str, pd.DataFrame]
    """Term -> its contrast matrix (rows: contrasts, columns: coefficients)."""
    text: str = field(repr=False)

    def __getitem__(self, term: str) -> pd.DataFrame:
        return self.tests[term]


def show_tests(
    fit: LmerFitLike,
    of: str = "ls_means",
    which: str | list[str] | None = None,
    ddf: Ddf = "Satterthwaite",
    type: int | str = 3,
    fractions: bool = False,
    names: bool = True,
) -> ShowTests:
    """The contrasts lmerTest tests: ``show_tests(ls_means(model, which, ddf=ddf))``
    with ``of="ls_means"``, or ``show_tests(anova(model, type=type, ddf=ddf))``
    with ``of="anova"``.  ``fractions=True`` prints the weights as fractions
    (the numbers in ``tests`` stay numbers)."""
    if of not in ("ls_means", "anova"):
        raise choice_error("of", of, ("ls_means", "anova"))
    _check_ddf(ddf)
    if type not in ANOVA_TYPES:
        raise choice_error("type", type, (1, 2, 3, "I", "II", "III"))
    for name, flag in (("fractions", fractions), ("names", names)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ArgumentTypeError(f"{name} must be True or False, not {flag!r}")
    outcome = r_call(
        "pylme4_show_tests",
        fit.lmertest_handle(),
        of,
        _which(which),
        ddf,
        ANOVA_TYPES[type],
        bool(fractions),
        bool(names),
        doing="computing lmerTest's show_tests()",
    )
    emit(outcome.conditions)
    parts = outcome.value
    terms = [str(t) for t in np.atleast_1d(parts["terms"])] if parts["terms"] is not None else []
    matrices = list(parts["matrices"] or [])
    return ShowTests(tests=dict(zip(terms, matrices, strict=True)), text=parts["text"])


# ---------------------------------------------------------------------------
# drop1 with F tests, and step
# ---------------------------------------------------------------------------


def _anova(parts: dict[str, Any] | None) -> AnovaTable | None:
    if parts is None:
        return None
    table: pd.DataFrame = parts["table"]
    table = table.set_axis([str(r) for r in np.atleast_1d(parts["rows"])], axis=0)
    heading = tuple(str(h) for h in np.atleast_1d(parts["heading"]))
    return AnovaTable(table=table, heading=heading, text=parts["text"])


def lmertest_drop1(fit: LmerFitLike, ddf: AnovaDdf = "Satterthwaite") -> AnovaTable:
    """F tests of dropping each marginal fixed-effect term: lmerTest's
    ``drop1(model, ddf=ddf)`` (Satterthwaite's or Kenward-Roger's df; ``"lme4"``
    gives lme4's F values without tests)."""
    if ddf not in ANOVA_DDF_VALUES:
        raise choice_error("ddf", ddf, ANOVA_DDF_VALUES)
    if ddf == "Kenward-Roger":
        _check_ddf(ddf)
    outcome = r_call(
        "pylme4_lmertest_drop1",
        fit.lmertest_handle(),
        ddf,
        doing="computing lmerTest's drop1()",
    )
    emit(outcome.conditions)
    table = _anova(outcome.value)
    assert table is not None
    return table


@dataclass(frozen=True, eq=False)
class StepResult(formatting.RPrinted):
    """lmerTest's ``step()``: the elimination tables and the final model.

    ``str()`` is R's printout of the ``step`` result.
    """

    random: AnovaTable | None
    """Backward elimination of random-effect terms (R's ``$random``), or None."""
    fixed: AnovaTable | None
    """Backward elimination of fixed-effect terms (R's ``$fixed``), or None."""
    model: Any
    """The final model (R's ``get_model(step(...))``) as a pylme4 fit; None when
    step removed every random-effect term (R's final model is then an ``lm``)."""
    final_formula: str
    """The final model's formula as R deparses it."""
    text: str = field(repr=False)


def step(
    fit: LmerFitLike,
    reduce_fixed: bool = True,
    reduce_random: bool = True,
    alpha_random: float = 0.1,
    alpha_fixed: float = 0.05,
    ddf: Ddf = "Satterthwaite",
) -> StepResult:
    """Backward elimination of random then fixed terms: lmerTest's ``step(model, ...)``.

    Random terms are tested by likelihood ratio (``ranova``) and removed while
    their p-value exceeds ``alpha_random``; fixed terms by F tests (``drop1``)
    against ``alpha_fixed``, respecting marginality.  ``.model`` is the final
    model (``get_model``).
    """
    _check_ddf(ddf)
    for name, flag in (("reduce_fixed", reduce_fixed), ("reduce_random", reduce_random)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ArgumentTypeError(f"{name} must be True or False, not {flag!r}")
    for name, alpha in (("alpha_random", alpha_random), ("alpha_fixed", alpha_fixed)):
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 <= alpha <= 1:
            raise ArgumentError(f"{name} must be a number between 0 and 1, not {alpha!r}")
    outcome = r_call(
        "pylme4_lmertest_step",
        fit.lmertest_handle(),
        ddf,
        float(alpha_random),
        float(alpha_fixed),
        bool(reduce_fixed),
        bool(reduce_random),
        doing="running lmerTest's step()",
        keep=("model",),
    )
    emit(outcome.conditions)
    parts = outcome.value
    handle = parts["model"]
    model = None
    if handle is not None:
        model = type(fit).from_r_object(handle, outcome.conditions, fit.data_index, fit.variables)
    return StepResult(
        random=_anova(parts["random"]),
        fixed=_anova(parts["fixed"]),
        model=model,
        final_formula=str(parts["final_formula"]),
        text=parts["text"],
    )
