"""The lecture's figures, drawn with matplotlib (``pip install 'pylme4[plot]'``).

Each function returns a :class:`matplotlib.figure.Figure` built without
pyplot: nothing is shown, no global figure state is touched, and it works
headless.  Save it with ``fig.savefig(path)``; in Jupyter it displays as the
cell's value with no ``%matplotlib`` magic (it has ``_repr_png_``).

- :func:`pooling`: per group, the raw points with the complete, no and
  partial pooling lines;
- :func:`shrinkage`: no-pooling -> partial-pooling arrows in
  intercept-slope space over the fitted bivariate normal's contours;
- :func:`shrinkage_density`: densities of the no-pooling and
  partial-pooling estimates ("variance shrinks");
- :func:`bootstrap_lines`: bootstrapped regression lines, lm() next to
  lmer();
- :func:`caterpillar`: random effects with conditional intervals;
- :func:`bootstrap`: bootstrap distributions with the interval marked;
- :func:`simulated`: the data next to data simulated from the model;
- :func:`power_curve`: power by design size, with its intervals;
- :func:`profile`: lme4's zeta plots of a likelihood profile.

The numbers drawn come from R (through :mod:`pylme4.pooling`,
``fit.ranef(cond_var=True)``, the bootstrap results, ``fit.simulate()`` and
:meth:`pylme4.profiles.Profile.plot_data`); this module only draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks
from . import pooling as _pooling
from .errors import ArgumentError, ArgumentLookupError, ArgumentTypeError
from .power_analysis import PowerCurve
from .profiles import PLOT_CONF, Profile
from .results import MerFit

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The lecture's colours for the three kinds of pooling.
COLORS = {
    "complete pooling": "tab:green",
    "no pooling": "tab:orange",
    "partial pooling": "tab:blue",
}


def _figure(**kwargs: Any) -> Figure:
    return _figure_class()(**kwargs)


_FIGURE_CLASS: Any = None


def _figure_class() -> Any:
    """A matplotlib Figure that shows itself in IPython/Jupyter.

    A Figure made without pyplot has no display hook: in a fresh kernel the
    cell shows ``<Figure size ... with 2 Axes>`` until ``%matplotlib inline``
    registers one.  IPython's display protocol asks every object for
    ``_repr_png_``, so giving our figures that method makes them display
    everywhere the protocol is honoured (Jupyter, VS Code, nbconvert), with no
    global formatter installed on import and nothing changed for pyplot's
    figures.  The class is built on first use because matplotlib is optional.
    """
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        try:
            from matplotlib.figure import Figure as _MplFigure
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("pylme4.plot needs matplotlib: pip install 'pylme4[plot]'") from exc

        class PlotFigure(_MplFigure):
            """A matplotlib Figure with a PNG form for IPython's display."""

            def _repr_png_(self) -> bytes:
                import io

                buffer = io.BytesIO()
                # "tight" as the inline backend saves, so suptitles and outside
                # legends are not cut.
                self.savefig(buffer, format="png", bbox_inches="tight")
                return buffer.getvalue()

        PlotFigure.__module__ = __name__
        PlotFigure.__qualname__ = "PlotFigure"
        _FIGURE_CLASS = PlotFigure
    return _FIGURE_CLASS


