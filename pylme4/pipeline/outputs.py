"""The outputs of a pipeline, one row each: what asks for it, who makes it, where it goes.

Each :class:`Output` is one thing ``pylme4 run`` writes for a model: the
key of the model's spec that asks for it (None: every model), the Python
producer that computes it from the fit, the files it writes (with a line
saying what each holds), and the R function of ``pylme4/_r/R/script.R``
that writes the same files in the exported R script.  ``run`` writes files
from these rows, ``verify`` and the results folder's manifest know the files
from them, ``export-r`` calls their R writers, and the layout in the docs is
made from them (:func:`layout`).

A new output is a row here, its producer (below) and its R writer in
script.R.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, ArgumentTypeError
from .spec import CompareSpec, ModelSpec

Progress = Callable[[str], None]


@dataclass
class Produced:
    """What a producer made: files' texts, tables (written as ``<name>.csv``) and
    further entries for the model's part of results.json."""

    texts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    """One output of a model (see the module's docstring)."""

    key: str | None
    """The ``ModelSpec`` field that asks for it; None for the outputs of every model."""
    files: tuple[tuple[str, str], ...]
    """(file name, what it holds), in the model's folder."""
    produce: Callable[[Any, ModelSpec, Progress | None], Produced]
    """``produce(fit, model, progress)``: compute the output with pylme4."""
    r_writer: str
    """The function of ``_r/R/script.R`` that writes the files in the exported script."""
    r_args: Callable[[ModelSpec], Mapping[str, Any]]
    """The writer's arguments after ``(fit, name)``; a None value is left out (NULL in R)."""

    def wanted(self, model: ModelSpec) -> bool:
        """Whether ``model`` asks for this output."""
        return self.key is None or getattr(model, self.key) not in (None, False)

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.files)


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


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


# ---------------------------------------------------------------------------
# Producers
# ---------------------------------------------------------------------------


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


