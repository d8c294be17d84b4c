"""Data sets: lme4's bundled data as pandas DataFrames, and the lecture's data.

``load(name)`` returns the data set exactly as R has it: numeric columns as
float64 (integer columns as int64), factors as Categoricals with R's levels in
R's order (ordered factors as ordered Categoricals).

``lecture_sleep()``, ``test_data()``, ``mixed_data()`` and ``school_data()``
are the data sets of the lecture "Linear mixed effects models 3"; the
simulators draw R's random numbers after ``set.seed(seed)``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from . import checks
from ._r.call import r_value
from .errors import ArgumentError, ArgumentLookupError, choice_error
from .options import SAMPLE_KINDS, SampleKind

# Where each bundled data set lives.  lme4's own are listed first; a few
# classic examples used alongside lme4 come from base R's datasets package,
# and lmerTest's (ham, carrots, TVbo) last.
_PACKAGES = ("lme4", "datasets", "lmerTest")


@cache
def _available(package: str) -> tuple[str, ...]:
    names = r_value("pylme4_dataset_names", package, doing="listing data sets")
    return tuple(str(n) for n in names)


def names(package: str = "lme4") -> list[str]:
    """The names of the data sets an R package bundles (lme4's by default)."""
    return list(_available(package))


@cache
def _load(name: str, package: str) -> pd.DataFrame:
    return r_value("pylme4_dataset", name, package, doing=f"loading the data set {name!r}")


def search_order(package: str | None = None) -> tuple[str, ...]:
    """The R packages :func:`find` and :func:`load` look in: ``package``, or lme4 then datasets."""
    return (package,) if package is not None else _PACKAGES


def find(name: str, package: str | None = None) -> str | None:
    """The first R package of :func:`search_order` that bundles the data set ``name``, or None.

    Raises an R error (PylmeError) when R cannot list a package's data sets
    (e.g. the package is not installed).
    """
    for pkg in search_order(package):
        if name in _available(pkg):
            return pkg
    return None


def load(name: str, package: str | None = None) -> pd.DataFrame:
    """A data set bundled with lme4 (sleepstudy, Penicillin, Pastes, Dyestuff,
    cake, cbpp, InstEval, ...) as a DataFrame.

    Examples
    --------
    >>> from pylme4 import datasets
    >>> sleep = datasets.load("sleepstudy")
    >>> sleep.shape
    (180, 3)
    >>> list(sleep["Subject"].cat.categories[:3])
    ['308', '309', '310']
    """
    found = find(name, package)
    if found is not None:
        return _load(name, found).copy()
    packages = search_order(package)
    choices = ", ".join(_available(packages[0])[:20])
    raise ArgumentLookupError(
        f"no data set {name!r} in R package(s) {', '.join(packages)}; try one of: {choices}"
    )


# ---------------------------------------------------------------------------
# The lecture's data sets ("Linear mixed effects models 3")
# ---------------------------------------------------------------------------

# The two participants the lecture adds to sleepstudy to show partial pooling
# with incomplete data: 374 with two days, 373 with one.
_EXTRA_PARTICIPANTS = (("374", 0.0, 286.0), ("374", 1.0, 288.0), ("373", 0.0, 245.0))


def lecture_sleep(extra_participants: bool = True) -> pd.DataFrame:
    """The lecture's ``df.sleep``: lme4's sleepstudy with lower-case names.

    Columns ``subject``, ``days``, ``reaction``.  With ``extra_participants``
    (the default) the lecture's two made-up participants are appended, in the
    lecture's order: 374 (days 0 and 1, reaction 286 and 288) and 373 (day 0,
    reaction 245), giving 183 rows and 20 participants.  Without them it is
    sleepstudy itself (180 rows, 18 participants).

    The lecture's ``subject`` is a character column, which ``lmer()`` turns
    into a factor with sorted levels; here it is a Categorical with the same
    sorted categories (308, ..., 372, 373, 374), so R sees the same factor and
    ``coef()`` lists 373 before 374, as the lecture prints it.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.lecture_sleep()
    >>> sleep.shape
    (183, 3)
    >>> fit = pylme4.lmer("reaction ~ 1 + days + (1 + days | subject)", sleep,
    ...                   data_name="df.sleep")
    >>> round(fit.reml_criterion, 1)
    1771.4
    """
    sleep = load("sleepstudy")
    subject = sleep["Subject"].astype(str).tolist()
    days = sleep["Days"].astype(float).tolist()
    reaction = sleep["Reaction"].astype(float).tolist()
    if extra_participants:
        for s, d, r in _EXTRA_PARTICIPANTS:
            subject.append(s)
            days.append(d)
            reaction.append(r)
    return pd.DataFrame(
        {
            "subject": pd.Categorical(subject, categories=sorted(set(subject))),
            "days": days,
            "reaction": reaction,
        }
    )


def test_data(
    seed: int = 1,
    *,
    n_participants: int = 20,
    b0: float = 1.0,
    b1: float = 2.0,
    sd_participant: float = 0.5,
    sd_residual: float = 0.5,
    outlier_shift: float = 30.0,
) -> pd.DataFrame:
    """The lecture's ``df.test``: two conditions per participant and one outlier.

    Simulated with R's random numbers: after ``set.seed(seed)``, one intercept
    per participant ``~ N(0, sd_participant)``, then ``value = b0 + b1 *
    condition + intercept + N(0, sd_residual)`` for condition 0 and then 1.
    The last participant's values are shifted by ``outlier_shift``.  With the
    defaults (the lecture's recipe) ``lmer(value ~ 1 + condition + (1 |
    participant))`` gives the lecture's "REML criterion at convergence: 171.7".
    R's random stream is left as it was.

    Columns ``condition`` (Categorical "0"/"1"), ``participant`` (Categorical
    "1".."n"), ``value``; 2 x ``n_participants`` rows, condition 0 first.
    """
    frame = r_value(
        "pylme4_lecture_test_data",
        _seed(seed),
        _count(n_participants, "n_participants"),
        float(b0),
        float(b1),
        _sd(sd_participant, "sd_participant"),
        _sd(sd_residual, "sd_residual"),
        float(outlier_shift),
        doing="simulating the lecture's test data",
    )
    return frame


# Not a test, despite its name (the lecture calls the data df.test).
test_data.__test__ = False  # type: ignore[attr-defined]


def mixed_data(
    seed: int = 1,
    *,
    group_variance: bool = False,
    n_participants: int = 20,
    b0: float = 1.0,
    b1: float = 2.0,
    means: tuple[float, float] | None = None,
    sds: tuple[float, float] | None = None,
    sd_residual: float = 0.5,
    sample_kind: SampleKind = "Rounding",
) -> pd.DataFrame:
    """The lecture's ``df.mixed``: a mixture of two groups of participants.

    Each participant, in two conditions, belongs to group 1 or 2 (drawn with
    ``sample(1:2, 1)``); its intercepts come from its group's normal
    distribution; ``value = b0 + b1 * condition + intercept + N(0,
    sd_residual)``.  Drawn with R's random numbers after ``set.seed(seed)`` in
    the order of the lecture's recipe, so the defaults give the lecture's
    numbers ("REML criterion at convergence: 165.6" for ``value ~ 1 +
    condition + (1 | participant)``, 83.7 with ``group`` added).

    Parameters
    ----------
    seed
        R's ``set.seed()`` seed.  R's random stream is left as it was.
    group_variance
        ``False``: the mixture case, group means 1 and 10, both with SD 0.5.
        ``True``: the lecture's heterogeneity case, group means 1 and 30 with
        SDs 1 and 10 ("REML criterion at convergence: 250" for ``value ~ 1 +
        group + condition + (1 | participant)``).
    means, sds
        Override the two groups' intercept means and SDs.
    sample_kind
        R's ``sample.kind``.  The lecture was made with R before 3.6.0, whose
        ``sample()`` used "Rounding"; "Rejection" is R's current default and
        assigns participants to groups differently.

    Returns
    -------
    pandas.DataFrame
        Columns ``condition`` (Categorical "0"/"1"), ``participant``
        (Categorical), ``group`` (1 or 2, an integer the lecture uses as a
        numeric predictor), ``intercept`` (the drawn intercept) and ``value``.
    """
    if sample_kind not in SAMPLE_KINDS:
        raise choice_error("sample_kind", sample_kind, SAMPLE_KINDS)
    preset_means, preset_sds = (
        ((1.0, 30.0), (1.0, 10.0)) if group_variance else ((1.0, 10.0), (0.5, 0.5))
    )
    means = _pair(means if means is not None else preset_means, "means")
    sds = _pair(sds if sds is not None else preset_sds, "sds")
    for value in sds:
        _sd(value, "sds")
    return r_value(
        "pylme4_lecture_mixed_data",
        _seed(seed),
        _count(n_participants, "n_participants"),
        float(b0),
        float(b1),
        list(means),
        list(sds),
        _sd(sd_residual, "sd_residual"),
        sample_kind,
        doing="simulating the lecture's mixture data",
    )


def school_data(
    seed: int = 1,
    *,
    n_per_class: int = 50,
    intercept: float = 60.0,
    sd_school: float = 10.0,
    sd_class: float = 2.4,
    sd_class_in_school: float = 1.0,
    sd_residual: float = 1.0,
) -> pd.DataFrame:
    """A simulated ``df.school``: pupils in classes a-d within schools I-VI.

    The lecture's school data (1200 pupils, extraversion with openness,
    agreeableness and sociability) is an external file, so its exact numbers
    cannot be reproduced; this simulator has its design and scale: every
    class letter occurs in every school (6 x 4 cells of ``n_per_class``
    pupils, 1200 by default), and extraversion is

        intercept + school effect + class-letter effect
                  + class-within-school effect + residual,

    so both of the lecture's analyses are meaningful: nested, ``(1 |
    school/class)`` (classes as units inside schools), and crossed, ``(1 |
    school) + (1 | class)`` (a class letter means the same thing in every
    school).  Six schools and four letters are too few to draw their effects
    at random and get the spread asked for, so they sit at the normal
    quantiles ``sd * qnorm((i - 0.5) / k)``: school I has the lowest mean and
    class a the lowest effect, as in the lecture; the class-within-school
    effects and the residuals are drawn.  ``open``, ``agree`` and ``social`` are drawn independently of
    extraversion (their true effects are 0; the lecture's estimates are ~0
    too).  Drawn with R's random numbers after ``set.seed(seed)``; R's random
    stream is left as it was.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``extro``, ``open``, ``agree``, ``social``, ``class``
        (Categorical a-d) and ``school`` (Categorical I-VI), rows in random
        order, as the lecture's file lists them.
    """
    for name, value in (
        ("sd_school", sd_school),
        ("sd_class", sd_class),
        ("sd_class_in_school", sd_class_in_school),
        ("sd_residual", sd_residual),
    ):
        _sd(value, name)
    return r_value(
        "pylme4_lecture_school_data",
        _seed(seed),
        _count(n_per_class, "n_per_class"),
        float(intercept),
        float(sd_school),
        float(sd_class),
        float(sd_class_in_school),
        float(sd_residual),
        doing="simulating the school data",
    )


def _seed(seed: int) -> float:
    """The seed as R receives it (a double: set.seed() accepts it as such)."""
    return float(checks.seed(seed, optional=False))  # type: ignore[arg-type]


def _count(value: int, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
        raise ArgumentError(f"{name} must be an integer of at least 2, not {value!r}")
    return float(value)


def _sd(value: float, name: str) -> float:
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise ArgumentError(f"{name} must be a finite standard deviation >= 0, not {value!r}")
    return number


def _pair(values: tuple[float, float], name: str) -> tuple[float, float]:
    pair = tuple(float(v) for v in values)
    if len(pair) != 2:
        raise ArgumentError(f"{name} must give two numbers (group 1, group 2), not {values!r}")
    return pair[0], pair[1]
