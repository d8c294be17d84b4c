"""The data of a pipeline: read as R's ``read.csv`` would, with the spec's factor levels.

A spec's CSV is read by pandas with rules chosen so that the exported R
script (:mod:`pylme4.pipeline.export_r`), which reads the same file with
``read.csv``, gets the same data:

- ``NA`` and empty fields are missing values, in every column (R:
  ``na.strings = c("NA", "")``); nothing else is (pandas would also take
  "null", "n/a", "NaN", ...);
- decimal numbers are the doubles R's parser reads (R_strtod, which is off
  by one unit in the last place for about one value in 20000 with few
  digits), so that the fits equal the script's to the last bit;
- column names are kept as written (R: ``check.names = FALSE``);
- the file is UTF-8.

``data.factors`` turns columns into factors with the given level order, as
``factor(x, levels = ...)`` does in R, except that a value that is not among
the levels is an error naming it (R would silently make it NA).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, FormulaError, PylmeError, one_line, suggestion
from .spec import Level, Spec

#: Fields read as missing values, in every column (R's ``na.strings``).
NA_STRINGS = ("NA", "")


@dataclass(frozen=True)
class LoadedData:
    """The data of a spec, ready to fit, with what the provenance records."""

    frame: pd.DataFrame
    source: dict[str, Any]
    """Where the data came from: kind ("csv" / "dataset"), path or name, SHA-256, rows."""
    levels: dict[str, tuple[str, ...]]
    """Column -> the spec's factor levels as R's text (what results.json records)."""


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's content, for bundled data sets (which have no file).

    Column by column, as canonical JSON: the name, then factor levels and
    codes, or the values (doubles in hexadecimal, exact; missing as null).
    It does not depend on how a pandas version writes CSV.
    """
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        payload: dict[str, Any] = {"name": str(name)}
        if isinstance(column.dtype, pd.CategoricalDtype):
            payload["levels"] = [str(c) for c in column.cat.categories]
            payload["codes"] = column.cat.codes.tolist()
        elif pd.api.types.is_float_dtype(column.dtype):
            payload["values"] = [None if v != v else float(v).hex() for v in column.tolist()]
        elif pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_integer_dtype(
            column.dtype
        ):
            payload["values"] = [None if pd.isna(v) else int(v) for v in column.tolist()]
        else:
            payload["values"] = [None if pd.isna(v) else str(v) for v in column.tolist()]
        digest.update(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return digest.hexdigest()


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV file read as ``read.csv(path, na.strings = c("NA", ""), check.names = FALSE)``."""
    # pandas' own doubles only tell which columns are decimal: _r_doubles
    # replaces every one of them with R's parse of the text.
    frame = pd.read_csv(
        path,
        keep_default_na=False,
        na_values=list(NA_STRINGS),
        encoding="utf-8",
    )
    return _r_doubles(path, frame)


def _r_doubles(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """The decimal columns of ``frame`` with the doubles R's parser reads from the file.

    R's ``read.csv`` (R_strtod) is not correctly rounded: about one value in
    20000 with few digits ("5.547e-06") comes out one unit in the last place
    away from the double pandas reads.  The exported script reads the file
    with ``read.csv``, so pylme4 takes R's doubles (one R call) to fit the
    same numbers to the last bit.
    """
    columns = [j for j in range(frame.shape[1]) if frame.dtypes.iloc[j] == np.float64]
    if not columns:
        return frame
    text = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_values=list(NA_STRINGS),
        encoding="utf-8",
        usecols=columns,
    )
    from .._r.call import r_value

    present = {str(i): text.iloc[:, k].notna().to_numpy() for k, i in enumerate(columns)}
    parsed = r_value(
        "pylme4_parse_doubles",
        {str(i): [str(v) for v in text.iloc[:, k][present[str(i)]]] for k, i in enumerate(columns)},
        doing="reading the data's numbers as R's read.csv reads them",
    )
    frame = frame.copy()
    for i in columns:
        values = frame.iloc[:, i].to_numpy(dtype=float, copy=True)
        values[present[str(i)]] = np.asarray(parsed[str(i)], dtype=float)
        frame.isetitem(i, values)
    return frame


def load_data(spec: Spec) -> LoadedData:
    """Read the spec's data and apply its factor levels.

    Raises
    ------
    SpecError
        The CSV file is missing, the data set does not exist, or a factor
        names a column that is not in the data.
    DataError
        The CSV cannot be parsed, has no rows, or a factor column has values
        that are not among its levels.
    """
    where = describe(spec)
    if spec.csv_path is not None:
        path = spec.csv_path
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "not found"
            raise spec.error("data.csv", f"data file {spec.data.csv!r} {what} (looked for {path})")
        try:
            frame = read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(
                spec.locate("data.csv", f"cannot read {path.name} as CSV: {one_line(exc)}")
            ) from None
        source: dict[str, Any] = {
            "kind": "csv",
            "file": spec.data.csv,
            "path": str(path),
            "sha256": sha256_file(path),
            "sha256_of": "the file's bytes",
        }
    else:
        frame, package = _load_dataset(spec)
        source = {
            "kind": "dataset",
            "dataset": spec.data.dataset,
            "package": package,
            "sha256": frame_sha256(frame),
            "sha256_of": "the data set's columns as canonical JSON (pipeline.data.frame_sha256)",
        }
    if len(frame) == 0:
        raise DataError(f"{where} has no rows")
    source["rows"] = len(frame)
    source["columns"] = [str(c) for c in frame.columns]
    frame = apply_factors(spec, frame, where)
    levels = {c: tuple(str(x) for x in frame[c].cat.categories) for c in spec.data.factors}
    return LoadedData(frame=frame, source=source, levels=levels)


def _load_dataset(spec: Spec) -> tuple[pd.DataFrame, str]:
    from .. import datasets

    name = str(spec.data.dataset)
    try:
        package = datasets.find(name, spec.data.package)
    except PylmeError:
        package = spec.data.package or " / ".join(datasets.search_order())
        raise spec.error(
            "data.package", f"R cannot list the data sets of package {package!r}"
        ) from None
    if package is not None:
        return datasets.load(name, package), package
    packages = datasets.search_order(spec.data.package)
    known = [n for p in packages for n in datasets.names(p)]
    raise spec.error(
        "data.dataset",
        f"no data set {name!r} in R package(s) {', '.join(packages)}{suggestion(name, known)}",
    )


def r_level(level: Level) -> Any:
    """A spec's level as the R value it is written as (for :func:`factor_text`).

    Whole numbers that fit R's integers are R integers (``as.character(100000L)``
    is "100000", as for an integer column); larger ones are doubles.
    """
    if isinstance(level, bool):
        return np.array([level])
    if isinstance(level, int):
        if -(2**31) < level < 2**31:
            return np.array([level], dtype=np.int32)
        return np.array([float(level)])
    if isinstance(level, float):
        return np.array([level])
    return level


def factor_text(values: pd.Series, levels: tuple[Level, ...]) -> tuple[pd.Series, tuple[str, ...]]:
    """The text R's ``as.character()`` gives each value (NaN for missing ones) and each level.

    Text is its own text; numbers and logicals, among the values or the
    levels, are written by R itself (one R call), so that they match exactly
    as ``factor(x, levels = ...)`` matches them in R.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object).where(values.notna(), None)
    present = values.notna()
    if (values.dtype == object or isinstance(values.dtype, pd.StringDtype)) and all(
        isinstance(v, str) for v in [*values[present], *levels]
    ):
        return values.where(present), tuple(str(v) for v in levels)
    from .._r.call import r_value

    uniques = pd.Series(pd.unique(values.dropna()))
    texts = r_value(
        "pylme4_factor_text",
        uniques,
        [r_level(v) for v in levels],
        doing="writing values as text",
    )
    mapping = dict(zip(uniques, texts["values"]))
    labels = tuple(str(t) for t in texts["levels"])
    return values.map(mapping).where(present), labels


