"""Reproducible pipelines end to end: spec -> `pylme4 run` -> verify / export-r / doctor.

The CLI runs as `python -m pylme4 ...` subprocesses wherever the exit code and
the one-line messages matter; the numbers and printed text it writes are
compared with R itself, asked in this process (conftest's `r`) or run as a
standalone Rscript, on the same CSV file with the same calls.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r, r_apply

from pylme4 import pipeline
from pylme4.errors import DataError, RNotAvailableError
from pylme4.pipeline import (
    BootSpec,
    ConfintSpec,
    ModelError,
    ModelSpec,
    OutputDirError,
    SpecError,
    parse_spec,
)
from pylme4.pipeline.data import factor_text, load_data
from pylme4.pipeline.spec import script_binds

ROOT = Path(__file__).resolve().parents[1]
PASTES_LEVELS = ["B", "A", "C", "D", "E", "F", "G", "H", "I", "J"]

PASTES_SPEC = """\
# Pastes, with batch B as the reference level
data:
  csv: pastes.csv
  name: pastes
  factors:
    batch: [B, A, C, D, E, F, G, H, I, J]
models:
  - name: nested
    formula: "strength ~ 1 + (1 | batch/cask)"
    ddf: Satterthwaite
  - name: ml
    formula: "strength ~ 1 + (1 | batch) + (1 | sample)"
    reml: false
"""

# The R calls a user would type for the spec above, on the same file.
R_READ = (
    "pastes <- read.csv('%s', na.strings = c('NA', ''), check.names = FALSE)\n"
    "pastes$batch <- factor(pastes$batch, levels = c('B','A','C','D','E','F','G','H','I','J'))\n"
)
R_FITS = {
    "nested": (
        "lmerTest::lmer(strength ~ 1 + (1 | batch/cask), data = pastes)",
        "Satterthwaite",
    ),
    "ml": ("lmer(strength ~ 1 + (1 | batch) + (1 | sample), data = pastes, REML = FALSE)", None),
}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m pylme4 ARGS` in a subprocess (its own R), as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "pylme4", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single line pylme4 printed for an error; no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("pylme4: error: ")]
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with pastes.csv (written by R's write.csv) and analysis.yaml."""
    folder = tmp_path_factory.mktemp("project")
    r(f"write.csv(lme4::Pastes, '{folder / 'pastes.csv'}', row.names = FALSE)")
    (folder / "analysis.yaml").write_text(PASTES_SPEC, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def results(project: Path) -> Path:
    """`pylme4 run analysis.yaml --out results`, once for the module."""
    done = cli("run", "analysis.yaml", "--out", "results", cwd=project)
    assert done.returncode == 0, done.stderr
    return project / "results"


def r_reference(project: Path, model: str) -> dict:
    """R's own outputs for one model of PASTES_SPEC."""
    call, ddf = R_FITS[model]
    ddf_arg = f", ddf = '{ddf}'" if ddf else ""
    return r(
        R_READ % (project / "pastes.csv")
        + f"fit <- {call}\n"
        + f"s <- summary(fit{ddf_arg})\n"
        + "list(summary = paste(capture.output(print(s)), collapse = '\\n'),\n"
        + "     coef = as.data.frame(coef(s), check.names = FALSE),\n"
        + "     ranef = as.data.frame(ranef(fit, condVar = TRUE)),\n"
        + "     varcorr = as.data.frame(VarCorr(fit)),\n"
        + "     stats = c(nobs = nobs(fit), sigma = sigma(fit), logLik = as.numeric(logLik(fit)),\n"
        + "               AIC = AIC(fit), BIC = BIC(fit),\n"
        + "               deviance = if (isREML(fit)) deviance(fit, REML = FALSE) else deviance(fit)),\n"
        + "     theta = unname(getME(fit, 'theta')),\n"
        + "     remlcrit = if (isREML(fit)) REMLcrit(fit) else NULL)"
    )


# ---------------------------------------------------------------------------
# run: outputs equal R's
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["nested", "ml"])
def test_summary_txt_is_r_printed_summary(project: Path, results: Path, model: str) -> None:
    ref = r_reference(project, model)
    text = (results / model / "summary.txt").read_text(encoding="utf-8")
    assert text == ref["summary"] + "\n"


@pytest.mark.parametrize("model", ["nested", "ml"])
def test_tables_are_r_numbers(project: Path, results: Path, model: str) -> None:
    ref = r_reference(project, model)
    folder = results / model
    fixef = pd.read_csv(folder / "fixef.csv")
    assert list(fixef.columns) == ["term", *ref["coef"].columns]
    assert list(fixef["term"]) == list(ref["coef"].index)
    np.testing.assert_allclose(fixef.iloc[:, 1:].to_numpy(), ref["coef"].to_numpy(), **SAME)

    ranef = pd.read_csv(folder / "ranef.csv", keep_default_na=False)
    expected = ref["ranef"]
    assert list(ranef.columns) == ["grpvar", "term", "grp", "condval", "condsd"]
    for column in ("grpvar", "term", "grp"):
        assert list(ranef[column].astype(str)) == list(expected[column].astype(str))
    np.testing.assert_allclose(
        ranef[["condval", "condsd"]], expected[["condval", "condsd"]], **SAME
    )

    vc = pd.read_csv(folder / "var_corr.csv", keep_default_na=False, na_values=["NA"])
    assert list(vc["grp"]) == list(ref["varcorr"]["grp"])
    np.testing.assert_allclose(vc[["vcov", "sdcor"]], ref["varcorr"][["vcov", "sdcor"]], **SAME)

    stats = pd.read_csv(folder / "stats.csv").set_index("statistic")["value"]
    for name, value in ref["stats"].items():
        np.testing.assert_allclose(stats[name], value, **SAME)
    theta = stats[[s for s in stats.index if s.startswith("theta:")]]
    np.testing.assert_allclose(theta, np.atleast_1d(ref["theta"]), **SAME)
    assert ("REMLcrit" in stats.index) == (ref["remlcrit"] is not None)


def test_results_json_has_every_number_and_provenance(project: Path, results: Path) -> None:
    data = json.loads((results / "results.json").read_text(encoding="utf-8"))
    assert data["spec"]["data"]["factors"]["batch"] == PASTES_LEVELS
    nested = data["models"]["nested"]
    fixef_csv = pd.read_csv(results / "nested" / "fixef.csv")
    assert nested["fixef"]["columns"] == list(fixef_csv.columns)
    assert nested["fixef"]["data"][0][1] == fixef_csv.iloc[0, 1]  # same double, both ways
    assert nested["files"] == ["summary.txt", "fixef.csv", "ranef.csv", "var_corr.csv", "stats.csv"]
    assert (results / "spec.yaml").read_text(encoding="utf-8") == PASTES_SPEC

    prov = data["provenance"]
    csv_bytes = (project / "pastes.csv").read_bytes()
    assert prov["data"]["sha256"] == hashlib.sha256(csv_bytes).hexdigest()
    assert prov["data"]["rows"] == int(r("nrow(lme4::Pastes)"))
    assert prov["spec"]["text"] == PASTES_SPEC
    assert prov["spec"]["path"] == str((project / "analysis.yaml").resolve())
    assert prov["seeds"] == {}
    facts = r(
        "list(v = paste(R.version$major, R.version$minor, sep = '.'),"
        " lme4 = packageDescription('lme4')$Version,"
        " lmerTest = packageDescription('lmerTest')$Version,"
        " Matrix = packageDescription('Matrix')$Version,"
        " nloptr = packageDescription('nloptr')$Version,"
        " blas = extSoftVersion()[['BLAS']], lapack = La_library(), la = La_version(),"
        " rng = RNGkind())"
    )
    assert prov["r"]["version"] == facts["v"]
    assert "R" not in prov["r"]["packages"]  # recorded once, as r.version
    for package in ("lme4", "lmerTest", "Matrix", "nloptr"):
        assert prov["r"]["packages"][package] == facts[package]
    assert prov["r"]["blas"] == facts["blas"]
    assert prov["r"]["lapack_library"] == facts["lapack"]
    assert prov["r"]["lapack_version"] == facts["la"]
    assert prov["r"]["rng_kind"] == list(facts["rng"])
    for package in ("pandas", "rpy2", "numpy", "pyyaml"):
        assert prov["python"]["packages"][package] == metadata.version(package)
    assert prov["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert prov["platform"]["machine"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", prov["time"])
    assert prov["command"] == "pylme4 run analysis.yaml --out results"


