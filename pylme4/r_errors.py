"""What R's errors mean: one table of rules, for translating and for explaining.

Each :class:`Rule` is a pattern on R's error text, the pylme4 exception class
it becomes, the sentence people read (it may use the pattern's named groups
and ``{r}``, R's first line), and, for errors whose text cannot say which
column or factor is at fault, an explainer that finds the culprit in the
user's data.  :func:`translate_r_error` turns every R error into the first
matching rule's exception (``pylme4._r.call`` calls it); after a fit failed,
:func:`pylme4.explain.fit_error` runs the explainers of the matching rules.

A common R error that deserves a clearer sentence is one more row here.
Order matters: the first rule that matches translates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import (
    ArgumentError,
    ArgumentLookupError,
    DataError,
    FormulaError,
    PylmeError,
    RError,
)

#: How an explainer asks R (``pylme4._r.call.r_value``, passed in by
#: ``explain.py``, so that this table does not import the R call it serves).
AskR = Callable[..., Any]
#: An explainer: R's exception, what ``models.prepare_call`` prepared for
#: the fit (with ``r_data``, the data wrapped for R), and a way to ask R ->
#: a clearer exception, or None.
Explainer = Callable[[PylmeError, dict[str, Any], AskR], "PylmeError | None"]


@dataclass(frozen=True)
class Rule:
    """One R error: pattern -> exception class -> sentence -> optional explainer."""

    pattern: re.Pattern[str]
    cls: type[PylmeError]
    sentence: str
    explain: Explainer | None = None
    only_while: tuple[str, ...] = ()
    """When not empty: the rule applies only while pylme4 is doing one of
    these (the start of ``doing``); other calls fall through to the next rule."""


def _rule(
    pattern: str,
    cls: type[PylmeError],
    sentence: str,
    explain: Explainer | None = None,
    only_while: tuple[str, ...] = (),
) -> Rule:
    return Rule(re.compile(pattern, re.DOTALL), cls, sentence, explain, only_while)


def with_message(exc: PylmeError, cls: type[PylmeError], message: str) -> PylmeError:
    """A new exception of ``cls`` carrying ``exc``'s R text and R conditions."""
    new = cls(message)
    new.r_message = getattr(exc, "r_message", str(exc))
    new.conditions = getattr(exc, "conditions", ())
    return new


# ---------------------------------------------------------------------------
# Explainers: the culprit, from the data (run only after R failed)
# ---------------------------------------------------------------------------


def _rows(df: pd.DataFrame, mask: np.ndarray) -> str:
    labels = df.index[mask]
    shown = ", ".join(repr(x) for x in labels[:5].tolist())
    more = f" and {len(labels) - 5} more" if len(labels) > 5 else ""
    return f"{len(labels)} row{'s' if len(labels) != 1 else ''} (index {shown}{more})"


def _infinite(values: pd.Series) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return np.zeros(len(values), dtype=bool)
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    return np.isinf(arr)


def _used(prepared: dict[str, Any]) -> list[str]:
    df: pd.DataFrame = prepared["df"]
    return [c for c in prepared["columns"] if c in df.columns]


def _grouping_one_level(
    exc: PylmeError, prepared: dict[str, Any], ask_r: AskR
) -> PylmeError | None:
    args = prepared["args"]
    levels = ask_r(
        "pylme4_grouping_levels",
        args["formula_text"],
        prepared["r_data"],
        args["data_name"],
        symbols=args["symbols"],
        extra=args["extra"],
        # a subset given as R code (given as values it is among the symbols)
        code={k: v for k, v in (args.get("code") or {}).items() if k == "subset"},
        doing="looking for the grouping factor with one level",
    )
    single = [(name, info) for name, info in levels.items() if int(info["n"]) < 2]
    if not single:
        return None
    parts = []
    for name, info in single:
        level = info["levels"]
        parts.append(
            f"{name!r} has only one level ({level[0]!r})"
            if int(info["n"]) == 1
            else f"{name!r} has no levels"
        )
    return with_message(
        exc,
        DataError,
        f"the grouping factor {' and '.join(parts)} in the rows the model uses; "
        "a random effect needs at least two groups",
    )


