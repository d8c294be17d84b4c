"""Issue 17, items 2 and 4: R's text at every prompt (repr is R's printout),
the fit's scalars as numbers with the old method spelling deprecated, and
the names R gives to models in anova() and boot.ci()."""

from __future__ import annotations

import html
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import r, r_printed

import pylme4

SAME = {"rtol": 1e-12, "atol": 0}

SCALARS = ("sigma", "nobs", "loglik", "aic", "bic", "deviance")


@pytest.fixture(scope="module")
def sleep():
    return pylme4.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def fit(sleep):
    return pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")


R_FIT = (
    "sleepstudy <- lme4::sleepstudy\n"
    "fit <- lme4::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
)


def _fits(sleep):
    cbpp = pylme4.datasets.load("cbpp")
    return {
        "lmer": (pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep), R_FIT),
        "lmer_ml": (
            pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, reml=False),
            "fit <- lme4::lmer(Reaction ~ Days + (1 | Subject), lme4::sleepstudy, REML = FALSE)\n",
        ),
        "glmer": (
            pylme4.glmer(
                "cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp, family="binomial"
            ),
            "fit <- lme4::glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),"
            " lme4::cbpp, family = binomial)\n",
        ),
        "lm": (
            pylme4.lm("Reaction ~ Days", sleep),
            "fit <- lm(Reaction ~ Days, lme4::sleepstudy)\n",
        ),
        "glm": (
            pylme4.glm("cbind(incidence, size - incidence) ~ period", cbpp, family="binomial"),
            "fit <- glm(cbind(incidence, size - incidence) ~ period, binomial, lme4::cbpp)\n",
        ),
    }


def test_scalars_are_numbers_equal_to_r_and_calls_are_deprecated(sleep):
    for kind, (fit, code) in _fits(sleep).items():
        ref = r(
            code + "list(sigma = sigma(fit), nobs = nobs(fit), loglik = as.numeric(logLik(fit)),"
            " aic = AIC(fit), bic = BIC(fit),"
            ' deviance = if (is(fit, "lmerMod")) deviance(fit, REML = FALSE) else deviance(fit))'
        )
        for name in SCALARS:
            value = getattr(fit, name)
            assert isinstance(value, (int, float)), (kind, name)
            np.testing.assert_allclose(value, ref[name], **SAME, err_msg=f"{kind} {name}")
            with pytest.warns(DeprecationWarning, match=rf"fit\.{name}\(\) is deprecated") as w:
                called = value()
            assert called == value and type(called) in (int, float)
            assert w[0].filename == __file__  # points at the user's line
    lmer = _fits(sleep)["lmer"][0]
    crit = r(R_FIT + "lme4::REMLcrit(fit)")
    np.testing.assert_allclose(lmer.reml_criterion, crit, **SAME)
    with pytest.warns(DeprecationWarning):
        assert lmer.reml_criterion() == lmer.reml_criterion


def test_scalars_print_and_compute_as_plain_numbers(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(fit.aic) == repr(float(fit.aic))
        assert f"{fit.loglik:.4f}" == f"{float(fit.loglik):.4f}"
        assert type(fit.aic + 1) is float and type(fit.nobs + 1) is int
        assert fit.brief().endswith(f"REML criterion {float(fit.reml_criterion):.4f}>")


def test_repr_is_r_text_at_the_prompt(fit):
    shown = {
        "fit": (fit, R_FIT + "fit"),
        "summary": (fit.summary(), R_FIT + "summary(fit)"),
    }
    for name, (result, code) in shown.items():
        assert repr(result) == str(result) == r_printed(code), name


# -- names as R shows them -------------------------------------------------------

R_PAIR = (
    "sleepstudy <- lme4::sleepstudy\n"
    "m0 <- lme4::lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)\n"
    "fit <- lme4::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
)


@pytest.fixture(autouse=False)
def quiet():
    # R's "refitting model(s) with ML": anova() is called right in each test,
    # since it reads the names of its caller's frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_anova_rows_carry_the_callers_names_as_in_r(sleep, fit, quiet):
    m0 = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleepstudy")
    expected = r_printed(R_PAIR + "suppressMessages(anova(m0, fit))")
    assert repr(pylme4.anova(m0, fit)) == expected
    assert repr(pylme4.anova(m0=m0, fit=fit)) == expected
    assert str(pylme4.anova(m0, fit=fit)) == expected
    # no name bound to the fit (only a list holds them), two names for one
    # fit, a keyword with the name: the fit gets its position's name
    formulas = ["Reaction ~ Days + (1 | Subject)", "Reaction ~ Days + (Days | Subject)"]
    fits = [pylme4.lmer(f, sleep, data_name="sleepstudy") for f in formulas]
    table = pylme4.anova(fits[0], fits[1])
    assert list(table.table.index) == ["model1", "model2"]
    assert str(table) == r_printed(
        R_PAIR + "model1 <- m0; model2 <- fit\nsuppressMessages(anova(model1, model2))"
    )
    same = m0
    assert list(pylme4.anova(same, fit).table.index) == ["model1", "fit"]
    del same
    # a keyword takes its name; the positional fit bound to it falls back
    assert sorted(pylme4.anova(fit, fit=m0).table.index) == ["fit", "model1"]


def test_anova_skips_ipython_result_names(sleep, fit, quiet):
    m0 = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep, data_name="sleepstudy")
    _ = _7 = m0  # what IPython binds the last results to
    assert list(pylme4.anova(m0, fit).table.index) == ["m0", "fit"]
    del _, _7


