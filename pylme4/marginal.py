"""Estimated marginal means, trends and their contrasts: R's **emmeans**.

``fit.emmeans(specs, ...)`` is ``emmeans(fit, specs, ...)`` and
``fit.emtrends(specs, var=...)`` is ``emtrends(fit, specs, var = ...)``.
They return an :class:`EmmGrid`, which keeps emmeans' ``emmGrid`` object in
R, so that ``.contrast()``, ``.pairs()``, ``.confint()`` and ``.test()`` run
emmeans itself on it: every number and every printed line is emmeans'.

Tables: ``.r_frame`` is R's ``as.data.frame(summary(x))`` with R's column
names; ``.frame`` is the same table with the statistics' names in snake_case
(``.`` -> ``_``, lower case: ``SE`` -> ``se``, ``lower.CL`` -> ``lower_cl``,
``t.ratio`` -> ``t_ratio``, ``p.value`` -> ``p_value``, ``odds.ratio`` ->
``odds_ratio``; a trend's ``Days.trend`` -> ``Days_trend``), as pylme4's
``tidy()`` writes broom's ``p.value`` as ``p_value``.  The grid's variables
(``recipe``, ``contrast``, by variables) keep their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import checks, formatting
from ._r.call import r_call, serialize, unserialize
from ._r.convert import RHandle
from .errors import (
    ArgumentError,
    ArgumentLookupError,
    ArgumentTypeError,
    RCondition,
    choice_error,
    emit,
)
from .fitbase import MerFitLike
from .options import (
    ALTERNATIVES,
    CONTRAST_METHODS,
    EMM_ADJUSTS,
    EMM_TYPES,
    EMM_WEIGHTS,
    LMER_DF_VALUES,
    Alternative,
    ContrastMethod,
    EmmAdjust,
    EmmType,
    EmmWeights,
    LmerDf,
)

if TYPE_CHECKING:
    from ._r.call import ROutcome


class _GridBy:
    """The default of ``by=`` in an emmGrid's methods: the grid's own ``by``
    variables, as R's default (``by=None`` is R's ``by = NULL``: no groups)."""

    def __repr__(self) -> str:
        return "<the grid's by>"


GRID_BY: Any = _GridBy()


def _snake(column: str, variables: Sequence[str], estimate: str) -> str:
    if column in variables:
        return column
    if column == estimate and column.endswith(".trend"):
        return column[: -len(".trend")] + "_trend"
    return column.replace(".", "_").lower()


@dataclass(frozen=True, eq=False)
class EmmTable(formatting.RPrinted):
    """An emmeans summary table (``summary_emm``): ``confint()``, ``test()``.

    ``str(table)`` is exactly R's ``print()`` of it, the notes under the
    table included.
    """

    r_frame: pd.DataFrame
    """R's ``as.data.frame(summary(x))``, with R's column names."""
    notes: tuple[str, ...]
    """The lines R prints under the table ("Degrees-of-freedom method: ...",
    "P value adjustment: ...", "Confidence level used: 0.95")."""
    estimate_name: str
    """R's name of the estimate column: "emmean", "prob", "Days.trend",
    "estimate", "odds.ratio", ... ("F.ratio" for a joint test)."""
    variables: tuple[str, ...]
    """The grid's variables (columns that are not statistics)."""
    messages: tuple[RCondition, ...]
    """What R said while computing it (e.g. emmeans' "NOTE: Results may be
    misleading due to involvement in interactions"), also raised as warnings."""
    text: str = field(repr=False)

    @property
    def frame(self) -> pd.DataFrame:
        """The table with the statistics' names in snake_case (module docstring)."""
        return self.r_frame.rename(
            columns=lambda c: _snake(str(c), self.variables, self.estimate_name)
        )

    def __getitem__(self, key: Any) -> Any:
        return self.frame[key]

    def __len__(self) -> int:
        return len(self.r_frame)

    def brief(self) -> str:
        return f"<{type(self).__name__} {self.estimate_name}: {len(self)} rows>"


