"""The lmer() -> summary(ddf) path: lmerTest must see the user's data.

lmerTest re-evaluates a fit's call to get its deviance function.  When the
data name is also the name of a data set on R's search path (lme4's
``sleepstudy``, the lecture's usage), it must still use the data the user
passed, as ``lmerTest::lmer(..., data = sleepstudy)`` does in R on a
modified ``sleepstudy``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAME, assert_same_series, r, r_apply

import pylme4

FORMULA = "Reaction ~ Days + (Days | Subject)"

# The R user's session: their own `sleepstudy` (modified) masks lme4's.
R_SUMMARY = """function(d, w) {
  sleepstudy <- d
  m <- if (is.null(w)) lmerTest::lmer(%(f)s, data = sleepstudy)
       else lmerTest::lmer(%(f)s, data = sleepstudy, weights = w)
  s <- summary(m, ddf = "%(ddf)s")
  list(text = paste(capture.output(print(s)), collapse = "\\n"),
       coef = as.data.frame(coef(s), check.names = FALSE))
}"""


def _modified_sleepstudy():
    sleep = pylme4.datasets.load("sleepstudy")
    # Deterministic changes that move the variance components (and so the df).
    bump = np.where(sleep.index % 3 == 0, 25.0, -12.0) * (sleep["Days"] % 4)
    return sleep.assign(Reaction=sleep["Reaction"] + bump)


def test_lmertest_uses_the_users_data_not_a_dataset_of_the_same_name():
    ddf = "Satterthwaite"
    data = _modified_sleepstudy()
    fit = pylme4.lmer(FORMULA, data, data_name="sleepstudy")
    ref = r_apply(R_SUMMARY % {"f": FORMULA, "ddf": ddf}, data, None)
    summary = fit.summary(ddf=ddf)
    np.testing.assert_allclose(summary.fixed_effects.to_numpy(), ref["coef"].to_numpy(), **SAME)
    assert str(summary) == ref["text"]
    # and lme4's own sleepstudy gives other df: the test can tell them apart
    plain = pylme4.lmer(FORMULA, pylme4.datasets.load("sleepstudy"), data_name="sleepstudy")
    assert not np.allclose(plain.summary(ddf=ddf).fixed_effects["df"], ref["coef"]["df"])


def test_lmertest_finds_weights_given_as_an_array():
    data = _modified_sleepstudy()
    weights = np.linspace(0.5, 2.0, len(data))
    fit = pylme4.lmer(FORMULA, data, data_name="sleepstudy", weights=weights)
    ref = r_apply(R_SUMMARY % {"f": FORMULA, "ddf": "Satterthwaite"}, data, weights)
    summary = fit.summary(ddf="Satterthwaite")
    np.testing.assert_allclose(summary.fixed_effects.to_numpy(), ref["coef"].to_numpy(), **SAME)


def test_formula_answers_are_reused_only_when_every_name_is_a_column():
    """The formula check is kept per (formula, columns) only when it does not
    depend on R's global environment: a name found there is asked again."""
    from pylme4 import checks

    sleep = pylme4.datasets.load("sleepstudy")
    r("assign('.pylme4_test_k', 2, envir = globalenv()); NULL")
    try:
        formula = "Reaction ~ I(Days * .pylme4_test_k) + (1 | Subject)"
        fit = pylme4.lmer(formula, sleep)
        ref = r(f"fixef(lmer({formula}, data = sleepstudy))")
        assert_same_series(fit.fixef(), ref)
        assert (formula, tuple(sleep.columns)) not in checks._FORMULA_CACHE
    finally:
        r("rm('.pylme4_test_k', envir = globalenv()); NULL")
    with pytest.raises(pylme4.FormulaError, match="'.pylme4_test_k'"):
        pylme4.lmer(formula, sleep)

    plain = "Reaction ~ Days + (1 | Subject)"
    first = pylme4.lmer(plain, sleep)
    assert (plain, tuple(sleep.columns)) in checks._FORMULA_CACHE
    again = pylme4.lmer(plain, sleep)
    np.testing.assert_array_equal(first.fixef(), again.fixef())
    # other columns: asked again, and a missing column is still reported
    with pytest.raises(pylme4.FormulaError, match="'Days'"):
        pylme4.lmer(plain, sleep.rename(columns={"Days": "days"}))


def test_unaligned_columns_convert():
    """Frames unpickled from network buffers (Dask workers) can hold unaligned
    arrays; they cross to R with the same values."""
    import pandas as pd

    def unaligned(values):
        values = np.asarray(values)
        buffer = bytearray(values.nbytes + 1)
        out = np.frombuffer(buffer, dtype=values.dtype, offset=1, count=len(values))
        out[:] = values
        assert values.dtype.itemsize == 1 or not out.flags["ALIGNED"]
        return out

    sleep = pylme4.datasets.load("sleepstudy")
    frame = pd.DataFrame(
        {
            "Reaction": unaligned(sleep["Reaction"].to_numpy()),
            "Days": unaligned(sleep["Days"].to_numpy().astype(np.int64)),
            "flag": unaligned(sleep["Days"].to_numpy() > 4),
            "Subject": sleep["Subject"],
        },
        copy=False,
    )
    assert not frame["Reaction"].to_numpy().flags["ALIGNED"]
    back = r_apply("function(d) list(r = d$Reaction, d = d$Days, f = d$flag)", frame)
    np.testing.assert_array_equal(back["r"], sleep["Reaction"])
    np.testing.assert_array_equal(back["d"], sleep["Days"])
    np.testing.assert_array_equal(back["f"], sleep["Days"] > 4)
    fit = pylme4.lmer(FORMULA, frame, data_name="sleepstudy")
    assert_same_series(fit.fixef(), r(f"fixef(lmer({FORMULA}, data = sleepstudy))"))


def test_categories_that_r_labels_alike_are_refused():
    """0.1 + 0.2 and 0.3 are distinct floats that R's as.character() writes as
    the same label: a factor cannot hold both."""
    import pandas as pd

    from pylme4.errors import DataError

    assert list(r("as.character(c(0.1 + 0.2, 0.3))")) == ["0.3", "0.3"]
    frame = pd.DataFrame({"g": pd.Categorical([0.1 + 0.2, 0.3])})
    with pytest.raises(DataError, match="'g'.*duplicate factor labels"):
        r_apply("function(d) d", frame)
    ok = pd.DataFrame({"g": pd.Categorical([0.5, 0.25])})
    assert list(r_apply("function(d) levels(d$g)", ok)) == list(r("as.character(c(0.25, 0.5))"))
