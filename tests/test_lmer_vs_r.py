"""pylme4.lmer against R's lmer, fitted in the same process on the same data.

Each case names the data (an R expression; the Python side receives it through
pylme4's R -> pandas conversion and sends it back through pandas -> R), the
formula and options as a Python user gives them, and the call as an R user
types it.  Numbers must agree to rtol=1e-12 and printed text exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import (
    SAME,
    assert_estimates_match_r,
    assert_same_series,
    python_data,
    r,
    r_reference,
)

import pylme4


@dataclass(frozen=True)
class Case:
    id: str
    data_name: str
    setup: str  # R code that binds `data_name`
    formula: str
    r_call: str
    kwargs: dict[str, Any] = field(default_factory=dict)


SLEEP_NA = "sleep_na <- sleepstudy; sleep_na$Reaction[c(3, 50, 51)] <- NA; sleep_na$Days[100] <- NA"

CASES = [
    Case(
        "intercept",
        "sleepstudy",
        "",
        "Reaction ~ Days + (1 | Subject)",
        "lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)",
    ),
    Case(
        "slope_only",
        "sleepstudy",
        "",
        "Reaction ~ Days + (0 + Days | Subject)",
        "lmer(Reaction ~ Days + (0 + Days | Subject), data = sleepstudy)",
    ),
    Case(
        "correlated",
        "sleepstudy",
        "",
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        "lmer(Reaction ~ 1 + Days + (1 + Days | Subject), data = sleepstudy)",
    ),
    Case(
        "uncorrelated",
        "sleepstudy",
        "",
        "Reaction ~ Days + (Days || Subject)",
        "lmer(Reaction ~ Days + (Days || Subject), data = sleepstudy)",
    ),
    Case(
        "ml",
        "sleepstudy",
        "",
        "Reaction ~ Days + (Days | Subject)",
        "lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = FALSE)",
        {"reml": False},
    ),
    Case(
        "nested",
        "Pastes",
        "",
        "strength ~ 1 + (1 | batch/cask)",
        "lmer(strength ~ 1 + (1 | batch/cask), data = Pastes)",
    ),
    Case(
        "crossed",
        "Penicillin",
        "",
        "diameter ~ 1 + (1 | plate) + (1 | sample)",
        "lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = Penicillin)",
    ),
    # temperature is an ordered factor: polynomial contrasts must survive.
    Case(
        "ordered_interaction",
        "cake",
        "",
        "angle ~ recipe * temperature + (1 | recipe:replicate)",
        "lmer(angle ~ recipe * temperature + (1 | recipe:replicate), data = cake)",
    ),
    Case(
        "poly",
        "sleepstudy",
        "",
        "Reaction ~ poly(Days, 2) + (1 | Subject)",
        "lmer(Reaction ~ poly(Days, 2) + (1 | Subject), data = sleepstudy)",
    ),
    Case(
        "I",
        "sleepstudy",
        "",
        "Reaction ~ Days + I(Days^2) + (Days | Subject)",
        "lmer(Reaction ~ Days + I(Days^2) + (Days | Subject), data = sleepstudy)",
    ),
    Case(
        "weights_column",
        "sleep_w",
        "sleep_w <- sleepstudy; sleep_w$w <- rep(c(1, 2, 0.5), 60)",
        "Reaction ~ Days + (Days | Subject)",
        "lmer(Reaction ~ Days + (Days | Subject), data = sleep_w, weights = w)",
        {"weights": "w"},
    ),
    Case(
        "offset_column",
        "sleep_o",
        "sleep_o <- sleepstudy; sleep_o$o <- sleep_o$Days * 2",
        "Reaction ~ Days + (1 | Subject)",
        "lmer(Reaction ~ Days + (1 | Subject), data = sleep_o, offset = o)",
        {"offset": "o"},
    ),
    Case(
        "na_omit",
        "sleep_na",
        SLEEP_NA,
        "Reaction ~ Days + (Days | Subject)",
        "lmer(Reaction ~ Days + (Days | Subject), data = sleep_na)",
    ),
    Case(
        "na_exclude",
        "sleep_na",
        SLEEP_NA,
        "Reaction ~ Days + (Days | Subject)",
        "lmer(Reaction ~ Days + (Days | Subject), data = sleep_na, na.action = na.exclude)",
        {"na_action": "exclude"},
    ),
    Case(
        "control_dict",
        "sleepstudy",
        "",
        "Reaction ~ Days + (Days | Subject)",
        "lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, "
        'control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e+05)))',
        {"control": {"optimizer": "bobyqa", "optCtrl": {"maxfun": 1e5}}},
    ),
    Case(
        "control_code",
        "sleepstudy",
        "",
        "Reaction ~ Days + (Days | Subject)",
        "lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy, "
        'control = lmerControl(optimizer = "Nelder_Mead"))',
        {"control": 'lmerControl(optimizer = "Nelder_Mead")'},
    ),
    Case(
        "contrasts",
        "cake",
        "",
        "angle ~ recipe + temp + (1 | recipe:replicate)",
        "lmer(angle ~ recipe + temp + (1 | recipe:replicate), data = cake, "
        'contrasts = list(recipe = "contr.sum"))',
        {"contrasts": {"recipe": "contr.sum"}},
    ),
    Case(
        "odd_names",
        "d.odd",
        'd.odd <- sleepstudy; names(d.odd) <- c("reaction time", "d\u00eda", "sujeto")',
        "`reaction time` ~ d\u00eda + (d\u00eda | sujeto)",
        "lmer(`reaction time` ~ d\u00eda + (d\u00eda | sujeto), data = d.odd)",
    ),
    Case(
        "character_group_integer_x",
        "d_chr",
        "d_chr <- sleepstudy; d_chr$subj <- as.character(d_chr$Subject); "
        "d_chr$day <- as.integer(d_chr$Days); d_chr$Subject <- NULL",
        "Reaction ~ day + (day | subj)",
        "lmer(Reaction ~ day + (day | subj), data = d_chr)",
    ),
    Case(
        "logical_predictor",
        "d_lgl",
        "d_lgl <- sleepstudy; d_lgl$late <- d_lgl$Days > 4",
        "Reaction ~ late + (1 | Subject)",
        "lmer(Reaction ~ late + (1 | Subject), data = d_lgl)",
    ),
    Case(
        "singular",
        "Dyestuff2",
        "",
        "Yield ~ 1 + (1 | Batch)",
        "lmer(Yield ~ 1 + (1 | Batch), data = Dyestuff2)",
    ),
]


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def pair(request: pytest.FixtureRequest) -> tuple[Case, pylme4.LmerFit, dict[str, Any]]:
    case: Case = request.param
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pylme4.lmer(
            case.formula,
            python_data(case.setup, case.data_name),
            data_name=case.data_name,
            **case.kwargs,
        )
    return case, fit, r_reference(case.r_call, case.setup)


def test_estimates(pair):
    _, fit, ref = pair
    assert isinstance(fit, pylme4.LmerFit)
    assert_estimates_match_r(fit, ref)


def test_vcov(pair):
    _, fit, ref = pair
    vc = fit.vcov()
    assert list(vc.columns) == list(ref["vcov"].columns)
    np.testing.assert_allclose(vc.to_numpy(), ref["vcov"].to_numpy(), **SAME)


def test_ranef_and_coef(pair):
    _, fit, ref = pair
    ranef = fit.ranef()
    assert list(ranef) == list(ref["ranef"])
    for group, part in ref["ranef"].items():
        py = ranef[group]
        assert list(py.index.astype(str)) == [str(x) for x in part["levels"]]
        assert list(py.columns) == list(part["values"].columns)
        np.testing.assert_allclose(py.to_numpy(), part["values"].to_numpy(), **SAME)
    coef = fit.coef()
    for group, frame in ref["coef"].items():
        np.testing.assert_allclose(coef[group].to_numpy(), frame.to_numpy(), **SAME)


def test_var_corr(pair):
    _, fit, ref = pair
    vc = fit.var_corr()
    expected = ref["varcorr"]
    assert list(vc.columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert list(vc["grp"]) == list(expected["grp"])
    assert list(vc["var1"].fillna("<NA>")) == list(expected["var1"].fillna("<NA>"))
    np.testing.assert_allclose(vc["vcov"], expected["vcov"], **SAME)
    np.testing.assert_allclose(vc["sdcor"], expected["sdcor"], **SAME)


def test_fitted_residuals_predict(pair):
    _, fit, ref = pair
    assert_same_series(fit.fitted(), ref["fitted"])
    assert_same_series(fit.residuals(), ref["resid"])
    assert_same_series(fit.residuals(type="pearson", scaled=True), ref["pearson"])
    assert_same_series(fit.predict(re_form="NA"), ref["predict_pop"])


def test_printed_text_is_r_text(pair):
    _, fit, ref = pair
    assert str(fit) == ref["print"]
    assert str(fit.summary()) == ref["summary"]


def test_fitted_index_follows_the_data():
    data = r(SLEEP_NA + "\nsleep_na").set_axis(range(1000, 1180))
    omit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data)
    exclude = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data, na_action="exclude")
    dropped = [1002, 1049, 1050, 1099]
    assert omit.fitted().index.equals(data.index.drop(dropped))
    assert exclude.fitted().index.equals(data.index)
    assert exclude.residuals()[dropped].isna().all()
    assert (
        omit.nobs
        == exclude.nobs
        == r(f"{SLEEP_NA}\nnobs(lmer(Reaction ~ Days + (Days | Subject), data = sleep_na))")
    )


def test_predict_newdata_matches_r():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    new = pd.DataFrame(
        {"Days": [0.0, 5.5, 12.0], "Subject": ["308", "372", "999"]}, index=["a", "b", "c"]
    )
    got = fit.predict(new, allow_new_levels=True)
    expected = r(
        "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "new <- data.frame(Days = c(0, 5.5, 12), Subject = c('308', '372', '999'))\n"
        "list(re = unname(predict(m, newdata = new, allow.new.levels = TRUE)),"
        " pop = unname(predict(m, newdata = new, re.form = ~0)))"
    )
    assert list(got.index) == ["a", "b", "c"]
    np.testing.assert_allclose(got, expected["re"], **SAME)
    pop = fit.predict(new, re_form="~0")
    np.testing.assert_allclose(pop, expected["pop"], **SAME)


def test_ranef_cond_var_matches_r_postvar():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    ranef = fit.ranef()  # condVar = TRUE, lme4's default
    expected = r(
        "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "re <- ranef(m)$Subject; pv <- attr(re, 'postVar')\n"
        "list(condsd = cbind(sqrt(pv[1, 1, ]), sqrt(pv[2, 2, ])), condval = unname(as.matrix(re)))"
    )
    condsd = ranef.condsd["Subject"]
    assert list(condsd.columns) == list(ranef["Subject"].columns) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(condsd.to_numpy(), expected["condsd"].to_numpy(), **SAME)
    np.testing.assert_allclose(ranef["Subject"].to_numpy(), expected["condval"].to_numpy(), **SAME)
    # without the conditional variances: the same modes, nothing else
    modes = fit.ranef(cond_var=False)
    assert modes.postvar is None and modes.condsd is None
    pd.testing.assert_frame_equal(modes["Subject"], ranef["Subject"])


def test_ranef_cond_var_of_uncorrelated_terms():
    # For (Days || Subject) lme4 gives postVar as a list, one array per term.
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days || Subject)", sleep, data_name="sleepstudy")
    condsd = fit.ranef().condsd["Subject"]
    expected = r(
        "m <- lmer(Reaction ~ Days + (Days || Subject), data = sleepstudy)\n"
        "pv <- attr(ranef(m)$Subject, 'postVar')\n"
        "cbind(sqrt(pv[[1]][1, 1, ]), sqrt(pv[[2]][1, 1, ]))"
    )
    np.testing.assert_allclose(condsd.to_numpy(), expected.to_numpy(), **SAME)


def test_weights_as_array_equal_weights_as_column():
    data = r("sleep_w <- sleepstudy; sleep_w$w <- rep(c(1, 2, 0.5), 60); sleep_w")
    by_column = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data, weights="w")
    by_array = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data, weights=data["w"].to_numpy())
    np.testing.assert_allclose(by_array.fixef(), by_column.fixef(), **SAME)
    assert "Weights: .weights" in str(by_array.summary())
