"""emmeans (marginal means, trends, contrasts) against R's emmeans in the same
process: lme4's cake (recipe x temperature) with Satterthwaite and
Kenward-Roger df, a trend on cake's numeric temp and on sleepstudy's Days, and
cbpp's binomial glmer on the response scale.  Every table equals R's
``as.data.frame(summary(x))`` and every printout R's ``print(x)``."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from cbpp_r import CBIND
from conftest import SAME, r, run_python

import pylme4
from pylme4.errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    FormulaError,
    RMessage,
)
from pylme4.marginal import EmmGrid, EmmList, EmmTable, emmeans, emtrends

CAKE = "angle ~ recipe * temperature + (1 | recipe:replicate)"
CAKE_TEMP = "angle ~ recipe * temp + (1 | recipe:replicate)"
SLEEP = "Reaction ~ Days + (Days | Subject)"

# R code fitting `m` as the Python fixture of the same name fits it.
R_FITS = {
    "cake": f"m <- lme4::lmer({CAKE}, data = lme4::cake)",
    "cake_temp": f"m <- lme4::lmer({CAKE_TEMP}, data = lme4::cake)",
    "sleep": f"m <- lme4::lmer({SLEEP}, data = lme4::sleepstudy)",
    "cbpp": f"m <- lme4::glmer({CBIND}, data = lme4::cbpp, family = binomial)",
}

# R's value of `code` (on `m`): its printout, its summary table and notes,
# and the messages R gave while computing it.
_R_EMM = r"""
local({
  %(fit)s
  said <- character()
  x <- withCallingHandlers(%(code)s, message = function(c) {
    said <<- c(said, sub("\n$", "", conditionMessage(c)))
    invokeRestart("muffleMessage")
  })
  one <- function(s) {
    f <- as.data.frame(s)
    attributes(f) <- attributes(f)[c("names", "row.names")]
    class(f) <- "data.frame"
    list(frame = f, notes = I(as.character(attr(s, "mesg"))))
  }
  parts <- if (inherits(x, "emm_list"))
             stats::setNames(lapply(seq_along(x), function(i) one(summary(x[[i]]))), names(x))
           else if (inherits(x, "emmGrid")) one(summary(x)) else one(x)
  list(text = paste(capture.output(print(x)), collapse = "\n"), said = I(said),
       parts = parts)
})
"""


def r_emm(fit: str, code: str) -> dict:
    return r(_R_EMM % {"fit": R_FITS[fit], "code": code})


def quiet(compute):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)
        return compute()


_FITS: dict[str, object] = {}


def fit_of(name: str):
    if name not in _FITS:
        if name == "cbpp":
            _FITS[name] = pylme4.glmer(
                CBIND, pylme4.datasets.load("cbpp"), family="binomial", data_name="cbpp"
            )
        else:
            data = {"cake": "cake", "cake_temp": "cake", "sleep": "sleepstudy"}[name]
            formula = {"cake": CAKE, "cake_temp": CAKE_TEMP, "sleep": SLEEP}[name]
            _FITS[name] = pylme4.lmer(formula, pylme4.datasets.load(data), data_name=data)
    return _FITS[name]


def assert_table(result: EmmTable, parts: dict) -> None:
    got, want = result.r_frame, parts["frame"]
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        w, g = want[column], got[column]
        if isinstance(w.dtype, pd.CategoricalDtype):
            assert isinstance(g.dtype, pd.CategoricalDtype), column
            assert list(g.cat.categories) == list(w.cat.categories), column
            assert g.astype(str).tolist() == w.astype(str).tolist(), column
        elif pd.api.types.is_numeric_dtype(w.dtype):
            np.testing.assert_allclose(
                g.to_numpy(dtype=float), w.to_numpy(dtype=float), **SAME, err_msg=column
            )
        else:
            assert g.astype(str).tolist() == w.astype(str).tolist(), column
    assert result.notes == tuple(str(n) for n in np.atleast_1d(parts["notes"]))


def assert_same(result: EmmTable | EmmList, ref: dict) -> None:
    assert str(result) == ref["text"]
    if isinstance(result, EmmList):
        assert result.names == ("emmeans", "contrasts")
        assert_table(result.emmeans, ref["parts"]["emmeans"])
        assert_table(result.contrasts, ref["parts"]["contrasts"])
    else:
        assert_table(result, ref["parts"])


SATT = 'lmer.df = "satterthwaite"'

# (fit, R code on m, the same in pylme4 on the fit)
CASES = [
    # marginal means, both df methods, with a by
    ("cake", f'emmeans::emmeans(m, "recipe", {SATT})',
     lambda f: f.emmeans("recipe", lmer_df="satterthwaite")),
    ("cake", 'emmeans::emmeans(m, "recipe", lmer.df = "kenward-roger")',
     lambda f: f.emmeans("recipe", lmer_df="kenward-roger")),
    ("cake", 'emmeans::emmeans(m, "recipe")', lambda f: f.emmeans("recipe")),
    ("cake", "emmeans::emmeans(m, ~ recipe | temperature)",
     lambda f: f.emmeans("recipe | temperature")),
    ("cake", f'emmeans::emmeans(m, "recipe", by = "temperature", {SATT})',
     lambda f: f.emmeans("recipe", by="temperature", lmer_df="satterthwaite")),
    ("cake", f'emmeans::emmeans(m, c("recipe", "temperature"), {SATT}, level = 0.9)',
     lambda f: f.emmeans(["recipe", "temperature"], lmer_df="satterthwaite", level=0.9)),
    ("cake", 'emmeans::emmeans(m, ~ 1, lmer.df = "asymptotic")',
     lambda f: f.emmeans("1", lmer_df="asymptotic")),
    ("cake", f'emmeans::emmeans(m, "temperature", at = list(temperature = c("175", "215")), {SATT})',
     lambda f: f.emmeans("temperature", at={"temperature": ["175", "215"]},
                         lmer_df="satterthwaite")),
    ("cake", f'emmeans::emmeans(m, "recipe", weights = "cells", {SATT})',
     lambda f: f.emmeans("recipe", weights="cells", lmer_df="satterthwaite")),
    # contrasts
    ("cake", f'pairs(emmeans::emmeans(m, "recipe", {SATT}))',
     lambda f: f.emmeans("recipe", lmer_df="satterthwaite").pairs()),
    ("cake", 'pairs(emmeans::emmeans(m, "recipe"), reverse = TRUE, adjust = "none")',
     lambda f: f.emmeans("recipe").pairs(reverse=True, adjust="none")),
    ("cake", 'pairs(emmeans::emmeans(m, ~ recipe | temperature), adjust = "holm")',
     lambda f: f.emmeans("recipe | temperature").pairs(adjust="holm")),
    ("cake", f'emmeans::contrast(emmeans::emmeans(m, "recipe", {SATT}), "pairwise", adjust = "tukey")',
     lambda f: f.emmeans("recipe", lmer_df="satterthwaite").contrast("pairwise", adjust="tukey")),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, "recipe"), "trt.vs.ctrl")',
     lambda f: f.emmeans("recipe").contrast("trt.vs.ctrl")),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, c("recipe", "temperature"), '
             'lmer.df = "asymptotic"), "trt.vs.ctrl", ref = "B temperature185")',
     lambda f: f.emmeans(["recipe", "temperature"], lmer_df="asymptotic").contrast(
         "trt.vs.ctrl", ref="B temperature185")),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, "recipe"), "trt.vs.ctrl", ref = "C")',
     lambda f: f.emmeans("recipe").contrast("trt.vs.ctrl", ref="C")),
    ("cake", f'emmeans::contrast(emmeans::emmeans(m, "recipe", {SATT}), '
             'list(AvB = c(1, -1, 0), AB_C = c(0.5, 0.5, -1)), adjust = "bonferroni")',
     lambda f: f.emmeans("recipe", lmer_df="satterthwaite").contrast(
         {"AvB": [1, -1, 0], "AB_C": [0.5, 0.5, -1]}, adjust="bonferroni")),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, ~ recipe | temperature), '
             'list(A_vs_rest = c(1, -0.5, -0.5)))',
     lambda f: f.emmeans("recipe | temperature").contrast({"A_vs_rest": [1, -0.5, -0.5]})),
    ("cake", f'emmeans::contrast(emmeans::emmeans(m, "temperature", {SATT}), "poly")',
     lambda f: f.emmeans("temperature", lmer_df="satterthwaite").contrast("poly")),
    # (consec's default adjustment, "mvt", draws random numbers: not compared)
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, "temperature"), "consec", adjust = "sidak")',
     lambda f: f.emmeans("temperature").contrast("consec", adjust="sidak")),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, "temperature"))',
     lambda f: f.emmeans("temperature").contrast()),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, ~ recipe | temperature), "consec", '
             'by = NULL, adjust = "scheffe")',
     lambda f: f.emmeans("recipe | temperature").contrast("consec", by=None, adjust="scheffe")),
    ("cake", 'emmeans::contrast(emmeans::emmeans(m, ~ recipe | temperature), "eff", by = "recipe")',
     lambda f: f.emmeans("recipe | temperature").contrast("eff", by="recipe")),
    ("cake", f"emmeans::emmeans(m, pairwise ~ recipe, {SATT})",
     lambda f: f.emmeans("pairwise ~ recipe", lmer_df="satterthwaite")),
    ("cake", "emmeans::emmeans(m, trt.vs.ctrl ~ temperature | recipe)",
     lambda f: f.emmeans("trt.vs.ctrl ~ temperature | recipe")),
    # confint and test
    ("cake", f'confint(emmeans::emmeans(m, "recipe", {SATT}), level = 0.9)',
     lambda f: f.emmeans("recipe", lmer_df="satterthwaite").confint(level=0.9)),
    ("cake", 'confint(pairs(emmeans::emmeans(m, "recipe")))',
     lambda f: f.emmeans("recipe").pairs().confint()),
    ("cake", 'confint(pairs(emmeans::emmeans(m, "recipe")), adjust = "bonferroni", level = 0.99)',
     lambda f: f.emmeans("recipe").pairs().confint(level=0.99, adjust="bonferroni")),
    ("cake", f'emmeans::test(emmeans::emmeans(m, "recipe", {SATT}))',
     lambda f: f.emmeans("recipe", lmer_df="satterthwaite").test()),
    ("cake", 'emmeans::test(emmeans::emmeans(m, "recipe"), null = 32, side = ">")',
     lambda f: f.emmeans("recipe").test(null=32, side="greater")),
    ("cake", 'emmeans::test(emmeans::emmeans(m, ~ recipe | temperature), joint = TRUE)',
     lambda f: f.emmeans("recipe | temperature").test(joint=True)),
    ("cake", 'emmeans::test(pairs(emmeans::emmeans(m, "recipe")), adjust = "holm", side = "<")',
     lambda f: f.emmeans("recipe").pairs().test(adjust="holm", side="less")),
    # a numeric covariate: at= values, and trends
    ("cake_temp", 'emmeans::emmeans(m, ~ recipe | temp, at = list(temp = c(180, 200)))',
     lambda f: f.emmeans("recipe | temp", at={"temp": [180, 200]})),
    ("cake_temp", 'emmeans::emtrends(m, "recipe", var = "temp")',
     lambda f: f.emtrends("recipe", var="temp")),
    ("cake_temp", f'pairs(emmeans::emtrends(m, "recipe", var = "temp", {SATT}))',
     lambda f: f.emtrends("recipe", var="temp", lmer_df="satterthwaite").pairs()),
    ("cake_temp", 'emmeans::emtrends(m, "recipe", var = "log(temp)")',
     lambda f: f.emtrends("recipe", var="log(temp)")),
    ("sleep", 'emmeans::emtrends(m, ~ 1, var = "Days")',
     lambda f: f.emtrends("1", var="Days")),
    ("sleep", f'emmeans::emtrends(m, ~ 1, var = "Days", {SATT}, level = 0.9)',
     lambda f: f.emtrends("~ 1", var="Days", lmer_df="satterthwaite", level=0.9)),
    # a binomial glmer on the link and the response scale
    ("cbpp", 'emmeans::emmeans(m, "period")', lambda f: f.emmeans("period")),
    ("cbpp", 'emmeans::emmeans(m, "period", type = "response")',
     lambda f: f.emmeans("period", type="response")),
    ("cbpp", 'pairs(emmeans::emmeans(m, "period", type = "response"))',
     lambda f: f.emmeans("period", type="response").pairs()),
    ("cbpp", 'confint(pairs(emmeans::emmeans(m, "period", type = "response")))',
     lambda f: f.emmeans("period", type="response").pairs().confint()),
    ("cbpp", 'emmeans::test(emmeans::emmeans(m, "period", type = "response"))',
     lambda f: f.emmeans("period", type="response").test()),
    ("cbpp", 'emmeans::contrast(emmeans::emmeans(m, "period", type = "response"), "trt.vs.ctrl")',
     lambda f: f.emmeans("period", type="response").contrast("trt.vs.ctrl")),
    ("cbpp", 'emmeans::emmeans(m, revpairwise ~ period, type = "response")',
     lambda f: f.emmeans("revpairwise ~ period", type="response")),
]  # fmt: skip


@pytest.mark.parametrize(("fit", "code", "call"), CASES, ids=[c[1] for c in CASES])
def test_equals_r(fit, code, call):
    result = quiet(lambda: call(fit_of(fit)))
    assert_same(result, r_emm(fit, code))


def test_response_scale_column_is_r_prob_and_frame_is_snake_case():
    grid = fit_of("cbpp").emmeans("period", type="response")
    assert list(grid.r_frame.columns) == ["period", "prob", "SE", "df", "asymp.LCL", "asymp.UCL"]
    assert list(grid.frame.columns) == ["period", "prob", "se", "df", "asymp_lcl", "asymp_ucl"]
    assert grid.estimate_name == "prob"
    ratios = grid.pairs()
    assert list(ratios.frame.columns) == [
        "contrast", "odds_ratio", "se", "df", "null", "z_ratio", "p_value",
    ]  # fmt: skip
    np.testing.assert_array_equal(ratios["p_value"], ratios.r_frame["p.value"])
    trend = quiet(lambda: fit_of("cake_temp").emtrends("recipe", var="temp"))
    assert list(trend.frame.columns)[:2] == ["recipe", "temp_trend"]


def test_r_messages_are_kept_and_raised_never_printed(capfd):
    ref = r_emm("cake", 'emmeans::emmeans(m, "recipe")')
    with pytest.warns(RMessage, match="involvement in interactions"):
        grid = fit_of("cake").emmeans("recipe")
    assert tuple(c.text for c in grid.messages) == tuple(ref["said"])
    assert [c.kind for c in grid.messages] == ["message"]
    out, err = capfd.readouterr()
    assert "NOTE" not in out + err
    # A contrast of the grid says nothing more, as in R.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert grid.pairs().messages == ()


def test_frozen_and_pickles_with_its_r_object():
    grid = quiet(lambda: fit_of("cake").emmeans("recipe", lmer_df="satterthwaite"))
    with pytest.raises(AttributeError):
        grid.text = ""  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(grid))
    assert str(copy) == str(grid)
    pd.testing.assert_frame_equal(copy.r_frame, grid.r_frame)
    # The R object came along: contrasts of the copy are emmeans' again.
    assert str(copy.pairs()) == str(grid.pairs())
    listed = quiet(lambda: fit_of("cake").emmeans("pairwise ~ recipe"))
    assert isinstance(listed, EmmList) and isinstance(listed["contrasts"], EmmGrid)
    assert listed[0] is listed.emmeans
    again = pickle.loads(pickle.dumps(listed))
    assert str(again) == str(listed) and str(again.contrasts) == str(listed.contrasts)
    table = grid.confint()
    assert str(pickle.loads(pickle.dumps(table))) == str(table)


def test_unpickled_in_another_process_still_contrasts(tmp_path):
    grid = quiet(lambda: fit_of("cake").emmeans("recipe", lmer_df="satterthwaite"))
    (tmp_path / "grid.pkl").write_bytes(pickle.dumps(grid))
    done = run_python(
        "-W",
        "ignore",
        "-c",
        "import pickle, sys; grid = pickle.load(open(sys.argv[1], 'rb'));"
        " sys.stdout.write(str(grid.pairs().confint()))",
        str(tmp_path / "grid.pkl"),
    )
    assert done.stdout == str(grid.pairs().confint())


def test_forwarded_from_both_fit_classes():
    assert pylme4.LmerFit.emmeans is emmeans
    assert pylme4.GlmerFit.emtrends is emtrends


BAD = [
    (lambda f: f.emmeans("temp"), ArgumentLookupError, "specs names 'temp'"),
    (lambda f: f.emmeans("recipe | temp"), ArgumentLookupError, "specs names 'temp'"),
    (lambda f: f.emmeans("recipe", by="temp"), ArgumentLookupError, "by names 'temp'"),
    (lambda f: f.emmeans("recipe", at={"tmp": [1]}), ArgumentLookupError, "at names 'tmp'"),
    (lambda f: f.emmeans("recipe", at={"temperature": ["999"]}), ArgumentLookupError,
     "at['temperature'] has '999', which is not a level"),
    (lambda f: f.emmeans("recipe", at=[1]), ArgumentTypeError, "at must be a dict"),
    (lambda f: f.emmeans(3), ArgumentTypeError, "specs must be"),
    (lambda f: f.emmeans("pairwize ~ recipe"), ArgumentError, "did you mean 'pairwise'"),
    (lambda f: f.emmeans("recipe", lmer_df="KR"), ArgumentError, "did you mean 'kenward-roger'"),
    (lambda f: f.emmeans("recipe", type="resp"), ArgumentError, "did you mean 'response'"),
    (lambda f: f.emmeans("recipe", level=95), ArgumentError, "level"),
    (lambda f: f.emtrends("recipe", var="temperature"), ArgumentLookupError, "a factor"),
    (lambda f: f.emtrends("recipe", var="tmp"), ArgumentLookupError, "var names 'tmp'"),
    (lambda f: f.emmeans("recipe").pairs(adjust="tukye"), ArgumentError, "did you mean 'tukey'"),
    (lambda f: f.emmeans("recipe").contrast("pairwize"), ArgumentError,
     "did you mean 'pairwise'"),
    (lambda f: f.emmeans("recipe").contrast({"x": [1, -1]}), ArgumentError,
     "method['x'] has 2 weights"),
    (lambda f: f.emmeans("recipe").contrast({"x": ["a", "b", "c"]}), ArgumentTypeError,
     "method['x']"),
    (lambda f: f.emmeans("recipe").contrast({"x": [1, np.nan, 0]}), ArgumentError,
     "not finite"),
    (lambda f: f.emmeans("recipe |"), FormulaError, "not valid R syntax"),
    (lambda f: f.emmeans("recipe").contrast("trt.vs.ctrl", ref="D"), ArgumentLookupError,
     "ref names 'D'"),
    (lambda f: f.emmeans("recipe").contrast("pairwise", ref="A"), ArgumentError, "ref"),
    (lambda f: f.emmeans(["recipe", "temperature"]).contrast("trt.vs.ctrl", ref="B 185"),
     ArgumentLookupError, "ref names a level the grid does not have"),
    (lambda f: f.emmeans("recipe").pairs(by="temp"), ArgumentLookupError, "by names 'temp'"),
    (lambda f: f.emmeans("recipe").test(side="greatr"), ArgumentError, "did you mean 'greater'"),
    (lambda f: f.emmeans("recipe").confint(level=1.5), ArgumentError, "level"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "cls", "words"), BAD, ids=[b[2] for b in BAD])
def test_bad_input_names_the_culprit(call, cls, words):
    with pytest.raises(cls) as info:
        quiet(lambda: call(fit_of("cake")))
    assert words in str(info.value)
    # R still works.
    assert r("1 + 1") == 2


def test_lmer_df_is_for_lmer_fits_only():
    with pytest.raises(ArgumentError, match="lmer_df applies to linear mixed models"):
        fit_of("cbpp").emmeans("period", lmer_df="satterthwaite")
    with pytest.raises(ArgumentTypeError, match="fitted mixed models"):
        emmeans("not a fit", "recipe")  # type: ignore[arg-type]
