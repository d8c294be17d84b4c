"""Parametric bootstrap of a mixed model: lme4's ``bootMer()`` and boot's ``boot.ci()``.

:func:`boot_mer` takes the steps ``lme4::bootMer(fit, FUN, nsim, seed)``
takes, in its order: set the seed, evaluate the statistic on the fit, draw
all ``nsim`` responses in one ``simulate()`` call, then refit each response
with ``refit(fit, y, control = <the fit's control>)`` and evaluate the
statistic on the refit, recording messages, warnings and errors per
replicate.  The draws come from R's one random stream in this process, so
where the refits run does not matter: in this process, in pylme4's worker
processes (``workers=k``) or on any ``concurrent.futures.Executor``, the
replicates are bit for bit those of R's serial ``bootMer`` for the same seed.

The result (:class:`BootResult`) carries a genuine R ``bootMer`` object built
from the replicates, so its printout is R's ``print()`` of the bootMer object
and :meth:`BootResult.ci` is ``boot::boot.ci()`` itself.
"""

from __future__ import annotations

import pickle
import re
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks, formatting, parallel
from ._r.call import r_call, r_value
from ._r.convert import RHandle
from .errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    PylmeError,
    RWarning,
    choice_error,
    emit,
    warn,
)
from .options import BOOT_STATISTICS, BOOT_TYPES, CI_TYPES, BootStatistic, BootType, CIType

if TYPE_CHECKING:
    from .fitbase import MerFitLike

NamedStatistic = BootStatistic
Statistic = NamedStatistic | Callable[[Any], Any]
# Replicates per task when refitting in this process: small enough for a
# lively progress bar and a prompt Ctrl-C, large enough that the per-call
# overhead (about a millisecond) stays small against the refits.
_LOCAL_CHUNK = 10
_R_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9._]*|\.[A-Za-z._][A-Za-z0-9._]*")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BootCI(formatting.RPrinted):
    """A bootstrap confidence interval, as ``boot::boot.ci()`` computes it.

    ``str(ci)`` is R's printout of ``boot.ci(boot_out, type = ..., index = ...)``,
    where ``boot_out`` is the bootstrap (see :meth:`BootResult.ci`).
    """

    term: str
    type: str
    """"perc" (percentile), "basic" or "norm" (normal approximation)."""
    level: float
    low: float
    high: float
    replicates: int
    """Replicates the interval is based on (the finite ones)."""
    text: str = field(repr=False)

    def excludes_zero(self) -> bool:
        """Whether 0 lies outside the interval (both ends on one side of 0)."""
        return bool(self.low > 0 or self.high < 0)


