"""Case-resampling bootstraps against the same resampling written in R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, assert_same_series, r
from lecture_r import SLEEP

import pylme4
from pylme4 import datasets, resampling
from pylme4.errors import ConvergenceWarning

# modelr::bootstrap's resampling, replicate by replicate: sample(nrow(data),
# replace = TRUE), then the model on those rows.
_R_BOOT = r"""
set.seed(%(seed)d)
t <- t(vapply(1:%(n)d, function(i) {
  d <- df.sleep[sample(nrow(df.sleep), replace = TRUE), ]
  %(estimate)s
}, numeric(2)))
t
"""

_LM = "coef(lm(reaction ~ 1 + days, data = d))"
# Also counts the replicates whose refit R warned about.
_LMER = (
    "hit <- FALSE; "
    "m <- withCallingHandlers(lmer(reaction ~ 1 + days + (1 + days | subject), data = d),"
    " warning = function(w) { hit <<- TRUE; invokeRestart('muffleWarning') },"
    " message = function(m) invokeRestart('muffleMessage')); "
    "if (hit) warned <<- warned + 1; fixef(m)"
)


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return datasets.lecture_sleep()


def test_lm_bootstrap_is_rs_resampling(sleep):
    fit = pylme4.lm("reaction ~ 1 + days", sleep, data_name="df.sleep")
    boot = resampling.bootstrap_lm(fit, n=50, seed=11)
    expected = r(SLEEP + _R_BOOT % {"seed": 11, "n": 50, "estimate": _LM})
    assert boot.t.shape == (50, 2)
    assert list(boot.t.columns) == ["(Intercept)", "days"]
    assert list(boot.t.index) == list(range(1, 51))
    np.testing.assert_allclose(boot.t.to_numpy(), expected.to_numpy(), **SAME)
    t0 = r(SLEEP + f"d <- df.sleep\n{_LM}")
    assert list(boot.t0.index) == list(t0.index)
    assert_same_series(boot.t0, t0)
    assert boot.n_failed == 0 and boot.seed == 11
    # The same seed gives the same replicates; R's stream continues otherwise.
    again = resampling.bootstrap_lm(fit, n=50, seed=11)
    pd.testing.assert_frame_equal(boot.t, again.t)
    unseeded = resampling.bootstrap_lm(fit, n=5)
    assert unseeded.seed is None and unseeded.t.shape == (5, 2)


def test_percentile_interval_is_rs_quantile(sleep):
    fit = pylme4.lm("reaction ~ 1 + days", sleep, data_name="df.sleep")
    boot = resampling.bootstrap_lm(fit, n=40, seed=3)
    expected = r(
        SLEEP
        + _R_BOOT % {"seed": 3, "n": 40, "estimate": _LM}
        + "\nunname(quantile(t[, 2], c(0.05, 0.95)))"
    )
    ci = boot.ci("days", level=0.9)
    np.testing.assert_allclose([ci.low, ci.high], expected, **SAME)
    assert ci.excludes_zero()
    assert boot.ci(1, level=0.9) == ci
    with pytest.raises(ValueError, match="perc"):
        boot.ci("days", type="norm")
    with pytest.raises(ValueError, match="level"):
        boot.ci("days", level=1.5)
    with pytest.raises(KeyError, match="Days"):
        boot.ci("Days")


def test_naive_lmer_bootstrap_is_rs_resampling_and_counts_warnings(sleep):
    fit = pylme4.lmer("reaction ~ 1 + days + (1 + days | subject)", sleep, data_name="df.sleep")
    boot = resampling.bootstrap_lmer_rows(fit, n=20, seed=5)
    ref = r(
        SLEEP
        + "warned <- 0\n"
        + _R_BOOT % {"seed": 5, "n": 20, "estimate": _LMER}
        + "\nlist(t = t, warned = warned)"
    )
    np.testing.assert_allclose(boot.t.to_numpy(), ref["t"].to_numpy(), **SAME)
    assert boot.n_warned == ref["warned"]
    t0 = r(SLEEP + "fixef(lmer(reaction ~ 1 + days + (1 + days | subject), data = df.sleep))")
    assert list(boot.t0.index) == list(t0.index)
    assert_same_series(boot.t0, t0)
    assert "lmer(formula = reaction ~ 1 + days + (1 + days | subject)" in str(boot)
    # The same rows as the lm bootstrap draws for the same seed.
    lm_fit = pylme4.lm("reaction ~ 1 + days", sleep, data_name="df.sleep")
    lm_boot = resampling.bootstrap_lm(lm_fit, n=20, seed=5)
    lm_ref = r(SLEEP + _R_BOOT % {"seed": 5, "n": 20, "estimate": _LM})
    np.testing.assert_allclose(lm_boot.t.to_numpy(), lm_ref.to_numpy(), **SAME)


@pytest.mark.filterwarnings("ignore:Some predictor variables are on very different scales")
def test_convergence_warnings_of_refits_are_counted():
    # Rescaled days make lme4's gradient check fail on many resamples.
    data = datasets.lecture_sleep()
    data["days"] = data["days"] * 1000
    with pytest.warns(ConvergenceWarning):
        fit = pylme4.lmer("reaction ~ 1 + days + (1 + days | subject)", data, data_name="d")
    boot = resampling.bootstrap_lmer_rows(fit, n=10, seed=1)
    ref = r(
        SLEEP
        + "df.sleep$days <- df.sleep$days * 1000\nwarned <- 0\n"
        + _R_BOOT % {"seed": 1, "n": 10, "estimate": _LMER}
        + "\nwarned"
    )
    assert boot.n_warned == ref > 0
    assert boot.n_convergence_warnings == boot.n_warned
    assert len(boot.convergence_messages()) >= boot.n_convergence_warnings


def test_arguments_are_checked(sleep):
    fit = pylme4.lm("reaction ~ days", sleep)
    with pytest.raises(ValueError, match="n must be"):
        resampling.bootstrap_lm(fit, n=0)
    with pytest.raises(TypeError, match="seed"):
        resampling.bootstrap_lm(fit, seed="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="boot_mer"):
        resampling.bootstrap_lm(
            pylme4.lmer("reaction ~ days + (1 | subject)", sleep)  # type: ignore[arg-type]
        )
    with pytest.raises(TypeError, match="lmer"):
        resampling.bootstrap_lmer_rows(fit)  # type: ignore[arg-type]
    weighted = pylme4.lm("reaction ~ days", sleep, weights=np.ones(len(sleep)))
    with pytest.raises(pylme4.RError, match="columns of the data"):
        resampling.bootstrap_lm(weighted, n=2)
    by_column = pylme4.lm("reaction ~ days", sleep.assign(w=1.0), weights="w")
    assert resampling.bootstrap_lm(by_column, n=2, seed=1).n_failed == 0
