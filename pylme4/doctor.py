"""``pylme4 doctor``: is everything pylme4 needs here, and if not, what fixes it?

Checks Python, the Python packages, R, the R packages and whether rpy2 can
start R and load pylme4's helpers.  Each problem comes with the exact command
that fixes it.  This module must work when R, rpy2 or pandas are missing, so
it imports nothing but the standard library (and ``pylme4._r.session``,
which loads neither R nor rpy2's C library), and it asks R through ``Rscript``
subprocesses, and rpy2 through a Python subprocess, so that a broken R or a
crashing rpy2 cannot take the doctor down with it.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata

from ._r.session import INSTALL_HINT, R_PACKAGES
from .errors import RNotAvailableError
from .rversions import MIN_R, parse_version, rpy2_requirement

# Python distributions whose import name is not their (lower-case) name.
_IMPORT_NAMES = {"pyyaml": "yaml"}
_MIN_PYTHON = (3, 10)
_TIMEOUT = 120


@dataclass(frozen=True)
class Check:
    """One thing the doctor looked at."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    """The command that fixes the problem (None when ``ok``)."""


def _pip(requirement: str) -> str:
    return f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(requirement)}"


def _apt(packages: list[str]) -> str | None:
    """apt-get install ... on Debian/Ubuntu (with sudo unless root), else None."""
    if shutil.which("apt-get") is None and shutil.which("apt-get", path="/usr/bin:/bin") is None:
        return None
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install -y --no-install-recommends {' '.join(packages)}"


def _requirement_allows(requirement: str, version: tuple[int, ...]) -> bool:
    """Whether ``version`` meets ``requirement`` (the ``>=`` and ``<`` bounds of the table)."""
    for spec in requirement.removeprefix("rpy2").split(","):
        spec = spec.strip()
        if spec.startswith(">=") and version < parse_version(spec[2:]):
            return False
        if (
            spec.startswith("<")
            and not spec.startswith("<=")
            and version >= parse_version(spec[1:])
        ):
            return False
    return True


def check_python() -> Check:
    """The Python version."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= _MIN_PYTHON:
        return Check("Python", True, f"{version} ({sys.executable})")
    return Check(
        "Python",
        False,
        f"{version} is older than {'.'.join(map(str, _MIN_PYTHON))}",
        "install Python >= 3.10 and create the environment again: make setup",
    )


def python_requirements() -> dict[str, str]:
    """pylme4's Python dependencies (pyproject.toml's, as installed): name -> requirement.

    Optional extras and requirements with environment markers are left out;
    lower bounds are written first ("rpy2>=3.5.17,<3.6").  Empty when pylme4
    is not installed (run from a source folder on PYTHONPATH).
    """
    try:
        requires = metadata.requires("pylme4") or []
    except metadata.PackageNotFoundError:
        return {}
    out = {}
    for line in requires:
        match = re.fullmatch(
            r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*\(?([^;()]*)\)?\s*", line
        )
        if match is None:  # with a marker: an optional extra, or only for some Pythons
            continue
        name, extras, specifiers = match.group(1), match.group(2) or "", match.group(3)
        parts = sorted(
            (s.strip() for s in specifiers.split(",") if s.strip()),
            key=lambda s: not s.startswith(">"),
        )
        out[name.lower()] = name + extras + ",".join(parts)
    return out


def check_python_packages(r_version: tuple[int, ...] | None = None) -> list[Check]:
    """pylme4's Python dependencies are importable (rpy2 without starting R).

    A missing rpy2's fix names the release that fits R ``r_version``.
    """
    requirements = python_requirements()
    if not requirements:
        return [
            Check(
                "pylme4",
                False,
                "is not installed, so its Python dependencies are unknown",
                "make setup",
            )
        ]
    checks = []
    for dist, requirement in requirements.items():
        module = _IMPORT_NAMES.get(dist, dist.replace("-", "_"))
        try:
            importlib.import_module(module)
        except ImportError as exc:
            if dist == "rpy2" and r_version is not None:
                requirement = rpy2_requirement(r_version) or requirement
            checks.append(Check(dist, False, f"cannot be imported ({exc})", _pip(requirement)))
            continue
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "(version unknown)"
        checks.append(Check(dist, True, version))
    return checks


def rscript(program: str | None = None) -> str | None:
    """The path of ``program`` (default Rscript) on PATH, or None."""
    return shutil.which(program or "Rscript")


def require_rscript(program: str | None = None) -> str:
    """The path of ``program`` (default Rscript), or RNotAvailableError saying how to get it."""
    found = rscript(program)
    if found is None:
        raise RNotAvailableError(f"Rscript is not on PATH; {INSTALL_HINT}")
    return found


def _run_r(code: str) -> subprocess.CompletedProcess[str]:
    program = rscript()
    assert program is not None
    return subprocess.run(
        [program, "--vanilla", "-e", code],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )


# One Rscript run tells R's version, its home and the R packages' versions:
# line 1 "4.2.2", line 2 R.home(), then "<package> <version or MISSING>".
_R_FACTS = (
    'cat(R.version$major, R.version$minor, sep = "."); cat("\\n", R.home(), "\\n", sep = "")\n'
    "for (p in c("
    + ", ".join(f'"{p}"' for p in R_PACKAGES)
    + ")) cat(p, tryCatch(if (requireNamespace(p, quietly = TRUE)) "
    'utils::packageDescription(p, fields = "Version") else "MISSING", '
    'error = function(e) "MISSING"), "\\n")'
)


