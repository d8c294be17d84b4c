"""pylme4.plot: headless (Agg) figures with the artists each plot promises."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import r, r_apply

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

import pylme4  # noqa: E402
from pylme4 import datasets, plot, pooling, resampling  # noqa: E402


@pytest.fixture(scope="module")
def fit() -> pylme4.LmerFit:
    return pylme4.lmer(
        "reaction ~ 1 + days + (1 + days | subject)",
        datasets.lecture_sleep(),
        data_name="df.sleep",
    )


def _renders(fig: Figure) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")


def _visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def test_pooling_draws_three_lines_per_group_over_the_points(fit):
    fig = plot.pooling(fit)
    assert isinstance(fig, Figure)
    axes = _visible_axes(fig)
    assert [ax.get_title() for ax in axes] == [str(g) for g in fit.coef()["subject"].index]
    est = pooling.estimates(fit)
    for ax in axes:
        g = ax.get_title()
        points = ax.collections[0].get_offsets()
        assert len(points) == int((est.points["group"] == g).sum())
        labels = [line.get_label() for line in ax.get_lines()]
        # 373 has one row, so no no-pooling line.
        expected = ["complete pooling", "partial pooling"] if g == "373" else list(pooling.METHODS)
        assert labels == expected
    # The partial-pooling line of 374 is the mixed model's coef().
    ax374 = next(ax for ax in axes if ax.get_title() == "374")
    line = next(line for line in ax374.get_lines() if line.get_label() == "partial pooling")
    x, y = line.get_data()
    a, b = fit.coef()["subject"].loc["374"]
    np.testing.assert_allclose(y, a + b * np.asarray(x), rtol=1e-12)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(pooling.METHODS)
    _renders(fig)


def test_pooling_subset_of_groups(fit):
    fig = plot.pooling(fit, ["373", "374"])
    assert [ax.get_title() for ax in _visible_axes(fig)] == ["373", "374"]
    with pytest.raises(KeyError, match="999"):
        plot.pooling(fit, ["999"])


def test_shrinkage_has_arrows_points_and_normal_contours(fit):
    fig = plot.shrinkage(fit, levels=(0.5, 0.9))
    (ax,) = fig.axes
    arrows = [child for child in ax.get_children() if isinstance(child, Annotation)]
    assert len(arrows) == 19  # every participant with a no-pooling slope (not 373)
    est = pooling.estimates(fit)
    a374 = next(arrow for arrow in arrows if np.allclose(arrow.xy, est.partial_pooling.loc["374"]))
    np.testing.assert_allclose(a374.xyann, est.no_pooling.loc["374"])
    contours = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(contours) == 1 and len(contours[0].levels) == 2
    scatters = [c for c in ax.collections if not isinstance(c, ContourSet)]
    assert [len(c.get_offsets()) for c in scatters] == [20, 20, 1]
    _renders(fig)


def test_shrinkage_without_random_slopes_draws_no_contours():
    fit = pylme4.lmer("reaction ~ 1 + days + (1 | subject)", datasets.lecture_sleep())
    (ax,) = plot.shrinkage(fit).axes
    assert not [c for c in ax.collections if isinstance(c, ContourSet)]


def test_caterpillar_shows_conditional_intervals_sorted(fit):
    fig = plot.caterpillar(fit, level=0.9)
    assert [ax.get_title() for ax in fig.axes] == ["(Intercept)", "days"]
    ranef = fit.ranef()
    re, condsd = ranef["subject"], ranef.condsd["subject"]
    ax = fig.axes[1]
    (container,) = ax.containers
    order = np.argsort(re["days"].to_numpy(), kind="stable")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(g) for g in re.index[order]]
    x, _ = container.lines[0].get_data()
    np.testing.assert_allclose(x, re["days"].to_numpy()[order], rtol=1e-12)
    # Error bar half-widths are z(0.95) * condsd.
    segments = container.lines[2][0].get_segments()
    widths = np.array([seg[1][0] - seg[0][0] for seg in segments]) / 2
    np.testing.assert_allclose(
        widths, r("qnorm(0.95)") * condsd["days"].to_numpy()[order], rtol=1e-9
    )
    with pytest.raises(KeyError, match="school"):
        plot.caterpillar(fit, "school")
    _renders(fig)


def test_bootstrap_marks_the_interval():
    sleep = datasets.lecture_sleep()
    boot = resampling.bootstrap_lm(pylme4.lm("reaction ~ 1 + days", sleep), n=30, seed=2)
    fig = plot.bootstrap(boot, level=0.8)
    assert [ax.get_title() for ax in fig.axes] == ["(Intercept)", "days"]
    for ax in fig.axes:
        term = ax.get_title()
        ci = boot.ci(term, level=0.8)
        xs = sorted(line.get_xdata()[0] for line in ax.get_lines())
        np.testing.assert_allclose(xs, sorted([ci.low, ci.high, boot.t0[term]]), rtol=1e-12)
        assert len(ax.patches) == 20  # the histogram's bars
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["80% perc interval", "estimate on the data"]
    with pytest.raises(TypeError, match="bootstrap result"):
        plot.bootstrap(pd.DataFrame())
    _renders(fig)


def test_simulated_panels_show_data_and_a_simulation():
    data = datasets.mixed_data(seed=1)
    fit = pylme4.lmer("value ~ 1 + condition + (1 | participant)", data)
    sims = np.arange(40, dtype=float)
    fig = plot.simulated(fit, data, "condition", "participant", simulated=sims)
    actual, simulated = fig.axes
    assert [actual.get_title(), simulated.get_title()] == ["actual data", "simulated data"]
    assert len(actual.get_lines()) == 40  # data and fitted values, per participant
    assert len(simulated.get_lines()) == 20
    first = simulated.get_lines()[0].get_ydata()
    np.testing.assert_array_equal(first, [0.0, 20.0])  # participant 1: rows 1 and 21
    with pytest.raises(ValueError, match="simulated has 3 values"):
        plot.simulated(fit, data, "condition", "participant", simulated=[1.0, 2.0, 3.0])
    _renders(fig)


# ---------------------------------------------------------------------------
# Display in IPython, the lecture's bootstrap lines and shrinkage density
# ---------------------------------------------------------------------------


def _inside(ax, xs, ys) -> None:
    """Every (x, y) lies strictly inside the axes' limits (nothing clipped)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    assert x0 < np.nanmin(xs) and np.nanmax(xs) < x1
    assert y0 < np.nanmin(ys) and np.nanmax(ys) < y1


