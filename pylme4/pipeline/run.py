"""Running a spec: fit every model and write its outputs and ``results.json``.

Layout of a results folder::

    DIR/spec.yaml              the spec, byte for byte
    DIR/results.json           every number, the normalised spec, provenance
    DIR/<model>/summary.txt    R's printed summary (lmerTest's when ddf is set)
    DIR/<model>/fixef.csv      coef(summary(fit)): term, Estimate, Std. Error, (df,) t value (, Pr(>|t|))
    DIR/<model>/ranef.csv      as.data.frame(ranef(fit, condVar = TRUE))
    DIR/<model>/var_corr.csv   as.data.frame(VarCorr(fit))
    DIR/<model>/stats.csv      nobs, groups, sigma, logLik, AIC, BIC, deviance, REMLcrit, theta
    DIR/<model>/boot.txt       print(bootMer(fit, FUN, nsim, seed = seed))   (boot:)
    DIR/<model>/boot.csv       the replicates, one row each                   (boot:)
    DIR/<model>/boot_ci.csv    confint(<bootMer>, type = "perc")               (boot:)
    DIR/<model>/all_fit.csv    summary(allFit(fit)) without the timings       (all_fit:)
    DIR/<model>/confint.csv    confint(fit, method = ...)                     (confint:)

Numbers in CSV files are written with enough digits to read back the same
double; missing values are ``NA``; text is UTF-8 with ``\\n`` line ends.  The
results are built in a hidden folder and moved into place when complete, so
a failed run never leaves half a results folder behind; ``DIR/.pylme4-manifest``
lists the files pylme4 wrote, the only ones a later ``--force`` run replaces
(:mod:`pylme4.pipeline.outdir`).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PylmeError, RMessage, RNotAvailableError, RWarning, one_line
from . import data as pdata
from . import outdir, provenance
from .outdir import FileAccessError, OutputDirError

__all__ = ["FileAccessError", "ModelError", "OutputDirError", "RunResult", "read_results", "run"]
from .spec import ModelSpec, Spec, SpecError
from .trust import check_spec

#: The format of results.json (bumped when its layout changes).
RESULTS_FORMAT = "pylme4-results/1"
RESULTS_JSON = "results.json"
SPEC_COPY = "spec.yaml"
#: Files every model writes, in order; optional outputs follow.
MODEL_FILES = ("summary.txt", "fixef.csv", "ranef.csv", "var_corr.csv", "stats.csv")

Progress = Callable[[str], None]


class ModelError(PylmeError):
    """Fitting or summarising one model of a spec failed.

    The message names the spec's line and the model; :attr:`cause` is the
    pylme4 exception that stopped it.
    """

    def __init__(self, message: str, cause: PylmeError) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` wrote."""

    out_dir: Path
    results: dict[str, Any]
    """The content of ``results.json``."""

    @property
    def messages(self) -> tuple[tuple[str, str], ...]:
        """(model, text) for every warning or message R gave, as results.json lists them."""
        return tuple(
            (name, message["text"])
            for name, entry in self.results["models"].items()
            for message in entry["messages"]
        )


