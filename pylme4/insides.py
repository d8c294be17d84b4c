"""The insides of a fitted mixed model: lme4's ``getME()``.

Offered as ``fit.get_me(name)`` by :class:`pylme4.LmerFit` and
:class:`pylme4.GlmerFit`.  Values keep R's shape and names:

- sparse matrices (``Z``, ``Zt``, ``Ztlist``'s terms, ``Lambda``,
  ``Lambdat``, ``A``, ``L``) are :class:`pylme4._r.convert.SparseMatrix`,
  a ``scipy.sparse.csc_matrix`` carrying R's dimnames as ``rownames`` and
  ``colnames`` (a pandas Index, or None where R has none).  ``L``, Matrix's
  Cholesky factor object in R, is its sparse lower-triangular factor
  (``as(getME(fit, "L"), "CsparseMatrix")``), rows and columns in the
  factor's fill-reducing order;
- dense matrices (``X``, ``RX``, ``RZX``, ``mmList``'s and ``Tlist``'s and
  ``ST``'s terms) are DataFrames with R's dimnames (a default RangeIndex
  where R has none); ``b``, an n x 1 Matrix in R, is a one-column DataFrame;
- vectors are numpy arrays, or Series where R names them (``fixef``,
  ``theta``, ``p_i``, ...); single numbers (``sigma``, ``n``, ``REML``,
  ...) are Python scalars;
- lists are dicts (``Ztlist``, ``mmList``, ``cnms``, ``devcomp``, ...);
  ``flist`` is a dict of the grouping factors (Categoricals).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._r.call import r_call
from .errors import ArgumentError, ArgumentTypeError, choice_error, emit
from .fitbase import MerFitLike
from .options import GET_ME_NAMES, MODEL_MATRIX_TYPES, GetMeName, ModelMatrixType

# getME() names that are not values pylme4 can hand back.
_FUNCTIONS = {
    "devfun": "a function (the deviance as a function of theta)",
    "ALL": "every component at once, functions included",
}


def get_me(fit: MerFitLike, name: GetMeName) -> Any:
    """A component of the fitted model: lme4's ``getME(fit, name)``.

    Parameters
    ----------
    name
        One of the names ``getME`` documents that are values (``"X"``,
        ``"Z"``, ``"Zt"``, ``"Lambdat"``, ``"theta"``, ``"cnms"``, ...; see
        ``pylme4.options.GET_ME_NAMES``).  ``"devfun"`` (a function) and
        ``"ALL"`` are not offered.

    Returns
    -------
    scipy sparse matrix, DataFrame, Series, ndarray, dict or scalar
        R's value converted as the module docstring of :mod:`pylme4.insides`
        says: the same numbers, and R's dimnames and names.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> fit.get_me("Zt").shape
    (36, 180)
    >>> list(fit.get_me("cnms")["Subject"])
    ['(Intercept)', 'Days']
    """
    if not isinstance(name, str):
        raise ArgumentTypeError(f"name must be a str naming a getME() component, not {name!r}")
    if name not in GET_ME_NAMES:
        if name in _FUNCTIONS:
            raise ArgumentError(
                f"getME's {name!r} is {_FUNCTIONS[name]}, which get_me() does not offer: "
                "ask for the components by name"
            )
        raise choice_error("name", name, GET_ME_NAMES)
    outcome = r_call("pylme4_get_me", fit.r_handle, name, doing=f"getting getME(fit, {name!r})")
    emit(outcome.conditions)
    return outcome.value


def model_matrix(fit: MerFitLike, type: ModelMatrixType = "fixed") -> Any:
    """lme4's ``model.matrix(fit, type = type)``.

    ``"fixed"``: the fixed-effects model matrix X (a DataFrame with R's
    dimnames); ``"random"``: the random-effects model matrix Z (a scipy CSC
    :class:`~pylme4._r.convert.SparseMatrix` with R's dimnames);
    ``"randomListRaw"``: a dict of the raw model matrices of the
    random-effects terms (DataFrames), keyed as R names them.
    """
    if type not in MODEL_MATRIX_TYPES:
        raise choice_error("type", type, MODEL_MATRIX_TYPES)
    outcome = r_call("pylme4_model_matrix", fit.r_handle, type, doing="computing model.matrix()")
    emit(outcome.conditions)
    return outcome.value


def model_frame(fit: MerFitLike) -> pd.DataFrame:
    """lme4's ``model.frame(fit)``: the variables of the rows the fit used,
    indexed like the data frame the fit was given.  A two-column binomial
    response (``cbind(incidence, size - incidence)``) becomes two columns
    named as R prints them (``cbind(incidence, size - incidence).incidence``,
    ``...V2``)."""
    outcome = r_call("pylme4_model_frame", fit.r_handle, doing="computing model.frame()")
    emit(outcome.conditions)
    frame: pd.DataFrame = outcome.value["frame"]
    return frame.set_axis(fit.used_index, axis=0)


def weights(fit: MerFitLike) -> pd.Series:
    """lme4's ``weights(fit)``: the prior weights, one per row used."""
    values = r_call("pylme4_weights", fit.r_handle, doing="computing weights()").value
    return pd.Series(values, index=fit.used_index, name="weights")


def hatvalues(fit: MerFitLike) -> pd.Series:
    """lme4's ``hatvalues(fit)``: the diagonal of the hat matrix, one per row used."""
    outcome = r_call("pylme4_hatvalues", fit.r_handle, doing="computing hatvalues()")
    emit(outcome.conditions)
    return pd.Series(outcome.value, index=fit.used_index, name="hatvalues")


def ranef_postvar(fit: MerFitLike) -> dict[str, Any]:
    """The conditional covariance matrices of the random effects: lme4's
    ``attr(ranef(fit, condVar = TRUE)[[g]], "postVar")`` for every grouping
    factor g, a numpy array shaped as R's (terms x terms x levels), or a list
    of such arrays (one per uncorrelated block) for ``(x || g)`` terms."""
    outcome = r_call("pylme4_postvar", fit.r_handle, doing="computing ranef(condVar = TRUE)")
    emit(outcome.conditions)
    out: dict[str, Any] = outcome.value
    return out
