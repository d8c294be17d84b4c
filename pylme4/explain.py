"""Naming the culprit of an R error from the user's data.

Some of lme4's errors cannot say which column or factor caused them
("grouping factors must have > 1 sampled level"), or name lme4's internal
variables ("NA/NaN/Inf in 'y'").  Checking for all of that before every fit
would cost time and could reject models R accepts (an infinite value in a
column used only through ``is.finite()``, say), so pylme4 looks only after
R failed: :func:`fit_error` inspects the data (or asks lme4's own
``lFormula()``) and returns an exception of the same class whose message
names the culprit, keeping R's text in ``r_message``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._r.call import r_value
from ._r.convert import Columns
from .errors import DataError, PylmeError, suggestion


def _with_message(exc: PylmeError, cls: type[PylmeError], message: str) -> PylmeError:
    """A new exception of ``cls`` carrying ``exc``'s R text and R conditions."""
    new = cls(message)
    new.r_message = getattr(exc, "r_message", str(exc))  # type: ignore[attr-defined]
    new.conditions = getattr(exc, "conditions", ())  # type: ignore[attr-defined]
    return new


def _rows(df: pd.DataFrame, mask: np.ndarray) -> str:
    labels = df.index[mask]
    shown = ", ".join(repr(x) for x in labels[:5].tolist())
    more = f" and {len(labels) - 5} more" if len(labels) > 5 else ""
    return f"{len(labels)} row{'s' if len(labels) != 1 else ''} (index {shown}{more})"


def _infinite(values: pd.Series) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return np.zeros(len(values), dtype=bool)
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    return np.isinf(arr)


def _used(prepared: dict[str, Any]) -> list[str]:
    df: pd.DataFrame = prepared["df"]
    return [c for c in prepared["columns"] if c in df.columns]


