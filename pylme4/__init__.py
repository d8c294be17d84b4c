"""pylme4: lme4, exactly, from Python.

Fit linear mixed-effects models with R's lme4 (and lmerTest) from pandas, and
get back R's numbers and R's printed text, byte for byte.

>>> import pylme4
>>> sleep = pylme4.datasets.load("sleepstudy")
>>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
>>> print(fit.summary(ddf="Satterthwaite"))  # doctest: +SKIP

Importing pylme4 does not start R (nor import pandas): R starts on the first
call that needs it, once per process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it.  Loaded on first access so that
# `import pylme4` stays cheap (no pandas, no rpy2, no R).
_EXPORTS = {
    "lmer": "models",
    "fit_many": "batch",
    "anova": "inference",
    "AnovaTable": "inference",
    "BootResult": "bootstrap",
    "BootCI": "bootstrap",
    "AllFitResult": "allfit",
    "ConvergenceCheck": "allfit",
    "parallel": None,
    "glmer": "models",
    "glmer_nb": "models",
    "Family": "families",
    "GlmerFit": "results",
    "GlmerSummary": "results",
    "lm": "linear",
    "lm_list": "linear",
    "LmFit": "linear",
    "LmListFit": "linear",
    "pooling": None,
    "resampling": None,
    "plot": None,
    "LmerFit": "results",
    "LmerSummary": "results",
    "datasets": None,
    "pipeline": None,
    "errors": None,
    "PylmeError": "errors",
    "FormulaError": "errors",
    "DataError": "errors",
    "ArgumentError": "errors",
    "ArgumentTypeError": "errors",
    "RError": "errors",
    "RNotAvailableError": "errors",
    "ConvergenceWarning": "errors",
    "SingularFitWarning": "errors",
    "RWarning": "errors",
    "RMessage": "errors",
    "glm": "linear",
    "GlmFit": "linear",
    "GlmSummary": "linear",
    "power": "power_analysis",
    "power_curve": "power_analysis",
    "PowerResult": "power_analysis",
    "PowerCurve": "power_analysis",
    "nlmer": "nonlinear",
    "NlmerFit": "results",
    "NlmerSummary": "results",
    "simulate_formula": "simulation",
    "is_nested": "changes",
    "EmmGrid": "marginal",
    "EmmList": "marginal",
    "EmmTable": "marginal",
    "compare_models": "tables",
    "ModelTable": "tables",
    "r_print": "formatting",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from . import datasets, errors, parallel, pipeline, plot, pooling, resampling
    from .allfit import AllFitResult, ConvergenceCheck
    from .batch import fit_many
    from .bootstrap import BootCI, BootResult
    from .changes import is_nested
    from .errors import (
        ArgumentError,
        ArgumentTypeError,
        ConvergenceWarning,
        DataError,
        FormulaError,
        PylmeError,
        RError,
        RMessage,
        RNotAvailableError,
        RWarning,
        SingularFitWarning,
    )
    from .families import Family
    from .formatting import r_print
    from .inference import AnovaTable, anova
    from .linear import GlmFit, GlmSummary, LmFit, LmListFit, glm, lm, lm_list
    from .marginal import EmmGrid, EmmList, EmmTable
    from .models import glmer, glmer_nb, lmer
    from .nonlinear import nlmer
    from .power_analysis import PowerCurve, PowerResult, power, power_curve
    from .results import GlmerFit, GlmerSummary, LmerFit, LmerSummary, NlmerFit, NlmerSummary
    from .simulation import simulate_formula
    from .tables import ModelTable, compare_models


# Names whose first use comes right before R is needed (data sets, fits).
# Reaching one of them starts R in a background thread (session.LOCK keeps
# every R call waiting until R is ready), so that R's start of a second and
# more overlaps importing pandas and preparing the data.  Result classes,
# errors and the rest do not start R.
_STARTS_R = frozenset(
    {"datasets", "lmer", "glmer", "glmer_nb", "lm", "glm", "lm_list", "nlmer", "fit_many"}
)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pylme4' has no attribute {name!r}")
    if name in _STARTS_R:
        from ._r.session import start_in_background

        start_in_background()
    module_name = _EXPORTS[name]
    if module_name is None:
        value = importlib.import_module(f".{name}", __name__)
    else:
        value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
