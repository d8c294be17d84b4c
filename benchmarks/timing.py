"""Repeated, alternating timings and their medians.

Each contender is a function that runs once and returns how long the
measured part took: a :class:`Timing` of wall-clock and CPU seconds (R code
is timed inside R, so a contender may report its own time).
:func:`alternate` runs the contenders in turn, A, B, A, B, ..., so load from
other processes on a shared machine falls on both sides alike.

Wall time is what users wait for and what the table shows.  CPU time (of the
measured process: Python and its embedded R, or the Rscript) is kept too:
on a busy machine it moves much less than wall time, so for single-process
work its ratio is the steadier estimate of the same overhead.

For the stand-alone scripts (``python -m benchmarks.glmer``, ...):
:func:`median_seconds` times a Python call, :func:`r_median_seconds` times R
code inside pylme4's embedded R.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple


class Timing(NamedTuple):
    wall: float
    cpu: float | None = None


Contender = Callable[[], Timing]


@dataclass
class Measured:
    """All timings of all contenders, in seconds, by contender name."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    load: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """The machine's 1-minute load average just before and just after each
    timed run: how busy it was while that figure was taken (the run's own
    processes count too)."""

    def add(self, name: str, timing: Timing, load: tuple[float, float] | None = None) -> None:
        self.wall.setdefault(name, []).append(timing.wall)
        if timing.cpu is not None:
            self.cpu.setdefault(name, []).append(timing.cpu)
        if load is not None:
            self.load.setdefault(name, []).append(load)


def load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def pair(
    ours: Measured, ours_name: str, other: Measured, other_name: str, cpu: bool = True
) -> Measured:
    """The timings of one contender of ``ours`` and one of ``other`` (the same
    or another run of :func:`alternate`) as "pylme4" and "other", the names a
    :class:`~benchmarks.report.Row` reads.  ``cpu=False`` drops CPU times
    (work done in other processes: this process's CPU says nothing)."""
    out = Measured()
    for source, name, as_name in ((ours, ours_name, "pylme4"), (other, other_name, "other")):
        out.wall[as_name] = list(source.wall[name])
        if cpu and name in source.cpu:
            out.cpu[as_name] = list(source.cpu[name])
        if name in source.load:
            out.load[as_name] = list(source.load[name])
    return out


def clock(fn: Callable[[], Any]) -> Contender:
    """A contender that times a Python call (wall and this process's CPU)."""

    def run() -> Timing:
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        return Timing(time.perf_counter() - wall, time.process_time() - cpu)

    return run


def wall(command: list[str], cwd: Path | None = None) -> Timing:
    """Wall time of running ``command`` in a new process to its end, as a user
    waits for it; a RuntimeError with the command's output when it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return Timing(elapsed)


def alternate(
    contenders: Mapping[str, Contender],
    repeat: int | Mapping[str, int],
    warmup: int = 1,
) -> Measured:
    """Run each contender ``repeat`` times, in turn, after ``warmup`` untimed rounds.

    ``repeat`` may differ per contender (a slow reference runs fewer times);
    contenders that are done drop out of the rotation.
    """
    counts = {name: repeat if isinstance(repeat, int) else repeat[name] for name in contenders}
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    measured = Measured()
    for round_ in range(max(counts.values())):
        for name, fn in contenders.items():
            if round_ < counts[name]:
                # Collect garbage outside the timing, as timeit does, so that
                # one side does not pay for the other's leftovers.
                gc.collect()
                before = load_average()
                timing = fn()
                after = load_average()
                load = None if before is None or after is None else (before, after)
                measured.add(name, timing, load)
    return measured


def median(values: list[float]) -> float:
    return statistics.median(values)


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall seconds of ``repeat`` calls of ``fn`` (no warm-up)."""
    return median(alternate({"fn": clock(fn)}, repeat, warmup=0).wall["fn"])


def r_median_seconds(call: str, repeat: int, setup: str = "") -> float:
    """Median elapsed seconds of ``repeat`` evaluations of the R expression
    ``call``, timed inside pylme4's embedded R (``system.time()``, warnings
    and messages silenced).  ``setup`` (R code, e.g. making the data) runs
    once before, untimed, in the same environment."""
    from pylme4._r.call import run_code

    code = (
        f"{setup}\nt <- numeric({repeat}); for (i in seq_along(t)) t[i] <- "
        f"system.time(suppressMessages(suppressWarnings({call})))[['elapsed']]; median(t)"
    )
    return float(run_code(code))
