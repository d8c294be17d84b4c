"""Fitting models: check the input, call R once, build an immutable result."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import checks, explain
from ._r.call import r_call
from ._r.convert import Columns, string_problem
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DataError,
    PylmeError,
    choice_error,
    did_you_mean,
    emit,
)
from .families import Family, family_code
from .options import NA_ACTIONS, NaAction
from .paramdocs import shared_params
from .results import GlmerFit, LmerFit

# Names under which weights/offset given as arrays are bound next to the data.
# They show in R's printout ("Weights: .weights"), so they say what they are.
_WEIGHTS_NAME = ".weights"
_OFFSET_NAME = ".offset"


def _control_args(
    control: Any, control_fun: str = "lmerControl"
) -> tuple[dict[str, str], Mapping[str, Any] | None]:
    """lmerControl (or glmerControl) settings as (R code args, settings list)."""
    if control is None:
        return {}, None
    if isinstance(control, str):
        return {"control": control}, None
    if isinstance(control, Mapping):
        return {}, dict(control)
    raise ArgumentTypeError(
        f"control must be a dict of {control_fun}() settings, e.g. {{'optimizer': 'bobyqa'}}, "
        f"or R code such as '{control_fun}(optimizer = \"bobyqa\")', not {type(control).__name__}"
    )


# Names under which vectors given as arrays are bound next to the data.
_ROW_NAMES = {
    "weights": _WEIGHTS_NAME,
    "offset": _OFFSET_NAME,
    "mustart": ".mustart",
    "etastart": ".etastart",
    "subset": ".subset",
}


def call_pieces(df: pd.DataFrame, given: Mapping[str, Any], control_fun: str) -> dict[str, Any]:
    """The R arguments of the keyword arguments ``given`` (Python names, values
    not None), each checked against the data ``df``.

    Returns the pieces :func:`pylme4_build_call` takes (``values``,
    ``symbols``, ``code``, ``control``, ``extra``), and ``columns``: the
    data's columns they use.
    """
    values: dict[str, Any] = {}
    symbols: dict[str, str] = {}
    code: dict[str, str] = {}
    extra: dict[str, np.ndarray] = {}
    columns: list[str] = []
    settings: Mapping[str, Any] | None = None
    for arg, value in given.items():
        if arg in ("weights", "offset", "mustart", "etastart"):
            column, array = checks.column_or_array(
                value, arg, df, nonnegative=arg in ("weights", "mustart")
            )
            if column is not None:
                symbols[arg] = column
                columns.append(column)
            elif array is not None:
                symbols[arg] = _ROW_NAMES[arg]
                extra[_ROW_NAMES[arg]] = array
        elif arg == "na_action":
            if value not in NA_ACTIONS:
                raise choice_error("na_action", value, list(NA_ACTIONS))
            na_function = NA_ACTIONS[value]
            if na_function is not None:
                symbols["na.action"] = na_function
        elif arg == "contrasts":
            if not isinstance(value, Mapping):
                raise ArgumentTypeError(
                    "contrasts must be a dict: column -> contrast name, e.g. {'g': 'contr.sum'}"
                )
            missing = [c for c in value if c not in df.columns]
            if missing:
                raise DataError(
                    f"contrasts name {missing[0]!r}, which is not a column of the data"
                )
            values["contrasts"] = dict(value)
        elif arg == "control":
            control_code, settings = _control_args(value, control_fun)
            code.update(control_code)
        elif arg == "subset":
            subset_code, rows, used = _subset(value, df)
            if rows is None:
                code["subset"] = str(subset_code)
                columns.extend(used)
            else:
                symbols["subset"] = _ROW_NAMES["subset"]
                extra[_ROW_NAMES["subset"]] = rows
        elif arg == "start":
            values["start"] = _start(value)
        elif arg == "reml":
            values["REML"] = _reml(value)
        elif arg == "nAGQ":
            values["nAGQ"] = _check_nagq(value)
        elif arg == "family":
            code["family"] = family_code(value)
        else:  # pragma: no cover - the callers pass only the names above
            raise ArgumentError(f"unknown argument {arg!r}")
    return {
        "values": values,
        "symbols": symbols,
        "code": code,
        "control": settings,
        "extra": extra,
        "columns": columns,
    }


def _reml(value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"reml must be True or False, not {value!r}")
    return bool(value)


def family_code_for(family: str | Family, data_name: str) -> str:
    """The R code of ``family`` for a call whose data R binds to ``data_name``."""
    code = family_code(family)
    if code == data_name:
        # R would find the data, not the family function, under that name.
        raise DataError(
            f"data_name {data_name!r} is the name of the family; choose another data_name"
        )
    return code


def _subset(value: Any, df: pd.DataFrame) -> tuple[str | None, np.ndarray | None, list[str]]:
    """``subset=``: an R expression (text, checked as a formula is) or one
    True/False per row (a Series aligned on the data's index).

    Returns (R code, None, columns it uses) or (None, boolean array, [])."""
    if isinstance(value, str):
        return value, None, checks.subset_vars(value, list(df.columns))
    if isinstance(value, pd.Series):
        value = checks.aligned(value, "subset", df)
        if value.isna().any():
            raise DataError(
                f"subset has {int(value.isna().sum())} missing value(s) "
                f"(first at row {value.index[value.isna().to_numpy()][0]!r}); "
                "fill them, e.g. with .fillna(False)"
            )
    array = np.asarray(value)
    if array.dtype != np.bool_:
        raise ArgumentTypeError(
            "subset must be one True/False per row (a boolean array or Series) or an R "
            f"expression such as 'Days > 2', not values of dtype {array.dtype}"
        )
    if array.ndim != 1 or len(array) != len(df):
        raise DataError(f"subset has {array.size} values but the data has {len(df)} rows")
    if not array.any():
        raise DataError("subset selects no rows: every value is False")
    return None, array, []


def _start(value: Any) -> Any:
    """``start=``: a vector of theta, or a dict with "theta" (and, for glmer,
    "fixef") vectors, as lme4's ``start`` takes them."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in ("theta", "fixef")]
        if unknown:
            raise ArgumentError(
                f"start has the key {unknown[0]!r}; lme4 takes 'theta' and (glmer) 'fixef'"
                f"{did_you_mean(unknown[0], ['theta', 'fixef'])}"
            )
        if not value:
            raise ArgumentError("start is an empty dict; give 'theta' (and for glmer 'fixef')")
        return {k: _start_vector(v, f"start[{k!r}]") for k, v in value.items()}
    return _start_vector(value, "start")


def _start_vector(value: Any, what: str) -> np.ndarray:
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise ArgumentTypeError(f"{what} must be numbers, not {value!r}")
    try:
        array = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"{what} must be numbers, not {value!r}") from None
    if array.ndim != 1 or array.size == 0:
        raise ArgumentError(f"{what} must be a non-empty vector of numbers")
    if not np.all(np.isfinite(array)):
        raise ArgumentError(f"{what} must be finite numbers, not {value!r}")
    return array


