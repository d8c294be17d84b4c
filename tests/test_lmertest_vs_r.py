"""fit.summary(ddf=...) against summary(lmerTest::lmer(...), ddf=...) in R."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAME, assert_same_table, r

import pylme4

CASES = [
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {}),
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", {"reml": False}),
    ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),
    ("cake", "angle ~ recipe + temp + (1 | recipe:replicate)", {}),
]


def _r_call(name: str, formula: str, kwargs: dict) -> str:
    reml = ", REML = FALSE" if kwargs.get("reml") is False else ""
    return f"lmerTest::lmer({formula}, data = {name}{reml})"


@pytest.mark.parametrize("ddf", ["Satterthwaite", "Kenward-Roger"])
@pytest.mark.parametrize(
    "name, formula, kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_lmertest_summary_equals_r(name, formula, kwargs, ddf):
    if ddf == "Kenward-Roger" and kwargs.get("reml") is False:
        pytest.skip("Kenward-Roger is defined for REML fits only")
    fit = pylme4.lmer(formula, pylme4.datasets.load(name), data_name=name, **kwargs)
    ref = r(
        f"m <- {_r_call(name, formula, kwargs)}\n"
        f's <- summary(m, ddf = "{ddf}")\n'
        "list(text = paste(capture.output(print(s)), collapse = '\\n'),"
        " coef = as.data.frame(coef(s), check.names = FALSE))"
    )
    summary = fit.summary(ddf=ddf)
    assert str(summary) == ref["text"]
    assert list(summary.fixed_effects.columns) == list(ref["coef"].columns)
    assert "df" in summary.fixed_effects.columns and "Pr(>|t|)" in summary.fixed_effects.columns
    np.testing.assert_allclose(summary.fixed_effects.to_numpy(), ref["coef"].to_numpy(), **SAME)
    assert summary.ddf == ddf


def test_lmer_summary_fields_match_r():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    s = fit.summary()
    ref = r(
        "s <- summary(lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy))\n"
        "vc <- as.data.frame(s$varcor)\n"
        "list(aic = s$AICtab, resid = quantile(s$residuals), vc = vc,"
        " corr = as.matrix(cov2cor(s$vcov)), title = s$methTitle)"
    )
    assert s.title == ref["title"] == "Linear mixed model fit by REML"
    assert s.object_class == "lmerMod"
    assert s.formula == "Reaction ~ Days + (Days | Subject)"
    assert s.data_name == "sleepstudy"
    np.testing.assert_allclose(s.reml_criterion, ref["aic"]["REML"], **SAME)
    assert s.fit_statistics is None
    assert list(s.scaled_residuals.index) == ["Min", "1Q", "Median", "3Q", "Max"]
    np.testing.assert_allclose(s.scaled_residuals.to_numpy(), ref["resid"].to_numpy(), **SAME)
    table = s.random_effects
    assert list(table.columns) == ["Groups", "Name", "Variance", "Std.Dev.", "Corr"]
    assert list(table["Name"]) == ["(Intercept)", "Days", ""]
    vc = ref["vc"]
    np.testing.assert_allclose(table["Variance"], vc["vcov"][vc["var2"].isna()], **SAME)
    np.testing.assert_allclose(table["Corr"][1], vc["sdcor"][vc["var2"].notna()].iloc[0], **SAME)
    assert np.isnan(table["Corr"][0]) and np.isnan(table["Corr"][2])
    np.testing.assert_allclose(s.correlation.to_numpy(), ref["corr"].to_numpy(), **SAME)
    assert dict(s.ngroups) == {"Subject": 18} and s.nobs == 180


def test_ml_summary_has_fit_statistics():
    sleep = pylme4.datasets.load("sleepstudy")
    s = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, reml=False).summary()
    ref = r(
        "summary(lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy, REML = FALSE))$AICtab"
    )
    assert s.reml_criterion is None
    assert list(s.fit_statistics.index) == ["AIC", "BIC", "logLik", "deviance", "df.resid"]
    np.testing.assert_allclose(s.fit_statistics.to_numpy(), ref.to_numpy(), **SAME)


def test_three_term_block_correlations_in_lower_triangle():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer(
        "Reaction ~ Days + (Days + I(Days^2) | Subject)", sleep, control={"optimizer": "bobyqa"}
    )
    table = fit.summary().random_effects
    vc = fit.var_corr()
    cor = {(a, b): v for a, b, v in zip(vc["var1"], vc["var2"], vc["sdcor"]) if isinstance(b, str)}
    assert list(table.columns[-2:]) == ["Corr", "Corr.2"]
    assert table.loc[1, "Corr"] == cor[("(Intercept)", "Days")]
    assert table.loc[2, "Corr"] == cor[("(Intercept)", "I(Days^2)")]
    assert table.loc[2, "Corr.2"] == cor[("Days", "I(Days^2)")]


def test_tidy_matches_lmertest_numbers():
    """tidy(ddf=) is broom.mixed's tidy() of lmerTest's fit: lmerTest's df and p-values."""
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    ref = r(
        "m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "list(tidy = as.data.frame(broom.mixed::tidy(m, ddf.method = 'Satterthwaite')),"
        " coef = as.data.frame(coef(summary(m)), check.names = FALSE))"
    )
    tidy = fit.tidy(ddf="Satterthwaite")
    assert_same_table(tidy, ref["tidy"])
    fixed = tidy[tidy["effect"] == "fixed"]
    np.testing.assert_allclose(fixed["df"], ref["coef"]["df"], **SAME)
    np.testing.assert_allclose(fixed["p_value"], ref["coef"]["Pr(>|t|)"], **SAME)
    assert "p_value" not in fit.tidy().columns  # lme4's own fit has no p-values
