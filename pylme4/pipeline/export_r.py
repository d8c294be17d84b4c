"""A spec as a standalone R script: the same analysis, in R alone.

The script reads the data as pylme4 does (``read.csv`` with the spec's
missing-value rules and factor levels, or the bundled data set), fits each
model with ``lmer()`` (``lmerTest::lmer()`` when the spec asks for ``ddf``,
``glmer()`` or ``glmer.nb()`` for a ``family``;
a model with ``update:`` as ``update(<base fit>, <formula>)``), and writes the same files as ``pylme4 run`` (those of
:data:`pylme4.pipeline.outputs.OUTPUTS` the spec asks for), in pylme4's
own formats (:func:`pylme4.pipeline.run.csv_text`), so that the
files are byte for byte those of ``pylme4 run``.
``pylme4 verify --with-r`` runs it with Rscript and compares R's own numbers
with the stored ones.

The script is ``pylme4/_r/R/script.R`` (the R helpers it shares with
pylme4's embedded R, which sources the same file), copied verbatim, followed
by the analysis generated from the spec: the data, then per model its fit
and one call of an R writer per output (:mod:`pylme4.pipeline.outputs`),
then one ``pylme4_write_compare()`` per ``compare:`` entry, whose arguments are R literals of the spec's values (:func:`r_literal`).

Usage of the script::

    Rscript analysis.R [OUTDIR]        # default OUTDIR: results-r beside the script

Every path in the script is relative to the script's own folder (found at
run time from Rscript's ``--file=``): the data file, and the default results
folder.  So the folder with the script and the data can be copied or mounted
anywhere and the script run from any working directory.  An OUTDIR given on
the command line is relative to the current folder, as any argument is.  The
script writes its files byte for byte as ``pylme4 run`` writes them (the
formats of :func:`pylme4.pipeline.run.csv_text`), and ``spec.yaml`` too;
results.json and ``.pylme4-manifest`` are pylme4's own.
"""

from __future__ import annotations

import math
import os
import textwrap
import unicodedata
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from . import outputs
from .data import NA_STRINGS
from .spec import Level, ModelSpec, Spec, _is_r_name
from .trust import check_spec

#: The R helpers the script shares with pylme4's embedded R, copied in verbatim.
SCRIPT_R = "script.R"


def script_helpers() -> str:
    """The text of ``pylme4/_r/R/script.R``: the functions every exported script holds.

    pylme4's embedded R sources the same file, so the script and pylme4 run
    the same R code for what they share; the script still needs nothing but R.
    """
    return resources.files("pylme4._r").joinpath("R", SCRIPT_R).read_text(encoding="utf-8")


def r_string(text: str) -> str:
    """An R string literal for ``text``, by R's rules for escapes.

    Everything outside printable ASCII is escaped (``\\u{e9}``, and
    ``\\U{1f600}`` beyond the Basic Multilingual Plane, where R's ``\\u``
    stops), so that any locale parses the script to the same string.  NUL and
    lone surrogates have no R string: ValueError (the spec refuses them).
    """
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\x00" or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"R strings cannot hold the character {ch!r}")
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code > 0xFFFF:
            out.append(f"\\U{{{code:x}}}")
        elif code < 32 or code >= 127:
            # Never \\x: R refuses a string that mixes \\x and \\u escapes.
            out.append(f"\\u{{{code:04x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def r_literal(value: Any) -> str:
    """A spec's value (a choice, a count, a level...) as the R literal that means it.

    A tuple of numbers or strings is a vector (``c(...)``), a tuple of tuples
    a list of vectors, and a mapping a named list (names as strings).
    """
    if value is None:
        return "NULL"
    if isinstance(value, Mapping):
        items = ", ".join(f"{r_string(str(k))} = {r_literal(v)}" for k, v in value.items())
        return f"list({items})"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(r_literal(v) for v in value)
        nested = any(isinstance(v, (tuple, list, Mapping)) for v in value)
        return f"list({inner})" if nested else f"c({inner})"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        # Doubles, as typed in R: what pylme4 passes to R for the same value.
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} has no place in a script")
        return str(value) if isinstance(value, int) else repr(number)
    return r_string(value)


def _r_vector(items: list[str] | tuple[str, ...]) -> str:
    return "c(" + ", ".join(r_string(x) for x in items) + ")"


def _r_level(level: Level) -> str:
    """A spec's level as an R literal of its type (what pipeline.data.r_level passes to R)."""
    if isinstance(level, bool):
        return "TRUE" if level else "FALSE"
    if isinstance(level, int) and -(2**31) < level < 2**31:
        return f"{level}L"
    if isinstance(level, (int, float)):
        value = float(level)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return repr(value)
    return r_string(level)


def _r_levels(levels: tuple[Level, ...]) -> str:
    """Text levels as a character vector; levels of other types as a list, one literal each."""
    if all(isinstance(level, str) for level in levels):
        return _r_vector([str(level) for level in levels])
    return "list(" + ", ".join(_r_level(level) for level in levels) + ")"


