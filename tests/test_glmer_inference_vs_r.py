"""Inference on glmer fits against R in the same process: simulate(),
boot_mer(), confint(), anova() (likelihood-ratio tests), all_fit() and
check_convergence(), on lme4's cbpp binomial model and a Poisson model.

The bootstraps are small (nsim 5-10) so the suite stays quick.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from cbpp_r import CBIND, CBIND_BIG, CBPP_BIG
from conftest import R_OUT, SAME, r, r_printed

import pylme4

CBPP = f"m <- glmer({CBIND}, data = cbpp, family = binomial)\n"
TICKS_FORMULA = "TICKS ~ YEAR + cHEIGHT + (1 | LOCATION)"
TICKS = f"m <- glmer({TICKS_FORMULA}, data = grouseticks, family = poisson)\n"
PROFILE = {"rtol": 1e-8, "atol": 0.0}


@pytest.fixture(scope="module")
def cbpp_fit() -> pylme4.GlmerFit:
    return pylme4.glmer(CBIND, pylme4.datasets.load("cbpp"), family="binomial", data_name="cbpp")


@pytest.fixture(scope="module")
def ticks_fit() -> pylme4.GlmerFit:
    return pylme4.glmer(
        TICKS_FORMULA,
        pylme4.datasets.load("grouseticks"),
        family="poisson",
        data_name="grouseticks",
    )


# -- simulate ------------------------------------------------------------------


def test_simulate_poisson_equals_r(ticks_fit):
    got = ticks_fit.simulate(nsim=3, seed=2)
    ref = r(TICKS + "s <- simulate(m, nsim = 3, seed = 2)\nas.data.frame(s)")
    assert list(got.columns) == list(ref.columns) == ["sim_1", "sim_2", "sim_3"]
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    conditional = ticks_fit.simulate(nsim=2, seed=3, use_u=True)
    ref = r(TICKS + "as.data.frame(simulate(m, nsim = 2, seed = 3, use.u = TRUE))")
    np.testing.assert_array_equal(conditional.to_numpy(), ref.to_numpy())


def test_simulate_binomial_cbind_equals_r(cbpp_fit):
    """A cbind() response simulates (successes, failures) per replicate, as in R."""
    got = cbpp_fit.simulate(nsim=2, seed=1)
    ref = r(CBPP + "s <- simulate(m, nsim = 2, seed = 1)\ndo.call(cbind, unclass(s))")
    # The names R prints for the matrix columns of the simulated data frame
    # (format() is what print.data.frame lays out).
    printed = r(CBPP + "s <- simulate(m, nsim = 2, seed = 1)\nas.list(names(format(s)))")
    assert (
        list(got.columns)
        == printed
        == ["sim_1.incidence", "sim_1.V2", "sim_2.incidence", "sim_2.V2"]
    )
    assert got.shape == (56, 4)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


# -- boot_mer ------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_boot_mer_replicates_are_r_bit_for_bit(cbpp_fit, workers):
    b = cbpp_fit.boot_mer("fixef", nsim=6, seed=1, workers=workers)
    ref = r(
        CBPP + "b <- suppressWarnings(bootMer(m, fixef, nsim = 6, seed = 1))\n"
        "list(t = b$t, t0 = b$t0, names = names(b$t0))"
    )
    assert np.array_equal(b.t.to_numpy(), ref["t"].to_numpy(), equal_nan=True)
    np.testing.assert_array_equal(b.t0.to_numpy(), ref["t0"].to_numpy())
    assert list(b.t.columns) == list(ref["names"])


def test_python_statistic_on_glmer_refits(cbpp_fit):
    def odds_ratio(fit: pylme4.GlmerFit) -> float:
        return float(np.exp(fit.fixef()["period2"]))

    b = cbpp_fit.boot_mer(odds_ratio, nsim=5, seed=9)
    ref = r(
        CBPP + "b <- suppressWarnings(bootMer(m, function(x) exp(fixef(x)[['period2']]),"
        " nsim = 5, seed = 9))\nas.vector(b$t)"
    )
    np.testing.assert_array_equal(b.t.to_numpy().ravel(), ref)


# -- confint -------------------------------------------------------------------


def test_wald_intervals_equal_r(cbpp_fit):
    got = cbpp_fit.confint(method="Wald")
    ref = r(CBPP + "confint(m, method = 'Wald')")
    assert list(got.index) == list(ref.index) == [".sig01", *cbpp_fit.fixef().index]
    assert list(got.columns) == list(ref.columns)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), equal_nan=True, **SAME)


def test_profile_intervals_equal_r(cbpp_fit):
    got = cbpp_fit.confint()
    ref = r(CBPP + "suppressMessages(confint(m))")
    assert list(got.index) == list(ref.index)
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), **PROFILE)


def test_boot_intervals_equal_r(cbpp_fit):
    got = cbpp_fit.confint(method="boot", nsim=10, seed=4)
    ref = r(
        CBPP
        + "suppressWarnings(suppressMessages(confint(m, method = 'boot', nsim = 10, seed = 4)))"
    )
    assert list(got.index) == list(ref.index)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


# -- anova: likelihood-ratio tests -------------------------------------------------


def test_anova_lrt_between_glmer_fits_equals_r(cbpp_fit, no_warnings):
    # no_warnings: glmer fits are ML fits, nothing to refit (and nothing to warn about).
    cbpp = pylme4.datasets.load("cbpp")
    m0 = pylme4.glmer(
        "cbind(incidence, size - incidence) ~ 1 + (1 | herd)",
        cbpp,
        family="binomial",
        data_name="cbpp",
    )
    got = pylme4.anova(m0, cbpp_fit)
    ref = r(
        "m0 <- glmer(cbind(incidence, size - incidence) ~ 1 + (1 | herd), data = cbpp,"
        " family = binomial)\n"
        f"cbpp_fit <- glmer({CBIND}, data = cbpp, family = binomial)\n"
        "a <- anova(m0, cbpp_fit)\n"
        f"{R_OUT}list(table = as.data.frame(a, check.names = FALSE), text = out(a))"
    )
    assert str(got) == ref["text"]
    assert list(got.table.columns) == list(ref["table"].columns)
    np.testing.assert_allclose(
        got.table.to_numpy(dtype=float), ref["table"].to_numpy(dtype=float), equal_nan=True, **SAME
    )


def test_anova_negative_binomial_against_poisson():
    """The classic overdispersion check: Poisson vs negative binomial by LRT."""
    ticks = pylme4.datasets.load("grouseticks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pois = pylme4.glmer(TICKS_FORMULA, ticks, family="poisson", data_name="grouseticks")
        nb = pylme4.glmer_nb(TICKS_FORMULA, ticks, data_name="grouseticks")
        got = pylme4.anova(poisson=pois, negbin=nb)
    ref = r_printed(
        f"poisson <- glmer({TICKS_FORMULA}, data = grouseticks, family = poisson)\n"
        f"negbin <- suppressWarnings(glmer.nb({TICKS_FORMULA}, data = grouseticks))\n"
        "anova(poisson, negbin)"
    )
    assert str(got) == ref


# -- all_fit / check_convergence -------------------------------------------------

R_ALLFIT = (
    R_OUT
    + r"""
