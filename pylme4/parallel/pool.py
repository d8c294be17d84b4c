"""pylme4's worker processes: a loky executor whose workers each start R once.

Workers are started by loky (fork+exec of loky's own entry point, whatever
multiprocessing's start method is), so they never import or run the user's
``__main__``: no ``if __name__ == "__main__":`` guard, and scripts, ``python
-c``, stdin and notebooks all work.  Tasks travel with cloudpickle (loky's
pickler), so a function defined in a script or notebook runs in a worker.

The executor is pylme4's own instance (not loky's process-wide reusable
executor, which joblib shares and resizes): other libraries' parallel calls
never restart our R workers, nor ours theirs.  Idle workers end after
:data:`_IDLE_TIMEOUT` seconds; the next call starts new ones.

At most one task per worker is in flight, so a task that is running has a
worker of its own.  A running task marks itself with a file in this
process's run folder; when a worker dies (loky then ends all workers and
fails every running task), those marks say which tasks were running.  A
single suspect is run again once (:class:`WorkerRestartWarning`), and a
second death under it ends the call (:class:`WorkerError`); several suspects
are run again one at a time, so that a second death names the culprit.

No rpy2 at import: a worker imports this before it knows R can start.
"""

from __future__ import annotations

import atexit
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

from ..errors import PylmeError, one_line, warn
from .interrupt import Interrupt
from .shared import resolve, stage

# Idle workers end after this many seconds (each holds an R of ~150 MB).
_IDLE_TIMEOUT = 600
# After a task failed: how long the other workers may take to finish theirs.
_DRAIN_GRACE = 30.0
# How often a task is tried when its worker process dies under it.
_TASK_ATTEMPTS = 2
# How long the diagnosis of workers that cannot start may take.
_PROBE_TIMEOUT = 8.0
# How often the caller looks at Ctrl-C and finished tasks while waiting.
_POLL = 0.1


class WorkerRestartWarning(RuntimeWarning):
    """A worker process died while running a task; a new one ran it again."""


class WorkerError(PylmeError, RuntimeError):
    """A worker process failed: it could not start, or it died mid-task."""


# ---------------------------------------------------------------------------
# In the worker
# ---------------------------------------------------------------------------

# Why R could not start in this worker (None: it started, or not a worker).
_start_error: str | None = None


def _last_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {one_line(exc)}"


def _start_worker() -> None:
    """loky's initializer: runs once in each new worker, before any task."""
    global _start_error
    # Ctrl-C in a terminal reaches the whole process group; the main process
    # decides what happens to workers, so they ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from .._r import worker

        worker.start()
    except BaseException as exc:  # reported by every task this worker gets
        _start_error = _last_line(exc)
    # Starting R (rpy2) installs Python's default SIGINT handler again.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _StartFailed(Exception):
    """Internal: this worker's R did not start (the message says why)."""


def _run_task(mark: str, payload: bytes) -> Any:
    """A task in a worker: mark it running, unpack and run it, unmark it."""
    if _start_error is not None:
        raise _StartFailed(_start_error)
    import cloudpickle

    with open(mark, "w") as f:
        f.write(str(os.getpid()))
    try:
        fn, args = cloudpickle.loads(payload)
        return call(fn, args)
    finally:
        os.unlink(mark)


