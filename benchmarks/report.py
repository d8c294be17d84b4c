"""The suite's output: one table on stdout and one JSON file."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .timing import Measured, median

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    """One line of the table: pylme4 against one other implementation."""

    section: str
    case: str
    size: str
    other_name: str
    """What pylme4 is compared with ("R (Rscript)", "rpy2 pandas2ri", ...)."""
    times: Measured
    """Every timing in seconds (wall and CPU), under "pylme4" and "other"."""
    ratio_is: str = "pylme4 / other"
    """How the ratio is formed: "pylme4 / other" (lower is better for pylme4)
    or "other / pylme4" (a speed-up: higher is better)."""
    target: tuple[str, float] | None = None
    """("<=", 1.05) or (">=", 20): what the ratio (or, with target_on
    "seconds", pylme4's median time) should be."""
    target_on: str = "ratio"
    note: str = ""
    other_at_least: bool = False
    """The other side was stopped at a time limit: its time is a lower bound."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else measured (differences of estimates, ...)."""

    def seconds(self, who: str, kind: str = "wall") -> float | None:
        values = (self.times.wall if kind == "wall" else self.times.cpu).get(who)
        return median(values) if values else None

    def _ratio(self, kind: str) -> float | None:
        ours, other = self.seconds("pylme4", kind), self.seconds("other", kind)
        if ours is None or other is None or ours <= 0 or other <= 0:
            return None
        return ours / other if self.ratio_is == "pylme4 / other" else other / ours

    @property
    def ratio(self) -> float | None:
        """The ratio of median wall times."""
        return self._ratio("wall")

    @property
    def cpu_ratio(self) -> float | None:
        """The same ratio of median CPU times (when both sides report them)."""
        return self._ratio("cpu")

    @property
    def load(self) -> tuple[float, float] | None:
        """Lowest and highest 1-minute load average seen just before and
        after the timed runs of both sides."""
        seen = [x for runs in self.times.load.values() for run in runs for x in run]
        return (min(seen), max(seen)) if seen else None

    @property
    def meets(self) -> bool | None:
        measured = self.seconds("pylme4") if self.target_on == "seconds" else self.ratio
        if self.target is None or measured is None:
            return None
        op, value = self.target
        return measured <= value if op == "<=" else measured >= value

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            pylme4_median=self.seconds("pylme4"),
            other_median=self.seconds("other"),
            ratio=self.ratio,
            pylme4_cpu_median=self.seconds("pylme4", "cpu"),
            other_cpu_median=self.seconds("other", "cpu"),
            cpu_ratio=self.cpu_ratio,
            meets=self.meets,
            load=self.load,
            target=None if self.target is None else _target(self),
        )
        return out


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def _target(row: Row) -> str:
    assert row.target is not None
    op, value = row.target
    return f"{op} {value:g} s" if row.target_on == "seconds" else f"{op} {value:g}"


def _ratio_text(ratio: float | None, kind: str) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.3f}{kind}" if ratio < 10 else f"{ratio:.1f}{kind}"


def table(rows: list[Row], markdown: bool = False) -> str:
    """The rows as a table (medians, ratios, targets): plain text, or a
    Markdown table with ``markdown``.  A "load" column (lowest-highest
    1-minute load average around the row's timed runs) is added when some
    row recorded the load."""
    header = [
        "section",
        "case",
        "size",
        "pylme4",
        "other",
        "compared with",
        "ratio",
        "cpu ratio",
        "target",
        "ok",
    ]
    with_load = any(row.load is not None for row in rows)
    if with_load:
        header.append("load")
    lines = []
    for row in rows:
        ratio = row.ratio
        kind = "x" if row.ratio_is == "other / pylme4" else ""
        cells = [
            row.section,
            row.case,
            row.size,
            _seconds(row.seconds("pylme4")),
            (">" if row.other_at_least else "") + _seconds(row.seconds("other")),
            row.other_name,
            (">" if row.other_at_least and ratio is not None else "") + _ratio_text(ratio, kind),
            _ratio_text(row.cpu_ratio, kind),
            "" if row.target is None else _target(row),
            {True: "yes", False: "NO", None: ""}[row.meets],
        ]
        if with_load:
            load = row.load
            cells.append("-" if load is None else f"{load[0]:.2f}-{load[1]:.2f}")
        lines.append(cells)
    right = {3, 4, 6, 7}
    if markdown:
        rule = ["---:" if i in right else "---" for i in range(len(header))]
        out = ["| " + " | ".join(cells) + " |" for cells in (header, rule, *lines)]
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]

        def fmt(cells: list[str]) -> str:
            return "  ".join(
                str(c).rjust(w) if i in right else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()

        out = [fmt(header), fmt(["-" * w for w in widths])]
        out += [fmt(line) for line in lines]
    notes = [(i, row.note) for i, row in enumerate(rows, 1) if row.note]
    text = "\n".join(out)
    if notes:
        text += "\n\nnotes:\n" + "\n".join(
            f"{'-' if markdown else ' '} {rows[i - 1].section} / {rows[i - 1].case} / "
            f"{rows[i - 1].size}: {note}"
            for i, note in notes
        )
    return text


def machine() -> dict[str, Any]:
    """What the numbers were measured on (load averages say how busy it was)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": load,
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def busy_note(machine_at_start: dict[str, Any]) -> str | None:
    """A warning for the table when the machine was busy as the run started."""
    loads = machine_at_start["load_average"]
    if loads and loads[0] > 0.5:
        return (
            f"note: the machine was busy (load average {loads[0]:.1f} at the start): "
            "re-run on an idle machine for final numbers"
        )
    return None


def finish(
    rows: list[Row],
    meta: dict[str, Any],
    json_path: Path | None,
    name: str = "bench",
    markdown: bool = False,
) -> None:
    """The end of every benchmark command: versions and the machine's state
    into ``meta``, the table on stdout, the JSON written, a note when busy."""
    meta.update(machine_at_end=machine(), versions=versions())
    print(table(rows, markdown=markdown))
    path = write_json(json_path or default_json_path(meta["quick"], name), rows, meta)
    took = sum(meta.get("section_seconds", {}).values())
    print(f"\nresults written to {path} ({took:.0f} s)")
    note = busy_note(meta["machine_at_start"])
    if note:
        print(note)


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "rows": [row.as_json() for row in rows]}
    path.write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")
    return path


def default_json_path(quick: bool, name: str = "bench") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return RESULTS_DIR / f"{name}-{stamp}{'-quick' if quick else ''}.json"


def versions() -> dict[str, str]:
    """Versions of the Python packages and of R and its packages measured."""
    import importlib.metadata as md

    from pylme4._r.call import r_value

    out = {}
    for dist in ("pylme4", "rpy2", "numpy", "pandas", "statsmodels", "distributed", "loky"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "not installed"
    r = r_value("pylme4_versions", doing="reading versions")
    out.update({f"R {k}" if k != "R" else "R": str(v) for k, v in r.items()})
    return out
