"""fit.all_fit() and fit.check_convergence() against summary(allFit(fit)) in R.

Every number must equal R's; only the timings ($times) differ run to run.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import r

import pylme4
from pylme4.allfit import check_convergence

FIELDS = ["which_ok", "msgs", "fixef", "llik", "sdcor", "theta", "times", "feval"]

R_SUMMARY = r"""
fit <- lmer(%(formula)s, data = %(data)s)
mt <- allFit(fit, show.meth.tab = TRUE)
names_all <- gsub("\\.$", "", paste(mt[, "optimizer"], mt[, "method"], sep = "."))
keep <- %(keep)s
af <- suppressWarnings(allFit(fit, meth.tab = mt[names_all %%in%% keep, , drop = FALSE],
                              verbose = FALSE))
s <- summary(af)
list(which_ok = s$which.OK, fixef = as.data.frame(s$fixef, check.names = FALSE),
     llik = s$llik, sdcor = s$sdcor, theta = as.data.frame(s$theta, check.names = FALSE),
     feval = s$feval, msgs = lapply(s$msgs, function(m) as.list(as.character(unlist(m)))),
     text = paste(capture.output(print(s)), collapse = "\n"))
"""


def _without_times(text: str) -> str:
    """The summary's printout without its $times block (timings vary)."""
    return re.sub(r"\$times\n.*?\n\n", "$times\n<times>\n\n", text, flags=re.DOTALL)


def _r_all_fit(formula: str, data: str, keep: list[str] | None = None) -> dict:
    keep_code = "names_all" if keep is None else "c(" + ", ".join(f'"{k}"' for k in keep) + ")"
    return r(R_SUMMARY % {"formula": formula, "data": data, "keep": keep_code})


def _fit(name: str, formula: str) -> pylme4.LmerFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pylme4.lmer(formula, pylme4.datasets.load(name), data_name=name)


def _assert_same(af: pylme4.AllFitResult, ref: dict) -> None:
    assert _without_times(str(af)) == _without_times(ref["text"])
    assert af.which_ok.to_dict() == {k: bool(v) for k, v in ref["which_ok"].items()}
    for name in ("fixef", "sdcor", "theta"):
        got, expected = getattr(af, name), ref[name]
        assert list(got.columns) == list(expected.columns), name
        assert list(got.index) == list(expected.index), name
        np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    np.testing.assert_array_equal(af.llik.to_numpy(), np.atleast_1d(ref["llik"]))
    np.testing.assert_array_equal(af.feval.to_numpy(), np.atleast_1d(ref["feval"]))
    assert {k: list(v) for k, v in af.msgs.items()} == {k: list(v) for k, v in ref["msgs"].items()}
    assert list(af.times.columns) == [
        "user.self",
        "sys.self",
        "elapsed",
        "user.child",
        "sys.child",
    ]


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ],
)
def test_all_fit_equals_r_summary(name, formula):
    af = _fit(name, formula).all_fit()
    _assert_same(af, _r_all_fit(formula, name))
    assert len(af.which_ok) == 7 and af.which_ok.all()
    assert all(af.errors == "")


def test_all_fit_in_workers_equals_r_summary():
    formula = "Reaction ~ Days + (Days | Subject)"
    af = _fit("sleepstudy", formula).all_fit(workers=2)
    _assert_same(af, _r_all_fit(formula, "sleepstudy"))


def test_chosen_optimizers():
    # A Pastes model that lme4 flags for some optimizers.
    formula = "strength ~ 1 + (1 | batch/cask)"
    fit = _fit("Pastes", formula)
    chosen = ["nloptwrap.NLOPT_LN_BOBYQA", "bobyqa", "Nelder_Mead"]
    af = fit.all_fit(optimizers=chosen)
    ref = _r_all_fit(formula, "Pastes", chosen)
    _assert_same(af, ref)
    # allFit's own order, whatever the order asked for.
    assert list(af.which_ok.index) == ["bobyqa", "Nelder_Mead", "nloptwrap.NLOPT_LN_BOBYQA"]


def test_sdcor_labels_are_rs_and_correlations_are_known():
    af = _fit("sleepstudy", "Reaction ~ Days + (Days | Subject)").all_fit(
        optimizers=["bobyqa", "Nelder_Mead"]
    )
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "as.data.frame(VarCorr(fit))$sdcor"
    )
    # R labels the values in theta's order but takes them from VarCorr's
    # order: the correlation sits under "Subject.Days".
    assert af.correlations == ("Subject.Days",)
    np.testing.assert_allclose(af.sdcor.loc["bobyqa"].to_numpy(), ref, rtol=1e-5)


def test_check_convergence_says_whether_optimizers_agree():
    fit = _fit("sleepstudy", "Reaction ~ Days + (Days | Subject)")
    af = fit.all_fit()
    check = check_convergence(fit, all_fit_result=af)
    assert check.agree and bool(check)
    assert "All 7 optimizers that ran agree" in str(check)
    assert "false positive" in str(check)
    spread = (af.fixef.max() - af.fixef.min()) / af.fixef.abs().max()
    np.testing.assert_allclose(check.spread[list(af.fixef.columns)], spread, rtol=1e-12)
    corr = af.sdcor["Subject.Days"]
    assert check.spread["Subject.Days"] == pytest.approx(corr.max() - corr.min(), rel=1e-12)
    assert check.spread["logLik"] == af.llik.max() - af.llik.min()

    strict = check_convergence(fit, rtol=1e-9, all_fit_result=af)
    assert not strict.agree
    assert "do NOT agree" in str(strict) and "Subject.(Intercept)" in str(strict)


def test_check_convergence_method_runs_all_fit():
    fit = _fit("Dyestuff", "Yield ~ 1 + (1 | Batch)")
    check = fit.check_convergence(optimizers=["bobyqa", "Nelder_Mead", "nlminbwrap"])
    assert check.agree
    assert list(check.all_fit.which_ok.index) == ["bobyqa", "Nelder_Mead", "nlminbwrap"]


def test_bad_optimizer_name():
    fit = _fit("Dyestuff", "Yield ~ 1 + (1 | Batch)")
    with pytest.raises(ValueError, match="allFit has no optimizer 'BOBYQA'; choose from"):
        fit.all_fit(optimizers=["BOBYQA"])
    with pytest.raises(ValueError, match="rtol"):
        fit.check_convergence(rtol=0)


def test_all_fit_result_fields_are_indexed_by_optimizer():
    af = _fit("Dyestuff", "Yield ~ 1 + (1 | Batch)").all_fit(optimizers=["bobyqa", "nmkbw"])
    for name in FIELDS:
        value = getattr(af, name)
        assert isinstance(value, (pd.Series, pd.DataFrame))
        assert list(value.index) == ["bobyqa", "nmkbw"], name
