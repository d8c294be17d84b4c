# ---- pylme4's R helpers (pylme4/_r/R/script.R) ------------------------------
# This file is both: sourced by pylme4's embedded R with every other file in
# pylme4/_r/R/, and copied verbatim into every script `pylme4 export-r`
# writes.  So pylme4 and the exported script run the same R code for what
# they share (the bootstrap's statistic and printed call, the names of the
# var_corr statistics, the console text of a printout), and the script still
# needs nothing but R.  Only function definitions belong here: the code after
# them in a script is generated from the spec, one call per output
# (pylme4/pipeline/outputs.py names the writer of each).
#
# The writers write into file.path(out_dir, name), `out_dir` being the
# script's own (bound by the generated part); pylme4 itself writes its files
# from Python (pipeline/run.py) and never calls them, in the same formats
# (pylme4_csv_text below), so that both results folders hold the same bytes.

# ---------------------------------------------------------------------------
# Shared with pylme4's inference (inference.R)
# ---------------------------------------------------------------------------

# The R code of the named statistics, as a user would type FUN in bootMer().
# It is evaluated to get the function and also shown in the printed call.
pylme4_boot_fun_code <- function(name) {
  switch(name,
         fixef = "fixef",
         sigma = "sigma",
         theta = 'function(x) getME(x, "theta")',
         var_corr = 'function(x) as.data.frame(VarCorr(x), order = "lower.tri")$sdcor',
         confint = "bootFun",
         stop("unknown bootstrap statistic '", name, "'"))
}

# The standard deviations and correlations in the order of
# as.data.frame(VarCorr(x), order = "lower.tri"), with the names lme4 gives
# them in confint(..., oldNames = FALSE): sd_<term>|<group>,
# cor_<term2>.<term1>|<group> and sigma for the residual.
pylme4_sdcor_names <- function(fit) {
  vc <- as.data.frame(lme4::VarCorr(fit), order = "lower.tri")
  ifelse(vc$grp == "Residual" & is.na(vc$var1), "sigma",
         ifelse(is.na(vc$var2),
                paste0("sd_", vc$var1, "|", vc$grp),
                paste0("cor_", vc$var2, ".", vc$var1, "|", vc$grp)))
}

# The call a user would type for this bootstrap, for the printed result:
# bootMer(x = fit, FUN = fixef, nsim = 100, seed = 1, ...), with only the
# arguments that differ from bootMer's defaults, in bootMer's order.
pylme4_boot_call <- function(fun_code, nsim, seed, use_u, re_form, type) {
  args <- list(as.name("bootMer"), x = as.name("fit"), FUN = str2lang(fun_code), nsim = nsim)
  if (!is.null(seed)) args$seed <- seed
  if (!is.null(re_form)) {
    args$re.form <- if (identical(re_form, "NA")) NA else str2lang(re_form)
  } else if (isTRUE(use_u)) {
    args$use.u <- TRUE
  }
  if (!identical(type, "parametric")) args$type <- type
  as.call(args)
}

