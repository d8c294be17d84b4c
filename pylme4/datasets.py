"""Data sets: lme4's bundled data as pandas DataFrames.

``load(name)`` returns the data set exactly as R has it: numeric columns as
float64 (integer columns as int64), factors as Categoricals with R's levels in
R's order (ordered factors as ordered Categoricals).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from ._r.call import r_value

# Where each bundled data set lives.  lme4's own are listed first; a few
# classic examples used alongside lme4 come from base R's datasets package.
_PACKAGES = ("lme4", "datasets")


@cache
def _available(package: str) -> tuple[str, ...]:
    names = r_value("pylme4_dataset_names", package, doing="listing data sets")
    return (names,) if isinstance(names, str) else tuple(str(n) for n in names)


def names(package: str = "lme4") -> list[str]:
    """The names of the data sets an R package bundles (lme4's by default)."""
    return list(_available(package))


@cache
def _load(name: str, package: str) -> pd.DataFrame:
    return r_value("pylme4_dataset", name, package, doing=f"loading the data set {name!r}")


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
    packages = (package,) if package is not None else _PACKAGES
    for pkg in packages:
        if name in _available(pkg):
            return _load(name, pkg).copy()
    choices = ", ".join(_available(packages[0])[:20])
    raise KeyError(
        f"no data set {name!r} in R package(s) {', '.join(packages)}; try one of: {choices}"
    )
