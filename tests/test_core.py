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
    DataError,
    FormulaError,
    PylmeError,
    RCondition,
    SingularFitWarning,
)

FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pylme4.datasets.load("sleepstudy")


def _good_fit_still_works(sleep: pd.DataFrame) -> None:
    fit = pylme4.lmer(FORMULA, sleep, data_name="sleepstudy")
    expected = r(f"fixef(lmer({FORMULA}, data = sleepstudy))")
    np.testing.assert_allclose(fit.fixef(), expected, **SAME)


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


# -- bad input: documented exception, culprit named, R still usable ----------

BAD_INPUTS = [
    ("not_a_frame", lambda s: pylme4.lmer(FORMULA, s.to_dict()), DataError, "DataFrame"),
    ("empty", lambda s: pylme4.lmer(FORMULA, s.iloc[:0]), DataError, "no rows"),
    (
        "missing_column",
        lambda s: pylme4.lmer("Reaction ~ Dayz + (1 | Subject)", s),
        FormulaError,
        r"'Dayz'.*did you mean 'Days'",
    ),
    (
        "syntax",
        lambda s: pylme4.lmer("Reaction ~ Days + (1 | Subject", s),
        FormulaError,
        "not a valid R formula",
    ),
    ("no_tilde", lambda s: pylme4.lmer("Reaction", s), FormulaError, "no '~'"),
    (
        "no_response",
        lambda s: pylme4.lmer("~ Days + (1 | Subject)", s),
        FormulaError,
        "no response",
    ),
    (
        "string_response",
        lambda s: pylme4.lmer("r ~ Days + (1 | Subject)", s.assign(r=s["Reaction"].astype(str))),
        DataError,
        "'r' must be numeric",
    ),
    (
        "all_nan_response",
        lambda s: pylme4.lmer(FORMULA, s.assign(Reaction=np.nan)),
        DataError,
        "'Reaction' has no non-missing values",
    ),
    (
        "inf_response",
        lambda s: pylme4.lmer(FORMULA, s.assign(Reaction=np.inf)),
        DataError,
        "infinite",
    ),
    (
        "one_level_group",
        lambda s: pylme4.lmer("Reaction ~ Days + (1 | Subject)", s[s["Subject"] == "308"]),
        DataError,
        "only one level",
    ),
    (
        "group_per_row",
        lambda s: pylme4.lmer("Reaction ~ Days + (1 | id)", s.assign(id=range(len(s)))),
        DataError,
        "id",
    ),
    (
        "negative_weights",
        lambda s: pylme4.lmer(FORMULA, s, weights=-np.ones(len(s))),
        DataError,
        "negative",
    ),
    ("short_weights", lambda s: pylme4.lmer(FORMULA, s, weights=np.ones(3)), DataError, "3 values"),
    ("unknown_weights_column", lambda s: pylme4.lmer(FORMULA, s, weights="wt"), DataError, "'wt'"),
    ("bad_na_action", lambda s: pylme4.lmer(FORMULA, s, na_action="drop"), ValueError, "na_action"),
    ("bad_ddf", lambda s: pylme4.lmer(FORMULA, s).summary(ddf="Wald"), ValueError, "ddf"),
    (
        "unknown_function",
        lambda s: pylme4.lmer("Reaction ~ nosuchfun(Days) + (1 | Subject)", s),
        FormulaError,
        "nosuchfun",
    ),
    (
        "bad_control",
        lambda s: pylme4.lmer(FORMULA, s, control={"optimizer": "no_such_optimizer"}),
        PylmeError,
        "no_such_optimizer",
    ),
]


@pytest.mark.parametrize(
    "make, error, match", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_raises_documented_error(sleep, make, error, match):
    with pytest.raises(error, match=match) as info:
        make(sleep)
    assert "Error in" not in str(info.value)  # no R traceback noise
    _good_fit_still_works(sleep)


def test_r_error_keeps_r_message():
    with pytest.raises(PylmeError) as info:
        pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy").head(10))
    assert "grouping factors must have > 1 sampled level" in info.value.r_message


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
