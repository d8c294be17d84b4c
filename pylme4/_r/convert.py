"""Conversion between pandas/numpy and R, written on numpy arrays.

pandas -> R (:func:`frame_to_r`, :func:`to_r`), column by column:

============================  ===========================================
pandas dtype                  R type
============================  ===========================================
float16/32/64, Float64        double; NaN and pd.NA -> NA_real_
int8..int64, uint8..uint64,   integer when every value fits R's integer
Int8..Int64 (nullable)        range, else double (as read.csv does);
                              pd.NA -> NA
bool, boolean (nullable)      logical; pd.NA -> NA
object of str, string         character (as read.csv gives); None/NaN/pd.NA
                              -> NA
Categorical                   factor with the same levels in the same order;
                              ordered -> ordered factor; non-string
                              categories get the labels R's as.character
                              gives them
datetime64 (naive / tz)       POSIXct (tzone "UTC" / the column's zone;
                              a fixed UTC offset as a POSIX zone string)
object of datetime.date       Date
ArrowDtype                    as pylme4.frames converts it (same rules)
============================  ===========================================

R -> pandas (:func:`to_python`): data.frame -> DataFrame (factor ->
Categorical with R's levels, integer with NA -> Int64, logical with NA ->
boolean, character -> object with NaN for NA); matrix -> DataFrame; named
vector -> Series; unnamed vector of length one -> Python scalar, unless R
marked it ``I(x)`` (class "AsIs"); other unnamed vectors -> numpy arrays;
lists -> dict (named) or list; Matrix's dgCMatrix -> :class:`SparseMatrix`
(scipy CSC with R's dimnames as ``rownames``/``colnames``; R helpers turn
other sparse classes into dgCMatrix first); anything else -> :class:`RHandle`.

The shape is the R helper's to say, as jsonlite's ``auto_unbox`` does: a
helper returns ``I(x)`` for a value that is a vector whatever its length
(coefficients, row numbers, messages), and Python reads it as an array without
checking for a scalar; a bare value of length one is a scalar.

Vectors cross the boundary as memory copies, never element by element; strings
cross as their distinct values plus integer codes, expanded on the other side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import rpy2.rinterface as ri
import scipy.sparse as sp
from rpy2.rinterface_lib import conversion as rconversion
from rpy2.rinterface_lib import openrlib
from rpy2.rinterface_lib import sexp as rsexp

from ..errors import ArgumentTypeError, DataError, RError

RTYPES = rsexp.RTYPES

NA_INTEGER = np.int32(np.iinfo(np.int32).min)
# R's NA_real_ is a NaN with the payload 1954; a plain NaN is R's NaN, which
# is.na() treats as missing too but which prints and propagates differently.
NA_REAL = np.array([0x7FF00000000007A2], dtype=np.uint64).view(np.float64)[0]
_INT32_MIN = int(np.iinfo(np.int32).min)  # reserved for NA in R
_INT32_MAX = int(np.iinfo(np.int32).max)

# Strings cross as factor codes + levels when there are more than this many.
_STRING_CODES_THRESHOLD = 1000


class RHandle:
    """An R object that stays in R (a fitted model, an environment, ...).

    Only ``pylme4._r`` looks inside; the rest of pylme4 passes it back to R.
    """

    __slots__ = ("sexp",)

    def __init__(self, sexp: Any) -> None:
        self.sexp = sexp

    def __repr__(self) -> str:
        return "<R object>"

    def __del__(self) -> None:
        # Releasing an R object touches R's memory manager, which must not run
        # while another thread is inside R, so it happens under the session
        # lock.  __del__ runs wherever Python's garbage collector happens to
        # run, in any thread and possibly while that thread holds other locks,
        # so it never waits for the lock: when R is busy, the object is queued
        # by session.release() and released by the next call into R.
        try:
            from . import session

            session.release(self)
        except Exception:  # interpreter shutdown: modules may already be gone
            pass


class SparseMatrix(sp.csc_matrix):
    """A sparse R matrix (Matrix's dgCMatrix) as a scipy CSC matrix, with R's
    dimnames as the attributes ``rownames`` and ``colnames`` (a pandas Index
    of str, or None where R has none).

    scipy's operations return plain ``csc_matrix`` objects: the names belong
    to the matrix R gave, not to what is computed from it.
    """

    rownames: pd.Index | None = None
    colnames: pd.Index | None = None


class Columns:
    """Some columns of a DataFrame, to be passed to R as a data.frame without
    first copying them into a new DataFrame."""

    __slots__ = ("frame", "names")

    def __init__(self, frame: pd.DataFrame, names: list[str]) -> None:
        self.frame = frame
        self.names = names


# ---------------------------------------------------------------------------
# pandas / numpy -> R
# ---------------------------------------------------------------------------


def _set_attr(sexp: Any, name: str, value: Any) -> Any:
    if name == "class":
        # The class must go through R's class setter, which also marks the
        # object for S3 dispatch (a plain attribute would leave dim() NULL).
        sexp.rclass = value
    else:
        sexp.do_slot_assign(name, value)
    return sexp


def _c_array(values: Any, dtype: Any) -> np.ndarray:
    """Values as a C-contiguous, *aligned* array of ``dtype``.

    Alignment matters: an unaligned array (a frame unpickled from a network
    buffer, as Dask's workers receive it) has the buffer format "=d", which
    rpy2's from_memoryview() refuses.
    """
    return np.require(values, dtype=dtype, requirements=("C_CONTIGUOUS", "ALIGNED"))


def _double(values: np.ndarray, missing: np.ndarray | None = None) -> Any:
    arr = _c_array(values, np.float64)
    nan = np.isnan(arr)
    if missing is not None:
        nan = nan | missing
    if nan.any():
        arr = arr.copy()
        arr[nan] = NA_REAL
    return ri.FloatSexpVector.from_memoryview(arr.data)


def _fits_int32(values: np.ndarray) -> bool:
    if values.size == 0:
        return True
    return bool(values.min() > _INT32_MIN and values.max() <= _INT32_MAX)


def _int32_vector(kind: Any, values: np.ndarray, missing: np.ndarray | None) -> Any:
    """An R integer or logical vector (both are 32-bit ints in R, NA = INT_MIN)."""
    arr = _c_array(values, np.int32)
    if missing is not None and missing.any():
        arr = arr.copy()
        arr[missing] = NA_INTEGER
    return kind.from_memoryview(arr.data)


def _integer(values: np.ndarray, missing: np.ndarray | None = None) -> Any:
    return _int32_vector(ri.IntSexpVector, values, missing)


def _logical(values: np.ndarray, missing: np.ndarray | None = None) -> Any:
    return _int32_vector(ri.BoolSexpVector, values, missing)


def _strings_from_codes(codes: np.ndarray, uniques: list[str]) -> Any:
    """character vector = uniques[codes], with code -1 meaning NA."""
    levels = ri.StrSexpVector(uniques)
    index = np.ascontiguousarray(codes, dtype=np.int32) + 1
    index[index == 0] = NA_INTEGER
    # Indexing in R is a C loop; NA indices give NA_character_.
    return ri.baseenv["["](levels, ri.IntSexpVector.from_memoryview(index.data))


def string_problem(text: str) -> str | None:
    """Why R cannot hold ``text`` as it is, or None.

    R's strings end at a NUL character (rpy2 would silently cut "308\\0early"
    to "308") and must be valid UTF-8, which a lone surrogate (from bytes
    decoded with errors="surrogateescape") is not.
    """
    if "\x00" in text:
        return f"a NUL character (\\x00) at position {text.index(chr(0))}"
    if not text.isascii():  # isascii() is O(1); only non-ASCII text is encoded
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return (
                f"a lone surrogate (U+{ord(text[exc.start]):04X}) at position {exc.start}, "
                "which is not valid Unicode"
            )
    return None


def check_strings(values: list[str], what: str) -> None:
    """A DataError naming ``what`` when a string R cannot hold is among ``values``.

    The values are joined and scanned once in C (a NUL search and, for
    non-ASCII text, one UTF-8 encoding); only when that finds a problem are
    the values looked at one by one, to name the first bad one.
    """
    if string_problem("".join(values)) is None:
        return
    for value in values:
        problem = string_problem(value)
        if problem is not None:
            shown = value if len(value) <= 60 else value[:57] + "..."
            raise DataError(
                f"{what} has a value with {problem} ({shown!r}); R's strings cannot hold it: "
                "remove or replace that character"
            )


def _strings(values: pd.Series | np.ndarray, column: str = "value") -> Any:
    """A character vector from strings with missing values (None/NaN/pd.NA)."""
    if len(values) <= _STRING_CODES_THRESHOLD:
        items = [None if _is_missing_scalar(v) else str(v) for v in values]
        check_strings([v for v in items if v is not None], f"column {column!r}")
        return ri.StrSexpVector([ri.NA_Character if v is None else v for v in items])
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Only the distinct values need checking: they are all that crosses to R.
    labels = [str(u) for u in uniques]
    check_strings(labels, f"column {column!r}")
    return _strings_from_codes(codes, labels)


def _is_missing_scalar(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _factor(cat: pd.Categorical, column: str) -> Any:
    codes = np.asarray(cat.codes, dtype=np.int32) + 1
    codes[codes == 0] = NA_INTEGER
    vec = ri.IntSexpVector.from_memoryview(codes.data)
    labels = _level_labels(cat.categories, column)
    _set_attr(vec, "levels", labels)
    _set_attr(vec, "class", ri.StrSexpVector(["ordered", "factor"] if cat.ordered else ["factor"]))
    return vec


def _level_labels(categories: pd.Index, column: str) -> Any:
    """Factor labels for a Categorical's categories, as R's as.character gives them."""
    if categories.dtype == object or isinstance(categories.dtype, pd.StringDtype):
        if pd.api.types.infer_dtype(categories, skipna=False) in ("string", "empty"):
            texts = [str(c) for c in categories]
            check_strings(texts, f"column {column!r} (its categories)")
            labels = ri.StrSexpVector(texts)
        else:
            raise DataError(
                f"column {column!r}: Categorical with categories of mixed types "
                f"({pd.api.types.infer_dtype(categories)}); use categories of one type"
            )
    elif pd.api.types.is_numeric_dtype(categories.dtype) or pd.api.types.is_bool_dtype(
        categories.dtype
    ):
        # as.character(1) is "1" and as.character(0.1 + 0.2) is "0.3": let R
        # write the labels so they match what factor() would give in R.
        labels = ri.baseenv["as.character"](_column_to_r(pd.Series(categories), column))
    else:
        texts = [str(c) for c in categories]
        check_strings(texts, f"column {column!r} (its categories)")
        labels = ri.StrSexpVector(texts)
    # anyDuplicated() runs in C; a Python set() of an R vector reads it one
    # string at a time (half the cost of converting a 1,000-level factor).
    if ri.baseenv["anyDuplicated"](labels)[0] != 0:
        raise DataError(
            f"column {column!r}: its categories give duplicate factor labels in R; "
            "make the categories distinct as strings"
        )
    return labels


def _datetime(series: pd.Series, column: str) -> Any:
    tz = series.dt.tz
    values = series.dt.tz_convert("UTC") if tz is not None else series
    ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    missing = series.isna().to_numpy()
    vec = _double(ns / 1e9, missing)
    _set_attr(vec, "class", ri.StrSexpVector(["POSIXct", "POSIXt"]))
    _set_attr(vec, "tzone", ri.StrSexpVector([_r_timezone(tz, column)]))
    return vec


def _r_timezone(tz: Any, column: str) -> str:
    """The name R knows a pandas time zone by.

    IANA zones keep their name.  A fixed offset (``datetime.timezone``) prints
    as "UTC+05:30", which R would read as a POSIX zone string with the
    opposite sign (five and a half hours *behind* UTC): it becomes the POSIX
    string "<+0530>-05:30" that R reads as intended.
    """
    if tz is None:
        return "UTC"
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if isinstance(name, str) and name:
        return name
    if str(tz) == "UTC":
        return "UTC"
    offset = tz.utcoffset(None)
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        hh, mm = divmod(abs(minutes), 60)
        posix_sign = "-" if minutes >= 0 else "+"
        return f"<{sign}{hh:02d}{mm:02d}>{posix_sign}{hh:02d}:{mm:02d}"
    raise DataError(
        f"column {column!r} has the time zone {tz!r}, which has no name R knows; "
        "convert it, e.g. with .dt.tz_convert('UTC')"
    )


def _date(series: pd.Series) -> Any:
    """datetime.date objects (None/NaN/pd.NA for missing) as an R Date vector."""
    missing = series.isna().to_numpy()
    days = np.array(series.where(~missing, None).tolist(), dtype="datetime64[D]")
    vec = _double(days.astype(np.int64).astype(np.float64), missing)
    _set_attr(vec, "class", ri.StrSexpVector(["Date"]))
    return vec


def _column_to_r(series: pd.Series, column: str) -> Any:
    """One pandas column as an R vector (see the module docstring for the rules)."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        from ..frames import arrow_column

        return _column_to_r(arrow_column(series), column)
    if isinstance(dtype, pd.CategoricalDtype):
        return _factor(series.array, column)  # type: ignore[arg-type]
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return _datetime(series, column)
    if isinstance(dtype, pd.BooleanDtype):
        mask = series.isna().to_numpy()
        return _logical(series.to_numpy(dtype=bool, na_value=False), mask)
    if pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_integer_dtype(dtype):
        mask = series.isna().to_numpy()
        data = series.to_numpy(dtype=np.int64, na_value=0)
        if _fits_int32(data[~mask]):
            return _integer(data, mask)
        return _double(data.astype(np.float64), mask)
    if pd.api.types.is_extension_array_dtype(dtype) and pd.api.types.is_float_dtype(dtype):
        return _double(series.to_numpy(dtype=np.float64, na_value=np.nan))
    if isinstance(dtype, pd.StringDtype):
        return _strings(series.astype(object), column)
    if pd.api.types.is_bool_dtype(dtype):
        return _logical(series.to_numpy())
    if pd.api.types.is_integer_dtype(dtype):
        values = series.to_numpy()
        if _fits_int32(values):
            return _integer(values)
        return _double(values.astype(np.float64))
    if pd.api.types.is_float_dtype(dtype):
        return _double(series.to_numpy())
    if pd.api.types.is_object_dtype(dtype):
        return _object_to_r(series, column)
    raise DataError(
        f"column {column!r} has dtype {dtype}, which pylme4 cannot pass to R; "
        "convert it to a number, string, boolean, Categorical or datetime column"
    )


def _object_to_r(series: pd.Series, column: str) -> Any:
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("string", "empty"):
        return _strings(series, column)
    if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        return _column_to_r(pd.to_numeric(series), column)
    if kind == "boolean":
        return _column_to_r(series.astype("boolean"), column)
    if kind in ("datetime", "datetime64"):
        return _column_to_r(pd.to_datetime(series), column)
    if kind == "date":
        return _date(series)
    types = sorted({type(v).__name__ for v in series.dropna().head(1000)})
    if len(types) == 1:
        raise DataError(
            f"column {column!r} holds {types[0]} values, which pylme4 cannot pass to R; "
            "R needs numbers, strings, booleans, factors or dates in a column"
        )
    raise DataError(
        f"column {column!r} holds values of mixed types ({', '.join(types)}); R needs one "
        "type per column: convert it, e.g. with .astype(str) or pd.to_numeric()"
    )


def check_columns(columns: pd.Index) -> None:
    """Column names R can use: unique, flat strings."""
    if isinstance(columns, pd.MultiIndex):
        raise DataError(
            "the data has MultiIndex (hierarchical) column names; R needs flat string "
            "names: join the levels, e.g. df.columns = ['_'.join(map(str, c)) for c in df.columns]"
        )
    bad = [c for c in columns if not isinstance(c, str)]
    if bad:
        raise DataError(
            f"column name(s) {', '.join(repr(c) for c in bad[:5])} are not strings; R needs "
            "string column names: rename them, e.g. df.columns = df.columns.astype(str)"
        )
    dup = columns[columns.duplicated()].unique().tolist()
    if dup:
        raise DataError(
            f"column name(s) {', '.join(repr(c) for c in dup[:5])} occur more than once; "
            "R needs unique column names"
        )
    empty = [c for c in columns if c == ""]
    if empty:
        raise DataError("a column has an empty name; R needs non-empty column names")
    for name in columns:
        problem = string_problem(name)
        if problem is not None:
            raise DataError(
                f"the column name {name!r} has {problem}; R's strings cannot hold it: "
                "rename the column"
            )


def frame_to_r(df: pd.DataFrame, columns: list[str] | None = None) -> Any:
    """A pandas DataFrame (or the given columns of it) as an R data.frame.

    Column names are kept verbatim (R's ``check.names = FALSE``), so names with
    spaces or non-ASCII letters are used in formulas with backticks, as in R.
    The row names are R's automatic ones (1..n): position i in R is row i of
    ``df``.
    """
    check_columns(df.columns)
    names = list(df.columns) if columns is None else list(columns)
    vectors = [_column_to_r(df[name], name) for name in names]
    frame = ri.ListSexpVector(vectors)
    _set_attr(frame, "names", ri.StrSexpVector(names))
    _set_attr(frame, "class", ri.StrSexpVector(["data.frame"]))
    # The compact form c(NA, -n) is how R itself stores automatic row names.
    _set_attr(frame, "row.names", ri.IntSexpVector([int(NA_INTEGER), -len(df)]))
    return frame


def to_r(value: Any) -> Any:
    """A Python value as an R object (for arguments of R calls)."""
    if value is None:
        return ri.NULL
    if isinstance(value, RHandle):
        return value.sexp
    if isinstance(value, rsexp.Sexp):
        return value
    if isinstance(value, (bool, np.bool_)):
        return ri.BoolSexpVector([bool(value)])
    # A Python number becomes an R double: that is what typing the number in R
    # gives, and it deparses the same way in a printed call (1e+05, not 100000L).
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ri.FloatSexpVector([float(value)])
    if isinstance(value, str):
        check_strings([value], "a string passed to R")
        return ri.StrSexpVector([value])
    if isinstance(value, (bytes, bytearray)):
        return ri.ByteSexpVector(bytes(value))
    if isinstance(value, pd.DataFrame):
        return frame_to_r(value)
    if isinstance(value, Columns):
        return frame_to_r(value.frame, value.names)
    if isinstance(value, pd.Series):
        return _column_to_r(value, str(value.name))
    if isinstance(value, pd.Categorical):
        return _factor(value, "value")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise DataError(f"cannot pass a {value.ndim}-dimensional array to R")
        return _column_to_r(pd.Series(value), "value")
    if isinstance(value, Mapping):
        vec = ri.ListSexpVector([to_r(v) for v in value.values()])
        keys = [str(k) for k in value]
        check_strings(keys, "the names of a dict passed to R")
        return _set_attr(vec, "names", ri.StrSexpVector(keys))
    if isinstance(value, (list, tuple)):
        items = list(value)
        if items and all(isinstance(v, str) for v in items):
            check_strings(items, "a list of strings passed to R")
            return ri.StrSexpVector(items)
        if items and all(isinstance(v, (bool, np.bool_)) for v in items):
            return ri.BoolSexpVector([bool(v) for v in items])
        if items and all(
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
            for v in items
        ):
            return ri.FloatSexpVector([float(v) for v in items])
        return ri.ListSexpVector([to_r(v) for v in items])
    raise ArgumentTypeError(
        f"cannot pass a {type(value).__name__} to R: give numbers, strings, booleans, "
        "arrays, DataFrames, or lists and dicts of these"
    )


# ---------------------------------------------------------------------------
# R -> pandas / numpy
# ---------------------------------------------------------------------------


# R symbols by name, for _attr (symbols live as long as R: no need to protect).
_SYMBOLS: dict[str, Any] = {}


def _attr(sexp: Any, name: str) -> Any:
    """An attribute of an R object, or None.  Called several times for every
    value converted, so it asks R's C API directly: rpy2's do_slot() raises
    and catches a LookupError for a missing attribute, ten times slower."""
    symbol = _SYMBOLS.get(name)
    if symbol is None:
        symbol = _SYMBOLS[name] = openrlib.rlib.Rf_install(name.encode())
    value = openrlib.rlib.Rf_getAttrib(sexp.__sexp__._cdata, symbol)
    if value == openrlib.rlib.R_NilValue:
        return None
    return rconversion._cdata_to_rinterface(value)


def _classes(sexp: Any) -> list[str]:
    cls = _attr(sexp, "class")
    return list(cls) if cls is not None else []


def _strings_to_numpy(sexp: Any) -> np.ndarray:
    """A character vector as an object array of str with NaN for NA."""
    n = len(sexp)
    if n <= _STRING_CODES_THRESHOLD:
        return np.array([np.nan if v is ri.NA_Character else v for v in sexp], dtype=object)
    # match(x, unique(x)) runs in C; only the distinct strings cross one by one.
    uniq = ri.baseenv["unique"](sexp)
    codes = np.array(ri.baseenv["match"](sexp, uniq), dtype=np.int64) - 1
    table = np.array([np.nan if v is ri.NA_Character else v for v in uniq], dtype=object)
    return table[codes]


def _factor_to_pandas(sexp: Any) -> pd.Categorical:
    codes = np.array(sexp, dtype=np.int32).astype(np.int64)
    codes[codes == int(NA_INTEGER)] = 0
    levels = list(_attr(sexp, "levels") or [])
    return pd.Categorical.from_codes(
        codes - 1, categories=levels, ordered="ordered" in _classes(sexp)
    )


def _copy_data(sexp: Any, dtype: Any) -> np.ndarray:
    """A copy of a double/integer/logical vector's data, read through cffi.

    Not ``sexp.memoryview()``: rpy2 3.5's C helper behind it
    (``_bufferprotocol.memoryview_swapstrides``) returns None without taking
    a reference, so every call drops one reference to None; after enough
    calls Python aborts ("deallocating None").
    """
    from rpy2.rinterface_lib import openrlib

    getter = openrlib.rlib.REAL if dtype == np.float64 else openrlib.rlib.INTEGER
    if sexp.typeof == RTYPES.LGLSXP:
        getter = openrlib.rlib.LOGICAL
    pointer = getter(sexp.__sexp__._cdata)
    size = len(sexp) * np.dtype(dtype).itemsize
    return np.frombuffer(openrlib.ffi.buffer(pointer, size), dtype=dtype).copy()


def _vector_to_numpy(sexp: Any, nullable: bool = False) -> Any:
    """An atomic R vector as a numpy array (or pandas nullable array)."""
    t = sexp.typeof
    if len(sexp) == 0:  # rpy2 cannot make a memoryview of an empty vector
        return np.array(
            [],
            dtype={RTYPES.REALSXP: np.float64, RTYPES.INTSXP: np.int64, RTYPES.LGLSXP: bool}.get(
                t, object
            ),
        )
    if t == RTYPES.REALSXP:
        return _copy_data(sexp, np.float64)
    if t == RTYPES.INTSXP:
        arr = _copy_data(sexp, np.int32)
        na = arr == NA_INTEGER
        if na.any():
            if nullable:
                return pd.arrays.IntegerArray(arr.astype(np.int64), na)
            out = arr.astype(np.float64)
            out[na] = np.nan
            return out
        return arr.astype(np.int64)
    if t == RTYPES.LGLSXP:
        arr = _copy_data(sexp, np.int32)
        na = arr == NA_INTEGER
        if na.any():
            if nullable:
                return pd.arrays.BooleanArray(arr == 1, na)
            out = np.array([None if m else bool(v) for v, m in zip(arr, na)], dtype=object)
            return out
        return arr.astype(bool)
    if t == RTYPES.STRSXP:
        return _strings_to_numpy(sexp)
    if t == RTYPES.CPLXSXP:
        return np.array(list(sexp), dtype=complex)
    raise RError(f"R returned a value pylme4 cannot convert (not an atomic vector: R type {t})")


def _column_to_pandas(sexp: Any) -> Any:
    classes = _classes(sexp)
    if "factor" in classes:
        return _factor_to_pandas(sexp)
    if "POSIXct" in classes:
        secs = _copy_data(sexp, np.float64)
        tz = _attr(sexp, "tzone")
        out = pd.to_datetime(secs, unit="s", utc=True)
        zone = tz[0] if tz is not None and len(tz) and tz[0] else None
        return out.tz_convert(zone) if zone and zone != "UTC" else out.tz_localize(None)
    if "Date" in classes:
        days = _copy_data(sexp, np.float64)
        return pd.to_datetime(days, unit="D")
    return _vector_to_numpy(sexp, nullable=True)


def _row_index(sexp: Any, n: int) -> pd.Index:
    rn = _attr(sexp, "row.names")
    if rn is None:
        return pd.RangeIndex(n)
    if rn.typeof == RTYPES.INTSXP and len(rn) == 2 and rn[0] is ri.NA_Integer:
        return pd.RangeIndex(n)  # automatic row names
    if rn.typeof == RTYPES.INTSXP:
        values = np.array(rn, dtype=np.int64)
        if np.array_equal(values, np.arange(1, n + 1)):
            return pd.RangeIndex(n)  # 1..n written out: still automatic
        return pd.Index(values)
    return pd.Index(_strings_to_numpy(rn))


def frame_to_pandas(sexp: Any) -> pd.DataFrame:
    """An R data.frame as a pandas DataFrame (R's automatic row names -> RangeIndex)."""
    names = list(_attr(sexp, "names") or [])
    columns = {}
    for name, col in zip(names, sexp):
        if _attr(col, "dim") is not None and col.typeof != RTYPES.VECSXP:
            raise RError(
                f"R returned a data.frame whose column {name!r} is a matrix, which pylme4 "
                "cannot convert to a DataFrame column"
            )
        columns[name] = _column_to_pandas(col)
    n = len(sexp[0]) if len(sexp) else 0
    if not len(sexp):
        rn = _attr(sexp, "row.names")
        n = abs(rn[1]) if rn is not None and len(rn) == 2 and rn[0] is ri.NA_Integer else 0
    index = _row_index(sexp, n)
    return pd.DataFrame(
        columns, index=index, columns=names if len(set(names)) == len(names) else None
    )


def _matrix_to_pandas(sexp: Any) -> pd.DataFrame:
    nrow, ncol = (int(d) for d in _attr(sexp, "dim"))
    flat = _vector_to_numpy(sexp)
    values = np.asarray(flat).reshape((nrow, ncol), order="F")
    dimnames = _attr(sexp, "dimnames")
    rows = cols = None
    if dimnames is not None:
        if dimnames[0] is not ri.NULL and dimnames[0].typeof == RTYPES.STRSXP:
            rows = list(dimnames[0])
        if dimnames[1] is not ri.NULL and dimnames[1].typeof == RTYPES.STRSXP:
            cols = list(dimnames[1])
    return pd.DataFrame(values, index=rows, columns=cols)


def _raw_bytes(sexp: Any) -> bytes:
    """A raw vector's bytes in one copy (iterating a ByteSexpVector goes
    byte by byte: seconds for a serialized fit)."""
    from rpy2.rinterface_lib import openrlib

    if len(sexp) == 0:
        return b""
    pointer = openrlib.rlib.RAW(sexp.__sexp__._cdata)
    return bytes(openrlib.ffi.buffer(pointer, len(sexp)))


def _dimnames_index(names: Any) -> pd.Index | None:
    if names is ri.NULL or names is None:
        return None
    return pd.Index(_strings_to_numpy(names), dtype=object)


def _sparse_to_scipy(sexp: Any) -> Any:
    """A dgCMatrix as a :class:`SparseMatrix` (scipy CSC, the same layout:
    row indices, column pointers and values are copied, not rebuilt)."""
    nrow, ncol = (int(d) for d in _attr(sexp, "Dim"))
    indices = _vector_to_numpy(_attr(sexp, "i"))
    indptr = _vector_to_numpy(_attr(sexp, "p"))
    data = _vector_to_numpy(_attr(sexp, "x"))
    out = SparseMatrix((data, indices, indptr), shape=(nrow, ncol))
    dimnames = _attr(sexp, "Dimnames")
    if dimnames is not None:
        out.rownames = _dimnames_index(dimnames[0])
        out.colnames = _dimnames_index(dimnames[1])
    return out


def to_python(sexp: Any) -> Any:
    """An R object as the natural Python value (see the module docstring)."""
    if sexp is ri.NULL or sexp.typeof == RTYPES.NILSXP:
        return None
    classes = _classes(sexp)
    t = sexp.typeof
    if "dgCMatrix" in classes:
        return _sparse_to_scipy(sexp)
    if "data.frame" in classes:
        return frame_to_pandas(sexp)
    if t == RTYPES.VECSXP:
        names = _attr(sexp, "names")
        items = [to_python(item) for item in sexp]
        if names is not None:
            return dict(zip(names, items))
        return items
    if t == RTYPES.RAWSXP:
        return _raw_bytes(sexp)
    if t in (RTYPES.REALSXP, RTYPES.INTSXP, RTYPES.LGLSXP, RTYPES.STRSXP, RTYPES.CPLXSXP):
        if "factor" in classes:
            return _factor_to_pandas(sexp)
        dim = _attr(sexp, "dim")
        if dim is not None and len(dim) == 2:
            return _matrix_to_pandas(sexp)
        names = _attr(sexp, "names")
        values = _vector_to_numpy(sexp)
        if dim is not None and len(dim) > 2 and isinstance(values, np.ndarray):
            values = values.reshape(tuple(int(d) for d in dim), order="F")
        if names is not None:
            return pd.Series(values, index=list(names))
        if len(values) == 1 and dim is None and "AsIs" not in classes:
            value = values[0]
            if isinstance(value, np.generic):
                return value.item()
            return value
        return values
    return RHandle(sexp)
