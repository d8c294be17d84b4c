"""Refitting with every optimizer: lme4's ``allFit()``, and what it tells about convergence.

lme4's convergence warnings ("Model failed to converge with max|grad| = ...")
are often false positives.  lme4's advice, and the lecture's: refit the
model with all available optimizers (``allFit()``); if they all reach the
same estimates, the warning can be ignored.  :func:`all_fit` gives
``summary(allFit(fit))`` and :func:`check_convergence` answers the question
in words.

With ``workers=k`` the optimizers run in k worker processes (each optimizer's
refit is exactly the one ``allFit`` runs for it), and the refits come back
to this process to be summarised by R's ``summary()`` of an ``allFit``
object, so the numbers are R's; only the timings differ from run to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks, formatting, parallel
from ._r.call import r_call, r_value
from ._r.convert import RHandle
from .errors import ArgumentError, RCondition, did_you_mean, emit

if TYPE_CHECKING:
    from .fitbase import MerFitLike


@dataclass(frozen=True)
class AllFitResult(formatting.RPrinted):
    """``summary(allFit(fit))``: the model refitted with each optimizer.

    Everything is indexed by the optimizer names allFit uses ("bobyqa",
    "Nelder_Mead", "nlminbwrap", "nmkbw", "optimx.L-BFGS-B",
    "nloptwrap.NLOPT_LN_NELDERMEAD", "nloptwrap.NLOPT_LN_BOBYQA").
    ``which_ok`` covers every optimizer tried; the other fields cover those
    whose refit ran (``which_ok`` True), as in R.  ``str(result)`` is R's
    printout of the summary.
    """

    which_ok: pd.Series
    """Whether the refit ran without error, per optimizer."""
    msgs: pd.Series
    """lme4's convergence messages per optimizer (a tuple; empty when none)."""
    fixef: pd.DataFrame
    """Fixed effects, one row per optimizer."""
    llik: pd.Series
    """Log-likelihood (REML criterion's for REML fits) per optimizer."""
    sdcor: pd.DataFrame
    """Random-effect standard deviations and correlations (and sigma), exactly
    as R's summary has them.  Beware R's labels: the values are in the order
    of ``as.data.frame(VarCorr(fit))`` (all standard deviations, then the
    correlations), the column names in the order of ``theta`` (per block
    sd, correlations, sd, ...), so for a correlated block the labels do not
    match the values (for sleepstudy's ``(Days | Subject)`` the column
    "Subject.Days" holds the correlation).  ``correlations`` says which
    columns hold correlations."""
    theta: pd.DataFrame
    """The variance-component parameters (``getME(fit, "theta")``)."""
    times: pd.DataFrame
    """``system.time()`` of each refit (user.self, sys.self, elapsed, ...)."""
    feval: pd.Series
    """Function evaluations per optimizer (NaN when the optimizer does not say)."""
    correlations: tuple[str, ...]
    """The columns of ``sdcor`` that hold correlations (not standard deviations)."""
    errors: pd.Series
    """R's error text for optimizers whose refit failed ("" otherwise)."""
    messages: tuple[RCondition, ...]
    """R's warnings and messages while refitting, in order."""
    text: str = field(repr=False)

    def check_convergence(self, rtol: float = 1e-3, loglik_tol: float = 1e-3) -> ConvergenceCheck:
        """Whether these optimizers agree: see :func:`pylme4.allfit.check_convergence`."""
        return compare_optimizers(self, rtol=rtol, loglik_tol=loglik_tol)

    def brief(self) -> str:
        ok = int(self.which_ok.sum())
        return f"<AllFitResult: {ok} of {len(self.which_ok)} optimizers ran>"


@dataclass(frozen=True)
class ConvergenceCheck(formatting.RPrinted):
    """Whether the optimizers of ``allFit()`` agree on the estimates.

    ``str(check)`` and ``repr(check)`` say it in words (R has no such
    printout; the words are pylme4's), a notebook shows them as ``<pre>``.
    """

    agree: bool
    """True when every optimizer that ran reached the same estimates (within
    ``rtol``) and log-likelihood (within ``loglik_tol``)."""
    spread: pd.Series
    """For each parameter (fixed effects, sd/cor, then "logLik"): the range
    across optimizers, relative to the parameter's size (absolute for
    correlations and the log-likelihood)."""
    failed: tuple[str, ...]
    """Optimizers whose refit stopped with an error."""
    warned: tuple[str, ...]
    """Optimizers whose refit gave lme4 convergence messages."""
    rtol: float
    loglik_tol: float
    all_fit: AllFitResult = field(repr=False)
    text: str = field(repr=False)

    def __bool__(self) -> bool:
        return self.agree

    def brief(self) -> str:
        return f"<ConvergenceCheck: {'agree' if self.agree else 'disagree'}>"


