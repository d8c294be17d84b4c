"""Issue 17, items 2 and 4: R's text at every prompt (repr is R's printout),
the fit's scalars as numbers with the old method spelling deprecated, and
the names R gives to models in anova() and boot.ci()."""

from __future__ import annotations

import html
import pickle
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import r, r_printed

import pylme4

SAME = {"rtol": 1e-12, "atol": 0}

# -- the fits every test below uses, each made once, and the same in R --------
# name: (how pylme4 makes it, the R code making the R object of that name)

ORANGE = "circumference ~ SSlogis(age, Asym, xmid, scal) ~ Asym | Tree"
ORANGE_START = {"Asym": 200, "xmid": 725, "scal": 350}
CBPP = "cbind(incidence, size - incidence) ~ period"
CAKE = "angle ~ recipe * temp + (1 | recipe:replicate)"

FITS: dict[str, tuple[Any, str]] = {
    "fit": (
        lambda: pylme4.lmer(
            "Reaction ~ Days + (Days | Subject)", _data("sleepstudy"), data_name="sleepstudy"
        ),
        "fit <- lme4::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)",
    ),
    "fit_lt": (  # lmerTest's view of the same fit (pylme4 makes it on demand)
        lambda: _fit("fit"),
        "fit_lt <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)",
    ),
    "m0": (
        lambda: pylme4.lmer(
            "Reaction ~ Days + (1 | Subject)", _data("sleepstudy"), data_name="sleepstudy"
        ),
        "m0 <- lme4::lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)",
    ),
    "ml": (
        lambda: pylme4.lmer(
            "Reaction ~ Days + (1 | Subject)",
            _data("sleepstudy"),
            reml=False,
            data_name="sleepstudy",
        ),
        "ml <- lme4::lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy, REML = FALSE)",
    ),
    "gm": (
        lambda: pylme4.glmer(
            f"{CBPP} + (1 | herd)", _data("cbpp"), family="binomial", data_name="cbpp"
        ),
        f"gm <- lme4::glmer({CBPP} + (1 | herd), data = cbpp, family = binomial)",
    ),
    "nm": (
        lambda: pylme4.nlmer(ORANGE, _data("Orange"), start=ORANGE_START, data_name="Orange"),
        f"nm <- lme4::nlmer({ORANGE}, data = Orange, start = c(Asym = 200, xmid = 725,"
        " scal = 350))",
    ),
    "lm": (
        lambda: pylme4.lm("Reaction ~ Days", _data("sleepstudy"), data_name="sleepstudy"),
        "lm <- lm(Reaction ~ Days, data = sleepstudy)",
    ),
    "glm": (
        lambda: pylme4.glm(CBPP, _data("cbpp"), family="binomial", data_name="cbpp"),
        f"glm <- glm({CBPP}, family = binomial, data = cbpp)",
    ),
    "lmlist": (
        lambda: pylme4.lm_list(
            "Reaction ~ Days | Subject", _data("sleepstudy"), data_name="sleepstudy"
        ),
        "lmlist <- lmList(Reaction ~ Days | Subject, data = sleepstudy)",
    ),
    "lmlist_nopool": (
        lambda: pylme4.lm_list(
            "Reaction ~ Days | Subject", _data("sleepstudy"), data_name="sleepstudy", pool=False
        ),
        "lmlist_nopool <- lmList(Reaction ~ Days | Subject, data = sleepstudy, pool = FALSE)",
    ),
    "pm": (
        lambda: pylme4.lmer("strength ~ 1 + (1 | batch/cask)", _data("Pastes"), data_name="Pastes"),
        "pm <- lme4::lmer(strength ~ 1 + (1 | batch/cask), data = Pastes)",
    ),
    "ck": (
        lambda: pylme4.lmer(CAKE, _data("cake"), data_name="cake"),
        f"ck <- lmerTest::lmer({CAKE}, data = cake)",
    ),
    "gm0": (
        lambda: pylme4.glmer(
            f"{CBPP.split(' ~ ')[0]} ~ 1 + (1 | herd)",
            _data("cbpp"),
            family="binomial",
            data_name="cbpp",
        ),
        f"gm0 <- lme4::glmer({CBPP.split(' ~ ')[0]} ~ 1 + (1 | herd), data = cbpp,"
        " family = binomial)",
    ),
}

