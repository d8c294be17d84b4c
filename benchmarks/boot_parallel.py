"""Benchmark: pylme4's boot_mer(workers=2) against R's serial bootMer.

    .venv/bin/python benchmarks/boot_parallel.py [--nsim 200] [--repeat 5] [--rscript]

The model is the lecture's: lmer(Reaction ~ Days + (Days | Subject),
sleepstudy), statistic fixef.  Timed, interleaved so that a busy machine
hurts every contender alike (medians over --repeat rounds):

- R: ``bootMer(fit, fixef, nsim, seed = 1)`` in the embedded R
  (``system.time()``, elapsed); with --rscript also in a fresh ``Rscript``;
- pylme4 with workers=1 (refits in this process);
- pylme4 with workers=2, warm: the worker processes already run (they are
  started once and reused by every parallel call);
- once, the cold call: the first workers=2 call, which also starts the
  workers (two Pythons, two Rs, lme4).

Every run's replicates are checked against R's ``bootMer(...)$t``
(np.array_equal).  Target (issue 3): R serial / pylme4 workers=2 >= 1.7 on
a 2-core machine.  Needs an otherwise idle machine for meaningful numbers;
the load average is printed first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
import warnings

import numpy as np

MODEL = "Reaction ~ Days + (Days | Subject)"

R_BOOT = (
    "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
    "elapsed <- system.time(b <- suppressWarnings(bootMer(fit, fixef, nsim = %d, seed = 1)))"
    "[['elapsed']]\n"
    "list(elapsed = elapsed, t = unname(b$t))"
)

RSCRIPT = (
    "suppressPackageStartupMessages(library(lme4)); "
    "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy); "
    "cat(system.time(suppressWarnings(bootMer(fit, fixef, nsim = %d, seed = 1)))[['elapsed']])"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nsim", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rscript", action="store_true", help="also time R in a fresh Rscript")
    args = parser.parse_args()

    import pylme4
    from pylme4 import parallel
    from pylme4._r.call import run_code

    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    warnings.simplefilter("ignore")
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer(MODEL, sleep, data_name="sleepstudy")

    def r_serial() -> tuple[float, np.ndarray]:
        out = run_code(R_BOOT % args.nsim)
        return float(out["elapsed"]), out["t"].to_numpy()

    def ours(workers: int) -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        b = fit.boot_mer("fixef", nsim=args.nsim, seed=1, workers=workers)
        return time.perf_counter() - start, b.t.to_numpy()

    parallel.stop_workers()
    _, reference = r_serial()
    cold, t_cold = ours(2)
    identical = np.array_equal(t_cold, reference)

    times: dict[str, list[float]] = {"R": [], "w1": [], "w2": []}
    for _ in range(args.repeat):
        for name, run in (("R", r_serial), ("w1", lambda: ours(1)), ("w2", lambda: ours(2))):
            elapsed, t = run()
            identical &= np.array_equal(t, reference)
            times[name].append(elapsed)
    r_time = statistics.median(times["R"])
    w1 = statistics.median(times["w1"])
    w2 = statistics.median(times["w2"])

    print(f"bootMer(fit, fixef, nsim = {args.nsim}, seed = 1); medians of {args.repeat} rounds")
    print(f"R bootMer, serial (embedded R) : {r_time:7.3f} s")
    if args.rscript:
        rs = [
            float(
                subprocess.run(
                    ["Rscript", "-e", RSCRIPT % args.nsim],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(args.repeat)
        ]
        print(f"R bootMer, serial (Rscript)    : {statistics.median(rs):7.3f} s")
    print(f"pylme4 workers=1               : {w1:7.3f} s   ({r_time / w1:.2f}x R)")
    print(f"pylme4 workers=2, warm         : {w2:7.3f} s   ({r_time / w2:.2f}x R; target >= 1.7x)")
    print(f"pylme4 workers=2, cold (starts : {cold:7.3f} s   ({r_time / cold:.2f}x R)")
    print("        the worker processes)")
    print(f"replicates identical to R's bootMer in every run: {identical}")
    parallel.stop_workers()


if __name__ == "__main__":
    main()
