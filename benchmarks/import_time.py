"""Benchmark: `import pylme4` time (target < 0.3 s) and time to the first fit.

    .venv/bin/python benchmarks/import_time.py [--repeat 7]

Each measurement is a fresh interpreter, so nothing is cached in-process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

IMPORT = "import time; t = time.perf_counter(); import pylme4; print(time.perf_counter() - t)"
FIRST_FIT = (
    "import time; t = time.perf_counter(); import pylme4; "
    "d = pylme4.datasets.load('sleepstudy'); "
    "pylme4.lmer('Reaction ~ Days + (Days | Subject)', d); print(time.perf_counter() - t)"
)


def measure(code: str, repeat: int) -> float:
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"import pylme4                : {measure(IMPORT, args.repeat):.3f} s (target < 0.3 s)")
    print(f"import + R start + first fit : {measure(FIRST_FIT, max(1, args.repeat // 2)):.3f} s")


if __name__ == "__main__":
    main()
