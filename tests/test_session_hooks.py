"""How the embedded R is hooked into Python.

- R does not call back into Python to "process events" (that cost about 5%
  of a small fit and swallowed Ctrl-C): a Ctrl-C during an R call is raised
  as KeyboardInterrupt when the call returns, and the session goes on.
- At exit R's own clean-up runs (without rpy2's extra full garbage
  collection), and the process ends cleanly.
"""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import pylme4
from pylme4._r.call import run_code
fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy"))
print(run_code("tempdir()"))
"""


def test_exit_removes_r_temporary_directory():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
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
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["interrupted", "2.0"]
