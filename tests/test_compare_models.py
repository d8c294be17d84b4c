"""pylme4.compare_models(): every number is broom.mixed's (tidy and glance in
R, same data, same process) and every cell is that number as R's sprintf()
rounds it.  No R package for such tables is packaged for Debian, so the
layout itself (text, HTML, LaTeX) is checked for structure, not against R."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from cbpp_r import CBIND
from conftest import SAME, r

import pylme4
from pylme4.errors import ArgumentError, ArgumentTypeError

NAMES = ["Intercepts", "Slopes", "cbpp"]

# For each model: broom.mixed's tidy and glance, and the cells as R formats
# them ("%.3f", stars for p < 0.001 / 0.01 / 0.05).
_R = r"""
fits <- list(
  Intercepts = lmerTest::lmer(Reaction ~ Days + (1 | Subject), sleepstudy),
  Slopes = lmerTest::lmer(Reaction ~ Days + (Days | Subject), sleepstudy),
  cbpp = glmer(%(cbind)s, cbpp, binomial))
stars <- function(p) ifelse(is.na(p), "", ifelse(p < 0.001, "***", ifelse(p < 0.01, "**",
                            ifelse(p < 0.05, "*", ""))))
lapply(fits, function(m) {
  td <- as.data.frame(broom.mixed::tidy(m, ddf.method = "Satterthwaite"))
  fx <- td[td$effect == "fixed", ]
  sd <- td[td$effect == "ran_pars" & startsWith(td$term, "sd__"), ]
  gl <- as.data.frame(broom.mixed::glance(m))
  list(terms = I(fx$term), estimate = I(fx$estimate), std_error = I(fx$std.error),
       p_value = I(fx$p.value),
       cells = I(sprintf("%%.3f%%s (%%.3f)", fx$estimate, stars(fx$p.value), fx$std.error)),
       sd_names = I(ifelse(sd$group == "Residual", "Residual",
                           paste0(sd$group, ": ", sub("^sd__", "", sd$term)))),
       sd = I(sd$estimate), sd_cells = I(sprintf("%%.3f", sd$estimate)),
       nobs = gl$nobs, ngroups = as.list(vapply(m@flist, nlevels, 0L)),
       stats = c(gl$logLik, gl$AIC, gl$BIC),
       stat_cells = I(sprintf("%%.3f", c(gl$logLik, gl$AIC, gl$BIC))))
})
"""


@pytest.fixture(scope="module")
def fits() -> list:
    sleep = pylme4.datasets.load("sleepstudy")
    cbpp = pylme4.datasets.load("cbpp")
    return [
        pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleepstudy"),
        pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy"),
        pylme4.glmer(CBIND, cbpp, family="binomial", data_name="cbpp"),
    ]


@pytest.fixture(scope="module")
def table(fits) -> pylme4.ModelTable:
    return pylme4.compare_models(*fits, names=NAMES, ddf="Satterthwaite")


@pytest.fixture(scope="module")
def ref() -> dict:
    return r(_R % {"cbind": CBIND})


def test_numbers_are_broom_mixed(table, ref):
    for name in NAMES:
        mine = ref[name]
        terms = list(mine["terms"])
        np.testing.assert_allclose(table.estimates.loc[terms, name], mine["estimate"], **SAME)
        np.testing.assert_allclose(table.std_errors.loc[terms, name], mine["std_error"], **SAME)
        np.testing.assert_allclose(table.p_values.loc[terms, name], mine["p_value"], **SAME)
        others = table.estimates.index.difference(terms)
        assert table.estimates.loc[others, name].isna().all()
        np.testing.assert_allclose(
            table.random_sd.loc[list(mine["sd_names"]), name], mine["sd"], **SAME
        )
        stats = table.statistics[name]
        assert stats["Num. obs."] == mine["nobs"]
        for group, n in mine["ngroups"].items():
            assert stats[f"Num. groups: {group}"] == n
        np.testing.assert_allclose(stats[["Log likelihood", "AIC", "BIC"]], mine["stats"], **SAME)


def test_cells_are_rs_rounding(table, ref):
    for name in NAMES:
        mine = ref[name]
        assert list(table.frame.loc[list(mine["terms"]), name]) == list(mine["cells"])
        assert list(table.frame.loc[list(mine["sd_names"]), name]) == list(mine["sd_cells"])
        shown = table.frame.loc[["Log likelihood", "AIC", "BIC"], name]
        assert list(shown) == list(mine["stat_cells"])
        assert table.frame.at["Num. obs.", name] == str(mine["nobs"])
    assert table.frame.at["period2", "Slopes"] == ""


def test_layout(table):
    assert list(table.frame.columns) == NAMES
    assert list(table.frame.index) == [
        "(Intercept)",
        "Days",
        "period2",
        "period3",
        "period4",
        "Subject: (Intercept)",
        "Subject: Days",
        "herd: (Intercept)",
        "Residual",
        "Num. obs.",
        "Num. groups: Subject",
        "Num. groups: herd",
        "Log likelihood",
        "AIC",
        "BIC",
    ]
    text = table.to_text()
    assert str(table) == text
    lines = text.splitlines()
    assert lines[0] == lines[-2] == "=" * len(lines[0])
    assert lines[1].split() == NAMES
    assert lines[-1] == "*** p < 0.001; ** p < 0.01; * p < 0.05"
    assert sum(line == "-" * len(lines[0]) for line in lines) == 3
    days = next(line for line in lines if line.startswith("Days"))
    assert all(cell in days for cell in table.frame.loc["Days", ["Intercepts", "Slopes"]])


def test_html_and_latex(table):
    html = table.to_html()
    assert html.startswith('<table class="pylme4-models">') and html.endswith("</table>")
    assert html.count("<tbody>") == 3 and html.count("<tr>") == 1 + len(table.frame) + 1
    assert "<td>-0.992** (0.303)</td>" in html
    assert "p &lt; 0.001" in html
    assert table._repr_html_() == html
    latex = table.to_latex()
    assert latex.splitlines()[0] == "\\begin{tabular}{l c c c}"
    assert " & Intercepts & Slopes & cbpp \\\\" in latex
    assert "period2 &  &  & -0.992$^{**}$ (0.303) \\\\" in latex
    assert latex.count("\\midrule") == 3 and latex.endswith("\\end{tabular}")


def test_latex_escapes_names(fits):
    table = pylme4.compare_models(fits[0], names=["a_b & 50%"])
    assert " & a\\_b \\& 50\\% \\\\" in table.to_latex()
    assert "a_b &amp; 50%" in table.to_html()


def test_without_p_values_there_are_no_stars(fits):
    """lmer fits without ddf have no p-values (as broom.mixed gives none): no stars, no note."""
    table = pylme4.compare_models(fits[0], fits[1])
    assert list(table.names) == ["Model 1", "Model 2"]
    assert table.p_values.isna().all().all()
    assert "*" not in table.to_text()
    assert table.frame.at["Days", "Model 2"] == (
        f"{table.estimates.at['Days', 'Model 2']:.3f} ({table.std_errors.at['Days', 'Model 2']:.3f})"
    )
    starless = pylme4.compare_models(fits[2], stars=False, digits=2)
    assert "*" not in starless.to_text() and starless.frame.iloc[0, 0].count(".") == 2


def test_frozen(table):
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.digits = 2  # type: ignore[misc]
    assert table.brief() == "<ModelTable of 3 models: Intercepts, Slopes, cbpp>"
    # at a prompt: the table itself (R has no such printout to compare with)
    assert repr(table) == str(table) == table.to_text()
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert pretty.pretty(table) == table.to_text()


@pytest.mark.parametrize(
    "args, kwargs, error, words",
    [
        ((), {}, ArgumentError, "at least one fit"),
        ((pd.DataFrame(),), {}, ArgumentTypeError, "fit 1 is a DataFrame"),
        (("fit",), {"names": ["a", "b"]}, ArgumentTypeError, "fit 1 is a str"),
        (None, {"names": ["a"]}, ArgumentError, "one name per fit: 1 name for 2 fits"),
        (None, {"names": ["a", "a"]}, ArgumentError, "different"),
        (None, {"names": "ab"}, ArgumentTypeError, "names"),
        (None, {"digits": -1}, ArgumentError, "digits"),
        (None, {"stars": "yes"}, ArgumentTypeError, "stars"),
        (None, {"ddf": "KR"}, ArgumentError, "did you mean 'Kenward-Roger'"),
    ],
)
def test_bad_arguments(fits, args, kwargs, error, words):
    with pytest.raises(error, match=words):
        pylme4.compare_models(*(fits[:2] if args is None else args), **kwargs)
