"""The descriptions of parameters that several fitting functions share.

Each is written once here and put into the docstrings when the module that
defines the function is imported (:func:`shared_params`), so ``help()`` and
IDEs show the whole text while there is one place to change it.  In a
docstring, a line that is only ``{name}`` becomes the numpydoc entry of that
parameter: its name, then its description indented under it.
``{control: glmerControl}`` names the control function.  Lines indented under
the placeholder go on with the description (what one function adds).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def _control(fun: str) -> str:
    return f"""\
        ``{fun}()`` settings as a dict, e.g. ``{{"optimizer": "bobyqa",
        "optCtrl": {{"maxfun": 1e5}}}}``, or R code such as
        ``'{fun}(optimizer = "bobyqa")'``."""


PARAMS: dict[str, str | Callable[[str], str]] = {
    "data": """\
        A pandas DataFrame (polars and Arrow tables are converted once).""",
    "data_name": """\
        The name R binds the data to.  R's printout shows it: after ``Data:``
        for a mixed model, in the call (``data = ...``) for ``lm()``,
        ``glm()`` and ``lmList()``.""",
    "weights, offset": """\
        A column name, or an array with one value per row (by position; a
        pandas Series is matched to the rows by its index).""",
    "na_action": """\
        ``"omit"`` (R's default), ``"exclude"`` (fitted values and residuals are
        padded with NaN for dropped rows), or ``"fail"``.""",
    "control": _control,
    "contrasts": """\
        Contrasts per factor column, e.g. ``{"condition": "contr.sum"}``.""",
    "subset": """\
        The rows to fit: one True/False per row (a boolean array by
        position, or a Series matched to the rows by its index; R's
        summary then shows ``Subset: .subset``), or an R expression such as
        ``"Days > 2"``, evaluated in the data as R's ``subset =`` is
        (one expression, checked as a formula is).""",
    "family": """\
        ``"binomial"``, ``"poisson"``, ``"Gamma"``, ``"gaussian"`` or
        ``"inverse.gaussian"`` (canonical link), a :class:`~pylme4.Family`
        naming the link (``Family("binomial", "probit")``), or R code such as
        ``'binomial(link = "cloglog")'``.  The printed call shows it as an R
        user types it (``family = binomial``).""",
    "nAGQ": """\
        Points of adaptive Gauss-Hermite quadrature: 1 (the Laplace
        approximation, lme4's default), 0 (faster, less exact), or more, up to
        100 (models with a single scalar random effect only).""",
}

# A whole line `{name}` or `{name: argument}`, with the docstring's indentation.
_PLACEHOLDER = re.compile(r"(?P<indent> *)\{(?P<name>[A-Za-z_, ]+)(?:: (?P<arg>[\w.]+))?\}")


def _entry(indent: str, name: str, arg: str | None) -> str:
    text = PARAMS[name]
    if callable(text) != (arg is not None):
        raise ValueError(
            f"the placeholder {{{name}}} takes {'an' if callable(text) else 'no'} argument"
        )
    body = text(arg) if callable(text) and arg is not None else str(text)
    return indent + name + "\n" + textwrap.indent(textwrap.dedent(body), indent + "    ")


def fill(doc: str) -> str:
    """``doc`` with each placeholder line replaced by its parameter's entry."""
    lines = []
    for line in doc.split("\n"):
        found = _PLACEHOLDER.fullmatch(line)
        if found is None:
            lines.append(line)
        elif found["name"] not in PARAMS:
            raise ValueError(f"no shared description of {found['name']!r} in pylme4.paramdocs")
        else:
            lines.append(_entry(found["indent"], found["name"], found["arg"]))
    return "\n".join(lines)


def shared_params(func: F) -> F:
    """Decorator: put the shared parameter descriptions into ``func``'s docstring."""
    if func.__doc__:
        func.__doc__ = fill(func.__doc__)
    return func
