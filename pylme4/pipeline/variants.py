"""Model variants (``update:``): R's ``update(base, change, REML = ...)`` in a spec.

A model entry ``{name: m1, update: m0, formula: ". ~ . - Days"}`` is the
model R's ``update(m0, . ~ . - Days)`` fits: lme4's ``update.merMod``
re-evaluates the base model's call with the formula
``update.formula(formula(m0), . ~ . - Days)`` (and ``REML`` when the entry
sets ``reml``).  This module is the one place that knows how: R's own
``update.formula()`` makes the formula from the base model's fit, and
:func:`fit_model` fits it.  Before anything is fitted, :func:`formulas`
makes the same from the spec's texts, so that a change naming an unknown
column is a spec error with its line.  When fits gain ``fit.update()``,
:func:`fit_model` is where to switch to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import PylmeError, one_line
from .spec import ModelSpec, Spec


def update_formula(base: Any, change: str) -> str:
    """R's ``update.formula()`` of ``base`` (a fit, or a formula's text) with ``change``."""
    from .._r.call import r_value

    return str(
        r_value(
            "pylme4_spec_update_formula",
            base.r_handle if hasattr(base, "r_handle") else base,
            change,
            doing="updating a model's formula",
        )
    )


def formulas(spec: Spec) -> dict[str, str]:
    """Each model's formula, by name, from the spec's texts (a variant's: its base
    model's formula updated with its change), for checking them before any fit.

    Raises
    ------
    SpecError
        R cannot combine the two formulas (the message names the variant's key).
    """
    out: dict[str, str] = {}
    for i, model in enumerate(spec.models):
        if model.update is None:
            assert model.formula is not None  # the spec requires one
            out[model.name] = model.formula
        elif model.formula is None:
            out[model.name] = out[model.update]
        else:
            try:
                out[model.name] = update_formula(out[model.update], model.formula)
            except PylmeError as exc:
                raise spec.error(
                    f"models[{i}].formula",
                    f"R's update.formula() cannot apply {model.formula!r} to "
                    f"{out[model.update]!r}: {one_line(exc)}",
                ) from None
    return out


def fit_model(
    model: ModelSpec, frame: pd.DataFrame, data_name: str, base: Any = None
) -> tuple[Any, str]:
    """The model's fit and the formula it was fitted with: ``lmer(formula, ...)``
    (or glmer / glmer.nb), or for a variant (``base``: the base model's fit)
    ``base.update(change)``, R's ``update()``."""
    from ..models import glmer, glmer_nb, lmer

    if model.update is not None:
        # R's update(base, change, REML = reml): the base fit's own update(),
        # which re-evaluates its call (data, weights, offset, control, family;
        # a glmer.nb fit's call is glmer() with its theta fixed) with only the
        # formula and REML changed.
        # Without a change R's update(base, REML = FALSE) keeps the call's formula
        # as written; `. ~ .` would go through update.formula(), which drops an
        # explicit `1 +` and so changes the printed "Formula:" line.
        changes = {"reml": model.reml} if model.fun == "lmer" else {}
        fit = base.update(model.formula, **changes)
        if model.formula is None:
            return fit, base.formula
        return fit, update_formula(base, model.formula)
    assert model.formula is not None  # the spec requires one
    formula = model.formula
    common: dict[str, Any] = {
        "data_name": data_name,
        "weights": model.weights,
        "offset": model.offset,
        "control": control_dict(model.control),
    }
    if model.fun == "glmer.nb":
        return glmer_nb(formula, frame, nAGQ=model.nAGQ, **common), formula
    if model.fun == "glmer":
        assert model.family is not None
        return glmer(formula, frame, family=model.family, nAGQ=model.nAGQ, **common), formula
    return lmer(formula, frame, reml=model.reml, **common), formula


def control_dict(control: Any) -> dict[str, Any] | None:
    """The spec's control settings as pylme4's ``control=`` takes them (lists for R vectors)."""
    if control is None:
        return None
    return {
        name: control_dict(value)
        if isinstance(value, Mapping)
        else list(value)
        if isinstance(value, tuple)
        else value
        for name, value in control.items()
    }
