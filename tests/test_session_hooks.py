"""How the embedded R is hooked into Python.

- R does not call back into Python to "process events" (that cost about 5%
  of a small fit and swallowed Ctrl-C); a Ctrl-C during an R call stops R
  (interrupt.py, tests/test_interrupt.py), is raised as KeyboardInterrupt,
  and the session goes on.
- R calls run with R's C-stack check on, measured against the calling
  thread's stack (stack.py): deep recursion is an R error, not a segfault.
- At exit R's own clean-up runs (without rpy2's extra full garbage
  collection), and the process ends cleanly.
"""

from __future__ import annotations

import os

from conftest import run_python

SCRIPT = """
import pylme4
from pylme4._r.call import run_code
fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy"))
print(run_code("tempdir()"))
"""


def test_exit_removes_r_temporary_directory():
    done = run_python("-c", SCRIPT, timeout=120)
    tempdir = done.stdout.strip().splitlines()[-1]
    assert os.path.basename(tempdir).startswith("Rtmp")
    assert not os.path.exists(tempdir)
    assert "Fatal" not in done.stderr and "Traceback" not in done.stderr


INTERRUPT = """
import os, signal, threading
from pylme4._r.call import run_code
run_code("NULL")
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    run_code("f <- function() { x <- 0; for (i in 1:20000000) x <- x + 1; x }; f()")
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
print(run_code("1 + 1"))
"""


def test_ctrl_c_during_an_r_call_is_not_lost():
    done = run_python("-c", INTERRUPT, timeout=120)
    assert done.stdout.split() == ["interrupted", "2.0"]


# Deep recursion in R: with rpy2's default (no C-stack limit) this killed the
# process with SIGSEGV.  Now it is an RError about the C stack, and R goes on;
# in the main thread the limit is R's own 95% of the stack size.  A thread's
# stack lies elsewhere: a call from a thread is checked against that
# thread's own stack (a small one too), and an ordinary fit there gives
# the same numbers.
DEEP = """
import resource, threading
import pylme4
from pylme4._r.call import run_code
from pylme4.errors import RError
F = "f <- function(n) if (n == 0) 0 else 1 + f(n - 1); "
sleep = pylme4.datasets.load("sleepstudy")
here = list(pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep).fixef())
def probe(where):
    try:
        run_code("options(expressions = 5e5); " + F + "f(1e5)")
        print(where, "no error")
    except RError as exc:
        print(where, "RError:", exc)
    print(where, "after:", run_code(F + "f(100)"))
    fixef = list(pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep).fixef())
    print(where, "same fit:", fixef == here)
probe("main")
print("main limit:", run_code('Cstack_info()[["size"]]')
      == int(0.95 * resource.getrlimit(resource.RLIMIT_STACK)[0]))
for size in (0, 2**21):
    threading.stack_size(size)
    thread = threading.Thread(target=probe, args=(f"thread{size}",))
    thread.start()
    thread.join()
"""


def test_deep_recursion_is_an_r_error_not_a_crash():
    done = run_python("-c", DEEP, timeout=300)
    lines = done.stdout.splitlines()
    assert len(lines) == 10, done.stdout
    for where, block in (
        ("main", lines[0:3]),
        ("thread0", lines[4:7]),
        ("thread2097152", lines[7:10]),
    ):
        error, after, fit = block
        assert error.startswith(f"{where} RError: R failed while running R code: C stack usage ")
        assert error.endswith(" is too close to the limit")
        assert after == f"{where} after: 100.0"
        assert fit == f"{where} same fit: True"
    assert lines[3] == "main limit: True"


# The crash: after an earlier call, an 800-term formula killed the
# process (R's formula helpers recurse once per term).  Now it must end in a
# fit or in a PylmeError, with the process alive.
WIDE = """
import numpy as np, pandas as pd
import pylme4
rng = np.random.default_rng(1)
df = pd.DataFrame(rng.normal(size=(1000, 800)), columns=[f"x{i}" for i in range(800)])
df["y"] = rng.normal(size=1000)
df["g"] = np.repeat([f"g{i}" for i in range(50)], 20)
pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy"))
try:
    fit = pylme4.lmer("y ~ " + " + ".join(f"x{i}" for i in range(800)) + " + (1 | g)", df)
    print("fit", len(fit.fixef()))
except pylme4.PylmeError as exc:
    print("error", type(exc).__name__, exc)
print(pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy")).nobs)
"""


def test_a_formula_with_800_terms_does_not_kill_the_process():
    done = run_python("-c", WIDE, timeout=300)
    first, last = done.stdout.splitlines()
    assert first == "fit 801" or first.startswith("error "), first
    assert last == "180"
