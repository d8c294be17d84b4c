"""The lecture's data sets: df.sleep and the seeded simulators, against R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r
from lecture_r import MIXED, SCHOOL, SLEEP, SLEEP18, TEST, VARIANCE, df_mixed, df_school, df_test

import pylme4
from pylme4 import datasets


def _same_frame(py: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(py.columns) == list(ref.columns)
    assert len(py) == len(ref)
    for column in py.columns:
        a, b = py[column], ref[column]
        if isinstance(b.dtype, pd.CategoricalDtype):
            assert isinstance(a.dtype, pd.CategoricalDtype), column
            assert list(a.cat.categories) == list(b.cat.categories), column
            assert list(a.astype(str)) == list(b.astype(str)), column
        else:
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), **SAME)


def test_lecture_sleep_is_the_lectures_df_sleep():
    sleep = datasets.lecture_sleep()
    assert sleep.shape == (183, 3)
    assert sleep["subject"].nunique() == 20
    ref = r(SLEEP + "\ndf.sleep")
    assert list(sleep.columns) == ["subject", "days", "reaction"]
    assert list(sleep["subject"].astype(str)) == list(ref["subject"])
    np.testing.assert_array_equal(sleep["days"], ref["days"])
    np.testing.assert_array_equal(sleep["reaction"], ref["reaction"])
    # The lecture's last rows: 374 on days 0 and 1, then 373 on day 0.
    tail = sleep.tail(3)
    assert list(tail["subject"].astype(str)) == ["374", "374", "373"]
    assert tail["reaction"].tolist() == [286.0, 288.0, 245.0]
    # Sorted categories, as lmer() makes the lecture's character column a factor.
    assert list(sleep["subject"].cat.categories[-2:]) == ["373", "374"]


def test_lecture_sleep_gives_the_lectures_reml_criterion():
    fit = pylme4.lmer(
        "reaction ~ 1 + days + (1 + days | subject)",
        datasets.lecture_sleep(),
        data_name="df.sleep",
    )
    assert f"{fit.reml_criterion:.1f}" == "1771.4"
    expected = r(SLEEP + "\nREMLcrit(lmer(reaction ~ 1 + days + (1 + days | subject), df.sleep))")
    np.testing.assert_allclose(fit.reml_criterion, expected, **SAME)
    assert list(fit.coef()["subject"].index[-2:]) == ["373", "374"]


def test_lecture_sleep_without_extra_participants_is_sleepstudy():
    sleep = datasets.lecture_sleep(extra_participants=False)
    ref = r(SLEEP18 + "\ndf.sleep")
    assert sleep.shape == (180, 3)
    assert list(sleep.columns) == list(ref.columns)
    assert list(sleep["subject"].astype(str)) == list(ref["subject"])
    np.testing.assert_array_equal(sleep["days"], ref["days"])
    np.testing.assert_array_equal(sleep["reaction"], ref["reaction"])
    assert list(sleep["subject"].cat.categories) == sorted(set(ref["subject"]))


def test_test_data_is_the_lecture_recipe_in_r():
    _same_frame(datasets.test_data(seed=1), r(TEST + "\ndf.test"))


def test_mixed_data_is_the_lecture_recipe_in_r():
    _same_frame(datasets.mixed_data(seed=1), r(MIXED + "\ndf.mixed"))
    _same_frame(datasets.mixed_data(seed=1, group_variance=True), r(VARIANCE + "\ndf.mixed"))


def test_school_data_is_the_recipe_in_r():
    _same_frame(datasets.school_data(seed=1), r(SCHOOL + "\ndf.school"))


def test_school_data_design_supports_nested_and_crossed_analyses():
    school = datasets.school_data(seed=3)
    _same_frame(school, r(df_school(3) + "\ndf.school"))
    assert len(school) == 1200
    cells = pd.crosstab(school["class"], school["school"])
    assert cells.shape == (4, 6)
    assert (cells == 50).all().all()  # every class letter in every school: crossed
    assert list(school["school"].cat.categories) == ["I", "II", "III", "IV", "V", "VI"]
    assert list(school["id"]) == list(range(1, 1201))


@pytest.mark.parametrize(
    ("make", "in_r"),
    [
        (lambda seed: datasets.test_data(seed=seed), lambda seed: df_test(seed) + "\ndf.test"),
        (lambda seed: datasets.mixed_data(seed=seed), lambda seed: df_mixed(seed) + "\ndf.mixed"),
        (
            lambda seed: datasets.mixed_data(
                seed=seed, group_variance=True, sample_kind="Rejection"
            ),
            lambda seed: (
                df_mixed(seed, group_variance=True, sample_kind="Rejection") + "\ndf.mixed"
            ),
        ),
        (
            lambda seed: datasets.school_data(seed=seed),
            lambda seed: df_school(seed) + "\ndf.school",
        ),
    ],
    ids=["test", "mixed", "variance", "school"],
)
def test_simulators_are_reproducible_for_a_seed(make, in_r):
    first, again, other = make(7), make(7), make(8)
    _same_frame(first, r(in_r(7)))
    _same_frame(other, r(in_r(8)))
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first.select_dtypes("number"), other.select_dtypes("number"))


def test_simulators_leave_rs_random_stream_alone():
    before = r("set.seed(42); RNGkind()")
    state = r(".Random.seed")
    datasets.mixed_data(seed=1)  # switches to the "Rounding" sampler inside
    datasets.school_data(seed=2)
    np.testing.assert_array_equal(r(".Random.seed"), state)
    assert list(r("RNGkind()")) == list(before)
    # R's stream continues where set.seed(42) left it.
    np.testing.assert_array_equal(r("runif(3)"), r("set.seed(42); runif(3)"))


def test_sample_kind_changes_the_group_assignment():
    rounding = datasets.mixed_data(seed=1)
    rejection = datasets.mixed_data(seed=1, sample_kind="Rejection")
    _same_frame(rejection, r(df_mixed(1, sample_kind="Rejection") + "\ndf.mixed"))
    assert not rounding["group"].equals(rejection["group"])


def test_simulator_arguments_are_checked():
    with pytest.raises(TypeError, match="seed must be an integer"):
        datasets.test_data(seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_participants"):
        datasets.test_data(n_participants=1)
    with pytest.raises(ValueError, match="sd_residual"):
        datasets.mixed_data(sd_residual=-1)
    with pytest.raises(ValueError, match="sample_kind"):
        datasets.mixed_data(sample_kind="Bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="means"):
        datasets.mixed_data(means=(1.0, 2.0, 3.0))  # type: ignore[arg-type]
