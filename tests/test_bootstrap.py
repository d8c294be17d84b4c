"""fit.boot_mer() and BootResult.ci() against lme4's bootMer() and boot's boot.ci().

The replicates must be R's bit for bit (np.array_equal) for the same seed,
whatever runs the refits: this process, worker processes or an Executor.
The bootstraps are small (nsim 20-40) so the suite stays quick.
"""

from __future__ import annotations

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from conftest import r

import pylme4
from pylme4.errors import RWarning

# (data set, formula) fitted the same way in R and in pylme4.
MODELS = {
    "sleepstudy": "Reaction ~ Days + (Days | Subject)",
    "Dyestuff": "Yield ~ 1 + (1 | Batch)",
    "Penicillin": "diameter ~ 1 + (1 | plate) + (1 | sample)",
    "Pastes": "strength ~ 1 + (1 | batch/cask)",
}

# pylme4's named statistics and the R FUN each stands for.
R_FUNS = {
    "fixef": "fixef",
    "sigma": "sigma",
    "theta": 'function(x) getME(x, "theta")',
    "var_corr": 'function(x) as.data.frame(VarCorr(x), order = "lower.tri")$sdcor',
}

# What R's console shows for print(b): print.boot's output, then the text
# bootMer's print method writes with message() (on stderr), verbatim.
R_PRINT = (
    "console <- function(x) { said <- character(); "
    "out <- withCallingHandlers(capture.output(print(x)), message = function(m) { "
    "said <<- c(said, conditionMessage(m)); invokeRestart('muffleMessage') }); "
    "sub('\\n$', '', paste0(paste(c(out, ''), collapse = '\\n'), paste(said, collapse = ''))) }\n"
)


def _fit(name: str) -> pylme4.LmerFit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pylme4.lmer(MODELS[name], pylme4.datasets.load(name), data_name=name)


def _r_boot(name: str, fun: str, nsim: int, seed: int, extra: str = "") -> dict:
    """bootMer in R on the same model: its t, t0, printout and warning tables."""
    return r(
        R_PRINT + f"fit <- lmer({MODELS[name]}, data = {name})\n"
        f"b <- suppressWarnings(bootMer(fit, {R_FUNS.get(fun, fun)}, nsim = {nsim}, seed = {seed}{extra}))\n"
        "msgs <- attr(b, 'boot.all.msgs')\n"
        "list(t = unname(b$t), t0 = unname(b$t0), text = console(b),"
        " fail = attr(b, 'bootFail'),"
        " warnings = as.list(names(msgs[['factory-warning']])),"
        " warning_counts = as.list(as.vector(msgs[['factory-warning']])))"
    )


@pytest.fixture(scope="module")
def sleep_fit() -> pylme4.LmerFit:
    return _fit("sleepstudy")


def _same_replicates(py: pd.DataFrame, ref: dict) -> None:
    expected = np.asarray(ref["t"], dtype=float).reshape(py.shape[0], -1)
    assert np.array_equal(py.to_numpy(), expected, equal_nan=True)


@pytest.mark.parametrize("fun", ["fixef", "sigma", "theta", "var_corr"])
def test_named_statistics_are_bootmer_bit_for_bit(sleep_fit, fun):
    b = sleep_fit.boot_mer(fun, nsim=20, seed=42)
    ref = _r_boot("sleepstudy", fun, 20, 42)
    _same_replicates(b.t, ref)
    assert np.array_equal(b.t0.to_numpy(), np.atleast_1d(ref["t0"]))
    assert b.text == ref["text"]
    assert b.nsim == 20 and b.n_failed == 0 and b.seed == 42


def test_statistic_names_are_lme4s(sleep_fit):
    names = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "list(theta = names(getME(fit, 'theta')), fixef = names(fixef(fit)),"
        " sdcor = rownames(confint(fit, method = 'Wald', oldNames = FALSE))[1:4])"
    )
    assert list(sleep_fit.boot_mer("theta", nsim=2, seed=1).t.columns) == list(names["theta"])
    assert list(sleep_fit.boot_mer("fixef", nsim=2, seed=1).t.columns) == list(names["fixef"])
    assert list(sleep_fit.boot_mer("var_corr", nsim=2, seed=1).t.columns) == list(names["sdcor"])
    assert list(sleep_fit.boot_mer("sigma", nsim=2, seed=1).t.columns) == ["sigma"]


