"""pylme4.glmer / glmer_nb against R's glmer / glmer.nb, fitted in the same
process on the same data.

Each case names the data (an R expression; the Python side receives it through
pylme4's R -> pandas conversion and sends it back through pandas -> R), the
formula and options as a Python user gives them, and the call as an R user
types it.  The computation is the same on both sides, so numbers must agree to
rtol=1e-12; printed text, warnings and the stored call must agree exactly.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cbpp_r import CBIND, CBIND_BIG, CBPP_BIG
from conftest import (
    R_OUT,
    SAME,
    assert_estimates_match_r,
    assert_same_series,
    assert_same_table,
    python_data,
    r,
    r_apply,
    r_printed,
    r_reference,
)

import pylme4
from pylme4.errors import ConvergenceWarning, DataError, RError, RWarning


@dataclass(frozen=True)
class FromData:
    """A keyword argument given as an array: this column of the data."""

    column: str


@dataclass(frozen=True)
class Case:
    id: str
    data_name: str
    setup: str  # R code that binds `data_name` (and anything the call uses)
    formula: str
    r_call: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    fun: str = "glmer"


# cbpp as one row per animal: a 0/1 response.
CBPP01 = (
    "cbpp01 <- with(cbpp, data.frame(herd = rep(herd, size), period = rep(period, size), "
    "y = unlist(mapply(function(i, n) rep(c(1L, 0L), c(i, n - i)), incidence, size))))"
)
# Counts with an exposure, a random intercept and slope per group.
POIS = (
    "set.seed(3); pois <- data.frame(g = gl(15, 12), x = rnorm(180), e = runif(180, 0.5, 3)); "
    "b0 <- rnorm(15, sd = 0.5); b1 <- rnorm(15, sd = 0.3); "
    "pois$y <- rpois(180, pois$e * exp(0.3 + (0.6 + b1[pois$g]) * pois$x + b0[pois$g])); "
    "pois$loge <- log(pois$e)"
)
# Overdispersed counts for the negative binomial.
NB = (
    "set.seed(101); nbdat <- data.frame(f = gl(10, 20), x = rnorm(200)); "
    "nbdat$y <- rnbinom(200, mu = exp(1 + 0.5 * nbdat$x + rnorm(10)[nbdat$f]), size = 2)"
)
# Counts over an exposure time t, for a negative binomial with an offset.
NB_T = (
    NB + "; nbdat$t <- runif(200, 1, 4); nbdat$logt <- log(nbdat$t); "
    "nbdat$y2 <- rnbinom(200, mu = nbdat$t * exp(0.5 + 0.5 * nbdat$x + rnorm(10)[nbdat$f]), "
    "size = 3)"
)
# 0/1 data without group differences: the group variance is estimated as 0.
SINGULAR = (
    "set.seed(1); sing <- data.frame(g = gl(8, 15), x = rnorm(120)); "
    "sing$y <- rbinom(120, 1, plogis(-0.5 + 0.8 * sing$x))"
)
# Positive, skewed responses for Gamma and inverse Gaussian.
GAMMA = (
    "set.seed(2); gam <- data.frame(g = gl(12, 10), x = runif(120)); "
    "gam$y <- rgamma(120, shape = 3, rate = 3 / exp(0.5 + gam$x + rnorm(12, sd = 0.4)[gam$g]))"
)
CBPP_NA = "cbpp_na <- cbpp; cbpp_na$incidence[c(3, 20)] <- NA; cbpp_na$period[40] <- NA"

CASES = [
    Case(
        "binomial_cbind",
        "cbpp",
        "",
        CBIND,
        f"glmer({CBIND}, data = cbpp, family = binomial)",
        {"family": "binomial"},
    ),
    Case(
        "binomial_probit_family_object",
        "cbpp",
        "",
        CBIND,
        f'glmer({CBIND}, data = cbpp, family = binomial(link = "probit"))',
        {"family": pylme4.Family("binomial", "probit")},
    ),
    Case(
        "binomial_cloglog_r_code",
        "cbpp",
        "",
        CBIND,
        f'glmer({CBIND}, data = cbpp, family = binomial(link = "cloglog"))',
        {"family": 'binomial(link = "cloglog")'},
    ),
    Case(
        "binary_0_1",
        "cbpp01",
        CBPP01,
        "y ~ period + (1 | herd)",
        "glmer(y ~ period + (1 | herd), data = cbpp01, family = binomial)",
        {"family": "binomial"},
    ),
    Case(
        "proportion_weights_column",
        "cbpp",
        "",
        "incidence/size ~ period + (1 | herd)",
        "glmer(incidence/size ~ period + (1 | herd), data = cbpp, family = binomial, weights = size)",
        {"family": "binomial", "weights": "size"},
    ),
    Case(
        "proportion_weights_array",
        "cbpp",
        ".weights <- cbpp$size",
        "incidence/size ~ period + (1 | herd)",
        "glmer(incidence/size ~ period + (1 | herd), data = cbpp, family = binomial, "
        "weights = .weights)",
        {"family": "binomial", "weights": FromData("size")},
    ),
    Case(
        "nagq_9",
        "cbpp",
        "",
        CBIND,
        f"glmer({CBIND}, data = cbpp, family = binomial, nAGQ = 9)",
        {"family": "binomial", "nAGQ": 9},
    ),
    Case(
        "nagq_0",
        "cbpp",
        "",
        CBIND,
        f"glmer({CBIND}, data = cbpp, family = binomial, nAGQ = 0)",
        {"family": "binomial", "nAGQ": 0},
    ),
    Case(
        "control_dict",
        "cbpp",
        "",
        CBIND,
        f'glmer({CBIND}, data = cbpp, family = binomial, control = glmerControl(optimizer = "bobyqa"))',
        {"family": "binomial", "control": {"optimizer": "bobyqa"}},
    ),
    Case(
        "contrasts",
        "cbpp",
        "",
        CBIND,
        f'glmer({CBIND}, data = cbpp, family = binomial, contrasts = list(period = "contr.sum"))',
        {"family": "binomial", "contrasts": {"period": "contr.sum"}},
    ),
    Case(
        "na_exclude",
        "cbpp_na",
        CBPP_NA,
        CBIND,
        f"glmer({CBIND}, data = cbpp_na, family = binomial, na.action = na.exclude)",
        {"family": "binomial", "na_action": "exclude"},
    ),
    Case(
        "poisson_offset_column_random_slope",
        "pois",
        POIS,
        "y ~ x + (x | g)",
        "glmer(y ~ x + (x | g), data = pois, family = poisson, offset = loge)",
        {"family": "poisson", "offset": "loge"},
    ),
    Case(
        "poisson_offset_in_formula",
        "pois",
        POIS,
        "y ~ x + offset(log(e)) + (1 | g)",
        "glmer(y ~ x + offset(log(e)) + (1 | g), data = pois, family = poisson)",
        {"family": "poisson"},
    ),
    Case(
        "poisson_crossed_warns",
        "grouseticks",
        "",
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        "glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), "
        "data = grouseticks, family = poisson)",
        {"family": "poisson"},
    ),
    Case(
        "binomial_badly_scaled_warns",
        "cbpp_big",
        CBPP_BIG,
        CBIND_BIG,
        f"glmer({CBIND_BIG}, data = cbpp_big, family = binomial)",
        {"family": "binomial"},
    ),
    Case(
        "negative_binomial",
        "nbdat",
        NB,
        "y ~ x + (1 | f)",
        "glmer.nb(y ~ x + (1 | f), data = nbdat)",
        fun="glmer_nb",
    ),
    Case(
        "negative_binomial_offset_control",
        "nbdat",
        NB_T,
        "y2 ~ x + (1 | f)",
        "glmer.nb(y2 ~ x + (1 | f), data = nbdat, offset = logt, "
        'control = glmerControl(optimizer = "bobyqa"))',
        {"offset": "logt", "control": {"optimizer": "bobyqa"}},
        fun="glmer_nb",
    ),
    Case(
        "binomial_singular",
        "sing",
        SINGULAR,
        "y ~ x + (1 | g)",
        "glmer(y ~ x + (1 | g), data = sing, family = binomial)",
        {"family": "binomial"},
    ),
    Case(
        "gamma_log",
        "gam",
        GAMMA,
        "y ~ x + (1 | g)",
        'glmer(y ~ x + (1 | g), data = gam, family = Gamma(link = "log"))',
        {"family": pylme4.Family("Gamma", "log")},
    ),
    Case(
        "gamma_inverse",
        "gam",
        GAMMA,
        "y ~ x + (1 | g)",
        "glmer(y ~ x + (1 | g), data = gam, family = Gamma)",
        {"family": "Gamma"},
    ),
    Case(
        "inverse_gaussian_log",
        "gam",
        GAMMA,
        "y ~ x + (1 | g)",
        'glmer(y ~ x + (1 | g), data = gam, family = inverse.gaussian(link = "log"))',
        {"family": 'inverse.gaussian(link = "log")'},
    ),
    Case(
        "gaussian_log",
        "gam",
        GAMMA,
        "y ~ x + (1 | g)",
        'glmer(y ~ x + (1 | g), data = gam, family = gaussian(link = "log"))',
        {"family": pylme4.Family("gaussian", "log")},
    ),
]

# What the glmer tests compare besides conftest's reference (r_reference()).
_GLMER_CODE = """
  fam <- family(m)
  vc <- as.data.frame(VarCorr(m), order = "lower.tri")
