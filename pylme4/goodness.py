"""How much a mixed model explains: Nakagawa's R² and the intraclass
correlation, computed in R by the performance package
(``performance::r2_nakagawa()``, ``performance::icc()``).

Offered as ``fit.r2()`` and ``fit.icc()`` by :class:`pylme4.LmerFit` and
:class:`pylme4.GlmerFit` (binomial, Poisson, negative binomial, Gamma,
inverse Gaussian and Gaussian families with the links performance knows).
Results are frozen and print R's text.

performance does not always signal its problems: some it prints (its
"Random effect variances not available" note, or the text of an error it
caught).  pylme4 never prints; such text becomes an R message kept in the
result's ``messages`` and raised as a :class:`pylme4.errors.RMessage`
warning.  When performance cannot compute the random-effect variances at
all (a variance component is zero, i.e. a singular fit, or the null model
it refits fails), ``icc()`` (and ``r2()`` when nothing could be computed)
raise :class:`pylme4.errors.RError` with performance's reason; ``r2()``
still returns the marginal R² with a NaN conditional R² when only the
random-effect variance is missing, as R does, with R's warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import checks, formatting
from ._r import session
from ._r.call import r_call
from .errors import ArgumentTypeError, RCondition, RError, emit, one_line
from .fitbase import MerFitLike


@dataclass(frozen=True)
class R2(formatting.RPrinted):
    """Nakagawa's R² of a mixed model (``performance::r2_nakagawa(fit)``).

    ``str(r2)`` is R's ``print()`` of the result.
    """

    conditional: float
    """Variance explained by the fixed and random effects together (NaN when
    performance could not compute the random-effect variance)."""
    marginal: float
    """Variance explained by the fixed effects alone."""
    text: str = field(repr=False)
    messages: tuple[RCondition, ...] = ()
    """What R warned or said (performance's printed notes included)."""


@dataclass(frozen=True)
class ICC(formatting.RPrinted):
    """The intraclass correlation of a mixed model (``performance::icc(fit)``).

    ``str(icc)`` is R's ``print()`` of the result.  (performance's third
    column, ``ICC_conditional``, is a copy of the unadjusted ICC.)
    """

    adjusted: float
    """Random-effect variance / (random + residual variance)."""
    unadjusted: float
    """Random-effect variance / (fixed + random + residual variance)."""
    text: str = field(repr=False)
    messages: tuple[RCondition, ...] = ()


@dataclass(frozen=True)
class ICCByGroup(formatting.RPrinted):
    """The ICC of each grouping factor (``performance::icc(fit, by_group = TRUE)``)."""

    table: pd.DataFrame
    """Columns Group and ICC, one row per grouping factor."""
    text: str = field(repr=False)
    messages: tuple[RCondition, ...] = ()


def _cannot(what: str, conditions: tuple[RCondition, ...]) -> RError:
    said = [one_line(c.text) for c in conditions]
    reason = said[0] if said else "performance returned NA"
    error = RError(f"{what}: performance could not compute the variance components: {reason}")
    error.r_message = "\n".join(c.text for c in conditions)
    error.conditions = conditions
    return error


def _tolerance(tolerance: Any) -> float:
    return checks.positive_number(tolerance, "tolerance")


def r2(fit: MerFitLike, tolerance: float = 1e-5) -> R2:
    """Nakagawa's marginal and conditional R²: ``performance::r2_nakagawa(fit, tolerance =)``.

    ``tolerance`` is performance's: random-effect variances below it count
    as zero (a singular fit), and then the conditional R² is NaN.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> print(fit.r2())
    # R2 for Mixed Models
    <BLANKLINE>
      Conditional R2: 0.799
         Marginal R2: 0.279
    """
    tol = _tolerance(tolerance)
    session.require_namespace("performance")
    outcome = r_call("pylme4_r2", fit.r_handle, tol, doing="computing r2_nakagawa()")
    parts = outcome.value
    if not parts["ok"]:
        raise _cannot("r2()", outcome.conditions)
    emit(outcome.conditions)
    return R2(
        conditional=float(parts["conditional"]),
        marginal=float(parts["marginal"]),
        text=parts["text"],
        messages=outcome.conditions,
    )


def icc(fit: MerFitLike, by_group: bool = False, tolerance: float = 1e-5) -> ICC | ICCByGroup:
    """The intraclass correlation: ``performance::icc(fit, by_group =, tolerance =)``.

    ``by_group=False`` gives the adjusted and unadjusted ICC
    (:class:`ICC`); ``by_group=True`` one ICC per grouping factor
    (:class:`ICCByGroup`; R warns when the model has random slopes).
    """
    if not isinstance(by_group, (bool, np.bool_)):
        raise ArgumentTypeError(f"by_group must be True or False, not {by_group!r}")
    tol = _tolerance(tolerance)
    session.require_namespace("performance")
    outcome = r_call("pylme4_icc", fit.r_handle, bool(by_group), tol, doing="computing icc()")
    parts = outcome.value
    if not parts["ok"]:
        raise _cannot("icc()", outcome.conditions)
    emit(outcome.conditions)
    if by_group:
        return ICCByGroup(table=parts["table"], text=parts["text"], messages=outcome.conditions)
    return ICC(
        adjusted=float(parts["adjusted"]),
        unadjusted=float(parts["unadjusted"]),
        text=parts["text"],
        messages=outcome.conditions,
    )