# What the console shows for print(x): the output, then any message()
# text (bootMer reports warnings and failures that way), without the final
# newline.
pylme4_console_text <- function(expr_fun) {
  said <- character()
  out <- withCallingHandlers(
    utils::capture.output(expr_fun()),
    message = function(m) {
      said <<- c(said, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  text <- paste(c(out, ""), collapse = "\n")
  if (length(said)) text <- paste0(text, paste(said, collapse = ""))
  sub("\n$", "", text)
}

# Factor levels as the text factor(x, levels = ...) matches them: the spec's
# levels are text, or a list of numbers and logicals as it writes them.
# pipeline.R's pylme4_factor_text() and the script's pylme4_as_factor().
pylme4_level_text <- function(levels) {
  vapply(levels, as.character, "", USE.NAMES = FALSE)
}

# ---------------------------------------------------------------------------
# The exported script: reading the data
# ---------------------------------------------------------------------------

# Where the script writes: its first command-line argument (a path relative
# to the current folder, as every command's argument), or results-r in the
# script's own folder, so that a copied or mounted folder runs as it is.
# Summaries print with UTF-8 quotes in pylme4's R; the script does the same.
pylme4_script_start <- function(args = commandArgs(trailingOnly = TRUE)) {
  suppressPackageStartupMessages(library(lme4))
  if (!l10n_info()[["UTF-8"]]) invisible(Sys.setlocale("LC_CTYPE", "C.UTF-8"))
  if (length(args) >= 1L) args[[1L]] else file.path(pylme4_script_dir(), "results-r")
}

# The folder every path of the script is relative to: the script's own
# (Rscript's --file=; `Rscript -` and an R session read from the current one).
pylme4_script_dir <- function() {
  file_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
  if (length(file_arg) && file_arg[[1L]] != "--file=-")
    dirname(normalizePath(sub("^--file=", "", file_arg[[1L]])))
  else getwd()
}

# factor(x, levels) as pylme4 makes it: values and levels are matched as the
# text as.character() gives them, and a value that is not among the levels
# stops the script (factor() alone would make it NA without a word).
pylme4_as_factor <- function(x, levels, column) {
  text <- as.character(x)
  levels <- pylme4_level_text(levels)
  bad <- unique(text[!is.na(text) & !(text %in% levels)])
  if (length(bad))
    stop(sprintf("column '%s' has values %s that are not among the levels %s",
                 column, paste(sQuote(bad, FALSE), collapse = ", "),
                 paste(levels, collapse = ", ")), call. = FALSE)
  factor(text, levels = levels)
}

# ---------------------------------------------------------------------------
# The exported script: writing files as `pylme4 run` writes them
# ---------------------------------------------------------------------------

# pylme4's file formats, written here and by pylme4 itself
# (pipeline/run.py: csv_text, write_text) byte for byte the same:
# - a table as CSV: a header of the quoted column names; numbers with
#   sprintf("%.17g") (C's printf, correctly rounded in both, so the same
#   text, which reads back as the same double); text quoted, a quote inside
#   doubled (write.csv's quoting); logicals TRUE / FALSE; NA for missing;
# - text (and CSV) as UTF-8 bytes with "\n" line ends and a final newline,
#   written in binary so that no platform changes the line ends.
pylme4_csv_quote <- function(x) {
  ifelse(is.na(x), "NA", paste0('"', gsub('"', '""', enc2utf8(x), fixed = TRUE), '"'))
}

pylme4_csv_cells <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.character(x)) return(pylme4_csv_quote(x))
  if (is.logical(x)) return(ifelse(is.na(x), "NA", ifelse(x, "TRUE", "FALSE")))
  ifelse(is.na(x), "NA", sprintf("%.17g", as.numeric(x)))
}

pylme4_csv_text <- function(x) {
  x <- as.data.frame(x, stringsAsFactors = FALSE)
  header <- paste(pylme4_csv_quote(names(x)), collapse = ",")
  rows <- if (nrow(x)) do.call(paste, c(unname(lapply(x, pylme4_csv_cells)), sep = ","))
  paste0(c(header, rows), "\n", collapse = "")
}

pylme4_write_bytes <- function(text, path) {
  writeBin(charToRaw(enc2utf8(text)), path)
}

pylme4_write_table <- function(x, path) {
  pylme4_write_bytes(pylme4_csv_text(x), path)
}

# Text (lines, or one string with newlines inside) as a file ending in a newline.
pylme4_write_text <- function(text, path) {
  pylme4_write_bytes(paste0(text, "\n", collapse = ""), path)
}

# The spec (its lines, each with its line end), byte for byte as `pylme4 run`
# copies it into its results.
pylme4_write_spec <- function(lines) {
  dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
  pylme4_write_bytes(paste0(lines, collapse = ""), file.path(out_dir, "spec.yaml"))
}

# The outputs every model writes: R's printed summary and the numbers.
pylme4_write_model <- function(fit, name, ddf = NULL) {
  dir <- file.path(out_dir, name)
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  # A variant made by update() has its base model's class: lme4's summary
  # (of an lmerMod) unless ddf asks for lmerTest's, as pylme4 prints it.
  s <- if (methods::is(fit, "glmerMod")) summary(fit)
       else if (is.null(ddf)) summary(methods::as(fit, "lmerMod"))
       else summary(pylme4_script_lmertest(fit), ddf = ddf)
  pylme4_write_text(utils::capture.output(print(s)), file.path(dir, "summary.txt"))
  cf <- coef(s)
  pylme4_write_table(data.frame(term = rownames(cf), cf, check.names = FALSE),
                     file.path(dir, "fixef.csv"))
  pylme4_write_table(as.data.frame(ranef(fit, condVar = TRUE)), file.path(dir, "ranef.csv"))
  pylme4_write_table(as.data.frame(VarCorr(fit)), file.path(dir, "var_corr.csv"))
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
    stats::setNames(theta, paste0("theta:", seq_along(theta))),
    # glmer.nb()'s estimate of the negative binomial's theta.
    if (inherits(fit, "glmerMod") && grepl("^Negative Binomial", family(fit)$family))
      c(nb_theta = lme4::getME(fit, "glmer.nb.theta"))
  )
  pylme4_write_table(data.frame(statistic = names(stats), value = unname(stats)),
                     file.path(dir, "stats.csv"))
  invisible(dir)
}

