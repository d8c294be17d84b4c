"""The outputs of a pipeline, one row each: what asks for it, how it is obtained, what it writes.

Each :class:`Output` in :data:`OUTPUTS` is one thing ``pylme4 run`` writes
for a model: the key of the model's spec that asks for it (None: every
model), how its result is obtained from the fit (``obtain``), the files made
from that result (a :class:`Text` of R's printout, a :class:`Table` per CSV
of its numbers, each with a line saying what it holds), the values it adds
to results.json (``records``), and, for the exported R script, the
arguments of its R writer ``pylme4_write_<key>`` (``pylme4/_r/R/script.R``,
which writes the same files) and the R packages that writer needs.

One generic writer, :meth:`Output.produce`, makes every row's files: ``run``
writes them, ``verify`` and the results folder's manifest know the files
from the rows, ``export-r`` calls their R writers, and the layout in the
docs is made from them (:func:`layout`).

A new output is a row in :data:`OUTPUTS` and its R writer in script.R; a
function of its own (below the helpers) only where obtaining the result
takes more than one call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, ArgumentTypeError
from .spec import CompareSpec, ModelSpec

Progress = Callable[[str], None]


@dataclass
class Produced:
    """What an output made: files' texts, tables (written as ``<name>.csv``) and
    further entries for the model's part of results.json."""

    texts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ask:
    """What a row's ``obtain`` (and ``say``) is given."""

    fit: Any
    model: ModelSpec
    spec: Any
    """The model's value of the row's key (``model.boot``: a BootSpec, ...); None for
    the outputs of every model."""
    progress: Progress | None

    @property
    def shown(self) -> bool:
        """Whether progress is shown (long computations then report their own)."""
        return self.progress is not None

    def say(self, text: str) -> None:
        """A progress line, indented under the model's."""
        if self.progress is not None:
            self.progress(f"    {text}")


def _printout(result: Any) -> str:
    return str(result.text)


@dataclass(frozen=True)
class Text:
    """A text file of an output: R's printout of the result (by default its ``text``)."""

    name: str
    about: str
    make: Callable[[Any], str] = _printout


@dataclass(frozen=True)
class Table:
    """A CSV file of an output: the table ``make`` lays out from the result."""

    name: str
    about: str
    make: Callable[[Any], pd.DataFrame]


