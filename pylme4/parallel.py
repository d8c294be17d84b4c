"""Worker processes, each with its own embedded R, for refits in parallel.

R is single-threaded and not thread-safe, so pylme4 runs many refits at once
in *processes*: each worker is started with multiprocessing's ``"spawn"``
method (a fork would share the parent's R and corrupt it), starts its own R
once and then serves tasks until it is stopped.  Workers are kept between
calls, so only the first parallel call pays for starting them (about two
seconds: Python, pandas, rpy2, R and lme4); :func:`start_workers` starts
them ahead of time and :func:`stop_workers` ends them (they also end with
the Python session).

What travels to a worker is small: a task names a module-level function and
its arguments.  A large R object that every task of a call needs (the fitted
model, about a megabyte as R's ``serialize()`` writes it) travels as a
:class:`Shared` value: each worker receives its bytes once, keeps the R
object, and later tasks refer to it by key.

Any :class:`concurrent.futures.Executor` can run the same tasks instead
(``executor=``): a local ``ProcessPoolExecutor`` (with the spawn context), or
a cluster scheduler's executor.  Tasks then carry the shared bytes each time
and each process keeps the R object it unpacked, so repeated tasks are cheap.

A worker process that dies under a task (R crashing, the out-of-memory
killer, a kill from outside) is replaced, and its task is run again by the
new worker (same inputs, same result) with a :class:`WorkerRestartWarning`;
a task that kills its worker twice ends the call with a :class:`WorkerError`.

Ctrl-C while workers run stops them within two seconds (they are
terminated; the next parallel call starts new ones) and leaves the session
usable.  A task that raises is reported to the caller; statistics that want
"failures counted, not raised" catch errors inside their task functions.

Scripts that use workers must guard their top level with
``if __name__ == "__main__":``, as for any spawned process: each worker
imports the main module (that is also how it finds functions defined there).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import hashlib
import multiprocessing
import signal
import sys
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_connections
from typing import Any

from ._r.call import serialize, unserialize
from ._r.convert import RHandle
from .errors import ArgumentError, PylmeError, RNotAvailableError

__all__ = [
    "Shared",
    "WorkerError",
    "WorkerRestartWarning",
    "run_tasks",
    "share",
    "prepare_workers",
    "start_workers",
    "stop_workers",
    "worker_count",
]

# How long workers get to end on their own (stop message, Ctrl-C) before
# they are terminated, and then killed: together well under two seconds.
_STOP_GRACE = 0.5
_TERMINATE_GRACE = 1.0
# After a task failed: how long the other workers may take to finish theirs.
_DRAIN_GRACE = 30.0
# How many shared R objects a worker keeps (fits are large; calls rarely
# alternate between more than a few).
_WORKER_CACHE = 4


# How often a task is tried when its worker process dies under it (a crash in
# R, the out-of-memory killer, a kill from outside): the replacement worker
# runs it again, with the same inputs and so the same result.
_TASK_ATTEMPTS = 2


class WorkerRestartWarning(RuntimeWarning):
    """A worker process died while running a task; a new one ran it again."""


class _WorkerDied(Exception):
    """Internal: the worker process of a running task ended."""

    def __init__(self, worker: Any) -> None:
        super().__init__()
        self.worker = worker


class WorkerError(PylmeError, RuntimeError):
    """A worker process failed: it could not start R, or it died mid-task."""


# ---------------------------------------------------------------------------
# Shared R objects
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shared:
    """An R object sent to worker processes once per worker.

    ``key`` identifies the object (a digest of its bytes); ``payload`` is R's
    ``serialize()`` of it, or empty when the receiving worker already holds it.
    """

    key: str
    payload: bytes

    def without_payload(self) -> Shared:
        return Shared(self.key, b"")


def share(handle: RHandle) -> Shared:
    """A :class:`Shared` for an R object (serialized once, here)."""
    payload = serialize(handle)
    return Shared(hashlib.sha1(payload).hexdigest(), payload)


# The R objects this process unpacked, by key (used in workers, and in the
# main process when an Executor runs tasks in threads).
_objects: OrderedDict[str, RHandle] = OrderedDict()
_objects_lock = threading.Lock()


def resolve(value: Any) -> Any:
    """The R object a :class:`Shared` stands for in this process; other
    values unchanged.  Task functions call this on their arguments."""
    if not isinstance(value, Shared):
        return value
    with _objects_lock:
        handle = _objects.get(value.key)
        if handle is not None:
            _objects.move_to_end(value.key)
            return handle
    if not value.payload:
        raise WorkerError("a worker was sent a reference to an R object it does not hold")
    handle = unserialize(value.payload)
    with _objects_lock:
        _objects[value.key] = handle
        while len(_objects) > _WORKER_CACHE:
            _objects.popitem(last=False)
    return handle


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*(resolve(a) for a in args))


# ---------------------------------------------------------------------------
# The worker process
# ---------------------------------------------------------------------------


def _worker_main(conn: Connection) -> None:
    """Entry point of a worker process: start R, then serve tasks."""
    # Ctrl-C in a terminal reaches the whole process group; the parent
    # decides what happens to workers, so they ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from ._r import worker

        worker.start()
    except BaseException as exc:  # report why R could not start, then end
        conn.send(("ready", f"{type(exc).__name__}: {exc}"))
        return
    # Starting R (rpy2) installs Python's default SIGINT handler again.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, fn, args = message
        try:
            conn.send(("done", task_id, True, _call(fn, args)))
        except BaseException as exc:
            conn.send(("done", task_id, False, _picklable(exc)))


def _picklable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return WorkerError(f"{type(exc).__name__}: {exc}")


class _Worker:
    def __init__(self, context: Any) -> None:
        parent, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child,), daemon=True, name="pylme4-worker"
        )
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.ready = False
        self.holds: set[str] = set()  # keys of Shared objects sent to it
        self.task: int | None = None

    def send(self, task_id: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        shipped = []
        for a in args:
            if isinstance(a, Shared):
                if a.key in self.holds:
                    a = a.without_payload()
                else:
                    self.holds.add(a.key)
            shipped.append(a)
        self.conn.send((task_id, fn, tuple(shipped)))
        self.task = task_id

    def alive(self) -> bool:
        return bool(self.process.is_alive())


class _Pool:
    """Spawned worker processes with their own R, reused across calls."""

    def __init__(self, size: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.workers = [_Worker(self.context) for _ in range(size)]
        self.size = size
        self.broken = False

    def _replace(self, dead: _Worker) -> _Worker:
        """A new worker process in place of one that ended."""
        with contextlib.suppress(OSError):
            dead.conn.close()
        dead.process.join(0.2)
        new = _Worker(self.context)
        self.workers[self.workers.index(dead)] = new
        return new

    def wait_ready(self) -> None:
        for w in self.workers:
            while not w.ready:
                self._receive(w, block=True)

    def _receive(self, worker: _Worker, block: bool, retry: bool = False) -> tuple[Any, ...] | None:
        """One message from a worker; None for "ready" messages.

        With ``retry``, a worker that ended raises :class:`_WorkerDied` (the
        caller replaces it) instead of :class:`WorkerError`.
        """
        if not block and not worker.conn.poll():
            return None
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            if retry:
                raise _WorkerDied(worker) from None
            self.broken = True
            code = worker.process.exitcode
            raise WorkerError(
                f"a pylme4 worker process ended unexpectedly (exit code {code})"
            ) from None
        if message[0] == "ready":
            if message[1] is not None:
                self.broken = True
                raise RNotAvailableError(f"a worker process could not start R: {message[1]}")
            worker.ready = True
            return None
        return message

    def run(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple[Any, ...]],
        on_result: Callable[[int, Any], None],
        interrupt: Interrupt,
    ) -> list[Any]:
        results: list[Any] = [None] * len(tasks)
        pending = collections.deque(range(len(tasks)))
        attempts = [0] * len(tasks)
        idle = list(self.workers)
        busy: dict[Any, _Worker] = {}
        remaining = len(tasks)

        def died(w: _Worker) -> None:
            # Report, replace the worker, and run its task again (once).
            task = w.task
            busy.pop(w.conn, None)
            w.process.join(0.5)
            code = w.process.exitcode
            if task is None:  # it died idle, e.g. between two calls
                idle.append(self._replace(w))
                return
            if attempts[task] >= _TASK_ATTEMPTS:
                self.broken = True
                raise WorkerError(
                    f"a pylme4 worker process ended unexpectedly (exit code {code}) while "
                    f"running task {task} (attempt {attempts[task]} of {_TASK_ATTEMPTS}): "
                    "giving up"
                )
            warnings.warn(
                f"a pylme4 worker process ended unexpectedly (exit code {code}) while "
                f"running task {task}; a new worker runs it again",
                WorkerRestartWarning,
                stacklevel=2,
            )
            pending.appendleft(task)
            idle.append(self._replace(w))

        def dispatch() -> None:
            while idle and pending:
                i = pending.popleft()
                w = idle.pop(0)
                attempts[i] += 1
                try:
                    w.send(i, fn, tasks[i])
                except (OSError, ValueError):  # it ended before the task reached it
                    w.task = i
                    busy[w.conn] = w
                    died(w)
                    continue
                busy[w.conn] = w

        try:
            dispatch()
            while remaining:
                interrupt.check()
                sentinels = {w.process.sentinel: w for w in busy.values()}
                for obj in wait_connections(list(busy) + list(sentinels), timeout=0.2):
                    w = busy.get(obj)
                    if w is None:
                        w = sentinels.get(obj)
                        if w is not None and w.conn in busy and not w.conn.poll():
                            died(w)
                        continue
                    try:
                        message = self._receive(w, block=True, retry=True)
                    except _WorkerDied:
                        died(w)
                        continue
                    if message is None:  # the worker reported it is ready
                        continue
                    _, task_id, ok, value = message
                    del busy[w.conn]
                    w.task = None
                    idle.append(w)
                    if not ok:
                        raise value
                    results[task_id] = value
                    remaining -= 1
                    on_result(task_id, value)
                dispatch()
        except (KeyboardInterrupt, WorkerError):
            raise
        except BaseException:
            # A task raised (or reporting progress did): let the other
            # workers finish what they are doing, so that their answers do
            # not reach a later call, then report the error.
            self._drain(busy)
            raise
        return results

    def _drain(self, busy: dict[Any, _Worker]) -> None:
        # Wait a bounded time: a worker stuck in its task (a statistic that
        # never returns) must not hang the caller, who is about to get the
        # other task's error.  A pool that does not drain in time is ended;
        # the next call starts new workers.
        deadline = time.monotonic() + _DRAIN_GRACE
        for w in list(busy.values()):
            try:
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0 or not w.conn.poll(left):
                        self.stop(graceful=False)
                        return
                    if self._receive(w, block=True) is not None:
                        break
            except WorkerError:
                return
            w.task = None

    def stop(self, graceful: bool = True) -> None:
        """End the workers: ask them to stop, then terminate, then kill."""
        if graceful and not self.broken:
            for w in self.workers:
                with contextlib.suppress(OSError, ValueError):
                    w.conn.send(None)
        deadline = time.monotonic() + (_STOP_GRACE if graceful else 0.0)
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
        for w in self.workers:
            if w.process.is_alive():
                w.process.terminate()
        deadline = time.monotonic() + _TERMINATE_GRACE
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(0.2)
        for w in self.workers:
            w.conn.close()
        self.broken = True


_pool: _Pool | None = None
_pool_lock = threading.RLock()
# One parallel call at a time (other threads wait): the tasks of two calls
# must not mix in the workers' pipes, nor may one call replace the workers
# another is using.
_run_lock = threading.Lock()


def _get_pool(size: int) -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is not None and (_pool.broken or _pool.size != size):
            _pool.stop(graceful=not _pool.broken)
            _pool = None
        if _pool is None:
            _pool = _Pool(size)
        return _pool


def start_workers(workers: int = 2) -> None:
    """Start ``workers`` worker processes (each with its own R) and wait until
    they are ready, so that the first parallel call does not pay for it.

    Workers started here are the ones ``workers=`` calls use (a call with a
    different number replaces them).
    """
    check_workers(workers)
    with _run_lock:
        pool = _get_pool(workers)
        try:
            pool.wait_ready()
        except BaseException:
            _discard_pool()
            raise


def prepare_workers(workers: int) -> None:
    """Start ``workers`` worker processes without waiting for them, so that
    their start-up overlaps the caller's own work (a no-op when they run)."""
    if check_workers(workers) > 1:
        with _run_lock:
            _get_pool(workers)


