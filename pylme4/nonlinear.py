"""Nonlinear mixed models: lme4's ``nlmer()`` with R's self-starting models."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import checks
from ._r.call import r_value
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DataError,
    FormulaError,
    PylmeError,
    suggestion,
)
from .models import _fit, prepare_call
from .options import NaAction
from .paramdocs import shared_params
from .results import NlmerFit


@shared_params
def nlmer(
    formula: str,
    data: Any,
    start: Mapping[str, Any] | None = None,
    *,
    data_name: str = "data",
    nAGQ: int = 1,
    control: Mapping[str, Any] | str | None = None,
    na_action: NaAction = "omit",
) -> NlmerFit:
    """Fit a nonlinear mixed model with lme4's ``nlmer()``.

    Parameters
    ----------
    formula
        lme4's three-part formula, ``response ~ model ~ random effects``,
        whose model is one of R's self-starting models (``SSlogis``,
        ``SSasymp``, ``SSasympOff``, ``SSasympOrig``, ``SSbiexp``, ``SSfol``,
        ``SSfpl``, ``SSgompertz``, ``SSmicmen``, ``SSweibull``), e.g.
        ``"circumference ~ SSlogis(age, Asym, xmid, scal) ~ Asym | Tree"``.
        The random-effects part names the model's parameters:
        ``"... ~ (Asym | Tree) + (xmid | Tree)"``.
    {data}
        lme4's nlmer cannot use column names that need backticks.
    start
        The starting values of the model's parameters, one for each:
        ``{"Asym": 200, "xmid": 725, "scal": 350}`` (R's ``start = c(Asym =
        200, ...)``), or ``{"nlpars": {...}, "theta": [...]}`` as lme4
        also takes (lme4 1.1-31 does not use ``theta``).  The fixed effects
        come in this order.
    {data_name}
    nAGQ
        1 (lme4's default: theta and the fixed effects optimised together,
        Laplace approximation) or 0 (theta alone); lme4 1.1-31 has not
        implemented more points for nonlinear models.
    {control: nlmerControl}
        lme4 1.1-31's ``nlmerControl()`` also takes ``tolPwrss``.
    {na_action}

    Returns
    -------
    NlmerFit
        The fitted model; R's warnings and messages are kept in
        ``fit.messages`` and raised as Python warnings.

    Examples
    --------
    >>> import pylme4
    >>> orange = pylme4.datasets.load("Orange")
    >>> fit = pylme4.nlmer("circumference ~ SSlogis(age, Asym, xmid, scal) ~ Asym | Tree",
    ...                    orange, start={"Asym": 200, "xmid": 725, "scal": 350},
    ...                    data_name="Orange")
    >>> round(float(fit.fixef()["Asym"]), 1)
    192.1
    """
    nlpars, theta = _start_values(start)
    if isinstance(nAGQ, (bool, np.bool_)) or not isinstance(nAGQ, (int, np.integer)):
        raise ArgumentTypeError(f"nAGQ must be 0 or 1, not {nAGQ!r}")
    if nAGQ not in (0, 1):
        raise ArgumentError(
            f"nAGQ must be 0 or 1 for nlmer, not {nAGQ}: lme4 1.1-31 has not implemented "
            "nAGQ > 1 for nonlinear models"
        )

    inputs: list[str] = []

    def formula_check(text: str, columns: Sequence[str]) -> checks.FormulaVars:
        found, model_inputs = _check_formula(text, columns, nlpars)
        inputs.extend(model_inputs)
        return found

    prepared = prepare_call(
        formula,
        data,
        data_name=data_name,
        na_action=na_action,
        control=control,
        values={} if nAGQ == 1 else {"nAGQ": int(nAGQ)},
        control_fun="nlmerControl",
        formula_check=formula_check,
    )
    _check_inputs(prepared["df"], inputs)
    prepared["helper"] = "pylme4_nlmer_fit_and_info"
    prepared["args"]["nlpars"] = nlpars
    prepared["args"]["theta"] = theta
    return _fit(NlmerFit, "nlmer", prepared)


def _number(value: Any, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ArgumentTypeError(f"{what} must be a number, not {value!r}")
    if not math.isfinite(float(value)):
        raise ArgumentError(f"{what} must be finite, not {value!r}")
    return float(value)


def _start_values(start: Any) -> tuple[dict[str, float], list[float] | None]:
    """``start`` as (parameter -> starting value, theta or None), checked for types."""
    if start is None:  # said once the formula names the parameters
        return {}, None
    if not isinstance(start, Mapping):
        raise ArgumentTypeError(
            "start must be a dict of starting values, e.g. {'Asym': 200, 'xmid': 725}, "
            f"or {{'nlpars': {{...}}, 'theta': [...]}}, not {type(start).__name__}"
        )
    theta: list[float] | None = None
    if "nlpars" in start:
        extra = [k for k in start if k not in ("nlpars", "theta")]
        if extra:
            raise ArgumentError(
                f"start has 'nlpars', so its other keys may only be 'theta', not {extra[0]!r}"
            )
        raw_theta = start.get("theta")
        if raw_theta is not None:
            values = np.atleast_1d(np.asarray(raw_theta, dtype=object))
            theta = [_number(v, "start['theta']'s values") for v in values]
        nlpars = start["nlpars"]
        if not isinstance(nlpars, Mapping):
            raise ArgumentTypeError(
                f"start['nlpars'] must be a dict of starting values, not {type(nlpars).__name__}"
            )
        where = "start['nlpars']"
    else:
        nlpars, where = start, "start"
    if not nlpars:
        raise ArgumentError(f"{where} is empty: give a starting value for each parameter")
    out: dict[str, float] = {}
    for name, value in nlpars.items():
        if not isinstance(name, str) or not name:
            raise ArgumentTypeError(f"{where}'s names must be parameter names, not {name!r}")
        out[name] = _number(value, f"{where}[{name!r}]")
    return out, theta


def _check_inputs(df: pd.DataFrame, inputs: Sequence[str]) -> None:
    """The self-starting model computes with its inputs: they must be numeric
    (R would say only "non-numeric argument to binary operator")."""
    for name in inputs:
        if name in df.columns and not pd.api.types.is_numeric_dtype(df[name].dtype):
            raise DataError(
                f"column {name!r} is an input of nlmer's model and must be numeric, "
                f"but its dtype is {df[name].dtype}"
            )


def _check_formula(
    formula: str, columns: Sequence[str], nlpars: Mapping[str, float]
) -> tuple[checks.FormulaVars, list[str]]:
    """Read nlmer's three-part formula in R; check its model and ``start`` against it.

    Returns the formula's variables and those of the model's inputs."""
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(f"the formula must be a non-empty string, not {formula!r}")
    try:
        info = r_value("pylme4_nlmer_formula", formula, list(columns), doing="parsing the formula")
    except PylmeError as exc:
        if not hasattr(exc, "r_message"):
            raise
        raise FormulaError(checks.syntax_error_message(formula, exc.r_message)) from None
    problems = list(info["problems"])
    if problems:
        raise FormulaError(f"the formula {checks.brief(formula)} cannot be used: {problems[0]}")
    params = list(info["params"])
    model = info["model"]
    listed = ", ".join(params)
    unknown = list(info["unknown"])
    if unknown:
        name = unknown[0]
        raise FormulaError(
            f"the formula uses {name!r}, which is neither a column of the data nor a "
            f"parameter of the model {model} (its parameters: {listed})"
            f"{suggestion(name, [*columns, *params])}"
        )
    if not nlpars:
        example = ", ".join(f"{p!r}: ..." for p in params)
        raise ArgumentError(
            f"start is missing: nlmer needs a starting value for each parameter of the "
            f"model {model}, e.g. start={{{example}}}"
        )
    for name in nlpars:
        if name not in params:
            raise ArgumentError(
                f"start names {name!r}, which is not a parameter of the model {model} "
                f"(its parameters: {listed}){suggestion(name, params)}"
            )
    missing = [p for p in params if p not in nlpars]
    if missing:
        raise ArgumentError(
            f"start has no value for {missing[0]!r}: nlmer needs a starting value for "
            f"each parameter of the model {model} (its parameters: {listed})"
        )
    found = checks.FormulaVars(tuple(info["vars"]), False, True, info["response"] or None)
    return found, list(info["inputs"])
