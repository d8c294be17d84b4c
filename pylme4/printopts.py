"""R's printouts with print()'s options: ``digits`` and ``signif.stars``
(spelled ``digits=`` and ``signif_stars=`` everywhere in pylme4), and for
summaries ``correlation``.

- ``fit.to_string(digits=)``: ``print(fit, digits=)``.
- ``fit.summary_text(...)``: ``print(summary(fit), ...)`` of a mixed model
  (lme4's ``print.summary.merMod``, or lmerTest's with ``ddf``) and of an
  ``lm()`` / ``glm()`` fit (``print.summary.lm`` / ``print.summary.glm``).
- ``table.to_string(...)``: ``print(table, ...)`` of an anova-style table
  (:class:`pylme4.AnovaTable`: lme4's and lmerTest's anova, ranova, drop1,
  step's tables) or of an lmerTest table (contest, ls_means, difflsmeans).

``None`` keeps R's default for an option.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._r.call import r_value
from .errors import ArgumentError, ArgumentTypeError, choice_error
from .fitbase import RFit
from .options import DDF_VALUES, Ddf

if TYPE_CHECKING:
    from .inference import AnovaTable
    from .lmertest import LmerTestTable


def _flag(name: str, flag: Any) -> bool | None:
    if flag is not None and not isinstance(flag, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be True, False or None, not {flag!r}")
    return None if flag is None else bool(flag)


def _digits(digits: Any) -> float | None:
    if digits is not None and (
        not isinstance(digits, (int, np.integer))
        or isinstance(digits, bool)
        or not 1 <= digits <= 22
    ):
        raise ArgumentError(f"digits must be a whole number from 1 to 22, not {digits!r}")
    return None if digits is None else float(digits)


def summary_text(
    fit: RFit,
    ddf: Ddf | None = None,
    correlation: bool | None = None,
    digits: int | None = None,
    signif_stars: bool | None = None,
) -> str:
    """``print(summary(fit), correlation=, digits=, signif.stars=)`` as text.

    ``ddf`` (linear mixed models only) prints lmerTest's summary; ``None``
    for an option keeps R's default (correlation shown when there are fewer
    than 20 fixed effects, ``digits`` 4, stars as ``show.signif.stars``).
    For an ``lm()``/``glm()`` fit ``correlation=True`` is R's
    ``print(summary(fit, correlation = TRUE), ...)`` (R's summary.lm takes it).
    """
    correlation = _flag("correlation", correlation)
    signif_stars = _flag("signif_stars", signif_stars)
    lt: Any = None
    if ddf is not None:
        if ddf not in DDF_VALUES:
            raise choice_error("ddf", ddf, DDF_VALUES)
        handle = getattr(fit, "lmertest_handle", None)
        if handle is None:
            raise ArgumentError("ddf applies to linear mixed models (lmer) only")
        lt = handle()
    return str(
        r_value(
            "pylme4_summary_text",
            fit.r_handle,
            lt,
            ddf,
            correlation,
            _digits(digits),
            signif_stars,
            doing="printing summary()",
        )
    )


def fit_text(fit: RFit, digits: int | None = None) -> str:
    """``print(fit, digits=)`` as text: the fitted model as R shows it
    (``print.merMod``, ``print.lm``, ``print.glm``) with ``digits``."""
    return str(
        r_value("pylme4_fit_text", fit.r_handle, _digits(digits), doing="printing the model")
    )


def anova_text(
    table: AnovaTable, digits: int | None = None, signif_stars: bool | None = None
) -> str:
    """``print(table, digits=, signif.stars=)`` of an anova table (R's ``print.anova``)."""
    frame = table.table
    return str(
        r_value(
            "pylme4_anova_text",
            frame.reset_index(drop=True),
            [str(r) for r in frame.index],
            list(table.heading),
            _digits(digits),
            _flag("signif_stars", signif_stars),
            doing="printing the anova table",
        )
    )


def lmertest_table_text(
    table: LmerTestTable, digits: int | None = None, signif_stars: bool | None = None
) -> str:
    """``print(table, digits=, signif.stars=)`` of an lmerTest table: an
    ``ls_means`` table (``print.ls_means``) or a contest data frame
    (``print.data.frame``, which has no stars: ``signif_stars`` changes
    nothing there, as in R)."""
    frame = table.table
    return str(
        r_value(
            "pylme4_lmertest_table_text",
            frame.reset_index(drop=True),
            [str(r) for r in frame.index],
            dict(table.r_attributes),
            _digits(digits),
            _flag("signif_stars", signif_stars),
            doing="printing the lmerTest table",
        )
    )
