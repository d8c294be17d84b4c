"""lmerTest's contest/contest1D/contestMD against R on the same fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

import pylme4
from pylme4.errors import ArgumentError

# R code making the data set `d` (as pylme4 gets it) for each case.
DATA = {
    "sleepstudy": "d <- lme4::sleepstudy",
    "cake": "d <- lme4::cake",
    "ham": 'data("ham", package = "lmerTest", envir = environment()); d <- ham',
    "sleep_na": "d <- lme4::sleepstudy; d$Reaction[c(3, 50, 120)] <- NA; d$Days[7] <- NA",
}

FORMULAS = {
    "sleepstudy": "Reaction ~ Days + (Days | Subject)",
    "cake": "angle ~ recipe * temp + (1 | recipe:replicate)",
    "ham": "Informed.liking ~ Product * Information + (1 | Consumer) + (1 | Consumer:Product)",
    "sleep_na": "Reaction ~ Days + (1 | Subject)",
}


def _python_data(name: str) -> pd.DataFrame:
    if name == "sleep_na":
        d = pylme4.datasets.load("sleepstudy").copy()
        d.loc[[2, 49, 119], "Reaction"] = np.nan
        d.loc[6, "Days"] = np.nan
        return d
    return pylme4.datasets.load(name)


_FITS: dict[str, pylme4.LmerFit] = {}


def _fit(name: str) -> pylme4.LmerFit:
    if name not in _FITS:
        _FITS[name] = pylme4.lmer(FORMULAS[name], _python_data(name))
    return _FITS[name]


def _r_table(name: str, call: str) -> dict:
    return r(
        f"{DATA[name]}\n"
        f"m <- lmerTest::lmer({FORMULAS[name]}, data = d)\n"
        f"x <- {call}\n"
        "list(table = as.data.frame(x, check.names = FALSE), rows = I(rownames(x)),"
        " text = paste(capture.output(print(x)), collapse = '\\n'))"
    )


def _assert_same(result, ref) -> None:
    assert str(result) == ref["text"]
    assert list(result.table.columns) == list(ref["table"].columns)
    assert list(result.table.index) == [str(i) for i in np.atleast_1d(ref["rows"])]
    np.testing.assert_allclose(
        result.table.to_numpy(dtype=float), ref["table"].to_numpy(dtype=float), **SAME
    )


HAM_L = np.zeros((2, 8))
HAM_L[0, 1] = HAM_L[1, 2] = 1.0
CAKE_L = pd.DataFrame(
    [[0, 1, -1, 0, 0, 0], [0, 0, 0, 1, 0, 0]],
    index=["B - C", "temp"],
    columns=["(Intercept)", "recipeB", "recipeC", "temp", "recipeB:temp", "recipeC:temp"],
)

# (data, pylme4 L, kwargs, R's contest call on model m)
CASES = [
    ("sleepstudy", np.eye(2), {}, "lmerTest::contest(m, diag(2))"),
    ("sleepstudy", np.eye(2), {"joint": False}, "lmerTest::contest(m, diag(2), joint = FALSE)"),
    (
        "sleepstudy",
        {"Days": 1},
        {"joint": False, "rhs": 10, "level": 0.9},
        "lmerTest::contest(m, c(0, 1), joint = FALSE, rhs = 10, level = 0.9)",
    ),
    (
        "sleepstudy",
        [0, 1],
        {"ddf": "Kenward-Roger", "rhs": 5},
        'lmerTest::contest(m, c(0, 1), ddf = "Kenward-Roger", rhs = 5)',
    ),
    (
        "cake",
        CAKE_L,
        {"joint": False, "confint": False},
        "lmerTest::contest(m, rbind(`B - C` = c(0, 1, -1, 0, 0, 0), temp = c(0, 0, 0, 1, 0, 0)),"
        " joint = FALSE, confint = FALSE)",
    ),
    (
        "cake",
        CAKE_L[list(reversed(CAKE_L.columns))],
        {"ddf": "Kenward-Roger"},
        "lmerTest::contest(m, rbind(c(0, 1, -1, 0, 0, 0), c(0, 0, 0, 1, 0, 0)),"
        ' ddf = "Kenward-Roger")',
    ),
    (
        "ham",
        HAM_L,
        {"rhs": [0.5, -0.25]},
        "lmerTest::contest(m, rbind(c(0, 1, 0, 0, 0, 0, 0, 0), c(0, 0, 1, 0, 0, 0, 0, 0)),"
        " rhs = c(0.5, -0.25))",
    ),
    (
        "ham",
        HAM_L,
        {"joint": False, "ddf": "Kenward-Roger"},
        "lmerTest::contest(m, rbind(c(0, 1, 0, 0, 0, 0, 0, 0), c(0, 0, 1, 0, 0, 0, 0, 0)),"
        ' joint = FALSE, ddf = "Kenward-Roger")',
    ),
    ("sleep_na", [0, 1], {"joint": False}, "lmerTest::contest(m, c(0, 1), joint = FALSE)"),
]


@pytest.mark.parametrize("name, L, kwargs, call", CASES, ids=[c[0] for c in CASES])
def test_contest_equals_r(name, L, kwargs, call):
    _assert_same(_fit(name).contest(L, **kwargs), _r_table(name, call))


def test_contest1d_and_contest_md_equal_r():
    fit = _fit("sleepstudy")
    _assert_same(
        fit.contest1d({"Days": 1}, confint=True, rhs=10),
        _r_table("sleepstudy", "lmerTest::contest1D(m, c(0, 1), confint = TRUE, rhs = 10)"),
    )
    _assert_same(
        fit.contest_md(np.eye(2), ddf="Kenward-Roger"),
        _r_table("sleepstudy", 'lmerTest::contestMD(m, diag(2), ddf = "Kenward-Roger")'),
    )


def test_contest_rejects_bad_contrasts():
    fit = _fit("sleepstudy")
    with pytest.raises(ArgumentError, match="'Dayz'"):
        fit.contest({"Dayz": 1})
    with pytest.raises(ArgumentError, match="3 weights; the model has 2"):
        fit.contest([1, 0, 0])
    with pytest.raises(ArgumentError, match="3 columns"):
        fit.contest(np.eye(3))
    with pytest.raises(ArgumentError, match="ddf"):
        fit.contest([0, 1], ddf="satterthwaite")
    with pytest.raises(ArgumentError, match="rhs"):
        fit.contest(np.eye(2), rhs=[1, 2, 3])
    # the session goes on
    assert fit.contest([0, 1]).table.shape == (1, 6)


LS_CASES = [
    ("ham", "ls_means", {}, "lmerTest::ls_means(m)"),
    (
        "ham",
        "ls_means",
        {"which": "Product", "ddf": "Kenward-Roger", "level": 0.9},
        'lmerTest::ls_means(m, which = "Product", ddf = "Kenward-Roger", level = 0.9)',
    ),
    ("ham", "ls_means", {"pairwise": True}, "lmerTest::ls_means(m, pairwise = TRUE)"),
    ("ham", "difflsmeans", {}, "lmerTest::difflsmeans(m)"),
    (
        "ham",
        "difflsmeans",
        {"which": ["Information"], "ddf": "Kenward-Roger"},
        'lmerTest::difflsmeans(m, which = "Information", ddf = "Kenward-Roger")',
    ),
    ("cake", "ls_means", {}, "lmerTest::ls_means(m)"),
    ("cake", "difflsmeans", {"level": 0.99}, "lmerTest::difflsmeans(m, level = 0.99)"),
]


@pytest.mark.parametrize("name, method, kwargs, call", LS_CASES, ids=[c[0] for c in LS_CASES])
def test_ls_means_equal_r(name, method, kwargs, call):
    result = getattr(_fit(name), method)(**kwargs)
    ref = _r_table(name, call.replace("x <- ", ""))
    assert str(result) == ref["text"]
    ref_table = r(
        f"{DATA[name]}\nm <- lmerTest::lmer({FORMULAS[name]}, data = d)\n"
        f"as.data.frame(unclass({call}), check.names = FALSE)"
    )
    assert list(result.table.columns) == list(ref_table.columns)
    assert list(result.table.index) == [str(i) for i in np.atleast_1d(ref["rows"])]
    np.testing.assert_allclose(
        result.table.to_numpy(dtype=float), ref_table.to_numpy(dtype=float), **SAME
    )


@pytest.mark.parametrize(
    "kwargs, call",
    [
        ({}, "lmerTest::show_tests(lmerTest::ls_means(m))"),
        (
            {"which": "Product", "fractions": True},
            'lmerTest::show_tests(lmerTest::ls_means(m, which = "Product"), fractions = TRUE)',
        ),
        ({"of": "anova"}, "lmerTest::show_tests(anova(m))"),
        (
            {"of": "anova", "type": 1, "names": False},
            "lmerTest::show_tests(anova(m, type = 1), names = FALSE)",
        ),
    ],
)
def test_show_tests_equal_r(kwargs, call):
    result = _fit("ham").show_tests(**kwargs)
    ref = r(
        f"{DATA['ham']}\nm <- lmerTest::lmer({FORMULAS['ham']}, data = d)\n"
        f"x <- {call}\n"
        "list(text = paste(capture.output(print(x)), collapse = '\\n'), terms = I(names(x)),"
        " m = lapply(unname(x), function(a) matrix(as.numeric(a), nrow(a))))"
    )
    assert str(result) == ref["text"]
    assert list(result.tests) == list(np.atleast_1d(ref["terms"]))
    for got, want in zip(result.tests.values(), ref["m"], strict=True):
        np.testing.assert_allclose(got.to_numpy(dtype=float), np.asarray(want, dtype=float), **SAME)


def test_ham_is_found():
    assert pylme4.datasets.find("ham") == "lmerTest"


def _r_anova(name: str, call: str) -> dict:
    return r(
        f"{DATA[name]}\nm <- lmerTest::lmer({FORMULAS[name]}, data = d)\n"
        f"x <- {call}\n"
        "list(table = as.data.frame(x, check.names = FALSE), rows = I(rownames(x)),"
        " text = paste(capture.output(print(x)), collapse = '\\n'))"
    )


@pytest.mark.parametrize(
    "name, ddf",
    [("ham", "Satterthwaite"), ("ham", "Kenward-Roger"), ("cake", "lme4"), ("sleep_na", None)],
)
def test_lmertest_drop1_equals_r(name, ddf):
    from pylme4.lmertest import lmertest_drop1

    fit = _fit(name)
    result = lmertest_drop1(fit) if ddf is None else lmertest_drop1(fit, ddf=ddf)
    call = "drop1(m)" if ddf is None else f'drop1(m, ddf = "{ddf}")'
    _assert_same(result, _r_anova(name, call))


STEP_CASES = [
    ("ham", {}, "step(m)"),
    (
        "ham",
        {"alpha_fixed": 0.01, "reduce_random": False},
        "step(m, alpha.fixed = 0.01, reduce.random = FALSE)",
    ),
    ("cake", {"ddf": "Kenward-Roger"}, 'step(m, ddf = "Kenward-Roger")'),
    ("sleepstudy", {"alpha_random": 0.5}, "step(m, alpha.random = 0.5)"),
    ("sleep_na", {"reduce_fixed": False}, "step(m, reduce.fixed = FALSE)"),
]


@pytest.mark.parametrize("name, kwargs, call", STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_step_equals_r(name, kwargs, call):
    result = _fit(name).step(**kwargs)
    # step() refits from lmerTest's own frames, which see the data only in
    # the global environment (where an R user's data is): put it there.
    ref = r(
        f"{DATA[name]}\nassign('.pylme4_step_d', d, envir = globalenv())\n"
        f"on.exit(rm('.pylme4_step_d', envir = globalenv()))\n"
        f"m <- lmerTest::lmer({FORMULAS[name]}, data = .pylme4_step_d)\n"
        f"s <- lmerTest::{call}\nf <- lmerTest::get_model(s)\n"
        "tab <- function(x) list(table = as.data.frame(x, check.names = FALSE),"
        " rows = I(rownames(x)))\n"
        "list(text = paste(capture.output(print(s)), collapse = '\\n'),"
        " random = tab(s$random), fixed = tab(s$fixed), beta = lme4::fixef(f),"
        " theta = lme4::getME(f, 'theta'), reml = lme4::getME(f, 'devcomp')$cmp[['REML']],"
        " formula = paste(deparse(formula(f), width.cutoff = 500L), collapse = ' '))"
    )
    assert str(result) == ref["text"]
    for got, want in ((result.random, ref["random"]), (result.fixed, ref["fixed"])):
        assert list(got.table.index) == [str(i) for i in np.atleast_1d(want["rows"])]
        assert list(got.table.columns) == list(want["table"].columns)
        np.testing.assert_allclose(
            got.table.to_numpy(dtype=float), want["table"].to_numpy(dtype=float), **SAME
        )
    assert result.final_formula == ref["formula"]
    model = result.model
    np.testing.assert_allclose(model.fixef().to_numpy(), np.asarray(ref["beta"]), **SAME)
    np.testing.assert_allclose(model.theta, np.asarray(ref["theta"]), **SAME)
    assert isinstance(model, pylme4.LmerFit)
    assert str(model.summary(ddf="Satterthwaite")).startswith("Linear mixed model fit by REML")


PRINT_CASES = [
    ("sleepstudy", {"correlation": False}, "correlation = FALSE"),
    ("cake", {"digits": 6, "correlation": True}, "digits = 6, correlation = TRUE"),
    ("ham", {"ddf": "Satterthwaite", "signif_stars": False}, "signif.stars = FALSE"),
    ("sleep_na", {"ddf": "Kenward-Roger", "digits": 3}, "digits = 3"),
]


@pytest.mark.parametrize("name, kwargs, args", PRINT_CASES, ids=[c[0] for c in PRINT_CASES])
def test_summary_text_equals_r(name, kwargs, args):
    fit = pylme4.lmer(FORMULAS[name], _python_data(name), data_name="d")
    ddf = kwargs.get("ddf")
    call = "summary(m)" if ddf is None else f'summary(m, ddf = "{ddf}")'
    fun = "lme4::lmer" if ddf is None else "lmerTest::lmer"
    ref = r(
        f"{DATA[name]}\nm <- {fun}({FORMULAS[name]}, data = d)\n"
        f"paste(capture.output(print({call}, {args})), collapse = '\\n')"
    )
    assert fit.summary_text(**kwargs) == ref


def test_glmer_summary_text_equals_r():
    cbpp = pylme4.datasets.load("cbpp")
    fit = pylme4.glmer(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        cbpp,
        family="binomial",
        data_name="cbpp",
    )
    ref = r(
        "m <- lme4::glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),"
        " data = cbpp, family = binomial)\n"
        "paste(capture.output(print(summary(m), correlation = FALSE, digits = 5,"
        " signif.stars = FALSE)), collapse = '\\n')"
    )
    assert fit.summary_text(correlation=False, digits=5, signif_stars=False) == ref
    with pytest.raises(ArgumentError, match="lmer"):
        fit.summary_text(ddf="Satterthwaite")
    with pytest.raises(ArgumentError, match="digits"):
        fit.summary_text(digits=0)
