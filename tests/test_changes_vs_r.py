"""Changing and comparing models against R in the same process: update()
(R's `. ~ . - x` syntax and changed arguments), refit(), refitML(),
lmer/glmer subset=, start=, mustart=/etastart=, drop1 (lme4's and
lmerTest's) and isNested; every fit's estimates and printed summary equal R's.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, assert_estimates_match_r, r, r_printed, r_reference

import pylme4

SLEEP = "Reaction ~ Days + (Days | Subject)"
CAKE = "angle ~ recipe * temperature + (1 | recipe:replicate)"
PEN = "diameter ~ 1 + (1 | plate)"
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
# Missing values in the response, a predictor and the grouping factor.
NA_SETUP = (
    "d <- sleepstudy\nd$Reaction[c(3, 50, 51)] <- NA\nd$Days[100] <- NA\nd$Subject[120] <- NA\n"
)


@pytest.fixture(autouse=True)
def _quiet():
    # R's convergence notes come as Python warnings; the tests compare them
    # with R's through the printed summaries.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pylme4.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def sleep_fit(sleep: pd.DataFrame) -> pylme4.LmerFit:
    return pylme4.lmer(SLEEP, sleep, data_name="sleepstudy")


@pytest.fixture(scope="module")
def cbpp() -> pd.DataFrame:
    return pylme4.datasets.load("cbpp")


@pytest.fixture(scope="module")
def cbpp_fit(cbpp: pd.DataFrame) -> pylme4.GlmerFit:
    return pylme4.glmer(CBPP, cbpp, family="binomial", data_name="cbpp")


@pytest.fixture(scope="module")
def na_data() -> pd.DataFrame:
    d = r(NA_SETUP + "d")
    # a non-default index, so that a value on the wrong row cannot go unnoticed
    return d.set_axis(pd.Index([f"row{i}" for i in range(len(d))]), axis=0)


def assert_same_fit(fit: Any, call: str, setup: str = "") -> dict[str, Any]:
    """fit equals R's `call` (after `setup`): estimates, statistics, summary text."""
    ref = r_reference(call, setup)
    assert_estimates_match_r(fit, ref)
    np.testing.assert_allclose(fit.fitted(), ref["fitted"], **SAME)
    assert str(fit.summary()) == ref["summary"]
    assert str(fit) == ref["print"]
    return ref


# ---------------------------------------------------------------------------
# update()
# ---------------------------------------------------------------------------

M_SLEEP = "m0 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"


def test_update_drops_a_term(sleep_fit):
    new = sleep_fit.update(". ~ . - Days")
    assert new.formula == "Reaction ~ (Days | Subject)"
    assert_same_fit(new, "update(m0, . ~ . - Days)", M_SLEEP)
    assert new.variables == ("Reaction", "Days", "Subject")


def test_update_leaves_the_old_fit_alone(sleep_fit):
    before = str(sleep_fit.summary())
    sleep_fit.update(weights=np.linspace(1, 2, 180))
    # the old fit's own refits find the old (absent) weights
    again = sleep_fit.update(reml=False)
    assert_same_fit(again, "update(m0, REML = FALSE)", M_SLEEP)
    assert str(sleep_fit.summary()) == before


def test_update_response_transform_and_added_term(sleep_fit):
    new = sleep_fit.update("log(.) ~ . + I(Days^2)")
    assert_same_fit(new, "update(m0, log(.) ~ . + I(Days^2))", M_SLEEP)


def test_update_arguments_as_r(sleep_fit):
    w = np.linspace(0.5, 2, 180)
    new = sleep_fit.update(reml=False, weights=w, control={"optimizer": "bobyqa"})
    assert_same_fit(
        new,
        "update(m0, REML = FALSE, weights = .weights, control = lmerControl(optimizer = 'bobyqa'))",
        M_SLEEP + "\n.weights <- seq(0.5, 2, length.out = 180)",
    )
    # weights=None removes them again, as R's update(m, weights = NULL)
    # removing what the call does not have changes nothing, as in R
    assert_same_fit(sleep_fit.update(offset=None), "update(m0, offset = NULL)", M_SLEEP)
    back = new.update(weights=None, reml=True)
    assert_same_fit(back, "update(m0, control = lmerControl(optimizer = 'bobyqa'))", M_SLEEP)


