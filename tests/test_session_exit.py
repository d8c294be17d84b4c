"""Ending R when Python exits: R's own clean-up runs (without rpy2's extra
full garbage collection), and the process ends cleanly."""

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
