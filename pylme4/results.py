"""Result objects: immutable, with lme4's names and lme4's meanings.

A fitted model (:class:`LmerFit`) keeps a handle on its R object, so that
accessors such as ``ranef()`` or ``summary()`` ask R on first use (and cache
the answer).  Everything else here (:class:`LmerSummary`) is plain data.
Printed forms are R's own: ``str(x)`` is exactly what ``print(x)`` shows in R.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from . import formatting
from ._r.call import r_call, r_value, serialize, unserialize
from ._r.convert import Columns, RHandle
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DataError,
    PylmeError,
    RCondition,
    choice_error,
    emit,
)
from .fitbase import Count, RFitRows, Scalar, forward, scalar
from .options import (
    ALTERNATIVES,
    DDF_VALUES,
    PREDICT_NA_ACTIONS,
    RESIDUAL_TYPES,
    Alternative,
    Ddf,
    GetMeName,
    ModelMatrixType,
    PredictNaAction,
    PredictType,
    ResidualType,
)

if TYPE_CHECKING:
    # Only for the types of the forwarded methods below: pylme4.allfit,
    # pylme4.bootstrap and pylme4.inference import this module, never the
    # other way round at run time.
    from . import (
        allfit,
        bootstrap,
        changes,
        goodness,
        inference,
        insides,
        marginal,
        printopts,
        profiles,
        tidying,
        wald,
    )
    from . import lmertest as lmertest_tools


def _frozen_array(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


def _group_frames(groups: Mapping[str, Any], part_name: str = "values") -> dict[str, pd.DataFrame]:
    """R's list of per-group data frames (``part_name`` + levels) as
    DataFrames indexed by level."""
    out = {}
    for name, part in groups.items():
        index = pd.Index(list(part["levels"]), name=name)
        out[name] = part[part_name].set_axis(index, axis=0)
    return out


class RList(formatting.RPrinted, dict):  # type: ignore[type-arg]
    """An R list of data frames, one per grouping factor (lme4's ``coef()``
    and ``ranef()``), as a dict of DataFrames whose printed form (``str``,
    ``repr``, a notebook's ``<pre>``) is R's print of the list, computed by R
    on first use: ``$Subject``, or ``$`class:school``` where R needs
    backticks.  The text is the list as the fit gave it (a dict changed
    afterwards still prints R's original).
    """

    __slots__ = ("_printer", "_text")

    def __init__(self, frames: Mapping[str, pd.DataFrame], printer: Any):
        super().__init__(frames)
        # R's text, or how to ask R for it (a function without arguments)
        self._printer = printer
        self._text: str | None = printer if isinstance(printer, str) else None

    def _r_text(self) -> str:
        if self._text is None:
            self._text = str(self._printer())
        return self._text

    def __reduce__(self) -> Any:
        return (type(self), (dict(self), self._r_text()))


class Ranef(RList):
    """lme4's ``ranef(fit)``: a dict of DataFrames, one per grouping factor
    (the conditional modes: one row per level, one column per term, as R's
    ``ranef(fit)$g``) that prints as R prints the list (:class:`RList`).

    With ``cond_var=True`` (the default, as lme4's ``condVar = TRUE``):

    - ``postvar[g]``: the conditional covariance matrices, R's
      ``attr(ranef(fit)[[g]], "postVar")``, a numpy array shaped as R's
      (terms x terms x levels), or, for a factor with several uncorrelated
      blocks (``(x || g)``), R's list of such arrays, one per block (a dict
      keyed by R's names where R names them, as lme4 1.1-31 does:
      ``{"(Intercept)": ..., "Days": ...}``);
    - ``condsd[g]``: their diagonals' square roots, the conditional standard
      deviations, as a DataFrame shaped as ``ranef[g]`` (the ``condsd``
      column of R's ``as.data.frame(ranef(fit))``).

    Both are None with ``cond_var=False``.
    """

    __slots__ = ("condsd", "postvar")

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame],
        postvar: dict[str, Any] | None,
        printer: Any,
        condsd: dict[str, pd.DataFrame] | None = None,
    ):
        super().__init__(frames, printer)
        self.postvar = postvar
        self.condsd = condsd

    def __reduce__(self) -> Any:
        return (type(self), (dict(self), self.postvar, self._r_text(), self.condsd))


def _postvar_copy(postvar: Any) -> Any:
    if isinstance(postvar, Mapping):
        return {name: np.array(block, dtype=float) for name, block in postvar.items()}
    if isinstance(postvar, list):
        return [np.array(block, dtype=float) for block in postvar]
    return np.array(postvar, dtype=float)


def _check_ddf(ddf: str | None) -> None:
    if ddf is not None and ddf not in DDF_VALUES:
        raise choice_error("ddf", ddf, (None, *DDF_VALUES))


# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LmerSummary(formatting.RPrinted):
    """``summary()`` of a linear mixed model, as lme4 (or lmerTest) computes it.

    ``str(summary)`` is exactly R's ``print(summary(fit))``.
    """

    title: str
    """lme4's method title, e.g. "Linear mixed model fit by REML"."""
    object_class: str
    formula: str
    data_name: str
    reml_criterion: float | None
    """REML criterion at convergence (REML fits; None for ML fits)."""
    fit_statistics: pd.Series | None
    """AIC, BIC, logLik, deviance, df.resid (ML fits; None for REML fits)."""
    scaled_residuals: pd.Series
    random_effects: pd.DataFrame
    """One row per variance component: Groups, Name, Variance, Std.Dev. and,
    for correlated terms, Corr (then Corr.2, ... for larger blocks)."""
    nobs: int
    ngroups: Mapping[str, int]
    fixed_effects: pd.DataFrame
    """R's coefficient table: Estimate, Std. Error, (df,) t value (, Pr(>|t|))."""
    correlation: pd.DataFrame | None
    """Correlation of the fixed-effect estimates."""
    optimizer_messages: tuple[str, ...]
    ddf: str | None
    text: str = field(repr=False)
    """R's printed summary."""
    alternative: str = "two-sided"
    """The alternative of the p-values: "two-sided" (lmerTest's Pr(>|t|)), or
    "greater" / "less", for which ``fixed_effects`` has the one-sided column
    "Pr(>t)" / "Pr(<t)" after the two-sided one."""

    @classmethod
    def _from_r(
        cls, parts: dict[str, Any], ddf: str | None, alternative: str = "two-sided"
    ) -> LmerSummary:
        aictab = parts["aictab"]
        if isinstance(aictab, pd.Series) and list(aictab.index) == ["REML"]:
            reml_criterion, stats = float(aictab["REML"]), None
        else:
            reml_criterion, stats = None, aictab
        return cls(
            reml_criterion=reml_criterion,
            fit_statistics=stats,
            ddf=ddf,
            alternative=alternative,
            **_summary_fields(parts),
        )


@dataclass(frozen=True)
class GlmerSummary(formatting.RPrinted):
    """``summary()`` of a generalized linear mixed model (lme4's ``glmer()``).

    ``str(summary)`` is exactly R's ``print(summary(fit))``.
    """

    title: str
    """lme4's method title, e.g. "Generalized linear mixed model fit by maximum
    likelihood (Laplace Approximation)"."""
    object_class: str
    family: str
    """The family as R prints it: "binomial", "poisson", "Gamma",
    "Negative Binomial(1.456)", ..."""
    link: str
    formula: str
    data_name: str
    fit_statistics: pd.Series
    """R's table: AIC, BIC, logLik, deviance (-2 logLik) and df.resid."""
    scaled_residuals: pd.Series
    """Quantiles of the scaled Pearson residuals."""
    random_effects: pd.DataFrame
    """One row per variance component: Groups, Name, Variance, Std.Dev. (and
    Corr columns for correlated terms); a Residual row for families with a
    scale parameter (Gamma, gaussian, inverse.gaussian)."""
    nobs: int
    ngroups: Mapping[str, int]
    fixed_effects: pd.DataFrame
    """R's coefficient table: Estimate, Std. Error, z value (t value for
    families with a scale parameter), Pr(>|z|)."""
    correlation: pd.DataFrame | None
    """Correlation of the fixed-effect estimates."""
    optimizer_messages: tuple[str, ...]
    text: str = field(repr=False)
    """R's printed summary."""

    @classmethod
    def _from_r(cls, parts: dict[str, Any]) -> GlmerSummary:
        return cls(
            family=str(parts["family"]),
            link=str(parts["link"]),
            fit_statistics=parts["aictab"],
            **_summary_fields(parts),
        )


def _summary_fields(parts: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every lme4 summary has, from R's ``pylme4_lmer_summary()``."""
    return {
        "title": parts["title"],
        "object_class": parts["object_class"],
        "formula": parts["formula"],
        "data_name": parts["data_name"],
        "scaled_residuals": parts["residuals"],
        "random_effects": random_effects_table(parts["varcor"]),
        "nobs": int(parts["nobs"]),
        "ngroups": _group_counts(parts["ngrps"]),
        "fixed_effects": parts["coefficients"],
        "correlation": parts["correlation"],
        "optimizer_messages": tuple(parts["fit_messages"]),
        "text": parts["text"],
    }


def _group_counts(ngrps: Mapping[str, Any]) -> Mapping[str, int]:
    """lme4's ``ngrps()``: levels per grouping factor, read-only."""
    return MappingProxyType({str(k): int(v) for k, v in ngrps.items()})


def random_effects_table(vc: pd.DataFrame) -> pd.DataFrame:
    """lme4's printed random-effects table as numbers.

    ``vc`` is ``as.data.frame(VarCorr(fit))`` (grp, var1, var2, vcov, sdcor,
    variances first).  Each variance becomes a row; each correlation goes in
    the row of its first term, in column "Corr" for the block's first term,
    "Corr.2" for the second, and so on, as R prints the lower triangle.
    """
    variances = vc[vc["var2"].isna()]
    rows: list[dict[str, Any]] = []
    position: dict[tuple[str, str], int] = {}
    block_terms: dict[str, list[str]] = {}
    for grp, var1, vcov, sd in zip(
        variances["grp"], variances["var1"], variances["vcov"], variances["sdcor"]
    ):
        name = "" if pd.isna(var1) else str(var1)
        block_terms.setdefault(grp, []).append(name)
        position[(grp, name)] = len(rows)
        rows.append({"Groups": grp, "Name": name, "Variance": vcov, "Std.Dev.": sd})
    table = pd.DataFrame(rows, columns=["Groups", "Name", "Variance", "Std.Dev."])
    corrs = vc[vc["var2"].notna()]
    for grp, var1, var2, r in zip(corrs["grp"], corrs["var1"], corrs["var2"], corrs["sdcor"]):
        terms = block_terms[grp]
        i, j = terms.index(var1), terms.index(var2)
        row, col = (var1, j) if i > j else (var2, i)
        column = "Corr" if col == 0 else f"Corr.{col + 1}"
        if column not in table:
            table[column] = np.nan
        table.loc[position[(grp, row)], column] = r
    return table


# ---------------------------------------------------------------------------
# What every fit with an R object shares
# ---------------------------------------------------------------------------


def used_rows(n_rows: int, omitted: Any, subset: Any = None) -> np.ndarray:
    """Which of the data's ``n_rows`` rows a fit used: R's ``na.action``
    lists the dropped ones (1-based), of the rows ``subset`` kept (1-based;
    None: all)."""
    if subset is None:
        used = np.ones(n_rows, dtype=bool)
    else:
        used = np.zeros(n_rows, dtype=bool)
        used[np.asarray(subset, dtype=np.int64) - 1] = True
    used[np.asarray(omitted, dtype=np.int64) - 1] = False
    return used


# ---------------------------------------------------------------------------
# Fitted mixed models
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class MerFit(RFitRows, formatting.RPrinted):
    """What every model fitted by lme4 has (``merMod``): the base of
    :class:`LmerFit` (and of the generalized fits).

    Attributes hold what lme4 reports directly (``sigma``, ``nobs``,
    ``ngroups``, ``theta``) and the fit's scalars (``loglik`` as R's
    ``logLik()``, ``aic``, ``bic``, ``deviance``; calling them as methods
    still works, with a DeprecationWarning); methods mirror lme4's accessors
    (``fixef()``, ``ranef()``, ``coef()``, ``VarCorr()`` as ``var_corr()``,
    ``vcov()``, ...).  ``str(fit)`` and ``repr(fit)`` are exactly R's
    ``print(fit)``.
    """

    formula: str
    data_name: str
    nobs: int
    ngroups: Mapping[str, int]
    sigma: float
    theta: np.ndarray
    optimizer: str
    messages: tuple[RCondition, ...]
    """R's warnings and messages from the fit, in order."""
    _fixef: pd.Series
    _stats: Mapping[str, float]
    _singular: bool
    _conv_messages: tuple[str, ...]
    _index: pd.Index
    _used: np.ndarray
    _na_action: str
    _variables: tuple[str, ...]
    _handle: RHandle
    _subset_rows: np.ndarray | None = None
    """The data's rows a ``subset`` kept (None: no subset)."""
    _data: pd.DataFrame | None = None
    """The DataFrame the fit was given (None for fits made from an R object)."""
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: Any = field(default_factory=threading.RLock)

    # The R helper that reads the basics of a fit (a subclass may add its own).
    _INFO_HELPER: ClassVar[str] = "pylme4_fit_info"

    # -- construction ------------------------------------------------------

    @classmethod
    def _from_r(
        cls,
        handle: RHandle,
        conditions: tuple[RCondition, ...],
        index: pd.Index,
        variables: tuple[str, ...],
        info: Mapping[str, Any] | None = None,
        data: pd.DataFrame | None = None,
    ) -> Any:
        """Build the result from the R object and its info helper's answer
        (asked for here unless the fitting call brought it back already);
        ``data`` is the DataFrame the fit was given, when there is one."""
        if info is None:
            info = r_value(cls._INFO_HELPER, handle, doing="reading the fitted model")
        return cls(
            formula=info["formula"],
            data_name=info["data_name"],
            nobs=Count(int(info["nobs"]), "nobs"),
            ngroups=_group_counts(info["ngrps"]),
            sigma=Scalar(float(info["sigma"]), "sigma"),
            theta=_frozen_array(info["theta"]),
            optimizer=str(info["optimizer"]),
            messages=conditions,
            _fixef=_named_numbers(info["fixef"]),
            _stats=MappingProxyType(
                {
                    "loglik": float(info["loglik"]),
                    "loglik_df": float(info["loglik_df"]),
                    "aic": float(info["aic"]),
                    "bic": float(info["bic"]),
                    "deviance": float(info["deviance"]),
                }
            ),
            _singular=bool(info["singular"]),
            _conv_messages=tuple(info["conv_messages"]),
            _index=index,
            _used=used_rows(len(index), info["omitted"], info.get("subset_rows")),
            _subset_rows=None
            if info.get("subset_rows") is None
            else used_rows(len(index), [], info["subset_rows"]),
            _na_action=str(info["na_action"]),
            _variables=variables,
            _handle=handle,
            _data=data,
            **cls._own_fields(info),
        )

    @classmethod
    def _own_fields(cls, info: Mapping[str, Any]) -> dict[str, Any]:
        """Fields a subclass adds, read from ``pylme4_fit_info()``'s answer."""
        return {}

    # -- printing ------------------------------------------------------------

    def _r_text(self) -> str:
        return self._cached(
            "print", lambda: r_value("pylme4_print", self._handle, doing="printing the model")
        )

    def brief(self) -> str:
        return (
            f"<{type(self).__name__} {self.formula} | data={self.data_name}, "
            f"nobs={self.nobs}, logLik {self.loglik:.4f}>"
        )

    # -- pickling: the R object travels as R's serialize() bytes -----------

    def __reduce__(self) -> Any:
        return (
            _restore_fit,
            (type(self), serialize(self._handle), self.messages, self._index, self._variables),
        )

    # -- lme4's accessors --------------------------------------------------

    def get_data(self) -> pd.DataFrame:
        """The data the model was fitted to: lme4's ``getData(fit)``.

        The DataFrame given to ``lmer()``/``glmer()`` (the object itself, as
        R's ``getData`` finds the data by its name, so changes made to it
        since show); for a fit that was pickled or made from an R object
        (a refit), the columns pylme4 gave R, which are those the model uses.
        """
        if self._data is not None:
            return self._data

        def fetch() -> pd.DataFrame:
            frame = r_value("pylme4_fit_data", self._handle, doing="reading the fit's data")
            if not isinstance(frame, pd.DataFrame) or len(frame) != len(self._index):
                raise DataError("the fit's data cannot be found in R")
            return frame.set_axis(self._index, axis=0)

        return self._cached("data", fetch)

    def fixef(self) -> pd.Series:
        """Fixed-effect estimates (lme4's ``fixef()``)."""
        return self._fixef.copy()

    def ranef(self, cond_var: bool = True) -> Ranef:
        """Conditional modes of the random effects (lme4's ``ranef()``).

        A :class:`Ranef`, a dict with one DataFrame per grouping factor,
        indexed by level, one column per term, that prints as R's
        ``print(ranef(fit))``.  ``cond_var=True`` (lme4 1.1-31's default,
        ``condVar = TRUE``) also computes the conditional variances:
        ``.postvar`` holds lme4's ``attr(, "postVar")`` arrays (terms x terms
        x levels per grouping factor) and ``.condsd`` the conditional
        standard deviations (a DataFrame per grouping factor, shaped as the
        modes).  ``cond_var=False`` skips them (on a model with thousands of
        levels they can take a sizeable fraction of the fit's time).
        """
        cond_var = bool(cond_var)

        def compute() -> tuple[RHandle, Any]:
            handle = r_call(
                "pylme4_ranef_object", self._handle, cond_var, doing="computing ranef()", keep=True
            ).value
            return handle, r_value("pylme4_ranef_parts", handle, cond_var, doing="reading ranef()")

        handle, parts = self._cached(f"ranef{cond_var}", compute)
        frames = {k: v.copy() for k, v in _group_frames(parts).items()}
        postvar = condsd = None
        if cond_var:
            postvar = {k: _postvar_copy(part["postvar"]) for k, part in parts.items()}
            condsd = {k: v.copy() for k, v in _group_frames(parts, "condsd").items()}

        def printer() -> str:
            return self._cached(
                f"print_ranef{cond_var}",
                lambda: r_value("pylme4_print", handle, doing="printing ranef()"),
            )

        return Ranef(frames, postvar, printer, condsd)

    def coef(self) -> RList:
        """Per-group coefficients, fixed plus random (lme4's ``coef()``): a
        dict of DataFrames that prints as R prints ``coef(fit)``."""
        parts = self._cached(
            "coef", lambda: r_value("pylme4_coef", self._handle, doing="computing coef()")
        )
        frames = {k: v.copy() for k, v in _group_frames(parts).items()}
        return RList(frames, lambda: self._printed("coef"))

    def _printed(self, what: str, *args: Any) -> str:
        """R's print of ``coef(fit)`` / ``ranef(fit, condVar)`` (cached)."""
        return self._cached(
            f"print_{what}{args}",
            lambda: r_value(
                f"pylme4_print_{what}", self._handle, *args, doing=f"printing {what}()"
            ),
        )

    def var_corr(self) -> pd.DataFrame:
        """Variance components: ``as.data.frame(VarCorr(fit))``.

        Columns grp, var1, var2, vcov, sdcor; for correlations ``vcov`` is the
        covariance and ``sdcor`` the correlation.
        """
        return self._cached(
            "var_corr",
            lambda: r_value("pylme4_var_corr", self._handle, doing="computing VarCorr()"),
        ).copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the fixed-effect estimates (``vcov()``)."""
        return self._cached(
            "vcov", lambda: r_value("pylme4_vcov", self._handle, doing="computing vcov()")
        ).copy()

    # The scalars are attributes, as sigma and nobs (pylme4.fitbase.Scalar:
    # the old method spelling, fit.aic(), still works with a DeprecationWarning).
    @property
    def loglik(self) -> float:
        """Log-likelihood (REML criterion's for REML fits, as R's ``logLik()``)."""
        return Scalar(self._stats["loglik"], "loglik")

    @property
    def aic(self) -> float:
        """``AIC(fit)``."""
        return Scalar(self._stats["aic"], "aic")

    @property
    def bic(self) -> float:
        """``BIC(fit)``."""
        return Scalar(self._stats["bic"], "bic")

    @property
    def deviance(self) -> float:
        """Deviance: ``deviance(fit)`` for ML fits; ``deviance(fit, REML = FALSE)``
        (the ML deviance at the REML estimates) for REML fits, as lme4 reports."""
        return Scalar(self._stats["deviance"], "deviance")

    def is_singular(self, tol: float = 1e-4) -> bool:
        """``isSingular(fit, tol)``: a variance is ~0 or a correlation is ~+/-1."""
        from . import checks

        tol = checks.positive_number(tol, "tol")
        if tol == 1e-4:
            return self._singular
        return bool(r_value("pylme4_is_singular", self._handle, tol, doing="checking isSingular()"))

    def fitted(self) -> pd.Series:
        """Fitted values, indexed like the data (``fitted()``).

        With ``na_action="exclude"`` rows dropped for missing values are
        present and NaN; with ``"omit"`` they are absent.
        """
        values = self._cached(
            "fitted", lambda: r_value("pylme4_fitted", self._handle, doing="computing fitted()")
        )
        return pd.Series(values, index=self._row_index(len(values)), name="fitted")

    def residuals(self, type: ResidualType = "response", scaled: bool = False) -> pd.Series:
        """Residuals (``residuals(fit, type, scaled)``), indexed like ``fitted()``."""
        if type not in RESIDUAL_TYPES:
            raise choice_error("type", type, RESIDUAL_TYPES)
        values = r_value(
            "pylme4_residuals", self._handle, type, bool(scaled), doing="computing residuals()"
        )
        return pd.Series(values, index=self._row_index(len(values)), name="residuals")

    def _check_newdata_types(self, frame: pd.DataFrame, columns: list[str]) -> None:
        """newdata's columns must have the kind the model was fitted with: a
        numeric variable given as strings would otherwise reach R as a
        factor, and R's error would speak of contrasts or non-conformable
        matrices instead of the column."""
        classes = self._cached(
            "frame_classes",
            lambda: r_value("pylme4_frame_classes", self._handle, doing="reading the model frame"),
        )
        if isinstance(classes, str):  # a one-variable frame comes back as a scalar
            return
        kinds = dict(classes.items())
        for column in columns:
            if kinds.get(column) not in ("numeric", "integer"):
                continue
            values = frame[column]
            numeric = pd.api.types.is_numeric_dtype(values.dtype) or (
                values.dtype == object
                and pd.api.types.infer_dtype(values, skipna=True)
                in ("integer", "floating", "empty")
            )
            if not numeric or pd.api.types.is_bool_dtype(values.dtype):
                given = (
                    "strings"
                    if pd.api.types.infer_dtype(values, skipna=True) == "string"
                    else f"dtype {values.dtype}"
                )
                raise DataError(
                    f"newdata column {column!r} has the wrong type: the model was fitted with "
                    f"{column!r} numeric, but newdata has {given}; convert it, e.g. with "
                    "pd.to_numeric()"
                )

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        re_form: str | None = None,
        allow_new_levels: bool = False,
        type: PredictType = "link",
        na_action: PredictNaAction = "pass",
        random_only: bool = False,
        newparams: Mapping[str, Any] | None = None,
    ) -> pd.Series:
        """Predictions (lme4's ``predict()``).

        ``re_form=None`` uses all random effects; ``"NA"`` or ``"~0"`` gives
        population-level predictions; a formula such as ``"~(1 | subject)"``
        keeps only those terms.  ``type="link"`` (lme4's default) predicts on
        the scale of the linear predictor, ``"response"`` on the scale of the
        response (the same for a linear model).  Without ``newdata`` the
        result is indexed like ``fitted()``; with it, like ``newdata``.
        ``na_action`` is what R's ``na.action`` does to rows of ``newdata``
        with missing values: ``"pass"`` (R's default: NaN predictions),
        ``"omit"`` (dropped), ``"exclude"`` (NaN) or ``"fail"`` (an error).
        ``random_only=True`` (R's ``random.only``) predicts from the random
        effects alone (those ``re_form`` keeps), without the fixed part.
        ``newparams`` (R's ``newparams``, through lme4's ``setParams()``)
        predicts with other parameter values: a dict with any of ``"beta"``
        (the fixed effects), ``"theta"`` (``fit.theta``'s order) and
        ``"sigma"``; a list or array is taken in lme4's order (R says so
        with a message), a Series is matched by its index to lme4's names
        (``fit.fixef().index``, ``get_me("theta").index``).
        """
        if type not in ("link", "response"):
            raise choice_error("type", type, ("link", "response"))
        if na_action not in PREDICT_NA_ACTIONS:
            raise choice_error("na_action", na_action, list(PREDICT_NA_ACTIONS))
        from . import checks, explain

        if not isinstance(random_only, (bool, np.bool_)):
            raise ArgumentTypeError(f"random_only must be True or False, not {random_only!r}")
        params = (
            None
            if newparams is None
            else checks.newparams(newparams, n_beta=len(self._fixef), n_theta=len(self.theta))
        )
        re_form = checks.re_form(re_form)
        if newdata is None:
            values = self._predict_in_r(
                None, re_form, bool(allow_new_levels), "na.pass", type, bool(random_only), params
            )
            return _by_row(values, self._index, "predicted", self._row_index)
        frame = checks.as_frame(newdata, "newdata")
        checks.check_frame(frame, "newdata")
        columns = [c for c in frame.columns if c in self._variables]
        self._check_newdata_types(frame, columns)
        try:
            values = self._predict_in_r(
                Columns(frame, columns),
                re_form,
                bool(allow_new_levels),
                PREDICT_NA_ACTIONS[na_action],
                type,
                bool(random_only),
                params,
            )
        except PylmeError as exc:
            raise explain.predict_error(exc, frame) from None
        return _by_row(values, frame.index, "predicted", lambda n: frame.index)

    def _predict_in_r(self, *args: Any) -> Any:
        # R's messages ("theta parameter vector not named: assuming same
        # order as internal vector") and warnings reach the caller.
        outcome = r_call("pylme4_predict", self._handle, *args, doing="computing predict()")
        emit(outcome.conditions)
        return outcome.value

    # -- post-estimation (pylme4.bootstrap, pylme4.allfit, pylme4.inference) --
    # Each method is the module's function bound to the fit (signature and
    # docstring included), imported on first use: see fitbase.forward.

    if TYPE_CHECKING:
        boot_mer = bootstrap.boot_mer
        all_fit = allfit.all_fit
        check_convergence = allfit.check_convergence
        confint = inference.confint
        profile = profiles.profile
        simulate = inference.simulate
        get_me = insides.get_me
        model_matrix = insides.model_matrix
        model_frame = insides.model_frame
        weights = insides.weights
        hatvalues = insides.hatvalues
        ranef_postvar = insides.ranef_postvar
        influence = insides.influence
        re_pca = insides.re_pca
        tidy = tidying.tidy
        glance = tidying.glance
        augment = tidying.augment
        r2 = goodness.r2
        icc = goodness.icc
    else:
        boot_mer = forward("pylme4.bootstrap", "boot_mer")
        all_fit = forward("pylme4.allfit", "all_fit")
        check_convergence = forward("pylme4.allfit", "check_convergence")
        confint = forward("pylme4.inference", "confint")
        profile = forward("pylme4.profiles", "profile")
        simulate = forward("pylme4.inference", "simulate")
        get_me = forward("pylme4.insides", "get_me")
        model_matrix = forward("pylme4.insides", "model_matrix")
        model_frame = forward("pylme4.insides", "model_frame")
        weights = forward("pylme4.insides", "weights")
        hatvalues = forward("pylme4.insides", "hatvalues")
        ranef_postvar = forward("pylme4.insides", "ranef_postvar")
        influence = forward("pylme4.insides", "influence")
        re_pca = forward("pylme4.insides", "re_pca")

    # lme4's update, refit, refitML and drop1 (pylme4.changes).
    if TYPE_CHECKING:
        update = changes.update
        refit = changes.refit
        refit_ml = changes.refit_ml
        drop1 = changes.drop1
    else:
        update = forward("pylme4.changes", "update")
        refit = forward("pylme4.changes", "refit")
        refit_ml = forward("pylme4.changes", "refit_ml")
        drop1 = forward("pylme4.changes", "drop1")
        # broom.mixed's tables and performance's R2 / ICC.
        tidy = forward("pylme4.tidying", "tidy")
        glance = forward("pylme4.tidying", "glance")
        augment = forward("pylme4.tidying", "augment")
        r2 = forward("pylme4.goodness", "r2")
        icc = forward("pylme4.goodness", "icc")

    # print(summary(fit), correlation =, digits =, signif.stars =) as text.
    if TYPE_CHECKING:
        summary_text = printopts.summary_text
        to_string = printopts.fit_text
    else:
        summary_text = forward("pylme4.printopts", "summary_text")
        to_string = forward("pylme4.printopts", "fit_text")

    # emmeans' marginal means and trends; car's Type II/III Wald tests.
    if TYPE_CHECKING:
        emmeans = marginal.emmeans
        emtrends = marginal.emtrends
        wald_anova = wald.wald_anova
    else:
        emmeans = forward("pylme4.marginal", "emmeans")
        emtrends = forward("pylme4.marginal", "emtrends")
        wald_anova = forward("pylme4.wald", "wald_anova")


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class LmerFit(MerFit):
    """A linear mixed model fitted by lme4's ``lmer()``.

    Besides :class:`MerFit`'s accessors: ``reml``, ``reml_criterion`` and
    ``summary(ddf=...)`` with lmerTest's Satterthwaite / Kenward-Roger tests.
    """

    reml: bool
    reml_criterion: float | None
    """REML criterion at convergence; None for a fit by maximum likelihood."""

    @classmethod
    def _own_fields(cls, info: Mapping[str, Any]) -> dict[str, Any]:
        crit = info["reml_criterion"]
        return {"reml": bool(info["reml"]), "reml_criterion": scalar(crit, "reml_criterion")}

    def brief(self) -> str:
        crit = (
            f"REML criterion {self.reml_criterion:.4f}"
            if self.reml_criterion is not None
            else f"logLik {self.loglik:.4f}"
        )
        return f"<LmerFit {self.formula} | data={self.data_name}, nobs={self.nobs}, {crit}>"

    # -- summaries -----------------------------------------------------------

    def _lmertest(self) -> RHandle:
        """lmerTest's version of this fit (its Hessian is costly: made once)."""

        def convert() -> RHandle:
            from ._r import session

            session.require_namespace("lmerTest")
            outcome = r_call(
                "pylme4_as_lmertest", self._handle, doing="preparing lmerTest's tests", keep=True
            )
            emit(outcome.conditions)
            return outcome.value

        return self._cached("lmertest", convert)

    def lmertest_handle(self) -> RHandle:
        """lmerTest's version of this fit, made once (``fitbase.LmerFitLike``)."""
        return self._lmertest()

    def summary(
        self,
        ddf: Ddf | None = None,
        alternative: Alternative = "two-sided",
    ) -> LmerSummary:
        """``summary(fit)``; with ``ddf``, lmerTest's summary with df and p-values.

        ``ddf="Satterthwaite"`` or ``"Kenward-Roger"`` gives what
        ``summary(lmerTest::lmer(...), ddf = ddf)`` gives.

        ``alternative`` chooses the test's alternative hypothesis, from the
        same t value and df:

        - ``"two-sided"`` (the default, and lmerTest's): H1 is "the effect is
          different from 0", p = P(|T| >= |t|).  Choose it unless the
          direction was stated before seeing the data; it is what reviewers
          expect.  The printout is R's exact text.
        - ``"greater"``: H1 is "the effect is greater than 0" (the treatment
          improves performance), p = P(T >= t).
        - ``"less"``: H1 is "the effect is less than 0", p = P(T <= t).

        A one-sided test has more power in the predicted direction but
        cannot detect an effect in the other direction (a large negative t
        gives p near 1 under ``"greater"``); decide before looking at the
        data, never after seeing the sign.  F tests (ANOVA) are one-tailed by
        construction and have no such choice.

        For ``"greater"`` / ``"less"`` (which need ``ddf``), ``fixed_effects``
        keeps lmerTest's ``Pr(>|t|)`` column and adds ``Pr(>t)`` /
        ``Pr(<t)``; the printout is R's printout of lmerTest's summary with
        the one-sided column shown in place of ``Pr(>|t|)`` (and the
        significance stars following it), as R prints such a table.
        """
        _check_ddf(ddf)
        if alternative not in ALTERNATIVES:
            raise choice_error("alternative", alternative, ALTERNATIVES)
        if alternative != "two-sided":
            if ddf is None:
                raise ArgumentError(
                    "a one-sided test needs degrees of freedom: give ddf='Satterthwaite' "
                    "or ddf='Kenward-Roger' with alternative"
                )
            if ddf == "Kenward-Roger":
                from ._r import session

                session.require_namespace("pbkrtest")
            return self._cached(
                f"summary{ddf}{alternative}",
                lambda: self._one_sided_summary(ddf, alternative),
            )
        lt = self._lmertest() if ddf is not None else None
        if ddf == "Kenward-Roger":
            from ._r import session

            session.require_namespace("pbkrtest")

        def compute() -> LmerSummary:
            outcome = r_call(
                "pylme4_lmer_summary", self._handle, lt, ddf, doing="computing summary()"
            )
            emit(outcome.conditions)
            return LmerSummary._from_r(outcome.value, ddf)

        return self._cached(f"summary{ddf}", compute)

    def _one_sided_summary(self, ddf: str, alternative: str) -> LmerSummary:
        """lmerTest's summary with the one-sided p-value column added."""
        outcome = r_call(
            "pylme4_lmer_summary_one_sided",
            self._handle,
            self._lmertest(),
            ddf,
            alternative,
            doing="computing summary()",
        )
        emit(outcome.conditions)
        return LmerSummary._from_r(outcome.value, ddf, alternative)

    # lmerTest's F tests of the fixed effects (to compare models use
    # pylme4.anova) and likelihood-ratio tests of the random effects.
    if TYPE_CHECKING:
        anova = inference.lmertest_anova
        ranova = inference.ranova
    else:
        anova = forward("pylme4.inference", "lmertest_anova")
        ranova = forward("pylme4.inference", "ranova")

    # lmerTest's contrast tests, least-squares means, drop1 and step.
    if TYPE_CHECKING:
        contest = lmertest_tools.contest
        contest1d = lmertest_tools.contest1d
        contest_md = lmertest_tools.contest_md
        ls_means = lmertest_tools.ls_means
        difflsmeans = lmertest_tools.difflsmeans
        show_tests = lmertest_tools.show_tests
        step = lmertest_tools.step
    else:
        contest = forward("pylme4.lmertest", "contest")
        contest1d = forward("pylme4.lmertest", "contest1d")
        contest_md = forward("pylme4.lmertest", "contest_md")
        ls_means = forward("pylme4.lmertest", "ls_means")
        difflsmeans = forward("pylme4.lmertest", "difflsmeans")
        show_tests = forward("pylme4.lmertest", "show_tests")
        step = forward("pylme4.lmertest", "step")


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class GlmerFit(MerFit):
    """A generalized linear mixed model fitted by lme4's ``glmer()`` or ``glmer.nb()``.

    Besides :class:`MerFit`'s accessors: ``family`` and ``link``, ``nagq``,
    ``nb_theta`` for a negative binomial, ``residuals()`` with lme4's GLMM
    default (deviance residuals), ``predict(type="response")`` and
    ``summary()`` with Wald z tests.
    """

    family: str
    """The family as R prints it: "binomial", "poisson", "Gamma",
    "Negative Binomial(1.456)", ..."""
    link: str
    """The link function: "logit", "probit", "log", "inverse", ..."""
    nagq: int | None
    """Points of adaptive Gauss-Hermite quadrature (1: the Laplace
    approximation; 0: the faster, less exact nAGQ = 0 fit).  None when
    lme4 fitted a linear model instead (gaussian family, identity link)."""
    nb_theta: float | None
    """The negative binomial's estimated theta (``getME(fit, "glmer.nb.theta")``);
    None for other families."""

    _INFO_HELPER: ClassVar[str] = "pylme4_glmer_info"

    @classmethod
    def _own_fields(cls, info: Mapping[str, Any]) -> dict[str, Any]:
        nagq, theta = info["nagq"], info["nb_theta"]
        return {
            "family": str(info["family"]),
            "link": str(info["link"]),
            "nagq": None if nagq is None else int(nagq),
            "nb_theta": None if theta is None else float(theta),
        }

    def brief(self) -> str:
        return (
            f"<GlmerFit {self.formula} | family={self.family} ({self.link}), "
            f"data={self.data_name}, nobs={self.nobs}, logLik {self.loglik:.4f}>"
        )

    @property
    def deviance(self) -> float:
        """``deviance(fit)``: for a GLMM, lme4's conditional deviance (the sum of
        the squared deviance residuals), which is *not* the "deviance"
        column of ``summary()`` (that one is -2 logLik)."""
        return Scalar(self._stats["deviance"], "deviance")

    def residuals(self, type: ResidualType = "deviance", scaled: bool = False) -> pd.Series:
        """Residuals (``residuals(fit, type, scaled)``), indexed like ``fitted()``.

        The default type is lme4's default for GLMMs, ``"deviance"``; also
        ``"pearson"``, ``"response"`` and ``"working"``.
        """
        return super().residuals(type=type, scaled=scaled)

    def summary(self) -> GlmerSummary:
        """``summary(fit)``: Wald z tests of the fixed effects, as lme4 prints them."""

        def compute() -> GlmerSummary:
            outcome = r_call("pylme4_glmer_summary", self._handle, doing="computing summary()")
            emit(outcome.conditions)
            return GlmerSummary._from_r(outcome.value)

        return self._cached("summary", compute)


def _named_numbers(values: Any) -> pd.Series:
    """A named R vector as a float Series (an empty one comes back unnamed)."""
    if isinstance(values, pd.Series):
        return values.astype(float)
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index([], dtype=object))


def _by_row(values: Any, index: pd.Index, name: str, fallback: Any) -> pd.Series:
    """R's values for rows of a data frame as a Series indexed like that frame.

    R names each value by its row of the frame R was given (automatic row
    names: position + 1); rows that R's na.action dropped have no value.
    """
    if isinstance(values, pd.Series):
        positions = np.asarray(values.index, dtype=np.int64) - 1
        return pd.Series(values.to_numpy(dtype=float), index=index[positions], name=name)
    arr = np.asarray(values, dtype=float)
    return pd.Series(arr, index=fallback(len(arr)), name=name)


def _restore_fit(
    cls: type[MerFit],
    payload: bytes,
    messages: tuple[RCondition, ...],
    index: pd.Index,
    variables: tuple[str, ...],
) -> MerFit:
    return cls._from_r(unserialize(payload), messages, index, variables)


# ---------------------------------------------------------------------------
# Nonlinear mixed models (lme4's nlmer)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NlmerSummary(formatting.RPrinted):
    """``summary()`` of a nonlinear mixed model (lme4's ``nlmer()``).

    ``str(summary)`` is exactly R's ``print(summary(fit))``.
    """

    title: str
    """lme4's method title: "Nonlinear mixed model fit by maximum likelihood"."""
    object_class: str
    formula: str
    data_name: str
    fit_statistics: pd.Series
    """R's table: AIC, BIC, logLik, deviance and df.resid."""
    scaled_residuals: pd.Series
    random_effects: pd.DataFrame
    """One row per variance component (Groups, Name, Variance, Std.Dev., and
    Corr columns for correlated terms), then the Residual row."""
    nobs: int
    ngroups: Mapping[str, int]
    fixed_effects: pd.DataFrame
    """R's coefficient table: Estimate, Std. Error, t value (no p-values:
    lme4 gives none)."""
    correlation: pd.DataFrame | None
    """Correlation of the fixed-effect estimates."""
    optimizer_messages: tuple[str, ...]
    text: str = field(repr=False)
    """R's printed summary."""

    @classmethod
    def _from_r(cls, parts: dict[str, Any]) -> NlmerSummary:
        return cls(fit_statistics=parts["aictab"], **_summary_fields(parts))


def _not_for_nlmer(name: str, why: str) -> Any:
    """A method of :class:`MerFit` that lme4 1.1-31 cannot compute for an
    nlmerMod: it raises an ArgumentError saying so, before R fails with an
    unrelated message (or, for predict(re.form = NA), returns wrong values)."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ArgumentError(f"{name}() is not available for nlmer fits: {why}")

    method.__name__ = name
    method.__qualname__ = f"NlmerFit.{name}"
    method.__doc__ = f"Not available for nlmer fits: {why}."
    return method


# What lme4 1.1-31 cannot do with an nlmerMod: these rebuild the model matrix
# of the random effects from the formula (model.matrix stops with "model
# frame and formula mismatch"), simulate (bootMer), refit with every
# optimizer (allFit fails with each), or use a linear model's hat matrix.
_NO_SIMULATE = (
    "lme4 1.1-31's simulate() cannot rebuild a nonlinear model's random-effects "
    'design (R stops with "model frame and formula mismatch in model.matrix()")'
)
_NLMER_GET_ME_MISSING = ("mmList", "p_i", "q_i", "m_i")


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class NlmerFit(MerFit):
    """A nonlinear mixed model fitted by lme4's ``nlmer()``.

    Fitted by maximum likelihood; besides :class:`MerFit`'s accessors,
    ``nagq`` and ``summary()``.  What lme4 1.1-31 cannot compute for a
    nonlinear model raises :class:`~pylme4.errors.ArgumentError`:
    ``simulate()``, ``boot_mer()``, ``confint(method="boot")``,
    ``hatvalues()``, ``all_fit()`` and ``check_convergence()``,
    ``predict()`` with ``newdata``, ``re_form``, ``random_only`` or ``newparams``,
    ``influence()``, ``emmeans()``, ``emtrends()``, ``wald_anova()``,
    ``model_matrix("randomListRaw")`` and ``get_me()`` of ``mmList``,
    ``p_i``, ``q_i``, ``m_i``.
    """

    nagq: int
    """0 or 1: lme4's nlmer optimises theta alone (0) or theta and the fixed
    effects together (1, the default; more points are not implemented)."""

    _INFO_HELPER: ClassVar[str] = "pylme4_nlmer_info"

    @classmethod
    def _own_fields(cls, info: Mapping[str, Any]) -> dict[str, Any]:
        return {"nagq": int(info["nagq"])}

    def summary(self) -> NlmerSummary:
        """``summary(fit)``: the t values of the fixed effects, as lme4 prints them.

        lme4 warns when the finite-difference Hessian is not positive
        definite and falls back to the covariance from RX (as it often does
        for nlmer fits); the warning is raised as an RWarning.
        """

        def compute() -> NlmerSummary:
            outcome = r_call("pylme4_lmer_summary", self._handle, doing="computing summary()")
            emit(outcome.conditions)
            return NlmerSummary._from_r(outcome.value)

        return self._cached("summary", compute)

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        re_form: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> pd.Series:
        """Predictions for the data the model was fitted to: lme4's
        ``predict(fit)``, the same as ``fitted()``; the other arguments are
        :meth:`MerFit.predict`'s.

        lme4 1.1-31 cannot predict a nonlinear model for ``newdata`` (it
        stops with "object 'Asym' not found") and returns values of the wrong
        length for ``re_form``; both raise ArgumentError here.
        """
        if newdata is not None:
            raise ArgumentError(
                "newdata is not available for nlmer fits: lme4 1.1-31 cannot evaluate a "
                "nonlinear model on new data; predict() gives the fitted values only"
            )
        if re_form is not None:
            raise ArgumentError(
                "re_form is not available for nlmer fits: lme4 1.1-31's predict() returns "
                "one value per parameter and row instead of population-level predictions"
            )
        if kwargs.get("random_only") or kwargs.get("newparams") is not None:
            raise ArgumentError(
                "random_only and newparams are not available for nlmer fits: lme4 1.1-31 "
                "rebuilds the random-effects design from the formula for them, which it "
                "cannot do for a nonlinear model (R stops with \"object 'Asym' not found\")"
            )
        return super().predict(None, None, *args, **kwargs)

    def get_me(self, name: GetMeName) -> Any:
        """lme4's ``getME(fit, name)`` (see :func:`pylme4.insides.get_me`);
        ``mmList``, ``p_i``, ``q_i`` and ``m_i`` are not available for nlmer fits."""
        if name in _NLMER_GET_ME_MISSING:
            raise ArgumentError(
                f"get_me({name!r}) is not available for nlmer fits: lme4 1.1-31 computes it "
                "from the random-effects model matrices, which it cannot rebuild for a "
                "nonlinear model"
            )
        return super().get_me(name)

    def model_matrix(self, type: ModelMatrixType = "fixed") -> Any:
        """lme4's ``model.matrix(fit, type)`` (see :func:`pylme4.insides.model_matrix`);
        ``"randomListRaw"`` is not available for nlmer fits."""
        if type == "randomListRaw":
            raise ArgumentError(
                "model_matrix(type='randomListRaw') is not available for nlmer fits: "
                "lme4 1.1-31 cannot rebuild a nonlinear model's raw random-effects matrices"
            )
        return super().model_matrix(type)

    def confint(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """lme4's ``confint()`` (see :func:`pylme4.inference.confint`):
        ``method="profile"`` or ``"Wald"``; ``"boot"`` is not available for
        nlmer fits (bootMer simulates)."""
        bound = inspect.signature(MerFit.confint).bind(self, *args, **kwargs)
        method = bound.arguments.get("method", "profile")
        if method == "boot":
            raise ArgumentError(
                f"confint(method='boot') is not available for nlmer fits: {_NO_SIMULATE}"
            )
        return super().confint(*args, **kwargs)

    simulate = _not_for_nlmer("simulate", _NO_SIMULATE)
    boot_mer = _not_for_nlmer("boot_mer", f"bootMer() simulates: {_NO_SIMULATE}")
    hatvalues = _not_for_nlmer(
        "hatvalues",
        "lme4 1.1-31's hatvalues() multiplies matrices of a linear model whose sizes "
        "do not match a nonlinear model's",
    )
    influence = _not_for_nlmer(
        "influence",
        "lme4 1.1-31's influence() refits with start values an nlmer fit cannot take "
        '(R stops with "is.numeric(nlpars <- start$nlpars) is not TRUE")',
    )
    emmeans = _not_for_nlmer(
        "emmeans", 'emmeans has no support for nlmerMod (R: "no terms component nor attribute")'
    )
    emtrends = _not_for_nlmer(
        "emtrends", 'emmeans has no support for nlmerMod (R: "no terms component nor attribute")'
    )
    wald_anova = _not_for_nlmer(
        "wald_anova",
        "car::Anova() has no method for nlmerMod (R: \"invalid subscript type 'list'\")",
    )
    all_fit = _not_for_nlmer(
        "all_fit", "lme4 1.1-31's allFit() fails with every optimizer on a nonlinear model"
    )
    check_convergence = _not_for_nlmer(
        "check_convergence", "it compares allFit() refits, which fail on a nonlinear model"
    )

    def brief(self) -> str:
        return (
            f"<NlmerFit {self.formula} | data={self.data_name}, nobs={self.nobs}, "
            f"logLik {self.loglik:.4f}>"
        )
