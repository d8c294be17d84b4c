"""Fitting models: check the input, call R once, build an immutable result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import checks
from ._r.call import r_call
from ._r.convert import Columns
from .errors import DataError, emit
from .results import LmerFit

NaAction = Literal["omit", "exclude", "fail"]
_NA_ACTIONS = {"omit": None, "exclude": "na.exclude", "fail": "na.fail"}

# Names under which weights/offset given as arrays are bound next to the data.
# They show in R's printout ("Weights: .weights"), so they say what they are.
_WEIGHTS_NAME = ".weights"
_OFFSET_NAME = ".offset"


def _control_args(control: Any) -> tuple[dict[str, str], Mapping[str, Any] | None]:
    """lmerControl settings as (R code args, settings list)."""
    if control is None:
        return {}, None
    if isinstance(control, str):
        return {"control": control}, None
    if isinstance(control, Mapping):
        return {}, dict(control)
    raise TypeError(
        "control must be a dict of lmerControl() settings, e.g. {'optimizer': 'bobyqa'}, "
        f"or R code such as 'lmerControl(optimizer = \"bobyqa\")', not {type(control).__name__}"
    )


def prepare_call(
    formula: str,
    data: Any,
    *,
    data_name: str,
    weights: Any,
    offset: Any,
    na_action: str,
    control: Any,
    contrasts: Mapping[str, str] | None,
    values: dict[str, Any],
    control_fun: str,
    numeric_response: bool = True,
) -> dict[str, Any]:
    """Check the inputs of a model call and build the arguments of pylme4_fit()."""
    df = checks.as_frame(data)
    checks.check_frame(df)
    if not isinstance(data_name, str) or not data_name:
        raise DataError(f"data_name must be a non-empty string, not {data_name!r}")
    if na_action not in _NA_ACTIONS:
        raise ValueError(f"na_action must be one of {sorted(_NA_ACTIONS)}, not {na_action!r}")
    fvars = checks.formula_vars(formula, list(df.columns))
    if not fvars.has_response:
        raise checks.FormulaError(f"the formula {formula!r} has no response (left of '~')")
    checks.check_response(df, fvars.response, numeric=numeric_response)

    symbols: dict[str, str] = {}
    extra: dict[str, np.ndarray] = {}
    used = [c for c in df.columns if c in fvars.variables]
    for arg, value, bind_as, nonneg in (
        ("weights", weights, _WEIGHTS_NAME, True),
        ("offset", offset, _OFFSET_NAME, False),
    ):
        column, array = checks.column_or_array(value, arg, df, nonnegative=nonneg)
        if column is not None:
            symbols[arg] = column
            if column not in used:
                used.append(column)
        elif array is not None:
            symbols[arg] = bind_as
            extra[bind_as] = array
    na_function = _NA_ACTIONS[na_action]
    if na_function is not None:
        symbols["na.action"] = na_function
    if contrasts is not None:
        if not isinstance(contrasts, Mapping):
            raise TypeError(
                "contrasts must be a dict: column -> contrast name, e.g. {'g': 'contr.sum'}"
            )
        missing = [c for c in contrasts if c not in df.columns]
        if missing:
            raise DataError(f"contrasts name {missing[0]!r}, which is not a column of the data")
        values = {**values, "contrasts": dict(contrasts)}
    code, settings = _control_args(control)
    columns = list(df.columns) if fvars.uses_dot else used
    return {
        "df": df,
        "columns": columns,
        "variables": fvars.variables,
        "args": {
            "formula_text": formula,
            "data_name": data_name,
            "values": values,
            "symbols": symbols,
            "code": code,
            "control": settings,
            "control_fun": control_fun,
            "extra": extra,
        },
    }


def lmer(
    formula: str,
    data: Any,
    *,
    reml: bool = True,
    data_name: str = "data",
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    na_action: NaAction = "omit",
    control: Mapping[str, Any] | str | None = None,
    contrasts: Mapping[str, str] | None = None,
) -> LmerFit:
    """Fit a linear mixed-effects model with lme4's ``lmer()``.

    Parameters
    ----------
    formula
        An lme4 formula as text, used unchanged: ``"Reaction ~ Days + (Days | Subject)"``,
        ``(1 | g)``, ``(0 + x | g)``, ``(x || g)``, ``(1 | a/b)``, ``(1 | a) + (1 | b)``,
        interactions, ``poly()``, ``I()``.  Column names with spaces or other
        non-syntactic characters are written in backticks, as in R.
    data
        A pandas DataFrame (polars and Arrow tables are converted once).
    reml
        Fit by REML (lme4's default) or, with ``False``, by maximum likelihood.
    data_name
        The name R binds the data to; R's printout shows it after ``Data:``.
    weights, offset
        A column name, or an array with one value per row.
    na_action
        ``"omit"`` (R's default), ``"exclude"`` (fitted values and residuals are
        padded with NaN for dropped rows), or ``"fail"``.
    control
        lmerControl() settings as a dict, e.g. ``{"optimizer": "bobyqa",
        "optCtrl": {"maxfun": 1e5}}``, or R code such as
        ``'lmerControl(optimizer = "Nelder_Mead")'``.
    contrasts
        Contrasts per factor column, e.g. ``{"condition": "contr.sum"}``.

    Returns
    -------
    LmerFit
        The fitted model.  R's warnings and messages are kept in
        ``fit.messages`` and raised as :class:`~pylme4.errors.ConvergenceWarning`,
        :class:`~pylme4.errors.SingularFitWarning`, :class:`~pylme4.errors.RWarning`
        or :class:`~pylme4.errors.RMessage`.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> round(fit.fixef()["Days"], 3)
    10.467
    """
    if not isinstance(reml, (bool, np.bool_)):
        raise TypeError(f"reml must be True or False, not {reml!r}")
    prepared = prepare_call(
        formula,
        data,
        data_name=data_name,
        weights=weights,
        offset=offset,
        na_action=na_action,
        control=control,
        contrasts=contrasts,
        values={} if reml else {"REML": False},
        control_fun="lmerControl",
    )
    return _fit_lmer(prepared)


def _fit_lmer(prepared: dict[str, Any]) -> LmerFit:
    df: pd.DataFrame = prepared["df"]
    outcome = r_call(
        "pylme4_fit_and_info",
        "lmer",
        data=Columns(df, prepared["columns"]),
        doing="fitting the model with lmer()",
        keep=("fit",),
        **prepared["args"],
    )
    fit = LmerFit._from_r(
        outcome.value["fit"],
        outcome.conditions,
        df.index,
        prepared["variables"],
        info=outcome.value["info"],
    )
    emit(outcome.conditions, stacklevel=4)
    return fit
