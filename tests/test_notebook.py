"""examples/lecture.ipynb runs in a fresh Jupyter kernel: R's summaries as
text, every figure as a PNG (no %matplotlib magic), the progress bar as
tqdm's notebook widget."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pytest
from conftest import r_printed
from lecture_r import CORRELATED, SLEEP

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "lecture.ipynb"


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> list:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # Saved without outputs: what a newcomer opens is what this test runs.
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    # The kernel is ipykernel's python3 spec: this Python, with this
    # process's environment (PYTHONPATH included), so it imports this pylme4.
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}},
    )
    client.execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def _source(cell) -> str:
    return "".join(cell.source)


def _stdout(cell) -> str:
    return "".join(
        o.get("text", "")
        for o in cell.outputs
        if o.output_type == "stream" and o.get("name") == "stdout"
    )


def _cell(cells: list, fragment: str):
    (cell,) = [c for c in cells if fragment in _source(c)]
    return cell


def test_no_cell_raises(cells):
    for cell in cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], _source(cell)


def _value(cell, mime: str) -> str:
    """The cell's value as Jupyter shows it in ``mime``."""
    (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result["data"][mime]


def test_summaries_are_rs_printed_text(cells):
    lm_cell = _cell(cells, "fit_complete.summary()")
    lmer_cell = _cell(cells, 'summary(ddf="Satterthwaite")')
    expected = {
        "lm": r_printed(SLEEP + "summary(lm(reaction ~ days, data = df.sleep))"),
        "lmer": r_printed(
            SLEEP + f"m <- lmerTest::lmer({CORRELATED}, data = df.sleep)\n"
            "summary(m, ddf = 'Satterthwaite')"
        ),
    }
    for name, cell in (("lm", lm_cell), ("lmer", lmer_cell)):
        # the summary is the cell's value: R's text as plain text (IPython's
        # pretty printer drops a final newline) and as an HTML <pre> block
        assert _value(cell, "text/plain") == expected[name].rstrip("\n"), name
        assert _value(cell, "text/html") == f"<pre>{html.escape(expected[name])}</pre>", name
        assert not _stdout(cell), name


@pytest.mark.parametrize(
    "fragment",
    [
        "plot.pooling(",
        "plot.shrinkage_density(",
        "plot.shrinkage(fit_lmer)",
        "plot.bootstrap_lines(",
    ],
)
def test_figures_display_as_png(cells, fragment):
    results = [o for o in _cell(cells, fragment).outputs if o.output_type == "execute_result"]
    (result,) = results
    png = base64.b64decode(result["data"]["image/png"])
    assert png.startswith(b"\x89PNG")
    assert len(png) > 5000  # a drawn figure, not an empty canvas


def test_progress_is_the_notebook_widget(cells):
    pytest.importorskip("ipywidgets")
    outputs = _cell(cells, "boot_mer(").outputs
    widgets = [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widgets, [o.output_type for o in outputs]
    # No text bar on stderr next to the widget.
    assert not [o for o in outputs if o.output_type == "stream" and o.get("name") == "stderr"]
