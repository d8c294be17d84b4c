"""Checks on user input made before any model is fitted.

Each check raises a :class:`~pylme4.errors.FormulaError` or
:class:`~pylme4.errors.DataError` whose message names the culprit, so users see
"column 'dayz' is not in the data (did you mean 'days'?)" rather than R's
"object 'dayz' not found".
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._r.call import r_value
from ._r.convert import check_columns
from .errors import DataError, FormulaError, PylmeError


@dataclass(frozen=True)
class FormulaVars:
    """The variables a formula uses, as R's all.vars() reports them."""

    variables: tuple[str, ...]
    uses_dot: bool
    has_response: bool
    response: str | None
    """The response when it is a bare column name (not an expression)."""


def as_frame(data: Any, what: str = "data") -> pd.DataFrame:
    """The data as a pandas DataFrame, or a DataError saying what was given."""
    if isinstance(data, pd.DataFrame):
        return data
    # polars, pyarrow and other dataframe-protocol objects convert once.
    if hasattr(data, "to_pandas") and callable(data.to_pandas):
        return as_frame(data.to_pandas(), what)
    if hasattr(data, "__dataframe__"):
        return pd.api.interchange.from_dataframe(data)
    raise DataError(
        f"{what} must be a pandas DataFrame (or polars/Arrow table), not {type(data).__name__}"
    )


def check_frame(df: pd.DataFrame, what: str = "data") -> None:
    """Column names R can use, and at least one row."""
    check_columns(df.columns)
    if len(df) == 0:
        raise DataError(f"{what} has no rows")


def _suggest(name: str, columns: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in columns}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


# What R's all.vars() finds in a formula depends only on the formula's text,
# and which of those names are columns only on the column names: an answer in
# which every name is a column is kept, so that fitting the same formula again
# (simulation studies, fit_many, refits) skips this round trip to R.  Answers
# that involve other names depend on R's global environment and are not kept.
_FORMULA_CACHE: dict[tuple[str, tuple[str, ...]], FormulaVars] = {}
_FORMULA_CACHE_SIZE = 256


def formula_vars(formula: str, columns: Sequence[str]) -> FormulaVars:
    """Parse the formula in R and check every variable it names is a column.

    A name that is not a column is accepted only when R itself knows an object
    of that name (``pi``, say), as lme4 would look it up there too.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(f"the formula must be a non-empty string, not {formula!r}")
    key = (formula, tuple(columns))
    cached = _FORMULA_CACHE.get(key)
    if cached is not None:
        return cached
    found = _formula_vars_from_r(formula, columns)
    if set(found.variables) <= set(columns):
        if len(_FORMULA_CACHE) >= _FORMULA_CACHE_SIZE:
            _FORMULA_CACHE.clear()
        _FORMULA_CACHE[key] = found
    return found


def _formula_vars_from_r(formula: str, columns: Sequence[str]) -> FormulaVars:
    try:
        info = r_value("pylme4_formula_vars", formula, list(columns), doing="parsing the formula")
    except PylmeError as exc:
        raise FormulaError(
            f"the formula {formula!r} is not a valid R formula: {_first_line(exc)}"
        ) from None
    unknown = _strings(info["unknown"])
    if unknown:
        name = unknown[0]
        more = f" (and {', '.join(map(repr, unknown[1:]))})" if len(unknown) > 1 else ""
        raise FormulaError(
            f"the formula uses {name!r}{more}, which is not a column of the data"
            f"{_suggest(name, columns)}"
        )
    return FormulaVars(
        tuple(_strings(info["vars"])),
        bool(info["dot"]),
        bool(info["has_lhs"]),
        info["response"] or None,
    )


def check_response(df: pd.DataFrame, response: str | None, numeric: bool = True) -> None:
    """A response column R can model: numeric (when asked) and not all missing."""
    if response is None or response not in df.columns:
        return
    values = df[response]
    if values.isna().all():
        raise DataError(f"the response {response!r} has no non-missing values")
    if numeric and (
        not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
    ):
        raise DataError(
            f"the response {response!r} must be numeric, but its dtype is {values.dtype}"
        )


def _first_line(exc: Exception) -> str:
    r_message = getattr(exc, "r_message", str(exc))
    return " ".join(str(r_message).split())


def _strings(value: Any) -> list[str]:
    """An R character vector converted by to_python, as a list of str."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def column_or_array(
    value: Any, name: str, df: pd.DataFrame, *, nonnegative: bool = False
) -> tuple[str | None, np.ndarray | None]:
    """A weights/offset argument given as a column name or as an array.

    Returns (column name, None) or (None, float array of len(df)).
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        if value not in df.columns:
            raise DataError(
                f"{name}={value!r} is not a column of the data{_suggest(value, df.columns)}"
            )
        values = df[value]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
            values.dtype
        ):
            raise DataError(f"{name} column {value!r} must be numeric, not {values.dtype}")
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        column: str | None = value
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise DataError(f"{name} must be numeric") from None
        if arr.ndim != 1 or len(arr) != len(df):
            raise DataError(f"{name} has {arr.size} values but the data has {len(df)} rows")
        column = None
    if nonnegative and np.any(arr[~np.isnan(arr)] < 0):
        raise DataError(f"{name} must not be negative")
    if np.any(np.isinf(arr)):
        raise DataError(f"{name} must be finite")
    return column, (None if column is not None else arr)