def test_update_with_new_data(sleep, sleep_fit):
    half = sleep[sleep["Days"] < 5].copy()
    new = sleep_fit.update(data=half, data_name="early")
    assert_same_fit(
        new, "update(m0, data = early)", M_SLEEP + "\nearly <- sleepstudy[sleepstudy$Days < 5, ]"
    )
    assert new.fitted().index.equals(half.index)


def test_update_cake_by_ml():
    cake = pylme4.datasets.load("cake")
    fit = pylme4.lmer(CAKE, cake, data_name="cake")
    new = fit.update(". ~ . - recipe:temperature", reml=False)
    assert_same_fit(
        new,
        "update(m0, . ~ . - recipe:temperature, REML = FALSE)",
        f"m0 <- lmer({CAKE}, cake)",
    )
    summed = fit.update(contrasts={"recipe": "contr.sum"}, control='lmerControl("bobyqa")')
    assert_same_fit(
        summed,
        "update(m0, contrasts = list(recipe = 'contr.sum'), control = lmerControl('bobyqa'))",
        f"m0 <- lmer({CAKE}, cake)",
    )


def test_update_penicillin_adds_a_random_term():
    pen = pylme4.datasets.load("Penicillin")
    fit = pylme4.lmer(PEN, pen, data_name="Penicillin")
    new = fit.update(". ~ . + (1 | sample)")
    assert_same_fit(new, "update(m0, . ~ . + (1 | sample))", f"m0 <- lmer({PEN}, Penicillin)")
    assert dict(new.ngroups) == {"sample": 6, "plate": 24}


def test_update_glmer(cbpp_fit):
    setup = f"m0 <- glmer({CBPP}, cbpp, family = binomial)"
    new = cbpp_fit.update(". ~ . - period")
    assert_same_fit(new, "update(m0, . ~ . - period)", setup)
    probit = cbpp_fit.update(family=pylme4.Family("binomial", "probit"), nAGQ=5)
    assert_same_fit(probit, "update(m0, family = binomial(link = 'probit'), nAGQ = 5)", setup)
    assert probit.link == "probit" and probit.nagq == 5


def test_update_and_subset_glmer_nb():
    ticks = pylme4.datasets.load("grouseticks")
    formula = "TICKS ~ YEAR + (1 | LOCATION)"
    fit = pylme4.glmer_nb(formula, ticks, data_name="grouseticks", subset="HEIGHT > 450")
    assert_same_fit(fit, f"glmer.nb({formula}, grouseticks, subset = HEIGHT > 450)")
    # glmer.nb's fit is a glmer() call with theta fixed (lme4::glmer(...,
    # family = MASS::negative.binomial(theta = ...))): R's update refits that
    new = fit.update(". ~ . - YEAR")
    assert_same_fit(
        new,
        "update(m0, . ~ . - YEAR)",
        f"m0 <- glmer.nb({formula}, grouseticks, subset = HEIGHT > 450)",
    )


def test_update_of_steps_final_model(cake_fit):
    final = cake_fit.step().model
    new = final.update(". ~ . + recipe")
    assert_same_fit(
        new,
        # pylme4's fits are lme4's lmerMod (lmerTest's summary is summary(ddf=))
        "as(update(lmerTest::get_model(lmerTest::step(cake_m)), . ~ . + recipe), 'lmerMod')",
        CAKE_LT,
    )


def test_update_with_missing_values(na_data):
    fit = pylme4.lmer(SLEEP, na_data, data_name="d", na_action="exclude")
    new = fit.update(". ~ . + I(Days^2)")
    ref = assert_same_fit(
        new,
        "update(m0, . ~ . + I(Days^2))",
        NA_SETUP + "m0 <- lmer(Reaction ~ Days + (Days | Subject), d, na.action = na.exclude)",
    )
    assert len(new.fitted()) == len(ref["fitted"]) == len(na_data)
    assert new.fitted().index.equals(na_data.index)


def test_update_formula_is_checked(sleep_fit):
    with pytest.raises(pylme4.FormulaError, match="'Dayz'.*did you mean 'Days'"):
        sleep_fit.update(". ~ . + Dayz")
    with pytest.raises(pylme4.FormulaError, match="not valid R"):
        sleep_fit.update(". ~ . -")