# boot: bootMer() called as pylme4's boot_mer() prints the call, its
# printout, the replicates and percentile intervals.  The arguments are the
# fields of the spec's boot: (every one given: the spec holds the defaults);
# `workers` is how many processes pylme4 used, which the numbers do not
# depend on.
pylme4_write_boot <- function(fit, name, nsim, seed, workers, fun, type, use_u) {
  b <- eval(pylme4_boot_call(pylme4_boot_fun_code(fun), nsim, seed, use_u, NULL, type))
  # pylme4 names the statistics "sigma" and sd_/cor_ (pylme4_sdcor_names).
  statistics <- switch(fun, sigma = "sigma", var_corr = pylme4_sdcor_names(fit), names(b$t0))
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_console_text(function() print(b)), file.path(dir, "boot.txt"))
  t <- b$t
  colnames(t) <- statistics
  pylme4_write_table(data.frame(replicate = seq_len(nrow(t)), t, check.names = FALSE),
                     file.path(dir, "boot.csv"))
  ci <- confint(b, level = 0.95, type = "perc")
  pylme4_write_table(data.frame(statistic = statistics, ci, check.names = FALSE),
                     file.path(dir, "boot_ci.csv"))
}

# all_fit: summary(allFit(fit)), one row per optimizer (timings left out:
# they vary).
pylme4_write_all_fit <- function(fit, name) {
  af <- allFit(fit)
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
  pylme4_write_table(table, file.path(out_dir, name, "all_fit.csv"))
}

# confint: confint(fit, method = ...), with the parameters' names as a
# column; level only when it is not confint's default, nsim and seed only
# for the bootstrap (as pylme4 calls it).  The arguments are the fields of
# the spec's confint: (seed left out when the spec has none; `workers` is how
# many processes pylme4 used, which the intervals do not depend on).
pylme4_write_confint <- function(fit, name, method, level, nsim, seed = NULL, workers = 1) {
  args <- list(as.name("confint"), as.name("fit"), method = method)
  if (level != 0.95) args$level <- level
  if (identical(method, "boot")) args <- c(args, list(nsim = nsim, seed = seed))
  ci <- eval(as.call(args))
  pylme4_write_table(data.frame(parameter = rownames(ci), ci, check.names = FALSE),
                     file.path(out_dir, name, "confint.csv"))
}

# ---------------------------------------------------------------------------
# lmerTest's tools and comparisons (drop1:, step:, contest:, ls_means:,
# difflsmeans:, compare:)
# ---------------------------------------------------------------------------

