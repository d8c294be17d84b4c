"""fit.r2() and fit.icc() against performance::r2_nakagawa() and
performance::icc() in R, on the same data in the same process: values to
rtol=1e-12, R's printed text exactly, R's warnings as Python warnings."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest
from cbpp_r import CBIND
from conftest import R_OUT, SAME, assert_same_table, r

import pylme4
from pylme4.errors import ArgumentError, ArgumentTypeError, RError, RMessage, RWarning
from pylme4.goodness import ICC, ICCByGroup

# R code: `run(expr)` evaluates expr recording its warnings and messages (and
# what performance printed instead of signalling) in order.
_RUN = (
    R_OUT
    + r"""
run <- function(expr) {
  said <- character()
  printed <- capture.output(value <- withCallingHandlers(expr,
    warning = function(w) { said <<- c(said, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { said <<- c(said, conditionMessage(m)); invokeRestart("muffleMessage") }))
  printed <- trimws(printed[nzchar(trimws(printed))])
  list(value = value, said = I(sub("\n$", "", said)), printed = I(printed))
}
"""
)

SLEEP_NA = "sleep_na <- sleepstudy; sleep_na$Reaction[c(4, 11, 51)] <- NA"
GAMMA = (
    "set.seed(1); gam <- data.frame(g = factor(rep(1:20, each = 10)), x = rnorm(200)); "
    "gam$y <- rgamma(200, shape = 2, rate = 2 / exp(0.3 * gam$x + 0.3 * rnorm(20)[gam$g]))"
)

# (id, setup, R model, how Python fits it)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "sleepstudy_slopes",
        "",
        "lmer(Reaction ~ Days + (Days | Subject), sleepstudy)",
        {"formula": "Reaction ~ Days + (Days | Subject)", "data_name": "sleepstudy"},
    ),
    (
        "sleepstudy_intercept",
        "",
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, REML = FALSE)",
        {"formula": "Reaction ~ Days + (1 | Subject)", "data_name": "sleepstudy", "reml": False},
    ),
    (
        "sleep_na",
        SLEEP_NA,
        "lmer(Reaction ~ Days + (Days | Subject), sleep_na)",
        {"formula": "Reaction ~ Days + (Days | Subject)", "data_name": "sleep_na"},
    ),
    (
        "cbpp_binomial",
        "",
        f"glmer({CBIND}, cbpp, binomial)",
        {"formula": CBIND, "data_name": "cbpp", "family": "binomial", "fun": "glmer"},
    ),
    (
        "grouseticks_poisson",
        "",
        "glmer(TICKS ~ YEAR + (1 | LOCATION), grouseticks, poisson)",
        {
            "formula": "TICKS ~ YEAR + (1 | LOCATION)",
            "data_name": "grouseticks",
            "family": "poisson",
            "fun": "glmer",
        },
    ),
    (
        "gamma_log",
        GAMMA,
        'glmer(y ~ x + (1 | g), gam, Gamma(link = "log"))',
        {
            "formula": "y ~ x + (1 | g)",
            "data_name": "gam",
            "family": 'Gamma(link = "log")',
            "fun": "glmer",
        },
    ),
    (
        "grouseticks_negative_binomial",
        "",
        "glmer.nb(TICKS ~ YEAR + (1 | LOCATION), grouseticks)",
        {"formula": "TICKS ~ YEAR + (1 | LOCATION)", "data_name": "grouseticks", "fun": "glmer_nb"},
    ),
]


def _fit(setup: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    fun = getattr(pylme4, kwargs.pop("fun", "lmer"))
    name = kwargs["data_name"]
    data = r(f"{setup}\n{name}") if setup else pylme4.datasets.load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fun(kwargs.pop("formula"), data, **kwargs)


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def case(request: pytest.FixtureRequest) -> tuple[Any, dict[str, Any]]:
    _, setup, model, kwargs = request.param
    ref = r(
        f"{_RUN}{setup}\nm <- suppressWarnings({model})\n"
        "r2 <- run(performance::r2_nakagawa(m))\n"
        "icc <- run(performance::icc(m))\n"
        "byg <- run(performance::icc(m, by_group = TRUE))\n"
        "list(r2 = unlist(r2$value), r2_said = r2$said, r2_text = out(r2$value),\n"
        "     icc = as.list(icc$value), icc_said = icc$said, icc_text = out(icc$value),\n"
        "     byg = as.data.frame(unclass(byg$value)), byg_said = byg$said,\n"
        "     byg_text = out(byg$value))"
    )
    return _fit(setup, kwargs), ref


def _said(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught]


def test_r2(case):
    fit, ref = case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r2 = fit.r2()
    np.testing.assert_allclose(r2.conditional, ref["r2"]["R2_conditional.Conditional R2"], **SAME)
    np.testing.assert_allclose(r2.marginal, ref["r2"]["R2_marginal.Marginal R2"], **SAME)
    assert str(r2) == ref["r2_text"]
    assert _said(caught) == list(ref["r2_said"]) == [c.text for c in r2.messages]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r2.marginal = 0.0  # type: ignore[misc]


def test_icc(case):
    fit, ref = case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        icc = fit.icc()
    assert isinstance(icc, ICC)
    np.testing.assert_allclose(icc.adjusted, ref["icc"]["ICC_adjusted"], **SAME)
    np.testing.assert_allclose(icc.unadjusted, ref["icc"]["ICC_unadjusted"], **SAME)
    np.testing.assert_allclose(icc.unadjusted, ref["icc"]["ICC_conditional"], **SAME)
    assert str(icc) == ref["icc_text"]
    assert _said(caught) == list(ref["icc_said"])


def test_icc_by_group(case):
    fit, ref = case
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        icc = fit.icc(by_group=True)
    assert isinstance(icc, ICCByGroup)
    assert_same_table(icc.table, ref["byg"], snake=False)
    assert str(icc) == ref["byg_text"]
    assert _said(caught) == list(ref["byg_said"]) == [c.text for c in icc.messages]
    assert all(w.category is RWarning for w in caught)


def test_slopes_warn_for_icc_by_group():
    """R warns that ICCs by group are not accurate with random slopes; so does pylme4."""
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    with pytest.warns(RWarning, match="random slopes"):
        fit.icc(by_group=True)


# A model whose random-intercept variance is estimated as exactly zero.
SINGULAR = (
    "set.seed(1); flat <- data.frame(g = factor(rep(1:10, each = 5)), y = rnorm(50))\n"
    "stopifnot(getME(suppressMessages(lmer(y ~ 1 + (1 | g), flat)), 'theta') == 0)"
)


@pytest.fixture(scope="module")
def singular() -> tuple[Any, dict[str, Any]]:
    data = r(f"{SINGULAR}\nflat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pylme4.lmer("y ~ 1 + (1 | g)", data, data_name="flat")
    ref = r(
        f"{_RUN}{SINGULAR}\nm <- suppressMessages(lmer(y ~ 1 + (1 | g), flat))\n"
        "r2 <- run(performance::r2_nakagawa(m))\nicc <- run(performance::icc(m))\n"
        "list(r2 = unlist(r2$value), r2_said = r2$said, r2_printed = r2$printed,\n"
        "     r2_text = out(r2$value), icc = icc$value, icc_said = icc$said)"
    )
    return fit, ref


def test_r2_of_a_singular_fit_warns_and_gives_nan(singular):
    """performance returns the marginal R2 with an NA conditional R2, warns, and
    prints a note; pylme4 returns NaN and raises both as warnings (never prints)."""
    fit, ref = singular
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r2 = fit.r2()
    assert np.isnan(r2.conditional) and np.isnan(ref["r2"]["R2_conditional.Conditional R2"])
    np.testing.assert_allclose(r2.marginal, ref["r2"]["R2_marginal.Marginal R2"], **SAME)
    assert str(r2) == ref["r2_text"]
    assert [(w.category, str(w.message)) for w in caught] == [
        (RWarning, ref["r2_said"][0]),
        (RMessage, ref["r2_printed"][0]),
    ]
    assert "Random effect variances not available" in ref["r2_printed"][0]


def test_icc_of_a_singular_fit_is_an_error(singular):
    """performance returns NA (with a warning): pylme4 raises, with R's reason."""
    fit, ref = singular
    assert ref["icc"] is None or np.isnan(ref["icc"])
    with pytest.raises(RError, match="icc\\(\\): performance could not compute") as info:
        fit.icc()
    assert info.value.r_message == ref["icc_said"][0]
    assert "Can't compute random effect variances" in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the same warnings as above
        assert fit.r2().marginal == 0.0  # the session goes on


def test_tolerance_is_performances():
    """Variances below ``tolerance`` count as zero, as in R: sleepstudy's slope
    variance (35) is below 100, so the conditional R2 cannot be computed."""
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    ref = r(
        f"{_RUN}m <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)\n"
        "list(r2 = unlist(run(performance::r2_nakagawa(m, tolerance = 100))$value),\n"
        "     icc = run(performance::icc(m, tolerance = 100))$value)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r2 = fit.r2(tolerance=100)
    assert np.isnan(r2.conditional) and np.isnan(ref["r2"]["R2_conditional.Conditional R2"])
    np.testing.assert_allclose(r2.marginal, ref["r2"]["R2_marginal.Marginal R2"], **SAME)
    assert ref["icc"] is None or np.isnan(ref["icc"])
    with pytest.raises(RError):
        fit.icc(tolerance=100)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"tolerance": 0}, ArgumentError, "tolerance must be a positive number"),
        ({"tolerance": "small"}, ArgumentTypeError, "tolerance"),
        ({"by_group": "yes"}, ArgumentTypeError, "by_group must be True or False"),
    ],
)
def test_bad_arguments(kwargs, error, words):
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
    with pytest.raises(error, match=words):
        fit.icc(**kwargs)
    if "by_group" not in kwargs:
        with pytest.raises(error, match=words):
            fit.r2(**kwargs)
    assert fit.r2().marginal > 0  # the session goes on
