"""A spec as a standalone R script: the same analysis, in R alone.

The script reads the data as pylme4 does (``read.csv`` with the spec's
missing-value rules and factor levels, or the bundled data set), fits each
model with ``lmer()`` (``lmerTest::lmer()`` when the spec asks for ``ddf``),
and writes the same files as ``pylme4 run`` (summary.txt, fixef.csv,
ranef.csv, var_corr.csv, stats.csv, and the optional outputs), with numbers
written to 17 significant digits so that they read back as the same doubles.
``pylme4 verify --with-r`` runs it with Rscript and compares R's own numbers
with the stored ones.

Usage of the script::

    Rscript analysis.R [OUTDIR]        # default OUTDIR: results-r
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import __version__
from .data import NA_STRINGS
from .spec import ModelSpec, Spec

_BOOT_FUN = {
    "fixef": "fixef",
    "sigma": "sigma",
    "theta": 'function(m) getME(m, "theta")',
}


def r_string(text: str) -> str:
    """An R string literal for ``text`` (non-ASCII as \\u escapes, so any locale parses it)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) > 127:
            out.append(f"\\u{{{ord(ch):04x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _r_vector(items: list[str] | tuple[str, ...]) -> str:
    return "c(" + ", ".join(r_string(x) for x in items) + ")"


_HELPERS = r"""
# factor(x, levels) as pylme4 makes it: a value that is not among the levels
# stops the script (factor() alone would make it NA without a word).
as_factor <- function(x, levels, column) {
  text <- as.character(x)
  bad <- unique(text[!is.na(text) & !(text %in% levels)])
  if (length(bad))
    stop(sprintf("column '%s' has values %s that are not among the levels %s",
                 column, paste(sQuote(bad, FALSE), collapse = ", "),
                 paste(levels, collapse = ", ")), call. = FALSE)
  factor(text, levels = levels)
}

# A table as CSV: numbers with 17 significant digits (they read back as the
# same doubles), NA for missing values, UTF-8, "\n" line ends.
write_table <- function(x, path) {
  x <- as.data.frame(x, stringsAsFactors = FALSE)
  numeric <- vapply(x, is.numeric, TRUE)
  for (j in which(numeric))
    x[[j]] <- ifelse(is.na(x[[j]]), NA_character_, sprintf("%.17g", x[[j]]))
  utils::write.csv(x, path, row.names = FALSE, na = "NA", fileEncoding = "UTF-8",
                   eol = "\n", quote = which(!numeric))
}

# The outputs every model writes: R's printed summary and the numbers.
write_model <- function(fit, name, ddf = NULL) {
  dir <- file.path(out_dir, name)
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  s <- if (is.null(ddf)) summary(fit) else summary(fit, ddf = ddf)
  con <- file(file.path(dir, "summary.txt"), open = "w", encoding = "UTF-8")
  writeLines(utils::capture.output(print(s)), con)
  close(con)
  cf <- coef(s)
  write_table(data.frame(term = rownames(cf), cf, check.names = FALSE),
              file.path(dir, "fixef.csv"))
  write_table(as.data.frame(ranef(fit, condVar = TRUE)), file.path(dir, "ranef.csv"))
  write_table(as.data.frame(VarCorr(fit)), file.path(dir, "var_corr.csv"))
  ngrps <- vapply(getME(fit, "flist"), nlevels, 0L)
  reml <- isREML(fit)
  theta <- unname(getME(fit, "theta"))
  stats <- c(
    nobs = nobs(fit),
    stats::setNames(as.numeric(ngrps), paste0("ngroups:", names(ngrps))),
    sigma = sigma(fit),
    logLik = as.numeric(logLik(fit)),
    AIC = AIC(fit),
    BIC = BIC(fit),
    # lme4's deviance() of a REML fit is the REML criterion; the ML deviance
    # at the REML estimates is what summary() and pylme4 report as deviance.
    deviance = if (reml) deviance(fit, REML = FALSE) else deviance(fit),
    if (reml) c(REMLcrit = REMLcrit(fit)),
    stats::setNames(theta, paste0("theta:", seq_along(theta)))
  )
  write_table(data.frame(statistic = names(stats), value = unname(stats)),
              file.path(dir, "stats.csv"))
  invisible(dir)
}
"""


def _data_lines(spec: Spec, script_path: Path | None) -> list[str]:
    name = spec.data.name
    lines = ["# ---- data " + "-" * 66]
    if spec.csv_path is not None:
        csv = spec.csv_path
        if script_path is not None:
            relative = os.path.relpath(csv, Path(script_path).resolve().parent)
            lines += [
                "# The data file, relative to this script's folder.",
                "script_dir <- local({",
                '  file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)',
                '  if (length(file_arg)) dirname(normalizePath(sub("^--file=", "", file_arg[[1L]])))',
                "  else getwd()",
                "})",
                f"data_file <- file.path(script_dir, {r_string(Path(relative).as_posix())})",
            ]
        else:
            lines.append(f"data_file <- {r_string(str(csv))}")
        lines.append(
            f"{name} <- read.csv(data_file, na.strings = {_r_vector(NA_STRINGS)}, "
            'check.names = FALSE, encoding = "UTF-8")'
        )
    else:
        package = spec.data.package or "lme4"
        lines.append(f"{name} <- as.data.frame({package}::{spec.data.dataset})")
    if spec.data.factors:
        lines.append("# Factor levels from the spec; the first level is the reference.")
        for column, levels in spec.data.factors.items():
            ref = f"{name}[[{r_string(column)}]]"
            lines.append(f"{ref} <- as_factor({ref}, {_r_vector(levels)}, {r_string(column)})")
    return lines


def _model_lines(model: ModelSpec, data_name: str) -> list[str]:
    fun = "lmerTest::lmer" if model.ddf is not None else "lmer"
    args = f"{model.formula}, data = {data_name}"
    if not model.reml:
        args += ", REML = FALSE"
    lines = [
        f"# ---- model {model.name} " + "-" * max(3, 65 - len(model.name)),
        f"fit <- {fun}({args})",
        f"write_model(fit, {r_string(model.name)}"
        + (f", ddf = {r_string(model.ddf)})" if model.ddf is not None else ")"),
    ]
    return lines


def export_r(spec: Spec, script_path: str | Path | None = None) -> str:
    """The text of a standalone R script that does the analysis of ``spec``.

    Parameters
    ----------
    spec
        A validated spec.
    script_path
        Where the script will be saved: the data file is then found relative
        to the script's folder (so the two can move together).  Without it
        the data file's absolute path is written.
    """
    path = None if script_path is None else Path(script_path)
    needs_lmertest = any(m.ddf is not None for m in spec.models)
    header = [
        f"# Written by pylme4 {__version__} from {Path(spec.source).name}: the same analysis in R alone.",
        "#",
        "#   Rscript " + (path.name if path is not None else "analysis.R") + " [OUTDIR]"
        "      (OUTDIR defaults to results-r)",
        "#",
        "# writes OUTDIR/<model>/summary.txt, fixef.csv, ranef.csv, var_corr.csv and",
        "# stats.csv, laid out as `pylme4 run` writes them, so that",
        "# `pylme4 verify --with-r` can compare R's numbers with pylme4's.",
        "# Needs R with lme4" + (" and lmerTest" if needs_lmertest else "") + ".",
        "",
        "suppressPackageStartupMessages(library(lme4))",
        "# Summaries print with UTF-8 quotes in pylme4's R; do the same here.",
        'if (!l10n_info()[["UTF-8"]]) invisible(Sys.setlocale("LC_CTYPE", "C.UTF-8"))',
        "",
        "args <- commandArgs(trailingOnly = TRUE)",
        'out_dir <- if (length(args) >= 1L) args[[1L]] else "results-r"',
    ]
    body = [*header, _HELPERS.rstrip("\n"), "", *_data_lines(spec, path), ""]
    for model in spec.models:
        body += _model_lines(model, spec.data.name)
        body.append("")
    return "\n".join(body)