# The lmerTest version of a fit (the script fits with lme4's lmer() unless
# the spec asks for lmerTest's summary), as lmerTest::lmer() makes it.
pylme4_script_lmertest <- function(fit) {
  if (inherits(fit, "lmerModLmerTest")) fit else lmerTest::as_lmerModLmerTest(fit)
}

# R's printout of x as pylme4 keeps it (the lines of print(x)).
pylme4_print_lines <- function(x) utils::capture.output(print(x))

# A table whose row names matter (anova, ls_means), with them as the first
# column, named `first`.
pylme4_write_rows <- function(x, path, first = "term") {
  x <- as.data.frame(unclass(x), check.names = FALSE, row.names = rownames(x))
  table <- cbind(stats::setNames(data.frame(rownames(x)), first), x)
  pylme4_write_table(table, path)
}

# drop1: lmerTest's drop1(fit, ddf = ddf), F tests of the marginal terms.
pylme4_write_drop1 <- function(fit, name, ddf) {
  d <- stats::drop1(pylme4_script_lmertest(fit), ddf = ddf)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(d), file.path(dir, "drop1.txt"))
  pylme4_write_rows(d, file.path(dir, "drop1.csv"))
}

# step: lmerTest's step(fit, ...), its printout and both elimination tables.
pylme4_write_step <- function(fit, name, reduce_fixed, reduce_random, alpha_random,
                              alpha_fixed, ddf) {
  s <- lmerTest::step(pylme4_script_lmertest(fit), ddf = ddf,
                      alpha.random = alpha_random, alpha.fixed = alpha_fixed,
                      reduce.fixed = reduce_fixed, reduce.random = reduce_random)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(s), file.path(dir, "step.txt"))
  pylme4_write_rows(s$random, file.path(dir, "step_random.csv"))
  pylme4_write_rows(s$fixed, file.path(dir, "step_fixed.csv"))
}

# contest: lmerTest's contest(fit, L, joint = , ddf = ) of each named
# contrast; L is a vector of weights, or a list of rows (a matrix, its
# columns named by the coefficients).  The printouts, each after its name,
# and the numbers one row each: contrast, row, statistic, value.
pylme4_write_contest <- function(fit, name, contest) {
  lt <- pylme4_script_lmertest(fit)
  coefs <- names(lme4::fixef(lt))
  texts <- character()
  parts <- list()
  for (cname in names(contest)) {
    spec <- contest[[cname]]
    L <- spec$L
    if (is.list(L))
      L <- matrix(unlist(L), nrow = length(L), byrow = TRUE, dimnames = list(NULL, coefs))
    x <- lmerTest::contest(lt, L, joint = spec$joint, ddf = spec$ddf)
    texts <- c(texts, paste(c(paste0(cname, ":"), pylme4_print_lines(x)), collapse = "\n"))
    m <- as.matrix(x)
    parts[[length(parts) + 1L]] <- data.frame(
      contrast = cname, row = rep(rownames(x), each = ncol(x)),
      statistic = rep(colnames(x), times = nrow(x)), value = as.vector(t(m)))
  }
  dir <- file.path(out_dir, name)
  pylme4_write_text(paste(texts, collapse = "\n\n"), file.path(dir, "contest.txt"))
  pylme4_write_table(do.call(rbind, parts), file.path(dir, "contest.csv"))
}

# ls_means / difflsmeans: lmerTest's least-squares means (or their pairwise
# differences) of the factor terms `which` (NULL: all).
pylme4_write_ls_means <- function(fit, name, level, ddf, which = NULL, file = "ls_means") {
  lt <- pylme4_script_lmertest(fit)
  x <- if (identical(file, "difflsmeans"))
         lmerTest::difflsmeans(lt, which = which, level = level, ddf = ddf)
       else lmerTest::ls_means(lt, which = which, level = level, ddf = ddf)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(x), file.path(dir, paste0(file, ".txt")))
  pylme4_write_rows(x, file.path(dir, paste0(file, ".csv")))
}