def _say(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


# ---------------------------------------------------------------------------
# Tables and their files
# ---------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV: no index, NA for missing, shortest round-trip floats."""
    frame.to_csv(path, index=False, na_rep="NA", lineterminator="\n", encoding="utf-8")


def table_json(frame: pd.DataFrame) -> dict[str, Any]:
    """A table as {"columns": [...], "data": [[...], ...]}, missing values as null."""
    values = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    return {"columns": [str(c) for c in frame.columns], "data": _plain(values)}


def _plain(value: Any) -> Any:
    """Python values JSON can hold exactly: numpy scalars unwrapped, NaN/Inf as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def ranef_long(ranef: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``fit.ranef(cond_var=True)`` laid out as R's ``as.data.frame(ranef(fit, condVar = TRUE))``.

    One row per (grouping factor, term, level): grpvar, term, grp, condval,
    condsd; terms vary slowest within a grouping factor, as in R.
    """
    parts = []
    for grpvar, frame in ranef.items():
        levels = [str(x) for x in frame.index]
        for term in frame["condval"].columns:
            parts.append(
                pd.DataFrame(
                    {
                        "grpvar": grpvar,
                        "term": term,
                        "grp": levels,
                        "condval": frame["condval"][term].to_numpy(dtype=float),
                        "condsd": frame["condsd"][term].to_numpy(dtype=float),
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
        ("logLik", fit.loglik()),
        ("AIC", fit.aic()),
        ("BIC", fit.bic()),
        ("deviance", fit.deviance()),
    ]
    if fit.reml_criterion is not None:
        rows.append(("REMLcrit", fit.reml_criterion))
    rows += [(f"theta:{i + 1}", float(t)) for i, t in enumerate(fit.theta)]
    return pd.DataFrame(rows, columns=["statistic", "value"], dtype=object)


# ---------------------------------------------------------------------------
# One model
# ---------------------------------------------------------------------------


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


def _fit_model(
    model: ModelSpec,
    frame: pd.DataFrame,
    data_name: str,
    folder: Path,
    progress: Progress | None,
) -> dict[str, Any]:
    """Fit one model, write its files into ``folder`` and return its results.json entry."""
    from ..models import lmer

    fit = lmer(model.formula, frame, reml=model.reml, data_name=data_name)
    summary = fit.summary(ddf=model.ddf)  # type: ignore[arg-type]
    texts = {"summary.txt": summary.text}
    tables = {
        "fixef": summary.fixed_effects.rename_axis("term").reset_index(),
        "ranef": ranef_long(fit.ranef(cond_var=True)),
        "var_corr": fit.var_corr(),
        "stats": fit_stats(fit),
    }
    entry: dict[str, Any] = {
        "formula": model.formula,
        "reml": model.reml,
        "ddf": model.ddf,
        "optimizer": fit.optimizer,
        "singular": fit.is_singular(),
    }
    bars = progress is not None
    if model.boot is not None:
        boot = model.boot
        workers = f" on {boot.workers} workers" if boot.workers > 1 else ""
        _say(
            progress,
            f"    bootstrap of {model.name}: {boot.nsim} refits{workers}, seed {boot.seed}",
        )
        b = fit.boot_mer(
            boot.fun,  # type: ignore[arg-type]  # checked against BOOT_FUNS by the spec
            nsim=boot.nsim,
            seed=boot.seed,
            type=boot.type,  # type: ignore[arg-type]
            use_u=boot.use_u,
            workers=boot.workers,
            progress=bars,
        )
        texts["boot.txt"] = str(b)
        replicates = b.t.copy()
        replicates.insert(0, "replicate", range(1, len(replicates) + 1))
        tables["boot"] = replicates
        tables["boot_ci"] = (
            b.confint(level=0.95, type="perc").rename_axis("statistic").reset_index()
        )
        entry["boot_t0"] = {str(k): float(v) for k, v in b.t0.items()}
        entry["boot_failed"] = int(b.n_failed)
        entry["boot_messages"] = table_json(b.messages)
    if model.all_fit:
        _say(progress, f"    allFit of {model.name}: refitting with every optimizer")
        tables["all_fit"] = all_fit_table(fit.all_fit(progress=bars))
    if model.confint is not None:
        ci = model.confint
        _say(progress, f"    confint of {model.name}: method {ci.method}")
        tables["confint"] = (
            fit.confint(method=ci.method, level=ci.level, nsim=ci.nsim, seed=ci.seed, progress=bars)  # type: ignore[arg-type]
            .rename_axis("parameter")
            .reset_index()
        )
    for name, text in texts.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    for name, table in tables.items():
        write_csv(table, folder / f"{name}.csv")
    files = ["summary.txt", *(f"{name}.csv" for name in tables), *list(texts)[1:]]
    entry["files"] = files
    entry.update({name: table_json(table) for name, table in tables.items()})
    return entry


# ---------------------------------------------------------------------------
# The whole spec
# ---------------------------------------------------------------------------


def run(
    spec: Spec,
    out_dir: str | Path,
    *,
    progress: Progress | None = None,
    command: str | None = None,
    trust: bool = False,
    force: bool = False,
) -> RunResult:
    """Fit every model of ``spec`` and write the results folder ``out_dir``.

    Parameters
    ----------
    spec
        A validated spec (:func:`pylme4.pipeline.load_spec`).
    out_dir
        The results folder: created, or filled when empty; when it holds
        earlier results (its ``.pylme4-manifest`` lists them), ``force``
        replaces the files that manifest lists and nothing else.
    progress
        Called with one line of text as each step starts (the CLI prints
        these on stderr); nothing is printed otherwise.
    command
        The command line, recorded in the provenance.
    trust
        Lift the checks of :mod:`pylme4.pipeline.trust` (the CLI's
        ``--trust``); results.json records that they were lifted.
    force
        Replace earlier results in ``out_dir`` (the CLI's ``--force``).

    Raises
    ------
    SpecError
        A formula calls a function off the allow-list or the data file is
        outside the spec's folder (unless ``trust``); the data file is
        missing, or a factor or formula names an unknown column.
    DataError
        The data cannot be read or used.
    ModelError
        A model could not be fitted; the message names it and says why.
    OutputDirError
        ``out_dir`` holds files pylme4 did not write, or earlier results
        without ``force``.
    FileAccessError
        A file could not be read or written (the message names it and the
        cause); earlier results in ``out_dir`` are as they were.
    """
    check_spec(spec, trust=trust)
    out_dir = Path(out_dir).resolve()
    old = outdir.check_out_dir(out_dir, force=force)
    started = provenance.now()

    def fill(folder: Path) -> dict[str, Any]:
        with outdir.os_errors(folder):
            return _run_into(
                spec, folder, progress=progress, command=command, started=started, trust=trust
            )

    results = outdir.build(out_dir, old, fill)
    return RunResult(out_dir=out_dir, results=results)


def _run_into(
    spec: Spec,
    folder: Path,
    *,
    progress: Progress | None,
    command: str | None,
    started: str,
    trust: bool,
) -> dict[str, Any]:
    where = pdata.describe(spec)
    _say(progress, f"reading {where}")
    loaded = pdata.load_data(spec)
    # Start R now, so that a missing R is reported as such (RNotAvailableError)
    # rather than as a formula that R could not parse.
    from .._r import session

    session.helpers()
    _say(progress, f"checking the formulas against {len(loaded.frame.columns)} columns")
    pdata.check_formulas(spec, loaded.frame, where)
    (folder / SPEC_COPY).write_text(spec.text, encoding="utf-8")

    models: dict[str, Any] = {}
    for i, model in enumerate(spec.models):
        key = f"models[{i}]"
        _say(progress, f"[{i + 1}/{len(spec.models)}] fitting {model.name}: {model.formula}")
        t0 = time.perf_counter()
        model_dir = folder / model.name
        model_dir.mkdir()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                entry = _fit_model(model, loaded.frame, spec.data.name, model_dir, progress)
            except (SpecError, RNotAvailableError):
                raise
            except PylmeError as exc:
                raise ModelError(
                    spec.locate(key, one_line(exc), label=f"{key} ({model.name})"), exc
                ) from None
        messages = []
        for w in caught:
            if issubclass(w.category, (RWarning, RMessage)):
                kind = "message" if issubclass(w.category, RMessage) else "warning"
                text = str(w.message)
                if {"kind": kind, "text": text} not in messages:
                    messages.append({"kind": kind, "text": text})
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        entry["messages"] = messages
        models[model.name] = entry
        _say(
            progress,
            f"[{i + 1}/{len(spec.models)}] {model.name} done ({time.perf_counter() - t0:.1f} s)",
        )

    results = {
        "format": RESULTS_FORMAT,
        "spec": spec.to_dict(levels=loaded.levels),
        "models": _plain(models),
        "provenance": _plain(
            provenance.collect(spec, loaded.source, started=started, command=command, trust=trust)
        ),
    }
    text = json.dumps(results, indent=1, ensure_ascii=False, allow_nan=False)
    (folder / RESULTS_JSON).write_text(text + "\n", encoding="utf-8")
    return results


def read_results(out_dir: str | Path) -> dict[str, Any]:
    """The ``results.json`` of a results folder.

    Raises
    ------
    OutputDirError
        The folder or its results.json is missing or not pylme4's.
    """
    path = Path(out_dir) / RESULTS_JSON
    if not Path(out_dir).is_dir():
        raise OutputDirError(f"{out_dir}: no such results folder")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputDirError(
            f"{out_dir} holds no {RESULTS_JSON}: is it a pylme4 results folder?"
        ) from None
    except (OSError, ValueError) as exc:
        raise OutputDirError(f"{path}: cannot read it ({one_line(exc)})") from None
    if not isinstance(results, dict) or results.get("format") != RESULTS_FORMAT:
        raise OutputDirError(f"{path} is not a {RESULTS_FORMAT} file")
    problem = _layout_problem(results)
    if problem is not None:
        raise OutputDirError(f"{path}: {problem}; is it a results.json written by pylme4?")
    return results


def _layout_problem(results: dict[str, Any]) -> str | None:
    """What in results.json does not have the layout run() writes (what verify relies on)."""

    def kind(value: Any) -> str:
        return "null" if value is None else type(value).__name__

    for key in ("spec", "models", "provenance"):
        if not isinstance(results.get(key), dict):
            return f"'{key}' must be a mapping, not {kind(results.get(key))}"
    for name, entry in results["models"].items():
        if not outdir._MODEL_NAME.fullmatch(name):
            return f"models: {name!r} is not a model name pylme4 writes"
        if not isinstance(entry, dict):
            return f"models.{name} must be a mapping, not {kind(entry)}"
        files = entry.get("files")
        if not isinstance(files, list) or not all(
            isinstance(f, str) and f in outdir.MODEL_FILES for f in files
        ):
            return f"models.{name}.files must list files pylme4 writes"
    prov = results["provenance"]
    for key in ("spec", "data"):
        if not isinstance(prov.get(key), dict):
            return f"provenance.{key} must be a mapping, not {kind(prov.get(key))}"
    if not isinstance(prov["spec"].get("text"), str):
        return f"provenance.spec.text must be text, not {kind(prov['spec'].get('text'))}"
    return None