def fit_error(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError:
    """A clearer exception for a failed fit, or ``exc`` itself.

    ``prepared`` is what :func:`pylme4.models.prepare_call` returned for the fit.
    """
    r_message = str(getattr(exc, "r_message", ""))
    try:
        for pattern, explain in _EXPLAINERS:
            if re.search(pattern, r_message):
                better = explain(exc, prepared)
                if better is not None:
                    return better
    except PylmeError:  # the explanation itself failed: R's own words will do
        pass
    return exc


def predict_error(exc: PylmeError, newdata: pd.DataFrame) -> PylmeError:
    """A clearer exception for a failed ``predict(newdata)``, or ``exc`` itself."""
    match = re.search(r"object '(?P<name>[^']+)' not found", str(getattr(exc, "r_message", "")))
    if match and match["name"] not in newdata.columns:
        name = match["name"]
        close = suggestion(name, [str(c) for c in newdata.columns])
        return _with_message(
            exc, DataError, f"newdata has no column {name!r}, which the model uses{close}"
        )
    return exc


def _grouping_one_level(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    args = prepared["args"]
    levels = r_value(
        "pylme4_grouping_levels",
        args["formula_text"],
        Columns(prepared["df"], prepared["columns"]),
        args["data_name"],
        symbols=args["symbols"],
        extra=args["extra"],
        doing="looking for the grouping factor with one level",
    )
    single = [(name, info) for name, info in levels.items() if int(info["n"]) < 2]
    if not single:
        return None
    parts = []
    for name, info in single:
        level = info["levels"]
        parts.append(
            f"{name!r} has only one level ({level[0]!r})"
            if int(info["n"]) == 1
            else f"{name!r} has no levels"
        )
    return _with_message(
        exc,
        DataError,
        f"the grouping factor {' and '.join(parts)} in the rows the model uses; "
        "a random effect needs at least two groups",
    )


def _response_infinite(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    response = prepared.get("response")
    if response is not None and response in df.columns:
        bad = _infinite(df[response])
        if bad.any():
            return _with_message(
                exc,
                DataError,
                f"the response {response!r} is infinite in {_rows(df, bad)}; "
                "lme4 cannot use infinite values: drop or replace these rows",
            )
    return _with_message(
        exc,
        DataError,
        "the response, as the formula computes it, has infinite values "
        "(for example log(0)); lme4 cannot use them",
    )


def _predictor_infinite(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    found = [(c, _infinite(df[c])) for c in _used(prepared) if c != prepared.get("response")]
    found = [(c, bad) for c, bad in found if bad.any()]
    if found:
        column, bad = found[0]
        more = f" (and {', '.join(repr(c) for c, _ in found[1:])})" if len(found) > 1 else ""
        return _with_message(
            exc,
            DataError,
            f"column {column!r}{more} is infinite in {_rows(df, bad)}; lme4 cannot use "
            "infinite values in the model's variables: drop or replace these rows",
        )
    return _with_message(
        exc,
        DataError,
        "a term of the formula has infinite values once computed (for example log(0) "
        "or 1/0); lme4 cannot use them",
    )


def _missing_with_fail(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    found = [(c, df[c].isna().to_numpy()) for c in _used(prepared)]
    found = [(c, bad) for c, bad in found if bad.any()]
    extra = [(name, np.isnan(arr)) for name, arr in prepared["args"]["extra"].items()]
    found += [(name.lstrip("."), bad) for name, bad in extra if bad.any()]
    if not found:
        return _with_message(
            exc,
            DataError,
            "na_action='fail' and a term of the formula has missing values once computed",
        )
    names = ", ".join(repr(c) for c, _ in found)
    column, bad = found[0]
    return _with_message(
        exc,
        DataError,
        f"na_action='fail' and {names} {'has' if len(found) == 1 else 'have'} missing values "
        f"({column!r}: {_rows(df, bad)}); use na_action='omit' or 'exclude' to drop those rows",
    )


def _factor_one_level(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    used = _used(prepared)
    complete = ~df[used].isna().any(axis=1).to_numpy()
    culprits = []
    for column in used:
        values = df[column]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            continue
        distinct = pd.unique(values[complete].astype(object))
        if len(distinct) < 2:
            shown = f" ({distinct[0]!r})" if len(distinct) else ""
            culprits.append(f"{column!r}{shown}")
    if not culprits:
        return None
    return _with_message(
        exc,
        DataError,
        f"the factor {' and '.join(culprits)} has only one level in the rows the model uses, "
        "so it cannot be a predictor (it would have no contrasts); drop it from the formula",
    )


def _response_type(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    response = prepared.get("response")
    if response is None or response not in df.columns:
        return None
    dtype = df[response].dtype
    kind = "strings" if pd.api.types.infer_dtype(df[response], skipna=True) == "string" else None
    holds = f"holds {kind} (dtype {dtype})" if kind else f"has dtype {dtype}"
    return _with_message(
        exc,
        DataError,
        f"the response {response!r} {holds}, which the model cannot use: it needs numbers, "
        "or for the binomial family 0/1, True/False, a factor (pd.Categorical; its first "
        "level is failure) or cbind(successes, failures)",
    )


def _variable_type(exc: PylmeError, prepared: dict[str, Any]) -> PylmeError | None:
    match = re.search(
        r"invalid type \((?P<type>[^)]*)\) for variable '(?P<name>[^']+)'",
        str(getattr(exc, "r_message", "")),
    )
    if match is None:
        return None
    return _with_message(
        exc,
        DataError,
        f"{match['name']!r} has a type the model cannot use (R sees {match['type']}); "
        "a model variable must be numeric, logical, a string or a factor",
    )


_EXPLAINERS: Sequence[tuple[str, Any]] = (
    (r"response must be numeric", _response_type),
    (r"invalid type \(.*\) for variable", _variable_type),
    (r"grouping factors must have > 1 sampled level", _grouping_one_level),
    (r"NA/NaN/Inf in 'y'", _response_infinite),
    (r"NA/NaN/Inf in foreign function call", _predictor_infinite),
    (r"missing values in object", _missing_with_fail),
    (r"contrasts can be applied only to factors with 2 or more levels", _factor_one_level),
)
