"""Fitting many models at once: :func:`fit_many`.

Simulation studies, model comparisons and per-subgroup analyses fit many
models.  :func:`fit_many` takes one specification per model (the arguments
of :func:`pylme4.lmer`, as a dict) and fits them all: in this process
(``workers=1``), in pylme4's worker processes (``workers=k``, see
:mod:`pylme4.parallel`), or on any :class:`concurrent.futures.Executor`
(``executor=``) -- a local ``ProcessPoolExecutor`` with the "spawn" context,
or a cluster scheduler's executor, such as Dask's::

    from dask.distributed import Client, LocalCluster

    with Client(LocalCluster(n_workers=4, threads_per_worker=1)) as client:
        fits = pylme4.fit_many(specs, fun="fixef", executor=client.get_executor())

Every worker process imports pylme4 and starts its own R on its first task,
then reuses that R for all later tasks.  Each model is fitted exactly as
:func:`pylme4.lmer` fits it here, so the results are identical to fitting
the specifications one by one in this process.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from typing import Any, Literal

from . import parallel
from .errors import ArgumentError, ArgumentTypeError, RCondition, emit

# What a specification may name besides lmer()'s own arguments: which
# function fits it (a key of _fitters()).
_MODEL_KEY = "model"

Errors = Literal["raise", "return"]


def _fitters() -> dict[str, Callable[..., Any]]:
    """The functions a specification's "model" may name, by name."""
    from .models import lmer

    return {"lmer": lmer}


@functools.cache
def _accepted(model: str) -> frozenset[str]:
    """The keys a specification for ``model`` may have (its signature is read once)."""
    return frozenset(inspect.signature(_fitters()[model]).parameters) | {_MODEL_KEY}


def _check_spec(position: int, spec: Any) -> dict[str, Any]:
    """A specification as a plain dict, or a TypeError naming what is wrong."""
    if not isinstance(spec, Mapping):
        raise ArgumentTypeError(
            f"fit_many: specification {position} must be a dict of lmer() arguments "
            f"(formula, data, ...), not {type(spec).__name__}"
        )
    spec = dict(spec)
    model = spec.get(_MODEL_KEY, "lmer")
    models = _fitters()
    if not isinstance(model, str) or model not in models:
        raise ArgumentError(
            f"fit_many: specification {position} asks for model {model!r}; "
            f"available: {', '.join(models)}"
        )
    unknown = sorted(set(spec) - _accepted(model))
    if unknown:
        raise ArgumentTypeError(
            f"fit_many: specification {position} has argument(s) {', '.join(map(repr, unknown))} "
            f"that {model}() does not take"
        )
    missing = [name for name in ("formula", "data") if name not in spec]
    if missing:
        raise ArgumentTypeError(
            f"fit_many: specification {position} lacks {' and '.join(map(repr, missing))}"
        )
    return spec


def _statistic(fun: Any) -> None:
    if fun is None or callable(fun):
        return
    if not isinstance(fun, str):
        raise ArgumentTypeError(
            "fun must be None (return the fits), the name of a fit method such as "
            f"'fixef', or a function taking a fit, not {type(fun).__name__}"
        )
    from .results import LmerFit

    fields = {f.name for f in dataclasses.fields(LmerFit)}
    if fun.startswith("_") or not (hasattr(LmerFit, fun) or fun in fields):
        raise ArgumentError(f"fun={fun!r} is not a method or attribute of a fit")


def _fit_one(spec: dict[str, Any], fun: Any) -> tuple[bool, Any, tuple[RCondition, ...]]:
    """The task: fit one specification where the task runs, then apply ``fun``.

    Returns (True, value, R's conditions) or (False, exception, conditions
    so far).  Warnings are not raised here (a worker's would be lost): the
    conditions travel back and are raised in the calling process.
    """
    spec = dict(spec)
    fitter = _fitters()[spec.pop(_MODEL_KEY, "lmer")]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = fitter(**spec)
            if fun is None:
                value = fit
            elif isinstance(fun, str):
                value = getattr(fit, fun)
                # a fit's scalars (fit.aic) are numbers that can still be
                # called the old way: take them as numbers
                if callable(value) and not isinstance(value, (int, float)):
                    value = value()
            else:
                value = fun(fit)
    except Exception as exc:  # reported to the caller, who raises or returns it
        return False, parallel.picklable(exc), tuple(getattr(exc, "conditions", ()))
    return True, value, fit.messages


def fit_many(
    specs: Iterable[Mapping[str, Any]],
    *,
    fun: str | Callable[[Any], Any] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    errors: Errors = "raise",
    progress: bool | None = None,
) -> list[Any]:
    """Fit many models with lme4's ``lmer()``, here, in worker processes or on an Executor.

    Parameters
    ----------
    specs
        One dict per model: the arguments of :func:`pylme4.lmer`, e.g.
        ``{"formula": "y ~ x + (1 | g)", "data": df, "reml": False}``.
        An optional ``"model"`` key names the function that fits it:
        ``"lmer"``, the default and for now the only one.
    fun
        What to return for each model: ``None`` for the fitted model itself
        (:class:`~pylme4.LmerFit`; from other processes it travels as R's
        ``serialize()`` of the fit, data included), the name of a method or
        attribute of the fit (``"fixef"``, ``"summary"``, ``"aic"``, ...), or
        a function taking the fit.  With workers it travels by value
        (cloudpickle: one defined in a script or notebook works); with an
        executor it must be picklable the way that executor pickles.
        Returning a statistic instead of the fit sends much less back.
    workers
        Without ``executor``: 1 fits here, one after the other; ``k`` fits in
        pylme4's ``k`` worker processes (each starts R once and is reused by
        later calls).
    executor
        Any :class:`concurrent.futures.Executor`, e.g. Dask's
        ``Client(...).get_executor()``; ``workers`` is then ignored.  Its
        processes must be spawned, not forked from a process running R.
    errors
        ``"raise"``: the first model that fails raises its exception (with a
        note saying which specification).  ``"return"``: the exception takes
        that model's place in the result and the others are kept.
    progress
        Show a progress bar (tqdm, on stderr).

    Returns
    -------
    list
        One entry per specification, in order.  R's warnings and messages of
        every fit are raised here as Python warnings, as :func:`pylme4.lmer`
        raises them.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> specs = [{"formula": f, "data": sleep} for f in (
    ...     "Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (Days | Subject)")]
    >>> [round(b["Days"], 4) for b in pylme4.fit_many(specs, fun="fixef")]
    [10.4673, 10.4673]
    """
    if errors not in ("raise", "return"):
        raise ArgumentError(f"errors must be 'raise' or 'return', not {errors!r}")
    place = parallel.where(workers, executor)
    _statistic(fun)
    tasks = [(_check_spec(i, spec), fun) for i, spec in enumerate(specs)]
    bar = parallel.Progress(bool(progress), len(tasks), "fit_many", "fit")
    failed = 0

    def on_result(i: int, result: tuple[bool, Any, Any]) -> None:
        nonlocal failed
        failed += not result[0]
        bar.update(1, failed=failed)

    try:
        results = place.run(_fit_one, tasks, on_result=on_result)
    finally:
        bar.close()
    out = []
    for i, (ok, value, conditions) in enumerate(results):
        emit(conditions)
        if not ok and errors == "raise":
            if hasattr(value, "add_note"):
                value.add_note(f"(in fit_many, specification {i})")
            raise value
        out.append(value)
    return out
