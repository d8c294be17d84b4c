"""The README is executable (issue 17).

Every Python block of README.md runs as written, in the README's order.  A
block that starts with ``import pylme4`` starts a fresh script; every other
block runs on what that opening block made (``sleep``, ``fit``) and nothing
else, as a reader who pastes the quick start and then any one section gets it.  The shell blocks run too where they can (the pipeline
commands on the README's own spec, in a temporary folder), or are listed in
``NOT_RUN`` with the reason.  The "R -> pylme4" table names every function
and method pylme4 offers, and every claim about time points at a measurement.

pytest-codeblocks reads the Markdown (fences, their language and line); the
tests here decide how each block runs, so the README needs no markers.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
import subprocess
import sys
import types
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from pytest_codeblocks import CodeBlock, extract_from_file

import pylme4

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS: list[CodeBlock] = extract_from_file(README)
PYTHON = [block for block in BLOCKS if block.syntax == "python"]
SHELL = [block for block in BLOCKS if block.syntax in ("sh", "bash")]

# What each fence language is for; a block without one of these (or without
# any) would be neither run nor shown highlighted, so it fails the first test.
FENCES = {
    "python": "run below, in order",
    "sh": "run below, or in NOT_RUN with the reason",
    "yaml": "the pipeline spec: written to analysis.yaml for the shell block",
    "text": "a listing (the package layout): shown, not run",
}

# Shell lines of the README that do not run here, and why.  Every other shell
# line must be in RUNS; a new line in the README fails the test until it is
# added to one of the two.
NOT_RUN = {
    "make demo": "runs `make setup` and the lecture example: the setup is what this suite runs in, "
    "and the lecture is tests/test_lecture.py",
    "make test": "runs this very suite (recursive)",
    "docker build -t pylme4 .": "no container engine on the test machines",
    "docker run -v $PWD:/work IMAGE run /work/analysis.yaml --out /work/results": "no container engine on the test machines",
}

# Each shell line that runs: (folder, exit code, a line its output must hold,
# or None where a later line checks what it wrote).
# "project" is a temporary folder holding the README's spec and its CSV.
RUNS = {
    "pylme4 run analysis.yaml --out results": ("project", 0, r"^\s*nested/\s+summary\.txt "),
    "pylme4 run analysis.yaml --out results --force": ("project", 0, r"^\s*ml/\s+summary\.txt "),
    "pylme4 verify results --spec analysis.yaml": ("project", 0, r"^OK verified"),
    "pylme4 verify results --with-r --spec analysis.yaml": (
        "project",
        0,
        r"^OK verified against the re-run and R's own script",
    ),
    "pylme4 export-r analysis.yaml -o analysis.R": ("project", 0, r"wrote analysis\.R"),
    "pylme4 doctor": ("project", 0, r"^everything pylme4 needs is here"),
    # The exported script prints nothing of its own; the diff below checks
    # every file it wrote against pylme4's.
    "Rscript analysis.R": ("project", 0, None),
    "diff -r -x results.json -x .pylme4-manifest results results-r": ("project", 0, r"\A\Z"),
    # the row for the R on PATH, whichever it is
    "python3 pylme4/rversions.py": ("clone", 0, r"^rpy2>=3\.\d+(\.\d+)?(,<3\.\d+)?$"),
    "python3 pylme4/rversions.py 4.5.1": ("clone", 0, r"^rpy2>=3\.6$"),
}


def command(line: str) -> str:
    """A shell line without its trailing comment, as the key of RUNS/NOT_RUN."""
    return re.sub(r"\s+#.*$", "", line).strip()


def shell_lines() -> list[str]:
    return [command(line) for block in SHELL for line in block.code.splitlines() if command(line)]


def test_every_block_has_a_language_this_test_knows():
    unknown = [(block.lineno, block.syntax) for block in BLOCKS if block.syntax not in FENCES]
    assert not unknown, f"README.md fences (line, language) with no rule in FENCES: {unknown}"
    assert PYTHON and SHELL


def test_every_shell_line_runs_or_says_why_not():
    lines = shell_lines()
    assert len(lines) == len(set(lines))
    assert set(lines) == set(RUNS) | set(NOT_RUN), (
        f"in the README but in neither RUNS nor NOT_RUN: {sorted(set(lines) - set(RUNS) - set(NOT_RUN))}; "
        f"no longer in the README: {sorted((set(RUNS) | set(NOT_RUN)) - set(lines))}"
    )
    assert not set(RUNS) & set(NOT_RUN)


# ---- the Python blocks ---------------------------------------------------


class Reader:
    """Runs the README's Python blocks in order, each on a copy of what its opening block made."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.opening: dict[str, Any] = {}
        self.done = 0

    def run_through(self, index: int) -> None:
        # A test selected alone (-k) still gets its opening block run first.
        while self.done <= index:
            block = PYTHON[self.done]
            opens = block.code.startswith("import pylme4")
            namespace = {"__name__": "__main__"} if opens else dict(self.opening)
            # Padding puts the code on its README line numbers, so a traceback
            # shows README.md and the failing line itself.
            source = "\n" * block.lineno + block.code
            self.done += 1
            exec(compile(source, str(README), "exec"), namespace)
            if opens:
                self.opening = namespace


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return Reader(tmp_path_factory.mktemp("readme"))