def test_update_of_unpickled_and_refitted_fits_uses_the_data_r_holds(sleep, sleep_fit):
    assert sleep_fit.get_data() is not None
    restored = pickle.loads(pickle.dumps(sleep_fit))
    held = restored.get_data()
    assert list(held.columns) == ["Reaction", "Days", "Subject"]
    assert held.index.equals(sleep.index)
    assert_same_fit(restored.update(". ~ . - Days"), "update(m0, . ~ . - Days)", M_SLEEP)
    # a refit's call still names the original data: R's update refits to it
    refitted = sleep_fit.refit(sleep["Reaction"] * 2)
    assert_same_fit(
        refitted.update(reml=False),
        "update(refit(m0, sleepstudy$Reaction * 2), REML = FALSE)",
        M_SLEEP,
    )


# ---------------------------------------------------------------------------
# subset=, start=, mustart=, etastart=
# ---------------------------------------------------------------------------


def test_subset_expression(sleep):
    fit = pylme4.lmer(SLEEP, sleep, data_name="sleepstudy", subset="Days > 2 & Subject != '308'")
    assert_same_fit(fit, f"lmer({SLEEP}, sleepstudy, subset = Days > 2 & Subject != '308')")
    kept = (sleep["Days"] > 2) & (sleep["Subject"] != "308")
    assert fit.fitted().index.equals(sleep.index[kept])


def test_subset_boolean_series_aligns_on_the_index(sleep):
    shuffled = sleep.sample(frac=1.0, random_state=1)
    mask = shuffled["Days"] > 2  # a Series in another order than the data
    fit = pylme4.lmer(SLEEP, sleep, data_name="sleepstudy", subset=mask)
    assert_same_fit(
        fit,
        f"lmer({SLEEP}, sleepstudy, subset = .subset)",
        ".subset <- sleepstudy$Days > 2",
    )
    array_fit = pylme4.lmer(
        SLEEP, sleep, data_name="sleepstudy", subset=(sleep["Days"] > 2).to_numpy()
    )
    np.testing.assert_allclose(array_fit.fixef(), fit.fixef(), **SAME)


def test_subset_with_missing_values_excluded(na_data):
    fit = pylme4.lmer(SLEEP, na_data, data_name="d", na_action="exclude", subset="Days != 4")
    ref = assert_same_fit(
        fit, f"lmer({SLEEP}, d, na.action = na.exclude, subset = Days != 4)", NA_SETUP
    )
    residuals = fit.residuals()
    assert len(residuals) == len(ref["resid"])
    in_subset = (na_data["Days"] != 4).to_numpy() | na_data["Days"].isna().to_numpy()
    assert residuals.index.equals(na_data.index[in_subset])


def test_update_removes_and_changes_a_subset(sleep):
    fit = pylme4.lmer(SLEEP, sleep, data_name="sleepstudy", subset="Days > 2")
    setup = f"m0 <- lmer({SLEEP}, sleepstudy, subset = Days > 2)"
    whole = fit.update(subset=None)
    assert_same_fit(whole, "update(m0, subset = NULL)", setup)
    assert whole.fitted().index.equals(sleep.index)
    mask = pd.Series(sleep["Days"] < 8, index=sleep.index)
    other = fit.update(subset=mask)
    assert_same_fit(
        other, "update(m0, subset = .subset)", setup + "\n.subset <- sleepstudy$Days < 8"
    )
    assert other.fitted().index.equals(sleep.index[mask.to_numpy()])


def test_subset_glmer(cbpp):
    fit = pylme4.glmer(CBPP, cbpp, family="binomial", data_name="cbpp", subset="size > 5")
    assert_same_fit(fit, f"glmer({CBPP}, cbpp, family = binomial, subset = size > 5)")


def test_start_for_lmer(sleep):
    theta = [0.5, 0.1, 0.3]
    fit = pylme4.lmer(SLEEP, sleep, data_name="sleepstudy", start={"theta": theta})
    assert_same_fit(fit, f"lmer({SLEEP}, sleepstudy, start = list(theta = c(0.5, 0.1, 0.3)))")
    vector = pylme4.lmer(SLEEP, sleep, data_name="sleepstudy", start=theta)
    np.testing.assert_allclose(vector.theta, fit.theta, **SAME)