"""
_GLMER_ITEMS = """
    call = paste(deparse(m@call), collapse = " "),
    resid_types = lapply(c(deviance = "deviance", pearson = "pearson", response = "response",
                           working = "working"),
                         function(t) unname(residuals(m, type = t))),
    predict_link = unname(predict(m)),
    predict_response = unname(predict(m, type = "response")),
    family = fam$family, link = fam$link, nagq = m@devcomp$dims[["nAGQ"]],
    nb_theta = if (startsWith(fam$family, "Negative Binomial")) getME(m, "glmer.nb.theta") else NULL,
    aictab = s$AICtab,
    coefficients = as.data.frame(s$coefficients, check.names = FALSE),
    scaled_residuals = unname(quantile(s$residuals, na.rm = TRUE)),
    ran_sd = as.list(vc$sdcor), ran_grp = as.list(vc$grp),
    ran_sd_var = as.list(vc$sdcor[is.na(vc$var2)]),
    tidy = as.data.frame(broom.mixed::tidy(m))
"""


def _fit(case: Case, data: pd.DataFrame) -> tuple[pylme4.GlmerFit, list[warnings.WarningMessage]]:
    kwargs = {
        k: (data[v.column].to_numpy() if isinstance(v, FromData) else v)
        for k, v in case.kwargs.items()
    }
    fun = getattr(pylme4, case.fun)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fun(case.formula, data, data_name=case.data_name, **kwargs)
    return fit, caught


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def pair(request: pytest.FixtureRequest):
    case: Case = request.param
    fit, caught = _fit(case, python_data(case.setup, case.data_name))
    ref = r_reference(case.r_call, case.setup, code=_GLMER_CODE, items=_GLMER_ITEMS.strip())
    return case, fit, caught, ref


def test_estimates(pair):
    _, fit, _, ref = pair
    assert isinstance(fit, pylme4.GlmerFit)
    assert_estimates_match_r(fit, ref)


def test_family(pair):
    _, fit, _, ref = pair
    assert fit.family == ref["family"]
    assert fit.link == ref["link"]
    assert fit.nagq == ref["nagq"]
    if ref["nb_theta"] is None:
        assert fit.nb_theta is None
    else:
        np.testing.assert_allclose(fit.nb_theta, ref["nb_theta"], **SAME)


def test_call_reads_as_typed_in_r(pair):
    _, fit, _, ref = pair
    call = r_apply("function(m) paste(deparse(m@call), collapse = ' ')", fit._handle)
    assert call == ref["call"]


def test_vcov(pair):
    _, fit, _, ref = pair
    vc = fit.vcov()
    assert list(vc.columns) == list(ref["vcov"].columns)
    np.testing.assert_allclose(vc.to_numpy(), ref["vcov"].to_numpy(), **SAME)


def test_ranef_coef_var_corr(pair):
    _, fit, _, ref = pair
    ranef = fit.ranef()
    assert list(ranef) == list(ref["ranef"])
    for group, part in ref["ranef"].items():
        assert list(ranef[group].index.astype(str)) == [str(x) for x in part["levels"]]
        assert list(ranef[group].columns) == list(part["values"].columns)
        np.testing.assert_allclose(ranef[group].to_numpy(), part["values"].to_numpy(), **SAME)
    coef = fit.coef()
    for group, frame in ref["coef"].items():
        assert list(coef[group].columns) == list(frame.columns)
        np.testing.assert_allclose(coef[group].to_numpy(), frame.to_numpy(), **SAME)
    vc, expected = fit.var_corr(), ref["varcorr"]
    assert list(vc["grp"]) == list(expected["grp"])
    np.testing.assert_allclose(vc["vcov"], expected["vcov"], **SAME)
    np.testing.assert_allclose(vc["sdcor"], expected["sdcor"], **SAME)


def test_fitted_residuals_predict(pair):
    _, fit, _, ref = pair
    assert_same_series(fit.fitted(), ref["fitted"])
    # lme4's default residuals for a GLMM are deviance residuals.
    assert_same_series(fit.residuals(), ref["resid"])
    for kind, values in ref["resid_types"].items():
        assert_same_series(fit.residuals(type=kind), values)
    assert_same_series(fit.residuals(type="pearson", scaled=True), ref["pearson"])
    assert_same_series(fit.predict(), ref["predict_link"])
    assert_same_series(fit.predict(type="response"), ref["predict_response"])
    assert_same_series(fit.predict(re_form="NA", type="response"), ref["predict_pop"])


def test_printed_text_is_r_text(pair):
    _, fit, _, ref = pair
    assert str(fit) == ref["print"]
    assert str(fit.summary()) == ref["summary"]


def test_summary_fields(pair):
    _, fit, _, ref = pair
    s = fit.summary()
    assert isinstance(s, pylme4.GlmerSummary)
    assert (s.family, s.link) == (ref["family"], ref["link"])
    assert list(s.fit_statistics.index) == ["AIC", "BIC", "logLik", "deviance", "df.resid"]
    np.testing.assert_allclose(s.fit_statistics, ref["aictab"], **SAME)
    coefs = ref["coefficients"]
    assert list(s.fixed_effects.columns) == list(coefs.columns)
    assert list(s.fixed_effects.columns)[-1] == "Pr(>|z|)"
    np.testing.assert_allclose(s.fixed_effects.to_numpy(), coefs.to_numpy(), **SAME)
    np.testing.assert_allclose(s.scaled_residuals, ref["scaled_residuals"], **SAME)
    np.testing.assert_allclose(s.random_effects["Std.Dev."], ref["ran_sd_var"], **SAME)
    assert s.nobs == ref["nobs"]


def test_tidy(pair):
    """tidy() is broom.mixed's tidy() (z or t tests, Wald p-values, no df)."""
    _, fit, _, ref = pair
    assert_same_table(fit.tidy(), ref["tidy"])


