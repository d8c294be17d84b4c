"""Benchmark: what reliability costs, and whether long runs stay flat.

    .venv/bin/python -m benchmarks.reliability [--fits 2000] [--repeat 50]

Prints
- the time of one pylme4.lmer() call (checks + conversion + fit + result)
  against R's own lmer() on the same data in the same process, for a model
  with an intercept and for one whose random terms have none (those pay for
  the all-zero-Z guard, an extra lFormula() in R);
- the time of a failing fit whose culprit pylme4 names after R failed
  (a one-level grouping factor: one extra R round trip);
- memory over a long run: RSS and R's own memory (gc()) before and after
  ``--fits`` small fits, and how many R objects rpy2 holds.
Medians; numbers are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd

import pylme4
from pylme4._r.call import run_code
from pylme4.errors import PylmeError

from .timing import median_seconds, r_median_seconds


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fits", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    sleep = pylme4.datasets.load("sleepstudy")
    models = {
        "(Days | Subject)": "Reaction ~ Days + (Days | Subject)",
        "(0 + Days | Subject)": "Reaction ~ Days + (0 + Days | Subject)",
    }
    print(f"one fit, median of {args.repeat} (ms)        pylme4     R lmer()")
    for label, formula in models.items():
        py = median_seconds(lambda f=formula: pylme4.lmer(f, sleep), args.repeat)
        rr = r_median_seconds(f"lmer({formula}, sleepstudy)", args.repeat)
        print(f"  {label:28s} {py * 1e3:9.1f} {rr * 1e3:11.1f}")

    one_level = sleep[sleep["Subject"] == "308"]

    def failing() -> None:
        with contextlib.suppress(PylmeError):
            pylme4.lmer("Reaction ~ Days + (1 | Subject)", one_level)

    py = median_seconds(failing, args.repeat)
    rr = r_median_seconds(
        "try(lmer(Reaction ~ Days + (1 | Subject), sleepstudy[sleepstudy$Subject == '308', ]), silent = TRUE)",
        args.repeat,
    )
    print(f"  {'one-level factor (error)':28s} {py * 1e3:9.1f} {rr * 1e3:11.1f}")

    if not os.path.exists("/proc/self/statm"):
        return
    from rpy2.rinterface_lib import _rinterface_capi as capi

    rng = np.random.default_rng(7)
    data = pd.DataFrame({"g": np.repeat([f"g{i}" for i in range(6)], 5), "x": rng.normal(size=30)})
    data["y"] = data["x"] + rng.normal(size=30)

    def r_mib() -> float:
        return float(run_code("invisible(gc(full = TRUE)); sum(gc(full = TRUE)[, 2])"))

    for _ in range(100):
        pylme4.lmer("y ~ x + (1 | g)", data).fixef()
    gc.collect()
    rss0, r0, kept0, none0 = rss_mib(), r_mib(), len(capi._R_PRESERVED), sys.getrefcount(None)
    start = time.perf_counter()
    for _ in range(args.fits):
        pylme4.lmer("y ~ x + (1 | g)", data).fixef()
    elapsed = time.perf_counter() - start
    gc.collect()
    print(f"\n{args.fits} small fits in {elapsed:.1f} s ({args.fits / elapsed:.0f} fits/s)")
    print(f"  RSS growth              {rss_mib() - rss0:+.2f} MiB")
    print(f"  R memory growth (gc())  {r_mib() - r0:+.2f} MiB")
    print(f"  R objects held by rpy2  {len(capi._R_PRESERVED) - kept0:+d}")
    print(f"  refcount of None        {sys.getrefcount(None) - none0:+d}")


if __name__ == "__main__":
    main()
