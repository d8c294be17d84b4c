"""Linear models without random effects: complete and no pooling.

:func:`lm` fits one regression to all rows (R's ``lm()``: complete pooling);
:func:`lm_list` fits one regression per group (lme4's ``lmList()``: no
pooling).  Together with a mixed model (partial pooling) they are the three
views of grouped data the lecture compares; :mod:`pylme4.pooling` puts them
side by side.  Printed forms are R's own text.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks, formatting
from ._r.call import r_call, r_value, serialize, unserialize
from ._r.convert import Columns, RHandle
from .errors import ArgumentTypeError, FormulaError, RCondition, emit
from .families import Family
from .fitbase import Count, RFitRows, Scalar, forward, scalar
from .models import NaAction, family_code_for, prepare_call
from .paramdocs import shared_params
from .results import used_rows

if TYPE_CHECKING:
    from . import printopts

# ---------------------------------------------------------------------------
# lm(): complete pooling
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LmSummary(formatting.RPrinted):
    """``summary()`` of a linear model, as R's ``summary.lm`` computes it.

    ``str(summary)`` is exactly R's ``print(summary(fit))``.
    """

    coefficients: pd.DataFrame
    """Estimate, Std. Error, t value, Pr(>|t|); one row per estimable coefficient."""
    sigma: float
    """Residual standard error."""
    df: tuple[int, int, int]
    """R's ``df``: (rank, residual df, number of coefficients)."""
    r_squared: float
    adj_r_squared: float
    fstatistic: pd.Series | None
    """value, numdf, dendf (None for a model with only an intercept)."""
    text: str = field(repr=False)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class _RegressionFit(RFitRows, formatting.RPrinted):
    """What ``lm()`` and ``glm()`` fits share: an R object read by one info
    helper, R's accessors, pickling through R's serialize()."""

    formula: str
    data_name: str
    nobs: int
    df_residual: int
    sigma: float
    """Residual standard error (R's ``sigma()``)."""
    loglik: float
    """R's ``logLik()``."""
    loglik_df: int
    """Degrees of freedom of ``logLik()`` (parameters, with the dispersion where estimated)."""
    aic: float
    """R's ``AIC()``."""
    bic: float
    """R's ``BIC()``."""
    deviance: float
    """R's ``deviance()`` (the residual sum of squares for ``lm()``)."""
    messages: tuple[RCondition, ...]
    """R's warnings and messages from the fit, in order."""
    _coef: pd.Series
    _text: str
    _index: pd.Index
    _used: np.ndarray
    _variables: tuple[str, ...]
    _handle: RHandle
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: Any = field(default_factory=threading.RLock)

    # The R helper that reads the fit in one round trip (see linear.R).
    _INFO_HELPER = "pylme4_lm_info"

    # print(summary(fit), digits =, signif.stars =) as text.
    if TYPE_CHECKING:
        summary_text = printopts.summary_text
        to_string = printopts.fit_text
    else:
        summary_text = forward("pylme4.printopts", "summary_text")
        to_string = forward("pylme4.printopts", "fit_text")

    @classmethod
    def _extra_fields(cls, info: Mapping[str, Any]) -> dict[str, Any]:
        """The fields a subclass adds, from its info helper's answer."""
        return {}

    @classmethod
    def _from_r(
        cls,
        handle: RHandle,
        conditions: tuple[RCondition, ...],
        index: pd.Index,
        variables: tuple[str, ...],
    ) -> Any:
        info = r_value(cls._INFO_HELPER, handle, doing="reading the fitted model")
        coef = pd.Series(
            {k: (np.nan if v is None else float(v)) for k, v in info["coef"].items()},
            dtype=float,
        )
        return cls(
            formula=str(info["formula"]),
            data_name=str(info["data_name"]),
            nobs=Count(int(info["nobs"]), "nobs"),
            df_residual=int(info["df_residual"]),
            sigma=Scalar(float(info["sigma"]), "sigma"),
            loglik=Scalar(float(info["loglik"]), "loglik"),
            loglik_df=int(info["loglik_df"]),
            aic=Scalar(float(info["aic"]), "aic"),
            bic=Scalar(float(info["bic"]), "bic"),
            deviance=Scalar(float(info["deviance"]), "deviance"),
            messages=conditions,
            _coef=coef,
            _text=str(info["text"]),
            _index=index,
            _used=used_rows(len(index), info["omitted"]),
            _variables=variables,
            _handle=handle,
            **cls._extra_fields(info),
        )

    def _r_text(self) -> str:
        return self._text

    def brief(self) -> str:
        return f"<{type(self).__name__} {self.formula} | data={self.data_name}, nobs={self.nobs}>"

    def __reduce__(self) -> Any:
        return (
            _restore_fit,
            (type(self), serialize(self._handle), self.messages, self._index, self._variables),
        )

    def coef(self) -> pd.Series:
        """Coefficients (R's ``coef()``); NaN for a coefficient R could not estimate."""
        return self._coef.copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the coefficient estimates (R's ``vcov()``)."""
        return self._cached(
            "vcov", lambda: r_value("pylme4_lm_vcov", self._handle, doing="computing vcov()")
        ).copy()

    def fitted(self) -> pd.Series:
        """Fitted values (R's ``fitted()``), indexed like the rows used."""
        values = r_value("pylme4_lm_fitted", self._handle, doing="computing fitted()").astype(float)
        return pd.Series(values, index=self._row_index(len(values)), name="fitted")

    def residuals(self) -> pd.Series:
        """R's ``residuals()`` (response residuals for lm, deviance residuals
        for glm), indexed like ``fitted()``."""
        values = r_value("pylme4_lm_residuals", self._handle, doing="computing residuals()").astype(
            float
        )
        return pd.Series(values, index=self._row_index(len(values)), name="residuals")

    def predict(self, newdata: pd.DataFrame | None = None) -> pd.Series:
        """Predictions (R's ``predict()``; for glm on the link scale) for the
        data or for ``newdata``."""
        if newdata is None:
            values = r_value(
                "pylme4_lm_predict", self._handle, None, doing="computing predict()"
            ).astype(float)
            return pd.Series(values, index=self._row_index(len(values)), name="predicted")
        frame = checks.as_frame(newdata, "newdata")
        checks.check_frame(frame, "newdata")
        columns = [c for c in frame.columns if c in self._variables]
        values = r_value(
            "pylme4_lm_predict", self._handle, Columns(frame, columns), doing="computing predict()"
        ).astype(float)
        return pd.Series(values, index=frame.index, name="predicted")


def _restore_fit(
    cls: type[_RegressionFit],
    payload: bytes,
    messages: tuple[RCondition, ...],
    index: pd.Index,
    variables: tuple[str, ...],
) -> Any:
    return cls._from_r(unserialize(payload), messages, index, variables)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class LmFit(_RegressionFit):
    """A linear model fitted by R's ``lm()``: the complete-pooling model.

    ``str(fit)`` is exactly R's ``print(fit)``; ``summary()`` is R's
    ``summary()``; ``coef()``, ``vcov()``, ``fitted()``, ``residuals()`` and
    ``predict()`` are R's accessors.
    """

    def summary(self) -> LmSummary:
        """R's ``summary()``: coefficient table with t tests, R-squared, F test."""

        def compute() -> LmSummary:
            parts = r_value("pylme4_lm_summary", self._handle, doing="computing summary()")
            fstat = parts["fstatistic"]
            return LmSummary(
                coefficients=parts["coefficients"],
                sigma=float(parts["sigma"]),
                df=tuple(int(v) for v in parts["df"]),  # type: ignore[arg-type]
                r_squared=float(parts["r_squared"]),
                adj_r_squared=float(parts["adj_r_squared"]),
                fstatistic=None if fstat is None else pd.Series(fstat, dtype=float),
                text=str(parts["text"]),
            )

        return self._cached("summary", compute)


@shared_params
def lm(
    formula: str,
    data: Any,
    *,
    data_name: str = "data",
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    na_action: NaAction = "omit",
    contrasts: Mapping[str, str] | None = None,
) -> LmFit:
    """Fit a linear model with R's ``lm()``: complete pooling.

    One regression for all rows, ignoring which group a row belongs to.

    Parameters
    ----------
    formula
        An R model formula as text, e.g. ``"reaction ~ days"``.
    {data}
    {data_name}
    {weights, offset}
    {na_action}
    {contrasts}

    Returns
    -------
    LmFit

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.lecture_sleep()
    >>> fit = pylme4.lm("reaction ~ days", sleep, data_name="df.sleep")
    >>> fit.coef().round(5).tolist()
    [252.3207, 10.32766]
    """
    _no_bar(
        formula,
        "lm() fits one regression to all rows: use pylme4.lmer() for a mixed model or "
        "pylme4.lm_list() for one regression per group",
    )
    prepared = prepare_call(
        formula,
        data,
        data_name=data_name,
        weights=weights,
        offset=offset,
        na_action=na_action,
        contrasts=contrasts,
        values={},
        control_fun="lmerControl",
    )
    fit: LmFit = _fit_regression(LmFit, "lm", prepared)
    return fit


def _no_bar(formula: str, advice: str) -> None:
    """lm() and glm() fit one model to all rows: a bar is a mixed model's."""
    if isinstance(formula, str) and "|" in formula:
        raise FormulaError(
            f"the formula {formula!r} has a random-effects or grouping bar '|'; {advice}"
        )


def _fit_regression(cls: type[_RegressionFit], fun_name: str, prepared: dict[str, Any]) -> Any:
    """Fit with R's `fun_name` (lm or glm) and build a `cls` result."""
    df: pd.DataFrame = prepared["df"]
    outcome = r_call(
        "pylme4_fit",
        fun_name,
        data=Columns(df, prepared["columns"]),
        doing=f"fitting the model with {fun_name}()",
        keep=True,
        **prepared["args"],
    )
    fit = cls._from_r(outcome.value, outcome.conditions, df.index, prepared["variables"])
    emit(outcome.conditions)
    return fit


# ---------------------------------------------------------------------------
# glm(): complete pooling for a non-normal response
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GlmSummary(formatting.RPrinted):
    """``summary()`` of a generalized linear model, as R's ``summary.glm``
    computes it.  ``str(summary)`` is exactly R's ``print(summary(fit))``."""

    coefficients: pd.DataFrame
    """Estimate, Std. Error, z (or t) value, Pr(>|z|); one row per estimable coefficient."""
    dispersion: float
    df: tuple[int, int, int]
    """R's ``df``: (rank, residual df, number of coefficients)."""
    deviance: float
    null_deviance: float
    df_null: int
    aic: float
    iterations: int
    """Fisher scoring iterations."""
    text: str = field(repr=False)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class GlmFit(_RegressionFit):
    """A generalized linear model fitted by R's ``glm()``.

    ``str(fit)`` is exactly R's ``print(fit)``; ``summary()`` is R's
    ``summary()``; ``coef()``, ``vcov()``, ``fitted()`` (response scale),
    ``residuals()`` (deviance residuals) and ``predict()`` (link scale) are
    R's accessors.  ``sigma`` is R's ``sigma()`` of the fit.
    """

    family: str
    """R's family name, e.g. "binomial"."""
    link: str
    null_deviance: float
    converged: bool

    _INFO_HELPER = "pylme4_glm_info"

    @classmethod
    def _extra_fields(cls, info: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "family": str(info["family"]),
            "link": str(info["link"]),
            "null_deviance": float(info["null_deviance"]),
            "converged": bool(info["converged"]),
        }

    def summary(self) -> GlmSummary:
        """R's ``summary()``: coefficient table with Wald tests, deviances, AIC."""

        def compute() -> GlmSummary:
            parts = r_value("pylme4_glm_summary", self._handle, doing="computing summary()")
            return GlmSummary(
                coefficients=parts["coefficients"],
                dispersion=float(parts["dispersion"]),
                df=tuple(int(v) for v in parts["df"]),  # type: ignore[arg-type]
                deviance=float(parts["deviance"]),
                null_deviance=float(parts["null_deviance"]),
                df_null=int(parts["df_null"]),
                aic=float(parts["aic"]),
                iterations=int(parts["iterations"]),
                text=str(parts["text"]),
            )

        return self._cached("summary", compute)


@shared_params
def glm(
    formula: str,
    data: Any,
    *,
    family: str | Family | None = None,
    data_name: str = "data",
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    na_action: NaAction = "omit",
    contrasts: Mapping[str, str] | None = None,
) -> GlmFit:
    """Fit a generalized linear model with R's ``glm()``.

    The complete-pooling counterpart of :func:`pylme4.glmer`, and what
    ``pylme4.anova(glmer_fit, glm_fit)`` compares a GLMM with.

    Parameters
    ----------
    formula
        An R model formula as text; for the binomial family the response may
        be ``cbind(successes, failures)``.
    {data}
    {family}
        None (the default) is R's default, gaussian, and leaves the family
        out of the call as R prints it.
    {data_name}
    {weights, offset}
    {na_action}
    {contrasts}

    Returns
    -------
    GlmFit

    Examples
    --------
    >>> import pylme4
    >>> cbpp = pylme4.datasets.load("cbpp")
    >>> fit = pylme4.glm("cbind(incidence, size - incidence) ~ period", cbpp,
    ...                  family="binomial", data_name="cbpp")  # doctest: +SKIP
    >>> round(fit.coef()["period2"], 4)  # doctest: +SKIP
    -1.1307
    """
    _no_bar(formula, "glm() fits one model to all rows: use pylme4.glmer() for a mixed model")
    code = None if family is None else family_code_for(family, data_name)
    prepared = prepare_call(
        formula,
        data,
        data_name=data_name,
        weights=weights,
        offset=offset,
        na_action=na_action,
        contrasts=contrasts,
        values={},
        control_fun="glm.control",
        # A binomial response may be logical or a factor; R's family checks it.
        numeric_response=False,
    )
    if code is not None:
        prepared["args"]["code"] = {"family": code, **prepared["args"]["code"]}
    fit: GlmFit = _fit_regression(GlmFit, "glm", prepared)
    return fit


# ---------------------------------------------------------------------------
# lmList(): no pooling
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class LmListFit(formatting.RPrinted):
    """One linear model per group, fitted by lme4's ``lmList()``: no pooling.

    ``coef()`` has one row per group; a coefficient a group's rows cannot
    identify (a slope from a single row, say) is NaN, as R's NA.
    ``str(fit)`` is exactly R's ``print(fit)``.
    """

    formula: str
    data_name: str
    group: str
    """The grouping variable (right of the bar)."""
    nobs: int
    group_sizes: pd.Series
    """Rows per group (0 for a group whose fit failed)."""
    failed: tuple[str, ...]
    """Groups whose lm() failed (R keeps them as NULL fits; their coefficients are NaN)."""
    sigma: float | None
    """R's ``sigma(fit)``: the pooled residual standard error (lme4 pools it
    even for ``pool=False``)."""
    loglik: float | None
    """R's ``logLik(fit)``: the groups' models' log-likelihood (the pooled
    model's with ``pool=True``)."""
    aic: float | None
    """R's ``AIC(fit)``."""
    bic: float | None
    """R's ``BIC(fit)``."""
    df_residual: int | None
    """Residual degrees of freedom of the pooled SD."""
    messages: tuple[RCondition, ...]
    _coef: pd.DataFrame
    _text: str
    _handle: RHandle

    def _r_text(self) -> str:
        return self._text

    def brief(self) -> str:
        return (
            f"<LmListFit {self.formula} | data={self.data_name}, "
            f"{len(self._coef)} groups, nobs={self.nobs}>"
        )

    def coef(self) -> pd.DataFrame:
        """Per-group coefficients (R's ``coef(lmList)``), NaN where R has NA."""
        return self._coef.copy()

    @classmethod
    def _from_r(
        cls,
        handle: RHandle,
        conditions: tuple[RCondition, ...],
        formula: str,
        data_name: str,
    ) -> LmListFit:
        info = r_value("pylme4_lmlist_info", handle, doing="reading the lmList() fit")
        group = formula.rsplit("|", 1)[1].strip()
        levels = pd.Index([str(v) for v in info["coef"]["levels"]], name=group)
        coef = info["coef"]["values"].set_axis(levels, axis=0).astype(float)
        sizes = pd.Series({str(k): int(v) for k, v in info["sizes"].items()}, name="n")
        sigma, df_res = info["sigma"], info["df_residual"]
        return cls(
            formula=formula,
            data_name=data_name,
            group=group,
            nobs=Count(int(sizes.sum()), "nobs"),
            group_sizes=sizes,
            failed=tuple(str(g) for g in info["failed"]),
            sigma=scalar(sigma, "sigma"),
            loglik=scalar(info["loglik"], "loglik"),
            aic=scalar(info["aic"], "aic"),
            bic=scalar(info["bic"], "bic"),
            df_residual=None if df_res is None else int(df_res),
            messages=conditions,
            _coef=coef,
            _text=str(info["text"]),
            _handle=handle,
        )

    def __reduce__(self) -> Any:
        return (
            _restore_lm_list,
            (serialize(self._handle), self.messages, self.formula, self.data_name),
        )


def _restore_lm_list(
    payload: bytes, messages: tuple[RCondition, ...], formula: str, data_name: str
) -> LmListFit:
    return LmListFit._from_r(unserialize(payload), messages, formula, data_name)


@shared_params
def lm_list(
    formula: str,
    data: Any,
    *,
    data_name: str = "data",
    pool: bool = True,
) -> LmListFit:
    """Fit one linear model per group with lme4's ``lmList()``: no pooling.

    Parameters
    ----------
    formula
        ``"response ~ terms | group"``, e.g. ``"reaction ~ days | subject"``.
    {data}
    {data_name}
    pool
        Pool the residual variance across groups (lmList's default), which
        gives the printed "Residual standard error".

    Returns
    -------
    LmListFit
        A group with too few rows for a coefficient gets NaN for it, as in R
        (the lecture's table shows 0 there: its tidyverse code filled the
        gap with ``complete(fill = list(estimate = 0))``).

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.lecture_sleep()
    >>> nopool = pylme4.lm_list("reaction ~ days | subject", sleep, data_name="df.sleep")
    >>> nopool.coef().loc["373"].tolist()
    [245.0, nan]
    """
    if not isinstance(formula, str) or "|" not in formula:
        raise FormulaError(
            f"lm_list() needs a formula 'response ~ terms | group', e.g. "
            f"'reaction ~ days | subject', not {formula!r}"
        )
    if not isinstance(pool, (bool, np.bool_)):
        raise ArgumentTypeError(f"pool must be True or False, not {pool!r}")
    prepared = prepare_call(
        formula,
        data,
        data_name=data_name,
        values={} if pool else {"pool": False},
        control_fun="lmerControl",
    )
    df: pd.DataFrame = prepared["df"]
    outcome = r_call(
        "pylme4_fit",
        "lmList",
        data=Columns(df, prepared["columns"]),
        doing="fitting one linear model per group with lmList()",
        keep=True,
        **prepared["args"],
    )
    fit = LmListFit._from_r(outcome.value, outcome.conditions, formula, data_name)
    emit(outcome.conditions)
    return fit
