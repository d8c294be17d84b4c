"""Ctrl-C stops an R computation running in the main thread within moments.

rpy2 starts R without R's own signal handlers, so R never learns of a
SIGINT; and Python's C-level handler only sets a flag that runs the Python
handler once the main thread is back in bytecode, which it is not while R
computes.  Left alone, Ctrl-C surfaces only when the R call returns (half a
minute later for a large fit).

What still happens at once, even while the main thread is inside R, is that
Python's C-level handler writes the signal number to the "wakeup fd"
(:func:`signal.set_wakeup_fd`).  While the main thread is in an R call,
:func:`enter` points that fd at a pipe read by a daemon thread; on a
SIGINT the thread sets R's ``R_interrupts_pending``, exactly what R's own
handler would have done, and R stops at its next R_CheckUserInterrupt()
(R defers it itself while interrupts are suspended).  ``pylme4_capture``
catches the interrupt condition and ``call.py`` raises KeyboardInterrupt;
R stays usable.  Python's own handler still runs when the call returns, as
before, so nothing else changes.

The wakeup fd is taken only for the length of the call and the previous one
is restored afterwards (bytes that arrive meanwhile are passed on to it, so
an asyncio loop still sees its signals); outside R calls SIGINT is ordinary
Python Ctrl-C.  A SIGINT stops only the R call during which it came: under
load the watcher thread can wake after that call has ended and the next one
has begun, so :func:`enter` first passes on what the pipe still holds.

R is interrupted only when the SIGINT handler would have raised
KeyboardInterrupt anyway (Python's default handler, pylme4's own
``parallel.interruptible()``, or a handler marked with :func:`interrupts_r`):
a program that installed its own handler, or ignores SIGINT, keeps R
running as it asked.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

# R_interrupts_pending is a plain int in R that R's own SIGINT handler sets
# from signal context; the watcher sets it from its thread.  _lock makes
# "is the main thread in an R call" and the write one step, so an interrupt
# can never be left pending for the *next* R call (leave() clears it under
# the same lock when the call ends).
_lock = threading.Lock()
_state: dict[str, Any] = {
    "active": False,  # the main thread is inside an R call
    "forward": -1,  # the wakeup fd that was installed before ours
    "pipe": None,  # (read fd, write fd), made once
    "pid": None,  # the process that made the pipe
    "stopped": False,  # R was asked to stop during the current call
    "handler": None,  # SIGINT's handler outside the current call
    "pending": False,  # a SIGINT came during the call, for that handler
}


def interrupts_r(handler: _Handler) -> _Handler:
    """Mark a SIGINT handler as one that wants a running R call stopped.

    For handlers that, like Python's default one, end the current work on
    Ctrl-C (``parallel.interruptible()`` notes the key press and raises
    KeyboardInterrupt between steps).
    """
    handler.pylme4_interrupts_r = True  # type: ignore[attr-defined]
    return handler


def _wants_r_stopped() -> bool:
    handler = _state["handler"]
    return handler is signal.default_int_handler or getattr(handler, "pylme4_interrupts_r", False)


def _note(signum: int, frame: Any) -> None:
    """SIGINT's Python handler during an R call: :func:`deliver` runs the real one.

    Python runs a signal's handler at the next bytecode of the main thread,
    which after an R call is often a finalizer of an rpy2 object or an rpy2
    callback from R: a KeyboardInterrupt raised there is printed and dropped
    ("Exception ignored in"), and the Ctrl-C is lost."""
    _state["pending"] = True


def _watch(read_fd: int) -> None:
    while True:
        select.select([read_fd], [], [])
        with _lock:
            if not _take(read_fd, _state["active"]):
                return


def _take(read_fd: int, stop_r: bool) -> bool:
    """Read what the pipe holds and pass it on; with ``stop_r``, a SIGINT in
    it stops the running R call.  Call with ``_lock`` held.  False at the
    pipe's end."""
    try:
        data = os.read(read_fd, 256)
    except BlockingIOError:  # the other reader took it
        return True
    if not data:
        return False
    if stop_r and signal.SIGINT in data and _wants_r_stopped():
        _rlib().R_interrupts_pending = 1
        _state["stopped"] = True
    forward = _state["forward"]
    if forward != -1:
        with contextlib.suppress(OSError):  # a full or closed pipe of someone else's
            os.write(forward, data)
    return True


