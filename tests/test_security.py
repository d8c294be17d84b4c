"""Safe by default: a shared spec or results folder never runs code or loses a file.

Every injection vector of issue 12 and its variants goes through the CLI
(in this process, `pylme4.cli.main`, which is what `pylme4` runs) and must
be refused with exit 2 and one line naming the file, line, key and function;
a canary file (`/tmp/pwned-<uuid>`) that each payload would create must not
appear.  Exported scripts are run with Rscript.  The `--out` tests check that
no file pylme4 did not write is lost, and that a failed run leaves earlier
results byte for byte as they were.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import importlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import r

from pylme4 import cli, pipeline
from pylme4.pipeline import SpecError, outdir, parse_spec, trust
from pylme4.pipeline.export_r import r_string
from pylme4.pipeline.trust import check_spec

run_module = importlib.import_module("pylme4.pipeline.run")

GOOD_FORMULA = "Reaction ~ Days + (1 | Subject)"


def spec_text(
    formula: str = GOOD_FORMULA, data: str = "{dataset: sleepstudy}", extra: str = ""
) -> str:
    return f"data: {data}\nmodels:\n  - name: m\n    formula: {json.dumps(formula)}\n{extra}"


def main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`pylme4 ARGS` in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("pylme4: error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def canary() -> Path:
    """A file each payload would create; it must never appear."""
    path = Path(tempfile.gettempdir()) / f"pwned-{uuid.uuid4().hex}"
    yield path
    assert not path.exists(), f"the payload ran: {path} exists"


def touch_code(path: Path) -> str:
    """R code that creates `path`, written without a string literal."""
    codes = ",".join(str(b) for b in f"touch {path}".encode())
    return f"system(intToUtf8(c({codes})))"


def injections(target: Path) -> list[tuple[str, str]]:
    """(formula, the function the refusal must name) for every way of calling code."""
    t = str(target)
    touch = touch_code(target)
    return [
        (f"I(Reaction + 0 * {touch}) ~ Days + (1 | Subject)", "system()"),
        (f"Reaction ~ I(0 * eval(parse(text = 'file.create(\"{t}\")'))) + (1 | Subject)", "eval()"),
        (f"Reaction ~ I(0 * base::system('touch {t}')) + (1 | Subject)", "base::system()"),
        (f"Reaction ~ I(0 * base:::system('touch {t}')) + (1 | Subject)", "base:::system()"),
        (f"Reaction ~ I(0 * get('system')('touch {t}')) + (1 | Subject)", "get()"),
        (f"Reaction ~ I(0 * `system`('touch {t}')) + (1 | Subject)", "system()"),
        (f"Reaction ~ I(0 * 'system'('touch {t}')) + (1 | Subject)", "system()"),
        (f"Reaction ~ I(0 * do.call('system', list('touch {t}'))) + (1 | Subject)", "do.call()"),
        (f"Reaction ~ I(0 * (function(x) system(x))('touch {t}')) + (1 | Subject)", "computes"),
        (f"Reaction ~ I(0 * file.create('{t}')) + (1 | Subject)", "file.create()"),
        (
            f"Reaction ~ I(0 * stats::setNames(file.create('{t}'), 'a')) + (1 | Subject)",
            "stats::setNames()",
        ),
        (f"Reaction ~ splines::ns(Days, df = {touch}) + (1 | Subject)", "system()"),
        (f"Reaction ~ log(Days + 1, base = {touch}) + (1 | Subject)", "system()"),
        (f"Reaction ~ Days + (1 | Subject) + offset(0 * local({touch}))", "local()"),
        (f"Reaction ~ Days + (1 | Subject) + I({{{touch}; 0}})", "{()"),
    ]


# ---------------------------------------------------------------------------
# formulas: run, export-r, verify, verify --with-r
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(15))
def test_formula_injections_are_refused_by_run_and_export_r(
    index: int, tmp_path: Path, canary: Path, capsys
) -> None:
    formula, function = injections(canary)[index]
    spec = tmp_path / "evil.yaml"
    spec.write_text(spec_text(formula), encoding="utf-8")
    for command in (["run", str(spec), "--out", str(tmp_path / "out")], ["export-r", str(spec)]):
        code, out, err = main(capsys, *command)
        assert code == cli.EXIT_BAD_SPEC, err
        line = error_line(err)
        assert line.startswith(f"pylme4: error: {spec}:4: models[0].formula: calls "), line
        assert function in line and "--trust" in line, line
        assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.yaml"]


def test_formula_parse_errors_and_comments_are_refused(tmp_path: Path, capsys) -> None:
    for formula, message in [
        ("Reaction ~ Days z", "is not valid R: unexpected symbol at character 17"),
        ("Reaction ~ Days (1 | Subject)", "calls Days(), which is not"),
        ("Reaction ~ Days # + (1 | Subject)", "must be a single R expression: it holds a comment"),
    ]:
        (tmp_path / "s.yaml").write_text(spec_text(formula), encoding="utf-8")
        code, _, err = main(capsys, "export-r", str(tmp_path / "s.yaml"))
        assert code == 2
        assert f"models[0].formula: {message}" in error_line(err)


VALID_FORMULAS = [
    "Reaction ~ splines::ns(Days, df = 3) + (1 | Subject)",
    "Reaction ~ ns(Days, 3) + bs(Days, 4) + (1 | Subject)",
    'Reaction ~ relevel(factor(Subject), ref = "308") + (1 | Subject)',
    'Reaction ~ I(Subject == "308") + (Days || Subject)',
    "log(Reaction) ~ poly(Days, 2) + scale(Days) + (1 | Subject/Days)",
    "cbind(Reaction, 1) ~ stats::poly(Days, 2, raw = TRUE) + offset(log1p(Days)) + (1 | Subject)",
    "Reaction ~ Days %in% Subject + I(Days^2) + exp(-Days) + sqrt(abs(Days)) + (1 | Subject)",
    "Reaction ~ interaction(Subject, Days > 4) + as.numeric(Days) + (0 + lme4::dummy(Subject, '308') | Subject)",
    "`Reaction` ~ c(Days) * as.factor(Days >= 5) + (1 | Subject)",
]


@pytest.mark.parametrize("formula", VALID_FORMULAS)
def test_modelling_functions_pass_the_trust_check(formula: str) -> None:
    trust.check_spec(parse_spec(spec_text(formula), source="s.yaml"))


def test_a_formula_with_thousands_of_terms_is_checked_without_recursion() -> None:
    formula = "y ~ " + " + ".join(f"x{i}" for i in range(20000)) + " + (1 | g)"
    trust.check_spec(parse_spec(spec_text(formula), source="s.yaml"))
    evil = formula.replace("x19999", "system('true')")
    with pytest.raises(pipeline.SpecError, match=r"calls system\(\)"):
        trust.check_spec(parse_spec(spec_text(evil), source="s.yaml"))


def test_trust_lifts_the_check_and_is_recorded(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "ran"
    spec = tmp_path / "mine.yaml"
    spec.write_text(
        spec_text(touch_code(marker).join(["Reaction ~ I(Days + 0 * ", ") + (1 | Subject)"])),
        encoding="utf-8",
    )
    code, _, err = main(capsys, "run", str(spec), "--out", str(tmp_path / "out"), "-q")
    assert code == 2 and "system()" in error_line(err)
    assert not marker.exists()
    code, _, err = main(capsys, "run", str(spec), "--out", str(tmp_path / "out"), "-q", "--trust")
    assert code == 0, err
    assert marker.exists()  # --trust means it: the spec's code ran
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["provenance"]["trusted"] is True
    # verify re-checks: without --trust the same spec is refused, with it it verifies.
    code, _, err = main(capsys, "verify", str(tmp_path / "out"), "-q")
    assert code == 2 and "system()" in error_line(err)
    code, out, err = main(capsys, "verify", str(tmp_path / "out"), "-q", "--trust")
    assert code == 0, out + err


def test_boot_fun_and_unknown_code_fields_are_not_code(
    tmp_path: Path, canary: Path, capsys
) -> None:
    for extra, message in [
        (
            f'    boot: {{nsim: 2, seed: 1, fun: "function(x) {touch_code(canary)}"}}\n',
            "boot.fun: must be one of",
        ),
        (f'    re_form: "~ {touch_code(canary)}"\n', "unknown key 're_form'"),
        (f'    confint: "{touch_code(canary)}"\n', "confint: must be one of"),
    ]:
        (tmp_path / "s.yaml").write_text(spec_text(extra=extra), encoding="utf-8")
        for command in ("run", "export-r"):
            args = [command, str(tmp_path / "s.yaml")]
            if command == "run":
                args += ["--out", str(tmp_path / "out")]
            code, _, err = main(capsys, *args)
            assert code == 2 and message in error_line(err), err


# ---------------------------------------------------------------------------
# names, data sets, packages, paths, numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, models, message",
    [
        ("{dataset: \"sleepstudy); system('touch CANARY'); (1\"}", None, "data.dataset: "),
        ('{dataset: "sleepstudy\\n"}', None, "data.dataset: "),
        (
            "{dataset: sleepstudy, package: \"lme4)); system('touch CANARY'); ((1\"}",
            None,
            "data.package: ",
        ),
        ("{dataset: sleepstudy, name: \"d <- system('touch CANARY')\"}", None, "data.name: "),
        ('{dataset: sleepstudy, name: "sleep\\n"}', None, "data.name: "),
        ("{dataset: sleepstudy}", "m1\n", "models[0].name: "),
        ("{dataset: sleepstudy}", "m\"); system('touch CANARY'); (\"", "models[0].name: "),
        ("{dataset: sleepstudy}", "../m", "models[0].name: "),
        ('{dataset: sleepstudy, factors: {"Subject\\0": ["308"]}}', None, "NUL"),
        ('{dataset: sleepstudy, factors: {Subject: ["3\\ud80008"]}}', None, "lone surrogate"),
    ],
)
def test_names_that_would_be_code_are_refused(
    data: str, models: str | None, message: str, tmp_path: Path, canary: Path, capsys
) -> None:
    text = spec_text(data=data.replace("CANARY", str(canary)))
    if models is not None:
        text = text.replace(
            "name: m\n", f"name: {json.dumps(models.replace('CANARY', str(canary)))}\n"
        )
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    for command in (["run", "--out", str(tmp_path / "out")], ["export-r"]):
        code, _, err = main(capsys, command[0], str(tmp_path / "s.yaml"), *command[1:])
        assert code == 2, err
        assert message in error_line(err)
    assert not (tmp_path / "out").exists()


def test_seed_outside_rs_integers_is_a_spec_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "s.yaml").write_text(
        spec_text(extra="    boot: {nsim: 2, seed: 99999999999}\n"), encoding="utf-8"
    )
    code, _, err = main(capsys, "run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"))
    assert code == 2
    assert error_line(err) == (
        f"pylme4: error: {tmp_path / 's.yaml'}:5: models[0].boot.seed: must be at most "
        "2147483647 (R's largest integer), not 99999999999"
    )


def write_sleep_csv(path: Path) -> None:
    r(f"write.csv(lme4::sleepstudy, '{path}', row.names = FALSE)")


@pytest.mark.parametrize("where", ["absolute", "parent", "symlink"])
def test_data_outside_the_specs_folder_needs_trust(where: str, tmp_path: Path, capsys) -> None:
    project = tmp_path / "project"
    project.mkdir()
    outside = tmp_path / "elsewhere.csv"
    write_sleep_csv(outside)
    written = {"absolute": str(outside), "parent": "../elsewhere.csv", "symlink": "link.csv"}[where]
    if where == "symlink":
        (project / "link.csv").symlink_to(outside)
    (project / "s.yaml").write_text(spec_text(data=json.dumps({"csv": written})), encoding="utf-8")
    for command in (["run", "--out", str(tmp_path / "out"), "-q"], ["export-r"]):
        code, _, err = main(capsys, command[0], str(project / "s.yaml"), *command[1:])
        assert code == 2
        line = error_line(err)
        assert "s.yaml:1: data.csv: " in line and "--trust" in line, line
        assert (
            "absolute path" if where == "absolute" else "leads outside the spec's folder"
        ) in line
    code, _, err = main(
        capsys, "run", str(project / "s.yaml"), "--out", str(tmp_path / "out"), "-q", "--trust"
    )
    assert code == 0, err


# ---------------------------------------------------------------------------
# data and levels are data: quoted in the exported script, run with Rscript
# ---------------------------------------------------------------------------

TRICKY_LEVELS = [
    'quote"d',
    "back\\slash",
    "new\nline",
    "emoji 😀 and 𝔘",
    "é ü 中",
    "'); system('touch CANARY'); ('",
    '"); system("touch CANARY"); ("',
    "${HOME} `id` $(id)",
]


def test_levels_cells_and_column_names_reach_r_as_data(
    tmp_path: Path, canary: Path, capsys
) -> None:
    levels = [level.replace("CANARY", str(canary)) for level in TRICKY_LEVELS]
    column = 'cond "x" 😀'
    rows = []
    for g in range(6):
        for i, level in enumerate(levels):
            rows.append(
                {
                    "y": 10 + i + 0.37 * g + 0.05 * ((g * 7 + i * 3) % 5),
                    "g": f"g{g}",
                    column: level,
                    "note": f"{touch_code(canary)} {level}",
                }
            )
    with (tmp_path / "d.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    spec = {
        "data": {"csv": "d.csv", "name": "d", "factors": {column: levels}},
        "models": [{"name": "m", "formula": f"y ~ `{column}` + (1 | g)"}],
    }
    (tmp_path / "s.yaml").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    code, _, err = main(
        capsys, "run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"), "-q"
    )
    assert code == 0, err
    code, _, err = main(capsys, "export-r", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "a.R"))
    assert code == 0, err
    # The script parses in R, and runs from a folder of its own: it writes
    # only into its output folder.
    work = tmp_path / "work"
    work.mkdir()
    ran = subprocess.run(
        [shutil.which("Rscript") or "Rscript", "--vanilla", str(tmp_path / "a.R"), "r_out"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*")) == [
        "r_out",
        "r_out/m",
        *(
            f"r_out/m/{f}"
            for f in ["fixef.csv", "ranef.csv", "stats.csv", "summary.txt", "var_corr.csv"]
        ),
        "r_out/spec.yaml",  # the spec's text, byte for byte as pylme4 copies it
    ]
    assert (work / "r_out" / "spec.yaml").read_bytes() == (tmp_path / "s.yaml").read_bytes()
    ours = pd.read_csv(tmp_path / "out" / "m" / "fixef.csv", keep_default_na=False)
    theirs = pd.read_csv(work / "r_out" / "m" / "fixef.csv", keep_default_na=False)
    assert list(theirs["term"]) == list(ours["term"])
    assert list(ours["term"])[1:] == [f"`{column}`{level}" for level in levels[1:]] or list(
        ours["term"]
    )[1:] == [f"{column}{level}" for level in levels[1:]]
    assert (work / "r_out" / "m" / "summary.txt").read_bytes() == (
        tmp_path / "out" / "m" / "summary.txt"
    ).read_bytes()
    code, out, err = main(
        capsys,
        "verify",
        str(tmp_path / "out"),
        "-q",
        "--with-r",
        "--spec",
        str(tmp_path / "s.yaml"),
    )
    assert code == 0, out + err


@pytest.mark.parametrize(
    "text", ["plain", 'q"\\', "tab\tcr\r\nnl", "😀𝔘é中\x01\x7f\u2028", "\\U{1f600}"]
)
def test_r_string_round_trips_through_rs_parser(text: str) -> None:
    assert r(f"{r_string(text)}") == text
    assert r(f"nchar({r_string(text)})") == len(text)


def test_exported_script_of_a_data_set_quotes_it(tmp_path: Path) -> None:
    spec = parse_spec(
        spec_text(data="{dataset: Pastes, package: lme4, name: p}").replace(
            "Reaction ~ Days + (1 | Subject)", "strength ~ (1 | batch)"
        ),
        source="s.yaml",
    )
    text = pipeline.export_r(spec)
    assert 'p <- as.data.frame(getExportedValue("lme4", "Pastes"))' in text


# ---------------------------------------------------------------------------
# tampered results folders
# ---------------------------------------------------------------------------


@pytest.fixture
def results(tmp_path: Path, capsys) -> Path:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    code, _, err = main(
        capsys, "run", str(tmp_path / "good.yaml"), "--out", str(tmp_path / "res"), "-q"
    )
    assert code == 0, err
    return tmp_path / "res"


def edit_results(folder: Path, edit) -> None:
    path = folder / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_verify_refuses_an_edited_stored_spec(results: Path, canary: Path, capsys) -> None:
    evil = spec_text(f"I(Reaction + 0 * {touch_code(canary)}) ~ Days + (1 | Subject)")
    edit_results(results, lambda d: d["provenance"]["spec"].update(text=evil))
    code, out, err = main(capsys, "verify", str(results), "-q", "--with-r")
    assert code == cli.EXIT_DIFFERENT, out + err
    stored_hash = hashlib.sha256(evil.encode("utf-8")).hexdigest()
    now_hash = hashlib.sha256((results / "spec.yaml").read_bytes()).hexdigest()
    assert out.splitlines() == [
        f"spec CHANGED: spec.yaml against the spec stored in results.json, "
        f"sha256 {stored_hash} -> {now_hash}",
        "FAILED 1 difference(s) against the re-run and R's own script "
        "(numbers compared with rtol=1e-08, atol=1e-12; text exactly)",
    ]
    # Both edited alike: the trust check refuses it.
    (results / "spec.yaml").write_text(evil, encoding="utf-8")
    code, out, err = main(capsys, "verify", str(results), "-q", "--with-r")
    assert code == 2 and "spec.yaml:4: models[0].formula: calls system()" in error_line(err)


def test_verify_never_follows_a_stored_base_dir(results: Path, tmp_path: Path, capsys) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_sleep_csv(elsewhere / "d.csv")
    text = spec_text(data="{csv: d.csv}")
    edit_results(
        results, lambda d: d["provenance"]["spec"].update(text=text, base_dir=str(elsewhere))
    )
    (results / "spec.yaml").write_text(text, encoding="utf-8")
    code, _, err = main(capsys, "verify", str(results), "-q")
    assert code == 2
    line = error_line(err)
    assert f"looked for {results / 'd.csv'}" in line and "--spec" in line


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d.update(provenance=5),
        lambda d: d["provenance"].update(spec=[]),
        lambda d: d["provenance"]["spec"].update(text=None),
        lambda d: d["provenance"].update(data="x"),
        lambda d: d.update(models=[]),
        lambda d: d["models"]["m"].update(files=["../../etc/passwd"]),
        lambda d: d.update(models={"../x": {"files": []}}),
        lambda d: d["provenance"].update(r=[1, 2]),
        lambda d: d["models"]["m"]["fixef"].update(columns=7),
        lambda d: d.update(compare=[1]),
        lambda d: d.update(compare={"../c": {"files": []}}),
        lambda d: d.update(compare={"c": {"files": ["../../etc/passwd"]}}),
    ],
)
def test_a_results_json_of_the_wrong_shape_is_one_line(results: Path, edit, capsys) -> None:
    edit_results(results, edit)
    code, out, err = main(capsys, "verify", str(results), "-q")
    assert code in (cli.EXIT_OK, cli.EXIT_DIFFERENT, cli.EXIT_BAD_SPEC), out + err
    if code == cli.EXIT_BAD_SPEC:
        assert "results.json" in error_line(err)


# ---------------------------------------------------------------------------
# --out: nothing is lost
# ---------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(folder.rglob("*"))
    }


def hidden_leftovers(*folders: Path) -> list[str]:
    return [
        p.name
        for f in folders
        for p in f.iterdir()
        if p.name.startswith(".") and "pylme4-" in p.name and p.name != outdir.MANIFEST
    ]


def test_a_foreign_folder_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "results.json").write_text("{}")
    (proj / "notes.txt").write_text("keep")
    (proj / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = snapshot(proj)
    code, _, err = main(
        capsys, "run", str(tmp_path / "good.yaml"), "--out", str(proj), "-q", "--force"
    )
    assert code == 2 and "holds no pylme4 results" in error_line(err)
    assert snapshot(proj) == before
    assert hidden_leftovers(tmp_path, proj) == []


def test_force_replaces_only_the_manifests_files(results: Path, tmp_path: Path, capsys) -> None:
    (results / "notes.txt").write_text("mine")
    (results / "m" / "plot.png").write_bytes(b"png")
    (results / "old_model").mkdir()
    old = snapshot(results)
    spec = tmp_path / "good.yaml"
    spec.write_text(spec_text().replace("name: m", "name: m2"), encoding="utf-8")
    code, _, err = main(capsys, "run", str(spec), "--out", str(results), "-q")
    line = error_line(err)
    assert code == 2 and "already holds the results of an earlier run" in line, line
    wrote = len(outdir.read_manifest(results).files)  # type: ignore[union-attr]
    assert f"run the same command with --force: only the {wrote} files pylme4 wrote" in line
    assert "choose another folder with --out" in line
    assert snapshot(results) == old
    code, _, err = main(capsys, "run", str(spec), "--out", str(results), "-q", "--force")
    assert code == 0, err
    assert (results / "notes.txt").read_text() == "mine"
    assert (results / "m" / "plot.png").read_bytes() == b"png"  # m/ kept for it
    assert sorted(p.name for p in (results / "m").iterdir()) == ["plot.png"]
    assert (results / "old_model").is_dir()
    assert sorted(p.name for p in (results / "m2").iterdir()) == [
        "fixef.csv",
        "ranef.csv",
        "stats.csv",
        "summary.txt",
        "var_corr.csv",
    ]
    assert (results / "spec.yaml").read_text(encoding="utf-8") == spec.read_text(encoding="utf-8")
    manifest = outdir.read_manifest(results)
    assert manifest is not None and "m2/summary.txt" in manifest.files
    assert hidden_leftovers(results, tmp_path) == []
    # verify compares the manifest's files only: the user's files are not results.
    code, out, err = main(capsys, "verify", str(results), "-q")
    assert code == 0, out + err


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_modes_follow_the_umask(mask: int, tmp_path: Path, capsys) -> None:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    previous = os.umask(mask)
    try:
        code, _, err = main(
            capsys, "run", str(tmp_path / "good.yaml"), "--out", str(tmp_path / "res"), "-q"
        )
    finally:
        os.umask(previous)
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "res").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "res" / "m").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "res" / "m" / "fixef.csv").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "res" / "results.json").stat().st_mode) == 0o666 & ~mask


def _lock(folder: Path) -> Callable[[], None]:
    """Make ``folder`` unwritable for this process; return the undo.

    chmod does not stop root (CI runs as root), the immutable attribute
    does: root then gets EPERM where a user gets EACCES."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    if shutil.which("chattr") is None or subprocess.run(
        ["chattr", "+i", str(folder)], capture_output=True
    ).returncode:
        pytest.skip("root, and no immutable attribute on this file system")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_folder_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    unlock = _lock(locked)
    try:
        code, _, err = main(
            capsys, "run", str(tmp_path / "good.yaml"), "--out", str(locked / "res"), "-q"
        )
    finally:
        unlock()
    assert code == cli.EXIT_FILE
    assert error_line(err).endswith(("Permission denied", "Operation not permitted"))
    assert list(locked.iterdir()) == []


