"""The fixed sets of values pylme4's arguments take: one home for each list.

Each set is a ``Literal`` type, which the signatures use (so type checkers
and editors know the values), and a tuple derived from it with
``typing.get_args``, which the checks use (``value not in DDF_VALUES`` ->
``errors.choice_error``) and the pipeline's spec validation can use too.  A
new value is added in one place: the ``Literal`` here.

The order of each tuple is the order of the ``Literal``: the first value is
the default where the argument has one, and "did you mean" lists them in
that order.
"""

from __future__ import annotations

from typing import Literal, get_args

#: lmerTest's denominator degrees of freedom (summary, tidy, contest).
Ddf = Literal["Satterthwaite", "Kenward-Roger"]
DDF_VALUES: tuple[Ddf, ...] = get_args(Ddf)

#: ddf for lmerTest's anova(), which also takes lme4's own (no tests).
AnovaDdf = Literal["Satterthwaite", "Kenward-Roger", "lme4"]
ANOVA_DDF_VALUES: tuple[AnovaDdf, ...] = get_args(AnovaDdf)

#: anova() types: R takes 1/2/3 or "I"/"II"/"III"; each maps to what R is given.
AnovaType = Literal[1, 2, 3, "1", "2", "3", "I", "II", "III"]
ANOVA_TYPES: dict[int | str, str] = {t: str(t) for t in get_args(AnovaType)}

#: Residual types of residuals(fit, type=).
ResidualType = Literal["response", "pearson", "working", "deviance"]
RESIDUAL_TYPES: tuple[ResidualType, ...] = get_args(ResidualType)

#: predict(type=): the linear predictor or the response scale.
PredictType = Literal["link", "response"]
PREDICT_TYPES: tuple[PredictType, ...] = get_args(PredictType)

#: predict(na_action=), as R's na.* function names.
PredictNaAction = Literal["pass", "omit", "exclude", "fail"]
PREDICT_NA_ACTIONS: dict[PredictNaAction, str] = {a: f"na.{a}" for a in get_args(PredictNaAction)}

#: What a model does with rows that have missing values (lmer's na.action);
#: None: R's default, na.omit.
NaAction = Literal["omit", "exclude", "fail"]
NA_ACTIONS: dict[NaAction, str | None] = {"omit": None, "exclude": "na.exclude", "fail": "na.fail"}

#: Methods of confint() for a fitted lmer model.
ConfintMethod = Literal["profile", "Wald", "boot"]
CONFINT_METHODS: tuple[ConfintMethod, ...] = get_args(ConfintMethod)

#: profile(prof.scale =): profile standard deviations and correlations, or
#: variances and covariances.
ProfScale = Literal["sdcor", "varcov"]
PROF_SCALES: tuple[ProfScale, ...] = get_args(ProfScale)

#: Alternative hypotheses of a one-sided (or two-sided) test.
Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES: tuple[Alternative, ...] = get_args(Alternative)

#: What a bootstrap replicate records (boot_mer's named statistics).
BootStatistic = Literal["fixef", "sigma", "var_corr", "theta"]
BOOT_STATISTICS: tuple[BootStatistic, ...] = get_args(BootStatistic)

#: bootMer's type: parametric or semiparametric.
BootType = Literal["parametric", "semiparametric"]
BOOT_TYPES: tuple[BootType, ...] = get_args(BootType)

#: R's sample.kind for the lecture data sets' set.seed().
SampleKind = Literal["Rounding", "Rejection"]
SAMPLE_KINDS: tuple[SampleKind, ...] = get_args(SampleKind)

#: Bootstrap confidence-interval types (boot.ci's "perc", "basic", "norm").
CIType = Literal["perc", "basic", "norm"]
CI_TYPES: tuple[CIType, ...] = get_args(CIType)

#: The components of a fitted merMod that lme4's getME() returns and that are
#: values (getME's "devfun" is a function and "ALL" a list of all of these).
GetMeName = Literal[
    "X", "Z", "Zt", "Ztlist", "mmList", "y", "mu", "u", "b", "Gp", "Tp", "L",
    "Lambda", "Lambdat", "Lind", "Tlist", "A", "RX", "RZX", "sigma", "flist",
    "fixef", "beta", "theta", "ST", "REML", "is_REML", "n_rtrms", "n_rfacs",
    "N", "n", "p", "q", "p_i", "l_i", "q_i", "k", "m_i", "m", "cnms",
    "devcomp", "offset", "lower", "glmer.nb.theta",
]  # fmt: skip
GET_ME_NAMES: tuple[GetMeName, ...] = get_args(GetMeName)

