"""predict(random_only=, newparams=) and pylme4.simulate_formula against R.

Each model is fitted by pylme4 and by R's lme4 in the same process on the
same data; predictions must agree to rtol=1e-12.  Simulations are R's own
draws: for the same seed the numbers are R's exactly.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, python_data, r

import pylme4
from pylme4.errors import ArgumentError, DataError, FormulaError, RMessage

SLEEP_NA = "sleep_na <- sleepstudy; sleep_na$Reaction[c(3, 50, 51)] <- NA; sleep_na$Days[100] <- NA"

# key: (setup, data name, function, formula, Python kwargs, R arguments)
MODELS = {
    "sleepstudy": ("", "sleepstudy", "lmer", "Reaction ~ Days + (Days | Subject)", {}, ""),
    "penicillin": ("", "Penicillin", "lmer", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}, ""),
    "cbpp": (
        "",
        "cbpp",
        "glmer",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        {"family": "binomial"},
        ", family = binomial",
    ),
    "sleep_na": (
        SLEEP_NA,
        "sleep_na",
        "lmer",
        "Reaction ~ Days + (Days | Subject)",
        {"reml": False, "na_action": "exclude"},
        ", REML = FALSE, na.action = na.exclude",
    ),
}

_FITS: dict[str, Any] = {}


def _fit(key: str) -> tuple[Any, pd.DataFrame, str]:
    setup, data_name, fun, formula, kwargs, r_args = MODELS[key]
    if key not in _FITS:
        data = python_data(setup, data_name)
        fit = getattr(pylme4, fun)(formula, data, data_name=data_name, **kwargs)
        _FITS[key] = (fit, data)
    fit, data = _FITS[key]
    r_fit = f"library(lme4)\n{setup}\nm <- {fun}({formula}, data = {data_name}{r_args})\n"
    return fit, data, r_fit


def _r_vector(values: Any) -> str:
    return "c(" + ", ".join(repr(float(v)) for v in values) + ")"


def _r_params(params: dict[str, Any]) -> str:
    parts = []
    for name, value in params.items():
        if isinstance(value, pd.Series):
            names = ", ".join(f'"{n}"' for n in value.index)
            parts.append(f"{name} = setNames({_r_vector(value)}, c({names}))")
        else:
            parts.append(f"{name} = {_r_vector(np.atleast_1d(value))}")
    return "list(" + ", ".join(parts) + ")"


# (model, rows of the data as newdata or None, Python kwargs, R arguments)
PREDICT_CASES = [
    ("sleepstudy", None, {"random_only": True}, "random.only = TRUE"),
    ("sleepstudy", [0, 19, 44, 99], {"random_only": True}, "random.only = TRUE"),
    (
        "penicillin",
        None,
        {"random_only": True, "re_form": "~(1 | plate)"},
        "random.only = TRUE, re.form = ~(1 | plate)",
    ),
    (
        "penicillin",
        [0, 5, 70],
        {"random_only": True, "re_form": "~(1 | sample)"},
        "random.only = TRUE, re.form = ~(1 | sample)",
    ),
    ("penicillin", None, {"re_form": "~(1 | sample)"}, "re.form = ~(1 | sample)"),
    (
        "sleepstudy",
        None,
        {"newparams": {"beta": [250.0, 10.0], "theta": [1.0, 0.1, 0.5]}},
        "newparams = list(beta = c(250, 10), theta = c(1, 0.1, 0.5))",
    ),
    (
        "sleepstudy",
        [0, 19, 44, 99],
        {"newparams": {"beta": [250.0, 10.0]}, "re_form": "NA"},
        "newparams = list(beta = c(250, 10)), re.form = NA",
    ),
    (
        "sleepstudy",
        [0, 19, 44, 99],
        {"newparams": {"theta": [1.0, 0.1, 0.5], "sigma": 20.0}, "random_only": True},
        "newparams = list(theta = c(1, 0.1, 0.5), sigma = 20), random.only = TRUE",
    ),
    (
        "sleepstudy",
        None,
        {
            "newparams": {
                "beta": pd.Series([10.0, 250.0], index=["Days", "(Intercept)"]),
                "theta": [1.0, 0.1, 0.5],
            }
        },
        'newparams = list(beta = c(Days = 10, "(Intercept)" = 250), theta = c(1, 0.1, 0.5))',
    ),
    ("cbpp", None, {"random_only": True}, "random.only = TRUE"),
    (
        "cbpp",
        [0, 10, 30],
        {"newparams": {"beta": [-1.0, -1.0, -1.0, -1.0], "theta": [0.5]}, "type": "response"},
        "newparams = list(beta = c(-1, -1, -1, -1), theta = 0.5), type = 'response'",
    ),
    (
        "cbpp",
        None,
        {"newparams": {"theta": [2.0]}, "random_only": True, "type": "response"},
        "newparams = list(theta = 2), random.only = TRUE, type = 'response'",
    ),
    ("sleep_na", None, {"random_only": True}, "random.only = TRUE"),
    ("sleep_na", None, {"re_form": "~(1 | Subject)"}, "re.form = ~(1 | Subject)"),
    ("sleep_na", [0, 2, 99, 120], {"random_only": True}, "random.only = TRUE"),
    (
        "sleep_na",
        [0, 2, 99, 120],
        {"newparams": {"beta": [250.0, 10.0], "theta": [1.0, 0.1, 0.5]}},
        "newparams = list(beta = c(250, 10), theta = c(1, 0.1, 0.5))",
    ),
    (
        "sleep_na",
        None,
        {"newparams": {"beta": [250.0, 10.0], "theta": [1.0, 0.1, 0.5]}, "re_form": "NA"},
        "newparams = list(beta = c(250, 10), theta = c(1, 0.1, 0.5)), re.form = NA",
    ),
]


@pytest.mark.parametrize(
    "key, rows, kwargs, r_args", PREDICT_CASES, ids=[f"{c[0]}-{c[3]}" for c in PREDICT_CASES]
)
def test_predict_random_only_and_newparams_equal_r(key, rows, kwargs, r_args):
    fit, data, r_fit = _fit(key)
    newdata = None if rows is None else data.iloc[rows]
    nd = "" if rows is None else f"newdata = {MODELS[key][1]}[{_r_vector(np.add(rows, 1))}, ], "
    call = f"suppressMessages(predict(m, {nd}{r_args}))"
    if key == "sleep_na" and rows is None and "re.form = NA" not in r_args:
        # lme4 1.1-31 misaligns this (random effects of all 180 rows added
        # to the fixed part of the 176 used: R warns and gives 184 values);
        # pylme4 predicts for the rows used, as R does when given them.
        assert "longer object length" in r(
            r_fit + f"tryCatch({{ {call}; 'no warning' }}, warning = conditionMessage)"
        )
        used = f"newdata = {MODELS[key][1]}[rownames(model.frame(m)), ], "
        call = (
            'napredict(attr(model.frame(m), "na.action"), '
            f"suppressMessages(predict(m, {used}{r_args})))"
        )
    ref = r(r_fit + call)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)  # "... not named: assuming same order"
        got = fit.predict(newdata=newdata, **kwargs)
    np.testing.assert_allclose(got.to_numpy(), np.asarray(ref, dtype=float), **SAME)
    expected_index = fit.fitted().index if newdata is None else newdata.index
    pd.testing.assert_index_equal(got.index, expected_index)


def test_predict_newparams_messages_are_r_messages():
    fit, _, r_fit = _fit("sleepstudy")
    said = r(
        r_fit + "said <- character()\n"
        "invisible(withCallingHandlers(predict(m, newparams = list(theta = c(1, 0.1, 0.5))),\n"
        "  message = function(c) { said <<- c(said, conditionMessage(c));"
        " invokeRestart('muffleMessage') }))\n"
        "I(sub('\\n$', '', said))"
    )
    with pytest.warns(RMessage) as record:
        fit.predict(newparams={"theta": [1.0, 0.1, 0.5]})
    assert [str(w.message) for w in record if w.category is RMessage] == list(said)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all given, named: R says nothing
        fit.predict(
            newparams={"theta": fit.get_me("theta"), "beta": fit.fixef(), "sigma": fit.sigma}
        )


def test_predict_newparams_checked_before_r():
    fit, _, _ = _fit("sleepstudy")
    with pytest.raises(ArgumentError, match=r"newparams\['beta'\] has 3 values.*2 fixed effects"):
        fit.predict(newparams={"beta": [1.0, 2.0, 3.0]})
    with pytest.raises(ArgumentError, match="'betas'.*did you mean 'beta'"):
        fit.predict(newparams={"betas": [1.0, 2.0]})
    with pytest.raises(ArgumentError, match="sigma"):
        fit.predict(newparams={"sigma": -1.0})
    np.testing.assert_allclose(fit.predict(), fit.fitted(), **SAME)  # the session survives


def test_predict_newparams_sigma_for_binomial_is_refused():
    fit, _, _ = _fit("cbpp")
    with pytest.raises(ArgumentError, match="takes no 'sigma'") as info:
        fit.predict(newparams={"sigma": 2.0})
    assert "params should be" in info.value.r_message  # R's own text is kept


# -- simulate_formula ------------------------------------------------------------

SLEEP_PARAMS = {"beta": [250.0, 10.0], "theta": [1.0, 0.1, 0.5], "sigma": 25.0}
SLEEP_R_PARAMS = "list(beta = c(250, 10), theta = c(1, 0.1, 0.5), sigma = 25)"
CBPP_PARAMS = {"beta": [-1.5, -1.0, -1.2, -1.6], "theta": [0.8]}
CBPP_R_PARAMS = "list(beta = c(-1.5, -1, -1.2, -1.6), theta = 0.8)"

SLEEP = (SLEEP_PARAMS, SLEEP_R_PARAMS)
CBPP = (CBPP_PARAMS, CBPP_R_PARAMS)
UNCORRELATED = (
    {"beta": [250.0, 10.0], "theta": [1.0, 0.5], "sigma": 25.0},
    "list(beta = c(250, 10), theta = c(1, 0.5), sigma = 25)",
)

# (data, formula, (Python newparams, R's), Python kwargs, R arguments after newparams)
SIMULATE_CASES = [
    ("sleepstudy", "~ Days + (Days | Subject)", SLEEP, {}, ""),
    ("sleepstudy", "Reaction ~ Days + (Days | Subject)", SLEEP, {}, ""),
    ("sleepstudy", "~ Days + (Days || Subject)", UNCORRELATED, {}, ""),
    ("sleepstudy", "~ Days + (Days | Subject)", SLEEP, {"cond_sim": False}, "cond.sim = FALSE"),
    (
        "sleepstudy",
        "~ Days + (Days | Subject)",
        SLEEP,
        {"offset": "Days"},
        "offset = sleepstudy$Days",
    ),
    (
        "cbpp",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        CBPP,
        {"family": "binomial"},
        "family = binomial",
    ),
    (
        "cbpp",
        "~ period + (1 | herd)",
        CBPP,
        {"family": "binomial", "weights": "size"},
        "family = binomial, weights = cbpp$size",
    ),
    ("cbpp", "~ period + (1 | herd)", CBPP, {"family": "binomial"}, "family = binomial"),
    (
        "cbpp",
        "~ period + (1 | herd)",
        CBPP,
        {"family": pylme4.Family("binomial", "probit"), "weights": "size"},
        'family = binomial(link = "probit"), weights = cbpp$size',
    ),
    ("cbpp", "~ period + (1 | herd)", CBPP, {"family": "poisson"}, "family = poisson"),
    (
        "cbpp",
        "~ period + (1 | herd)",
        (
            {"beta": [1.0, -0.5, -1.0, -1.5], "theta": [0.5]},
            "list(beta = c(1, -0.5, -1, -1.5), theta = 0.5)",
        ),
        {"family": "MASS::negative.binomial(theta = 2)"},
        "family = MASS::negative.binomial(theta = 2)",
    ),
    (
        "cbpp",
        "incidence ~ period + (1 | herd)",
        CBPP,
        {"family": "poisson", "offset": np.log(np.arange(1.0, 57.0))},
        "family = poisson, offset = log(1:56)",
    ),
]


@pytest.mark.parametrize(
    "data_name, formula, params, kwargs, r_args",
    SIMULATE_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[4]}" for c in SIMULATE_CASES],
)
def test_simulate_formula_equals_r(data_name, formula, params, kwargs, r_args):
    py_params, r_params = params
    data = pylme4.datasets.load(data_name)
    extra = f", {r_args}" if r_args else ""
    ref = r(
        f"library(lme4); sims <- suppressMessages(simulate({formula}, nsim = 3, seed = 42, "
        f"newdata = {data_name}, newparams = {r_params}{extra}))\n"
        "list(values = unname(do.call(cbind, lapply(sims, as.matrix))), names = I(names(sims)),"
        " ncol = I(vapply(sims, NCOL, 0L)))"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)
        got = pylme4.simulate_formula(formula, data, py_params, nsim=3, seed=42, **kwargs)
    prefixes = [c.split(".")[0] if "cbind" in formula else c for c in got.columns]
    assert prefixes == [n for n, k in zip(ref["names"], ref["ncol"]) for _ in range(k)]
    np.testing.assert_allclose(got.to_numpy(), ref["values"].to_numpy(dtype=float), **SAME)
    pd.testing.assert_index_equal(got.index, data.index)


def test_simulate_formula_cbind_columns_and_index():
    cbpp = pylme4.datasets.load("cbpp").set_axis(range(100, 156), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)
        got = pylme4.simulate_formula(
            "cbind(incidence, size - incidence) ~ period + (1 | herd)",
            cbpp,
            CBPP_PARAMS,
            family="binomial",
            nsim=2,
            seed=3,
        )
    assert list(got.columns) == ["sim_1.incidence", "sim_1.V2", "sim_2.incidence", "sim_2.V2"]
    pd.testing.assert_index_equal(got.index, cbpp.index)
    # the numbers of trials are the data's
    np.testing.assert_array_equal(got["sim_1.incidence"] + got["sim_1.V2"], cbpp["size"])


def test_simulate_formula_without_seed_continues_r_stream():
    data = pylme4.datasets.load("sleepstudy")
    r("set.seed(7)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)
        got = pylme4.simulate_formula("~ Days + (Days | Subject)", data, SLEEP_PARAMS, nsim=2)
    ref = r(
        "set.seed(7); as.data.frame(suppressMessages(lme4:::simulate.formula("
        f"~ Days + (Days | Subject), nsim = 2, newdata = sleepstudy, newparams = {SLEEP_R_PARAMS})))"
    )
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), **SAME)


def test_simulate_formula_named_params_equal_unnamed():
    data = pylme4.datasets.load("sleepstudy")
    names = r(
        "m <- lme4::lmer(Reaction ~ Days + (Days | Subject), sleepstudy)\n"
        "list(theta = I(names(lme4::getME(m, 'theta'))), beta = I(names(lme4::fixef(m))))"
    )
    named = {
        "beta": pd.Series(SLEEP_PARAMS["beta"], index=names["beta"])[::-1],
        "theta": pd.Series(SLEEP_PARAMS["theta"], index=names["theta"]),
        "sigma": 25.0,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # named: R gives no message
        a = pylme4.simulate_formula("~ Days + (Days | Subject)", data, named, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)
        b = pylme4.simulate_formula("~ Days + (Days | Subject)", data, SLEEP_PARAMS, seed=1)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_simulate_formula_refuses_na_rows_that_r_cannot_simulate():
    data = python_data(SLEEP_NA, "sleep_na")
    # R itself fails on them (lme4 1.1-31: "non-conformable arrays")
    r_error = r(
        f"library(lme4); {SLEEP_NA}\n"
        "tryCatch({ suppressMessages(simulate(~ Days + (Days | Subject), newdata = sleep_na, "
        f"newparams = {SLEEP_R_PARAMS})); 'no error' }}, error = conditionMessage)"
    )
    assert r_error != "no error"
    with pytest.raises(DataError, match=r"'Days' has missing values in 1 row\(s\) \(index 99\)"):
        pylme4.simulate_formula("~ Days + (Days | Subject)", data, SLEEP_PARAMS)
    with pytest.raises(DataError, match=r"'Reaction' has missing values in 3 row\(s\)"):
        pylme4.simulate_formula("Reaction ~ Days + (Days | Subject)", data, SLEEP_PARAMS)
    # without those rows, R's numbers
    kept = data.dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RMessage)
        got = pylme4.simulate_formula("~ Days + (Days | Subject)", kept, SLEEP_PARAMS, seed=1)
    ref = r(
        f"library(lme4); {SLEEP_NA}; kept <- na.omit(sleep_na); rownames(kept) <- NULL\n"
        "as.data.frame(suppressMessages(simulate(~ Days + (Days | Subject), seed = 1, "
        f"newdata = kept, newparams = {SLEEP_R_PARAMS})))"
    )
    np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), **SAME)
    pd.testing.assert_index_equal(got.index, kept.index)


def test_simulate_formula_errors_from_r_are_translated():
    cbpp = pylme4.datasets.load("cbpp")
    with pytest.raises(
        ArgumentError, match=r"newparams\['beta'\] has 3 value\(s\), but the model has 4"
    ):
        pylme4.simulate_formula(
            "~ period + (1 | herd)", cbpp, {"beta": [1.0, 2.0, 3.0], "theta": [1.0]}, "binomial"
        )
    with pytest.raises(ArgumentError, match=r"newparams\['theta'\].*herd.\(Intercept\)"):
        pylme4.simulate_formula(
            "~ period + (1 | herd)",
            cbpp,
            {"beta": [1.0, 2.0, 3.0, 4.0], "theta": pd.Series([1.0], index=["x"])},
            "binomial",
        )
    with pytest.raises(FormulaError, match="no random-effects term"):
        pylme4.simulate_formula("~ period", cbpp, {"beta": [1.0] * 4}, "binomial")


@pytest.mark.parametrize(
    "key, params, r_params",
    [
        ("sleepstudy", {"beta": [250.0, 5.0]}, "list(beta = c(250, 5))"),
        ("sleep_na", SLEEP_PARAMS, SLEEP_R_PARAMS),
        ("cbpp", CBPP_PARAMS, CBPP_R_PARAMS),
    ],
)
def test_fit_simulate_with_newparams_equals_r(key, params, r_params):
    fit, _, r_fit = _fit(key)
    ref = r(
        r_fit + f"sims <- suppressWarnings(suppressMessages(simulate(m, nsim = 2, seed = 3, "
        f"newparams = {r_params})))\n"
        "list(values = unname(do.call(cbind, lapply(sims, as.matrix))), rows = I(rownames(sims)))"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R's messages and "some parameters not specified"
        got = fit.simulate(nsim=2, seed=3, newparams=params)
    np.testing.assert_allclose(got.to_numpy(), ref["values"].to_numpy(dtype=float), **SAME)
    pd.testing.assert_index_equal(got.index, fit.fitted().index)
    with pytest.raises(ArgumentError, match=r"newparams\['beta'\] has 1 values"):
        fit.simulate(newparams={"beta": [1.0]})
