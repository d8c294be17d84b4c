"""Reproducible pipelines: a YAML spec -> fitted models -> results with provenance.

``pylme4 run SPEC --out DIR`` (:func:`run`) fits the spec's models and writes
R's printed summaries, the estimates as CSV and ``results.json`` (every
number, plus what produced them); ``pylme4 verify DIR`` (:func:`verify`)
re-runs the stored spec and compares every output; ``pylme4 export-r SPEC``
(:func:`export_r`) writes the same analysis as a standalone R script, whose
paths are relative to its own folder and whose files are byte for byte
those of ``run`` (``diff -r -x results.json -x .pylme4-manifest`` is empty).

Importing this package does not start R.
"""

from __future__ import annotations

from .export_r import export_r
from .run import FileAccessError, ModelError, OutputDirError, RunResult, read_results, run
from .spec import (
    BootSpec,
    CompareSpec,
    ConfintSpec,
    ContestSpec,
    DataSpec,
    Drop1Spec,
    LsMeansSpec,
    ModelSpec,
    Spec,
    SpecError,
    StepSpec,
    load_spec,
    parse_spec,
)
from .verify import Difference, Tolerance, VerifyReport, verify

__all__ = [
    "BootSpec",
    "CompareSpec",
    "ConfintSpec",
    "ContestSpec",
    "DataSpec",
    "Drop1Spec",
    "LsMeansSpec",
    "Difference",
    "FileAccessError",
    "ModelError",
    "ModelSpec",
    "OutputDirError",
    "RunResult",
    "Spec",
    "SpecError",
    "StepSpec",
    "Tolerance",
    "VerifyReport",
    "export_r",
    "load_spec",
    "parse_spec",
    "read_results",
    "run",
    "verify",
]
