"""The embedded R session: started once, on first use, and guarded by one lock.

R is not thread-safe, so every call into R in pylme4 holds :data:`LOCK`.
Importing this module does not start R; :func:`helpers` does, the first time it
is called.  R's console output never reaches the user's terminal: rpy2's
console callbacks write into :data:`CONSOLE`, which ``call.py`` drains per call.
A process forked while no thread was inside R uses its copy of the parent's R
(as R's parallel::mcfork() children do); see :func:`_before_fork`.
"""

from __future__ import annotations

import atexit
import os
import threading
from importlib import resources
from typing import Any

from ..errors import RNotAvailableError

LOCK = threading.RLock()

# Text R wrote to its console outside any capture.output() (for example from
# compiled code during start-up).  Drained by call.py; never printed.
CONSOLE: list[str] = []

# Packages attached at start-up, as a user's script would do with library().
# lme4 attaches Matrix itself.  lmerTest is *not* attached: it would mask
# lme4::lmer; it is loaded on demand through its namespace.
_ATTACHED = ("lme4",)

# R packages pylme4 uses, with the Debian package that provides each.
R_PACKAGES = {
    "lme4": "r-cran-lme4",
    "lmerTest": "r-cran-lmertest",
    "boot": "r-cran-boot",
    "pbkrtest": "r-cran-pbkrtest",
    "optimx": "r-cran-optimx",
    "dfoptim": "r-cran-dfoptim",
    # the post-fit toolbox (emmeans, Wald tests, R2/ICC, tidy tables)
    "emmeans": "r-cran-emmeans",
    "car": "r-cran-car",
    "performance": "r-cran-performance",
    "insight": "r-cran-insight",
    "broom.mixed": "r-cran-broom.mixed",
}

INSTALL_HINT = (
    "install R and the R packages with `make setup` (Debian/Ubuntu as root: "
    "apt-get install r-base-core r-base-dev "
    + " ".join(R_PACKAGES.values())
    + "; elsewhere: Rscript r_requirements.R)"
)

_state: dict[str, Any] = {}

# R objects whose last Python reference went away while another thread held
# LOCK (see release()).  list.append and list.pop are atomic under the GIL.
_PENDING: list[Any] = []


def release(holder: Any) -> None:
    """Drop ``holder.sexp`` (an R object) now if R is free, else at the next R call.

    For finalizers (``RHandle.__del__``): they run in whichever thread the
    garbage collector runs in, and must neither release R memory while
    another thread is inside R nor block until R is done (the collecting
    thread may hold a lock that the thread inside R is waiting for).
    ``holder.sexp`` must be the only reference to the R object.
    """
    if LOCK.acquire(blocking=False):
        try:
            holder.sexp = None  # the last reference goes while we hold the lock
            release_pending()
        finally:
            LOCK.release()
    else:
        _PENDING.append(holder.sexp)
        holder.sexp = None


def release_pending() -> None:
    """Release the R objects queued by :func:`release`; call with LOCK held."""
    while _PENDING:
        try:
            _PENDING.pop()
        except IndexError:  # emptied by another thread holding LOCK re-entrantly
            break


def pending_releases() -> int:
    """How many R objects wait to be released (for tests)."""
    return len(_PENDING)


def _capture_console(text: str) -> None:
    CONSOLE.append(text)


