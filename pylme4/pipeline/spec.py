"""The YAML spec of a pipeline: its schema, validation, and messages with line numbers.

A spec names one data set and the models to fit on it::

    data:
      csv: pastes.csv          # relative to the spec; or `dataset: Pastes` (bundled)
      name: pastes             # what R's summary prints after "Data:"
      factors:                 # optional: column -> level order (first = reference)
        batch: [A, B, C]
    models:
      - name: nested
        formula: "strength ~ 1 + (1 | batch/cask)"
        reml: true             # default true
        ddf: Satterthwaite     # optional: lmerTest's summary
        boot: {nsim: 100, seed: 1, workers: 2}
        all_fit: true
        confint: Wald

The spec is read from pyyaml's node tree rather than from plain Python
objects, so that every message can name the file, the line and the key
("analysis.yaml:7: models[0]: unknown key 'formla' (did you mean
'formula'?)").  Validation here needs neither R nor the data; what depends on
the data (unknown columns, formula variables) is checked by
:mod:`pylme4.pipeline.data` with the same locations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from ..errors import PylmeError, one_line, suggestion
from ..options import BOOT_STATISTICS, BOOT_TYPES, CONFINT_METHODS, DDF_VALUES

# A model's name becomes a directory name: keep it portable and free of dots,
# so it can never collide with results.json or spec.yaml.
# Always used with fullmatch(): "$" would also match before a final newline.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# The data's name is bound in R and printed after "Data:": a syntactic R name
# (ASCII only, so that it means the same in every locale).
_R_NAME = re.compile(r"(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*|\.")
# An R package's name, as R CMD check requires it.
_R_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]")
#: R's integers (seeds, counts): what set.seed() and bootMer accept.
R_INT_MAX = 2**31 - 1
_R_RESERVED = frozenset(
    [
        "if",
        "else",
        "repeat",
        "while",
        "function",
        "for",
        "next",
        "break",
        "TRUE",
        "FALSE",
        "NULL",
        "Inf",
        "NaN",
        "NA",
        "NA_integer_",
        "NA_real_",
        "NA_character_",
        "NA_complex_",
        "in",
    ]
)
# Names the exported R script (export_r.py) binds at top level, besides the
# functions of _r/R/script.R (all named pylme4_*): the data cannot take one of
# them there (`fit <- read.csv(...)` would be overwritten by the first model).
# Names earlier scripts bound stay here, so that a data set's default name
# (and with it the summaries of stored results) does not change.
# tests/test_pipeline.py checks the list is complete.
SCRIPT_NAMES = frozenset(
    {
        "out_dir",
        "script_dir",
        "data_file",
        "fit",
        # bound by scripts of pylme4 before script.R
        "args",
        "b",
        "as_factor",
        "write_table",
        "write_text",
        "console_text",
        "write_model",
        "sdcor_names",
        "write_boot",
        "write_all_fit",
        "write_confint",
    }
)
#: The prefix of every function the exported R script takes from script.R.
SCRIPT_PREFIX = "pylme4_"


def script_binds(name: str) -> bool:
    """Whether the exported R script binds ``name`` for itself."""
    return name in SCRIPT_NAMES or name.startswith(SCRIPT_PREFIX)


#: A factor level as written in the spec: text, a whole number, a number or a logical.
Level = str | int | float | bool

_YAML_TRUE = ("true", "True", "TRUE")
_YAML_FALSE = ("false", "False", "FALSE")


class SpecError(PylmeError, ValueError):
    """The spec is not valid.

    ``str(exc)`` is one line that starts with ``file:line:`` and names the key;
    :attr:`line` (1-based, or None) and :attr:`key` (e.g. ``"models[0].formula"``)
    hold the location for programs.
    """

    def __init__(self, message: str, *, line: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.key = key


# The spec's schema is its dataclasses: their fields are the keys a mapping
# takes, in order; a field without a default is required; the defaults fill
# in what the YAML leaves out.  A field's metadata says how the reader checks
# its value (`read`: a _Reader method; `minimum`, `choices`), whether YAML
# gives it at all (`yaml`: False for what the reader records itself) and
# whether YAML must give it (`required`, where the reader makes a default).


def _read(read: str, **checks: Any) -> dict[str, Any]:
    return {"read": read, **checks}


_NOT_YAML: dict[str, Any] = {"yaml": False}
_SEED = _read("integer", minimum=-(2**31) + 1)
_COUNT = _read("integer", minimum=1)


@dataclass(frozen=True)
class BootSpec:
    """``boot:`` of a model: a parametric bootstrap (lme4's ``bootMer``)."""

    nsim: int = field(metadata=_COUNT)
    seed: int = field(metadata=_SEED)
    workers: int = field(default=1, metadata=_COUNT)
    fun: str = field(default="fixef", metadata=_read("choice", choices=BOOT_STATISTICS))
    type: str = field(default="parametric", metadata=_read("choice", choices=BOOT_TYPES))
    use_u: bool = field(default=False, metadata=_read("boolean"))
    """Condition on the estimated random effects (bootMer's ``use.u``)."""


@dataclass(frozen=True)
class ConfintSpec:
    """``confint:`` of a model: ``confint(fit, method=..., level=...)``."""

    method: str = field(metadata=_read("choice", choices=CONFINT_METHODS))
    level: float = field(default=0.95, metadata=_read("level"))
    nsim: int = field(default=500, metadata=_COUNT)
    seed: int | None = field(default=None, metadata=_SEED)


@dataclass(frozen=True)
class ModelSpec:
    """One entry of ``models:``."""

    name: str = field(metadata=_read("model_name"))
    formula: str = field(metadata=_read("formula"))
    reml: bool = field(default=True, metadata=_read("boolean"))
    ddf: str | None = field(default=None, metadata=_read("ddf"))
    boot: BootSpec | None = field(default=None, metadata=_read("boot"))
    all_fit: bool = field(default=False, metadata=_read("boolean"))
    confint: ConfintSpec | None = field(default=None, metadata=_read("confint"))


@dataclass(frozen=True, kw_only=True)
class DataSpec:
    """``data:``: where the data comes from and how its factors are ordered."""

    csv: str | None = None
    """The CSV path as written in the spec (relative to the spec's folder)."""
    dataset: str | None = None
    """A data set bundled with lme4 (or base R's datasets), by name."""
    package: str | None = None
    """The R package of ``dataset`` (default: lme4, then datasets)."""
    name: str = field(metadata={"required": False})
    """The name the data is bound to in R (printed after ``Data:``); by default
    made from the file's or the data set's name."""
    factors: Mapping[str, tuple[Level, ...]] = field(default_factory=dict)
    """Column -> factor levels, in order (the first is the reference), as the
    YAML values they are written as; R's ``as.character()`` makes them the text
    the column's values are matched with (:func:`pylme4.pipeline.data.load_data`)."""


@dataclass(frozen=True)
class Spec:
    """A validated pipeline spec."""

    data: DataSpec
    models: tuple[ModelSpec, ...]
    text: str = field(metadata=_NOT_YAML)
    """The YAML exactly as read (copied into the results)."""
    source: str = field(metadata=_NOT_YAML)
    """The spec's file name as shown in messages."""
    base_dir: Path = field(metadata=_NOT_YAML)
    """The folder a relative ``data.csv`` is resolved against (the spec's own)."""
    path: Path | None = field(default=None, metadata=_NOT_YAML)
    """The spec file's absolute path (None for a spec given as text)."""
    lines: Mapping[str, int] = field(default_factory=dict, metadata=_NOT_YAML)
    """Key path (``"models[0].formula"``) -> line number (1-based) in the spec."""

    @property
    def csv_path(self) -> Path | None:
        """The absolute path of ``data.csv``, or None for a bundled data set."""
        if self.data.csv is None:
            return None
        return (self.base_dir / self.data.csv).resolve()

    @property
    def sha256(self) -> str:
        """SHA-256 of the spec's text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def where(self, key: str) -> str:
        """``"file:line"`` of a key (or of its closest enclosing key)."""
        while key:
            if key in self.lines:
                return f"{self.source}:{self.lines[key]}"
            key = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", key) if re.search(r"[.\[]", key) else ""
        return self.source

    def locate(self, key: str, message: str, *, label: str | None = None) -> str:
        """``"file:line: key: message"``, for any error about ``key`` (named ``label`` if given)."""
        return f"{self.where(key)}: {label or key}: {message}"

    def error(self, key: str, message: str) -> SpecError:
        """A :class:`SpecError` located at ``key``: ``"file:line: key: message"``."""
        return SpecError(self.locate(key, message), line=self.lines.get(key), key=key)

    def seeds(self) -> dict[str, int]:
        """Every random seed the spec sets, by where it is set (``"nested.boot"``)."""
        out: dict[str, int] = {}
        for model in self.models:
            if model.boot is not None:
                out[f"{model.name}.boot"] = model.boot.seed
            if model.confint is not None and model.confint.seed is not None:
                out[f"{model.name}.confint"] = model.confint.seed
        return out

    def to_dict(self, levels: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
        """The spec with every default filled in, as JSON-ready data.

        ``levels`` gives the factor levels as R's text (``LoadedData.levels``),
        as results.json records them; without it they are the values as written.
        """
        data: dict[str, Any] = {"name": self.data.name}
        if self.data.csv is not None:
            data["csv"] = self.data.csv
        else:
            data["dataset"] = self.data.dataset
            data["package"] = self.data.package
        data["factors"] = {
            k: list(v if levels is None else levels[k]) for k, v in self.data.factors.items()
        }
        models = [dataclasses.asdict(m) for m in self.models]
        return {"data": data, "models": models}


def yaml_keys(cls: type) -> dict[str, bool]:
    """The keys the YAML mapping of dataclass ``cls`` takes, in order, each with
    whether it is required."""
    keys = {}
    for f in dataclasses.fields(cls):
        if not f.metadata.get("yaml", True):
            continue
        has_default = (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
        keys[f.name] = f.metadata.get("required", not has_default)
    return keys


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Raises
    ------
    SpecError
        The file is missing or unreadable, is not YAML, or does not follow the
        schema; the message names the file, the line and the key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: spec file not found") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder, not a spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc})") from None
    spec = parse_spec(text, source=str(path), base_dir=path.resolve().parent)
    return dataclasses.replace(spec, path=path.resolve())


def parse_spec(text: str, *, source: str = "<spec>", base_dir: str | Path = ".") -> Spec:
    """Validate a spec given as YAML text; ``base_dir`` resolves a relative ``data.csv``."""
    reader = _Reader(source)
    try:
        # The reader checks the characters as it is made: a control character
        # in the text fails here, before any node is read.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML: {one_line(exc)}") from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            column = f" (column {mark.column + 1})" if mark is not None else ""
            problem = exc.problem or exc.context or "syntax error"
            raise SpecError(
                f"{source}:{line}: not valid YAML: {problem}{column}", line=line
            ) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"{source}: not valid YAML: {one_line(exc)}") from None
        if root is None:
            raise SpecError(f"{source}: the spec is empty; it needs 'data:' and 'models:'")
        reader.loader = loader
        top = reader.mapping(root, "", yaml_keys(Spec), "the spec")
        data = reader.data(top["data"][1])
        models = reader.models(top["models"][1])
    finally:
        loader.dispose()
    return Spec(
        data=data,
        models=models,
        text=text,
        source=source,
        base_dir=Path(base_dir).resolve(),
        lines=MappingProxyType(dict(reader.lines)),
    )


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag.endswith(":null"):
        return "empty"
    return repr(node.value)


class _Reader:
    """Walks pyyaml's node tree, checking each value and recording its line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        self.loader: Any = None

    # -- locations and failures -------------------------------------------

    def fail(self, node: yaml.Node, key: str, message: str) -> NoReturn:
        line = node.start_mark.line + 1
        prefix = f"{key}: " if key else ""
        raise SpecError(f"{self.source}:{line}: {prefix}{message}", line=line, key=key or None)

    @staticmethod
    def join(parent: str, key: str) -> str:
        return f"{parent}.{key}" if parent else key

    # -- structure ----------------------------------------------------------

    def mapping(
        self, node: yaml.Node, key: str, allowed: Mapping[str, bool], what: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The entries of a mapping node, by key, after checking the keys."""
        self.lines.setdefault(key, node.start_mark.line + 1)
        if not isinstance(node, yaml.MappingNode):
            subject = "" if key else "the spec "
            self.fail(node, key, f"{subject}must be a mapping of keys to values, not {_kind(node)}")
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, key, f"keys of {what} must be plain names")
            name = str(key_node.value)
            if name in entries:
                first = entries[name][0].start_mark.line + 1
                self.fail(key_node, key, f"duplicate key {name!r} (first given on line {first})")
            if name not in allowed:
                known = ", ".join(allowed)
                self.fail(
                    key_node,
                    key,
                    f"unknown key {name!r}{suggestion(name, allowed)}; {what} takes {known}",
                )
            entries[name] = (key_node, value_node)
            self.lines[self.join(key, name)] = key_node.start_mark.line + 1
        for name, required in allowed.items():
            if required and name not in entries:
                self.fail(node, key, f"{name!r} is missing; {what} requires it")
        return entries

    def scalar(self, node: yaml.Node, key: str, what: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, key, f"{what}, not {_kind(node)}")
        return self.loader.construct_object(node)

    def string(self, node: yaml.Node, key: str) -> str:
        """Any scalar but null, as the text written in the spec."""
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            self.fail(node, key, f"must be text, not {_kind(node)}")
        text = str(node.value)
        if not text.strip():
            self.fail(node, key, "must not be empty")
        self.check_text(node, key, text)
        return text

    def check_text(self, node: yaml.Node, key: str, text: str) -> None:
        """Text R can hold: no NUL (R strings end there) and no lone surrogate (not UTF-8)."""
        if "\x00" in text:
            self.fail(node, key, "contains a NUL character (\\0), which R cannot hold")
        if any("\ud800" <= ch <= "\udfff" for ch in text):
            self.fail(node, key, "contains a lone surrogate, which is not a character")

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.scalar(node, key, "must be true or false")
        if not isinstance(value, bool):
            self.fail(node, key, f"must be true or false, not {_kind(node)}")
        return value

    def integer(self, node: yaml.Node, key: str, minimum: int, maximum: int = R_INT_MAX) -> int:
        """A whole number in [minimum, maximum] (by default within R's integers)."""
        value = self.scalar(node, key, "must be a whole number")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(node, key, f"must be a whole number, not {_kind(node)}")
        if value < minimum:
            self.fail(node, key, f"must be at least {minimum}, not {value}")
        if value > maximum:
            self.fail(node, key, f"must be at most {maximum} (R's largest integer), not {value}")
        return value

    def choice(self, node: yaml.Node, key: str, choices: tuple[str, ...]) -> str:
        value = self.scalar(node, key, f"must be one of {', '.join(choices)}")
        if not isinstance(value, str) or value not in choices:
            text = str(node.value)
            self.fail(
                node,
                key,
                f"must be one of {', '.join(choices)}, not {_kind(node)}"
                f"{suggestion(text, choices)}",
            )
        return value

    # -- fields, as their dataclass declares them ----------------------------

    def fields(
        self, cls: type, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str
    ) -> dict[str, Any]:
        """The values of the keys given, each read as its field's metadata says, in field order.

        Keys left out are left to the dataclass's defaults.
        """
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in entries and "read" in f.metadata:
                read = getattr(self, f"read_{f.metadata['read']}")
                values[f.name] = read(entries[f.name][1], self.join(key, f.name), f.metadata)
        return values

    def read_boolean(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> bool:
        return self.boolean(node, key)

    def read_integer(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> int:
        return self.integer(node, key, meta["minimum"])

    def read_choice(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        return self.choice(node, key, meta["choices"])

    def read_level(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> float:
        value = self.scalar(node, key, "must be a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            self.fail(node, key, f"must be a number between 0 and 1, e.g. 0.95, not {_kind(node)}")
        return float(value)

    def read_model_name(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        name = self.string(node, key)
        if not _MODEL_NAME.fullmatch(name):
            self.fail(
                node,
                key,
                f"{name!r} must be letters, digits, '_' and '-' (it names the output folder)",
            )
        return name

    def read_formula(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        formula = self.string(node, key)
        if "~" not in formula:
            self.fail(
                node,
                key,
                f"{formula!r} is not a model formula (it has no '~'), e.g. 'y ~ x + (1 | g)'",
            )
        return " ".join(formula.split())

    def read_ddf(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str | None:
        if node.tag.endswith(":null"):
            return None
        return self.choice(node, key, DDF_VALUES)

    def read_boot(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> BootSpec:
        return self.boot(node, key)

    def read_confint(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> ConfintSpec:
        return self.confint(node, key)

    # -- the schema ---------------------------------------------------------

    def data(self, node: yaml.Node) -> DataSpec:
        entries = self.mapping(node, "data", yaml_keys(DataSpec), "data")
        has_csv, has_dataset = "csv" in entries, "dataset" in entries
        if has_csv == has_dataset:
            self.fail(
                node,
                "data",
                "give exactly one of 'csv' (a file, relative to the spec) "
                "and 'dataset' (a bundled data set such as sleepstudy)",
            )
        if "package" in entries and not has_dataset:
            self.fail(entries["package"][0], "data.package", "is only used with 'dataset'")
        csv = self.string(entries["csv"][1], "data.csv") if has_csv else None
        dataset = self.string(entries["dataset"][1], "data.dataset") if has_dataset else None
        package = (
            self.string(entries["package"][1], "data.package") if "package" in entries else None
        )
        # Both become R names (lme4::sleepstudy): nothing else may hide in them.
        if dataset is not None and not _is_r_name(dataset):
            self.fail(
                entries["dataset"][1],
                "data.dataset",
                f"{dataset!r} is not the name of an R data set (letters, digits, '.' and '_')",
            )
        if package is not None and not _R_PACKAGE.fullmatch(package):
            self.fail(
                entries["package"][1],
                "data.package",
                f"{package!r} is not the name of an R package (letters, digits and '.')",
            )
        if "name" in entries:
            name = self.string(entries["name"][1], "data.name")
            if not _is_r_name(name):
                self.fail(
                    entries["name"][1],
                    "data.name",
                    f"{name!r} is not a syntactic R name (letters, digits, '.' and '_', "
                    "starting with a letter or '.'), which R binds the data to",
                )
            if script_binds(name):
                self.fail(
                    entries["name"][1],
                    "data.name",
                    f"{name!r} is a name the exported R script uses for itself; choose another",
                )
        else:
            name = _default_data_name(dataset if dataset is not None else Path(str(csv)).stem)
        factors = self.factors(entries["factors"][1]) if "factors" in entries else {}
        return DataSpec(
            name=name,
            csv=csv,
            dataset=dataset,
            package=package,
            factors=MappingProxyType(factors),
        )

    def factors(self, node: yaml.Node) -> dict[str, tuple[Level, ...]]:
        self.lines["data.factors"] = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            self.fail(
                node,
                "data.factors",
                f"must map column names to lists of levels, not {_kind(node)}",
            )
        out: dict[str, tuple[Level, ...]] = {}
        for key_node, value_node in node.value:
            column = str(key_node.value)
            key = f"data.factors.{column}"
            self.lines[key] = key_node.start_mark.line + 1
            self.check_text(key_node, "data.factors", column)
            if column in out:
                self.fail(key_node, "data.factors", f"column {column!r} is given twice")
            if not isinstance(value_node, yaml.SequenceNode) or not value_node.value:
                self.fail(
                    value_node,
                    key,
                    f"must be a non-empty list of levels, e.g. [A, B, C], not {_kind(value_node)}",
                )
            levels: list[Level] = []
            for item in value_node.value:
                level = self.level(item, key)
                # By type too: 1 == 1.0 == True in Python, not in R's text.
                if (type(level), level) in [(type(x), x) for x in levels]:
                    self.fail(item, key, f"level {level!r} is listed twice")
                levels.append(level)
            out[column] = tuple(levels)
        return out

    def level(self, node: yaml.Node, key: str) -> Level:
        """A factor level as the value R's ``factor()`` compares values with.

        Text stays text; numbers and logicals stay numbers and logicals, which
        R turns into text with ``as.character()`` when the data is loaded (as
        ``factor(x, levels = c(...))`` does in R).
        """
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, key, f"each level must be a single value, not {_kind(node)}")
        tag = node.tag
        if tag.endswith(":null"):
            self.fail(node, key, "a level cannot be empty (null); missing values stay NA")
        if tag.endswith(":bool"):
            # YAML's yes/no/on/off are not R's logicals: they stay as written.
            if node.value in _YAML_TRUE + _YAML_FALSE:
                return bool(self.loader.construct_object(node))
            return str(node.value)
        if tag.endswith((":int", ":float")):
            value = self.loader.construct_object(node)
            if isinstance(value, (int, float)):
                return value
        self.check_text(node, key, str(node.value))
        return str(node.value)

    def models(self, node: yaml.Node) -> tuple[ModelSpec, ...]:
        self.lines.setdefault("models", node.start_mark.line + 1)
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(
                node,
                "models",
                f"must be a non-empty list of models ('- name: ...'), not {_kind(node)}",
            )
        models: list[ModelSpec] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(node.value):
            model = self.model(item, f"models[{i}]")
            if model.name in seen:
                self.fail(
                    item,
                    f"models[{i}].name",
                    f"the name {model.name!r} is already used by models[{seen[model.name]}]",
                )
            seen[model.name] = i
            models.append(model)
        return tuple(models)

    def model(self, node: yaml.Node, key: str) -> ModelSpec:
        entries = self.mapping(node, key, yaml_keys(ModelSpec), "a model")
        return ModelSpec(**self.fields(ModelSpec, entries, key))

    def boot(self, node: yaml.Node, key: str) -> BootSpec:
        if not isinstance(node, yaml.MappingNode):
            self.fail(
                node,
                key,
                f"must be a mapping such as {{nsim: 100, seed: 1}} (a seed is required: "
                f"a bootstrap without one cannot be re-verified), not {_kind(node)}",
            )
        entries = self.mapping(node, key, yaml_keys(BootSpec), "boot")
        spec = BootSpec(**self.fields(BootSpec, entries, key))
        if spec.type == "semiparametric" and not spec.use_u:
            self.fail(
                entries["type"][1],
                f"{key}.type",
                "lme4 implements the semiparametric bootstrap only with 'use_u: true'",
            )
        return spec

    def confint(self, node: yaml.Node, key: str) -> ConfintSpec:
        if isinstance(node, yaml.ScalarNode):
            method = self.choice(node, key, CONFINT_METHODS)
            if method == "boot":
                self.fail(
                    node,
                    key,
                    "a bootstrap interval needs a seed: write {method: boot, nsim: 500, seed: 1}",
                )
            return ConfintSpec(method=method)
        entries = self.mapping(node, key, yaml_keys(ConfintSpec), "confint")
        spec = ConfintSpec(**self.fields(ConfintSpec, entries, key))
        if spec.method == "boot" and spec.seed is None:
            self.fail(node, key, "a bootstrap interval needs a seed (seed: 1)")
        if spec.method != "boot":
            for extra in ("nsim", "seed"):
                if extra in entries:
                    self.fail(entries[extra][0], f"{key}.{extra}", "is only used with method: boot")
        return spec


def _is_r_name(name: str) -> bool:
    return bool(_R_NAME.fullmatch(name)) and name not in _R_RESERVED


def _default_data_name(stem: str) -> str:
    """A syntactic R name made from a file stem or data set name."""
    name = re.sub(r"[^A-Za-z0-9._]", "_", stem)
    if not name or not re.match(r"[A-Za-z]", name[0]):
        name = "data_" + name
    if script_binds(name):
        name += "_data"
    return name if _is_r_name(name) else "data"