def stop_workers() -> None:
    """Stop pylme4's worker processes (they also stop when Python exits)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.stop()
            _pool = None


def worker_count() -> int:
    """How many worker processes are running (0 when none were started)."""
    with _pool_lock:
        if _pool is None or _pool.broken:
            return 0
        return sum(w.alive() for w in _pool.workers)


def _discard_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.stop(graceful=False)
            _pool = None


atexit.register(stop_workers)


def check_workers(workers: Any) -> int:
    """``workers`` if it is a positive integer; an ArgumentError (a ValueError) otherwise."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ArgumentError(f"workers must be a positive integer, not {workers!r}")
    return workers


# ---------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------


class Interrupt:
    """Whether Ctrl-C was pressed during an :func:`interruptible` block."""

    def __init__(self) -> None:
        self.requested = False

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed since the last check."""
        if self.requested:
            self.requested = False
            raise KeyboardInterrupt


_active: Interrupt | None = None


@contextlib.contextmanager
def interruptible() -> Iterator[Interrupt]:
    """Note Ctrl-C instead of raising it at once; callers check between steps.

    A Ctrl-C during an R call is raised only once that call returns (R's
    compiled code cannot be interrupted safely).  Long operations made of
    many R calls want to stop cleanly between them instead, at a point where
    their state is consistent: inside this block SIGINT only sets a flag,
    which they check between R calls (every chunk of refits, every 0.2 s
    while waiting for workers).
    Outside the main thread (where Python does not deliver signals) the flag
    is never set.
    """
    global _active
    if _active is not None:  # nested: the outer block's flag serves
        yield _active
        return
    flag = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield flag
        return

    def note(signum: int, frame: Any) -> None:
        flag.requested = True

    signal.signal(signal.SIGINT, note)
    _active = flag
    try:
        yield flag
        flag.check()
    finally:
        _active = None
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------
# Running tasks: here, in workers, or on an Executor
# ---------------------------------------------------------------------------


class Progress:
    """A tqdm progress bar on stderr when ``enabled``; otherwise nothing at all."""

    def __init__(self, enabled: bool, total: int, desc: str, unit: str) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=True)

    def update(self, n: int, **postfix: Any) -> None:
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    workers: int = 1,
    executor: Executor | None = None,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Run ``fn(*task)`` for every task and return the results in task order.

    ``fn`` must be a module-level function (workers import it by name).
    Arguments that are :class:`Shared` reach ``fn`` as the R object they
    stand for.  With ``executor`` the tasks are submitted to it; otherwise
    ``workers=1`` runs them here, one after the other, and ``workers=k``
    in pylme4's k worker processes.  ``on_result(i, result)`` is called in
    this thread as each task finishes (for progress).  Ctrl-C stops the
    workers (within two seconds) and raises KeyboardInterrupt.
    """
    report = on_result or (lambda i, r: None)
    with interruptible() as interrupt:
        if executor is not None:
            return _run_on_executor(executor, fn, tasks, report, interrupt)
        workers = check_workers(workers)
        if workers == 1:
            results = []
            for i, task in enumerate(tasks):
                interrupt.check()
                results.append(_call(fn, task))
                report(i, results[-1])
            return results
        with _run_lock:
            pool = _get_pool(workers)
            try:
                return pool.run(fn, tasks, report, interrupt)
            except (KeyboardInterrupt, WorkerError):
                _discard_pool()
                raise


def _run_on_executor(
    executor: Executor,
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    report: Callable[[int, Any], None],
    interrupt: Interrupt,
) -> list[Any]:
    futures: dict[Future[Any], int] = {}
    try:
        for i, task in enumerate(tasks):
            futures[executor.submit(_call, fn, task)] = i
        results: list[Any] = [None] * len(tasks)
        not_done = set(futures)
        while not_done:
            interrupt.check()
            done, not_done = wait(not_done, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                i = futures[future]
                results[i] = future.result()
                report(i, results[i])
        return results
    except BaseException:
        # A foreign executor's processes are not ours to kill: cancel what
        # has not started and let the running tasks finish on their own.
        for future in futures:
            future.cancel()
        raise


def chunks(n: int, workers: int, smallest: int = 2) -> Iterator[range]:
    """Positions 0..n-1 cut into chunks for ``workers`` processes.

    Chunks shrink as work runs out ("guided" scheduling): the first are
    large (little per-task overhead), the last small (no worker waits long
    for another to finish its share).
    """
    start = 0
    while start < n:
        left = n - start
        size = max(smallest, -(-left // (2 * workers))) if workers > 1 else left
        size = min(size, left)
        yield range(start, start + size)
        start += size
