"""Likelihood profiles: lme4's ``profile()`` of a fitted model.

:func:`profile` returns a :class:`Profile`: R's ``as.data.frame(profile(fit))``
as a DataFrame, ``confint(profile)`` as :meth:`Profile.confint`, and R's
printout.  :func:`pylme4.plot.profile` draws lme4's zeta plots
(``xyplot(profile(fit))``).

Each parameter is profiled on its own, as lme4 itself does it
(``profile.merMod`` starts every parameter afresh; its ``parallel =
"multicore"`` splits the work the same way): one task per parameter, here
or on pylme4's workers (``workers=``, ``executor=``), and the parts are put
together in R as ``profile.merMod`` puts them together.  So the profile is
the same wherever it is computed.  ``confint(method="profile")``
(:func:`pylme4.inference.confint`) is this profile's ``confint()``, as in
lme4.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks, formatting, parallel
from ._r.call import r_call, r_value, serialize, unserialize
from .errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    RCondition,
    choice_error,
    did_you_mean,
    emit,
)
from .fitbase import MerFitLike
from .options import PROF_SCALES, ProfScale

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from ._r.convert import RHandle

#: The confidence levels xyplot.thpr marks (its default ``conf``).
PLOT_CONF = (0.5, 0.8, 0.9, 0.95, 0.99)

Which = str | int | Sequence[str | int] | None


@dataclass(frozen=True)
class ProfilePanel:
    """What one panel of lme4's zeta plot shows (see :meth:`Profile.plot_data`)."""

    parameter: str
    segments: pd.DataFrame
    """Columns ``zeta`` (the levels, -z ... 0 ... z) and ``value`` (where
    the profile reaches them): the vertical segments from zeta to 0."""
    curve: pd.DataFrame
    """Columns ``x`` and ``zeta``: the profile's interpolating spline over the
    panel (or, where R could not fit one, the profiled points)."""
    spline: bool
    """Whether ``curve`` is the spline (False: the raw points, which lme4
    draws as "+" joined by lines)."""
    xlim: tuple[float, float]
    """The panel's x range as lattice pads it (7% on each side)."""


@dataclass(frozen=True, eq=False)
class Profile(formatting.RPrinted):
    """A likelihood profile of a fitted model: lme4's ``profile(fit)`` (a
    ``thpr`` object).

    ``str(profile)`` is R's ``print(profile(fit))``: lme4 has no print method
    for profiles, so R prints the data frame (every profiled point).
    """

    frame: pd.DataFrame
    """``as.data.frame(profile(fit))``: columns ``.zeta`` (the signed square
    root of the change in deviance), one column per parameter (the
    parameters' values at each point), ``.par`` (the parameter profiled in
    that row, a Categorical in profile order) and ``.focal`` (that
    parameter's value)."""
    which: tuple[str, ...]
    """The parameters profiled, in R's order."""
    text: str = field(repr=False)
    _handle: RHandle = field(repr=False)
    _nvp: int = field(repr=False)

    @property
    def r_handle(self) -> RHandle:
        """The ``thpr`` object in R."""
        return self._handle

    def __reduce__(self) -> tuple[Any, ...]:
        # The thpr object travels as R's serialize() bytes, as fits do.
        return (
            _restore_profile,
            (self.frame, self.which, self.text, serialize(self._handle), self._nvp),
        )

    def brief(self) -> str:
        return f"<Profile of {', '.join(self.which)}: {len(self.frame)} points>"

    def confint(self, level: float = 0.95, parm: Which = None) -> pd.DataFrame:
        """Confidence intervals from the profile: lme4's ``confint(profile, parm, level)``.

        The interval ends are where the profile's (inverse) spline reaches
        zeta = qnorm((1 -/+ level) / 2); an end the profile did not reach
        is the parameter's bound (0 for a standard deviation, -1/1 for a
        correlation) or NaN.  ``parm`` selects rows as ``which`` does in
        :func:`profile` (names, 0-based positions among the profiled
        parameters, ``"theta_"``, ``"beta_"``), in the order given, as R's
        ``confint(profile, parm)`` does.
        """
        checks.level(level)
        rows = None
        if parm is not None:
            # confint.thpr keeps the order parm gives (get.which sorts).
            items = [parm] if isinstance(parm, (str, int, np.integer)) else list(parm)
            rows = []
            for item in items:
                for i in select(item, self.which, self._nvp, "parm"):
                    if self.which[i - 1] not in rows:
                        rows.append(self.which[i - 1])
        outcome = r_call(
            "pylme4_profile_confint",
            self._handle,
            rows,
            float(level),
            doing="computing intervals from the profile",
        )
        emit(outcome.conditions)
        ci: pd.DataFrame = outcome.value
        return ci

    def plot_data(self, conf: Sequence[float] = PLOT_CONF) -> dict[str, ProfilePanel]:
        """The numbers lme4's ``xyplot(profile, conf = conf)`` draws, per parameter.

        :func:`pylme4.plot.profile` draws them.
        """
        try:
            levels = [float(c) for c in conf]
        except (TypeError, ValueError):
            raise ArgumentTypeError(
                f"conf must be levels strictly between 0 and 1, not {conf!r}"
            ) from None
        if not levels or any(not 0 < c < 1 for c in levels):
            raise ArgumentError(f"conf must be levels strictly between 0 and 1, not {conf!r}")
        panels = r_value(
            "pylme4_profile_plot_data", self._handle, levels, doing="preparing the zeta plot"
        )
        return {
            name: ProfilePanel(
                parameter=name,
                segments=part["segments"],
                curve=part["curve"],
                spline=bool(part["spline"]),
                xlim=(float(part["xlim"][0]), float(part["xlim"][1])),
            )
            for name, part in panels.items()
        }