@dataclass(frozen=True, eq=False)
class BootResult(formatting.RPrinted):
    """A parametric bootstrap of a mixed model (lme4's ``bootMer()``).

    ``str(result)`` is what R shows for ``print(bootMer(fit, FUN, nsim, seed))``
    with the model bound to ``fit``: boot's table of original values, bias and
    standard errors, then bootMer's note on warnings and failed refits.
    """

    t0: pd.Series
    """The statistic on the original fit."""
    t: pd.DataFrame
    """The replicates: one row per simulated response (in simulation order),
    one column per statistic; NaN rows for refits that failed."""
    nsim: int
    n_failed: int
    """How many refits failed (their rows of ``t`` are NaN)."""
    messages: pd.DataFrame
    """Every message, warning and error of the refits: columns ``replicate``
    (the row of ``t``), ``kind`` ("message", "warning" or "error") and
    ``text`` (R's text, trimmed as bootMer tables it)."""
    seed: int | None
    statistic: str
    """The statistic as R code (what the printed call shows as ``FUN``)."""
    text: str = field(repr=False)
    _fit: Any = field(repr=False)
    _rebuild: Mapping[str, Any] = field(repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def brief(self) -> str:
        return (
            f"<BootResult bootMer({self.statistic}): nsim={self.nsim}, "
            f"{self.t.shape[1]} statistic(s), {self.n_failed} failed>"
        )

    def __reduce__(self) -> Any:
        # The R object stays behind; it is rebuilt from the replicates.
        return (
            _restore_boot,
            (
                self.t0,
                self.t,
                self.nsim,
                self.n_failed,
                self.messages,
                self.seed,
                self.statistic,
                self.text,
                self._fit,
                dict(self._rebuild),
            ),
        )

    def _r_object(self) -> RHandle:
        handle = self._cache.get("r")
        if handle is None:
            handle = _build_r_object(
                self._fit, self.t0, self.t, self.messages, self.seed, self._rebuild
            )
            self._cache["r"] = handle
        return handle

    def _position(self, term: str | int) -> int:
        names = list(self.t.columns)
        if isinstance(term, str):
            if term not in names:
                raise ArgumentLookupError(
                    f"{term!r} is not a bootstrapped statistic; choose one of {names}"
                )
            return names.index(term)
        if isinstance(term, (int, np.integer)) and not isinstance(term, bool):
            if not 0 <= term < len(names):
                raise ArgumentLookupError(
                    f"term {term} is out of range: there are {len(names)} statistics"
                )
            return int(term)
        raise ArgumentTypeError(f"term must be a statistic's name or position, not {term!r}")

    def ci(self, term: str | int, type: CIType = "perc", level: float = 0.95) -> BootCI:
        """A bootstrap confidence interval: ``boot::boot.ci()``.

        Parameters
        ----------
        term
            The statistic: its name (a column of ``t``, e.g. ``"Days"``) or
            its position (0-based; R's ``index`` is the position + 1).
        type
            ``"perc"`` (percentile), ``"basic"`` or ``"norm"``.
        level
            The confidence level (boot.ci's ``conf``).

        Returns
        -------
        BootCI
            ``low``, ``high`` and R's printout of
            ``boot.ci(b, type = type, index = i)``, ``b`` being the name the
            calling code binds the bootstrap to (when exactly one name is
            bound to it; else ``boot_out``), as R's CALL line shows the name
            typed; ``conf = level`` appears when it is not 0.95.

        Examples
        --------
        >>> b = fit.boot_mer("fixef", nsim=100, seed=1)  # doctest: +SKIP
        >>> print(b.ci("Days", type="perc"))  # doctest: +SKIP
        """
        (name,) = formatting.caller_names([self], set())
        return self._ci(term, type, level, name or "boot_out")

    def _ci(self, term: str | int, type: str, level: float, name: str = "boot_out") -> BootCI:
        position = self._position(term)
        if type not in CI_TYPES:
            raise choice_error("type", type, CI_TYPES)
        checks.level(level)
        outcome = r_call(
            "pylme4_boot_ci",
            self._r_object(),
            position + 1,
            type,
            float(level),
            name,
            doing="computing boot.ci()",
        )
        emit(outcome.conditions)
        parts = outcome.value
        return BootCI(
            term=str(self.t.columns[position]),
            type=type,
            level=float(level),
            low=float(parts["low"]),
            high=float(parts["high"]),
            replicates=int(parts["R"]),
            text=parts["text"],
        )

    def excludes_zero(self, term: str | int, type: CIType = "perc", level: float = 0.95) -> bool:
        """Whether the bootstrap interval of ``term`` excludes 0.

        The lecture's question after ``boot.ci(b, index = 2, type = "perc")``:
        if the 95% interval of an effect does not contain 0, the effect is
        different from 0 at the 5% level (two-sided).
        """
        return self._ci(term, type, level).excludes_zero()

    def confint(self, level: float = 0.95, type: CIType = "perc") -> pd.DataFrame:
        """Intervals for every statistic: lme4's ``confint()`` of a bootMer object.

        Rows are the statistics; columns as R names them ("2.5 %", "97.5 %").
        """
        if type not in CI_TYPES:
            raise choice_error("type", type, CI_TYPES)
        checks.level(level)
        table = r_value(
            "pylme4_boot_confint",
            self._r_object(),
            float(level),
            type,
            doing="computing confint() of the bootstrap",
        )
        return table.set_axis(list(self.t.columns), axis=0)


def _restore_boot(
    t0: pd.Series,
    t: pd.DataFrame,
    nsim: int,
    n_failed: int,
    messages: pd.DataFrame,
    seed: int | None,
    statistic: str,
    text: str,
    fit: Any,
    rebuild: dict[str, Any],
) -> BootResult:
    return BootResult(
        t0=t0,
        t=t,
        nsim=nsim,
        n_failed=n_failed,
        messages=messages,
        seed=seed,
        statistic=statistic,
        text=text,
        _fit=fit,
        _rebuild=rebuild,
    )


# ---------------------------------------------------------------------------
# The statistic
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _PythonStatistic:
    """What a worker needs to apply a Python statistic to a refit."""

    fun: Callable[[Any], Any]
    fit_class: Any
    index: pd.Index
    variables: tuple[str, ...]


def _statistic_code(fun: Any) -> tuple[str, str]:
    """(named statistic or "", the statistic as R code for the printed call)."""
    if isinstance(fun, str):
        # "confint" is the statistic of confint(method = "boot") (internal).
        if fun not in BOOT_STATISTICS and fun != "confint":
            raise ArgumentError(
                f"fun must be one of {BOOT_STATISTICS} or a function of the fit, not {fun!r}"
            )
        return fun, r_value("pylme4_boot_fun_code", fun, doing="preparing the statistic")
    if callable(fun):
        name = getattr(fun, "__name__", type(fun).__name__)
        return "", name if _R_SYMBOL.fullmatch(name) else f"`{name}`"
    raise ArgumentTypeError(
        f"fun must be one of {BOOT_STATISTICS} or a function taking the fit, not {type(fun).__name__}"
    )


def _as_statistic(value: Any, names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A Python statistic's value as (floats, names)."""
    if isinstance(value, pd.Series):
        labels = [str(i) for i in value.index]
        values = value.to_numpy(dtype=float)
    elif isinstance(value, Mapping):
        labels = [str(k) for k in value]
        values = np.asarray(list(value.values()), dtype=float)
    else:
        # A user's statistic may return a plain number: one statistic.
        values = (
            np.asarray(value, dtype=float).reshape(-1)
            if np.ndim(value) == 0
            else np.asarray(value, dtype=float)
        )
        if values.ndim != 1:
            raise ArgumentError(
                "the statistic must give a Series or a 1-dimensional set of numbers"
            )
        labels = names or [f"t{i + 1}" for i in range(len(values))]
    return values, labels


# ---------------------------------------------------------------------------
# Refitting (runs here, in workers, or on an Executor)
# ---------------------------------------------------------------------------


def _refit_chunk(
    fit: RHandle,
    ys: np.ndarray,
    dim: tuple[int, int, int],
    levels: list[str],
    statistic: str | _PythonStatistic,
    nstat: int,
) -> dict[str, Any]:
    """Refit the replicates of one chunk; returns their statistics (one row
    per replicate) and messages (with 0-based replicates within the chunk)."""
    if isinstance(statistic, str):
        out = r_value(
            "pylme4_boot_refits",
            fit,
            ys,
            list(dim),
            list(levels),
            statistic,
            nstat,
            doing="refitting the bootstrap replicates",
        )
        return {
            "t": np.asarray(out["t"], dtype=float).reshape(dim[2], nstat),
            "replicate": np.asarray(out["replicate"], dtype=np.int64) - 1,
            "kind": [str(k) for k in out["kind"]],
            "text": [str(k) for k in out["text"]],
        }
    return _refit_chunk_python(fit, ys, dim, levels, statistic, nstat)


def _refit_chunk_python(
    fit: RHandle,
    ys: np.ndarray,
    dim: tuple[int, int, int],
    levels: list[str],
    statistic: _PythonStatistic,
    nstat: int,
) -> dict[str, Any]:
    n, k, m = dim
    size = n * k
    t = np.full((m, nstat), np.nan)
    replicate: list[int] = []
    kind: list[str] = []
    text: list[str] = []

    def record(i: int, what: str, said: str) -> None:
        replicate.append(i)
        kind.append(what)
        text.append(said.strip())

    for i in range(m):
        try:
            outcome = r_call(
                "pylme4_boot_refit_one",
                fit,
                ys[i * size : (i + 1) * size],
                [n, k, 1],
                list(levels),
                1,
                doing="refitting a bootstrap replicate",
                keep=True,
            )
        except PylmeError as exc:
            for cond in getattr(exc, "conditions", ()):
                record(i, cond.kind, cond.text)
            record(i, "error", getattr(exc, "r_message", str(exc)))
            continue
        for cond in outcome.conditions:
            record(i, cond.kind, cond.text)
        try:
            refit = statistic.fit_class.from_r_object(
                outcome.value, outcome.conditions, statistic.index, statistic.variables
            )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                values, _ = _as_statistic(statistic.fun(refit))
            for w in caught:
                record(i, "warning", str(w.message))
            if len(values) != nstat:
                raise ValueError(
                    f"the statistic gave {len(values)} values, not {nstat} as on the original fit"
                )
        except Exception as exc:
            record(i, "error", f"{type(exc).__name__}: {exc}")
            continue
        t[i] = values
    return {"t": t, "replicate": np.asarray(replicate, dtype=np.int64), "kind": kind, "text": text}


# ---------------------------------------------------------------------------
# bootMer
# ---------------------------------------------------------------------------


def boot_mer(
    fit: MerFitLike,
    fun: Statistic = "fixef",
    nsim: int = 100,
    seed: int | None = None,
    type: BootType = "parametric",
    use_u: bool = False,
    re_form: str | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> BootResult:
    """Parametric bootstrap of a fitted model: lme4's ``bootMer()``.

    Parameters
    ----------
    fit
        The fitted model.
    fun
        The statistic: ``"fixef"`` (fixed effects), ``"sigma"`` (residual
        standard deviation), ``"theta"`` (``getME(x, "theta")``, named as lme4
        names them), ``"var_corr"`` (the random-effect standard deviations
        and correlations and sigma, in the order of
        ``as.data.frame(VarCorr(x), order = "lower.tri")``, named as lme4's
        ``confint(..., oldNames = FALSE)``: ``"sd_(Intercept)|Subject"``,
        ``"cor_Days.(Intercept)|Subject"``, ..., ``"sigma"``), or a Python
        function taking a fit (:class:`~pylme4.LmerFit`) and returning a
        Series (or numbers).  With workers the function must be picklable:
        defined at module level, not a lambda.
    nsim
        Number of simulated responses (bootstrap replicates).
    seed
        ``set.seed(seed)`` before simulating, as bootMer does; None continues
        R's current random stream.
    type
        ``"parametric"`` (responses simulated from the model) or
        ``"semiparametric"`` (fitted values plus resampled residuals; needs
        ``use_u=True``).
    use_u
        Condition on the estimated random effects (simulate only the
        residual noise) instead of drawing new random effects.
    re_form
        Which random effects to condition on, as in ``simulate()``: ``"NA"``
        or ``"~0"`` (none), or a formula such as ``"~(1 | Subject)"``;
        replaces ``use_u``.
    workers
        Processes refitting in parallel (each with its own R, see
        :mod:`pylme4.parallel`); 1 refits here.  The replicates are the same
        for any number of workers.
    executor
        A :class:`concurrent.futures.Executor` to refit on instead (a process
        pool created with the "spawn" context, or a cluster scheduler's
        executor); ``workers`` is then ignored.
    progress
        Show a progress bar (tqdm, on stderr) with replicates done and failed.

    Returns
    -------
    BootResult
        ``t0``, the replicates ``t`` (``nsim`` rows), ``n_failed`` and the
        refits' ``messages``; ``str()`` is R's printout, ``ci()`` is
        ``boot.ci()``.  With ``seed``, ``t`` is exactly R's
        ``bootMer(fit, FUN, nsim, seed = seed)$t``.  A refit that fails gives a
        row of NaN and is counted in ``n_failed`` (with an
        :class:`~pylme4.errors.RWarning`, as bootMer warns), never raised.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> b = fit.boot_mer("fixef", nsim=20, seed=1)
    >>> b.t.shape
    (20, 2)
    >>> b.excludes_zero("Days")
    True
    """
    nsim = checks.replicates(nsim)
    seed = checks.seed(seed)
    if type not in BOOT_TYPES:
        raise choice_error("type", type, BOOT_TYPES)
    if not isinstance(use_u, (bool, np.bool_)):
        raise ArgumentTypeError(f"use_u must be True or False, not {use_u!r}")
    re_form = checks.re_form(re_form)
    place = parallel.where(workers, executor)
    fun_name, fun_code = _statistic_code(fun)
    if not fun_name and place.remote:
        try:
            pickle.dumps(fun)
        except Exception as exc:
            raise ArgumentTypeError(
                "fun must be picklable to run in worker processes (define it with def "
                f"at module level, not as a lambda or closure), or use workers=1: {exc}"
            ) from None

    # Ctrl-C is noted and acted on between steps (a long R call would
    # otherwise swallow it).  The workers start while this simulates.
    with place.starting(), parallel.interruptible() as interrupt:
        return _boot(
            fit,
            fun,
            fun_name,
            fun_code,
            nsim,
            seed,
            type,
            use_u,
            re_form,
            place,
            progress,
            interrupt,
        )


def _boot(
    fit: Any,
    fun: Any,
    fun_name: str,
    fun_code: str,
    nsim: int,
    seed: int | None,
    type: str,
    use_u: bool,
    re_form: str | None,
    place: parallel.Where,
    progress: bool | None,
    interrupt: parallel.Interrupt,
) -> BootResult:
    """boot_mer's steps, once its arguments are checked."""
    handle = fit.r_handle
    r_value("pylme4_boot_seed", None if seed is None else int(seed), doing="setting the seed")
    # bootMer evaluates the statistic on the fit after setting the seed and
    # before simulating; so does this.
    if fun_name:
        t0_parts = r_value("pylme4_boot_t0", handle, fun_name, doing="evaluating the statistic")
        names = [str(n) for n in t0_parts["names"]]
        t0_values = np.asarray(t0_parts["values"], dtype=float)
        if not names:
            names = (
                [fun_name] if len(t0_values) == 1 else [f"t{i + 1}" for i in range(len(t0_values))]
            )
        statistic: str | _PythonStatistic = fun_name
    else:
        t0_values, names = _as_statistic(fun(fit))  # type: ignore[operator]
        statistic = _PythonStatistic(fun, fit.__class__, fit.data_index, fit.variables)  # type: ignore[arg-type]
    nstat = len(t0_values)
    if nstat == 0:
        raise ArgumentError("the statistic gave no values on the fit")

    simulated = r_call(
        "pylme4_boot_simulate",
        handle,
        nsim,
        bool(use_u),
        re_form,
        type,
        doing="simulating the bootstrap responses",
    )
    interrupt.check()
    emit(simulated.conditions)
    ys = np.asarray(simulated.value["ys"], dtype=float)
    n, k, _ = (int(d) for d in simulated.value["dim"])
    levels = [str(v) for v in simulated.value["levels"]]

    fit_ref = place.fit_ref(fit)
    if place.remote:
        spread = place.workers if place.executor is None else max(2, place.workers)
        pieces = list(parallel.chunks(nsim, spread))
    else:
        pieces = [range(s, min(s + _LOCAL_CHUNK, nsim)) for s in range(0, nsim, _LOCAL_CHUNK)]
    size = n * k
    tasks = [
        (fit_ref, ys[p.start * size : p.stop * size], (n, k, len(p)), levels, statistic, nstat)
        for p in pieces
    ]

    bar = parallel.Progress(bool(progress), nsim, "bootMer", "refit")
    failed = 0

    def on_result(i: int, part: dict[str, Any]) -> None:
        nonlocal failed
        failed += sum(1 for kd in part["kind"] if kd == "error")
        bar.update(len(pieces[i]), failed=failed)

    try:
        parts = place.run(_refit_chunk, tasks, on_result=on_result)
    finally:
        bar.close()

    t = np.vstack([p["t"] for p in parts])
    messages = pd.DataFrame(
        {
            "replicate": np.concatenate(
                [
                    np.asarray(p["replicate"], dtype=np.int64) + r.start
                    for p, r in zip(parts, pieces)
                ]
            ),
            "kind": [kd for p in parts for kd in p["kind"]],
            "text": [tx.strip() for p in parts for tx in p["text"]],
        }
    )
    n_failed = int((messages["kind"] == "error").sum())
    t0 = pd.Series(t0_values, index=names, name="t0")
    t_frame = pd.DataFrame(t, columns=names)
    rebuild = {
        "fun_name": fun_name,
        "fun_code": fun_code,
        "use_u": bool(use_u),
        "re_form": re_form,
        "type": type,
    }
    r_object = _build_r_object(fit, t0, t_frame, messages, seed, rebuild)
    text = r_value("pylme4_boot_print", r_object, doing="printing the bootstrap")
    result = BootResult(
        t0=t0,
        t=t_frame,
        nsim=nsim,
        n_failed=n_failed,
        messages=messages,
        seed=None if seed is None else int(seed),
        statistic=fun_code,
        text=text,
        _fit=fit,
        _rebuild=rebuild,
    )
    result._cache["r"] = r_object
    if n_failed:
        warn(f"some bootstrap runs failed ({n_failed}/{nsim})", RWarning)
    return result


def _build_r_object(
    fit: Any,
    t0: pd.Series,
    t: pd.DataFrame,
    messages: pd.DataFrame,
    seed: int | None,
    rebuild: Mapping[str, Any],
) -> RHandle:
    """The R bootMer object holding these replicates."""
    return r_call(
        "pylme4_boot_object",
        fit.r_handle,
        t0.to_numpy(dtype=float),
        t.to_numpy(dtype=float).ravel(order="F"),
        len(t),
        [str(c) for c in t.columns],
        rebuild["fun_name"],
        rebuild["fun_code"],
        seed,
        rebuild["use_u"],
        rebuild["re_form"],
        rebuild["type"],
        [str(k) for k in messages["kind"]],
        [str(x) for x in messages["text"]],
        doing="building the bootMer object",
        keep=True,
    ).value