def test_start_for_glmer(cbpp):
    start = {"theta": [0.5], "fixef": [-1.0, -1.0, -1.0, -1.5]}
    fit = pylme4.glmer(CBPP, cbpp, family="binomial", data_name="cbpp", start=start)
    assert_same_fit(
        fit,
        f"glmer({CBPP}, cbpp, family = binomial, "
        "start = list(theta = 0.5, fixef = c(-1, -1, -1, -1.5)))",
    )


def test_mustart_and_etastart(cbpp):
    mu = np.clip((cbpp["incidence"] + 0.5) / (cbpp["size"] + 1), 0.05, 0.95).to_numpy()
    fit = pylme4.glmer(CBPP, cbpp, family="binomial", data_name="cbpp", mustart=mu)
    assert_same_fit(
        fit,
        f"glmer({CBPP}, cbpp, family = binomial, mustart = .mustart)",
        ".mustart <- pmin(pmax((cbpp$incidence + 0.5) / (cbpp$size + 1), 0.05), 0.95)",
    )
    eta = pd.Series(np.log(mu / (1 - mu)), index=cbpp.index)
    fit = pylme4.glmer(CBPP, cbpp, family="binomial", data_name="cbpp", etastart=eta)
    assert_same_fit(
        fit,
        f"glmer({CBPP}, cbpp, family = binomial, etastart = .etastart)",
        ".mu <- pmin(pmax((cbpp$incidence + 0.5) / (cbpp$size + 1), 0.05), 0.95)\n"
        ".etastart <- log(.mu / (1 - .mu))",
    )


# ---------------------------------------------------------------------------
# refit() and refit_ml()
# ---------------------------------------------------------------------------


def test_refit_new_response(sleep, sleep_fit):
    y = sleep["Reaction"] + 10 * np.sin(np.arange(180))
    new = sleep_fit.refit(y.sample(frac=1.0, random_state=2))  # aligned on the index
    assert_same_fit(new, "refit(m0, sleepstudy$Reaction + 10 * sin(0:179))", M_SLEEP)
    by_position = sleep_fit.refit(y.to_numpy())
    np.testing.assert_allclose(by_position.fixef(), new.fixef(), **SAME)


def test_refit_with_missing_rows(na_data):
    fit = pylme4.lmer(SLEEP, na_data, data_name="d")
    y = np.arange(len(na_data), dtype=float) % 7 + 250
    new = fit.refit(y)
    assert_same_fit(
        new,
        "refit(m0, (0:179) %% 7 + 250)",
        NA_SETUP + "m0 <- lmer(Reaction ~ Days + (Days | Subject), d)",
    )
    used_only = fit.refit(y[fit.data_index.get_indexer(fit.used_index)])
    np.testing.assert_allclose(used_only.fixef(), new.fixef(), **SAME)


def test_refit_binomial_two_columns(cbpp, cbpp_fit):
    newresp = np.column_stack([cbpp["size"] - cbpp["incidence"], cbpp["incidence"]])
    new = cbpp_fit.refit(newresp)
    assert_same_fit(
        new,
        "refit(m0, cbind(cbpp$size - cbpp$incidence, cbpp$incidence))",
        f"m0 <- glmer({CBPP}, cbpp, family = binomial)",
    )


def test_refit_ml(sleep_fit):
    ml = sleep_fit.refit_ml()
    assert not ml.reml
    assert_same_fit(ml, "refitML(m0)", M_SLEEP)
    assert ml.refit_ml() is ml


# ---------------------------------------------------------------------------
# drop1 and isNested
# ---------------------------------------------------------------------------


def test_drop1_lmertest_by_default():
    cake = pylme4.datasets.load("cake")
    fit = pylme4.lmer(CAKE, cake, data_name="cake")
    setup = f"m0 <- lmerTest::lmer({CAKE}, cake)"
    table = fit.drop1()
    assert str(table) == r_printed(setup + "\ndrop1(m0)")
    ref = r(setup + "\nas.data.frame(drop1(m0))")
    np.testing.assert_allclose(table.table.to_numpy(), ref.to_numpy(), **SAME)
    kr = fit.drop1(ddf="Kenward-Roger")
    assert str(kr) == r_printed(setup + "\ndrop1(m0, ddf = 'Kenward-Roger')")