def _restore_profile(
    frame: pd.DataFrame, which: tuple[str, ...], text: str, payload: bytes, nvp: int
) -> Profile:
    return Profile(frame=frame, which=which, text=text, _handle=unserialize(payload), _nvp=nvp)


def select(which: Which, names: Sequence[str], nvp: int, what: str = "which") -> list[int]:
    """The parameters ``which`` selects, as R's 1-based positions.

    lme4's ``get.which``: ``"theta_"`` for the variance parameters (the
    first ``nvp`` names), ``"beta_"`` for the fixed effects, parameter
    names (these give the positions sorted, each once), or 0-based
    positions (R's ``which = i + 1``, kept in their order, as R keeps a
    numeric ``which``).  Unlike R, a name or position that selects nothing
    is an error rather than ignored.
    """
    if which is None:
        return list(range(1, len(names) + 1))
    items: list[Any] = [which] if isinstance(which, (str, int, np.integer)) else list(which)
    chosen: set[int] = set()
    positions: list[int] = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise ArgumentTypeError(f"{what} takes parameter names or positions, not {item!r}")
        if isinstance(item, numbers.Integral):
            if not 0 <= int(item) < len(names):
                raise ArgumentLookupError(
                    f"{what}: position {item} is out of range: the model has "
                    f"{len(names)} parameters (0 to {len(names) - 1}): {list(names)}"
                )
            positions.append(int(item) + 1)
        elif isinstance(item, str):
            if item == "theta_":
                chosen.update(range(1, nvp + 1))
            elif item == "beta_":
                chosen.update(range(nvp + 1, len(names) + 1))
            elif item in names:
                chosen.add(list(names).index(item) + 1)
            else:
                hint = did_you_mean(item, list(names))
                raise ArgumentLookupError(
                    f"{what}: no parameter {item!r}{hint}; the parameters are {list(names)} "
                    "(or 'theta_' for the variance parameters, 'beta_' for the fixed effects)"
                )
        else:
            raise ArgumentTypeError(
                f"{what} takes parameter names or positions, not {type(item).__name__} {item!r}"
            )
    if not chosen and not positions:
        raise ArgumentError(f"{what}={which!r} selects no parameter")
    if not chosen:
        return positions
    return sorted(chosen.union(positions))


