"""statsmodels' MixedLM on the models of :mod:`benchmarks.overhead`.

For each model: the time of ``smf.mixedlm(...).fit(reml=True)`` against
``pylme4.lmer`` (both fit by REML; measured alternately), and how far
statsmodels' estimates are from lme4's: the largest relative difference
among the fixed effects and among the variance parameters (random-effect
variances and covariances, residual variance).  The ratio is statsmodels'
time / pylme4's (above 1: pylme4 is faster).

Crossed random effects (InstEval) have no grouping factor in statsmodels:
they are stated as variance components within one group spanning all rows,
which builds dense indicator matrices; that fit runs in a child process under
a time limit and is reported as "more than" the limit when stopped.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import data
from .report import Row
from .timing import Timing, alternate, clock

SECTION = "statsmodels"
OTHER = "statsmodels MixedLM"


def _cases(quick: bool) -> list[tuple[data.Model, int, float | None]]:
    """(model, repeats, time limit in a child process or None for in-process)."""
    if quick:
        return [
            (data.sleepstudy(), 5, None),
            (data.simulated(40_000, 400), 2, None),
            (data.insteval(1_000), 1, 20.0),
        ]
    return [
        (data.sleepstudy(), 20, None),
        (data.simulated(400_000, 1_000), 3, None),
        (data.insteval(), 1, 240.0),
    ]


def statsmodels_fit(model: data.Model, frame: pd.DataFrame) -> Any:
    """Fit the model with statsmodels (REML), warnings silenced."""
    import statsmodels.formula.api as smf

    spec = dict(model.statsmodels)
    groups = spec.pop("groups")
    if groups is None:
        frame = frame.assign(_all=1)
        groups = "_all"
    formula = spec.pop("formula")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return smf.mixedlm(formula, frame, groups=groups, **spec).fit(reml=True)


def estimates(result: Any, groups: str | None) -> dict[str, Any]:
    """statsmodels' estimates keyed like lme4's ``as.data.frame(VarCorr())``."""
    variances: dict[str, float] = {}
    cov = result.cov_re
    names = ["(Intercept)" if n == groups else str(n) for n in cov.index]
    for i in range(len(names)):
        for j in range(i + 1):
            key = f"{groups}|{names[i]}" if i == j else f"{groups}|{names[j]}|{names[i]}"
            variances[key] = float(cov.iloc[i, j])
    for name, value in zip(result.model.exog_vc.names, np.atleast_1d(result.vcomp)):
        variances[f"{name}|(Intercept)"] = float(value)
    variances["Residual"] = float(result.scale)
    return {"fixef": [float(v) for v in result.fe_params], "variances": variances}


def lme4_variances(var_corr: pd.DataFrame) -> dict[str, float]:
    out = {}
    for grp, var1, var2, vcov in zip(
        var_corr["grp"], var_corr["var1"], var_corr["var2"], var_corr["vcov"]
    ):
        if grp == "Residual":
            out["Residual"] = float(vcov)
        elif pd.isna(var2):
            out[f"{grp}|{var1}"] = float(vcov)
        else:
            out[f"{grp}|{var1}|{var2}"] = float(vcov)
    return out


def differences(fit: Any, theirs: dict[str, Any]) -> dict[str, float]:
    """Largest relative differences of statsmodels' estimates from lme4's."""
    ours_fixef = np.asarray(fit.fixef(), dtype=float)
    their_fixef = np.asarray(theirs["fixef"], dtype=float)
    ours_var = lme4_variances(fit.var_corr())
    common = sorted(set(ours_var) & set(theirs["variances"]))
    a = np.array([theirs["variances"][k] for k in common])
    b = np.array([ours_var[k] for k in common])
    return {
        "max_rel_diff_fixef": float(np.max(np.abs(their_fixef - ours_fixef) / np.abs(ours_fixef))),
        "max_rel_diff_variances": float(np.max(np.abs(a - b) / np.abs(b))),
        "variances_compared": len(common),
    }


class _TimeUp(Exception):
    pass


def _child_fit(model: data.Model, limit: float) -> dict[str, Any] | None:
    """Fit in a child process; None when the fit did not finish within ``limit`` seconds.

    The child stops its own fit at the limit (its start-up, loading the data,
    is not counted); the parent's timeout is only a backstop.
    """
    spec = json.dumps(model.__dict__)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.statsmodels_mixedlm", spec, str(limit)],
            capture_output=True,
            text=True,
            timeout=limit + 300,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    except subprocess.TimeoutExpired:
        return None
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return None if answer.get("stopped") else answer


def run(quick: bool) -> list[Row]:
    rows = []
    for model, repeat, limit in _cases(quick):
        frame = model.frame()
        last: dict[str, Any] = {}

        def ours(model: data.Model = model, frame: pd.DataFrame = frame, last: dict = last) -> None:
            last["fit"] = model.fit(frame)

        def theirs(
            model: data.Model = model, frame: pd.DataFrame = frame, last: dict = last
        ) -> None:
            last["sm"] = statsmodels_fit(model, frame)

        # statsmodels' estimates, or None when it was stopped at the time limit
        theirs_estimates: dict[str, Any] | None
        if limit is None:
            times = alternate({"pylme4": clock(ours), "other": clock(theirs)}, repeat)
            theirs_estimates = estimates(last["sm"], model.statsmodels["groups"])
        else:
            times = alternate({"pylme4": clock(ours)}, repeat, warmup=0)
            theirs_estimates = _child_fit(model, limit)
            if theirs_estimates is None:
                times.add("other", Timing(limit))
            else:
                times.add(
                    "other", Timing(theirs_estimates["seconds"], theirs_estimates["cpu_seconds"])
                )
        row = Row(SECTION, model.label, model.size, OTHER, times, ratio_is="other / pylme4")
        if theirs_estimates is None:
            row.other_at_least = True
            row.note = f"statsmodels did not finish within {limit:g} s and was stopped"
        else:
            row.extra = differences(last["fit"], theirs_estimates)
        rows.append(row)
    return rows


def _child(spec_json: str, limit: str) -> None:
    """In a child process: fit one model with statsmodels, print time and
    estimates as JSON, or {"stopped": true} when the fit took too long."""
    model = data.Model(**json.loads(spec_json))
    frame = model.frame()

    def time_up(signum: int, frame: Any) -> None:
        raise _TimeUp

    signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, float(limit))
    cpu, start = time.process_time(), time.perf_counter()
    try:
        result = statsmodels_fit(model, frame)
    except _TimeUp:
        print(json.dumps({"stopped": True}))
        return
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    signal.setitimer(signal.ITIMER_REAL, 0)
    groups = model.statsmodels["groups"]
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu_seconds, **estimates(result, groups or "_all")}
        )
    )


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