@dataclass(frozen=True)
class Output:
    """One output of a model (see the module's docstring)."""

    key: str | None
    """The ``ModelSpec`` field that asks for it; None for the outputs of every model."""
    obtain: Callable[[Ask], Any]
    """Compute the output's result with pylme4 (one R result, or one the files share)."""
    files: tuple[Text | Table, ...]
    """The files made from the result, in the model's folder, in the order written."""
    records: Callable[[Any], Mapping[str, Any]] | None = None
    """Values from the result for the model's entry in results.json (besides the tables)."""
    say: str | Callable[[Ask], str] | None = "{key} of {model}"
    """The progress line before ``obtain``: a template (``{key}``, ``{model}``: the
    model's name, ``{spec}``), a function, or None (``obtain`` says its own)."""
    r_args: Callable[[ModelSpec], Mapping[str, Any]] | None = None
    """The R writer's arguments after ``(fit, name)``; a None value is left out (NULL
    in R).  Default: every field of the model's sub-spec of ``key``, by name."""
    r_packages: tuple[str, ...] | Callable[[ModelSpec], tuple[str, ...]] = ()
    """The R packages (besides lme4) the R writer needs, or a function of the model
    that says which."""

    def wanted(self, model: ModelSpec) -> bool:
        """Whether ``model`` asks for this output."""
        return self.key is None or getattr(model, self.key) not in (None, False)

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(file.name for file in self.files)

    @property
    def r_writer(self) -> str:
        """The function of ``_r/R/script.R`` that writes the files in the exported script."""
        return f"pylme4_write_{self.key or 'model'}"

    def r_needs(self, model: ModelSpec) -> tuple[str, ...]:
        """The R packages (besides lme4) the R writer needs for ``model``."""
        return self.r_packages if isinstance(self.r_packages, tuple) else self.r_packages(model)

    def r_arguments(self, model: ModelSpec) -> Mapping[str, Any]:
        """The arguments of :attr:`r_writer` after ``(fit, name)`` for ``model``."""
        if self.r_args is not None:
            return self.r_args(model)
        value = None if self.key is None else getattr(model, self.key)
        return asdict(value) if is_dataclass(value) and not isinstance(value, type) else {}

    def produce(self, fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
        """The generic writer: obtain the result, then make each file and the records from it."""
        ask = Ask(fit, model, None if self.key is None else getattr(model, self.key), progress)
        if isinstance(self.say, str):
            ask.say(self.say.format(key=self.key, model=model.name, spec=ask.spec))
        elif self.say is not None:
            ask.say(self.say(ask))
        result = self.obtain(ask)
        made = Produced()
        for file in self.files:
            if isinstance(file, Text):
                made.texts[file.name] = file.make(result)
            else:
                made.tables[file.name.removesuffix(".csv")] = file.make(result)
        if self.records is not None:
            made.entry.update(self.records(result))
        return made


# ---------------------------------------------------------------------------
# Tables as results.json holds them
# ---------------------------------------------------------------------------


def table_json(frame: pd.DataFrame) -> dict[str, Any]:
    """A table as {"columns": [...], "data": [[...], ...]}, missing values as null."""
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return {"columns": [str(c) for c in frame.columns], "data": plain(values)}


def plain(value: Any) -> Any:
    """Python values JSON can hold exactly: numpy scalars unwrapped, NaN/Inf as null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


# ---------------------------------------------------------------------------
# Tables laid out from results
# ---------------------------------------------------------------------------


def index_column(frame: pd.DataFrame, first: str) -> pd.DataFrame:
    """A frame whose row names matter, with them as its first column, named ``first``."""
    return frame.rename_axis(first).reset_index()


def rows_table(table: Any, first: str) -> pd.DataFrame:
    """An R table whose row names matter (anova, ls_means) with them as column ``first``."""
    return index_column(table.table, first)


def _by_term(table: Any) -> pd.DataFrame:
    return rows_table(table, "term")


def _statistics(result: Any, *names: str) -> pd.DataFrame:
    """Named numbers of a result as rows: statistic, value."""
    return pd.DataFrame({"statistic": list(names), "value": [getattr(result, n) for n in names]})


def ranef_long(ranef: Any) -> pd.DataFrame:
    """``fit.ranef()`` (a ``results.Ranef`` with ``condsd``) laid out as R's
    ``as.data.frame(ranef(fit, condVar = TRUE))``.

    One row per (grouping factor, term, level): grpvar, term, grp, condval,
    condsd; terms vary slowest within a grouping factor, as in R.
    """
    parts = []
    for grpvar, frame in ranef.items():
        levels = [str(x) for x in frame.index]
        for term in frame.columns:
            parts.append(
                pd.DataFrame(
                    {
                        "grpvar": grpvar,
                        "term": term,
                        "grp": levels,
                        "condval": frame[term].to_numpy(dtype=float),
                        "condsd": ranef.condsd[grpvar][term].to_numpy(dtype=float),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def fit_stats(fit: Any) -> pd.DataFrame:
    """Model-level numbers: statistic, value (the rows the R script writes too)."""
    # Counts stay integers (written "60", not "60.0"); the column is mixed.
    rows: list[tuple[str, int | float]] = [("nobs", int(fit.nobs))]
    rows += [(f"ngroups:{g}", int(n)) for g, n in fit.ngroups.items()]
    rows += [
        ("sigma", fit.sigma),
        ("logLik", fit.loglik),
        ("AIC", fit.aic),
        ("BIC", fit.bic),
        ("deviance", fit.deviance),
    ]
    if getattr(fit, "reml_criterion", None) is not None:
        rows.append(("REMLcrit", fit.reml_criterion))
    rows += [(f"theta:{i + 1}", float(t)) for i, t in enumerate(fit.theta)]
    if getattr(fit, "nb_theta", None) is not None:
        rows.append(("nb_theta", fit.nb_theta))
    return pd.DataFrame(rows, columns=["statistic", "value"], dtype=object)


def all_fit_table(result: Any) -> pd.DataFrame:
    """``summary(allFit(fit))`` as one row per optimizer (timings left out: they vary).

    Columns: optimizer, ok (TRUE/FALSE as R writes them), logLik, feval, then
    ``fixef:<term>``, ``sdcor:<R's label>``, ``theta:<name>``, and the
    optimizer's convergence messages (joined by " | ") and error text.
    Optimizers whose refit failed have NA numbers, as R's summary omits them.
    """
    names = [str(n) for n in result.which_ok.index]
    table = pd.DataFrame(
        {
            "optimizer": names,
            "ok": ["TRUE" if bool(v) else "FALSE" for v in result.which_ok],
            "logLik": result.llik.reindex(names).to_numpy(dtype=float),
            "feval": result.feval.reindex(names).to_numpy(dtype=float),
        }
    )
    for prefix, frame in (
        ("fixef", result.fixef),
        ("sdcor", result.sdcor),
        ("theta", result.theta),
    ):
        for column in frame.columns:
            table[f"{prefix}:{column}"] = frame[column].reindex(names).to_numpy(dtype=float)
    table["messages"] = [" | ".join(result.msgs.get(n, ())) for n in names]
    table["error"] = [str(result.errors.get(n, "")) for n in names]
    return table


def contest_long(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """One contrast's table as rows (contrast, row, statistic, value), row by row."""
    return pd.DataFrame(
        [
            (name, str(row), str(column), float(table.at[row, column]))
            for row in table.index
            for column in table.columns
        ],
        columns=["contrast", "row", "statistic", "value"],
    )


def _icc_table(icc: Any) -> pd.DataFrame:
    # by_group gives a table (Group, ICC); otherwise the two numbers.
    table = getattr(icc, "table", None)
    if table is not None:
        return table.copy()
    return _statistics(icc, "adjusted", "unadjusted")


def _replicates(boot: Any) -> pd.DataFrame:
    replicates = boot.t.copy()
    replicates.insert(0, "replicate", range(1, len(replicates) + 1))
    return replicates


def _p_values(result: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "simulation": [str(i) for i in result.p_values.index],
            "p_value": result.p_values.to_numpy(dtype=float),
            "error": [str(e) for e in result.errors],
        }
    )


