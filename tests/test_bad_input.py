"""The bad-input matrix: one row per case.

Each error row asserts the exception class, that the message names the
culprit (the column, factor, term or argument at fault), that R's traceback
noise is absent, and that a good fit still gives R's numbers afterwards.

Some inputs that look bad are fine for lme4, and an lme4 user expects them to
fit as they would in R: those rows fit the same data in R (built in R code,
not through pylme4's converter) and compare the numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r, r_apply

import pylme4
from pylme4.errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    DataError,
    FormulaError,
    PylmeError,
    RError,
)

FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    return pylme4.datasets.load("sleepstudy")


def good_fit_still_works(sleep: pd.DataFrame) -> None:
    fit = pylme4.lmer(FORMULA, sleep, data_name="sleepstudy")
    expected = r(f"fixef(lmer({FORMULA}, data = sleepstudy))")
    np.testing.assert_allclose(fit.fixef(), expected, **SAME)


@dataclass(frozen=True)
class Bad:
    id: str
    make: Callable[[pd.DataFrame], Any]
    error: type[Exception]
    culprit: str  # a regular expression the message must match (names the culprit)


def lmer(formula: str, data: Any, **kwargs: Any) -> Any:
    return pylme4.lmer(formula, data, **kwargs)


def _with(s: pd.DataFrame, **columns: Any) -> pd.DataFrame:
    return s.assign(**columns)


def _set(s: pd.DataFrame, column: str, rows: list[int], value: Any) -> pd.DataFrame:
    out = s.copy()
    out[column] = out[column].astype(object if isinstance(value, str) else float)
    out.loc[rows, column] = value
    return out


def _renamed(s: pd.DataFrame, columns: Any) -> pd.DataFrame:
    out = s.copy()
    out.columns = columns
    return out


LONG_NAME = "x" * 10_001

BAD = [
    # -- what is passed as data ------------------------------------------------
    Bad("not_a_frame", lambda s: lmer(FORMULA, s.to_dict()), DataError, r"DataFrame.*not dict"),
    Bad("series", lambda s: lmer(FORMULA, s["Days"]), DataError, "not Series"),
    Bad("polars_lazy", lambda s: lmer(FORMULA, _polars(s).lazy()), DataError, "LazyFrame"),
    Bad("empty_frame", lambda s: lmer(FORMULA, s.iloc[:0]), DataError, "no rows"),
    Bad(
        "no_columns",
        lambda s: lmer(FORMULA, pd.DataFrame(index=range(3))),
        FormulaError,
        "'Reaction'",
    ),
    Bad(
        "duplicate_column_names",
        lambda s: lmer(FORMULA, _renamed(s, ["Reaction", "Days", "Days"])),
        DataError,
        "'Days'.*more than once",
    ),
    Bad(
        "non_string_column_names",
        lambda s: lmer(FORMULA, _renamed(s, ["Reaction", "Days", 0])),
        DataError,
        "0 .*not strings",
    ),
    Bad(
        "multiindex_columns",
        lambda s: lmer(FORMULA, _renamed(s, pd.MultiIndex.from_product([["a"], list(s.columns)]))),
        DataError,
        "MultiIndex",
    ),
    Bad(
        "mixed_type_object_column",
        lambda s: lmer("Reaction ~ m + (1 | Subject)", _with(s, m=[1, "a", 2.5] * 60)),
        DataError,
        r"'m'.*mixed types \(float, int, str\)",
    ),
    Bad(
        "list_column",
        lambda s: lmer("Reaction ~ m + (1 | Subject)", _with(s, m=[[1, 2]] * 180)),
        DataError,
        "'m' holds list values",
    ),
    Bad(
        "timedelta_column",
        lambda s: lmer(
            "Reaction ~ td + (1 | Subject)", _with(s, td=pd.to_timedelta(s["Days"], "D"))
        ),
        DataError,
        "'td' has dtype timedelta64",
    ),
    # -- the formula -------------------------------------------------------------
    Bad(
        "missing_column",
        lambda s: lmer("Reaction ~ Dayz + (1 | Subject)", s),
        FormulaError,
        r"'Dayz'.*did you mean 'Days'",
    ),
    Bad(
        "missing_grouping_column",
        lambda s: lmer("Reaction ~ Days + (1 | subject)", s),
        FormulaError,
        r"'subject'.*did you mean 'Subject'",
    ),
    Bad(
        "missing_column_named_like_an_r_function",
        lambda s: lmer("Reaction ~ Days + df + (1 | Subject)", s),
        FormulaError,
        "'df', which is not a column",
    ),
    Bad(
        "formula_unclosed_parenthesis",
        lambda s: lmer("Reaction ~ Days + (1 | Subject", s),
        FormulaError,
        r"not valid R: it ends too early \(1 '\(' not closed\)",
    ),
    Bad(
        "formula_dangling_operator",
        lambda s: lmer("Reaction ~ Days +", s),
        FormulaError,
        "'Reaction ~ Days \\+' is not valid R: it ends too early",
    ),
    Bad(
        "formula_extra_parenthesis",
        lambda s: lmer("Reaction ~ Days + (1|Subject))", s),
        FormulaError,
        r"unexpected '\)' at character 30.*no matching '\('",
    ),
    Bad(
        "formula_double_operator",
        lambda s: lmer("Reaction ~ Days * * Subject", s),
        FormulaError,
        r"unexpected '\*' at character 19",
    ),
    Bad(
        "formula_brackets",
        lambda s: lmer("Reaction ~ Days + [1|Subject]", s),
        FormulaError,
        r"unexpected '\[' at character 19",
    ),
    Bad(
        "formula_empty_grouping",
        lambda s: lmer("Reaction ~ Days + (1 | )", s),
        FormulaError,
        r"unexpected '\)' at character 24",
    ),
    Bad(
        "formula_bad_token",
        lambda s: lmer("Reaction ~ Days + 3x + (1 | Subject)", s),
        FormulaError,
        "unexpected symbol at character 20, the end of 'Reaction ~ Days \\+ 3x'",
    ),
    Bad(
        "formula_second_line",
        lambda s: lmer("Reaction ~ Days + (1 | Subject)\n+ Days)", s),
        FormulaError,
        "at line 2, character 7",
    ),
    Bad(
        "formula_two_expressions",
        lambda s: lmer("Reaction ~ Days + (1 | Subject); 1", s),
        FormulaError,
        "more than one expression",
    ),
    Bad(
        "formula_missing_plus",
        lambda s: lmer("Reaction ~ Days + (1 | Subject) (0 + Days | Subject)", s),
        FormulaError,
        r"'\(1 \| Subject\)\(0 \+ Days \| Subject\)'.*forget a '\+'",
    ),
    Bad(
        "formula_two_tildes",
        lambda s: lmer("Reaction ~ Days ~ Subject", s),
        FormulaError,
        "more than one '~'",
    ),
    Bad(
        "formula_quoted_name",
        lambda s: lmer('Reaction ~ "Days" + (1 | Subject)', s),
        FormulaError,
        'the string "Days".*backticks',
    ),
    Bad(
        "formula_empty_random_term",
        lambda s: lmer("Reaction ~ Days + (0 | Subject)", s),
        FormulaError,
        r"\(0 \| Subject\) has no effects",
    ),
    Bad("formula_no_tilde", lambda s: lmer("Reaction", s), FormulaError, "no '~'"),
    Bad(
        "formula_no_response",
        lambda s: lmer("~ Days + (1 | Subject)", s),
        FormulaError,
        "no response",
    ),
    Bad("formula_empty", lambda s: lmer("  ", s), FormulaError, "non-empty string"),
    Bad("formula_not_a_string", lambda s: lmer(None, s), FormulaError, "not None"),
    Bad(
        "formula_no_random_effects",
        lambda s: lmer("Reaction ~ Days", s),
        FormulaError,
        r"no random-effects term such as \(1 \| group\)",
    ),
    Bad(
        "formula_unknown_function",
        lambda s: lmer("Reaction ~ nosuchfun(Days) + (1 | Subject)", s),
        FormulaError,
        "'nosuchfun'",
    ),
    Bad(
        "formula_name_over_r_limit",
        lambda s: lmer(
            f"Reaction ~ {LONG_NAME} + (1 | Subject)", _with(s, **{LONG_NAME: s["Days"]})
        ),
        FormulaError,
        "longer than R's limit of 10,000 bytes",
    ),
    # -- the response --------------------------------------------------------------
    Bad(
        "string_response",
        lambda s: lmer("r ~ Days + (1 | Subject)", _with(s, r=s["Reaction"].astype(str))),
        DataError,
        "response 'r' must be numeric.*dtype is str",
    ),
    Bad(
        "categorical_response",
        lambda s: lmer("r ~ Days + (1 | Subject)", _with(s, r=pd.Categorical(s["Reaction"] > 300))),
        DataError,
        "response 'r' must be numeric.*category.*glmer",
    ),
    Bad(
        "all_nan_response",
        lambda s: lmer(FORMULA, _with(s, Reaction=np.nan)),
        DataError,
        "'Reaction' has no non-missing values",
    ),
    Bad(
        "no_complete_rows",
        lambda s: lmer(
            FORMULA,
            _set(
                _set(s, "Days", list(range(0, 180, 2)), np.nan),
                "Reaction",
                list(range(1, 180, 2)),
                np.nan,
            ),
        ),
        DataError,
        "no rows are left",
    ),
    # -- infinite values -------------------------------------------------------------
    Bad(
        "inf_response",
        lambda s: lmer(FORMULA, _set(s, "Reaction", [3, 7], np.inf)),
        DataError,
        r"response 'Reaction' is infinite in 2 rows \(index 3, 7\)",
    ),
    Bad(
        "inf_predictor",
        lambda s: lmer(FORMULA, _set(s, "Days", [5], -np.inf)),
        DataError,
        r"column 'Days' is infinite in 1 row \(index 5\)",
    ),
    Bad(
        "inf_from_transformation",
        lambda s: lmer("Reaction ~ log(Days) + (1 | Subject)", s),
        DataError,
        r"a term of the formula has infinite values.*log\(0\)",
    ),
    Bad(
        "inf_response_from_transformation",
        lambda s: lmer("log(Reaction - 194.3322) ~ Days + (1 | Subject)", s),
        DataError,
        r"response, as the formula computes it, has infinite values",
    ),
    # -- factors and random effects ------------------------------------------------------
    Bad(
        "single_level_grouping_factor",
        lambda s: lmer("Reaction ~ Days + (1 | Subject)", s[s["Subject"] == "308"]),
        DataError,
        r"grouping factor 'Subject' has only one level \('308'\)",
    ),
    Bad(
        "single_level_after_missing_values",
        lambda s: lmer(
            "Reaction ~ Days + (1 | Subject)",
            s.assign(Reaction=s["Reaction"].where(s["Subject"] == "309")),
        ),
        DataError,
        r"grouping factor 'Subject' has only one level \('309'\) in the rows the model uses",
    ),
    Bad(
        "single_level_factor_predictor",
        lambda s: lmer("Reaction ~ Days + f + (1 | Subject)", _with(s, f="a")),
        DataError,
        r"factor 'f' \('a'\) has only one level",
    ),
    Bad(
        "one_group_per_row",
        lambda s: lmer("Reaction ~ Days + (1 | id)", _with(s, id=range(len(s)))),
        DataError,
        "grouping factor.*id.*as many levels as there are observations",
    ),
    Bad(
        "more_random_effects_than_observations",
        lambda s: lmer(FORMULA, s[s["Subject"].isin(["308", "309"]) & (s["Days"] < 2)]),
        DataError,
        r"term \(Days \| Subject\) has 4 random effects for only 4 observations",
    ),
    Bad(
        # lme4 itself would crash R (segfault) on this model.
        "random_effects_matrix_all_zero",
        lambda s: lmer("Reaction ~ Days + (0 + z | Subject)", _with(s, z=0.0)),
        DataError,
        r"term\(s\) \(0 \+ z \| Subject\) are 0 in every row",
    ),
    Bad(
        "arithmetic_on_strings",
        lambda s: lmer("Reaction ~ I(txt^2) + (1 | Subject)", _with(s, txt="a")),
        DataError,
        "arithmetic on a column that is not numeric",
    ),
    # -- weights, offset, options ---------------------------------------------------------
    Bad(
        "negative_weights",
        lambda s: lmer(FORMULA, s, weights=np.r_[np.ones(179), -1.0]),
        DataError,
        r"weights must not be negative.*row 179: -1",
    ),
    Bad(
        "negative_weights_column",
        lambda s: lmer(FORMULA, _with(s, w=-1.0), weights="w"),
        DataError,
        "weights column 'w' must not be negative",
    ),
    Bad(
        "short_weights",
        lambda s: lmer(FORMULA, s, weights=np.ones(3)),
        DataError,
        "weights has 3 values but the data has 180",
    ),
    Bad(
        "zero_weights",
        lambda s: lmer(FORMULA, s, weights=np.zeros(180)),
        DataError,
        "weights are all zero",
    ),
    Bad(
        "infinite_weights",
        lambda s: lmer(FORMULA, s, weights=np.r_[np.inf, np.ones(179)]),
        DataError,
        "weights must be finite.*row 0",
    ),
    Bad(
        "string_weights_column",
        lambda s: lmer(FORMULA, _with(s, w="a"), weights="w"),
        DataError,
        "weights column 'w' must be numeric",
    ),
    Bad(
        "unknown_weights_column",
        lambda s: lmer(FORMULA, s, weights="wt"),
        DataError,
        "'wt' is not a column",
    ),
    Bad(
        "short_offset",
        lambda s: lmer(FORMULA, s, offset=np.ones(2)),
        DataError,
        "offset has 2 values",
    ),
    Bad(
        "offset_term_not_numeric",
        lambda s: lmer("Reaction ~ Days + (1 | Subject) + offset(Subject)", s),
        DataError,
        "offset must be numeric",
    ),
    Bad(
        "na_action_fail_with_missing_values",
        lambda s: lmer(FORMULA, _set(s, "Reaction", [3, 50], np.nan), na_action="fail"),
        DataError,
        r"na_action='fail' and 'Reaction' has missing values \('Reaction': 2 rows \(index 3, 50\)\)",
    ),
    Bad("bad_na_action", lambda s: lmer(FORMULA, s, na_action="drop"), ValueError, "na_action"),
    Bad("bad_reml", lambda s: lmer(FORMULA, s, reml="yes"), TypeError, "reml"),
    Bad("bad_ddf", lambda s: lmer(FORMULA, s).summary(ddf="Wald"), ValueError, "ddf"),
    Bad(
        "bad_control",
        lambda s: lmer(FORMULA, s, control={"optimizer": "no_such_optimizer"}),
        PylmeError,
        "no_such_optimizer",
    ),
    # -- predict() -----------------------------------------------------------------------
    Bad(
        "predict_newdata_missing_column",
        lambda s: lmer(FORMULA, s).predict(s[["Subject"]]),
        DataError,
        "newdata has no column 'Days'",
    ),
    Bad(
        "predict_new_levels",
        lambda s: lmer(FORMULA, s).predict(pd.DataFrame({"Days": [1.0], "Subject": ["999"]})),
        DataError,
        "newdata has level.*999.*allow_new_levels=True",
    ),
    Bad(
        "predict_missing_grouping_value",
        lambda s: lmer(FORMULA, s).predict(pd.DataFrame({"Days": [1.0], "Subject": [None]})),
        DataError,
        "missing values in a grouping variable",
    ),
    Bad(
        "predict_not_a_frame",
        lambda s: lmer(FORMULA, s).predict([1, 2]),
        DataError,
        "newdata must be",
    ),
    Bad(
        "predict_numeric_column_as_strings",
        lambda s: lmer(FORMULA, s).predict(s.assign(Days=s["Days"].astype(str))),
        DataError,
        "newdata column 'Days' has the wrong type: the model was fitted with 'Days' numeric, "
        "but newdata has strings",
    ),
    Bad(
        "predict_re_form_syntax",
        lambda s: lmer(FORMULA, s).predict(re_form="~ (1 | Subject"),
        FormulaError,
        r"^re_form '~ \(1 \| Subject' is not valid R: it ends too early",
    ),
    Bad(
        "predict_re_form_no_tilde",
        lambda s: lmer(FORMULA, s).predict(s, re_form="(1 | Subject)"),
        FormulaError,
        r"^re_form .* has no '~'",
    ),
    Bad(
        "predict_re_form_not_a_string",
        lambda s: lmer(FORMULA, s).predict(re_form=0),
        ArgumentTypeError,
        "re_form must be None, 'NA' or a formula string",
    ),
    Bad(
        "simulate_re_form_syntax",
        lambda s: lmer(FORMULA, s).simulate(nsim=1, re_form="~ 0 +"),
        FormulaError,
        r"^re_form '~ 0 \+' is not valid R",
    ),
    Bad(
        "boot_mer_re_form_syntax",
        lambda s: lmer(FORMULA, s).boot_mer(nsim=2, re_form="~ (1 | Subject))"),
        FormulaError,
        r"^re_form .* unexpected '\)'",
    ),
    Bad(
        "predict_bad_type",
        lambda s: lmer(FORMULA, s).predict(type="probability"),
        ArgumentError,
        "type must be 'link' or 'response', not 'probability'",
    ),
    # -- predict(newparams=, random_only=), influence(), simulate_formula() ---------------
    Bad(
        "predict_newparams_bad_name",
        lambda s: lmer(FORMULA, s).predict(newparams={"betas": [250.0, 10.0]}),
        ArgumentError,
        "newparams key must be one of 'beta', 'theta' or 'sigma', not 'betas' \\(did you mean 'beta'",
    ),
    Bad(
        "predict_newparams_bad_length",
        lambda s: lmer(FORMULA, s).predict(newparams={"theta": [1.0, 0.5]}),
        ArgumentError,
        r"newparams\['theta'\] has 2 values, but the model has 3 theta values",
    ),
    Bad(
        "predict_newparams_not_a_dict",
        lambda s: lmer(FORMULA, s).predict(newparams=[250.0, 10.0]),
        ArgumentTypeError,
        "newparams must be a dict",
    ),
    Bad(
        "predict_newparams_text",
        lambda s: lmer(FORMULA, s).predict(newparams={"beta": "250, 10"}),
        ArgumentTypeError,
        r"newparams\['beta'\] must be numbers",
    ),
    Bad(
        "predict_newparams_nan",
        lambda s: lmer(FORMULA, s).predict(newparams={"sigma": float("nan")}),
        ArgumentError,
        r"newparams\['sigma'\] has a missing or infinite value",
    ),
    Bad(
        "predict_newparams_sigma_for_binomial",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomial").predict(
            newparams={"sigma": 2.0}
        ),
        ArgumentError,
        "newparams may name only 'beta', 'theta' for this model",
    ),
    Bad(
        "predict_random_only_not_bool",
        lambda s: lmer(FORMULA, s).predict(random_only="yes"),
        ArgumentTypeError,
        "random_only must be True or False",
    ),
    Bad(
        "influence_groups_not_a_column",
        lambda s: lmer(FORMULA, s).influence(groups="Subjekt"),
        DataError,
        "groups='Subjekt' is not a column.*did you mean 'Subject'",
    ),
    Bad(
        "influence_maxfun",
        lambda s: lmer(FORMULA, s).influence(groups="Subject", maxfun=0),
        ArgumentError,
        "maxfun must be at least 1",
    ),
    Bad(
        "simulate_formula_bad_family",
        lambda s: pylme4.simulate_formula(
            "~ Days + (1 | Subject)", s, {"beta": [1.0, 1.0], "theta": [1.0]}, family="binomail"
        ),
        ArgumentError,
        "family 'binomail' is not one of.*did you mean 'binomial'",
    ),
    Bad(
        "simulate_formula_quasi_family",
        lambda s: pylme4.simulate_formula(
            "~ Days + (1 | Subject)", s, {"beta": [1.0, 1.0], "theta": [1.0]}, "quasipoisson"
        ),
        ArgumentError,
        "no quasi families",
    ),
    Bad(
        "simulate_formula_bad_newparams_name",
        lambda s: pylme4.simulate_formula(
            "~ Days + (1 | Subject)", s, {"beta": [1.0, 1.0], "thetas": [1.0]}
        ),
        ArgumentError,
        "newparams key must be.*not 'thetas'.*did you mean 'theta'",
    ),
    Bad(
        "simulate_formula_beta_length",
        lambda s: pylme4.simulate_formula(
            "~ Days + (1 | Subject)", s, {"beta": [1.0], "theta": [1.0], "sigma": 1.0}
        ),
        ArgumentError,
        r"newparams\['beta'\] has 1 value\(s\), but the model has 2",
    ),
    Bad(
        "simulate_formula_theta_length",
        lambda s: pylme4.simulate_formula(
            "~ Days + (Days | Subject)", s, {"beta": [1.0, 1.0], "theta": [1.0], "sigma": 1.0}
        ),
        ArgumentError,
        r"newparams\['theta'\] has 1 value\(s\), but the model has 3",
    ),
    Bad(
        "simulate_formula_unknown_column",
        lambda s: pylme4.simulate_formula(
            "~ Dayz + (1 | Subject)", s, {"beta": [1.0, 1.0], "theta": [1.0], "sigma": 1.0}
        ),
        FormulaError,
        "'Dayz'.*did you mean 'Days'",
    ),
    Bad(
        "simulate_formula_na_rows",
        lambda s: pylme4.simulate_formula(
            "~ Days + (1 | Subject)",
            _set(s, "Days", [4], np.nan),
            {"beta": [1.0, 1.0], "theta": [1.0], "sigma": 1.0},
        ),
        DataError,
        r"newdata column 'Days' has missing values in 1 row\(s\) \(index 4\)",
    ),
    Bad(
        "simulate_formula_no_random_effects",
        lambda s: pylme4.simulate_formula("~ Days", s, {"beta": [1.0, 1.0], "sigma": 1.0}),
        FormulaError,
        "no random-effects term",
    ),
    Bad(
        "simulate_formula_negative_weights",
        lambda s: pylme4.simulate_formula(
            "~ Days + (1 | Subject)",
            s,
            {"beta": [1.0, 1.0], "theta": [1.0]},
            "poisson",
            weights=-np.ones(len(s)),
        ),
        DataError,
        "weights must not be negative",
    ),
    # -- one error contract: argument errors name the argument -------------------------
    Bad(
        "residuals_type_partial",
        lambda s: lmer(FORMULA, s).residuals(type="partial"),
        ArgumentError,
        "type must be one of 'response', 'pearson', 'working' or 'deviance', not 'partial'",
    ),
    Bad(
        "anova_type_lowercase",
        lambda s: lmer(FORMULA, s).anova(type="i"),
        ArgumentError,
        r"type must be one of 1, 2, 3, 'I', 'II' or 'III', not 'i' \(did you mean 'I'\?\)",
    ),
    Bad(
        "anova_bad_ddf",
        lambda s: lmer(FORMULA, s).anova(ddf="satterthwaite"),
        ArgumentError,
        r"ddf must be .*not 'satterthwaite' \(did you mean 'Satterthwaite'\?\)",
    ),
    Bad(
        "summary_ddf_abbreviated",
        lambda s: lmer(FORMULA, s).summary(ddf="KR"),
        ArgumentError,
        r"ddf must be one of None, 'Satterthwaite' or 'Kenward-Roger', not 'KR' "
        r"\(did you mean 'Kenward-Roger'\?\)",
    ),
    Bad(
        "summary_bad_alternative",
        lambda s: lmer(FORMULA, s).summary(ddf="Satterthwaite", alternative="greeter"),
        ArgumentError,
        r"alternative must be .*not 'greeter' \(did you mean 'greater'\?\)",
    ),
    Bad(
        "all_fit_workers_string",
        lambda s: lmer(FORMULA, s).all_fit(workers="2"),
        ArgumentTypeError,
        r"workers must be a positive integer \(1 runs here\), not '2'",
    ),
    Bad(
        "all_fit_workers_zero",
        lambda s: lmer(FORMULA, s).all_fit(workers=0),
        ArgumentError,
        r"workers must be a positive integer \(1 runs here\), not 0",
    ),
    Bad(
        "all_fit_unknown_optimizer",
        lambda s: lmer(FORMULA, s).all_fit(optimizers=["bobyqa", "nelder_mead"]),
        ArgumentError,
        r"allFit has no optimizer 'nelder_mead'; choose from .*\(did you mean 'Nelder_Mead'\?\)",
    ),
    Bad(
        "check_convergence_bad_rtol",
        lambda s: lmer(FORMULA, s).check_convergence(rtol="small"),
        ArgumentTypeError,
        "rtol must be a positive number, not 'small'",
    ),
    Bad(
        "boot_mer_executor_string",
        lambda s: lmer(FORMULA, s).boot_mer(nsim=2, executor="pool"),
        ArgumentTypeError,
        "executor must be a concurrent.futures.Executor .*not str 'pool'",
    ),
    Bad(
        "boot_mer_workers_string",
        lambda s: lmer(FORMULA, s).boot_mer(nsim=2, workers="2"),
        ArgumentTypeError,
        r"workers must be a positive integer \(1 runs here\), not '2'",
    ),
    Bad(
        "boot_mer_bad_type",
        lambda s: lmer(FORMULA, s).boot_mer(nsim=2, type="case"),
        ArgumentError,
        "type must be 'parametric' or 'semiparametric', not 'case'",
    ),
    Bad(
        "is_singular_tol_string",
        lambda s: lmer(FORMULA, s).is_singular(tol="x"),
        ArgumentTypeError,
        "tol must be a positive number, not 'x'",
    ),
    Bad(
        "is_singular_tol_negative",
        lambda s: lmer(FORMULA, s).is_singular(tol=-1.0),
        ArgumentError,
        "tol must be a positive number, not -1.0",
    ),
    Bad(
        "confint_bad_method",
        lambda s: lmer(FORMULA, s).confint(method="wald"),
        ArgumentError,
        r"method must be .*not 'wald' \(did you mean 'Wald'\?\)",
    ),
    Bad(
        "profile_unknown_parameter",
        lambda s: lmer(FORMULA, s).profile(which=".sig3"),
        ArgumentLookupError,
        r"which: no parameter '.sig3' \(did you mean '.sig03'\?\)",
    ),
    Bad(
        "confint_parm_out_of_range",
        lambda s: lmer(FORMULA, s).confint(parm=9, method="Wald"),
        ArgumentLookupError,
        r"parm: position 9 is out of range: the model has 6 parameters",
    ),
    Bad(
        "profile_glmm_with_scale",
        lambda s: _quiet_fit(
            lambda: pylme4.glmer("size ~ period + (1 | herd)", _cbpp(), family="Gamma")
        ).profile(which=0),
        RError,
        r"lme4 cannot profile a GLMM whose family has a scale parameter",
    ),
    Bad(
        "simulate_bad_nsim",
        lambda s: lmer(FORMULA, s).simulate(nsim=0),
        ArgumentError,
        "nsim must be a positive integer, not 0",
    ),
    Bad(
        "tidy_bad_conf_method",
        lambda s: lmer(FORMULA, s).tidy(conf_int=True, conf_method="wald"),
        ArgumentError,
        r"conf_method must be .*not 'wald' \(did you mean 'Wald'\?\)",
    ),
    Bad(
        "tidy_ddf_with_profile_intervals",
        lambda s: lmer(FORMULA, s).tidy(conf_int=True, conf_method="profile", ddf="Satterthwaite"),
        ArgumentError,
        "ddf applies to Wald intervals only",
    ),
    Bad(
        "icc_tolerance_zero",
        lambda s: lmer(FORMULA, s).icc(tolerance=0),
        ArgumentError,
        "tolerance must be a positive number, not 0",
    ),
    Bad(
        "compare_models_names_count",
        lambda s: pylme4.compare_models(lmer(FORMULA, s), names=["a", "b"]),
        ArgumentError,
        "one name per fit: 2 names for 1 fit$",
    ),
    Bad(
        "glmer_nagq_above_lme4_range",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomial", nAGQ=101),
        ArgumentError,
        r"nAGQ must be a whole number from 0 to 100 \(lme4's range\), not 101",
    ),
    Bad(
        "glmer_nagq_negative",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomial", nAGQ=-1),
        ArgumentError,
        "nAGQ must be a whole number from 0 to 100",
    ),
    Bad(
        "glmer_nagq_float",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomial", nAGQ=1.5),
        ArgumentTypeError,
        "nAGQ must be a whole number",
    ),
    Bad(
        "glmer_character_response",
        lambda s: pylme4.glmer(
            "r ~ period + (1 | herd)",
            _cbpp().assign(r=pd.Series(["y", "n"] * 28, dtype=object)),
            family="binomial",
        ),
        DataError,
        "the response 'r' holds strings",
    ),
    Bad(
        "glmer_bad_family",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomal"),
        ArgumentError,
        "binomal.*did you mean 'binomial'",
    ),
    Bad(
        "boot_ci_unknown_term",
        lambda s: lmer(FORMULA, s).boot_mer(nsim=2, seed=1).ci("Dayz"),
        ArgumentLookupError,
        "'Dayz' is not a bootstrapped statistic",
    ),
    Bad(
        "boot_ci_bad_type",
        lambda s: lmer(FORMULA, s).boot_mer(nsim=2, seed=1).ci("Days", type="percentile"),
        ArgumentError,
        r"type must be one of .*not 'percentile'",
    ),
    Bad(
        "unknown_dataset",
        lambda s: pylme4.datasets.load("sleepstudi"),
        ArgumentLookupError,
        "no data set 'sleepstudi'",
    ),
    # -- strings R cannot hold: NUL characters and lone surrogates --------------------------
    Bad(
        "nul_in_values",
        lambda s: lmer("Reaction ~ Days + (1 | g)", _with(s, g=_tagged(s, "\0early", "\0late"))),
        DataError,
        r"column 'g' has a value with a NUL character .*'308\\x00early'",
    ),
    Bad(
        "nul_in_long_column",
        lambda s: lmer(
            "Reaction ~ Days + (1 | g)",
            _with(
                pd.concat([s] * 6, ignore_index=True),
                g=pd.Series([f"s{i}\0" for i in range(1080)], dtype=object),
            ),
        ),
        DataError,
        "column 'g' has a value with a NUL character",
    ),
    Bad(
        "nul_in_string_dtype",
        lambda s: lmer(
            "Reaction ~ Days + (1 | g)",
            _with(s, g=_tagged(s, "\0early", "\0late").astype("string")),
        ),
        DataError,
        "column 'g' has a value with a NUL character",
    ),
    Bad(
        "nul_in_categories",
        lambda s: lmer(
            "Reaction ~ Days + (1 | g)",
            _with(s, g=pd.Categorical(_tagged(s, "\0early", "\0late"))),
        ),
        DataError,
        r"column 'g' \(its categories\) has a value with a NUL character",
    ),
    Bad(
        "nul_in_column_name",
        lambda s: lmer(FORMULA, _with(s, **{"note\0": 1.0})),
        DataError,
        r"column name 'note\\x00' has a NUL character",
    ),
    Bad(
        "nul_in_data_name",
        lambda s: lmer(FORMULA, s, data_name="sleep\0study"),
        DataError,
        "data_name 'sleep\\\\x00study' has a NUL character",
    ),
    Bad(
        "nul_in_formula",
        lambda s: lmer("Reaction ~ Days + (1 | Subject)\0 + x", s),
        FormulaError,
        "has a NUL character",
    ),
    Bad(
        "surrogate_in_values",
        lambda s: lmer("Reaction ~ Days + (1 | g)", _with(s, g=_tagged(s, "\udce9", "b"))),
        DataError,
        r"column 'g' has a value with a lone surrogate \(U\+DCE9\)",
    ),
    Bad(
        "surrogate_in_categories",
        lambda s: lmer(
            "Reaction ~ Days + (1 | g)", _with(s, g=pd.Categorical(_tagged(s, "\udce9", "b")))
        ),
        DataError,
        r"column 'g' \(its categories\) has a value with a lone surrogate",
    ),
    Bad(
        "surrogate_in_column_name",
        lambda s: lmer(
            FORMULA,
            _renamed(s.assign(x=1.0), pd.Index([*s.columns, "caf\udce9"], dtype=object)),
        ),
        DataError,
        "column name 'caf\\\\udce9' has a lone surrogate",
    ),
    Bad(
        "surrogate_in_data_name",
        lambda s: lmer(FORMULA, s, data_name="caf\udce9"),
        DataError,
        "data_name 'caf\\\\udce9' has a lone surrogate",
    ),
    # -- weights/offset Series align on the data's index ------------------------------------
    Bad(
        "weights_series_other_index",
        lambda s: lmer(FORMULA, s, weights=pd.Series(1.0, index=s.index + 1000)),
        DataError,
        "weights is a Series whose index does not match the data's index: 180 row label",
    ),
    Bad(
        "offset_series_missing_labels",
        lambda s: lmer(FORMULA, s, offset=pd.Series(0.0, index=s.index[:-2])),
        DataError,
        "offset is a Series whose index does not match.*2 row label.*first: 178",
    ),
    Bad(
        "weights_series_duplicate_labels",
        lambda s: lmer(FORMULA, s, weights=pd.Series(1.0, index=[0] * 180)),
        DataError,
        "weights is a Series whose index has duplicate labels",
    ),
    # subset=, start=, mustart= (lmer/glmer) and refit()/update() arguments
    Bad(
        "subset_unknown_column",
        lambda s: lmer(FORMULA, s, subset="Dayz > 2"),
        FormulaError,
        "subset 'Dayz > 2' uses 'Dayz'.*did you mean 'Days'",
    ),
    Bad(
        "subset_two_expressions",
        lambda s: lmer(FORMULA, s, subset="Days > 2; Days < 5"),
        FormulaError,
        "subset 'Days > 2; Days < 5' is not valid R: it holds more than one expression",
    ),
    Bad(
        "subset_syntax_error",
        lambda s: lmer(FORMULA, s, subset="Days >"),
        FormulaError,
        "subset 'Days >' is not valid R: it ends too early",
    ),
    Bad(
        "subset_unknown_function",
        lambda s: lmer(FORMULA, s, subset="nosuchfun(Days)"),
        FormulaError,
        "subset 'nosuchfun\\(Days\\)' calls the function 'nosuchfun'",
    ),
    Bad(
        "subset_keeps_no_rows",
        lambda s: lmer(FORMULA, s, subset="Days > 100"),
        DataError,
        "no rows are left: the subset 'Days > 100' keeps none",
    ),
    Bad(
        "subset_leaves_one_group",
        lambda s: lmer(FORMULA, s, subset="Subject == '308'"),
        DataError,
        "grouping factor 'Subject' has only one level \\('308'\\)",
    ),
    Bad(
        "update_subset_leaves_one_group",
        lambda s: lmer(FORMULA, s).update(subset="Subject == '308'"),
        DataError,
        "grouping factor 'Subject' has only one level \\('308'\\)",
    ),
    Bad(
        "update_data_lacks_a_column",
        lambda s: lmer(FORMULA, s).update(data=s.drop(columns="Days")),
        FormulaError,
        "the formula uses 'Days', which is not a column of the data",
    ),
    Bad(
        "subset_not_boolean",
        lambda s: lmer(FORMULA, s, subset=np.arange(180)),
        ArgumentTypeError,
        "subset must be one True/False per row.*not values of dtype int64",
    ),
    Bad(
        "subset_wrong_length",
        lambda s: lmer(FORMULA, s, subset=np.ones(10, dtype=bool)),
        DataError,
        "subset has 10 values but the data has 180 rows",
    ),
    Bad(
        "subset_all_false",
        lambda s: lmer(FORMULA, s, subset=np.zeros(180, dtype=bool)),
        DataError,
        "subset selects no rows",
    ),
    Bad(
        "subset_missing_values",
        lambda s: lmer(FORMULA, s, subset=pd.Series([True, None] * 90, dtype="boolean")),
        DataError,
        "subset has 90 missing value.*first at row 1",
    ),
    Bad(
        "subset_series_misaligned",
        lambda s: lmer(FORMULA, s, subset=pd.Series(True, index=s.index + 1000)),
        DataError,
        "subset is a Series whose index does not match",
    ),
    Bad(
        "start_unknown_key",
        lambda s: lmer(FORMULA, s, start={"thetas": [1, 0, 1]}),
        ArgumentError,
        "start has the key 'thetas'.*did you mean 'theta'",
    ),
    Bad(
        "start_wrong_length",
        lambda s: lmer(FORMULA, s, start={"theta": [1, 0]}),
        ArgumentError,
        "start's theta has the wrong number of values: the model has 3",
    ),
    Bad(
        "start_not_numbers",
        lambda s: lmer(FORMULA, s, start="1, 0, 1"),
        ArgumentTypeError,
        "start must be numbers",
    ),
    Bad(
        "start_not_finite",
        lambda s: lmer(FORMULA, s, start=[1.0, np.nan, 1.0]),
        ArgumentError,
        "start must be finite numbers",
    ),
    Bad(
        "glmer_start_fixef_wrong_length",
        lambda s: pylme4.glmer(
            CBPP_FORMULA, _cbpp(), family="binomial", start={"fixef": [0.0, 1.0]}
        ),
        ArgumentError,
        "start's fixef has the wrong number of values: the model has 4",
    ),
    Bad(
        "glmer_mustart_out_of_range",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomial", mustart=np.full(56, 2.0)),
        DataError,
        "a mean of 2 is outside \\(0, 1\\).*mustart",
    ),
    Bad(
        "glmer_etastart_wrong_length",
        lambda s: pylme4.glmer(CBPP_FORMULA, _cbpp(), family="binomial", etastart=np.ones(3)),
        DataError,
        "etastart has 3 values but the data has 56 rows",
    ),
    Bad(
        "refit_newresp_wrong_length",
        lambda s: lmer(FORMULA, s).refit(np.ones(10)),
        DataError,
        "newresp has 10 rows but the data has 180",
    ),
    Bad(
        "refit_newresp_missing",
        lambda s: lmer(FORMULA, s).refit(np.r_[np.nan, np.ones(179)]),
        DataError,
        "newresp has missing values in rows the fit uses",
    ),
    Bad(
        "refit_newresp_string",
        lambda s: lmer(FORMULA, s).refit("Reaction"),
        ArgumentTypeError,
        "newresp must be numbers, one per row",
    ),
    Bad(
        "refit_newresp_misaligned",
        lambda s: lmer(FORMULA, s).refit(pd.Series(1.0, index=s.index + 500)),
        DataError,
        "newresp is a Series whose index does not match",
    ),
    Bad(
        "update_unknown_argument",
        lambda s: lmer(FORMULA, s).update(rml=False),
        ArgumentError,
        "update\\(\\) of a lmer\\(\\) fit takes.*not 'rml' \\(did you mean 'reml'",
    ),
    Bad(
        "update_remove_reml",
        lambda s: lmer(FORMULA, s).update(reml=None),
        ArgumentError,
        "reml cannot be removed",
    ),
    Bad(
        "update_formula_syntax",
        lambda s: lmer(FORMULA, s).update(". ~ . +"),
        FormulaError,
        "the formula '. ~ . \\+' is not valid R: it ends too early",
    ),
    Bad(
        "update_formula_no_tilde",
        lambda s: lmer(FORMULA, s).update("Days"),
        FormulaError,
        "the formula 'Days' is not valid R: it has no '~'",
    ),
    Bad(
        "update_weights_negative",
        lambda s: lmer(FORMULA, s).update(weights=-np.ones(180)),
        DataError,
        "weights must not be negative",
    ),
    # -- the post-fit toolbox: emmeans, car::Anova ------------------------------------------
    Bad(
        "emmeans_specs_not_a_predictor",
        lambda s: lmer(FORMULA, s).emmeans("Subject"),
        ArgumentLookupError,
        "specs names 'Subject', which is not a predictor of the model's fixed effects",
    ),
    Bad(
        "emtrends_var_not_a_predictor",
        lambda s: lmer(FORMULA, s).emtrends("1", var="Dayz"),
        ArgumentLookupError,
        "var names 'Dayz'",
    ),
    Bad(
        "emmeans_lmer_df_abbreviated",
        lambda s: lmer(FORMULA, s).emmeans("1", lmer_df="satt"),
        ArgumentError,
        "lmer_df must be one of .* \\(did you mean 'satterthwaite'\\?\\)",
    ),
    Bad(
        "wald_anova_type_1",
        lambda s: lmer(FORMULA, s).wald_anova(type=1),
        ArgumentError,
        "type must be one of 2, 3, 'II' or 'III', not 1",
    ),
]

CBPP_FORMULA = "cbind(incidence, size - incidence) ~ period + (1 | herd)"


def _cbpp() -> pd.DataFrame:
    return pylme4.datasets.load("cbpp")


def _quiet_fit(make: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make()


def _tagged(s: pd.DataFrame, early: str, late: str) -> pd.Series:
    """Subject with a suffix: `early` for days 0-4, `late` after (object dtype,
    which, unlike pandas' str dtype, holds any Python string)."""
    return pd.Series(
        [f"{g}{early if d < 5 else late}" for g, d in zip(s["Subject"], s["Days"])],
        index=s.index,
        dtype=object,
    )


def _polars(s: pd.DataFrame) -> Any:
    pl = pytest.importorskip("polars")
    return pl.from_pandas(s)


@pytest.mark.parametrize("case", BAD, ids=[b.id for b in BAD])
def test_bad_input(sleep, case):
    with pytest.raises(case.error, match=case.culprit) as info:
        case.make(sleep)
    message = str(info.value)
    assert "Error in" not in message and "\n" not in message, message  # one sentence, no R noise
    assert isinstance(info.value, PylmeError)  # the one error contract
    if isinstance(info.value, ArgumentTypeError):
        assert isinstance(info.value, TypeError)
    if isinstance(info.value, (ArgumentError, DataError, FormulaError)):
        assert isinstance(info.value, ValueError)
    if isinstance(info.value, (DataError, FormulaError, RError)) and hasattr(
        info.value, "r_message"
    ):
        assert info.value.r_message  # R's own text is kept
    good_fit_still_works(sleep)


def test_ids_are_unique():
    assert len({b.id for b in BAD}) == len(BAD)


def test_r_error_keeps_r_message(sleep):
    with pytest.raises(DataError) as info:
        pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep.head(10))
    assert "grouping factors must have > 1 sampled level" in info.value.r_message


