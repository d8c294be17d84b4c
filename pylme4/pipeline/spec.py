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
      - name: ml
        update: nested         # R's update(nested, . ~ . - x, REML = FALSE)
        reml: false
        drop1: true            # lmerTest's F tests; also step:, contest:,
                               # ls_means:, difflsmeans:
      - name: glmm
        formula: "cbind(y, n - y) ~ x + (1 | g)"
        family: binomial       # glmer(); negative_binomial: glmer.nb()
        nAGQ: 1
        control: {optimizer: bobyqa}   # also on lmer models, as are weights:, offset:
        power: {test: x, effect: 0.5, nsim: 200, seed: 1}
    compare:                   # anova() between named models
      - name: reml_vs_ml
        models: [nested, ml]

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
from ..options import (
    ANOVA_DDF_VALUES,
    BOOT_STATISTICS,
    BOOT_TYPES,
    CONFINT_METHODS,
    CONTRAST_METHODS,
    DDF_VALUES,
    EMM_ADJUSTS,
    EMM_TYPES,
    EMM_WEIGHTS,
    LMER_DF_VALUES,
    POWER_METHODS,
    TIDY_EFFECTS,
    WALD_TESTS,
    WALD_TYPES,
)

# A model's name becomes a directory name: keep it portable and free of dots,
# so it can never collide with results.json or spec.yaml.
# Always used with fullmatch(): "$" would also match before a final newline.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# The data's name is bound in R and printed after "Data:": a syntactic R name
# (ASCII only, so that it means the same in every locale).
_R_NAME = re.compile(r"(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*|\.")
# An R package's name, as R CMD check requires it.
_R_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]")
# A predictor's name as emmeans takes it in specs, by and at.
_PREDICTOR = re.compile(r"[A-Za-z.][A-Za-z0-9._]*")
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
        "fits",
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
# Keys added after results folders were first written: results.json records
# them only when the spec gives them, so that verify of older results still
# compares the spec it re-runs with the one it stored.
_LATER = {"omit_default": True}
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
    workers: int = field(default=1, metadata={**_COUNT, **_LATER})
    """Processes for ``profile`` (one parameter each) and ``boot``; the
    intervals do not depend on it."""


@dataclass(frozen=True)
class Drop1Spec:
    """``drop1:`` of a model: lmerTest's ``drop1(fit, ddf = ddf)`` (F tests)."""

    ddf: str = field(default="Satterthwaite", metadata=_read("choice", choices=ANOVA_DDF_VALUES))


@dataclass(frozen=True)
class StepSpec:
    """``step:`` of a model: lmerTest's backward elimination ``step(fit, ...)``."""

    reduce_fixed: bool = field(default=True, metadata=_read("boolean"))
    reduce_random: bool = field(default=True, metadata=_read("boolean"))
    alpha_random: float = field(default=0.1, metadata=_read("alpha"))
    alpha_fixed: float = field(default=0.05, metadata=_read("alpha"))
    ddf: str = field(default="Satterthwaite", metadata=_read("choice", choices=DDF_VALUES))


@dataclass(frozen=True)
class ContestSpec:
    """One entry of a model's ``contest:``: lmerTest's ``contest(fit, L, joint, ddf)``."""

    L: tuple[float, ...] | tuple[tuple[float, ...], ...] = field(metadata=_read("contrast"))
    """One weight per coefficient (in the order of ``fixef()``), or a matrix:
    a list of such rows."""
    joint: bool = field(default=True, metadata=_read("boolean"))
    ddf: str = field(default="Satterthwaite", metadata=_read("choice", choices=DDF_VALUES))


@dataclass(frozen=True)
class LsMeansSpec:
    """``ls_means:`` / ``difflsmeans:`` of a model (lmerTest)."""

    which: tuple[str, ...] | None = field(default=None, metadata=_read("terms"))
    """The factor terms (all of them by default)."""
    level: float = field(default=0.95, metadata=_read("level"))
    ddf: str = field(default="Satterthwaite", metadata=_read("choice", choices=DDF_VALUES))


@dataclass(frozen=True)
class PowerCurveSpec:
    """``power.power_curve:``: ``pylme4.power_curve(fit, test, along, n, ...)``."""

    along: str = field(metadata=_read("text"))
    """The grouping factor whose levels are added (or dropped)."""
    n: tuple[int, ...] = field(metadata=_read("sizes"))
    """The numbers of its levels to try."""