# ---------------------------------------------------------------------------
# Results that take more than one call
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Summary:
    """Every model's result: its summary, beside the fit and spec its other files and values
    come from."""

    fit: Any
    model: ModelSpec
    summary: Any


def _summarise(ask: Ask) -> _Summary:
    model = ask.model
    # A GLMM's summary has Wald z tests (the spec refuses ddf for it).
    summary = ask.fit.summary() if model.is_glmm else ask.fit.summary(ddf=model.ddf)
    return _Summary(ask.fit, model, summary)


def _model_records(made: _Summary) -> dict[str, Any]:
    model = made.model
    entry: dict[str, Any] = {}
    if model.is_glmm:
        # A variant of a glmer.nb() fit is a glmer() with its theta (variants.py).
        fun = "glmer" if model.update is not None and model.fun == "glmer.nb" else model.fun
        entry = {"fun": fun, "family": model.family, "nAGQ": model.nAGQ}
    return {
        "formula": model.formula,
        "reml": model.reml,
        "ddf": model.ddf,
        "optimizer": made.fit.optimizer,
        "singular": made.fit.is_singular(),
        **entry,
    }


def _boot_says(ask: Ask) -> str:
    boot = ask.spec
    workers = f" on {boot.workers} workers" if boot.workers > 1 else ""
    return f"bootstrap of {ask.model.name}: {boot.nsim} refits{workers}, seed {boot.seed}"


def _boot(ask: Ask) -> Any:
    boot = ask.spec
    return ask.fit.boot_mer(
        boot.fun,
        nsim=boot.nsim,
        seed=boot.seed,
        type=boot.type,
        use_u=boot.use_u,
        workers=boot.workers,
        progress=ask.shown,
    )


def _drop1(ask: Ask) -> Any:
    from ..lmertest import lmertest_drop1

    return lmertest_drop1(ask.fit, ask.spec.ddf)


def _ls_means(ask: Ask, method: Callable[..., Any]) -> Any:
    """``method``: the fit's ls_means or difflsmeans (lmerTest's, with the same arguments)."""
    spec = ask.spec
    which = None if spec.which is None else list(spec.which)
    return method(which=which, level=spec.level, ddf=spec.ddf)


