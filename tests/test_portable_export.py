"""Portable, comparable outputs (issue 17, item 6).

- The script of ``pylme4 export-r`` runs from a copy of the project folder,
  from any working directory, and writes files byte for byte as ``pylme4
  run`` does: ``diff -r`` (the real command) of the two results folders is
  empty but for pylme4's own bookkeeping (results.json, .pylme4-manifest).
- pylme4's CSV and text writers (Python) and the script's (R) give the same
  bytes for awkward tables, checked against R's writer in this process.
- ``pylme4 verify`` after one changed data value: the cause first (the data's
  old and new SHA-256), then software, then the differences per file with a
  count; ``--verbose`` lists every one.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import r

import pylme4._r
from pylme4.pipeline.data import read_csv
from pylme4.pipeline.export_r import script_helpers
from pylme4.pipeline.run import csv_text, write_text

SPEC = """\
data:
  csv: data/pastes.csv
  name: pastes
  factors:
    batch: [B, A, C, D, E, F, G, H, I, J]
models:
  - name: nested
    formula: "strength ~ 1 + (1 | batch/cask)"
    ddf: Satterthwaite
    boot: {nsim: 20, seed: 1}
    confint: Wald
  - name: casks
    formula: "strength ~ cask + x + (1 | batch)"
    emmeans: {specs: cask}
