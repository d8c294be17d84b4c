"""The three lists of R packages agree: what `make setup` installs (the
Makefile's R_PACKAGES and R_DEBS), what `Rscript r_requirements.R` installs
elsewhere, and what `pylme4 doctor` checks (session.R_PACKAGES)."""

from __future__ import annotations

import re
from pathlib import Path

from pylme4._r.session import R_PACKAGES

ROOT = Path(__file__).resolve().parent.parent


def _make_variable(name: str) -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(rf"^{name} := ((?:.*\\\n)*.*)$", text, re.MULTILINE)
    assert found, name
    return set(found.group(1).replace("\\\n", " ").split())


def test_make_setup_installs_what_doctor_checks():
    assert _make_variable("R_PACKAGES") == set(R_PACKAGES)
    debs = _make_variable("R_DEBS")
    assert set(R_PACKAGES.values()) <= debs


def test_r_requirements_lists_what_doctor_checks():
    text = (ROOT / "r_requirements.R").read_text(encoding="utf-8")
    block = text[text.index("minimum <- c(") : text.index("\n)\n")]
    listed = set(re.findall(r"^\s*([A-Za-z][\w.]*)\s*=", block, re.MULTILINE))
    # Matrix is checked for its minimum version; lme4 brings it in.
    assert listed - {"Matrix"} == set(R_PACKAGES)
