"""Power by simulation against the R loop of docs/power.md, run in R in the
same process: every p-value equal (same seed, same fits), the interval
binom.test's, workers identical to serial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

import pylme4
from pylme4.errors import ArgumentError, ArgumentTypeError

# The loop of docs/power.md, for lmer (lmerTest's F test) and with the LRT.
R_POWER = r"""
local({
  data0 <- %(data)s
  m <- lme4::lmer(%(formula)s, data0)
  beta <- lme4::fixef(m); beta["%(coef)s"] <- %(effect)s
  ys <- simulate(m, nsim = %(nsim)d, seed = %(seed)d,
                 newparams = list(theta = lme4::getME(m, "theta"), beta = beta,
                                  sigma = sigma(m)))
  sapply(ys, function(y) {
    d <- data0; d[[%(response)s]][as.integer(rownames(model.frame(m)))] <- y
    %(test)s
  })
})
"""

SATTERTHWAITE = """m1 <- lmerTest::lmer(%(formula)s, data = d)
    anova(m1)["%(term)s", "Pr(>F)"]"""

LRT = """m1 <- lme4::lmer(%(formula)s, data = d)
    m0 <- lme4::lmer(%(reduced)s, data = d)
    suppressMessages(anova(m0, m1))[2, "Pr(>Chisq)"]"""


# The power_curve loop of docs/power.md (SIZE: the number of subjects).
R_CURVE = r"""
local({
  m <- lme4::lmer(Reaction ~ Days + (Days | Subject), sleepstudy)
  extend <- function(data, along, size) {
    levs <- levels(factor(data[[along]])); L <- length(levs)
    parts <- lapply(seq_len(size), function(j) {
      src <- levs[(j - 1) %% L + 1]
      rows <- data[as.character(data[[along]]) == src, , drop = FALSE]
      copy <- (j - 1) %/% L
      rows[[along]] <- if (copy == 0) src else paste0(src, "_", copy + 1)
      rows
    })
    out <- do.call(rbind, parts); rownames(out) <- NULL
    out[[along]] <- factor(out[[along]], levels = unique(out[[along]])); out
  }
  d0 <- extend(sleepstudy, "Subject", SIZE)
  beta <- lme4::fixef(m); beta["Days"] <- 3
  ys <- simulate(formula(m), newdata = d0, nsim = 5, seed = 1,
                 newparams = list(theta = lme4::getME(m, "theta"), beta = beta,
                                  sigma = sigma(m)))
  sapply(ys, function(y) {
    d <- d0; d$Reaction <- y
    anova(lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = d))["Days", "Pr(>F)"]
  })
})
"""


@pytest.fixture(scope="module")
def sleep_fit() -> pylme4.LmerFit:
    sleep = pylme4.datasets.load("sleepstudy")
    return pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")


def _r_loop(test: str, **values) -> np.ndarray:
    values = {"seed": 1, **values}
    code = R_POWER % {**values, "test": test % values}
    return np.asarray(r(code), dtype=float)


def test_power_satterthwaite_equals_the_r_loop(sleep_fit):
    pw = pylme4.power(sleep_fit, "Days", effect=3, nsim=12, seed=7)
    expected = _r_loop(
        SATTERTHWAITE,
        formula="Reaction ~ Days + (Days | Subject)",
        data="sleepstudy",
        coef="Days",
        term="Days",
        effect=3,
        nsim=12,
        seed=7,
        response='"Reaction"',
    )
    np.testing.assert_allclose(pw.p_values.to_numpy(), expected, **SAME)
    hits = int((expected < 0.05).sum())
    assert pw.successes == hits and pw.power == hits / 12
    low, high = r(f"binom.test({hits}, 12)$conf.int")
    assert pw.ci == pytest.approx((low, high), rel=1e-12)
    assert list(pw.p_values.index) == [f"sim_{i}" for i in range(1, 13)]
    assert pw.n_failed == 0 and (pw.errors == "").all()
    assert str(pw).splitlines()[0] == "Power for the term 'Days', (95% confidence interval):"
    assert "Based on 12 simulations (0 failed" in str(pw)


def test_power_lrt_equals_the_r_loop_and_workers_change_nothing(sleep_fit):
    serial = pylme4.power(sleep_fit, "Days", effect=2.5, nsim=8, seed=3, method="lrt")
    expected = _r_loop(
        LRT,
        formula="Reaction ~ Days + (Days | Subject)",
        reduced="Reaction ~ 1 + (Days | Subject)",
        data="sleepstudy",
        coef="Days",
        effect=2.5,
        nsim=8,
        seed=3,
        response='"Reaction"',
    )
    np.testing.assert_allclose(serial.p_values.to_numpy(), expected, **SAME)
    parallel = pylme4.power(sleep_fit, "Days", effect=2.5, nsim=8, seed=3, method="lrt", workers=2)
    pd.testing.assert_series_equal(parallel.p_values, serial.p_values, check_exact=True)


def test_power_with_na_rows_fills_the_rows_the_fit_used():
    sleep = pylme4.datasets.load("sleepstudy")
    sleep.loc[[3, 50, 51, 120], "Reaction"] = np.nan
    sleep.loc[[7], "Days"] = np.nan
    fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleep_na")
    pw = pylme4.power(fit, "Days", effect=4, nsim=6, seed=11)
    expected = _r_loop(
        SATTERTHWAITE,
        formula="Reaction ~ Days + (1 | Subject)",
        data="local({d <- lme4::sleepstudy; d$Reaction[c(4, 51, 52, 121)] <- NA; "
        "d$Days[8] <- NA; d})",
        coef="Days",
        term="Days",
        effect=4,
        nsim=6,
        seed=11,
        response='"Reaction"',
    )
    np.testing.assert_allclose(pw.p_values.to_numpy(), expected, **SAME)


def test_glmer_power_lrt_and_wald_equal_the_r_loop():
    cbpp = pylme4.datasets.load("cbpp")
    cbpp["x"] = np.tile(np.linspace(-1, 1, 8), 7)[: len(cbpp)]
    fit = pylme4.glmer(
        "cbind(incidence, size - incidence) ~ x + (1 | herd)",
        cbpp,
        family="binomial",
        data_name="cbpp_x",
    )
    lrt = pylme4.power(fit, "x", effect=0.8, nsim=6, seed=5)
    wald = pylme4.power(fit, "x", effect=0.8, nsim=6, seed=5, method="wald")
    assert lrt.method == "lrt"
    expected = r(
        r"""
