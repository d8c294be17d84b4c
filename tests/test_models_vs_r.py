"""pylme4.glm() and pylme4.anova() with lm()/glm() fits, against R."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import R_OUT, SAME, assert_same_series, r

import pylme4
from pylme4 import datasets
from pylme4.errors import ArgumentError, ArgumentTypeError, FormulaError, RMessage

CBPP_GLM = "cbind(incidence, size - incidence) ~ period"


@pytest.fixture(scope="module")
def sleepstudy() -> pd.DataFrame:
    return datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def cbpp() -> pd.DataFrame:
    return datasets.load("cbpp")


def _glm_reference(call: str, setup: str = "") -> dict:
    return r(
        setup
        + R_OUT
        + f"""
        m <- {call}
        s <- summary(m)
        ll <- logLik(m)
        list(coef = coef(m), vcov = vcov(m), deviance = deviance(m), aic = AIC(m),
             loglik = as.numeric(ll), loglik_df = attr(ll, "df"), nobs = nobs(m),
             sigma = sigma(m), null = m$null.deviance, df_residual = df.residual(m),
             fitted = unname(fitted(m)), resid = unname(residuals(m)),
             predict = unname(predict(m)), table = as.data.frame(s$coefficients),
             dispersion = s$dispersion, iter = s$iter,
             print = out(m), summary = out(s))
        """
    )


def _assert_glm_matches(fit: pylme4.GlmFit, ref: dict) -> None:
    assert_same_series(fit.coef(), ref["coef"])
    assert list(fit.coef().index) == list(ref["coef"].index)
    np.testing.assert_allclose(fit.vcov().to_numpy(), ref["vcov"].to_numpy(), **SAME)
    for name in ("deviance", "aic", "loglik", "sigma"):
        np.testing.assert_allclose(getattr(fit, name), ref[name], **SAME)
    np.testing.assert_allclose(fit.null_deviance, ref["null"], **SAME)
    assert fit.loglik_df == ref["loglik_df"]
    assert fit.nobs == ref["nobs"] and fit.df_residual == ref["df_residual"]
    assert_same_series(fit.fitted(), ref["fitted"])
    assert_same_series(fit.residuals(), ref["resid"])
    assert_same_series(fit.predict(), ref["predict"])
    summary = fit.summary()
    np.testing.assert_allclose(summary.coefficients.to_numpy(), ref["table"].to_numpy(), **SAME)
    np.testing.assert_allclose(summary.dispersion, ref["dispersion"], **SAME)
    assert summary.iterations == ref["iter"]
    assert str(fit) == ref["print"]
    assert str(summary) == ref["summary"]


def test_glm_binomial_matches_r(cbpp):
    fit = pylme4.glm(CBPP_GLM, cbpp, family="binomial", data_name="cbpp")
    assert isinstance(fit, pylme4.GlmFit)
    assert (fit.family, fit.link, fit.converged) == ("binomial", "logit", True)
    _assert_glm_matches(fit, _glm_reference(f"glm({CBPP_GLM}, family = binomial, data = cbpp)"))


def test_glm_gaussian_default_family_matches_r(sleepstudy):
    fit = pylme4.glm("Reaction ~ Days", sleepstudy, data_name="sleepstudy")
    _assert_glm_matches(fit, _glm_reference("glm(Reaction ~ Days, data = sleepstudy)"))


def test_glm_poisson_with_link_na_rows_weights_offset_matches_r(cbpp):
    data = cbpp.copy()
    data.loc[[2, 7], "incidence"] = np.nan
    data["w"] = np.tile([1.0, 2.0, 0.5, 1.5], 14)
    data["lsize"] = np.log(data["size"])
    setup = (
        "d <- cbpp; d$incidence[c(3, 8)] <- NA; d$w <- rep(c(1, 2, 0.5, 1.5), 14);"
        " d$lsize <- log(d$size)\n"
    )
    fit = pylme4.glm(
        "incidence ~ period",
        data,
        family=pylme4.Family("poisson", "log"),
        data_name="d",
        weights="w",
        offset="lsize",
    )
    ref = _glm_reference(
        'glm(incidence ~ period, family = poisson(link = "log"), data = d, '
        "weights = w, offset = lsize)",
        setup,
    )
    _assert_glm_matches(fit, ref)
    assert list(fit.fitted().index) == [i for i in data.index if i not in (2, 7)]


def test_glm_pickles(cbpp):
    fit = pylme4.glm(CBPP_GLM, cbpp, family="binomial", data_name="cbpp")
    back = pickle.loads(pickle.dumps(fit))
    assert isinstance(back, pylme4.GlmFit)
    assert str(back) == str(fit)
    assert back.deviance == fit.deviance


def test_glm_bad_input(cbpp):
    with pytest.raises(FormulaError, match="glmer"):
        pylme4.glm("incidence ~ period + (1 | herd)", cbpp, family="poisson")
    with pytest.raises(ArgumentError, match="family"):
        pylme4.glm("incidence ~ period", cbpp, family="binomal")


# -- anova between a mixed model and lm()/glm() fits --------------------------


def _anova_reference(setup: str, call: str = "anova(model1, model2)") -> dict:
    return r(
        setup + f"a <- suppressMessages({call})\n"
        "list(table = as.data.frame(a, check.names = FALSE), rows = rownames(a),"
        " text = paste(capture.output(print(a)), collapse = '\\n'))"
    )


def _assert_anova_matches(got, ref) -> None:
    assert str(got) == ref["text"]
    assert list(got.table.index) == list(ref["rows"])
    np.testing.assert_allclose(
        got.table.to_numpy(dtype=float), ref["table"].to_numpy(dtype=float), **SAME
    )


def test_anova_lmer_against_lm_matches_r(sleepstudy):
    m = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy, data_name="sleepstudy")
    with pytest.warns(RMessage, match="refitting model"):
        got = pylme4.anova(m, pylme4.lm("Reaction ~ Days", sleepstudy, data_name="sleepstudy"))
    # the fit bound to a name gets it, the expression its position's name
    ref = _anova_reference(
        "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "model2 <- lm(Reaction ~ Days, data = sleepstudy)\n",
        "anova(m, model2)",
    )
    _assert_anova_matches(got, ref)
    assert list(got.table.index) == ["model2", "m"]
    assert round(got.table["Chisq"].iloc[1], 2) == 148.35 and got.table["Df"].iloc[1] == 3


def test_anova_glmer_against_glm_matches_r(cbpp):
    m = pylme4.glmer(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        cbpp,
        family="binomial",
        data_name="cbpp",
    )
    g = pylme4.glm(CBPP_GLM, cbpp, family="binomial", data_name="cbpp")
    got = pylme4.anova(full=m, pooled=g)
    ref = r(
        "full <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),"
        " family = binomial, data = cbpp)\n"
        f"pooled <- glm({CBPP_GLM}, family = binomial, data = cbpp)\n"
        "a <- anova(full, pooled)\n"
        "list(table = as.data.frame(a, check.names = FALSE), rows = rownames(a),"
        " text = paste(capture.output(print(a)), collapse = '\\n'))"
    )
    _assert_anova_matches(got, ref)


def test_anova_needs_a_mixed_model_first(sleepstudy):
    m = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleepstudy, data_name="sleepstudy")
    linear = pylme4.lm("Reaction ~ Days", sleepstudy, data_name="sleepstudy")
    with pytest.raises(ArgumentError, match="mixed model .* first"):
        pylme4.anova(linear, m)
    with pytest.raises(ArgumentTypeError, match="model2 is a str"):
        pylme4.anova(m, "Reaction ~ Days")
