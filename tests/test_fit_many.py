"""pylme4.fit_many: many lmer() fits, here or in worker processes, with the
numbers R gives and exactly the results of fitting one by one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import SAME, r, r_apply

import pylme4
from pylme4.errors import FormulaError

SLEEP_FORMULAS = (
    "Reaction ~ Days + (1 | Subject)",
    "Reaction ~ Days + (Days | Subject)",
    "Reaction ~ Days + (Days || Subject)",
)


@pytest.fixture(scope="module")
def sleep():
    return pylme4.datasets.load("sleepstudy")


def _specs(sleep):
    specs = [{"formula": f, "data": sleep, "data_name": "sleepstudy"} for f in SLEEP_FORMULAS]
    specs.append({"formula": SLEEP_FORMULAS[1], "data": sleep, "reml": False})
    # a second data set: every third row of sleepstudy
    specs.append({"formula": SLEEP_FORMULAS[0], "data": sleep.iloc[::3], "data_name": "part"})
    return specs


R_FIXEF = """function(d) list(
  fixef(lmer(Reaction ~ Days + (1 | Subject), data = d)),
  fixef(lmer(Reaction ~ Days + (Days | Subject), data = d)),
  fixef(lmer(Reaction ~ Days + (Days || Subject), data = d)),
  fixef(lmer(Reaction ~ Days + (Days | Subject), data = d, REML = FALSE)),
  fixef(lmer(Reaction ~ Days + (1 | Subject), data = d[seq(1, nrow(d), by = 3), ])))"""


def test_fits_equal_r_and_one_by_one(sleep):
    specs = _specs(sleep)
    fits = pylme4.fit_many(specs)
    ref = r_apply(R_FIXEF, sleep)
    for fit, spec, r_fixef in zip(fits, specs, ref):
        assert isinstance(fit, pylme4.LmerFit)
        np.testing.assert_allclose(fit.fixef(), r_fixef, **SAME)
        one = pylme4.lmer(**spec)
        np.testing.assert_array_equal(fit.fixef(), one.fixef())
        assert str(fit) == str(one)


def test_fun_by_name_and_by_function(sleep):
    specs = _specs(sleep)[:2]
    by_name = pylme4.fit_many(specs, fun="fixef")
    by_attribute = pylme4.fit_many(specs, fun="sigma")
    by_function = pylme4.fit_many(specs, fun=lambda fit: fit.summary().text)
    refs = r(
        "m0 <- lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)\n"
        "m1 <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "lapply(list(m0, m1), function(m) list(fixef = fixef(m), sigma = sigma(m),"
        " text = paste(capture.output(print(summary(m))), collapse = '\\n')))"
    )
    assert len(refs) == len(specs) == 2
    for i, ref in enumerate(refs):
        np.testing.assert_allclose(by_name[i], ref["fixef"], **SAME)
        np.testing.assert_allclose(by_attribute[i], ref["sigma"], **SAME)
        assert by_function[i] == ref["text"]


def test_errors_raise_or_return(sleep):
    specs = _specs(sleep)[:2]
    specs.insert(1, {"formula": "Reaction ~ Dayz + (1 | Subject)", "data": sleep})
    with pytest.raises(FormulaError, match="'Dayz'") as info:
        pylme4.fit_many(specs, fun="fixef")
    assert info.value.__notes__ == ["(in fit_many, specification 1)"]
    out = pylme4.fit_many(specs, fun="fixef", errors="return")
    assert isinstance(out[1], FormulaError) and "did you mean 'Days'" in str(out[1])
    np.testing.assert_array_equal(out[2], pylme4.lmer(**specs[2]).fixef())


def test_r_warnings_are_raised_in_the_caller(sleep):
    spec = {
        "formula": SLEEP_FORMULAS[1],
        "data": sleep,
        "control": {"optimizer": "bobyqa", "optCtrl": {"maxfun": 10}},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (fit,) = pylme4.fit_many([spec])
    ours = [str(w.message) for w in caught if issubclass(w.category, pylme4.RWarning)]
    ref = r(
        "w <- character(); withCallingHandlers(lmer(Reaction ~ Days + (Days | Subject),"
        " data = sleepstudy, control = lmerControl(optimizer = 'bobyqa',"
        " optCtrl = list(maxfun = 10))), warning = function(x) {"
        " w <<- c(w, conditionMessage(x)); invokeRestart('muffleWarning') }); w"
    )
    assert len(ours) == 3 and ours == list(ref)
    assert ours == [m.text for m in fit.messages]
    assert all(w.filename == __file__ for w in caught)


@pytest.mark.parametrize(
    "specs, error, match",
    [
        (["Reaction ~ Days"], TypeError, "specification 0 must be a dict"),
        ([{"formula": "y ~ x"}], TypeError, "lacks 'data'"),
        ([{"formula": "y ~ x", "data": None, "REML": False}], TypeError, "'REML'"),
        ([{"formula": "y ~ x", "data": None, "model": "nlmer"}], ValueError, "nlmer"),
    ],
)
def test_bad_specifications_are_named(specs, error, match):
    with pytest.raises(error, match=match):
        pylme4.fit_many(specs)


def test_model_key_names_the_fitter(sleep):
    spec = _specs(sleep)[1]
    (named,) = pylme4.fit_many([{**spec, "model": "lmer"}], fun="fixef")
    np.testing.assert_array_equal(named, pylme4.lmer(**spec).fixef())


def test_bad_arguments():
    with pytest.raises(ValueError, match="errors"):
        pylme4.fit_many([], errors="ignore")
    with pytest.raises(TypeError, match="Executor"):
        pylme4.fit_many([], executor=object())
    with pytest.raises(ValueError, match="not a method"):
        pylme4.fit_many([], fun="no_such_thing")
    assert pylme4.fit_many([]) == []


def test_workers_give_the_serial_results(sleep):
    specs = _specs(sleep)
    serial = pylme4.fit_many(specs)
    parallel = pylme4.fit_many(specs, workers=2)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.fixef(), b.fixef())
        np.testing.assert_array_equal(a.theta, b.theta)
        assert str(a) == str(b)


def test_any_executor_a_spawned_process_pool(sleep):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    specs = _specs(sleep)[:2]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        remote = pylme4.fit_many(specs, fun="fixef", executor=pool)
    for got, spec in zip(remote, specs):
        np.testing.assert_array_equal(got, pylme4.lmer(**spec).fixef())
