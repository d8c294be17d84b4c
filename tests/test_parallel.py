"""pylme4.parallel: worker processes with their own R, Executors, Ctrl-C."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from conftest import r, run_python

import pylme4
from pylme4 import parallel


def _r_version(_: int) -> str:
    """A task that needs R in the worker."""
    from pylme4._r.call import run_code

    return str(run_code("paste(R.version$major, R.version$minor, sep = '.')"))


def _fail(i: int) -> int:
    if i == 2:
        raise ValueError(f"task {i} failed")
    return i


def _die(i: int) -> int:
    if i == 1:
        os._exit(3)
    return i


def test_chunks_cover_every_replicate_once_in_order():
    for n in (1, 2, 7, 200, 1001):
        for workers in (1, 2, 3, 8):
            pieces = list(parallel.chunks(n, workers))
            assert [i for p in pieces for i in p] == list(range(n))
            sizes = [len(p) for p in pieces]
            assert sizes == sorted(sizes, reverse=True) or workers == 1
    assert [len(p) for p in parallel.chunks(200, 2)][:3] == [50, 38, 28]


def test_workers_run_tasks_with_their_own_r():
    got = parallel.run_tasks(_r_version, [(i,) for i in range(4)], workers=2)
    assert got == [r("paste(R.version$major, R.version$minor, sep = '.')")] * 4
    assert parallel.worker_count() == 2


def test_a_failing_task_raises_and_the_workers_stay_usable():
    with pytest.raises(ValueError, match="task 2 failed"):
        parallel.run_tasks(_fail, [(i,) for i in range(6)], workers=2)
    assert parallel.run_tasks(_fail, [(0,), (1,), (3,)], workers=2) == [0, 1, 3]


def test_a_dying_worker_is_reported_and_replaced():
    # The task is retried once by a new worker (issue 7), then the call fails.
    with (
        pytest.warns(parallel.WorkerRestartWarning),
        pytest.raises(parallel.WorkerError, match="ended unexpectedly"),
    ):
        parallel.run_tasks(_die, [(i,) for i in range(4)], workers=2)
    assert parallel.worker_count() == 0
    assert parallel.run_tasks(_die, [(0,), (2,)], workers=2) == [0, 2]


def test_process_pool_executor_gives_rs_replicates():
    sleep = pylme4.datasets.load("sleepstudy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        b = fit.boot_mer("fixef", nsim=20, seed=21, executor=pool, workers=2)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "unname(suppressWarnings(bootMer(fit, fixef, nsim = 20, seed = 21))$t)"
    )
    assert np.array_equal(b.t.to_numpy(), ref.to_numpy())


def test_bad_executor_and_workers():
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        parallel.run_tasks(_fail, [(0,)], workers=-1)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        parallel.start_workers(0)


CTRL_C = textwrap.dedent(
    """
    import json, os, signal, threading, time, warnings
    import numpy as np
    import pylme4
    from pylme4 import parallel

    def main():
        warnings.simplefilter("ignore")
        sleep = pylme4.datasets.load("sleepstudy")
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
        parallel.start_workers(2)
        pids = parallel.worker_pids()
        sent = {}

        def interrupt_when_busy():
            while len(parallel.running_pids()) < 2:
                time.sleep(0.05)
            time.sleep(0.3)
            sent["at"] = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt_when_busy, daemon=True).start()
        try:
            fit.boot_mer("fixef", nsim=%(nsim)d, seed=1, workers=%(workers)d)
            outcome = "finished"
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        stopped = time.monotonic() - sent["at"]
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        # The session still works, in this process and with new workers.
        small = fit.boot_mer("fixef", nsim=4, seed=2)
        again = fit.boot_mer("fixef", nsim=4, seed=2, workers=2)
        print(json.dumps({
            "outcome": outcome, "stopped": stopped, "alive": alive,
            "same": bool(np.array_equal(small.t.to_numpy(), again.t.to_numpy())),
            "workers": parallel.worker_count(),
        }))

    if __name__ == "__main__":
        main()
    """
)


def test_ctrl_c_stops_workers_within_two_seconds(tmp_path):
    script = tmp_path / "ctrl_c.py"
    script.write_text(CTRL_C % {"nsim": 3000, "workers": 2})
    out = run_python(str(script))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "KeyboardInterrupt"
    assert result["stopped"] < 2.0
    assert result["alive"] == []  # the interrupted workers are gone
    assert result["same"] and result["workers"] == 2


def test_child_processes_run_this_python_after_r_started():
    # rpy2 sets LD_LIBRARY_PATH (with /usr/lib/<arch>) when R starts; children
    # must not inherit it, or a pyenv Python loads the system's libpython.
    r("1")
    out = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == sys.version
    assert parallel.run_tasks(_python_version, [(0,)], workers=2) == [sys.version]


def _python_version(_: int) -> str:
    return sys.version


def _where_fit_is(fit, i: int) -> tuple[int, int, float]:
    """Run in a worker: its pid, which R object it was given, a number from it."""
    from pylme4._r.call import run_function

    return os.getpid(), id(fit), float(run_function("function(m) lme4::fixef(m)[[2]]", fit))


def test_a_shared_fit_is_unpacked_once_per_worker_and_kept():
    sleep = pylme4.datasets.load("sleepstudy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    shared = parallel.share(fit._handle)
    got = parallel.run_tasks(_where_fit_is, [(shared, i) for i in range(8)], workers=2)
    assert {value for _, _, value in got} == {fit.fixef()["Days"]}
    by_worker: dict[int, set[int]] = {}
    for pid, handle_id, _ in got:
        by_worker.setdefault(pid, set()).add(handle_id)
    assert os.getpid() not in by_worker
    # every task of a worker got the same R object: unpacked once, then kept
    assert all(len(ids) == 1 for ids in by_worker.values()), by_worker
