"""Verifying a results folder: re-run its spec and compare every output.

Text files (summary.txt, spec.yaml) must be identical byte for byte.  Numbers
(CSV cells, values in results.json) must agree to a stated tolerance,
``|stored - now| <= atol + rtol * |stored|`` (numpy's ``isclose``); the
report counts how many were identical to the last bit.  Text cells and
strings in results.json must be identical.  Software versions that differ
from the stored provenance are warnings, not failures: the numbers decide.
A changed data file (its SHA-256) is a failure.

The report (:meth:`VerifyReport.text`) puts the causes first: whether the
data or the spec changed (their SHA-256 when stored and now), then which
software versions changed (old -> new), then the differing values grouped
per file with a count per file and a few examples (every one with
``verbose``).

With ``with_r=True`` the spec is also exported as an R script
(:mod:`pylme4.pipeline.export_r`), run with Rscript, and R's own files are
compared with the stored ones the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import doctor
from ..errors import one_line
from . import outputs, provenance
from .export_r import export_r
from .outdir import read_manifest
from .run import RESULTS_JSON, SPEC_COPY, OutputDirError, read_results, run
from .spec import Spec, SpecError, parse_spec

Progress = Callable[[str], None]

#: How many differences of one file the short report shows.
EXAMPLES_PER_FILE = 3


@dataclass(frozen=True)
class Tolerance:
    """How close two numbers must be: ``|stored - now| <= atol + rtol * |stored|``."""

    rtol: float = 1e-8
    atol: float = 1e-12

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


@dataclass(frozen=True)
class Difference:
    """One output that does not match: which file, where in it, and both values."""

    file: str
    where: str
    stored: str
    now: str

    def __str__(self) -> str:
        place = f"{self.file}: {self.where}" if self.where else self.file
        return f"{place}: stored {self.stored}, now {self.now}"

    def detail(self) -> str:
        """The difference without the file's name (the report lists it above)."""
        place = f"{self.where}: " if self.where else ""
        return f"{place}stored {self.stored}, now {self.now}"


@dataclass
class _Tally:
    """Running counts while comparing."""

    tolerance: Tolerance
    differences: list[Difference] = field(default_factory=list)
    numbers: int = 0
    identical: int = 0
    texts: int = 0
    files: int = 0

    def number(self, file: str, where: str, stored: float, now: float) -> bool:
        self.numbers += 1
        if stored == now or (math.isnan(stored) and math.isnan(now)):
            self.identical += 1
            return True
        close = abs(stored - now) <= self.tolerance.atol + self.tolerance.rtol * abs(stored)
        if math.isfinite(stored) and math.isfinite(now) and close:
            return True
        self.add(file, where, _show(stored), _show(now))
        return False

    def add(self, file: str, where: str, stored: str, now: str) -> None:
        self.differences.append(Difference(file, where, stored, now))