def _table_fields(parts: Mapping[str, Any], variables: Sequence[str]) -> dict[str, Any]:
    frame: pd.DataFrame = parts["frame"]
    return {
        "r_frame": frame.reset_index(drop=True),
        "notes": tuple(str(n) for n in parts["notes"]),
        "estimate_name": str(parts["est_name"]),
        "variables": tuple(variables),
        "text": str(parts["text"]),
    }


def _table(outcome: ROutcome, variables: Sequence[str]) -> EmmTable:
    emit(outcome.conditions)
    return EmmTable(messages=outcome.conditions, **_table_fields(outcome.value, variables))


def _names(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ArgumentTypeError(f"{what} must be a variable name or a list of them, not {value!r}")


def _by(by: Any) -> tuple[bool, list[str] | None]:
    """(keep the grid's by, the by variables to pass otherwise)."""
    if by is GRID_BY:
        return True, None
    return False, _names(by, "by")


def _adjust(adjust: Any) -> str | None:
    if adjust is not None and adjust not in EMM_ADJUSTS:
        raise choice_error("adjust", adjust, EMM_ADJUSTS)
    return adjust


def _check_by_names(by: list[str] | None, variables: Sequence[str]) -> None:
    unknown = [b for b in by or () if b not in variables]
    if unknown:
        raise ArgumentLookupError(
            f"by names {', '.join(map(repr, unknown))}, which "
            f"{'is not a variable' if len(unknown) == 1 else 'are not variables'} of the grid "
            f"(its variables: {', '.join(map(repr, variables))})"
        )


@dataclass(frozen=True, eq=False)
class EmmGrid(EmmTable):
    """Estimated marginal means (or trends, or contrasts): emmeans' ``emmGrid``.

    The table is R's ``summary()`` of the grid (``r_frame`` / ``frame``);
    ``str(grid)`` is exactly R's ``print(grid)``.  The emmGrid object stays
    in R: ``contrast()``, ``pairs()``, ``confint()`` and ``test()`` run
    emmeans on it.  Pickles through R's ``serialize()``, as fits do.
    """

    by: tuple[str, ...]
    """The grid's by variables (R's ``misc$by.vars``): summaries, contrasts
    and adjustments are made within each of their groups."""
    handle: RHandle = field(repr=False)
    """The emmGrid object in R (for pylme4's R helpers)."""

    def brief(self) -> str:
        by = f" | {', '.join(self.by)}" if self.by else ""
        return f"<EmmGrid {self.estimate_name} ~ {', '.join(self.variables)}{by}: {len(self)} rows>"

    def __reduce__(self) -> Any:
        fields = {
            "r_frame": self.r_frame,
            "notes": self.notes,
            "estimate_name": self.estimate_name,
            "variables": self.variables,
            "messages": self.messages,
            "text": self.text,
            "by": self.by,
        }
        return (_restore_grid, (serialize(self.handle), fields))

    # -- emmeans' methods on the grid ------------------------------------

    def contrast(
        self,
        method: ContrastMethod | Mapping[str, Sequence[float]] = "eff",
        adjust: EmmAdjust | None = None,
        by: str | Sequence[str] | None = GRID_BY,
        ref: str | Sequence[str] | None = None,
    ) -> EmmGrid:
        """Contrasts of the grid's estimates: ``contrast(grid, method, adjust=, by=)``.

        Parameters
        ----------
        method
            A named family (``"pairwise"``, ``"revpairwise"``, ``"trt.vs.ctrl"``,
            ``"poly"``, ``"consec"``, ``"eff"`` (R's default), ``"del.eff"``,
            ...; ``pylme4.options.CONTRAST_METHODS``), or custom contrasts:
            a dict ``{name: weights}`` with one weight per row of the grid
            (per ``by`` group), as R's ``list(name = c(...))``.
        adjust
            The P-value adjustment (``"tukey"``, ``"holm"``, ``"bonferroni"``,
            ``"none"``, ...; ``pylme4.options.EMM_ADJUSTS``); None: the
            method's default (Tukey for pairwise, dunnettx for trt.vs.ctrl, ...).
        by
            The grid's by variables (the default), other variables of the
            grid, or None for contrasts across the whole grid (R's ``by = NULL``).
        ref
            The control level(s) of ``"trt.vs.ctrl"`` (labels; R's ``ref``).
        """
        weights: dict[str, list[float]] | None = None
        if isinstance(method, Mapping):
            weights = self._custom(method, by)
            name: str | None = "custom"
        elif method in CONTRAST_METHODS:
            name = method
        else:
            raise choice_error("method", method, CONTRAST_METHODS)
        refs = _names(ref, "ref")
        if refs is not None:
            if weights is not None or not str(name).startswith(("trt.vs.ctrl", "dunnett")):
                raise ArgumentError(
                    "ref (the control level) applies to the trt.vs.ctrl methods only"
                )
            labels = self._levels()
            unknown = [r for r in refs if labels is not None and r not in labels]
            if unknown and labels is not None:
                raise ArgumentLookupError(
                    f"ref names {', '.join(map(repr, unknown))}, which is not a level of the "
                    f"grid (its levels: {', '.join(map(repr, labels))})"
                )
        return self._contrast(name, weights, adjust, by, False, refs)

    def pairs(
        self,
        adjust: EmmAdjust | None = None,
        by: str | Sequence[str] | None = GRID_BY,
        reverse: bool = False,
    ) -> EmmGrid:
        """Pairwise comparisons: ``pairs(grid, adjust=, by=, reverse=)`` (Tukey by default)."""
        if not isinstance(reverse, (bool, np.bool_)):
            raise ArgumentTypeError(f"reverse must be True or False, not {reverse!r}")
        return self._contrast(None, None, adjust, by, bool(reverse), None)

    def confint(
        self,
        level: float = 0.95,
        adjust: EmmAdjust | None = None,
        by: str | Sequence[str] | None = GRID_BY,
    ) -> EmmTable:
        """Confidence intervals: ``confint(grid, level=, adjust=, by=)``."""
        keep, names = _by(by)
        _check_by_names(names, self.variables)
        outcome = r_call(
            "pylme4_emm_confint",
            self.handle,
            checks.level(level),
            _adjust(adjust),
            keep,
            names,
            doing="computing emmeans' confint()",
        )
        return _table(outcome, self.variables)

    def test(
        self,
        null: float = 0,
        side: Alternative = "two-sided",
        joint: bool = False,
        adjust: EmmAdjust | None = None,
        by: str | Sequence[str] | None = GRID_BY,
    ) -> EmmTable:
        """Tests of each estimate against ``null``: ``test(grid, null=, side=, joint=, adjust=)``.

        ``side`` is the alternative: ``"two-sided"``, ``"greater"`` (R's
        ``side = ">"``) or ``"less"``.  ``joint=True`` gives one F test of
        all estimates (per ``by`` group).  On the response scale (``type=
        "response"``) ``null`` is on the response scale too, as in R.
        """
        if side not in ALTERNATIVES:
            raise choice_error("side", side, ALTERNATIVES)
        if not isinstance(joint, (bool, np.bool_)):
            raise ArgumentTypeError(f"joint must be True or False, not {joint!r}")
        if isinstance(null, bool) or not isinstance(null, (int, float, np.integer, np.floating)):
            raise ArgumentTypeError(f"null must be a number, not {null!r}")
        keep, names = _by(by)
        _check_by_names(names, self.variables)
        outcome = r_call(
            "pylme4_emm_test",
            self.handle,
            float(null),
            {"two-sided": 0, "greater": 1, "less": -1}[side],
            bool(joint),
            _adjust(adjust),
            keep,
            names,
            doing="computing emmeans' test()",
        )
        return _table(outcome, self.variables)

    # -- helpers ------------------------------------------------------------

    def _levels(self) -> list[str] | None:
        """The labels of the grid's one primary variable (None when there are
        several: emmeans then labels combinations, and checks ``ref`` itself)."""
        primary = [v for v in self.variables if v not in self.by]
        if len(primary) != 1:
            return None
        return [str(x) for x in pd.unique(self.r_frame[primary[0]].astype(str))]

    def _custom(self, method: Mapping[str, Any], by: Any) -> dict[str, list[float]]:
        if not method:
            raise ArgumentError("method: a dict of custom contrasts needs at least one contrast")
        keep, names = _by(by)
        groups = self.by if keep else tuple(names or ())
        rows = len(self.r_frame)
        per_group = (
            rows // max(1, len(self.r_frame.groupby(list(groups), observed=True)))
            if groups
            else rows
        )
        weights = {}
        for key, values in method.items():
            if not isinstance(key, str):
                raise ArgumentTypeError(
                    f"method: custom contrast names must be strings, not {key!r}"
                )
            try:
                array = np.asarray(values, dtype=float)
            except (TypeError, ValueError):
                raise ArgumentTypeError(
                    f"method[{key!r}] must be a list of numbers, not {values!r}"
                ) from None
            if not np.isfinite(array).all():
                raise ArgumentError(f"method[{key!r}] has weights that are not finite numbers")
            if array.ndim != 1 or len(array) != per_group:
                raise ArgumentError(
                    f"method[{key!r}] has {array.size} weights; it needs one per row of the grid"
                    + (" in each by group" if groups else "")
                    + f" ({per_group})"
                )
            weights[key] = [float(x) for x in array]
        return weights

    def _contrast(
        self,
        method: str | None,
        weights: dict[str, list[float]] | None,
        adjust: Any,
        by: Any,
        reverse: bool,
        ref: list[str] | None,
    ) -> EmmGrid:
        keep, names = _by(by)
        _check_by_names(names, self.variables)
        outcome = r_call(
            "pylme4_emm_contrast",
            self.handle,
            method,
            weights,
            _adjust(adjust),
            keep,
            names,
            reverse,
            ref,
            doing="computing emmeans' " + ("pairs()" if method is None else "contrast()"),
            keep=("grid", "contrasts"),
        )
        result = _result(outcome)
        assert isinstance(result, EmmGrid)
        return result


@dataclass(frozen=True, eq=False)
class EmmList(formatting.RPrinted):
    """What ``emmeans(fit, contrast ~ specs)`` gives (R's ``emm_list``): the
    marginal means and their contrasts; ``str()`` is R's printout of both."""

    emmeans: EmmGrid
    """The marginal means (R's ``$emmeans``)."""
    contrasts: EmmGrid
    """Their contrasts (R's ``$contrasts``)."""
    names: tuple[str, ...]
    messages: tuple[RCondition, ...]
    text: str = field(repr=False)

    def __getitem__(self, key: str | int) -> EmmGrid:
        items = (self.emmeans, self.contrasts)
        if isinstance(key, int) and not isinstance(key, bool) and -2 <= key < 2:
            return items[key]
        if key in self.names:
            return items[self.names.index(str(key))]
        raise ArgumentLookupError(
            f"no {key!r} here (there are: {', '.join(map(repr, self.names))})"
        )

    def brief(self) -> str:
        return f"<EmmList {', '.join(self.names)}>"


def _grid(handle: RHandle, parts: Mapping[str, Any], messages: tuple[RCondition, ...]) -> EmmGrid:
    variables = [str(v) for v in parts["variables"]]
    return EmmGrid(
        messages=messages,
        by=tuple(str(b) for b in parts["by"]),
        handle=handle,
        **_table_fields(parts, variables),
    )


def _result(outcome: ROutcome) -> EmmGrid | EmmList:
    value = outcome.value
    emit(outcome.conditions)
    grid = _grid(value["grid"], value["parts"], outcome.conditions)
    if value["contrasts"] is None:
        return grid
    return EmmList(
        emmeans=grid,
        contrasts=_grid(value["contrasts"], value["contrast_parts"], outcome.conditions),
        names=tuple(str(n) for n in value["names"]),
        messages=outcome.conditions,
        text=str(value["text"]),
    )


def _restore_grid(payload: bytes, fields: dict[str, Any]) -> EmmGrid:
    return EmmGrid(handle=unserialize(payload), **fields)


# ---------------------------------------------------------------------------
# emmeans() and emtrends()
# ---------------------------------------------------------------------------

_FORMULA_SIGNS = ("~", "|", "*", "+", ":")


def _specs(specs: Any) -> tuple[str | list[str], bool]:
    """(specs for R, whether it is a formula's text)."""
    if isinstance(specs, str):
        text = specs.strip()
        if not text:
            raise ArgumentError("specs must name the variables of the means, not ''")
        if "~" in text:
            method = text.split("~", 1)[0].strip()
            if method and method not in CONTRAST_METHODS:
                raise choice_error("the contrast method in specs", method, CONTRAST_METHODS)
            return text, True
        if text == "1" or any(sign in text for sign in _FORMULA_SIGNS):
            return f"~ {text}", True
        return text, False
    if (
        isinstance(specs, (list, tuple))
        and specs
        and all(isinstance(s, str) and s.strip() for s in specs)
    ):
        return [s.strip() for s in specs], False
    raise ArgumentTypeError(
        "specs must be a variable name ('recipe'), names with a by ('recipe | temperature'), "
        f"a formula ('pairwise ~ recipe') or a list of names, not {specs!r}"
    )


def _at(at: Any) -> dict[str, Any] | None:
    if at is None:
        return None
    if not isinstance(at, Mapping):
        raise ArgumentTypeError(
            f"at must be a dict {{variable: value(s)}}, not a {type(at).__name__}"
        )
    out: dict[str, Any] = {}
    for name, values in at.items():
        if not isinstance(name, str):
            raise ArgumentTypeError(f"at's keys must be variable names, not {name!r}")
        items = (
            list(values) if isinstance(values, (list, tuple, np.ndarray, pd.Series)) else [values]
        )
        if not items:
            raise ArgumentError(f"at[{name!r}] is empty")
        if all(isinstance(v, str) for v in items):
            out[name] = [str(v) for v in items]
        elif all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in items
        ):
            out[name] = np.asarray(items, dtype=float)
        else:
            raise ArgumentTypeError(
                f"at[{name!r}] must be numbers or level labels (strings), not {values!r}"
            )
    return out


