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

import math
import os
import re
import unicodedata
from importlib import resources
from pathlib import Path

from .. import __version__
from .data import NA_STRINGS
from .spec import Level, ModelSpec, Spec, _is_r_name
from .trust import check_spec


def r_function(name: str, *, file: str = "inference.R") -> str:
    """The definition of one of pylme4's R helpers (``_r/R/<file>``), as written there.

    The script copies what it shares with pylme4 from the packaged R files, so
    that there is one source and the script still needs nothing but R.
    """
    text = resources.files("pylme4._r").joinpath("R", file).read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)} <- function\(.*?^\}}$", text, re.M | re.S)
    if match is None:
        raise LookupError(f"no function {name} in pylme4/_r/R/{file}")
    return match.group(0)


def boot_fun_code(name: str) -> str:
    """bootMer's FUN for a named statistic, as pylme4's boot_mer() prints it.

    Read from the ``switch()`` of ``pylme4_boot_fun_code`` in inference.R.
    """
    body = r_function("pylme4_boot_fun_code")
    match = re.search(rf"^\s*{re.escape(name)} = (\"[^\"]*\"|'[^']*'),$", body, re.M)
    if match is None:
        raise LookupError(f"no bootstrap statistic {name!r} in pylme4_boot_fun_code")
    return match.group(1)[1:-1]


