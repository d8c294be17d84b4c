"""Large R objects (a fitted model) that every task of a call needs.

A fit is about a megabyte as R's ``serialize()`` writes it.  It travels as a
:class:`Shared` value; each process keeps the R objects it unpacked, by key,
so later tasks refer to them for free:

- pylme4's own workers (same machine) read the bytes from a file the main
  process writes once per object (:func:`stage`): each worker reads it once.
- A foreign Executor (Dask, a process pool) gets the bytes with each task;
  each of its processes unpacks them once and keeps the object.

No rpy2 at import: a worker imports this before it knows R can start.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..errors import PylmeError

# How many shared R objects a process keeps (fits are large; calls rarely
# alternate between more than a few).
_CACHE_SIZE = 4


class SharedObjectError(PylmeError, RuntimeError):
    """A worker was sent a reference to an R object it cannot find."""


@dataclass(frozen=True)
class Shared:
    """An R object sent to worker processes once per worker.

    ``key`` identifies the object (a digest of its bytes); ``payload`` is R's
    ``serialize()`` of it.
    """

    key: str
    payload: bytes


@dataclass(frozen=True)
class Staged:
    """A :class:`Shared` whose bytes wait in a file on this machine."""

    key: str
    path: str


def share(handle: Any) -> Shared:
    """A :class:`Shared` for an R object (serialized once, here)."""
    from .._r.call import serialize

    payload = serialize(handle)
    return Shared(hashlib.sha1(payload).hexdigest(), payload)


def stage(value: Any, folder: str) -> Any:
    """``value`` as pylme4's local workers receive it: a :class:`Shared`
    becomes a :class:`Staged` (its bytes written to ``folder`` once)."""
    if not isinstance(value, Shared):
        return value
    path = os.path.join(folder, f"shared-{value.key}")
    if not os.path.exists(path):
        partial = f"{path}.{os.getpid()}.part"
        with open(partial, "wb") as f:
            f.write(value.payload)
        os.replace(partial, path)  # workers never see half a file
    return Staged(value.key, path)


# The R objects this process unpacked, by key (in workers, and in the main
# process when an Executor runs tasks in threads).
_objects: OrderedDict[str, Any] = OrderedDict()
_objects_lock = threading.Lock()

if hasattr(os, "register_at_fork"):
    # A forked child keeps the objects (its R is a copy of the parent's), but
    # not a thread that held the lock at the fork.
    os.register_at_fork(after_in_child=_objects_lock._at_fork_reinit)  # type: ignore[attr-defined]


def resolve(value: Any) -> Any:
    """The R object a :class:`Shared` or :class:`Staged` stands for in this
    process; other values unchanged.  Task arguments pass through this."""
    if not isinstance(value, (Shared, Staged)):
        return value
    with _objects_lock:
        handle = _objects.get(value.key)
        if handle is not None:
            _objects.move_to_end(value.key)
            return handle
    if isinstance(value, Staged):
        try:
            with open(value.path, "rb") as f:
                payload = f.read()
        except OSError as exc:
            raise SharedObjectError(
                f"a worker could not read the shared R object {value.key[:8]}: {exc}"
            ) from None
    else:
        payload = value.payload
    from .._r.call import unserialize

    handle = unserialize(payload)
    with _objects_lock:
        _objects[value.key] = handle
        while len(_objects) > _CACHE_SIZE:
            _objects.popitem(last=False)
    return handle