# ---------------------------------------------------------------------------
# Inputs that look bad but fit in R: pylme4 must fit them exactly as R does.
# ---------------------------------------------------------------------------

_R_NUMBERS = """function(m) list(fixef = fixef(m), theta = getME(m, "theta"), sigma = sigma(m),
  loglik = as.numeric(logLik(m)), nobs = nobs(m), ngrps = as.list(ngrps(m)),
  levels = lapply(ranef(m), rownames), ranef = lapply(ranef(m), function(d) d[[1]]))"""


def assert_fit_equals_r(fit: pylme4.LmerFit, r_fit_code: str, setup: str = "") -> None:
    """Compare a pylme4 fit with `r_fit_code` evaluated (after `setup`) in R."""
    ref = r(
        f"local({{ {setup}\n m <- suppressWarnings(suppressMessages({r_fit_code}))\n"
        f" ({_R_NUMBERS})(m) }})"
    )
    np.testing.assert_allclose(fit.fixef(), ref["fixef"], **SAME)
    np.testing.assert_array_equal(fit.fixef().index, ref["fixef"].index)
    np.testing.assert_allclose(fit.theta, np.atleast_1d(ref["theta"]), **SAME)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], **SAME)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], **SAME)
    assert fit.nobs == ref["nobs"]
    assert dict(fit.ngroups) == ref["ngrps"]
    ranef = fit.ranef()
    for group, levels in ref["levels"].items():
        assert list(ranef[group].index) == list(np.atleast_1d(levels))
        np.testing.assert_allclose(ranef[group].iloc[:, 0], ref["ranef"][group], **SAME)


