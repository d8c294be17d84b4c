"""Start-up: ``import pylme4`` and the first fit in a fresh process.

Each measurement is a new interpreter, so nothing is cached in-process.

- ``import pylme4``: time of the import statement, measured inside a fresh
  Python (target < 0.3 s; R is not started by the import).
- first fit: wall time of a whole fresh process that loads sleepstudy and
  fits ``Reaction ~ Days + (Days | Subject)``: ``python -c "import pylme4;
  ..."`` against ``Rscript -e "library(lme4); lmer(...)"``.  Both include
  their interpreter's start; pylme4's includes starting the embedded R.
"""

from __future__ import annotations

import subprocess
import sys

from .report import Row
from .timing import Timing, alternate, wall

SECTION = "startup"

IMPORT = "import time; t = time.perf_counter(); import pylme4; print(time.perf_counter() - t)"
FIRST_FIT = (
    "import pylme4; d = pylme4.datasets.load('sleepstudy'); "
    "pylme4.lmer('Reaction ~ Days + (Days | Subject)', d, data_name='sleepstudy')"
)
R_FIRST_FIT = (
    "suppressPackageStartupMessages(library(lme4)); "
    "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)"
)


def _import_seconds() -> Timing:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True
    ).stdout
    return Timing(float(out.strip().splitlines()[-1]))


def run(quick: bool) -> list[Row]:
    imports = alternate({"pylme4": _import_seconds}, 3 if quick else 9)
    # The first run of each also warms the file system cache (not timed).
    first = alternate(
        {
            "pylme4": lambda: wall([sys.executable, "-c", FIRST_FIT]),
            "other": lambda: wall(["Rscript", "-e", R_FIRST_FIT]),
        },
        1 if quick else 5,
        warmup=0 if quick else 1,
    )
    return [
        Row(
            SECTION,
            "import pylme4",
            "fresh process",
            "",
            imports,
            target=("<=", 0.3),
            target_on="seconds",
        ),
        Row(SECTION, "first fit (process start, R start, fit)", "sleepstudy", "Rscript", first),
    ]
