"""Checks on user input made before any model is fitted.

Each check raises a :class:`~pylme4.errors.FormulaError` or
:class:`~pylme4.errors.DataError` whose message names the culprit, so users see
"column 'dayz' is not in the data (did you mean 'days'?)" rather than R's
"object 'dayz' not found".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import frames
from ._r.call import r_value
from ._r.convert import check_columns, string_problem
from .errors import (
    ArgumentError,
    ArgumentTypeError,
    DataError,
    FormulaError,
    PylmeError,
    RNotAvailableError,
    choice_error,
    one_line,
    suggestion,
)
from .options import NEWPARAMS_NAMES


@dataclass(frozen=True)
class FormulaVars:
    """The variables a formula uses, as R's all.vars() reports them."""

    variables: tuple[str, ...]
    uses_dot: bool
    has_response: bool
    response: str | None
    """The response when it is a bare column name (not an expression)."""


def as_frame(data: Any, what: str = "data") -> pd.DataFrame:
    """The data as a pandas DataFrame (see :func:`pylme4.frames.as_frame`)."""
    return frames.as_frame(data, what)


def check_frame(df: pd.DataFrame, what: str = "data") -> None:
    """Column names R can use, and at least one row."""
    check_columns(df.columns)
    if len(df) == 0:
        raise DataError(f"{what} has no rows")


def replicates(value: Any, name: str = "nsim") -> int:
    """A number of replicates or simulations: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def seed(value: Any, *, optional: bool = True) -> int | None:
    """A seed for R's ``set.seed()``: an integer in R's integer range
    (None, when ``optional``, continues R's random stream)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        allowed = "an integer or None" if optional else "an integer"
        raise ArgumentTypeError(f"seed must be {allowed}, not {value!r}")
    if not -(2**31) < int(value) < 2**31:
        raise ArgumentError(f"seed must fit R's integer range, not {value}")
    return int(value)


def level(value: Any) -> float:
    """A confidence level: a number strictly between 0 and 1."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 < value < 1
    ):
        raise ArgumentError(f"level must be a number strictly between 0 and 1, not {value!r}")
    return float(value)


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
    problem = string_problem(formula)
    if problem is not None:
        raise FormulaError(f"the formula {brief(formula)} has {problem}")
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
    except RNotAvailableError:
        raise  # R itself is missing: not the formula's fault
    except PylmeError as exc:
        raise FormulaError(
            syntax_error_message(formula, str(getattr(exc, "r_message", exc)))
        ) from None
    problems = list(info["problems"])
    if problems:
        raise FormulaError(f"the formula {brief(formula)} cannot be used: {problems[0]}")
    unknown = list(info["unknown"])
    if unknown:
        name = unknown[0]
        if len(unknown) == 1:
            raise FormulaError(
                f"the formula uses {name!r}, which is not a column of the data"
                f"{suggestion(name, columns)}"
            )
        names = ", ".join(map(repr, unknown[:-1])) + f" and {unknown[-1]!r}"
        raise FormulaError(
            f"the formula uses {names}, which are not columns of the data"
            f"{suggestion(name, columns)}"
        )
    return FormulaVars(
        tuple(info["vars"]),
        bool(info["dot"]),
        bool(info["has_lhs"]),
        info["response"] or None,
    )


_R_SYNTAX = re.compile(r"<text>:(?P<line>\d+):(?P<col>\d+): (?P<what>[^\n]+)")


def brief(text: str, limit: int = 200) -> str:
    """``repr(text)``, shortened in the middle when longer than ``limit``."""
    if len(text) <= limit:
        return repr(text)
    half = (limit - 5) // 2
    return repr(text[:half] + " ... " + text[-half:])


def syntax_error_message(formula: str, r_message: str, what: str = "the formula") -> str:
    """One sentence saying where R's parser stopped in ``formula`` and why.

    ``what`` names the argument: "the formula", "re_form", ...
    """
    start = f"{what} {brief(formula)} is not valid R"
    if "no '~'" in r_message:
        return f"{start}: it has no '~' (write 'response ~ terms')"
    if "not of length one" in r_message:
        return f"{start}: it holds more than one expression (a ';' or a line break?)"
    if "buffer overflow" in r_message or "limited to 10000 bytes" in r_message:
        return f"{start}: it uses a name longer than R's limit of 10,000 bytes; rename the column"
    match = _R_SYNTAX.search(r_message)
    if not match:
        return f"{start}: {' '.join(r_message.split())}"
    what = match["what"].strip()
    lines = formula.splitlines() or [formula]
    line, col = int(match["line"]), int(match["col"])
    opened = _unclosed_parentheses(formula)
    if "end of input" in what:
        hint = f" ({opened} '(' not closed)" if opened > 0 else ""
        return f"{start}: it ends too early{hint}"
    # R gives the line and the column where the offending token ends.
    text = lines[line - 1] if 0 < line <= len(lines) else formula
    upto = text[:col]
    if len(upto) > 30:
        upto = "..." + upto[-27:]
    where = f"at character {col}" if len(lines) == 1 else f"at line {line}, character {col}"
    hint = " (a ')' has no matching '(')" if what == "unexpected ')'" and opened < 0 else ""
    return f"{start}: {what} {where}, the end of {upto!r}{hint}"


def _unclosed_parentheses(text: str) -> int:
    """'(' minus ')' outside quotes and backticks."""
    depth, quote = 0, ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
    return depth


# re_form texts that parsed and passed: predict() in a loop asks R once.
_RE_FORMS: set[str] = set()


def re_form(value: Any) -> str | None:
    """A ``re_form`` argument (predict, simulate, bootMer): None, "NA" or a
    one-sided formula such as "~ (1 | g)" or "~0", parsed in R here so that a
    mistake is reported as re_form's, not as the model formula's."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArgumentTypeError(
            f"re_form must be None, 'NA' or a formula string such as '~0', not {value!r}"
        )
    if value in _RE_FORMS:
        return value
    if not value.strip():
        raise ArgumentError("re_form must be None, 'NA' or a formula string such as '~0', not ''")
    problem = string_problem(value)
    if problem is not None:
        raise ArgumentError(f"re_form {brief(value)} has {problem}")
    try:
        problems = list(r_value("pylme4_re_form_problems", value, doing="parsing re_form"))
    except RNotAvailableError:
        raise
    except PylmeError as exc:
        raise FormulaError(
            syntax_error_message(
                value, str(getattr(exc, "r_message", exc)), what="re_form"
            ).replace("(write 'response ~ terms')", "(write e.g. '~ (1 | g)', or 'NA')")
        ) from None
    if problems:
        raise FormulaError(f"re_form {brief(value)} cannot be used: {problems[0]}")
    if len(_RE_FORMS) < 256:
        _RE_FORMS.add(value)
    return value


