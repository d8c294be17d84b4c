"""Provenance: what produced a set of results, recorded in ``results.json``.

The block says which spec and which data (SHA-256, rows) went in, which
software computed the numbers (Python and its libraries; R, lme4, lmerTest,
Matrix, nloptr; the BLAS and LAPACK R calls), which seeds were set, on which
platform and when.  :func:`version_changes` lists what differs between two
such blocks, for ``verify`` to warn about.
"""

from __future__ import annotations

import datetime as _dt
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from .spec import Spec

# Python distributions whose versions can change the numbers or the files.
_PYTHON_PACKAGES = ("pylme4", "numpy", "pandas", "rpy2", "pyyaml")


def python_versions() -> dict[str, Any]:
    """Python's version and those of the libraries on the data's path to R."""
    packages: dict[str, str | None] = {}
    for name in _PYTHON_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "packages": packages,
    }


def r_facts() -> dict[str, Any]:
    """R's version, package versions, BLAS/LAPACK and RNG kinds (one R call)."""
    from .._r.call import r_value

    facts = r_value("pylme4_provenance", doing="reading R's versions")
    facts["packages"] = {k: _none_if_na(v) for k, v in dict(facts["packages"]).items()}
    facts["rng_kind"] = list(facts["rng_kind"])
    return {k: _none_if_na(v) for k, v in facts.items()}


def _none_if_na(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    return value


def platform_facts() -> dict[str, str]:
    """The operating system and machine."""
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "platform": platform.platform(),
    }


def now() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def collect(
    spec: Spec,
    data_source: Mapping[str, Any],
    *,
    started: str,
    command: str | None = None,
    trust: bool = False,
) -> dict[str, Any]:
    """The provenance block of ``results.json`` for a run of ``spec``.

    ``trust`` records whether the checks of :mod:`pylme4.pipeline.trust`
    were lifted (``--trust``).
    """
    return {
        "spec": {
            "path": None if spec.path is None else str(spec.path),
            "base_dir": str(spec.base_dir),
            "sha256": spec.sha256,
            "text": spec.text,
        },
        "data": dict(data_source),
        "seeds": spec.seeds(),
        "python": python_versions(),
        "r": r_facts(),
        "platform": platform_facts(),
        "time": started,
        "command": command,
        "trusted": bool(trust),
    }


# What verify compares between the stored and the new provenance: a change
# here can change numbers, so it is worth a warning even when nothing differs.
_VERSION_PATHS: tuple[tuple[str, ...], ...] = (
    ("python", "version"),
    *(("python", "packages", name) for name in _PYTHON_PACKAGES),
    ("r", "version"),
    ("r", "platform"),
    ("r", "blas"),
    ("r", "blas_library"),
    ("r", "lapack_library"),
    ("r", "lapack_version"),
    ("r", "rng_kind"),
    ("platform", "system"),
    ("platform", "machine"),
)


def _get(block: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = block
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def version_changes(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """One line per software version (or BLAS, platform) that differs: ``what: old -> new``."""
    changes = []
    paths = list(_VERSION_PATHS)
    # Earlier results.json files also list R among the packages; R's version
    # is compared once, as ("r", "version").
    r_packages = (
        set(_get(stored, ("r", "packages")) or {}) | set(_get(current, ("r", "packages")) or {})
    ) - {"R"}
    paths += [("r", "packages", name) for name in sorted(r_packages)]
    for path in paths:
        before, after = _get(stored, path), _get(current, path)
        if before != after:
            label = " ".join(p for p in path if p != "packages")
            changes.append(f"{label}: {before} -> {after}")
    return changes