R_DATA = (
    "sleepstudy <- lme4::sleepstudy; cbpp <- lme4::cbpp; Pastes <- lme4::Pastes\n"
    "cake <- lme4::cake; Orange <- as.data.frame(datasets::Orange)\n"
)

_MADE: dict[str, Any] = {}


def _data(name: str) -> pd.DataFrame:
    key = f"data:{name}"
    if key not in _MADE:
        _MADE[key] = pylme4.datasets.load(name)
    return _MADE[key]


def _fit(name: str) -> Any:
    if name not in _MADE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _MADE[name] = FITS[name][0]()
    return _MADE[name]


def _r_fits(*names: str) -> str:
    return R_DATA + "".join(FITS[n][1] + "\n" for n in names)


@pytest.fixture(scope="module")
def sleep():
    return _data("sleepstudy")


@pytest.fixture(scope="module")
def fit():
    return _fit("fit")


R_FIT = _r_fits("fit")

# -- the fit's scalars: attributes on every fit class, equal to R's ------------

# R's accessor of each scalar (NULL where R has none for the class).
R_SCALARS = {
    "sigma": "sigma(x)",
    "nobs": "nobs(x)",
    "loglik": "as.numeric(logLik(x))",
    "aic": "AIC(x)",
    "bic": "BIC(x)",
    # lme4's deviance() of a REML fit is the ML deviance at the REML estimates
    "deviance": 'if (is(x, "merMod") && isREML(x)) deviance(x, REML = FALSE) else deviance(x)',
    "reml_criterion": "REMLcrit(x)",
}

# fit -> its class, and the scalars R has for it (the others: R has none)
SCALAR_FITS = {
    "fit": ("LmerFit", tuple(R_SCALARS)),
    # REMLcrit() of an ML fit evaluates the REML criterion at the ML estimates;
    # pylme4's reml_criterion is the criterion a fit minimised: None here
    # (docs/r-parity.md)
    "ml": ("LmerFit", ("sigma", "nobs", "loglik", "aic", "bic", "deviance")),
    "gm": ("GlmerFit", ("sigma", "nobs", "loglik", "aic", "bic", "deviance")),
    "nm": ("NlmerFit", ("sigma", "nobs", "loglik", "aic", "bic", "deviance")),
    "lm": ("LmFit", ("sigma", "nobs", "loglik", "aic", "bic", "deviance")),
    "glm": ("GlmFit", ("sigma", "nobs", "loglik", "aic", "bic", "deviance")),
    # lme4 has sigma(), logLik() (so AIC, BIC) for an lmList4, no nobs() or deviance()
    "lmlist": ("LmListFit", ("sigma", "loglik", "aic", "bic")),
    "lmlist_nopool": ("LmListFit", ("sigma", "loglik", "aic", "bic")),
}


@pytest.mark.parametrize("name", list(SCALAR_FITS))
def test_scalars_are_attributes_equal_to_r_and_calls_are_deprecated(name):
    cls, names = SCALAR_FITS[name]
    fit = _fit(name)
    assert type(fit).__name__ == cls
    items = ", ".join(f"{s} = tryCatch({R_SCALARS[s]}, error = function(e) NULL)" for s in names)
    ref = r(_r_fits(name) + f"x <- {name}\nlist({items})")
    for scalar in names:
        value = getattr(fit, scalar)
        expected = ref[scalar]
        assert isinstance(value, (int, float)), (name, scalar)
        np.testing.assert_allclose(value, expected, **SAME, err_msg=f"{name} {scalar}")
        with pytest.warns(DeprecationWarning, match=rf"fit\.{scalar}\(\) is deprecated") as w:
            called = value()
        assert called == value and type(called) in (int, float)
        assert w[0].filename == __file__  # points at the user's line
    if name == "fit":
        assert fit.reml_criterion is not None
    if name == "ml":
        assert fit.reml_criterion is None


def test_lm_list_nobs_is_the_rows_used(sleep):
    # R has no nobs() for an lmList4; pylme4's nobs counts the groups' rows
    # (logLik's "nobs" attribute in R)
    lmlist = _fit("lmlist")
    assert lmlist.nobs == r(_r_fits("lmlist") + "attr(logLik(lmlist), 'nobs')") == len(sleep)