def positive_number(value: Any, name: str) -> float:
    """A finite number > 0 (a tolerance, say)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ArgumentTypeError(f"{name} must be a positive number, not {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ArgumentError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def check_response(df: pd.DataFrame, response: str | None, numeric: bool = True) -> None:
    """A response column R can model: numeric (when asked) and not all missing.

    Booleans count as numeric, as R's lmer() takes a logical response as 0/1.
    """
    if response is None or response not in df.columns:
        return
    values = df[response]
    if values.isna().all():
        raise DataError(f"the response {response!r} has no non-missing values")
    if numeric and not _is_numeric(values.dtype):
        raise DataError(
            f"the response {response!r} must be numeric, but its dtype is {values.dtype}"
            + (
                " (a factor response needs glmer() with a binomial family)"
                if isinstance(values.dtype, pd.CategoricalDtype)
                else ""
            )
        )


def _is_numeric(dtype: Any) -> bool:
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        t = dtype.pyarrow_dtype
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t))
    return bool(pd.api.types.is_numeric_dtype(dtype))


def _first_line(exc: Exception) -> str:
    return one_line(getattr(exc, "r_message", str(exc)))


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
                f"{name}={value!r} is not a column of the data{suggestion(value, df.columns)}"
            )
        values = df[value]
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
            values.dtype
        ):
            raise DataError(f"{name} column {value!r} must be numeric, not {values.dtype}")
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        column: str | None = value
    else:
        if isinstance(value, pd.Series):
            value = _aligned(value, name, df)
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise DataError(f"{name} must be numeric") from None
        if arr.ndim != 1 or len(arr) != len(df):
            raise DataError(f"{name} has {arr.size} values but the data has {len(df)} rows")
        column = None
    what = f"{name} column {column!r}" if column is not None else name
    present = arr[~np.isnan(arr)]
    if nonnegative and np.any(present < 0):
        bad = np.flatnonzero(arr < 0)
        raise DataError(
            f"{what} must not be negative, but {len(bad)} value(s) are "
            f"(first at row {df.index[bad[0]]!r}: {arr[bad[0]]:g})"
        )
    if np.any(np.isinf(arr)):
        bad = np.flatnonzero(np.isinf(arr))
        raise DataError(
            f"{what} must be finite, but {len(bad)} value(s) are not "
            f"(first at row {df.index[bad[0]]!r})"
        )
    if nonnegative and present.size and not np.any(present > 0):
        raise DataError(f"{what} are all zero: no observation would count")
    return column, (None if column is not None else arr)


def aligned(values: pd.Series, name: str, df: pd.DataFrame) -> pd.Series:
    """A Series given for the data's rows (weights, subset, newresp) lined
    up with them by index label; a clear DataError when it cannot be."""
    return _aligned(values, name, df)


def subset_vars(text: str, columns: Sequence[str]) -> list[str]:
    """The columns an R ``subset`` expression uses, after checking it as a
    formula is checked: one expression that parses, naming only columns (or
    objects R knows).  The expression is the caller's own R code."""
    if not text.strip():
        raise FormulaError("subset must be an R expression such as 'Days > 2', not ''")
    problem = string_problem(text)
    if problem is not None:
        raise FormulaError(f"subset {brief(text)} has {problem}")
    try:
        info = r_value("pylme4_subset_vars", text, list(columns), doing="parsing subset")
    except RNotAvailableError:
        raise
    except PylmeError as exc:
        raise FormulaError(
            syntax_error_message(text, str(getattr(exc, "r_message", exc)), what="subset")
        ) from None
    problems = list(info["problems"])
    if problems:
        raise FormulaError(f"subset {brief(text)} cannot be used: {problems[0]}")
    unknown = list(info["unknown"])
    if unknown:
        raise FormulaError(
            f"subset {brief(text)} uses {unknown[0]!r}, which is not a column of the data"
            f"{suggestion(unknown[0], columns)}"
        )
    return [v for v in info["vars"] if v in columns]