def __getattr__(name: str) -> Any:
    # pylme4.plot.PlotFigure (for isinstance checks and pickling) without
    # importing matplotlib when the module is imported.
    if name == "PlotFigure":
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _grid(n: int, ncols: int, panel: tuple[float, float] = (2.4, 2.0)) -> tuple[Figure, list[Axes]]:
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    fig = _figure(figsize=(panel[0] * ncols + 0.8, panel[1] * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------


def pooling(
    fit: MerFit,
    groups: Sequence[str] | None = None,
    *,
    ncols: int = 5,
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Per group: the data with the complete, no and partial pooling lines.

    Reproduces the lecture's "Comparison" slides (complete vs no vs partial
    pooling, all participants and the close-up of 373 and 374).
    The lecture's comparison figure (green: one regression for everybody,
    ``lm()``; orange: one regression per group, ``lmList()``; blue: the mixed
    model's ``coef()``), from :func:`pylme4.pooling.estimates`.  A group
    without a no-pooling slope (a single row) has no orange line.

    Parameters
    ----------
    fit
        A mixed model with one grouping factor and fixed effects ``1 + x``.
    groups
        The groups to show (default all), e.g. ``["373", "374"]`` for the
        lecture's close-up of the participants with incomplete data.
    ncols
        Panels per row.
    """
    est = _pooling.estimates(fit)
    levels = list(est.no_pooling.index)
    shown = levels if groups is None else [str(g) for g in groups]
    unknown = [g for g in shown if g not in levels]
    if unknown:
        raise ArgumentLookupError(f"no group {unknown[0]!r} in {est.group!r}; groups: {levels}")
    if not shown:
        raise ArgumentError("groups is empty: nothing to draw")
    points = est.points
    x_all = points["x"].to_numpy(dtype=float)
    if np.isnan(x_all).all():
        raise ArgumentError(
            f"the slope term {est.slope_term!r} is not a column of the data, so there is no "
            "x axis to draw the lines over"
        )
    xs = np.array([np.nanmin(x_all), np.nanmax(x_all)])
    fig, axes = _grid(len(shown), ncols)
    lines = {
        "complete pooling": lambda g: est.complete,
        "no pooling": lambda g: est.no_pooling.loc[g],
        "partial pooling": lambda g: est.partial_pooling.loc[g],
    }
    for ax, g in zip(axes, shown):
        mine = points[points["group"] == g]
        ax.scatter(mine["x"], mine["y"], s=12, color="black", zorder=3)
        for method, coef in lines.items():
            a, b = (float(v) for v in coef(g))
            if np.isnan(a) or np.isnan(b):
                continue
            ax.plot(xs, a + b * xs, color=COLORS[method], label=method, linewidth=1.4)
        ax.set_title(g, fontsize=9)
    fig.supxlabel(xlabel or est.slope_term)
    fig.supylabel(ylabel or est.response)
    handles = [
        _line_handle(COLORS[m], m) for m in ("complete pooling", "no pooling", "partial pooling")
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=3, frameon=False)
    return fig


def _line_handle(
    color: str, label: str, *, alpha: float | None = None, marker: str | None = None
) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, label=label, alpha=alpha, marker=marker, markersize=3)


# ---------------------------------------------------------------------------
# Shrinkage
# ---------------------------------------------------------------------------


def shrinkage(
    fit: MerFit,
    *,
    levels: Sequence[float] = (0.1, 0.3, 0.5, 0.7, 0.9),
    label_groups: bool = False,
) -> Figure:
    """No-pooling -> partial-pooling arrows in intercept-slope space.

    Reproduces the lecture's slides "Shrinkage: Pooling of regression
    parameters" (the arrows) and "Shrinkage: Topographic map of regression
    parameters" (the contours).  The axes hold every estimate, padded by 6%.

    Each group's ``lmList()`` estimate (orange) moves to its mixed-model
    estimate (blue), toward the complete-pooling estimate (green); behind
    them, the contours of the fitted bivariate normal of intercepts and
    slopes (mean ``fixef(fit)``, covariance from ``VarCorr(fit)``), enclosing
    ``levels`` of its probability.  A group without a no-pooling estimate
    (a single row) shows its partial-pooling point only.  The contours need a
    random intercept and a random slope; without them, none are drawn.
    """
    est = _pooling.estimates(fit)
    probs = sorted(float(p) for p in levels)
    if any(not 0 < p < 1 for p in probs):
        raise ArgumentError(f"levels must lie strictly between 0 and 1, not {levels!r}")
    fig = _figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.subplots()
    nop, part = est.no_pooling, est.partial_pooling
    all_x = np.concatenate([nop.iloc[:, 0].dropna(), part.iloc[:, 0]])
    all_y = np.concatenate([nop.iloc[:, 1].dropna(), part.iloc[:, 1]])
    xlim, ylim = _padded(all_x), _padded(all_y)
    if est.covariance is not None and probs:
        _normal_contours(
            ax,
            est.fixef.to_numpy(),
            est.covariance.to_numpy(),
            probs,
            np.array(xlim),
            np.array(ylim),
        )
    for g in nop.index:
        start, end = nop.loc[g].to_numpy(float), part.loc[g].to_numpy(float)
        if np.isnan(start).any():
            continue
        ax.annotate(
            "",
            xy=(end[0], end[1]),
            xytext=(start[0], start[1]),
            arrowprops={"arrowstyle": "->", "color": "0.45", "linewidth": 0.8},
        )
    ax.scatter(
        nop.iloc[:, 0], nop.iloc[:, 1], color=COLORS["no pooling"], label="no pooling", zorder=3
    )
    ax.scatter(
        part.iloc[:, 0],
        part.iloc[:, 1],
        color=COLORS["partial pooling"],
        label="partial pooling",
        zorder=3,
    )
    ax.scatter(
        [est.complete.iloc[0]],
        [est.complete.iloc[1]],
        color=COLORS["complete pooling"],
        marker="D",
        s=60,
        label="complete pooling",
        zorder=4,
    )
    if label_groups:
        for g in part.index:
            ax.text(part.loc[g].iloc[0], part.loc[g].iloc[1], f" {g}", fontsize=7, va="center")
    # Fixed limits: a contour grid ending exactly at the extreme estimate
    # (subject 335's no-pooling slope) would cut that point in half.
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("intercept")
    ax.set_ylabel(f"slope ({est.slope_term})")
    ax.legend(frameon=False)
    ax.set_title(f"Shrinkage of per-{est.group} estimates")
    return fig


def _normal_contours(
    ax: Axes,
    mean: np.ndarray,
    cov: np.ndarray,
    probs: list[float],
    xs: np.ndarray,
    ys: np.ndarray,
) -> None:
    """Contours of N(mean, cov) at the densities enclosing `probs` of its mass.

    For a bivariate normal the region {r^2 <= c} (r the Mahalanobis distance)
    holds probability 1 - exp(-c / 2), so mass p lies inside the density
    level exp(-c / 2) / (2 pi sqrt(det)) with c = -2 log(1 - p).
    """
    # xs, ys: the axes' limits; the grid reaches beyond them so the
    # contours are not cut at the frame.
    det = float(np.linalg.det(cov))
    if not det > 0:
        return
    inv = np.linalg.inv(cov)
    reach = math.sqrt(-2 * math.log(1 - max(probs)))
    sd = np.sqrt(np.diag(cov))
    lo = np.minimum([xs.min(), ys.min()], mean - 1.05 * reach * sd)
    hi = np.maximum([xs.max(), ys.max()], mean + 1.05 * reach * sd)
    lo, hi = lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    d = np.stack([gx - mean[0], gy - mean[1]], axis=-1)
    r2 = np.einsum("...i,ij,...j->...", d, inv, d)
    density = np.exp(-r2 / 2) / (2 * math.pi * math.sqrt(det))
    heights = sorted((1 - p) / (2 * math.pi * math.sqrt(det)) for p in probs)
    ax.contour(gx, gy, density, levels=heights, colors="0.6", linewidths=0.8)


def _padded(values: np.ndarray, pad: float = 0.06) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    span = high - low or max(abs(high), 1.0)
    return low - pad * span, high + pad * span


def shrinkage_density(fit: MerFit, *, points: int = 512) -> Figure:
    """Densities of the no-pooling and partial-pooling estimates.

    Reproduces the lecture's first "Shrinkage" slide (the density plot with
    the legend "method: no pooling, partial pooling" beside the table of
    standard deviations; "variance shrinks"): one panel per coefficient
    (intercept, slope), the density of the per-group ``lmList()`` estimates
    (orange) and of the mixed model's ``coef()`` (blue), each a filled,
    semi-transparent curve.  Like ggplot2's ``stat_density()``, which the
    lecture used, each density is a Gaussian kernel estimate with R's
    ``bw.nrd0()`` bandwidth, evaluated exactly (no binning) on ``points``
    values across both methods' range, widened by three bandwidths.  A group
    without a no-pooling estimate (a single row) is left out of the orange
    density, as R's ``NA`` is.
    """
    est = _pooling.estimates(fit)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ArgumentError(f"points must be an integer of at least 2, not {points!r}")
    terms = list(est.no_pooling.columns)
    fig = _figure(figsize=(3.6 * len(terms) + 0.6, 3.2), layout="constrained")
    axes = fig.subplots(1, len(terms), squeeze=False).ravel()
    methods = {"no pooling": est.no_pooling, "partial pooling": est.partial_pooling}
    for ax, term in zip(axes, terms):
        samples = {m: table[term].dropna().to_numpy(dtype=float) for m, table in methods.items()}
        bws = {m: bw_nrd0(v) for m, v in samples.items()}
        low = min(float(v.min()) - 3 * bws[m] for m, v in samples.items())
        high = max(float(v.max()) + 3 * bws[m] for m, v in samples.items())
        grid = np.linspace(low, high, points)
        for method, values in samples.items():
            dens = gaussian_density(values, grid, bws[method])
            color = COLORS[method]
            ax.fill_between(grid, dens, color=color, alpha=0.3, linewidth=0)
            ax.plot(grid, dens, color=color, label=method, linewidth=1.2)
        ax.set_xlim(low, high)
        ax.set_ylim(bottom=0)
        ax.set_title("intercept" if term == "(Intercept)" else term)
        ax.set_xlabel("estimate")
    axes[0].set_ylabel("density")
    fig.legend(
        handles=[_line_handle(COLORS[m], m) for m in methods],
        loc="outside upper center",
        ncols=2,
        frameon=False,
        title="method",
    )
    return fig


def bw_nrd0(values: np.ndarray) -> float:
    """R's ``bw.nrd0()``: Silverman's rule of thumb, 0.9 min(sd, IQR/1.34) n^-1/5."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        raise ArgumentError("a density needs at least 2 estimates")
    hi = float(np.std(x, ddof=1))
    # R's quantile type 7 is numpy's default "linear".
    iqr = float(np.subtract(*np.quantile(x, [0.75, 0.25])))
    lo = min(hi, iqr / 1.34)
    if not lo > 0:
        lo = hi or abs(float(x[0])) or 1.0
    return 0.9 * lo * x.size ** (-0.2)


def gaussian_density(values: np.ndarray, at: np.ndarray, bw: float) -> np.ndarray:
    """The Gaussian kernel density of ``values`` with bandwidth ``bw`` at ``at``."""
    x = np.asarray(values, dtype=float)
    z = (np.asarray(at, dtype=float)[:, None] - x[None, :]) / bw
    return np.exp(-0.5 * z * z).sum(axis=1) / (x.size * bw * math.sqrt(2 * math.pi))


# ---------------------------------------------------------------------------
# Caterpillar
# ---------------------------------------------------------------------------


def caterpillar(fit: MerFit, group: str | None = None, *, level: float = 0.95) -> Figure:
    """Random effects with conditional intervals, sorted (a caterpillar plot).

    Not a lecture slide: lme4's ``dotplot(ranef(fit, condVar = TRUE))``, the
    per-participant view behind the "Partial pooling" / "Coefficients" slides.

    For each term of the grouping factor ``group`` (default: the first),
    the conditional modes from ``fit.ranef()`` with intervals
    ``mode +/- z * condsd``, ``z`` the normal quantile for ``level``.
    """
    level = checks.level(level)
    ranef = fit.ranef(cond_var=True)
    assert ranef.condsd is not None  # cond_var=True computes them
    if group is None:
        group = next(iter(ranef))
    if group not in ranef:
        raise ArgumentLookupError(f"no grouping factor {group!r}; the model has {list(ranef)}")
    table, condsd = ranef[group], ranef.condsd[group]
    terms = list(table.columns)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    n = len(table)
    fig = _figure(figsize=(3.2 * len(terms) + 0.6, max(2.5, 0.22 * n + 1.2)), layout="constrained")
    axes = fig.subplots(1, len(terms), squeeze=False).ravel()
    for ax, term in zip(axes, terms):
        values = table[term].astype(float)
        sds = condsd[term].astype(float)
        order = np.argsort(values.to_numpy(), kind="stable")
        pos = np.arange(n)
        ax.errorbar(
            values.to_numpy()[order],
            pos,
            xerr=z * sds.to_numpy()[order],
            fmt="o",
            color=COLORS["partial pooling"],
            ecolor="0.5",
            markersize=3,
            capsize=0,
        )
        ax.axvline(0.0, color="0.3", linewidth=0.8, linestyle="--")
        ax.set_yticks(pos, [str(v) for v in values.index.to_numpy()[order]], fontsize=7)
        ax.set_title(term)
    fig.supxlabel(f"conditional mode +/- {level:.0%} interval")
    fig.suptitle(f"Random effects of {group}")
    return fig


# ---------------------------------------------------------------------------
# Bootstrap distributions
# ---------------------------------------------------------------------------


def bootstrap(
    boot: Any,
    terms: Sequence[str] | None = None,
    *,
    type: str = "perc",
    level: float = 0.95,
    bins: int = 20,
    title: str | None = None,
) -> Figure:
    """Bootstrap distributions with the interval marked.

    Not a lecture figure: the lecture shows the bootstrap as regression lines
    (:func:`bootstrap_lines`) and the interval as ``boot.ci()``'s text (slide
    "Bootstrapping an lmer()"); this draws that interval on the replicates.

    ``boot`` is a bootstrap result with replicates ``t`` (one column per
    term) and ``ci(term, type=..., level=...)`` giving an interval with
    ``low``/``high``: ``fit.boot_mer()``'s result or
    :func:`pylme4.resampling.bootstrap_lm`'s.  Each panel: a histogram of a
    term's replicates, the interval's ends (dashed) and the estimate on the
    original data (solid, when the result has ``t0``).
    """
    level = checks.level(level)
    t = getattr(boot, "t", None)
    if not isinstance(t, pd.DataFrame) or not hasattr(boot, "ci"):
        raise ArgumentTypeError(
            "bootstrap() draws a bootstrap result with replicates .t (a DataFrame) and .ci(); "
            f"not {_type_name(boot)}"
        )
    names = list(t.columns) if terms is None else [str(x) for x in terms]
    missing = [x for x in names if x not in t.columns]
    if missing:
        raise ArgumentLookupError(
            f"{missing[0]!r} is not a bootstrapped term; terms: {list(t.columns)}"
        )
    t0 = getattr(boot, "t0", None)
    fig = _figure(figsize=(3.4 * len(names) + 0.4, 3.0), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False).ravel()
    for ax, term in zip(axes, names):
        values = t[term].dropna().to_numpy(dtype=float)
        ax.hist(values, bins=bins, density=True, color="0.8", edgecolor="0.5")
        interval = boot.ci(term, type=type, level=level)
        for end in (interval.low, interval.high):
            ax.axvline(end, color="tab:red", linestyle="--", linewidth=1.2)
        if isinstance(t0, pd.Series) and term in t0.index:
            ax.axvline(float(t0[term]), color="black", linewidth=1.2)
        ax.set_title(term)
        ax.set_xlabel(f"{level:.0%} interval: ({interval.low:.3g}, {interval.high:.3g})")
    fig.suptitle(title or f"{len(t)} bootstrap replicates")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="tab:red", linestyle="--", label=f"{level:.0%} {type} interval")
    ]
    if isinstance(t0, pd.Series):
        handles.append(_line_handle("black", "estimate on the data"))
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return fig