def test_warnings_are_r_warnings(pair):
    """What R said while fitting is kept on the fit, in order, and raised as
    Python warnings of the matching class."""
    _, fit, caught, ref = pair
    said = [str(x) for x in ref["said"]]
    assert [f"{c.kind}: {c.text}" for c in fit.messages] == said
    assert [(w.category, str(w.message)) for w in caught] == [
        (c.category, c.text) for c in fit.messages
    ]


# ---------------------------------------------------------------------------
# Convergence warnings
# ---------------------------------------------------------------------------


def test_convergence_warnings_carry_lme4_text():
    ticks = pylme4.datasets.load("grouseticks")
    with pytest.warns(ConvergenceWarning) as caught:
        fit = pylme4.glmer(
            "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
            ticks,
            family="poisson",
            data_name="grouseticks",
        )
    assert all(w.filename == __file__ for w in caught)  # points at the caller's line
    texts = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert any(t.startswith("Model failed to converge with max|grad| = ") for t in texts)
    assert any("very large eigenvalue" in t for t in texts)
    expected = r(
        "m <- suppressWarnings(glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + "
        "(1 | LOCATION), data = grouseticks, family = poisson))\n"
        "as.list(unlist(m@optinfo$conv$lme4$messages))"
    )
    assert fit.summary().optimizer_messages == tuple(expected)
    assert fit.summary().text.rstrip("\n").endswith(expected[-1])