def _initialize() -> Any:
    """Start the embedded R itself (rpy2, R's set-up, the locale); return rpy2's
    ``rinterface``.  Done once per process; the packages come in :func:`_start`.

    R's set-up changes process-wide C library state (the locale, environment
    variables, signal handlers) that is not safe against other threads using
    it, so :func:`start_in_background` runs this part in the caller's thread
    and only the package loading in the starting thread: started in the
    thread while the main thread imported modules, R's set-up crashed the
    process (a segfault in Rf_initialize_R) about once in 20 starts under load.
    """
    done = _state.get("initialized")
    if done is not None:
        if done != os.getpid():
            # Forked after R's set-up but before its packages were loaded.
            raise RNotAvailableError(_FORKED_BUSY)
        import rpy2.rinterface as ri

        return ri
    try:
        import rpy2.rinterface as ri
        import rpy2.rinterface_lib.callbacks as callbacks
    except Exception as exc:  # ImportError, or rpy2 failing to find/load libR
        raise RNotAvailableError(
            f"rpy2 could not load R ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
        ) from exc

    callbacks.consolewrite_print = _capture_console
    callbacks.consolewrite_warnerror = _capture_console
    callbacks.showmessage = _capture_console
    # R must never wait for keyboard input inside a library call.
    callbacks.consoleread = lambda prompt: ""

    ld_library_path = os.environ.get("LD_LIBRARY_PATH")
    try:
        ri.initr_simple()
    except Exception as exc:  # rpy2 found no R_HOME, or libR failed to start
        raise RNotAvailableError(
            f"rpy2 could not start R ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
        ) from exc
    finally:
        # rpy2 prepends R's library folders (/usr/lib/x86_64-linux-gnu, ...) to
        # LD_LIBRARY_PATH once R runs.  That cannot change this process, but it
        # leaks into every child: a Python subprocess or spawned worker would
        # load the system's libpython instead of its own.  Put it back.
        if ld_library_path is None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        else:
            os.environ["LD_LIBRARY_PATH"] = ld_library_path
    # Before library(lme4): each hook call takes the GIL, so with the hook
    # an R start in the background thread crawls while the main thread runs
    # Python (library(lme4) took 110 s instead of 1 s beside a busy loop).
    _without_event_hook()
    # Non-ASCII column names and factor labels need a UTF-8 character locale;
    # under the C locale R would print them as <U+00E9>.
    ri.evalr('if (!l10n_info()[["UTF-8"]]) invisible(Sys.setlocale("LC_CTYPE", "C.UTF-8"))')
    _state["initialized"] = os.getpid()
    return ri


def _start() -> Any:
    """Start the embedded R and load the helpers; return the helper environment."""
    ri = _initialize()
    missing = list(
        ri.evalr(
            "c(" + ",".join(f'"{p}"' for p in _ATTACHED) + ")"
            "[!vapply(c("
            + ",".join(f'"{p}"' for p in _ATTACHED)
            + "), requireNamespace, TRUE, quietly = TRUE)]"
        )
    )
    if missing:
        raise RNotAvailableError(f"R package(s) {', '.join(missing)} not installed; {INSTALL_HINT}")
    for pkg in _ATTACHED:
        ri.evalr(f"suppressPackageStartupMessages(library({pkg}))")

    env = ri.evalr("new.env(parent = globalenv())")
    # One R file per concept (core.R, inference.R, ...), all in one environment.
    r_dir = resources.files(__package__).joinpath("R")
    for source in sorted(r_dir.iterdir(), key=lambda p: p.name):
        if source.name.endswith(".R"):
            code = source.read_text(encoding="utf-8")
            ri.baseenv["eval"](ri.baseenv["parse"](text=ri.StrSexpVector([code])), env)
    CONSOLE.clear()
    _end_r_at_exit()
    return env


def _without_event_hook() -> None:
    """Stop R from calling back into Python to "process events".

    R calls that hook from R_CheckUserInterrupt(), hundreds of times per
    model fit; rpy2 answers each call in Python, which costs about 5% of a
    small fit.  pylme4 has no events to process (no interactive graphics
    device, no console), and the hook did not even make Ctrl-C work: a
    KeyboardInterrupt raised inside it was printed and dropped, so the key
    press was lost.  Ctrl-C during an R call reaches R through
    ``interrupt.py`` instead.
    """
    from rpy2.rinterface_lib import openrlib

    openrlib.rlib.ptr_R_ProcessEvents = openrlib.ffi.NULL