@pytest.mark.parametrize("name", ["Dyestuff", "Penicillin", "Pastes"])
def test_other_data_sets(name):
    fit = _fit(name)
    for fun in ("fixef", "var_corr"):
        b = fit.boot_mer(fun, nsim=20, seed=7)
        ref = _r_boot(name, fun, 20, 7)
        _same_replicates(b.t, ref)
        assert b.text == ref["text"]


def test_python_statistic_gives_the_r_statistics_replicates(sleep_fit):
    def slope_and_sigma(fit: pylme4.LmerFit) -> pd.Series:
        return pd.Series({"Days": fit.fixef()["Days"], "sigma": fit.sigma})

    b = sleep_fit.boot_mer(slope_and_sigma, nsim=20, seed=5)
    ref = _r_boot("sleepstudy", "function(x) c(Days = fixef(x)[['Days']], sigma = sigma(x))", 20, 5)
    _same_replicates(b.t, ref)
    assert list(b.t.columns) == ["Days", "sigma"]
    assert b.statistic == "slope_and_sigma"
    assert "FUN = slope_and_sigma" in b.text


def test_use_u_and_re_form_and_semiparametric(sleep_fit):
    cases = [
        ({"use_u": True}, ", use.u = TRUE"),
        ({"re_form": "~0"}, ", re.form = ~0"),
        ({"type": "semiparametric", "use_u": True}, ", use.u = TRUE, type = 'semiparametric'"),
    ]
    for kwargs, extra in cases:
        b = sleep_fit.boot_mer("fixef", nsim=20, seed=11, **kwargs)
        ref = _r_boot("sleepstudy", "fixef", 20, 11, extra)
        _same_replicates(b.t, ref)
        assert b.text == ref["text"], kwargs


def test_refit_warnings_are_kept_per_replicate_and_tabled_as_r_does(sleep_fit):
    # With seed 42 some of the 20 refits warn about convergence.
    b = sleep_fit.boot_mer("fixef", nsim=20, seed=42)
    ref = _r_boot("sleepstudy", "fixef", 20, 42)
    warned = b.messages[b.messages["kind"] == "warning"]
    assert len(warned) > 0
    table = warned["text"].value_counts()
    expected = dict(zip(ref["warnings"], ref["warning_counts"]))
    assert {k: int(v) for k, v in table.items()} == {k: int(v) for k, v in expected.items()}
    assert warned["replicate"].between(0, 19).all()
    assert "warning(s): Model failed to converge" in b.text


def test_failed_refits_are_counted_not_raised(sleep_fit):
    def picky(fit: pylme4.LmerFit) -> pd.Series:
        fixef = fit.fixef()
        if fixef["Days"] > 10.5:
            raise ValueError("slope too steep")
        return fixef

    with pytest.warns(RWarning, match=r"some bootstrap runs failed \(\d+/30\)"):
        b = picky_boot = sleep_fit.boot_mer(picky, nsim=30, seed=3)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "picky <- function(x) { if (fixef(x)[['Days']] > 10.5) stop('slope too steep'); fixef(x) }\n"
        "b <- suppressWarnings(bootMer(fit, picky, nsim = 30, seed = 3))\n"
        "list(t = unname(b$t), fail = attr(b, 'bootFail'))"
    )
    assert 0 < picky_boot.n_failed < 30
    assert b.n_failed == ref["fail"]
    _same_replicates(b.t, ref)
    errors = b.messages[b.messages["kind"] == "error"]
    assert list(errors["replicate"]) == list(np.flatnonzero(b.t.isna().all(axis=1)))
    assert set(errors["text"]) == {"ValueError: slope too steep"}
    assert f"{b.n_failed} error(s): ValueError: slope too steep" in b.text


@pytest.fixture(scope="module")
def boot40(sleep_fit) -> pylme4.BootResult:
    return sleep_fit.boot_mer("fixef", nsim=40, seed=1)


CI_CASES = [(t, level) for t in ("perc", "basic", "norm") for level in (0.95, 0.9)]