pylme4_write_difflsmeans <- function(fit, name, level, ddf, which = NULL) {
  pylme4_write_ls_means(fit, name, level, ddf, which, file = "difflsmeans")
}

# compare: anova(m0, m1, ...) with each fit bound to its model's name, as a
# user types it (R prints the names); refit = FALSE only when asked.  Fits
# made by lmerTest::lmer() are compared as the lme4 fits they are.
pylme4_write_compare <- function(fits, name, refit) {
  env <- new.env(parent = globalenv())
  # lme4's anova() for lmer fits (not lmerTest's); a glmer stays as it is.
  for (nm in names(fits)) {
    x <- fits[[nm]]
    assign(nm, if (methods::is(x, "lmerMod")) methods::as(x, "lmerMod") else x, envir = env)
  }
  args <- c(list(as.name("anova")), lapply(names(fits), as.name))
  if (!refit) args$refit <- FALSE
  a <- eval(as.call(args), envir = env)
  dir <- file.path(out_dir, name)
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  pylme4_write_text(pylme4_print_lines(a), file.path(dir, "anova.txt"))
  pylme4_write_rows(a, file.path(dir, "anova.csv"), first = "model")
}

# ---------------------------------------------------------------------------
# Power by simulation (power:), the loop of docs/power.md written out in R
# alone: it does not share pylme4's power.R, so that verify --with-r checks
# pylme4's p-values against an independent loop.
# ---------------------------------------------------------------------------

# One simulated response put into the data: the response column (or the
# successes and a failures column of cbind(); failures written as an
# expression such as size - incidence follow from the successes).
pylme4_script_response <- function(data, lhs, y, rows) {
  if (is.name(lhs)) {
    data[[as.character(lhs)]][rows] <- as.numeric(y)
    return(data)
  }
  y <- matrix(y, ncol = 2L)
  data[[as.character(lhs[[2L]])]][rows] <- y[, 1L]
  if (is.name(lhs[[3L]])) data[[as.character(lhs[[3L]])]][rows] <- y[, 2L]
  data
}

# The p-value of `term` for the model's own call fitted afresh to `data`
# (bound here under the name the call uses as `data`).
pylme4_script_power_p <- function(fit, data, term, method) {
  call <- stats::getCall(fit)
  call$data <- quote(data)
  full <- eval(call)
  switch(method,
    satterthwaite = ,
    `kenward-roger` = {
      lt <- if (inherits(full, "lmerModLmerTest")) full else lmerTest::as_lmerModLmerTest(full)
      ddf <- if (method == "satterthwaite") "Satterthwaite" else "Kenward-Roger"
      stats::anova(lt, ddf = ddf)[term, "Pr(>F)"]
    },
    lrt = {
      reduced <- call
      reduced$formula <- stats::update.formula(stats::formula(fit), paste(". ~ . -", term))
      small <- eval(reduced)
      if (methods::is(full, "lmerMod")) {
        full <- methods::as(full, "lmerMod")
        small <- methods::as(small, "lmerMod")
      }
      stats::anova(small, full)[2L, "Pr(>Chisq)"]
    },
    wald = stats::coef(summary(full))[term, "Pr(>|z|)"])
}

# p-values (NA for a fit that failed, with its error), and warnings counted,
# for every simulated response in `ys` (simulate()'s data frame).
pylme4_script_power_loop <- function(fit, data, ys, rows, term, method) {
  lhs <- stats::formula(fit)[[2L]]
  m <- length(ys)
  p <- rep(NA_real_, m)
  errors <- rep("", m)
  warned <- integer(m)
  for (i in seq_len(m)) {
    d <- pylme4_script_response(data, lhs, ys[[i]], rows)
    p[i] <- withCallingHandlers(
      tryCatch(pylme4_script_power_p(fit, d, term, method),
               error = function(e) {
                 errors[i] <<- conditionMessage(e)
                 NA_real_
               }),
      warning = function(w) {
        warned[i] <<- warned[i] + 1L
        invokeRestart("muffleWarning")
      },
      message = function(msg) invokeRestart("muffleMessage"))
  }
  list(p = p, errors = errors, warned = warned)
}

