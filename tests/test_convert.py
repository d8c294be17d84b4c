"""pandas <-> R conversion: every supported dtype, with missing values in each.

R is asked what it received (type, class, levels, which values are NA, the
values themselves), and the R object is converted back and compared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import r, r_apply

from pylme4.errors import DataError

# What R sees of each column of a data.frame.
DESCRIBE = r"""
function(d) lapply(d, function(x) list(
  class = as.list(class(x)),
  type = typeof(x),
  na = as.list(which(is.na(x))),
  nan = any(is.nan(x)),
  levels = as.list(levels(x)),
  text = as.list(ifelse(is.na(x), "<NA>", as.character(x)))
))
"""


def describe(df: pd.DataFrame) -> dict:
    return r_apply(DESCRIBE, df)


def roundtrip(df: pd.DataFrame) -> pd.DataFrame:
    return r_apply("function(d) d", df)


def test_float_with_nan_becomes_na_not_nan():
    df = pd.DataFrame({"x": [1.5, np.nan, -2.25, np.inf], "y": np.array([1, 2, 3, 4], np.float32)})
    seen = describe(df)
    assert seen["x"]["type"] == "double"
    assert seen["x"]["na"] == [2]
    assert seen["x"]["nan"] is False  # NA_real_, as read.csv gives, not NaN
    assert seen["x"]["text"] == ["1.5", "<NA>", "-2.25", "Inf"]
    assert seen["y"]["type"] == "double"
    back = roundtrip(df)
    np.testing.assert_array_equal(back["x"].to_numpy(), df["x"].to_numpy())
    assert back["y"].dtype == np.float64


def test_integers_fit_or_become_double():
    df = pd.DataFrame(
        {
            "small": np.array([1, -5, 7], dtype=np.int64),
            "u8": np.array([0, 255, 3], dtype=np.uint8),
            "big": np.array([1, 2**40, 3], dtype=np.int64),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "nullable_big": pd.array([2**35, None, 1], dtype="Int64"),
        }
    )
    seen = describe(df)
    assert [seen[c]["type"] for c in df] == ["integer", "integer", "double", "integer", "double"]
    assert seen["nullable"]["na"] == [2]
    assert seen["nullable_big"]["na"] == [2]
    assert seen["big"]["text"][1] == "1099511627776"
    back = roundtrip(df)
    assert back["small"].dtype == np.int64
    assert back["nullable"].dtype == "Int64"
    assert back["nullable"].isna().tolist() == [False, True, False]
    assert back["nullable"][0] == 1 and back["nullable"][2] == 3


def test_bool_and_nullable_boolean():
    df = pd.DataFrame(
        {"b": [True, False, True], "nb": pd.array([True, None, False], dtype="boolean")}
    )
    seen = describe(df)
    assert seen["b"]["type"] == seen["nb"]["type"] == "logical"
    assert seen["b"]["text"] == ["TRUE", "FALSE", "TRUE"]
    assert seen["nb"]["text"] == ["TRUE", "<NA>", "FALSE"]
    back = roundtrip(df)
    assert back["b"].dtype == bool
    assert back["nb"].dtype == "boolean"
    assert back["nb"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("n", [5, 5000])  # both sides of the small/large string path
def test_strings_become_character_with_na(n):
    base = ["a", None, "z\u00e9", "a", np.nan]
    values = (base * (n // 5 + 1))[:n]
    df = pd.DataFrame(
        {"obj": pd.Series(values, dtype=object), "str": pd.Series(values, dtype="string")}
    )
    seen = describe(df)
    for col in ("obj", "str"):
        assert seen[col]["class"] == ["character"]
        assert seen[col]["text"][:5] == ["a", "<NA>", "z\u00e9", "a", "<NA>"]
        assert len(seen[col]["na"]) == sum(v is None or v is np.nan for v in values)
    back = roundtrip(df)
    assert pd.api.types.is_string_dtype(back["obj"].dtype)  # what read_csv gives
    assert back["obj"].isna().tolist() == df["obj"].isna().tolist()
    assert back["obj"].dropna().tolist() == df["obj"].dropna().tolist()


def test_categorical_keeps_level_order_and_unused_levels():
    cat = pd.Categorical(["b", "a", None, "b"], categories=["c", "b", "a"])
    df = pd.DataFrame(
        {
            "f": cat,
            "o": pd.Categorical(
                ["lo", "hi", "mid", None], categories=["lo", "mid", "hi"], ordered=True
            ),
        }
    )
    seen = describe(df)
    assert seen["f"]["class"] == ["factor"]
    assert seen["f"]["levels"] == ["c", "b", "a"]
    assert seen["f"]["na"] == [3]
    assert seen["o"]["class"] == ["ordered", "factor"]
    assert seen["o"]["levels"] == ["lo", "mid", "hi"]
    back = roundtrip(df)
    assert list(back["f"].cat.categories) == ["c", "b", "a"]
    assert back["f"].isna().tolist() == [False, False, True, False]
    assert back["o"].cat.ordered
    assert back["o"].tolist()[:3] == ["lo", "hi", "mid"]


def test_categorical_with_numeric_categories_gets_r_labels():
    df = pd.DataFrame(
        {
            "ints": pd.Categorical([10, 2, 10, None], categories=[10, 2, 3]),
            "floats": pd.Categorical([0.5, 1.0, 0.1 + 0.2, 1.0], categories=[1.0, 0.5, 0.1 + 0.2]),
        }
    )
    seen = describe(df)
    expected_float_labels = r("as.character(c(1, 0.5, 0.1 + 0.2))").tolist()
    assert seen["ints"]["levels"] == ["10", "2", "3"]
    assert seen["floats"]["levels"] == expected_float_labels == ["1", "0.5", "0.3"]
    assert seen["ints"]["na"] == [4]


def test_datetimes_become_posixct():
    naive = pd.Series(pd.to_datetime(["2024-01-02 03:04:05", None]))
    aware = naive.dt.tz_localize("Europe/Berlin")
    seen = describe(pd.DataFrame({"naive": naive, "aware": aware}))
    assert seen["naive"]["class"] == ["POSIXct", "POSIXt"]
    assert seen["naive"]["na"] == [2]
    assert seen["naive"]["text"][0] == "2024-01-02 03:04:05"
    assert seen["aware"]["text"][0] == "2024-01-02 03:04:05"
    back = roundtrip(pd.DataFrame({"naive": naive, "aware": aware}))
    assert back["naive"][0] == naive[0]
    assert back["aware"][0] == aware[0]


def test_like_read_csv(tmp_path):
    df = pd.DataFrame(
        {
            "x": [1.25, np.nan, 3.0],
            "n": [1, 2, 3],
            "s": ["a b", None, "\u00fc"],
            "flag": [True, False, True],
        }
    )
    path = tmp_path / "frame.csv"
    # R 4.2's read.csv reads TRUE/FALSE (not Python's True/False) as logical.
    df.assign(flag=df["flag"].map({True: "TRUE", False: "FALSE"})).to_csv(
        path, index=False, na_rep="NA"
    )
    assert r_apply("function(d, path) identical(d, read.csv(path))", df, str(path)) is True


def test_column_names_kept_verbatim():
    df = pd.DataFrame({"reaction time": [1.0], "d\u00eda": [2.0], "1st": [3.0]})
    assert r_apply("function(d) as.list(names(d))", df) == ["reaction time", "d\u00eda", "1st"]


@pytest.mark.parametrize(
    "frame, culprit",
    [
        (pd.DataFrame({"m": pd.Series([1, "a", 2.5], dtype=object)}), "'m'"),
        (pd.DataFrame({"c": pd.Series([1 + 2j, 3j])}), "'c'"),
        (pd.DataFrame({"t": pd.to_timedelta([1, 2], unit="s")}), "'t'"),
    ],
    ids=["mixed_object", "complex", "timedelta"],
)
def test_unsupported_columns_raise_data_error(frame, culprit):
    with pytest.raises(DataError, match=culprit):
        roundtrip(frame)
    assert r("1 + 1") == 2  # R still usable


@pytest.mark.parametrize(
    "columns, culprit",
    [
        (["a", "a"], "occur more than once"),
        ([0, 1], "not strings"),
        (pd.MultiIndex.from_tuples([("a", "x"), ("b", "y")]), "MultiIndex"),
    ],
    ids=["duplicate", "non_string", "multiindex"],
)
def test_bad_column_names_raise_data_error(columns, culprit):
    frame = pd.DataFrame([[1.0, 2.0]], columns=columns)
    with pytest.raises(DataError, match=culprit):
        roundtrip(frame)


def test_r_data_frames_come_back_with_r_levels():
    cake = r("cake")
    assert cake["temperature"].cat.ordered
    assert list(cake["temperature"].cat.categories) == r("as.list(levels(cake$temperature))")
    assert list(cake["recipe"].cat.categories) == ["A", "B", "C"]
    assert cake["angle"].dtype == np.int64 and r("typeof(cake$angle)") == "integer"


# Strings R cannot hold: a NUL ends an R string (it would be cut there, so
# "308\0early" and "308\0late" would both arrive as "308"), and a lone
# surrogate is not valid UTF-8.  Both are DataErrors naming the column, on the
# short path (values one by one), the long one (distinct values as codes),
# pandas' string dtype and Categorical categories.
BAD_STRINGS = [
    ("nul", "308\x00early", "NUL character"),
    ("surrogate", "caf\udce9", "lone surrogate"),
]


# (pandas' string dtype cannot hold a lone surrogate itself.)
_STRING_CASES = [
    (kind, bad)
    for kind in ("object", "string", "category")
    for bad in BAD_STRINGS
    if not (kind == "string" and bad[0] == "surrogate")
]


@pytest.mark.parametrize("n", [3, 5000], ids=["short", "long"])
@pytest.mark.parametrize("kind, bad", _STRING_CASES, ids=[f"{k}-{b[0]}" for k, b in _STRING_CASES])
def test_strings_r_cannot_hold_raise_data_error(n, kind, bad):
    _, value, problem = bad
    values = pd.Series(["a", value, None] * (n // 3) + ["b"] * (n % 3), dtype=object)
    if kind == "category":  # categories of object dtype (pandas' str dtype refuses surrogates)
        categories = pd.Index(["a", value, "b"], dtype=object)
        column = pd.Series(pd.Categorical(values, categories=categories))
    else:
        column = values.astype(kind) if kind == "string" else values
    with pytest.raises(DataError, match=f"column 'g'.* has a value with a {problem}"):
        r_apply("function(d) d", pd.DataFrame({"g": column}))


def test_valid_unicode_strings_still_reach_r_intact():
    # Non-ASCII, non-BMP (emoji) and long strings are fine: only NUL and lone
    # surrogates are refused.
    texts = ["café", "\U0001f600 smile", "ß" * 3000, "plain"]
    got = r_apply("function(d) list(g = as.list(d$g), n = nchar(d$g))", pd.DataFrame({"g": texts}))
    assert got["g"] == texts
    assert list(got["n"]) == [len(t) for t in texts]


def test_string_problem_names_the_position():
    from pylme4._r.convert import string_problem

    assert string_problem("abc") is None
    assert string_problem("é\U0001f600") is None
    assert string_problem("ab\x00c") == "a NUL character (\\x00) at position 2"
    assert "lone surrogate (U+DCE9) at position 3" in string_problem("caf\udce9")


@pytest.mark.parametrize(
    "code, expected",
    [
        ("I(2.5)", [2.5]),
        ("I(3L)", [3]),
        ("I('a')", ["a"]),
        ("I(TRUE)", [True]),
        ("I(character())", []),
        ("I(c(1, 2))", [1.0, 2.0]),
    ],
)
def test_asis_vectors_stay_vectors_whatever_their_length(code, expected):
    # An R helper marks with I() a value that is a vector even when R gives
    # one element: it comes back as an array, as R's length() says.
    value = r(code)
    assert isinstance(value, np.ndarray)
    assert len(value) == r(f"length({code})")
    assert value.tolist() == expected


def test_bare_length_one_vectors_are_scalars():
    assert r("2.5") == 2.5 and isinstance(r("2.5"), float)
    assert r("'a'") == "a"
    assert r("list(x = I(1), y = 1)")["y"] == 1.0
    assert isinstance(r("list(x = I(1), y = 1)")["x"], np.ndarray)


def test_named_asis_vector_is_a_series():
    value = r("I(c(a = 1))")
    assert isinstance(value, pd.Series) and value.to_dict() == {"a": 1.0}