@pytest.mark.parametrize("index", range(len(PYTHON)), ids=[f"line{b.lineno}" for b in PYTHON])
def test_python_block_runs_as_written(reader: Reader, index: int, monkeypatch, capsys) -> None:
    # Figures and any other file a block writes land in a temporary folder.
    monkeypatch.chdir(reader.folder)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    reader.run_through(index)
    block = PYTHON[index]
    if "print(" in block.code:
        assert capsys.readouterr().out.strip(), f"README.md line {block.lineno} printed nothing"


def test_python_blocks_write_only_where_they_run(reader: Reader, monkeypatch) -> None:
    monkeypatch.chdir(reader.folder)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    reader.run_through(len(PYTHON) - 1)
    saved = re.findall(r'savefig\("([^"]+)"\)', "".join(block.code for block in PYTHON))
    assert saved
    for name in saved:
        assert (reader.folder / name).stat().st_size > 0
        assert not (ROOT / name).exists()


# ---- the shell blocks ----------------------------------------------------


def readme_spec() -> str:
    """The README's YAML block, as written (the one the pipeline block runs)."""
    (spec,) = [block.code for block in BLOCKS if block.syntax == "yaml"]
    assert spec.startswith("# analysis.yaml\n")
    return spec


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    spec = readme_spec()
    (folder / "analysis.yaml").write_text(spec, encoding="utf-8")
    (csv,) = re.findall(r"^\s*csv:\s*(\S+)", spec, flags=re.M)
    assert csv == "pastes.csv"
    pylme4.datasets.load("Pastes").to_csv(folder / csv, index=False)
    return folder


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # `pylme4` is the console script of the environment running the tests.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_shell_lines_run_with_their_exit_code_and_output(project: Path) -> None:
    # The user's own file in the results folder must survive `--force`.
    kept = project / "results" / "my-notes.txt"
    for line in shell_lines():
        if line in NOT_RUN:
            continue
        where, code, pattern = RUNS[line]
        done = run_line(line, project if where == "project" else ROOT)
        output = done.stdout + done.stderr
        assert done.returncode == code, f"{line}: exit {done.returncode}\n{output}"
        assert "Traceback" not in output, f"{line}:\n{output}"
        if pattern is not None:
            assert re.search(pattern, output, flags=re.M), f"{line}: no line {pattern!r} in\n{output}"
        if line == "pylme4 run analysis.yaml --out results":
            kept.write_text("mine\n", encoding="utf-8")
        if line == "pylme4 run analysis.yaml --out results --force":
            assert kept.read_text(encoding="utf-8") == "mine\n"
            # Out of the way of the README's diff -r, which would list it.
            kept.unlink()
    assert (project / "results" / "nested" / "summary.txt").exists()
    assert (project / "analysis.R").read_text(encoding="utf-8").startswith("# Written by pylme4")


# ---- the R -> pylme4 table ---------------------------------------------

# Names of pylme4's API that are not R functions and so have no row.  Each
# says why; anything else pylme4 offers must be named in the table.
NOT_WRAPPING = {
    # The one-line identity of any result (`<LmerFit y ~ x ...>`), not R's.
    "brief",
    # What pylme4's own modules ask of a fit (fitbase's protocols): the R
    # object, caches, row indexes, rebuilding a fit from an R object.
    "cached",
    "data_index",
    "from_r_object",
    "lmertest_handle",
    "r_handle",
    "row_index",
    "used_index",
    "variables",
    # Which R package bundles a data set; load() uses it.
    "datasets.find",
    "datasets.search_order",
    # R's bw.nrd0() and density(), computed in numpy for plot.shrinkage_density.
    "plot.bw_nrd0",
    "plot.gaussian_density",
}
# Whole modules of the API with no R counterpart: the exceptions (README
# "Errors you may see") and their helpers; worker processes (docs/cluster.md);
# the pipeline behind the `pylme4` command ("Reproducible pipelines").
NOT_WRAPPING_MODULES = {"errors", "parallel", "pipeline"}


