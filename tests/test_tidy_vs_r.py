"""fit.tidy(), fit.glance() and fit.augment() against broom.mixed in R, on
the same data in the same process: the same columns (tidy's and glance's
dotted names in snake_case), the same rows, numbers to rtol=1e-12."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cbpp_r import CBIND
from conftest import SAME, assert_same_table, r

import pylme4
from pylme4.errors import ArgumentError, ArgumentTypeError, RMessage, RWarning

SLEEP = "lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"
SLEEP_NA = (
    "sleep_na <- sleepstudy; sleep_na$Reaction[c(4, 11, 51)] <- NA; "
    "sleep_na$Days[90] <- NA; rownames(sleep_na) <- NULL"
)


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pylme4.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def fit(sleep: pd.DataFrame) -> pylme4.LmerFit:
    return pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")


@pytest.fixture(scope="module")
def small(sleep: pd.DataFrame) -> pylme4.LmerFit:
    return pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleepstudy")


@pytest.fixture(scope="module")
def gfit() -> pylme4.GlmerFit:
    cbpp = pylme4.datasets.load("cbpp")
    return pylme4.glmer(CBIND, cbpp, family="binomial", data_name="cbpp")


RESPONSE = "cbind(incidence, size - incidence)"
GLMER = f"glmer({CBIND}, cbpp, binomial)"


def broom(model: str, call: str, setup: str = "") -> pd.DataFrame:
    """as.data.frame(<call>) in R, with `m` the model fitted by `model`."""
    return r(f"{setup}\nm <- {model}\nas.data.frame({call})")


# ---------------------------------------------------------------------------
# tidy
# ---------------------------------------------------------------------------


def test_tidy_default_is_broom_mixed(fit):
    ref = broom(SLEEP, "broom.mixed::tidy(m)")
    tidy = fit.tidy()
    assert_same_table(tidy, ref)
    # lme4 gives no df or p-values for an lmer fit, and neither does broom.mixed.
    assert list(tidy.columns) == ["effect", "group", "term", "estimate", "std_error", "statistic"]
    assert list(tidy["term"])[2:] == [
        "sd__(Intercept)",
        "cor__(Intercept).Days",
        "sd__Days",
        "sd__Observation",
    ]


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_tidy_wald_intervals(fit, level):
    ref = broom(SLEEP, f"broom.mixed::tidy(m, conf.int = TRUE, conf.level = {level})")
    assert_same_table(fit.tidy(conf_int=True, conf_level=level), ref)


@pytest.mark.parametrize("ddf", ["Satterthwaite", "Kenward-Roger"])
def test_tidy_with_lmertest_df_and_p_values(fit, ddf):
    """With ddf, broom.mixed tidies lmerTest's fit: df, p-values and t-based
    Wald intervals from lmerTest's summary(ddf =)."""
    model = "lmerTest::lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"
    ref = broom(model, f"broom.mixed::tidy(m, conf.int = TRUE, ddf.method = '{ddf}')")
    tidy = fit.tidy(conf_int=True, ddf=ddf)
    assert_same_table(tidy, ref)
    assert list(tidy.columns)[6:8] == ["df", "p_value"]
    plain = fit.tidy(ddf=ddf)
    assert_same_table(plain, broom(model, f"broom.mixed::tidy(m, ddf.method = '{ddf}')"))


@pytest.mark.parametrize(
    "effects, r_effects",
    [
        ("fixed", "'fixed'"),
        (["ran_pars"], "'ran_pars'"),
        (("ran_vals",), "'ran_vals'"),
        (["ran_coefs", "fixed"], "c('ran_coefs', 'fixed')"),
    ],
)
def test_tidy_effects(fit, effects, r_effects):
    ref = broom(SLEEP, f"broom.mixed::tidy(m, effects = {r_effects})")
    assert_same_table(fit.tidy(effects=effects), ref)


@pytest.mark.filterwarnings("ignore:CIs not available:pylme4.errors.RWarning")
def test_tidy_random_effect_values_with_intervals(fit):
    """Conditional modes with Wald intervals; per-group coefficients, whose
    intervals R gives as NA (with a warning): NaN here."""
    ref = broom(
        SLEEP, "broom.mixed::tidy(m, effects = c('ran_vals', 'ran_coefs'), conf.int = TRUE)"
    )
    tidy = fit.tidy(effects=["ran_vals", "ran_coefs"], conf_int=True)
    assert_same_table(tidy, ref)
    coefs = tidy[tidy["effect"] == "ran_coefs"]
    assert coefs["conf_low"].dtype == float and coefs["conf_low"].isna().all()


def test_tidy_profile_intervals(small):
    ref = broom(
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy)",
        "broom.mixed::tidy(m, conf.int = TRUE, conf.method = 'profile')",
    )
    with pytest.warns(RMessage, match="Computing profile confidence intervals"):
        tidy = small.tidy(conf_int=True, conf_method="profile")
    assert_same_table(tidy, ref)
    assert tidy["conf_low"].notna().all()


@pytest.mark.filterwarnings("ignore:extreme order statistics:pylme4.errors.RWarning")
@pytest.mark.filterwarnings("ignore:Computing bootstrap:pylme4.errors.RMessage")
def test_tidy_boot_intervals(small):
    ref = broom(
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy)",
        "broom.mixed::tidy(m, conf.int = TRUE, conf.method = 'boot', nsim = 20, seed = 1)",
    )
    tidy = small.tidy(conf_int=True, conf_method="boot", nsim=20, seed=1)
    assert_same_table(tidy, ref)


