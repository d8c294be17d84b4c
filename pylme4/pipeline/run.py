"""Running a spec: fit every model and write its outputs and ``results.json``.

Layout of a results folder::

    DIR/spec.yaml              the spec, byte for byte
    DIR/results.json           every number, the normalised spec, provenance
{layout}

CSV files have numbers with 17 significant digits (they read back as the
same double), quoted text and ``NA`` for missing values (:func:`csv_text`);
every file is UTF-8 with ``\\n`` line ends.  The exported R script writes the
same bytes (``pylme4_csv_text`` in ``_r/R/script.R``).  The
results are built in a hidden folder and moved into place when complete, so
a failed run never leaves half a results folder behind; ``DIR/.pylme4-manifest``
lists the files pylme4 wrote, the only ones a later ``--force`` run replaces
(:mod:`pylme4.pipeline.outdir`).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PylmeError, RMessage, RNotAvailableError, RWarning, one_line
from . import data as pdata
from . import outdir, outputs, provenance, variants
from .outdir import FileAccessError, OutputDirError
from .outputs import Produced, all_fit_table, fit_stats, plain, ranef_long, table_json
from .spec import ModelSpec, Spec, SpecError
from .trust import check_spec

# The layout above lists each model's files from the registry of outputs.
__doc__ = (__doc__ or "").replace("{layout}", outputs.layout())

__all__ = [
    "FileAccessError",
    "ModelError",
    "OutputDirError",
    "RunResult",
    "all_fit_table",
    "fit_stats",
    "ranef_long",
    "read_results",
    "run",
    "table_json",
]

#: The format of results.json (bumped when its layout changes).
RESULTS_FORMAT = "pylme4-results/1"
RESULTS_JSON = "results.json"
SPEC_COPY = "spec.yaml"

Progress = Callable[[str], None]


class ModelError(PylmeError):
    """Fitting or summarising one model of a spec failed.

    The message names the spec's line and the model; :attr:`cause` is the
    pylme4 exception that stopped it.
    """

    def __init__(self, message: str, cause: PylmeError) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` wrote."""

    out_dir: Path
    results: dict[str, Any]
    """The content of ``results.json``."""

    @property
    def messages(self) -> tuple[tuple[str, str], ...]:
        """(model or comparison, text) for every warning or message R gave, as results.json
        lists them."""
        entries = {**self.results["models"], **self.results.get("compare", {})}
        return tuple(
            (name, message["text"])
            for name, entry in entries.items()
            for message in entry["messages"]
        )


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