local({
  d0 <- lme4::cbpp; d0$x <- rep(seq(-1, 1, length.out = 8), 7)[seq_len(nrow(d0))]
  m <- lme4::glmer(cbind(incidence, size - incidence) ~ x + (1 | herd), d0, family = binomial)
  beta <- lme4::fixef(m); beta["x"] <- 0.8
  ys <- simulate(m, nsim = 6, seed = 5,
                 newparams = list(theta = lme4::getME(m, "theta"), beta = beta))
  t(sapply(ys, function(y) {
    d <- d0; d$incidence <- y[, 1]
    m1 <- lme4::glmer(cbind(incidence, size - incidence) ~ x + (1 | herd), d, family = binomial)
    m0 <- lme4::glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), d, family = binomial)
    c(anova(m0, m1)[2, "Pr(>Chisq)"], coef(summary(m1))["x", "Pr(>|z|)"])
  }))
})
"""
    )
    expected = np.asarray(expected, dtype=float)
    np.testing.assert_allclose(lrt.p_values.to_numpy(), expected[:, 0], **SAME)
    np.testing.assert_allclose(wald.p_values.to_numpy(), expected[:, 1], **SAME)


def test_power_curve_equals_the_r_loop_per_size(sleep_fit):
    curve = pylme4.power_curve(sleep_fit, "Days", along="Subject", n=[6, 24], effect=3, nsim=5)
    assert list(curve.frame["n"]) == [6, 24]
    assert list(curve.frame["nobs"]) == [60, 240]
    for size, result in zip([6, 24], curve.results):
        expected = r(R_CURVE.replace("SIZE", str(size)))
        np.testing.assert_allclose(result.p_values.to_numpy(), np.asarray(expected), **SAME)
        assert curve.frame.loc[curve.frame["n"] == size, "power"].item() == result.power
    assert "by the number of levels of Subject" in str(curve)
    pytest.importorskip("matplotlib")
    from pylme4 import plot

    fig = plot.power_curve(curve)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "target 0.8",
        "power (95% interval)",
    ]
    assert list(ax.get_xticks()) == [6, 24]
    with pytest.raises(ArgumentTypeError, match="draws a PowerCurve"):
        plot.power_curve(curve.results[0])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"test": "Dayz"},
            ArgumentError,
            r"test='Dayz' is not a fixed-effect term.*did you mean 'Days'",
        ),
        ({"test": 1}, ArgumentTypeError, r"test must be a term"),
        (
            {"test": "Days", "effect": {"Dys": 1}},
            ArgumentError,
            r"effect names 'Dys'.*did you mean 'Days'",
        ),
        (
            {"test": "Days", "effect": "big"},
            ArgumentTypeError,
            r"effect must be a number or a dict",
        ),
        (
            {"test": "Days", "effect": float("nan")},
            ArgumentError,
            r"effect\['Days'\] must be finite",
        ),
        (
            {"test": "Days", "method": "wald"},
            ArgumentError,
            r"method='wald' is the z test of a GLMM",
        ),
        ({"test": "Days", "method": "satt"}, ArgumentError, r"did you mean 'satterthwaite'"),
        ({"test": "Days", "alpha": 1.5}, ArgumentError, r"alpha must be a number strictly between"),
        ({"test": "Days", "nsim": 0}, ArgumentError, r"nsim must be a positive integer"),
        ({"test": "Days", "workers": 0}, ArgumentError, r"workers must be a positive integer"),
    ],
)
def test_bad_arguments_name_the_culprit(sleep_fit, kwargs, error, match):
    with pytest.raises(error, match=match):
        pylme4.power(sleep_fit, **kwargs)


def test_power_curve_bad_arguments(sleep_fit):
    with pytest.raises(
        ArgumentError, match=r"along='Subjct' is not a grouping factor.*did you mean 'Subject'"
    ):
        pylme4.power_curve(sleep_fit, "Days", along="Subjct", n=[10])
    with pytest.raises(ArgumentError, match=r"at least 2 each, not 1"):
        pylme4.power_curve(sleep_fit, "Days", along="Subject", n=[1, 10])


def test_a_computed_response_is_refused_before_simulating():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("log(Reaction) ~ Days + (1 | Subject)", sleep)
    with pytest.raises(ArgumentError, match=r"model's response is 'log\(Reaction\)'"):
        pylme4.power(fit, "Days", nsim=2)