@dataclass(frozen=True)
class PowerSpec:
    """``power:`` of a model: ``pylme4.power(fit, test, effect, nsim, seed, ...)``, the loop
    of docs/power.md."""

    test: str = field(metadata=_read("text"))
    """A fixed-effect term, as R names it."""
    seed: int = field(metadata=_SEED)
    nsim: int = field(default=1000, metadata=_COUNT)
    effect: float | Mapping[str, float] | None = field(default=None, metadata=_read("effect"))
    """A number (the coefficient named like ``test``), or coefficient -> value."""
    alpha: float = field(default=0.05, metadata=_read("level"))
    method: str | None = field(default=None, metadata=_read("power_method"))
    """satterthwaite, kenward-roger, lrt or wald; by default satterthwaite
    for an lmer and lrt for a GLMM."""
    level: float = field(default=0.95, metadata=_read("level"))
    workers: int = field(default=1, metadata=_COUNT)
    power_curve: PowerCurveSpec | None = field(default=None, metadata=_read("power_curve"))

    @property
    def effects(self) -> dict[str, float]:
        """``effect`` as coefficient -> value (a number sets the coefficient named ``test``)."""
        if self.effect is None:
            return {}
        if isinstance(self.effect, Mapping):
            return dict(self.effect)
        return {self.test: float(self.effect)}


@dataclass(frozen=True)
class EmmContrastSpec:
    """One entry of ``emmeans.contrasts``: emmeans' ``contrast(grid, method, adjust =)``."""

    method: str = field(metadata=_read("choice", choices=CONTRAST_METHODS))
    adjust: str | None = field(default=None, metadata=_read("optional_choice", choices=EMM_ADJUSTS))
    """None: the method's own default (Tukey for pairwise, ...)."""


@dataclass(frozen=True)
class EmmeansSpec:
    """``emmeans:`` of a model: ``emmeans::emmeans(fit, specs, by, at, type, lmer.df, ...)``."""

    specs: tuple[str, ...] = field(metadata=_read("predictors"))
    """The predictors whose marginal means are estimated (one or a list)."""
    by: tuple[str, ...] | None = field(default=None, metadata=_read("predictors"))
    at: Mapping[str, tuple[float | str, ...]] | None = field(default=None, metadata=_read("at"))
    """Predictor -> the values (numbers) or levels (text) of the reference grid."""
    type: str | None = field(default=None, metadata=_read("optional_choice", choices=EMM_TYPES))
    lmer_df: str | None = field(
        default=None, metadata=_read("optional_choice", choices=LMER_DF_VALUES)
    )
    """An lmer's degrees of freedom; pylme4's default (kenward-roger) is written out."""
    level: float = field(default=0.95, metadata=_read("level"))
    weights: str | None = field(
        default=None, metadata=_read("optional_choice", choices=EMM_WEIGHTS)
    )
    contrasts: tuple[EmmContrastSpec, ...] = field(default=(), metadata=_read("emm_contrasts"))


@dataclass(frozen=True)
class WaldAnovaSpec:
    """``wald_anova:`` of a model: ``car::Anova(fit, type =, test.statistic =)``."""

    type: str = field(default="II", metadata=_read("wald_type"))
    """II or III (2 and 3 are read as these)."""
    test: str = field(default="Chisq", metadata=_read("choice", choices=WALD_TESTS))


@dataclass(frozen=True)
class IccSpec:
    """``icc:`` of a model: ``performance::icc(fit, by_group =)``."""

    by_group: bool = field(default=False, metadata=_read("boolean"))


@dataclass(frozen=True)
class TidySpec:
    """``tidy:`` of a model: ``broom.mixed::tidy(fit, effects, conf.int, conf.level, conf.method)``."""

    effects: tuple[str, ...] = field(
        default=("fixed", "ran_pars"), metadata=_read("choices", choices=TIDY_EFFECTS)
    )
    conf_int: bool = field(default=False, metadata=_read("boolean"))
    conf_level: float = field(default=0.95, metadata=_read("level"))
    conf_method: str = field(default="Wald", metadata=_read("choice", choices=("Wald", "profile")))
    """Wald or profile (bootstrap intervals: ``confint: {method: boot}``)."""


