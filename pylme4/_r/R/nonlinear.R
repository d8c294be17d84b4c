# nlmer(): nonlinear mixed models with R's self-starting models.
#
# lme4's nlmer() checks its formula and start values with stopifnot(), whose
# messages ("pnames %in% all.vars(...) are not all TRUE") name no culprit, so
# the formula is read here first and every problem is said in one sentence.

# The self-starting models of package stats.  nlmer needs a model that
# returns its gradient as an attribute; these do (any other call stops in
# lme4 with "is.matrix(gr <- attr(val, "gradient")) is not TRUE").
pylme4_self_start_models <- c("SSasymp", "SSasympOff", "SSasympOrig", "SSbiexp",
                              "SSfol", "SSfpl", "SSgompertz", "SSlogis", "SSmicmen",
                              "SSweibull")

# What nlmer's three-part formula `response ~ SSmodel(x, p1, p2) ~ p1 | g` is
# made of: the model's name and text, its parameters (in the model's order),
# the variables of its inputs (x), the variables that must be columns, and the problems (sentences) that stop
# it before lme4 sees it.  `columns` are the data's column names.
pylme4_nlmer_formula <- function(formula_text, columns) {
  none <- I(character())
  out <- list(model = "", model_name = "", params = none, inputs = none, vars = none,
              response = "", unknown = none, problems = none)
  fail <- function(text) {
    out$problems <- I(text)
    out
  }
  f <- str2lang(formula_text)
  is_tilde <- function(x, n) is.call(x) && identical(x[[1L]], as.name("~")) && length(x) == n
  if (!is_tilde(f, 3L) || !is_tilde(f[[2L]], 3L))
    return(fail(paste0("nlmer's formula has three parts, response ~ nonlinear model ~ ",
                       "random effects, e.g. y ~ SSlogis(x, Asym, xmid, scal) ~ Asym | g")))
  nlform <- f[[2L]]
  re <- call("~", f[[3L]])
  problems <- c(pylme4_formula_problems(nlform), pylme4_formula_problems(re))  # checks.R
  if (length(problems)) return(fail(problems))
  model <- nlform[[3L]]
  out$model <- paste(deparse(model, width.cutoff = 500L), collapse = " ")
  head <- if (is.call(model)) model[[1L]] else NULL
  # SSlogis or stats::SSlogis
  if (is.call(head) && length(head) == 3L && identical(head[[1L]], as.name("::")) &&
      identical(head[[2L]], as.name("stats")))
    head <- head[[3L]]
  name <- if (is.name(head)) as.character(head) else ""
  if (!name %in% pylme4_self_start_models) {
    what <- if (nzchar(name)) sprintf("'%s'", name) else sprintf("'%s'", out$model)
    return(fail(sprintf(paste0("nlmer's model %s is not one of R's self-starting models ",
                               "(%s): lme4 needs the gradient they return"),
                        what, paste(pylme4_self_start_models, collapse = ", "))))
  }
  out$model_name <- name
  fun <- get(name, envir = asNamespace("stats"))
  matched <- tryCatch(match.call(fun, model), error = function(e) NULL)
  if (is.null(matched))
    return(fail(sprintf("nlmer's model %s does not match the arguments of %s(%s)", out$model,
                        name, paste(names(formals(fun)), collapse = ", "))))
  pnames <- attr(fun, "pnames")
  params <- character()
  inputs <- character()
  for (p in names(formals(fun))) {
    arg <- matched[[p]]
    if (is.null(arg))
      return(fail(sprintf("nlmer's model %s lacks the argument '%s' of %s(%s)", out$model, p,
                          name, paste(names(formals(fun)), collapse = ", "))))
    if (p %in% pnames) {
      if (!is.name(arg))
        return(fail(sprintf(paste0("the parameter '%s' of nlmer's model %s must be a name ",
                                   "(with a starting value in start), not %s"),
                            p, out$model, paste(deparse(arg), collapse = " "))))
      params <- c(params, as.character(arg))
    } else {
      inputs <- c(inputs, all.vars(arg))
    }
  }
  if (anyDuplicated(params))
    return(fail(sprintf("nlmer's model %s uses the parameter name '%s' twice", out$model,
                        params[anyDuplicated(params)])))
  vars <- setdiff(all.vars(f), params)
  # lme4 pastes these names into R code without backticks (nlformula), so a
  # name that needs them stops it with a parse error.
  odd <- c(vars, params)[make.names(c(vars, params)) != c(vars, params)]
  if (length(odd))
    return(fail(sprintf(paste0("lme4's nlmer cannot use the name '%s': it needs backticks, ",
                               "which nlmer drops; rename it to a syntactic name such as '%s'"),
                        odd[[1L]], make.names(odd[[1L]]))))
  outside <- setdiff(vars, columns)
  found <- vapply(outside, function(v) {
    exists(v, envir = globalenv()) && !is.function(get(v, envir = globalenv()))
  }, TRUE)
  out$params <- I(params)
  out$inputs <- I(setdiff(inputs, params))
  out$vars <- I(vars)
  out$unknown <- I(outside[!found])
  out$response <- if (is.name(nlform[[2L]])) as.character(nlform[[2L]]) else ""
  out
}

# nlmer's start as the call holds it when typed in R: a named numeric vector,
# or list(nlpars = <named vector>, theta = <vector>).  From Python it comes
# as a named list of numbers (and theta as a vector).
pylme4_nlmer_start <- function(nlpars, theta = NULL) {
  v <- vapply(nlpars, as.numeric, 0)
  names(v) <- names(nlpars)
  if (is.null(theta)) v else list(nlpars = v, theta = as.numeric(theta))
}

# Fit with nlmer (through pylme4_fit_and_info, core.R) with start built as
# above and put among the call's constants.
pylme4_nlmer_fit_and_info <- function(info_helper, fun_name, nlpars, theta = NULL,
                                      values = list(), ...) {
  values$start <- pylme4_nlmer_start(nlpars, theta)
  pylme4_fit_and_info(info_helper, fun_name, values = values, ...)
}

# pylme4_fit_info (core.R) and nlmer's nAGQ (which lme4 keeps only in the call).
pylme4_nlmer_info <- function(fit) {
  info <- pylme4_fit_info(fit)
  nagq <- fit@call$nAGQ
  info$nagq <- if (is.null(nagq)) 1L else as.integer(nagq)
  info
}
