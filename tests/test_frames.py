"""polars, pyarrow and other data-frame libraries: converted once to pandas,
with the R types the equivalent pandas frame gives (pylme4/frames.py).

R's view of each converted column (its class and values, as R's str()
prints them) is compared with the same data built in R code.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r, r_apply

import pylme4
from pylme4 import frames
from pylme4.errors import DataError

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

STR = "function(d) capture.output(str(d, vec.len = 10))"

EXPECTED_IN_R = r"""
d <- data.frame(
  i = c(1L, NA, 3L),
  f = c(1.5, NA, NA),
  b = c(TRUE, NA, FALSE),
  s = c("a", NA, "c"),
  c = c("x", "y", NA),
  e = factor(c("lo", "hi", "lo"), levels = c("lo", "hi")),
  d = as.Date(c("2020-01-01", NA, "2021-03-04")),
  t = as.POSIXct(c("2020-01-01 12:00:00", NA, "2021-01-01 00:00:00"), tz = "UTC"),
  tz = as.POSIXct(c("2020-01-01 12:00:00", NA, "2021-01-01 00:00:00"), tz = "Europe/Berlin"),
  u8 = 1:3,
  big = c(1, 2, 2^40),
  stringsAsFactors = FALSE)
capture.output(str(d, vec.len = 10))
"""


def _polars_frame():
    return pl.DataFrame(
        {
            "i": [1, None, 3],
            "f": [1.5, None, float("nan")],  # null and NaN are both NA in R
            "b": [True, None, False],
            "s": ["a", None, "c"],
            "c": pl.Series(["x", "y", None], dtype=pl.Categorical),
            "e": pl.Series(["lo", "hi", "lo"], dtype=pl.Enum(["lo", "hi"])),
            "d": [dt.date(2020, 1, 1), None, dt.date(2021, 3, 4)],
            "t": [dt.datetime(2020, 1, 1, 12), None, dt.datetime(2021, 1, 1)],
            "tz": pl.Series([dt.datetime(2020, 1, 1, 11), None, dt.datetime(2020, 12, 31, 23)])
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Europe/Berlin"),
            "u8": pl.Series([1, 2, 3], dtype=pl.UInt8),
            "big": pl.Series([1, 2, 2**40], dtype=pl.UInt64),
        }
    )


def test_polars_columns_reach_r_as_r_would_hold_them():
    converted = frames.as_frame(_polars_frame())
    # Nullable integers stay integers (pyarrow alone would give float64).
    assert str(converted["i"].dtype) == "Int64"
    assert str(converted["b"].dtype) == "boolean"
    assert r_apply(STR, converted).tolist() == r(EXPECTED_IN_R).tolist()


def test_pyarrow_table_and_record_batch_and_arrow_dtype_columns():
    # The same columns (less the polars-specific Categorical and Enum) as a
    # pyarrow Table, a RecordBatch, and pandas columns with an ArrowDtype
    # (what pd.read_csv(..., dtype_backend="pyarrow") gives).
    plain = [n for n in _polars_frame().columns if n not in ("c", "e")]
    table = _polars_frame().select(plain).to_arrow()
    expected = r(
        EXPECTED_IN_R.replace("capture.output(", "d$c <- NULL; d$e <- NULL\ncapture.output(")
    )
    arrow_backed = table.to_pandas(types_mapper=pd.ArrowDtype)
    assert all(isinstance(t, pd.ArrowDtype) for t in arrow_backed.dtypes)
    for source in (table, table.to_batches()[0], arrow_backed):
        assert r_apply(STR, frames.as_frame(source)).tolist() == expected.tolist()


def test_arrow_dictionary_keeps_its_levels_and_order():
    dictionary = pa.array(["b", "a", None, "b"]).dictionary_encode()
    table = pa.table({"g": dictionary})
    converted = frames.as_frame(table)
    assert list(converted["g"].cat.categories) == ["b", "a"]  # Arrow's order, as pandas
    got = r_apply("function(d) list(levels = levels(d$g), codes = as.integer(d$g))", converted)
    assert got["levels"].tolist() == ["b", "a"]
    np.testing.assert_array_equal(got["codes"], [1, 2, np.nan, 1])


class _ArrowStream:
    """Something that only offers the Arrow PyCapsule stream protocol."""

    def __init__(self, table):
        self.table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self.table.__arrow_c_stream__(requested_schema)


class _Interchange:
    """Something that only offers the dataframe interchange protocol."""

    def __init__(self, df):
        self.df = df

    def __dataframe__(self, nan_as_null=False, allow_copy=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecates its own side of it
            return self.df.__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)


def test_fits_from_every_kind_of_frame_equal_r():
    sleep = pylme4.datasets.load("sleepstudy")
    expected = r("fixef(lmer(Reaction ~ Days + (Days | Subject), sleepstudy))")
    sources = {
        "polars": pl.from_pandas(sleep),
        "pyarrow": pa.Table.from_pandas(sleep),
        "arrow_stream": _ArrowStream(pa.Table.from_pandas(sleep)),
        "interchange": _Interchange(sleep),
    }
    for name, data in sources.items():
        fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data)
        np.testing.assert_allclose(fit.fixef(), expected, **SAME, err_msg=name)
        assert fit.ranef()["Subject"].index.tolist() == sleep["Subject"].cat.categories.tolist()


def test_polars_categorical_levels_are_rs_own_and_enum_keeps_its_order():
    # A polars Categorical's storage order is not a choice of the user: lme4
    # makes the factor with R's level order, as from strings.  An Enum's
    # order is the user's: the factor keeps it, unordered.
    sleep = pylme4.datasets.load("sleepstudy")
    subjects = sleep["Subject"].astype(str).tolist()
    storage_order = sorted(set(subjects), reverse=True)
    data = pl.DataFrame(
        {
            "Reaction": sleep["Reaction"].tolist(),
            "Days": sleep["Days"].tolist(),
            "cat": pl.Series(subjects, dtype=pl.Categorical),
            "enum": pl.Series(subjects, dtype=pl.Enum(storage_order)),
        }
    )
    by_cat = pylme4.lmer("Reaction ~ Days + (1 | cat)", data)
    by_enum = pylme4.lmer("Reaction ~ Days + (1 | enum)", data)
    ref = r(
        "d <- sleepstudy; d$s <- as.character(d$Subject)\n"
        "d$e <- factor(d$s, levels = sort(unique(d$s), decreasing = TRUE))\n"
        "list(cat = rownames(ranef(lmer(Reaction ~ Days + (1 | s), d))$s),"
        " enum = rownames(ranef(lmer(Reaction ~ Days + (1 | e), d))$e))"
    )
    assert by_cat.ranef()["cat"].index.tolist() == ref["cat"].tolist()
    assert by_enum.ranef()["enum"].index.tolist() == ref["enum"].tolist() == storage_order


def test_not_a_frame():
    with pytest.raises(DataError, match="polars LazyFrame; call .collect"):
        frames.as_frame(pl.DataFrame({"a": [1]}).lazy())
    with pytest.raises(DataError, match="not ndarray"):
        frames.as_frame(np.zeros((2, 2)))