@dataclass(frozen=True)
class ModelSpec:
    """One entry of ``models:``."""

    name: str = field(metadata=_read("model_name"))
    formula: str | None = field(default=None, metadata=_read("formula"))
    """The model formula; with ``update``, the change R's ``update()`` makes
    (``. ~ . - Days``), or None to change only ``reml``."""
    reml: bool = field(default=True, metadata=_read("boolean"))
    ddf: str | None = field(default=None, metadata=_read("ddf"))
    boot: BootSpec | None = field(default=None, metadata=_read("boot"))
    all_fit: bool = field(default=False, metadata=_read("boolean"))
    confint: ConfintSpec | None = field(default=None, metadata=_read("confint"))
    update: str | None = field(default=None, metadata={**_read("model_ref"), **_LATER})
    """The model (above this one) this one is a variant of: R's
    ``update(<update>, <formula>, REML = <reml>)``; ``reml`` defaults to the
    base model's."""
    drop1: Drop1Spec | None = field(default=None, metadata={**_read("drop1"), **_LATER})
    step: StepSpec | None = field(default=None, metadata={**_read("step"), **_LATER})
    contest: Mapping[str, ContestSpec] | None = field(
        default=None, metadata={**_read("contests"), **_LATER}
    )
    ls_means: LsMeansSpec | None = field(default=None, metadata={**_read("ls_means"), **_LATER})
    difflsmeans: LsMeansSpec | None = field(default=None, metadata={**_read("ls_means"), **_LATER})
    family: str | None = field(default=None, metadata={**_read("family"), **_LATER})
    """A GLMM: ``glmer(..., family = <family>)`` (R code: ``binomial``,
    ``binomial(link = "probit")``; checked by :mod:`.trust`), or
    :data:`NEGATIVE_BINOMIAL` for ``glmer.nb()``, which estimates theta."""
    nAGQ: int = field(default=1, metadata={**_read("nagq"), **_LATER})  # R's own spelling
    control: Mapping[str, Any] | None = field(default=None, metadata={**_read("control"), **_LATER})
    """lmerControl() (glmerControl() with ``family``) settings: name -> a
    number, logical, text, a list of them, or a mapping of them (``optCtrl``)."""
    weights: str | None = field(default=None, metadata={**_read("column"), **_LATER})
    offset: str | None = field(default=None, metadata={**_read("column"), **_LATER})
    power: PowerSpec | None = field(default=None, metadata={**_read("power"), **_LATER})
    emmeans: EmmeansSpec | None = field(default=None, metadata={**_read("emmeans"), **_LATER})
    wald_anova: WaldAnovaSpec | None = field(
        default=None, metadata={**_read("wald_anova"), **_LATER}
    )
    r2: bool = field(default=False, metadata={**_read("boolean"), **_LATER})
    """Nakagawa's R² (``performance::r2_nakagawa(fit)``)."""
    icc: IccSpec | None = field(default=None, metadata={**_read("icc"), **_LATER})
    tidy: TidySpec | None = field(default=None, metadata={**_read("tidy"), **_LATER})

    @property
    def emmeans_contrasts(self) -> tuple[EmmContrastSpec, ...] | None:
        """``emmeans.contrasts`` (its output is asked for by it), or None."""
        return (
            None if self.emmeans is None or not self.emmeans.contrasts else self.emmeans.contrasts
        )

    @property
    def lmer_df(self) -> str | None:
        """emmeans' ``lmer.df`` for this model: as given, kenward-roger for an lmer, None
        for a GLMM."""
        if self.is_glmm:
            return None
        given = None if self.emmeans is None else self.emmeans.lmer_df
        return given or "kenward-roger"

    @property
    def power_curve(self) -> PowerCurveSpec | None:
        """``power.power_curve`` (its output is asked for by it)."""
        return None if self.power is None else self.power.power_curve

    @property
    def power_method(self) -> str:
        """The test of ``power:``: as given, or pylme4.power()'s default for the model."""
        method = None if self.power is None else self.power.method
        return method or ("lrt" if self.is_glmm else "satterthwaite")

    @property
    def is_glmm(self) -> bool:
        """Whether the model is fitted with glmer() or glmer.nb() (it has a family)."""
        return self.family is not None

    @property
    def fun(self) -> str:
        """The lme4 function that fits the model: lmer, glmer or glmer.nb."""
        if self.family is None:
            return "lmer"
        return "glmer.nb" if self.family == NEGATIVE_BINOMIAL else "glmer"