def _refit_with(fit: RHandle, name: str) -> tuple[bytes, tuple[RCondition, ...]]:
    """One optimizer's refit in a worker, sent back as R's serialize() bytes."""
    outcome = r_call(
        "pylme4_allfit_one_serialized", fit, name, doing=f"refitting with optimizer {name}"
    )
    return outcome.value, outcome.conditions


def _refit_here(fit: RHandle, name: str) -> tuple[RHandle, tuple[RCondition, ...]]:
    outcome = r_call(
        "pylme4_allfit_one", fit, name, doing=f"refitting with optimizer {name}", keep=True
    )
    return outcome.value, outcome.conditions


def optimizers(fit: MerFitLike) -> list[str]:
    """The optimizers ``allFit()`` tries for this fit (those installed), by its names."""
    names = r_value("pylme4_allfit_methods", fit.r_handle, doing="listing allFit's optimizers")
    return [str(n) for n in names]


def all_fit(
    fit: MerFitLike,
    optimizers: Sequence[str] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> AllFitResult:
    """Refit the model with every available optimizer: ``summary(allFit(fit))``.

    Parameters
    ----------
    fit
        The fitted model.
    optimizers
        allFit's names of the optimizers to try (see
        :func:`pylme4.allfit.optimizers`); None tries all that are installed.
    workers
        Processes refitting in parallel, one optimizer per task.
    executor
        A :class:`concurrent.futures.Executor` to refit on instead.
    progress
        Show a progress bar (tqdm, on stderr).

    Returns
    -------
    AllFitResult
        ``which_ok``, ``msgs``, ``fixef``, ``llik``, ``sdcor``, ``theta``,
        ``times``, ``feval`` as R's ``summary(allFit(fit))`` has them.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> af = fit.all_fit()
    >>> bool(af.which_ok.all())
    True
    >>> af.fixef.round(4).nunique().tolist()
    [1, 1]
    """
    place = parallel.where(workers, executor)
    available = _all_optimizers(fit)
    if optimizers is None:
        names = available
    else:
        if isinstance(optimizers, str):
            optimizers = [optimizers]
        names = [str(o) for o in optimizers]
        unknown = [o for o in names if o not in available]
        if unknown:
            raise ArgumentError(
                f"allFit has no optimizer {unknown[0]!r}; choose from {available}"
                + did_you_mean(unknown[0], available)
            )
        if not names:
            raise ArgumentError("optimizers must name at least one optimizer")
        # allFit tries them in its own order; so does this.
        names = [o for o in available if o in names]

    with place.starting():
        handle = fit.r_handle
        fit_ref = place.fit_ref(fit)
        remote = place.remote
        bar = parallel.Progress(bool(progress), len(names), "allFit", "optimizer")
        try:
            results = place.run(
                _refit_with if remote else _refit_here,
                [(fit_ref, name) for name in names],
                on_result=lambda i, r: bar.update(1),
            )
        finally:
            bar.close()
    conditions = tuple(c for _, conds in results for c in conds)
    outcome = r_call(
        "pylme4_allfit_summary",
        handle,
        [value for value, _ in results],
        names,
        remote,
        doing="summarising allFit()",
    )
    emit(conditions + outcome.conditions)
    parts = outcome.value
    which_ok = _series(parts["which_ok"], names, bool)
    ok = [n for n in names if which_ok[n]]
    msgs = parts["msgs"] or {}
    return AllFitResult(
        which_ok=which_ok,
        msgs=pd.Series(
            [tuple(str(m) for m in msgs.get(n, ()) if m is not None) for n in ok],
            index=ok,
            dtype=object,
            name="msgs",
        ),
        fixef=_frame(parts["fixef"], ok),
        llik=_series(parts["llik"], ok, float),
        sdcor=_frame(parts["sdcor"], ok),
        theta=_frame(parts["theta"], ok),
        times=_frame(parts["times"], ok),
        feval=_series(parts["feval"], ok, float),
        correlations=tuple(
            str(c) for c, is_cor in zip(parts["sdcor"].columns, parts["sdcor_is_cor"]) if is_cor
        ),
        errors=_series(parts["errors"], names, str),
        messages=conditions + outcome.conditions,
        text=parts["text"],
    )


def _all_optimizers(fit: MerFitLike) -> list[str]:
    return fit.cached("allfit_optimizers", lambda: optimizers(fit))


def _series(value: Any, index: list[str], kind: type) -> pd.Series:
    if isinstance(value, pd.Series):
        return value.astype(kind).reindex(index)
    values: np.ndarray = np.asarray(value if value is not None else [], dtype=kind)
    return pd.Series(values, index=index[: len(values)])


def _frame(value: Any, index: list[str]) -> pd.DataFrame:
    frame = value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
    return frame.set_axis(index, axis=0)


def check_convergence(
    fit: MerFitLike,
    optimizers: Sequence[str] | None = None,
    rtol: float = 1e-3,
    loglik_tol: float = 1e-3,
    workers: int = 1,
    all_fit_result: AllFitResult | None = None,
) -> ConvergenceCheck:
    """Whether the estimates agree across optimizers (lme4's advice for
    convergence warnings).

    Refits the model with every optimizer (:func:`all_fit`) and compares what
    the refits that ran reached.  They *agree* when, for every fixed effect
    and every standard deviation, the range across optimizers is at most
    ``rtol`` times the estimate's size (for correlations: at most ``rtol``
    in absolute terms), and the log-likelihoods lie within ``loglik_tol`` of
    each other.  The default ``rtol=1e-3`` asks for agreement in the first
    three significant digits, more than a paper reports.

    If they agree, a convergence warning on the original fit is a false
    positive: the optimum is where every optimizer ends up.  If they do
    not, the warning deserves attention: simplify the model (drop the
    correlation, center and scale predictors), or use the optimizer with the
    best log-likelihood and check it.

    Examples
    --------
    >>> check = fit.check_convergence()  # doctest: +SKIP
    >>> print(check)  # doctest: +SKIP
    All 7 optimizers that ran agree: ...
    """
    _check_tolerances(rtol, loglik_tol)
    af = all_fit_result if all_fit_result is not None else all_fit(fit, optimizers, workers)
    return compare_optimizers(af, rtol=rtol, loglik_tol=loglik_tol)


def _check_tolerances(rtol: Any, loglik_tol: Any) -> None:
    for name, tol in (("rtol", rtol), ("loglik_tol", loglik_tol)):
        checks.positive_number(tol, name)


def compare_optimizers(
    af: AllFitResult, rtol: float = 1e-3, loglik_tol: float = 1e-3
) -> ConvergenceCheck:
    """Whether the optimizers of an :class:`AllFitResult` agree (see
    :func:`check_convergence` for the criteria)."""
    _check_tolerances(rtol, loglik_tol)
    failed = tuple(str(n) for n in af.which_ok.index[~af.which_ok.to_numpy(dtype=bool)])
    warned = tuple(str(n) for n, m in af.msgs.items() if len(m))
    spreads: dict[str, float] = {}
    for column in af.fixef.columns:
        spreads[str(column)] = _relative_range(af.fixef[column])
    for column in af.sdcor.columns:
        values = af.sdcor[column]
        is_corr = str(column) in af.correlations
        spreads[str(column)] = (
            float(values.max() - values.min()) if is_corr else _relative_range(values)
        )
    ll = af.llik
    spreads["logLik"] = float(ll.max() - ll.min()) if len(ll) else float("nan")
    spread = pd.Series(spreads, name="spread")
    parameters = spread.drop("logLik")
    ran = len(af.llik)
    agree = bool(ran >= 2 and (parameters <= rtol).all() and spreads["logLik"] <= loglik_tol)
    text = _convergence_text(af, spread, agree, failed, warned, rtol, loglik_tol)
    return ConvergenceCheck(
        agree=agree,
        spread=spread,
        failed=failed,
        warned=warned,
        rtol=float(rtol),
        loglik_tol=float(loglik_tol),
        all_fit=af,
        text=text,
    )


def _relative_range(values: pd.Series) -> float:
    if len(values) == 0:
        return float("nan")
    size = float(np.max(np.abs(values)))
    width = float(values.max() - values.min())
    return width / size if size > 0 else width


def _convergence_text(
    af: AllFitResult,
    spread: pd.Series,
    agree: bool,
    failed: tuple[str, ...],
    warned: tuple[str, ...],
    rtol: float,
    loglik_tol: float,
) -> str:
    ran = len(af.llik)
    tried = len(af.which_ok)
    lines = []
    if ran < 2:
        lines.append(
            f"Only {ran} of {tried} optimizers ran: there is nothing to compare, "
            "so allFit cannot tell whether the fit converged."
        )
    elif agree:
        lines.append(
            f"All {ran} optimizers that ran agree: estimates within a relative {rtol:g} "
            f"and log-likelihoods within {loglik_tol:g} of each other."
        )
        lines.append(
            "A convergence warning on this fit is a false positive: every optimizer "
            "reaches the same optimum."
        )
    else:
        worst = spread.drop("logLik").sort_values(ascending=False)
        off = [f"{name} (spread {value:.3g})" for name, value in worst.items() if value > rtol]
        if spread["logLik"] > loglik_tol:
            off.append(f"the log-likelihood (spread {spread['logLik']:.3g})")
        lines.append(f"The {ran} optimizers that ran do NOT agree on: " + ", ".join(off) + ".")
        best = str(af.llik.idxmax())
        lines.append(
            "Take the convergence warning seriously: simplify the model (e.g. drop the "
            "correlation between random effects, center and scale predictors), or check "
            f"the fit with the best log-likelihood ({best}, {af.llik.max():.6g})."
        )
    if failed:
        lines.append("Optimizers that failed: " + ", ".join(failed) + ".")
    if warned:
        lines.append("Optimizers with convergence messages: " + ", ".join(warned) + ".")
    return "\n".join(lines)
