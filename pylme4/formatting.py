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