def bootstrap_lines(
    fits: dict[str, Any],
    data: pd.DataFrame,
    x: str,
    y: str,
    *,
    alpha: float = 0.1,
) -> Figure:
    """Bootstrapped regression lines, one panel per bootstrap, side by side.

    Reproduces the lecture's slide "Bootstrapping an lmer()" that sets
    **lm()** next to **lmer()** ("more confident in the parameter
    estimates"; "bootstrapped parameter estimates"): in each panel the data
    (``y`` against ``x``) and, per bootstrap replicate, the fitted line
    ``t[(Intercept)] + t[x] * x``, thin and semi-transparent (``alpha``), so
    the spread of the lines shows each model's uncertainty about the
    regression line.  ``fits`` maps a panel title to a bootstrap result whose
    replicates ``t`` have the columns ``(Intercept)`` and ``x``: e.g.
    ``{"lm()": bootstrap_lm(fit_lm), "lmer()": fit_lmer.boot_mer("fixef")}``.
    The lecture's narrower lmer() lines come from resampling rows
    (:func:`pylme4.resampling.bootstrap_lmer_rows`, its "overconfident"
    bootstrap); ``bootMer``'s parametric lines are wider than lm()'s, so
    ``examples/lecture.py`` draws all three.
    A replicate with a missing coefficient (a failed refit) draws no line.
    """
    if not isinstance(fits, dict) or not fits:
        raise ArgumentTypeError(
            "bootstrap_lines() takes a dict of panel title -> bootstrap result, "
            f"not {_type_name(fits)}"
        )
    if not 0 < alpha <= 1:
        raise ArgumentError(f"alpha must lie in (0, 1], not {alpha!r}")
    for name in (x, y):
        if name not in data.columns:
            raise ArgumentLookupError(f"{name!r} is not a column of the data")
    tables = {}
    for title, boot in fits.items():
        t = getattr(boot, "t", None)
        if not isinstance(t, pd.DataFrame):
            raise ArgumentTypeError(
                f"{title!r}: a bootstrap result with replicates .t (a DataFrame), "
                f"not {_type_name(boot)}"
            )
        missing = [c for c in ("(Intercept)", x) if c not in t.columns]
        if missing:
            raise ArgumentLookupError(
                f"{title!r}: {missing[0]!r} is not a bootstrapped term; terms: {list(t.columns)}"
            )
        tables[str(title)] = t[["(Intercept)", x]].dropna().to_numpy(dtype=float)
    xv = data[x].to_numpy(dtype=float)
    yv = data[y].to_numpy(dtype=float)
    xs = np.array([np.nanmin(xv), np.nanmax(xv)])
    fig = _figure(figsize=(3.8 * len(tables) + 0.6, 3.6), layout="constrained")
    axes = fig.subplots(1, len(tables), sharex=True, sharey=True, squeeze=False).ravel()
    from matplotlib.collections import LineCollection

    for ax, (title, coefs) in zip(axes, tables.items()):
        ax.scatter(xv, yv, s=8, color="0.55", zorder=1, label="data")
        # One segment per replicate, across the observed range of x.
        segments = [np.column_stack([xs, a + b * xs]) for a, b in coefs]
        ax.add_collection(
            LineCollection(
                segments,
                colors="black",
                alpha=alpha,
                linewidths=0.8,
                zorder=2,
                label=f"{len(coefs)} bootstrapped lines",
            )
        )
        ax.set_title(title, fontweight="bold")
        ax.set_xlabel(x)
        # The legend's sample line darker than one faint replicate line, so
        # it can be seen.
        dots, *_ = ax.get_legend_handles_labels()[0]
        sample = _line_handle("black", f"{len(coefs)} bootstrapped lines", alpha=max(alpha, 0.5))
        ax.legend(handles=[dots, sample], loc="upper left", fontsize=8, frameon=False)
    axes[0].set_ylabel(y)
    # Limits from the data and every line's ends, so nothing is cut.
    ends = [a + b * xs for coefs in tables.values() for a, b in coefs]
    axes[0].set_xlim(*_padded(xs, 0.04))
    axes[0].set_ylim(*_padded(np.concatenate([yv, *ends]) if ends else yv, 0.04))
    fig.suptitle("bootstrapped parameter estimates")
    return fig