def test_tz_aware_datetime_not_in_formula_is_ignored(sleep):
    # A timestamp column the model does not use is no reason to fail: R's
    # lmer() ignores columns its formula does not name.
    data = sleep.assign(when=pd.date_range("2024-03-30", periods=180, freq="h", tz="Europe/Berlin"))
    fit = pylme4.lmer(FORMULA, data)
    assert_fit_equals_r(fit, f"lmer({FORMULA}, data = sleepstudy)")


@pytest.mark.parametrize(
    "tz, r_tz",
    [
        ("Europe/Berlin", "Europe/Berlin"),  # crosses the DST change of 2024-03-31
        (dt.timezone(dt.timedelta(hours=5, minutes=30)), "Asia/Kolkata"),  # a fixed offset
        (dt.timezone(dt.timedelta(hours=-3)), "America/Sao_Paulo"),  # (no DST in 2024)
    ],
    ids=["iana", "fixed_offset_east", "fixed_offset_west"],
)
def test_tz_aware_datetime_as_grouping_factor_has_r_levels(sleep, tz, r_tz):
    # A session timestamp used as a grouping factor: R labels the levels by
    # the local clock time of the column's zone, so the zone must reach R
    # intact (a fixed offset "UTC+05:30" would read as 5.5 hours *behind* UTC).
    starts = pd.date_range("2024-03-30 22:00", periods=18, freq="h", tz="UTC").tz_convert(tz)
    data = sleep.assign(session=np.repeat(starts, 10))
    fit = pylme4.lmer("Reaction ~ Days + (1 | session)", data)
    setup = (
        "d <- sleepstudy\n"
        "starts <- as.POSIXct('2024-03-30 22:00', tz = 'UTC') + 3600 * (0:17)\n"
        f"attr(starts, 'tzone') <- '{r_tz}'\n"
        "d$session <- rep(starts, each = 10)"
    )
    assert_fit_equals_r(fit, "lmer(Reaction ~ Days + (1 | session), data = d)", setup)