def table_code() -> str:
    """The code spans of the table's pylme4 column."""
    section = README.read_text(encoding="utf-8").split("\n## R -> pylme4\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    cells = []
    for row in section.splitlines():
        parts = re.split(r"(?<!\\)\|", row)
        if row.startswith("|") and len(parts) == 4:
            cells.append(parts[2])
    assert len(cells) > 40
    return "\n".join(re.findall(r"`([^`]*)`", "\n".join(cells)))


def offered() -> dict[str, str]:
    """Every public function and method of the API: name -> how the table must spell it."""
    out: dict[str, str] = {}
    for name in pylme4.__all__:
        value = getattr(pylme4, name)
        if isinstance(value, types.ModuleType):
            if name in NOT_WRAPPING_MODULES:
                continue
            for attr, member in vars(value).items():
                if (
                    not attr.startswith("_")
                    and inspect.isfunction(member)
                    and member.__module__ == value.__name__
                ):
                    out[f"{name}.{attr}"] = rf"\b{name}\.{attr}\b"
        elif inspect.isclass(value):
            if issubclass(value, BaseException):
                continue
            fields = (
                {f.name for f in dataclasses.fields(value)}
                if dataclasses.is_dataclass(value)
                else set()
            )
            for attr in dir(value):
                if attr.startswith("_") or attr in fields:
                    continue
                # Forwarded methods are descriptors: the class attribute is the function.
                member = inspect.getattr_static(value, attr)
                if callable(getattr(value, attr)) or isinstance(
                    member, (property, cached_property)
                ):
                    out.setdefault(attr, rf"\.{attr}\b")
        elif callable(value):
            out[name] = rf"\bpylme4\.{name}\b"
    return out


def test_r_table_names_every_function_pylme4_offers():
    code = table_code()
    api = offered()
    assert {"lmer", "glmer", "summary", "boot_mer", "plot.caterpillar"} <= set(api)
    missing = sorted(
        name
        for name, spelling in api.items()
        if name not in NOT_WRAPPING and not re.search(spelling, code)
    )
    assert not missing, f"not in README.md's R -> pylme4 table: {missing}"
    assert not NOT_WRAPPING - set(api), "NOT_WRAPPING names something pylme4 no longer has"


# The README's table is the one home of R call -> pylme4 call rows: a
# docs/api-*.md page links to it and keeps what a row cannot hold (examples,
# argument details, what is not reproduced).  api-pipeline-keys.md maps spec
# keys, not R functions, to R calls.
TABLE_LINK = "../README.md#r---pylme4"
NOT_R_FUNCTION_PAGES = {"api-pipeline-keys.md"}
R_TABLE_HEADER = re.compile(r"^\|\s*R\b[^|]*\|[^|]*pylme4", re.M)


def test_api_pages_link_to_the_r_table_instead_of_repeating_it():
    # GitHub's anchor of the heading "R -> pylme4" is "r---pylme4".
    assert "\n## R -> pylme4\n" in README.read_text(encoding="utf-8")
    pages = sorted((ROOT / "docs").glob("api-*.md"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        header = R_TABLE_HEADER.search(text)
        assert header is None, (
            f"docs/{page.name} has an R -> pylme4 table ({header.group(0)!r}): "
            "its rows belong in README.md's table"
        )
        if page.name not in NOT_R_FUNCTION_PAGES:
            assert TABLE_LINK in text, f"docs/{page.name} does not link README.md's table"


# ---- time --------------------------------------------------------------

TIME = re.compile(
    r"\b(\d+(\.\d+)?\s*(ms|s|min|h)|seconds?|minutes?|hours?|milliseconds?|fast(er)?|slow(er)?)\b",
    re.I,
)
MEASURED = re.compile(r"docs/performance\.md|benchmarks/")


def test_every_claim_about_time_points_at_its_measurement():
    # Paragraphs, list items and table rows of the prose (code blocks left out).
    text = re.sub(r"^```.*?^```", "", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    pieces = re.split(r"\n\s*\n|\n(?=- )|\n(?=\|)", text)
    unmeasured = [p.strip() for p in pieces if TIME.search(p) and not MEASURED.search(p)]
    assert not unmeasured, f"time claims with no docs/performance.md or benchmarks/: {unmeasured}"
