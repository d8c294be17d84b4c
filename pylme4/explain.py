"""Naming the culprit of an R error from the user's data.

Some of lme4's errors cannot say which column or factor caused them
("grouping factors must have > 1 sampled level"), or name lme4's internal
variables ("NA/NaN/Inf in 'y'").  Checking for all of that before every fit
would cost time and could reject models R accepts (an infinite value in a
column used only through ``is.finite()``, say), so pylme4 looks only after
R failed: :func:`fit_error` runs the explainers of the rules in
:mod:`pylme4.r_errors` that match R's text; each inspects the data (or asks
lme4's own ``lFormula()``) and returns an exception of the same class whose
message names the culprit, keeping R's text in ``r_message``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._r.call import r_value
from ._r.convert import Columns
from .errors import DataError, PylmeError, suggestion
from .r_errors import OBJECT_NOT_FOUND, RULES, with_message


def fit_error(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError:
    """A clearer exception for a failed fit, or ``exc`` itself.

    ``prepared`` is what :func:`pylme4.models.prepare_call` returned for the fit.
    """
    r_message = getattr(exc, "r_message", "")
    # The rules' explainers sit below the R boundary (the R call translates
    # with their table): the data reaches them already wrapped for R.
    prepared = {**prepared, "r_data": Columns(prepared["df"], prepared["columns"])}
    try:
        for rule in RULES:
            if rule.explain is not None and rule.pattern.search(r_message):
                better = rule.explain(exc, prepared, r_value)
                if better is not None:
                    return better
    except PylmeError:  # the explanation itself failed: R's own words will do
        pass
    return exc


def predict_error(exc: PylmeError, newdata: pd.DataFrame) -> PylmeError:
    """A clearer exception for a failed ``predict(newdata)``, or ``exc`` itself."""
    match = OBJECT_NOT_FOUND.search(getattr(exc, "r_message", ""))
    if match and match["name"] not in newdata.columns:
        name = match["name"]
        close = suggestion(name, [str(c) for c in newdata.columns])
        return with_message(
            exc, DataError, f"newdata has no column {name!r}, which the model uses{close}"
        )
    return exc