def test_ci_is_boot_ci(boot40):
    # One R bootstrap, every interval type and level, asked as a user types it
    # (the CALL line names the bootstrap as the Python code does: boot40).
    calls = "\n".join(
        f"out[[{i + 1}]] <- one('{t}', '{'' if level == 0.95 else ', conf = ' + str(level)}')"
        for i, (t, level) in enumerate(CI_CASES)
    )
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "boot40 <- suppressWarnings(bootMer(fit, fixef, nsim = 40, seed = 1))\n"
        "boot.ci <- boot::boot.ci\n"
        "one <- function(type, conf) {\n"
        "  call <- str2lang(sprintf('boot.ci(boot40%s, type = \"%s\", index = 2)', conf, type))\n"
        "  ci <- suppressWarnings(eval(call))\n"
        "  tab <- ci[[c(norm = 'normal', basic = 'basic', perc = 'percent')[[type]]]]\n"
        "  list(low = unname(tab[1, ncol(tab) - 1]), high = unname(tab[1, ncol(tab)]),\n"
        "       text = paste(capture.output(print(ci)), collapse = '\\n'))\n"
        "}\n"
        "out <- list()\n" + calls + "\nout"
    )
    for (ci_type, level), expected in zip(CI_CASES, ref):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = boot40.ci("Days", type=ci_type, level=level)
        assert (ci.low, ci.high) == (expected["low"], expected["high"])
        assert ci.text == expected["text"]
        assert ci.level == level and ci.term == "Days" and ci.replicates == 40
        assert boot40.ci(1, type=ci_type, level=level).high == ci.high
    # three names (boot40, also, again) for the bootstrap in the caller: none
    # is the name, and the CALL line says boot_out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        also = again = boot40
        assert "\nboot.ci(boot.out = boot_out, type = " in again.ci("Days").text
        del also, again
        assert "\nboot.ci(boot.out = boot40, type = " in boot40.ci("Days").text


def test_confint_of_the_bootstrap_is_lme4s(boot40):
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "b <- suppressWarnings(bootMer(fit, fixef, nsim = 40, seed = 1))\n"
        "suppressWarnings(confint(b, level = 0.9, type = 'basic'))"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = boot40.confint(level=0.9, type="basic")
    assert list(got.columns) == list(ref.columns) == ["5 %", "95 %"]
    assert np.array_equal(got.to_numpy(), ref.to_numpy())


def test_excludes_zero_answers_the_lectures_question(boot40):
    b = boot40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = b.ci("Days")
        assert b.excludes_zero("Days") == (ci.low > 0 or ci.high < 0)
        assert b.excludes_zero("Days") is True


