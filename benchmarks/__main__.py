"""``python -m benchmarks [--quick] [--only SECTION ...] [--json PATH]``.

Runs the sections in order, prints one table and writes every timing to
JSON (default ``benchmarks/results/bench-<time>[-quick].json``).  Progress
lines go to stderr; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
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

SECTIONS = (
    "startup",
    "conversion",
    "overhead",
    "statsmodels",
    "bootstrap",
    "parallel_boot",
    "scaling",
)


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
            if name == "startup":
                rows += startup.run(args.quick)
            elif name == "conversion":
                rows += conversion.run(args.quick)
            elif name == "overhead":
                rows += overhead.run(args.quick, rproc)
            elif name == "statsmodels":
                try:
                    rows += statsmodels_mixedlm.run(args.quick)
                except ImportError:
                    say("benchmarks: statsmodels is not installed (pip install 'pylme4[bench]')")
            elif name == "bootstrap":
                rows += bootstrap.run(args.quick, rproc)
            elif name == "parallel_boot":
                rows += parallel_boot.run(args.quick, rproc)
            elif name == "scaling":
                rows += scaling.run(args.quick, rproc)
            seconds[name] = time.perf_counter() - start
            say(f"benchmarks: {name} took {seconds[name]:.0f} s")
    meta.update(
        machine_at_end=report.machine(), versions=report.versions(), section_seconds=seconds
    )
    print(report.table(rows))
    path = report.write_json(args.json or report.default_json_path(args.quick), rows, meta)
    print(f"\nresults written to {path}")
    note = report.busy_note(meta["machine_at_start"])
    if note:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