def test_extremely_long_factor_labels(sleep):
    # Labels of 5,000 characters (R's strings have no practical limit): the
    # fit and the level names must be R's.
    labels = {s: f"{s}-" + "é" * 5000 for s in sleep["Subject"].cat.categories}
    data = sleep.assign(Subject=sleep["Subject"].map(labels).astype(str))
    fit = pylme4.lmer(FORMULA, data)
    setup = (
        "d <- sleepstudy\nd$Subject <- paste0(as.character(d$Subject), '-', strrep('\u00e9', 5000))"
    )
    assert_fit_equals_r(fit, f"lmer({FORMULA}, data = d)", setup)


def test_10000_level_factor():
    # A grouping factor with 10,000 levels (strings, 2 rows each): lme4 fits
    # it; the fit and the level order must be R's.
    rng = np.random.default_rng(11)
    n = 10_000
    g = np.repeat([f"g{i:05d}" for i in range(1, n + 1)], 2)
    x = rng.normal(size=2 * n)
    y = x + np.repeat(rng.normal(size=n), 2) + rng.normal(size=2 * n)
    fit = pylme4.lmer("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}))
    ref = r_apply(
        f"""function(x, y) {{
          d <- data.frame(g = sprintf("g%05d", rep(1:{n}, each = 2)), x = x, y = y)
          ({_R_NUMBERS})(lmer(y ~ x + (1 | g), data = d))
        }}""",
        x,
        y,
    )
    np.testing.assert_allclose(fit.fixef(), ref["fixef"], **SAME)
    np.testing.assert_allclose(fit.theta, np.atleast_1d(ref["theta"]), **SAME)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], **SAME)
    assert fit.ngroups == {"g": n}
    ranef = fit.ranef()["g"]
    assert list(ranef.index) == list(ref["levels"]["g"])
    np.testing.assert_allclose(ranef.iloc[:, 0], ref["ranef"]["g"], **SAME)


