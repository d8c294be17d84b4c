"""Complete, no and partial pooling of a mixed model's groups, and shrinkage.

For a mixed model with one grouping factor and fixed effects ``1 + x``
(``reaction ~ 1 + days + (1 + days | subject)``), three estimates of each
group's intercept and slope:

- **complete pooling**: R's ``lm()`` of the fixed-effects formula on all rows,
  the same line for every group;
- **no pooling**: lme4's ``lmList()``, a separate regression per group (NaN
  where a group's rows cannot identify a coefficient: one row gives no slope);
- **partial pooling**: the mixed model's ``coef()``, each group's estimate
  drawn ("shrunk") toward the overall one, the more so the less data it has.

All three are computed by R on the rows the mixed model used, in one round
trip per fit (cached on the fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._r.call import r_value
from .errors import ArgumentTypeError
from .results import MerFit

METHODS = ("complete pooling", "no pooling", "partial pooling")


@dataclass(frozen=True)
class PoolingEstimates:
    """The three pooling estimates of one mixed model, as R computes them."""

    group: str
    """The grouping factor."""
    slope_term: str
    """The fixed-effect slope's name (e.g. "days")."""
    response: str
    complete: pd.Series
    """``coef(lm(fixed formula))``: intercept, slope."""
    no_pooling: pd.DataFrame
    """``coef(lmList(fixed formula | group))``, one row per group (NaN where R has NA)."""
    partial_pooling: pd.DataFrame
    """``coef(fit)[[group]]``, one row per group."""
    fixef: pd.Series
    covariance: pd.DataFrame | None
    """The fitted covariance of the group's random intercept and slope (None
    unless the model has both)."""
    points: pd.DataFrame
    """The rows the model used: group, x (the slope variable), y (the response)."""
    shrinkage: pd.DataFrame
    """See :func:`shrinkage`."""


def estimates(fit: MerFit) -> PoolingEstimates:
    """R's ``lm()``, lme4's ``lmList()`` and ``coef()``: complete, no and partial pooling.

    R's ``lm()`` of the fixed-effects formula, lme4's ``lmList()`` of it by the
    grouping factor, and ``coef(fit)``, on the rows the model used.  The model
    must have one grouping factor and fixed effects ``1 + x``.
    """
    if not isinstance(fit, MerFit):
        raise ArgumentTypeError(
            f"pooling needs a fitted mixed model (pylme4.lmer), not {type(fit).__name__}"
        )
    parts = fit.cached(
        "pooling",
        lambda: r_value(
            "pylme4_pooling", fit.r_handle, doing="computing complete, no and partial pooling"
        ),
    )
    return _from_r(parts)


def _from_r(parts: dict[str, Any]) -> PoolingEstimates:
    group, slope = str(parts["group"]), str(parts["slope"])
    levels = pd.Index([str(v) for v in parts["levels"]], name=group)
    terms = ["(Intercept)", slope]

    def table(values: Any) -> pd.DataFrame:
        arr = np.asarray(values.to_numpy() if isinstance(values, pd.DataFrame) else values, float)
        return pd.DataFrame(arr.reshape(len(levels), 2), index=levels, columns=terms)

    cov = parts["covariance"]
    covariance = None
    if cov is not None:
        covariance = pd.DataFrame(
            np.asarray(cov.to_numpy() if isinstance(cov, pd.DataFrame) else cov, float).reshape(
                2, 2
            ),
            index=terms,
            columns=terms,
        )
    sd_table = pd.DataFrame(
        {
            "method": ["no pooling", "partial pooling"],
            "intercept": [parts["sd_no_pooling"][0], parts["sd_partial_pooling"][0]],
            "slope": [parts["sd_no_pooling"][1], parts["sd_partial_pooling"][1]],
        }
    )
    sd_table.attrs = {
        "slope_term": slope,
        "groups": {"intercept": int(parts["sd_groups"][0]), "slope": int(parts["sd_groups"][1])},
    }
    points = parts["points"].reset_index(drop=True)
    points["group"] = pd.Categorical(points["group"].astype(str), categories=list(levels))
    return PoolingEstimates(
        group=group,
        slope_term=slope,
        response=str(parts["response"]),
        complete=pd.Series(np.asarray(parts["complete"], float), index=terms),
        no_pooling=table(parts["no_pooling"]),
        partial_pooling=table(parts["partial_pooling"]),
        fixef=pd.Series(np.asarray(parts["fixef"], float), index=terms),
        covariance=covariance,
        points=points,
        shrinkage=sd_table,
    )