def failing(error: int, calls: list[str], *, when=lambda *a: True):
    def fail(*args, **kwargs):
        if when(*args):
            calls.append(str(args[0]))
            raise OSError(error, os.strerror(error), str(args[0]))
        return real(*args, **kwargs)

    return fail


real = os.rename


@pytest.mark.parametrize(
    "case",
    [
        "enospc-csv",
        "enospc-text",
        "eacces-mkdtemp",
        "ebusy-first-rename",
        "ebusy-new-file",
        "ebusy-manifest",
    ],
)
def test_os_errors_are_one_line_and_keep_earlier_results(
    case: str, results: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    before = snapshot(results)
    spec = tmp_path / "good.yaml"
    calls: list[str] = []
    if case == "enospc-csv":
        real_write_bytes = Path.write_bytes

        def write_bytes(self, *args, **kwargs):
            if self.suffix == ".csv":  # pipeline.run.write_csv's file
                calls.append(str(self))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return real_write_bytes(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_bytes", write_bytes)
    elif case == "enospc-text":
        real_write = Path.write_text

        def write_text(self, *args, **kwargs):
            if self.name == "results.json":
                calls.append(str(self))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return real_write(self, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", write_text)
    elif case == "eacces-mkdtemp":

        def mkdtemp(*args, **kwargs):
            calls.append(kwargs.get("dir"))
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(kwargs.get("dir")))

        monkeypatch.setattr(outdir.tempfile, "mkdtemp", mkdtemp)
    else:
        target = {
            "ebusy-first-rename": lambda src, dst: True,
            "ebusy-new-file": lambda src, dst: (
                ".pylme4-build-" in str(src) and str(dst).endswith("stats.csv")
            ),
            "ebusy-manifest": lambda src, dst: str(dst).endswith(outdir.MANIFEST),
        }[case]
        monkeypatch.setattr(outdir.os, "rename", failing(errno.EBUSY, calls, when=target))
    code, out, err = main(capsys, "run", str(spec), "--out", str(results), "-q", "--force")
    monkeypatch.undo()
    assert calls, "the simulated failure never happened"
    assert code == cli.EXIT_FILE, err
    line = error_line(err)
    cause = {
        "enospc": "No space left on device",
        "eacces": "Permission denied",
        "ebusy": "Device or resource busy",
    }[case.split("-")[0]]
    assert line.endswith(cause), line
    assert re.search(r"pylme4: error: /\S+", line), line  # names the path
    assert out == ""
    assert snapshot(results) == before
    assert hidden_leftovers(results, tmp_path) == []


def test_a_new_folder_failing_leaves_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    calls: list[str] = []
    monkeypatch.setattr(outdir.os, "rename", failing(errno.EXDEV, calls))
    code, _, err = main(
        capsys, "run", str(tmp_path / "good.yaml"), "--out", str(tmp_path / "res"), "-q"
    )
    assert code == cli.EXIT_FILE and calls
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yaml"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_run_leaves_earlier_results(
    signum: int, results: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    before = snapshot(results)
    real_fit = run_module._fit_model

    def fit_then_signal(*args, **kwargs):
        entry = real_fit(*args, **kwargs)
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler raises well before this ends
        return entry

    monkeypatch.setattr(run_module, "_fit_model", fit_then_signal)
    code, _, err = main(
        capsys, "run", str(tmp_path / "good.yaml"), "--out", str(results), "-q", "--force"
    )
    assert code == (cli.EXIT_INTERRUPTED if signum == signal.SIGINT else cli.EXIT_TERMINATED), err
    assert snapshot(results) == before
    assert hidden_leftovers(results, tmp_path) == []


def test_export_r_into_a_missing_folder_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    code, _, err = main(
        capsys, "export-r", str(tmp_path / "good.yaml"), "-o", str(tmp_path / "no" / "a.R")
    )
    assert code == cli.EXIT_FILE
    assert error_line(err) == f"pylme4: error: {tmp_path / 'no' / 'a.R'}: No such file or directory"


def test_readme_documents_the_exit_codes_and_links_security() -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "docs/security.md" in readme
    assert "5: a file could not be read or written" in readme
    security = (root / "docs" / "security.md").read_text(encoding="utf-8")
    for names in trust.ALLOWED.values():
        for name in names:
            assert f"`{name}`" in security, name
    assert "--trust" in security and "--force" in security


def test_a_data_path_r_cannot_hold_is_a_spec_error(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff"))
    folder.mkdir()
    write_sleep_csv(tmp_path / "d.csv")
    shutil.copy(tmp_path / "d.csv", folder / "d.csv")
    (folder / "s.yaml").write_text(spec_text(data="{csv: d.csv}"), encoding="utf-8")
    with pytest.raises(pipeline.SpecError, match=r"s\.yaml:1: data\.csv: the path .* R can hold"):
        pipeline.export_r(pipeline.load_spec(folder / "s.yaml"))


def test_exported_script_of_valid_modelling_formulas_runs_in_r(tmp_path: Path, capsys) -> None:
    # pylme4's own fit of these is another matter (the Python API's formula
    # checks); the pipeline's guard must not refuse them, and R must run them.
    formulas = [
        "Reaction ~ splines::ns(Days, df = 3) + (1 | Subject)",
        'Reaction ~ relevel(factor(Days), ref = "3") + (1 | Subject)',
        'Reaction ~ I(Subject == "308") + log1p(Days) + (Days || Subject)',
    ]
    models = "".join(
        f"  - name: m{i}\n    formula: {json.dumps(f)}\n" for i, f in enumerate(formulas)
    )
    (tmp_path / "s.yaml").write_text(
        f"data: {{dataset: sleepstudy}}\nmodels:\n{models}", encoding="utf-8"
    )
    code, _, err = main(capsys, "export-r", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "a.R"))
    assert code == 0, err
    ran = subprocess.run(
        [shutil.which("Rscript") or "Rscript", "--vanilla", str(tmp_path / "a.R"), "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    for i, formula in enumerate(formulas):
        summary = (tmp_path / "out" / f"m{i}" / "summary.txt").read_text(encoding="utf-8")
        expected = r(
            f"fit <- lmer({formula}, data = sleepstudy)\n"
            "paste(capture.output(print(summary(fit))), collapse = '\\n')"
        )
        assert summary == expected + "\n"


def test_results_into_an_empty_folder_and_a_deleted_result(tmp_path: Path, capsys) -> None:
    (tmp_path / "good.yaml").write_text(spec_text(), encoding="utf-8")
    (tmp_path / "empty").mkdir()
    code, _, err = main(
        capsys, "run", str(tmp_path / "good.yaml"), "--out", str(tmp_path / "empty")
    )
    assert code == 0, err
    assert hidden_leftovers(tmp_path, tmp_path / "empty") == []
    (tmp_path / "empty" / "m" / "fixef.csv").unlink()
    code, out, err = main(capsys, "verify", str(tmp_path / "empty"), "-q")
    assert code == cli.EXIT_DIFFERENT
    assert out.splitlines()[3:6] == [
        "differences in 1 file(s) (the first 3 of each):",
        "  m/fixef.csv: 1 difference(s)",
        "    stored missing, now written by the re-run",
    ]


# ---------------------------------------------------------------------------
# The keys of variants, lmerTest's tools and comparisons (issue 15)
# ---------------------------------------------------------------------------


def variant_text(change: str, extra: str = "") -> str:
    """A spec whose second model (line 5) is `update: m` with the change on line 7."""
    return spec_text() + f"  - name: v\n    update: m\n    formula: {json.dumps(change)}\n" + extra


def refused_everywhere(tmp_path: Path, capsys, text: str) -> str:
    """`run` and `export-r` of the spec both exit 2 with one line; nothing is written."""
    spec = tmp_path / "evil.yaml"
    spec.write_text(text, encoding="utf-8")
    lines = []
    for command in (["run", str(spec), "--out", str(tmp_path / "out")], ["export-r", str(spec)]):
        code, out, err = main(capsys, *command)
        assert code == cli.EXIT_BAD_SPEC, err
        assert out == ""
        lines.append(error_line(err))
    assert lines[0] == lines[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.yaml"]
    return lines[0]


@pytest.mark.parametrize(
    "change, function",
    [
        ('. ~ . + system("id")', "system()"),
        (". ~ . + I(0 * TOUCH)", "system()"),
        (". ~ . - Days + offset(0 * local(TOUCH))", "local()"),
        ("TOUCH ~ .", "system()"),
        (". ~ . + I(0 * get('system')('touch CANARY'))", "get()"),
        (". ~ . + base::system('touch CANARY')", "base::system()"),
    ],
)
def test_update_formula_injections_are_refused(
    change: str, function: str, tmp_path: Path, canary: Path, capsys
) -> None:
    change = change.replace("TOUCH", touch_code(canary)).replace("CANARY", str(canary))
    line = refused_everywhere(tmp_path, capsys, variant_text(change))
    assert line.startswith(f"pylme4: error: {tmp_path / 'evil.yaml'}:7: models[1].formula: calls ")
    assert function in line and "--trust" in line, line


def test_an_update_formula_with_a_comment_or_two_expressions_is_refused(
    tmp_path: Path, capsys
) -> None:
    for change, message in [
        (". ~ . # - Days", "must be a single R expression: it holds a comment"),
        (". ~ .; 1", "must be a single R expression: it holds 2 expressions"),
    ]:
        line = refused_everywhere(tmp_path, capsys, variant_text(change))
        assert f"models[1].formula: {message}" in line, line


@pytest.mark.parametrize(
    "extra, message",
    [
        # a base model's name that would be code
        (
            '  - name: v\n    update: "m\\"]]); system(\'touch CANARY\'); ((\\""\n',
            "models[1].update: ",
        ),
        # comparisons: their name and the models they name
        (
            'compare:\n  - name: "c\\"); system(\'touch CANARY\'); (\\""\n    models: [m, m]\n',
            "compare[0].name: ",
        ),
        (
            'compare:\n  - name: c\n    models: [m, "m\\"]]); system(\'touch CANARY\'); ((\\""]\n',
            "compare[0].models: ",
        ),
        # contrasts: their names, and weights that are not numbers
        (
            '    contest: {"x\\"); system(\'touch CANARY\'); (\\"": {L: [0, 1]}}\n',
            "models[0].contest: the contrast name ",
        ),
        (
            "    contest: {x: {L: [0, \"system('touch CANARY')\"]}}\n",
            "models[0].contest.x.L: weights must be numbers",
        ),
        ("    contest: {x: {L: [0, 1], ddf: \"system('touch CANARY')\"}}\n", "ddf: must be one of"),
        ("    step: {ddf: \"system('touch CANARY')\"}\n", "models[0].step.ddf: must be one of"),
        ("    drop1: \"system('touch CANARY')\"\n", "models[0].drop1: must be true, false"),
    ],
)
def test_names_and_values_of_the_new_keys_that_would_be_code_are_refused(
    extra: str, message: str, tmp_path: Path, canary: Path, capsys
) -> None:
    line = refused_everywhere(
        tmp_path, capsys, spec_text(extra=extra.replace("CANARY", str(canary)))
    )
    assert message in line, line


def test_ls_means_terms_reach_r_as_text(tmp_path: Path, canary: Path, capsys) -> None:
    # `which` names terms: text in R (lmerTest finds no such term), never code,
    # in pylme4's R and in the exported script alike.
    term = f"Days\"); system('touch {canary}'); (\""
    spec = tmp_path / "s.yaml"
    spec.write_text(spec_text(extra=f"    ls_means: {{which: [{json.dumps(term)}]}}\n"))
    code, _, err = main(capsys, "run", str(spec), "--out", str(tmp_path / "out"), "-q")
    assert code == cli.EXIT_BAD_DATA, err
    assert "models[0] (m): " in error_line(err)
    script = tmp_path / "s.R"
    code, _, err = main(capsys, "export-r", str(spec), "-o", str(script))
    assert code == 0, err
    assert f"which = c({r_string(term)})" in script.read_text(encoding="utf-8")
    ran = subprocess.run(
        [shutil.which("Rscript") or "Rscript", str(script), str(tmp_path / "r")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert ran.returncode != 0  # lmerTest: not a term of the model


# ---------------------------------------------------------------------------
# GLMM keys: family, control, weights, offset
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "family",
    [
        "TOUCH",
        'binomial(link = TOUCH)',
        'binomial(link = "logit", TOUCH)',
        "get('system')",
        "system",
        "Sys.time",
        'binomial; system("touch CANARY")',
        'binomial(link = "logit") # comment',
        "stats::binomial(link = paste0('lo', 'git'))",
        "MASS::negative.binomial(theta = TOUCH)",
        "base::system('touch CANARY')",
        "(function() binomial())()",
    ],
)
def test_family_injections_are_refused(
    family: str, tmp_path: Path, canary: Path, capsys
) -> None:
    family = family.replace("TOUCH", touch_code(canary)).replace("CANARY", str(canary))
    line = refused_everywhere(
        tmp_path, capsys, spec_text(extra=f"    family: {json.dumps(family)}\n")
    )
    assert "models[0].family: " in line and "is not a family a spec may give" in line, line
    assert "--trust" in line


@pytest.mark.parametrize(
    "family",
    ["binomial", "poisson", 'binomial(link = "probit")', 'stats::poisson("sqrt")',
     "Gamma(link = \"log\")", "MASS::negative.binomial(theta = 1.5)", "negative_binomial"],
)
def test_glmer_families_pass_the_trust_check(family: str) -> None:
    check_spec(parse_spec(spec_text(extra=f"    family: {json.dumps(family)}\n")))


def test_trust_lifts_the_family_check_but_not_one_expression(tmp_path: Path, capsys) -> None:
    spec = parse_spec(spec_text(extra='    family: "binomial(link = make.link(\'probit\'))"\n'))
    with pytest.raises(SpecError, match="is not a family a spec may give"):
        check_spec(spec)
    check_spec(spec, trust=True)
    for family, message in [
        ("binomial; poisson", "must be a single R expression: it holds 2 expressions"),
        ("binomial # x", "must be a single R expression: it holds a comment"),
    ]:
        bad = parse_spec(spec_text(extra=f"    family: {json.dumps(family)}\n"))
        with pytest.raises(SpecError, match=re.escape(f"models[0].family: {message}")):
            check_spec(bad, trust=True)


@pytest.mark.parametrize(
    "control, message",
    [
        ('{optimizer: "system"}', "'system' is not one of lme4's optimizers"),
        ('{optimizer: [bobyqa, "file.create"]}', "'file.create' is not one of lme4's optimizers"),
        ("{optimiser: bobyqa}", "lmerControl() has no setting 'optimiser' (did you mean"),
        ("{FUN: 1}", "lmerControl() has no setting 'FUN'"),
        ("{tolPwrss: 1.0e-8}", "lmerControl() has no setting 'tolPwrss'"),
        ('{"a); system(\'touch CANARY\'); list(b": 1}', "is not the name of a setting"),
    ],
)
def test_control_settings_that_would_run_code_are_refused(
    control: str, message: str, tmp_path: Path, canary: Path, capsys
) -> None:
    text = spec_text(extra=f"    control: {control.replace('CANARY', str(canary))}\n")
    line = refused_everywhere(tmp_path, capsys, text)
    assert "models[0].control" in line and message in line, line


def test_control_values_and_column_names_reach_r_as_data(
    tmp_path: Path, canary: Path, capsys
) -> None:
    # Text where a number is wanted stays text: R's optimizer stops on it, nothing runs.
    payload = f"system('touch {canary}')"
    column = f"Days); system('touch {canary}'); list(x"
    spec = tmp_path / "s.yaml"
    spec.write_text(
        spec_text(
            extra=f"    control: {{optimizer: bobyqa, optCtrl: {{maxfun: {json.dumps(payload)}}}}}\n"
            f"    weights: {json.dumps(column)}\n"
            f"    offset: {json.dumps(column)}\n"
        ),
        encoding="utf-8",
    )
    code, _, err = main(capsys, "run", str(spec), "--out", str(tmp_path / "out"), "-q")
    assert code == cli.EXIT_BAD_SPEC, err
    assert "models[0].weights: " in error_line(err) and "is not a column of" in error_line(err)
    script = tmp_path / "s.R"
    code, _, err = main(capsys, "export-r", str(spec), "-o", str(script))
    assert code == 0, err
    line = next(x for x in script.read_text(encoding="utf-8").splitlines() if x.startswith("fit <-"))
    # R parses the call with the column as a symbol and the payload as a string.
    parsed = r(
        f"e <- str2lang({r_string(line)})[[3]]\n"
        "list(w = is.name(e[['weights']]), o = is.name(e[['offset']]), "
        "w_name = as.character(e[['weights']]), "
        "m = is.character(e[['control']][['optCtrl']][['maxfun']]))"
    )
    assert parsed["w"] is True and parsed["o"] is True and parsed["m"] is True
    assert parsed["w_name"] == column
    # Without the column the spec runs: the payload is a string in the call R
    # prints (and the canary fixture checks that nothing ran).
    spec.write_text(
        spec_text(extra=f"    control: {{optCtrl: {{maxfun: {json.dumps(payload)}}}}}\n"),
        encoding="utf-8",
    )
    code, _, err = main(capsys, "run", str(spec), "--out", str(tmp_path / "out2"), "-q")
    assert code == 0, err
    summary = (tmp_path / "out2" / "m" / "summary.txt").read_text(encoding="utf-8")
    assert f"lmerControl(optCtrl = list(maxfun = {r_string(payload)}))" in summary, summary


# ---------------------------------------------------------------------------
# emmeans: and wald_anova: — names and choices, never code
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, message",
    [
        ("    emmeans: {specs: \"Days); system('touch CANARY'); (x\"}\n", "emmeans.specs: "),
        ("    emmeans: {specs: Days, by: \"system('touch CANARY')\"}\n", "emmeans.by: "),
        ("    emmeans: {specs: 'pairwise ~ Days'}\n", "is not a predictor's name"),
        ("    emmeans: {specs: Days, contrasts: [\"system('touch CANARY')\"]}\n", "must be one of"),
        (
            "    emmeans: {specs: Days, contrasts: [{method: pairwise, adjust: \"a'); system(b\"}]}\n",
            "emmeans.contrasts[0].adjust: must be one of",
        ),
        ("    emmeans: {specs: Days, type: \"system('touch CANARY')\"}\n", "type: must be one of"),
        ("    wald_anova: {test: \"system('touch CANARY')\"}\n", "wald_anova.test: must be one of"),
        ("    tidy: {effects: \"system('touch CANARY')\"}\n", "tidy.effects: must be one of"),
        ("    tidy: {conf_method: \"system('touch CANARY')\"}\n", "tidy.conf_method: must be"),
        ("    icc: {by_group: \"system('touch CANARY')\"}\n", "icc.by_group: must be true"),
        ("    r2: \"system('touch CANARY')\"\n", "models[0].r2: must be true or false"),
    ],
)
def test_emmeans_and_wald_anova_values_that_would_be_code_are_refused(
    extra: str, message: str, tmp_path: Path, canary: Path, capsys
) -> None:
    line = refused_everywhere(
        tmp_path, capsys, spec_text(extra=extra.replace("CANARY", str(canary)))
    )
    assert message in line, line


def test_emmeans_at_names_and_levels_reach_r_as_data(tmp_path: Path, canary: Path, capsys) -> None:
    payload = f"x\"); system('touch {canary}'); list(\""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        spec_text(extra=f"    emmeans: {{specs: Days, at: {{{json.dumps(payload)}: [1]}}}}\n"),
        encoding="utf-8",
    )
    code, _, err = main(capsys, "run", str(spec), "--out", str(tmp_path / "out"), "-q")
    assert code == cli.EXIT_BAD_DATA, err  # not a predictor of the model: pylme4 says so
    assert "models[0] (m): " in error_line(err)
    code, _, err = main(capsys, "export-r", str(spec), "-o", str(tmp_path / "s.R"))
    assert code == 0, err
    assert f"at = list({r_string(payload)} = c(1.0))" in (tmp_path / "s.R").read_text()
