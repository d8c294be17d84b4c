# Power by simulation (pylme4.power, in pylme4.power_analysis): simulate responses from a model, fit
# the model afresh to each, test one term, count the p-values below alpha.
# docs/power.md shows the same loop written as an R user would write it;
# tests/test_power_vs_r.py runs that loop and compares every p-value.

# What power() needs to know before it starts: the model's fixed-effect
# terms (to check `term`), its coefficients (to check `effect`), whether the
# response can be replaced by simulated values, and the rows the fit used.
pylme4_power_info <- function(fit) {
  lhs <- stats::formula(fit)[[2L]]
  list(terms = I(attr(stats::terms(fit, fixed.only = TRUE), "term.labels")),
       coefficients = I(names(lme4::fixef(fit))),
       response_ok = pylme4_power_lhs_ok(lhs),
       response = paste(deparse(lhs, width.cutoff = 500L), collapse = " "),
       family = if (lme4::isGLMM(fit)) stats::family(fit)$family else "gaussian",
       rows = I(pylme4_rows_used(fit)))
}

# A response power() can replace: a column, or cbind(column, column or
# expression of columns), the binomial successes/failures form.
pylme4_power_lhs_ok <- function(lhs) {
  is.name(lhs) ||
    (is.call(lhs) && identical(lhs[[1L]], as.name("cbind")) && length(lhs) == 3L &&
       is.name(lhs[[2L]]))
}

# The parameters to simulate from: the fit's, with the coefficients named in
# `effect` changed.
pylme4_power_newparams <- function(fit, effect) {
  beta <- lme4::fixef(fit)
  beta[names(effect)] <- unlist(effect)
  params <- list(theta = lme4::getME(fit, "theta"), beta = beta)
  if (!lme4::isGLMM(fit)) params$sigma <- stats::sigma(fit)
  params
}

# nsim responses simulated from the fit with `effect` (R's simulate(), with
# its seed), flattened for Python: n rows x k columns (2 for cbind) x nsim.
pylme4_power_simulate <- function(fit, effect, nsim, seed) {
  ys <- stats::simulate(fit, nsim = nsim, seed = seed,
                        newparams = pylme4_power_newparams(fit, effect))
  pylme4_power_flatten(ys)
}

pylme4_power_flatten <- function(ys) {
  first <- ys[[1L]]
  k <- if (is.matrix(first)) ncol(first) else 1L
  n <- if (is.matrix(first)) nrow(first) else length(first)
  list(ys = I(as.numeric(unlist(lapply(ys, as.numeric), use.names = FALSE))),
       dim = I(c(n, k, length(ys))))
}

# The fit's data with the response replaced by one simulated response `y`
# (a vector, or successes and failures for cbind) in the rows the fit used.
pylme4_power_response <- function(data, lhs, y, rows) {
  if (is.name(lhs)) {
    data[[as.character(lhs)]][rows] <- as.numeric(y)
    return(data)
  }
  y <- matrix(y, ncol = 2L)
  data[[as.character(lhs[[2L]])]][rows] <- y[, 1L]
  failures <- lhs[[3L]]
  if (is.name(failures)) {
    data[[as.character(failures)]][rows] <- y[, 2L]
  } else if (!isTRUE(all.equal(eval(failures, data)[rows], y[, 2L]))) {
    stop("pylme4: the failures of cbind() cannot be set from simulated values")
  }
  data
}