def compare(fit: MerFit) -> pd.DataFrame:
    """``lm()``, ``lmList()`` and ``coef()`` per group, in one tidy table.

    Complete, no and partial pooling estimates of each group's intercept and
    slope, built from R's ``lm()``, lme4's ``lmList()`` and ``coef(fit)`` (see
    :func:`estimates`).

    Returns
    -------
    pandas.DataFrame
        Columns ``method`` ("complete pooling", "no pooling", "partial
        pooling"), ``group`` (the level, as text), ``intercept``, ``slope``;
        one row per method and group.  Complete pooling repeats the one
        regression line for every group; no pooling has NaN where a group's
        rows cannot identify a coefficient (R's NA).  ``attrs`` holds the
        grouping factor ("group") and the slope's name ("slope_term").

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.lecture_sleep()
    >>> fit = pylme4.lmer("reaction ~ 1 + days + (1 + days | subject)", sleep,
    ...                   data_name="df.sleep")
    >>> table = pylme4.pooling.compare(fit)
    >>> print(table[table.group == "373"].round(2).to_string(index=False))
              method group  intercept  slope
    complete pooling   373     252.32  10.33
          no pooling   373     245.00    NaN
     partial pooling   373     248.98  10.39
    """
    est = estimates(fit)
    levels = list(est.no_pooling.index)
    frames = [
        pd.DataFrame(
            {
                "method": "complete pooling",
                "group": levels,
                "intercept": est.complete.iloc[0],
                "slope": est.complete.iloc[1],
            }
        )
    ]
    for method, table in (("no pooling", est.no_pooling), ("partial pooling", est.partial_pooling)):
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "group": levels,
                    "intercept": table.iloc[:, 0].to_numpy(),
                    "slope": table.iloc[:, 1].to_numpy(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out.attrs = {"group": est.group, "slope_term": est.slope_term}
    return out


def shrinkage(fit: MerFit) -> pd.DataFrame:
    """``sd()`` of the ``lmList()`` and ``coef()`` estimates: the lecture's shrinkage table.

    The standard deviation (R's ``sd()``) across groups of the no-pooling
    (``lmList``) and the partial-pooling (``coef(fit)``) intercepts and
    slopes.  Partial pooling draws each group toward the overall estimate, so
    its SDs are smaller: the variance "shrinks".

    A group whose rows cannot identify a coefficient (a single row has no
    slope) has no no-pooling estimate of it; that column's two SDs are then
    taken over the other groups, so both rows describe the same groups
    (``attrs["groups"]`` says how many per column).

    Returns
    -------
    pandas.DataFrame
        Columns ``method`` ("no pooling", "partial pooling"), ``intercept``,
        ``slope``; ``attrs["slope_term"]`` names the slope.

    Examples
    --------
    The lecture's table describes the 18 participants of lme4's sleepstudy
    (its 21.59 is what lme4 before 1.1-23 gave; see docs/lecture-parity.md):

    >>> import pylme4
    >>> sleep = pylme4.datasets.lecture_sleep(extra_participants=False)
    >>> fit = pylme4.lmer("reaction ~ 1 + days + (1 + days | subject)", sleep)
    >>> print(pylme4.pooling.shrinkage(fit).round(2).to_string(index=False))
             method  intercept  slope
         no pooling      28.95   6.56
    partial pooling      21.60   5.46
    """
    table = estimates(fit).shrinkage
    out = table.copy()
    out.attrs = dict(table.attrs)
    return out
