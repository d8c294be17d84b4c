"""Shared test helpers.  The reference for every number and every printed line
is R itself, asked in the same process on the same data."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pylme4._r.call import run_code, run_function

# Same data, same computation: R and pylme4 must agree to the last bits.
SAME = {"rtol": 1e-12, "atol": 0.0}


def r(code: str) -> Any:
    """Evaluate R code (in a fresh environment) and return the converted value."""
    return run_code(code)


def r_apply(code: str, *args: Any) -> Any:
    """Apply an R function (as text) to Python values."""
    return run_function(code, *args)


# R code that fits the reference model `m` and reports what a test compares.
# The call is typed as a user would type it, so printed output is comparable.
_REFERENCE = r"""
local({
  %(setup)s
  m <- suppressWarnings(suppressMessages(%(call)s))
  out <- function(x) paste(capture.output(print(x)), collapse = "\n")
  mf <- model.frame(m)
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
    ranef = lapply(ranef(m), function(d) list(values = as.data.frame(d, check.names = FALSE), levels = as.list(rownames(d)))),
    coef = lapply(coef(m), function(d) as.data.frame(d, check.names = FALSE)),
    varcorr = as.data.frame(VarCorr(m)),
    fitted = unname(fitted(m)),
    resid = unname(residuals(m)),
    pearson = unname(residuals(m, type = "pearson", scaled = TRUE)),
    predict_pop = unname(predict(m, re.form = NA)),
    singular = isSingular(m),
    print = out(m),
    summary = out(summary(m))
  )
})
"""


def r_reference(call: str, setup: str = "") -> dict[str, Any]:
    """Fit `call` in R (after `setup`) and return R's values and printouts."""
    return r(_REFERENCE % {"setup": setup, "call": call})


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