def r_string(text: str) -> str:
    """An R string literal for ``text``, by R's rules for escapes.

    Everything outside printable ASCII is escaped (``\\u{e9}``, and
    ``\\U{1f600}`` beyond the Basic Multilingual Plane, where R's ``\\u``
    stops), so that any locale parses the script to the same string.  NUL and
    lone surrogates have no R string: ValueError (the spec refuses them).
    """
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\x00" or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"R strings cannot hold the character {ch!r}")
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
        elif code > 0xFFFF:
            out.append(f"\\U{{{code:x}}}")
        elif code < 32 or code >= 127:
            # Never \\x: R refuses a string that mixes \\x and \\u escapes.
            out.append(f"\\u{{{code:04x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _r_vector(items: list[str] | tuple[str, ...]) -> str:
    return "c(" + ", ".join(r_string(x) for x in items) + ")"


def _r_level(level: Level) -> str:
    """A spec's level as an R literal of its type (what pipeline.data.r_level passes to R)."""
    if isinstance(level, bool):
        return "TRUE" if level else "FALSE"
    if isinstance(level, int) and -(2**31) < level < 2**31:
        return f"{level}L"
    if isinstance(level, (int, float)):
        value = float(level)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return repr(value)
    return r_string(level)


def _r_levels(levels: tuple[Level, ...]) -> str:
    """Text levels as a character vector; levels of other types as a list, one literal each."""
    if all(isinstance(level, str) for level in levels):
        return _r_vector([str(level) for level in levels])
    return "list(" + ", ".join(_r_level(level) for level in levels) + ")"


_HELPERS = r"""
# factor(x, levels) as pylme4 makes it: values and levels (text, or a list
# of numbers and logicals as the spec writes them) are matched as the text
# as.character() gives them, and a value that is not among the levels stops
# the script (factor() alone would make it NA without a word).
as_factor <- function(x, levels, column) {
  text <- as.character(x)
  levels <- vapply(levels, as.character, "", USE.NAMES = FALSE)
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

# Text as a UTF-8 file ending in a newline.
write_text <- function(text, path) {
  con <- file(path, open = "w", encoding = "UTF-8")
  writeLines(text, con)
  close(con)
}

# What the console shows for print(x): the printed lines, then any message()
# (bootMer reports refits that warned or failed that way).
console_text <- function(x) {
  said <- character()
  out <- withCallingHandlers(
    utils::capture.output(print(x)),
    message = function(m) {
      said <<- c(said, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  text <- paste(c(out, ""), collapse = "\n")
  if (length(said)) text <- paste0(text, paste(said, collapse = ""))
  sub("\n$", "", text)
}

# The outputs every model writes: R's printed summary and the numbers.
write_model <- function(fit, name, ddf = NULL) {
  dir <- file.path(out_dir, name)
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  s <- if (is.null(ddf)) summary(fit) else summary(fit, ddf = ddf)
  write_text(utils::capture.output(print(s)), file.path(dir, "summary.txt"))
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

# Names of the standard deviations and correlations of VarCorr(), as pylme4
# names the bootstrap statistic "var_corr" (sd_<term>|<group>,
# cor_<term2>.<term1>|<group>, sigma).
{sdcor_names}

# A bootstrap: its printout, the replicates, and percentile intervals.
write_boot <- function(b, name, statistics = names(b$t0)) {
  dir <- file.path(out_dir, name)
  write_text(console_text(b), file.path(dir, "boot.txt"))
  t <- b$t
  colnames(t) <- statistics
  write_table(data.frame(replicate = seq_len(nrow(t)), t, check.names = FALSE),
              file.path(dir, "boot.csv"))
  ci <- confint(b, level = 0.95, type = "perc")
  write_table(data.frame(statistic = statistics, ci, check.names = FALSE),
              file.path(dir, "boot_ci.csv"))
}

# summary(allFit(fit)), one row per optimizer (timings left out: they vary).
write_all_fit <- function(af, name) {
  s <- summary(af)
  opt <- names(af)
  ok <- s$which.OK[opt]
  by_optimizer <- function(m, prefix) {
    m <- as.matrix(m)
    out <- matrix(NA_real_, length(opt), ncol(m),
                  dimnames = list(opt, paste0(prefix, colnames(m))))
    out[rownames(m), ] <- m
    out
  }
  table <- data.frame(optimizer = opt, ok = ifelse(ok, "TRUE", "FALSE"),
                      logLik = unname(s$llik[opt]), feval = unname(s$feval[opt]),
                      by_optimizer(s$fixef, "fixef:"), by_optimizer(s$sdcor, "sdcor:"),
                      by_optimizer(s$theta, "theta:"), check.names = FALSE)
  table$messages <- vapply(opt, function(o) paste(unlist(s$msgs[[o]]), collapse = " | "), "")
  table$error <- vapply(opt, function(o) if (ok[[o]]) "" else conditionMessage(af[[o]]), "")
  write_table(table, file.path(out_dir, name, "all_fit.csv"))
}

# confint(), with the parameters' names as a column.
write_confint <- function(ci, name) {
  write_table(data.frame(parameter = rownames(ci), ci, check.names = FALSE),
              file.path(out_dir, name, "confint.csv"))
}
"""


def _sdcor_names() -> str:
    """inference.R's pylme4_sdcor_names, bound as the script's sdcor_names."""
    text = r_function("pylme4_sdcor_names")
    return "sdcor_names" + text[len("pylme4_sdcor_names") :]


def r_name(name: str) -> str:
    """A name the script binds or reads (the data's), written as R code.

    Only syntactic names get here (the spec checks them); anything else is a
    bug, refused rather than pasted into code.
    """
    if not _is_r_name(name):
        raise ValueError(f"{name!r} is not a syntactic R name")
    return name


def _comment(text: str) -> str:
    """Text for an R comment: control characters (a newline would end it) as '?'."""
    return "".join("?" if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def _r_path(spec: Spec, path: str) -> str:
    """A path as an R string; a path R cannot hold (undecodable bytes) is a spec error."""
    try:
        return r_string(path)
    except ValueError:
        raise spec.error(
            "data.csv", f"the path {path!r} is not text R can hold (rename the folder or file)"
        ) from None


def _data_lines(spec: Spec, script_path: Path | None) -> list[str]:
    name = r_name(spec.data.name)
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
                f"data_file <- file.path(script_dir, {_r_path(spec, Path(relative).as_posix())})",
            ]
        else:
            lines.append(f"data_file <- {_r_path(spec, str(csv))}")
        lines.append(
            f"{name} <- read.csv(data_file, na.strings = {_r_vector(NA_STRINGS)}, "
            'check.names = FALSE, encoding = "UTF-8")'
        )
    else:
        package = spec.data.package or "lme4"
        # getExportedValue() is what `pkg::name` calls, with both as strings.
        lines.append(
            f"{name} <- as.data.frame(getExportedValue({r_string(package)}, "
            f"{r_string(str(spec.data.dataset))}))"
        )
    if spec.data.factors:
        lines.append("# Factor levels from the spec; the first level is the reference.")
        for column, levels in spec.data.factors.items():
            ref = f"{name}[[{r_string(column)}]]"
            lines.append(f"{ref} <- as_factor({ref}, {_r_levels(levels)}, {r_string(column)})")
    return lines


def _model_lines(model: ModelSpec, data_name: str) -> list[str]:
    fun = "lmerTest::lmer" if model.ddf is not None else "lmer"
    # The formula is code: trust.check_spec() has parsed it as exactly one R
    # expression without a comment, so as an argument it stays that expression.
    args = f"{model.formula}, data = {r_name(data_name)}"
    if not model.reml:
        args += ", REML = FALSE"
    name = r_string(model.name)
    lines = [
        f"# ---- model {_comment(model.name)} " + "-" * max(3, 65 - len(model.name)),
        f"fit <- {fun}({args})",
        f"write_model(fit, {name}"
        + (f", ddf = {r_string(model.ddf)})" if model.ddf is not None else ")"),
    ]
    if model.boot is not None:
        boot = model.boot
        call = (
            f"bootMer(fit, FUN = {boot_fun_code(boot.fun)}, nsim = {boot.nsim}, seed = {boot.seed}"
        )
        if boot.use_u:
            call += ", use.u = TRUE"
        if boot.type != "parametric":
            call += f", type = {r_string(boot.type)}"
        lines.append(f"b <- {call})")
        statistics = {"sigma": ', "sigma"', "var_corr": ", sdcor_names(fit)"}.get(boot.fun, "")
        lines.append(f"write_boot(b, {name}{statistics})")
    if model.all_fit:
        lines.append(f"write_all_fit(allFit(fit), {name})")
    if model.confint is not None:
        ci = model.confint
        args = f"fit, method = {r_string(ci.method)}"
        if ci.level != 0.95:
            args += f", level = {ci.level!r}"
        if ci.method == "boot":
            args += f", nsim = {ci.nsim}, seed = {ci.seed}"
        lines.append(f"write_confint(confint({args}), {name})")
    return lines


def export_r(spec: Spec, script_path: str | Path | None = None, *, trust: bool = False) -> str:
    """The text of a standalone R script that does the analysis of ``spec``.

    Parameters
    ----------
    spec
        A validated spec.
    script_path
        Where the script will be saved: the data file is then found relative
        to the script's folder (so the two can move together).  Without it
        the data file's absolute path is written.
    trust
        Lift the allow-list of :mod:`pylme4.pipeline.trust` (``--trust``).

    Raises
    ------
    SpecError
        The spec calls a function off the allow-list, or reads data outside
        its folder (unless ``trust``); its formula is not one R expression.
    """
    check_spec(spec, trust=trust)
    path = None if script_path is None else Path(script_path)
    needs = ["lme4"]
    if any(m.ddf is not None for m in spec.models):
        needs.append("lmerTest")
    if any(m.boot is not None or (m.confint and m.confint.method == "boot") for m in spec.models):
        needs.append("boot")
    if any(m.all_fit for m in spec.models):
        needs += ["optimx", "dfoptim"]
    header = [
        f"# Written by pylme4 {__version__} from {_comment(Path(spec.source).name)}: "
        "the same analysis in R alone.",
        "#",
        "#   Rscript " + (path.name if path is not None else "analysis.R") + " [OUTDIR]"
        "      (OUTDIR defaults to results-r)",
        "#",
        "# writes OUTDIR/<model>/summary.txt, fixef.csv, ranef.csv, var_corr.csv,",
        "# stats.csv (and boot.txt, boot.csv, boot_ci.csv, all_fit.csv, confint.csv",
        "# when the spec asks for them), laid out as `pylme4 run` writes them, so that",
        "# `pylme4 verify --with-r` can compare R's numbers with pylme4's.",
        "# Needs R with the packages " + ", ".join(needs) + ".",
        "",
        "suppressPackageStartupMessages(library(lme4))",
        "# Summaries print with UTF-8 quotes in pylme4's R; do the same here.",
        'if (!l10n_info()[["UTF-8"]]) invisible(Sys.setlocale("LC_CTYPE", "C.UTF-8"))',
        "",
        "args <- commandArgs(trailingOnly = TRUE)",
        'out_dir <- if (length(args) >= 1L) args[[1L]] else "results-r"',
    ]
    helpers = _HELPERS.replace("{sdcor_names}", _sdcor_names())
    body = [*header, helpers.rstrip("\n"), "", *_data_lines(spec, path), ""]
    for model in spec.models:
        body += _model_lines(model, spec.data.name)
        body.append("")
    return "\n".join(body)