@pytest.mark.parametrize(("test", "r_args"), [("Chisq", ", test = 'Chisq'"), ("none", "")])
def test_drop1_lme4(sleep_fit, test, r_args):
    table = sleep_fit.drop1(test=test)
    assert str(table) == r_printed(f"{M_SLEEP}\ndrop1(m0{r_args})")
    ref = r(f"{M_SLEEP}\nas.data.frame(drop1(m0{r_args}))")
    np.testing.assert_allclose(table.table.to_numpy(dtype=float), ref.to_numpy(dtype=float), **SAME)
    if test == "none":
        assert str(sleep_fit.drop1(ddf="lme4")) == str(table)


def test_drop1_glmer(cbpp_fit):
    table = cbpp_fit.drop1(test="Chisq")
    setup = f"m0 <- glmer({CBPP}, cbpp, family = binomial)"
    assert str(table) == r_printed(setup + "\ndrop1(m0, test = 'Chisq')")
    with pytest.raises(pylme4.ArgumentError, match="ddf applies to linear mixed models"):
        cbpp_fit.drop1(ddf="Satterthwaite")


def test_drop1_arguments(sleep_fit):
    with pytest.raises(pylme4.ArgumentError, match="test must be.*'Chisq'"):
        sleep_fit.drop1(test="F")
    with pytest.raises(pylme4.ArgumentError, match="not both"):
        sleep_fit.drop1(test="Chisq", ddf="Kenward-Roger")


def test_is_nested():
    pastes = pylme4.datasets.load("Pastes")
    for f1, f2 in [("sample", "batch"), ("cask", "batch"), ("batch", "sample")]:
        expected = r(f"isNested(Pastes${f1}, Pastes${f2})")
        assert pylme4.is_nested(pastes[f1], pastes[f2]) is bool(expected)
    assert pylme4.is_nested(["a", "b", "c"], ["x", "x", "y"]) is bool(
        r("isNested(factor(c('a', 'b', 'c')), factor(c('x', 'x', 'y')))")
    )
    with pytest.raises(pylme4.DataError, match="as long"):
        pylme4.is_nested([1, 2], [1, 2, 3])
    with pytest.raises(pylme4.ArgumentTypeError, match="f1 must be a factor"):
        pylme4.is_nested("abc", ["a", "b", "c"])


# ---------------------------------------------------------------------------
# Printing options: digits= and signif_stars=
# ---------------------------------------------------------------------------


def printed(setup: str, expr: str) -> str:
    """R's console text of `expr` (a print() call) after `setup`."""
    return r(f"local({{\n{setup}\npaste(capture.output({expr}), collapse = '\\n')\n}})")


CAKE_LT = f"cake_m <- lmerTest::lmer({CAKE}, cake)"
SLEEP_PAIR = (
    "small <- lmer(Reaction ~ Days + (1 | Subject), sleepstudy)\n"
    "sleep_fit <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"
)


@pytest.fixture(scope="module")
def cake_fit() -> pylme4.LmerFit:
    return pylme4.lmer(CAKE, pylme4.datasets.load("cake"), data_name="cake")


@pytest.fixture(scope="module")
def tables(sleep, sleep_fit, cake_fit, cbpp_fit) -> dict[str, tuple[Any, str, str]]:
    """name -> (pylme4's table, R setup, R expression of the same table)."""
    small = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleepstudy")
    step = cake_fit.step()
    cbpp_setup = f"m0 <- glmer({CBPP}, cbpp, family = binomial)"
    return {
        "anova": (pylme4.anova(small, sleep_fit), SLEEP_PAIR, "anova(small, sleep_fit)"),
        "lmertest_anova": (cake_fit.anova(), CAKE_LT, "anova(cake_m)"),
        "ranova": (cake_fit.ranova(), CAKE_LT, "lmerTest::ranova(cake_m)"),
        "drop1_F": (cake_fit.drop1(), CAKE_LT, "drop1(cake_m)"),
        "drop1_chisq": (cbpp_fit.drop1(test="Chisq"), cbpp_setup, "drop1(m0, test = 'Chisq')"),
        "step_fixed": (step.fixed, CAKE_LT, "lmerTest::step(cake_m)$fixed"),
        "ls_means": (cake_fit.ls_means(), CAKE_LT, "lmerTest::ls_means(cake_m)"),
        "difflsmeans": (
            cake_fit.difflsmeans("recipe"),
            CAKE_LT,
            "lmerTest::difflsmeans(cake_m, 'recipe')",
        ),
        "contest1d": (
            cake_fit.contest([0, 1] + [0] * 16, joint=False),
            CAKE_LT,
            "lmerTest::contest(cake_m, c(0, 1, rep(0, 16)), joint = FALSE)",
        ),
    }


