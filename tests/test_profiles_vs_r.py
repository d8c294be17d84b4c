"""fit.profile() and confint(parm=, old_names=) against lme4 in the same process.

A profile is deterministic given the fit, and pylme4 runs lme4's own
profile() (one parameter per call, as profile.merMod itself profiles them),
so the frames, intervals and printouts are compared exactly.
"""

from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import r, r_apply, r_printed

import pylme4
from pylme4 import datasets
from pylme4.errors import ArgumentError, ArgumentLookupError, ArgumentTypeError

SLEEP_FORMULA = "Reaction ~ Days + (Days | Subject)"
SLEEP = f"m <- lmer({SLEEP_FORMULA}, data = sleepstudy)\n"
CBPP_FORMULA = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
CBPP = f"m <- glmer({CBPP_FORMULA}, data = cbpp, family = binomial)\n"
NA_FORMULA = "Reaction ~ Days + (1 | Subject)"


def _quiet(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


@pytest.fixture(scope="module")
def sleep_fit():
    return pylme4.lmer(SLEEP_FORMULA, datasets.load("sleepstudy"), data_name="sleepstudy")


@pytest.fixture(scope="module")
def sleep_profile(sleep_fit):
    return sleep_fit.profile()


@pytest.fixture(scope="module")
def cbpp_fit():
    return pylme4.glmer(CBPP_FORMULA, datasets.load("cbpp"), family="binomial", data_name="cbpp")


@pytest.fixture(scope="module")
def na_data():
    d = datasets.load("sleepstudy").copy()
    d.loc[[3, 40, 41, 100], "Reaction"] = np.nan
    d.loc[7, "Days"] = np.nan
    return d


def _r_frame(setup: str, args: str = "") -> pd.DataFrame:
    return r(f"{setup}as.data.frame(profile(m{args}))")


def _same_frame(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(got.columns) == list(ref.columns)
    assert list(got[".par"].cat.categories) == list(ref[".par"].cat.categories)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


# -- the profile ----------------------------------------------------------------


def test_sleepstudy_profile_equals_r(sleep_profile):
    p = sleep_profile
    ref = _r_frame(SLEEP)
    _same_frame(p.frame, ref)
    assert list(p.frame.columns) == [
        ".zeta", ".sig01", ".sig02", ".sig03", ".sigma", "(Intercept)", "Days", ".par", ".focal"
    ]  # fmt: skip
    assert p.which == (".sig01", ".sig02", ".sig03", ".sigma", "(Intercept)", "Days")
    # lme4 has no print method for profiles: R prints the data frame.
    assert str(p) == r_printed(SLEEP + "profile(m)")
    for level in (0.95, 0.8):
        ref_ci = r(
            f"{SLEEP}as.data.frame(confint(profile(m), level = {level}), check.names = FALSE)"
        )
        pd.testing.assert_frame_equal(p.confint(level=level), ref_ci, check_exact=True)


@pytest.mark.parametrize(
    "which, r_which",
    [
        ("theta_", '"theta_"'),
        ("beta_", '"beta_"'),
        ([".sig02", "Days"], 'c(".sig02", "Days")'),
        ([3, 0], "c(4, 1)"),
        (".sigma", '".sigma"'),
        (["theta_", "(Intercept)"], 'c("theta_", "(Intercept)")'),
    ],
)
def test_which_selects_as_in_lme4(sleep_fit, which, r_which):
    p = sleep_fit.profile(which=which)
    _same_frame(p.frame, _r_frame(SLEEP, f", which = {r_which}"))
    ref_ci = r(f"{SLEEP}as.data.frame(confint(profile(m, which = {r_which})), check.names = FALSE)")
    pd.testing.assert_frame_equal(p.confint(), ref_ci, check_exact=True)
    assert p.which == tuple(ref_ci.index)


def test_signames_false_as_in_lme4(sleep_fit):
    p = sleep_fit.profile(which="theta_", signames=False, alphamax=0.05)
    _same_frame(p.frame, _r_frame(SLEEP, ', which = "theta_", signames = FALSE, alphamax = 0.05'))
    assert p.which == (
        "sd_(Intercept)|Subject", "cor_Days.(Intercept)|Subject", "sd_Days|Subject", "sigma"
    )  # fmt: skip


def test_each_parameter_is_profiled_afresh(sleep_fit):
    # On the variance scale, lme4's serial profile() lets a parameter whose
    # profile failed spoil the next ones' (NA deviances to maxpts rows);
    # pylme4 profiles each parameter in its own call, which is lme4's
    # profile(fit, which = i) for each parameter, wherever it runs.
    args = 'signames = FALSE, prof.scale = "varcov", alphamax = 0.05'
    p = _quiet(
        lambda: sleep_fit.profile(
            which="theta_", signames=False, prof_scale="varcov", alphamax=0.05
        )
    )
    assert p.which[0] == "var_(Intercept)|Subject" and p.which[-1] == "sigma"
    for i, name in enumerate(p.which, start=1):
        ref = r(f"{SLEEP}suppressWarnings(as.data.frame(profile(m, which = {i}, {args})))")
        got = p.frame[p.frame[".par"] == name].reset_index(drop=True)
        np.testing.assert_array_equal(got.iloc[:, :-2].to_numpy(), ref.iloc[:, :-2].to_numpy())
        np.testing.assert_array_equal(got[".focal"].to_numpy(), ref[".focal"].to_numpy())
    serial = r(f'{SLEEP}suppressWarnings(nrow(profile(m, which = "theta_", {args})))')
    assert serial != len(p.frame)  # the spoilt serial profile, in this lme4
    # One of these profiles has no spline: the plot shows its points, as lattice does.
    panels = p.plot_data()
    assert not panels["var_Days|Subject"].spline
    _same_panels(panels, r_apply(XYPLOT_PANELS, p.r_handle))


def test_profile_confint_parm_as_in_lme4(sleep_profile):
    for parm, r_parm in (("beta_", '"beta_"'), (["Days", ".sig03"], 'c("Days", ".sig03")')):
        got = sleep_profile.confint(parm=parm, level=0.9)
        ref = r(
            f"{SLEEP}as.data.frame(confint(profile(m), parm = {r_parm}, level = 0.9), "
            "check.names = FALSE)"
        )
        pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_cbpp_glmer_profile_equals_r(cbpp_fit):
    p = cbpp_fit.profile(which=[".sig01", "period2"])
    _same_frame(p.frame, _r_frame(CBPP, ', which = c(".sig01", "period2")'))
    ref_ci = r(
        f'{CBPP}as.data.frame(confint(profile(m, which = c(".sig01", "period2"))), '
        "check.names = FALSE)"
    )
    pd.testing.assert_frame_equal(p.confint(), ref_ci, check_exact=True)
    assert str(p) == r_printed(CBPP + 'profile(m, which = c(".sig01", "period2"))')


def test_profile_of_a_fit_with_na_rows_equals_r(na_data):
    fit = pylme4.lmer(NA_FORMULA, na_data, data_name="d")
    assert fit.nobs == len(na_data) - 5
    p = fit.profile()
    ref = r_apply(
        f"function(d) {{ m <- lmer({NA_FORMULA}, data = d); p <- profile(m)\n"
        "list(frame = as.data.frame(p), ci = as.data.frame(confint(p), check.names = FALSE),"
        " text = paste(capture.output(print(p)), collapse = '\\n')) }",
        na_data,
    )
    _same_frame(p.frame, ref["frame"])
    pd.testing.assert_frame_equal(p.confint(), ref["ci"], check_exact=True)
    assert str(p) == ref["text"]


def test_a_profile_pickles_without_the_model(sleep_profile):
    payload = pickle.dumps(sleep_profile)
    # The splines' formulas no longer carry profile()'s frame (and the model).
    assert len(payload) < 200_000
    back = pickle.loads(payload)
    pd.testing.assert_frame_equal(back.frame, sleep_profile.frame, check_exact=True)
    pd.testing.assert_frame_equal(back.confint(0.9), sleep_profile.confint(0.9), check_exact=True)
    assert str(back) == str(sleep_profile) and back.which == sleep_profile.which


# -- in parallel ------------------------------------------------------------------


def test_workers_give_the_serial_profile(sleep_fit, sleep_profile, cbpp_fit):
    split = sleep_fit.profile(workers=2)
    pd.testing.assert_frame_equal(split.frame, sleep_profile.frame, check_exact=True)
    pd.testing.assert_frame_equal(split.confint(), sleep_profile.confint(), check_exact=True)
    assert str(split) == str(sleep_profile)
    serial = cbpp_fit.profile(which=["period3", ".sig01"])
    split = cbpp_fit.profile(which=["period3", ".sig01"], workers=2)
    pd.testing.assert_frame_equal(split.frame, serial.frame, check_exact=True)
    pd.testing.assert_frame_equal(split.confint(), serial.confint(), check_exact=True)


# -- confint(parm=, old_names=) -------------------------------------------------------

PARMS = [
    (None, None, True),
    (None, None, False),
    ("theta_", '"theta_"', True),
    ("theta_", '"theta_"', False),
    ("beta_", '"beta_"', False),
    ("Days", '"Days"', True),
    ([0, 2, 5], "c(1, 3, 6)", False),
    ([".sigma", "(Intercept)"], 'c(".sigma", "(Intercept)")', True),
    (["sd_Days|Subject", "sigma"], 'c("sd_Days|Subject", "sigma")', False),
]


def _r_confint(setup: str, parm: str | None, rest: str) -> pd.DataFrame:
    p = "" if parm is None else f", parm = {parm}"
    return r(
        f"{setup}suppressWarnings(as.data.frame(confint(m{p}{rest}, quiet = TRUE), "
        "check.names = FALSE))"
    )


@pytest.mark.parametrize("parm, r_parm, old_names", PARMS)
def test_wald_confint_parm_and_old_names_equal_r(sleep_fit, parm, r_parm, old_names):
    got = sleep_fit.confint(parm, method="Wald", old_names=old_names)
    ref = _r_confint(SLEEP, r_parm, f", method = 'Wald', oldNames = {str(old_names).upper()}")
    assert list(got.index) == list(ref.index)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


def test_default_names_are_lme4s_old_names(sleep_fit, cbpp_fit):
    # lme4 1.1-31's confint() defaults to oldNames = TRUE.
    assert r("formals(lme4:::confint.merMod)$oldNames") is True
    assert list(sleep_fit.confint(method="Wald").index) == list(
        _r_confint(SLEEP, None, ", method = 'Wald'").index
    )
    got = cbpp_fit.confint(method="Wald", old_names=False)
    ref = _r_confint(CBPP, None, ", method = 'Wald', oldNames = FALSE")
    assert list(got.index) == list(ref.index) == ["sd_(Intercept)|herd", *cbpp_fit.fixef().index]
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


@pytest.mark.parametrize(
    "parm, r_parm, old_names",
    [
        ("beta_", '"beta_"', False),
        ([1, "sigma"], "c(2, 4)", False),
        ([".sig03"], '".sig03"', True),
    ],
)
def test_profile_confint_parm_and_old_names_equal_r(sleep_fit, parm, r_parm, old_names):
    got = sleep_fit.confint(parm, level=0.9, old_names=old_names)
    ref = _r_confint(SLEEP, r_parm, f", level = 0.9, oldNames = {str(old_names).upper()}")
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_profile_confint_of_a_glmer_with_parm_equals_r(cbpp_fit):
    got = cbpp_fit.confint(["period4"], old_names=False, workers=2)
    ref = _r_confint(CBPP, '"period4"', ", oldNames = FALSE")
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


@pytest.mark.parametrize(
    "parm, r_parm, old_names",
    [(None, None, False), ("theta_", '"theta_"', False), ([4, 0], "c(5, 1)", True)],
)
def test_boot_confint_parm_and_old_names_equal_r(sleep_fit, parm, r_parm, old_names):
    got = _quiet(
        lambda: sleep_fit.confint(parm, method="boot", nsim=12, seed=3, old_names=old_names)
    )
    ref = _r_confint(
        SLEEP,
        r_parm,
        f", method = 'boot', nsim = 12, seed = 3, oldNames = {str(old_names).upper()}",
    )
    assert list(got.index) == list(ref.index)
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())


# -- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (
            {"which": "Dayz"},
            ArgumentLookupError,
            r"which: no parameter 'Dayz' \(did you mean 'Days'",
        ),
        ({"which": 6}, ArgumentLookupError, r"which: position 6 is out of range: .* 6 parameters"),
        ({"which": []}, ArgumentError, r"which=\[\] selects no parameter"),
        ({"which": [1.5]}, ArgumentTypeError, r"which takes parameter names or positions"),
        ({"which": True}, ArgumentTypeError, r"which takes parameter names or positions"),
        ({"prof_scale": "sd"}, ArgumentError, r"prof_scale must be .*'sdcor'"),
        ({"alphamax": 1.5}, ArgumentError, r"alphamax must lie strictly between 0 and 1"),
        ({"signames": "yes"}, ArgumentTypeError, r"signames must be True or False"),
        ({"workers": 0}, ArgumentError, r"workers must be a positive integer"),
    ],
)
def test_bad_profile_arguments_name_the_culprit(sleep_fit, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        sleep_fit.profile(**kwargs)


def test_bad_confint_parm_names_the_culprit(sleep_fit):
    with pytest.raises(ArgumentLookupError, match=r"parm: no parameter 'sigma'"):
        sleep_fit.confint("sigma", method="Wald")  # the new name, with old_names=True
    with pytest.raises(ArgumentTypeError, match=r"old_names must be True or False"):
        sleep_fit.confint(method="Wald", old_names=None)
    with pytest.raises(ArgumentLookupError, match=r"parm: no parameter 'Wald'.*method="):
        sleep_fit.confint("Wald")  # confint's first argument is parm, as in R


# -- the zeta plot ----------------------------------------------------------------------


# lattice's own panel data for xyplot(p): the zeta levels and where the
# profile meets them.
XYPLOT_PANELS = """function(p) {
  x <- suppressWarnings(lattice::xyplot(p))
  lapply(x$panel.args, function(a) data.frame(zeta = a$y, value = a$x))
}"""


def _same_panels(panels, ref) -> None:
    assert len(panels) == len(ref)
    for panel, expected in zip(panels.values(), ref):
        np.testing.assert_array_equal(panel.segments["zeta"], expected["zeta"])
        np.testing.assert_allclose(panel.segments["value"], expected["value"], rtol=1e-12)


def test_zeta_plot_draws_what_xyplot_thpr_draws(sleep_profile):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from pylme4 import plot

    # R's own profile(m), drawn by lattice.
    ref = r(f"{SLEEP}p <- profile(m)\n({XYPLOT_PANELS})(p)")
    panels = sleep_profile.plot_data()
    assert list(panels) == list(sleep_profile.which)
    _same_panels(panels, ref)
    assert all(panel.spline and len(panel.curve) == 101 for panel in panels.values())
    # The 95% segments stand on the profile interval's ends.
    ci = sleep_profile.confint()
    days = panels["Days"].segments
    ends = days.loc[np.isclose(days["zeta"].abs(), 1.959964, atol=1e-6), "value"]
    np.testing.assert_allclose(ends.to_numpy(), ci.loc["Days"].to_numpy(), rtol=1e-6)

    fig = plot.profile(sleep_profile)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == [
        r"$\sigma_{1}$", r"$\sigma_{2}$", r"$\sigma_{3}$", r"$\sigma$", "(Intercept)", "Days"
    ]  # fmt: skip
    curve = axes[-1].get_lines()[-1].get_xydata()
    np.testing.assert_array_equal(curve[:, 0], panels["Days"].curve["x"])
    buffer = io.BytesIO()
    plot.profile(sleep_profile, absolute=True).savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")
    with pytest.raises(ArgumentTypeError, match="draws a Profile"):
        plot.profile(sleep_profile.frame)
    with pytest.raises(ArgumentError, match="conf must be levels strictly between 0 and 1"):
        plot.profile(sleep_profile, conf=[0.95, 1.0])
    with pytest.raises(ArgumentTypeError, match="conf must be levels"):
        plot.profile(sleep_profile, conf=0.95)