@dataclass(frozen=True)
class Input:
    """What went into the results (``"data"`` or ``"spec"``): its SHA-256 when stored and now."""

    kind: str
    name: str
    """The data file or data set, or the spec file."""
    stored: str | None
    now: str | None
    rows: tuple[Any, Any] | None = None
    """The data's rows when stored and now."""

    @property
    def changed(self) -> bool:
        return self.stored != self.now or (self.rows is not None and self.rows[0] != self.rows[1])

    def __str__(self) -> str:
        if not self.changed:
            return f"{self.kind} unchanged: {self.name}, sha256 {self.now}"
        rows = ""
        if self.rows is not None and self.rows[0] != self.rows[1]:
            rows = f" ({self.rows[0]} -> {self.rows[1]} rows)"
        return f"{self.kind} CHANGED: {self.name}, sha256 {self.stored} -> {self.now}{rows}"


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify`."""

    differences: tuple[Difference, ...]
    warnings: tuple[str, ...]
    """Provenance that changed (software versions, BLAS, platform): ``what: old -> new``."""
    tolerance: Tolerance
    numbers: int
    identical: int
    texts: int
    files: int
    with_r: bool
    inputs: tuple[Input, ...] = ()
    """The data and the spec, with their hashes when stored and now (empty when nothing
    was re-run)."""

    @property
    def ok(self) -> bool:
        """True when every output matched."""
        return not self.differences

    def summary(self) -> str:
        """One line saying what was compared and how it came out."""
        if self.identical == self.numbers:
            numbers = f"{self.numbers} numbers, all identical"
        else:
            numbers = (
                f"{self.numbers} numbers ({self.identical} identical, "
                f"{self.numbers - self.identical} within {self.tolerance})"
            )
        what = f"{self.files} files: {numbers}; {self.texts} texts identical"
        against = "the re-run" + (" and R's own script" if self.with_r else "")
        if self.ok:
            return f"verified against {against}: {what}"
        return (
            f"{len(self.differences)} difference(s) against {against} "
            f"(numbers compared with {self.tolerance}; text exactly)"
        )

    def by_file(self) -> dict[str, list[Difference]]:
        """The differences of each file, in the order found; the data's hash (reported
        with the inputs) left out."""
        files: dict[str, list[Difference]] = {}
        spec_changed = any(i.kind == "spec" and i.changed for i in self.inputs)
        for d in self.differences:
            if d.file.endswith(RESULTS_JSON) and d.where.startswith(_INPUT_WHERE):
                continue
            if spec_changed and d.file == SPEC_COPY and not d.where:
                continue
            files.setdefault(d.file, []).append(d)
        return files

    def text(self, verbose: bool = False) -> str:
        """The report, causes first: the inputs (data, spec) and whether they changed, the
        software versions that changed, the differences grouped by file (a count and
        the first :data:`EXAMPLES_PER_FILE` of each; all with ``verbose``), and last
        :meth:`summary` prefixed with OK or FAILED."""
        lines = []
        if not self.ok or self.warnings or verbose:
            lines += [str(i) for i in self.inputs]
            if self.warnings:
                lines.append("software CHANGED:")
                lines += [f"  {w}" for w in self.warnings]
            elif any(i.kind == "data" for i in self.inputs):  # there was a re-run
                lines.append("software unchanged")
        files = self.by_file()
        if files:
            shown = "every one" if verbose else f"the first {EXAMPLES_PER_FILE} of each"
            lines.append(f"differences in {len(files)} file(s) ({shown}):")
        for name, found in files.items():
            lines.append(f"  {name}: {len(found)} difference(s)")
            keep = found if verbose else found[:EXAMPLES_PER_FILE]
            lines += [f"    {d.detail()}" for d in keep]
            if len(found) > len(keep):
                lines.append(f"    ... {len(found) - len(keep)} more (--verbose lists them)")
        lines.append(("OK " if self.ok else "FAILED ") + self.summary())
        return "\n".join(lines)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return "NA" if math.isnan(value) else repr(value)
    return repr(value)


# ---------------------------------------------------------------------------
# Comparing files
# ---------------------------------------------------------------------------


def compare_text(tally: _Tally, name: str, stored: str, now: str) -> None:
    """Two texts, exactly; the difference names the first line that differs."""
    tally.texts += 1
    if stored == now:
        return
    a, b = stored.split("\n"), now.split("\n")
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            tally.add(name, f"line {i + 1}", repr(x), repr(y))
            return
    tally.add(name, "length", f"{len(a)} lines", f"{len(b)} lines")


def _read_cells(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


def _as_number(cell: str) -> float | None:
    if cell == "NA":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


def compare_csv(tally: _Tally, name: str, stored_path: Path, now_path: Path) -> None:
    """Two CSV tables: same columns and rows; numeric cells to the tolerance, text exactly."""
    try:
        a, b = _read_cells(stored_path), _read_cells(now_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        tally.add(name, "", "a CSV table", f"unreadable ({one_line(exc)})")
        return
    if list(a.columns) != list(b.columns):
        tally.add(name, "columns", str(list(a.columns)), str(list(b.columns)))
        return
    if len(a) != len(b):
        tally.add(name, "rows", str(len(a)), str(len(b)))
        return
    numeric = {
        c: all(_as_number(x) is not None for x in pd.concat([a[c], b[c]]))
        and not all(x == "NA" for x in a[c])
        for c in a.columns
    }
    for i in range(len(a)):
        label = _row_label(a, i, numeric)
        for c in a.columns:
            x, y = a.at[i, c], b.at[i, c]
            where = f"row {i + 1}{label}, column {c!r}"
            if numeric[c]:
                tally.number(name, where, float(_as_number(x)), float(_as_number(y)))  # type: ignore[arg-type]
            else:
                tally.texts += 1
                if x != y:
                    tally.add(name, where, repr(x), repr(y))


def _row_label(frame: pd.DataFrame, i: int, numeric: Mapping[str, bool]) -> str:
    keys = [str(frame.at[i, c]) for c in frame.columns if not numeric[c]]
    return f" [{', '.join(keys)}]" if keys else ""


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON value with readable paths (tables as row/column)."""
    if isinstance(value, dict):
        if set(value) == {"columns", "data"} and isinstance(value["data"], list):
            columns = value["columns"]
            yield f"{path}.columns", columns
            for i, row in enumerate(value["data"]):
                keys = [str(v) for v in row if isinstance(v, str)]
                label = f" [{', '.join(keys)}]" if keys else ""
                for c, cell in zip(columns, row):
                    yield f"{path} row {i + 1}{label}, column {c!r}", cell
                if len(row) != len(columns):
                    yield f"{path} row {i + 1}", row
            yield f"{path}.rows", len(value["data"])
            return
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
        return
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        yield f"{path}.length", len(value)
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
        return
    yield path, value


def compare_json(tally: _Tally, name: str, stored: Any, now: Any) -> None:
    """Two JSON values leaf by leaf: numbers to the tolerance, everything else exactly."""
    a, b = dict(_walk(stored, "")), dict(_walk(now, ""))
    for path in [*a, *(p for p in b if p not in a)]:
        if path not in a or path not in b:
            tally.add(
                name,
                path,
                "absent" if path not in a else _show(a[path]),
                "absent" if path not in b else _show(b[path]),
            )
            continue
        x, y = a[path], b[path]
        if _is_number(x) and _is_number(y):
            tally.number(name, path, float(x), float(y))
        elif (x is None and _is_number(y)) or (y is None and _is_number(x)):
            tally.number(
                name, path, math.nan if x is None else float(x), math.nan if y is None else float(y)
            )
        else:
            tally.texts += 1
            if x != y:
                tally.add(name, path, _show(x), _show(y))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def compare_folders(
    tally: _Tally,
    stored: Path,
    now: Path,
    *,
    only: list[str] | None = None,
    label: str = "",
    results: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
    stored_files: list[str] | None = None,
) -> None:
    """Every file of ``stored`` against the same file in ``now``.

    ``only`` restricts the comparison to these relative paths (R's script
    writes no results.json); ``label`` prefixes the file names in differences;
    ``results`` is the content of both results.json files, when the caller
    has read them already; ``stored_files`` lists the files of ``stored`` to
    compare (its manifest: a user's own files there are not results).
    """
    if only is not None:
        stored_files = only
    elif stored_files is None:
        stored_files = _files(stored)
    now_files = set(_files(now))
    for rel in stored_files:
        name = f"{label}{rel}"
        if rel not in now_files:
            tally.add(name, "", "present", "not written")
            continue
        if not (stored / rel).is_file():  # listed in the manifest, since deleted
            tally.add(name, "", "missing", "written by the re-run")
            continue
        tally.files += 1
        a, b = stored / rel, now / rel
        if rel == RESULTS_JSON:
            stored_json, now_json = results or (
                json.loads(a.read_text(encoding="utf-8")),
                json.loads(b.read_text(encoding="utf-8")),
            )
            compare_json(tally, name, _comparable(stored_json), _comparable(now_json))
            _compare_inputs(tally, name, stored_json, now_json)
        elif rel.endswith(".csv"):
            compare_csv(tally, name, a, b)
        else:
            compare_text(
                tally,
                name,
                a.read_bytes().decode("utf-8", "replace"),
                b.read_bytes().decode("utf-8", "replace"),
            )
    if only is None:
        for rel in sorted(now_files - set(stored_files)):
            tally.add(f"{label}{rel}", "", "absent", "written by the re-run")


def _comparable(results: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of results.json that a re-run must reproduce."""
    return {k: v for k, v in results.items() if k != "provenance"}


_INPUT_WHERE = "provenance.data."


def inputs(stored: Mapping[str, Any], now: Mapping[str, Any]) -> tuple[Input, ...]:
    """The data and the spec of two results.json files (stored, re-run), with their hashes."""
    a = stored.get("provenance", {})
    b = now.get("provenance", {})
    data_a, data_b = a.get("data", {}), b.get("data", {})
    spec_a, spec_b = a.get("spec", {}), b.get("spec", {})
    name = data_b.get("file") or data_b.get("dataset") or "the data"
    spec_name = Path(spec_b.get("path") or SPEC_COPY).name
    return (
        Input(
            "data",
            str(name),
            data_a.get("sha256"),
            data_b.get("sha256"),
            rows=(data_a.get("rows"), data_b.get("rows")),
        ),
        Input("spec", spec_name, spec_a.get("sha256"), spec_b.get("sha256")),
    )


def _compare_inputs(
    tally: _Tally, name: str, stored: Mapping[str, Any], now: Mapping[str, Any]
) -> None:
    """The data must be the same data (SHA-256, rows): a changed input is a difference."""
    a = stored.get("provenance", {}).get("data", {})
    b = now.get("provenance", {}).get("data", {})
    for key in ("sha256", "rows"):
        tally.texts += 1
        if a.get(key) != b.get(key):
            what = a.get("file") or a.get("dataset") or "the data"
            tally.add(
                name, f"{_INPUT_WHERE}{key} (of {what})", _show(a.get(key)), _show(b.get(key))
            )


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------


def stored_spec(
    results_dir: Path, results: Mapping[str, Any], spec_path: str | Path | None
) -> Spec:
    """The spec a results folder was made from.

    By default the text stored in results.json, read as if it were the
    folder's spec.yaml: a relative ``data.csv`` is looked for in the results
    folder, never in the folder results.json records (whoever wrote the file
    chose that).  ``spec_path`` names the spec to re-run instead, with its
    data beside it.
    """
    if spec_path is not None:
        from .spec import load_spec

        return load_spec(spec_path)
    text = results["provenance"]["spec"]["text"]
    return parse_spec(text, source=str(results_dir / SPEC_COPY), base_dir=results_dir)


def spec_mismatch(results_dir: Path, results: Mapping[str, Any]) -> str | None:
    """How ``spec.yaml`` differs from the spec stored in results.json, or None when it does not."""
    text = results["provenance"]["spec"]["text"]
    try:
        beside = (results_dir / SPEC_COPY).read_bytes().decode("utf-8")
    except FileNotFoundError:
        return "missing"
    except (OSError, UnicodeDecodeError) as exc:
        return f"unreadable ({one_line(exc)})"
    if beside != text:
        return "a different text (spec.yaml or results.json was edited after the run)"
    return None


def _spec_copy_input(results_dir: Path, results: Mapping[str, Any]) -> Input:
    """The spec stored in results.json against the folder's spec.yaml (their hashes)."""
    stored = hashlib.sha256(results["provenance"]["spec"]["text"].encode("utf-8")).hexdigest()
    try:
        now: str | None = hashlib.sha256((results_dir / SPEC_COPY).read_bytes()).hexdigest()
    except OSError:
        now = None
    return Input("spec", f"{SPEC_COPY} against the spec stored in {RESULTS_JSON}", stored, now)


def verify(
    results_dir: str | Path,
    *,
    spec_path: str | Path | None = None,
    tolerance: Tolerance | None = None,
    with_r: bool = False,
    progress: Progress | None = None,
    rscript: str | None = None,
    trust: bool = False,
) -> VerifyReport:
    """Re-run the spec stored in ``results_dir`` and compare every output with the stored one.

    The spec stored in results.json must be the folder's ``spec.yaml``;
    when they differ, that is the one difference reported and nothing is
    re-run.  The spec is checked as :func:`pylme4.pipeline.run` checks it
    (:mod:`pylme4.pipeline.trust`).

    Parameters
    ----------
    results_dir
        A folder written by :func:`pylme4.pipeline.run`.
    spec_path
        The spec to re-run, with its data beside it (default: the stored
        spec, with its data looked for in ``results_dir``).
    tolerance
        How close numbers must be (default ``rtol=1e-8, atol=1e-12``).
    with_r
        Also run the exported R script with Rscript and compare R's numbers.
    progress
        Called with one line of text per step (the CLI prints them on stderr).
    rscript
        The Rscript program (default: found on PATH).
    trust
        Lift the checks of :mod:`pylme4.pipeline.trust` (``--trust``).

    Raises
    ------
    OutputDirError
        ``results_dir`` is not a pylme4 results folder, or its results.json
        does not have pylme4's layout.
    SpecError, DataError, ModelError
        The spec can no longer be run (e.g. its data file moved), or the
        trust check refuses it.
    """
    results_dir = Path(results_dir).resolve()
    tolerance = tolerance or Tolerance()
    stored = read_results(results_dir)
    tally = _Tally(tolerance)
    mismatch = spec_mismatch(results_dir, stored)
    if mismatch is not None:
        tally.add(SPEC_COPY, "", "the spec in results.json", mismatch)
        return _report(tally, (), tolerance, with_r, (_spec_copy_input(results_dir, stored),))
    spec = stored_spec(results_dir, stored, spec_path)
    manifest = read_manifest(results_dir)
    with tempfile.TemporaryDirectory(prefix="pylme4-verify-") as tmp:
        rerun_dir = Path(tmp) / "rerun"
        if progress is not None:
            progress(f"re-running {spec.source}")
        try:
            fresh = run(spec, rerun_dir, progress=progress, command=None, trust=trust)
        except SpecError as exc:
            if exc.key == "data.csv" and spec_path is None and "not found" in str(exc):
                raise SpecError(
                    f"{exc} (verify looks for the data in the results folder, never where "
                    "results.json says it was: give the spec with --spec)",
                    line=exc.line,
                    key=exc.key,
                ) from None
            raise
        try:
            compare_folders(
                tally,
                results_dir,
                rerun_dir,
                results=(stored, fresh.results),
                stored_files=None if manifest is None else list(manifest.files),
            )
            warnings = provenance.version_changes(
                stored.get("provenance", {}), fresh.results["provenance"]
            )
            changed = inputs(stored, fresh.results)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            raise OutputDirError(
                f"{results_dir / RESULTS_JSON}: a value has the wrong type or shape "
                f"({one_line(exc)}); is it a results.json written by pylme4?"
            ) from None
        if with_r:
            _verify_with_r(tally, spec, results_dir, Path(tmp), progress, rscript, trust)
    return _report(tally, warnings, tolerance, with_r, changed)


def _report(
    tally: _Tally,
    warnings: Sequence[str],
    tolerance: Tolerance,
    with_r: bool,
    changed: tuple[Input, ...] = (),
) -> VerifyReport:
    return VerifyReport(
        differences=tuple(tally.differences),
        warnings=tuple(warnings),
        tolerance=tolerance,
        numbers=tally.numbers,
        identical=tally.identical,
        texts=tally.texts,
        files=tally.files,
        with_r=with_r,
        inputs=changed,
    )


def _verify_with_r(
    tally: _Tally,
    spec: Spec,
    results_dir: Path,
    tmp: Path,
    progress: Progress | None,
    rscript: str | None,
    trust: bool,
) -> None:
    program = doctor.require_rscript(rscript)
    script = tmp / "analysis.R"
    script.write_text(export_r(spec, script_path=script, trust=trust), encoding="utf-8")
    r_dir = tmp / "r"
    if progress is not None:
        progress(f"running the exported R script with {program}")
    done = subprocess.run(
        [program, "--vanilla", str(script), str(r_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip()][-3:]
        tally.add("R script", "", "runs", f"failed: {' | '.join(last) or done.returncode}")
        return
    # The files of every model, as the registry of outputs says the spec makes them.
    files = [f"{model.name}/{file}" for model in spec.models for file in outputs.model_files(model)]
    files += [f"{c.name}/{file}" for c in spec.compare for file in outputs.COMPARE_FILE_NAMES]
    compare_folders(tally, results_dir, r_dir, only=files, label="R: ")