TABLES = [
    "anova",
    "lmertest_anova",
    "ranova",
    "drop1_F",
    "drop1_chisq",
    "step_fixed",
    "ls_means",
    "difflsmeans",
    "contest1d",
]


@pytest.mark.parametrize("name", TABLES)
def test_table_to_string_as_r_prints_it(tables, name):
    table, setup, expr = tables[name]
    assert table.to_string() == str(table)
    assert table.to_string(digits=3, signif_stars=False) == printed(
        setup, f"print({expr}, digits = 3, signif.stars = FALSE)"
    )
    assert table.to_string(digits=7) == printed(setup, f"print({expr}, digits = 7)")


def test_glmer_summary_text(cbpp_fit):
    setup = f"m0 <- glmer({CBPP}, cbpp, family = binomial)"
    assert cbpp_fit.summary_text() == str(cbpp_fit.summary())
    assert cbpp_fit.summary_text(digits=3, signif_stars=False, correlation=False) == printed(
        setup, "print(summary(m0), digits = 3, signif.stars = FALSE, correlation = FALSE)"
    )


def test_lm_and_glm_summary_text(sleep, cbpp):
    lm = pylme4.lm("Reaction ~ Days", sleep, data_name="sleepstudy")
    assert lm.summary_text() == str(lm.summary())
    assert lm.summary_text(digits=3, signif_stars=False, correlation=True) == printed(
        "m <- lm(Reaction ~ Days, sleepstudy)",
        "print(summary(m, correlation = TRUE), digits = 3, signif.stars = FALSE)",
    )
    glm = pylme4.glm(
        "cbind(incidence, size - incidence) ~ period", cbpp, family="binomial", data_name="cbpp"
    )
    assert glm.summary_text() == str(glm.summary())
    assert glm.summary_text(digits=5, signif_stars=False) == printed(
        "m <- glm(cbind(incidence, size - incidence) ~ period, binomial, cbpp)",
        "print(summary(m), digits = 5, signif.stars = FALSE)",
    )


def test_fit_to_string(sleep, sleep_fit, cbpp_fit):
    assert sleep_fit.to_string() == str(sleep_fit)
    assert sleep_fit.to_string(digits=7) == printed(M_SLEEP, "print(m0, digits = 7)")
    assert cbpp_fit.to_string(digits=3) == printed(
        f"m0 <- glmer({CBPP}, cbpp, family = binomial)", "print(m0, digits = 3)"
    )
    lm = pylme4.lm("Reaction ~ Days", sleep, data_name="sleepstudy")
    assert lm.to_string(digits=8) == printed(
        "m <- lm(Reaction ~ Days, sleepstudy)", "print(m, digits = 8)"
    )


def test_print_options_are_checked(tables):
    table = tables["anova"][0]
    with pytest.raises(pylme4.ArgumentError, match="digits must be a whole number from 1 to 22"):
        table.to_string(digits=0)
    with pytest.raises(pylme4.ArgumentTypeError, match="signif_stars must be True, False or None"):
        table.to_string(signif_stars="no")


# ---------------------------------------------------------------------------
# lmerTest's step() and R's global environment
# ---------------------------------------------------------------------------


def test_step_leaves_the_global_environment_alone(cake_fit):
    before = set(np.atleast_1d(r("ls(globalenv(), all.names = TRUE)")))
    search = list(np.atleast_1d(r("search()")))
    result = cake_fit.step()  # ranova refits an lm() from lmerTest's own frames
    assert str(result) == printed(CAKE_LT, "print(lmerTest::step(cake_m))")
    assert set(np.atleast_1d(r("ls(globalenv(), all.names = TRUE)"))) == before
    assert list(np.atleast_1d(r("search()"))) == search
    # a global object of the data's name is shadowed for the call, then restored
    r("assign('cake', 'mine', envir = globalenv())")
    try:
        again = cake_fit.step()
        assert str(again) == str(result)
        assert r("get('cake', envir = globalenv())") == "mine"
    finally:
        r("rm('cake', envir = globalenv())")