def _is_lmer(fit: Any) -> bool:
    return callable(getattr(fit, "lmertest_handle", None))


def _problem(problem: Mapping[str, Any]) -> ArgumentLookupError:
    argument, kind = str(problem["argument"]), str(problem["kind"])
    unknown = [str(u) for u in problem["unknown"]]
    names = ", ".join(map(repr, unknown))
    listed = ", ".join(map(repr, (str(v) for v in problem["variables"]))) or "none"
    one = len(unknown) == 1
    if kind == "level":
        variable = str(problem["variable"])
        return ArgumentLookupError(
            f"at[{variable!r}] has {names}, which {'is not a level' if one else 'are not levels'}"
            f" of the factor {variable!r} (its levels: {listed})"
        )
    if kind == "type":
        return ArgumentLookupError(
            f"var names {names}, a factor: emtrends estimates slopes of a numeric predictor"
        )
    return ArgumentLookupError(
        f"{argument} names {names}, which {'is not a predictor' if one else 'are not predictors'}"
        f" of the model's fixed effects (its predictors: {listed})"
    )


def _run(
    fit: MerFitLike,
    specs: Any,
    by: Any,
    at: Any,
    type: Any,
    lmer_df: Any,
    level: Any,
    weights: Any,
    var: str | None,
) -> EmmGrid | EmmList:
    if not isinstance(fit, MerFitLike):
        raise ArgumentTypeError(
            "emmeans works on fitted mixed models (lmer/glmer fits), not a "
            f"{fit.__class__.__name__}"
        )
    r_specs, is_formula = _specs(specs)
    by_names = _names(by, "by")
    if type is not None and type not in EMM_TYPES:
        raise choice_error("type", type, EMM_TYPES)
    if weights is not None and weights not in EMM_WEIGHTS:
        raise choice_error("weights", weights, EMM_WEIGHTS)
    from ._r import session

    session.require_namespace("emmeans")
    lmer = _is_lmer(fit)
    if lmer_df is not None:
        if lmer_df not in LMER_DF_VALUES:
            raise choice_error("lmer_df", lmer_df, LMER_DF_VALUES)
        if not lmer:
            raise ArgumentError(
                "lmer_df applies to linear mixed models (lmer fits); a glmer fit's "
                "tests are asymptotic (z)"
            )
    elif lmer:
        lmer_df = LMER_DF_VALUES[0]  # emmeans' default, written out so it is the same anywhere
    if lmer_df == "kenward-roger":
        session.require_namespace("pbkrtest")
    outcome = r_call(
        "pylme4_emmeans",
        fit.r_handle,
        r_specs,
        is_formula,
        by_names,
        _at(at),
        type,
        lmer_df,
        checks.level(level),
        weights,
        var,
        doing="computing emtrends()" if var is not None else "computing emmeans()",
        keep=("grid", "contrasts"),
    )
    if outcome.value.get("problem") is not None:
        raise _problem(outcome.value["problem"])
    return _result(outcome)


