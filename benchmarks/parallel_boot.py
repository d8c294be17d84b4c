"""Parallel parametric bootstrap: pylme4's workers against R's serial and
R's own parallel ``bootMer``.

    python -m benchmarks.parallel_boot            # full: about 10-12 minutes on 2 cores
    python -m benchmarks.parallel_boot --quick    # small nsim, a smoke test
    python -m benchmarks --only parallel_boot     # the same rows in the suite's table

Two models, statistic ``fixef``, ``seed = 1``:

- sleepstudy, ``Reaction ~ Days + (Days | Subject)``, nsim=1000 (a refit
  takes ~10 ms: the per-replicate overhead of parallel work shows);
- a crossed design (``bench_crossed`` in ``data.R``: 100 subjects x 100
  items = 10,000 rows), ``y ~ cond + x + trial + (1 + cond | subject) + (1 |
  item)``, nsim=150 (a refit takes ~0.35 s on an idle core, so R's serial
  ``bootMer`` takes about a minute: long enough that start-up costs do not
  matter, short enough to repeat).

Contenders, timed alternately in one run (:func:`benchmarks.timing.alternate`):
``fit.boot_mer("fixef", nsim=, seed=1, workers=k)`` for k = 1, 2 (and up to
``os.cpu_count()``), R's serial ``bootMer(m, fixef, nsim =, seed = 1)`` and
R's ``bootMer(..., parallel = "multicore", ncpus = k)``, both in a separate
Rscript and timed inside R (:mod:`benchmarks.rprocess`).  Every contender
first runs once untimed with a small nsim (it starts pylme4's workers; that
first call is reported as ``first_call_seconds``).  Worker counts above 2
are timed in a second alternation (pylme4 k workers against R multicore
k), so that the pool is not resized between timed runs; their speed-up over
R serial uses R serial's median from the first.

Checks: pylme4's replicates must equal R's serial ``bootMer``'s bit for bit
(``max_abs_diff_t_vs_R``, 0 when they are).  R's multicore replicates are
compared with R's serial ones too (``max_abs_diff_R_multicore_vs_R_serial``):
lme4's ``bootMer`` simulates all responses before refitting, in the
parent, so they are identical as well (only the refits are forked).

Each row carries the 1-minute load average before and after each timed run
(``load``: lowest-highest).  It includes the benchmark's own processes: k
busy workers alone push it towards k.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data, report
from .bootstrap import max_abs_diff, r_replicates
from .report import Row
from .rprocess import RProcess
from .timing import Measured, Timing, alternate, clock, median, pair

SECTION = "parallel_boot"
R_SERIAL = "R bootMer (serial)"


@dataclass(frozen=True)
class Case:
    model: data.Model
    nsim: int


def cases(quick: bool) -> list[Case]:
    return [
        Case(data.sleepstudy(), 40 if quick else 1000),
        Case(data.crossed(100, 100), 10 if quick else 150),
    ]


def worker_counts(quick: bool, most: int | None = None) -> list[int]:
    """1, 2, ... up to ``most`` workers (default: the number of cores, or 2
    with ``quick``); never fewer than 1 and 2."""
    if most is None:
        most = 2 if quick else os.cpu_count() or 1
    return list(range(1, max(2, most) + 1))


def _r_multicore_name(k: int) -> str:
    return f"R bootMer multicore, ncpus={k}"


def _workers_name(k: int) -> str:
    return f"boot_mer, {k} worker{'s' if k > 1 else ''}"


def run_case(case: Case, ks: list[int], repeat: int, rproc: RProcess) -> list[Row]:
    model, nsim = case.model, case.nsim
    frame = model.frame()
    data.load_in_r(rproc, model)
    fit = model.fit(frame)
    rproc.run(f"m <- lme4::lmer({model.formula}, data = {model.data_name}); NULL")
    size = f"nsim={nsim}, {model.label} ({model.size})"
    last: dict[int, Any] = {}

    def ours(k: int, n: int = nsim) -> Callable[[], None]:
        def go() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                last[k] = fit.boot_mer("fixef", nsim=n, seed=1, workers=k)

        return go

    def r_serial(n: int = nsim) -> Timing:
        return rproc.seconds(f"timed(b <- lme4::bootMer(m, lme4::fixef, nsim = {n}, seed = 1))")

    def r_multicore(k: int, n: int = nsim) -> Callable[[], Timing]:
        code = (
            f"timed(b{k} <- lme4::bootMer(m, lme4::fixef, nsim = {n}, seed = 1, "
            f'parallel = "multicore", ncpus = {k}))'
        )
        return lambda: rproc.seconds(code)

    def first_call(k: int) -> float:
        """An untimed warm-up with a small nsim; its wall time (it starts the workers)."""
        start = time.perf_counter()
        ours(k, n=4 * k)()
        return time.perf_counter() - start

    first = {k: first_call(k) for k in ks[:2]}
    r_serial(n=4)
    r_multicore(2, n=8)()
    head = alternate(
        {
            "pylme4 1": clock(ours(1)),
            "pylme4 2": clock(ours(2)),
            R_SERIAL: r_serial,
            _r_multicore_name(2): r_multicore(2),
        },
        repeat,
        warmup=0,
    )
    by_k: dict[int, Measured] = {1: head, 2: head}
    differences = {k: max_abs_diff(last[k].t, r_replicates(rproc, "b")) for k in ks[:2]}
    for k in ks[2:]:
        first[k] = first_call(k)
        by_k[k] = alternate(
            {f"pylme4 {k}": clock(ours(k)), _r_multicore_name(k): r_multicore(k)},
            repeat,
            warmup=0,
        )
        differences[k] = max_abs_diff(last[k].t, r_replicates(rproc, "b"))

    r_serial_median = median(head.wall[R_SERIAL])

    def per_second(measured: Measured, name: str) -> float:
        return nsim / median(measured.wall[name])

    rows = [
        Row(
            SECTION,
            _workers_name(1),
            size,
            R_SERIAL,
            pair(head, "pylme4 1", head, R_SERIAL),
            extra={
                "max_abs_diff_t_vs_R": differences[1],
                "replicates_per_second": per_second(head, "pylme4 1"),
                "R_replicates_per_second": per_second(head, R_SERIAL),
            },
        )
    ]
    for k in ks[1:]:
        measured, ours_name, r_mc = by_k[k], f"pylme4 {k}", _r_multicore_name(k)
        common = {
            "first_call_seconds": first[k],
            "max_abs_diff_t_vs_R": differences[k],
            "replicates_per_second": per_second(measured, ours_name),
        }
        rows.append(
            Row(
                SECTION,
                _workers_name(k),
                size,
                R_SERIAL,
                pair(measured, ours_name, head, R_SERIAL, cpu=False),
                ratio_is="other / pylme4",
                target=(">=", 1.8) if k == 2 else None,
                note="" if k == 2 else "R serial's time is from the alternation with 2 workers",
                extra={**common, "R_replicates_per_second": per_second(head, R_SERIAL)},
            )
        )
        r_mc_t = r_replicates(rproc, f"b{k}")
        rows.append(
            Row(
                SECTION,
                _workers_name(k),
                size,
                r_mc,
                pair(measured, ours_name, measured, r_mc, cpu=False),
                ratio_is="other / pylme4",
                target=(">=", 1.0) if k == 2 else None,
                extra={
                    **common,
                    "R_replicates_per_second": per_second(measured, r_mc),
                    "R_multicore_speedup_vs_R_serial": r_serial_median
                    / median(measured.wall[r_mc]),
                    "max_abs_diff_R_multicore_vs_R_serial": max_abs_diff(
                        r_mc_t, r_replicates(rproc, "b")
                    ),
                },
            )
        )
    return rows


def run(
    quick: bool, rproc: RProcess, repeat: int | None = None, most_workers: int | None = None
) -> list[Row]:
    """The section's rows, for both models (``repeat`` timed runs each:
    1 with ``quick``, else 3; workers up to ``most_workers``, see
    :func:`worker_counts`)."""
    repeat = repeat or (1 if quick else 3)
    ks = worker_counts(quick, most_workers)
    rows: list[Row] = []
    for case in cases(quick):
        rows += run_case(case, ks, repeat, rproc)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.parallel_boot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small nsim, one run each")
    parser.add_argument("--repeat", type=int, help="timed runs per contender (default 3; 1 quick)")
    parser.add_argument(
        "--max-workers",
        type=int,
        help="time 1 .. this many workers (default: os.cpu_count(); 2 with --quick)",
    )
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    ks = worker_counts(args.quick, args.max_workers)
    print(f"{SECTION}: workers {ks} ...", file=sys.stderr, flush=True)
    meta: dict[str, Any] = {"quick": args.quick, "machine_at_start": report.machine()}
    start = time.perf_counter()
    with RProcess() as rproc:
        rows = run(args.quick, rproc, args.repeat, args.max_workers)
    meta["section_seconds"] = {SECTION: time.perf_counter() - start}
    report.finish(rows, meta, args.json, SECTION, markdown=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
