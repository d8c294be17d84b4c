"""The lecture's bootMer interval, allFit summary and simulated data, against R:
fit.boot_mer(), fit.all_fit() and fit.simulate().
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAME, r
from lecture_r import CORRELATED, LECTURE_LME4, MIXED, R_LECTURE_LME4, SLEEP

import pylme4
from pylme4 import datasets


def _fit(**kwargs) -> pylme4.LmerFit:
    return pylme4.lmer(CORRELATED, datasets.lecture_sleep(), data_name="df.sleep", **kwargs)


def test_bootmer_interval_is_rs():
    boot = _fit().boot_mer("fixef", nsim=100, seed=1)
    ci = boot.ci("days", type="perc")
    ref = r(
        SLEEP
        + "library(boot)\n"
        + f"m <- lmer({CORRELATED}, data = df.sleep)\n"
        + "b <- bootMer(m, FUN = fixef, nsim = 100, seed = 1)\n"
        + "unname(boot.ci(b, index = 2, type = 'perc')$percent[4:5])"
    )
    np.testing.assert_allclose([ci.low, ci.high], ref, **SAME)
    # The lecture's (6.45, 14.26) came from a run with an unknown seed: R's
    # interval above is the reference.
    assert "Based on 100 bootstrap replicates" in str(ci)
    assert ci.excludes_zero()


# The lecture's allFit summary: fixef, lik and sdcor per optimizer.
LECTURE_SDCOR = {
    "bobyqa": "24.13911 5.918866 0.06927657 25.48261",
    "Nelder_Mead": "24.13900 5.918891 0.06928125 25.48261",
    "nlminbwrap": "24.13911 5.918867 0.06927628 25.48261",
    "nloptwrap.NLOPT_LN_BOBYQA": "24.13979 5.918851 0.06927975 25.48255",
}


def _sdcor_row(values) -> str:
    a, b, c, d = (float(v) for v in values)
    return f"{a:.5f} {b:.6f} {c:.8f} {d:.5f}"


def test_allfit_summary_is_rs_and_the_lectures():
    result = _fit().all_fit()
    ref = r(
        SLEEP
        + f"s <- summary(allFit(lmer({CORRELATED}, data = df.sleep)))\n"
        + "list(fixef = as.data.frame(s$fixef), llik = s$llik, sdcor = as.data.frame(s$sdcor))"
    )
    assert list(result.fixef.index) == list(ref["fixef"].index)
    np.testing.assert_allclose(result.fixef.to_numpy(), ref["fixef"].to_numpy(), **SAME)
    np.testing.assert_allclose(result.llik.to_numpy(), ref["llik"].to_numpy(), **SAME)
    np.testing.assert_allclose(result.sdcor.to_numpy(), ref["sdcor"].to_numpy(), **SAME)
    lecture_five = [
        "bobyqa",
        "Nelder_Mead",
        "nlminbwrap",
        "nloptwrap.NLOPT_LN_NELDERMEAD",
        "nloptwrap.NLOPT_LN_BOBYQA",
    ]
    for name in lecture_five:
        assert f"{result.fixef.loc[name, '(Intercept)']:.4f}" == "252.5426"
        assert f"{result.fixef.loc[name, 'days']:.5f}" == "10.45212"
        assert f"{result.llik[name]:.4f}" == "-885.7239"
    for name in ("bobyqa", "Nelder_Mead", "nlminbwrap"):
        assert _sdcor_row(result.sdcor.loc[name]) == LECTURE_SDCOR[name]
    # Today's nloptwrap stops elsewhere (docs/lecture-parity.md): R's row, which
    # pylme4 matches above, is not the lecture's ...
    nlopt = "nloptwrap.NLOPT_LN_BOBYQA"
    assert _sdcor_row(ref["sdcor"].loc[nlopt]) != LECTURE_SDCOR[nlopt]


def test_allfit_with_the_lectures_tolerances_gives_the_lectures_nloptwrap_row():
    result = _fit(control=LECTURE_LME4).all_fit()
    ref = r(
        SLEEP
        + f"m <- lmer({CORRELATED}, data = df.sleep, control = {R_LECTURE_LME4})\n"
        + "as.data.frame(summary(allFit(m))$sdcor)"
    )
    np.testing.assert_allclose(result.sdcor.to_numpy(), ref.to_numpy(), **SAME)
    row = result.sdcor.loc["nloptwrap.NLOPT_LN_BOBYQA"]
    assert _sdcor_row(row) == LECTURE_SDCOR["nloptwrap.NLOPT_LN_BOBYQA"]


def test_simulated_panel_draws_rs_simulation():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from pylme4 import plot

    data = datasets.mixed_data(seed=1)
    fit = pylme4.lmer("value ~ 1 + condition + (1 | participant)", data, data_name="df.mixed")
    fig = plot.simulated(fit, data, "condition", "participant", seed=3)
    expected = r(
        MIXED
        + "m <- lmer(value ~ 1 + condition + (1 | participant), data = df.mixed)\n"
        + "simulate(m, seed = 3)$sim_1"
    )
    lines = fig.axes[1].get_lines()
    got = np.concatenate([line.get_ydata() for line in lines])
    # One line per participant (rows p and p + 20).
    order = np.concatenate([[p, p + 20] for p in range(20)])
    np.testing.assert_allclose(got, np.asarray(expected)[order], **SAME)
