"""Shared test helpers.  The reference for every number and every printed line
is R itself, asked in the same process on the same data."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pylme4
from pylme4._r.call import run_code, run_function

# Same data, same computation: R and pylme4 must agree to the last bits.
SAME = {"rtol": 1e-12, "atol": 0.0}


def run_python(*args: str, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run this Python (``-c CODE`` or a script) in a fresh process, as a
    user's own script runs, and require it to succeed (stderr's tail on failure)."""
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def r(code: str) -> Any:
    """Evaluate R code (in a fresh environment) and return the converted value."""
    return run_code(code)


def r_apply(code: str, *args: Any) -> Any:
    """Apply an R function (as text) to Python values."""
    return run_function(code, *args)


# R code defining `out(x)`: what R prints for x, as one string.
R_OUT = "out <- function(x) paste(capture.output(print(x)), collapse = '\\n')\n"


def r_printed(code: str) -> str:
    """What R prints for the value of `code` (R code; its last expression is printed)."""
    return r(f"{R_OUT}out(local({{\n{code}\n}}))")


# R code that fits the reference model `m` and reports what a test compares.
# The call is typed as a user would type it, so printed output is comparable.
# Warnings and messages are recorded (kind: text) in the order R gave them.
# `code` runs after the fit; `items` adds entries to the list.
_REFERENCE = r"""
local({
  %(setup)s
  said <- character()
  m <- withCallingHandlers(%(call)s,
    warning = function(w) {
      said <<- c(said, paste0("warning: ", conditionMessage(w)))
      invokeRestart("muffleWarning")
    },
    message = function(c) {
      said <<- c(said, paste0("message: ", sub("\n$", "", conditionMessage(c))))
      invokeRestart("muffleMessage")
    })
  %(out)s
  s <- summary(m)
  %(code)s
  list(
    fixef = fixef(m),
    theta = unname(getME(m, "theta")),
    sigma = sigma(m),
    loglik = as.numeric(logLik(m)),
    aic = AIC(m), bic = BIC(m),
    deviance = if (isREML(m)) deviance(m, REML = FALSE) else deviance(m),
    remlcrit = if (isREML(m)) REMLcrit(m) else NULL,
    nobs = nobs(m),
    ngrps = vapply(m@flist, nlevels, 0L),
    vcov = as.matrix(vcov(m)),
    ranef = lapply(ranef(m), function(d) list(values = as.data.frame(d, check.names = FALSE),
                                              levels = as.list(rownames(d)))),
    coef = lapply(coef(m), function(d) as.data.frame(d, check.names = FALSE)),
    varcorr = as.data.frame(VarCorr(m)),
    fitted = unname(fitted(m)),
    resid = unname(residuals(m)),
    pearson = unname(residuals(m, type = "pearson", scaled = TRUE)),
    predict_pop = unname(predict(m, re.form = NA, type = "response")),
    singular = isSingular(m),
    said = as.list(said),
    print = out(m),
    summary = out(s)%(items)s
  )
})
"""


def r_reference(call: str, setup: str = "", *, code: str = "", items: str = "") -> dict[str, Any]:
    """Fit `call` in R (after `setup`) and return R's values and printouts;
    `code` runs after the fit (m, s = summary(m)) and `items` (R text
    "name = value, ...") adds entries to the list returned."""
    return r(
        _REFERENCE
        % {
            "setup": setup,
            "call": call,
            "out": R_OUT,
            "code": code,
            "items": f",\n    {items}" if items else "",
        }
    )


def python_data(setup: str, data_name: str) -> pd.DataFrame:
    """The data a case names, as Python receives it: R's `data_name` after
    `setup` (through pylme4's R -> pandas conversion), or the packaged data set."""
    return r(f"{setup}\n{data_name}") if setup else pylme4.datasets.load(data_name)


def assert_estimates_match_r(fit: Any, ref: dict[str, Any]) -> None:
    """A mixed model's estimates and fit statistics against r_reference()'s."""
    pd.testing.assert_index_equal(fit.fixef().index, pd.Index(ref["fixef"].index))
    assert_same_series(fit.fixef(), ref["fixef"])
    assert_same_series(fit.theta, ref["theta"])
    np.testing.assert_allclose(fit.sigma, ref["sigma"], **SAME)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], **SAME)
    np.testing.assert_allclose(fit.aic, ref["aic"], **SAME)
    np.testing.assert_allclose(fit.bic, ref["bic"], **SAME)
    np.testing.assert_allclose(fit.deviance, ref["deviance"], **SAME)
    if ref["remlcrit"] is None:
        assert getattr(fit, "reml_criterion", None) is None
    else:
        np.testing.assert_allclose(fit.reml_criterion, ref["remlcrit"], **SAME)
    assert fit.nobs == ref["nobs"]
    assert dict(fit.ngroups) == {k: int(v) for k, v in ref["ngrps"].items()}
    assert fit.is_singular() == ref["singular"]


def assert_same_series(py: pd.Series, ref: Any, **tol: float) -> None:
    tol = tol or SAME
    ref_values = np.atleast_1d(np.asarray(ref, dtype=float))
    np.testing.assert_allclose(np.asarray(py, dtype=float), ref_values, **tol)


@pytest.fixture
def no_warnings():
    """Turn Python warnings into errors inside the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def assert_same_table(
    py: pd.DataFrame, ref: pd.DataFrame, *, snake: bool = True, **tol: float
) -> None:
    """A table against R's data frame: R's columns in order (dotted names in
    snake_case when ``snake``), text columns equal (R's NA as NaN), numbers
    to ``tol`` (SAME by default; NaN where R has NA)."""
    tol = tol or SAME
    names = [c.replace(".", "_") for c in ref.columns] if snake else list(ref.columns)
    assert list(py.columns) == names
    assert len(py) == len(ref)
    for name, column in zip(names, ref.columns):
        mine, theirs = py[name], ref[column]
        if pd.api.types.is_numeric_dtype(theirs) and not pd.api.types.is_bool_dtype(theirs):
            np.testing.assert_allclose(
                mine.to_numpy(dtype=float), theirs.to_numpy(dtype=float), err_msg=name, **tol
            )
        else:
            shown = [None if pd.isna(v) else str(v) for v in mine]
            assert shown == [None if pd.isna(v) else str(v) for v in theirs], name
