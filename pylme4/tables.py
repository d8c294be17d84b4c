"""A regression table for a paper: several mixed models side by side.

:func:`compare_models` puts the fixed effects (estimate and standard error),
the random-effect standard deviations and the fit statistics (observations,
groups, log-likelihood, AIC, BIC) of several fits in one table, as text,
HTML or LaTeX.  Every number is broom.mixed's (``fit.tidy()`` and
``fit.glance()``, :mod:`pylme4.tidying`); only the layout is pylme4's.  No R
package for such tables (texreg, modelsummary, stargazer) is packaged for
Debian, so there is no R printout to reproduce: the cells are the numbers
rounded as R's ``sprintf("%.3f", x)`` rounds them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ArgumentError, ArgumentTypeError, choice_error
from .fitbase import MerFitLike
from .options import DDF_VALUES, Ddf
from .tidying import glance, tidy

#: Significance stars: (threshold, stars), the usual p < 0.001 / 0.01 / 0.05.
STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))

_STATISTICS = (("logLik", "Log likelihood"), ("AIC", "AIC"), ("BIC", "BIC"))


@dataclass(frozen=True, repr=False)
class ModelTable:
    """Models side by side (:func:`compare_models`): the numbers, and the table shown.

    ``str(table)`` and ``repr(table)`` are :meth:`to_text` (what a plain or
    IPython prompt shows, as every printed result shows its table there);
    notebooks show :meth:`to_html`; ``brief()`` is a one-line identity.
    """

    names: tuple[str, ...]
    """The models' column names."""
    estimates: pd.DataFrame
    """Fixed-effect estimates: one row per term (in order of first
    appearance), one column per model; NaN where a model lacks the term."""
    std_errors: pd.DataFrame
    p_values: pd.DataFrame
    """NaN where a model has no p-value (an lmer fit without ``ddf``)."""
    random_sd: pd.DataFrame
    """Random-effect standard deviations, rows "Subject: (Intercept)", ...,
    "Residual" (from tidy's ``sd__`` rows)."""
    statistics: pd.DataFrame
    """Rows "Num. obs.", "Num. groups: <factor>" ..., "Log likelihood",
    "AIC", "BIC" (glance's nobs, logLik, AIC, BIC; REML fits report the REML
    log-likelihood, as R does)."""
    frame: pd.DataFrame = field(repr=False)
    """The table as shown: text cells, "estimate*** (std. error)"."""
    digits: int = 3
    stars: bool = True

    @property
    def _sections(self) -> tuple[int, int, int]:
        return len(self.estimates), len(self.random_sd), len(self.statistics)

    @property
    def _note(self) -> str:
        if not self.stars or self.p_values.isna().all().all():
            return ""
        return "; ".join(f"{s} p < {t}" for t, s in STARS)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return self.to_text()

    def brief(self) -> str:
        """A one-line identity: ``<ModelTable of 2 models: m0, fit>``."""
        return f"<ModelTable of {len(self.names)} models: {', '.join(self.names)}>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_text(self) -> str:
        """The table as fixed-width text, rules between its three parts."""
        labels = [str(i) for i in self.frame.index]
        cols = [[str(v) for v in self.frame[c]] for c in self.frame.columns]
        lw = max([len(s) for s in labels] + [0])
        widths = [max([len(n)] + [len(v) for v in col]) for n, col in zip(self.names, cols)]
        total = lw + sum(w + 2 for w in widths)

        def line(label: str, cells: Sequence[str]) -> str:
            return (
                label.ljust(lw) + "".join("  " + c.rjust(w) for c, w in zip(cells, widths))
            ).rstrip()

        out = ["=" * total, line("", self.names), "-" * total]
        start = 0
        for k, size in enumerate(self._sections):
            if size and start and k:
                out.append("-" * total)
            for i in range(start, start + size):
                out.append(line(labels[i], [col[i] for col in cols]))
            start += size
        out.append("=" * total)
        if self._note:
            out.append(self._note)
        return "\n".join(out)

    def to_html(self) -> str:
        """The table as an HTML ``<table>`` (a ``<tbody>`` per part)."""
        esc = html.escape
        head = "".join(f"<th>{esc(n)}</th>" for n in self.names)
        parts = ['<table class="pylme4-models">', f"<thead><tr><th></th>{head}</tr></thead>"]
        start = 0
        for size in self._sections:
            if not size:
                continue
            parts.append("<tbody>")
            for i in range(start, start + size):
                cells = "".join(f"<td>{esc(str(v))}</td>" for v in self.frame.iloc[i])
                parts.append(f"<tr><th>{esc(str(self.frame.index[i]))}</th>{cells}</tr>")
            parts.append("</tbody>")
            start += size
        if self._note:
            parts.append(
                f'<tfoot><tr><td colspan="{len(self.names) + 1}">{esc(self._note)}</td></tr></tfoot>'
            )
        parts.append("</table>")
        return "\n".join(parts)

    def to_latex(self) -> str:
        """The table as a LaTeX ``tabular`` (booktabs rules: ``\\usepackage{booktabs}``)."""
        n = len(self.names)
        rows = [
            "\\begin{tabular}{l" + " c" * n + "}",
            "\\toprule",
            " & ".join(["", *(_latex(s) for s in self.names)]) + " \\\\",
        ]
        start = 0
        for size in self._sections:
            if not size:
                continue
            rows.append("\\midrule")
            for i in range(start, start + size):
                cells = [_latex_cell(str(v)) for v in self.frame.iloc[i]]
                rows.append(" & ".join([_latex(str(self.frame.index[i])), *cells]) + " \\\\")
            start += size
        rows.append("\\bottomrule")
        if self._note:
            note = "; ".join(f"$^{{{s}}}p<{t}$" for t, s in STARS)
            rows.append(f"\\multicolumn{{{n + 1}}}{{l}}{{\\scriptsize{{{note}}}}}")
        rows.append("\\end{tabular}")
        return "\n".join(rows)


