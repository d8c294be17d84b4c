"""Formulas lme4 fits, fitted by pylme4 exactly as R fits them (issue 12).

Python callers are trusted code: ``pylme4.lmer``/``glmer`` take every formula
lme4 takes, including namespaced functions (``splines::ns``), string
literals (``I(cond == "a")``, ``relevel(..., ref = "b")``), spline bases,
``poly()``, transformations, offsets, ``cbind()`` responses, ``||``, nested
``/``, ``%in%``.  Each case is fitted by R (the call as an R user types it,
on data built in R) and by pylme4 (on the same data, received through
pylme4's R -> pandas conversion), in the same process: estimates, theta,
sigma and logLik agree to rtol=1e-12 and the printed summary is R's.

Very wide formulas (hundreds or thousands of terms) run in a subprocess, so
that a crash of the embedded R fails the test instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SAME, assert_estimates_match_r, python_data, r, r_apply, r_reference

import pylme4

# sleepstudy with columns that exercise strings, factors and transformations.
SLEEP = """d <- sleepstudy
d$cond <- c("a", "b", "c")[(as.integer(d$Subject) + d$Days) %% 3 + 1]
d$half <- ifelse(d$Days < 5, "early", "late")
d$x <- sin(seq_len(nrow(d)))
d$`rt ms` <- d$Reaction"""

CBPP = "d <- cbpp"


@dataclass(frozen=True)
class Case:
    id: str
    formula: str
    setup: str = SLEEP
    fun: str = "lmer"
    kwargs: dict[str, Any] = field(default_factory=dict)
    r_args: str = ""  # extra R arguments, as an R user types them


CASES = [
    # -- namespaced functions and spline bases ---------------------------------
    Case("splines_ns", "Reaction ~ splines::ns(Days, df = 3) + (1 | Subject)"),
    Case("splines_bs", "Reaction ~ splines::bs(Days, df = 4) + (1 | Subject)"),
    Case("splines_knots", "Reaction ~ splines::ns(Days, knots = c(3, 6)) + (Days | Subject)"),
    Case("base_log", "Reaction ~ base::log(Days + 1) + (1 | Subject)"),
    Case("stats_relevel", 'Reaction ~ stats::relevel(factor(cond), "c") + (1 | Subject)'),
    # -- string literals -------------------------------------------------------------
    Case("I_comparison", 'Reaction ~ I(cond == "a") + (1 | Subject)'),
    Case("relevel_ref", 'Reaction ~ relevel(factor(cond), ref = "b") + (1 | Subject)'),
    Case(
        "factor_labels",
        'Reaction ~ factor(Days > 4, levels = c(FALSE, TRUE), labels = c("early", "late"))'
        " + (1 | Subject)",
    ),
    Case("ifelse_in", 'Reaction ~ ifelse(cond %in% c("a", "b"), Days, 0) + (1 | Subject)'),
    Case(
        "cut_labels",
        'Reaction ~ cut(Days, breaks = c(-1, 3, 6, 9), labels = c("lo", "mid", "hi"))'
        " + (1 | Subject)",
    ),
    # -- polynomials and transformations -------------------------------------------
    Case("poly", "Reaction ~ poly(Days, 2) + (1 | Subject)"),
    Case("poly_raw", "Reaction ~ poly(Days, 2, raw = TRUE) + (1 | Subject)"),
    Case("log_both_sides", "log(Reaction) ~ log(Days + 1) + (1 | Subject)"),
    Case("scale", "Reaction ~ scale(Days) + scale(x, scale = FALSE) + (1 | Subject)"),
    Case("I_power", "Reaction ~ Days + I(Days^2) + sqrt(Days) + abs(x) + (1 | Subject)"),
    Case("backticks", "`rt ms` ~ Days + (1 | Subject)"),
    Case("anonymous_function", "Reaction ~ (function(z) z^2)(Days) + (1 | Subject)"),
    # -- interactions, offset ------------------------------------------------------------
    Case("interaction_star", "Reaction ~ Days * cond + (1 | Subject)"),
    Case("interaction_power", "Reaction ~ (Days + cond + x)^2 + (1 | Subject)"),
    Case("interaction_fun", "Reaction ~ interaction(cond, half) + (1 | Subject)"),
    Case("offset_term", "Reaction ~ x + offset(10 * Days) + (1 | Subject)"),
    Case("minus_intercept", "Reaction ~ 0 + cond + Days + (1 | Subject)"),
    # -- random-effects structures -------------------------------------------------------
    Case("double_bar", "Reaction ~ Days + (Days || Subject)"),
    Case("nested_slash", "Reaction ~ Days + (1 | Subject/half)"),
    Case("fixed_in", "Reaction ~ half + cond %in% half + (1 | Subject)"),
    Case("nested_colon", "Reaction ~ Days + (1 | Subject) + (1 | Subject:half)"),
    Case("crossed", "Reaction ~ Days + (1 | Subject) + (1 | cond)"),
    Case("grouping_interaction", "Reaction ~ Days + (1 | Subject) + (1 | cond:half)"),
    Case("indicator_slope", "Reaction ~ Days + (1 | Subject) + (0 + I(Days > 4) | Subject)"),
    Case(
        "ml_fit",
        "Reaction ~ splines::ns(Days, df = 2) + (1 | Subject)",
        kwargs={"reml": False},
        r_args="REML = FALSE",
    ),
    # -- glmer: cbind() responses, offsets, strings ------------------------------------------
    Case(
        "glmer_cbind",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        CBPP,
        "glmer",
        {"family": "binomial"},
        "family = binomial",
    ),
    Case(
        "glmer_cbind_relevel",
        'cbind(incidence, size - incidence) ~ relevel(period, ref = "2") + (1 | herd)',
        CBPP,
        "glmer",
        {"family": "binomial"},
        "family = binomial",
    ),
    Case(
        "glmer_I_comparison",
        'cbind(incidence, size - incidence) ~ I(period == "1") + (1 | herd)',
        CBPP,
        "glmer",
        {"family": "binomial"},
        "family = binomial",
    ),
    Case(
        "glmer_logical_response",
        "I(incidence > 0) ~ period + (1 | herd)",
        CBPP,
        "glmer",
        {"family": "binomial"},
        "family = binomial",
    ),
    Case(
        "glmer_poisson_offset",
        "incidence ~ period + offset(log(size)) + (1 | herd)",
        CBPP,
        "glmer",
        {"family": "poisson"},
        "family = poisson",
    ),
]


def test_table_is_large_enough():
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_formula_fits_as_in_r(case: Case) -> None:
    extra = f", {case.r_args}" if case.r_args else ""
    call = f"{case.fun}({case.formula}, data = d{extra})"
    ref = r_reference(call, case.setup)
    data = python_data(case.setup, "d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R's warnings are compared as printed text
        fit = getattr(pylme4, case.fun)(case.formula, data, data_name="d", **case.kwargs)
    assert_estimates_match_r(fit, ref)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], **SAME)
    assert str(fit.summary()) == ref["summary"]


# ---------------------------------------------------------------------------
# Very wide formulas
# ---------------------------------------------------------------------------

_WIDE_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    import pylme4

    # An earlier call first: the issue's crash came after R had been used.
    pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy"))
    p, n = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{i}" for i in range(p)])
    df["g"] = np.repeat(np.arange(20), n // 20 + 1)[:n].astype(str)
    df["y"] = rng.normal(size=n)
    formula = "y ~ " + " + ".join(df.columns[:p]) + " + (1 | g)"
    try:
        fit = pylme4.lmer(formula, df)
    except pylme4.FormulaError as exc:
        print("FormulaError:", exc)
    else:
        print("FIT", len(fit.fixef()))
    # R is still usable afterwards.
    again = pylme4.lmer("Reaction ~ Days + (1 | Subject)", pylme4.datasets.load("sleepstudy"))
    print("AFTER", repr(float(again.fixef()["Days"])))
    """
)