def test_workers_and_executor_give_the_same_replicates(sleep_fit):
    ref = _r_boot("sleepstudy", "fixef", 30, 9)
    local = sleep_fit.boot_mer("fixef", nsim=30, seed=9)
    parallel = sleep_fit.boot_mer("fixef", nsim=30, seed=9, workers=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        on_executor = sleep_fit.boot_mer("fixef", nsim=30, seed=9, executor=pool)
    for b in (local, parallel, on_executor):
        _same_replicates(b.t, ref)
        assert b.text == ref["text"]
    pd.testing.assert_frame_equal(parallel.messages, local.messages)
    # A module-level Python statistic travels to the workers too.
    with_python = sleep_fit.boot_mer(_fixef_of, nsim=30, seed=9, workers=2)
    _same_replicates(with_python.t, ref)
    for fun in ("sigma", "theta", "var_corr"):
        in_workers = sleep_fit.boot_mer(fun, nsim=10, seed=9, workers=2)
        _same_replicates(in_workers.t, _r_boot("sleepstudy", fun, 10, 9))


def _fixef_of(fit: pylme4.LmerFit) -> pd.Series:
    return fit.fixef()


def test_progress_bar_only_when_asked(sleep_fit, capfd):
    sleep_fit.boot_mer("sigma", nsim=3, seed=1)
    assert capfd.readouterr() == ("", "")
    sleep_fit.boot_mer("sigma", nsim=3, seed=1, progress=True)
    out, err = capfd.readouterr()
    assert out == "" and "bootMer" in err and "3/3" in err


def test_seed_none_continues_rs_stream(sleep_fit):
    r("set.seed(99)")
    b = sleep_fit.boot_mer("sigma", nsim=5)
    ref = r(
        "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n"
        "set.seed(99); b <- suppressWarnings(bootMer(fit, sigma, nsim = 5)); unname(b$t)"
    )
    assert np.array_equal(b.t.to_numpy().ravel(), np.asarray(ref).ravel())
    assert b.seed is None and "seed" not in b.text


def test_pickles_and_ci_still_works(sleep_fit):
    b = sleep_fit.boot_mer("fixef", nsim=20, seed=2)
    clone = pickle.loads(pickle.dumps(b))
    pd.testing.assert_frame_equal(clone.t, b.t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the same interval; R's CALL line names each by its own name
        assert clone.ci("Days").text == b.ci("Days").text.replace(
            "boot.out = b,", "boot.out = clone,"
        )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"fun": "ranef"}, ValueError, "fun must be one of"),
        ({"fun": 3}, TypeError, "fun must be one of"),
        ({"nsim": 0}, ValueError, "nsim must be a positive integer"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"type": "case"}, ValueError, "type must be"),
        ({"workers": 0}, ValueError, "workers must be a positive integer"),
        ({"fun": lambda f: f.fixef(), "workers": 2}, TypeError, "picklable"),
        ({"type": "semiparametric"}, pylme4.RError, "semiparametric bootstrapping"),
    ],
)
def test_bad_arguments_raise_clear_errors(sleep_fit, kwargs, error, match):
    with pytest.raises(error, match=match):
        sleep_fit.boot_mer(**{"nsim": 2, **kwargs})


def test_ci_bad_arguments(sleep_fit):
    b = sleep_fit.boot_mer("fixef", nsim=5, seed=1)
    with pytest.raises(KeyError, match="choose one of"):
        b.ci("days")
    with pytest.raises(ValueError, match="type must be"):
        b.ci("Days", type="bca")
    with pytest.raises(ValueError, match="level"):
        b.ci("Days", level=95)


def test_fits_with_control_and_missing_values():
    # bootMer refits with the fit's own control and drops the rows the fit
    # dropped; the replicates must still be R's.
    setup = (
        "sleep_na <- sleepstudy; sleep_na$Reaction[c(3, 50, 51)] <- NA; sleep_na$Days[100] <- NA\n"
    )
    data = r(setup + "sleep_na")
    cases = [
        (
            {"control": {"optimizer": "bobyqa", "optCtrl": {"maxfun": 1e5}}},
            "control = lmerControl(optimizer = 'bobyqa', optCtrl = list(maxfun = 1e5))",
        ),
        ({"na_action": "exclude"}, "na.action = na.exclude"),
    ]
    for kwargs, r_args in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pylme4.lmer(
                "Reaction ~ Days + (Days | Subject)", data, data_name="sleep_na", **kwargs
            )
        b = fit.boot_mer("fixef", nsim=20, seed=13)
        ref = r(
            setup + "fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleep_na, "
            f"{r_args})\n"
            "unname(suppressWarnings(bootMer(fit, fixef, nsim = 20, seed = 13))$t)"
        )
        assert np.array_equal(b.t.to_numpy(), ref.to_numpy()), kwargs


def test_failure_warning_points_at_the_caller(sleep_fit):
    def fails_on_refits(fit: pylme4.LmerFit) -> float:
        if fit is not sleep_fit:
            raise RuntimeError("no")
        return fit.sigma

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        b = sleep_fit.boot_mer(fails_on_refits, nsim=2, seed=1)
    assert b.n_failed == 2 and b.t.isna().all().all()
    failed = [w for w in caught if "bootstrap runs failed (2/2)" in str(w.message)]
    assert len(failed) == 1 and failed[0].filename == __file__


def test_boot_ci_warnings_point_at_the_caller(sleep_fit):
    b = sleep_fit.boot_mer("fixef", nsim=20, seed=1)
    for ask in (lambda: b.ci("Days"), lambda: b.excludes_zero("Days")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ask()
        assert [str(w.message) for w in caught] == ["extreme order statistics used as endpoints"]
        assert caught[0].filename == __file__ and caught[0].category is RWarning