@dataclass(frozen=True)
class Joined:
    """The results of a list of entries (contrasts) as one: their printouts, each after
    ``<label>:`` and a blank line apart, and their tables one below the other."""

    text: str
    table: pd.DataFrame


def _joined(parts: Iterable[tuple[str, str, pd.DataFrame]]) -> Joined:
    texts, tables = [], []
    for label, text, table in parts:
        texts.append(f"{label}:\n{text}")
        tables.append(table)
    return Joined("\n\n".join(texts), pd.concat(tables, ignore_index=True))


def _contests(ask: Ask) -> Iterator[tuple[str, str, pd.DataFrame]]:
    for name, spec in ask.spec.items():
        ask.say(f"contest {name} of {ask.model.name}")
        try:
            result = ask.fit.contest(np.array(spec.L, dtype=float), joint=spec.joint, ddf=spec.ddf)
        except (ArgumentError, ArgumentTypeError) as exc:
            # Say which of the model's contrasts is wrong (the run names the model).
            raise type(exc)(f"contest {name!r}: {exc}") from None
        yield name, result.text, contest_long(name, result.table)


def _power_args(model: ModelSpec) -> dict[str, Any]:
    """The arguments of pylme4.power() (and of the R writers) from the spec's ``power:``."""
    spec = model.power
    assert spec is not None
    return {
        "test": spec.test,
        "seed": spec.seed,
        "nsim": spec.nsim,
        "alpha": spec.alpha,
        "method": model.power_method,
        "level": spec.level,
        "workers": spec.workers,
        "effect": spec.effects or None,
    }


def _power(ask: Ask) -> Any:
    from ..power_analysis import power

    args = _power_args(ask.model)
    return power(ask.fit, args.pop("test"), args.pop("effect"), progress=ask.shown, **args)


def _power_curve(ask: Ask) -> Any:
    from ..power_analysis import power_curve

    args = _power_args(ask.model)
    return power_curve(
        ask.fit,
        args.pop("test"),
        ask.spec.along,
        list(ask.spec.n),
        args.pop("effect"),
        progress=ask.shown,
        **args,
    )


def _power_curve_args(model: ModelSpec) -> dict[str, Any]:
    args = _power_args(model)
    curve = model.power_curve
    return {
        "test": args.pop("test"),
        "along": curve.along if curve else None,
        "n": curve.n if curve else None,
        **args,
    }


def _lmertest_power(model: ModelSpec) -> tuple[str, ...]:
    # The script's own power loop tests with lmerTest for these methods.
    return ("lmerTest",) if model.power_method in ("satterthwaite", "kenward-roger") else ()


def _emmeans_args(model: ModelSpec) -> dict[str, Any]:
    """The arguments of fit.emmeans() (and of the R writers) from the spec's ``emmeans:``."""
    spec = model.emmeans
    assert spec is not None
    return {
        "specs": spec.specs[0] if len(spec.specs) == 1 else spec.specs,
        "by": spec.by,
        "at": spec.at,
        "type": spec.type,
        "lmer_df": model.lmer_df,
        "level": spec.level,
        "weights": spec.weights,
    }


def _grid(fit: Any, model: ModelSpec) -> Any:
    args = _emmeans_args(model)
    at = args["at"]
    return fit.emmeans(
        args["specs"] if isinstance(args["specs"], str) else list(args["specs"]),
        by=None if args["by"] is None else list(args["by"]),
        at=None if at is None else {k: list(v) for k, v in at.items()},
        type=args["type"],
        lmer_df=args["lmer_df"],
        level=args["level"],
        weights=args["weights"],
    )


def _contrast_label(spec: Any) -> str:
    return spec.method + ("" if spec.adjust is None else f", adjust = {spec.adjust}")


def _emmeans_contrasts(ask: Ask) -> Iterator[tuple[str, str, pd.DataFrame]]:
    grid = _grid(ask.fit, ask.model)
    for spec in ask.spec:
        label = _contrast_label(spec)
        ask.say(f"emmeans contrast {label} of {ask.model.name}")
        result = grid.contrast(spec.method, adjust=spec.adjust)
        frame = result.r_frame.copy()
        frame.insert(0, "adjust", spec.adjust or "default")
        frame.insert(0, "method", spec.method)
        yield label, result.text, frame