# ---------------------------------------------------------------------------
# Tables and their files
# ---------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cell(value: Any) -> str:
    """One CSV cell (the format of ``pylme4_csv_cells`` in ``_r/R/script.R``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "NA"
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isnan(number):
            return "NA"
        if math.isinf(number):
            return "Inf" if number > 0 else "-Inf"
        # Python's formatting and C's printf are both correctly rounded: R's
        # sprintf("%.17g") gives the same text.
        return f"{number:.17g}"
    return _quote(str(value))


def csv_text(frame: pd.DataFrame) -> str:
    """A table as pylme4's CSV text, which the exported R script writes byte for byte.

    A header of the quoted column names; numbers with 17 significant digits
    (``%.17g``: they read back as the same doubles), text quoted with a quote
    inside doubled (R's ``write.csv``), logicals ``TRUE``/``FALSE``, ``NA``
    for missing values, ``\n`` after every line.  The R side is
    ``pylme4_csv_text`` in ``_r/R/script.R``.
    """
    lines = [",".join(_quote(str(c)) for c in frame.columns)]
    columns = [frame.iloc[:, j].astype(object).tolist() for j in range(frame.shape[1])]
    lines += [",".join(_cell(v) for v in row) for row in zip(*columns)]
    return "".join(line + "\n" for line in lines)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as a CSV file (:func:`csv_text`)."""
    write_text(csv_text(frame), path)


def write_text(text: str, path: Path) -> None:
    """Text as UTF-8 bytes, line ends as they are (``\n`` on every platform)."""
    path.write_bytes(text.encode("utf-8"))


# ---------------------------------------------------------------------------
# One model
# ---------------------------------------------------------------------------


def _fit_model(
    model: ModelSpec,
    base: Any,
    frame: pd.DataFrame,
    data_name: str,
    folder: Path,
    progress: Progress | None,
) -> tuple[Any, dict[str, Any]]:
    """Fit one model (``base``: the fit an ``update:`` names), write its outputs
    (:mod:`.outputs`) into ``folder``: the fit and its results.json entry."""
    fit, formula = variants.fit_model(model, frame, data_name, base)
    made = Produced()
    for output in outputs.wanted(model):
        part = output.produce(fit, model, progress)
        made.texts.update(part.texts)
        made.tables.update(part.tables)
        made.entry.update(part.entry)
    if model.update is not None:
        # What R fitted: update.formula() of the base model's and the change.
        made.entry["formula"] = formula
        made.entry["update"] = model.update
    return fit, _write(made, folder)


def _write(made: Produced, folder: Path) -> dict[str, Any]:
    """Write what a producer made into ``folder``; the results.json entry that lists it."""
    for name, text in made.texts.items():
        write_text(text + "\n", folder / name)
    for name, table in made.tables.items():
        write_csv(table, folder / f"{name}.csv")
    entry = made.entry
    # The order results.json has always listed them in: the first text, the
    # tables, the other texts (verify compares the list as it is).
    texts = list(made.texts)
    entry["files"] = [*texts[:1], *(f"{name}.csv" for name in made.tables), *texts[1:]]
    entry.update({name: table_json(table) for name, table in made.tables.items()})
    return entry


# ---------------------------------------------------------------------------
# The whole spec
# ---------------------------------------------------------------------------


def run(
    spec: Spec,
    out_dir: str | Path,
    *,
    progress: Progress | None = None,
    command: str | None = None,
    trust: bool = False,
    force: bool = False,
) -> RunResult:
    """Fit every model of ``spec`` and write the results folder ``out_dir``.

    Parameters
    ----------
    spec
        A validated spec (:func:`pylme4.pipeline.load_spec`).
    out_dir
        The results folder: created, or filled when empty; when it holds
        earlier results (its ``.pylme4-manifest`` lists them), ``force``
        replaces the files that manifest lists and nothing else.
    progress
        Called with one line of text as each step starts (the CLI prints
        these on stderr); nothing is printed otherwise.
    command
        The command line, recorded in the provenance.
    trust
        Lift the checks of :mod:`pylme4.pipeline.trust` (the CLI's
        ``--trust``); results.json records that they were lifted.
    force
        Replace earlier results in ``out_dir`` (the CLI's ``--force``).

    Raises
    ------
    SpecError
        A formula calls a function off the allow-list or the data file is
        outside the spec's folder (unless ``trust``); the data file is
        missing, or a factor or formula names an unknown column.
    DataError
        The data cannot be read or used.
    ModelError
        A model could not be fitted; the message names it and says why.
    OutputDirError
        ``out_dir`` holds files pylme4 did not write, or earlier results
        without ``force``.
    FileAccessError
        A file could not be read or written (the message names it and the
        cause); earlier results in ``out_dir`` are as they were.
    """
    check_spec(spec, trust=trust)
    out_dir = Path(out_dir).resolve()
    old = outdir.check_out_dir(out_dir, force=force)
    started = provenance.now()

    def fill(folder: Path) -> dict[str, Any]:
        with outdir.os_errors(folder):
            return _run_into(
                spec, folder, progress=progress, command=command, started=started, trust=trust
            )

    results = outdir.build(out_dir, old, fill)
    return RunResult(out_dir=out_dir, results=results)


def _run_into(
    spec: Spec,
    folder: Path,
    *,
    progress: Progress | None,
    command: str | None,
    started: str,
    trust: bool,
) -> dict[str, Any]:
    where = pdata.describe(spec)
    _say(progress, f"reading {where}")
    loaded = pdata.load_data(spec)
    # A missing R has already been reported as such (RNotAvailableError) by
    # check_spec(), which asks R to parse the formulas before anything else.
    formulas = variants.formulas(spec)
    _say(progress, f"checking the formulas against {len(loaded.frame.columns)} columns")
    pdata.check_formulas(spec, loaded.frame, where, formulas)
    write_text(spec.text, folder / SPEC_COPY)

    models: dict[str, Any] = {}
    fits: dict[str, Any] = {}
    for i, model in enumerate(spec.models):
        key = f"models[{i}]"
        formula = formulas[model.name]
        _say(progress, f"[{i + 1}/{len(spec.models)}] fitting {model.name}: {formula}")
        t0 = time.perf_counter()
        model_dir = folder / model.name
        model_dir.mkdir()
        with _r_messages() as messages, _as_model_error(spec, key, model.name):
            base = None if model.update is None else fits[model.update]
            fits[model.name], entry = _fit_model(
                model, base, loaded.frame, spec.data.name, model_dir, progress
            )
        entry["messages"] = messages
        models[model.name] = entry
        _say(
            progress,
            f"[{i + 1}/{len(spec.models)}] {model.name} done ({time.perf_counter() - t0:.1f} s)",
        )

    compared: dict[str, Any] = {}
    for i, compare in enumerate(spec.compare):
        key = f"compare[{i}]"
        _say(progress, f"comparing {', '.join(compare.models)} ({compare.name}): anova()")
        (folder / compare.name).mkdir()
        with _r_messages() as messages, _as_model_error(spec, key, compare.name):
            entry = _write(outputs.produce_compare(fits, compare), folder / compare.name)
        entry["messages"] = messages
        compared[compare.name] = entry

    results = {
        "format": RESULTS_FORMAT,
        "spec": spec.to_dict(levels=loaded.levels),
        "models": plain(models),
        **({"compare": plain(compared)} if spec.compare else {}),
        "provenance": plain(
            provenance.collect(spec, loaded.source, started=started, command=command, trust=trust)
        ),
    }
    text = json.dumps(results, indent=1, ensure_ascii=False, allow_nan=False)
    (folder / RESULTS_JSON).write_text(text + "\n", encoding="utf-8")
    return results


@contextlib.contextmanager
def _r_messages() -> Iterator[list[dict[str, str]]]:
    """Record R's warnings and messages (once each) in the list it gives; others pass on."""
    messages: list[dict[str, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    for w in caught:
        if issubclass(w.category, (RWarning, RMessage)):
            kind = "message" if issubclass(w.category, RMessage) else "warning"
            text = str(w.message)
            if {"kind": kind, "text": text} not in messages:
                messages.append({"kind": kind, "text": text})
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


@contextlib.contextmanager
def _as_model_error(spec: Spec, key: str, name: str) -> Iterator[None]:
    """A pylme4 error while fitting or testing becomes a ModelError naming the spec's line."""
    try:
        yield
    except (SpecError, RNotAvailableError):
        raise
    except PylmeError as exc:
        raise ModelError(spec.locate(key, one_line(exc), label=f"{key} ({name})"), exc) from None


def read_results(out_dir: str | Path) -> dict[str, Any]:
    """The ``results.json`` of a results folder.

    Raises
    ------
    OutputDirError
        The folder or its results.json is missing or not pylme4's.
    """
    path = Path(out_dir) / RESULTS_JSON
    if not Path(out_dir).is_dir():
        raise OutputDirError(f"{out_dir}: no such results folder")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputDirError(
            f"{out_dir} holds no {RESULTS_JSON}: is it a pylme4 results folder?"
        ) from None
    except (OSError, ValueError) as exc:
        raise OutputDirError(f"{path}: cannot read it ({one_line(exc)})") from None
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise OutputDirError(f"{path} is not a {RESULTS_FORMAT} file")
    problem = _layout_problem(results)
    if problem is not None:
        raise OutputDirError(f"{path}: {problem}; is it a results.json written by pylme4?")
    return results


def _layout_problem(results: dict[str, Any]) -> str | None:
    """What in results.json does not have the layout run() writes (what verify relies on)."""

    def kind(value: Any) -> str:
        return "null" if value is None else type(value).__name__

    for key in ("spec", "models", "provenance"):
        if not isinstance(results.get(key), dict):
            return f"'{key}' must be a mapping, not {kind(results.get(key))}"
    for name, entry in results["models"].items():
        if not outdir._MODEL_NAME.fullmatch(name):
            return f"models: {name!r} is not a model name pylme4 writes"
        if not isinstance(entry, dict):
            return f"models.{name} must be a mapping, not {kind(entry)}"
        files = entry.get("files")
        if not isinstance(files, list) or not all(
            isinstance(f, str) and f in outputs.MODEL_FILES for f in files
        ):
            return f"models.{name}.files must list files pylme4 writes"
    compare = results.get("compare", {})
    if not isinstance(compare, dict):
        return f"'compare' must be a mapping, not {kind(compare)}"
    for name, entry in compare.items():
        if not outdir._MODEL_NAME.fullmatch(name) or not isinstance(entry, dict):
            return f"compare: {name!r} is not a comparison pylme4 writes"
        files = entry.get("files")
        if not isinstance(files, list) or not all(
            isinstance(f, str) and f in outputs.COMPARE_FILE_NAMES for f in files
        ):
            return f"compare.{name}.files must list files pylme4 writes"
    prov = results["provenance"]
    for key in ("spec", "data"):
        if not isinstance(prov.get(key), dict):
            return f"provenance.{key} must be a mapping, not {kind(prov.get(key))}"
    if not isinstance(prov["spec"].get("text"), str):
        return f"provenance.spec.text must be text, not {kind(prov['spec'].get('text'))}"
    return None