#: model.matrix(fit, type = ...) of a fitted merMod.
ModelMatrixType = Literal["fixed", "random", "randomListRaw"]
MODEL_MATRIX_TYPES: tuple[ModelMatrixType, ...] = get_args(ModelMatrixType)

#: power(method=): the test applied to every simulated data set.
PowerMethod = Literal["satterthwaite", "kenward-roger", "lrt", "wald"]
POWER_METHODS: tuple[PowerMethod, ...] = get_args(PowerMethod)

#: The parameters lme4's setParams() takes (predict's and simulate's
#: newparams): fixed effects, the relative covariance factors, the residual
#: standard deviation (models with a scale parameter only).
NewParam = Literal["beta", "theta", "sigma"]
NEWPARAMS_NAMES: tuple[NewParam, ...] = get_args(NewParam)

#: influence(fit, which =) of dfbeta(): fixed effects or variance components.
DfbetaWhich = Literal["fixed", "var.cov"]
DFBETA_WHICH: tuple[DfbetaWhich, ...] = get_args(DfbetaWhich)

#: emmeans' lmer.df: the degrees of freedom of an lmer fit's marginal means
#: and contrasts (the first is emmeans' default when pbkrtest is installed).
LmerDf = Literal["kenward-roger", "satterthwaite", "asymptotic"]
LMER_DF_VALUES: tuple[LmerDf, ...] = get_args(LmerDf)

#: emmeans' type: the scale of the estimates (the link, or back-transformed).
EmmType = Literal["link", "response", "unlink"]
EMM_TYPES: tuple[EmmType, ...] = get_args(EmmType)

#: emmeans' weights: how the grid's cells are averaged over the other factors.
EmmWeights = Literal["equal", "proportional", "outer", "cells", "flat"]
EMM_WEIGHTS: tuple[EmmWeights, ...] = get_args(EmmWeights)

#: emmeans' named contrast families (its *.emmc functions); "eff" is
#: contrast()'s default.
ContrastMethod = Literal[
    "eff", "pairwise", "revpairwise", "tukey", "trt.vs.ctrl", "trt.vs.ctrl1",
    "trt.vs.ctrlk", "dunnett", "poly", "consec", "del.eff", "mean_chg", "identity",
]  # fmt: skip
CONTRAST_METHODS: tuple[ContrastMethod, ...] = get_args(ContrastMethod)

#: emmeans' P-value (and confidence-level) adjustments: its own and R's
#: p.adjust() methods.  "mvt" draws random numbers (mvtnorm).
EmmAdjust = Literal[
    "tukey", "holm", "bonferroni", "none", "sidak", "scheffe", "dunnettx", "mvt",
    "hochberg", "hommel", "BH", "BY", "fdr",
]  # fmt: skip
EMM_ADJUSTS: tuple[EmmAdjust, ...] = get_args(EmmAdjust)

#: car::Anova's types of Wald tests: R takes 2/3 or "II"/"III".
WaldType = Literal[2, 3, "2", "3", "II", "III"]
WALD_TYPES: dict[int | str, str] = {
    t: "II" if str(t) in ("2", "II") else "III" for t in get_args(WaldType)
}

#: car::Anova's test.statistic for mixed models (F: lmer fits, Kenward-Roger df).
WaldTest = Literal["Chisq", "F"]
WALD_TESTS: tuple[WaldTest, ...] = get_args(WaldTest)

#: broom.mixed's tidy(effects = ...): which rows a tidy table has.
TidyEffect = Literal["fixed", "ran_pars", "ran_vals", "ran_coefs"]
TIDY_EFFECTS: tuple[TidyEffect, ...] = get_args(TidyEffect)

#: broom.mixed's tidy(conf.method = ...): how its intervals are computed.
TidyConfMethod = Literal["Wald", "profile", "boot"]
TIDY_CONF_METHODS: tuple[TidyConfMethod, ...] = get_args(TidyConfMethod)
