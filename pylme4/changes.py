"""Changing and comparing fitted models: lme4's ``update()``, ``refit()``,
``refitML()``, ``drop1()`` (lme4's, and lmerTest's F tests) and ``isNested()``.

An update is R's: the fit's call with the formula rewritten by R's
``update.formula`` (``". ~ . - Days"``) and the changed arguments set,
evaluated where the fit's data is.  The changed arguments are checked as
:func:`pylme4.lmer` / :func:`pylme4.glmer` check them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import checks, explain
from ._r.call import r_call, r_value
from ._r.convert import Columns, string_problem
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DataError,
    FormulaError,
    PylmeError,
    RNotAvailableError,
    choice_error,
    did_you_mean,
    emit,
)
from .fitbase import MerFitLike
from .inference import AnovaTable
from .models import call_pieces

# The keyword arguments update() takes for each lme4 function: those of
# pylme4.lmer / glmer / glmer_nb, with the R argument each one sets.
_R_NAMES = {
    "reml": "REML",
    "weights": "weights",
    "offset": "offset",
    "na_action": "na.action",
    "control": "control",
    "contrasts": "contrasts",
    "subset": "subset",
    "start": "start",
    "family": "family",
    "nAGQ": "nAGQ",
    "mustart": "mustart",
    "etastart": "etastart",
}
_COMMON = ("weights", "offset", "na_action", "control", "contrasts", "subset")
_CHANGES: dict[str, tuple[str, ...]] = {
    "lmer": ("reml", *_COMMON, "start"),
    "glmer": ("family", "nAGQ", *_COMMON, "start", "mustart", "etastart"),
    "glmer.nb": ("nAGQ", *_COMMON),
}
# Arguments update() cannot drop (None): lme4 needs them.
_REQUIRED = ("reml", "family", "nAGQ")


def update(
    fit: MerFitLike,
    formula: str | None = None,
    data: Any = None,
    **changes: Any,
) -> Any:
    """Refit with a changed formula, data or arguments: lme4's ``update(fit, ...)``.

    Parameters
    ----------
    formula
        The new formula in R's ``update.formula`` syntax, where ``.`` is
        the fit's own side: ``". ~ . - Days"`` drops a term, ``". ~ . +
        (1 | g)"`` adds one, ``"log(.) ~ ."`` transforms the response.
        None keeps the formula.
    data
        New data (a DataFrame).  None (the default) refits to the fit's own
        data (:meth:`~pylme4.LmerFit.get_data`: the DataFrame it was given,
        as R's ``update`` finds the data by its name; for an unpickled fit
        or a refit, the columns R holds, those the model uses).
    **changes
        Any keyword argument of the function that fitted the model
        (:func:`pylme4.lmer`: ``reml``, ``weights``, ``offset``,
        ``na_action``, ``control``, ``contrasts``, ``subset``, ``start``;
        :func:`pylme4.glmer` also ``family``, ``nAGQ``, ``mustart``,
        ``etastart``), or ``data_name`` (by default the fit's).  As in R,
        ``None`` removes an argument (``weights=None`` refits unweighted);
        arguments not named stay as they were.

    Returns
    -------
    LmerFit or GlmerFit
        The new fit; the same as R's ``update(fit, . ~ . - Days, REML =
        FALSE)``, printed summary included.
    """
    info = r_value("pylme4_update_info", fit.r_handle, doing="reading the fit's call")
    fun = str(info["fun"]).removeprefix("lme4::").removeprefix("lmerTest::")
    if fun not in _CHANGES:
        raise ArgumentError(f"update() refits lmer, glmer and glmer.nb fits, not {fun}() fits")
    allowed = _CHANGES[fun]
    data_name = changes.pop("data_name", fit.data_name)
    for name in changes:
        if name not in allowed:
            raise ArgumentError(
                f"update() of a {fun}() fit takes {', '.join(allowed)} and data_name, not "
                f"{name!r}{did_you_mean(name, allowed)}"
            )
        if changes[name] is None and name in _REQUIRED:
            raise ArgumentError(f"{name} cannot be removed (None); give a value")
    if not isinstance(data_name, str) or not data_name:
        raise DataError(f"data_name must be a non-empty string, not {data_name!r}")
    problem = string_problem(data_name)
    if problem is not None:
        raise DataError(f"data_name {data_name!r} has {problem}")
    if data is None:
        df = fit.get_data()
        if not df.index.equals(fit.data_index):
            raise DataError(
                "the fit's data has changed its rows since the fit; give data= to update()"
            )
    else:
        df = checks.as_frame(data)
        checks.check_frame(df)
    text = fit.formula if formula is None else _updated_formula(fit, formula)
    fvars = checks.formula_vars(text, list(df.columns))
    if not fvars.has_response:
        raise FormulaError(f"the formula {text!r} has no response (left of '~')")
    checks.check_response(df, fvars.response, numeric=fun == "lmer")
    given = {k: v for k, v in changes.items() if v is not None}
    pieces = call_pieces(df, given, "lmerControl" if fun == "lmer" else "glmerControl")
    if pieces["code"].get("family") == data_name:
        # R would find the data, not the family function, under that name.
        raise DataError(
            f"data_name {data_name!r} is the name of the family; choose another data_name"
        )
    remove = [_R_NAMES[k] for k, v in changes.items() if v is None]
    if changes.get("na_action") == "omit":
        remove.append("na.action")  # R's default
    wanted = set(fvars.variables) | set(info["call_vars"]) | set(pieces["columns"])
    columns = list(df.columns) if fvars.uses_dot else [c for c in df.columns if c in wanted]
    frame = Columns(df, columns)
    prepared = {
        "df": df,
        "columns": columns,
        "variables": fvars.variables,
        "response": fvars.response,
        "args": {
            "formula_text": text,
            "data_name": data_name,
            "symbols": pieces["symbols"],
            "code": pieces["code"],
            "extra": pieces["extra"],
        },
    }
    try:
        outcome = r_call(
            "pylme4_update_fit",
            fit.r_handle,
            text,
            frame,
            data_name,
            values=pieces["values"],
            symbols=pieces["symbols"],
            code=pieces["code"],
            control=pieces["control"],
            control_fun="lmerControl" if fun == "lmer" else "glmerControl",
            extra=pieces["extra"],
            remove=remove,
            doing=f"refitting the model with {fun}()",
            keep=True,
        )
    except PylmeError as exc:
        raise explain.fit_error(exc, prepared) from None
    new = type(fit).from_r_object(
        outcome.value, outcome.conditions, df.index, fvars.variables, data=df
    )
    emit(outcome.conditions)
    return new


def _updated_formula(fit: MerFitLike, formula: Any) -> str:
    """R's ``update.formula(formula(fit), formula)`` as text, ``formula``
    checked as any formula is."""
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(f"the formula must be a non-empty string, not {formula!r}")
    problem = string_problem(formula)
    if problem is not None:
        raise FormulaError(f"the formula {checks.brief(formula)} has {problem}")
    try:
        parts = r_value(
            "pylme4_update_formula", fit.r_handle, formula, doing="updating the formula"
        )
    except RNotAvailableError:
        raise
    except PylmeError as exc:
        raise FormulaError(
            checks.syntax_error_message(formula, str(getattr(exc, "r_message", exc)))
        ) from None
    problems = list(parts["problems"])
    if problems:
        raise FormulaError(f"the formula {checks.brief(formula)} cannot be used: {problems[0]}")
    return str(parts["text"])


def _rows_used(fit: MerFitLike, values: Any, what: str) -> np.ndarray:
    """Per-row values given for the data (a Series aligned on its index, or
    an array by position, one per row of the data or one per row used) as
    the values of the rows the fit used."""
    index = fit.data_index
    used = index.get_indexer(fit.used_index)
    if isinstance(values, (pd.Series, pd.DataFrame)):
        if not values.index.equals(index):
            frame = pd.DataFrame(index=index)
            if isinstance(values, pd.DataFrame):
                values = pd.DataFrame(
                    {c: checks.aligned(values[c], what, frame) for c in values.columns}
                )
            else:
                values = checks.aligned(values, what, frame)
        values = values.to_numpy()
    if isinstance(values, (str, bytes)):
        raise ArgumentTypeError(f"{what} must be numbers, one per row, not a string")
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numeric") from None
    if array.ndim not in (1, 2) or (array.ndim == 2 and array.shape[1] != 2):
        raise DataError(
            f"{what} must be one number per row (or, for a binomial model, two columns: "
            f"successes and failures), not an array of shape {array.shape}"
        )
    n = array.shape[0]
    if n == len(index):
        array = array[used]
    elif n != len(used):
        raise DataError(
            f"{what} has {n} rows but the data has {len(index)} (and the fit used {len(used)})"
        )
    if np.isnan(array).any():
        raise DataError(f"{what} has missing values in rows the fit uses")
    if np.isinf(array).any():
        raise DataError(f"{what} must be finite")
    return array


def refit(fit: MerFitLike, newresp: Any) -> Any:
    """The same model fitted to a new response: lme4's ``refit(fit, newresp)``.

    ``newresp`` has one value per row of the data (a Series is matched to
    the rows by its index, an array is taken by position; rows the fit did
    not use are ignored, as R drops them), or one per row the fit used.
    For a binomial model given as ``cbind(successes, failures)`` it has two
    columns.  The call, and so the printed formula and data, stay the
    fit's, as in R.
    """
    array = _rows_used(fit, newresp, "newresp")
    ncol = 1 if array.ndim == 1 else array.shape[1]
    outcome = r_call(
        "pylme4_refit",
        fit.r_handle,
        array.ravel(order="F"),
        ncol,
        doing="refitting the model (refit())",
        keep=True,
    )
    new = type(fit).from_r_object(outcome.value, outcome.conditions, fit.data_index, fit.variables)
    emit(outcome.conditions)
    return new


def refit_ml(fit: MerFitLike) -> Any:
    """The REML fit refitted by maximum likelihood: lme4's ``refitML(fit)``
    (a fit by maximum likelihood, and a GLMM, is returned as it is)."""
    if not getattr(fit, "reml", False):
        return fit
    outcome = r_call(
        "pylme4_refit_ml",
        fit.r_handle,
        doing="refitting the model by maximum likelihood (refitML())",
        keep=True,
    )
    new = type(fit).from_r_object(outcome.value, outcome.conditions, fit.data_index, fit.variables)
    emit(outcome.conditions)
    return new


# ---------------------------------------------------------------------------
# drop1 and isNested
# ---------------------------------------------------------------------------

_DROP1_TESTS = ("none", "Chisq")


def drop1(fit: MerFitLike, test: str | None = None, ddf: str | None = None) -> AnovaTable:
    """Tests of dropping each fixed-effect term: ``drop1(fit, ...)``.

    For a linear mixed model, lmerTest's ``drop1`` by default: F tests of
    each marginal term with Satterthwaite's (``ddf="Satterthwaite"``) or
    Kenward-Roger's (``ddf="Kenward-Roger"``) denominator df.  ``test=``
    asks for lme4's ``drop1.merMod`` instead, which refits the model
    without each term: ``"none"`` (AIC only, lme4's default) or
    ``"Chisq"`` (likelihood-ratio tests; for REML fits R compares REML
    criteria, as lme4 does).  ``ddf="lme4"`` is lmerTest's way to ask for
    lme4's table and equals ``test="none"``.  A generalized mixed model has
    lme4's ``drop1`` only (``test``; ``ddf`` does not apply).
    """
    if test is not None and test not in _DROP1_TESTS:
        raise choice_error("test", test, _DROP1_TESTS)
    lmm = hasattr(fit, "lmertest_handle")
    if test is not None and ddf is not None:
        raise ArgumentError(
            "give test= (lme4's drop1, refitting) or ddf= (lmerTest's F tests), not both"
        )
    if test is None and lmm and ddf != "lme4":
        from .lmertest import lmertest_drop1

        return lmertest_drop1(fit, "Satterthwaite" if ddf is None else ddf)  # type: ignore[arg-type]
    if ddf is not None and not lmm:
        raise ArgumentError("ddf applies to linear mixed models (lmer) only; use test=")
    outcome = r_call(
        "pylme4_lme4_drop1",
        fit.r_handle,
        "none" if test is None else test,
        doing="computing drop1()",
    )
    emit(outcome.conditions)
    parts = outcome.value
    table: pd.DataFrame = parts["table"]
    table = table.set_axis([str(r) for r in np.atleast_1d(parts["rows"])], axis=0)
    return AnovaTable(
        table=table,
        heading=tuple(str(h) for h in np.atleast_1d(parts["heading"])),
        text=parts["text"],
    )


def is_nested(f1: Any, f2: Any) -> bool:
    """Is ``f1`` nested within ``f2``: lme4's ``isNested(f1, f2)``.

    ``f1`` and ``f2`` are grouping factors (Series, Categoricals or
    sequences of labels of the same length): True when every level of
    ``f1`` occurs with only one level of ``f2``, as for ``(1 | f2/f1)``.
    lme4 asks this of factors, not of models (to compare nested models, see
    :func:`pylme4.anova`).
    """
    a, b = _factor(f1, "f1"), _factor(f2, "f2")
    if len(a) != len(b):
        raise DataError(f"f1 has {len(a)} values and f2 has {len(b)}; they must be as long")
    frame = pd.DataFrame({"f1": a, "f2": b})
    return bool(
        r_value(
            "pylme4_is_nested_frame", Columns(frame, ["f1", "f2"]), doing="computing isNested()"
        )
    )


def _factor(values: Any, what: str) -> pd.Series:
    if isinstance(values, (str, bytes, Mapping)) or np.ndim(values) != 1:
        raise ArgumentTypeError(f"{what} must be a factor: a Series or a sequence of labels")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    series = series.reset_index(drop=True)
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    return series
