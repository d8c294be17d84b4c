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
    "\n"
    "list(elapsed = elapsed[['elapsed']], cpu = sum(elapsed[c('user.self', 'sys.self')]),"
    " t = unname(b$t))"
)

RSCRIPT = (
    "suppressPackageStartupMessages(library(lme4)); "
    "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy); "
    "cat(system.time(suppressWarnings(bootMer(fit, fixef, nsim = %d, seed = 1)))[['elapsed']])"
)


def _worker_pids() -> list[int]:
    from pylme4 import parallel

    pool = parallel._pool
    return [] if pool is None else [w.process.pid for w in pool.workers]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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

    cpu: dict[str, list[float]] = {"R": [], "w2 busiest worker": [], "w2 main": []}

    def r_serial() -> tuple[float, np.ndarray]:
        out = run_code(R_BOOT % args.nsim)
        cpu["R"].append(float(out["cpu"]))
        return float(out["elapsed"]), out["t"].to_numpy()

    def ours(workers: int) -> tuple[float, np.ndarray]:
        pids = _worker_pids() if workers > 1 else []
        before = [_cpu_seconds(p) for p in pids]
        main_before = time.process_time()
        start = time.perf_counter()
        b = fit.boot_mer("fixef", nsim=args.nsim, seed=1, workers=workers)
        elapsed = time.perf_counter() - start
        if pids and pids == _worker_pids():
            used = [_cpu_seconds(p) - b0 for p, b0 in zip(pids, before)]
            cpu["w2 busiest worker"].append(max(used))
            cpu["w2 main"].append(time.process_time() - main_before)
        return elapsed, b.t.to_numpy()

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
    if cpu["w2 busiest worker"]:
        # CPU seconds do not depend on what else the machine runs: on an
        # idle 2-core machine the warm workers=2 time is about the busiest
        # worker's CPU time plus the main process's.
        r_cpu = statistics.median(cpu["R"])
        busiest = statistics.median(cpu["w2 busiest worker"])
        main_cpu = statistics.median(cpu["w2 main"])
        print(f"CPU seconds: R serial {r_cpu:.3f}; workers=2: busiest worker {busiest:.3f},")
        print(
            f"             main process {main_cpu:.3f} (R CPU / (busiest + main) = "
            f"{r_cpu / (busiest + main_cpu):.2f})"
        )
    parallel.stop_workers()


if __name__ == "__main__":
    main()