def test_unused_bad_columns_do_not_matter(sleep):
    # Columns the formula does not name are not sent to R, as R's lmer() never
    # looks at them: mixed types, lists, infinities, timedeltas.
    data = sleep.assign(
        mixed=[1, "a", 2.5] * 60,
        lists=[[1]] * 180,
        inf=np.inf,
        td=pd.to_timedelta(sleep["Days"], "D"),
    )
    fit = pylme4.lmer(FORMULA, data)
    assert_fit_equals_r(fit, f"lmer({FORMULA}, data = sleepstudy)")


def test_logical_response_fits_as_in_r(sleep):
    # R's lmer() takes a logical response as 0/1 (it is numeric to R).
    data = sleep.assign(slow=sleep["Reaction"] > 300)
    fit = pylme4.lmer("slow ~ Days + (1 | Subject)", data)
    setup = "d <- sleepstudy\nd$slow <- d$Reaction > 300"
    assert_fit_equals_r(fit, "lmer(slow ~ Days + (1 | Subject), data = d)", setup)


def test_infinity_used_only_through_is_finite(sleep):
    # Infinite values that the formula maps to finite ones are fine in R.
    data = _set(sleep, "Days", [4], np.inf)
    fit = pylme4.lmer("Reaction ~ pmin(Days, 9) + (1 | Subject)", data)
    setup = "d <- sleepstudy\nd$Days[5] <- Inf"
    assert_fit_equals_r(fit, "lmer(Reaction ~ pmin(Days, 9) + (1 | Subject), data = d)", setup)


