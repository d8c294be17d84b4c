"""Type II/III Wald tests (car::Anova) against R's car in the same process:
chi-square tests of an lmer and a glmer, Kenward-Roger F tests of an lmer."""

from __future__ import annotations

import numpy as np
import pytest
from cbpp_r import CBIND
from conftest import SAME, r

import pylme4
from pylme4.errors import ArgumentError, ArgumentTypeError
from pylme4.inference import AnovaTable
from pylme4.wald import wald_anova

CAKE = "angle ~ recipe * temperature + (1 | recipe:replicate)"
SLEEP = "Reaction ~ Days + (Days | Subject)"
R_FITS = {
    "cake": f"m <- lme4::lmer({CAKE}, data = lme4::cake)",
    "sleep": f"m <- lme4::lmer({SLEEP}, data = lme4::sleepstudy)",
    "cbpp": f"m <- lme4::glmer({CBIND}, data = lme4::cbpp, family = binomial)",
}
_FITS: dict[str, object] = {}


def fit_of(name: str):
    if name not in _FITS:
        if name == "cbpp":
            _FITS[name] = pylme4.glmer(
                CBIND, pylme4.datasets.load("cbpp"), family="binomial", data_name="cbpp"
            )
        else:
            data = {"cake": "cake", "sleep": "sleepstudy"}[name]
            formula = {"cake": CAKE, "sleep": SLEEP}[name]
            _FITS[name] = pylme4.lmer(formula, pylme4.datasets.load(data), data_name=data)
    return _FITS[name]


def r_anova(fit: str, args: str) -> dict:
    return r(
        f"{R_FITS[fit]}\n"
        f"a <- car::Anova(m{args})\n"
        "list(table = as.data.frame(a, check.names = FALSE), rows = I(rownames(a)),"
        " heading = I(as.character(attr(a, 'heading'))),"
        " text = paste(capture.output(print(a)), collapse = '\\n'))"
    )


# (fit, pylme4 arguments, R's arguments after the model)
CASES = [
    ("cake", {}, ""),
    ("cake", {"type": 3}, ', type = "III"'),
    ("cake", {"type": "II", "test": "F"}, ', type = 2, test.statistic = "F"'),
    ("cake", {"type": "III", "test": "F"}, ', type = 3, test.statistic = "F"'),
    ("sleep", {"type": 2, "test": "Chisq"}, ""),
    ("sleep", {"type": "3", "test": "F"}, ', type = "III", test.statistic = "F"'),
    ("cbpp", {}, ""),
    ("cbpp", {"type": 2}, ', type = "II"'),
    ("cbpp", {"type": 3, "test": "Chisq"}, ', type = 3, test.statistic = "Chisq"'),
]


@pytest.mark.parametrize(("fit", "kwargs", "args"), CASES, ids=[f"{c[0]}{c[2]}" for c in CASES])
def test_equals_car_anova(fit, kwargs, args):
    got = fit_of(fit).wald_anova(**kwargs)
    ref = r_anova(fit, args)
    assert isinstance(got, AnovaTable)
    assert str(got) == ref["text"]
    assert got.heading == tuple(ref["heading"])
    assert list(got.table.columns) == list(ref["table"].columns)
    assert list(got.table.index) == [str(x) for x in ref["rows"]]
    np.testing.assert_allclose(
        got.table.to_numpy(dtype=float), ref["table"].to_numpy(dtype=float), **SAME
    )


def test_headings_say_what_was_tested():
    assert str(fit_of("cbpp").wald_anova()).startswith(
        "Analysis of Deviance Table (Type II Wald chisquare tests)"
    )
    assert "Kenward-Roger" in fit_of("cake").wald_anova(test="F").heading[0]


@pytest.mark.parametrize(
    ("fit", "kwargs", "cls", "words"),
    [
        ("cake", {"type": 1}, ArgumentError, "type must be one of 2, 3, 'II' or 'III', not 1"),
        ("cake", {"type": "iii"}, ArgumentError, "did you mean 'III'"),
        ("cake", {"type": True}, ArgumentError, "type"),
        ("cake", {"test": "chisq"}, ArgumentError, "did you mean 'Chisq'"),
        ("cbpp", {"test": "F"}, ArgumentError, "test='F'"),
    ],
)
def test_bad_input_names_the_culprit(fit, kwargs, cls, words):
    with pytest.raises(cls) as info:
        fit_of(fit).wald_anova(**kwargs)
    assert words in str(info.value)
    assert r("1 + 1") == 2


def test_only_mixed_models():
    with pytest.raises(ArgumentTypeError, match="fitted mixed model"):
        wald_anova("model")  # type: ignore[arg-type]
