"""Ctrl-C during long work: noted, then acted on between steps."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

from .._r.interrupt import interrupts_r


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


def _after_fork_in_child() -> None:
    # A block of the parent's forking thread is not the child's to end.
    global _active
    _active = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def interruptible() -> Iterator[Interrupt]:
    """Note Ctrl-C instead of raising it at once; callers check between steps.

    Long operations made of many R calls want to stop cleanly between them,
    at a point where their state is consistent: inside this block SIGINT
    sets a flag, which they check between R calls (every chunk of refits,
    every 0.1 s while waiting for workers).  An R call running in this
    process when the key is pressed is stopped too (``_r/interrupt.py``):
    it raises KeyboardInterrupt and leaves R as it was before the call.
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

    # Marked: an R call stopped midway is a clean point to end the work at
    # too (it raises KeyboardInterrupt and leaves R as before the call).
    @interrupts_r
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
