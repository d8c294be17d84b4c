"""Benchmark: the `pylme4` command on an example spec, against the same analysis in Rscript.

    .venv/bin/python -m benchmarks.pipeline [--spec examples/lecture_csv.yaml] [--repeat 3]

Times, as a user sees them (fresh processes, wall clock, median of repeats):
`pylme4 run`, `pylme4 verify`, `pylme4 verify --with-r`, `pylme4 doctor`,
and `Rscript` running the script `pylme4 export-r` writes (R alone doing the
same analysis).  Issue 5 sets no speed target; these say what reproducibility
checks cost.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .timing import wall

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", default=str(ROOT / "examples" / "lecture_csv.yaml"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    spec = Path(args.spec).resolve()
    pylme4 = [sys.executable, "-m", "pylme4"]
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise SystemExit("Rscript is not on PATH")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wall([*pylme4, "export-r", str(spec), "-o", str(folder / "analysis.R")], folder)
        steps = [
            ("pylme4 run", [*pylme4, "run", "-q", str(spec), "--out", "results"]),
            ("Rscript (export-r script)", [rscript, str(folder / "analysis.R"), "r_results"]),
            ("pylme4 verify", [*pylme4, "verify", "-q", "results"]),
            ("pylme4 verify --with-r", [*pylme4, "verify", "-q", "--with-r", "results"]),
            ("pylme4 doctor", [*pylme4, "doctor"]),
        ]
        for label, command in steps:
            times = [wall(command, folder).wall for _ in range(args.repeat)]
            rows.append((label, statistics.median(times), min(times)))
    print(f"spec: {spec.relative_to(ROOT) if spec.is_relative_to(ROOT) else spec}")
    print(f"{'step':28} {'median s':>9} {'min s':>7}")
    for label, median, low in rows:
        print(f"{label:28} {median:9.2f} {low:7.2f}")


if __name__ == "__main__":
    main()