def test_figures_have_a_png_form_for_ipython(fit):
    fig = plot.caterpillar(fit)
    assert isinstance(fig, Figure) and isinstance(fig, plot.PlotFigure)
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG")
    # IPython's own formatter picks it up (no %matplotlib magic, no pyplot).
    from IPython.core.formatters import PNGFormatter

    assert PNGFormatter()(fig).startswith(b"\x89PNG")
    import pickle

    assert isinstance(pickle.loads(pickle.dumps(fig)), plot.PlotFigure)


def test_shrinkage_axes_hold_every_estimate(fit):
    (ax,) = plot.shrinkage(fit).axes
    est = pooling.estimates(fit)
    for table in (est.no_pooling, est.partial_pooling):
        _inside(ax, table.iloc[:, 0], table.iloc[:, 1])
    # 335's no-pooling slope is the lowest; the contour grid used to end there.
    assert est.no_pooling.iloc[:, 1].idxmin() == "335"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["no pooling", "partial pooling", "complete pooling"]


def test_shrinkage_density_draws_r_kernel_densities(fit):
    fig = plot.shrinkage_density(fit, points=64)
    assert tuple(fig.get_size_inches()) == pytest.approx((7.8, 3.2))
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["intercept", "days"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["no pooling", "partial pooling"]
    est = pooling.estimates(fit)
    for ax, term in zip(axes, ["(Intercept)", "days"]):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert list(lines) == ["no pooling", "partial pooling"]
        for label, table in (
            ("no pooling", est.no_pooling),
            ("partial pooling", est.partial_pooling),
        ):
            values = table[term].dropna().to_numpy(dtype=float)
            grid, dens = lines[label].get_data()
            # R's bandwidth and R's Gaussian kernel sum at the same points.
            expected = r_apply(
                "function(x, at) { bw <- bw.nrd0(x); "
                "vapply(at, function(a) mean(dnorm(a, x, bw)), 0) }",
                values,
                np.asarray(grid, dtype=float),
            )
            np.testing.assert_allclose(dens, expected, rtol=1e-12)
            assert plot.bw_nrd0(values) == pytest.approx(r_apply("bw.nrd0", values), rel=1e-14)
            x0, x1 = ax.get_xlim()
            assert x0 < values.min() and values.max() < x1
    assert len(est.no_pooling["days"].dropna()) == 19  # 373 has no no-pooling slope
    _renders(fig)


def test_bootstrap_lines_draw_one_line_per_replicate():
    sleep = datasets.lecture_sleep()
    boot_lm = resampling.bootstrap_lm(pylme4.lm("reaction ~ 1 + days", sleep), n=20, seed=3)
    fit = pylme4.lmer("reaction ~ 1 + days + (1 + days | subject)", sleep)
    boot_lmer = fit.boot_mer("fixef", nsim=20, seed=3)
    fig = plot.bootstrap_lines({"lm()": boot_lm, "lmer()": boot_lmer}, sleep, "days", "reaction")
    assert tuple(fig.get_size_inches()) == pytest.approx((8.2, 3.6))
    assert [ax.get_title() for ax in fig.axes] == ["lm()", "lmer()"]
    days = sleep["days"].to_numpy(dtype=float)
    for ax, boot in zip(fig.axes, (boot_lm, boot_lmer)):
        points, lines = ax.collections
        np.testing.assert_array_equal(points.get_offsets(), sleep[["days", "reaction"]].to_numpy())
        segments = np.array(lines.get_segments())
        assert segments.shape == (20, 2, 2)
        a = boot.t["(Intercept)"].to_numpy()
        b = boot.t["days"].to_numpy()
        np.testing.assert_array_equal(segments[:, :, 0], np.tile([days.min(), days.max()], (20, 1)))
        np.testing.assert_allclose(segments[:, 0, 1], a + b * days.min(), rtol=1e-12)
        np.testing.assert_allclose(segments[:, 1, 1], a + b * days.max(), rtol=1e-12)
        assert lines.get_alpha() == 0.1
        _inside(ax, segments[:, :, 0].ravel() * 0.999 + 0.0005, segments[:, :, 1].ravel())
        _inside(ax, days * 0.999 + 0.0005, sleep["reaction"])
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["data", "20 bootstrapped lines"]
    with pytest.raises(KeyError, match="age"):
        plot.bootstrap_lines({"lm()": boot_lm}, sleep.assign(age=1), "age", "reaction")
    with pytest.raises(TypeError, match="dict"):
        plot.bootstrap_lines(boot_lm, sleep, "days", "reaction")
    _renders(fig)


def test_simulated_has_a_legend_for_every_coloured_line():
    data = datasets.mixed_data(seed=1)
    fit = pylme4.lmer("value ~ 1 + condition + (1 | participant)", data)
    fig = plot.simulated(fit, data, "condition", "participant", simulated=np.zeros(40))
    actual, simulated = fig.axes
    handles = actual.get_legend().legend_handles
    assert [h.get_label() for h in handles] == ["value (one line per participant)", "fitted values"]
    colours = {line.get_color() for line in actual.get_lines()}
    assert colours == {h.get_color() for h in handles}
    # The red lines are the model's fitted values.
    red = [line for line in actual.get_lines() if line.get_color() == "tab:red"]
    fitted = fit.fitted().to_numpy()
    np.testing.assert_allclose(red[0].get_ydata(), fitted[[0, 20]], rtol=1e-12)
    assert [t.get_text() for t in simulated.get_legend().get_texts()] == ["simulated value"]
