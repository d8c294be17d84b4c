"""Exceptions and warnings raised by pylme4.

Every exception pylme4 raises on purpose derives from :class:`PylmeError`::

    PylmeError
    +-- FormulaError (also a ValueError)   the formula is not valid R, has no
    |                                      response or random-effects term,
    |                                      or names something not in the data
    +-- DataError (also a ValueError)      the data cannot be used as given:
    |                                      not a data frame, empty, bad column
    |                                      names or types, a non-numeric or
    |                                      all-missing response, bad weights,
    |                                      infinite values, too few levels, ...
    +-- ArgumentError (also a ValueError)  an argument has a value pylme4
    |                                      cannot use (ddf="KR", nAGQ=101, ...)
    |   +-- ArgumentLookupError            no such term, group or column (also a
    |                                      KeyError and an IndexError)
    +-- ArgumentTypeError (a TypeError)    an argument has the wrong type
    |                                      (workers="2", executor="pool", ...)
    +-- RError (also a RuntimeError)       R stopped with an error pylme4 did
    |                                      not foresee
    +-- RNotAvailableError (ImportError)   R, an R package or rpy2 is missing;
                                           the message has the install command

Messages are one sentence that names the culprit (the column, the factor,
the term, the argument).  Most come from checks made before R is called
(``checks.py``); R errors that still happen are translated by the rules in
``r_errors.py`` (:func:`pylme4.r_errors.translate_r_error`) and, where R
cannot say which column or factor is at fault, a rule's explainer finds it
in the data.  Exceptions that came from
R keep R's own text in ``exc.r_message``.  The R session keeps working after
any of them.

R's warnings and messages are kept on results as :class:`RCondition` records
and re-raised as Python warnings: :class:`ConvergenceWarning` for lme4's
convergence checks, :class:`SingularFitWarning` for "boundary (singular) fit",
:class:`RWarning` for any other R warning and :class:`RMessage` for any other
R message.  Ctrl-C while R computes raises KeyboardInterrupt, as anywhere in
Python.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


class PylmeError(Exception):
    """Base class of every exception pylme4 raises on purpose.

    An error that came from R also has :attr:`r_message` (R's own text) and
    :attr:`conditions` (the warnings and messages R gave before it); they are
    declared here and set only then, so ``hasattr(exc, "r_message")`` tells
    an error from R from one pylme4 raised itself.
    """

    r_message: str
    conditions: tuple[RCondition, ...]


class FormulaError(PylmeError, ValueError):
    """The model formula cannot be parsed or refers to unknown variables."""


class DataError(PylmeError, ValueError):
    """The data (or weights, offset, newdata) cannot be used as given."""


class ArgumentError(PylmeError, ValueError):
    """An argument has a value pylme4 cannot use; the message names the argument.

    Also a ``ValueError``, so ``except ValueError`` written before pylme4 had
    its own classes keeps working.
    """


class ArgumentTypeError(PylmeError, TypeError):
    """An argument has a type pylme4 cannot use; the message names the argument.

    Also a ``TypeError``, so existing ``except TypeError`` clauses keep working.
    """


class ArgumentLookupError(ArgumentError, KeyError, IndexError):
    """An argument names a term, group or column that does not exist (or a
    position out of range).

    Also a ``KeyError`` and an ``IndexError``, as these lookups raised before.
    """

    # KeyError's str() would show the sentence in quotes.
    __str__ = BaseException.__str__


class RError(PylmeError, RuntimeError):
    """R stopped with an error.

    ``str(exc)`` is one sentence for people; :attr:`r_message` is R's own text.
    """

    def __init__(self, message: str, r_message: str | None = None) -> None:
        super().__init__(message)
        self.r_message = r_message if r_message is not None else message


class RNotAvailableError(PylmeError, ImportError):
    """R, an R package, or rpy2 is not available; the message says how to install it."""


class RWarning(UserWarning):
    """A warning R gave while pylme4 was calling it."""


class ConvergenceWarning(RWarning):
    """lme4's convergence checks failed (gradient, Hessian, eigenvalues, optimizer code)."""


class SingularFitWarning(RWarning):
    """lme4 reported a boundary (singular) fit: a variance is (close to) zero
    or a correlation is (close to) +/-1."""


class RMessage(UserWarning):
    """An informational message R gave while pylme4 was calling it."""


@dataclass(frozen=True)
class RCondition:
    """A warning or message R signalled during a call, kept as data."""

    kind: Literal["warning", "message"]
    text: str

    @property
    def category(self) -> type[Warning]:
        """The Python warning class this condition is raised as."""
        if _SINGULAR.search(self.text):
            return SingularFitWarning
        if _CONVERGENCE.search(self.text):
            return ConvergenceWarning
        return RWarning if self.kind == "warning" else RMessage

    def __str__(self) -> str:
        return self.text


_SINGULAR = re.compile(r"boundary \(singular\) fit")
_CONVERGENCE = re.compile(
    r"failed to converge|convergence code|unidentifiable|eigenvalue|Hessian"
    r"|scaled gradient|max\|grad\||iteration limit|did not converge|failure to converge",
    re.IGNORECASE,
)


# Warnings point at the first frame outside this directory: the user's line.
_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")


def warn(text: str, category: type[Warning]) -> None:
    """``warnings.warn(text, category)`` pointing at the user's line (the
    innermost caller outside pylme4), however deep inside pylme4 it is called."""
    frame = sys._getframe(1)  # the caller, which is stacklevel 2 for warnings.warn
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(text, category, stacklevel=level)


def emit(conditions: tuple[RCondition, ...]) -> None:
    """Raise each R condition as a Python warning of its category, pointing
    at the user's line (see :func:`warn`)."""
    for cond in conditions:
        warn(cond.text, cond.category)


def one_line(text: object) -> str:
    """``str(text)`` on one line: runs of whitespace, newlines too, as one space."""
    return " ".join(str(text).split())


def suggestion(name: str, choices: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" with the choice closest to ``name`` (or equal but for case), or ""."""
    import difflib

    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _initials(text: str) -> str:
    return "".join(part[0] for part in re.split(r"[-_ .]+", text) if part).lower()


def did_you_mean(value: object, allowed: Iterable[object]) -> str:
    """ " (did you mean 'x'?)" for a mistyped choice, or "".

    Besides close spellings (:func:`suggestion`) it recognises a different
    case ("i" -> 'I'), initials ("KR" -> 'Kenward-Roger') and prefixes
    ("satt" -> 'Satterthwaite'), as people abbreviate these.
    """
    if not isinstance(value, str) or not value:
        return ""
    names = [a for a in allowed if isinstance(a, str)]
    low = value.lower()
    close = (
        [a for a in names if a.lower() == low]
        or [a for a in names if len(a) > 1 and _initials(a) == low]
        or [a for a in names if len(low) >= 3 and a.lower().startswith(low)]
    )
    return f" (did you mean {close[0]!r}?)" if close else suggestion(value, names)


def choice_error(name: str, value: object, allowed: Iterable[object]) -> ArgumentError:
    """``name must be one of 'a', 'b' or 'c', not 'x' (did you mean 'a'?)``."""
    allowed = list(allowed)
    shown = [repr(a) for a in allowed]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    some = "one of " if len(shown) > 2 else ""
    hint = did_you_mean(value, allowed)
    return ArgumentError(f"{name} must be {some}{listed}, not {value!r}{hint}")
