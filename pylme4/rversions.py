"""Which rpy2 release fits which R: the one table, read by ``make setup`` and ``pylme4 doctor``.

rpy2 is compiled against the R it finds, and its releases follow R's C API:
the 3.5 series builds against R 4.2 .. 4.4, while releases after 3.6.6 use
entry points that only R >= 4.5 has (``R_ParentEnv``, ``R_getVar``) and fail
at import on an older R.  So the rpy2 requirement depends on the R present,
which pip's metadata cannot express: ``pyproject.toml`` asks only for
``rpy2>=3.5.17`` and ``make setup`` adds the row of this table for the
installed R as a pip constraint.

Standard library only, and runnable as a script before pylme4 or its
dependencies are installed (the Makefile runs ``python3 pylme4/rversions.py``)::

    python3 pylme4/rversions.py          # asks Rscript for R's version
    python3 pylme4/rversions.py 4.5.1    # the requirement for a given R
"""

from __future__ import annotations

import shutil
import subprocess
import sys

# (lowest R version of the row, rpy2 requirement); a row holds up to the next
# row's R.  Rows in increasing order of R.
RPY2_FOR_R: tuple[tuple[tuple[int, int], str], ...] = (
    ((4, 2), "rpy2>=3.5.17,<3.6"),
    ((4, 5), "rpy2>=3.6"),
)

MIN_R = RPY2_FOR_R[0][0]


def parse_version(text: str) -> tuple[int, ...]:
    """``"4.2.2"`` -> ``(4, 2, 2)``; stops at the first part that is not a number."""
    parts = []
    for piece in text.strip().replace("-", ".").split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def rpy2_requirement(r_version: tuple[int, ...]) -> str | None:
    """The rpy2 requirement for R ``r_version``; None for an R older than :data:`MIN_R`."""
    chosen = None
    for lowest, requirement in RPY2_FOR_R:
        if tuple(r_version[:2]) >= lowest:
            chosen = requirement
    return chosen


def installed_r_version(rscript: str | None = None) -> tuple[int, ...] | None:
    """The version of the R on PATH (asked from Rscript), or None when R does not run."""
    program = rscript or shutil.which("Rscript")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "--vanilla", "-e", 'cat(R.version$major, R.version$minor, sep = ".")'],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = parse_version(done.stdout)
    return version if done.returncode == 0 and len(version) >= 2 else None


def main(argv: list[str]) -> int:
    """Print the rpy2 requirement for R ``argv[0]`` (default: the installed R)."""
    version = parse_version(argv[0]) if argv else installed_r_version()
    if not version:
        print("rversions: R is not installed (Rscript is not on PATH or fails)", file=sys.stderr)
        return 1
    requirement = rpy2_requirement(version)
    if requirement is None:
        shown = ".".join(map(str, version))
        print(f"rversions: R {shown} is older than 4.2, which pylme4 needs", file=sys.stderr)
        return 1
    print(requirement)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
