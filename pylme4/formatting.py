"""Text and HTML shown to people.

Printed forms of results are R's own output (captured when the result is
made), so they match R byte for byte; this module only wraps them for other
displays and formats the few tables that have no R counterpart.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from typing import Any

from .errors import _PACKAGE_DIR, ArgumentTypeError


def pre_html(text: str) -> str:
    """R's fixed-width printout as an HTML block for notebooks."""
    return f"<pre>{html.escape(text)}</pre>"


def r_print(table: object) -> str:
    """R's printout of a pandas DataFrame or Series, e.g. a ``coef()`` table.

    The values go to R with the index as row names (a Series' index as
    names) and R's own ``print()`` lays them out, so the text reads exactly as
    the same table does in R (7 significant digits, R's column alignment).
    A frame with pandas' default index (0, 1, ...) has R's automatic row
    names 1, 2, ..., as the same data frame has in R.
    """
    import pandas as pd

    from ._r.call import r_value

    if isinstance(table, pd.DataFrame):
        index = table.index
        automatic = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
        return r_value(
            "pylme4_print_frame",
            table,
            [str(i + 1) if automatic else str(i) for i in index],
            doing="printing a table",
        )
    if isinstance(table, pd.Series):
        return r_value(
            "pylme4_print_vector",
            table.reset_index(drop=True),
            [str(i) for i in table.index],
            doing="printing a vector",
        )
    raise ArgumentTypeError(
        f"r_print() prints a pandas DataFrame or Series, not {type(table).__name__}"
    )


def caller_names(objects: Sequence[Any], taken: set[str], depth: int = 2) -> list[str | None]:
    """The names the user's code binds ``objects`` to, as R takes a model's
    name from the call (``anova(m0, fit)``, ``boot.ci(b)``); None where there
    is no single name.

    ``depth`` counts frames from here to the user's: 2 is the caller of the
    function that calls this one.  Only that frame is read, and only when it is outside
    pylme4 (pylme4's own calls get positional names).  A name must be the
    only one bound to its object there (its locals and its module's globals); names starting with "_" are skipped, as IPython binds ``_``,
    ``_7``, ... to recent results.  A name is used once, and never when a
    keyword argument already has it.
    """
    frame = sys._getframe(depth)
    try:
        if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            return [None] * len(objects)
        # A function's own names hide the module's, as Python looks them up.
        scope = {**frame.f_globals, **frame.f_locals}
        found: dict[int, list[str]] = {}
        wanted = {id(obj) for obj in objects}
        for name, value in scope.items():
            if not name.startswith("_") and id(value) in wanted:
                found.setdefault(id(value), []).append(name)
    finally:
        del frame
    names: list[str | None] = []
    for obj in objects:
        candidates = found.get(id(obj), [])
        single = candidates[0] if len(candidates) == 1 else None
        if single is None or single in taken or sum(o is obj for o in objects) > 1:
            names.append(None)
        else:
            names.append(single)
            taken.add(single)
    return names


class RPrinted:
    """Mixin of results whose printed form is R's own text: ``str(x)`` and
    ``repr(x)`` are exactly what R prints (so a plain or IPython prompt shows
    what R's prompt shows), and notebooks show that text in a ``<pre>`` block.

    The text is ``_r_text()``: by default the result's ``text`` field (R's
    printout captured when the result was made); a class that gets its text
    otherwise overrides ``_r_text``.  ``brief()`` is a one-line identity
    (class and size) for logs and lists of results.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # @dataclass adds its field dump as __repr__ unless the class itself
        # defines one; putting R's text in the class's own namespace (before
        # the decorator runs) keeps R's text the repr of every dataclass result.
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = RPrinted.__repr__  # type: ignore[method-assign]

    def _r_text(self) -> str:
        text: str = self.text  # type: ignore[attr-defined]
        return text

    def __str__(self) -> str:
        return self._r_text()

    def __repr__(self) -> str:
        return self._r_text()

    def brief(self) -> str:
        """A one-line identity of the result, e.g. ``<LmerFit y ~ x + (1 | g) ...>``."""
        return f"<{type(self).__name__}>"

    def _repr_html_(self) -> str:
        return pre_html(self._r_text())