_LATEX_SPECIAL = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
}


def _latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _latex_cell(cell: str) -> str:
    """A cell with its stars as a superscript: ``1.234$^{**}$ (0.456)`` (the
    numbers themselves have no LaTeX special characters)."""
    number, space, rest = cell.partition(" ")
    bare = number.rstrip("*")
    stars = number[len(bare) :]
    return bare + (f"$^{{{stars}}}$" if stars else "") + space + rest


def _stars(p: float) -> str:
    for threshold, stars in STARS:
        if p < threshold:
            return stars
    return ""


def compare_models(
    *fits: MerFitLike,
    names: Sequence[str] | None = None,
    ddf: Ddf | None = None,
    digits: int = 3,
    stars: bool = True,
) -> ModelTable:
    """Several fitted mixed models side by side: a regression table for a paper.

    Parameters
    ----------
    *fits
        lmer and glmer fits, one column each, in this order.
    names
        Column names (default "Model 1", "Model 2", ...).
    ddf
        ``"Satterthwaite"`` or ``"Kenward-Roger"``: the lmer fits' p-values
        (and so their stars) from lmerTest, as ``fit.tidy(ddf=ddf)``; glmer
        fits keep their Wald z p-values.  Without it lmer fits have none.
    digits
        Decimal places of the cells (R's ``sprintf("%.3f")`` for 3).
    stars
        Mark estimates with p < 0.05 / 0.01 / 0.001 by * / ** / ***.

    Returns
    -------
    ModelTable
        ``.estimates``, ``.std_errors``, ``.p_values``, ``.random_sd`` and
        ``.statistics`` (the numbers, from broom.mixed's ``tidy()`` and
        ``glance()``), ``.frame`` (the text cells), and ``.to_text()``,
        ``.to_html()``, ``.to_latex()``.

    Examples
    --------
    >>> import pylme4
    >>> sleep = pylme4.datasets.load("sleepstudy")
    >>> m1 = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
    >>> m2 = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep)
    >>> table = pylme4.compare_models(m1, m2, names=["Intercepts", "Slopes"])
    >>> table.frame.loc["Days", "Slopes"]
    '10.467 (1.546)'
    """
    if not fits:
        raise ArgumentError("compare_models() needs at least one fit")
    for i, fit in enumerate(fits, 1):
        if not isinstance(fit, MerFitLike):
            raise ArgumentTypeError(
                f"compare_models() takes lmer and glmer fits; fit {i} is a {type(fit).__name__}"
            )
    labels = _names(names, len(fits))
    if ddf is not None and ddf not in DDF_VALUES:
        raise choice_error("ddf", ddf, (None, *DDF_VALUES))
    if (
        isinstance(digits, bool)
        or not isinstance(digits, (int, np.integer))
        or not 0 <= digits <= 15
    ):
        raise ArgumentError(f"digits must be a whole number from 0 to 15, not {digits!r}")
    if not isinstance(stars, (bool, np.bool_)):
        raise ArgumentTypeError(f"stars must be True or False, not {stars!r}")
    fixed: dict[str, pd.DataFrame] = {}
    random: dict[str, pd.Series] = {}
    stats: dict[str, pd.Series] = {}
    for label, fit in zip(labels, fits):
        table = tidy(fit, ddf=ddf if hasattr(fit, "lmertest_handle") else None)
        rows = table[table["effect"] == "fixed"].set_index("term")
        fixed[label] = rows.reindex(columns=["estimate", "std_error", "p_value"])
        sds = table[(table["effect"] == "ran_pars") & table["term"].str.startswith("sd__")]
        random[label] = pd.Series(
            sds["estimate"].to_numpy(),
            index=[
                "Residual" if g == "Residual" else f"{g}: {t[4:]}"
                for g, t in zip(sds["group"], sds["term"])
            ],
        )
        g = glance(fit).iloc[0]
        stats[label] = pd.Series(
            {
                "Num. obs.": g["nobs"],
                **{f"Num. groups: {k}": v for k, v in fit.ngroups.items()},
                **{shown: g[col] for col, shown in _STATISTICS},
            }
        )
    estimates = _side_by_side({k: v["estimate"] for k, v in fixed.items()})
    std_errors = _side_by_side({k: v["std_error"] for k, v in fixed.items()})
    p_values = _side_by_side({k: v["p_value"] for k, v in fixed.items()})
    random_sd = _side_by_side(random, last=["Residual"])
    statistics = _side_by_side(stats, last=[shown for _, shown in _STATISTICS])
    frame = pd.concat(
        [
            _cells(estimates, std_errors, p_values if stars else None, digits),
            random_sd.apply(
                lambda col: col.map(lambda x: "" if np.isnan(x) else f"{x:.{digits}f}")
            ),
            _stat_cells(statistics, digits),
        ]
    )
    return ModelTable(
        names=labels,
        estimates=estimates,
        std_errors=std_errors,
        p_values=p_values,
        random_sd=random_sd,
        statistics=statistics,
        frame=frame,
        digits=int(digits),
        stars=bool(stars),
    )