pylme4_script_newparams <- function(fit, effect) {
  beta <- lme4::fixef(fit)
  for (coef in names(effect)) beta[[coef]] <- effect[[coef]]
  params <- list(theta = lme4::getME(fit, "theta"), beta = beta)
  if (!lme4::isGLMM(fit)) params$sigma <- stats::sigma(fit)
  params
}

# Power with its Clopper-Pearson interval (binom.test's) from the p-values.
pylme4_script_power_summary <- function(found, alpha, level) {
  ok <- !is.na(found$p)
  successes <- sum(found$p[ok] < alpha)
  done <- sum(ok)
  ci <- if (done > 0L) as.numeric(stats::binom.test(successes, done, conf.level = level)$conf.int)
        else c(NaN, NaN)
  list(power = if (done > 0L) successes / done else NaN, ci = ci, successes = successes,
       nsim = length(found$p), n_failed = sum(!ok), n_warned = sum(found$warned > 0L))
}

pylme4_script_percent <- function(x) if (is.nan(x)) "NA" else sprintf("%.2f%%", 100 * x)

# pylme4's printout of a power result (R has no print for this loop).
pylme4_script_power_text <- function(s, term, method, alpha, level, effect, seed) {
  tests <- c(
    satterthwaite = "F test with Satterthwaite's degrees of freedom (lmerTest)",
    `kenward-roger` = "F test with Kenward-Roger's degrees of freedom (lmerTest)",
    lrt = "likelihood-ratio test against the model without the term",
    wald = "Wald z test")
  changed <- if (length(effect))
    sprintf("Simulated with %s; other parameters as fitted",
            paste(sprintf("%s = %g", names(effect), unlist(effect)), collapse = ", "))
  else "Simulated with the fitted parameters"
  c(sprintf("Power for the term '%s', (%g%% confidence interval):", term, 100 * level),
    sprintf("      %s (%s, %s)", pylme4_script_percent(s$power),
            pylme4_script_percent(s$ci[1L]), pylme4_script_percent(s$ci[2L])),
    "",
    sprintf("Test: %s, alpha = %g", tests[[method]], alpha),
    changed,
    "",
    sprintf("Based on %d simulations (%d failed, %d with warnings), seed = %d",
            s$nsim, s$n_failed, s$n_warned, as.integer(seed)))
}

# power: responses simulated from the fit (with `effect`), the model fitted
# afresh to each and `test` tested; power.txt and the p-values in power.csv.
# `workers` is how many processes pylme4 used, which the p-values do not
# depend on.
pylme4_write_power <- function(fit, name, test, seed, nsim, alpha, method, level,
                               workers = 1, effect = NULL) {
  data <- eval(stats::getCall(fit)$data, globalenv())
  rows <- as.integer(rownames(stats::model.frame(fit)))
  ys <- stats::simulate(fit, nsim = nsim, seed = seed,
                        newparams = pylme4_script_newparams(fit, effect))
  found <- pylme4_script_power_loop(fit, data, ys, rows, test, method)
  s <- pylme4_script_power_summary(found, alpha, level)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_script_power_text(s, test, method, alpha, level, effect, seed),
                    file.path(dir, "power.txt"))
  pylme4_write_table(data.frame(simulation = paste0("sim_", seq_len(nsim)), p_value = found$p,
                                error = found$errors),
                     file.path(dir, "power.csv"))
}

