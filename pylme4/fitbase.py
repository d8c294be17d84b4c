"""What pylme4's own modules may ask of a fit, and the methods that forward to them.

Post-estimation modules (:mod:`pylme4.inference`, :mod:`pylme4.bootstrap`,
:mod:`pylme4.allfit`) take a fit through the protocols below, never through
:mod:`pylme4.results` (which sits below them); no module outside a fit's own
uses its private members, only what these protocols name.  The fits (:class:`pylme4.LmerFit`, :class:`pylme4.GlmerFit`,
:class:`pylme4.linear.LmFit`) implement them with :class:`RFitRows`.

In the other direction, :func:`forward` lets a fit class offer a module
function as a method (``fit.boot_mer(...)`` is ``bootstrap.boot_mer(fit,
...)``) without importing that module: the function is looked up on first
call, and ``help()`` / ``inspect.signature`` show its real signature and
docstring.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ._r.convert import RHandle
    from .errors import RCondition

T = TypeVar("T")


@runtime_checkable
class RFit(Protocol):
    """Any fit that keeps its R object (``lm``, ``lmer``, ``glmer``)."""

    # Read-only: the fits are frozen dataclasses.
    @property
    def formula(self) -> str: ...

    @property
    def data_name(self) -> str: ...

    @property
    def messages(self) -> tuple[RCondition, ...]: ...

    @property
    def r_handle(self) -> RHandle:
        """The fitted R object, to pass to ``r_call`` helpers."""
        ...

    @property
    def variables(self) -> tuple[str, ...]:
        """The data's columns the formula uses."""
        ...

    @property
    def data_index(self) -> pd.Index:
        """The index of the data frame the fit was given (every row)."""
        ...

    @property
    def used_index(self) -> pd.Index:
        """The index of the data's rows the fit used (after R's na.action)."""
        ...

    def row_index(self, n: int) -> pd.Index:
        """The index of a per-row result of length ``n``."""
        ...

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per fit and ``key``; later calls return that answer."""
        ...

    @classmethod
    def from_r_object(
        cls,
        handle: RHandle,
        conditions: tuple[RCondition, ...],
        index: pd.Index,
        variables: tuple[str, ...],
        data: pd.DataFrame | None = None,
    ) -> Any:
        """A fit of this class from a fitted R object (a refit of such a fit);
        ``data``: the DataFrame it was fitted to, when there is one."""
        ...


@runtime_checkable
class MerFitLike(RFit, Protocol):
    """A model fitted by lme4 (``merMod``): what :class:`pylme4.MerFit` offers."""

    @property
    def nobs(self) -> int: ...

    @property
    def ngroups(self) -> Mapping[str, int]: ...

    @property
    def sigma(self) -> float: ...

    @property
    def theta(self) -> np.ndarray: ...

    def fixef(self) -> pd.Series: ...

    @property
    def loglik(self) -> float: ...

    def get_data(self) -> pd.DataFrame:
        """The data the model was fitted to (lme4's ``getData``)."""
        ...


class LmerFitLike(MerFitLike, Protocol):
    """A linear mixed model: adds lmerTest's version of the fit."""

    def lmertest_handle(self) -> RHandle:
        """lmerTest's ``as_lmerModLmerTest()`` of the fit (made once per fit)."""
        ...


class RFitRows:
    """Mixin of the fits that keep an R object (``lm``, ``lmer``, ``glmer``):
    a cache of R's answers, and the row index of per-row results; it
    implements :class:`RFit` for the dataclass using it, which declares the
    fields below."""

    _index: pd.Index
    _used: np.ndarray
    _cache: dict[str, Any]
    _lock: Any
    _handle: RHandle
    _variables: tuple[str, ...]

    def _cached(self, key: str, compute: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def _row_index(self, n: int) -> pd.Index:
        """The index of a per-row result of length ``n``: every row of the
        data (na.exclude pads with NA), the rows used (na.omit), or positions."""
        if n == len(self._index):
            return self._index
        if n == int(self._used.sum()):
            return self._index[self._used]
        # na.exclude pads to the rows a subset kept
        subset = getattr(self, "_subset_rows", None)
        if subset is not None and n == int(subset.sum()):
            return self._index[subset]
        import pandas as pd

        return pd.RangeIndex(n)

    # -- the RFit interface (for pylme4's modules) --------------------------

    @property
    def r_handle(self) -> RHandle:
        """The fitted R object (for pylme4's modules: pass it to R helpers)."""
        return self._handle

    @property
    def variables(self) -> tuple[str, ...]:
        """The data's columns the formula uses."""
        return self._variables

    @property
    def data_index(self) -> pd.Index:
        """The index of the data frame the fit was given (every row)."""
        return self._index

    @property
    def used_index(self) -> pd.Index:
        """The index of the data's rows the fit used (after R's na.action)."""
        return self._index[self._used]

    def row_index(self, n: int) -> pd.Index:
        """The index of a per-row result of length ``n``: every row of the
        data (na.exclude pads with NA), the rows used (na.omit), or positions."""
        return self._row_index(n)

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per fit and ``key`` (thread-safe); later calls
        return the first answer (for pylme4's modules)."""
        result: T = self._cached(key, compute)
        return result

    @classmethod
    def from_r_object(
        cls,
        handle: RHandle,
        conditions: tuple[RCondition, ...],
        index: pd.Index,
        variables: tuple[str, ...],
        data: pd.DataFrame | None = None,
    ) -> Any:
        """A fit of this class from a fitted R object (e.g. a bootstrap refit),
        for data with this ``index`` and ``variables`` (and, when given, the
        DataFrame ``data`` it was fitted to, which the fit keeps)."""
        if data is None:
            return cls._from_r(handle, conditions, index, variables)  # type: ignore[attr-defined]
        return cls._from_r(handle, conditions, index, variables, data=data)  # type: ignore[attr-defined]


class forward:  # noqa: N801 - reads as a function call in class bodies
    """A method that is ``module.name(self, ...)``, the module imported on first use.

    ``boot_mer = forward("pylme4.bootstrap", "boot_mer")`` in a class body
    makes ``fit.boot_mer(...)`` call ``pylme4.bootstrap.boot_mer(fit, ...)``
    without the class's module importing ``pylme4.bootstrap`` (which imports
    it).  ``fit.boot_mer`` is the function bound to the fit, a real method:
    ``help()`` and ``inspect.signature`` show its signature and docstring.
    Type checkers see the function itself (``if TYPE_CHECKING: boot_mer =
    bootstrap.boot_mer``).
    """

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        function = getattr(importlib.import_module(self.module), self.name)
        return function if obj is None else function.__get__(obj, owner)


# ---------------------------------------------------------------------------
# Scalars of a fit: numbers, with the old method spelling kept for a while
# ---------------------------------------------------------------------------


class _Callable:
    """A fit's scalar (``fit.aic``) that can still be called as the method it
    once was (``fit.aic()``), with a DeprecationWarning.

    The scalars are attributes because they are facts of the fit, computed
    with it, as ``fit.sigma`` and ``fit.nobs`` always were; a number that is
    also callable keeps every old ``fit.loglik()`` working, unlike a property
    alone, and unlike a method it prints, compares and formats as a number.
    """

    _name: str
    # The number type the subclass also is (float, int): what a call returns.
    _kind: type

    def __new__(cls, value: Any, name: str) -> Any:
        self = super().__new__(cls, value)  # type: ignore[call-arg]
        self._name = name
        return self

    def __call__(self) -> Any:
        from .errors import warn

        warn(
            f"fit.{self._name}() is deprecated: fit.{self._name} is the number "
            "itself (write it without the parentheses)",
            DeprecationWarning,
        )
        return self._plain()

    def _plain(self) -> Any:
        return self._kind(self)

    def __reduce__(self) -> Any:
        return (type(self), (self._plain(), self._name))


class Scalar(_Callable, float):
    """A float attribute of a fit (``sigma``, ``loglik``, ``aic``, ``bic``,
    ``deviance``, ``reml_criterion``); see :class:`_Callable`."""

    _kind = float


class Count(_Callable, int):
    """An integer attribute of a fit (``nobs``); see :class:`_Callable`."""

    _kind = int


def scalar(value: float | None, name: str) -> Scalar | None:
    """``value`` as the fit's attribute ``name`` (None stays None: R's NULL)."""
    return None if value is None else Scalar(float(value), name)
