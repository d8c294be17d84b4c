"""The embedded R of a pylme4 worker process (see :mod:`pylme4.parallel`)."""

from __future__ import annotations

from . import session


def start() -> None:
    """Start R in a worker process and tune it for batch work.

    R calls its "process events" hook hundreds of times per model fit (from
    R_CheckUserInterrupt); rpy2 answers each call in Python, which costs
    about 5% of a refit.  A worker has no events to process (no graphics
    device, no console, SIGINT ignored), so it runs without the hook.
    """
    session.helpers()
    from rpy2.rinterface_lib import openrlib

    with session.LOCK:
        openrlib.rlib.ptr_R_ProcessEvents = openrlib.ffi.NULL