def prepare_call(
    formula: str,
    data: Any,
    *,
    data_name: str,
    values: dict[str, Any],
    control_fun: str,
    weights: Any = None,
    offset: Any = None,
    na_action: str = "omit",
    control: Any = None,
    contrasts: Mapping[str, str] | None = None,
    numeric_response: bool = True,
    formula_check: Callable[[str, Sequence[str]], checks.FormulaVars] | None = None,
    row_args: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the inputs of a model call and build the arguments of pylme4_fit().

    ``formula_check(formula, columns)`` reads the formula (default
    :func:`checks.formula_vars`); nlmer's three-part formula has its own.
    ``row_args`` holds the further arguments given (``subset``, ``start``,
    ``mustart``, ``etastart``), checked by :func:`call_pieces`.
    """
    df = checks.as_frame(data)
    checks.check_frame(df)
    if not isinstance(data_name, str) or not data_name:
        raise DataError(f"data_name must be a non-empty string, not {data_name!r}")
    problem = string_problem(data_name)
    if problem is not None:
        raise DataError(f"data_name {data_name!r} has {problem}")
    if na_action not in NA_ACTIONS:
        raise choice_error("na_action", na_action, list(NA_ACTIONS))
    fvars = (formula_check or checks.formula_vars)(formula, list(df.columns))
    if not fvars.has_response:
        raise checks.FormulaError(f"the formula {formula!r} has no response (left of '~')")
    checks.check_response(df, fvars.response, numeric=numeric_response)

    given = {
        "weights": weights,
        "offset": offset,
        "na_action": na_action,
        "contrasts": contrasts,
        "control": control,
        **(row_args or {}),
    }
    pieces = call_pieces(df, {k: v for k, v in given.items() if v is not None}, control_fun)
    used = [c for c in df.columns if c in fvars.variables or c in pieces["columns"]]
    columns = list(df.columns) if fvars.uses_dot else used
    return {
        "df": df,
        "columns": columns,
        "variables": fvars.variables,
        "response": fvars.response,
        "args": {
            "formula_text": formula,
            "data_name": data_name,
            "values": {**values, **pieces["values"]},
            "symbols": pieces["symbols"],
            "code": pieces["code"],
            "control": pieces["control"],
            "control_fun": control_fun,
            "extra": pieces["extra"],
        },
    }


@shared_params
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
    subset: str | Any | None = None,
    start: Mapping[str, Any] | Any | None = None,
) -> LmerFit:
    """Fit a linear mixed-effects model with lme4's ``lmer()``.

    Parameters
    ----------
    formula
        An lme4 formula as text, used unchanged: ``"Reaction ~ Days + (Days | Subject)"``,
        ``(1 | g)``, ``(0 + x | g)``, ``(x || g)``, ``(1 | a/b)``, ``(1 | a) + (1 | b)``,
        interactions, ``poly()``, ``I()``.  Column names with spaces or other
        non-syntactic characters are written in backticks, as in R.
    {data}
    reml
        Fit by REML (lme4's default) or, with ``False``, by maximum likelihood.
    {data_name}
    {weights, offset}
    {na_action}
    {control: lmerControl}
    {contrasts}
    {subset}
    start
        Starting values: a vector of theta, or ``{"theta": [...]}``, as
        lme4's ``start``.

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
    prepared = prepare_call(
        formula,
        data,
        data_name=data_name,
        weights=weights,
        offset=offset,
        na_action=na_action,
        control=control,
        contrasts=contrasts,
        values={} if _reml(reml) else {"REML": False},
        control_fun="lmerControl",
        row_args={"subset": subset, "start": start},
    )
    return _fit(LmerFit, "lmer", prepared)


def _fit(cls: type[Any], fun_name: str, prepared: dict[str, Any]) -> Any:
    """Fit with the lme4 function `fun_name` and build a `cls` result.

    Warnings point at the user's line: user -> lmer()/glmer() -> _fit().
    ``prepared["helper"]`` may name an R helper that wraps pylme4_fit_and_info
    (nlmer's builds its start values first).
    """
    df: pd.DataFrame = prepared["df"]
    try:
        outcome = r_call(
            prepared.get("helper", "pylme4_fit_and_info"),
            cls._INFO_HELPER,
            fun_name,
            data=Columns(df, prepared["columns"]),
            doing=f"fitting the model with {fun_name}()",
            keep=("fit",),
            **prepared["args"],
        )
    except PylmeError as exc:
        raise explain.fit_error(exc, prepared) from None
    fit = cls._from_r(
        outcome.value["fit"],
        outcome.conditions,
        df.index,
        prepared["variables"],
        info=outcome.value["info"],
        data=df,
    )
    emit(outcome.conditions)
    return fit


def _check_nagq(nAGQ: Any) -> int:
    """lme4's range: 0 to 100 points (glmer() stops with "ord < 101L is not TRUE")."""
    if isinstance(nAGQ, (bool, np.bool_)) or not isinstance(nAGQ, (int, np.integer)):
        raise ArgumentTypeError(f"nAGQ must be a whole number from 0 to 100, not {nAGQ!r}")
    if not 0 <= nAGQ <= 100:
        raise ArgumentError(f"nAGQ must be a whole number from 0 to 100 (lme4's range), not {nAGQ}")
    return int(nAGQ)


@shared_params
def glmer(
    formula: str,
    data: Any,
    *,
    family: str | Family,
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    nAGQ: int = 1,
    control: Mapping[str, Any] | str | None = None,
    data_name: str = "data",
    na_action: NaAction = "omit",
    contrasts: Mapping[str, str] | None = None,
    subset: str | Any | None = None,
    start: Mapping[str, Any] | Any | None = None,
    mustart: str | Any | None = None,
    etastart: str | Any | None = None,
) -> GlmerFit:
    """Fit a generalized linear mixed-effects model with lme4's ``glmer()``.

    Parameters
    ----------
    formula
        An lme4 formula as text, used unchanged.  For the binomial family the
        response may be ``cbind(successes, failures)``, a 0/1 (or logical)
        column, or a proportion with the numbers of trials as ``weights``.
    {data}
    {family}
        As in lme4, the gaussian family with the identity link is a deprecated
        shortcut to ``lmer()``: R warns and the fit is a linear mixed model.
    {weights, offset}
        The offset is on the scale of the linear predictor (e.g.
        ``np.log(exposure)``); an ``offset(log(exposure))`` term in the
        formula works too.
    {nAGQ}
    {control: glmerControl}
    {data_name}
    {na_action}
    {contrasts}
    {subset}
    start
        Starting values: ``{"theta": [...], "fixef": [...]}`` (either key
        alone), or a vector of theta, as lme4's ``start``.
    mustart, etastart
        Starting values of the mean or of the linear predictor, one per row
        (a column name, an array by position or a Series aligned on the
        index), as R's ``glm`` takes them.

    Returns
    -------
    GlmerFit
        The fitted model.  R's warnings and messages (convergence trouble is
        common in GLMMs: "Model failed to converge with max|grad| = ...",
        "very large eigenvalue") are kept in ``fit.messages`` and raised as
        :class:`~pylme4.errors.ConvergenceWarning`,
        :class:`~pylme4.errors.SingularFitWarning`,
        :class:`~pylme4.errors.RWarning` or :class:`~pylme4.errors.RMessage`.

    Examples
    --------
    >>> import pylme4
    >>> cbpp = pylme4.datasets.load("cbpp")
    >>> fit = pylme4.glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)",
    ...                    cbpp, family="binomial", data_name="cbpp")
    >>> round(fit.fixef()["period2"], 4)
    -0.9919
    """
    code = family_code_for(family, data_name)
    prepared = _prepare_glmer(
        formula,
        data,
        nAGQ,
        data_name,
        weights,
        offset,
        na_action,
        control,
        contrasts,
        {"subset": subset, "start": start, "mustart": mustart, "etastart": etastart},
    )
    prepared["args"]["code"] = {"family": code, **prepared["args"]["code"]}
    return _fit(GlmerFit, "glmer", prepared)


@shared_params
def glmer_nb(
    formula: str,
    data: Any,
    *,
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    nAGQ: int = 1,
    control: Mapping[str, Any] | str | None = None,
    data_name: str = "data",
    na_action: NaAction = "omit",
    contrasts: Mapping[str, str] | None = None,
    subset: str | Any | None = None,
) -> GlmerFit:
    """Fit a negative binomial mixed model with lme4's ``glmer.nb()``.

    lme4 starts from a Poisson fit, estimates the negative binomial's theta
    and refits until theta settles; the result is a ``glmer()`` fit with
    family ``MASS::negative.binomial(theta = ...)``, whose theta is
    ``fit.nb_theta``.  The arguments are those of :func:`glmer` without
    ``family`` (and without ``start``, ``mustart`` and ``etastart``, which
    lme4's ``glmer.nb`` would pass to its Poisson start fit).

    Parameters
    ----------
    formula
        An lme4 formula as text, used unchanged; the response is a count.
    {data}
    {weights, offset}
    {nAGQ}
    {control: glmerControl}
    {data_name}
    {na_action}
    {contrasts}
    {subset}

    Returns
    -------
    GlmerFit
        The fitted model, with R's warnings and messages as for :func:`glmer`.

    Examples
    --------
    >>> import pylme4
    >>> ticks = pylme4.datasets.load("grouseticks")
    >>> fit = pylme4.glmer_nb("TICKS ~ YEAR + (1 | LOCATION)", ticks,
    ...                       data_name="grouseticks")  # doctest: +SKIP
    """
    prepared = _prepare_glmer(
        formula,
        data,
        nAGQ,
        data_name,
        weights,
        offset,
        na_action,
        control,
        contrasts,
        {"subset": subset},
    )
    return _fit(GlmerFit, "glmer.nb", prepared)


def _prepare_glmer(
    formula: str,
    data: Any,
    nAGQ: int,
    data_name: str,
    weights: str | Any | None,
    offset: str | Any | None,
    na_action: NaAction,
    control: Mapping[str, Any] | str | None,
    contrasts: Mapping[str, str] | None,
    row_args: Mapping[str, Any],
) -> dict[str, Any]:
    """The checked data and call arguments shared by glmer() and glmer.nb()."""
    nagq = _check_nagq(nAGQ)
    return prepare_call(
        formula,
        data,
        data_name=data_name,
        weights=weights,
        offset=offset,
        na_action=na_action,
        control=control,
        contrasts=contrasts,
        values={} if nagq == 1 else {"nAGQ": nagq},
        control_fun="glmerControl",
        # A binomial response may be logical or a factor (first level =
        # failure); R's family checks the response.
        numeric_response=False,
        row_args=row_args,
    )
