"""Missing values: na_action="omit" | "exclude" | "fail" exactly as R's
na.omit / na.exclude / na.fail, including which rows fitted(), residuals()
and predict() have (their lengths and their index), with and without
newdata that has missing values.

R names each value by the row of the data it belongs to; pylme4 indexes it by
the label of that row in the DataFrame.  The data here has a non-default
index, so that a value put on the wrong row cannot go unnoticed.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

import pylme4
from pylme4.errors import DataError, PylmeError

FORMULA = "Reaction ~ Days + (Days | Subject)"
# Missing values in the response, a predictor and the grouping factor.
SETUP = "d <- sleepstudy\nd$Reaction[c(3, 50, 51)] <- NA\nd$Days[100] <- NA\nd$Subject[120] <- NA\n"
# newdata: a missing predictor (row 2), a missing grouping value (row 4), a
# new level (row 6), and complete rows.
NEWDATA = (
    "nd <- sleepstudy[c(1, 2, 3, 4, 5, 6, 11, 12), c('Days', 'Subject')]\n"
    "rownames(nd) <- NULL\n"
    "nd$Days[2] <- NA\n"
    "nd$Subject[4] <- NA\n"
    "nd$Subject <- factor(as.character(nd$Subject), levels = c(levels(sleepstudy$Subject), '999'))\n"
    "nd$Subject[6] <- '999'\n"
)
R_NA = {"omit": "na.omit", "exclude": "na.exclude", "fail": "na.fail"}


def _labelled(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return df.set_axis(pd.Index([f"{prefix}{i}" for i in range(len(df))]), axis=0)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return _labelled(r(SETUP + "d"), "row")


@pytest.fixture(scope="module")
def newdata() -> pd.DataFrame:
    return _labelled(r(NEWDATA + "nd"), "new")


def assert_same_rows(py: pd.Series, ref: Any, index: pd.Index) -> None:
    """Values equal to R's, on the rows R names (1-based positions in `index`)."""
    ref = ref if isinstance(ref, pd.Series) else pd.Series(np.atleast_1d(ref))
    positions = np.asarray(ref.index, dtype=np.int64) - 1
    assert len(py) == len(ref)
    assert py.index.equals(index[positions])
    np.testing.assert_allclose(py.to_numpy(), ref.to_numpy(dtype=float), **SAME)


@pytest.mark.parametrize("na_action", ["omit", "exclude"])
def test_fitted_residuals_predict_have_rs_rows(data, na_action):
    fit = pylme4.lmer(FORMULA, data, na_action=na_action)
    ref = r(
        SETUP + f"m <- lmer({FORMULA}, data = d, na.action = {R_NA[na_action]})\n"
        "list(nobs = nobs(m), fixef = fixef(m), fitted = fitted(m), resid = residuals(m),"
        " pearson = residuals(m, type = 'pearson', scaled = TRUE),"
        " predict = predict(m), predict_pop = predict(m, re.form = NA))"
    )
    complete = len(data.dropna())
    assert fit.nobs == ref["nobs"] == complete
    np.testing.assert_allclose(fit.fixef(), ref["fixef"], **SAME)
    assert_same_rows(fit.fitted(), ref["fitted"], data.index)
    assert_same_rows(fit.residuals(), ref["resid"], data.index)
    assert_same_rows(fit.residuals(type="pearson", scaled=True), ref["pearson"], data.index)
    assert_same_rows(fit.predict(), ref["predict"], data.index)
    assert_same_rows(fit.predict(re_form="NA"), ref["predict_pop"], data.index)
    expected_length = complete if na_action == "omit" else len(data)
    assert len(fit.fitted()) == len(fit.residuals()) == len(fit.predict()) == expected_length


def test_na_action_fail_without_missing_values_fits_as_r():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer(FORMULA, sleep, na_action="fail")
    ref = r(
        f"m <- lmer({FORMULA}, data = sleepstudy, na.action = na.fail)\n"
        "list(fixef = fixef(m), fitted = fitted(m), resid = residuals(m))"
    )
    np.testing.assert_allclose(fit.fixef(), ref["fixef"], **SAME)
    assert_same_rows(fit.fitted(), ref["fitted"], sleep.index)
    assert_same_rows(fit.residuals(), ref["resid"], sleep.index)


def test_na_action_fail_with_missing_values_fails_as_r(data):
    failed = r(
        SETUP
        + f"inherits(try(lmer({FORMULA}, data = d, na.action = na.fail), silent = TRUE), 'try-error')"
    )
    assert failed is True
    with pytest.raises(DataError, match="na_action='fail' and 'Reaction', 'Days', 'Subject' have"):
        pylme4.lmer(FORMULA, data, na_action="fail")


PREDICT_CASES = list(
    itertools.product(
        ["omit", "exclude"], ["pass", "omit", "exclude", "fail"], [None, "NA"], [False, True]
    )
)


@pytest.mark.parametrize(
    "fit_na, predict_na, re_form, allow_new",
    PREDICT_CASES,
    ids=[f"fit_{a}-predict_{b}-re_{c}-new_{d}" for a, b, c, d in PREDICT_CASES],
)
def test_predict_newdata_with_missing_values(data, newdata, fit_na, predict_na, re_form, allow_new):
    fit = pylme4.lmer(FORMULA, data, na_action=fit_na)
    re = "NULL" if re_form is None else "NA"
    outcome = r(
        SETUP + NEWDATA + f"m <- lmer({FORMULA}, data = d, na.action = {R_NA[fit_na]})\n"
        f"p <- try(predict(m, newdata = nd, re.form = {re}, allow.new.levels = {str(allow_new).upper()},"
        f" na.action = na.{predict_na}), silent = TRUE)\n"
        "if (inherits(p, 'try-error')) list(error = conditionMessage(attr(p, 'condition'))) else list(value = p)"
    )
    if "error" in outcome:
        with pytest.raises(PylmeError) as info:
            fit.predict(newdata, re_form=re_form, allow_new_levels=allow_new, na_action=predict_na)
        assert info.value.r_message == outcome["error"]
    else:
        got = fit.predict(
            newdata, re_form=re_form, allow_new_levels=allow_new, na_action=predict_na
        )
        assert_same_rows(got, outcome["value"], newdata.index)


def test_predict_na_action_is_checked(data):
    fit = pylme4.lmer(FORMULA, data)
    with pytest.raises(ValueError, match="na_action"):
        fit.predict(data, na_action="drop")
