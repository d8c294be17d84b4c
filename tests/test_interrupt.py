"""Ctrl-C during an R call in the main thread (pylme4/_r/interrupt.py).

Each test runs in a child process, which the test interrupts with a real
SIGINT: the pytest process itself is never signalled.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
from conftest import r, run_python

# A long fit: the InstEval model (73,421 ratings, three grouping
# factors; 12 to 35 s, depending on the machine's load) with a random slope
# for `service` by lecturer, which makes it take 1 to 3 minutes.  The parent
# interrupts it a few seconds in.  Then R must still work: a small fit whose
# fixed effects the test compares with R.
LONG_FIT = """
import sys, time
import pylme4
data = pylme4.datasets.load("InstEval")
sleep = pylme4.datasets.load("sleepstudy")
pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
print("ready", flush=True)
start = time.monotonic()
try:
    pylme4.lmer("y ~ service + lectage + studage + (1|s) + (service|d) + (1|dept:service)", data)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
print(" ".join(repr(float(v)) for v in fit.fixef()), flush=True)
"""


def _child(script: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_stops_a_long_fit_well_before_it_ends_and_r_goes_on():
    child = _child(LONG_FIT)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", (
            child.stderr.read() if child.stderr else ""
        )
        time.sleep(3)  # converting the data is done; R is fitting
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        said = child.stdout.readline().strip()
        waited = time.monotonic() - sent
        rest, errors = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert said == "interrupted", errors
    # An interrupt noticed only when the fit ends would come a minute or more
    # later.  Measured: 0.3 to 2.5 s (docs/performance.md).
    assert waited < 10
    assert child.returncode == 0, errors
    assert "Traceback" not in errors
    fixef = np.array([float(v) for v in rest.split()])
    expected = r("fixef(lmer(Reaction ~ Days + (1 | Subject), lme4::sleepstudy))")
    np.testing.assert_allclose(fixef, np.asarray(expected), rtol=1e-12, atol=0)


# A user's wakeup fd (an asyncio loop has one) is restored after each R call
# and still receives the signals that arrive during it.  A handler that does
# not raise (the user's own choice) leaves the R call running to its end.
CUSTOM_HANDLER = """
import os, signal, socket, threading, time
from pylme4._r.call import run_code
run_code("NULL")
# Busy R code, not Sys.sleep(): R's sleep installs R's own SIGINT handler.
BUSY = "t <- proc.time()[[3]]; while (proc.time()[[3]] - t < 1.5) NULL; 42"
mine, theirs = socket.socketpair()
mine.setblocking(False)
signal.set_wakeup_fd(mine.fileno())
seen = []
signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
value = run_code(BUSY)
time.sleep(0.2)  # the forwarding thread passes the byte on
print(value, seen == [signal.SIGINT], signal.set_wakeup_fd(-1) == mine.fileno(),
      theirs.recv(16) == bytes([signal.SIGINT]))
"""


def test_own_handler_and_wakeup_fd_are_kept():
    done = run_python("-c", CUSTOM_HANDLER, timeout=120)
    assert done.stdout.split() == ["42.0", "True", "True", "True"]


# Outside R calls SIGINT is Python's own Ctrl-C, and a SIGINT that reaches
# the watcher just after an R call ended does not stop the next call.
OUTSIDE = """
import os, signal, time
from pylme4._r.call import run_code
run_code("NULL")
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
print(run_code("t <- proc.time()[[3]]; while (proc.time()[[3]] - t < 0.3) NULL; 1 + 1"))
"""


def test_ctrl_c_outside_r_calls_is_ordinary():
    done = run_python("-c", OUTSIDE, timeout=120)
    assert done.stdout.split() == ["interrupted", "2.0"]


# parallel.interruptible() turns SIGINT into a flag checked between steps;
# an R call running in the main process inside it is stopped too, and the
# KeyboardInterrupt leaves the block with Python's handler put back.
INTERRUPTIBLE = """
import os, signal, threading, time
from pylme4 import parallel
from pylme4._r.call import run_code
run_code("NULL")
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.monotonic()
try:
    with parallel.interruptible():
        run_code("t <- proc.time()[[3]]; while (proc.time()[[3]] - t < 60) NULL; 1")
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted", time.monotonic() - start < 30)
print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, run_code("1 + 1"))
"""


def test_an_r_call_inside_interruptible_is_stopped():
    done = run_python("-c", INTERRUPTIBLE, timeout=120)
    assert done.stdout.split() == ["interrupted", "True", "True", "2.0"]