def test_long_column_name_in_backticks(sleep):
    # A 5,000-character column name is under R's 10,000-byte limit for names.
    name = "reaction time " + "z" * 5000
    data = sleep.rename(columns={"Reaction": name})
    fit = pylme4.lmer(f"`{name}` ~ Days + (1 | Subject)", data)
    assert_fit_equals_r(fit, "lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)")


def test_polars_and_arrow_frames_fit_as_pandas(sleep):
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    for data in (pl.from_pandas(sleep), pa.Table.from_pandas(sleep)):
        fit = pylme4.lmer(FORMULA, data)
        assert_fit_equals_r(fit, f"lmer({FORMULA}, data = sleepstudy)")


# ---------------------------------------------------------------------------
# R's error texts that pylme4's checks usually pre-empt: their translation,
# on the text R itself gives (asked here, not copied).
# ---------------------------------------------------------------------------

R_ERRORS = [
    (
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, weights = rep(0, 180))",
        RError,
        "numerically singular.*Downdated VtV",
    ),
    (
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, weights = rep(1, 3))",
        DataError,
        r"'\(weights\)' does not have one value per row",
    ),
    (
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, weights = rep(-1, 180))",
        DataError,
        "weights must not be negative",
    ),
    ("lmer(Reaction ~ Days + (0 | Subject), sleepstudy)", FormulaError, r"e\.g\. \(0 \| g\)"),
    ("lmer(Reaction ~ Days + (1 | Subject) + 'x', sleepstudy)", FormulaError, "quoted string"),
    ("lmer(Reaction ~ Days + (1 | Subject), sleepstudy[1:10, ])", DataError, "only one level"),
    (
        "lmer(Reaction ~ Days + (1 | Subject), transform(sleepstudy, Reaction = NA_real_))",
        DataError,
        "no rows are left",
    ),
    ("numeric(1e15)", RError, "R ran out of memory"),
    # lme4's setParams(), behind predict()'s and simulate()'s newparams
    (
        "suppressMessages(simulate(~ period + (1 | herd), newdata = cbpp, family = binomial, "
        "newparams = list(theta = 1, beta = c(-1, -1, -1))))",
        ArgumentError,
        r"newparams\['beta'\] has 3 value\(s\), but the model has 4",
    ),
    (
        "suppressMessages(simulate(~ period + (1 | herd), newdata = cbpp, family = binomial, "
        "newparams = list(theta = 1, beta = c(-1, -1, -1, -1), sigma = 2)))",
        ArgumentError,
        "newparams may name only 'beta', 'theta' for this model.*takes no 'sigma'",
    ),
    (
        "suppressMessages(simulate(~ period + (1 | herd), newdata = cbpp, family = binomial, "
        "newparams = list(theta = c(x = 1), beta = c(-1, -1, -1, -1))))",
        ArgumentError,
        r"newparams\['theta'\] is a Series whose index is not lme4's names of theta: "
        r"herd.\(Intercept\)",
    ),
]


