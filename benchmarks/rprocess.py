"""A separate R process (Rscript) that runs R code on request.

The reference side of the benchmarks: plain R, as an R user runs it, in its
own process, timing its work inside R (``timed(expr)`` in ``rprocess.R``).
It stays alive for the whole suite, so R's start-up and package loading are
paid once, as in an interactive R session, and requests alternate with
pylme4's runs (see :mod:`benchmarks.timing`).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import IO

from .timing import Timing

_SCRIPT = Path(__file__).resolve().parent / "rprocess.R"


class RProcessError(RuntimeError):
    """R code sent to the benchmark R process failed."""


class RProcess:
    """``Rscript rprocess.R`` with a pipe to it; use as a context manager."""

    def __init__(self) -> None:
        # R's stderr, kept for error reports; closed in close().
        self._stderr: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._proc = subprocess.Popen(
            ["Rscript", "--no-save", "--no-restore", str(_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )

    def __enter__(self) -> RProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr.close()

    def run(self, code: str) -> list[float]:
        """Evaluate ``code`` in R's global environment; its value as floats."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(code.rstrip("\n") + "\n@@end\n")
        self._proc.stdin.flush()
        while True:
            line = self._proc.stdout.readline()
            if not line:
                self._stderr.seek(0)
                raise RProcessError(f"the R process ended: {self._stderr.read()[-2000:]}")
            if line.startswith("@@ok"):
                return [float(v) for v in line.split()[1:]]
            if line.startswith("@@error"):
                raise RProcessError(f"R failed on:\n{code}\n{line[len('@@error') :].strip()}")
            # anything else is R printing: ignore it

    def seconds(self, code: str) -> Timing:
        """Run code whose value is ``timed(...)``: wall and CPU seconds."""
        wall, cpu = self.run(code)
        return Timing(wall, cpu)
