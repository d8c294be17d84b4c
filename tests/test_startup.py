"""R starts in a background thread when a script first reaches for data or a
fit (``pylme4.datasets``, ``pylme4.lmer``, ...), so that R's start overlaps
importing pandas; the starting thread holds the session lock, so no R call
can reach a half-started R.  Timings live in benchmarks/startup.py."""

from __future__ import annotations

import textwrap

from conftest import run_python

from pylme4._r import session


def _run(code: str):
    # -W error: no warning (rpy2's "not the main thread" one included) escapes.
    return run_python("-W", "error", "-c", textwrap.dedent(code), timeout=180)


def test_data_sets_start_r_in_the_background_and_calls_wait_for_it():
    done = _run(
        """
        import threading
        import pylme4
        from pylme4._r import session
        assert not session.is_started()
        datasets = pylme4.datasets
        starter = [t for t in threading.enumerate() if t.name == "pylme4-r-start"]
        assert starter, "no background start"
        # The starting thread holds the lock from before start_in_background()
        # returned: another thread cannot take it until R is ready.
        got = session.LOCK.acquire(blocking=False)
        if got:
            session.LOCK.release()
        assert not got or session.is_started()
        d = datasets.load("sleepstudy")
        assert session.is_started()
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", d, data_name="sleepstudy")
        print(fit.summary())
        """
    )
    assert done.stderr == ""
    assert done.stdout.startswith("Linear mixed model fit by REML ['lmerMod']")


def test_result_classes_and_errors_do_not_start_r():
    done = _run(
        """
        import threading
        import pylme4
        pylme4.LmerFit, pylme4.PylmeError, pylme4.errors
        from pylme4._r import session
        names = [t.name for t in threading.enumerate()]
        print("pylme4-r-start" in names, session.is_started())
        """
    )
    assert done.stdout.split() == ["False", "False"]


def test_exit_while_r_is_still_starting_is_clean():
    done = _run("import pylme4; pylme4.lmer; print('done')")
    assert done.stdout == "done\n" and done.stderr == ""


def test_r_starts_on_first_use_when_the_lock_is_busy():
    done = _run(
        """
        import pylme4
        from pylme4._r import session
        with session.LOCK:  # the caller holds it: no background start, no deadlock
            session.start_in_background()
            session.join_start()
            assert not session.is_started()
        print(pylme4.datasets.load("sleepstudy").shape)
        """
    )
    assert done.stdout.strip() == "(180, 3)"


def test_started_r_is_the_one_every_call_uses():
    # In this process R is already running: nothing to start again.
    env = session.helpers()
    session.start_in_background()
    session.join_start()
    assert session.helpers() is env


def test_starting_r_runs_no_rscript_for_ld_library_path():
    # rpy2 would run `Rscript -e 'cat(Sys.getenv("LD_LIBRARY_PATH"))'` at
    # import (a sixth of R's start) for a setting session._start undoes.
    done = _run(
        """
        import os, subprocess
        runs = []
        check_output = subprocess.check_output
        def spy(cmd, *args, **kwargs):
            runs.append(" ".join(map(str, cmd)))
            return check_output(cmd, *args, **kwargs)
        subprocess.check_output = spy
        before = os.environ.get("LD_LIBRARY_PATH")
        import pylme4
        pylme4.datasets.load("sleepstudy")
        print([r for r in runs if "LD_LIBRARY_PATH" in r], os.environ.get("LD_LIBRARY_PATH") == before)
        """
    )
    assert done.stdout.strip() == "[] True"


# A fork taken while R starts in the background waits for the start to end
# (session._before_fork), so the child gets a whole R and can fit; if the start
# takes longer than the fork may wait (here: not at all), the child's R calls
# fail clearly instead of hanging on the lock held by the parent's starting
# thread.  The parent goes on either way.
FORK_WHILE_STARTING = """
import os
import pylme4
from pylme4._r import session
session._FORK_WAITS_FOR_START = %s
pylme4.datasets  # R starts in the background
assert session._starter.get("running")
pid = os.fork()
if pid == 0:
    try:
        os._exit(0 if pylme4.datasets.load("sleepstudy").shape == (180, 3) else 4)
    except pylme4.RNotAvailableError as exc:
        os._exit(2 if "spawn" in str(exc) else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), pylme4.datasets.load("sleepstudy").shape)
"""


def test_a_fork_taken_while_r_starts_waits_and_the_child_has_r():
    # Not -W error: Python warns about fork() in a process with threads.
    done = run_python("-c", FORK_WHILE_STARTING % "60.0", timeout=180)
    assert done.stdout.split("\n")[0] == "0 (180, 3)"


def test_a_fork_taken_while_r_is_still_starting_fails_clearly_in_the_child():
    done = run_python("-c", FORK_WHILE_STARTING % "0.0", timeout=180)
    assert done.stdout.split("\n")[0] == "2 (180, 3)"


def test_r_calls_no_python_hook_while_it_loads_lme4():
    # R calls its "process events" hook from R_CheckUserInterrupt(); rpy2's
    # hook takes the GIL each time, so while the main thread ran Python an R
    # start in the background thread crawled (library(lme4) took 110 s
    # instead of 1 s beside a busy loop).  The hook must be gone before
    # library() runs.
    done = _run(
        """
        import rpy2.rinterface as ri
        from rpy2.rinterface_lib import openrlib
        from pylme4._r import session
        seen = []
        evalr = ri.evalr
        def spy(code, *args, **kwargs):
            if "library(" in code:
                seen.append(openrlib.rlib.ptr_R_ProcessEvents == openrlib.ffi.NULL)
            return evalr(code, *args, **kwargs)
        ri.evalr = spy
        session.helpers()
        print(seen)
        """
    )
    assert done.stdout.strip() == "[True]"


def test_r_set_up_runs_in_the_callers_thread_and_only_packages_in_the_background():
    # R's set-up changes process-wide C library state (locale, environment,
    # signals); run in the starting thread while the main thread imported
    # modules, it crashed the process (segfault in Rf_initialize_R) about
    # once in 20-40 starts under load.
    done = _run(
        """
        import threading
        import rpy2.rinterface as ri
        seen = {}
        initr, evalr = ri.initr_simple, ri.evalr
        def spy_initr(*args, **kwargs):
            seen["initr"] = threading.current_thread().name
            return initr(*args, **kwargs)
        def spy_evalr(code, *args, **kwargs):
            if "library(" in code:
                seen["library"] = threading.current_thread().name
            return evalr(code, *args, **kwargs)
        ri.initr_simple, ri.evalr = spy_initr, spy_evalr
        import pylme4
        from pylme4._r import session
        pylme4.datasets
        session.join_start()
        print(seen["initr"], seen["library"], session.is_started())
        """
    )
    assert done.stdout.split() == ["MainThread", "pylme4-r-start", "True"]