def test_tidy_glmer(gfit):
    ref = broom(GLMER, "broom.mixed::tidy(m, conf.int = TRUE)")
    tidy = gfit.tidy(conf_int=True)
    assert_same_table(tidy, ref)
    assert "p_value" in tidy.columns and "df" not in tidy.columns


def test_tidy_glmer_odds_ratios(gfit):
    ref = broom(GLMER, "broom.mixed::tidy(m, conf.int = TRUE, exponentiate = TRUE)")
    assert_same_table(gfit.tidy(conf_int=True, exponentiate=True), ref)


def test_tidy_na_rows():
    data = r(f"{SLEEP_NA}\nsleep_na")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data, data_name="sleep_na")
    ref = broom(
        "lmer(Reaction ~ Days + (Days | Subject), sleep_na)",
        "broom.mixed::tidy(m, conf.int = TRUE)",
        SLEEP_NA,
    )
    assert_same_table(fit.tidy(conf_int=True), ref)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"effects": "fixd"}, ArgumentError, "did you mean 'fixed'"),
        ({"effects": []}, ArgumentTypeError, "effects"),
        ({"conf_method": "wald"}, ArgumentError, "did you mean 'Wald'"),
        ({"conf_level": 95}, ArgumentError, "level"),
        ({"conf_int": "yes"}, ArgumentTypeError, "conf_int"),
        ({"exponentiate": 1}, ArgumentTypeError, "exponentiate must be True or False"),
        ({"ddf": "KR"}, ArgumentError, "did you mean 'Kenward-Roger'"),
        (
            {"ddf": "Satterthwaite", "conf_int": True, "conf_method": "profile"},
            ArgumentError,
            "ddf applies to Wald intervals only",
        ),
        ({"conf_int": True, "conf_method": "boot", "nsim": 0}, ArgumentError, "nsim"),
        (
            {"effects": "ran_vals", "conf_int": True, "conf_method": "profile"},
            ArgumentError,
            "Wald intervals only",
        ),
        ({"conf_int": True, "conf_method": "boot", "boot_type": "bca"}, ArgumentError, "boot_type"),
    ],
)
def test_tidy_bad_arguments(small, kwargs, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(")):
        small.tidy(**kwargs)
    assert small.tidy().shape == (4, 6)  # the session goes on


def test_tidy_ddf_on_glmer_is_refused(gfit):
    with pytest.raises(ArgumentError, match="linear mixed models"):
        gfit.tidy(ddf="Satterthwaite")


# ---------------------------------------------------------------------------
# glance
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("reml", [True, False])
def test_glance_lmer(sleep, reml):
    fit = pylme4.lmer(
        "Reaction ~ Days + (Days | Subject)", sleep, reml=reml, data_name="sleepstudy"
    )
    ref = broom(
        f"lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = {str(reml).upper()})",
        "broom.mixed::glance(m)",
    )
    glance = fit.glance()
    assert_same_table(glance, ref)
    assert ("REMLcrit" in glance.columns) == reml
    assert list(glance.columns)[-1] == "df_residual"


def test_glance_glmer(gfit):
    assert_same_table(gfit.glance(), broom(GLMER, "broom.mixed::glance(m)"))


# ---------------------------------------------------------------------------
# augment
# ---------------------------------------------------------------------------


def test_augment_lmer(fit, sleep):
    ref = broom(SLEEP, "broom.mixed::augment(m)")
    aug = fit.augment()
    assert_same_table(aug, ref, snake=False)
    pd.testing.assert_index_equal(aug.index, sleep.index)
    assert list(aug.columns[3:5]) == [".fitted", ".resid"]


def test_augment_glmer_keeps_r_warnings(gfit):
    said = r(
        "said <- character()\n"
        f"m <- {GLMER}\n"
        "a <- withCallingHandlers(broom.mixed::augment(m), warning = function(w) {\n"
        "  said <<- c(said, conditionMessage(w)); invokeRestart('muffleWarning') })\n"
        "a <- as.data.frame(a); y <- unclass(a[[1]])\n"
        "list(response = data.frame(y[, 1], y[, 2]), rest = a[-1], said = I(said))"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aug = gfit.augment()
    # The two-column response is split into columns named as print() names them.
    assert list(aug.columns[:2]) == [f"{RESPONSE}.incidence", f"{RESPONSE}.V2"]
    np.testing.assert_allclose(aug.iloc[:, :2].to_numpy(), said["response"].to_numpy(), **SAME)
    assert_same_table(aug.iloc[:, 2:], said["rest"], snake=False)
    assert [(w.category, str(w.message)) for w in caught] == [(RWarning, s) for s in said["said"]]


@pytest.mark.parametrize("na_action", ["omit", "exclude"])
def test_augment_na_rows(na_action):
    data = r(f"{SLEEP_NA}\nsleep_na")
    data.index = data.index + 100  # not positions: the data's own labels
    fit = pylme4.lmer(
        "Reaction ~ Days + (Days | Subject)", data, data_name="sleep_na", na_action=na_action
    )
    ref = broom(
        f"lmer(Reaction ~ Days + (Days | Subject), sleep_na, na.action = na.{na_action})",
        "suppressWarnings(broom.mixed::augment(m))",
        SLEEP_NA,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RWarning)  # broom.mixed's note on na.exclude
        aug = fit.augment()
    assert_same_table(aug, ref, snake=False)
    kept = data.dropna(subset=["Reaction", "Days"]).index
    pd.testing.assert_index_equal(aug.index, kept)
    np.testing.assert_allclose(aug["Reaction"], data.loc[kept, "Reaction"], **SAME)
