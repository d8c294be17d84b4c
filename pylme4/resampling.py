"""Case-resampling bootstraps: resample the data's rows, refit, repeat.

:func:`bootstrap_lm` is the lecture's ``modelr::bootstrap()`` for a linear
model: each replicate draws ``nrow(data)`` rows with replacement (R's
``sample(nrow(data), replace = TRUE)``) and refits the model.  For ``lm()``,
whose rows are independent, this is the ordinary nonparametric bootstrap.

:func:`bootstrap_lmer_rows` does the same to a mixed model, to show why it is
wrong there (see its docstring); the right tool is the parametric bootstrap,
``fit.boot_mer()`` (lme4's ``bootMer``).

Both draw R's random numbers: with ``seed``, exactly as ``set.seed(seed)``
followed by the same resampling in R, so the replicates can be checked
against R.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import checks
from ._r.call import r_call
from .errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    ConvergenceWarning,
    RCondition,
    emit,
)
from .linear import LmFit
from .results import MerFit


@dataclass(frozen=True)
class PercentileInterval:
    """A percentile bootstrap interval for one term."""

    term: str
    level: float
    low: float
    high: float
    n: int
    """Replicates the interval is based on (failed refits excluded)."""

    def excludes_zero(self) -> bool:
        """Whether 0 lies outside the interval (the lecture's question)."""
        return bool(self.low > 0 or self.high < 0)

    def __str__(self) -> str:
        return (
            f"{self.level:.0%} percentile interval for {self.term} "
            f"({self.n} replicates): ({self.low:.4g}, {self.high:.4g})"
        )


@dataclass(frozen=True)
class CaseBootstrap:
    """Replicates of a case-resampling bootstrap.

    ``t0`` holds the estimates on the original data, ``t`` one row per
    replicate (index ``id`` 1..n; NaN for a refit that failed), as R's
    ``boot`` objects name them.
    """

    model: str
    """The refitted call, e.g. "lm(formula = reaction ~ 1 + days, data = df.sleep)"."""
    t0: pd.Series
    t: pd.DataFrame
    messages: tuple[tuple[RCondition, ...], ...] = field(repr=False)
    """Each replicate's R warnings and messages (lme4's convergence notes
    included), in order."""
    errors: tuple[str, ...] = field(repr=False)
    """Each replicate's R error ("" when the refit worked)."""
    seed: int | None = None

    @property
    def nsim(self) -> int:
        return len(self.t)

    @property
    def n_failed(self) -> int:
        """Replicates whose refit stopped with an error."""
        return sum(1 for e in self.errors if e)

    @property
    def n_warned(self) -> int:
        """Replicates whose refit R warned about (any warning)."""
        return sum(1 for notes in self.messages if any(c.kind == "warning" for c in notes))

    @property
    def n_convergence_warnings(self) -> int:
        """Replicates whose refit lme4 flagged as not converged (or singular
        convergence trouble): the lecture's "Model failed to converge" lines."""
        return sum(
            1
            for notes in self.messages
            if any(issubclass(c.category, ConvergenceWarning) for c in notes)
        )

    def convergence_messages(self) -> list[str]:
        """The convergence warnings of all replicates, one line each, in order."""
        return [
            c.text
            for notes in self.messages
            for c in notes
            if issubclass(c.category, ConvergenceWarning)
        ]

    def ci(self, term: str | int, type: str = "perc", level: float = 0.95) -> PercentileInterval:
        """Percentile interval of one term: R's ``quantile(t, c(a, 1 - a))``
        (type 7) over the replicates that worked, ``a = (1 - level) / 2``."""
        if type != "perc":
            raise ArgumentError(f"a case bootstrap offers type='perc' only, not {type!r}")
        level = checks.level(level)
        name = self._term(term)
        values = self.t[name].dropna().to_numpy(dtype=float)
        if values.size == 0:
            raise ArgumentError(f"no replicate has an estimate of {name!r}")
        alpha = (1.0 - level) / 2.0
        low, high = np.quantile(values, [alpha, 1.0 - alpha])
        return PercentileInterval(name, level, float(low), float(high), int(values.size))

    def _term(self, term: str | int) -> str:
        columns = list(self.t.columns)
        if isinstance(term, (int, np.integer)) and not isinstance(term, bool):
            if not 0 <= int(term) < len(columns):
                raise ArgumentLookupError(f"term index {term} is out of range for {columns}")
            return str(columns[int(term)])
        if term not in columns:
            raise ArgumentLookupError(f"{term!r} is not a bootstrapped term; terms: {columns}")
        return str(term)

    def summary(self) -> pd.DataFrame:
        """original, bias, std. error per term, as R's print of a boot object reports."""
        t = self.t
        return pd.DataFrame(
            {
                "original": self.t0,
                "bias": t.mean() - self.t0,
                "std. error": t.std(ddof=1),
            }
        )

    def __str__(self) -> str:
        lines = [
            f"Case-resampling bootstrap of {self.model}",
            f"{self.nsim} replicates"
            + (f" (seed {self.seed})" if self.seed is not None else "")
            + (f", {self.n_failed} failed" if self.n_failed else "")
            + (
                f", {self.n_convergence_warnings} with convergence warnings"
                if self.n_convergence_warnings
                else ""
            ),
            "",
            self.summary().to_string(),
        ]
        return "\n".join(lines)


def _resample(fit: LmFit | MerFit, n: int, seed: int | None, what: str) -> CaseBootstrap:
    seed = checks.seed(seed)
    outcome = r_call(
        "pylme4_resample_rows",
        fit.r_handle,
        float(checks.replicates(n, "n")),
        None if seed is None else float(seed),
        doing=f"bootstrapping {what}",
    )
    value = outcome.value
    t = value["t"]
    t.index = pd.RangeIndex(1, len(t) + 1, name="id")
    t0 = pd.Series({k: float(v) for k, v in value["t0"].items()}, dtype=float)
    messages = tuple(
        tuple(
            RCondition("warning" if kind == "warning" else "message", str(text))
            for kind, text in zip(notes["kinds"], notes["texts"])
        )
        for notes in value["notes"]
    )
    emit(outcome.conditions)
    return CaseBootstrap(
        model=_call_text(fit),
        t0=t0,
        t=t.astype(float),
        messages=messages,
        errors=tuple(str(e) for e in value["errors"]),
        seed=None if seed is None else int(seed),
    )


def _call_text(fit: LmFit | MerFit) -> str:
    data = f", data = {fit.data_name}" if fit.data_name else ""
    function = "lm" if isinstance(fit, LmFit) else "lmer"
    return f"{function}(formula = {fit.formula}{data})"


def bootstrap_lm(fit: LmFit, n: int = 100, seed: int | None = None) -> CaseBootstrap:
    """``modelr::bootstrap()`` of an ``lm()``: case-resampling bootstrap (the lecture's).

    Each replicate draws ``nrow(data)`` rows with replacement, as modelr's
    ``resample_bootstrap()`` does (``sample(nrow(data), replace = TRUE)``),
    and refits the model's own ``lm()`` call on them; ``t`` holds the
    coefficients.  For a linear model with independent rows this is the
    ordinary nonparametric bootstrap.

    Parameters
    ----------
    fit
        A model from :func:`pylme4.lm`.
    n
        Number of replicates.
    seed
        R's ``set.seed()`` before resampling: the replicates are those of
        ``set.seed(seed)`` followed by the same resampling in R.  ``None``
        continues R's current random stream.

    Returns
    -------
    CaseBootstrap

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.lecture_sleep()
    >>> fit = pylme4.lm("reaction ~ 1 + days", sleep, data_name="df.sleep")
    >>> boot = pylme4.resampling.bootstrap_lm(fit, n=100, seed=1)
    >>> boot.t.shape
    (100, 2)
    """
    if not isinstance(fit, LmFit):
        raise ArgumentTypeError(
            f"bootstrap_lm() resamples a pylme4.lm() fit, not {type(fit).__name__}; "
            "for a mixed model use fit.boot_mer()"
        )
    return _resample(fit, n, seed, "the linear model")


def bootstrap_lmer_rows(fit: MerFit, n: int = 100, seed: int | None = None) -> CaseBootstrap:
    """``modelr::bootstrap()`` of an ``lmer()``: how *not* to bootstrap a mixed model.

    The lecture's second bootstrap: resample the rows of the data with
    replacement, as for ``lm()``, and refit the ``lmer()`` call on each
    resample.  ``n_convergence_warnings`` counts the refits lme4 flagged
    ("Model failed to converge with max|grad| = ..."), which this procedure
    provokes; ``convergence_messages()`` lists them.

    Why it is overconfident: the rows of one participant are not independent
    draws, and the uncertainty of a fixed effect comes mostly from *which
    participants* were sampled.  Row resampling keeps (almost) every
    participant in every replicate, so the participant-to-participant
    variation that drives the standard error is hardly resampled at all, and
    the replicates spread too little; duplicated rows also pose as perfectly
    repeated measurements, which distorts the variance components and
    upsets the optimizer.  Resample what is independent instead: use the
    parametric bootstrap ``fit.boot_mer()`` (lme4's ``bootMer``, the
    lecture's recommendation), or resample whole participants.

    Parameters
    ----------
    fit
        A model from :func:`pylme4.lmer`.
    n
        Number of replicates.
    seed
        R's ``set.seed()`` before resampling (the same rows as
        :func:`bootstrap_lm` draws for the same data and seed).

    Returns
    -------
    CaseBootstrap
        ``t`` holds the fixed effects of each refit.
    """
    if not isinstance(fit, MerFit):
        raise ArgumentTypeError(
            f"bootstrap_lmer_rows() resamples a pylme4.lmer() fit, not {type(fit).__name__}"
        )
    return _resample(fit, n, seed, "the mixed model by resampling rows")
