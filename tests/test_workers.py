"""Worker processes that die: reported, replaced, their work retried, never hung.

Bootstrap refits run in worker processes (pylme4.parallel).  A worker can
die under a task (R crashing, the out-of-memory killer, a kill from outside):
the task is run again by a new worker with the same inputs, so the result is
still exactly R's, and a WorkerRestartWarning says what happened.  A task
that kills its worker every time ends the call with a WorkerError.
Ctrl-C during a long bootstrap, serial or in workers, raises
KeyboardInterrupt and leaves the session usable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from pylme4 import parallel


def _die_once(i: int, marker: str) -> int:
    if i == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return i * 10


def _die_always(i: int) -> int:
    if i == 1:
        os._exit(7)
    return i


def test_a_task_whose_worker_dies_is_retried_by_a_new_worker(tmp_path):
    marker = str(tmp_path / "died")
    with pytest.warns(parallel.WorkerRestartWarning, match=r"exit code 9\) while running task 1"):
        got = parallel.run_tasks(_die_once, [(i, marker) for i in range(6)], workers=2)
    assert got == [0, 10, 20, 30, 40, 50]
    assert parallel.worker_count() == 2


def test_a_task_that_always_kills_its_worker_fails_the_call():
    with (
        pytest.warns(parallel.WorkerRestartWarning),
        pytest.raises(parallel.WorkerError, match=r"task 1 \(attempt 2 of 2\): giving up"),
    ):
        parallel.run_tasks(_die_always, [(i,) for i in range(4)], workers=2)
    assert parallel.run_tasks(_die_always, [(0,), (2,)], workers=2) == [0, 2]


def test_a_worker_that_died_between_calls_is_replaced_quietly():
    import signal
    import time
    import warnings

    parallel.start_workers(2)
    os.kill(parallel.worker_pids()[0], signal.SIGKILL)
    time.sleep(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no task was running: nothing to warn about
        assert parallel.run_tasks(_die_always, [(0,), (2,), (4,)], workers=2) == [0, 2, 4]
    assert parallel.worker_count() == 2


def _slow_or_die(i: int) -> int:
    import time

    time.sleep(3.0 if i == 0 else 1.0)
    if i == 1:
        os._exit(5)
    return i


def test_when_two_tasks_ran_the_one_that_kills_its_worker_is_found():
    # Task 1 kills its worker while task 0 still runs on the other: both are
    # suspects and run again one at a time, so the second death names task 1.
    parallel.start_workers(2)  # both workers idle, so both tasks start at once
    with (
        pytest.warns(parallel.WorkerRestartWarning, match=r"running task 0 or task 1; new"),
        pytest.raises(
            parallel.WorkerError,
            match=r"\(exit code 5\) while running task 1 \(attempt 2 of 2\): giving up",
        ),
    ):
        parallel.run_tasks(_slow_or_die, [(0,), (1,)], workers=2)


def _fail_or_hang(i: int) -> int:
    if i == 0:
        raise ValueError("task 0 fails")
    import time

    time.sleep(3600)  # task 1 never finishes
    return i


def test_a_hung_worker_does_not_hang_the_error_of_another(monkeypatch):
    monkeypatch.setattr(parallel.pool, "_DRAIN_GRACE", 1.0)
    with pytest.raises(ValueError, match="task 0 fails"):
        parallel.run_tasks(_fail_or_hang, [(0,), (1,)], workers=2)
    # the stuck pool was ended; the next call gets fresh workers
    assert parallel.run_tasks(_die_always, [(0,), (2,)], workers=2) == [0, 2]


KILL_A_WORKER = textwrap.dedent(
    """
    import json, os, signal, threading, time, warnings
    import numpy as np
    import pylme4
    from pylme4 import parallel
    from pylme4._r.call import run_code

    def main():
        sleep = pylme4.datasets.load("sleepstudy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
        parallel.start_workers(2)

        def kill_when_busy():
            while len(parallel.running_pids()) < 2:
                time.sleep(0.02)
            os.kill(parallel.running_pids()[0], signal.SIGKILL)

        threading.Thread(target=kill_when_busy, daemon=True).start()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            boot = fit.boot_mer("fixef", nsim=%(nsim)d, seed=5, workers=2)
        ref = run_code(
            "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\\n"
            "unname(suppressWarnings(bootMer(m, fixef, nsim = %(nsim)d, seed = 5))$t)"
        )
        print(json.dumps({
            "same": bool(np.array_equal(boot.t.to_numpy(), ref.to_numpy())),
            "restarts": [str(w.message) for w in caught
                         if issubclass(w.category, parallel.WorkerRestartWarning)],
            "victim_alive": parallel.worker_count(),
        }))

    if __name__ == "__main__":
        main()
    """
)


def test_a_worker_killed_mid_bootstrap_is_replaced_and_the_replicates_are_rs(tmp_path):
    script = tmp_path / "kill_a_worker.py"
    script.write_text(KILL_A_WORKER % {"nsim": 200})
    # A timeout, not a hang, if the call waited for the dead worker forever.
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["same"]
    assert len(result["restarts"]) == 1 and "exit code -9" in result["restarts"][0]
    assert result["victim_alive"] == 2


CTRL_C_SERIAL = textwrap.dedent(
    """
    import json, os, signal, threading, time, warnings
    import numpy as np
    import pylme4
    from pylme4._r.call import run_code

    def main():
        warnings.simplefilter("ignore")
        sleep = pylme4.datasets.load("sleepstudy")
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            fit.boot_mer("fixef", nsim=20000, seed=1)  # minutes, unless interrupted
            outcome = "finished"
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        again = fit.boot_mer("fixef", nsim=10, seed=3)
        ref = run_code(
            "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\\n"
            "unname(suppressWarnings(bootMer(m, fixef, nsim = 10, seed = 3))$t)"
        )
        print(json.dumps({"outcome": outcome,
                          "same": bool(np.array_equal(again.t.to_numpy(), ref.to_numpy()))}))

    if __name__ == "__main__":
        main()
    """
)


def test_ctrl_c_during_a_serial_bootstrap_leaves_the_session_usable(tmp_path):
    script = tmp_path / "ctrl_c_serial.py"
    script.write_text(CTRL_C_SERIAL)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"outcome": "KeyboardInterrupt", "same": True}
