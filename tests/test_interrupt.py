"""Ctrl-C during an R call in the main thread (pylme4/_r/interrupt.py).

Each test runs in a child process, which the test interrupts with a real
SIGINT: the pytest process itself is never signalled.
"""

from __future__ import annotations

import json
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


# One Ctrl-C at a random moment among many short R calls, a hundred times,
# with Python's handler and inside parallel.interruptible(): it ends its own
# block with KeyboardInterrupt, and the next block's calls all run.  (Much of
# a short call is spent setting up and ending pylme4_capture, outside its
# interrupt handler: such a stop came back as an RError with R's last error
# message.  And a watcher thread delayed by load read the signal after its
# call had ended and stopped the next block instead.)
ROUNDS = """
import collections, contextlib, json, os, random, signal, threading, time
from pylme4 import parallel
from pylme4._r.call import run_code
from pylme4.errors import RError
signal.signal(signal.SIGINT, signal.default_int_handler)  # even in a background job
run_code("NULL")
SHORT = "for (i in 1:3000) NULL; 1"
rng = random.Random(1)

def block(i):
    return parallel.interruptible() if i % 2 else contextlib.nullcontext()

def outcome(run):
    try:
        return run()
    except KeyboardInterrupt:
        return "KeyboardInterrupt"
    except RError as exc:
        return f"RError: {exc}"

def until_ctrl_c(i, timer):
    with block(i) as flag:
        timer.start()
        give_up = time.monotonic() + 60
        while time.monotonic() < give_up:
            run_code(SHORT)
            if flag is not None:
                flag.check()
    return "not interrupted"

def calls(i):
    with block(i) as flag:
        for _ in range(20):
            run_code(SHORT)
            if flag is not None:
                flag.check()
    return "ran"

seen = collections.Counter()
for i in range(100):
    timer = threading.Timer(rng.uniform(0, 0.02), os.kill, (os.getpid(), signal.SIGINT))
    first = outcome(lambda: until_ctrl_c(i, timer))
    timer.join()
    seen[first + " / " + outcome(lambda: calls(i))] += 1
print(json.dumps(seen))
"""


def test_each_ctrl_c_stops_its_own_r_call_as_keyboard_interrupt():
    done = run_python("-c", ROUNDS, timeout=600)
    assert json.loads(done.stdout) == {"KeyboardInterrupt / ran": 100}
