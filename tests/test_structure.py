"""The structure of the package (issue 14): fits offer the post-estimation
functions as methods without repeating them, results print R's text through
one mixin, and warnings raised deep inside pylme4 point at the user's line."""

from __future__ import annotations

import html
import inspect
import re
import warnings

import pytest
from conftest import r_printed

import pylme4
from pylme4 import allfit, bootstrap, errors, inference, paramdocs, profiles
from pylme4.fitbase import LmerFitLike, MerFitLike, RFit
from pylme4.formatting import RPrinted

FORWARDED = [
    ("boot_mer", bootstrap.boot_mer),
    ("all_fit", allfit.all_fit),
    ("check_convergence", allfit.check_convergence),
    ("confint", inference.confint),
    ("profile", profiles.profile),
    ("simulate", inference.simulate),
    ("anova", inference.lmertest_anova),
    ("ranova", inference.ranova),
]


@pytest.fixture(scope="module")
def sleep_fit() -> pylme4.LmerFit:
    sleep = pylme4.datasets.load("sleepstudy")
    return pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")


@pytest.mark.parametrize(("name", "function"), FORWARDED)
def test_forwarded_methods_are_the_module_functions(sleep_fit, name, function):
    method = getattr(sleep_fit, name)
    assert method.__func__ is function and method.__self__ is sleep_fit
    # help() and IDEs see the function's own signature (without the fit) and docstring
    params = list(inspect.signature(function).parameters.values())[1:]
    assert list(inspect.signature(method).parameters.values()) == params
    assert inspect.getdoc(method) == inspect.getdoc(function)
    assert getattr(pylme4.LmerFit, name) is function


def test_forwarded_method_gives_the_function_result(sleep_fit):
    assert str(sleep_fit.anova(type=2)) == str(inference.lmertest_anova(sleep_fit, type=2))
    assert str(sleep_fit.anova(type=2)) == r_printed(
        "m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), lme4::sleepstudy)\n"
        "anova(m, type = 2)"
    )


def test_fits_implement_the_fit_protocols(sleep_fit):
    assert isinstance(sleep_fit, MerFitLike) and isinstance(sleep_fit, LmerFitLike)
    lm = pylme4.lm("Reaction ~ Days", pylme4.datasets.load("sleepstudy"))
    assert isinstance(lm, RFit) and not isinstance(lm, MerFitLike)
    assert sleep_fit.row_index(sleep_fit.nobs).equals(sleep_fit.used_index)
    assert sleep_fit.variables == ("Reaction", "Days", "Subject")


def test_results_print_r_text_and_notebooks_show_it(sleep_fit):
    shown = [sleep_fit, sleep_fit.summary(), sleep_fit.anova()]
    for result in shown:
        assert isinstance(result, RPrinted)
        assert result._repr_html_() == f"<pre>{html.escape(str(result))}</pre>"
    assert str(sleep_fit) == r_printed(
        "lme4::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)"
    )
    # a prompt shows R's text too (repr); brief() is the one-line identity
    for result in shown:
        assert repr(result) == str(result)
    assert sleep_fit.brief().startswith("<LmerFit Reaction ~ Days + (Days | Subject)")


def test_warnings_from_deep_inside_point_at_the_users_line(sleep_fit):
    sleep = pylme4.datasets.load("sleepstudy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        pylme4.lmer("Reaction ~ Days + (1 | Subject) + (0 + Days | Days)", sleep)
    assert any("singular" in str(w.message) for w in caught)
    assert caught[0].filename == __file__ and caught[0].lineno == line
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        errors.warn("a warning", UserWarning)
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)


def test_developing_md_shows_the_layers_make_lint_checks():
    """docs/developing.md copies pyproject.toml's layers for the newcomer;
    this keeps the copy true."""
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    text = (root / "docs" / "developing.md").read_text(encoding="utf-8")
    assert "```\n" + "\n> ".join(layers) + "\n```\n" in text


def test_every_r_helper_is_defined_once():
    """All of pylme4/_r/R/*.R is sourced into one environment: a helper
    defined in two files would silently replace the other."""
    import re
    from collections import Counter
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "pylme4" / "_r" / "R"
    names = Counter(
        name
        for source in sorted(folder.glob("*.R"))
        for name in re.findall(
            r"^([A-Za-z_.][\w.]*)\s*<-\s*function\b", source.read_text(encoding="utf-8"), re.M
        )
    )
    assert [name for name, count in names.items() if count > 1] == []


FITTING = ["lmer", "glmer", "glmer_nb", "nlmer", "lm", "glm", "lm_list"]


@pytest.mark.parametrize("name", FITTING)
def test_help_of_a_fitting_function_describes_every_parameter(name):
    # Shared descriptions come from pylme4.paramdocs (one home each); help()
    # must show them whole, with no placeholder left.
    function = getattr(pylme4, name)
    doc = inspect.getdoc(function)
    assert doc is not None and "\n{" not in doc
    headings = {
        part
        for line in doc.splitlines()
        if re.fullmatch(r"\w+(, \w+)*", line)
        for part in line.split(", ")
    }
    assert set(inspect.signature(function).parameters) <= headings
    if "data_name" in inspect.signature(function).parameters:
        assert paramdocs.fill("{data_name}").split("\n", 1)[1].strip() in doc


def test_every_pipeline_output_row_has_its_r_writer_and_distinct_files():
    """A row of pipeline.outputs.OUTPUTS is all a new output needs in Python: its R
    writer (named from its key) must be in script.R, and its files' names fit their kind."""
    from pylme4.pipeline import outputs
    from pylme4.pipeline.export_r import script_helpers

    helpers = script_helpers()
    for output in outputs.OUTPUTS:
        assert f"\n{output.r_writer} <- function(fit, name" in helpers, output.key
        for file in output.files:
            ending = ".txt" if isinstance(file, outputs.Text) else ".csv"
            assert file.name.endswith(ending), file.name
    assert len(set(outputs.MODEL_FILES)) == len(outputs.MODEL_FILES)