def test_scalars_print_and_compute_as_plain_numbers(fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(fit.aic) == repr(float(fit.aic))
        assert f"{fit.loglik:.4f}" == f"{float(fit.loglik):.4f}"
        assert type(fit.aic + 1) is float and type(fit.nobs + 1) is int
        assert fit.brief().endswith(f"REML criterion {float(fit.reml_criterion):.4f}>")
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert pretty.pretty(fit.aic) == repr(float(fit.aic))
    assert pretty.pretty(fit.nobs) == repr(int(fit.nobs))


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


# -- every result R prints shows R's text at every prompt ----------------------
#
# One case per kind of result: how pylme4 makes it, what R prints for the same
# thing (R code on the objects of FITS; its last value is printed, messages
# that print methods write, as bootMer's does, included), and the fits it
# needs.  For each: repr() == str() == R's text, Jupyter's <pre> HTML of that
# text, and IPython's pretty printer (its plain-text display) showing it too.


def _anova_named():
    m0, fit = _fit("m0"), _fit("fit")
    return pylme4.anova(m0, fit)  # rows named after this frame's m0 and fit


def _boot():
    if "boot" not in _MADE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _MADE["boot"] = _fit("fit").boot_mer("fixef", nsim=20, seed=1)
    return _MADE["boot"]


def _boot_ci():
    b = _boot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return b.ci("Days")  # boot.ci's CALL line names b, as R's does


R_BOOT = (
    "b <- suppressWarnings(bootMer(fit, fixef, nsim = 20, seed = 1))\nboot.ci <- boot::boot.ci\n"
)

R_ALLFIT = r"""mt <- lme4::allFit(fit, show.meth.tab = TRUE)
names_all <- gsub("\\.$", "", paste(mt[, "optimizer"], mt[, "method"], sep = "."))
summary(lme4::allFit(fit, meth.tab = mt[names_all %in% c("bobyqa", "Nelder_Mead"), ,
                                        drop = FALSE], verbose = FALSE))"""


def _glmer_anova():
    gm0, gm = _fit("gm0"), _fit("gm")
    return pylme4.anova(gm0, gm)


def _boot_ci_norm():
    b = _boot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return b.ci("(Intercept)", type="norm", level=0.9)


def _all_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fit("fit").all_fit(optimizers=["bobyqa", "Nelder_Mead"])


def _without_times(text: str) -> str:
    """allFit's summary without its $times block (timings vary run to run)."""
    return re.sub(r"\$times\n.*?\n\n", "$times\n<times>\n\n", text, flags=re.DOTALL)


# id: (pylme4's result, R code, fits it needs)
PRINTED: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "lmer": (lambda: _fit("fit"), "fit", ("fit",)),
    "lmer summary": (lambda: _fit("fit").summary(), "summary(fit)", ("fit",)),
    "lmer ML summary": (lambda: _fit("ml").summary(), "summary(ml)", ("ml",)),
    "lmerTest summary": (
        lambda: _fit("fit").summary(ddf="Satterthwaite"),
        "summary(fit_lt)",
        ("fit_lt",),
    ),
    "glmer": (lambda: _fit("gm"), "gm", ("gm",)),
    "glmer summary": (lambda: _fit("gm").summary(), "summary(gm)", ("gm",)),
    "nlmer": (lambda: _fit("nm"), "nm", ("nm",)),
    "nlmer summary": (lambda: _fit("nm").summary(), "summary(nm)", ("nm",)),
    "lm": (lambda: _fit("lm"), "lm", ("lm",)),
    "lm summary": (lambda: _fit("lm").summary(), "summary(lm)", ("lm",)),
    "glm": (lambda: _fit("glm"), "glm", ("glm",)),
    "glm summary": (lambda: _fit("glm").summary(), "summary(glm)", ("glm",)),
    "lmList": (lambda: _fit("lmlist"), "lmlist", ("lmlist",)),
    "anova of models": (_anova_named, "suppressMessages(anova(m0, fit))", ("m0", "fit")),
    "lmerTest anova": (lambda: _fit("fit").anova(), "anova(fit_lt)", ("fit_lt",)),
    "lmerTest anova, type 1, Kenward-Roger": (
        lambda: _fit("ck").anova(type=1, ddf="Kenward-Roger"),
        'anova(ck, type = 1, ddf = "Kenward-Roger")',
        ("ck",),
    ),
    "anova of glmer models": (_glmer_anova, "anova(gm0, gm)", ("gm0", "gm")),
    "Kenward-Roger summary": (
        lambda: _fit("ck").summary(ddf="Kenward-Roger"),
        'summary(ck, ddf = "Kenward-Roger")',
        ("ck",),
    ),
    "ranova": (lambda: _fit("fit").ranova(), "lmerTest::ranova(fit_lt)", ("fit_lt",)),
    "lmerTest drop1": (lambda: _fit("fit").drop1(), "drop1(fit_lt)", ("fit_lt",)),
    "lme4 drop1": (lambda: _fit("fit").drop1(test="Chisq"), 'drop1(fit, test = "Chisq")', ("fit",)),
    "wald_anova": (lambda: _fit("fit").wald_anova(), "car::Anova(fit)", ("fit",)),
    "coef": (lambda: _fit("fit").coef(), "coef(fit)", ("fit",)),
    "ranef": (lambda: _fit("fit").ranef(), "ranef(fit)", ("fit",)),
    "ranef without condVar": (
        lambda: _fit("fit").ranef(cond_var=False),
        "ranef(fit, condVar = FALSE)",
        ("fit",),
    ),
    "coef nested": (lambda: _fit("pm").coef(), "coef(pm)", ("pm",)),
    "ranef nested": (lambda: _fit("pm").ranef(), "ranef(pm)", ("pm",)),
    "glmer ranef": (lambda: _fit("gm").ranef(), "ranef(gm)", ("gm",)),
    "boot": (_boot, R_BOOT + "b", ("fit",)),
    "boot ci": (_boot_ci, R_BOOT + 'boot.ci(b, type = "perc", index = 2)', ("fit",)),
    "boot ci, normal, 90%": (
        _boot_ci_norm,
        R_BOOT + 'boot.ci(b, conf = 0.9, type = "norm", index = 1)',
        ("fit",),
    ),
    "all_fit": (_all_fit, R_ALLFIT, ("fit",)),
    "profile": (
        lambda: _fit("fit").profile(which="beta_"),
        'profile(fit, which = "beta_")',
        ("fit",),
    ),
    "emmeans": (lambda: _fit("gm").emmeans("period"), 'emmeans::emmeans(gm, "period")', ("gm",)),
    "emmeans pairs": (
        lambda: _fit("gm").emmeans("period").pairs(),
        'pairs(emmeans::emmeans(gm, "period"))',
        ("gm",),
    ),
    "emmeans confint": (
        lambda: _fit("gm").emmeans("period").confint(),
        'confint(emmeans::emmeans(gm, "period"))',
        ("gm",),
    ),
    "emtrends": (
        lambda: _fit("ck").emtrends("recipe", var="temp"),
        'emmeans::emtrends(ck, "recipe", var = "temp")',
        ("ck",),
    ),
    "emm_list": (
        lambda: _fit("gm").emmeans("pairwise ~ period"),
        "emmeans::emmeans(gm, pairwise ~ period)",
        ("gm",),
    ),
    "ls_means": (lambda: _fit("ck").ls_means(), "lmerTest::ls_means(ck)", ("ck",)),
    "ls_means without factors": (
        lambda: _fit("fit").ls_means(),
        "lmerTest::ls_means(fit_lt)",
        ("fit_lt",),
    ),
    "difflsmeans": (lambda: _fit("ck").difflsmeans(), "lmerTest::difflsmeans(ck)", ("ck",)),
    "contest": (
        lambda: _fit("fit").contest(np.eye(2)),
        "lmerTest::contest(fit_lt, diag(2))",
        ("fit_lt",),
    ),
    "show_tests": (
        lambda: _fit("ck").show_tests(),
        "lmerTest::show_tests(lmerTest::ls_means(ck))",
        ("ck",),
    ),
    "step": (lambda: _fit("ck").step(), "lmerTest::step(ck)", ("ck",)),
    "r2": (lambda: _fit("fit").r2(), "performance::r2(fit)", ("fit",)),
    "icc": (lambda: _fit("fit").icc(), "performance::icc(fit)", ("fit",)),
    "icc by group": (
        lambda: _fit("pm").icc(by_group=True),
        "performance::icc(pm, by_group = TRUE)",
        ("pm",),
    ),
    "rePCA": (lambda: _fit("fit").re_pca(), "lme4::rePCA(fit)", ("fit",)),
    "rePCA term": (lambda: _fit("fit").re_pca()["Subject"], "lme4::rePCA(fit)$Subject", ("fit",)),
}

