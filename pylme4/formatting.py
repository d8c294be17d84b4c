"""Text and HTML shown to people.

Printed forms of results are R's own output (captured when the result is
made), so they match R byte for byte; this module only wraps them for other
displays and formats the few tables that have no R counterpart.
"""

from __future__ import annotations

import html


def pre_html(text: str) -> str:
    """R's fixed-width printout as an HTML block for notebooks."""
    return f"<pre>{html.escape(text)}</pre>"
