"""Worker processes, each with its own embedded R, for refits in parallel.

R is single-threaded and not thread-safe, so pylme4 runs many refits at once
in *processes*.  Every refit that can run in parallel (``boot_mer``,
``all_fit``, ``fit_many``, ``confint(method="boot")`` and
``confint(method="profile")``) goes through :func:`run_tasks` with the same
arguments -- ``workers=``, ``executor=``, ``progress=`` -- checked in one
place (:func:`where`):

- ``workers=1`` (the default) runs the tasks here, one after the other;
- ``workers=k`` runs them in pylme4's ``k`` worker processes
  (:mod:`.pool`: loky workers started from loky's own entry point, so user
  scripts need no ``if __name__ == "__main__":`` guard), each starting its
  own R once and kept for later calls (:func:`start_workers` starts them
  ahead, :func:`stop_workers` ends them, idle ones end by themselves);
- ``executor=`` submits them to any :class:`concurrent.futures.Executor`
  (a Dask ``Client.get_executor()``, a spawn-context process pool).

What travels to a worker is small: a task is a function and its arguments.
A large R object every task needs (the fitted model) travels as a
:class:`Shared` value (:mod:`.shared`), unpacked once per worker.

A worker that dies under a task is replaced and the task run again, with
the same inputs and so the same result (:class:`WorkerRestartWarning`); a
task that kills its worker twice ends the call (:class:`WorkerError`), as
do workers that cannot start (with their own reason).  Ctrl-C stops the
workers within two seconds and leaves the session usable
(:mod:`.interrupt`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError, ArgumentTypeError
from .interrupt import Interrupt, interruptible
from .pool import (
    Progress,
    WorkerError,
    WorkerRestartWarning,
    call,
    chunks,
    discard_pool,
    discard_pool_after_interrupt,
    get_pool,
    picklable,
    run_in_workers,
    run_lock,
    run_on_executor,
    running_pids,
    worker_pids,
)
from .shared import Shared, resolve, share

__all__ = [
    "Interrupt",
    "ParallelArgumentError",
    "Progress",
    "Shared",
    "Where",
    "WorkerError",
    "WorkerRestartWarning",
    "chunks",
    "interruptible",
    "picklable",
    "prepare_workers",
    "resolve",
    "run_tasks",
    "share",
    "start_workers",
    "stop_workers",
    "where",
    "worker_count",
]


class ParallelArgumentError(ArgumentError, ArgumentTypeError):
    """``workers=`` or ``executor=`` is not something pylme4 can run on.

    Both an :class:`~pylme4.errors.ArgumentError` (a ValueError) and an
    :class:`~pylme4.errors.ArgumentTypeError` (a TypeError): a wrong type and
    a wrong value of these arguments are one mistake to the caller."""


def check_workers(workers: Any) -> int:
    """``workers`` if it is a positive integer; a :class:`ParallelArgumentError` otherwise."""
    import numbers

    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or int(workers) < 1:
        raise ParallelArgumentError(
            f"workers must be a positive integer (1 runs here), not {workers!r}"
        )
    return int(workers)


def check_executor(executor: Any) -> Executor | None:
    """``executor`` if it is None or a :class:`concurrent.futures.Executor`.

    A Dask ``distributed.Client`` stands for its executor
    (``client.get_executor()``), so ``executor=client`` works as documented
    in docs/cluster.md.  Duck-typed: pylme4 does not import distributed."""
    if not isinstance(executor, Executor) and callable(getattr(executor, "get_executor", None)):
        executor = executor.get_executor()
    if executor is not None and not isinstance(executor, Executor):
        raise ParallelArgumentError(
            "executor must be a concurrent.futures.Executor (such as a Dask "
            f"Client's get_executor()) or None, not {type(executor).__name__} {executor!r}"
        )
    return executor


@dataclass(frozen=True)
class Where:
    """Where a call's tasks run: here, in pylme4's workers, or on an Executor."""

    workers: int
    executor: Executor | None

    @property
    def remote(self) -> bool:
        """Whether tasks leave this process (their arguments must travel)."""
        return self.executor is not None or self.workers > 1

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Start pylme4's workers without waiting, for a block that does the
        caller's own work (they start meanwhile) and then runs the tasks;
        nothing for the other places.

        Ctrl-C anywhere in the block stops the workers, as it does while
        they run tasks: the key pressed while the caller still simulates
        (the workers just started, not yet given a task) must not leave them
        behind."""
        if self.executor is not None or self.workers == 1:
            yield
            return
        try:
            prepare_workers(self.workers)
            yield
        except KeyboardInterrupt:
            discard_pool_after_interrupt()
            raise

    def fit_ref(self, fit: Any) -> Any:
        """How a task receives ``fit``: its R object here, a :class:`Shared`
        (serialized once per fit) elsewhere."""
        handle = fit.r_handle
        if not self.remote:
            return handle
        return fit.cached("shared", lambda: share(handle))

    def run(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple[Any, ...]],
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        return run_tasks(
            fn, tasks, workers=self.workers, executor=self.executor, on_result=on_result
        )


def where(workers: Any = 1, executor: Any = None) -> Where:
    """Check ``workers=`` and ``executor=`` (every parallel entry point's
    arguments) and say where tasks run.  With an executor, ``workers`` is
    still checked but not used."""
    return Where(check_workers(workers), check_executor(executor))


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Run ``fn(*task)`` for every task and return the results in task order.

    Arguments that are :class:`Shared` reach ``fn`` as the R object they
    stand for.  With ``executor`` the tasks are submitted to it; otherwise
    ``workers=1`` runs them here, one after the other, and ``workers=k``
    in pylme4's k worker processes.  ``on_result(i, result)`` is called in
    this thread as each task finishes (for progress).  Ctrl-C stops the
    workers (within two seconds) and raises KeyboardInterrupt.
    """
    place = where(workers, executor)
    report = on_result or (lambda i, r: None)
    with interruptible() as interrupt:
        if place.executor is not None:
            return run_on_executor(place.executor, fn, tasks, report, interrupt)
        if place.workers == 1:
            results = []
            for i, task in enumerate(tasks):
                interrupt.check()
                results.append(call(fn, task))
                report(i, results[-1])
            return results
        return run_in_workers(fn, tasks, place.workers, report, interrupt)


def start_workers(workers: int = 2) -> None:
    """Start ``workers`` worker processes (each with its own R) and wait until
    they are ready, so that the first parallel call does not pay for it.

    Workers started here are the ones ``workers=`` calls use (a call with a
    different number replaces them).  A worker that cannot start raises a
    :class:`WorkerError` saying why.
    """
    workers = check_workers(workers)
    with interruptible() as interrupt, run_lock:
        pool = get_pool(workers)
        try:
            pool.wait_ready(interrupt)
        except BaseException:
            discard_pool()
            raise


def prepare_workers(workers: int) -> None:
    """Start ``workers`` worker processes without waiting for them, so that
    their start-up overlaps the caller's own work (a no-op when they run)."""
    if check_workers(workers) > 1:
        with run_lock:
            get_pool(workers).spawn()


def stop_workers() -> None:
    """Stop pylme4's worker processes (they also stop when Python exits)."""
    discard_pool()


def worker_count() -> int:
    """How many worker processes are running (0 when none were started)."""
    return len(worker_pids())


# For tests and diagnostics: which worker processes exist / are busy now.
__all__ += ["running_pids", "worker_pids"]