def _names(names: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"Model {i}" for i in range(1, n + 1))
    if isinstance(names, str) or not all(isinstance(x, str) for x in names):
        raise ArgumentTypeError(f"names must be a sequence of strings, not {names!r}")
    labels = tuple(names)
    if len(labels) != n:
        raise ArgumentError(
            f"names must give one name per fit: {_count(len(labels), 'name')} "
            f"for {_count(n, 'fit')}"
        )
    if len(set(labels)) != n:
        raise ArgumentError(f"names must be different from each other, not {list(labels)!r}")
    return labels


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _side_by_side(columns: dict[str, pd.Series], last: Sequence[str] = ()) -> pd.DataFrame:
    """Columns joined on their row names, rows in order of first appearance
    (``last`` rows at the end, in that order)."""
    order: list[str] = []
    for values in columns.values():
        order += [str(i) for i in values.index if str(i) not in order and str(i) not in last]
    order += [r for r in last if any(r in v.index for v in columns.values())]
    out = pd.DataFrame({k: v.astype(float).reindex(order) for k, v in columns.items()})
    out.index = pd.Index(order, dtype=object)
    return out


def _cells(
    est: pd.DataFrame, se: pd.DataFrame, p: pd.DataFrame | None, digits: int
) -> pd.DataFrame:
    def cell(row: str, col: str) -> str:
        e, s = est.at[row, col], se.at[row, col]
        if np.isnan(e):
            return ""
        mark = "" if p is None or np.isnan(p.at[row, col]) else _stars(p.at[row, col])
        return f"{e:.{digits}f}{mark} ({s:.{digits}f})"

    return pd.DataFrame(
        [[cell(r, c) for c in est.columns] for r in est.index], index=est.index, columns=est.columns
    )


def _stat_cells(stats: pd.DataFrame, digits: int) -> pd.DataFrame:
    def cell(row: str, x: float) -> str:
        if np.isnan(x):
            return ""
        return f"{int(x)}" if row.startswith("Num.") else f"{x:.{digits}f}"

    return pd.DataFrame(
        [[cell(str(r), x) for x in stats.loc[r]] for r in stats.index],
        index=stats.index,
        columns=stats.columns,
    )
