"""Calling R: one function, under the session lock, with conditions as data.

:func:`r_call` calls one of the helpers in ``_r/R/*.R`` with Python
arguments.  Inside R the call runs under ``pylme4_capture()``: warnings and
messages are recorded and muffled, console output is captured, and an error
is returned instead of thrown.  Back in Python, an R error becomes a pylme4
exception (see :func:`pylme4.r_errors.translate_r_error`); everything else comes
back as an :class:`ROutcome`.  Ctrl-C while R runs in the main thread stops
R within moments (``interrupt.py``) and raises KeyboardInterrupt; deep
recursion is an R error, not a crash (``stack.py``); the session stays
usable after both.

Threads: every rpy2 object is made and released while :data:`session.LOCK`
is held (R's memory manager is not thread-safe); see :func:`_call_locked`.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

import rpy2.rinterface as ri
from rpy2.rinterface_lib.embedded import RRuntimeError

from ..errors import PylmeError, RCondition, RError
from ..r_errors import translate_r_error
from . import interrupt, session, stack
from .convert import RTYPES, RHandle, to_python, to_r


@dataclass(frozen=True)
class ROutcome:
    """What an R call gave back: its value and what R said meanwhile."""

    value: Any
    conditions: tuple[RCondition, ...] = ()
    output: str = ""


def _pack_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    values = [to_r(a) for a in args] + [to_r(v) for v in kwargs.values()]
    packed = ri.ListSexpVector(values)
    packed.do_slot_assign("names", ri.StrSexpVector([""] * len(args) + list(kwargs.keys())))
    return packed


def _convert(value: Any, keep: bool | tuple[str, ...]) -> Any:
    if keep is True:
        return RHandle(value)
    if not keep:
        return to_python(value)
    # A named list whose elements named in `keep` stay in R: one round trip
    # can return a new R object (a fit) together with what Python reads of it.
    return {
        name: (None if item.typeof == RTYPES.NILSXP else RHandle(item))
        if name in keep
        else to_python(item)
        for name, item in zip(value.names, value)
    }


def r_call(
    helper: str,
    *args: Any,
    doing: str,
    keep: bool | tuple[str, ...] = False,
    **kwargs: Any,
) -> ROutcome:
    """Call the R helper ``helper`` with the given arguments.

    ``doing`` describes the operation for error messages ("fitting the
    model").  With ``keep=True`` the value stays in R and comes back as an
    :class:`RHandle`; otherwise it is converted with
    :func:`pylme4._r.convert.to_python`.  With ``keep=("fit",)`` the value
    must be a named list: a dict comes back in which the elements so named
    are :class:`RHandle` and the others are converted.  Conditions raised
    before an error are attached to the exception as ``exc.conditions``.
    """
    env = session.helpers()
    with session.LOCK:
        session.release_pending()
        checked = stoppable = stopped = False
        try:
            checked = stack.enter()
            stoppable = interrupt.enter()
            outcome, error = _call_locked(env, helper, args, kwargs, doing, keep)
        except BaseException as unexpected:  # a conversion error, MemoryError, Ctrl-C, ...
            # Its traceback keeps the frames that held R objects alive; clear
            # them now, under the lock, not whenever the exception is dropped.
            _clear_frames(unexpected)
            raise
        finally:
            if stoppable:
                stopped = interrupt.leave()
            if checked:
                stack.leave()
            if stoppable:
                interrupt.deliver()
    if isinstance(error, _Escaped):
        # R stopped outside pylme4_capture's handler (setting up or ending the
        # capture): a Ctrl-C then, not an error with R's last message.
        if stopped:
            raise KeyboardInterrupt(f"interrupted while {doing}")
        raise error.error
    if error is not None:
        raise error
    assert outcome is not None
    return outcome


class _Escaped(Exception):
    """Internal: R failed outside pylme4_capture(); ``error`` says so."""

    def __init__(self, error: RError) -> None:
        super().__init__(str(error))
        self.error = error


def _call_locked(
    env: Any,
    helper: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    doing: str,
    keep: bool | tuple[str, ...],
) -> tuple[ROutcome | None, BaseException | None]:
    """The body of :func:`r_call`, run under the session lock.

    Every rpy2 object made here is a local of this frame, so all of them are
    released (``R_ReleaseObject``) when it returns, while the caller still
    holds the lock: releasing an R object while another thread runs R would
    race with R's memory manager.  Errors are returned, not raised, for the
    same reason (a raised exception's traceback would keep this frame alive).
    """
    fun = env.find(helper)
    packed = _pack_args(args, kwargs)
    try:
        result = env.find("pylme4_capture")(fun, packed)
    except RRuntimeError as failure:  # only outside the capture (e.g. interrupts)
        session.CONSOLE.clear()
        message = str(failure).strip()
        return None, _Escaped(RError(f"R failed while {doing}: {message}", str(failure)))
    value, error, kinds, texts, output, interrupted = (result[i] for i in range(6))
    if interrupted[0]:
        session.CONSOLE.clear()
        return None, KeyboardInterrupt(f"interrupted while {doing}")
    conditions = tuple(RCondition(kind, text.rstrip("\n")) for kind, text in zip(kinds, texts))
    console = "".join(session.CONSOLE)
    session.CONSOLE.clear()
    printed = "\n".join(output)
    if console:
        printed = f"{printed}\n{console}" if printed else console
    if error.typeof != RTYPES.NILSXP:
        exc: PylmeError = translate_r_error(error[0], doing)
        exc.conditions = conditions
        return None, exc
    converted = _convert(value, keep)
    return ROutcome(converted, conditions, printed), None


def _clear_frames(exc: BaseException) -> None:
    """Drop the local variables of the finished frames in ``exc``'s tracebacks
    (and those of the exceptions it chains), releasing the R objects they held."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        todo += [e.__cause__, e.__context__]


def r_value(helper: str, *args: Any, doing: str, **kwargs: Any) -> Any:
    """The converted value of :func:`r_call`, for helpers that warn about nothing."""
    return r_call(helper, *args, doing=doing, **kwargs).value


def run_code(code: str) -> Any:
    """Evaluate R code given as text and return the converted value.

    For tests and cross-checks against R itself; library code calls helpers.
    """
    return r_value("pylme4_run_code", code, doing="running R code")


def run_function(code: str, *args: Any) -> Any:
    """Apply an R function written as text (``"function(d) lapply(d, class)"``)
    to Python arguments and return the converted value.  For tests."""
    return r_value("pylme4_call_code", code, list(args), doing="running R code")


def serialize(handle: RHandle) -> bytes:
    """R's serialize() of an object: how fits travel to worker processes and pickles."""
    return r_value("pylme4_serialize", handle, doing="serializing an R object")


def unserialize(payload: bytes) -> RHandle:
    """The R object that :func:`serialize` wrote."""
    return r_call("pylme4_unserialize", payload, doing="restoring an R object", keep=True).value
