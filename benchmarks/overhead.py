"""What pylme4 adds to R's own time: ``pylme4.lmer`` + ``summary(ddf=)``
against the same calls typed into R.

pylme4 side (timed in Python)::

    fit = pylme4.lmer(formula, frame, data_name=...)
    fit.summary(ddf="Satterthwaite")

R side (a separate Rscript, timed inside R, same data)::

    m <- lmerTest::lmer(formula, data = ...)
    s <- summary(m, ddf = "Satterthwaite")
    txt <- capture.output(print(s))

pylme4's summary carries R's printed text, so the R side prints too.  The
pylme4 side includes everything a user waits for: checking the frame and the
formula, converting the frame to R, fitting, reading the fit's basics back,
lmerTest's conversion and the summary.  The ratio pylme4 / R is the overhead
(1.00 = none).  The fit-only row compares ``pylme4.lmer`` with ``lme4::lmer``.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import numpy as np

from . import data
from .report import Row
from .rprocess import RProcess
from .timing import alternate, clock

SECTION = "overhead"


def _cases(quick: bool) -> list[tuple[data.Model, int, tuple[str, float]]]:
    """(model, repeats, target) for each case."""
    if quick:
        return [
            (data.sleepstudy(), 10, ("<=", 1.25)),
            (data.simulated(40_000, 400), 3, ("<=", 1.05)),
            (data.insteval(5_000), 3, ("<=", 1.05)),
        ]
    return [
        (data.sleepstudy(), 40, ("<=", 1.25)),
        (data.simulated(400_000, 1_000), 5, ("<=", 1.05)),
        (data.insteval(), 3, ("<=", 1.05)),
    ]


def _max_rel_diff(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def run(quick: bool, rproc: RProcess) -> list[Row]:
    rows = []
    for index, (model, repeat, target) in enumerate(_cases(quick)):
        frame = model.frame()
        data.load_in_r(rproc, model)
        formula, name = model.formula, model.data_name
        last: dict[str, Any] = {}

        def ours(model: data.Model = model, frame: Any = frame, last: dict = last) -> None:
            fit = model.fit(frame)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit.summary(ddf="Satterthwaite")
            last["fit"] = fit

        r_code = (
            f"timed({{ m <- lmerTest::lmer({formula}, data = {name}); "
            "s <- summary(m, ddf = 'Satterthwaite'); txt <- capture.output(print(s)) })"
        )
        times = alternate(
            {"pylme4": clock(ours), "other": partial(rproc.seconds, r_code)},
            repeat,
            warmup=1 if index == 0 else 0,
        )
        r_fixef = rproc.run("lme4::fixef(m)")
        rows.append(
            Row(
                SECTION,
                f"{model.label}: lmer + summary(ddf)",
                model.size,
                "R (Rscript)",
                times,
                target=target,
                extra={"max_rel_diff_fixef_vs_R": _max_rel_diff(last["fit"].fixef(), r_fixef)},
            )
        )
        if index == 0:
            rows.append(_fit_only(model, frame, rproc, repeat))
    return rows


def _fit_only(model: data.Model, frame: Any, rproc: RProcess, repeat: int) -> Row:
    code = f"timed(m0 <- lme4::lmer({model.formula}, data = {model.data_name}))"
    times = alternate(
        {"pylme4": clock(partial(model.fit, frame)), "other": lambda: rproc.seconds(code)}, repeat
    )
    return Row(SECTION, f"{model.label}: lmer only", model.size, "R (Rscript)", times)