def _type_name(value: Any) -> str:
    return type(value).__name__


# ---------------------------------------------------------------------------
# Actual vs simulated data
# ---------------------------------------------------------------------------


def simulated(
    fit: MerFit,
    data: pd.DataFrame,
    x: str,
    group: str,
    *,
    simulated: pd.Series | np.ndarray | None = None,
    seed: int | None = None,
    fitted: bool = True,
) -> Figure:
    """The data next to data simulated from the fitted model.

    Reproduces the lecture's "Things that came up" slides ("Outliers",
    "Mixture of participants", "Problem case"): the actual data with the
    model's fitted values beside a data set simulated from the model.

    Two panels with one line per ``group`` across ``x`` (the lecture's
    condition 0/1 plots): left the actual responses (with the model's fitted
    values in red when ``fitted``), right one simulated response vector.  By
    default the simulation is ``fit.simulate(seed=seed)`` (R's
    ``simulate()``); pass ``simulated`` to draw one you already have.  A
    model that describes the data well produces a right panel that looks
    like the left one; the lecture's mixture and outlier examples do not.
    """
    for name in (x, group):
        if name not in data.columns:
            raise ArgumentLookupError(f"{name!r} is not a column of the data")
    used = _rows_used(fit, data)
    frame = data.loc[used]
    response = fit.formula.split("~", 1)[0].strip()
    if response not in frame.columns:
        raise ArgumentLookupError(f"the response {response!r} is not a column of the data")
    if simulated is None:
        simulate = getattr(fit, "simulate", None)
        if simulate is None:
            raise NotImplementedError(
                "this pylme4 has no fit.simulate(); pass simulated= (one simulated response "
                "per row the model used)"
            )
        sims = simulate(nsim=1, seed=seed)
        simulated = sims.iloc[:, 0] if isinstance(sims, pd.DataFrame) else sims
    sim = np.asarray(simulated, dtype=float).ravel()
    if sim.size != len(frame):
        raise ArgumentError(f"simulated has {sim.size} values but the model used {len(frame)} rows")
    fig = _figure(figsize=(8.0, 3.6), layout="constrained")
    ax_data, ax_sim = fig.subplots(1, 2, sharey=True)
    xs = _x_positions(frame[x])
    fitted_values = fit.fitted().to_numpy(dtype=float) if fitted else None
    groups = frame[group].astype(str).to_numpy()
    actual = frame[response].to_numpy(dtype=float)
    for g in pd.unique(groups):
        rows = np.flatnonzero(groups == g)
        rows = rows[np.argsort(xs[rows], kind="stable")]
        ax_data.plot(xs[rows], actual[rows], "o-", color="black", alpha=0.5, markersize=3)
        if fitted_values is not None:
            ax_data.plot(
                xs[rows], fitted_values[rows], "o-", color="tab:red", alpha=0.7, markersize=3
            )
        ax_sim.plot(xs[rows], sim[rows], "o-", color="black", alpha=0.5, markersize=3)
    labels = _x_labels(frame[x])
    for ax, title in ((ax_data, "actual data"), (ax_sim, "simulated data")):
        ax.set_title(title)
        ax.set_xlabel(x)
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels)
    ax_data.set_ylabel(response)
    # One legend entry per kind of line (red fitted values included).
    handles = [_line_handle("black", f"{response} (one line per {group})", alpha=0.5, marker="o")]
    if fitted_values is not None:
        handles.append(_line_handle("tab:red", "fitted values", alpha=0.7, marker="o"))
    ax_data.legend(handles=handles, fontsize=8, loc="best")
    ax_sim.legend(
        handles=[_line_handle("black", f"simulated {response}", alpha=0.5, marker="o")],
        fontsize=8,
        loc="best",
    )
    return fig


