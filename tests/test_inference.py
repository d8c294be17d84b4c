"""confint(), anova(), lmerTest's anova()/ranova(), one-sided tests and
simulate() against R in the same process, on the lecture's sleepstudy model
and on other lme4 data sets."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

import pylme4
from pylme4.errors import RMessage

PROFILE = {"rtol": 1e-8, "atol": 0.0}

MODELS = {
    "sleepstudy": "Reaction ~ Days + (Days | Subject)",
    "Dyestuff": "Yield ~ 1 + (1 | Batch)",
    "Penicillin": "diameter ~ 1 + (1 | plate) + (1 | sample)",
    "Pastes": "strength ~ 1 + (1 | batch/cask)",
}


def _fit(name: str, formula: str | None = None, **kwargs) -> pylme4.LmerFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pylme4.lmer(
            formula or MODELS[name], pylme4.datasets.load(name), data_name=name, **kwargs
        )


@pytest.fixture(scope="module")
def sleep_fit() -> pylme4.LmerFit:
    return _fit("sleepstudy")


# -- confint -----------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_wald_intervals_equal_r(name):
    fit = _fit(name)
    for level in (0.95, 0.8):
        got = fit.confint(method="Wald", level=level)
        ref = r(f"confint(lmer({MODELS[name]}, data = {name}), method = 'Wald', level = {level})")
        assert list(got.index) == list(ref.index)
        assert list(got.columns) == list(ref.columns)
        np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


@pytest.mark.parametrize("name", ["sleepstudy", "Dyestuff", "Penicillin"])
def test_profile_intervals_equal_r(name):
    fit = _fit(name)
    got = fit.confint()
    ref = r(f"suppressMessages(confint(lmer({MODELS[name]}, data = {name})))")
    assert list(got.index) == list(ref.index)
    assert list(got.columns) == ["2.5 %", "97.5 %"] == list(ref.columns)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), **PROFILE)


def test_profile_interval_names_and_level(sleep_fit):
    got = sleep_fit.confint(level=0.9)
    assert list(got.index) == [".sig01", ".sig02", ".sig03", ".sigma", "(Intercept)", "Days"]
    assert list(got.columns) == ["5 %", "95 %"]
    ref = r(
        "suppressMessages(confint(lmer(Reaction ~ Days + (Days | Subject), "
        "data = sleepstudy), level = 0.9))"
    )
    assert list(got.index) == list(ref.index) and list(got.columns) == list(ref.columns)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), **PROFILE)


def test_boot_intervals_equal_r(sleep_fit):
    got = sleep_fit.confint(method="boot", nsim=30, seed=4)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "suppressWarnings(suppressMessages(confint(fit, method = 'boot', nsim = 30, seed = 4)))"
    )
    assert list(got.index) == list(ref.index)
    assert list(got.columns) == list(ref.columns)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    basic = sleep_fit.confint(method="boot", nsim=30, seed=4, boot_type="basic", level=0.9)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "suppressWarnings(suppressMessages(confint(fit, method = 'boot', nsim = 30, seed = 4,"
        " boot.type = 'basic', level = 0.9)))"
    )
    np.testing.assert_array_equal(basic.to_numpy(), ref.to_numpy())


def test_confint_bad_arguments(sleep_fit):
    with pytest.raises(ValueError, match="method must be one of"):
        sleep_fit.confint(method="wald")
    with pytest.raises(ValueError, match="level"):
        sleep_fit.confint(method="Wald", level=1.5)


# -- anova: likelihood-ratio tests between fits ------------------------------------


def test_anova_between_fits_equals_r(sleep_fit):
    m0 = _fit("sleepstudy", "Reaction ~ Days + (1 | Subject)")
    with pytest.warns(RMessage, match="refitting model"):
        got = pylme4.anova(m0, sleep_fit)
    ref = r(
        "m0 <- lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)\n"
        "sleep_fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "a <- suppressMessages(anova(m0, sleep_fit))\n"
        "list(table = as.data.frame(a, check.names = FALSE), rows = rownames(a),"
        " text = paste(capture.output(print(a)), collapse = '\\n'))"
    )
    assert str(got) == ref["text"]
    assert list(got.table.index) == list(ref["rows"]) == ["m0", "sleep_fit"]
    assert list(got.table.columns) == [
        "npar",
        "AIC",
        "BIC",
        "logLik",
        "deviance",
        "Chisq",
        "Df",
        "Pr(>Chisq)",
    ]
    np.testing.assert_allclose(
        got.table.to_numpy(dtype=float), ref["table"].to_numpy(dtype=float), **SAME
    )
    assert got.heading[0] == "Data: sleepstudy"


def test_anova_names_models_by_keyword_and_orders_them_as_r():
    m0 = _fit("Penicillin", "diameter ~ 1 + (1 | plate)")
    m1 = _fit("Penicillin")
    got = pylme4.anova(full=m1, plate_only=m0, refit=False)
    ref = r(
        "plate_only <- lmer(diameter ~ 1 + (1 | plate), data = Penicillin)\n"
        "full <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = Penicillin)\n"
        "a <- anova(full, plate_only, refit = FALSE)\n"
        "paste(capture.output(print(a)), collapse = '\\n')"
    )
    assert str(got) == ref
    assert list(got.table.index) == ["plate_only", "full"]


def test_anova_of_one_fit_is_lme4s_table():
    fit = _fit("sleepstudy", "Reaction ~ Days + I(Days^2) + (Days | Subject)")
    got = pylme4.anova(fit)
    ref = r(
        "model1 <- lmer(Reaction ~ Days + I(Days^2) + (Days | Subject), data = sleepstudy)\n"
        "paste(capture.output(print(anova(model1))), collapse = '\\n')"
    )
    assert str(got) == ref
    assert list(got.table.columns) == ["npar", "Sum Sq", "Mean Sq", "F value"]


def test_anova_bad_input(sleep_fit):
    with pytest.raises(TypeError, match="at least one"):
        pylme4.anova()
    with pytest.raises(TypeError, match="model2 is a DataFrame"):
        pylme4.anova(sleep_fit, pd.DataFrame())
    other = _fit("Dyestuff")
    with pytest.raises(pylme4.PylmeError, match="same size|same data"):
        pylme4.anova(sleep_fit, other)


# -- lmerTest: anova(type, ddf) and ranova -----------------------------------------


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("cake", "angle ~ recipe * temp + (1 | recipe:replicate)"),
    ],
)
@pytest.mark.parametrize("ddf", ["Satterthwaite", "Kenward-Roger"])
@pytest.mark.parametrize("anova_type", [3, 1, "II"])
def test_lmertest_anova_equals_r(name, formula, ddf, anova_type):
    fit = _fit(name, formula)
    got = fit.anova(type=anova_type, ddf=ddf)
    rtype = anova_type if isinstance(anova_type, int) else f'"{anova_type}"'
    ref = r(
        f"m <- lmerTest::lmer({formula}, data = {name})\n"
        f"a <- anova(m, type = {rtype}, ddf = '{ddf}')\n"
        "list(table = as.data.frame(a, check.names = FALSE),"
        " text = paste(capture.output(print(a)), collapse = '\\n'))"
    )
    assert str(got) == ref["text"]
    assert list(got.table.columns) == list(ref["table"].columns)
    np.testing.assert_allclose(got.table.to_numpy(), ref["table"].to_numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("sleepstudy", "Reaction ~ Days + (1 | Subject)"),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ],
)
def test_ranova_equals_r(name, formula):
    fit = _fit(name, formula)
    got = fit.ranova()
    ref = r(
        f"m <- lmerTest::lmer({formula}, data = {name})\n"
        "a <- lmerTest::ranova(m)\n"
        "list(table = as.data.frame(a, check.names = FALSE), rows = rownames(a),"
        " text = paste(capture.output(print(a)), collapse = '\\n'))"
    )
    assert str(got) == ref["text"]
    assert list(got.table.index) == list(ref["rows"])
    np.testing.assert_allclose(
        got.table.to_numpy(dtype=float), ref["table"].to_numpy(dtype=float), **SAME
    )


def test_ranova_without_reducing_terms(sleep_fit):
    got = sleep_fit.ranova(reduce_terms=False)
    ref = r(
        "m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "paste(capture.output(print(lmerTest::ranova(m, reduce.terms = FALSE))), collapse = '\\n')"
    )
    assert str(got) == ref


def test_lmertest_anova_bad_arguments(sleep_fit):
    with pytest.raises(ValueError, match="type must be"):
        sleep_fit.anova(type=4)
    with pytest.raises(ValueError, match="ddf must be"):
        sleep_fit.anova(ddf="satterthwaite")


# -- one- and two-sided tests ----------------------------------------------------------


@pytest.mark.parametrize("ddf", ["Satterthwaite", "Kenward-Roger"])
def test_one_sided_p_values_from_the_same_t_and_df(sleep_fit, ddf):
    two = sleep_fit.summary(ddf=ddf)
    greater = sleep_fit.summary(ddf=ddf, alternative="greater")
    less = sleep_fit.summary(ddf=ddf, alternative="less")
    ref = r(
        "m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        f"s <- summary(m, ddf = '{ddf}')\n"
        "cf <- coef(s)\n"
        "list(greater = pt(cf[, 't value'], cf[, 'df'], lower.tail = FALSE),"
        " less = pt(cf[, 't value'], cf[, 'df']),"
        " text = paste(capture.output(print(s)), collapse = '\\n'))"
    )
    # The two-sided summary stays R's exact text.
    assert str(two) == ref["text"] and two.alternative == "two-sided"
    assert "Pr(>t)" not in two.fixed_effects.columns
    assert list(greater.fixed_effects.columns) == [*two.fixed_effects.columns, "Pr(>t)"]
    assert list(less.fixed_effects.columns) == [*two.fixed_effects.columns, "Pr(<t)"]
    np.testing.assert_allclose(greater.fixed_effects["Pr(>t)"], ref["greater"], **SAME)
    np.testing.assert_allclose(less.fixed_effects["Pr(<t)"], ref["less"], **SAME)
    pd.testing.assert_frame_equal(
        greater.fixed_effects.iloc[:, :5], two.fixed_effects, check_exact=True
    )
    # For a positive t, the one-sided p in its direction is half the two-sided one.
    np.testing.assert_allclose(
        greater.fixed_effects["Pr(>t)"], two.fixed_effects["Pr(>|t|)"] / 2, rtol=1e-10
    )
    assert greater.alternative == "greater"


def test_one_sided_printout_is_rs_print_with_the_one_sided_column(sleep_fit):
    got = sleep_fit.summary(ddf="Satterthwaite", alternative="greater")
    ref = r(
        "m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "s <- summary(m)\n"
        "cf <- coef(s)\n"
        "s$coefficients <- cbind(cf[, 1:4], `Pr(>t)` = pt(cf[, 't value'], cf[, 'df'],"
        " lower.tail = FALSE))\n"
        "paste(capture.output(print(s)), collapse = '\\n')"
    )
    assert str(got) == ref
    assert "Pr(>t)" in str(got) and "Pr(>|t|)" not in str(got)


def test_one_sided_needs_ddf(sleep_fit):
    with pytest.raises(ValueError, match="needs degrees of freedom"):
        sleep_fit.summary(alternative="greater")
    with pytest.raises(ValueError, match="alternative must be"):
        sleep_fit.summary(ddf="Satterthwaite", alternative="two.sided")


# -- simulate ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_simulate_equals_r(name):
    fit = _fit(name)
    got = fit.simulate(nsim=3, seed=17)
    ref = r(f"simulate(lmer({MODELS[name]}, data = {name}), nsim = 3, seed = 17)")
    assert list(got.columns) == ["sim_1", "sim_2", "sim_3"]
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    assert got.index.equals(fit.fitted().index)


def test_simulate_options_equal_r(sleep_fit):
    base = "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
    cases = [
        ({"use_u": True}, "use.u = TRUE"),
        ({"use_u": False}, "use.u = FALSE"),
        ({"re_form": "~0"}, "re.form = ~0"),
        ({"re_form": "NA"}, "re.form = NA"),
        ({"re_form": "~(Days | Subject)"}, "re.form = ~(Days | Subject)"),
    ]
    for kwargs, rargs in cases:
        got = sleep_fit.simulate(nsim=2, seed=3, **kwargs)
        ref = r(base + f"simulate(fit, nsim = 2, seed = 3, {rargs})")
        np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


def test_simulate_newdata_equals_r(sleep_fit):
    new = pd.DataFrame(
        {"Days": [0.0, 4.5, 9.0, 2.0], "Subject": ["308", "309", "999", "308"]},
        index=["a", "b", "c", "d"],
    )
    got = sleep_fit.simulate(nsim=2, seed=8, newdata=new, allow_new_levels=True)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "nd <- data.frame(Days = c(0, 4.5, 9, 2), Subject = c('308', '309', '999', '308'))\n"
        "simulate(fit, nsim = 2, seed = 8, newdata = nd, allow.new.levels = TRUE)"
    )
    assert list(got.index) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


def test_simulate_without_seed_continues_rs_stream(sleep_fit):
    r("set.seed(123)")
    got = sleep_fit.simulate(nsim=1)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "set.seed(123); simulate(fit)"
    )
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


def test_simulate_bad_arguments(sleep_fit):
    with pytest.raises(ValueError, match="only one of use_u and re_form"):
        sleep_fit.simulate(use_u=True, re_form="~0")
    with pytest.raises(ValueError, match="nsim"):
        sleep_fit.simulate(nsim=0)
    with pytest.raises(TypeError, match="seed"):
        sleep_fit.simulate(seed="1")
