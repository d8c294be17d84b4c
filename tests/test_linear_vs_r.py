"""pylme4.lm and pylme4.lm_list against R's lm() and lme4's lmList()."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import R_OUT, SAME, assert_same_series, r, r_printed
from lecture_r import SLEEP

import pylme4
from pylme4 import datasets
from pylme4.errors import DataError, FormulaError
from pylme4.formatting import r_print


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return datasets.lecture_sleep()


@pytest.fixture(scope="module")
def complete(sleep) -> pylme4.LmFit:
    return pylme4.lm("reaction ~ days", sleep, data_name="df.sleep")


@pytest.fixture(scope="module")
def nopool(sleep) -> pylme4.LmListFit:
    return pylme4.lm_list("reaction ~ days | subject", sleep, data_name="df.sleep")


def test_lm_matches_r(complete):
    ref = r(
        SLEEP
        + R_OUT
        + """
        m <- lm(reaction ~ days, data = df.sleep)
        s <- summary(m)
        list(coef = coef(m), sigma = sigma(m), vcov = vcov(m), fitted = unname(fitted(m)),
             resid = unname(residuals(m)), table = as.data.frame(s$coefficients),
             r2 = s$r.squared, adj = s$adj.r.squared, f = s$fstatistic, df = s$df,
             nobs = nobs(m), df_residual = df.residual(m),
             print = out(m), summary = out(s), coef_print = out(coef(m)))
        """
    )
    assert_same_series(complete.coef(), ref["coef"])
    assert list(complete.coef().index) == list(ref["coef"].index) == ["(Intercept)", "days"]
    np.testing.assert_allclose(complete.sigma, ref["sigma"], **SAME)
    np.testing.assert_allclose(complete.vcov().to_numpy(), ref["vcov"].to_numpy(), **SAME)
    assert_same_series(complete.fitted(), ref["fitted"])
    assert_same_series(complete.residuals(), ref["resid"])
    summary = complete.summary()
    np.testing.assert_allclose(summary.coefficients.to_numpy(), ref["table"].to_numpy(), **SAME)
    np.testing.assert_allclose(summary.r_squared, ref["r2"], **SAME)
    np.testing.assert_allclose(summary.adj_r_squared, ref["adj"], **SAME)
    np.testing.assert_allclose(summary.fstatistic, ref["f"], **SAME)
    assert summary.df == tuple(ref["df"])
    assert complete.nobs == ref["nobs"] and complete.df_residual == ref["df_residual"]
    assert str(complete) == ref["print"]
    assert str(summary) == ref["summary"]
    assert r_print(complete.coef()) == ref["coef_print"]


def test_lm_predict_newdata_matches_r(complete):
    new = pd.DataFrame({"days": [0.0, 10.0, 12.5]}, index=["a", "b", "c"])
    expected = r(
        SLEEP + "unname(predict(lm(reaction ~ days, df.sleep), "
        "newdata = data.frame(days = c(0, 10, 12.5))))"
    )
    got = complete.predict(new)
    assert list(got.index) == ["a", "b", "c"]
    assert_same_series(got, expected)


def test_lm_with_missing_values_and_weights_matches_r(sleep):
    data = sleep.copy()
    data.loc[[3, 40], "reaction"] = np.nan
    data["w"] = np.tile([1.0, 2.0, 0.5], 61)
    fit = pylme4.lm("reaction ~ days", data, data_name="d", weights="w", na_action="exclude")
    ref = r(
        SLEEP
        + """
        d <- df.sleep; d$reaction[c(4, 41)] <- NA; d$w <- rep(c(1, 2, 0.5), 61)
        m <- lm(reaction ~ days, data = d, weights = w, na.action = na.exclude)
        list(coef = coef(m), fitted = unname(fitted(m)), nobs = nobs(m))
        """
    )
    assert_same_series(fit.coef(), ref["coef"])
    assert_same_series(fit.fitted(), ref["fitted"], **SAME, equal_nan=True)
    assert fit.fitted().index.equals(data.index)
    assert fit.nobs == ref["nobs"]


def test_lm_pickles(complete):
    again = pickle.loads(pickle.dumps(complete))
    np.testing.assert_array_equal(again.coef(), complete.coef())
    assert str(again) == str(complete)


def test_lm_list_matches_r(nopool):
    ref = r(
        SLEEP
        + R_OUT
        + """
        m <- lmList(reaction ~ days | subject, data = df.sleep)
        list(coef = as.data.frame(coef(m)), print = out(m), coef_print = out(coef(m)),
             sigma = sigma(m), df_residual = attr(lme4:::pooledSD(m), "df"),
             sizes = as.list(table(df.sleep$subject)), nobs = sum(sapply(m, nobs)))
        """
    )
    assert str(nopool) == ref["print"]
    coef = nopool.coef()
    assert list(coef.index) == list(ref["coef"].index)
    np.testing.assert_allclose(coef.to_numpy(), ref["coef"].to_numpy(), **SAME)
    # R's NA for 373's slope (a single row), not the lecture's filled-in 0.
    assert np.isnan(coef.loc["373", "days"])
    assert r_print(coef) == ref["coef_print"]
    np.testing.assert_allclose(nopool.sigma, ref["sigma"], **SAME)
    assert nopool.df_residual == ref["df_residual"]
    assert nopool.group == "subject"
    assert nopool.group_sizes.to_dict() == ref["sizes"]
    assert nopool.nobs == ref["nobs"] and nopool.failed == ()


def test_lm_list_pickles(nopool):
    again = pickle.loads(pickle.dumps(nopool))
    assert str(again) == str(nopool)
    pd.testing.assert_frame_equal(again.coef(), nopool.coef())


def test_lm_list_without_pooling_matches_r(sleep):
    fit = pylme4.lm_list("reaction ~ days | subject", sleep, data_name="df.sleep", pool=False)
    ref = r_printed(SLEEP + "lmList(reaction ~ days | subject, data = df.sleep, pool = FALSE)")
    assert str(fit) == ref
    # R's sigma() of an lmList4 pools whatever pool says; the df are pool=TRUE's
    assert fit.df_residual is None
    np.testing.assert_allclose(
        fit.sigma,
        r(SLEEP + "sigma(lmList(reaction ~ days | subject, df.sleep, pool = FALSE))"),
        **SAME,
    )


def test_bad_formulas_are_named(sleep):
    with pytest.raises(FormulaError, match="lm_list"):
        pylme4.lm_list("reaction ~ days", sleep)
    with pytest.raises(FormulaError, match="lm_list"):
        pylme4.lm("reaction ~ days + (1 | subject)", sleep)
    with pytest.raises(FormulaError, match="dayz"):
        pylme4.lm("reaction ~ dayz", sleep)
    with pytest.raises(DataError):
        pylme4.lm("reaction ~ days", [1, 2, 3])
    # The session survives.
    assert pylme4.lm("reaction ~ days", sleep).nobs == r(
        SLEEP + "nobs(lm(reaction ~ days, data = df.sleep))"
    )
