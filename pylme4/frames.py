"""Data frames from other libraries as pandas DataFrames, converted once.

``lmer()`` and ``predict()`` work on pandas DataFrames.  polars DataFrames,
pyarrow Tables and RecordBatches, and anything that offers the Arrow stream
protocol (``__arrow_c_stream__``) or the dataframe interchange protocol
(``__dataframe__``) are converted once, on entry, so that R sees the types it
would see for the equivalent pandas frame and no type changes silently:

=========================  ===========================  =========================
Arrow / polars type        pandas dtype                 R type (``_r/convert.py``)
=========================  ===========================  =========================
int8..int64, uint8..64     Int8..UInt64 (nullable)      integer (double when
                                                        outside R's integer range)
bool                       boolean (nullable)           logical
float32/64                 float (null -> NaN)          double (NA)
string, large_string,      str                          character
string_view
dictionary (pyarrow)       Categorical, same levels,    factor / ordered factor
                           same order, same ``ordered``
polars Categorical         str                          character: lme4 makes the
                                                        factor with R's own level
                                                        order, as for strings
polars Enum                Categorical (unordered)      factor with the Enum's
                                                        levels in its order
date32/date64              ``datetime.date`` objects    Date
timestamp (naive / zone)   datetime64 (naive / zone)    POSIXct
=========================  ===========================  =========================

Durations, lists, structs and other nested types become columns that
``_r/convert.py`` refuses with a :class:`~pylme4.errors.DataError` naming the
column if the model uses them.  pandas columns with an ``ArrowDtype``
(``pd.read_csv(..., dtype_backend="pyarrow")``) follow the same table.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from .errors import DataError


def as_frame(data: Any, what: str = "data") -> pd.DataFrame:
    """``data`` as a pandas DataFrame, converting other libraries' frames once.

    Raises :class:`~pylme4.errors.DataError` saying what was given when
    ``data`` is not a data frame of any kind.
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        raise DataError(
            f"{what} must be a DataFrame, not Series (a Series is one column: "
            "use series.to_frame() or the DataFrame it came from)"
        )
    library = type(data).__module__.split(".")[0]
    kind = type(data).__name__
    if library == "polars":
        if kind == "LazyFrame":
            raise DataError(f"{what} is a polars LazyFrame; call .collect() on it first")
        if kind == "DataFrame":
            return _from_polars(data)
    if library == "pyarrow" and kind in ("Table", "RecordBatch"):
        return from_arrow(data)
    if hasattr(data, "__arrow_c_stream__"):
        pa = _pyarrow(what, kind)
        try:
            table = pa.table(data)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise DataError(f"{what} ({kind}) could not be read as a table: {exc}") from None
        return from_arrow(table)
    if hasattr(data, "__dataframe__"):
        with warnings.catch_warnings():
            # pandas deprecates the protocol; for objects that offer nothing
            # else it is still the way in.
            warnings.filterwarnings("ignore", message=".*Interchange Protocol is deprecated")
            converted = pd.api.interchange.from_dataframe(data)
        return _normalise_arrow_columns(converted)
    hint = " (build one with pd.DataFrame(...))" if isinstance(data, (dict, list)) else ""
    raise DataError(
        f"{what} must be a pandas DataFrame (or a polars DataFrame or Arrow table), "
        f"not {kind}{hint}"
    )


def _pyarrow(what: str, kind: str) -> Any:
    try:
        import pyarrow
    except ImportError:
        raise DataError(
            f"{what} is a {kind}, which pylme4 reads through pyarrow; install pyarrow "
            "or pass a pandas DataFrame"
        ) from None
    return pyarrow


def _from_polars(frame: Any) -> pd.DataFrame:
    import polars as pl

    enums = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Enum)]
    # A polars Categorical's category order is an accident of storage, not a
    # choice of the user: pass its values as strings, so that lme4 builds the
    # factor with R's level order, as for any string column.
    frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    df = from_arrow(frame.to_arrow())
    # Arrow marks an Enum as an ordered dictionary, but an Enum only fixes the
    # levels and their order; an R ordered factor would switch the model to
    # polynomial contrasts.  Ordered factors come from pandas' ordered
    # Categoricals.
    for name in enums:
        df[name] = df[name].cat.as_unordered()
    return df


def from_arrow(table: Any) -> pd.DataFrame:
    """A pyarrow Table or RecordBatch as a DataFrame with the dtypes of the module docstring."""
    return table.to_pandas(types_mapper=_pandas_dtype, date_as_object=True)


def _pandas_dtype(arrow_type: Any) -> Any:
    """The pandas dtype for an Arrow type, where it differs from pyarrow's default."""
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        # Nullable integers, not float64 with NaN (pyarrow's default when a
        # column has nulls): R gets integers, as read.csv gives.
        return pd.api.types.pandas_dtype(str(arrow_type).capitalize().replace("Uint", "UInt"))
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    return None


def _normalise_arrow_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Columns with an ``ArrowDtype`` converted per the module docstring's table."""
    positions = [i for i, dtype in enumerate(df.dtypes) if isinstance(dtype, pd.ArrowDtype)]
    if not positions:
        return df
    df = df.copy(deep=False)
    for i in positions:
        df.isetitem(i, arrow_column(df.iloc[:, i]))
    return df


def arrow_column(series: pd.Series) -> pd.Series:
    """One pandas column with an ``ArrowDtype`` converted per the module docstring."""
    import pyarrow as pa

    out = from_arrow(pa.table({"x": pa.array(series.array)}))["x"]
    out.index = series.index
    out.name = series.name
    return out