def produce_model(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """The outputs of every model: R's summary and the estimates."""
    # A GLMM's summary has Wald z tests (the spec refuses ddf for it).
    summary = fit.summary() if model.is_glmm else fit.summary(ddf=model.ddf)  # type: ignore[arg-type]
    entry: dict[str, Any] = {}
    if model.is_glmm:
        # A variant of a glmer.nb() fit is a glmer() with its theta (variants.py).
        fun = "glmer" if model.update is not None and model.fun == "glmer.nb" else model.fun
        entry = {"fun": fun, "family": model.family, "nAGQ": model.nAGQ}
    return Produced(
        texts={"summary.txt": summary.text},
        tables={
            "fixef": summary.fixed_effects.rename_axis("term").reset_index(),
            "ranef": ranef_long(fit.ranef()),
            "var_corr": fit.var_corr(),
            "stats": fit_stats(fit),
        },
        entry={
            "formula": model.formula,
            "reml": model.reml,
            "ddf": model.ddf,
            "optimizer": fit.optimizer,
            "singular": fit.is_singular(),
            **entry,
        },
    )


def produce_boot(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``boot:``: the parametric bootstrap, its replicates and percentile intervals."""
    boot = model.boot
    assert boot is not None
    workers = f" on {boot.workers} workers" if boot.workers > 1 else ""
    _say(progress, f"    bootstrap of {model.name}: {boot.nsim} refits{workers}, seed {boot.seed}")
    b = fit.boot_mer(
        boot.fun,  # type: ignore[arg-type]  # checked by the spec
        nsim=boot.nsim,
        seed=boot.seed,
        type=boot.type,  # type: ignore[arg-type]
        use_u=boot.use_u,
        workers=boot.workers,
        progress=progress is not None,
    )
    replicates = b.t.copy()
    replicates.insert(0, "replicate", range(1, len(replicates) + 1))
    return Produced(
        texts={"boot.txt": str(b)},
        tables={
            "boot": replicates,
            "boot_ci": b.confint(level=0.95, type="perc").rename_axis("statistic").reset_index(),
        },
        entry={
            "boot_t0": {str(k): float(v) for k, v in b.t0.items()},
            "boot_failed": int(b.n_failed),
            "boot_messages": table_json(b.messages),
        },
    )


def produce_all_fit(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``all_fit: true``: the fit refitted with every optimizer."""
    _say(progress, f"    allFit of {model.name}: refitting with every optimizer")
    return Produced(tables={"all_fit": all_fit_table(fit.all_fit(progress=progress is not None))})


def produce_confint(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``confint:``: confidence intervals of the parameters."""
    ci = model.confint
    assert ci is not None
    _say(progress, f"    confint of {model.name}: method {ci.method}")
    table = fit.confint(
        method=ci.method,  # type: ignore[arg-type]
        level=ci.level,
        nsim=ci.nsim,
        seed=ci.seed,
        progress=progress is not None,
    )
    return Produced(tables={"confint": table.rename_axis("parameter").reset_index()})


def rows_table(table: Any, first: str) -> pd.DataFrame:
    """An R table whose row names matter (anova, ls_means) with them as column ``first``."""
    frame: pd.DataFrame = table.table
    return frame.rename_axis(first).reset_index()


def produce_drop1(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``drop1:``: lmerTest's F tests of dropping each marginal fixed-effect term."""
    from ..lmertest import lmertest_drop1

    spec = model.drop1
    assert spec is not None
    _say(progress, f"    drop1 of {model.name}: ddf {spec.ddf}")
    table = lmertest_drop1(fit, spec.ddf)  # type: ignore[arg-type]  # checked by the spec
    return Produced(texts={"drop1.txt": table.text}, tables={"drop1": rows_table(table, "term")})


def produce_step(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``step:``: lmerTest's backward elimination of random, then fixed terms."""
    spec = model.step
    assert spec is not None
    _say(progress, f"    step of {model.name}: backward elimination")
    result = fit.step(
        reduce_fixed=spec.reduce_fixed,
        reduce_random=spec.reduce_random,
        alpha_random=spec.alpha_random,
        alpha_fixed=spec.alpha_fixed,
        ddf=spec.ddf,
    )
    # lmerTest's step() always tests both kinds (the reduce_ flags only stop
    # the elimination), so both tables are there.
    assert result.random is not None and result.fixed is not None
    return Produced(
        texts={"step.txt": result.text},
        tables={
            "step_random": rows_table(result.random, "term"),
            "step_fixed": rows_table(result.fixed, "term"),
        },
        entry={"step_formula": result.final_formula},
    )


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


def produce_contest(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``contest:``: lmerTest's tests of the named contrasts of the fixed effects."""
    assert model.contest is not None
    texts, parts = [], []
    for name, spec in model.contest.items():
        _say(progress, f"    contest {name} of {model.name}")
        try:
            result = fit.contest(np.array(spec.L, dtype=float), joint=spec.joint, ddf=spec.ddf)
        except (ArgumentError, ArgumentTypeError) as exc:
            # Say which of the model's contrasts is wrong (the run names the model).
            raise type(exc)(f"contest {name!r}: {exc}") from None
        texts.append(f"{name}:\n{result.text}")
        parts.append(contest_long(name, result.table))
    return Produced(
        texts={"contest.txt": "\n\n".join(texts)},
        tables={"contest": pd.concat(parts, ignore_index=True)},
    )


def _ls_means_producer(key: str) -> Callable[[Any, ModelSpec, Progress | None], Produced]:
    """``ls_means:`` or ``difflsmeans:``: lmerTest's least-squares means (or their differences)."""

    def produce(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
        spec = getattr(model, key)
        _say(progress, f"    {key} of {model.name}")
        method = fit.difflsmeans if key == "difflsmeans" else fit.ls_means
        which = None if spec.which is None else list(spec.which)
        result = method(which=which, level=spec.level, ddf=spec.ddf)
        return Produced(texts={f"{key}.txt": result.text}, tables={key: rows_table(result, "term")})

    return produce


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


def produce_power(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``power:``: power by simulation (:func:`pylme4.power`) and every p-value."""
    from ..power_analysis import power

    args = _power_args(model)
    _say(progress, f"    power of {model.name}: {args['nsim']} simulations, seed {args['seed']}")
    result = power(
        fit,
        args.pop("test"),
        args.pop("effect"),
        progress=progress is not None,
        **args,
    )
    table = pd.DataFrame(
        {
            "simulation": [str(i) for i in result.p_values.index],
            "p_value": result.p_values.to_numpy(dtype=float),
            "error": [str(e) for e in result.errors],
        }
    )
    return Produced(
        texts={"power.txt": result.text},
        tables={"power": table},
        entry={
            "power_estimate": plain(result.power),
            "power_ci": plain(list(result.ci)),
            "power_failed": result.n_failed,
            "power_warned": result.n_warned,
        },
    )


def produce_power_curve(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``power: {power_curve: ...}``: power by the number of levels of a grouping factor."""
    from ..power_analysis import power_curve

    curve_spec = model.power_curve
    assert curve_spec is not None
    args = _power_args(model)
    _say(progress, f"    power curve of {model.name}: n = {list(curve_spec.n)}")
    curve = power_curve(
        fit,
        args.pop("test"),
        curve_spec.along,
        list(curve_spec.n),
        args.pop("effect"),
        progress=progress is not None,
        **args,
    )
    return Produced(tables={"power_curve": curve.frame})


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


def produce_emmeans(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``emmeans:``: estimated marginal means (emmeans), printed and as R's table."""
    _say(progress, f"    emmeans of {model.name}")
    grid = _grid(fit, model)
    return Produced(texts={"emmeans.txt": grid.text}, tables={"emmeans": grid.r_frame})


def _contrast_label(spec: Any) -> str:
    return spec.method + ("" if spec.adjust is None else f", adjust = {spec.adjust}")


def produce_emmeans_contrasts(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``emmeans.contrasts``: emmeans' contrast() of the grid, one per entry."""
    assert model.emmeans_contrasts is not None
    grid = _grid(fit, model)
    texts, parts = [], []
    for spec in model.emmeans_contrasts:
        _say(progress, f"    emmeans contrast {_contrast_label(spec)} of {model.name}")
        result = grid.contrast(spec.method, adjust=spec.adjust)
        texts.append(f"{_contrast_label(spec)}:\n{result.text}")
        frame = result.r_frame.copy()
        frame.insert(0, "adjust", spec.adjust or "default")
        frame.insert(0, "method", spec.method)
        parts.append(frame)
    return Produced(
        texts={"emmeans_contrasts.txt": "\n\n".join(texts)},
        tables={"emmeans_contrasts": pd.concat(parts, ignore_index=True)},
    )


def produce_wald_anova(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``wald_anova:``: car::Anova()'s Wald tests of the fixed-effect terms."""
    spec = model.wald_anova
    assert spec is not None
    _say(progress, f"    wald_anova of {model.name}: type {spec.type}, {spec.test}")
    table = fit.wald_anova(type=spec.type, test=spec.test)
    return Produced(
        texts={"wald_anova.txt": table.text}, tables={"wald_anova": rows_table(table, "term")}
    )


def produce_r2(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``r2: true``: Nakagawa's R² (performance)."""
    _say(progress, f"    r2 of {model.name}")
    r2 = fit.r2()
    return Produced(
        texts={"r2.txt": r2.text},
        tables={
            "r2": pd.DataFrame(
                {"statistic": ["conditional", "marginal"], "value": [r2.conditional, r2.marginal]}
            )
        },
    )


def produce_icc(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``icc:``: the intraclass correlation (performance), adjusted and unadjusted or by group."""
    spec = model.icc
    assert spec is not None
    _say(progress, f"    icc of {model.name}")
    icc = fit.icc(by_group=spec.by_group)
    if spec.by_group:
        table = icc.table.copy()
    else:
        table = pd.DataFrame(
            {"statistic": ["adjusted", "unadjusted"], "value": [icc.adjusted, icc.unadjusted]}
        )
    return Produced(texts={"icc.txt": icc.text}, tables={"icc": table})


def produce_tidy(fit: Any, model: ModelSpec, progress: Progress | None) -> Produced:
    """``tidy:``: broom.mixed's tidy table, with intervals when asked."""
    spec = model.tidy
    assert spec is not None
    _say(progress, f"    tidy of {model.name}")
    table = fit.tidy(
        effects=list(spec.effects),
        conf_int=spec.conf_int,
        conf_level=spec.conf_level,
        conf_method=spec.conf_method,
    )
    return Produced(tables={"tidy": table})


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


def _spec_fields(key: str) -> Callable[[ModelSpec], Mapping[str, Any]]:
    """Every field of the model's sub-spec ``key`` (BootSpec, ConfintSpec), by name."""

    def args(model: ModelSpec) -> Mapping[str, Any]:
        value = getattr(model, key)
        return asdict(value) if is_dataclass(value) and not isinstance(value, type) else {}

    return args


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

#: Every output, in the order run() makes them and the script writes them.
OUTPUTS: tuple[Output, ...] = (
    Output(
        key=None,
        files=(
            ("summary.txt", "R's printed summary (lmerTest's when ddf is set)"),
            (
                "fixef.csv",
                "coef(summary(fit)): term, Estimate, Std. Error, (df,) t value (, Pr(>|t|)); "
                "a GLMM's: z value, Pr(>|z|)",
            ),
            ("ranef.csv", "as.data.frame(ranef(fit, condVar = TRUE))"),
            ("var_corr.csv", "as.data.frame(VarCorr(fit))"),
            (
                "stats.csv",
                "nobs, groups, sigma, logLik, AIC, BIC, deviance, REMLcrit, theta "
                "(nb_theta of glmer.nb)",
            ),
        ),
        produce=produce_model,
        r_writer="pylme4_write_model",
        r_args=lambda model: {"ddf": model.ddf},
    ),
    Output(
        key="boot",
        files=(
            ("boot.txt", "print(bootMer(fit, FUN, nsim, seed = seed))"),
            ("boot.csv", "the replicates, one row each"),
            ("boot_ci.csv", 'confint(<bootMer>, type = "perc")'),
        ),
        produce=produce_boot,
        r_writer="pylme4_write_boot",
        r_args=_spec_fields("boot"),
    ),
    Output(
        key="all_fit",
        files=(("all_fit.csv", "summary(allFit(fit)) without the timings"),),
        produce=produce_all_fit,
        r_writer="pylme4_write_all_fit",
        r_args=lambda model: {},
    ),
    Output(
        key="confint",
        files=(("confint.csv", "confint(fit, method = ...)"),),
        produce=produce_confint,
        r_writer="pylme4_write_confint",
        r_args=_spec_fields("confint"),
    ),
    Output(
        key="drop1",
        files=(
            ("drop1.txt", "print(drop1(fit, ddf = ddf)) (lmerTest's F tests)"),
            ("drop1.csv", "drop1(fit, ddf = ddf): term, Sum Sq, ..., Pr(>F)"),
        ),
        produce=produce_drop1,
        r_writer="pylme4_write_drop1",
        r_args=_spec_fields("drop1"),
    ),
    Output(
        key="step",
        files=(
            ("step.txt", "print(step(fit, ...)) (lmerTest's backward elimination)"),
            ("step_random.csv", "step(fit, ...)$random: the random-effect eliminations"),
            ("step_fixed.csv", "step(fit, ...)$fixed: the fixed-effect eliminations"),
        ),
        produce=produce_step,
        r_writer="pylme4_write_step",
        r_args=_spec_fields("step"),
    ),
    Output(
        key="contest",
        files=(
            ("contest.txt", "print(contest(fit, L, joint, ddf)) of each named contrast"),
            ("contest.csv", "the same, one row per number: contrast, row, statistic, value"),
        ),
        produce=produce_contest,
        r_writer="pylme4_write_contest",
        r_args=lambda model: {
            "contest": {name: asdict(c) for name, c in (model.contest or {}).items()}
        },
    ),
    Output(
        key="ls_means",
        files=(
            ("ls_means.txt", "print(ls_means(fit, which, level, ddf))"),
            ("ls_means.csv", "ls_means(fit, ...): term, Estimate, ..., Pr(>|t|)"),
        ),
        produce=_ls_means_producer("ls_means"),
        r_writer="pylme4_write_ls_means",
        r_args=_spec_fields("ls_means"),
    ),
    Output(
        key="difflsmeans",
        files=(
            ("difflsmeans.txt", "print(difflsmeans(fit, which, level, ddf))"),
            ("difflsmeans.csv", "difflsmeans(fit, ...): term, Estimate, ..., Pr(>|t|)"),
        ),
        produce=_ls_means_producer("difflsmeans"),
        r_writer="pylme4_write_difflsmeans",
        r_args=_spec_fields("difflsmeans"),
    ),
    Output(
        key="power",
        files=(
            ("power.txt", "pylme4.power()'s report: power, interval, test, failures"),
            ("power.csv", "every simulation's p-value (simulation, p_value, error)"),
        ),
        produce=produce_power,
        r_writer="pylme4_write_power",
        r_args=_power_args,
    ),
    Output(
        key="power_curve",
        files=(
            (
                "power_curve.csv",
                "power by size: n, power, ci_low, ci_high, successes, nsim, n_failed, "
                "n_warned, nobs",
            ),
        ),
        produce=produce_power_curve,
        r_writer="pylme4_write_power_curve",
        r_args=lambda model: {
            "test": _power_args(model)["test"],
            "along": model.power_curve.along if model.power_curve else None,
            "n": model.power_curve.n if model.power_curve else None,
            **{k: v for k, v in _power_args(model).items() if k != "test"},
        },
    ),
    Output(
        key="emmeans",
        files=(
            ("emmeans.txt", "print(emmeans(fit, specs, by =, at =, type =, lmer.df =, ...))"),
            ("emmeans.csv", "as.data.frame(summary(<the grid>)) with R's column names"),
        ),
        produce=produce_emmeans,
        r_writer="pylme4_write_emmeans",
        r_args=_emmeans_args,
    ),
    Output(
        key="emmeans_contrasts",
        files=(
            ("emmeans_contrasts.txt", "print(contrast(<grid>, method, adjust =)) of each entry"),
            (
                "emmeans_contrasts.csv",
                "the same: method, adjust (default: the method's), then R's columns",
            ),
        ),
        produce=produce_emmeans_contrasts,
        r_writer="pylme4_write_emmeans_contrasts",
        r_args=lambda model: {
            **_emmeans_args(model),
            "contrasts": [asdict(c) for c in model.emmeans_contrasts or ()],
        },
    ),
    Output(
        key="wald_anova",
        files=(
            ("wald_anova.txt", "print(car::Anova(fit, type =, test.statistic =))"),
            ("wald_anova.csv", "the same table: term, Chisq, Df, Pr(>Chisq) (or F, ...)"),
        ),
        produce=produce_wald_anova,
        r_writer="pylme4_write_wald_anova",
        r_args=_spec_fields("wald_anova"),
    ),
    Output(
        key="r2",
        files=(
            ("r2.txt", "print(performance::r2_nakagawa(fit, tolerance = 1e-5))"),
            ("r2.csv", "statistic (conditional, marginal), value"),
        ),
        produce=produce_r2,
        r_writer="pylme4_write_r2",
        r_args=lambda model: {},
    ),
    Output(
        key="icc",
        files=(
            ("icc.txt", "print(performance::icc(fit, by_group =, tolerance = 1e-5))"),
            ("icc.csv", "statistic (adjusted, unadjusted), value; by_group: Group, ICC"),
        ),
        produce=produce_icc,
        r_writer="pylme4_write_icc",
        r_args=_spec_fields("icc"),
    ),
    Output(
        key="tidy",
        files=(
            (
                "tidy.csv",
                "broom.mixed::tidy(fit, effects, conf.int, conf.level, conf.method), "
                "columns in snake_case",
            ),
        ),
        produce=produce_tidy,
        r_writer="pylme4_write_tidy",
        r_args=_spec_fields("tidy"),
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
        for name, about in output.files:
            asked = f"   ({output.key}:)" if output.key is not None else ""
            lines.append(f"    {prefix + name:<{width}} {about}{asked}")
    for name, about in COMPARE_FILES:
        lines.append(f"    {compare_prefix + name:<{width}} {about}   (compare:)")
    return "\n".join(lines)
