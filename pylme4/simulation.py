"""Simulating from a model that was never fitted: lme4's ``simulate.formula``.

``simulate_formula(formula, newdata, newparams)`` draws responses for the
rows of ``newdata`` from the mixed model that ``formula`` describes, with
the parameters ``newparams`` (fixed effects ``beta``, relative covariance
factors ``theta``, residual standard deviation ``sigma``): the design of a
study and assumed effects in, simulated outcomes out.  Fitting a model to
each simulated response and counting significant tests is a power
analysis.

Simulation from a fitted model is ``fit.simulate()`` (:mod:`pylme4.inference`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import checks
from ._r.call import r_call
from ._r.convert import Columns
from .errors import ArgumentTypeError, DataError, emit
from .families import Family, family_code


def simulate_formula(
    formula: str,
    newdata: pd.DataFrame,
    newparams: Mapping[str, Any],
    family: str | Family | None = None,
    nsim: int = 1,
    seed: int | None = None,
    weights: Any = None,
    offset: Any = None,
    cond_sim: bool = True,
) -> pd.DataFrame:
    """Responses simulated from a formula and parameters: lme4's
    ``simulate(formula, nsim, seed, newdata = newdata, newparams = newparams,
    family = family, weights = weights, offset = offset, cond.sim = cond_sim)``.

    Parameters
    ----------
    formula
        An lme4 formula with or without a response: ``"~ x + (1 | g)"``, or
        ``"y ~ x + (1 | g)"`` (the response's values are not used; for the
        binomial family ``cbind(successes, failures) ~ ...`` takes the
        numbers of trials from its row sums and gives two columns per
        simulation).
    newdata
        The design: one row per observation to simulate, with every
        variable the formula names.  Rows with missing values in those
        variables are refused (lme4 cannot simulate for them).
    newparams
        ``{"beta": [...], "theta": [...], "sigma": s}`` as lme4's
        ``newparams = list(beta =, theta =, sigma =)``: ``beta`` in the
        order of the fixed-effects model matrix's columns, ``theta`` in
        lme4's order (``getME(fit, "theta")``: per random-effects term the
        lower triangle of its relative covariance factor, column by
        column), ``sigma`` for families with a scale parameter (the
        gaussian default; without it lme4 warns and simulates NaN).  A list
        or array is taken in lme4's order (R says so in a message, raised as
        an :class:`~pylme4.errors.RMessage` warning); a Series is matched by
        its index to lme4's names.
    family
        None (a linear mixed model), a family name (``"binomial"``,
        ``"poisson"``, ...), a :class:`pylme4.Family`, or R code such as
        ``'binomial(link = "probit")'``.
    nsim
        Number of simulated responses (columns ``sim_1``, ``sim_2``, ...).
    seed
        ``set.seed(seed)`` first, as R's ``simulate(..., seed = seed)``: the
        same seed gives R's numbers exactly.  None continues R's random
        stream.
    weights
        A column name or one number per row: prior weights; for the
        binomial family with a one-sided formula, the numbers of trials
        (the simulated values are then proportions, as in R).
    offset
        A column name or one number per row, added to the linear predictor.
    cond_sim
        False: return the expected values (R's ``cond.sim = FALSE``)
        instead of drawing from the conditional distribution.

    Returns
    -------
    DataFrame
        One column per simulation (two, ``sim_1.<successes>`` and
        ``sim_1.V2``, for a ``cbind()`` response), R's values, indexed like
        ``newdata``.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> sims = pylme4.simulate_formula(
    ...     "~ Days + (Days | Subject)", sleep,
    ...     {"beta": [250.0, 10.0], "theta": [1.0, 0.1, 0.5], "sigma": 25.0},
    ...     nsim=2, seed=1)  # doctest: +SKIP
    >>> list(sims.columns)  # doctest: +SKIP
    ['sim_1', 'sim_2']
    """
    frame = checks.as_frame(newdata, "newdata")
    checks.check_frame(frame, "newdata")
    fvars = checks.formula_vars(formula, list(frame.columns))
    params = checks.newparams(newparams)
    code = None if family is None else family_code(family)
    nsim = checks.replicates(nsim)
    seed = checks.seed(seed)
    if not isinstance(cond_sim, (bool, np.bool_)):
        raise ArgumentTypeError(f"cond_sim must be True or False, not {cond_sim!r}")
    columns = list(frame.columns) if fvars.uses_dot else list(fvars.variables)
    columns = [c for c in frame.columns if c in columns]
    _refuse_missing(frame, columns)
    extra: dict[str, np.ndarray | None] = {}
    for name, value, nonneg in (("weights", weights, True), ("offset", offset, False)):
        column, array = checks.column_or_array(value, name, frame, nonnegative=nonneg)
        given = frame[column].to_numpy(dtype=float) if column is not None else array
        if given is not None and np.isnan(given).any():
            first = frame.index[np.flatnonzero(np.isnan(given))[0]]
            raise DataError(f"{name} has a missing value (first at row {first!r})")
        extra[name] = given
    outcome = r_call(
        "pylme4_simulate_formula",
        formula,
        Columns(frame, columns),
        params,
        code,
        int(nsim),
        seed,
        extra["weights"],
        extra["offset"],
        bool(cond_sim),
        doing="simulating from the formula",
    )
    emit(outcome.conditions)
    values: pd.DataFrame = outcome.value["values"]
    # R names the rows by their row numbers in the data frame it was given.
    positions = np.asarray(outcome.value["rows"], dtype=np.int64) - 1
    return values.set_axis(frame.index[positions], axis=0)


def _refuse_missing(frame: pd.DataFrame, columns: list[str]) -> None:
    """lme4's simulate.formula drops rows with missing values from the model
    frame but not from the random effects, and fails ("non-conformable
    arrays"); say which column and rows instead."""
    for column in columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            rows = frame.index[missing]
            shown = ", ".join(repr(r) for r in rows[:5].tolist())
            raise DataError(
                f"newdata column {column!r} has missing values in {int(missing.sum())} row(s) "
                f"(index {shown}{' ...' if len(rows) > 5 else ''}); lme4's simulate() cannot "
                f"simulate for them: drop them first (newdata.dropna(subset=[{column!r}]))"
            )
