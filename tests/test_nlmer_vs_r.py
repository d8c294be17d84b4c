"""pylme4.nlmer() against lme4's nlmer() in the same process.

Each case is fitted by pylme4 and by R (the call typed as an R user types
it, on R's own copy of the data); estimates, accessors and the printed
fit and summary must agree (numbers to rtol=1e-12, text exactly).  Bad
input gets a PylmeError naming the culprit; what lme4 1.1-31 cannot do for
an nlmerMod is refused with an ArgumentError, and R is asked that it
indeed fails.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import (
    SAME,
    assert_estimates_match_r,
    assert_same_series,
    assert_same_table,
    python_data,
    r,
    r_printed,
    r_reference,
)

import pylme4
from pylme4.errors import (
    ArgumentError,
    ArgumentTypeError,
    DataError,
    FormulaError,
    PylmeError,
    RError,
)

LOGIS = "circumference ~ SSlogis(age, Asym, xmid, scal) ~ Asym | Tree"
START = {"Asym": 200, "xmid": 725, "scal": 350}
START_R = "c(Asym = 200, xmid = 725, scal = 350)"
ORANGE_NA = (
    "orange_na <- as.data.frame(Orange); orange_na$circumference[c(3, 10)] <- NA; "
    "orange_na$age[20] <- NA"
)

# id: (setup, data name, formula, start (Python), start (R), kwargs (Python), extra R args)
CASES: dict[str, tuple[str, str, str, Any, str, dict[str, Any], str]] = {
    "orange": ("", "Orange", LOGIS, START, START_R, {}, ""),
    "orange_two_terms": (
        "",
        "Orange",
        "circumference ~ SSlogis(age, Asym, xmid, scal) ~ (Asym | Tree) + (xmid | Tree)",
        START,
        START_R,
        {},
        "",
    ),
    "orange_nagq0": ("", "Orange", LOGIS, START, START_R, {"nAGQ": 0}, ", nAGQ = 0"),
    "orange_nlpars_theta": (
        "",
        "Orange",
        LOGIS,
        {"nlpars": START, "theta": 4},
        f"list(nlpars = {START_R}, theta = 4)",
        {},
        "",
    ),
    "orange_control": (
        "",
        "Orange",
        LOGIS,
        START,
        START_R,
        {"control": {"tolPwrss": 1e-8}},
        ", control = nlmerControl(tolPwrss = 1e-8)",
    ),
    "orange_na": ("orange_na", "orange_na", LOGIS, START, START_R, {}, ""),
    "puromycin_micmen": (
        "",
        "Puromycin",
        "rate ~ SSmicmen(conc, Vm, K) ~ Vm | state",
        {"Vm": 200, "K": 0.05},
        "c(Vm = 200, K = 0.05)",
        {},
        "",
    ),
    "loblolly_asymp": (
        "",
        "Loblolly",
        "height ~ SSasymp(age, Asym, R0, lrc) ~ Asym | Seed",
        {"Asym": 103, "R0": -8.5, "lrc": -3.3},
        "c(Asym = 103, R0 = -8.5, lrc = -3.3)",
        {},
        "",
    ),
}

REFERENCE_ITEMS = (
    "wald = confint(m, method = 'Wald'), "
    "working = unname(residuals(m, type = 'working')), "
    "deviance_resid = unname(residuals(m, type = 'deviance')), "
    "postvar = lapply(ranef(m, condVar = TRUE), function(d) attr(d, 'postVar')), "
    "coefficients = as.data.frame(coef(s)), aictab = s$AICtab, "
    "omitted = as.integer(attr(model.frame(m), 'na.action')), "
    "X = unname(getME(m, 'X')), "
    "summary6 = paste(capture.output(print(s, digits = 6, correlation = FALSE)), "
    "collapse = '\\n')"
)


def _setup(key: str) -> str:
    return ORANGE_NA if key == "orange_na" else ""


@pytest.fixture(scope="module", params=list(CASES))
def case(request) -> tuple[Any, dict[str, Any], pd.DataFrame]:
    setup_key, data_name, formula, start, start_r, kwargs, extra_r = CASES[request.param]
    setup = _setup(setup_key)
    data = python_data(setup, data_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pylme4.nlmer(formula, data, start=start, data_name=data_name, **kwargs)
        summary = fit.summary()
    ref = r_reference(
        f"nlmer({formula}, data = {data_name}, start = {start_r}{extra_r})",
        setup,
        items=REFERENCE_ITEMS,
    )
    return (fit, summary), ref, data


def test_estimates_match_r(case):
    (fit, _), ref, _ = case
    assert isinstance(fit, pylme4.NlmerFit)
    assert_estimates_match_r(fit, ref)
    np.testing.assert_allclose(fit.vcov().to_numpy(), ref["vcov"].to_numpy(), **SAME)
    assert list(fit.vcov().index) == list(ref["vcov"].index)


def test_accessors_match_r(case):
    (fit, _), ref, data = case
    for group, part in ref["ranef"].items():
        mine = fit.ranef()[group]
        assert list(mine.index) == [str(x) for x in part["levels"]]
        np.testing.assert_allclose(mine.to_numpy(), part["values"].to_numpy(), **SAME)
    for group, frame in ref["coef"].items():
        np.testing.assert_allclose(fit.coef()[group].to_numpy(), frame.to_numpy(), **SAME)
        assert list(fit.coef()[group].columns) == list(frame.columns)
    vc = fit.var_corr()
    np.testing.assert_allclose(vc["vcov"], ref["varcorr"]["vcov"], **SAME)
    np.testing.assert_allclose(vc["sdcor"], ref["varcorr"]["sdcor"], **SAME)
    assert_same_series(fit.fitted(), ref["fitted"])
    assert_same_series(fit.predict(), ref["fitted"])
    assert_same_series(fit.predict(type="response"), ref["fitted"])
    assert_same_series(fit.residuals(), ref["resid"])
    assert_same_series(fit.residuals(type="pearson", scaled=True), ref["pearson"])
    assert_same_series(fit.residuals(type="working"), ref["working"])
    assert_same_series(fit.residuals(type="deviance"), ref["deviance_resid"])
    # Indexed by the data's rows that were used.
    used = np.ones(len(data), dtype=bool)
    used[np.asarray(ref["omitted"], dtype=int) - 1] = False
    pd.testing.assert_index_equal(fit.fitted().index, data.index[used])
    _assert_nested_close(fit.ranef_postvar(), ref["postvar"])
    np.testing.assert_allclose(fit.get_me("X").to_numpy(), ref["X"], **SAME)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lme4's Hessian fallback, as in R
        wald = fit.confint(method="Wald")
    assert list(wald.index) == list(ref["wald"].index)
    assert list(wald.columns) == list(ref["wald"].columns)
    np.testing.assert_allclose(wald.to_numpy(), ref["wald"].to_numpy(), **SAME)


def _assert_nested_close(mine: Any, theirs: Any) -> None:
    """Arrays, or dicts / lists of them (postVar of uncorrelated blocks), equal to R's."""
    if isinstance(theirs, dict):
        assert list(mine) == list(theirs)
        for key in theirs:
            _assert_nested_close(mine[key], theirs[key])
    elif isinstance(theirs, list):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            _assert_nested_close(a, b)
    else:
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), **SAME)