def _rendezvous(folder: str, token: str, count: int) -> str | None:
    """Hold this worker until ``count`` workers have arrived (so that
    ``count`` such tasks occupy ``count`` distinct workers, all started)."""
    if _start_error is not None:
        raise _StartFailed(_start_error)
    open(os.path.join(folder, f"rendezvous-{token}-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        arrived = [n for n in os.listdir(folder) if n.startswith(f"rendezvous-{token}-")]
        if len(arrived) >= count:
            return None
        time.sleep(0.02)
    return "timed out waiting for the other workers"


def call(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fn(*args)`` with shared R objects resolved."""
    return fn(*(resolve(a) for a in args))


def picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (to travel back), else a WorkerError
    with its text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return WorkerError(f"{type(exc).__name__}: {exc}")


def _probe() -> None:
    """``python -c`` entry point: start a worker's R here, as a worker would."""
    _start_worker()
    if _start_error is not None:
        print(_start_error, file=sys.stderr)
        sys.exit(1)


# ---------------------------------------------------------------------------
# In the main process
# ---------------------------------------------------------------------------


_folder: str | None = None


def _run_folder() -> str:
    """This process's folder for running marks and staged shared objects."""
    global _folder
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="pylme4-workers-")
        atexit.register(_remove_run_folder, _folder, os.getpid())
    return _folder


def _remove_run_folder(folder: str, owner: int) -> None:
    # A forked child inherits this atexit hook; the folder is its parent's.
    if os.getpid() == owner:
        shutil.rmtree(folder, True)


def _exit_code(exc: BaseException) -> str:
    """The dead worker's exit code as loky reports it ("9", "-9", "?")."""
    codes = re.findall(r"\((-?\d+)\)", str(exc).rsplit("exit codes", 1)[-1])
    return codes[0] if codes else "?"


def _diagnose(interrupt: Interrupt | None = None) -> str | None:
    """Why a new worker cannot start (its own last error line), or None.

    A worker that fails before it can run a task (pylme4 or rpy2 not
    importable where it runs, R unable to start) dies with its reason on
    stderr; this starts one more, the way loky does (this environment, this
    sys.path), and reads that reason.  Ctrl-C stops it at once.
    """
    probe = subprocess.Popen(
        [sys.executable, "-c", "from pylme4.parallel import pool; pool._probe()"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    deadline = time.monotonic() + _PROBE_TIMEOUT
    try:
        while True:
            try:
                _, stderr = probe.communicate(timeout=_POLL)
                break
            except subprocess.TimeoutExpired:
                if interrupt is not None:
                    interrupt.check()
                if time.monotonic() > deadline:
                    return None
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    if probe.returncode == 0:
        return None
    lines = [s.strip() for s in stderr.splitlines() if s.strip()]
    return lines[-1] if lines else f"it ended with exit code {probe.returncode}"


class _Pool:
    """A loky executor with ``size`` workers, used one call at a time."""

    def __init__(self, size: int) -> None:
        import loky

        self.size = size
        self.executor = loky.ProcessPoolExecutor(
            max_workers=size, timeout=_IDLE_TIMEOUT, initializer=_start_worker
        )
        self.calls = 0
        # Whether these workers are known to start (then a death is a crash,
        # not a start-up failure to diagnose).
        self.started = False

    # -- start and stop -----------------------------------------------------

    def spawn(self) -> None:
        """Start the workers now, without waiting for them; replace them if
        one died since the last call (loky then refuses new tasks)."""
        from loky.process_executor import BrokenProcessPool

        try:
            self.executor.submit(int)  # loky starts all workers on a first task
        except BrokenProcessPool:
            self._renew()
            self.executor.submit(int)

    def wait_ready(self, interrupt: Interrupt) -> None:
        self.spawn()
        token = f"{os.getpid()}-{time.monotonic_ns()}"
        futures = [
            self.executor.submit(_rendezvous, _run_folder(), token, self.size)
            for _ in range(self.size)
        ]
        not_done = set(futures)
        while not_done:
            interrupt.check()
            _, not_done = wait(not_done, timeout=_POLL)
        for f in futures:
            problem = self._result(f)
            if problem:
                raise WorkerError(f"pylme4's worker processes did not start: {problem}")
        self.started = True

    def _result(self, future: Future[Any]) -> Any:
        from loky.process_executor import BrokenProcessPool

        try:
            return future.result()
        except _StartFailed as exc:
            raise _start_failure(str(exc)) from None
        except BrokenProcessPool as exc:
            reason = _diagnose()
            if reason:
                raise _start_failure(reason) from None
            raise WorkerError(
                f"a pylme4 worker process ended unexpectedly (exit code {_exit_code(exc)}) "
                "while starting"
            ) from None

    def stop(self) -> None:
        """End the workers at once (they are killed, with their children)."""
        self.executor.shutdown(wait=True, kill_workers=True)

    def pids(self) -> list[int]:
        # loky keeps its live workers here; there is no public accessor.
        processes = getattr(self.executor, "_processes", None) or {}
        return [pid for pid, p in list(processes.items()) if p.is_alive()]

    # -- running tasks ------------------------------------------------------

    def run(
        self,
        fn: Callable[..., Any],
        tasks: Sequence[tuple[Any, ...]],
        report: Callable[[int, Any], None],
        interrupt: Interrupt,
    ) -> list[Any]:
        import cloudpickle
        from loky.process_executor import BrokenProcessPool

        self.spawn()
        folder = _run_folder()
        self.calls += 1
        call_id = f"{os.getpid()}-{id(self)}-{self.calls}"
        payloads = [cloudpickle.dumps((fn, tuple(stage(a, folder) for a in t))) for t in tasks]
        results: list[Any] = [None] * len(tasks)
        pending = collections.deque(range(len(tasks)))
        alone: collections.deque[int] = collections.deque()  # suspects, run one at a time
        attempts = [0] * len(tasks)
        tries = [0] * len(tasks)
        inflight: dict[Future[Any], int] = {}
        marks: dict[int, str] = {}
        completed = 0
        idle_deaths = 0

        def submit(i: int) -> None:
            tries[i] += 1
            marks[i] = os.path.join(folder, f"running-{call_id}-{i}-{tries[i]}")
            inflight[self.executor.submit(_run_task, marks[i], payloads[i])] = i

        try:
            while pending or alone or inflight:
                interrupt.check()
                if alone:
                    if not inflight:
                        submit(alone.popleft())
                else:
                    while pending and len(inflight) < self.size:
                        submit(pending.popleft())
                done, _ = wait(list(inflight), timeout=_POLL, return_when=FIRST_COMPLETED)
                crash: BaseException | None = None
                crashed: list[int] = []
                for future in done:
                    i = inflight.pop(future)
                    exc = future.exception()
                    if exc is None:
                        results[i] = future.result()
                        completed += 1
                        report(i, results[i])
                    elif isinstance(exc, _StartFailed):
                        raise _start_failure(str(exc))
                    elif isinstance(exc, BrokenProcessPool):
                        crash = exc
                        crashed.append(i)
                    else:
                        self._drain(inflight, interrupt)
                        raise exc
                if crash is None:
                    continue
                # loky fails every running task of a broken pool at once.
                rest, _ = wait(list(inflight), timeout=5.0)
                for future in rest:
                    i = inflight.pop(future)
                    if future.exception() is None:
                        results[i] = future.result()
                        completed += 1
                        report(i, results[i])
                    else:
                        crashed.append(i)
                crashed.extend(inflight.pop(f) for f in list(inflight))
                self.started = self.started or completed > 0
                if not self.started:
                    reason = _diagnose(interrupt)
                    if reason:
                        raise _start_failure(reason)
                self._renew()
                suspects = sorted(i for i in crashed if os.path.exists(marks[i]))
                for i in crashed:
                    if os.path.exists(marks[i]):
                        os.unlink(marks[i])
                innocent = [i for i in crashed if i not in suspects]
                pending.extendleft(reversed(innocent))
                if not suspects:
                    # A worker died between tasks (or while starting).
                    idle_deaths += 1
                    if idle_deaths > _TASK_ATTEMPTS:
                        raise WorkerError(
                            "pylme4's worker processes keep ending unexpectedly "
                            f"(exit code {_exit_code(crash)}) between tasks: giving up"
                        )
                    continue
                code = _exit_code(crash)
                named = " or ".join(f"task {i}" for i in suspects)
                for i in suspects:
                    attempts[i] = min(attempts[i] + 1, _TASK_ATTEMPTS)
                if len(suspects) == 1 and attempts[suspects[0]] >= _TASK_ATTEMPTS:
                    i = suspects[0]
                    raise WorkerError(
                        f"a pylme4 worker process ended unexpectedly (exit code {code}) while "
                        f"running task {i} (attempt {attempts[i]} of {_TASK_ATTEMPTS}): "
                        "giving up"
                    )
                again = (
                    "a new worker runs it again"
                    if len(suspects) == 1
                    else "new workers run them again, one at a time"
                )
                warn(
                    f"a pylme4 worker process ended unexpectedly (exit code {code}) while "
                    f"running {named}; {again}",
                    WorkerRestartWarning,
                )
                if len(suspects) == 1:
                    pending.appendleft(suspects[0])
                else:
                    alone.extend(suspects)
        except BaseException:
            for future in inflight:
                future.cancel()
            raise
        return results

    def _renew(self) -> None:
        """A new executor (new workers) in place of a broken one."""
        import loky

        self.executor.shutdown(wait=True, kill_workers=True)
        self.started = False
        self.executor = loky.ProcessPoolExecutor(
            max_workers=self.size, timeout=_IDLE_TIMEOUT, initializer=_start_worker
        )

    def _drain(self, inflight: dict[Future[Any], int], interrupt: Interrupt) -> None:
        # A task raised: let the others finish theirs (their results are
        # dropped), but not for ever: a worker stuck in its task (a statistic
        # that never returns) must not hang the caller.  Workers that do not
        # finish in time are killed; the next call starts new ones.
        deadline = time.monotonic() + _DRAIN_GRACE
        not_done = set(inflight)
        inflight.clear()
        while not_done and time.monotonic() < deadline:
            interrupt.check()
            _, not_done = wait(not_done, timeout=_POLL)
        if not_done:
            self._renew()


def _start_failure(reason: str) -> WorkerError:
    return WorkerError(f"pylme4's worker processes could not start: {reason}")


# ---------------------------------------------------------------------------
# The pool of this process
# ---------------------------------------------------------------------------

_pool: _Pool | None = None
_pool_lock = threading.RLock()
# One parallel call at a time (other threads wait): one call's workers must
# not be resized or replaced under another.
run_lock = threading.Lock()


def get_pool(size: int) -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is not None and _pool.size != size:
            _pool.stop()
            _pool = None
        if _pool is None:
            _pool = _Pool(size)
        return _pool


def discard_pool() -> None:
    """Kill the workers (after Ctrl-C or a failure); the next call starts new ones."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            pool, _pool = _pool, None
            pool.stop()


def discard_pool_after_interrupt() -> None:
    """Kill the workers after Ctrl-C outside :func:`run_in_workers` (which
    discards them itself), unless another thread's call is running on them."""
    if run_lock.acquire(blocking=False):
        try:
            discard_pool()
        finally:
            run_lock.release()


def worker_pids() -> list[int]:
    """Process ids of the live worker processes."""
    with _pool_lock:
        return [] if _pool is None else _pool.pids()


def running_pids() -> list[int]:
    """Process ids of the workers that are running a task now."""
    if _folder is None:
        return []
    pids = []
    for name in os.listdir(_folder):
        if name.startswith("running-"):
            try:
                with open(os.path.join(_folder, name)) as f:
                    pids.append(int(f.read() or 0))
            except (OSError, ValueError):
                continue
    return [p for p in pids if p]


atexit.register(discard_pool)


def _after_fork_in_child() -> None:
    """A forked child must not use (nor, at exit, kill) its parent's workers:
    the executor's threads and pipes are the parent's.  It starts its own
    workers if it asks for some.  Locks another thread held at the fork
    would never be released here."""
    global _pool, _folder
    _pool = None
    _folder = None
    _pool_lock._at_fork_reinit()  # type: ignore[attr-defined]
    run_lock._at_fork_reinit()  # type: ignore[attr-defined]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_in_workers(
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    workers: int,
    report: Callable[[int, Any], None],
    interrupt: Interrupt,
) -> list[Any]:
    with run_lock:
        pool = get_pool(workers)
        try:
            return pool.run(fn, tasks, report, interrupt)
        except (KeyboardInterrupt, WorkerError):
            discard_pool()
            raise


def run_on_executor(
    executor: Executor,
    fn: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    report: Callable[[int, Any], None],
    interrupt: Interrupt,
) -> list[Any]:
    futures: dict[Future[Any], int] = {}
    try:
        for i, task in enumerate(tasks):
            futures[executor.submit(call, fn, task)] = i
        results: list[Any] = [None] * len(tasks)
        not_done = set(futures)
        while not_done:
            interrupt.check()
            done, not_done = wait(not_done, timeout=_POLL, return_when=FIRST_COMPLETED)
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


# ---------------------------------------------------------------------------
# Progress and chunks
# ---------------------------------------------------------------------------


class Progress:
    """A tqdm progress bar when ``enabled``; otherwise nothing at all.

    In a Jupyter kernel it is tqdm's notebook widget, elsewhere a text bar on
    stderr: tqdm.auto makes that choice (and falls back to text, with tqdm's
    warning, when ipywidgets is missing), so pylme4 does not sniff the
    frontend itself.
    """

    def __init__(self, enabled: bool, total: int, desc: str, unit: str) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=True)

    def update(self, n: int, **postfix: Any) -> None:
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


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
