"""Parametric bootstrap: ``fit.boot_mer(nsim=200)`` with 1 and 2 workers
against R's serial ``bootMer``.

Model: sleepstudy, ``Reaction ~ Days + (Days | Subject)``, statistic
``fixef``, a fixed seed.  R side: ``bootMer(m, fixef, nsim = 200, seed =
1)`` in a separate Rscript, timed inside R.  pylme4 side: ``fit.boot_mer(
"fixef", nsim=200, seed=1, workers=k)``.  The replicates must be identical to
R's: ``max |t - R's t|`` is reported (``max_abs_diff_t_vs_R``, 0 when they
are; replicates of another shape than R's stop the section).  With 1 worker
the ratio is pylme4 / R (overhead); with 2 workers it is R / pylme4 (a
speed-up, target >= 1.7 on 2 cores).  The first call with workers also
starts them; it is reported separately and left out of the medians.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from . import data
from .report import Row
from .rprocess import RProcess
from .timing import alternate, clock

SECTION = "bootstrap"


def max_abs_diff(ours: Any, r_t: np.ndarray) -> float:
    """``max |t - R's t|`` over the replicates: 0 when they are R's bit for bit.

    A replicate that is NaN on both sides (a refit that failed in both) counts
    as equal, NaN on one side only as an infinite difference; replicates of a
    different shape than R's are an error, not a number.
    """
    ours = np.asarray(ours, dtype=float)
    if ours.shape != r_t.shape:
        raise RuntimeError(f"boot_mer's t has shape {ours.shape}, R's bootMer's {r_t.shape}")
    diff = np.abs(ours - r_t)
    both_nan = np.isnan(ours) & np.isnan(r_t)
    diff[both_nan] = 0.0
    diff[np.isnan(diff)] = np.inf
    return float(np.max(diff, initial=0.0))


def r_replicates(rproc: RProcess, name: str) -> np.ndarray:
    """``name$t`` of a ``bootMer`` result in the benchmark R process, as an
    array of R's shape (replicates x statistics)."""
    return np.reshape(
        rproc.run(f"as.vector({name}$t)"),
        [int(n) for n in rproc.run(f"dim({name}$t)")],
        order="F",
    )


def run(quick: bool, rproc: RProcess) -> list[Row]:
    nsim = 20 if quick else 200
    repeat = 2 if quick else 5
    model = data.sleepstudy()
    frame = model.frame()
    data.load_in_r(rproc, model)
    fit = model.fit(frame)
    size = f"nsim={nsim}, sleepstudy"
    rproc.run(f"m <- lme4::lmer({model.formula}, data = {model.data_name}); NULL")
    r_code = f"timed(b <- lme4::bootMer(m, lme4::fixef, nsim = {nsim}, seed = 1))"
    rows = []
    for workers in (1, 2):
        last: dict[str, Any] = {}

        def ours(workers: int = workers, last: dict[str, Any] = last) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                last["boot"] = fit.boot_mer("fixef", nsim=nsim, seed=1, workers=workers)

        start = time.perf_counter()
        ours()  # the first call starts the workers
        first = time.perf_counter() - start
        times = alternate(
            {"pylme4": clock(ours), "other": lambda: rproc.seconds(r_code)}, repeat, warmup=0
        )
        if workers > 1:
            times.cpu.clear()  # the work is in the workers: this process's CPU says nothing
        r_t = r_replicates(rproc, "b")
        rows.append(
            Row(
                SECTION,
                f"boot_mer, {workers} worker{'s' if workers > 1 else ''}",
                size,
                "R bootMer (serial)",
                times,
                ratio_is="pylme4 / other" if workers == 1 else "other / pylme4",
                target=None if workers == 1 else (">=", 1.7),
                extra={
                    "first_call_seconds": first,
                    "max_abs_diff_t_vs_R": max_abs_diff(last["boot"].t, r_t),
                },
            )
        )
    return rows