def _end_r_at_exit() -> None:
    """End R at exit with R's own Rf_endEmbeddedR(), instead of rpy2's handler.

    Rf_endEmbeddedR() runs R's exit finalizers, closes devices and removes
    R's temporary directory.  rpy2's handler does the same after a full
    garbage collection, which nothing needs when the process is ending and
    which takes 0.4 s with lme4 loaded: every script and worker process
    would wait for it when it exits.
    """
    import atexit

    from rpy2.rinterface_lib import embedded, openrlib

    owner = os.getpid()

    def end() -> None:
        # A forked child inherits this hook with its copy of R, whose
        # temporary directory is the parent's own (R's parallel::mcfork
        # children share it too, and leave with _exit()): only the process
        # that started R ends it.
        if os.getpid() != owner:
            return
        # Never wait forever at exit for a thread stuck inside R.
        if LOCK.acquire(timeout=5):
            try:
                openrlib.rlib.Rf_endEmbeddedR(0)
            finally:
                LOCK.release()

    atexit.unregister(embedded.endr)
    atexit.register(end)


# "thread": the starting thread; "running": present while it is inside the start.
_starter: dict[str, Any] = {}


def start_in_background() -> None:
    """Begin starting R in a thread, so that it overlaps the caller's Python work.

    Starting R takes over a second, most of it ``library(lme4)`` inside R
    with Python's GIL released, while the caller is typically importing
    pandas and reading its data.  rpy2's import and R's own set-up (about
    0.15 s) run here, in the caller's thread (see :func:`_initialize`);
    ``library(lme4)`` and the helpers in the starting thread, which holds
    :data:`LOCK` from before this function returns until R is ready, so
    every R call (all take LOCK) waits for it: nothing can reach R
    half-started.  If LOCK is busy, or R cannot start, nothing
    happens here and R starts (or fails, with its message) on first use as
    before.  Called at most once per process.
    """
    if "helpers" in _state or "thread" in _starter:
        return
    # The RLock would let a caller inside an R section in again: LOCK is busy.
    if LOCK._is_owned() or not LOCK.acquire(blocking=False):  # type: ignore[attr-defined]
        return
    try:
        # R's own set-up here, in the caller's thread (see _initialize).
        _initialize()
    except Exception:  # the first R call tries again, and reports the error
        LOCK.release()
        return
    # Set before LOCK is let go: a fork from now on waits for the thread.
    _starter["running"] = True
    LOCK.release()
    holding = threading.Event()

    def run() -> None:
        if not LOCK.acquire(blocking=False):
            # Another thread took LOCK first; its R call loads the packages.
            _starter.pop("running", None)
            holding.set()
            return
        try:
            holding.set()
            _start_here()
        except BaseException:  # the first R call starts R again, and reports the error
            pass
        finally:
            _starter.pop("running", None)
            LOCK.release()

    thread = threading.Thread(target=run, name="pylme4-r-start", daemon=True)
    _starter["thread"] = thread
    thread.start()
    holding.wait()
    # A process must not exit while the thread is inside R.
    atexit.register(join_start)


# How long a fork waits for R's start in the background thread to end, so that
# the child gets a whole R (the start takes a second or two; it needs nothing
# from the forking thread, but a stuck start must not hang the fork).
_FORK_WAITS_FOR_START = 60.0

# Forking thread's ident -> rpy2's lock or None, for a fork that holds LOCK:
# set by _before_fork, read right after the fork in the same thread (in the
# child too: the thread keeps its ident).  Per thread, as two threads may fork
# at once (another at-fork hook may let a second one in).
_fork: dict[int, Any] = {}

_FORKED_BUSY = (
    "this process was forked while R was in use by another thread of its parent "
    "process (or still starting), so its copy of R is not usable; fork while no "
    "thread is inside R, or use the 'spawn' start method for worker processes "
    "(pylme4's own workers= need neither)"
)


def _rpy2_lock() -> Any:
    """rpy2's own lock, if rpy2's library module is loaded (never imported here)."""
    import sys

    openrlib = sys.modules.get("rpy2.rinterface_lib.openrlib")
    return getattr(openrlib, "rlock", None)


