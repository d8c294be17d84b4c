"""Repeated, alternating timings and their medians.

Each contender is a function that runs once and returns how long the
measured part took, in seconds (R code is timed inside R, so a contender may
report its own time).  :func:`alternate` runs the contenders in turn, A, B,
A, B, ..., so load from other processes on a shared machine falls on both
sides alike and a ratio of medians measured this way is fair.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

Contender = Callable[[], float]


def clock(fn: Callable[[], Any]) -> Contender:
    """A contender that times a Python call with ``time.perf_counter``."""

    def run() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return run


def alternate(
    contenders: Mapping[str, Contender],
    repeat: int | Mapping[str, int],
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Run each contender ``repeat`` times, in turn, after ``warmup`` untimed rounds.

    ``repeat`` may differ per contender (a slow reference runs fewer times);
    contenders that are done drop out of the rotation.  Returns every time.
    """
    counts = {name: repeat if isinstance(repeat, int) else repeat[name] for name in contenders}
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(max(counts.values())):
        for name, fn in contenders.items():
            if round_ < counts[name]:
                # Collect garbage outside the timing, as timeit does, so that
                # one side does not pay for the other's leftovers.
                gc.collect()
                times[name].append(fn())
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)