"""

#: Numbers R's read.csv reads one unit in the last place away from the correctly
#: rounded double (R 4.2, x86_64): a covariate of the spec, so that the fits
#: differ in the last bits unless pylme4 reads the data as R does.
MISREAD = [
    "-0.0053348515",
    "0.996162819593644",
    "0.0878402949360318",
    "0.2006619139996383",
    "-0.046736428",
    "-0.00811843850518659",
    "-585.887843477074",
    "0.542571760306716",
    "-763.006201061534",
]

#: pylme4's bookkeeping, which the script does not write (docs: README, export_r.py).
EXCLUDED = ("results.json", ".pylme4-manifest")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylme4", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """analysis.yaml, data/pastes.csv (R's write.csv), results/ from `pylme4 run`, and
    analysis.R from `pylme4 export-r -o`."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "data").mkdir()
    csv = folder / "data" / "pastes.csv"
    r(f"write.csv(lme4::Pastes, '{csv}', row.names = FALSE)")
    lines = csv.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ',"x"'] + [
        f"{line},{MISREAD[i % len(MISREAD)]}" for i, line in enumerate(lines[1:])
    ]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "analysis.yaml").write_text(SPEC, encoding="utf-8")
    done = cli("run", "analysis.yaml", "--out", "results", "-q", cwd=folder)
    assert done.returncode == 0, done.stderr
    done = cli("export-r", "analysis.yaml", "-o", "analysis.R", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_script_from_a_copied_folder_writes_pylme4s_bytes(project: Path, tmp_path: Path) -> None:
    script = (project / "analysis.R").read_text(encoding="utf-8")
    assert str(project) not in script  # no absolute path of the project left
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(project, copy)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    ran = subprocess.run(
        [shutil.which("Rscript") or "Rscript", str(copy / "analysis.R")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert list(elsewhere.iterdir()) == []  # its results are beside it, not in the cwd
    excluded = [arg for name in EXCLUDED for arg in ("-x", name)]
    diff = subprocess.run(
        ["diff", "-r", *excluded, "results", "results-r"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (diff.returncode, diff.stdout, diff.stderr) == (0, "", "")
    # Every file pylme4 wrote but its bookkeeping is also the script's.
    ours = sorted(p.relative_to(copy / "results") for p in (copy / "results").rglob("*"))
    theirs = sorted(p.relative_to(copy / "results-r") for p in (copy / "results-r").rglob("*"))
    assert [p for p in ours if p.name not in EXCLUDED] == theirs
    assert Path("nested/boot.csv") in theirs and Path("casks/emmeans.csv") in theirs
    assert Path("spec.yaml") in theirs


# A table with what CSV writers disagree on: quotes, commas and newlines in
# text, non-ASCII, missing text, NaN and NA, infinities, -0, the extremes of
# doubles, integers with NA, logicals with NA, a factor.
AWKWARD_TABLE = r"""
data.frame(
  text = c('plain', 'say "hi"', 'a, b', 'two\nlines', '\u00e9t\u00e9 \u2013 \u03b2', NA),
  number = c(0.1, -0, NaN, Inf, -Inf, NA),
  tiny = c(5e-324, 1/3, 1e16, 123456789012345678, -2.5e-8, .Machine$double.xmax),
  count = c(1L, NA, 3L, -4L, 0L, 2147483647L),
  flag = c(TRUE, FALSE, NA, TRUE, TRUE, FALSE),
  level = factor(c('b', 'a', 'b', NA, 'a', 'b')),
  `2.5 %` = 1:6 / 7,
  check.names = FALSE, stringsAsFactors = FALSE)
"""


def _r_helpers_code() -> str:
    """R code that defines script.R's helpers in an environment of their own, from the
    text every exported script holds."""
    path = Path(pylme4._r.__file__).parent / "R" / "script.R"
    assert path.read_text(encoding="utf-8") == script_helpers()
    return f"env <- new.env(); sys.source('{path}', envir = env, keep.source = FALSE)\n"


def test_python_and_r_write_the_same_csv_and_text_bytes(tmp_path: Path) -> None:
    r_csv = tmp_path / "r.csv"
    frame = r(_r_helpers_code() + f"x <- {AWKWARD_TABLE}\nenv$pylme4_write_table(x, '{r_csv}')\nx")
    assert isinstance(frame, pd.DataFrame) and len(frame) == 6
    py_csv = tmp_path / "py.csv"
    py_csv.write_bytes(csv_text(frame).encode("utf-8"))
    assert py_csv.read_bytes() == r_csv.read_bytes()
    # Read back by R as the same table (text, doubles to the last bit).
    same = r(
        f"x <- {AWKWARD_TABLE}\n"
        f"y <- read.csv('{py_csv}', check.names = FALSE, encoding = 'UTF-8')\n"
        "x$level <- as.character(x$level)\n"
        "isTRUE(all.equal(x, y, tolerance = 0, check.attributes = FALSE))"
    )
    assert same is True

    text = "R's text: caf\u00e9  \n\n  trailing spaces kept  "
    r_txt, py_txt = tmp_path / "r.txt", tmp_path / "py.txt"
    r(_r_helpers_code() + f"env$pylme4_write_text({text!r}, '{r_txt}')")
    write_text(text + "\n", py_txt)
    assert py_txt.read_bytes() == r_txt.read_bytes() == (text + "\n").encode("utf-8")


def test_verify_reports_the_changed_data_first(project: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    (moved / "data").mkdir(parents=True)
    shutil.copy(project / "analysis.yaml", moved)
    lines = (project / "data" / "pastes.csv").read_text(encoding="utf-8").splitlines()
    value = lines[1].split(",")[0]
    lines[1] = lines[1].replace(value, repr(float(value) + 0.1), 1)
    (moved / "data" / "pastes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    old = hashlib.sha256((project / "data" / "pastes.csv").read_bytes()).hexdigest()
    new = hashlib.sha256((moved / "data" / "pastes.csv").read_bytes()).hexdigest()
    spec_hash = hashlib.sha256(SPEC.encode("utf-8")).hexdigest()

    short = cli("verify", "results", "--spec", str(moved / "analysis.yaml"), "-q", cwd=project)
    full = cli("verify", "results", "--spec", str(moved / "analysis.yaml"), "-qv", cwd=project)
    assert short.returncode == full.returncode == 1, short.stdout + short.stderr
    for done in (short, full):
        out = done.stdout.splitlines()
        assert out[:3] == [
            f"data CHANGED: data/pastes.csv, sha256 {old} -> {new}",
            f"spec unchanged: analysis.yaml, sha256 {spec_hash}",
            "software unchanged",
        ]
        assert out[-1].startswith("FAILED ")
    counts = _per_file(short.stdout, verbose=False)
    assert counts == _per_file(full.stdout, verbose=True)
    # Files in the results folder's order (its manifest); results.json has them all again.
    assert list(counts) == sorted(counts)
    assert {"casks/fixef.csv", "nested/boot.csv", "nested/summary.txt"} <= set(counts)
    assert counts["results.json"] > sum(n for f, n in counts.items() if f.endswith(".csv")) / 2
    total = int(re.match(r"FAILED (\d+) difference", short.stdout.splitlines()[-1])[1])  # type: ignore[index]
    assert sum(counts.values()) == total - 1  # the data's hash is the first line, not a file's


def _per_file(stdout: str, *, verbose: bool) -> dict[str, int]:
    """``file: n difference(s)`` of the report, checking that the lines under each
    list n values (verbose) or at most 3 and say how many more."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("differences in "))
    assert lines[start].endswith("(every one):" if verbose else "(the first 3 of each):")
    counts: dict[str, int] = {}
    i = start + 1
    while not lines[i].startswith("FAILED"):
        header = re.fullmatch(r"  (\S+): (\d+) difference\(s\)", lines[i])
        assert header, lines[i]
        n = int(header[2])
        counts[header[1]] = n
        shown = n if verbose else min(n, 3)
        values = lines[i + 1 : i + 1 + shown]
        assert all(re.match(r"    (row|line|models|\S).*: stored .*, now ", v) for v in values)
        i += 1 + shown
        if shown < n:
            assert lines[i] == f"    ... {n - shown} more (--verbose lists them)"
            i += 1
    assert i == len(lines) - 1
    return counts


def test_the_data_are_rs_doubles_to_the_last_bit(tmp_path: Path) -> None:
    # R's read.csv (R_strtod) reads these one unit in the last place away from
    # the correctly rounded double; the exported script fits R's, so pylme4 does.
    texts = ["5.547e-06", "0.000802838", "-4.91e-06", "62.8", "", "0.996162819593644"]
    path = tmp_path / "d.csv"
    path.write_text("x,g\n" + "".join(f"{t},a\n" for t in texts), encoding="utf-8")
    ours = read_csv(path)["x"].to_numpy()
    rs = r(f"read.csv('{path}', na.strings = c('NA', ''), check.names = FALSE)$x")
    assert [v.hex() for v in ours] == [float(v).hex() for v in rs]
    assert any(float(t) != v for t, v in zip(texts, ours) if t)  # not pandas' own reading


def test_only_a_path_the_spec_writes_absolute_stays_absolute(tmp_path: Path) -> None:
    from pylme4.pipeline import export_r, parse_spec

    (tmp_path / "d.csv").write_text("y,g\n1,a\n2,b\n3,a\n", encoding="utf-8")
    text = SPEC.replace("data/pastes.csv", str(tmp_path / "d.csv"))
    absolute = export_r(parse_spec(text, base_dir=tmp_path), tmp_path / "s" / "a.R", trust=True)
    assert f"data_file <- {str(tmp_path / 'd.csv')!r}".replace("'", '"') in absolute
    relative = export_r(parse_spec(SPEC, base_dir=tmp_path), tmp_path / "s" / "a.R")
    assert 'data_file <- file.path(script_dir, "../data/pastes.csv")' in relative
    assert str(tmp_path) not in relative
