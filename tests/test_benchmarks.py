"""The benchmark suite keeps working: ``python -m benchmarks --quick`` runs to
the end and writes its JSON.  Timings are reported by the suite, never
asserted here (the machine running the tests may be busy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    assert sections >= {"startup", "conversion", "overhead", "statsmodels", "bootstrap", "scaling"}
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