# What R's console shows for the value of `code`: print()'s output, then what
# the print method wrote with message() (bootMer's does).
R_CONSOLE = r"""
x <- suppressWarnings(suppressMessages(local({
%s
})))
said <- character()
out <- withCallingHandlers(capture.output(print(x)), message = function(m) {
  said <<- c(said, conditionMessage(m)); invokeRestart("muffleMessage") })
sub("\n$", "", paste0(paste(c(out, ""), collapse = "\n"), paste(said, collapse = "")))
"""


def _shows_r_text(result: Any, expected: str, label: str) -> None:
    text = str(result)
    assert repr(result) == text == expected, label
    assert result._repr_html_() == f"<pre>{html.escape(text)}</pre>", label
    pretty = pytest.importorskip("IPython.lib.pretty")
    # IPython's plain-text display: the lines of repr() (a final newline goes)
    assert pretty.pretty(result) == "\n".join(text.splitlines()), label


@pytest.mark.parametrize("case", list(PRINTED))
def test_results_print_r_text_at_every_prompt(case):
    make, code, needs = PRINTED[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = make()
    expected = r(_r_fits(*needs) + R_CONSOLE % code)
    text = str(result)
    if case == "all_fit":
        text, expected = _without_times(text), _without_times(expected)
        assert repr(result) == str(result)
        result = _Text(text)
    _shows_r_text(result, expected, case)


class _Text:
    """A stand-in showing ``text`` the way RPrinted does (for the all_fit case,
    whose timings are masked)."""

    def __init__(self, text: str):
        self._text = text

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__

    def _repr_html_(self) -> str:
        from pylme4.formatting import pre_html

        return pre_html(self._text)


# Results whose text is pylme4's own, as R prints no such thing: they still
# show that text at every prompt (tested below), but there is no R to compare.
OWN_TEXT = {
    "ConvergenceCheck": "allFit has no verdict; the words are pylme4's",
    "PowerResult": "a simulation loop of docs/power.md, not an R function",
    "PowerCurve": "the same, per size",
}
# Bases that are never results themselves.
BASES = {"MerFit", "_RegressionFit", "EmmTable", "RList"}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_printed_result_class_is_compared_with_r():
    import importlib
    import pkgutil

    from pylme4.formatting import RPrinted

    for module in pkgutil.walk_packages(pylme4.__path__, "pylme4."):
        if not module.name.startswith("pylme4._r") and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    classes = set(_all_subclasses(RPrinted))
    # no class keeps a repr of its own (e.g. @dataclass's field dump)
    assert sorted(c.__name__ for c in classes if c.__repr__ is not RPrinted.__repr__) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compared = {type(make()).__name__ for make, _, _ in PRINTED.values()}
    names = {c.__name__ for c in classes}
    assert names - compared - set(OWN_TEXT) - BASES == set()
    assert set(OWN_TEXT) <= names and not (compared & set(OWN_TEXT))


def test_results_with_pylme4s_own_text_show_it_at_every_prompt():
    fit = _fit("fit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check = _all_fit().check_convergence()
        power = pylme4.power(fit, "Days", effect=5.0, nsim=3, seed=1)
    for result in (check, power):
        assert type(result).__name__ in OWN_TEXT
        text = str(result)
        assert text and not text.startswith(type(result).__name__ + "(")
        _shows_r_text(result, text, type(result).__name__)


def test_coef_and_ranef_lists_stay_dicts_of_frames_and_pickle(fit):
    pastes = _fit("pm")
    assert "$`cask:batch`\n" in repr(pastes.coef())
    ranef = pickle.loads(pickle.dumps(fit.ranef()))
    assert repr(ranef) == repr(fit.ranef()) and ranef.postvar is not None
    assert list(ranef) == ["Subject"] and isinstance(ranef["Subject"], pd.DataFrame)
    pd.testing.assert_frame_equal(ranef.condsd["Subject"], fit.ranef().condsd["Subject"])


# -- r_print: any pandas table in R's layout ----------------------------------


def test_r_print_gives_r_row_names_for_pandas_default_index(fit):
    # var_corr() is as.data.frame(VarCorr(fit)): automatic row names 1..n in
    # R, a default 0-based index in pandas.
    assert pylme4.r_print(fit.var_corr()) == r_printed(
        R_FIT + "as.data.frame(VarCorr(fit))"
    )
    # A frame indexed by labels keeps them as row names.
    coef = fit.coef()["Subject"]
    assert pylme4.r_print(coef) == r_printed(R_FIT + 'coef(fit)[["Subject"]]')