def test_optimizer_limit_warns_like_r():
    cbpp = pylme4.datasets.load("cbpp")
    with pytest.warns(ConvergenceWarning):
        fit = pylme4.glmer(
            CBIND, cbpp, family="binomial", data_name="cbpp", control={"optCtrl": {"maxfun": 10}}
        )
    expected = r(
        "said <- character()\n"
        f"m <- withCallingHandlers(glmer({CBIND}, data = cbpp, family = binomial, "
        "control = glmerControl(optCtrl = list(maxfun = 10))), warning = function(w) {\n"
        "  said <<- c(said, conditionMessage(w)); invokeRestart('muffleWarning') })\n"
        "as.list(said)"
    )
    assert [c.text for c in fit.messages] == expected
    assert all(c.category is ConvergenceWarning for c in fit.messages)
    assert any("max|grad|" in c.text for c in fit.messages)


# ---------------------------------------------------------------------------
# Other behaviour
# ---------------------------------------------------------------------------


def test_predict_newdata_matches_r():
    cbpp = pylme4.datasets.load("cbpp")
    fit = pylme4.glmer(CBIND, cbpp, family="binomial", data_name="cbpp")
    new = pd.DataFrame(
        {
            "period": pd.Categorical(["1", "3", "4"], categories=["1", "2", "3", "4"]),
            "herd": ["2", "7", "99"],
        },
        index=["a", "b", "c"],
    )
    code = (
        f"function(new) {{ m <- glmer({CBIND}, data = cbpp, family = binomial)\n"
        "  list(link = unname(predict(m, newdata = new, allow.new.levels = TRUE)),\n"
        "       response = unname(predict(m, newdata = new, type = 'response',"
        " allow.new.levels = TRUE)),\n"
        "       pop = unname(predict(m, newdata = new, re.form = ~0, type = 'response'))) }"
    )
    expected = r_apply(code, new)
    link = fit.predict(new, allow_new_levels=True)
    assert list(link.index) == ["a", "b", "c"]
    np.testing.assert_allclose(link, expected["link"], **SAME)
    np.testing.assert_allclose(
        fit.predict(new, allow_new_levels=True, type="response"), expected["response"], **SAME
    )
    np.testing.assert_allclose(
        fit.predict(new, re_form="~0", type="response"), expected["pop"], **SAME
    )
    with pytest.raises(ValueError, match="type must be 'link' or 'response'"):
        fit.predict(type="probability")  # type: ignore[arg-type]