# The design extended (or cut) to `size` levels of `along`: level j copies
# the rows of level ((j - 1) %% L) + 1; copies are named <level>_2, ...
pylme4_script_extend <- function(data, along, size) {
  levs <- levels(factor(data[[along]]))
  L <- length(levs)
  parts <- lapply(seq_len(size), function(j) {
    src <- levs[(j - 1L) %% L + 1L]
    rows <- data[as.character(data[[along]]) == src, , drop = FALSE]
    copy <- (j - 1L) %/% L
    rows[[along]] <- if (copy == 0L) src else paste0(src, "_", copy + 1L)
    rows
  })
  out <- do.call(rbind, parts)
  rownames(out) <- NULL
  out[[along]] <- factor(out[[along]], levels = unique(out[[along]]))
  out
}

# power.power_curve: power for designs with n levels of `along`, responses
# simulated with simulate() of the formula (the same seed for every size).
pylme4_write_power_curve <- function(fit, name, test, along, n, seed, nsim, alpha, method,
                                     level, workers = 1, effect = NULL) {
  data <- eval(stats::getCall(fit)$data, globalenv())
  data <- data[as.integer(rownames(stats::model.frame(fit))), , drop = FALSE]
  family <- if (lme4::isGLMM(fit)) stats::family(fit) else NULL
  rows <- lapply(n, function(size) {
    d0 <- pylme4_script_extend(data, along, size)
    ys <- stats::simulate(stats::formula(fit), newdata = d0, family = family, nsim = nsim,
                          seed = seed, newparams = pylme4_script_newparams(fit, effect))
    found <- pylme4_script_power_loop(fit, d0, ys, seq_len(nrow(d0)), test, method)
    s <- pylme4_script_power_summary(found, alpha, level)
    data.frame(n = as.integer(size), power = s$power, ci_low = s$ci[1L], ci_high = s$ci[2L],
               successes = s$successes, nsim = s$nsim, n_failed = s$n_failed,
               n_warned = s$n_warned, nobs = nrow(d0))
  })
  pylme4_write_table(do.call(rbind, rows), file.path(out_dir, name, "power_curve.csv"))
}

# ---------------------------------------------------------------------------
# emmeans and car::Anova (emmeans:, wald_anova:)
# ---------------------------------------------------------------------------

# emmeans(fit, specs, ...) with only the arguments the spec gives (lmer.df
# written out for an lmer, as pylme4 passes it).  A fit made by
# lmerTest::lmer() is given as the lme4 fit it is, as pylme4 gives it.
pylme4_script_emmeans <- function(fit, specs, by, at, type, lmer_df, level, weights) {
  if (methods::is(fit, "lmerModLmerTest")) fit <- methods::as(fit, "lmerMod")
  args <- list(fit, specs)
  if (!is.null(by)) args$by <- by
  if (!is.null(at)) args$at <- at
  if (!is.null(type)) args$type <- type
  if (!is.null(lmer_df)) args$lmer.df <- lmer_df
  if (!is.null(weights)) args$weights <- weights
  if (level != 0.95) args$level <- level
  do.call(emmeans::emmeans, args)
}

# A summary of emmeans as a plain table with R's column names.
pylme4_script_emm_frame <- function(x) {
  frame <- as.data.frame(summary(x))
  attributes(frame) <- attributes(frame)[c("names", "row.names", "class")]
  class(frame) <- "data.frame"
  frame
}

pylme4_write_emmeans <- function(fit, name, specs, by = NULL, at = NULL, type = NULL,
                                 lmer_df = NULL, level = 0.95, weights = NULL) {
  emm <- pylme4_script_emmeans(fit, specs, by, at, type, lmer_df, level, weights)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(summary(emm)), file.path(dir, "emmeans.txt"))
  pylme4_write_table(pylme4_script_emm_frame(emm), file.path(dir, "emmeans.csv"))
}

