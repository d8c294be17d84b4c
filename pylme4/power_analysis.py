"""Power by simulation: how often a test of one term would reject, for data
like the fitted model's (:func:`power`) or for a design with more (or fewer)
levels of a grouping factor (:func:`power_curve`).

Each simulated response comes from R's ``simulate()`` with the fit's
parameters (one coefficient changed by ``effect=`` if asked), in R's random
stream: a seed gives exactly the p-values of the R loop in docs/power.md.
The model is then fitted afresh to every response -- the fit's own call on
the data with the simulated response put in -- and the term tested: lmerTest's
F test (Satterthwaite or Kenward-Roger), a likelihood-ratio test against the
model without the term, or a Wald z test for a GLMM.  A fresh fit rather than
lme4's ``refit()`` because lmerTest's degrees of freedom re-evaluate the
model's call, which after ``refit()`` would see the original response.

The fits run here or on pylme4's worker pool (``workers=``, ``executor=``)
with identical results: the responses are all simulated first, in this
process, and each fit is deterministic.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import checks, formatting, parallel
from ._r.call import r_call, r_value
from ._r.convert import RHandle
from .errors import ArgumentError, ArgumentTypeError, choice_error, did_you_mean
from .fitbase import MerFitLike
from .options import POWER_METHODS, PowerMethod


@dataclass(frozen=True, eq=False, repr=False)
class PowerResult(formatting.RPrinted):
    """The estimated power of one test, from ``nsim`` simulated data sets."""

    power: float
    """Share of the simulations whose p-value is below ``alpha`` (among
    those whose fit succeeded)."""
    ci: tuple[float, float]
    """Clopper-Pearson interval for the power (R's ``binom.test``)."""
    level: float
    successes: int
    """Simulations with p < alpha."""
    nsim: int
    n_failed: int
    """Simulations whose fit or test failed (their p-value is NaN)."""
    n_warned: int
    """Simulations whose fit gave R warnings (convergence, for example)."""
    p_values: pd.Series
    """One p-value per simulation (``sim_1`` ...), NaN where the fit failed."""
    errors: pd.Series
    """R's error text for the failed simulations (empty for the others)."""
    term: str
    method: str
    alpha: float
    effect: Mapping[str, float] | None
    seed: int | None
    size: int | None = None
    """The number of levels of ``along`` (power_curve's rows), else None."""
    text: str = field(default="")

    def brief(self) -> str:
        return (
            f"<PowerResult {self.term} ({self.method}): {100 * self.power:.1f}% "
            f"[{100 * self.ci[0]:.1f}, {100 * self.ci[1]:.1f}], nsim={self.nsim}>"
        )


@dataclass(frozen=True, eq=False, repr=False)
class PowerCurve(formatting.RPrinted):
    """Power by the number of levels of a grouping factor (:func:`power_curve`)."""

    along: str
    frame: pd.DataFrame
    """One row per size: ``n``, ``power``, ``ci_low``, ``ci_high``,
    ``successes``, ``nsim``, ``n_failed``, ``n_warned``, ``nobs``."""
    results: tuple[PowerResult, ...]
    text: str

    def brief(self) -> str:
        return f"<PowerCurve along {self.along}: n = {list(self.frame['n'])}>"


def _check_term(term: Any, terms: Sequence[str]) -> str:
    if not isinstance(term, str):
        raise ArgumentTypeError(f"test must be a term of the model as a string, not {term!r}")
    if term not in terms:
        raise ArgumentError(
            f"test={term!r} is not a fixed-effect term of the model (its terms: "
            f"{', '.join(repr(t) for t in terms) or 'none'}){did_you_mean(term, terms)}"
        )
    return term


def _check_effect(effect: Any, term: str, coefficients: Sequence[str]) -> dict[str, float]:
    """``effect`` as {coefficient: value}: a number sets the coefficient named
    like the term (a numeric predictor's slope)."""
    if effect is None:
        return {}
    if isinstance(effect, numbers.Real) and not isinstance(effect, bool):
        if term not in coefficients:
            raise ArgumentError(
                f"effect={effect!r} sets the coefficient {term!r}, but the model has no "
                f"coefficient of that name (a factor's term has one per level: give a dict "
                f"such as {{{coefficients[-1]!r}: ...}})"
            )
        effect = {term: effect}
    if not isinstance(effect, Mapping):
        raise ArgumentTypeError(
            f"effect must be a number or a dict of coefficient values, not {effect!r}"
        )
    out = {}
    for name, value in effect.items():
        if name not in coefficients:
            raise ArgumentError(
                f"effect names {name!r}, which is not a coefficient of the model "
                f"({', '.join(map(repr, coefficients))}){did_you_mean(name, coefficients)}"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ArgumentTypeError(f"effect[{name!r}] must be a number, not {value!r}")
        if not math.isfinite(value):
            raise ArgumentError(f"effect[{name!r}] must be finite, not {value!r}")
        out[str(name)] = float(value)
    return out


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ArgumentError(f"alpha must be a number strictly between 0 and 1, not {alpha!r}")
    return float(alpha)


def _check_method(method: Any, family: str) -> str:
    if method is None:
        return "satterthwaite" if family == "gaussian" else "lrt"
    if method not in POWER_METHODS:
        raise choice_error("method", method, POWER_METHODS)
    if family == "gaussian" and method == "wald":
        raise ArgumentError(
            "method='wald' is the z test of a GLMM; for an lmer fit use 'satterthwaite', "
            "'kenward-roger' or 'lrt'"
        )
    if family != "gaussian" and method in ("satterthwaite", "kenward-roger"):
        raise ArgumentError(
            f"method={method!r} is lmerTest's F test for lmer fits; for a glmer fit use "
            "'lrt' or 'wald'"
        )
    return str(method)


def _info(fit: Any) -> dict[str, Any]:
    if not isinstance(fit, MerFitLike):
        raise ArgumentTypeError(
            f"power() takes a model fitted by lmer() or glmer(), not {type(fit).__name__}"
        )
    info: dict[str, Any] = fit.cached(
        "power_info", lambda: r_value("pylme4_power_info", fit.r_handle, doing="reading the model")
    )
    if not info["response_ok"]:
        raise ArgumentError(
            f"power() puts simulated responses into the data's response column, but the "
            f"model's response is {info['response']!r}; fit the model to a column holding "
            "that value (for example add a column log_y and use log_y ~ ...)"
        )
    return info


@dataclass(frozen=True)
class _Plan:
    """power()'s and power_curve()'s checked arguments."""

    term: str
    effect: dict[str, float]
    nsim: int
    seed: int | None
    alpha: float
    level: float
    method: str
    place: parallel.Where


def _plan(
    fit: Any,
    test: Any,
    effect: Any,
    nsim: Any,
    seed: Any,
    alpha: Any,
    method: Any,
    level: Any,
    workers: Any,
    executor: Any,
) -> _Plan:
    info = _info(fit)
    term = _check_term(test, list(info["terms"]))
    return _Plan(
        term=term,
        effect=_check_effect(effect, term, list(info["coefficients"])),
        nsim=checks.replicates(nsim),
        seed=checks.seed(seed),
        alpha=_check_alpha(alpha),
        level=checks.level(level),
        method=_check_method(method, str(info["family"])),
        place=parallel.where(workers, executor),
    )


def _pvalues_chunk(
    fit: RHandle, ys: np.ndarray, dim: tuple[int, int, int], term: str, method: str
) -> dict[str, Any]:
    """Fit and test the simulated responses of one chunk (here or in a worker)."""
    n, k, m = dim
    out = r_value(
        "pylme4_power_pvalues",
        fit,
        ys,
        n,
        k,
        m,
        term,
        method,
        doing="fitting the model to simulated responses",
    )
    return {
        "p": np.asarray(out["p"], dtype=float),
        "errors": [str(e) for e in out["errors"]],
        "warnings": np.asarray(out["warnings"], dtype=np.int64),
    }


def _run(
    model: RHandle, simulated: Mapping[str, Any], plan: _Plan, bar: parallel.Progress
) -> dict[str, Any]:
    """The p-values for every simulated response, in simulation order."""
    ys = np.asarray(simulated["ys"], dtype=float)
    n, k, nsim = (int(d) for d in simulated["dim"])
    size = n * k
    place = plan.place
    if place.remote:
        spread = place.workers if place.executor is None else max(2, place.workers)
        pieces = list(parallel.chunks(nsim, spread, smallest=1))
        ref: Any = parallel.share(model)
    else:
        pieces = [range(s, min(s + 10, nsim)) for s in range(0, nsim, 10)]
        ref = model
    tasks = [
        (ref, ys[p.start * size : p.stop * size], (n, k, len(p)), plan.term, plan.method)
        for p in pieces
    ]
    parts = place.run(_pvalues_chunk, tasks, on_result=lambda i, _: bar.update(len(pieces[i])))
    return {
        "p": np.concatenate([part["p"] for part in parts]),
        "errors": [e for part in parts for e in part["errors"]],
        "warnings": np.concatenate([part["warnings"] for part in parts]),
    }


def _result(
    found: Mapping[str, Any],
    plan: _Plan,
    size: int | None = None,
    along: str | None = None,
    nobs: int | None = None,
) -> PowerResult:
    alpha, level = plan.alpha, plan.level
    p = found["p"]
    nsim = len(p)
    names = [f"sim_{i + 1}" for i in range(nsim)]
    failed = np.isnan(p)
    done = int((~failed).sum())
    successes = int((p[~failed] < alpha).sum())
    if done:
        low, high = (
            float(v)
            for v in r_value(
                "pylme4_power_interval", successes, done, level, doing="computing the interval"
            )
        )
        power = successes / done
    else:
        low = high = power = math.nan
    warned = int((found["warnings"] > 0).sum())
    result = PowerResult(
        power=power,
        ci=(low, high),
        level=level,
        successes=successes,
        nsim=nsim,
        n_failed=int(failed.sum()),
        n_warned=warned,
        p_values=pd.Series(p, index=names, name="p_value"),
        errors=pd.Series(found["errors"], index=names, name="error", dtype=object),
        term=plan.term,
        method=plan.method,
        alpha=alpha,
        effect=dict(plan.effect) or None,
        seed=plan.seed,
        size=size,
    )
    text = _text(result, along=along, nobs=nobs)
    object.__setattr__(result, "text", text)
    return result


_METHOD_NAMES = {
    "satterthwaite": "F test with Satterthwaite's degrees of freedom (lmerTest)",
    "kenward-roger": "F test with Kenward-Roger's degrees of freedom (lmerTest)",
    "lrt": "likelihood-ratio test against the model without the term",
    "wald": "Wald z test",
}


def _percent(x: float) -> str:
    return "NA" if math.isnan(x) else f"{100 * x:.2f}%"


def _text(result: PowerResult, along: str | None = None, nobs: int | None = None) -> str:
    """pylme4's own printout (R has no print for this loop)."""
    low, high = result.ci
    lines = [
        f"Power for the term '{result.term}', ({100 * result.level:g}% confidence interval):",
        f"      {_percent(result.power)} ({_percent(low)}, {_percent(high)})",
        "",
        f"Test: {_METHOD_NAMES[result.method]}, alpha = {result.alpha:g}",
    ]
    if result.effect:
        changed = ", ".join(f"{k} = {v:g}" for k, v in result.effect.items())
        lines.append(f"Simulated with {changed}; other parameters as fitted")
    else:
        lines.append("Simulated with the fitted parameters")
    if along is not None:
        lines.append(f"Design: {result.size} levels of {along} ({nobs} observations)")
    lines += [
        "",
        f"Based on {result.nsim} simulations ({result.n_failed} failed, "
        f"{result.n_warned} with warnings), seed = {result.seed}",
    ]
    return "\n".join(lines)


def power(
    fit: MerFitLike,
    test: str,
    effect: float | Mapping[str, float] | None = None,
    *,
    nsim: int = 1000,
    seed: int | None = 1,
    alpha: float = 0.05,
    method: PowerMethod | None = None,
    level: float = 0.95,
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool = False,
) -> PowerResult:
    """Power of the test of ``test`` for data like the fit's, by simulation.

    Parameters
    ----------
    fit
        A model fitted by :func:`pylme4.lmer` or :func:`pylme4.glmer`; its
        response must be a column (or ``cbind(successes, failures)``).
    test
        A fixed-effect term of the model, as R names it (``"Days"``,
        ``"recipe"``, ``"recipe:temperature"``).
    effect
        The value of the term's coefficient to simulate with (a number, for a
        term with one coefficient), or ``{coefficient: value}``; None keeps the
        fitted values (an "observed power", rarely what a plan needs).
    nsim, seed
        Simulations, and R's seed (``simulate(fit, nsim, seed = seed, ...)``).
    alpha
        The test's level.
    method
        ``"satterthwaite"`` (default for lmer) or ``"kenward-roger"``:
        lmerTest's F test of the term; ``"lrt"`` (default for glmer): the
        likelihood-ratio test against the model without the term (fitted by
        maximum likelihood, as ``anova()`` does); ``"wald"``: the z test of a
        GLMM coefficient named like the term.
    level
        Confidence level of the interval for the power.
    workers, executor, progress
        As for :meth:`~pylme4.LmerFit.boot_mer`; the p-values do not depend on them.

    Returns
    -------
    PowerResult
        ``power`` with its interval ``ci``, the ``p_values`` of every
        simulation, and failures; ``str()`` is a short report.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> pw = pylme4.power(fit, "Days", effect=3, nsim=20, seed=1)
    >>> pw.power
    0.5
    """
    plan = _plan(fit, test, effect, nsim, seed, alpha, method, level, workers, executor)
    with plan.place.starting(), parallel.interruptible() as interrupt:
        simulated = r_value(
            "pylme4_power_simulate",
            fit.r_handle,
            plan.effect,
            plan.nsim,
            plan.seed,
            doing="simulating responses",
        )
        interrupt.check()
        bar = parallel.Progress(bool(progress), plan.nsim, "power", "fit")
        try:
            found = _run(fit.r_handle, simulated, plan, bar)
        finally:
            bar.close()
    return _result(found, plan)


def _check_sizes(n: Any) -> list[int]:
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        n = [n]
    if isinstance(n, (str, bytes)) or not isinstance(n, Sequence) or not len(n):
        raise ArgumentTypeError(f"n must be a list of numbers of levels, not {n!r}")
    sizes = []
    for value in n:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
            raise ArgumentError(
                f"n must hold whole numbers of levels, at least 2 each, not {value!r}"
            )
        sizes.append(int(value))
    return sizes


def power_curve(
    fit: MerFitLike,
    test: str,
    along: str,
    n: Sequence[int],
    effect: float | Mapping[str, float] | None = None,
    *,
    nsim: int = 1000,
    seed: int | None = 1,
    alpha: float = 0.05,
    method: PowerMethod | None = None,
    level: float = 0.95,
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool = False,
) -> PowerCurve:
    """Power of the test of ``test`` as the design grows along ``along``.

    For each size in ``n`` the fit's data (the rows it used) is extended to
    that many levels of the grouping factor ``along``: level j copies the rows
    of the fit's level ``(j - 1) % L + 1`` (the first L keep their names,
    copies are named ``"<level>_2"``, ...), so every new level has the same
    structure; with fewer levels than the fit's, the first ones are kept.
    Responses are simulated for that design with lme4's ``simulate()`` of
    the formula (``newdata``, ``newparams``: the fit's theta, coefficients
    with ``effect``, sigma), with the same ``seed`` for every size, then
    fitted and tested as in :func:`power`.

    Returns a :class:`PowerCurve` whose ``frame`` has one row per size;
    :func:`pylme4.plot.power_curve` draws it.

    The model must not use weights or an offset given as vectors (columns of
    the data are copied along with the rows).
    """
    plan = _plan(fit, test, effect, nsim, seed, alpha, method, level, workers, executor)
    if not isinstance(along, str):
        raise ArgumentTypeError(f"along must be a grouping factor's name, not {along!r}")
    groups = list(fit.ngroups)
    if along not in groups:
        raise ArgumentError(
            f"along={along!r} is not a grouping factor of the model ({', '.join(map(repr, groups))})"
            + did_you_mean(along, groups)
        )
    sizes = _check_sizes(n)
    results = []
    rows = []
    with plan.place.starting(), parallel.interruptible() as interrupt:
        bar = parallel.Progress(bool(progress), plan.nsim * len(sizes), "power curve", "fit")
        try:
            for size in sizes:
                design = r_call(
                    "pylme4_power_design",
                    fit.r_handle,
                    along,
                    size,
                    doing=f"fitting the model to the design with {size} levels of {along}",
                    keep=True,
                ).value
                simulated = r_value(
                    "pylme4_power_simulate_design",
                    fit.r_handle,
                    design,
                    plan.effect,
                    plan.nsim,
                    plan.seed,
                    doing="simulating responses",
                )
                interrupt.check()
                found = _run(design, simulated, plan, bar)
                nobs = int(simulated["dim"][0])
                result = _result(found, plan, size=size, along=along, nobs=nobs)
                results.append(result)
                rows.append(
                    {
                        "n": size,
                        "power": result.power,
                        "ci_low": result.ci[0],
                        "ci_high": result.ci[1],
                        "successes": result.successes,
                        "nsim": result.nsim,
                        "n_failed": result.n_failed,
                        "n_warned": result.n_warned,
                        "nobs": nobs,
                    }
                )
        finally:
            bar.close()
    frame = pd.DataFrame(rows)
    text = "\n".join(
        [
            f"Power for the term '{plan.term}' by the number of levels of {along} "
            f"({100 * plan.level:g}% confidence intervals), {plan.nsim} simulations each:",
            "",
            frame[["n", "nobs", "power", "ci_low", "ci_high", "n_failed"]].to_string(
                index=False, float_format=lambda x: f"{x:.4f}"
            ),
        ]
    )
    return PowerCurve(along=along, frame=frame, results=tuple(results), text=text)