def _run_wide(p: int, n: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(pylme4.__file__).parent.parent)}
    return subprocess.run(
        [sys.executable, "-c", _WIDE_SCRIPT, str(p), str(n)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.parametrize(
    "p, n, fit_allowed", [(800, 1000, True), (2000, 2200, True), (30_000, 40, False)]
)
def test_wide_formula_fits_or_is_a_formula_error(p: int, n: int, fit_allowed: bool) -> None:
    # R's lme4 walks formulas recursively (findbars()); ~650 terms in a chain
    # of '+' exhaust an 8 MB C stack, and R's own C code (all.vars(),
    # deparse()) overflows somewhere past 20,000.  pylme4 must give a fit or a
    # clear FormulaError, never crash the interpreter (exit 139).  30,000
    # terms are refused whatever R's stack (n < p: a fit would be an error).
    done = _run_wide(p, n)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    out, after = done.stdout.strip().splitlines()[-2:]
    expected = r("fixef(lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy))")["Days"]
    assert after == f"AFTER {float(expected)!r}"
    if out.startswith("FIT") and fit_allowed:
        assert out == f"FIT {p + 1}"
    else:
        assert out.startswith("FormulaError:"), out
        assert "nested" in out and "Traceback" not in out, out


def test_formula_of_300_terms_fits_as_in_r() -> None:
    # Wide, but within what lme4 itself can walk: the same fit as R's.
    p, n = 300, 600
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, p))
    y = x[:, :5].sum(axis=1) + np.repeat(rng.normal(size=30), n // 30) + rng.normal(size=n)
    import pandas as pd

    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(p)])
    df["g"] = np.repeat([f"g{i:02d}" for i in range(30)], n // 30)
    df["y"] = y
    formula = "y ~ " + " + ".join(df.columns[:p]) + " + (1 | g)"
    fit = pylme4.lmer(formula, df)
    ref = r_apply(
        """function(d, f) {
          m <- lmer(as.formula(f), data = d)
          list(fixef = fixef(m), theta = getME(m, "theta"), sigma = sigma(m),
               loglik = as.numeric(logLik(m)))
        }""",
        df,
        formula,
    )
    np.testing.assert_allclose(fit.fixef(), ref["fixef"], **SAME)
    np.testing.assert_allclose(fit.theta, np.atleast_1d(ref["theta"]), **SAME)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], **SAME)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], **SAME)


def test_r_stack_overflow_error_is_a_formula_error() -> None:
    # Where R checks its C stack (Rscript; the embedded R once it has a
    # limit), lme4 stops a too-wide formula with R's "C stack usage ... is
    # too close to the limit": pylme4 reports that as a FormulaError.  The
    # text is R's own, asked from Rscript (the embedded R here may have no
    # stack check, where the same call would crash).
    from pylme4.errors import FormulaError
    from pylme4.r_errors import translate_r_error

    code = (
        "f <- as.formula(paste('y ~', paste0('x', 1:3000, collapse = ' + '), '+ (1 | g)'));"
        "cat(tryCatch({lme4::findbars(f); 'no error'}, error = conditionMessage))"
    )
    done = subprocess.run(
        ["Rscript", "-e", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout != "no error"
    exc = translate_r_error(done.stdout, "fitting the model with lmer()")
    assert type(exc) is FormulaError
    assert "nested too deeply" in str(exc) and exc.r_message == done.stdout.strip()