# emmeans' contrast() of the grid for each entry (method, adjust), printed
# after "method[, adjust = ...]:" and as one table with method and adjust
# ("default": the method's own) in front of R's columns.
pylme4_write_emmeans_contrasts <- function(fit, name, specs, by = NULL, at = NULL,
                                           type = NULL, lmer_df = NULL, level = 0.95,
                                           weights = NULL, contrasts) {
  emm <- pylme4_script_emmeans(fit, specs, by, at, type, lmer_df, level, weights)
  texts <- character()
  parts <- list()
  for (spec in contrasts) {
    args <- list(emm, method = spec$method)
    if (!is.null(spec$adjust)) args$adjust <- spec$adjust
    ctr <- do.call(emmeans::contrast, args)
    label <- if (is.null(spec$adjust)) spec$method
             else paste0(spec$method, ", adjust = ", spec$adjust)
    texts <- c(texts, paste(c(paste0(label, ":"), pylme4_print_lines(summary(ctr))),
                            collapse = "\n"))
    parts[[length(parts) + 1L]] <- cbind(
      data.frame(method = spec$method,
                 adjust = if (is.null(spec$adjust)) "default" else spec$adjust),
      pylme4_script_emm_frame(ctr))
  }
  dir <- file.path(out_dir, name)
  pylme4_write_text(paste(texts, collapse = "\n\n"), file.path(dir, "emmeans_contrasts.txt"))
  pylme4_write_table(do.call(rbind, parts), file.path(dir, "emmeans_contrasts.csv"))
}

# wald_anova: car::Anova(fit, type = "II" | "III", test.statistic = test).
pylme4_write_wald_anova <- function(fit, name, type, test) {
  # lme4's fit (pylme4 tests it), also when the script fitted with lmerTest.
  if (methods::is(fit, "lmerModLmerTest")) fit <- methods::as(fit, "lmerMod")
  a <- car::Anova(fit, type = type, test.statistic = test)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(a), file.path(dir, "wald_anova.txt"))
  pylme4_write_rows(a, file.path(dir, "wald_anova.csv"))
}

# ---------------------------------------------------------------------------
# performance and broom.mixed (r2:, icc:, tidy:)
# ---------------------------------------------------------------------------

# A fit made by lmerTest::lmer() as the lme4 fit pylme4 hands these packages.
pylme4_script_lme4 <- function(fit) {
  if (methods::is(fit, "lmerModLmerTest")) methods::as(fit, "lmerMod") else fit
}

# r2: performance::r2_nakagawa() with pylme4's tolerance, printed and as numbers.
pylme4_write_r2 <- function(fit, name) {
  r2 <- performance::r2_nakagawa(pylme4_script_lme4(fit), tolerance = 1e-5)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(r2), file.path(dir, "r2.txt"))
  pylme4_write_table(data.frame(statistic = c("conditional", "marginal"),
                                value = c(as.numeric(r2$R2_conditional),
                                          as.numeric(r2$R2_marginal))),
                     file.path(dir, "r2.csv"))
}

# icc: performance::icc(), adjusted and unadjusted, or one per grouping factor.
pylme4_write_icc <- function(fit, name, by_group) {
  icc <- performance::icc(pylme4_script_lme4(fit), by_group = by_group, tolerance = 1e-5)
  dir <- file.path(out_dir, name)
  pylme4_write_text(pylme4_print_lines(icc), file.path(dir, "icc.txt"))
  table <- if (by_group) data.frame(Group = icc$Group, ICC = icc$ICC)
           else data.frame(statistic = c("adjusted", "unadjusted"),
                           value = c(as.numeric(icc$ICC_adjusted),
                                     as.numeric(icc$ICC_unadjusted)))
  pylme4_write_table(table, file.path(dir, "icc.csv"))
}

# tidy: broom.mixed::tidy(), its dotted column names in snake_case as pylme4
# gives them (std.error -> std_error).
pylme4_write_tidy <- function(fit, name, effects, conf_int, conf_level, conf_method) {
  tab <- as.data.frame(broom.mixed::tidy(pylme4_script_lme4(fit), effects = effects,
                                         conf.int = conf_int, conf.level = conf_level,
                                         conf.method = conf_method))
  names(tab) <- gsub(".", "_", names(tab), fixed = TRUE)
  pylme4_write_table(tab, file.path(out_dir, name, "tidy.csv"))
}
