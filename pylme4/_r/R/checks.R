# R-side checks that let pylme4 name the culprit of a bad input: formulas
# that parse but that lme4 would reject with an unclear message, and the
# grouping factors lme4 builds (asked only after a fit failed).

# Problems with a parsed formula that R's parser accepts but lme4 cannot use,
# each as one sentence; character(0) when there are none.
pylme4_formula_problems <- function(f) {
  problems <- character()
  add <- function(text) problems <<- c(problems, text)
  show <- function(x) paste(deparse(x, width.cutoff = 500L), collapse = " ")
  walk <- function(x, top = FALSE) {
    if (is.character(x)) {
      add(sprintf(paste0("it contains the string %s; a column name with spaces or other ",
                         "special characters goes in backticks, e.g. `my column`"),
                  encodeString(x, quote = '"')))
    } else if (is.call(x)) {
      head <- x[[1L]]
      if (is.call(head)) {
        add(sprintf(paste0("'%s' puts two terms next to each other without an operator; ",
                           "did you forget a '+'?"), show(x)))
      } else if (!top && identical(head, as.name("~"))) {
        add("it has more than one '~'")
      }
      for (arg in as.list(x)[-1L]) if (!missing(arg)) walk(arg)
    }
  }
  walk(f, top = TRUE)
  if (!length(problems)) {
    for (bar in lme4::findbars(f)) {
      lhs <- bar[[2L]]
      if (identical(lhs, 0) || identical(lhs, -1) ||
          (is.call(lhs) && identical(lhs[[1L]], as.name("-")) && length(lhs) == 2L &&
           identical(lhs[[2L]], 1))) {
        add(sprintf(paste0("the random-effects term (%s) has no effects: '0' removes the ",
                           "intercept and nothing is left"), show(bar)))
      }
    }
  }
  problems
}

# The grouping factors lme4 builds for a model (name -> number of levels, and
# its first levels), computed by lme4's own lFormula() on the same call with
# the checks on levels switched off.  Used to name the factor when lmer()
# failed with "grouping factors must have > 1 sampled level".
pylme4_grouping_levels <- function(formula_text, data, data_name, symbols = list(),
                                   extra = list()) {
  env <- pylme4_fit_env(data, data_name, extra)
  ignore <- list(check.nlev.gtr.1 = "ignore", check.nobs.vs.nlev = "ignore",
                 check.nobs.vs.rankZ = "ignore", check.nobs.vs.nRE = "ignore")
  call <- pylme4_build_call("lFormula", formula_text, data_name, symbols = symbols,
                            control = ignore, control_fun = "lmerControl")
  flist <- eval(call, envir = env)$reTrms$flist
  lapply(flist, function(g) list(n = nlevels(g), levels = as.list(utils::head(levels(g), 3L))))
}

# lme4 1.1-31 crashes R (a segfault in CHOLMOD, not an error) when the
# random-effects model matrix Z has no non-zero entry: every term lacks an
# intercept and its covariates are 0 in all rows used, e.g. (0 + x | g) with
# x == 0.  Only models whose random-effects terms all lack an intercept can
# get there, so only those pay for building the model matrices (lFormula)
# once more before the fit.  Stops with an error naming the terms instead.
pylme4_guard_zero_z <- function(call, env) {
  builder <- switch(as.character(call[[1L]]), lmer = quote(lme4::lFormula),
                    glmer = quote(lme4::glFormula), NULL)
  if (is.null(builder)) return(invisible())
  f <- eval(call$formula, envir = env)
  bars <- lme4::findbars(f)
  has_intercept <- function(bar) {
    attr(stats::terms(stats::as.formula(call("~", bar[[2L]]))), "intercept") == 1L
  }
  if (!length(bars) || any(vapply(bars, has_intercept, TRUE))) return(invisible())
  check <- call
  check[[1L]] <- builder
  check$control <- NULL  # lFormula's own checks are not what this looks for
  lf <- tryCatch(eval(check, envir = env), error = function(e) NULL)
  if (is.null(lf)) return(invisible())  # the fit itself will say what is wrong
  zero <- vapply(lf$reTrms$Ztlist, function(z) !any(z@x != 0), TRUE)
  if (all(zero))
    stop(sprintf(paste0("pylme4: the random-effects model matrix is all zero ",
                        "(terms: %s): every row used has 0 in these terms' variables"),
                 paste0("(", names(lf$reTrms$Ztlist), ")", collapse = ", ")),
         call. = FALSE)
  invisible()
}
