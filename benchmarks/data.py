"""The data and models the benchmarks fit, identical on both sides.

Each :class:`Model` says how R gets its data (``r_data``, R code evaluated in
the benchmark R process) and how pylme4 gets the same data as a pandas frame
(the same R code run once in pylme4's embedded R and converted to pandas:
identical values, then sent back to R through pylme4's converter as any
user's frame would be).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .rprocess import RProcess

DATA_R = (Path(__file__).resolve().parent / "data.R").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Model:
    """A model to fit: data (as R code), name and formula."""

    label: str
    size: str
    data_name: str
    r_data: str
    """R code whose value is the data frame (``bench_data`` is defined)."""
    formula: str
    statsmodels: dict[str, Any]
    """How to state the same model to statsmodels' mixedlm: formula, groups,
    re_formula, vc_formula ("groups" may be None for crossed effects)."""

    def frame(self) -> pd.DataFrame:
        """The data as a pandas frame, made by the same R code."""
        from pylme4._r.call import run_code

        return run_code(f"{DATA_R}\n{self.r_data}")

    def fit(self, frame: pd.DataFrame) -> Any:
        """``pylme4.lmer`` of this model on ``frame`` (as made by :meth:`frame`),
        warnings silenced: what the benchmarks time on pylme4's side."""
        import pylme4

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pylme4.lmer(self.formula, frame, data_name=self.data_name)


def load_in_r(rproc: RProcess, model: Model) -> None:
    """Bind the model's data in the benchmark R process under its data name."""
    rproc.run(f"{DATA_R}\n{model.data_name} <- {model.r_data}\nNULL")


def sleepstudy() -> Model:
    return Model(
        "sleepstudy",
        "180 x 3",
        "sleepstudy",
        "lme4::sleepstudy",
        "Reaction ~ Days + (Days | Subject)",
        {"formula": "Reaction ~ Days", "groups": "Subject", "re_formula": "~Days"},
    )


def simulated(rows: int, groups: int) -> Model:
    return Model(
        "y ~ x + (1|g)",
        f"{rows:,} rows, {groups:,} groups",
        "d",
        f"bench_data({rows}, {groups})",
        "y ~ x + (1 | g)",
        {"formula": "y ~ x", "groups": "g"},
    )


def crossed(subjects: int = 100, items: int = 100) -> Model:
    """Subjects crossed with items (``bench_crossed`` in data.R): a random
    slope by subject and a random intercept by item, three predictors."""
    return Model(
        "crossed subject x item",
        f"{subjects * items:,} rows, {subjects} subjects x {items} items",
        "crossed",
        f"bench_crossed({subjects}, {items})",
        "y ~ cond + x + trial + (1 + cond | subject) + (1 | item)",
        {},  # not compared with statsmodels (it cannot state the slope's correlation)
    )


def insteval(rows: int | None = None) -> Model:
    """InstEval (73,421 ratings), or its first ``rows`` rows (unused levels dropped)."""
    code = "lme4::InstEval" if rows is None else f"droplevels(lme4::InstEval[seq_len({rows}), ])"
    return Model(
        "InstEval",
        "73,421 rows" if rows is None else f"first {rows:,} rows",
        "InstEval",
        code,
        "y ~ service + (1 | s) + (1 | d)",
        # Crossed effects: statsmodels needs one group spanning all rows and
        # each factor as a variance component.
        {
            "formula": "y ~ service",
            "groups": None,
            "vc_formula": {"s": "0 + C(s)", "d": "0 + C(d)"},
        },
    )
