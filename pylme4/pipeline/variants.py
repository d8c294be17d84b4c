"""Model variants (``update:``): R's ``update(base, change, REML = ...)`` in a spec.

A model entry ``{name: m1, update: m0, formula: ". ~ . - Days"}`` is the
model R's ``update(m0, . ~ . - Days)`` fits: lme4's ``update.merMod``
re-evaluates the base model's call with the formula
``update.formula(formula(m0), . ~ . - Days)`` (and ``REML`` when the entry
sets ``reml``).  This module is the one place that knows how: it makes each
variant's formula with R's own ``update.formula()`` (before anything is
fitted, so that a bad change is a spec error with its line) and fits it.
When fits gain ``fit.update()``, :func:`fit_model` is where to switch to it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import PylmeError, one_line
from .spec import ModelSpec, Spec


def formulas(spec: Spec) -> dict[str, str]:
    """Each model's full formula, by name: a variant's is R's ``update.formula()``
    of its base model's formula and its change.

    Raises
    ------
    SpecError
        R cannot combine the two formulas (the message names the variant's key).
    """
    from .._r.call import r_value

    out: dict[str, str] = {}
    for i, model in enumerate(spec.models):
        if model.update is None:
            assert model.formula is not None  # the spec requires one
            out[model.name] = model.formula
        elif model.formula is None:
            out[model.name] = out[model.update]
        else:
            try:
                out[model.name] = str(
                    r_value(
                        "pylme4_update_formula",
                        out[model.update],
                        model.formula,
                        doing=f"updating the formula of {model.update}",
                    )
                )
            except PylmeError as exc:
                raise spec.error(
                    f"models[{i}].formula",
                    f"R's update.formula() cannot apply {model.formula!r} to "
                    f"{out[model.update]!r}: {one_line(exc)}",
                ) from None
    return out


def fit_model(model: ModelSpec, formula: str, frame: pd.DataFrame, data_name: str) -> Any:
    """The model's fit: ``lmer(formula, ...)``; for a variant, what R's ``update()`` fits.

    ``formula`` is the model's full formula (:func:`formulas`).  update.merMod
    refits the base model's call with the new formula and REML, on the same
    data: that call is ``lmer(formula, data, REML = reml)``, so fitting it
    directly gives the same fit, printed with the same formula.
    """
    from ..models import lmer

    return lmer(formula, frame, reml=model.reml, data_name=data_name)
