"""The lecture's figures, drawn with matplotlib (``pip install 'pylme4[plot]'``).

Each function returns a :class:`matplotlib.figure.Figure` built without
pyplot: nothing is shown, no global figure state is touched, and it works
headless.  Save it with ``fig.savefig(path)``; in a notebook it displays as
the cell's value.

- :func:`pooling`: per group, the raw points with the complete, no and
  partial pooling lines;
- :func:`shrinkage`: no-pooling -> partial-pooling arrows in
  intercept-slope space over the fitted bivariate normal's contours;
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
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("pylme4.plot needs matplotlib: pip install 'pylme4[plot]'") from exc
    return Figure(**kwargs)


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


def _line_handle(color: str, label: str) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, label=label)


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
    if est.covariance is not None and probs:
        _normal_contours(ax, est.fixef.to_numpy(), est.covariance.to_numpy(), probs, all_x, all_y)
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
    det = float(np.linalg.det(cov))
    if not det > 0:
        return
    inv = np.linalg.inv(cov)
    reach = math.sqrt(-2 * math.log(1 - max(probs)))
    sd = np.sqrt(np.diag(cov))
    lo = np.minimum([xs.min(), ys.min()], mean - 1.05 * reach * sd)
    hi = np.maximum([xs.max(), ys.max()], mean + 1.05 * reach * sd)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    d = np.stack([gx - mean[0], gy - mean[1]], axis=-1)
    r2 = np.einsum("...i,ij,...j->...", d, inv, d)
    density = np.exp(-r2 / 2) / (2 * math.pi * math.sqrt(det))
    heights = sorted((1 - p) / (2 * math.pi * math.sqrt(det)) for p in probs)
    ax.contour(gx, gy, density, levels=heights, colors="0.6", linewidths=0.8)


# ---------------------------------------------------------------------------
# Caterpillar
# ---------------------------------------------------------------------------


def caterpillar(fit: MerFit, group: str | None = None, *, level: float = 0.95) -> Figure:
    """Random effects with conditional intervals, sorted (a caterpillar plot).

    For each term of the grouping factor ``group`` (default: the first),
    the conditional modes from ``fit.ranef(cond_var=True)`` with intervals
    ``condval +/- z * condsd``, ``z`` the normal quantile for ``level``.
    """
    level = checks.level(level)
    ranef = fit.ranef(cond_var=True)
    if group is None:
        group = next(iter(ranef))
    if group not in ranef:
        raise ArgumentLookupError(f"no grouping factor {group!r}; the model has {list(ranef)}")
    table = ranef[group]
    terms = list(table["condval"].columns)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    n = len(table)
    fig = _figure(figsize=(3.2 * len(terms) + 0.6, max(2.5, 0.22 * n + 1.2)), layout="constrained")
    axes = fig.subplots(1, len(terms), squeeze=False).ravel()
    for ax, term in zip(axes, terms):
        values = table["condval"][term].astype(float)
        sds = table["condsd"][term].astype(float)
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
    """Power by the number of levels (:func:`pylme4.power_curve`): the
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
