"""Text and HTML shown to people.

Printed forms of results are R's own output (captured when the result is
made), so they match R byte for byte; this module only wraps them for other
displays and formats the few tables that have no R counterpart.
"""

from __future__ import annotations

import html

from .errors import ArgumentTypeError


def pre_html(text: str) -> str:
    """R's fixed-width printout as an HTML block for notebooks."""
    return f"<pre>{html.escape(text)}</pre>"


def r_print(table: object) -> str:
    """R's printout of a pandas DataFrame or Series, e.g. a ``coef()`` table.

    The values go to R with the index as row names (a Series' index as
    names) and R's own ``print()`` lays them out, so the text reads exactly as
    the same table does in R (7 significant digits, R's column alignment).
    """
    import pandas as pd

    from ._r.call import r_value

    if isinstance(table, pd.DataFrame):
        return r_value(
            "pylme4_print_frame",
            table,
            [str(i) for i in table.index],
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
