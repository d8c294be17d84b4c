"""The session, errors and warnings, pickling and data sets."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

import pylme4
from pylme4.errors import (
    ConvergenceWarning,
    RCondition,
    SingularFitWarning,
)

FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pylme4.datasets.load("sleepstudy")


def test_import_starts_neither_r_nor_pandas():
    code = textwrap.dedent(
        """
        import sys
        import pylme4
        heavy = [m for m in ("rpy2", "pandas", "numpy") if m in sys.modules]
        from pylme4._r import session
        print(heavy, session.is_started())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"


def test_r_starts_once_and_library_prints_nothing(capfd, sleep):
    from pylme4._r import session

    env = session.helpers()
    pylme4.lmer(FORMULA, sleep)
    assert session.helpers() is env
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# -- bad input: tests/test_bad_input.py ----------------------------------------


# -- warnings are data -------------------------------------------------------


def test_singular_fit_warns_and_is_kept():
    with pytest.warns(SingularFitWarning, match="boundary"):
        fit = pylme4.lmer("Yield ~ 1 + (1 | Batch)", pylme4.datasets.load("Dyestuff2"))
    assert fit.messages == (
        RCondition("message", "boundary (singular) fit: see help('isSingular')"),
    )
    assert fit.is_singular()
    assert r("isSingular(lmer(Yield ~ 1 + (1 | Batch), data = Dyestuff2))") is True


def test_convergence_warnings_are_r_warnings_in_order(sleep):
    control = {"optimizer": "bobyqa", "optCtrl": {"maxfun": 10}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = pylme4.lmer(FORMULA, sleep, control=control)
    expected = r(
        "w <- character()\n"
        "withCallingHandlers(lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy,"
        " control = lmerControl(optimizer = 'bobyqa', optCtrl = list(maxfun = 10))),"
        " warning = function(x) { w <<- c(w, conditionMessage(x)); invokeRestart('muffleWarning') })\n"
        "as.list(w)"
    )
    assert [c.text for c in fit.messages] == expected
    assert [str(w.message) for w in caught] == expected
    categories = [w.category for w in caught]
    assert categories.count(ConvergenceWarning) == 2  # "convergence code 1", "failed to converge"
    assert all(issubclass(c, pylme4.RWarning) for c in categories)
    assert all(w.filename == __file__ for w in caught)  # points at the caller's line


# -- pickling (threads: test_concurrency.py) ---------------------------------------------------------


def test_fit_pickles_through_r_serialize(sleep):
    fit = pylme4.lmer(FORMULA, sleep, data_name="sleepstudy")
    clone = pickle.loads(pickle.dumps(fit))
    assert type(clone) is pylme4.LmerFit
    pd.testing.assert_series_equal(clone.fixef(), fit.fixef(), rtol=0, atol=0)
    assert str(clone.summary()) == str(fit.summary())
    assert clone.fitted().index.equals(fit.fitted().index)


# -- data sets -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sleepstudy", "Penicillin", "Pastes", "Dyestuff", "cake", "cbpp", "InstEval"]
)
def test_datasets_are_r_data(name):
    df = pylme4.datasets.load(name)
    ref = r(
        f"d <- {name}\n"
        "list(dim = as.list(dim(d)), names = as.list(names(d)),"
        " levels = lapply(Filter(is.factor, d), function(x) as.list(levels(x))),"
        " ordered = lapply(Filter(is.factor, d), is.ordered),"
        " numeric = lapply(Filter(is.numeric, d), function(x) sum(as.numeric(x))))"
    )
    assert list(df.shape) == ref["dim"]
    assert list(df.columns) == ref["names"]
    for column, levels in ref["levels"].items():
        assert list(df[column].cat.categories) == levels
        assert df[column].cat.ordered == ref["ordered"][column]
    for column, total in ref["numeric"].items():
        np.testing.assert_allclose(df[column].sum(), total, **SAME)


def test_unknown_dataset_lists_choices():
    with pytest.raises(KeyError, match="sleepstudy"):
        pylme4.datasets.load("sleepstudyy")