def _pipe() -> tuple[int, int]:
    pipe = _state["pipe"]
    # A forked child inherits the pipe but not the thread reading it.
    if pipe is None or _state["pid"] != os.getpid():
        _state["pid"] = os.getpid()
        read_fd, write_fd = os.pipe()
        # Python's signal handler must never block on a full pipe.
        os.set_blocking(write_fd, False)
        # The watcher and enter() both read it; a reader that finds it
        # emptied by the other must not wait.
        os.set_blocking(read_fd, False)
        threading.Thread(target=_watch, args=(read_fd,), name="pylme4-sigint", daemon=True).start()
        pipe = _state["pipe"] = (read_fd, write_fd)
    return pipe


def enter() -> bool:
    """Let SIGINT stop the R call about to be made; True if :func:`leave` must follow.

    Call with the session lock held and R started.  Does nothing outside
    the main thread (signals reach only the main thread, and set_wakeup_fd
    works only there), on Windows (R's Unix mechanism; Windows has
    UserBreak), or inside an outer R call that already did it.
    """
    if os.name != "posix" or _state["active"] or threading.current_thread() is not _main():
        return False
    read_fd, write_fd = _pipe()
    # Under the lock from the first byte this call may see until it is the
    # active one: the watcher reads nothing meanwhile, so a SIGINT that comes
    # as the call starts stops it.
    with _lock:
        # Signals of earlier calls (or between calls, if a KeyboardInterrupt
        # in leave() kept our fd) that the watcher has not read: passed on,
        # not left to stop this call.
        while select.select([read_fd], [], [], 0)[0] and _take(read_fd, False):
            pass
        try:
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except ValueError:  # not the main interpreter: leave things as they are
            return False
        if previous == write_fd:
            # A KeyboardInterrupt raised inside leave() kept ours installed; the
            # fd to pass bytes on to is still the one from before.
            previous = _state["forward"]
        _state["forward"] = previous
        _state["handler"] = signal.getsignal(signal.SIGINT)
        _state["pending"] = False
        if callable(_state["handler"]):
            signal.signal(signal.SIGINT, _note)
        _state["active"] = True
        _state["stopped"] = False
    return True


def leave() -> bool:
    """End what :func:`enter` started: SIGINT is Python's alone again
    (:func:`deliver` then runs its handler for a SIGINT during the call).

    True if a SIGINT asked R to stop during the call (the call may have
    been stopped outside the code that reports an interrupt)."""
    with _lock:
        _state["active"] = False
        # A SIGINT R did not get to check: Python's own handler raises
        # KeyboardInterrupt for it now; R must not see it in a later call.
        _rlib().R_interrupts_pending = 0
    if callable(_state["handler"]):
        signal.signal(signal.SIGINT, _state["handler"])
    try:
        signal.set_wakeup_fd(_state["forward"])
    except ValueError:  # its owner closed it meanwhile
        signal.set_wakeup_fd(-1)
    # Bytes still in the pipe are passed on to that fd by the watcher (or by
    # the next enter()).
    with _lock:
        return bool(_state["stopped"])


def deliver() -> None:
    """Run SIGINT's handler for a SIGINT that came during the call :func:`leave`
    ended (Python's default one raises KeyboardInterrupt here)."""
    if _state["pending"]:
        _state["pending"] = False
        _state["handler"](signal.SIGINT, None)


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: a free ``_lock`` (the
    watcher may have held it at the fork), the main thread looked up again
    (a fork from another thread makes that thread the child's main one), and
    no R call in progress.  The pipe is made anew by :func:`_pipe`."""
    global _lock
    _lock = threading.Lock()
    _state.pop("main", None)
    if _state["active"]:
        # Forked while the main thread was in an R call (the child's R is
        # refused then): the wakeup fd is the parent's pipe, and a SIGINT of
        # the child must not reach the parent's watcher.
        _state["active"] = False
        with contextlib.suppress(ValueError, OSError):
            signal.set_wakeup_fd(_state["forward"])
    _state["forward"] = -1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _main() -> threading.Thread:
    main = _state.get("main")
    if main is None:
        main = _state["main"] = threading.main_thread()
    return main


def _rlib() -> Any:
    rlib = _state.get("rlib")
    if rlib is None:
        from rpy2.rinterface_lib import openrlib

        rlib = _state["rlib"] = openrlib.rlib
    return rlib
