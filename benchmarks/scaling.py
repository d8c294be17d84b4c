"""How a fit's cost grows with rows and with groups.

``y ~ x + (1 | g)`` on simulated data (:func:`benchmarks.data.simulated`)
over a small grid of rows x groups: ``pylme4.lmer`` against ``lme4::lmer`` in
R (fit only, alternately), so the table shows both R's own growth and
pylme4's overhead (the difference, mostly converting the frame) at each size.
"""

from __future__ import annotations

from functools import partial

from . import data
from .report import Row
from .rprocess import RProcess
from .timing import alternate, clock

SECTION = "scaling"


def grid(quick: bool) -> list[tuple[int, int]]:
    if quick:
        return [(2_000, 20), (2_000, 200), (20_000, 20), (20_000, 200)]
    rows = (10_000, 100_000, 1_000_000)
    groups = (100, 1_000, 10_000)
    # At least 10 rows per group.
    return [(n, g) for n in rows for g in groups if n >= 10 * g]


def run(quick: bool, rproc: RProcess) -> list[Row]:
    out = []
    for rows, groups in grid(quick):
        model = data.simulated(rows, groups)
        frame = model.frame()
        data.load_in_r(rproc, model)
        code = f"timed(m <- lme4::lmer({model.formula}, data = {model.data_name}))"
        # One untimed warm-up round first: in it R's heap grows to the new
        # size (a full garbage collection or two), so it is left out.
        repeat = 1 if quick else 2
        times = alternate(
            {"pylme4": clock(partial(model.fit, frame)), "other": partial(rproc.seconds, code)},
            repeat,
            warmup=1,
        )
        out.append(Row(SECTION, "lmer y ~ x + (1|g)", model.size, "R (Rscript)", times))
    rproc.run("rm(d, m); invisible(gc()); NULL")
    return out