@pytest.mark.parametrize("code, error, sentence", R_ERRORS, ids=[e[0][:60] for e in R_ERRORS])
def test_r_error_texts_are_translated(code, error, sentence):
    from pylme4.r_errors import translate_r_error

    r_text = r(f"tryCatch({{ {code}; 'no error' }}, error = conditionMessage)")
    assert r_text != "no error"
    exc = translate_r_error(r_text, "fitting the model")
    assert type(exc) is error
    assert re.search(sentence, str(exc)), str(exc)
    assert exc.r_message == r_text  # R's own text is kept
    assert "\n" not in str(exc)


# ---------------------------------------------------------------------------
# weights/offset given as a pandas Series align on the data's index, as pandas
# aligns Series; numpy arrays stay positional.
# ---------------------------------------------------------------------------

_WEIGHTED = "Reaction ~ Days + (Days | Subject)"


def _weights_and_offset() -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(180)
    return 1.0 + rows % 3, 5.0 * np.sin(rows)


def _r_weighted(w: np.ndarray, o: np.ndarray) -> dict[str, Any]:
    return r_apply(
        f"""function(w, o) {{
          d <- sleepstudy; d$w <- w; d$o <- o
          m <- lmer({_WEIGHTED}, data = d, weights = w, offset = o)
          list(fixef = fixef(m), theta = getME(m, "theta"), sigma = sigma(m),
               loglik = as.numeric(logLik(m)))
        }}""",
        w,
        o,
    )