def _rows_used(fit: MerFit, data: pd.DataFrame) -> pd.Index:
    if len(data) == len(fit.data_index) and data.index.equals(fit.data_index):
        return fit.used_index
    if len(data) == fit.nobs:
        return data.index
    raise ArgumentError(
        f"data has {len(data)} rows but the model used {fit.nobs}; pass the data it was fitted to"
    )


def _x_positions(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float)
    codes, _ = pd.factorize(values, sort=True)
    return codes.astype(float)


def _x_labels(values: pd.Series) -> list[str] | None:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    if pd.api.types.is_numeric_dtype(values.dtype):
        return None
    return [str(c) for c in sorted(pd.unique(values))]


def power_curve(curve: PowerCurve, *, target: float | None = 0.8) -> Figure:
    """Not a lecture slide (the lecture has no power analysis).

    Power by the number of levels (:func:`pylme4.power_curve`): the
    estimates joined by a line, their Clopper-Pearson intervals as error
    bars, and ``target`` (the power a plan asks for) as a dashed line."""
    if not isinstance(curve, PowerCurve):
        raise ArgumentTypeError(
            f"power_curve() draws a PowerCurve (pylme4.power_curve()), not {_type_name(curve)}"
        )
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target < 1
    ):
        raise ArgumentError(f"target must be a power between 0 and 1 or None, not {target!r}")
    frame = curve.frame
    fig = _figure(figsize=(5.2, 3.6), layout="constrained")
    ax = fig.subplots()
    level = curve.results[0].level if curve.results else 0.95
    below = (frame["power"] - frame["ci_low"]).to_numpy()
    above = (frame["ci_high"] - frame["power"]).to_numpy()
    ax.errorbar(
        frame["n"],
        frame["power"],
        yerr=np.vstack([below, above]),
        marker="o",
        color="tab:blue",
        capsize=3,
        label=f"power ({100 * level:g}% interval)",
    )
    if target is not None:
        ax.axhline(target, color="tab:red", linestyle="--", linewidth=1, label=f"target {target:g}")
    ax.set_xlabel(f"levels of {curve.along}")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(frame["n"]))
    term = curve.results[0].term if curve.results else ""
    nsim = curve.results[0].nsim if curve.results else 0
    ax.set_title(f"Power for {term} ({nsim} simulations per size)", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# Likelihood profiles
# ---------------------------------------------------------------------------


def profile(
    prof: Profile,
    *,
    conf: Sequence[float] = PLOT_CONF,
    absolute: bool = False,
    ncols: int | None = None,
) -> Figure:
    """lme4's zeta plots of a likelihood profile: ``xyplot(profile(fit))``.

    Not a lecture slide: lme4's own figure for ``profile()``.

    One panel per profiled parameter (free x scales, one zeta axis): the
    profile's zeta (the signed square root of the change in deviance)
    against the parameter's value, drawn as lme4 draws it (its spline), a
    horizontal line at zeta = 0 and, for each level of ``conf``, vertical
    segments from the profile down to 0 at the interval's ends (so the
    95% segments stand on the ``confint(profile)`` interval).  With
    ``absolute=True`` it plots abs(zeta) (lme4's ``absVal = TRUE``) and joins
    each level's two ends.  Panels read left to right, top to bottom in
    the profile's order (lattice starts at the bottom left).  The numbers
    come from :meth:`Profile.plot_data`.
    """
    if not isinstance(prof, Profile):
        raise ArgumentTypeError(
            f"profile() draws a Profile (fit.profile()), not {_type_name(prof)}"
        )
    panels = prof.plot_data(conf)
    n = len(panels)
    fig, axes = _profile_grid(n, ncols or math.ceil(math.sqrt(n)))
    for ax, (name, panel) in zip(axes, panels.items()):
        ax.grid(True, color="0.9", linewidth=0.6)
        seg = panel.segments
        x = seg["value"].to_numpy(dtype=float)
        z = seg["zeta"].to_numpy(dtype=float)
        if absolute:
            z = np.abs(z)
        ax.vlines(x, 0, z, color="black", linewidth=0.8)
        if absolute:
            # Each level's two ends joined (lme4: lsegments(x, y, rev(x), y)).
            ends = z != 0
            ax.hlines(z[ends], x[ends], x[::-1][ends], color="black", linewidth=0.8)
        else:
            ax.axhline(0.0, color="black", linewidth=0.8)
        cx = panel.curve["x"].to_numpy(dtype=float)
        cz = panel.curve["zeta"].to_numpy(dtype=float)
        if absolute:
            cz = np.abs(cz)
        if panel.spline:
            ax.plot(cx, cz, color="tab:blue", linewidth=1.2)
        else:
            ax.plot(cx, cz, color="tab:blue", linewidth=1.2, marker="+")
        ax.set_xlim(*panel.xlim)
        # lattice's y range: the marked levels, padded by 7%.
        low, high = (0.0 if absolute else -float(np.max(np.abs(z)))), float(np.max(np.abs(z)))
        pad = 0.07 * (high - low)
        ax.set_ylim(low - pad, high + pad)
        ax.set_title(_parameter_label(name), fontsize=10)
    fig.supylabel(r"$|\zeta|$" if absolute else r"$\zeta$")
    return fig


def _profile_grid(n: int, ncols: int) -> tuple[Figure, list[Axes]]:
    # One zeta axis, free x axes (xyplot.thpr's scales).
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    fig = _figure(figsize=(2.6 * ncols + 0.8, 2.3 * nrows + 0.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _parameter_label(name: str) -> str:
    """The panel strip lme4 writes: sigma_1 for .sig01, sigma for .sigma."""
    if name == ".sigma":
        return r"$\sigma$"
    if name.startswith(".sig") and name[4:].isdigit():
        return rf"$\sigma_{{{int(name[4:])}}}$"
    return name