def profile(
    fit: MerFitLike,
    which: Which = None,
    alphamax: float = 0.01,
    signames: bool = True,
    *,
    maxpts: int = 100,
    delta: float | None = None,
    delta_cutoff: float = 1 / 8,
    devtol: float = 1e-9,
    maxmult: float = 10,
    prof_scale: ProfScale = "sdcor",
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> Profile:
    """Profile the deviance over each parameter: lme4's ``profile(fit, ...)``.

    Parameters
    ----------
    which
        The parameters to profile (default all): names (``".sig01"``,
        ``".sigma"``, ``"Days"``; ``"sd_(Intercept)|Subject"`` with
        ``signames=False``), 0-based positions in that order (R's
        ``which = i + 1``), ``"theta_"`` (the variance parameters) or
        ``"beta_"`` (the fixed effects), or a list of these.
    alphamax
        How far to profile: to the deviance at which a test of that level
        would reject (lme4's ``alphamax``).
    signames
        Name the variance parameters ``.sig01``, ``.sig02``, ..., ``.sigma``
        (True, lme4's default) or ``sd_(Intercept)|Subject``,
        ``cor_Days.(Intercept)|Subject``, ``sigma`` (False).
    maxpts, delta, delta_cutoff, devtol, maxmult, prof_scale
        lme4's ``maxpts``, ``delta``, ``delta.cutoff``, ``devtol``,
        ``maxmult`` and ``prof.scale`` (``"sdcor"`` or ``"varcov"``).
    workers, executor, progress
        Profile each parameter in a worker process (``workers=k``) or on an
        Executor; ``progress=True`` shows a bar.  The profile is the same
        as with ``workers=1``.

    Returns
    -------
    Profile
        ``.frame`` (R's ``as.data.frame(profile)``), ``.confint(level)``
        (R's ``confint(profile, level = level)``) and R's printout.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> p = fit.profile(which="beta_")  # doctest: +SKIP
    >>> list(p.confint().index)  # doctest: +SKIP
    ['(Intercept)', 'Days']
    """
    if not isinstance(signames, (bool, np.bool_)):
        raise ArgumentTypeError(f"signames must be True or False, not {signames!r}")
    if prof_scale not in PROF_SCALES:
        raise choice_error("prof_scale", prof_scale, PROF_SCALES)
    alphamax = checks.positive_number(alphamax, "alphamax")
    if not alphamax < 1:
        raise ArgumentError(f"alphamax must lie strictly between 0 and 1, not {alphamax!r}")
    args: dict[str, Any] = {
        "alphamax": alphamax,
        "maxpts": checks.replicates(maxpts, "maxpts"),
        "delta.cutoff": checks.positive_number(delta_cutoff, "delta_cutoff"),
        "devtol": _non_negative(devtol, "devtol"),
        "maxmult": checks.positive_number(maxmult, "maxmult"),
        "signames": bool(signames),
        "prof.scale": prof_scale,
    }
    if delta is not None:
        args["delta"] = checks.positive_number(delta, "delta")
    place = parallel.where(workers, executor)
    names = r_value(
        "pylme4_profile_names",
        fit.r_handle,
        bool(signames),
        prof_scale,
        doing="naming the parameters",
    )
    params = [str(n) for n in names["names"]]
    nvp = int(names["nvp"])
    chosen = list(range(1, len(params) + 1))
    if which is not None:
        # profile.merMod profiles them in its own order, each once.
        chosen = sorted(set(select(which, params, nvp, "which")))
    handle = run_profile(fit, chosen, args, place, progress)
    outcome = r_call("pylme4_profile_parts", handle, doing="reading the profile")
    frame: pd.DataFrame = outcome.value["frame"]
    return Profile(
        frame=frame,
        which=tuple(params[i - 1] for i in chosen),
        text=outcome.value["text"],
        _handle=handle,
        _nvp=sum(1 for i in chosen if i <= nvp),
    )


def _non_negative(value: Any, name: str) -> float:
    if isinstance(value, (int, float, np.integer, np.floating)) and value == 0:
        return 0.0
    return checks.positive_number(value, name)


def _profile_part(fit: Any, i: int, args: dict[str, Any]) -> tuple[bytes, tuple[RCondition, ...]]:
    """The task: parameter ``i``'s (1-based) profile, serialized, with R's conditions."""
    outcome = r_call("pylme4_profile_part", fit, i, args, doing=f"profiling parameter {i}")
    return outcome.value, outcome.conditions


def run_profile(
    fit: MerFitLike,
    chosen: Sequence[int],
    args: dict[str, Any],
    place: parallel.Where,
    progress: bool | None,
) -> RHandle:
    """``profile(fit, which = chosen, ...)`` with one task per parameter, put
    together in R (as profile.merMod does); R's warnings are raised once each."""
    with place.starting():
        fit_ref = place.fit_ref(fit)
        bar = parallel.Progress(bool(progress), len(chosen), "profile", "parameter")
        try:
            parts = place.run(
                _profile_part,
                [(fit_ref, i, args) for i in chosen],
                on_result=lambda i, r: bar.update(1),
            )
        finally:
            bar.close()
    seen: set[tuple[str, str]] = set()
    conditions = []
    for _, conds in parts:  # the same warning from several parameters once
        for c in conds:
            if (c.kind, c.text) not in seen:
                seen.add((c.kind, c.text))
                conditions.append(c)
    emit(tuple(conditions))
    handle: RHandle = r_call(
        "pylme4_profile_combine",
        [payload for payload, _ in parts],
        doing="putting the profile together",
        keep=True,
    ).value
    return handle
