"""Start-up: ``import pylme4`` and the first printed summary in a fresh process.

Each measurement is a new interpreter, so nothing is cached in-process.

- ``import pylme4``: time of the import statement, measured inside a fresh
  Python (target < 0.3 s; R is not started by the import).
- first printed summary: wall time of a whole fresh process that loads
  sleepstudy, fits ``Reaction ~ Days + (Days | Subject)`` and prints its
  summary, against ``Rscript -e "library(lme4); print(summary(lmer(...)))"``
  (target: at most 1.1 x Rscript).  Both include their interpreter's start;
  pylme4's includes starting the embedded R.  Measured twice: as a user's
  script runs it (``pylme4.datasets`` starts R in a background thread while
  pandas is imported and the data prepared) and with R started only when
  the first R call needs it (the submodules imported directly), to show what
  the background start gains.
- CPU time (user + system of the whole child process) is kept next to the
  wall time: the background start lowers the wall time only (it uses a
  second core), the other changes lower both.
- where the time goes: one more fresh process that times each phase (the
  imports, R's start, the data, the fit, the summary) and lists the R
  packages loaded by then; reported in the row's ``extra``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

from .report import Row
from .timing import Timing, alternate

SECTION = "startup"

IMPORT = "import time; t = time.perf_counter(); import pylme4; print(time.perf_counter() - t)"
FORMULA = "'Reaction ~ Days + (Days | Subject)'"
# As a script would do it: the first use of pylme4.datasets starts R in the
# background.
FIRST_SUMMARY = (
    "import pylme4; d = pylme4.datasets.load('sleepstudy'); "
    f"print(pylme4.lmer({FORMULA}, d, data_name='sleepstudy').summary())"
)
# The submodules imported directly: no background start, R starts inside
# datasets.load() after pandas is imported.
FIRST_SUMMARY_ON_USE = (
    "import pylme4.datasets, pylme4.models; d = pylme4.datasets.load('sleepstudy'); "
    f"print(pylme4.models.lmer({FORMULA}, d, data_name='sleepstudy').summary())"
)
R_FIRST_SUMMARY = (
    "library(lme4); print(summary(lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)))"
)
PHASES = f"""
import json, sys, time
t0 = time.perf_counter(); marks = {{}}
def mark(name): marks[name] = round(time.perf_counter() - t0, 4)
import pylme4
from pylme4._r import session
session.start_in_background(); mark("R start begun (background)")
import pandas; mark("pandas imported")
import pylme4.datasets, pylme4.models; mark("pylme4 modules imported")
session.join_start(); mark("R ready (rpy2, R, library(lme4), helpers)")
d = pylme4.datasets.load('sleepstudy'); mark("data loaded")
fit = pylme4.models.lmer({FORMULA}, d, data_name='sleepstudy'); mark("fitted")
text = str(fit.summary()); mark("summary text")
from pylme4._r.call import run_code
marks["R packages loaded"] = sorted(run_code("loadedNamespaces()"))
print(json.dumps(marks))
"""


def _process(command: list[str]) -> Timing:
    """Wall time of a fresh process to its end, and the CPU time it used (user +
    system, all its threads): on a busy machine the CPU time moves much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


def _import_seconds() -> Timing:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True
    ).stdout
    return Timing(float(out.strip().splitlines()[-1]))


def phases() -> dict[str, object]:
    """Seconds from the process's first line to each phase, and the R packages loaded."""
    out = subprocess.run(
        [sys.executable, "-c", PHASES], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def run(quick: bool) -> list[Row]:
    imports = alternate({"pylme4": _import_seconds}, 3 if quick else 9)
    # The first run of each also warms the file system cache (not timed).
    rounds, warmup = (1, 0) if quick else (9, 1)
    r_summary = ["Rscript", "-e", R_FIRST_SUMMARY]
    first = alternate(
        {
            "pylme4": lambda: _process([sys.executable, "-c", FIRST_SUMMARY]),
            "other": lambda: _process(r_summary),
        },
        rounds,
        warmup=warmup,
    )
    on_use = alternate(
        {
            "pylme4": lambda: _process([sys.executable, "-c", FIRST_SUMMARY_ON_USE]),
            "other": lambda: _process(r_summary),
        },
        rounds,
        warmup=0,
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
        Row(
            SECTION,
            "first printed summary (process start, R start in background, fit, summary)",
            "sleepstudy",
            "Rscript",
            first,
            target=("<=", 1.1),
            extra={"phases": phases()},
        ),
        Row(
            SECTION,
            "first printed summary, R started on first use (no background start)",
            "sleepstudy",
            "Rscript",
            on_use,
        ),
    ]