def _before_fork() -> None:
    """In the forking thread, just before a fork: hold R idle across it.

    R is not thread-safe, but a copy of an R that no thread is inside is a
    whole R: R's own parallel::mcfork() relies on that.  So the fork holds
    :data:`LOCK` (and rpy2's lock) while it happens, which no thread can
    take while another is in R.  The attempt never blocks: if another thread
    is inside R, or this thread is itself inside an R section, the fork goes
    ahead at once and the child refuses R (:func:`helpers`).  Only a start
    begun by :func:`start_in_background` is waited for (bounded), since a
    script that forks right after its first ``pylme4.datasets`` would
    otherwise always fork mid-start.
    """
    me = threading.get_ident()
    _fork.pop(me, None)
    starter = _starter.get("thread")
    if (
        _starter.get("running")
        and starter is not None
        and starter is not threading.current_thread()
    ):
        starter.join(_FORK_WAITS_FOR_START)
    # The RLock would let this thread in again even inside an R section.
    if LOCK._is_owned():  # type: ignore[attr-defined]
        return
    if not LOCK.acquire(blocking=False):
        return
    rlock = _rpy2_lock()
    if rlock is not None and not rlock.acquire(blocking=False):
        LOCK.release()
        return
    _fork[me] = rlock


def _after_fork_in_parent() -> None:
    me = threading.get_ident()
    if me in _fork:
        rlock = _fork.pop(me)
        if rlock is not None:
            rlock.release()
        LOCK.release()


def _after_fork_in_child() -> None:
    """In the child: its own R if R was idle at the fork, else a clear refusal.

    Idle: this thread took the locks before the fork and gives them back;
    R's state is the parent's as of the fork, R's temporary directory the
    parent's (never removed from here: see :func:`_end_r_at_exit`), the RNG
    state the parent's too.  Busy: R may be half way through something in
    this copy, and LOCK is held by a thread the child does not have; a free
    LOCK, and every R call fails instead of waiting forever.
    """
    global LOCK
    me = threading.get_ident()
    held = me in _fork
    rlock = _fork.pop(me, None)
    _fork.clear()  # other threads' forks in progress are the parent's
    if held:
        if rlock is not None:
            rlock.release()
        LOCK.release()
        if _state.get("helpers") is not None:
            _state["pid"] = os.getpid()
    else:
        LOCK = threading.RLock()
        _state["helpers"] = None
        _state["pid"] = None
    # The starting thread, if any, is the parent's.
    _starter.pop("running", None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def join_start() -> None:
    """Wait until a start begun by :func:`start_in_background` has ended."""
    thread = _starter.get("thread")
    if thread is not None and thread is not threading.current_thread():
        thread.join()


def _start_here() -> Any:
    """Start R in this process (call with LOCK held); return the helper environment."""
    env = _start()
    _state["pid"] = os.getpid()
    _state["helpers"] = env
    return env


def helpers() -> Any:
    """The environment holding the R helpers (``_r/R/*.R``); starts R on first use."""
    env = _state.get("helpers")
    if env is not None and _state["pid"] == os.getpid():
        return env
    with LOCK:
        if "helpers" in _state:
            if _state["pid"] != os.getpid():
                raise RNotAvailableError(_FORKED_BUSY)
            return _state["helpers"]
        return _start_here()


def is_started() -> bool:
    """Whether R has been started in this process."""
    return "helpers" in _state


_loaded_namespaces: set[str] = set(_ATTACHED)


def require_namespace(package: str) -> None:
    """Load an R package's namespace once, with an install hint if it is missing."""
    if package in _loaded_namespaces:
        return
    import rpy2.rinterface as ri

    helpers()
    with LOCK:
        ok = ri.baseenv["requireNamespace"](package, quietly=True)[0]
        CONSOLE.clear()
    if not ok:
        raise RNotAvailableError(f"the R package {package} is not installed; {INSTALL_HINT}")
    _loaded_namespaces.add(package)
