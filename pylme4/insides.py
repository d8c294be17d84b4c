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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import formatting
from ._r.call import r_call
from .errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    DataError,
    choice_error,
    emit,
    suggestion,
)
from .fitbase import MerFitLike
from .options import (
    DFBETA_WHICH,
    GET_ME_NAMES,
    MODEL_MATRIX_TYPES,
    DfbetaWhich,
    GetMeName,
    ModelMatrixType,
)

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
    factor g, a numpy array shaped as R's (terms x terms x levels), or R's
    list of such arrays (one per uncorrelated block, a dict keyed by term)
    for ``(x || g)`` terms.  The same as ``fit.ranef(cond_var=True).postvar``."""
    outcome = r_call("pylme4_postvar", fit.r_handle, doing="computing ranef(condVar = TRUE)")
    emit(outcome.conditions)
    out: dict[str, Any] = outcome.value
    return out


# ---------------------------------------------------------------------------
# influence.merMod: refits leaving out one group (or observation) at a time
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Influence:
    """lme4's ``influence(fit, groups)`` (class ``influence.merMod``).

    Each of R's components is an attribute; ``influence[name]`` gives it by
    R's name (``"fixed.effects"``, ``"fixed.effects[-Subject]"``,
    ``"var.cov.comps[-case]"``, ``"vcov[-Subject]"``, ``"groups"``,
    ``"deleted"``, ``"converged"``, ``"function.evals"``).  The deletion-wise
    tables are indexed by ``deleted``: the levels (or combined levels) of
    the grouping variable, or, for observations, the labels of the data
    frame the model was fitted to (R's row names 1, 2, ... are row numbers
    of that frame).  ``cooks_distance()``, ``dfbeta()`` and ``dfbetas()``
    are R's, computed with the result.

    With ``do_coef=False`` R computes no refits: only ``hat`` (the
    hatvalues) is set and the other attributes are None.
    """

    groups: str | None
    """The deleted unit as R names it: the grouping variable ("Subject", or
    "a.b" for several), or "case" for single observations."""
    deleted: pd.Index | None
    fixed_effects: pd.Series | None
    """The fit's fixed effects (R's ``fixed.effects``)."""
    fixed_effects_deleted: pd.DataFrame | None
    """R's ``fixed.effects[-<groups>]``: the fixed effects of each refit."""
    var_cov_comps: pd.Series | None
    """R's ``var.cov.comps``: sigma^2 and the variances and covariances of
    the random effects, as R names them (``v[(Intercept)]``, ``C[Days,(Intercept)]``)."""
    var_cov_comps_deleted: pd.DataFrame | None
    """R's ``var.cov.comps[-<groups>]``."""
    vcov: pd.DataFrame | None
    """The covariance matrix of the fit's fixed effects."""
    vcov_deleted: Mapping[str, pd.DataFrame] | None
    """R's ``vcov[-<groups>]``: the refits' covariance matrices, by deleted unit."""
    converged: pd.Series | None
    """Whether each refit converged (its optimizer said 0 and gave no warning)."""
    function_evals: pd.Series | None
    """The refits' numbers of function evaluations (R's ``function.evals``)."""
    hat: pd.Series | None = None
    """``do_coef=False`` only: the hat values."""
    _cooks: pd.Series | None = field(default=None, repr=False)
    _dfbeta: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _dfbetas: pd.DataFrame | None = field(default=None, repr=False)
    _r_names: tuple[str, ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        if self.deleted is None:
            n = 0 if self.hat is None else len(self.hat)
            return f"<Influence (hat values only): {n} observations>"
        return f"<Influence: {len(self.deleted)} refits leaving out one {self.groups}>"

    def _need_coef(self, what: str) -> None:
        if self.deleted is None:
            raise ArgumentError(
                f"{what} needs the refits: this influence() was computed with do_coef=False"
            )

    def __getitem__(self, name: str) -> Any:
        self._need_coef("influence[...]")
        fields = (
            self.fixed_effects,
            self.fixed_effects_deleted,
            self.var_cov_comps,
            self.var_cov_comps_deleted,
            self.vcov,
            self.vcov_deleted,
            self.groups,
            self.deleted,
            self.converged,
            self.function_evals,
        )
        by_name = dict(zip(self._r_names, fields))
        if name not in by_name:
            raise choice_error("component", name, self._r_names)
        return by_name[name]

    def keys(self) -> tuple[str, ...]:
        """R's names of the components, in R's order."""
        return self._r_names

    def cooks_distance(self) -> pd.Series:
        """lme4's ``cooks.distance(influence(fit, ...))``: for each deleted
        unit, the change in the fixed effects scaled by their covariance
        matrix.  Indexed by ``deleted`` (R names the values only for
        observations, ``groups="case"``)."""
        self._need_coef("cooks_distance()")
        assert self._cooks is not None
        return self._cooks.copy()

    def dfbeta(self, which: DfbetaWhich = "fixed") -> pd.DataFrame:
        """lme4's ``dfbeta(influence, which)``: each refit's fixed effects
        (``"fixed"``) or variance components (``"var.cov"``) minus the fit's."""
        self._need_coef("dfbeta()")
        if which not in DFBETA_WHICH:
            raise choice_error("which", which, DFBETA_WHICH)
        return self._dfbeta[which].copy()

    def dfbetas(self) -> pd.DataFrame:
        """lme4's ``dfbetas(influence)``: ``dfbeta()`` divided by the refits'
        standard errors of the fixed effects."""
        self._need_coef("dfbetas()")
        assert self._dfbetas is not None
        return self._dfbetas.copy()


def influence(
    fit: MerFitLike,
    groups: str | Sequence[str] | None = None,
    maxfun: int = 1000,
    do_coef: bool = True,
) -> Influence:
    """Deletion diagnostics: lme4's ``influence(fit, groups, maxfun, do.coef)``.

    lme4 refits the model once for each level of ``groups`` (each
    observation when ``groups`` is None), leaving that level's rows out,
    starting from the fit's estimates, with at most ``maxfun`` function
    evaluations; ``cooks_distance()`` of the result is R's
    ``cooks.distance(influence(fit, groups))``.

    Parameters
    ----------
    groups
        A column of the model's data (or several: R pastes the values of
        *every* column of the data, as lme4 does, into one label), or None
        for single observations (one refit per row of the data: slow for
        large data).
    maxfun
        The optimizer's limit of function evaluations per refit, which lme4
        passes as ``optCtrl = list(maxfun = maxfun)``: lmer's default
        optimizer (nloptwrap) reads ``maxeval`` instead, so for it, as in R,
        it changes nothing.
    do_coef
        False: no refits, only the hat values (R's ``do.coef = FALSE``).

    The refits run one after the other in this process (lme4's ``ncores``
    would start an R cluster; pylme4's ``workers`` are not offered here).
    Only the columns the model uses are in the data R holds, so ``groups``
    must be one of them.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> inf = fit.influence(groups="Subject")
    >>> inf.cooks_distance().idxmax()
    '309'
    """
    if not isinstance(do_coef, (bool, np.bool_)):
        raise ArgumentTypeError(f"do_coef must be True or False, not {do_coef!r}")
    if isinstance(maxfun, (bool, np.bool_)) or not isinstance(maxfun, (int, np.integer)):
        raise ArgumentTypeError(f"maxfun must be a whole number, not {maxfun!r}")
    if maxfun < 1:
        raise ArgumentError(f"maxfun must be at least 1, not {maxfun}")
    names: list[str] | None = None
    if groups is not None:
        names = [groups] if isinstance(groups, str) else None
        if isinstance(groups, (list, tuple, pd.Index)):
            names = list(groups)
        if not names or not all(isinstance(g, str) for g in names):
            raise ArgumentTypeError(
                f"groups must be a column name or a list of column names, not {groups!r}"
            )
        columns = list(
            r_call("pylme4_data_columns", fit.r_handle, doing="reading the model's data").value
        )
        for g in names:
            if g not in columns:
                raise DataError(
                    f"groups={g!r} is not a column of the model's data"
                    f"{suggestion(g, columns)} (R holds the columns the model uses: "
                    f"{', '.join(columns)})"
                )
    outcome = r_call(
        "pylme4_influence",
        fit.r_handle,
        names,
        float(maxfun),
        bool(do_coef),
        doing="computing influence()",
    )
    emit(outcome.conditions)
    parts = outcome.value
    if not do_coef:
        hat = pd.Series(parts["hat"], index=fit.used_index, name="hat")
        return Influence(None, None, None, None, None, None, None, None, None, None, hat=hat)
    group_name = str(parts["groups"])
    labels = [str(x) for x in parts["deleted"]]
    if group_name == "case":
        # R's row names of the data frame it was given: its row numbers.
        deleted = fit.data_index[np.asarray(labels, dtype=np.int64) - 1]
    else:
        deleted = pd.Index(labels, dtype=object)
    deleted = deleted.rename(group_name)

    def by_deleted(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.set_axis(deleted, axis=0)

    def series(values: Any, name: str) -> pd.Series:
        return pd.Series(np.asarray(values), index=deleted, name=name)

    return Influence(
        groups=group_name,
        deleted=deleted,
        fixed_effects=parts["fixed"],
        fixed_effects_deleted=by_deleted(parts["fixed_del"]),
        var_cov_comps=parts["vc"],
        var_cov_comps_deleted=by_deleted(parts["vc_del"]),
        vcov=parts["vcov"],
        vcov_deleted=dict(zip(deleted, parts["vcov_del"])),
        converged=series(parts["converged"].astype(bool), "converged"),
        function_evals=series(parts["feval"].astype(np.int64), "function.evals"),
        _cooks=series(parts["cooks"], "cooks.distance"),
        _dfbeta={
            "fixed": by_deleted(parts["dfbeta_fixed"]),
            "var.cov": by_deleted(parts["dfbeta_vc"]),
        },
        _dfbetas=by_deleted(parts["dfbetas"]),
        _r_names=tuple(str(n) for n in parts["names"]),
    )


# ---------------------------------------------------------------------------
# rePCA: principal components of the random-effects covariance matrices
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PrComp(formatting.RPrinted):
    """One grouping factor's ``prcomp`` object of lme4's ``rePCA()``: the
    singular values of the relative covariance factor (``sdev``, in units of
    the residual standard deviation) and its left singular vectors.
    ``str()`` is R's ``print(rePCA(fit)$g)``."""

    sdev: np.ndarray
    rotation: pd.DataFrame
    """As R has it: a matrix without dimnames (rows: the factor's terms in
    ``cnms`` order; columns: the components)."""
    center: bool
    scale: bool
    importance: pd.DataFrame
    """``summary()``'s importance table: rows "Standard deviation",
    "Proportion of Variance", "Cumulative Proportion"; one column per component."""
    text: str = field(repr=False)


@dataclass(frozen=True)
class RePCA(formatting.RPrinted, Mapping[str, PrComp]):
    """lme4's ``rePCA(fit)``: one :class:`PrComp` per grouping factor, by name
    (a read-only mapping).  ``str()`` is R's ``print(rePCA(fit))``;
    ``summary_text`` is R's ``print(summary(rePCA(fit)))``."""

    terms: Mapping[str, PrComp]
    text: str = field(repr=False)
    summary_text: str = field(repr=False)

    def __getitem__(self, name: str) -> PrComp:
        if name not in self.terms:
            raise ArgumentLookupError(str(choice_error("grouping factor", name, list(self.terms))))
        return self.terms[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)


def _frozen(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


def re_pca(fit: MerFitLike) -> RePCA:
    """Principal components of the random effects: lme4's ``rePCA(fit)``.

    For each grouping factor, the singular value decomposition of its
    relative covariance factor, as ``prcomp`` pieces: ``sdev`` near 0
    means the model's random-effects covariance is degenerate in that
    direction (a singular fit), so fewer terms would do.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    >>> fit.re_pca()["Subject"].sdev.round(4)
    array([0.9669, 0.2309])
    """
    outcome = r_call("pylme4_re_pca", fit.r_handle, doing="computing rePCA()")
    emit(outcome.conditions)
    parts = outcome.value
    terms = {
        str(name): PrComp(
            sdev=_frozen(part["sdev"]),
            rotation=part["rotation"],
            center=bool(part["center"]),
            scale=bool(part["scale"]),
            importance=part["importance"],
            text=part["text"],
        )
        for name, part in parts["terms"].items()
    }
    return RePCA(terms=terms, text=parts["text"], summary_text=parts["summary_text"])
