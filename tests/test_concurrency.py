"""Threads, the garbage collector, interrupts and long runs.

R is single-threaded: pylme4 serialises every call into R with one lock
(``pylme4._r.session.LOCK``).  These tests check what that design promises:
threads get exactly the serial results, R objects are never created or
released outside the lock (not even by the garbage collector in another
thread), a finalizer never waits for a busy R, Ctrl-C stops R and leaves the
session usable, and 500 fits leave neither Python's nor R's memory larger.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

import pylme4
from pylme4._r import session
from pylme4.errors import PylmeError

FORMULAS = [
    "Reaction ~ Days + (1 | Subject)",
    "Reaction ~ Days + (Days | Subject)",
    "Reaction ~ Days + (Days || Subject)",
    "Reaction ~ Days + (0 + Days | Subject)",
]


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pylme4.datasets.load("sleepstudy")


def _snapshot(fit: pylme4.LmerFit) -> dict[str, Any]:
    """Everything a reader of a fit may ask for (each goes to R on first use)."""
    return {
        "fixef": fit.fixef(),
        "ranef": fit.ranef(),
        "ranef_modes": fit.ranef(cond_var=False),
        "coef": fit.coef(),
        "var_corr": fit.var_corr(),
        "vcov": fit.vcov(),
        "fitted": fit.fitted(),
        "residuals": fit.residuals(type="pearson", scaled=True),
        "predict": fit.predict(re_form="NA"),
        "print": str(fit),
        "summary": str(fit.summary()),
        "tidy": fit.tidy(),
    }


def _assert_same_snapshot(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            assert x.keys() == y.keys(), key
            for k in x:
                pd.testing.assert_frame_equal(x[k], y[k], rtol=0, atol=0)
        elif isinstance(x, pd.Series):
            pd.testing.assert_series_equal(x, y, rtol=0, atol=0)
        elif isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, rtol=0, atol=0)
        else:
            assert x == y, key


def test_threads_fitting_at_once_give_the_serial_results(sleep):
    formulas = FORMULAS * 4
    serial = [pylme4.lmer(f, sleep).fixef() for f in formulas]
    for f, fixef in zip(FORMULAS, serial):
        np.testing.assert_allclose(fixef, r(f"fixef(lmer({f}, data = sleepstudy))"), **SAME)

    def work(formula: str) -> pd.Series:
        fit = pylme4.lmer(formula, sleep)
        str(fit.summary())
        return fit.fixef()

    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(work, formulas))
    for a, b in zip(serial, threaded):
        pd.testing.assert_series_equal(a, b, rtol=0, atol=0)


def test_readers_of_shared_fits_while_others_fit(sleep):
    # Expected values from fits nobody else touches, read serially.
    expected = {f: _snapshot(pylme4.lmer(f, sleep)) for f in FORMULAS}
    # Shared fits with empty caches: several threads ask each of them for the
    # same accessors at once (the first asker computes, the others wait for
    # the cached value), while other threads fit new models.
    shared = {f: pylme4.lmer(f, sleep) for f in FORMULAS}
    jobs: list[tuple[str, str]] = [("read", f) for f in FORMULAS] * 3 + [
        ("fit", f) for f in FORMULAS
    ] * 2

    def work(job: tuple[str, str]) -> tuple[str, str, Any]:
        kind, formula = job
        fit = shared[formula] if kind == "read" else pylme4.lmer(formula, sleep)
        return kind, formula, _snapshot(fit)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, jobs))
    for _, formula, snap in results:
        _assert_same_snapshot(snap, expected[formula])
    # And the expected values are R's.
    ref = r(f"fixef(lmer({FORMULAS[1]}, data = sleepstudy))")
    np.testing.assert_allclose(expected[FORMULAS[1]]["fixef"], ref, **SAME)


@pytest.fixture
def release_audit(monkeypatch):
    """Record every R object made or released by a thread not holding the lock."""
    from rpy2.rinterface_lib import _rinterface_capi as capi

    offences: list[str] = []

    def audited(original: Callable[[Any], Any], what: str) -> Callable[[Any], Any]:
        def wrapper(cdata: Any) -> Any:
            if not session.LOCK._is_owned():  # type: ignore[attr-defined]
                offences.append(what + "\n" + "".join(traceback.format_stack(limit=6)))
            return original(cdata)

        return wrapper

    monkeypatch.setattr(capi, "_release", audited(capi._release, "released"))
    monkeypatch.setattr(capi, "_preserve", audited(capi._preserve, "preserved"))
    return offences


def test_r_objects_are_made_and_released_only_under_the_lock(sleep, release_audit):
    stop = threading.Event()

    def collector() -> None:
        # The cyclic garbage collector, running in its own thread, finalizes
        # fits (and error tracebacks) that other threads dropped.
        while not stop.is_set():
            gc.collect()

    def fit_read_drop(formula: str) -> None:
        fit = pylme4.lmer(formula, sleep)
        fit.ranef()
        str(fit.summary())
        clone = pickle.loads(pickle.dumps(fit))
        assert clone.fixef().equals(fit.fixef())
        del fit, clone

    def fail() -> None:
        # R errors: the call's frames and the exception's traceback go away
        # later, in whichever thread drops them.
        with pytest.raises(PylmeError):
            pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep.head(10))

    thread = threading.Thread(target=collector)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(fit_read_drop, f) for f in FORMULAS * 2]
            futures += [pool.submit(fail) for _ in range(6)]
            for future in futures:
                future.result()
    finally:
        stop.set()
        thread.join()
    gc.collect()
    r("1")  # releases whatever finalizers queued while R was busy
    assert session.pending_releases() == 0
    assert release_audit == [], release_audit[0]


def test_a_finalizer_does_not_wait_for_a_busy_r(sleep):
    box = [pylme4.lmer(FORMULAS[0], sleep)]
    finished = threading.Event()

    def drop() -> None:
        box.clear()  # the fit's last reference: RHandle.__del__ runs here
        gc.collect()
        finished.set()

    # While R is busy (here: this thread holds the session lock, as a long R
    # call in another thread would), a thread dropping a fit must not block
    # until R is free: it may hold locks that the thread inside R waits for.
    with session.LOCK:
        dropper = threading.Thread(target=drop)
        dropper.start()
        dropper.join(timeout=60)
        assert finished.is_set(), "RHandle.__del__ blocked on the session lock"
        assert session.pending_releases() >= 1
    r("1")  # the next call into R releases the queued object
    assert session.pending_releases() == 0
    _good_fit_still_works(sleep)


def _good_fit_still_works(sleep: pd.DataFrame) -> None:
    fit = pylme4.lmer(FORMULAS[1], sleep, data_name="sleepstudy")
    expected = r(f"fixef(lmer({FORMULAS[1]}, data = sleepstudy))")
    np.testing.assert_allclose(fit.fixef(), expected, **SAME)


def test_ctrl_c_stops_r_and_leaves_the_session_usable():
    # A separate process, so that the SIGINT cannot hit pytest itself.
    code = textwrap.dedent(
        """
        import os, signal, threading
        import numpy as np
        import pylme4
        from pylme4._r.call import run_code
        sleep = pylme4.datasets.load("sleepstudy")
        pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            run_code("for (i in 1:1200) Sys.sleep(0.05)")  # a minute, unless interrupted
            print("not interrupted")
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep)
        ref = run_code("fixef(lmer(Reaction ~ Days + (Days | Subject), sleepstudy))")
        print(np.array_equal(fit.fixef().to_numpy(), ref))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split() == ["KeyboardInterrupt", "True"], out.stderr


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_500_fits_do_not_grow_memory():
    from rpy2.rinterface_lib import _rinterface_capi as capi

    rng = np.random.default_rng(7)
    data = pd.DataFrame({"g": np.repeat([f"g{i}" for i in range(6)], 5), "x": rng.normal(size=30)})
    data["y"] = data["x"] + rng.normal(size=30) + np.repeat(rng.normal(size=6), 5)

    def r_mib() -> float:  # R's own memory in use after a full collection
        return float(r("invisible(gc(full = TRUE)); sum(gc(full = TRUE)[, 2])"))

    def one(i: int) -> None:
        fit = pylme4.lmer("y ~ x + (1 | g)", data)
        fit.fixef()
        if i % 10 == 0:
            fit.ranef()
            with pytest.raises(PylmeError):  # the error path must not leak either
                pylme4.lmer("y ~ x + (1 | g)", data.head(5))

    for i in range(50):  # warm-up: caches, lazily loaded R code
        one(i)
    gc.collect()
    rss0, r0 = _rss_mib(), r_mib()
    preserved0, none0 = len(capi._R_PRESERVED), sys.getrefcount(None)
    for i in range(500):
        one(i)
    gc.collect()
    rss_growth, r_growth = _rss_mib() - rss0, r_mib() - r0
    # A leaked fit costs R ~50 KB; 500 of them would be ~25 MB in R and more
    # in the process.  Allocator noise is well under these bounds.
    assert r_growth < 4, f"R's memory grew by {r_growth:.1f} MiB over 500 fits"
    assert rss_growth < 40, f"RSS grew by {rss_growth:.1f} MiB over 500 fits"
    # R objects kept alive by rpy2 on pylme4's behalf: back where they were.
    assert len(capi._R_PRESERVED) - preserved0 <= 2
    # Python < 3.12: a C extension dropping references to None (rpy2's
    # memoryview helper did) makes this fall by thousands, then Python aborts.
    assert sys.getrefcount(None) - none0 > -200