def apply_factors(spec: Spec, frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The columns named in ``data.factors`` as Categoricals with the spec's levels."""
    if not spec.data.factors:
        return frame
    frame = frame.copy()
    columns = [str(c) for c in frame.columns]
    for column, levels in spec.data.factors.items():
        key = f"data.factors.{column}"
        if column not in columns:
            raise spec.error(
                key, f"{column!r} is not a column of {where}{suggestion(column, columns)}"
            )
        text, labels = factor_text(frame[column], levels)
        for i, label in enumerate(labels):
            if label in labels[:i]:
                first = levels[labels.index(label)]
                raise spec.error(key, f"levels {first!r} and {levels[i]!r} are both {label!r} in R")
        unknown = [v for v in pd.unique(text.dropna()) if v not in labels]
        if unknown:
            shown = ", ".join(repr(v) for v in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise DataError(
                spec.locate(
                    key,
                    f"column {column!r} has values {shown}{more} "
                    f"that are not among the levels {list(labels)}",
                )
            )
        frame[column] = pd.Categorical(text, categories=list(labels))
    return frame


def check_formulas(
    spec: Spec, frame: pd.DataFrame, where: str, formulas: Mapping[str, str] | None = None
) -> None:
    """Every model's formula parses in R and uses only columns of the data.

    ``formulas`` gives each model's full formula by name (a variant's, made by
    :func:`pylme4.pipeline.variants.formulas`); by default the spec's own.
    """
    from .. import checks

    columns = [str(c) for c in frame.columns]
    for i, model in enumerate(spec.models):
        formula = model.formula if formulas is None else formulas[model.name]
        if formula is None:
            continue
        key = f"models[{i}].formula" if model.formula is not None else f"models[{i}].update"
        try:
            checks.formula_vars(formula, columns)
        except FormulaError as exc:
            message = str(exc).replace("is not a column of the data", f"is not a column of {where}")
            raise spec.error(key, message) from None
        if model.update is not None:
            continue  # weights and offset: its base model's, checked there
        for name in ("weights", "offset"):
            column = getattr(model, name)
            if column is not None and column not in columns:
                raise spec.error(
                    f"models[{i}].{name}",
                    f"{column!r} is not a column of {where}{suggestion(column, columns)}",
                )


def describe(spec: Spec) -> str:
    """How messages name the data: the CSV file's name or the data set's."""
    if spec.csv_path is not None:
        return spec.csv_path.name
    return f"the data set {spec.data.dataset}"