def _response_column(prepared: dict[str, Any]) -> pd.Series | None:
    """The data's response column, when the formula's response is a plain
    column (not ``log(y)`` or ``cbind(...)``)."""
    df: pd.DataFrame = prepared["df"]
    response = prepared.get("response")
    return df[response] if response is not None and response in df.columns else None


def _response_infinite(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    column = _response_column(prepared)
    if column is not None:
        bad = _infinite(column)
        if bad.any():
            return with_message(
                exc,
                DataError,
                f"the response {column.name!r} is infinite in {_rows(prepared['df'], bad)}; "
                "lme4 cannot use infinite values: drop or replace these rows",
            )
    return with_message(
        exc,
        DataError,
        "the response, as the formula computes it, has infinite values "
        "(for example log(0)); lme4 cannot use them",
    )


def _predictor_infinite(
    exc: PylmeError, prepared: dict[str, Any], ask_r: AskR
) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    found = [(c, _infinite(df[c])) for c in _used(prepared) if c != prepared.get("response")]
    found = [(c, bad) for c, bad in found if bad.any()]
    if found:
        column, bad = found[0]
        more = f" (and {', '.join(repr(c) for c, _ in found[1:])})" if len(found) > 1 else ""
        return with_message(
            exc,
            DataError,
            f"column {column!r}{more} is infinite in {_rows(df, bad)}; lme4 cannot use "
            "infinite values in the model's variables: drop or replace these rows",
        )
    return with_message(
        exc,
        DataError,
        "a term of the formula has infinite values once computed (for example log(0) "
        "or 1/0); lme4 cannot use them",
    )


def _nlmer_infinite(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    """nlmer does not check for infinite values: its least squares just fail."""
    df: pd.DataFrame = prepared["df"]
    found = [(c, _infinite(df[c])) for c in _used(prepared)]
    found = [(c, bad) for c, bad in found if bad.any()]
    if not found:
        return None
    column, bad = found[0]
    return with_message(
        exc,
        DataError,
        f"column {column!r} is infinite in {_rows(df, bad)}; lme4's nlmer cannot use "
        "infinite values in the model's variables: drop or replace these rows",
    )


def _missing_with_fail(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    found = [(c, df[c].isna().to_numpy()) for c in _used(prepared)]
    found = [(c, bad) for c, bad in found if bad.any()]
    extra = [(name, np.isnan(arr)) for name, arr in prepared["args"]["extra"].items()]
    found += [(name.lstrip("."), bad) for name, bad in extra if bad.any()]
    if not found:
        return with_message(
            exc,
            DataError,
            "na_action='fail' and a term of the formula has missing values once computed",
        )
    names = ", ".join(repr(c) for c, _ in found)
    column, bad = found[0]
    return with_message(
        exc,
        DataError,
        f"na_action='fail' and {names} {'has' if len(found) == 1 else 'have'} missing values "
        f"({column!r}: {_rows(df, bad)}); use na_action='omit' or 'exclude' to drop those rows",
    )


def _subset_text(prepared: dict[str, Any]) -> str | None:
    """The fit's subset= as shown to the user: its R expression, or None
    (given as True/False values, or not given)."""
    code = prepared.get("args", {}).get("code", {}) or {}
    return code.get("subset")


def _has_subset(prepared: dict[str, Any]) -> bool:
    args = prepared.get("args", {})
    return "subset" in (args.get("code") or {}) or "subset" in (args.get("symbols") or {})


def _subset_empty(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    """No rows left: say so of the subset, when the fit has one."""
    if not _has_subset(prepared):
        return None
    text = _subset_text(prepared)
    which = f"subset {text!r}" if text is not None else "subset"
    return with_message(
        exc,
        DataError,
        f"no rows are left: the {which} keeps none, or only rows with missing values "
        "in the model's variables",
    )


def _subset_function(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    """An unknown function in subset=, not in the formula."""
    text = _subset_text(prepared)
    match = re.search(r'could not find function "(?P<name>[^"]+)"', getattr(exc, "r_message", ""))
    if text is None or match is None:
        return None
    name = match["name"]
    if name in prepared.get("args", {}).get("formula_text", "") or name not in text:
        return None
    return with_message(
        exc, FormulaError, f"subset {text!r} calls the function {name!r}, which R does not know"
    )


def _factor_one_level(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    df: pd.DataFrame = prepared["df"]
    used = _used(prepared)
    complete = ~df[used].isna().any(axis=1).to_numpy()
    culprits = []
    for column in used:
        values = df[column]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            continue
        distinct = pd.unique(values[complete].astype(object))
        if len(distinct) < 2:
            shown = f" ({distinct[0]!r})" if len(distinct) else ""
            culprits.append(f"{column!r}{shown}")
    if not culprits:
        return None
    return with_message(
        exc,
        DataError,
        f"the factor {' and '.join(culprits)} has only one level in the rows the model uses, "
        "so it cannot be a predictor (it would have no contrasts); drop it from the formula",
    )


def _response_type(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    column = _response_column(prepared)
    if column is None:
        return None
    dtype = column.dtype
    kind = "strings" if pd.api.types.infer_dtype(column, skipna=True) == "string" else None
    holds = f"holds {kind} (dtype {dtype})" if kind else f"has dtype {dtype}"
    return with_message(
        exc,
        DataError,
        f"the response {column.name!r} {holds}, which the model cannot use: it needs numbers, "
        "or for the binomial family 0/1, True/False, a factor (pd.Categorical; its first "
        "level is failure) or cbind(successes, failures)",
    )


def _variable_type(exc: PylmeError, prepared: dict[str, Any], ask_r: AskR) -> PylmeError | None:
    match = re.search(
        r"invalid type \((?P<type>[^)]*)\) for variable '(?P<name>[^']+)'",
        getattr(exc, "r_message", ""),
    )
    if match is None:
        return None
    return with_message(
        exc,
        DataError,
        f"{match['name']!r} has a type the model cannot use (R sees {match['type']}); "
        "a model variable must be numeric, logical, a string or a factor",
    )


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------

_WRONG_TYPE = "the response or a predictor has a type the model cannot use (R: {r})"

RULES: tuple[Rule, ...] = (
    _rule(
        r"object '(?P<name>[^']+)' not found",
        FormulaError,
        "the formula uses '{name}', which is neither a column of the data nor an R object",
    ),
    _rule(
        r"could not find function \"(?P<name>[^\"]+)\"",
        FormulaError,
        "the formula calls the function '{name}', which R does not know",
        explain=_subset_function,
    ),
    _rule(
        r"Value (?P<value>\S+) out of range \((?P<low>[^,]+), (?P<high>[^)]+)\)",
        DataError,
        "a mean of {value} is outside ({low}, {high}), the range of the family's link "
        "function (are mustart's values means the family allows?)",
    ),
    _rule(
        r"incorrect number of (?P<what>theta|fixef) components \(!=(?P<n>\d+)\)",
        ArgumentError,
        "start's {what} has the wrong number of values: the model has {n}",
    ),
    _rule(
        r"number of levels of each grouping factor must be < number of observations"
        r" \(problems: (?P<name>[^)]+)\)",
        DataError,
        "the grouping factor(s) '{name}' have as many levels as there are observations, "
        "so their variance cannot be told apart from the residual variance",
    ),
    _rule(
        r"number of observations \(=(?P<n>\d+)\) (?:<|<=) number of random effects \(=(?P<q>\d+)\)"
        r" for term \((?P<term>[^)]*)\)",
        DataError,
        "the random-effects term ({term}) has {q} random effects for only {n} "
        "observations; its variance parameters cannot be identified",
    ),
    _rule(
        r"grouping factors must have > 1 sampled level",
        DataError,
        "a grouping factor has only one level in the rows the model uses; "
        "a random effect needs at least two groups",
        explain=_grouping_one_level,
    ),
    _rule(
        r"0 \(non-NA\) cases|no valid observations|0 cases",
        DataError,
        "no rows are left once rows with missing values in the model's variables are removed",
        explain=_subset_empty,
    ),
    _rule(
        r"NA/NaN/Inf in 'y'",
        DataError,
        "the response has infinite values (or NaN from a transformation such as log(0)); "
        "lme4 cannot use them",
        explain=_response_infinite,
    ),
    _rule(
        r"NA/NaN/Inf in foreign function call",
        DataError,
        "a predictor has infinite values (in the data, or from a transformation such as "
        "log(0)); lme4 cannot use them",
        explain=_predictor_infinite,
    ),
    _rule(
        r"missing values in object",
        DataError,
        "na_action='fail' and the model's variables have missing values",
        explain=_missing_with_fail,
    ),
    _rule(
        r"NA/NaN/Inf in '(?P<name>[^']+)'",
        DataError,
        "'{name}' contains NA, NaN or infinite values that the model cannot use",
    ),
    _rule(
        r"Invalid grouping factor specification, (?P<name>.+)",
        FormulaError,
        "the grouping factor '{name}' of a random-effects term is not a usable variable",
    ),
    _rule(
        r"No random effects terms specified in formula",
        FormulaError,
        "the formula has no random-effects term such as (1 | group); lmer() needs one "
        "(a model without random effects is an ordinary linear model: pylme4.lm(), R's lm())",
    ),
    _rule(
        r"response must be numeric",
        DataError,
        _WRONG_TYPE,
        explain=_response_type,
    ),
    _rule(
        r"invalid type \(.*\) for variable '(?P<name>[^']+)'",
        DataError,
        _WRONG_TYPE,
        explain=_variable_type,
    ),
    _rule(
        r"negative weights not allowed|negative weights|all\(weights >= 0\) is not TRUE",
        DataError,
        "weights must not be negative",
    ),
    _rule(
        r"y values must be 0 <= y <= 1",
        DataError,
        "for the binomial family the response must be 0/1, a proportion (with the "
        "numbers of trials as weights) or cbind(successes, failures) (R: {r})",
    ),
    _rule(
        r"(?:negative|non-positive) values not allowed for the '(?P<name>[^']+)' family",
        DataError,
        "the response has values the {name} family does not allow (R: {r})",
    ),
    _rule(
        r"'offset' must be numeric",
        DataError,
        "the offset must be numeric",
    ),
    _rule(
        r"length\(theta\) > 0L? is not TRUE",
        FormulaError,
        "a random-effects term has no effects, e.g. (0 | g); give it at least one term",
    ),
    _rule(
        r"invalid model formula in ExtractVars",
        FormulaError,
        "the formula contains something that is not a variable or a function call "
        "(a quoted string?); column names with spaces go in backticks",
    ),
    _rule(
        r"contrasts can be applied only to factors with 2 or more levels",
        DataError,
        "a factor predictor has only one level in the rows the model uses, so it "
        "cannot be a predictor",
        explain=_factor_one_level,
    ),
    _rule(
        r"non-numeric argument to (?:binary operator|mathematical function)",
        DataError,
        "the formula does arithmetic on a column that is not numeric (R: {r})",
    ),
    _rule(
        r"new levels detected in newdata: ?(?P<levels>.*)",
        DataError,
        "newdata has level(s) {levels} of a grouping factor that the model has not "
        "seen; pass allow_new_levels=True to predict them from the fixed effects alone",
    ),
    _rule(
        r"NAs are not allowed in prediction data for grouping variables",
        DataError,
        "newdata has missing values in a grouping variable; pass allow_new_levels=True "
        "to predict those rows from the fixed effects alone, or drop them",
    ),
    _rule(
        r"variable lengths differ \(found for '(?P<name>[^']+)'\)",
        DataError,
        "'{name}' does not have one value per row of the data",
    ),
    # nlmer's penalized nonlinear least squares fails this way when the
    # starting values are far from the estimates.
    _rule(
        r"step factor reduced below 0\.001 without reducing pwrss|"
        r"Downdated VtV is not positive definite",
        RError,
        "lme4's nlmer could not improve on the starting values (R: '{r}'); give start "
        "values closer to the estimates (e.g. nls() with the same self-starting model "
        "finds them)",
        explain=_nlmer_infinite,
        only_while=("fitting the model with nlmer()",),
    ),
    _rule(
        r"Downdated VtV is not positive definite",
        RError,
        "lme4's fixed-effects computations became numerically singular (R: 'Downdated "
        "VtV is not positive definite'); common causes: predictors on very different "
        "scales, nearly collinear predictors, or extreme weights",
    ),
    _rule(
        r"pylme4: the random-effects model matrix is all zero \(terms: (?P<terms>[^)]*\)(?:, [^)]*\))*)\)",
        DataError,
        "the random-effects term(s) {terms} are 0 in every row the model uses, so the "
        "random-effects model matrix is all zero (lme4 would crash R on this model)",
    ),
    _rule(
        # lme4's formula helpers (findbars(), subbars()) recurse once per
        # term of a chain of '+': about 650 terms exhaust an 8 MB C stack.
        r"C stack usage\s+\d+ is too close to the limit|evaluation nested too deeply"
        r"|infinite recursion",
        FormulaError,
        "the formula is nested too deeply for R: lme4 walks it recursively and ran out "
        "of stack space (R: {r}); a chain of more than about 600 terms is too long for "
        "lme4, so use fewer terms",
        # Deep recursion in other R code is not a formula's fault: R's own error.
        only_while=("fitting", "parsing"),
    ),
    # lme4's setParams(): predict()'s and simulate's newparams.
    _rule(
        r"params should be specif[ie]+d as a list with elements from \{(?P<names>[^}]*)\}",
        ArgumentError,
        "newparams may name only {names} for this model (a model without a scale "
        "parameter, such as a binomial or Poisson one, takes no 'sigma')",
    ),
    _rule(
        r"length mismatch in (?P<what>beta|theta) \((?P<got>\d+)!=(?P<want>\d+)\)",
        ArgumentError,
        "newparams['{what}'] has {got} value(s), but the model has {want}",
    ),
    _rule(
        r"mismatch between '(?P<what>\w+)' parameter vector names and internal names "
        r"\((?P<names>[^)]*(?:\)[^)]*)*)\)",
        ArgumentError,
        "newparams['{what}'] is a Series whose index is not lme4's names of {what}: "
        "{names} (or pass a list, taken in that order)",
    ),
    _rule(
        r"can't \(yet\) profile GLMMs with non-fixed scale parameters",
        RError,
        "lme4 cannot profile a GLMM whose family has a scale parameter (Gamma, inverse "
        "Gaussian); use confint(method='Wald') or confint(method='boot') instead",
    ),
    _rule(
        # emmeans' trt.vs.ctrl contrasts of a grid of several variables
        # (one variable's levels are checked before R is called).
        r"'ref' levels are out of range",
        ArgumentLookupError,
        "ref names a level the grid does not have: give the control's label as emmeans "
        "prints it in the contrasts (for several variables, the labels joined by spaces, "
        "e.g. 'B temperature185')",
    ),
    _rule(
        r"cannot allocate vector of size (?P<size>.+)",
        RError,
        "R ran out of memory (it asked for {size} more)",
    ),
    _rule(
        r"<text>:\d+:\d+: (?P<what>unexpected [^\n]*)",
        FormulaError,
        "the formula is not valid R syntax ({what})",
    ),
)

#: R's "object 'x' not found": also how predict() says newdata lacks a column.
OBJECT_NOT_FOUND = RULES[0].pattern


def translate_r_error(r_message: str, doing: str) -> PylmeError:
    """Turn R's error text into one clear pylme4 exception.

    ``doing`` says what pylme4 was doing ("fitting the model", ...) and starts
    the sentence of errors that have no specific translation.
    """
    text = r_message.strip()
    for rule in RULES:
        if rule.only_while and not doing.startswith(rule.only_while):
            continue
        match = rule.pattern.search(text)
        if match:
            fields = {k: (v or "").strip() for k, v in match.groupdict().items()}
            message = rule.sentence.format(r=text.splitlines()[0], **fields)
            if rule.cls is RError:
                return RError(message, text)
            exc = rule.cls(message)
            exc.r_message = text
            return exc
    first_line = " ".join(text.split())
    return RError(f"R failed while {doing}: {first_line}", text)