def compare_table(table: Any) -> pd.DataFrame:
    """``anova(m0, m1)``'s table with the models' names as column ``model``."""
    return rows_table(table, "model")


def produce_compare(fits: Mapping[str, Any], compare: CompareSpec) -> Produced:
    """``compare:``: ``anova()`` between the named models, each bound to its name as R prints it."""
    from ..inference import anova

    table = anova(**{name: fits[name] for name in compare.models}, refit=compare.refit)
    return Produced(
        texts={"anova.txt": table.text},
        tables={"anova": compare_table(table)},
        entry={"models": list(compare.models), "refit": compare.refit},
    )


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

#: Every output, in the order run() makes them and the script writes them.
OUTPUTS: tuple[Output, ...] = (
    Output(
        key=None,
        say=None,
        obtain=_summarise,
        files=(
            Text(
                "summary.txt",
                "R's printed summary (lmerTest's when ddf is set)",
                lambda made: made.summary.text,
            ),
            Table(
                "fixef.csv",
                "coef(summary(fit)): term, Estimate, Std. Error, (df,) t value (, Pr(>|t|)); "
                "a GLMM's: z value, Pr(>|z|)",
                lambda made: index_column(made.summary.fixed_effects, "term"),
            ),
            Table(
                "ranef.csv",
                "as.data.frame(ranef(fit, condVar = TRUE))",
                lambda made: ranef_long(made.fit.ranef()),
            ),
            Table("var_corr.csv", "as.data.frame(VarCorr(fit))", lambda made: made.fit.var_corr()),
            Table(
                "stats.csv",
                "nobs, groups, sigma, logLik, AIC, BIC, deviance, REMLcrit, theta "
                "(nb_theta of glmer.nb)",
                lambda made: fit_stats(made.fit),
            ),
        ),
        records=_model_records,
        r_args=lambda model: {"ddf": model.ddf},
        r_packages=lambda model: () if model.ddf is None else ("lmerTest",),
    ),
    Output(
        key="boot",
        say=_boot_says,
        obtain=_boot,
        files=(
            Text("boot.txt", "print(bootMer(fit, FUN, nsim, seed = seed))", str),
            Table("boot.csv", "the replicates, one row each", _replicates),
            Table(
                "boot_ci.csv",
                'confint(<bootMer>, type = "perc")',
                lambda b: index_column(b.confint(level=0.95, type="perc"), "statistic"),
            ),
        ),
        records=lambda b: {
            "boot_t0": {str(k): float(v) for k, v in b.t0.items()},
            "boot_failed": int(b.n_failed),
            "boot_messages": table_json(b.messages),
        },
        r_packages=("boot",),
    ),
    Output(
        key="all_fit",
        say="allFit of {model}: refitting with every optimizer",
        obtain=lambda ask: ask.fit.all_fit(progress=ask.shown),
        files=(Table("all_fit.csv", "summary(allFit(fit)) without the timings", all_fit_table),),
        r_packages=("optimx", "dfoptim"),
    ),
    Output(
        key="confint",
        say="confint of {model}: method {spec.method}",
        obtain=lambda ask: ask.fit.confint(
            method=ask.spec.method,
            level=ask.spec.level,
            nsim=ask.spec.nsim,
            seed=ask.spec.seed,
            progress=ask.shown,
        ),
        files=(
            Table(
                "confint.csv",
                "confint(fit, method = ...)",
                lambda ci: index_column(ci, "parameter"),
            ),
        ),
        r_packages=lambda model: (
            ("boot",) if model.confint and model.confint.method == "boot" else ()
        ),
    ),
    Output(
        key="drop1",
        say="drop1 of {model}: ddf {spec.ddf}",
        obtain=_drop1,
        files=(
            Text("drop1.txt", "print(drop1(fit, ddf = ddf)) (lmerTest's F tests)"),
            Table("drop1.csv", "drop1(fit, ddf = ddf): term, Sum Sq, ..., Pr(>F)", _by_term),
        ),
        r_packages=("lmerTest",),
    ),
    Output(
        key="step",
        say="step of {model}: backward elimination",
        obtain=lambda ask: ask.fit.step(
            reduce_fixed=ask.spec.reduce_fixed,
            reduce_random=ask.spec.reduce_random,
            alpha_random=ask.spec.alpha_random,
            alpha_fixed=ask.spec.alpha_fixed,
            ddf=ask.spec.ddf,
        ),
        # lmerTest's step() always tests both kinds (the reduce_ flags only stop
        # the elimination), so both tables are there.
        files=(
            Text("step.txt", "print(step(fit, ...)) (lmerTest's backward elimination)"),
            Table(
                "step_random.csv",
                "step(fit, ...)$random: the random-effect eliminations",
                lambda s: _by_term(s.random),
            ),
            Table(
                "step_fixed.csv",
                "step(fit, ...)$fixed: the fixed-effect eliminations",
                lambda s: _by_term(s.fixed),
            ),
        ),
        records=lambda s: {"step_formula": s.final_formula},
        r_packages=("lmerTest",),
    ),
    Output(
        key="contest",
        say=None,
        obtain=lambda ask: _joined(_contests(ask)),
        files=(
            Text("contest.txt", "print(contest(fit, L, joint, ddf)) of each named contrast"),
            Table(
                "contest.csv",
                "the same, one row per number: contrast, row, statistic, value",
                lambda joined: joined.table,
            ),
        ),
        r_args=lambda model: {
            "contest": {name: asdict(c) for name, c in (model.contest or {}).items()}
        },
        r_packages=("lmerTest",),
    ),
    Output(
        key="ls_means",
        obtain=lambda ask: _ls_means(ask, ask.fit.ls_means),
        files=(
            Text("ls_means.txt", "print(ls_means(fit, which, level, ddf))"),
            Table("ls_means.csv", "ls_means(fit, ...): term, Estimate, ..., Pr(>|t|)", _by_term),
        ),
        r_packages=("lmerTest",),
    ),
    Output(
        key="difflsmeans",
        obtain=lambda ask: _ls_means(ask, ask.fit.difflsmeans),
        files=(
            Text("difflsmeans.txt", "print(difflsmeans(fit, which, level, ddf))"),
            Table(
                "difflsmeans.csv", "difflsmeans(fit, ...): term, Estimate, ..., Pr(>|t|)", _by_term
            ),
        ),
        r_packages=("lmerTest",),
    ),
    Output(
        key="power",
        say="power of {model}: {spec.nsim} simulations, seed {spec.seed}",
        obtain=_power,
        files=(
            Text("power.txt", "pylme4.power()'s report: power, interval, test, failures"),
            Table(
                "power.csv", "every simulation's p-value (simulation, p_value, error)", _p_values
            ),
        ),
        records=lambda result: {
            "power_estimate": plain(result.power),
            "power_ci": plain(list(result.ci)),
            "power_failed": result.n_failed,
            "power_warned": result.n_warned,
        },
        r_args=_power_args,
        r_packages=_lmertest_power,
    ),
    Output(
        key="power_curve",
        say=lambda ask: f"power curve of {ask.model.name}: n = {list(ask.spec.n)}",
        obtain=_power_curve,
        files=(
            Table(
                "power_curve.csv",
                "power by size: n, power, ci_low, ci_high, successes, nsim, n_failed, "
                "n_warned, nobs",
                lambda curve: curve.frame,
            ),
        ),
        r_args=_power_curve_args,
        r_packages=_lmertest_power,
    ),
    Output(
        key="emmeans",
        obtain=lambda ask: _grid(ask.fit, ask.model),
        files=(
            Text("emmeans.txt", "print(emmeans(fit, specs, by =, at =, type =, lmer.df =, ...))"),
            Table(
                "emmeans.csv",
                "as.data.frame(summary(<the grid>)) with R's column names",
                lambda grid: grid.r_frame,
            ),
        ),
        r_args=_emmeans_args,
        r_packages=lambda model: (
            ("emmeans",) + (("pbkrtest",) if model.lmer_df == "kenward-roger" else ())
        ),
    ),
    Output(
        key="emmeans_contrasts",
        say=None,
        obtain=lambda ask: _joined(_emmeans_contrasts(ask)),
        files=(
            Text(
                "emmeans_contrasts.txt", "print(contrast(<grid>, method, adjust =)) of each entry"
            ),
            Table(
                "emmeans_contrasts.csv",
                "the same: method, adjust (default: the method's), then R's columns",
                lambda joined: joined.table,
            ),
        ),
        r_args=lambda model: {
            **_emmeans_args(model),
            "contrasts": [asdict(c) for c in model.emmeans_contrasts or ()],
        },
        r_packages=("emmeans",),
    ),
    Output(
        key="wald_anova",
        say="wald_anova of {model}: type {spec.type}, {spec.test}",
        obtain=lambda ask: ask.fit.wald_anova(type=ask.spec.type, test=ask.spec.test),
        files=(
            Text("wald_anova.txt", "print(car::Anova(fit, type =, test.statistic =))"),
            Table(
                "wald_anova.csv",
                "the same table: term, Chisq, Df, Pr(>Chisq) (or F, ...)",
                _by_term,
            ),
        ),
        r_packages=lambda model: (
            ("car",) + (("pbkrtest",) if model.wald_anova and model.wald_anova.test == "F" else ())
        ),
    ),
    Output(
        key="r2",
        obtain=lambda ask: ask.fit.r2(),
        files=(
            Text("r2.txt", "print(performance::r2_nakagawa(fit, tolerance = 1e-5))"),
            Table(
                "r2.csv",
                "statistic (conditional, marginal), value",
                lambda r2: _statistics(r2, "conditional", "marginal"),
            ),
        ),
        r_packages=("performance",),
    ),
    Output(
        key="icc",
        obtain=lambda ask: ask.fit.icc(by_group=ask.spec.by_group),
        files=(
            Text("icc.txt", "print(performance::icc(fit, by_group =, tolerance = 1e-5))"),
            Table(
                "icc.csv",
                "statistic (adjusted, unadjusted), value; by_group: Group, ICC",
                _icc_table,
            ),
        ),
        r_packages=("performance",),
    ),
    Output(
        key="tidy",
        obtain=lambda ask: ask.fit.tidy(
            effects=list(ask.spec.effects),
            conf_int=ask.spec.conf_int,
            conf_level=ask.spec.conf_level,
            conf_method=ask.spec.conf_method,
        ),
        files=(
            Table(
                "tidy.csv",
                "broom.mixed::tidy(fit, effects, conf.int, conf.level, conf.method), "
                "columns in snake_case",
                lambda table: table,
            ),
        ),
        r_packages=("broom.mixed",),
    ),
)