def emmeans(
    fit: MerFitLike,
    specs: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    at: Mapping[str, Any] | None = None,
    type: EmmType | None = None,
    lmer_df: LmerDf | None = None,
    level: float = 0.95,
    weights: EmmWeights | None = None,
) -> EmmGrid | EmmList:
    """Estimated marginal means: emmeans' ``emmeans(fit, specs, by=, at=, type=, lmer.df=)``.

    Parameters
    ----------
    specs
        What to estimate means of, as in emmeans: a variable name
        (``"recipe"``), names with a by (``"recipe | temperature"``, or
        ``~ recipe | temperature``), several names (``["recipe",
        "temperature"]`` or ``"recipe * temperature"``: one mean per
        combination), ``"1"`` for the overall mean, or a formula with a
        contrast method on the left (``"pairwise ~ recipe"``), which gives an
        :class:`EmmList` of the means and their contrasts.
    by
        Variables whose levels group the means (as ``| by`` in ``specs``).
    at
        Values of predictors for the reference grid: ``{"temp": [180, 200]}``
        (covariates are otherwise held at their mean), or a subset of a
        factor's levels.
    type
        ``"response"`` back-transforms from the link (a glmer's
        probabilities, the column is then "prob", "rate", ... as R names
        it) or from a transformed response such as ``log(y)``; the default
        is the link scale.
    lmer_df
        Degrees of freedom for an lmer fit: ``"kenward-roger"`` (emmeans'
        default), ``"satterthwaite"`` or ``"asymptotic"`` (z, no df).  Not
        for glmer fits.  emmeans turns them off (with a message) above 3000
        observations, as in R.
    level
        Confidence level of the intervals.
    weights
        How to average over the other factors (emmeans' ``weights``):
        ``"equal"`` (the default), ``"proportional"``, ``"outer"``,
        ``"cells"``, ``"flat"``.

    Returns
    -------
    EmmGrid
        ``.frame`` the table, ``str()`` R's printout; ``.contrast()``,
        ``.pairs()``, ``.confint()``, ``.test()``.  R's messages (e.g.
        "NOTE: Results may be misleading due to involvement in
        interactions") are kept in ``.messages`` and raised as
        :class:`~pylme4.errors.RMessage` warnings.
    """
    return _run(fit, specs, by, at, type, lmer_df, level, weights, None)


def emtrends(
    fit: MerFitLike,
    specs: str | Sequence[str],
    var: str,
    by: str | Sequence[str] | None = None,
    at: Mapping[str, Any] | None = None,
    type: EmmType | None = None,
    lmer_df: LmerDf | None = None,
    level: float = 0.95,
) -> EmmGrid | EmmList:
    """Estimated marginal trends (slopes) of a numeric predictor:
    emmeans' ``emtrends(fit, specs, var = var, ...)``.

    ``var`` names the numeric predictor whose slope is estimated (for each
    level of ``specs``; ``specs="1"`` for one overall slope), or a
    transformation of it (``"log(temp)"``: the slope against log(temp)); the estimate
    column is R's ``"<var>.trend"`` (``"<var>_trend"`` in ``.frame``).  The
    other arguments are :func:`emmeans`'.
    """
    if not isinstance(var, str) or not var.strip():
        raise ArgumentTypeError(f"var must name a numeric predictor, not {var!r}")
    return _run(fit, specs, by, at, type, lmer_df, level, None, var.strip())