def _aligned(values: pd.Series, name: str, df: pd.DataFrame) -> pd.Series:
    """A weights/offset Series lined up with the data's rows by index label,
    as pandas aligns Series (an array is taken by position instead)."""
    if values.index.equals(df.index):
        return values
    if not values.index.is_unique:
        raise DataError(
            f"{name} is a Series whose index has duplicate labels, so its values cannot "
            "be matched to the data's rows; pass .to_numpy() to use them by position"
        )
    missing = df.index.difference(values.index, sort=False)
    extra = values.index.difference(df.index, sort=False)
    if len(missing) or len(extra) or not df.index.is_unique:
        detail = (
            f"{len(missing)} row label(s) of the data are not in it (first: {missing[0]!r})"
            if len(missing)
            else f"it has {len(extra)} label(s) the data does not have (first: {extra[0]!r})"
            if len(extra)
            else "the data's index has duplicate labels"
        )
        raise DataError(
            f"{name} is a Series whose index does not match the data's index: {detail}; "
            "align it (e.g. .reindex(data.index)) or pass .to_numpy() to use it by position"
        )
    return values.reindex(df.index)


def newparams(
    value: Any, *, n_beta: int | None = None, n_theta: int | None = None
) -> dict[str, dict[str, Any]]:
    """``newparams`` of predict() and simulate_formula(): a dict such as
    ``{"beta": [...], "theta": [...], "sigma": 25.0}`` (lme4's
    ``list(beta =, theta =, sigma =)``), as pylme4_newparams() in R reads it:
    per parameter its values and names (a Series gives named values, which
    lme4 matches to its own names; a list or array is taken in lme4's order).
    The lengths are checked here when the caller knows them (a fit); otherwise
    R's errors say it (r_errors.RULES)."""
    if not isinstance(value, Mapping):
        raise ArgumentTypeError(
            "newparams must be a dict such as {'beta': [...], 'theta': [...], 'sigma': 1.0}, "
            f"not {type(value).__name__}"
        )
    if not value:
        raise ArgumentError("newparams is empty: give at least one of 'beta', 'theta', 'sigma'")
    out: dict[str, dict[str, Any]] = {}
    for key, given in value.items():
        if key not in NEWPARAMS_NAMES:
            raise choice_error("newparams key", key, NEWPARAMS_NAMES)
        names: list[str] = []
        if isinstance(given, pd.Series):
            names = [str(n) for n in given.index]
            given = given.to_numpy()
        if isinstance(given, (bool, np.bool_, str, bytes)):
            raise ArgumentTypeError(f"newparams[{key!r}] must be numbers, not {given!r}")
        try:
            arr = np.asarray(given, dtype=float)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"newparams[{key!r}] must be numbers, not {given!r}") from None
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1 or arr.size == 0:
            raise ArgumentError(f"newparams[{key!r}] must be a non-empty 1-d list of numbers")
        if not np.all(np.isfinite(arr)):
            raise ArgumentError(f"newparams[{key!r}] has a missing or infinite value")
        want = {"beta": n_beta, "theta": n_theta, "sigma": 1}[key]
        if want is not None and arr.size != want:
            what = {"beta": "fixed effects", "theta": "theta values", "sigma": "value"}[key]
            raise ArgumentError(
                f"newparams[{key!r}] has {arr.size} values, but the model has {want} {what}"
                if key != "sigma"
                else f"newparams['sigma'] must be one number, not {arr.size}"
            )
        if key == "sigma" and not arr[0] > 0:
            raise ArgumentError(f"newparams['sigma'] must be positive, not {arr[0]:g}")
        out[key] = {"values": arr, "names": names}
    return out
