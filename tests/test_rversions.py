"""The rpy2 release chosen for each R (pylme4/rversions.py), as `make setup`
and `pylme4 doctor` use it.  Only one R is installed here, so the choice for
the others is checked against the table, through the same functions and the
same script the Makefile runs."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import r

from pylme4 import doctor, rversions

ROOT = Path(__file__).resolve().parent.parent

OLD_R = "rpy2>=3.5.17,<3.6"  # builds against R 4.2 .. 4.4
NEW_R = "rpy2>=3.6"  # releases after 3.6.6 need R >= 4.5


@pytest.mark.parametrize(
    ("r_version", "wanted"),
    [
        ((4, 2, 2), OLD_R),  # Debian 12
        ((4, 4, 3), OLD_R),
        ((4, 5, 0), NEW_R),  # Debian 13
        ((4, 6, 1), NEW_R),
        ((5, 0, 0), NEW_R),
    ],
)
def test_requirement_for_each_r(r_version, wanted):
    assert rversions.rpy2_requirement(r_version) == wanted
    shown = ".".join(map(str, r_version))
    done = subprocess.run(
        [sys.executable, str(ROOT / "pylme4" / "rversions.py"), shown],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == wanted


def test_r_too_old_has_no_rpy2():
    assert rversions.rpy2_requirement((4, 1, 3)) is None
    done = subprocess.run(
        [sys.executable, str(ROOT / "pylme4" / "rversions.py"), "4.1.3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "4.1.3 is older than 4.2" in done.stderr


def test_installed_r_is_asked():
    version = rversions.installed_r_version()
    assert version == rversions.parse_version(str(r("as.character(getRversion())")))
    assert rversions.rpy2_requirement(version) is not None


def test_script_needs_only_the_standard_library():
    # The Makefile runs it with the system Python before the venv exists.
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(ROOT / "pylme4" / "rversions.py"), "4.2.2"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == OLD_R


def test_make_setup_installs_with_the_constraint():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pylme4/rversions.py > $@.new" in text
    assert "-c $(VENV)/rpy2-constraint.txt -e '.[test]'" in text


@pytest.mark.parametrize(
    ("r_version", "rpy2", "fits"),
    [
        ((4, 2, 2), "3.5.17", True),
        ((4, 2, 2), "3.6.7", False),
        ((4, 4, 1), "3.5.17", True),
        ((4, 5, 0), "3.5.17", False),
        ((4, 5, 0), "3.6.7", True),
        ((4, 6, 0), "3.6.7", True),
        ((4, 6, 0), "3.5.16", False),
    ],
)
def test_doctor_names_the_rpy2_for_the_r_it_finds(monkeypatch, r_version, rpy2, fits):
    real = metadata.version
    monkeypatch.setattr(
        doctor.metadata, "version", lambda name: rpy2 if name == "rpy2" else real(name)
    )
    check = doctor.check_rpy2_versions(r_version)
    assert check is not None
    if fits:
        assert check.ok
        assert rversions.rpy2_requirement(r_version) in check.detail
        return
    wanted = rversions.rpy2_requirement(r_version)
    assert check is not None and not check.ok
    assert f"rpy2 {rpy2} does not fit R {'.'.join(map(str, r_version))}" in check.detail
    assert wanted in check.detail
    assert check.fix is not None and check.fix.endswith(f"'{wanted}'")


def test_doctor_fix_for_a_missing_rpy2_fits_r(monkeypatch):
    real = doctor.importlib.import_module

    def no_rpy2(name):
        if name == "rpy2":
            raise ImportError("No module named 'rpy2'")
        return real(name)

    monkeypatch.setattr(doctor.importlib, "import_module", no_rpy2)
    monkeypatch.setattr(doctor, "python_requirements", lambda: {"rpy2": "rpy2>=3.5.17"})
    for r_version in [(4, 2, 2), (4, 5, 1)]:
        (check,) = doctor.check_python_packages(r_version)
        assert not check.ok
        assert check.fix is not None
        assert check.fix.endswith(f"'{rversions.rpy2_requirement(r_version)}'")


def _fake_r(tmp_path: Path, version: str) -> dict[str, str]:
    """A PATH whose Rscript claims to be R ``version`` (with every R package
    pylme4 needs), for the R this machine does not have."""
    from pylme4._r.session import R_PACKAGES

    packages = "".join(f"{p} 1.0\\n" for p in R_PACKAGES)
    script = tmp_path / "bin" / "Rscript"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *R.home*) printf '{version}\\n/opt/R/{version}\\n{packages}' ;;\n"
        f"  *) printf '{version}' ;;\n"
        "esac\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return dict(os.environ, PATH=f"{script.parent}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.parametrize("version", ["4.4.2", "4.5.1"])
def test_setup_and_doctor_with_another_r_on_path(tmp_path, version):
    env = _fake_r(tmp_path, version)
    wanted = rversions.rpy2_requirement(rversions.parse_version(version))
    # What `make setup` runs to write the pip constraint.
    done = subprocess.run(
        ["python3", str(ROOT / "pylme4" / "rversions.py")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert done.stdout.strip() == wanted
    done = subprocess.run(
        [sys.executable, "-m", "pylme4", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    line = next(x for x in done.stdout.splitlines() if "rpy2 and R:" in x)
    rpy2 = metadata.version("rpy2")
    if rversions.parse_version(rpy2) < (3, 6) and version.startswith("4.5"):
        assert f"rpy2 {rpy2} does not fit R {version}, which needs {wanted}" in line
        assert wanted in done.stdout.split(line, 1)[1]  # the fix names it
        assert done.returncode != 0
    else:
        assert line.startswith("ok") and f"fits R {version} ({wanted})" in line
