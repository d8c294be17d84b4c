"""A working C-stack limit for the embedded R, so deep recursion is an R error.

R guards against C-stack overflow itself: every eval() compares the stack in
use (``R_CStackDir * (R_CStackStart - &local)``) with ``R_CStackLimit`` and
signals "C stack usage ... is too close to the limit", an ordinary R error.
rpy2 turns the check off (``R_CStackLimit = -1``), because R may be called
from any thread while ``R_CStackStart`` describes one stack only; with the
check off, deep recursion (a long formula walked recursively, a user's
recursive function) runs past the end of the stack and kills the process.

So :func:`enter` switches the check on for the length of one R call (all R
calls are serialised by the session lock), with the numbers of the calling
thread's own stack, and :func:`leave` switches it off again, so that R
entered any other way runs as rpy2 set it up:

- the main thread: R measured ``R_CStackStart`` at start-up from glibc's
  ``__libc_stack_end``, which is the main thread's stack whichever thread
  started R; the limit is 95% of RLIMIT_STACK, as R sets it for itself (the
  rest is the head room R needs to handle the error).  With an unlimited
  stack R keeps no limit either, and neither does pylme4.  (In a process
  forked from another thread, that thread is the main one but keeps its own
  stack: it counts as "any other thread".)
- any other thread (a thread pool, a Dask worker thread): its stack lies
  elsewhere, so R's numbers would make every call fail or none be checked.
  On Linux, pthread_getattr_np() gives the thread's stack (lowest address
  and size); ``R_CStackStart`` becomes its top and the limit 95% of its size
  for the call.  Where that is not available (no glibc/musl), calls from
  other threads run unchecked, as before.  Only stacks that grow down are
  handled (every platform R supports today).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Any

_UNCHECKED = 2**64 - 1  # (uintptr_t) -1: R's "no limit"
_HEAD_ROOM = 0.95
_state: dict[str, Any] = {"on": False}
# Per thread: (stack start, limit) or None (leave that thread unchecked).
_threads = threading.local()


def _rlib() -> Any:
    from rpy2.rinterface_lib import openrlib

    return openrlib


def _main_thread_stack() -> tuple[int, int] | None:
    """R's own stack start and the limit to use with it, in the main thread."""
    try:
        import resource
    except ImportError:  # not Unix
        return None
    openrlib = _rlib()
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    start = int(openrlib.ffi.cast("uintptr_t", openrlib.rlib.R_CStackStart))
    # R leaves R_CStackStart at -1 when it could not find the stack.
    if soft == resource.RLIM_INFINITY or soft <= 0 or start in (0, _UNCHECKED):
        return None
    if not _grows_down():
        return None
    return start, int(_HEAD_ROOM * soft)


def _grows_down() -> bool:
    if "down" not in _state:
        import rpy2.rinterface as ri

        # R worked the direction out at start-up (1: the stack grows down).
        info = ri.baseenv["Cstack_info"]()
        _state["down"] = int(info[list(info.names).index("direction")]) == 1
    return bool(_state["down"])


def _other_thread_stack() -> tuple[int, int] | None:
    """This thread's stack top and the limit to use with it, from pthreads."""
    if not _grows_down():
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "pthread_getattr_np"):  # not glibc or musl
        return None
    libc.pthread_self.restype = ctypes.c_ulong
    libc.pthread_getattr_np.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
    libc.pthread_attr_getstack.argtypes = (
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_size_t),
    )
    libc.pthread_attr_destroy.argtypes = (ctypes.c_void_p,)
    # pthread_attr_t is 56 bytes with glibc and musl on 64-bit systems (36 on
    # 32-bit); 256 leaves ample room whatever the libc's exact layout.
    attr = ctypes.create_string_buffer(256)
    if libc.pthread_getattr_np(libc.pthread_self(), attr) != 0:
        return None
    try:
        low = ctypes.c_void_p()
        size = ctypes.c_size_t()
        if libc.pthread_attr_getstack(attr, ctypes.byref(low), ctypes.byref(size)) != 0:
            return None
    finally:
        libc.pthread_attr_destroy(attr)
    if not low.value or not size.value:
        return None
    return low.value + size.value, int(_HEAD_ROOM * size.value)


# Forking thread's ident -> whether it runs on R's stack (per thread: two
# threads may fork at once).
_forking: dict[int, bool] = {}


def _before_fork() -> None:
    _forking[threading.get_ident()] = _on_r_stack()


def _after_fork_in_child() -> None:
    # The forking thread is the child's main thread, but its stack is still
    # the one it had: R's R_CStackStart describes it only if it was the
    # thread on R's stack.  A cached answer for this thread stays true.
    _state["main_on_r_stack"] = _forking.pop(threading.get_ident(), True)
    _forking.clear()


def _after_fork_in_parent() -> None:
    _forking.pop(threading.get_ident(), None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def _on_r_stack() -> bool:
    """Whether this thread runs on the stack R measured at start-up (the
    process's original main thread)."""
    return threading.current_thread() is threading.main_thread() and bool(
        _state.get("main_on_r_stack", True)
    )


def _this_thread_stack() -> tuple[int, int] | None:
    try:
        return _threads.stack  # type: ignore[no-any-return]
    except AttributeError:
        pass
    try:
        if _on_r_stack():
            stack = _main_thread_stack()
        else:
            stack = _other_thread_stack()
    except Exception:  # a libc or an R that answers oddly: leave this thread unchecked
        stack = None
    _threads.stack = stack
    return stack


def enter() -> bool:
    """Switch R's C-stack check on for the R call about to be made.

    Call with the session lock held and R started.  True if :func:`leave`
    must follow (not for a nested call, nor for a thread left unchecked).
    """
    if _state["on"]:
        return False
    stack = _this_thread_stack()
    if stack is None:
        return False
    start, limit = stack
    openrlib = _rlib()
    if "r_start" not in _state:
        _state["r_start"] = int(openrlib.ffi.cast("uintptr_t", openrlib.rlib.R_CStackStart))
    _state["on"] = True
    openrlib.rlib.R_CStackStart = openrlib.ffi.cast("uintptr_t", start)
    openrlib.rlib.R_CStackLimit = openrlib.ffi.cast("uintptr_t", limit)
    return True


def leave() -> None:
    """Switch the check off again and give R back its own stack start."""
    openrlib = _rlib()
    # After an overflow R raised the limit a little to handle the error and
    # put it back when the error unwound; switching it off covers both.
    openrlib.rlib.R_CStackLimit = openrlib.ffi.cast("uintptr_t", _UNCHECKED)
    openrlib.rlib.R_CStackStart = openrlib.ffi.cast("uintptr_t", _state["r_start"])
    _state["on"] = False
