"""The benchmark suite keeps working: ``python -m benchmarks --quick`` runs to
the end and writes its JSON.  Timings are reported by the suite, never
asserted here (the machine running the tests may be busy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.__main__ import SECTIONS

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_suite_runs_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the table, then where the JSON went
    assert "section" in done.stdout and "compared with" in done.stdout
    assert str(out) in done.stdout
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["meta"]["quick"] is True
    rows = results["rows"]
    sections = {row["section"] for row in rows}
    assert sections >= set(SECTIONS)
    for row in rows:
        assert row["pylme4_median"] > 0, row
        if row["other_name"]:
            assert row["other_median"] > 0 and row["ratio"] > 0, row
    # pylme4 and R fitted the same data: the same estimates
    for row in rows:
        if row["section"] == "overhead" and "max_rel_diff_fixef_vs_R" in row["extra"]:
            assert row["extra"]["max_rel_diff_fixef_vs_R"] < 1e-6, row
    # boot_mer's replicates are bit for bit R's bootMer's
    boots = [r for r in rows if r["section"] == "bootstrap"]
    assert len(boots) == 2
    for row in boots:
        assert row["extra"]["max_abs_diff_t_vs_R"] == 0, row
    # statsmodels compared its estimates with lme4's
    stats = [r for r in rows if r["section"] == "statsmodels" and not r["other_at_least"]]
    assert stats and all("max_rel_diff_fixef" in r["extra"] for r in stats)


def test_quick_parallel_bootstrap_benchmark_runs_alone(tmp_path):
    """``python -m benchmarks.parallel_boot --quick``: a Markdown table, and
    for both models pylme4 with 1 and 2 workers against R's serial and R's
    multicore bootMer, with replicates bit for bit R's and the load recorded."""
    out = tmp_path / "parallel_boot.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.parallel_boot", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("| section | case |"), done.stdout[:500]
    assert str(out) in done.stdout
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert {row["section"] for row in rows} == {"parallel_boot"}
    compared = {(row["size"].split(", ", 1)[1], row["case"], row["other_name"]) for row in rows}
    for model in (
        "sleepstudy (180 x 3)",
        "crossed subject x item (10,000 rows, 100 subjects x 100 items)",
    ):
        assert compared >= {
            (model, "boot_mer, 1 worker", "R bootMer (serial)"),
            (model, "boot_mer, 2 workers", "R bootMer (serial)"),
            (model, "boot_mer, 2 workers", "R bootMer multicore, ncpus=2"),
        }
    for row in rows:
        assert row["pylme4_median"] > 0 and row["other_median"] > 0, row
        assert row["extra"]["max_abs_diff_t_vs_R"] == 0, row
        if "multicore" in row["other_name"]:
            assert row["extra"]["max_abs_diff_R_multicore_vs_R_serial"] >= 0, row
        if hasattr(os, "getloadavg"):
            low, high = row["load"]
            assert 0 <= low <= high, row
