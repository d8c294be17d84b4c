"""``python -m benchmarks [--quick] [--only SECTION ...] [--json PATH]``.

Runs the sections in order, prints one table and writes every timing to
JSON (default ``benchmarks/results/bench-<time>[-quick].json``).  Progress
lines go to stderr; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import (
    bootstrap,
    conversion,
    overhead,
    parallel_boot,
    report,
    scaling,
    startup,
    statsmodels_mixedlm,
)
from .rprocess import RProcess


def _statsmodels(quick: bool, rproc: RProcess) -> list[report.Row]:
    try:
        return statsmodels_mixedlm.run(quick)
    except ImportError:
        print(
            "benchmarks: statsmodels is not installed (pip install 'pylme4[bench]')",
            file=sys.stderr,
        )
        return []


# Every section, in the order they run: name -> run(quick, rproc) -> rows.
RUNNERS: dict[str, Callable[[bool, RProcess], list[report.Row]]] = {
    "startup": lambda quick, rproc: startup.run(quick),
    "conversion": lambda quick, rproc: conversion.run(quick),
    "overhead": overhead.run,
    "statsmodels": _statsmodels,
    "bootstrap": bootstrap.run,
    "parallel_boot": parallel_boot.run,
    "scaling": scaling.run,
}
SECTIONS = tuple(RUNNERS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (CI)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    chosen = [s for s in SECTIONS if not args.only or s in args.only]

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows: list[report.Row] = []
    seconds: dict[str, float] = {}
    meta = {"quick": args.quick, "sections": chosen, "machine_at_start": report.machine()}
    with RProcess() as rproc:
        for name in chosen:
            say(f"benchmarks: {name} ...")
            start = time.perf_counter()
            rows += RUNNERS[name](args.quick, rproc)
            seconds[name] = time.perf_counter() - start
            say(f"benchmarks: {name} took {seconds[name]:.0f} s")
    meta["section_seconds"] = seconds
    report.finish(rows, meta, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
