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