%(fit)s
af <- suppressWarnings(allFit(m, verbose = FALSE))
s <- summary(af)
list(which_ok = s$which.OK, fixef = as.data.frame(s$fixef, check.names = FALSE),
     llik = s$llik, sdcor = as.data.frame(s$sdcor, check.names = FALSE), text = out(s))
"""
)


def _without_times(text: str) -> str:
    return re.sub(r"\$times\n.*?\n\n", "$times\n<times>\n\n", text, flags=re.DOTALL)


def test_all_fit_equals_r(cbpp_fit):
    af = cbpp_fit.all_fit()
    ref = r(R_ALLFIT % {"fit": CBPP})
    assert _without_times(str(af)) == _without_times(ref["text"])
    assert af.which_ok.to_dict() == {k: bool(v) for k, v in ref["which_ok"].items()}
    np.testing.assert_array_equal(af.fixef.to_numpy(), ref["fixef"].to_numpy())
    np.testing.assert_array_equal(af.llik.to_numpy(), np.asarray(ref["llik"]))


def test_check_convergence_on_a_warned_glmer():
    """A predictor on a scale 1000 times the others: lme4 warns ("very large
    eigenvalue"); allFit's optimizers tell whether the warning matters."""
    with pytest.warns(pylme4.ConvergenceWarning, match="very large eigenvalue"):
        fit = pylme4.glmer(
            CBIND_BIG, r(f"{CBPP_BIG}\ncbpp_big"), family="binomial", data_name="cbpp_big"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some optimizers' refits warn again
        check = fit.check_convergence()
    ref = r(
        R_ALLFIT
        % {
            "fit": f"{CBPP_BIG}\n"
            f"m <- suppressWarnings(glmer({CBIND_BIG}, data = cbpp_big, family = binomial))"
        }
    )
    assert _without_times(str(check.all_fit)) == _without_times(ref["text"])
    # check_convergence's rule applied to R's own allFit numbers.
    llik = np.atleast_1d(ref["llik"])
    estimates = ref["fixef"].join(ref["sdcor"])
    relative = (estimates.max() - estimates.min()) / estimates.abs().max()
    np.testing.assert_allclose(check.spread["logLik"], llik.max() - llik.min(), **SAME)
    np.testing.assert_allclose(check.spread[relative.index], relative, **SAME)
    expected = bool((relative <= check.rtol).all() and llik.max() - llik.min() <= check.loglik_tol)
    assert check.agree == expected