def test_printed_fit_and_summary_are_rs_text(case):
    (fit, summary), ref, _ = case
    assert str(fit) == ref["print"]
    assert str(summary) == ref["summary"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fit.summary_text(digits=6, correlation=False) == ref["summary6"]
    assert summary.title == "Nonlinear mixed model fit by maximum likelihood "
    np.testing.assert_allclose(
        summary.fixed_effects.to_numpy(), ref["coefficients"].to_numpy(), **SAME
    )
    assert list(summary.fixed_effects.columns) == ["Estimate", "Std. Error", "t value"]
    assert_same_series(summary.fit_statistics, ref["aictab"])


def test_messages_are_rs(case):
    (fit, _), ref, _ = case
    assert [f"{c.kind}: {c.text}" for c in fit.messages] == [str(x) for x in ref["said"]]


def test_nagq_is_kept_and_survives_pickling():
    orange = pylme4.datasets.load("Orange")
    for nagq in (0, 1):
        fit = pylme4.nlmer(LOGIS, orange, start=START, data_name="Orange", nAGQ=nagq)
        again = pickle.loads(pickle.dumps(fit))
        assert isinstance(again, pylme4.NlmerFit)
        assert again.nagq == fit.nagq == nagq
        assert_same_series(again.fixef(), fit.fixef())


def test_na_exclude_pads_as_r_does():
    data = python_data(ORANGE_NA, "orange_na")
    fit = pylme4.nlmer(LOGIS, data, start=START, data_name="orange_na", na_action="exclude")
    ref = r(
        f"{ORANGE_NA}\nm <- nlmer({LOGIS}, data = orange_na, start = {START_R}, "
        "na.action = na.exclude)\n"
        "list(fitted = I(unname(fitted(m))), resid = I(unname(residuals(m))))"
    )
    # lme4 pads residuals() for na.exclude but not fitted(): both as R gives them.
    assert len(fit.residuals()) == len(ref["resid"]) == len(data)
    np.testing.assert_allclose(fit.residuals(), ref["resid"], **SAME)
    assert len(fit.fitted()) == len(ref["fitted"])
    np.testing.assert_allclose(fit.fitted(), ref["fitted"], **SAME)


def test_anova_of_two_nlmer_fits_matches_r():
    orange = pylme4.datasets.load("Orange")
    two = "circumference ~ SSlogis(age, Asym, xmid, scal) ~ (Asym | Tree) + (xmid | Tree)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pylme4.nlmer(LOGIS, orange, start=START, data_name="Orange")
        b = pylme4.nlmer(two, orange, start=START, data_name="Orange")
        result = pylme4.anova(a, b)
    fits = (
        f"a <- nlmer({LOGIS}, Orange, start = {START_R})\n"
        f"b <- nlmer({two}, Orange, start = {START_R})\n"
    )
    ref = r(f"suppressWarnings({{{fits}as.data.frame(anova(a, b))}})")
    for column in ("npar", "AIC", "BIC", "logLik", "deviance", "Chisq", "Df", "Pr(>Chisq)"):
        np.testing.assert_allclose(result.table[column], ref[column], **SAME)
    assert str(result) == r_printed(f"{fits}anova(a, b)")


# ---------------------------------------------------------------------------
# What lme4 1.1-31 cannot do for an nlmerMod: refused clearly, and R agrees
# that it fails.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orange_fit() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pylme4.nlmer(LOGIS, pylme4.datasets.load("Orange"), start=START, data_name="Orange")


UNSUPPORTED = {
    "simulate": (lambda f: f.simulate(), "simulate(m)", "simulate"),
    "boot_mer": (lambda f: f.boot_mer(nsim=2, seed=1), "bootMer(m, fixef, nsim = 2)", "boot_mer"),
    "confint_boot": (
        lambda f: f.confint(method="boot", nsim=2),
        "confint(m, method = 'boot', nsim = 2)",
        "method='boot'",
    ),
    "hatvalues": (lambda f: f.hatvalues(), "hatvalues(m)", "hatvalues"),
    "predict_newdata": (
        lambda f: f.predict(pylme4.datasets.load("Orange")),
        "predict(m, newdata = Orange)",
        "newdata",
    ),
    "predict_random_only": (
        lambda f: f.predict(random_only=True),
        "predict(m, random.only = TRUE)",
        "random_only",
    ),
    "predict_newparams": (
        lambda f: f.predict(newparams={"beta": list(f.fixef())}),
        "predict(m, newparams = list(beta = fixef(m), theta = getME(m, 'theta'), "
        "sigma = sigma(m)))",
        "newparams",
    ),
    "influence": (
        lambda f: f.influence(groups="Tree"),
        "influence(m, groups = 'Tree')",
        "influence",
    ),
    "emmeans": (lambda f: f.emmeans("1"), "emmeans::emmeans(m, ~1)", "emmeans"),
    "wald_anova": (lambda f: f.wald_anova(), "car::Anova(m)", "wald_anova"),
    "get_me_mmList": (lambda f: f.get_me("mmList"), "getME(m, 'mmList')", "mmList"),
    "get_me_p_i": (lambda f: f.get_me("p_i"), "getME(m, 'p_i')", "p_i"),
    "model_matrix_raw": (
        lambda f: f.model_matrix("randomListRaw"),
        "model.matrix(m, type = 'randomListRaw')",
        "randomListRaw",
    ),
}


@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_what_lme4_cannot_do_is_refused(orange_fit, name):
    call, r_call, culprit = UNSUPPORTED[name]
    with pytest.raises(ArgumentError, match=culprit) as info:
        call(orange_fit)
    assert "nlmer fits" in str(info.value)
    failed = r(
        f"m <- suppressWarnings(nlmer({LOGIS}, Orange, start = {START_R}))\n"
        f"inherits(tryCatch(suppressWarnings({r_call}), error = function(e) e), 'error')"
    )
    assert failed is True
    assert_same_series(orange_fit.fixef(), r(f"fixef(nlmer({LOGIS}, Orange, start = {START_R}))"))


def test_predict_re_form_is_refused(orange_fit):
    # lme4 1.1-31 returns one value per parameter and row here (wrong, not an error).
    n = r(f"length(predict(nlmer({LOGIS}, Orange, start = {START_R}), re.form = NA))")
    assert n != orange_fit.nobs
    with pytest.raises(ArgumentError, match="re_form"):
        orange_fit.predict(re_form="NA")


def test_all_fit_is_refused_as_r_fails_with_every_optimizer(orange_fit):
    failed = r(
        f"m <- suppressWarnings(nlmer({LOGIS}, Orange, start = {START_R}))\n"
        "a <- suppressMessages(suppressWarnings(allFit(m, verbose = FALSE)))\n"
        "all(vapply(a, function(x) inherits(x, 'error'), TRUE))"
    )
    assert failed is True
    with pytest.raises(ArgumentError, match="all_fit"):
        orange_fit.all_fit()


def test_profile_failure_is_rs_error_translated(orange_fit):
    with pytest.raises(RError, match="step factor reduced") as info:
        orange_fit.confint()
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------
# Bad input: one sentence naming the culprit; R keeps working.
# ---------------------------------------------------------------------------

ORANGE_BAD = [
    ("missing_start", LOGIS, None, {}, ArgumentError, r"start is missing.*'Asym': \.\.\."),
    (
        "start_name_not_in_model",
        LOGIS,
        {"Asym": 200, "xmid": 725, "scl": 350},
        {},
        ArgumentError,
        r"start names 'scl'.*did you mean 'scal'",
    ),
    (
        "start_lacks_a_parameter",
        LOGIS,
        {"Asym": 200, "xmid": 725},
        {},
        ArgumentError,
        r"start has no value for 'scal'",
    ),
    (
        "start_not_a_dict",
        LOGIS,
        "c(Asym = 200)",
        {},
        ArgumentTypeError,
        r"start must be a dict",
    ),
    (
        "start_value_string",
        LOGIS,
        {"Asym": "200", "xmid": 725, "scal": 350},
        {},
        ArgumentTypeError,
        r"start\['Asym'\] must be a number",
    ),
    (
        "start_value_nan",
        LOGIS,
        {"Asym": float("nan"), "xmid": 725, "scal": 350},
        {},
        ArgumentError,
        r"start\['Asym'\] must be finite",
    ),
    (
        "start_nlpars_other_key",
        LOGIS,
        {"nlpars": START, "thet": 1},
        {},
        ArgumentError,
        r"not 'thet'",
    ),
    (
        "not_self_start",
        "circumference ~ exp(age * Asym) ~ Asym | Tree",
        {"Asym": 1},
        {},
        FormulaError,
        r"model 'exp' is not one of R's self-starting models",
    ),
    (
        "two_part_formula",
        "circumference ~ SSlogis(age, Asym, xmid, scal)",
        START,
        {},
        FormulaError,
        r"three parts",
    ),
    (
        "column_typo",
        "circumference ~ SSlogis(agee, Asym, xmid, scal) ~ Asym | Tree",
        START,
        {},
        FormulaError,
        r"'agee'.*did you mean 'age'",
    ),
    (
        "random_effect_parameter_typo",
        "circumference ~ SSlogis(age, Asym, xmid, scal) ~ Asim | Tree",
        START,
        {},
        FormulaError,
        r"'Asim'.*did you mean 'Asym'",
    ),
    (
        "model_lacks_argument",
        "circumference ~ SSlogis(age, Asym, xmid) ~ Asym | Tree",
        START,
        {},
        FormulaError,
        r"lacks the argument 'scal'",
    ),
    (
        "parameter_not_a_name",
        "circumference ~ SSlogis(age, Asym, 700, scal) ~ Asym | Tree",
        START,
        {},
        FormulaError,
        r"parameter 'xmid'.*must be a name",
    ),
    (
        "syntax_error",
        "circumference ~ SSlogis(age ~ Asym | Tree",
        START,
        {},
        FormulaError,
        "valid R",
    ),
    ("nagq_3", LOGIS, START, {"nAGQ": 3}, ArgumentError, r"nAGQ must be 0 or 1"),
    ("nagq_text", LOGIS, START, {"nAGQ": "1"}, ArgumentTypeError, r"nAGQ"),
    ("na_action", LOGIS, START, {"na_action": "drop"}, ArgumentError, r"na_action"),
]


@pytest.mark.parametrize("row", ORANGE_BAD, ids=[row[0] for row in ORANGE_BAD])
def test_bad_input(row):
    _, formula, start, kwargs, error, culprit = row
    orange = pylme4.datasets.load("Orange")
    with pytest.raises(error, match=culprit) as info:
        pylme4.nlmer(formula, orange, start=start, data_name="Orange", **kwargs)
    message = str(info.value)
    assert isinstance(info.value, PylmeError)
    assert "Error in" not in message and "\n" not in message, message
    fit = pylme4.nlmer(LOGIS, orange, start=START, data_name="Orange")  # R still works
    assert_same_series(fit.fixef(), r(f"fixef(nlmer({LOGIS}, Orange, start = {START_R}))"))


@pytest.mark.parametrize(
    "start",
    [{"Asym": 1, "xmid": 1, "scal": 1}, {"Asym": 0, "xmid": 725, "scal": 0}],
    ids=["far", "zero"],
)
def test_poor_starting_values_say_so(start):
    orange = pylme4.datasets.load("Orange")
    start_r = ", ".join(f"{k} = {v}" for k, v in start.items())
    r_said = r(
        f"tryCatch(nlmer({LOGIS}, Orange, start = c({start_r})), "
        "error = function(e) conditionMessage(e))"
    )
    with pytest.raises(RError, match="could not improve on the starting values") as info:
        pylme4.nlmer(LOGIS, orange, start=start, data_name="Orange")
    assert info.value.r_message == r_said
    assert r_said.splitlines()[0] in str(info.value)


def test_infinite_values_are_named_not_blamed_on_start():
    orange = pylme4.datasets.load("Orange")
    orange.loc[3, "age"] = np.inf
    r_said = r(
        "d <- as.data.frame(Orange); d$age[4] <- Inf\n"
        f"tryCatch(nlmer({LOGIS}, d, start = {START_R}), error = function(e) conditionMessage(e))"
    )
    with pytest.raises(DataError, match=r"column 'age' is infinite in 1 row \(index 3\)") as info:
        pylme4.nlmer(LOGIS, orange, start=START, data_name="Orange")
    assert info.value.r_message == r_said


def test_model_input_must_be_numeric():
    orange = pylme4.datasets.load("Orange")
    orange["age"] = orange["age"].astype(str)
    with pytest.raises(DataError, match=r"column 'age' is an input of nlmer's model"):
        pylme4.nlmer(LOGIS, orange, start=START, data_name="Orange")
    said = r(
        "d <- as.data.frame(Orange); d$age <- as.character(d$age)\n"
        f"tryCatch(nlmer({LOGIS}, d, start = {START_R}), error = function(e) conditionMessage(e))"
    )
    assert said == "non-numeric argument to binary operator"  # R names no column


def test_r_names_the_same_mistakes_without_the_culprit():
    """The rows above are caught before R, whose own messages name nothing."""
    said = r(
        "msg <- function(e) tryCatch({e; ''}, error = function(x) conditionMessage(x))\n"
        f"c(missing = msg(nlmer({LOGIS}, Orange)),\n"
        f"  name = msg(nlmer({LOGIS}, Orange, start = c(Asym = 200, xmid = 725, scl = 350))),\n"
        "  not_ss = msg(nlmer(circumference ~ exp(age * Asym) ~ Asym | Tree, Orange,\n"
        "                     start = c(Asym = 1))))"
    )
    assert "is not TRUE" in said["missing"]
    assert "are not all TRUE" in said["name"]
    assert "gradient" in said["not_ss"]


def test_column_needing_backticks_is_refused_as_lme4_cannot_use_it():
    orange = pylme4.datasets.load("Orange").rename(columns={"age": "tree age"})
    formula = "circumference ~ SSlogis(`tree age`, Asym, xmid, scal) ~ Asym | Tree"
    with pytest.raises(FormulaError, match=r"'tree age'.*rename it.*'tree\.age'"):
        pylme4.nlmer(formula, orange, start=START)
    said = r(
        "d <- as.data.frame(Orange); names(d)[names(d) == 'age'] <- 'tree age'\n"
        f"tryCatch(nlmer({formula}, d, start = {START_R}), "
        "error = function(e) conditionMessage(e))"
    )
    assert "unexpected symbol" in said  # lme4 pastes the name without backticks
    renamed = orange.rename(columns={"tree age": "tree.age"})
    fit = pylme4.nlmer(formula.replace("`tree age`", "tree.age"), renamed, start=START)
    assert_same_series(fit.fixef(), r(f"fixef(nlmer({LOGIS}, Orange, start = {START_R}))"))


def test_stats_prefix_is_accepted():
    orange = pylme4.datasets.load("Orange")
    fit = pylme4.nlmer(LOGIS.replace("SSlogis", "stats::SSlogis"), orange, start=START)
    assert_same_series(fit.fixef(), r(f"fixef(nlmer({LOGIS}, Orange, start = {START_R}))"))


def test_re_pca_and_postvar_equal_r(orange_fit):
    # rePCA() and ranef(condVar = TRUE) work for an nlmerMod in lme4 1.1-31.
    pca = orange_fit.re_pca()
    expected = r(
        f"m <- suppressWarnings(nlmer({LOGIS}, Orange, start = {START_R}))\nrePCA(m)$Tree$sdev"
    )
    np.testing.assert_allclose(pca["Tree"].sdev, np.atleast_1d(expected), **SAME)
    postvar = orange_fit.ranef(cond_var=True).postvar["Tree"]
    expected = r(
        f"m <- suppressWarnings(nlmer({LOGIS}, Orange, start = {START_R}))\n"
        "as.numeric(attr(ranef(m, condVar = TRUE)$Tree, 'postVar'))"
    )
    np.testing.assert_allclose(postvar.ravel(), np.atleast_1d(expected), **SAME)


def test_tidy_glance_and_r2_equal_r():
    # broom.mixed and performance accept an nlmerMod: their numbers, computed in R.
    # A fresh fit: lme4's finite-difference Hessian (behind the standard
    # errors) evaluates the deviance on the fit's own internal state, which
    # earlier calls leave at other parameter values (the last digits move).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        orange_fit = pylme4.nlmer(
            LOGIS, pylme4.datasets.load("Orange"), start=START, data_name="Orange"
        )
    fit_r = f"m <- suppressWarnings(nlmer({LOGIS}, Orange, start = {START_R}))\n"
    assert_same_table(
        orange_fit.tidy(),
        r(fit_r + "as.data.frame(suppressWarnings(broom.mixed::tidy(m)))"),
    )
    assert_same_table(orange_fit.glance(), r(fit_r + "as.data.frame(broom.mixed::glance(m))"))
    r2 = orange_fit.r2()
    expected = r(fit_r + "unlist(suppressWarnings(performance::r2_nakagawa(m)))")
    np.testing.assert_allclose(
        [r2.conditional, r2.marginal], np.asarray(expected, dtype=float), **SAME
    )
