# Changing a fitted model: update() as lme4's update.merMod, refit(),
# refitML(), lme4's drop1, isNested, and the checks of a subset expression.

# What Python needs to check an update of `fit`: the function that fitted it
# and the variables its call's other arguments use (weights = w, subset = ...).
pylme4_update_info <- function(fit) {
  call <- stats::getCall(fit)
  others <- as.list(call)[-1L]
  others <- others[!(names(others) %in% c("formula", "data"))]
  vars <- unique(unlist(lapply(others, all.vars)))
  list(fun = paste(deparse(call[[1L]]), collapse = ""),
       call_vars = I(if (is.null(vars)) character() else vars))
}

# The data a fit's call names, as bound in its environment (for a fit that
# no longer has its DataFrame on the Python side).
pylme4_fit_data <- function(fit) {
  pylme4_call_data(stats::getCall(fit), stats::formula(fit))
}

# The formula update.formula() makes of the fit's formula and `text` (R's
# `. ~ . - x` syntax), as text; `text` is checked as any formula is.
pylme4_update_formula <- function(fit, text) {
  new <- str2lang(text)
  if (!is.call(new) || !identical(new[[1L]], as.name("~")))
    stop("not a formula: it has no '~'")
  problems <- pylme4_formula_problems(new)
  if (length(problems)) return(list(text = "", problems = I(problems)))
  old <- stats::formula(fit)
  f <- stats::update.formula(old, stats::as.formula(new, env = environment(old)))
  list(text = paste(deparse(f, width.cutoff = 500L), collapse = " "),
       problems = I(character()))
}

# The arguments pylme4_build_call() makes of values/symbols/code/control, as
# a named list of what goes into the call.
pylme4_call_pieces <- function(values, symbols, code, control, control_fun) {
  call <- pylme4_build_call("f", "y ~ 1", "d", values, symbols, code, control, control_fun)
  as.list(call)[-(1:3)]
}

# update(fit, formula., <changes>) as lme4's update.merMod builds it: the
# fit's call with the formula replaced and each change set (a NULL change,
# `remove`, drops the argument), evaluated where the fit's data is: a copy
# of the fit's environment with `data` (the data, as R's update would find
# it by its name) bound to `data_name`.  A copy, not the environment itself:
# new vectors (weights, subset) bound next to the data must not replace what
# the old fit's own refits (bootMer, anova, ranova) find there.
pylme4_update_fit <- function(fit, formula_text, data, data_name,
                              values = list(), symbols = list(), code = list(),
                              control = NULL, control_fun = "lmerControl",
                              extra = list(), remove = character()) {
  call <- stats::getCall(fit)
  old_env <- environment(stats::formula(fit))
  env <- new.env(parent = globalenv())
  for (nm in ls(old_env, all.names = TRUE)) assign(nm, get(nm, envir = old_env), envir = env)
  assign(data_name, data, envir = env)
  for (nm in names(extra)) assign(nm, extra[[nm]], envir = env)
  call$formula <- str2lang(formula_text)
  call$data <- as.name(data_name)
  # (deleting an argument a call does not have is an error for calls)
  parts <- as.list(call)
  call <- as.call(parts[!(names(parts) %in% as.character(unlist(remove)))])
  pieces <- pylme4_call_pieces(values, symbols, code, control, control_fun)
  for (nm in names(pieces)) call[[nm]] <- pieces[[nm]]
  pylme4_guard_zero_z(call, env)  # checks.R
  eval(call, envir = env)
}

# lme4's refit(fit, newresp); `newresp` holds the rows the fit used (so R
# drops no rows of it again), a vector or a two-column binomial matrix.
pylme4_refit <- function(fit, newresp, ncol) {
  if (ncol > 1L) newresp <- matrix(newresp, ncol = ncol)
  if (!is.null(attr(fit@frame, "na.action")))
    attr(newresp, "na.action") <- attr(fit@frame, "na.action")
  lme4::refit(fit, newresp)
}

pylme4_refit_ml <- function(fit) lme4::refitML(fit)

# The variables a subset expression uses that are neither columns nor
# objects R can find, as pylme4_formula_vars() reports a formula's.
pylme4_subset_vars <- function(text, columns) {
  e <- str2lang(text)
  problems <- pylme4_formula_problems(e)  # the depth and juxtaposition checks
  if (length(problems))
    return(list(vars = I(character()), unknown = I(character()), problems = I(problems)))
  vars <- all.vars(e)
  outside <- setdiff(vars, columns)
  found <- vapply(outside, function(v) {
    exists(v, envir = globalenv()) && !is.function(get(v, envir = globalenv()))
  }, TRUE)
  list(vars = I(vars), unknown = I(outside[!found]), problems = I(character()))
}

# lme4's drop1(fit, test = test): each term dropped in turn (refitted in the
# fit's environment, as drop1.merMod does), with AIC and, for "Chisq", the
# likelihood-ratio test.
pylme4_lme4_drop1 <- function(fit, test) {
  env <- new.env(parent = environment(stats::formula(fit)))
  env$model <- fit
  call <- quote(drop1(model))
  if (!identical(test, "none")) call$test <- test
  pylme4_anova_parts(eval(call, envir = env))
}

# lme4's isNested(f1, f2): is each level of f1 within one level of f2?
pylme4_is_nested_frame <- function(frame) {
  lme4::isNested(frame$f1, frame$f2)
}