# The p-value of `term` in a model fitted afresh to `data`: the fit's call
# evaluated with its data name bound to `data` (so weights, offsets and
# control are the fit's own), then lmerTest's F test, the likelihood-ratio
# test against the model without `term`, or the Wald z test.
pylme4_power_pvalue <- function(fit, data, term, method) {
  env <- new.env(parent = environment(stats::formula(fit)))
  assign(pylme4_data_name(fit@call), data, envir = env)
  full <- eval(fit@call, env)
  switch(method,
    satterthwaite = ,
    `kenward-roger` = {
      # as_lmerModLmerTest re-evaluates the call from its caller's frame:
      # that frame must see `data` under the data's name (see
      # pylme4_as_lmertest in core.R).
      caller <- new.env(parent = env)
      assign(".pylme4_fit", full, envir = caller)
      lt <- eval(quote(lmerTest::as_lmerModLmerTest(.pylme4_fit)), envir = caller)
      ddf <- if (method == "satterthwaite") "Satterthwaite" else "Kenward-Roger"
      stats::anova(lt, ddf = ddf)[term, "Pr(>F)"]
    },
    lrt = {
      reduced <- fit@call
      reduced$formula <- stats::update.formula(stats::formula(fit), paste(". ~ . -", term))
      stats::anova(eval(reduced, env), full)[2L, "Pr(>Chisq)"]
    },
    wald = stats::coef(summary(full))[term, "Pr(>|z|)"])
}

# P-values for m simulated responses (flattened as pylme4_power_flatten
# gives them).  A fit that fails gives NA and its error's text; warnings are
# counted, messages (such as "boundary (singular) fit") are dropped.
pylme4_power_pvalues <- function(fit, ys, n, k, m, term, method) {
  data <- pylme4_call_data(fit@call, stats::formula(fit))
  lhs <- stats::formula(fit)[[2L]]
  rows <- pylme4_rows_used(fit)
  ys <- array(ys, c(n, k, m))
  p <- rep(NA_real_, m)
  errors <- rep("", m)
  warnings <- integer(m)
  for (i in seq_len(m)) {
    y <- if (k == 1L) ys[, 1L, i] else ys[, , i]
    p[i] <- withCallingHandlers(
      tryCatch(pylme4_power_pvalue(fit, pylme4_power_response(data, lhs, y, rows),
                                   term, method),
               error = function(e) {
                 errors[i] <<- conditionMessage(e)
                 NA_real_
               }),
      warning = function(w) {
        warnings[i] <<- warnings[i] + 1L
        invokeRestart("muffleWarning")
      },
      message = function(msg) invokeRestart("muffleMessage"))
  }
  list(p = I(p), errors = I(errors), warnings = I(warnings))
}

# The design extended (or cut) along the grouping factor `along` to `size`
# levels: level j copies the rows of the fit's level ((j - 1) %% L) + 1; the
# first L keep their names, later copies are named "<level>_2", "<level>_3".
# Only the rows the fit used are copied.
pylme4_power_extend <- function(data, along, size) {
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

# The fit's model on the design extended to `size` levels of `along`: the
# fit's call evaluated on the extended data (its own response copied along),
# the object every simulated response of this size is fitted like.
pylme4_power_design <- function(fit, along, size) {
  data <- pylme4_call_data(fit@call, stats::formula(fit))
  data <- data[pylme4_rows_used(fit), , drop = FALSE]
  extended <- pylme4_power_extend(data, along, size)
  env <- pylme4_fit_env(extended, pylme4_data_name(fit@call))
  parent.env(env) <- environment(stats::formula(fit))
  # The formula's environment is where pylme4 (and lmerTest) look the data
  # up again, so it must be the one holding the extended data.
  call <- fit@call
  formula <- stats::formula(fit)
  environment(formula) <- env
  call$formula <- formula
  suppressMessages(suppressWarnings(eval(call, env)))
}

# nsim responses for the extended design, simulated with lme4's
# simulate.formula from the original fit's parameters (and `effect`).
pylme4_power_simulate_design <- function(fit, design, effect, nsim, seed) {
  family <- if (lme4::isGLMM(fit)) stats::family(fit) else NULL
  ys <- stats::simulate(stats::formula(fit), newdata = pylme4_call_data(design@call,
                        stats::formula(design)), family = family, nsim = nsim,
                        seed = seed, newparams = pylme4_power_newparams(fit, effect))
  pylme4_power_flatten(ys)
}

# Clopper-Pearson interval for `x` successes out of `n` (binom.test's).
pylme4_power_interval <- function(x, n, level) {
  as.numeric(stats::binom.test(x, n, conf.level = level)$conf.int)
}
