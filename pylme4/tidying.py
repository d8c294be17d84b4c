"""Tidy tables of a fitted mixed model: broom.mixed's ``tidy()``, ``glance()``
and ``augment()``, computed in R by broom.mixed itself.

Offered as ``fit.tidy()``, ``fit.glance()`` and ``fit.augment()`` by
:class:`pylme4.LmerFit` and :class:`pylme4.GlmerFit`.  The tables are
broom.mixed's, column for column, with tidy's and glance's dotted names in
snake_case (``std.error`` -> ``std_error``, ``p.value`` -> ``p_value``,
``conf.low`` -> ``conf_low``, ``df.residual`` -> ``df_residual``);
augment's columns keep R's names (``.fitted``, ``.resid``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import checks
from ._r import session
from ._r.call import r_call
from .errors import ArgumentError, ArgumentTypeError, choice_error, emit
from .fitbase import MerFitLike
from .options import (
    CI_TYPES,
    DDF_VALUES,
    TIDY_CONF_METHODS,
    TIDY_EFFECTS,
    CIType,
    Ddf,
    TidyConfMethod,
    TidyEffect,
)


def _snake(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns=lambda c: str(c).replace(".", "_"))


def _effects(effects: Any) -> list[str]:
    chosen = [effects] if isinstance(effects, str) else effects
    if not isinstance(chosen, Sequence) or not chosen:
        raise ArgumentTypeError(
            f"effects must be one of {TIDY_EFFECTS} or a sequence of them, not {effects!r}"
        )
    for effect in chosen:
        if effect not in TIDY_EFFECTS:
            raise choice_error("effects", effect, TIDY_EFFECTS)
    return list(chosen)


def _lmertest_version(fit: MerFitLike, ddf: Ddf | None) -> Any:
    """lmerTest's version of an lmer fit for ``ddf`` (None without ``ddf``),
    with ``ddf`` checked: it applies to linear mixed models only."""
    if ddf is None:
        return None
    if ddf not in DDF_VALUES:
        raise choice_error("ddf", ddf, (None, *DDF_VALUES))
    handle = getattr(fit, "lmertest_handle", None)
    if handle is None:
        raise ArgumentError(
            "ddf applies to linear mixed models (lmer) only: a glmer fit's tests are Wald z tests"
        )
    if ddf == "Kenward-Roger":
        session.require_namespace("pbkrtest")
    return handle()


def tidy(
    fit: MerFitLike,
    effects: TidyEffect | Sequence[TidyEffect] = ("fixed", "ran_pars"),
    conf_int: bool = False,
    conf_level: float = 0.95,
    conf_method: TidyConfMethod = "Wald",
    ddf: Ddf | None = None,
    nsim: int = 500,
    seed: int | None = None,
    boot_type: CIType = "perc",
    exponentiate: bool = False,
) -> pd.DataFrame:
    """Estimates as a table: ``broom.mixed::tidy(fit, effects, conf.int, conf.level, conf.method)``.

    Parameters
    ----------
    effects
        Which rows: ``"fixed"`` (the fixed effects), ``"ran_pars"`` (the
        random-effect standard deviations ``sd__term``, correlations
        ``cor__a.b`` and, for lmer, the residual ``sd__Observation``),
        ``"ran_vals"`` (the conditional modes) and ``"ran_coefs"`` (per-group
        coefficients), one or a sequence; the table lists them in
        broom.mixed's order (fixed, ran_pars, ran_vals, ran_coefs).
    conf_int, conf_level, conf_method
        Add ``conf_low`` / ``conf_high`` from ``confint(fit, method =
        conf_method, level = conf_level)``: ``"Wald"`` (fixed effects only;
        NaN for the variance parameters, as in R), ``"profile"`` (likelihood
        profile; slow) or ``"boot"`` (parametric bootstrap, ``nsim``
        replicates from ``seed``, interval type ``boot_type``; broom.mixed
        bootstraps once for the fixed effects and once for the variance
        parameters).
    ddf
        ``"Satterthwaite"`` or ``"Kenward-Roger"`` (lmer fits only): tidy
        lmerTest's version of the fit, so the fixed effects get lmerTest's
        ``df`` and ``p_value`` and Wald intervals use the t distribution
        with those df.  Without it an lmer table has no df or p-value
        columns (lme4 gives none); a glmer table has the Wald z p-values.
    exponentiate
        broom.mixed's ``exponentiate = TRUE``: the fixed effects' estimates
        and intervals as exp() (odds ratios for a logit link, rate ratios
        for a log link), their standard errors by the delta method.

    Returns
    -------
    DataFrame
        broom.mixed's columns (effect, group, term, estimate, std_error,
        statistic, df, p_value, conf_low, conf_high, as they apply), one row
        per parameter; ``group`` is NaN for fixed effects.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> list(fit.tidy()["term"])
    ['(Intercept)', 'Days', 'sd__(Intercept)', 'cor__(Intercept).Days', 'sd__Days', 'sd__Observation']
    """
    chosen = _effects(effects)
    for name, flag in (("conf_int", conf_int), ("exponentiate", exponentiate)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ArgumentTypeError(f"{name} must be True or False, not {flag!r}")
    level = checks.level(conf_level)
    if conf_method not in TIDY_CONF_METHODS:
        raise choice_error("conf_method", conf_method, TIDY_CONF_METHODS)
    if ddf is not None and conf_int and conf_method != "Wald":
        # broom.mixed would warn "ddf.method ignored" and still give the fixed
        # effects t-based Wald intervals labelled as conf_method's.
        raise ArgumentError(
            f"ddf applies to Wald intervals only: with conf_method={conf_method!r} leave ddf=None "
            "(broom.mixed would give the fixed effects Wald intervals instead)"
        )
    if conf_int and conf_method != "Wald" and "ran_vals" in chosen:
        raise ArgumentError(
            f"conf_method={conf_method!r} has no intervals for the conditional modes "
            "(effects 'ran_vals'): broom.mixed gives them Wald intervals only"
        )
    extra: dict[str, Any] = {}
    if conf_int and conf_method == "boot":
        if boot_type not in CI_TYPES:
            raise choice_error("boot_type", boot_type, CI_TYPES)
        extra = {"nsim": checks.replicates(nsim), "boot.type": boot_type}
        chosen_seed = checks.seed(seed)
        if chosen_seed is not None:
            extra["seed"] = chosen_seed
    lt = _lmertest_version(fit, ddf)
    session.require_namespace("broom.mixed")
    outcome = r_call(
        "pylme4_tidy",
        fit.r_handle,
        lt,
        chosen,
        bool(conf_int),
        level,
        conf_method,
        ddf,
        bool(exponentiate),
        extra,
        doing="computing tidy()",
    )
    emit(outcome.conditions)
    return _snake(outcome.value)


def glance(fit: MerFitLike) -> pd.DataFrame:
    """One row of model statistics: ``broom.mixed::glance(fit)``.

    Columns nobs, sigma, logLik, AIC, BIC, then REMLcrit (REML fits) or
    deviance (ML fits and glmer), and df_residual (R's ``df.residual``).
    """
    session.require_namespace("broom.mixed")
    outcome = r_call("pylme4_glance", fit.r_handle, doing="computing glance()")
    emit(outcome.conditions)
    return _snake(outcome.value)


def augment(fit: MerFitLike) -> pd.DataFrame:
    """The model frame with fitted values and residuals: ``broom.mixed::augment(fit)``.

    The columns of ``model.frame(fit)`` (a two-column binomial response split
    into ``cbind(...).incidence`` and ``cbind(...).V2``), then broom.mixed's
    ``.fitted``, ``.resid``, ``.hat``, ``.cooksd``, ``.fixed``, ``.mu``,
    ``.offset``, ``.sqrtXwt``, ``.sqrtrwt``, ``.weights``, ``.wtres`` (and
    ``.eta`` for glmer), named as R names them; one row per row the fit used,
    indexed like the data.  (For a glmer, R warns that the hat matrix may
    not make sense for GLMMs; the warning is raised as R gives it.)
    """
    session.require_namespace("broom.mixed")
    outcome = r_call("pylme4_augment", fit.r_handle, doing="computing augment()")
    emit(outcome.conditions)
    frame: pd.DataFrame = outcome.value
    return frame.set_axis(fit.row_index(len(frame)), axis=0)