def test_gaussian_identity_is_lmer_shortcut_as_in_r():
    """lme4 warns that glmer(family = gaussian) is a deprecated shortcut to lmer()."""
    data = r(f"{GAMMA}\ngam")
    with pytest.warns(RWarning, match="shortcut to lmer"):
        fit = pylme4.glmer("y ~ x + (1 | g)", data, family="gaussian", data_name="gam")
    ref = r(
        f"{GAMMA}\n{R_OUT}"
        "m <- suppressWarnings(glmer(y ~ x + (1 | g), data = gam, family = gaussian))\n"
        "list(cls = class(m)[[1]], summary = out(summary(m)), fixef = fixef(m))"
    )
    assert ref["cls"] == "lmerMod"
    assert str(fit.summary()) == ref["summary"]
    assert (fit.family, fit.link, fit.nagq) == ("gaussian", "identity", None)
    assert_same_series(fit.fixef(), ref["fixef"])


def test_pickle_round_trip():
    data = r(f"{NB}\nnbdat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pylme4.glmer_nb("y ~ x + (1 | f)", data, data_name="nbdat")
    back = pickle.loads(pickle.dumps(fit))
    assert type(back) is pylme4.GlmerFit
    assert str(back.summary()) == str(fit.summary())
    assert back.nb_theta == fit.nb_theta
    assert_same_series(back.residuals(), fit.residuals())


@pytest.mark.parametrize(
    "convert",
    ["cbpp01$y <- cbpp01$y == 1L", "cbpp01$y <- factor(cbpp01$y, labels = c('no', 'yes'))"],
    ids=["logical", "factor"],
)
def test_logical_and_factor_responses_as_r(convert):
    """A binomial response may be logical or a factor (first level = failure), as in R."""
    data = r(f"{CBPP01}\n{convert}\ncbpp01")
    fit = pylme4.glmer("y ~ period + (1 | herd)", data, family="binomial", data_name="cbpp01")
    expected = r(
        f"{CBPP01}\n{convert}\n{R_OUT}"
        "m <- glmer(y ~ period + (1 | herd), data = cbpp01, family = binomial)\n"
        "list(fixef = fixef(m), summary = out(summary(m)))"
    )
    assert_same_series(fit.fixef(), expected["fixef"])
    assert str(fit.summary()) == expected["summary"]


def test_family_links_are_r_links():
    """Every link Family accepts is one R's families accept, for every family."""
    from pylme4.families import FAMILIES, LINKS

    for name in FAMILIES:
        for link in LINKS:
            code = pylme4.Family(name, link).r_code
            got = r(f"f <- {code}; c(f$family, f$link)")
            assert list(got) == [name, link]
        assert r(f"{name}()$family") == name


def test_family_is_checked_before_r():
    cbpp = pylme4.datasets.load("cbpp")
    with pytest.raises(ValueError, match="did you mean 'Gamma'"):
        pylme4.glmer(CBIND, cbpp, family="gamma")
    with pytest.raises(ValueError, match="no quasi families"):
        pylme4.glmer(CBIND, cbpp, family="quasibinomial")
    with pytest.raises(ValueError, match="glmer_nb"):
        pylme4.glmer(CBIND, cbpp, family="negative.binomial")
    with pytest.raises(ValueError, match="not one of R's links"):
        pylme4.Family("binomial", "logistic")
    with pytest.raises(TypeError, match="family must be"):
        pylme4.glmer(CBIND, cbpp, family=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nAGQ must be a whole number"):
        pylme4.glmer(CBIND, cbpp, family="binomial", nAGQ=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nAGQ must be a whole number from 0 to 100"):
        pylme4.glmer(CBIND, cbpp, family="binomial", nAGQ=-1)
    with pytest.raises(DataError, match="name of the family"):
        pylme4.glmer(CBIND, cbpp, family="binomial", data_name="binomial")
    with pytest.raises(TypeError, match="glmerControl"):
        pylme4.glmer(CBIND, cbpp, family="binomial", control=3)  # type: ignore[arg-type]


def test_r_errors_are_translated_and_the_session_survives():
    cbpp = pylme4.datasets.load("cbpp")
    with pytest.raises(DataError, match="binomial") as exc:
        pylme4.glmer("incidence ~ period + (1 | herd)", cbpp, family="binomial")
    assert "y values must be 0 <= y <= 1" in exc.value.r_message
    negative = cbpp.assign(neg=-cbpp["incidence"])
    with pytest.raises(DataError, match="Poisson"):
        pylme4.glmer("neg ~ period + (1 | herd)", negative, family="poisson")
    with pytest.raises(DataError, match="Gamma"):
        pylme4.glmer("incidence ~ period + (1 | herd)", cbpp, family="Gamma")
    ticks = pylme4.datasets.load("grouseticks")
    with pytest.raises(RError, match="nAGQ > 1 is only available"):
        pylme4.glmer("TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)", ticks, family="poisson", nAGQ=5)
    with pytest.raises(RError, match="link"):
        pylme4.glmer(CBIND, cbpp, family='binomial(link = "nonsense")')
    fit = pylme4.glmer(CBIND, cbpp, family="binomial", data_name="cbpp")
    assert fit.nobs == r(f"nobs(glmer({CBIND}, data = cbpp, family = binomial))")


def test_binomial_example_prints_r_summary(capsys):
    """examples/glmer_binomial.py prints R's own summary of the cbpp model."""
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "glmer_binomial.py"
    runpy.run_path(str(example), run_name="__main__")
    printed = capsys.readouterr().out
    expected = r_printed(f"summary(glmer({CBIND}, data = cbpp, family = binomial))")
    assert expected in printed
    assert "Same estimates from proportions with weights: True" in printed


def test_shared_pieces_still_match_r_for_lmer():
    """What this work changed in shared code (list arguments in the call,
    predict's type) gives R's answers for lmer too."""
    cake = pylme4.datasets.load("cake")
    fit = pylme4.lmer(
        "angle ~ recipe + temp + (1 | recipe:replicate)",
        cake,
        data_name="cake",
        contrasts={"recipe": "contr.sum"},
    )
    ref = r(
        "m <- lmer(angle ~ recipe + temp + (1 | recipe:replicate), data = cake, "
        "contrasts = list(recipe = 'contr.sum'))\n"
        "list(call = paste(deparse(m@call), collapse = ' '), "
        "response = unname(predict(m, type = 'response')))"
    )
    assert (
        r_apply("function(m) paste(deparse(m@call), collapse = ' ')", fit._handle) == (ref["call"])
    )
    assert_same_series(fit.predict(type="response"), ref["response"])


def test_ranef_cond_var_matches_r_postvar():
    cbpp = pylme4.datasets.load("cbpp")
    fit = pylme4.glmer(CBIND, cbpp, family="binomial", data_name="cbpp")
    ranef = fit.ranef()  # condVar = TRUE, lme4's default
    expected = r(
        f"m <- glmer({CBIND}, data = cbpp, family = binomial)\n"
        "re <- ranef(m)$herd\n"
        "list(condsd = sqrt(attr(re, 'postVar')[1, 1, ]), condval = unname(as.matrix(re)))"
    )
    np.testing.assert_allclose(ranef.condsd["herd"].to_numpy().ravel(), expected["condsd"], **SAME)
    np.testing.assert_allclose(ranef["herd"].to_numpy(), expected["condval"], **SAME)