# ---------------------------------------------------------------------------
# verify
# ---------------------------------------------------------------------------


def test_verify_passes_and_with_r_agrees(results: Path) -> None:
    # The data is beside the spec, not in the results: verify is given the spec.
    done = cli("verify", str(results), "--with-r", "--spec", "analysis.yaml", cwd=results.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK verified against the re-run and R's own script")
    assert "DIFFERENT" not in done.stdout
    assert re.search(r"\d+ files: \d+ numbers, all identical; \d+ texts identical", done.stdout)
    assert "warning" not in done.stderr
    assert "running the exported R script" in done.stderr  # progress on stderr


def test_verify_names_an_edited_number_and_text(results: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(results, edited)
    fixef = (edited / "nested" / "fixef.csv").read_text(encoding="utf-8").splitlines()
    term, estimate, rest = fixef[1].split(",", 2)
    fixef[1] = f"{term},{float(estimate) + 1e-3!r},{rest}"
    (edited / "nested" / "fixef.csv").write_text("\n".join(fixef) + "\n", encoding="utf-8")
    summary = (edited / "ml" / "summary.txt").read_text(encoding="utf-8")
    (edited / "ml" / "summary.txt").write_text(summary.replace("Data: pastes", "Data: paste"))
    data = json.loads((edited / "results.json").read_text(encoding="utf-8"))
    data["provenance"]["r"]["packages"]["lme4"] = "0.0-1"
    (edited / "results.json").write_text(json.dumps(data), encoding="utf-8")

    done = cli("verify", str(edited), "--spec", str(results.parent / "analysis.yaml"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("data unchanged: pastes.csv, sha256 ")
    assert lines[1].startswith("spec unchanged: analysis.yaml, sha256 ")
    lme4 = r("utils::packageDescription('lme4')$Version")
    assert lines[2:4] == ["software CHANGED:", f"  r lme4: 0.0-1 -> {lme4}"]
    assert lines[4] == "differences in 2 file(s) (the first 3 of each):"
    assert lines[5:7] == ["  ml/summary.txt: 1 difference(s)", lines[6]]
    assert lines[6].startswith("    line 3: stored '   Data: paste', now")
    assert lines[7:9] == [
        "  nested/fixef.csv: 1 difference(s)",
        f"    row 1 [(Intercept)], column 'Estimate': "
        f"stored {float(estimate) + 1e-3!r}, now {float(estimate)!r}",
    ]
    assert lines[9].startswith("FAILED 2 difference(s)") and len(lines) == 10


def test_version_changes_name_r_once_also_for_older_results() -> None:
    older = {"r": {"version": "4.2.2", "packages": {"R": "4.2.2", "lme4": "1.1-35"}}}
    now = {"r": {"version": "4.4.1", "packages": {"lme4": "1.1-35"}}}
    assert pipeline.provenance.version_changes(older, now) == ["r version: 4.2.2 -> 4.4.1"]
    assert pipeline.provenance.version_changes(older, {"r": {**now["r"], "version": "4.2.2"}}) == []


def test_verify_fails_when_the_data_changed(results: Path, tmp_path: Path) -> None:
    project = tmp_path / "moved"
    project.mkdir()
    (project / "analysis.yaml").write_text(PASTES_SPEC, encoding="utf-8")
    csv = (results.parent / "pastes.csv").read_text(encoding="utf-8").splitlines()
    csv[1] = csv[1].replace("62.8", "62.9")
    (project / "pastes.csv").write_text("\n".join(csv) + "\n", encoding="utf-8")
    report = pipeline.verify(results, spec_path=project / "analysis.yaml")
    assert not report.ok
    files = {d.file for d in report.differences}
    assert "results.json" in files and "nested/fixef.csv" in files
    assert any(d.where.startswith("provenance.data.sha256") for d in report.differences)


def test_verify_of_a_folder_that_is_not_results(tmp_path: Path) -> None:
    done = cli("verify", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "holds no results.json" in one_error_line(done)


# ---------------------------------------------------------------------------
# export-r
# ---------------------------------------------------------------------------


def test_export_r_script_reproduces_the_stored_numbers(results: Path, tmp_path: Path) -> None:
    script = tmp_path / "scripts" / "analysis.R"
    script.parent.mkdir()
    done = cli("export-r", str(results.parent / "analysis.yaml"), "-o", str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = script.read_text(encoding="utf-8")
    assert "lmerTest::lmer(strength ~ 1 + (1 | batch/cask), data = pastes)" in text
    relative = os.path.relpath(results.parent / "pastes.csv", script.parent)
    assert f'data_file <- file.path(script_dir, "{relative}")' in text
    ran = subprocess.run(
        [shutil.which("Rscript") or "Rscript", str(script), str(tmp_path / "r_out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    for model in ("nested", "ml"):
        assert (tmp_path / "r_out" / model / "summary.txt").read_bytes() == (
            results / model / "summary.txt"
        ).read_bytes()
        for name in ("fixef", "ranef", "var_corr", "stats"):
            from_r = pd.read_csv(tmp_path / "r_out" / model / f"{name}.csv", keep_default_na=False)
            stored = pd.read_csv(results / model / f"{name}.csv", keep_default_na=False)
            assert list(from_r.columns) == list(stored.columns)
            for column in stored.columns:
                a, b = from_r[column], stored[column]
                if pd.api.types.is_numeric_dtype(b):
                    np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), **SAME)
                else:
                    assert list(a.astype(str)) == list(b.astype(str)), (model, name, column)


def test_export_r_to_stdout_is_relative_to_the_current_folder(project: Path) -> None:
    # Without -o the script is for the current folder (`export-r ... > analysis.R`).
    (project / "scripts").mkdir(exist_ok=True)
    done = cli("export-r", "../analysis.yaml", cwd=project / "scripts")
    assert done.returncode == 0
    assert 'data_file <- file.path(script_dir, "../pastes.csv")' in done.stdout
    assert str(project) not in done.stdout  # no absolute path left
    assert 'write_model(fit, "ml")' in done.stdout


# ---------------------------------------------------------------------------
# Bad specs and bad data: exit codes and one-line messages
# ---------------------------------------------------------------------------

BAD = [
    # (id, spec text, exit code, pattern the one line must match)
    (
        "missing_key",
        "data:\n  csv: pastes.csv\nmodels:\n  - name: m\n    reml: false\n",
        2,
        r"bad\.yaml:4: models\[0\]: 'formula' is missing",
    ),
    (
        "unknown_key",
        "data:\n  csv: pastes.csv\nmodels:\n  - name: m\n    formla: strength ~ 1 + (1 | batch)\n",
        2,
        r"bad\.yaml:5: models\[0\]: unknown key 'formla' \(did you mean 'formula'\?\)",
    ),
    (
        "unknown_formula_column",
        "data:\n  csv: pastes.csv\nmodels:\n  - name: m\n    formula: strenght ~ 1 + (1 | batch)\n",
        2,
        r"bad\.yaml:5: models\[0\]\.formula: the formula uses 'strenght', which is not a column "
        r"of pastes\.csv \(did you mean 'strength'\?\)",
    ),
    (
        "unknown_factor_column",
        "data:\n  csv: pastes.csv\n  factors:\n    btch: [A, B]\nmodels:\n"
        "  - name: m\n    formula: strength ~ 1 + (1 | batch)\n",
        2,
        r"bad\.yaml:4: data\.factors\.btch: 'btch' is not a column of pastes\.csv "
        r"\(did you mean 'batch'\?\)",
    ),
    (
        "bad_yaml",
        "data:\n  csv: pastes.csv\nmodels:\n  - name: m\n    formula: [strength ~ 1\n",
        2,
        r"bad\.yaml:6: not valid YAML: ",
    ),
    (
        "missing_data_file",
        "data:\n  csv: nowhere.csv\nmodels:\n  - name: m\n    formula: strength ~ 1 + (1 | batch)\n",
        2,
        r"bad\.yaml:2: data\.csv: data file 'nowhere\.csv' not found",
    ),
    (
        "level_not_listed",
        "data:\n  csv: pastes.csv\n  factors:\n    batch: [A, B]\nmodels:\n"
        "  - name: m\n    formula: strength ~ 1 + (1 | batch)\n",
        3,
        r"bad\.yaml:4: data\.factors\.batch: column 'batch' has values 'C', 'D', 'E', 'F', 'G' "
        r"and 3 more that are not among the levels \['A', 'B'\]",
    ),
    (
        "model_fails",
        "data:\n  csv: pastes.csv\nmodels:\n  - name: fixed_only\n    formula: strength ~ 1\n",
        3,
        r"bad\.yaml:4: models\[0\] \(fixed_only\): the formula has no random-effects term",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_spec_exits_with_one_line(project: Path, tmp_path: Path, case) -> None:
    _, text, code, pattern = case
    shutil.copy(project / "pastes.csv", tmp_path / "pastes.csv")
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    done = cli("run", "bad.yaml", "--out", "out", "-q", cwd=tmp_path)
    assert done.returncode == code, done.stderr
    line = one_error_line(done)
    assert re.search(pattern, line), line
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_exit_codes_of_expected_failures() -> None:
    from pylme4 import cli
    from pylme4.errors import FormulaError, RError, RNotAvailableError

    assert cli._exit_code(SpecError("s")) == cli.EXIT_BAD_SPEC
    assert cli._exit_code(OutputDirError("o")) == cli.EXIT_BAD_SPEC
    for exc in (ModelError("m", DataError("d")), DataError("d"), FormulaError("f"), RError("r")):
        assert cli._exit_code(exc) == cli.EXIT_BAD_DATA, exc
    assert cli._exit_code(ValueError("a bug")) is None
    assert isinstance(RNotAvailableError("no R"), ImportError)  # main() exits EXIT_MISSING


def test_missing_spec_file_and_bad_out_dir(project: Path, tmp_path: Path) -> None:
    done = cli("run", "nothere.yaml", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert one_error_line(done) == "pylme4: error: nothere.yaml: spec file not found"
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    done = cli("run", str(project / "analysis.yaml"), "--out", "notes", cwd=tmp_path)
    assert done.returncode == 2
    assert "is not empty and holds no pylme4 results" in one_error_line(done)
    assert (tmp_path / "notes" / "mine.txt").read_text() == "keep me"


SPEC_ERRORS = [
    ("", r"<s>: the spec is empty"),
    ("- 1\n", r"<s>:1: the spec must be a mapping of keys to values, not a list"),
    (
        "data: {csv: a.csv}\nmodles: []\n",
        r"<s>:2: unknown key 'modles' \(did you mean 'models'\?\)",
    ),
    (
        "data: {csv: a.csv}\nMODELS: []\n",
        r"<s>:2: unknown key 'MODELS' \(did you mean 'models'\?\)",
    ),
    ("data: {csv: a.csv, dataset: x}\nmodels: []\n", r"<s>:1: data: give exactly one of 'csv'"),
    ("data: {csv: a.csv}\nmodels: []\n", r"<s>:2: models: must be a non-empty list"),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: a, formula: y ~ x}\n - {name: a, formula: y ~ z}\n",
        r"<s>:4: models\[1\]\.name: the name 'a' is already used by models\[0\]",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y ~ x\n   ddf: satterthwaite\n",
        r"<s>:5: models\[0\]\.ddf: must be one of Satterthwaite, Kenward-Roger, not "
        r"'satterthwaite' \(did you mean 'Satterthwaite'\?\)",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y ~ x\n   reml: maybe\n",
        r"<s>:5: models\[0\]\.reml: must be true or false, not 'maybe'",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y ~ x\n   boot: {nsim: 10}\n",
        r"<s>:5: models\[0\]\.boot: 'seed' is missing",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y ~ x\n   boot: {nsim: 0, seed: 1}\n",
        r"<s>:5: models\[0\]\.boot\.nsim: must be at least 1, not 0",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y ~ x\n   confint: boot\n",
        r"<s>:5: models\[0\]\.confint: a bootstrap interval needs a seed",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y ~ x\n"
        "   boot: {nsim: 9, seed: 1, type: semiparametric}\n",
        r"<s>:5: models\[0\]\.boot\.type: lme4 implements the semiparametric bootstrap only "
        r"with 'use_u: true'",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: a/b\n   formula: y ~ x\n",
        r"<s>:3: models\[0\]\.name: 'a/b' must be letters, digits",
    ),
    ("data: {csv: a.csv}\nmodels:\n - name: a\n   formula: y + x\n", r"has no '~'"),
    (
        "data: {csv: a.csv, name: 2x}\nmodels: [{name: a, formula: y ~ x}]\n",
        r"not a syntactic R name",
    ),
    (
        "data: {csv: a.csv, name: fit}\nmodels: [{name: a, formula: y ~ x}]\n",
        r"<s>:1: data\.name: 'fit' is a name the exported R script uses for itself",
    ),
    (
        "data:\n  csv: a.csv\n  factors:\n    g: [a, b, a]\nmodels: [{name: a, formula: y ~ g}]\n",
        r"<s>:4: data\.factors\.g: level 'a' is listed twice",
    ),
    (
        "data:\n  csv: a.csv\n  csv: b.csv\nmodels: []\n",
        r"<s>:3: data: duplicate key 'csv' \(first given on line 2\)",
    ),
]


@pytest.mark.parametrize("text,pattern", SPEC_ERRORS)
def test_spec_errors_name_line_and_key(text: str, pattern: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="<s>")
    message = str(info.value)
    assert "\n" not in message
    assert re.match(pattern, message) or re.search(pattern, message), message


def test_spec_defaults_and_levels_as_r_text() -> None:
    spec = parse_spec(
        "data:\n  csv: data/my-file.csv\n  factors:\n"
        "    g: [b, 'a', 10, 2.50, TRUE, yes]\n"
        "models:\n  - name: m\n    formula: |\n      y ~ x +\n        (1 | g)\n",
        source="s.yaml",
        base_dir="/tmp",
    )
    assert spec.data.name == "my_file"
    assert spec.data.factors["g"] == ("b", "a", 10, 2.5, True, "yes")
    _, labels = factor_text(pd.Series(["b"]), spec.data.factors["g"])
    assert labels == ("b", "a", "10", "2.5", "TRUE", "yes")
    model = spec.models[0]
    assert (model.formula, model.reml, model.ddf, model.boot) == (
        "y ~ x + (1 | g)",
        True,
        None,
        None,
    )
    assert spec.csv_path == Path("/tmp/data/my-file.csv")
    assert spec.where("models[0].formula") == "s.yaml:7"
    assert spec.where("models[0].boot.nsim") == "s.yaml:6"


# ---------------------------------------------------------------------------
# Data: read as read.csv reads it; factor levels as the spec says
# ---------------------------------------------------------------------------


def test_csv_is_read_as_r_reads_it(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        'id,"my score",group,flag,label,n\n'
        "1,0.1,10,TRUE,a,3\n"
        "2,,2,FALSE,,NA\n"
        '3,1e-3,10,NA,"b, c",5\n'
        "4,123456789.123456789,2,TRUE,NA,7\n",
        encoding="utf-8",
    )
    spec = parse_spec(
        "data:\n  csv: d.csv\n  factors:\n    group: [10, 2]\n"
        "models: [{name: m, formula: my ~ x}]\n",
        base_dir=tmp_path,
    )
    frame = load_data(spec).frame
    same = r_apply(
        """function(d, path) {
          r <- read.csv(path, na.strings = c("NA", ""), check.names = FALSE)
          r$group <- factor(r$group, levels = c("10", "2"))
          all(names(d) == names(r)) && all(mapply(function(a, b) {
            if (is.factor(b)) identical(levels(a), levels(b)) && identical(as.integer(a), as.integer(b))
            else if (is.numeric(b)) identical(as.double(a), as.double(b))
            else identical(a, b)
          }, d, r))
        }""",
        frame,
        str(tmp_path / "d.csv"),
    )
    assert same is True
    assert list(frame["group"].cat.categories) == ["10", "2"]


def test_numeric_levels_are_rs_text_in_run_verify_and_export_r(tmp_path: Path) -> None:
    # R writes 0.0001 as "1e-04" and 1e5 as "1e+05": the spec's numbers and the
    # column's values must both be R's text, in pylme4 and in the exported script.
    rows = [
        (d, g, 1.0 + i * 0.37 + (i % 3) * 0.11)
        for i, (d, g) in enumerate((d, g) for g in "abcd" for d in ("0.0001", "0.001", "100000"))
    ]
    (tmp_path / "d.csv").write_text(
        "dose,g,y\n" + "".join(f"{d},{g},{y!r}\n" for d, g, y in rows), encoding="utf-8"
    )
    (tmp_path / "s.yaml").write_text(
        "data:\n  csv: d.csv\n  factors:\n    dose: [0.001, 0.0001, 100000.0]\n"
        "models: [{name: m, formula: y ~ dose + (1 | g)}]\n",
        encoding="utf-8",
    )
    spec = pipeline.load_spec(tmp_path / "s.yaml")
    expected = r(
        f"levels(factor(read.csv('{tmp_path / 'd.csv'}')$dose, levels = c(0.001, 0.0001, 1e5)))"
    )
    assert list(expected) == ["0.001", "1e-04", "1e+05"]
    assert list(load_data(spec).frame["dose"].cat.categories) == list(expected)
    result = pipeline.run(spec, tmp_path / "out")
    assert result.results["spec"]["data"]["factors"]["dose"] == list(expected)
    report = pipeline.verify(tmp_path / "out", with_r=True, spec_path=tmp_path / "s.yaml")
    assert report.ok, report.differences
    fixef = pd.read_csv(tmp_path / "out" / "m" / "fixef.csv")
    assert list(fixef["term"]) == ["(Intercept)", "dose1e-04", "dose1e+05"]

    duplicate = parse_spec(
        "data:\n  csv: d.csv\n  factors:\n    dose: [1, 1.0]\n"
        "models: [{name: m, formula: y ~ dose}]\n",
        source="s.yaml",
        base_dir=tmp_path,
    )
    with pytest.raises(
        SpecError,
        match=r"s\.yaml:4: data\.factors\.dose: levels 1 and 1\.0 "
        r"are both '1' in R",
    ):
        load_data(duplicate)


def test_unknown_dataset_or_package_is_a_spec_error() -> None:
    from pylme4 import datasets

    assert datasets.find("sleepstudy") == "lme4"
    assert datasets.find("iris") == "datasets"
    assert datasets.find("iris", "lme4") is None
    spec = parse_spec("data: {dataset: sleepstudyy}\nmodels: [{name: a, formula: y ~ x}]\n")
    assert datasets.search_order()[:2] == ("lme4", "datasets")
    packages = re.escape(", ".join(datasets.search_order()))
    with pytest.raises(
        SpecError,
        match=r"<spec>:1: data\.dataset: no data set 'sleepstudyy' in R package\(s\) "
        + packages
        + r" \(did you mean 'sleepstudy'\?\)",
    ):
        load_data(spec)
    spec = parse_spec(
        "data: {dataset: iris, package: nosuchpkg}\nmodels: [{name: a, formula: y ~ x}]\n"
    )
    with pytest.raises(SpecError, match=r"data\.package: R cannot list .* 'nosuchpkg'"):
        load_data(spec)


def test_dataset_and_bundled_example_csv_are_lme4_data() -> None:
    spec = pipeline.load_spec(ROOT / "examples" / "lecture_csv.yaml")
    loaded = load_data(spec)
    assert loaded.source["rows"] == 180
    same = r_apply(
        "function(d) { s <- lme4::sleepstudy; identical(d$reaction, s$Reaction) && "
        "identical(as.double(d$days), as.double(s$Days)) && "
        "identical(levels(d$subject), levels(s$Subject)) && "
        "identical(as.integer(d$subject), as.integer(s$Subject)) }",
        loaded.frame,
    )
    assert same is True


# ---------------------------------------------------------------------------
# The library: messages, atomic output folders
# ---------------------------------------------------------------------------


def test_r_messages_are_recorded_not_printed(tmp_path: Path, capsys) -> None:
    spec = parse_spec(
        "data: {dataset: Dyestuff2}\nmodels: [{name: singular, formula: Yield ~ 1 + (1 | Batch)}]\n",
        source="s.yaml",
    )
    result = pipeline.run(spec, tmp_path / "out")
    expected = r(
        "msgs <- character()\n"
        "invisible(withCallingHandlers(lmer(Yield ~ 1 + (1 | Batch), data = Dyestuff2),\n"
        "  message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart('muffleMessage') }))\n"
        "sub('\\n$', '', msgs)"
    )
    recorded = result.results["models"]["singular"]["messages"]
    assert [m["text"] for m in recorded] == [expected]
    assert result.messages == (("singular", expected),)
    assert capsys.readouterr() == ("", "")
    assert result.results["models"]["singular"]["singular"] is True
    assert result.results["provenance"]["data"]["kind"] == "dataset"


def test_failed_run_leaves_earlier_results_untouched(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    good = pipeline.load_spec(project / "analysis.yaml")
    pipeline.run(good, out)
    before = (out / "results.json").read_bytes()
    bad = parse_spec(
        PASTES_SPEC + "  - name: broken\n    formula: strength ~ 1\n",
        source="bad.yaml",
        base_dir=project,
    )
    with pytest.raises(ModelError, match=r"models\[2\] \(broken\)"):
        pipeline.run(bad, out, force=True)
    assert (out / "results.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with pytest.raises(OutputDirError):
        pipeline.run(good, project / "pastes.csv")


def test_values_outside_levels_are_data_errors(project: Path) -> None:
    spec = parse_spec(
        "data:\n  csv: pastes.csv\n  factors:\n    cask: [a, b]\n"
        "models: [{name: m, formula: strength ~ 1 + (1 | cask)}]\n",
        source="s.yaml",
        base_dir=project,
    )
    with pytest.raises(
        DataError, match=r"s\.yaml:4: data\.factors\.cask: column 'cask' has values 'c'"
    ):
        pipeline.run(spec, project / "never")


# ---------------------------------------------------------------------------
# examples/
# ---------------------------------------------------------------------------


def test_lecture_example_runs_as_is(tmp_path: Path) -> None:
    spec = pipeline.load_spec(ROOT / "examples" / "lecture.yaml")
    pipeline.run(spec, tmp_path / "lecture")
    expected = r(
        "paste(capture.output(print(summary(lmerTest::lmer(Reaction ~ 1 + Days + (1 + Days | Subject),"
        " data = sleepstudy), ddf = 'Satterthwaite'))), collapse = '\\n')"
    )
    assert (tmp_path / "lecture" / "partial_pooling" / "summary.txt").read_text() == expected + "\n"
    two_terms = pd.read_csv(tmp_path / "lecture" / "two_terms" / "ranef.csv")
    reference = r(
        "as.data.frame(ranef(lmer(Reaction ~ 1 + Days + (0 + Days | Subject) + (1 | Subject),"
        " data = sleepstudy), condVar = TRUE))"
    )
    np.testing.assert_allclose(
        two_terms[["condval", "condsd"]], reference[["condval", "condsd"]], **SAME
    )
    # The bootstrap ran in 2 worker processes; its replicates are R's serial bootMer's.
    boot = pd.read_csv(tmp_path / "lecture" / "partial_pooling" / "boot.csv")
    t = r(
        "fit <- lmerTest::lmer(Reaction ~ 1 + Days + (1 + Days | Subject), data = sleepstudy)\n"
        "bootMer(fit, FUN = fixef, nsim = 100, seed = 1)$t"
    )
    np.testing.assert_array_equal(boot[["(Intercept)", "Days"]].to_numpy(), t.to_numpy())


def test_csv_example_runs_and_verifies_from_the_command_line(tmp_path: Path) -> None:
    done = cli("run", str(ROOT / "examples" / "lecture_csv.yaml"), "--out", "res", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[1/2] fitting partial_pooling" in done.stderr
    assert "Data: df.sleep" in (tmp_path / "res" / "partial_pooling" / "summary.txt").read_text()
    spec = str(ROOT / "examples" / "lecture_csv.yaml")
    done = cli("verify", "res", "-q", "--spec", spec, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert done.stderr == ""


# ---------------------------------------------------------------------------
# doctor
# ---------------------------------------------------------------------------


def test_doctor_reports_r_and_its_packages(tmp_path: Path) -> None:
    done = cli("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    versions = r(
        "vapply(c('lme4', 'lmerTest', 'boot', 'pbkrtest', 'optimx', 'dfoptim'),"
        " function(p) utils::packageDescription(p, fields = 'Version'), '')"
    )
    line = next(x for x in done.stdout.splitlines() if "R packages:" in x)
    for package, version in versions.items():
        assert f"{package} {version}" in line
    r_version = r("paste(R.version$major, R.version$minor, sep = '.')")
    assert re.search(rf"^ok +R: {re.escape(r_version)} ", done.stdout, re.M)
    assert re.search(r"^ok +embedded R: rpy2 starts R", done.stdout, re.M)
    assert f"ok       rpy2: {metadata.version('rpy2')}" in done.stdout
    # Every dependency pyproject.toml declares (as installed), tqdm too.
    for requirement in metadata.requires("pylme4") or []:
        if ";" not in requirement:
            dist = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
            assert f"ok       {dist}: {metadata.version(dist)}" in done.stdout, dist
    assert f"ok       tqdm: {metadata.version('tqdm')}" in done.stdout


def test_doctor_reads_the_requirements_pylme4_was_installed_with(monkeypatch) -> None:
    from pylme4 import doctor

    requires = [
        "numpy>=1.24",
        "rpy2<3.6,>=3.5.17",
        "PyYAML>=6.0",
        "x[y]>=1",
        'mpl; extra == "plot"',
    ]
    monkeypatch.setattr(doctor.metadata, "requires", lambda name: requires)
    assert doctor.python_requirements() == {
        "numpy": "numpy>=1.24",
        "rpy2": "rpy2>=3.5.17,<3.6",
        "pyyaml": "PyYAML>=6.0",
        "x": "x[y]>=1",
    }

    def not_installed(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(doctor.metadata, "requires", not_installed)
    [check] = doctor.check_python_packages()
    assert (check.name, check.ok, check.fix) == ("pylme4", False, "make setup")


def test_doctor_without_r_says_how_to_install_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("R_HOME", "PATH")}
    env["PATH"] = str(tmp_path)  # no R, no Rscript
    done = cli("doctor", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert "PROBLEM  R: Rscript is not on PATH" in done.stdout
    fix = next(x for x in done.stdout.splitlines() if x.strip().startswith("fix:"))
    assert "r-base-core" in fix or "cloud.r-project.org" in fix
    assert "embedded R" not in done.stdout


def test_verify_with_r_without_rscript_says_how_to_install_r(project: Path, tmp_path: Path) -> None:
    pipeline.run(pipeline.load_spec(project / "analysis.yaml"), tmp_path / "results")
    with pytest.raises(
        RNotAvailableError, match=r"^Rscript is not on PATH; install R .*make setup"
    ):
        pipeline.verify(
            tmp_path / "results",
            spec_path=project / "analysis.yaml",
            with_r=True,
            rscript="no-such-Rscript",
        )


def test_doctor_without_rpy2_says_how_to_install_it(tmp_path: Path) -> None:
    code = "import sys; sys.modules['rpy2'] = None; from pylme4.cli import main; sys.exit(main(['doctor']))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 1
    assert "PROBLEM  rpy2: cannot be imported" in done.stdout
    assert f"fix: {sys.executable} -m pip install 'rpy2>=3.5.17,<3.6'" in done.stdout


def test_run_without_r_exits_with_one_line(project: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("R_HOME", "PATH")}
    env["PATH"] = str(tmp_path)
    done = cli("run", str(project / "analysis.yaml"), "--out", "out", "-q", cwd=tmp_path, env=env)
    assert done.returncode == 4
    assert "make setup" in one_error_line(done)


# ---------------------------------------------------------------------------
# Docker: the image installs through the README's `make setup`
# ---------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), " ".join(rest.split())))
    return out


def test_dockerfile_installs_with_the_readmes_make_setup() -> None:
    steps = _dockerfile_instructions()
    froms = [arg for kw, arg in steps if kw == "FROM"]
    assert froms and all(
        re.match(r"debian:bookworm(-slim)?(@sha256:[0-9a-f]+)?$", f) for f in froms
    )
    runs = [arg for kw, arg in steps if kw == "RUN"]
    installs = [cmd for cmd in runs if re.search(r"(^|&& )make setup( |$)", cmd)]
    assert len(installs) == 1, runs
    # R and the R packages come from `make setup` (the Makefile's R_DEBS), not
    # from a second list in the Dockerfile that could drift from it.
    assert not any(re.search(r"\br-(base|cran)-", cmd) for cmd in runs)
    assert ("ENTRYPOINT", '["pylme4"]') in steps

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make setup" in readme
    assert "docker run -v $PWD:/work IMAGE run /work/analysis.yaml --out /work/results" in readme
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^setup:", makefile, re.M)
    assert 'pylme4 = "pylme4.cli:main"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    # The host's .venv must not be copied in: `make setup` would reuse it.
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored


def test_readme_spec_is_a_valid_spec() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# analysis\.yaml\n.*?)```", readme, re.S)
    assert block is not None
    spec = parse_spec(block.group(1), source="README.md")
    assert spec.data.factors["batch"] == tuple("ABCDEFGHIJ")
    assert spec.models[0].ddf == "Satterthwaite"


def test_verify_after_the_spec_and_data_moved(project: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(project / "pastes.csv", first / "pastes.csv")
    (first / "analysis.yaml").write_text(PASTES_SPEC, encoding="utf-8")
    pipeline.run(pipeline.load_spec(first / "analysis.yaml"), tmp_path / "results")
    moved = first.rename(tmp_path / "moved")
    with pytest.raises(
        SpecError, match=r"data file 'pastes\.csv' not found .*give the spec with --spec"
    ):
        pipeline.verify(tmp_path / "results")
    report = pipeline.verify(tmp_path / "results", spec_path=moved / "analysis.yaml")
    assert report.ok, report.differences
    assert report.numbers == report.identical > 0


def test_exported_script_takes_every_r_function_from_script_r(project: Path) -> None:
    # The script is script.R verbatim (the file pylme4's own R sources)
    # followed by generated calls: no R function is written anywhere else.
    from pylme4.pipeline.export_r import script_helpers

    spec = pipeline.load_spec(project / "analysis.yaml")
    spec = dataclasses.replace(
        spec,
        models=(
            *spec.models,
            ModelSpec(
                name="all",
                formula="strength ~ 1 + (1 | batch)",
                boot=BootSpec(nsim=2, seed=1, fun="var_corr"),
                all_fit=True,
                confint=ConfintSpec(method="boot", nsim=2, seed=1),
            ),
            ModelSpec(
                name="tools",
                formula=". ~ . - 1",
                update="all",
                reml=False,
                drop1=pipeline.Drop1Spec(),
                step=pipeline.StepSpec(),
                contest={"c": pipeline.ContestSpec(L=((1.0,),))},
                ls_means=pipeline.LsMeansSpec(which=("batch",)),
                difflsmeans=pipeline.LsMeansSpec(),
            ),
        ),
        compare=(pipeline.CompareSpec(name="cmp", models=("all", "tools")),),
    )
    text = pipeline.export_r(spec)
    for writer in ("drop1", "step", "contest", "ls_means", "difflsmeans", "compare"):
        assert f"pylme4_write_{writer}(" in text, writer
    helpers = script_helpers()
    assert text.count(helpers) == 1
    generated = text.replace(helpers, "")
    parsed = r_apply(
        # (the text travels in a list: a lone string would become the argument list)
        "function(x) {"
        "  d <- utils::getParseData(parse(text = x$code, keep.source = TRUE));"
        "  list(keywords = unique(d$token[d$token == 'FUNCTION']),"
        "       calls = unique(d$text[d$token == 'SYMBOL_FUNCTION_CALL']))"
        "}",
        {"code": generated},
    )
    assert np.size(parsed["keywords"]) == 0, "the generated part defines a function"
    defined = r_apply(
        "function(x) { e <- new.env(); eval(parse(text = x$code), e); as.list(ls(e)) }",
        {"code": helpers},
    )
    called = {c for c in np.atleast_1d(parsed["calls"]) if c.startswith("pylme4_")}
    assert called and called <= set(defined)
    # script.R needs none of pylme4's other R files (the script has only it).
    inside = r_apply(
        "function(x) { d <- utils::getParseData(parse(text = x$code, keep.source = TRUE));"
        "  as.list(unique(d$text[d$token == 'SYMBOL_FUNCTION_CALL'])) }",
        {"code": helpers},
    )
    assert {c for c in inside if c.startswith("pylme4_")} <= set(defined)
    # The embedded R sources script.R too: its helpers are the script's.
    from pylme4._r.call import r_value
    from pylme4.options import BOOT_STATISTICS

    from_script = (
        "function(x) { e <- new.env(); eval(parse(text = x$code), e);"
        " e$pylme4_boot_fun_code(x$name) }"
    )
    for name in BOOT_STATISTICS:
        embedded = r_value("pylme4_boot_fun_code", name, doing="test")
        assert embedded == r_apply(from_script, {"code": helpers, "name": name}), name


def test_exported_script_binds_only_names_the_data_cannot_take(project: Path) -> None:
    spec = pipeline.load_spec(project / "analysis.yaml")
    text = pipeline.export_r(spec)
    bound = set(re.findall(r"^([A-Za-z.][A-Za-z0-9._]*) <- ", text, re.M))
    assert {name for name in bound if not script_binds(name)} == {"pastes"}
    assert "fit" in bound and "pylme4_write_model" in bound
    # Models that update: or compare: refer to are kept in `fits`.
    variant = ModelSpec(name="v", update="ml", formula=". ~ . - 1")
    text = pipeline.export_r(dataclasses.replace(spec, models=(*spec.models, variant)))
    bound = set(re.findall(r"^([A-Za-z.][A-Za-z0-9._]*) <- ", text, re.M))
    assert {name for name in bound if not script_binds(name)} == {"pastes"}
    assert "fits" in bound and 'fits[["ml"]] <- fit' in text
    spec = parse_spec("data: {csv: fit.csv}\nmodels: [{name: a, formula: y ~ x}]\n")
    assert spec.data.name == "fit_data"


def test_unreadable_or_empty_csv_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    (tmp_path / "header.csv").write_text("y,g\n", encoding="utf-8")
    for name, message in (
        ("empty.csv", r"s\.yaml:1: data\.csv: cannot read empty\.csv as CSV: "),
        ("header.csv", r"header\.csv has no rows"),
    ):
        spec = parse_spec(
            f"data: {{csv: {name}}}\nmodels: [{{name: m, formula: y ~ (1 | g)}}]\n",
            source="s.yaml",
            base_dir=tmp_path,
        )
        with pytest.raises(DataError, match=message):
            load_data(spec)


# ---------------------------------------------------------------------------
# Optional outputs: boot, all_fit, confint
# ---------------------------------------------------------------------------

OPTIONAL_SPEC = """\
data:
  dataset: sleepstudy
models:
  - name: main
    formula: "Reaction ~ Days + (Days | Subject)"
    ddf: Satterthwaite
    boot: {nsim: 20, seed: 1, workers: 2}
    all_fit: true
    confint: Wald
  - name: vc
    formula: "Reaction ~ Days + (1 | Subject)"
    boot: {nsim: 10, seed: 2, fun: var_corr}
    confint: {method: boot, nsim: 20, seed: 3, level: 0.9}
  - name: sig
    formula: "Reaction ~ Days + (1 | Subject)"
    reml: false
    boot: {nsim: 10, seed: 2, fun: sigma, type: semiparametric, use_u: true}
    confint: profile
  - name: th
    formula: "Reaction ~ Days + (Days || Subject)"
    boot: {nsim: 10, seed: 4, fun: theta}
"""


def test_boot_all_fit_confint_outputs_are_rs_own(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(OPTIONAL_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "spec.yaml")
    result = pipeline.run(spec, tmp_path / "results")
    # What run() returns is results.json as written (verify compares the two).
    written = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert written == result.results
    models = result.results["models"]
    assert models["main"]["files"] == [
        "summary.txt", "fixef.csv", "ranef.csv", "var_corr.csv", "stats.csv",
        "boot.csv", "boot_ci.csv", "all_fit.csv", "confint.csv", "boot.txt",
    ]  # fmt: skip
    assert result.results["provenance"]["seeds"] == {
        "main.boot": 1, "vc.boot": 2, "vc.confint": 3, "sig.boot": 2, "th.boot": 4,
    }  # fmt: skip

    # The same analysis in R alone: R's bootMer, allFit and confint.
    script = tmp_path / "analysis.R"
    script.write_text(pipeline.export_r(spec, script_path=script), encoding="utf-8")
    text = script.read_text(encoding="utf-8")
    # One call of an output's R writer (script.R) per output, with the spec's values.
    assert (
        'pylme4_write_boot(fit, "main", nsim = 20, seed = 1, workers = 2, fun = "fixef", '
        'type = "parametric", use_u = FALSE)'
    ) in text
    assert 'fun = "sigma", type = "semiparametric", use_u = TRUE)' in text
    assert (
        'pylme4_write_confint(fit, "vc", method = "boot", level = 0.9, nsim = 20, seed = 3, '
        "workers = 1)" in text
    )
    ran = subprocess.run(
        [shutil.which("Rscript") or "Rscript", str(script), str(tmp_path / "r")],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr
    for model, entry in models.items():
        for file in entry["files"]:
            ours, rs = tmp_path / "results" / model / file, tmp_path / "r" / model / file
            if file.endswith(".txt"):
                assert ours.read_text(encoding="utf-8") == rs.read_text(encoding="utf-8"), file
                continue
            a = pd.read_csv(ours, keep_default_na=False, na_values=["NA"])
            b = pd.read_csv(rs, keep_default_na=False, na_values=["NA"])
            assert list(a.columns) == list(b.columns), (model, file)
            for column in a.columns:
                if pd.api.types.is_numeric_dtype(b[column]) and pd.api.types.is_numeric_dtype(
                    a[column]
                ):
                    np.testing.assert_allclose(
                        a[column], b[column], **SAME, err_msg=f"{model}/{file}"
                    )
                else:
                    assert list(a[column].astype(str)) == list(b[column].astype(str)), (model, file)
    assert "Call:\nbootMer(x = fit, FUN = fixef, nsim = 20, seed = 1)" in (
        tmp_path / "results" / "main" / "boot.txt"
    ).read_text(encoding="utf-8")
    all_fit = pd.read_csv(tmp_path / "results" / "main" / "all_fit.csv")
    assert "bobyqa" in set(all_fit["optimizer"]) and all_fit["ok"].all()
    assert not any(c.startswith("times") for c in all_fit.columns)


# ---------------------------------------------------------------------------
# Variants (update:), lmerTest's tools, comparisons (compare:)
# ---------------------------------------------------------------------------

SLEEP_TOOLS_SPEC = """\
data:
  dataset: sleepstudy
models:
  - name: m0
    formula: "Reaction ~ Days + (Days | Subject)"
    drop1: true
    confint: {method: profile, workers: 2}
  - name: m1
    update: m0
    formula: ". ~ . - Days"
  - name: ml
    update: m0
    reml: false
    ddf: Satterthwaite
    contest:
      days: {L: [0, 1]}
      both: {L: [[1, 0], [0, 1]], joint: false}
  - name: zcp
    formula: "Reaction ~ Days + (Days || Subject)"
  - name: zcp1
    update: zcp
    formula: ". ~ . - Days"
compare:
  - name: days_effect
    models: [m0, m1]
  - name: reml_ml
    models: [m0, ml]
    refit: false
"""

# The same analysis typed in R (m0, m1, ml bound to their names).
SLEEP_TOOLS_R = """
sleepstudy <- lme4::sleepstudy
m0 <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)
m1 <- update(m0, . ~ . - Days)
ml <- update(m0, REML = FALSE)
lt0 <- lmerTest::as_lmerModLmerTest(m0)
ltml <- lmerTest::as_lmerModLmerTest(ml)
text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
"""


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=["NA"])


def _same_table(path: Path, expected: pd.DataFrame, first: str) -> None:
    """A CSV written with R's row names as column ``first``, against R's table."""
    ours = _csv(path)
    assert list(ours.columns) == [first, *expected.columns], path
    assert list(ours[first].astype(str)) == [str(i) for i in expected.index], path
    np.testing.assert_allclose(
        ours.iloc[:, 1:].to_numpy(float), expected.to_numpy(float), **SAME, err_msg=str(path)
    )


def _verify_with_r(out: Path) -> None:
    report = pipeline.verify(out, with_r=True)
    assert report.ok, [str(d) for d in report.differences]
    assert report.numbers == report.identical > 0


def test_update_drop1_contest_profile_and_compare_are_rs_own(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SLEEP_TOOLS_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "spec.yaml")
    out = tmp_path / "results"
    result = pipeline.run(spec, out)
    models = result.results["models"]
    ref = r(
        SLEEP_TOOLS_R
        + """
        d <- drop1(lt0, ddf = "Satterthwaite")
        c1 <- lmerTest::contest(ltml, c(0, 1), joint = TRUE, ddf = "Satterthwaite")
        c2 <- lmerTest::contest(ltml, rbind(c(1, 0), c(0, 1)), joint = FALSE,
                                ddf = "Satterthwaite")
        a1 <- anova(m0, m1)
        a2 <- suppressWarnings(anova(m0, ml, refit = FALSE))
        a2_warning <- tryCatch(anova(m0, ml, refit = FALSE), warning = conditionMessage)
        zcp <- lmer(Reaction ~ Days + (Days || Subject), data = sleepstudy)
        zcp1 <- update(zcp, . ~ . - Days)
        list(m1 = text(summary(m1)), ml = text(summary(ltml, ddf = "Satterthwaite")),
             zcp1 = text(summary(zcp1)),
             zcp1_formula = paste(deparse(formula(zcp1)), collapse = " "),
             m1_formula = paste(deparse(formula(m1)), collapse = " "),
             drop1 = as.data.frame(d, check.names = FALSE), drop1_text = text(d),
             c1 = as.data.frame(c1, check.names = FALSE), c1_text = text(c1),
             c2 = as.data.frame(c2, check.names = FALSE), c2_text = text(c2),
             c1_rows = I(rownames(c1)), c2_rows = I(rownames(c2)),
             a1 = as.data.frame(a1, check.names = FALSE), a1_text = text(a1),
             a2 = as.data.frame(a2, check.names = FALSE), a2_text = text(a2),
             a2_warning = a2_warning,
             ci = as.data.frame(confint(m0, method = "profile")))
        """
    )
    # update(): R's update() fits the same model, printed with the same formula.
    assert (out / "m1" / "summary.txt").read_text(encoding="utf-8") == ref["m1"] + "\n"
    assert (out / "ml" / "summary.txt").read_text(encoding="utf-8") == ref["ml"] + "\n"
    assert models["m1"]["formula"] == ref["m1_formula"] == "Reaction ~ (Days | Subject)"
    assert models["m1"]["update"] == "m0" and models["ml"]["update"] == "m0"
    # update() starts from the formula lme4 keeps, with (Days || Subject) expanded.
    assert (out / "zcp1" / "summary.txt").read_text(encoding="utf-8") == ref["zcp1"] + "\n"
    assert models["zcp1"]["formula"] == ref["zcp1_formula"]
    assert spec.model("ml").reml is False and spec.model("m1").reml is True  # inherited

    assert (out / "m0" / "drop1.txt").read_text(encoding="utf-8") == ref["drop1_text"] + "\n"
    _same_table(out / "m0" / "drop1.csv", ref["drop1"], "term")

    contest_text = (out / "ml" / "contest.txt").read_text(encoding="utf-8")
    assert contest_text == f"days:\n{ref['c1_text']}\n\nboth:\n{ref['c2_text']}\n"
    contest = _csv(out / "ml" / "contest.csv")
    assert list(contest.columns) == ["contrast", "row", "statistic", "value"]
    for name, key in (("days", "c1"), ("both", "c2")):
        mine, table = contest[contest["contrast"] == name], ref[key]
        assert list(mine["statistic"]) == list(table.columns) * len(table)
        rows = [str(i) for i in ref[f"{key}_rows"] for _ in table.columns]
        assert list(mine["row"].astype(str)) == rows
        np.testing.assert_allclose(mine["value"], table.to_numpy(float).ravel(), **SAME)

    for name, key in (("days_effect", "a1"), ("reml_ml", "a2")):
        assert (out / name / "anova.txt").read_text(encoding="utf-8") == ref[f"{key}_text"] + "\n"
        _same_table(out / name / "anova.csv", ref[key], "model")
    compare = result.results["compare"]
    assert compare["days_effect"]["models"] == ["m0", "m1"]
    assert compare["days_effect"]["refit"] is True
    assert compare["days_effect"]["messages"] == [
        {"kind": "message", "text": "refitting model(s) with ML (instead of REML)"}
    ]
    assert compare["reml_ml"]["messages"] == [{"kind": "warning", "text": ref["a2_warning"]}]

    # Profile intervals on 2 workers: lme4's confint(method = "profile").
    _same_table(out / "m0" / "confint.csv", ref["ci"], "parameter")
    assert result.results["spec"]["models"][0]["confint"]["workers"] == 2

    # The exported script writes R's calls: update() of the kept fit, anova() of named fits.
    script = pipeline.export_r(spec)
    assert 'fit <- update(fits[["m0"]], . ~ . - Days)\n' in script
    assert 'fit <- update(fits[["m0"]], REML = FALSE)\n' in script
    assert 'pylme4_write_drop1(fit, "m0", ddf = "Satterthwaite")' in script
    assert (
        'pylme4_write_compare(list("m0" = fits[["m0"]], "m1" = fits[["m1"]]), '
        '"days_effect", refit = TRUE)'
    ) in script
    # verify --with-r: the re-run and R's own script (Rscript) give the same numbers.
    _verify_with_r(out)


HAM_SPEC = """\
data:
  dataset: ham
  package: lmerTest
models:
  - name: full
    formula: "Informed.liking ~ Product * Information + (1 | Consumer) + (1 | Product:Consumer)"
    ddf: Satterthwaite
    step: {alpha_fixed: 0.1}
    ls_means: {which: [Product]}
    difflsmeans: {which: Information, level: 0.9}
    drop1: {ddf: lme4}
    contest:
      p2: {L: [0, 1, 0, 0, 0, 0, 0, 0]}
  - name: additive
    update: full
    formula: ". ~ . - Product:Information"
    ls_means: true
    step: {reduce_random: false, reduce_fixed: false}
compare:
  - name: interaction
    models: [additive, full]
"""


def test_step_ls_means_difflsmeans_on_ham_are_lmertests_own(tmp_path: Path) -> None:
    (tmp_path / "ham.yaml").write_text(HAM_SPEC, encoding="utf-8")
    out = tmp_path / "results"
    result = pipeline.run(pipeline.load_spec(tmp_path / "ham.yaml"), out)
    ref = r(
        """
        ham <- lmerTest::ham
        full <- lmerTest::lmer(Informed.liking ~ Product * Information + (1 | Consumer) +
                                 (1 | Product:Consumer), data = ham)
        additive <- update(full, . ~ . - Product:Information)
        text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
        df <- function(x) as.data.frame(unclass(x), check.names = FALSE, row.names = rownames(x))
        s <- lmerTest::step(full, alpha.fixed = 0.1)
        s2 <- lmerTest::step(additive, reduce.random = FALSE, reduce.fixed = FALSE)
        lm1 <- lmerTest::ls_means(full, which = "Product")
        dl <- lmerTest::difflsmeans(full, which = "Information", level = 0.9)
        lm2 <- lmerTest::ls_means(additive)
        d <- drop1(full, ddf = "lme4")
        a <- anova(additive, full)
        list(step = text(s), step_random = df(s$random), step_fixed = df(s$fixed),
             step_formula = paste(deparse(formula(lmerTest::get_model(s)), width.cutoff = 500L),
                                  collapse = " "),
             step2 = text(s2), ls1 = df(lm1), ls1_text = text(lm1), dl = df(dl),
             dl_text = text(dl), ls2 = df(lm2), drop1 = df(d), drop1_text = text(d),
             full = text(summary(full)), additive = text(summary(as(additive, "lmerMod"))),
             anova = text(a))
        """
    )
    full = out / "full"
    assert (full / "step.txt").read_text(encoding="utf-8") == ref["step"] + "\n"
    _same_table(full / "step_random.csv", ref["step_random"], "term")
    _same_table(full / "step_fixed.csv", ref["step_fixed"], "term")
    assert result.results["models"]["full"]["step_formula"] == ref["step_formula"]
    assert (out / "additive" / "step.txt").read_text(encoding="utf-8") == ref["step2"] + "\n"
    assert (full / "ls_means.txt").read_text(encoding="utf-8") == ref["ls1_text"] + "\n"
    _same_table(full / "ls_means.csv", ref["ls1"], "term")
    assert (full / "difflsmeans.txt").read_text(encoding="utf-8") == ref["dl_text"] + "\n"
    _same_table(full / "difflsmeans.csv", ref["dl"], "term")
    _same_table(out / "additive" / "ls_means.csv", ref["ls2"], "term")
    assert (full / "drop1.txt").read_text(encoding="utf-8") == ref["drop1_text"] + "\n"
    _same_table(full / "drop1.csv", ref["drop1"], "term")
    # The base model's summary is lmerTest's (ddf); its variant's, without ddf, lme4's.
    assert (full / "summary.txt").read_text(encoding="utf-8") == ref["full"] + "\n"
    assert (out / "additive" / "summary.txt").read_text(encoding="utf-8") == ref["additive"] + "\n"
    assert (out / "interaction" / "anova.txt").read_text(encoding="utf-8") == ref["anova"] + "\n"
    _verify_with_r(out)


VARIANT_ERRORS = [
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, formula: y ~ x}\n - {name: m1, update: m00}\n",
        r"<s>:4: models\[1\]\.update: no model 'm00' above this one \(did you mean 'm0'\?\); "
        r"the models above: m0",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m1, update: m0}\n - {name: m0, formula: y ~ x}\n",
        r"<s>:3: models\[0\]\.update: no model 'm0' above this one "
        r"\(a variant must come after its base model\); no model is above it",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, update: m0}\n",
        r"<s>:3: models\[0\]\.update: a model cannot be a variant of itself \('m0'\)",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m0\n   reml: false\n",
        r"<s>:3: models\[0\]: 'formula' is missing; a model requires it \(or 'update: ",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, formula: y ~ x}\n - {name: m1, formula: y ~ z}\n"
        "compare:\n - {name: c, models: [m00, m2]}\n",
        r"<s>:6: compare\[0\]\.models: no model 'm00' \(did you mean 'm0'\?\); "
        r"the models: m0, m1",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, formula: y ~ x}\n"
        "compare:\n - {name: c, models: [m0]}\n",
        r"<s>:5: compare\[0\]\.models: must list two or more models",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, formula: y ~ x}\n - {name: m1, formula: y ~ z}\n"
        "compare:\n - {name: m1, models: [m0, m1]}\n",
        r"<s>:6: compare\[0\]\.name: the name 'm1' is already used by a model",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, formula: y ~ x}\n - {name: m1, formula: y ~ z}\n"
        "compare:\n - {name: c, models: [m0, m1, m0]}\n",
        r"<s>:6: compare\[0\]\.models: model 'm0' is listed twice",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - {name: m0, formula: y ~ x}\n - {name: m1, formula: y ~ z}\n"
        "compare:\n - {name: c, modles: [m0, m1]}\n",
        r"<s>:6: compare\[0\]: unknown key 'modles' \(did you mean 'models'\?\)",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   contest: {c: {L: [0, a]}}\n",
        r"<s>:5: models\[0\]\.contest\.c\.L: weights must be numbers, not 'a'",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n"
        "   contest: {c: {L: [[0, 1], [1]]}}\n",
        r"<s>:5: models\[0\]\.contest\.c\.L: the rows of the contrast matrix must have the same",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   contest: {c: {l: [0, 1]}}\n",
        r"<s>:5: models\[0\]\.contest\.c: unknown key 'l' \(did you mean 'L'\?\)",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   contest: [0, 1]\n",
        r"<s>:5: models\[0\]\.contest: must map names to contrasts",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   step: {alpha_fixed: 5}\n",
        r"<s>:5: models\[0\]\.step\.alpha_fixed: must be a number from 0 to 1",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   drop1: {ddf: kenward}\n",
        r"<s>:5: models\[0\]\.drop1\.ddf: must be one of Satterthwaite, Kenward-Roger, lme4",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   drop1: yes please\n",
        r"<s>:5: models\[0\]\.drop1: must be true, false or a mapping",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n   ls_means: {wich: [g]}\n",
        r"<s>:5: models\[0\]\.ls_means: unknown key 'wich' \(did you mean 'which'\?\)",
    ),
    (
        "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x\n"
        "   confint: {method: profile, workers: 0}\n",
        r"<s>:5: models\[0\]\.confint\.workers: must be at least 1, not 0",
    ),
]


@pytest.mark.parametrize("text,pattern", VARIANT_ERRORS)
def test_variant_tool_and_compare_errors_name_line_and_key(text: str, pattern: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="<s>")
    message = str(info.value)
    assert "\n" not in message
    assert re.match(pattern, message), message


def test_new_keys_are_recorded_only_when_given() -> None:
    # results.json of earlier specs stays as it was, so verify of older results compares.
    plain = parse_spec(PASTES_SPEC)
    for model in plain.to_dict()["models"]:
        assert set(model) == {"name", "formula", "reml", "ddf", "boot", "all_fit", "confint"}
    assert "compare" not in plain.to_dict()
    spec = parse_spec(SLEEP_TOOLS_SPEC)
    data = spec.to_dict()
    assert data["models"][1] == {
        "name": "m1", "formula": ". ~ . - Days", "reml": True, "ddf": None, "boot": None,
        "all_fit": False, "confint": None, "update": "m0",
    }  # fmt: skip
    assert data["models"][2]["contest"]["both"] == {
        "L": [[1.0, 0.0], [0.0, 1.0]], "joint": False, "ddf": "Satterthwaite",
    }  # fmt: skip
    assert data["compare"][1] == {"name": "reml_ml", "models": ["m0", "ml"], "refit": False}
    assert spec.models[0].drop1 == pipeline.spec.Drop1Spec(ddf="Satterthwaite")
    assert parse_spec(HAM_SPEC).models[0].ls_means.which == ("Product",)  # type: ignore[union-attr]


def test_an_update_formula_r_cannot_combine_is_a_spec_error(tmp_path: Path) -> None:
    spec = parse_spec(
        "data: {dataset: sleepstudy}\nmodels:\n - {name: m0, formula: Reaction ~ Days + (1 | Subject)}\n"
        " - name: m1\n   update: m0\n   formula: . ~ . + Dayz\n",
        source="s.yaml",
    )
    with pytest.raises(
        SpecError, match=r"s\.yaml:6: models\[1\]\.formula: the formula uses 'Dayz'"
    ):
        pipeline.run(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_lists_comparisons_and_verifies_them(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "data: {dataset: sleepstudy}\nmodels:\n"
        "  - {name: m0, formula: 'Reaction ~ Days + (1 | Subject)'}\n"
        "  - {name: m1, update: m0, formula: '. ~ . - Days'}\n"
        "compare:\n  - {name: days, models: [m1, m0]}\n",
        encoding="utf-8",
    )
    done = cli("run", "s.yaml", "--out", "out", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "  days/  anova.txt anova.csv\n" in done.stdout
    assert "warning: days: refitting model(s) with ML (instead of REML)" in done.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "days").iterdir()) == [
        "anova.csv",
        "anova.txt",
    ]
    text = (tmp_path / "out" / "days" / "anova.txt").read_text(encoding="utf-8")
    assert text.splitlines()[2:4] == [
        "m1: Reaction ~ (1 | Subject)",
        "m0: Reaction ~ Days + (1 | Subject)",
    ]
    edited = (tmp_path / "out" / "days" / "anova.csv").read_text(encoding="utf-8")
    (tmp_path / "out" / "days" / "anova.csv").write_text(edited.replace('"m1",', '"m9",'))
    done = cli("verify", "out", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "  days/anova.csv: 1 difference(s)\n"
        "    row 1 [m9], column 'model': stored 'm9', now 'm1'\n" in done.stdout
    )


def test_a_contrast_of_the_wrong_length_names_the_model_and_contrast(tmp_path: Path) -> None:
    spec = parse_spec(
        "data: {dataset: sleepstudy}\nmodels:\n"
        "  - name: m\n    formula: Reaction ~ Days + (1 | Subject)\n"
        "    contest: {bad: {L: [0, 1, 0]}}\n",
        source="s.yaml",
    )
    with pytest.raises(ModelError) as info:
        pipeline.run(spec, tmp_path / "out")
    assert str(info.value) == (
        "s.yaml:3: models[0] (m): contest 'bad': L has 3 weights; the model has 2 "
        "coefficients ('(Intercept)', 'Days')"
    )
    assert not (tmp_path / "out").exists()