def check_r() -> tuple[Check, tuple[int, ...] | None, dict[str, str]]:
    """R is installed (Rscript on PATH) and recent enough.

    Also returns R's version and the versions of the R packages pylme4 uses
    ("MISSING" when not installed; empty when R did not run), for
    :func:`check_r_packages`: one Rscript run asks for all of it.
    """
    fix = _apt(["r-base-core", "r-base-dev"]) or (
        "install R >= 4.2 (https://cloud.r-project.org), then: Rscript r_requirements.R"
    )
    if rscript() is None:
        return Check("R", False, "Rscript is not on PATH: R is not installed", fix), None, {}
    try:
        done = _run_r(_R_FACTS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("R", False, f"Rscript does not run ({exc})", fix), None, {}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Check("R", False, f"Rscript fails: {last}", fix), None, {}
    lines = done.stdout.split("\n")
    version_text, home = lines[0].strip(), (lines[1].strip() if len(lines) > 1 else "")
    packages = dict(line.split()[:2] for line in lines[2:] if len(line.split()) >= 2)
    version = parse_version(version_text)
    if version[:2] < MIN_R:
        return Check("R", False, f"{version_text} is older than 4.2", fix), version, packages
    return Check("R", True, f"{version_text} ({home})"), version, packages


def check_r_packages(found: dict[str, str]) -> Check:
    """Every R package of ``session.R_PACKAGES`` is installed in R.

    ``found``: package -> version, as :func:`check_r` read them from R.
    """
    names = list(R_PACKAGES)
    missing = [p for p in names if found.get(p, "MISSING") == "MISSING"]
    listed = ", ".join(f"{p} {found[p]}" for p in names if p not in missing)
    if not missing:
        return Check("R packages", True, listed)
    fix = _apt([R_PACKAGES[p] for p in missing]) or (
        "Rscript -e 'install.packages(c("
        + ", ".join(f'"{p}"' for p in missing)
        + '), repos = "https://cloud.r-project.org")\''
    )
    return Check("R packages", False, f"missing: {', '.join(missing)}", fix)


def check_rpy2_versions(r_version: tuple[int, ...] | None) -> Check | None:
    """The installed rpy2 fits this R, by the table of :mod:`pylme4.rversions`.

    None when rpy2 or R is missing (other checks say so).
    """
    try:
        rpy2 = parse_version(metadata.version("rpy2"))
    except metadata.PackageNotFoundError:
        return None
    if r_version is None:
        return None
    wanted = rpy2_requirement(r_version)
    if wanted is None:  # an R too old for pylme4: the R check says so
        return None
    if _requirement_allows(wanted, rpy2):
        return Check(
            "rpy2 and R",
            True,
            f"rpy2 {'.'.join(map(str, rpy2))} fits R {'.'.join(map(str, r_version))} ({wanted})",
        )
    return Check(
        "rpy2 and R",
        False,
        f"rpy2 {'.'.join(map(str, rpy2))} does not fit R {'.'.join(map(str, r_version))}, "
        f"which needs {wanted}",
        # rpy2 compiles against R: build it from source for this R.
        f"{shlex.quote(sys.executable)} -m pip install --force-reinstall --no-cache-dir "
        f"--no-binary rpy2 {shlex.quote(wanted)}",
    )


def check_embedded_r(r_version: tuple[int, ...] | None = None) -> Check:
    """rpy2 starts R in a Python process and pylme4's R helpers load."""
    code = (
        "from pylme4._r import session\n"
        "session.helpers()\n"
        "from pylme4._r.call import r_value\n"
        "v = r_value('pylme4_versions', doing='checking')\n"
        "print('R', v['R'], 'lme4', v['lme4'])\n"
    )
    # rpy2 compiles against the R it finds at install time: reinstall it
    # from source after R changed.
    wanted = (rpy2_requirement(r_version) if r_version else None) or python_requirements().get(
        "rpy2", "rpy2"
    )
    fix = (
        f"{shlex.quote(sys.executable)} -m pip install --force-reinstall --no-cache-dir "
        f"--no-binary rpy2 {shlex.quote(wanted)}"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("embedded R", False, f"could not start ({exc})", fix)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit code {done.returncode}"
        return Check("embedded R", False, f"rpy2 cannot start R: {last}", fix)
    return Check("embedded R", True, f"rpy2 starts {done.stdout.strip()}")


def diagnose() -> list[Check]:
    """Every check, in order; checks that need something missing are skipped."""
    r_check, r_version, r_packages = check_r()
    packages = check_python_packages(r_version)
    checks = [check_python(), *packages, r_check]
    if r_check.ok:
        checks.append(check_r_packages(r_packages))
    pair = check_rpy2_versions(r_version)
    if pair is not None:
        checks.append(pair)
    python_ok = all(c.ok for c in packages)
    if r_check.ok and python_ok and (pair is None or pair.ok):
        checks.append(check_embedded_r(r_version))
    return checks
