"""A working C-stack limit for the embedded R, so deep recursion is an R error.

R guards against C-stack overflow itself: every eval() compares the stack in
use (``R_CStackDir * (R_CStackStart - &local)``) with ``R_CStackLimit`` and
signals "C stack usage ... is too close to the limit", an ordinary R error.
rpy2 turns the check off (``R_CStackLimit = -1``), because R may be called
from any thread while ``R_CStackStart`` describes one stack only; with the
check off, deep recursion (a long formula walked recursively, a user's
recursive function) runs past the end of the stack and kills the process.

R measured ``R_CStackStart`` and ``R_CStackDir`` at start-up, from glibc's
``__libc_stack_end``: the main thread's stack, whichever thread started R.
So the check is exact for R calls made from the main thread and meaningless
for any other thread, whose stack lies elsewhere (a thread pool, a Dask
worker thread holding the session lock): there the "usage" would be a huge
or negative number and every call would fail, or none would be checked.
:func:`enter` therefore switches the limit on for the length of one
R call, and only in the main thread, and back off afterwards; calls from other
threads run as before.  (Pointing ``R_CStackStart`` at the calling thread's
own stack would cover them too, but finding a thread's stack base needs
pthread_getattr_np() and the layout of pthread_attr_t through ctypes, a
platform-specific guess that is worse than no check when wrong.)  The limit
is 95% of the main thread's stack size (RLIMIT_STACK), as R sets it for
itself: the rest is the head room R needs to handle the error.  With an
unlimited stack R keeps no limit either.
"""

from __future__ import annotations

import threading
from typing import Any

_UNCHECKED = 2**64 - 1  # (uintptr_t) -1: R's "no limit"
_state: dict[str, Any] = {}


def _main_thread_limit() -> int | None:
    """The limit to use in the main thread, or None when there is none to use."""
    if "limit" in _state:
        return _state["limit"]
    limit = None
    try:
        import resource

        from rpy2.rinterface_lib import openrlib

        soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
        start = int(openrlib.ffi.cast("uintptr_t", openrlib.rlib.R_CStackStart))
        # R leaves R_CStackStart at -1 when it could not find the stack.
        if soft != resource.RLIM_INFINITY and soft > 0 and start not in (0, _UNCHECKED):
            limit = int(0.95 * soft)
    except (ImportError, OSError, ValueError, AttributeError):  # no resource module, ...
        limit = None
    _state["limit"] = limit
    return limit


def enter() -> bool:
    """Switch R's C-stack check on for the R call about to be made.

    Only in the main thread (see the module's docstring); call with the
    session lock held and R started.  True if :func:`leave` must follow.
    """
    if _state.get("on") or threading.current_thread() is not threading.main_thread():
        return False
    limit = _main_thread_limit()
    if limit is None:
        return False
    _state["on"] = True
    _set_limit(limit)
    return True


def leave() -> None:
    """Switch the check off again, for calls from other threads."""
    _state["on"] = False
    # After an overflow R raised the limit a little to handle the error and
    # put it back when the error unwound; switching it off covers both.
    _set_limit(_UNCHECKED)


def _set_limit(value: int) -> None:
    from rpy2.rinterface_lib import openrlib

    openrlib.rlib.R_CStackLimit = openrlib.ffi.cast("uintptr_t", value)
