"""R's printout of a summary with print()'s options: ``correlation``,
``digits`` and ``signif.stars`` (lme4's ``print.summary.merMod``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._r.call import r_value
from .errors import ArgumentError, ArgumentTypeError, choice_error
from .fitbase import MerFitLike
from .options import DDF_VALUES, Ddf


def summary_text(
    fit: MerFitLike,
    ddf: Ddf | None = None,
    correlation: bool | None = None,
    digits: int | None = None,
    signif_stars: bool | None = None,
) -> str:
    """``print(summary(fit), correlation=, digits=, signif.stars=)`` as text.

    ``ddf`` (linear mixed models only) prints lmerTest's summary; ``None``
    for an option keeps R's default (correlation shown when there are fewer
    than 20 fixed effects, ``digits`` 4, stars as ``show.signif.stars``).
    """
    for name, flag in (("correlation", correlation), ("signif_stars", signif_stars)):
        if flag is not None and not isinstance(flag, (bool, np.bool_)):
            raise ArgumentTypeError(f"{name} must be True, False or None, not {flag!r}")
    if digits is not None and (
        not isinstance(digits, (int, np.integer))
        or isinstance(digits, bool)
        or not 1 <= digits <= 22
    ):
        raise ArgumentError(f"digits must be a whole number from 1 to 22, not {digits!r}")
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
            None if correlation is None else bool(correlation),
            None if digits is None else float(digits),
            None if signif_stars is None else bool(signif_stars),
            doing="printing summary()",
        )
    )