#: The files of a ``compare:`` entry's folder (R writer ``pylme4_write_compare``).
COMPARE_FILES: tuple[tuple[str, str], ...] = (
    ("anova.txt", "print(anova(m0, m1, ...)), the models bound to their names"),
    ("anova.csv", "anova(m0, m1, ...): model, npar, AIC, ..., Pr(>Chisq)"),
)
COMPARE_FILE_NAMES: tuple[str, ...] = tuple(name for name, _ in COMPARE_FILES)

#: Every file a model's folder can hold (a model writes those it asks for).
MODEL_FILES: tuple[str, ...] = tuple(name for output in OUTPUTS for name in output.file_names)


def wanted(model: ModelSpec) -> tuple[Output, ...]:
    """The outputs ``model`` asks for, in order."""
    return tuple(output for output in OUTPUTS if output.wanted(model))


def model_files(model: ModelSpec) -> tuple[str, ...]:
    """The files ``model``'s folder gets."""
    return tuple(name for output in wanted(model) for name in output.file_names)


def layout(prefix: str = "DIR/<model>/", compare_prefix: str = "DIR/<comparison>/") -> str:
    """The files of a model's folder and of a comparison's, one line each (for the docs)."""
    width = max(len(name) for name in MODEL_FILES) + len(prefix) + 2
    lines = []
    for output in OUTPUTS:
        for file in output.files:
            asked = f"   ({output.key}:)" if output.key is not None else ""
            lines.append(f"    {prefix + file.name:<{width}} {file.about}{asked}")
    for name, about in COMPARE_FILES:
        lines.append(f"    {compare_prefix + name:<{width}} {about}   (compare:)")
    return "\n".join(lines)