def _assert_same(fit: Any, ref: dict[str, Any]) -> None:
    np.testing.assert_allclose(fit.fixef(), ref["fixef"], **SAME)
    np.testing.assert_allclose(fit.theta, np.atleast_1d(ref["theta"]), **SAME)
    np.testing.assert_allclose(fit.sigma, ref["sigma"], **SAME)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], **SAME)


def test_weights_and_offset_series_align_on_the_index(sleep):
    w, o = _weights_and_offset()
    data = sleep.set_axis(np.arange(180) * 10 + 7)  # labels that are not positions
    shuffle = np.random.default_rng(5).permutation(180)
    weights = pd.Series(w, index=data.index).iloc[shuffle]
    offset = pd.Series(o, index=data.index).iloc[shuffle]
    fit = pylme4.lmer(_WEIGHTED, data, weights=weights, offset=offset)
    _assert_same(fit, _r_weighted(w, o))


def test_weights_and_offset_arrays_stay_positional(sleep):
    w, o = _weights_and_offset()
    shuffle = np.random.default_rng(5).permutation(180)
    fit = pylme4.lmer(_WEIGHTED, sleep, weights=w[shuffle], offset=o[shuffle])
    _assert_same(fit, _r_weighted(w[shuffle], o[shuffle]))
    # Aligned and positional differ here, so the alignment above is not vacuous.
    assert not np.allclose(fit.fixef(), _r_weighted(w, o)["fixef"], rtol=1e-6)