def r_name(name: str) -> str:
    """A name the script binds or reads (the data's), written as R code.

    Only syntactic names get here (the spec checks them); anything else is a
    bug, refused rather than pasted into code.
    """
    if not _is_r_name(name):
        raise ValueError(f"{name!r} is not a syntactic R name")
    return name


def _comment(text: str) -> str:
    """Text for an R comment: control characters (a newline would end it) as '?'."""
    return "".join("?" if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def _r_path(spec: Spec, path: str) -> str:
    """A path as an R string; a path R cannot hold (undecodable bytes) is a spec error."""
    try:
        return r_string(path)
    except ValueError:
        raise spec.error(
            "data.csv", f"the path {path!r} is not text R can hold (rename the folder or file)"
        ) from None


def _relative(path: Path, folder: Path) -> str | None:
    """``path`` relative to ``folder`` in '/' form, or None where there is none (another drive)."""
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:
        return None


def _data_lines(spec: Spec, script_dir: Path) -> list[str]:
    name = r_name(spec.data.name)
    lines = ["# ---- data " + "-" * 66]
    if spec.csv_path is not None:
        # A path the spec writes absolute (allowed under --trust) names a place
        # on this machine, and stays so; the spec's relative paths stay relative.
        absolute = Path(str(spec.data.csv)).is_absolute()
        relative = None if absolute else _relative(Path(spec.csv_path).resolve(), script_dir)
        if relative is not None:
            lines += [
                "# The data file, relative to this script's folder.",
                "script_dir <- pylme4_script_dir()",
                f"data_file <- file.path(script_dir, {_r_path(spec, relative)})",
            ]
        else:
            lines.append(f"data_file <- {_r_path(spec, str(spec.csv_path))}")
        lines.append(
            f"{name} <- read.csv(data_file, na.strings = {_r_vector(NA_STRINGS)}, "
            'check.names = FALSE, encoding = "UTF-8")'
        )
    else:
        package = spec.data.package or "lme4"
        # getExportedValue() is what `pkg::name` calls, with both as strings.
        lines.append(
            f"{name} <- as.data.frame(getExportedValue({r_string(package)}, "
            f"{r_string(str(spec.data.dataset))}))"
        )
    if spec.data.factors:
        lines.append("# Factor levels from the spec; the first level is the reference.")
        for column, levels in spec.data.factors.items():
            ref = f"{name}[[{r_string(column)}]]"
            lines.append(
                f"{ref} <- pylme4_as_factor({ref}, {_r_levels(levels)}, {r_string(column)})"
            )
    return lines


def _fit_line(model: ModelSpec, spec: Spec) -> str:
    """``fit <- lmer(...)``, or for a variant ``fit <- update(fits[["base"]], change)``."""
    # A formula is code: trust.check_spec() has parsed it as exactly one R
    # expression without a comment, so as an argument it stays that expression.
    if model.update is not None:
        args = [f"fits[[{r_string(model.update)}]]"]
        if model.formula is not None:
            args.append(model.formula)
        if model.reml != spec.model(model.update).reml:
            args.append(f"REML = {r_literal(model.reml)}")
        return f"fit <- update({', '.join(args)})"
    fun = "lmerTest::lmer" if model.ddf is not None else model.fun
    args = [str(model.formula), f"data = {r_name(spec.data.name)}"]
    if model.fun == "glmer":
        # Code that trust.check_spec() has checked (a family of its list, or
        # one R expression without a comment under --trust).
        args.append(f"family = {model.family}")
    if model.fun == "lmer" and not model.reml:
        args.append("REML = FALSE")
    if model.is_glmm and model.nAGQ != 1:
        args.append(f"nAGQ = {model.nAGQ}")
    for name in ("weights", "offset"):
        column = getattr(model, name)
        if column is not None:
            args.append(f"{name} = {r_symbol(column)}")
    if model.control is not None:
        control = "glmerControl" if model.is_glmm else "lmerControl"
        args.append(f"control = {control}({_r_settings(model.control)})")
    return f"fit <- {fun}({', '.join(args)})"


def r_symbol(name: str) -> str:
    """A column's name as the R symbol R prints it as: bare when syntactic, else in backticks.

    The spec refuses names with a backtick, a backslash or a control
    character, which a backtick-quoted name would have to escape.
    """
    if _is_r_name(name):
        return name
    if "`" in name or "\\" in name or any(ord(ch) < 32 for ch in name):
        raise ValueError(f"{name!r} cannot be written as an R symbol here")
    return f"`{name}`"


def _r_setting(value: Any) -> str:
    """A control value as pylme4 passes it to R (numbers as doubles, as R prints them in
    the summary's ``Control:`` line)."""
    if isinstance(value, Mapping):
        return f"list({_r_settings(value)})"
    if isinstance(value, tuple):
        return "c(" + ", ".join(_r_setting(v) for v in value) + ")"
    return r_literal(value)


def _r_settings(settings: Mapping[str, Any]) -> str:
    # The names are syntactic R names (the spec checks them).
    return ", ".join(f"{r_name(name)} = {_r_setting(value)}" for name, value in settings.items())


def _referenced(spec: Spec) -> set[str]:
    """The models a later entry refers to (update: or compare:), kept in ``fits``."""
    names = {m.update for m in spec.models if m.update is not None}
    return names | {name for c in spec.compare for name in c.models}


def _model_lines(model: ModelSpec, spec: Spec) -> list[str]:
    """The model's fit, then one call of its R writer per output (:mod:`.outputs`)."""
    lines = [
        f"# ---- model {_comment(model.name)} " + "-" * max(3, 65 - len(model.name)),
        _fit_line(model, spec),
    ]
    for output in outputs.wanted(model):
        call = ["fit", r_string(model.name)]
        call += [
            f"{name} = {r_literal(value)}"
            for name, value in output.r_arguments(model).items()
            if value is not None
        ]
        lines.append(f"{output.r_writer}({', '.join(call)})")
    if model.name in _referenced(spec):
        lines.append(f"fits[[{r_string(model.name)}]] <- fit")
    return lines


def _compare_lines(spec: Spec) -> list[str]:
    """``anova()`` between named models, one writer call per ``compare:`` entry."""
    lines = []
    for compare in spec.compare:
        fits = ", ".join(f"{r_string(n)} = fits[[{r_string(n)}]]" for n in compare.models)
        lines += [
            f"# ---- compare {_comment(compare.name)} " + "-" * max(3, 63 - len(compare.name)),
            f"pylme4_write_compare(list({fits}), {r_string(compare.name)}, "
            f"refit = {r_literal(compare.refit)})",
            "",
        ]
    return lines


def export_r(spec: Spec, script_path: str | Path | None = None, *, trust: bool = False) -> str:
    """The text of a standalone R script that does the analysis of ``spec``.

    Parameters
    ----------
    spec
        A validated spec.
    script_path
        Where the script will be saved (default: in the current folder, where
        ``pylme4 export-r spec.yaml > analysis.R`` puts it).  The script
        finds the data file relative to its own folder when it runs, so the
        folder can be copied or mounted elsewhere as a whole; only a data file
        the spec names by an absolute path (``--trust``), or one on another
        drive (Windows), is written as an absolute path.
    trust
        Lift the allow-list of :mod:`pylme4.pipeline.trust` (``--trust``).

    Raises
    ------
    SpecError
        The spec calls a function off the allow-list, or reads data outside
        its folder (unless ``trust``); its formula is not one R expression.
    """
    check_spec(spec, trust=trust)
    path = None if script_path is None else Path(script_path)
    script_dir = (Path.cwd() if path is None else path.resolve().parent).resolve()
    needs = ["lme4"]
    # The packages the R writers of the outputs the spec asks for need, row by row.
    for output in outputs.OUTPUTS:
        for model in spec.models:
            if output.wanted(model):
                needs += [p for p in output.r_needs(model) if p not in needs]
    always = [n for o in outputs.OUTPUTS if o.key is None for n in o.file_names]
    asked = [n for o in outputs.OUTPUTS if o.key is not None for n in o.file_names]
    header = [
        f"# Written by pylme4 {__version__} from {_comment(Path(spec.source).name)}: "
        "the same analysis in R alone.",
        "#",
        "#   Rscript " + (path.name if path is not None else "analysis.R") + " [OUTDIR]",
        "#",
        "# OUTDIR defaults to results-r in this script's folder; the data file is found",
        "# relative to this script's folder too, so the folder can be copied or mounted",
        "# anywhere and run from any working directory.",
        "#",
        *textwrap.wrap(
            f"writes OUTDIR/<model>/{', '.join(always)} (and {', '.join(asked)} when the spec "
            "asks for them)"
            + (
                f" and OUTDIR/<comparison>/{', '.join(outputs.COMPARE_FILE_NAMES)}"
                if spec.compare
                else ""
            )
            + ", laid out as `pylme4 run` writes them, so that `pylme4 verify "
            "--with-r` can compare R's numbers with pylme4's.",
            width=76,
            initial_indent="# ",
            subsequent_indent="# ",
            break_on_hyphens=False,
        ),
        "# Needs R with the packages " + ", ".join(needs) + ".",
        "",
    ]
    analysis = [
        f"# ---- the analysis of {_comment(Path(spec.source).name)} " + "-" * 40,
        "out_dir <- pylme4_script_start()",
        "# The spec this script was written from, copied into OUTDIR as `pylme4 run` does.",
        "pylme4_write_spec(c(",
        *(f"  {r_string(line)}," for line in spec.text.splitlines(keepends=True)),
        "  NULL))",
    ]
    body = [
        *header,
        script_helpers().rstrip("\n"),
        "",
        *analysis,
        *_data_lines(spec, script_dir),
        "",
    ]
    if _referenced(spec):
        body += [
            "# The fits that update() and anova() below refer to, by model name.",
            "fits <- list()",
        ]
    for model in spec.models:
        body += _model_lines(model, spec)
        body.append("")
    body += _compare_lines(spec)
    return "\n".join(body)