#: ``family:`` of a negative binomial model with theta estimated (lme4's ``glmer.nb()``).
NEGATIVE_BINOMIAL = "negative_binomial"
#: Keys of a model that lmerTest computes, for linear mixed models only.
LMERTEST_KEYS = ("ddf", "drop1", "step", "contest", "ls_means", "difflsmeans")
#: Keys of the model call that a variant (``update:``) takes from its base model.
CALL_KEYS = ("family", "nAGQ", "control", "weights", "offset")


@dataclass(frozen=True)
class CompareSpec:
    """One entry of ``compare:``: ``anova(<models>, refit = refit)`` between named models."""

    name: str = field(metadata=_read("model_name"))
    models: tuple[str, ...] = field(metadata=_read("model_refs"))
    refit: bool = field(default=True, metadata=_read("boolean"))


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
    compare: tuple[CompareSpec, ...] = field(default=(), metadata=_read("compare"))
    """Likelihood-ratio tests between named models (``compare:``)."""

    def model(self, name: str) -> ModelSpec:
        """The model called ``name`` (the spec has checked that it exists)."""
        return next(m for m in self.models if m.name == name)

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
            if model.power is not None:
                out[f"{model.name}.power"] = model.power.seed
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
        out = {"data": data, "models": [_as_dict(m) for m in self.models]}
        if self.compare:
            out["compare"] = [_as_dict(c) for c in self.compare]
        return out