def test_anova_names_from_module_level_code(sleep):
    """A script's fits are globals: the caller's frame is read at module level too."""
    code = (
        "import warnings, pylme4\n"
        "sleep = pylme4.datasets.load('sleepstudy')\n"
        "small = pylme4.lmer('Reaction ~ Days + (1 | Subject)', sleep)\n"
        "big = pylme4.lmer('Reaction ~ Days + (Days | Subject)', sleep)\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    rows = list(pylme4.anova(small, big).table.index)\n"
        "def inside():\n"
        "    local_big = big\n"
        "    with warnings.catch_warnings():\n"
        "        warnings.simplefilter('ignore')\n"
        "        return list(pylme4.anova(small, local_big).table.index)\n"
    )
    scope: dict = {"__name__": "script"}
    exec(compile(code, "<script>", "exec"), scope)
    assert scope["rows"] == ["small", "big"]
    # inside a function: its locals, and the module's globals it can see; big
    # is bound to two names there (big, local_big), so it gets its position's
    assert scope["inside"]() == ["small", "model2"]


# -- coef() and ranef() lists print as R prints them -----------------------------

R_PASTES = (
    "Pastes <- lme4::Pastes\nfit <- lme4::lmer(strength ~ 1 + (1 | batch/cask), data = Pastes)\n"
)


def test_coef_and_ranef_lists_print_as_r_prints_them(fit):
    pastes = pylme4.lmer(
        "strength ~ 1 + (1 | batch/cask)", pylme4.datasets.load("Pastes"), data_name="Pastes"
    )
    shown = [
        (fit.coef(), R_FIT + "coef(fit)"),
        (fit.ranef(), R_FIT + "ranef(fit, condVar = FALSE)"),
        (fit.ranef(cond_var=True), R_FIT + "ranef(fit, condVar = TRUE)"),
        (pastes.coef(), R_PASTES + "coef(fit)"),
        (pastes.ranef(), R_PASTES + "ranef(fit, condVar = FALSE)"),
    ]
    for result, code in shown:
        assert isinstance(result, dict)
        expected = r_printed(code)
        assert repr(result) == str(result) == expected, code
        assert result._repr_html_() == f"<pre>{html.escape(expected)}</pre>"
    assert "$`cask:batch`\n" in repr(pastes.coef())
    # still a dict of the DataFrames, and pickles with its text
    ranef = pickle.loads(pickle.dumps(fit.ranef(cond_var=True)))
    assert repr(ranef) == repr(fit.ranef(cond_var=True)) and ranef.postvar is not None
    assert list(ranef) == ["Subject"] and isinstance(ranef["Subject"], pd.DataFrame)


# -- every result R prints shows R's text at the prompt --------------------------


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_r_printed_class_has_r_text_as_repr():
    import importlib
    import pkgutil

    from pylme4.formatting import RPrinted

    for module in pkgutil.walk_packages(pylme4.__path__, "pylme4."):
        if not module.name.startswith("pylme4._r") and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    classes = set(_all_subclasses(RPrinted))
    assert len(classes) > 20
    # no class keeps a repr of its own (e.g. @dataclass's field dump)
    assert sorted(c.__name__ for c in classes if c.__repr__ is not RPrinted.__repr__) == []
    assert {"ConvergenceCheck", "RList", "Ranef", "AnovaTable", "BootCI"} <= {
        c.__name__ for c in classes
    }


def test_results_at_the_prompt_are_their_r_text(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = fit.boot_mer("fixef", nsim=20, seed=1)
        results = {
            "summary": fit.summary(),
            "lmertest anova": fit.anova(),
            "ranova": fit.ranova(),
            "boot": boot,
            "boot ci": boot.ci("Days"),
            "emmeans": fit.emmeans("Days", at={"Days": [0, 9]}),
            "r2": fit.r2(),
            "icc": fit.icc(),
            "profile": fit.profile(which="beta_"),
            "all_fit": fit.all_fit(optimizers=["bobyqa", "Nelder_Mead"]),
        }
        results["check_convergence"] = results["all_fit"].check_convergence()
    for name, result in results.items():
        text = str(result)
        assert text and repr(result) == text, name
        assert result._repr_html_() == f"<pre>{html.escape(text)}</pre>", name
        assert not text.startswith(type(result).__name__ + "("), name


def test_ipython_prompt_shows_r_text(fit):
    pretty = pytest.importorskip("IPython.lib.pretty")
    for result in (fit, fit.summary(), fit.coef(), fit.ranef()):
        # IPython shows the lines of repr() (a final newline goes)
        assert pretty.pretty(result) == "\n".join(str(result).splitlines())
    assert pretty.pretty(fit.aic) == repr(float(fit.aic))