def _as_dict(value: Any) -> Any:
    """A spec's dataclass as JSON-ready data; keys marked ``_LATER`` only when given."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.metadata.get("omit_default") and item == f.default:
                continue
            out[f.name] = _as_dict(item)
        return out
    if isinstance(value, Mapping):
        return {str(k): _as_dict(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_as_dict(v) for v in value]
    return value


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
        reader._all_names = _model_names(root)
        top = reader.mapping(root, "", yaml_keys(Spec), "the spec")
        data = reader.data(top["data"][1])
        models = reader.models(top["models"][1])
        compare = reader.compare(top["compare"][1], models) if "compare" in top else ()
    finally:
        loader.dispose()
    return Spec(
        data=data,
        models=models,
        text=text,
        source=source,
        base_dir=Path(base_dir).resolve(),
        lines=MappingProxyType(dict(reader.lines)),
        compare=compare,
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
        self._all_names: list[str] = []

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

    def read_family(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        # What R may make of it is checked by trust.check_spec (an allow-list).
        return " ".join(self.string(node, key).split())

    def read_nagq(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> int:
        return self.integer(node, key, 0, 100)

    def read_column(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        """A column's name (checked against the data with the formulas)."""
        name = self.string(node, key)
        if "`" in name or "\\" in name or any(ord(ch) < 32 for ch in name):
            # The script writes it as an R symbol in backticks.
            self.fail(
                node,
                key,
                f"{name!r}: a column name with '`', '\\' or a control "
                "character cannot be used here",
            )
        return name

    def read_control(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> Mapping[str, Any]:
        example = "{optimizer: bobyqa, optCtrl: {maxfun: 100000}}"
        if not isinstance(node, yaml.MappingNode) or not node.value:
            self.fail(
                node,
                key,
                f"must be a mapping of control settings such as {example}, not {_kind(node)}",
            )
        return self.settings(node, key, depth=0)

    def settings(self, node: yaml.MappingNode, key: str, depth: int) -> Mapping[str, Any]:
        out: dict[str, Any] = {}
        for name_node, value_node in node.value:
            name = self.string(name_node, key)
            if not _is_r_name(name):
                self.fail(name_node, key, f"{name!r} is not the name of a setting")
            if name in out:
                self.fail(name_node, key, f"the setting {name!r} is given twice")
            sub = self.join(key, name)
            self.lines[sub] = name_node.start_mark.line + 1
            if isinstance(value_node, yaml.MappingNode) and depth == 0:
                out[name] = self.settings(value_node, sub, depth=1)
            elif isinstance(value_node, yaml.SequenceNode) and value_node.value:
                out[name] = tuple(self.setting(item, sub) for item in value_node.value)
            else:
                out[name] = self.setting(value_node, sub)
        return MappingProxyType(out)

    def setting(self, node: yaml.Node, key: str) -> bool | int | float | str:
        """One control value: a logical, a number or text (never code)."""
        value = self.scalar(node, key, "must be a number, true/false or text")
        if isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.fail(node, key, f"must be a finite number, not {_kind(node)}")
            return value
        if value is None:
            self.fail(node, key, "must be a number, true/false or text, not empty")
        text = self.string(node, key)
        # YAML 1.1 reads 1e5 as text; in a control setting it can only mean a number.
        if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", text):
            return float(text)
        return text

    def read_text(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        """A name R receives as a string (a term, a grouping factor), never as code."""
        return self.string(node, key)

    def read_sizes(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> tuple[int, ...]:
        items = node.value if isinstance(node, yaml.SequenceNode) else None
        if not items:
            self.fail(
                node,
                key,
                f"must be a list of numbers of levels, e.g. [10, 20, 40], not {_kind(node)}",
            )
        return tuple(self.integer(item, key, 2) for item in items)

    def read_effect(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> float | Mapping[str, float]:
        example = "a number, or coefficients and values such as {Days: 3}"
        if isinstance(node, yaml.MappingNode) and node.value:
            out: dict[str, float] = {}
            for name_node, value_node in node.value:
                name = self.string(name_node, key)
                if name in out:
                    self.fail(name_node, key, f"the coefficient {name!r} is given twice")
                out[name] = self.weights(
                    yaml.SequenceNode("tag:yaml.org,2002:seq", [value_node]),
                    f"{key}.{name}",
                    example,
                )[0]
            return MappingProxyType(out)
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, key, f"must be {example}")
            if not isinstance(value, bool) and isinstance(value, (int, float)):
                if value != value or value in (float("inf"), float("-inf")):
                    self.fail(node, key, f"must be a finite number, not {_kind(node)}")
                return float(value)
        self.fail(node, key, f"must be {example}, not {_kind(node)}")

    def read_optional_choice(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> str | None:
        if node.tag.endswith(":null"):
            return None
        return self.choice(node, key, meta["choices"])

    def read_predictors(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> tuple[str, ...]:
        """Predictor names (one or a list): R receives them as text, never as code."""
        names = self.read_terms(node, key, meta)
        for name in names:
            if not _PREDICTOR.fullmatch(name):
                self.fail(
                    node,
                    key,
                    f"{name!r} is not a predictor's name (letters, digits, '.' and '_'); "
                    "write means of several predictors as a list, e.g. [recipe, temperature]",
                )
        return names

    def read_at(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> Mapping[str, tuple[float | str, ...]]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            self.fail(
                node,
                key,
                f"must map predictors to values, e.g. {{temp: [175, 185]}}, not {_kind(node)}",
            )
        out: dict[str, tuple[float | str, ...]] = {}
        for name_node, value_node in node.value:
            name = self.string(name_node, key)
            sub = self.join(key, name)
            self.lines[sub] = name_node.start_mark.line + 1
            items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            if not items:
                self.fail(value_node, sub, "must give at least one value")
            values = [self.scalar(item, sub, "must be numbers or levels") for item in items]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                out[name] = tuple(float(v) for v in values)
            elif all(isinstance(v, str) for v in values):
                out[name] = tuple(self.string(item, sub) for item in items)
            else:
                self.fail(value_node, sub, "must be numbers, or levels written as text")
        return MappingProxyType(out)

    def read_emm_contrasts(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> tuple[EmmContrastSpec, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(
                node,
                key,
                f"must be a list such as [{{method: pairwise, adjust: holm}}], not {_kind(node)}",
            )
        out = []
        for i, item in enumerate(node.value):
            sub = f"{key}[{i}]"
            if isinstance(item, yaml.ScalarNode):
                out.append(EmmContrastSpec(method=self.choice(item, sub, CONTRAST_METHODS)))
                continue
            entries = self.mapping(item, sub, yaml_keys(EmmContrastSpec), "a contrast")
            out.append(EmmContrastSpec(**self.fields(EmmContrastSpec, entries, sub)))
        return tuple(out)

    def read_emmeans(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> EmmeansSpec:
        if not isinstance(node, yaml.MappingNode):
            self.fail(
                node,
                key,
                "must be a mapping such as {specs: recipe, contrasts: "
                f"[pairwise]}}, not {_kind(node)}",
            )
        entries = self.mapping(node, key, yaml_keys(EmmeansSpec), "emmeans")
        return EmmeansSpec(**self.fields(EmmeansSpec, entries, key))

    def read_wald_type(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        value = self.scalar(node, key, "must be 2, 3, II or III")
        if isinstance(value, bool) or value not in WALD_TYPES:
            self.fail(node, key, f"must be 2, 3, II or III, not {_kind(node)}")
        return WALD_TYPES[value]

    def read_wald_anova(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> WaldAnovaSpec | None:
        return self.optional(node, key, WaldAnovaSpec, "wald_anova", "{type: 3, test: F}")  # type: ignore[no-any-return]

    def read_choices(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> tuple[str, ...]:
        """One choice or a list of them (each once)."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.fail(node, key, f"must name at least one of {', '.join(meta['choices'])}")
        out = []
        for item in items:
            value = self.choice(item, key, meta["choices"])
            if value in out:
                self.fail(item, key, f"{value!r} is listed twice")
            out.append(value)
        return tuple(out)

    def read_icc(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> IccSpec | None:
        return self.optional(node, key, IccSpec, "icc", "{by_group: true}")  # type: ignore[no-any-return]

    def read_tidy(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> TidySpec | None:
        return self.optional(node, key, TidySpec, "tidy", "{conf_int: true}")  # type: ignore[no-any-return]

    def read_power_method(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str | None:
        if node.tag.endswith(":null"):
            return None
        return self.choice(node, key, POWER_METHODS)

    def read_power_curve(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> PowerCurveSpec:
        entries = self.mapping(node, key, yaml_keys(PowerCurveSpec), "power_curve")
        return PowerCurveSpec(**self.fields(PowerCurveSpec, entries, key))

    def read_power(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> PowerSpec:
        if not isinstance(node, yaml.MappingNode):
            self.fail(
                node,
                key,
                "must be a mapping such as {test: Days, effect: 3, nsim: 100, "
                f"seed: 1}} (a seed is required), not {_kind(node)}",
            )
        entries = self.mapping(node, key, yaml_keys(PowerSpec), "power")
        return PowerSpec(**self.fields(PowerSpec, entries, key))

    def read_alpha(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> float:
        value = self.scalar(node, key, "must be a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            self.fail(node, key, f"must be a number from 0 to 1, e.g. 0.05, not {_kind(node)}")
        return float(value)

    def read_model_ref(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> str:
        # Whether the model exists is checked once every model is read.
        name = self.string(node, key)
        if not _MODEL_NAME.fullmatch(name):
            self.fail(node, key, f"{name!r} is not a model name (letters, digits, '_' and '-')")
        return name

    def read_model_refs(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode) or len(node.value) < 2:
            self.fail(node, key, f"must list two or more models, e.g. [m0, m1], not {_kind(node)}")
        names = [self.read_model_ref(item, key, meta) for item in node.value]
        for i, name in enumerate(names):
            if name in names[:i]:
                self.fail(node.value[i], key, f"model {name!r} is listed twice")
        return tuple(names)

    def read_terms(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> tuple[str, ...]:
        """Term names: one, or a list of them (they reach R as text, never as code)."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.fail(node, key, "must name at least one term, e.g. [Product]")
        return tuple(self.string(item, key) for item in items)

    def read_contrast(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> tuple[float, ...] | tuple[tuple[float, ...], ...]:
        example = "a list of weights, one per coefficient ([0, 1]), or a list of such rows"
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(node, key, f"must be {example}, not {_kind(node)}")
        if all(isinstance(item, yaml.SequenceNode) for item in node.value):
            rows = tuple(self.weights(item, key, example) for item in node.value)
            if len({len(row) for row in rows}) != 1:
                self.fail(node, key, "the rows of the contrast matrix must have the same length")
            return rows
        return self.weights(node, key, example)

    def weights(self, node: yaml.Node, key: str, example: str) -> tuple[float, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(node, key, f"must be {example}, not {_kind(node)}")
        out = []
        for item in node.value:
            value = self.scalar(item, key, f"must be {example}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(item, key, f"weights must be numbers, not {_kind(item)}")
            if value != value or value in (float("inf"), float("-inf")):
                self.fail(item, key, f"weights must be finite numbers, not {_kind(item)}")
            out.append(float(value))
        return tuple(out)

    def optional(self, node: yaml.Node, key: str, cls: type, what: str, example: str) -> Any:
        """``true`` (the defaults), ``false`` (none) or a mapping of ``cls``'s keys."""
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, key, f"must be true, false or a mapping such as {example}")
            if not isinstance(value, bool):
                self.fail(
                    node,
                    key,
                    f"must be true, false or a mapping such as {example}, not {_kind(node)}",
                )
            return cls() if value else None
        entries = self.mapping(node, key, yaml_keys(cls), what)
        return cls(**self.fields(cls, entries, key))

    def read_drop1(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> Drop1Spec | None:
        return self.optional(node, key, Drop1Spec, "drop1", "{ddf: Kenward-Roger}")  # type: ignore[no-any-return]

    def read_step(self, node: yaml.Node, key: str, meta: Mapping[str, Any]) -> StepSpec | None:
        return self.optional(node, key, StepSpec, "step", "{alpha_fixed: 0.1}")  # type: ignore[no-any-return]

    def read_ls_means(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> LsMeansSpec | None:
        return self.optional(node, key, LsMeansSpec, "ls_means", "{which: [Product]}")  # type: ignore[no-any-return]

    def read_contests(
        self, node: yaml.Node, key: str, meta: Mapping[str, Any]
    ) -> Mapping[str, ContestSpec]:
        if not isinstance(node, yaml.MappingNode) or not node.value:
            self.fail(
                node,
                key,
                "must map names to contrasts, e.g. {days: {L: [0, 1]}}, not " + _kind(node),
            )
        out: dict[str, ContestSpec] = {}
        for name_node, value_node in node.value:
            name = self.string(name_node, key)
            if not _MODEL_NAME.fullmatch(name):
                self.fail(
                    name_node,
                    key,
                    f"the contrast name {name!r} must be letters, digits, '_' and '-'",
                )
            if name in out:
                self.fail(name_node, key, f"the contrast {name!r} is given twice")
            sub = self.join(key, name)
            self.lines[sub] = name_node.start_mark.line + 1
            entries = self.mapping(value_node, sub, yaml_keys(ContestSpec), "a contrast")
            out[name] = ContestSpec(**self.fields(ContestSpec, entries, sub))
        return MappingProxyType(out)

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
            model = self.model(item, f"models[{i}]", models)
            if model.name in seen:
                self.fail(
                    item,
                    f"models[{i}].name",
                    f"the name {model.name!r} is already used by models[{seen[model.name]}]",
                )
            seen[model.name] = i
            models.append(model)
        return tuple(models)

    def model(self, node: yaml.Node, key: str, above: list[ModelSpec]) -> ModelSpec:
        entries = self.mapping(node, key, yaml_keys(ModelSpec), "a model")
        values = self.fields(ModelSpec, entries, key)
        base = values.get("update")
        if base is not None:
            for name in CALL_KEYS:
                if name in entries:
                    self.fail(
                        entries[name][0],
                        f"{key}.{name}",
                        f"a variant takes {name!r} from its base model {base!r} "
                        "(as R's update() does); give it there",
                    )
        elif "family" in entries:
            self.glmm_keys(entries, key, values)
        elif "nAGQ" in entries:
            self.fail(entries["nAGQ"][0], f"{key}.nAGQ", "is only used with 'family' (a glmer)")
        if base is None:
            if "formula" not in entries:
                self.fail(
                    node,
                    key,
                    "'formula' is missing; a model requires it "
                    "(or 'update: <a model above>' to make a variant of that model)",
                )
            return self.checked(ModelSpec(**values), entries, key)
        names = [m.name for m in above]
        if base not in names:
            where = entries["update"][1]
            if base == values["name"]:
                self.fail(
                    where, f"{key}.update", f"a model cannot be a variant of itself ({base!r})"
                )
            later = " (a variant must come after its base model)" if base in self._all_names else ""
            known = f"; the models above: {', '.join(names)}" if names else "; no model is above it"
            self.fail(
                where,
                f"{key}.update",
                f"no model {base!r} above this one{suggestion(base, names)}{later}{known}",
            )
        parent = next(m for m in above if m.name == base)
        if parent.is_glmm:
            values.update({name: getattr(parent, name) for name in CALL_KEYS})
            self.glmm_keys(entries, key, values)
        elif "reml" not in entries:
            # R's update() keeps the base model's REML unless told otherwise.
            values["reml"] = parent.reml
        if parent.weights is not None or parent.offset is not None or parent.control:
            values.update({name: getattr(parent, name) for name in CALL_KEYS})
        return self.checked(ModelSpec(**values), entries, key)

    def checked(
        self, model: ModelSpec, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str
    ) -> ModelSpec:
        """Checks across keys: a power test, emmeans' df and a Wald test the model's kind has."""
        if model.is_glmm and model.emmeans is not None and model.emmeans.lmer_df is not None:
            self.fail(
                entries["emmeans"][1],
                f"{key}.emmeans.lmer_df",
                f"is for lmer models; a GLMM's ({model.fun}()) means have asymptotic (z) intervals",
            )
        if (
            model.tidy is not None
            and model.tidy.conf_int
            and model.tidy.conf_method != "Wald"
            and "ran_vals" in model.tidy.effects
        ):
            self.fail(
                entries["tidy"][1],
                f"{key}.tidy.conf_method",
                "profile intervals have no rows for the conditional modes (ran_vals): "
                "broom.mixed gives them Wald intervals only",
            )
        if model.is_glmm and model.wald_anova is not None and model.wald_anova.test == "F":
            self.fail(
                entries["wald_anova"][1],
                f"{key}.wald_anova.test",
                "F (Kenward-Roger F tests) is for lmer models; a GLMM takes Chisq",
            )
        method = model.power.method if model.power is not None else None
        if method is not None:
            glmm_only, lmer_only = ("wald",), ("satterthwaite", "kenward-roger")
            if (model.is_glmm and method in lmer_only) or (
                not model.is_glmm and method in glmm_only
            ):
                kind = f"a GLMM ({model.fun}())" if model.is_glmm else "an lmer model"
                fits = "lrt, wald" if model.is_glmm else "satterthwaite, kenward-roger, lrt"
                self.fail(
                    entries["power"][1],
                    f"{key}.power.method",
                    f"{method!r} is not a test of {kind}; it takes {fits}",
                )
        return model

    def glmm_keys(
        self, entries: Mapping[str, tuple[yaml.Node, yaml.Node]], key: str, values: dict[str, Any]
    ) -> None:
        """A glmer has no REML and no lmerTest tools: refuse the keys that ask for them."""
        fun = "glmer.nb()" if values["family"] == NEGATIVE_BINOMIAL else "glmer()"
        for name in ("reml", *LMERTEST_KEYS):
            if name in entries:
                what = (
                    "a GLMM is fitted by maximum likelihood (no REML)"
                    if name == "reml"
                    else "is lmerTest's, for linear mixed models (lmer) only; a GLMM's "
                    "summary has Wald z tests"
                )
                self.fail(
                    entries[name][0],
                    f"{key}.{name}",
                    f"{what} (this model is fitted with {fun}, as its 'family' says)",
                )
        values["reml"] = False

    def compare(self, node: yaml.Node, models: tuple[ModelSpec, ...]) -> tuple[CompareSpec, ...]:
        self.lines.setdefault("compare", node.start_mark.line + 1)
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(
                node,
                "compare",
                "must be a non-empty list ('- name: ...\n  models: [m0, m1]'), not " + _kind(node),
            )
        names = [m.name for m in models]
        out: list[CompareSpec] = []
        for i, item in enumerate(node.value):
            key = f"compare[{i}]"
            entries = self.mapping(item, key, yaml_keys(CompareSpec), "a comparison")
            spec = CompareSpec(**self.fields(CompareSpec, entries, key))
            # Its outputs go to a folder of its name, beside the models' folders.
            taken = names + [c.name for c in out]
            if spec.name in taken:
                self.fail(
                    entries["name"][1],
                    f"{key}.name",
                    f"the name {spec.name!r} is already used by a "
                    + ("model" if spec.name in names else "comparison")
                    + " (each gets a folder of its name)",
                )
            for j, name in enumerate(spec.models):
                if name not in names:
                    self.fail(
                        entries["models"][1].value[j],
                        f"{key}.models",
                        f"no model {name!r}{suggestion(name, names)}; "
                        f"the models: {', '.join(names)}",
                    )
            out.append(spec)
        return tuple(out)

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


def _model_names(root: yaml.Node) -> list[str]:
    """Every model name written in the spec (to say that a base model comes later)."""
    if not isinstance(root, yaml.MappingNode):
        return []
    out = []
    for key, value in root.value:
        if getattr(key, "value", None) == "models" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.MappingNode):
                    out += [
                        str(v.value)
                        for k, v in item.value
                        if getattr(k, "value", None) == "name" and isinstance(v, yaml.ScalarNode)
                    ]
    return out


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
