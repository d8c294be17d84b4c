# R-side helpers of pylme4: calling and capturing, fitting, accessors.
#
# session.py sources every file in this folder (one per concept), once, into
# one private environment (never the global one).  Every function here is
# called from Python through call.py, which wraps it in pylme4_capture(), so
# warnings, messages and console output come back as data.  Each helper
# returns everything one Python operation needs in a single round trip.

# ---------------------------------------------------------------------------
# Calling and capturing
# ---------------------------------------------------------------------------

# Call `fun` with `args` and return list(value, error, conditions, output,
# interrupted).
# Warnings and messages are recorded in the order R signalled them and then
# muffled, so nothing reaches the console; an error stops the call and is
# returned, not thrown, so the embedded R never unwinds through rpy2.
pylme4_capture <- function(fun, args) {
  kinds <- character()
  texts <- character()
  record <- function(kind, cond) {
    kinds <<- c(kinds, kind)
    texts <<- c(texts, conditionMessage(cond))
  }
  error <- NULL
  value <- NULL
  interrupted <- FALSE
  output <- utils::capture.output({
    value <- withCallingHandlers(
      tryCatch(do.call(fun, args, quote = TRUE),
               error = function(e) {
                 error <<- conditionMessage(e)
                 NULL
               },
               # Ctrl-C (SIGINT) while R runs: call.py raises KeyboardInterrupt.
               interrupt = function(i) {
                 interrupted <<- TRUE
                 NULL
               }),
      warning = function(w) {
        record("warning", w)
        invokeRestart("muffleWarning")
      },
      message = function(m) {
        record("message", m)
        invokeRestart("muffleMessage")
      })
  })
  list(value = value, error = error, kinds = kinds, texts = texts,
       output = output, interrupted = interrupted)
}

# The printed form of an object, exactly as print() shows it at the console.
pylme4_print <- function(x, ...) {
  paste(utils::capture.output(print(x, ...)), collapse = "\n")
}

# Run R code given as text in a fresh environment (tests and pipelines use it
# to ask R for reference values; never used on user data).
pylme4_run_code <- function(code, env = new.env(parent = globalenv())) {
  eval(parse(text = code, keep.source = FALSE), envir = env)
}

# Apply an R function given as text to arguments passed from Python.
pylme4_call_code <- function(code, args) {
  fun <- eval(parse(text = code, keep.source = FALSE), envir = globalenv())
  do.call(fun, args, quote = TRUE)
}

# ---------------------------------------------------------------------------
# Model fitting
# ---------------------------------------------------------------------------

# Variables a formula uses, whether it uses "." (all columns), and which of
# its variables are neither columns of the data nor objects R can find.
pylme4_formula_vars <- function(formula_text, columns) {
  f <- str2lang(formula_text)
  if (!is.call(f) || !identical(f[[1L]], as.name("~")))
    stop("not a formula: it has no '~'")
  # First, as it walks without recursion: a formula nested too deeply for
  # all.vars() (C code that recurses) stops here.
  problems <- pylme4_formula_problems(f)  # checks.R
  if (length(problems))
    return(list(vars = I(character()), dot = FALSE, has_lhs = length(f) == 3L, response = "",
                unknown = I(character()), problems = I(problems)))
  vars <- setdiff(all.vars(f), ".")
  outside <- setdiff(vars, columns)
  # A variable that names an R function (t, df, data, c, ...) is a missing
  # column, not an object R can use as data.
  found <- vapply(outside, function(v) {
    exists(v, envir = globalenv()) && !is.function(get(v, envir = globalenv()))
  }, TRUE)
  response <- if (length(f) == 3L && is.name(f[[2L]])) as.character(f[[2L]]) else ""
  list(vars = I(vars), dot = "." %in% all.vars(f), has_lhs = length(f) == 3L,
       response = response, unknown = I(outside[!found]), problems = I(character()))
}

# Build a call to `fun_name` written as an R user would type it: the formula
# as a language object, `data` as the *name* the data is bound to, and only
# the arguments the user gave.  `values` are constants (REML = FALSE),
# `symbols` are variable names (weights = w), `code` is R code as text
# (control = lmerControl(...)), and `control` (a list of settings) becomes a
# call to `control_fun`.  Evaluated in an environment holding the data, the
# fit prints "Data: <name>", and update(), lmerTest, bootMer and allFit can
# re-evaluate its call later.
pylme4_build_call <- function(fun_name, formula_text, data_name, values = list(),
                              symbols = list(), code = list(), control = NULL,
                              control_fun = "lmerControl") {
  args <- list(formula = str2lang(formula_text), data = as.name(data_name))
  # A list (contrasts = list(g = "contr.sum")) goes in as the call list(...),
  # as typed, not as a list object, which deparses as "list(     g = ...)".
  for (nm in names(values)) {
    v <- values[[nm]]
    args[[nm]] <- if (is.list(v)) as.call(c(list(as.name("list")), v)) else v
  }
  for (nm in names(symbols)) args[[nm]] <- as.name(symbols[[nm]])
  for (nm in names(code)) args[[nm]] <- str2lang(code[[nm]])
  if (!is.null(control)) args$control <- as.call(c(list(as.name(control_fun)), control))
  as.call(c(list(as.name(fun_name)), args))
}

# A new environment, child of the global one, holding the data under the name
# the user chose (and any weights/offset given as vectors).  It becomes the
# formula's environment, so refits find the same data again.
pylme4_fit_env <- function(data, data_name, extra = list()) {
  env <- new.env(parent = globalenv())
  assign(data_name, data, envir = env)
  for (nm in names(extra)) assign(nm, extra[[nm]], envir = env)
  env
}

pylme4_fit <- function(fun_name, formula_text, data, data_name, values = list(),
                       symbols = list(), code = list(), control = NULL,
                       control_fun = "lmerControl", extra = list()) {
  env <- pylme4_fit_env(data, data_name, extra)
  call <- pylme4_build_call(fun_name, formula_text, data_name, values, symbols,
                            code, control, control_fun)
  pylme4_guard_zero_z(call, env)  # checks.R: a model that would crash R
  eval(call, envir = env)
}

# The fit and what `info_helper` (pylme4_fit_info, pylme4_glmer_info) reads of
# it, in one round trip: Python keeps `fit` in R and converts `info` (a second
# call would cost a second capture and packing).
pylme4_fit_and_info <- function(info_helper, ...) {
  fit <- pylme4_fit(...)
  list(fit = fit, info = match.fun(info_helper)(fit))
}

# The data argument of a fit's call as the user wrote it ("df.sleep"), or "".
pylme4_data_name <- function(call) {
  if (is.null(call$data)) "" else paste(deparse(call$data), collapse = " ")
}

# The data a fit's call names, from the environment pylme4 evaluated the
# call in (where the data is bound to its name).
pylme4_call_data <- function(call, formula) {
  eval(call$data, environment(formula))
}

# Row positions (1-based, in the data given) that the model frame kept.
pylme4_rows_used <- function(fit) {
  as.integer(rownames(stats::model.frame(fit)))
}

# Everything cheap that describes a fitted model (lmer or glmer), in one round trip.
pylme4_fit_info <- function(fit) {
  na_act <- attr(stats::model.frame(fit), "na.action")
  kept <- pylme4_subset_rows(fit)
  ll <- stats::logLik(fit)
  list(
    formula = paste(deparse(stats::formula(fit)), collapse = " "),
    data_name = pylme4_data_name(fit@call),
    fixef = I(lme4::fixef(fit)),
    theta = I(unname(lme4::getME(fit, "theta"))),
    sigma = stats::sigma(fit),
    nobs = stats::nobs(fit),
    ngrps = vapply(fit@flist, nlevels, 0L),
    reml = lme4::isREML(fit),
    loglik = as.numeric(ll),
    loglik_df = attr(ll, "df"),
    deviance = if (lme4::isREML(fit)) stats::deviance(fit, REML = FALSE) else stats::deviance(fit),
    reml_criterion = if (lme4::isREML(fit)) lme4::REMLcrit(fit) else NULL,
    aic = stats::AIC(fit),
    bic = stats::BIC(fit),
    singular = lme4::isSingular(fit),
    optimizer = fit@optinfo$optimizer,
    conv_code = fit@optinfo$conv$opt,
    conv_messages = I(as.character(unlist(fit@optinfo$conv$lme4$messages))),
    omitted = I(pylme4_omitted_rows(na_act, kept)),
    na_action = if (is.null(na_act)) "" else class(na_act)[[1L]],
    subset_rows = if (is.null(kept)) NULL else I(kept)
  )
}

# The data's rows (1-based) a fit's `subset` kept, in order (a row where the
# subset is NA is kept as a row of NAs, which na.action then drops, as R's
# model.frame does), or NULL for a fit without a subset.
pylme4_subset_rows <- function(fit) {
  call <- stats::getCall(fit)
  if (is.null(call$subset)) return(NULL)
  data <- pylme4_call_data(call, stats::formula(fit))
  s <- eval(call$subset, data, environment(stats::formula(fit)))
  n <- nrow(data)
  if (is.logical(s)) {
    s <- rep_len(s, n)
    which(s | is.na(s))
  } else {
    seq_len(n)[s]
  }
}

# The data's rows (1-based) that na.action dropped: its values count rows of
# the model frame before dropping, i.e. of the rows `kept` by a subset.
pylme4_omitted_rows <- function(na_act, kept = NULL) {
  if (is.null(na_act)) return(integer())
  rows <- as.integer(na_act)
  if (is.null(kept)) rows else kept[rows]
}

# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------

# lmerTest's object for a fit, computed once per fit on the Python side.
# as_lmerModLmerTest() re-evaluates the fit's call to get its deviance
# function, looking the data up first in its caller's frame.  Called from
# here, that frame's parents are this environment, the global environment and
# the search path, where a data name such as "sleepstudy" or "InstEval" finds
# lme4's own data set instead of the user's data: lmerTest then computed its
# df from the wrong data (and, for InstEval, slowly).  So call it from a frame
# whose parent is the fit's environment, which holds the user's data.
pylme4_as_lmertest <- function(fit) {
  caller <- new.env(parent = environment(stats::formula(fit)))
  assign(".pylme4_fit", fit, envir = caller)
  eval(quote(lmerTest::as_lmerModLmerTest(.pylme4_fit)), envir = caller)
}

# The pieces of summary(fit) plus its printed text.  `lt` is the lmerTest
# version of the fit when ddf is not NULL.
pylme4_lmer_summary <- function(fit, lt = NULL, ddf = NULL) {
  s <- if (is.null(ddf)) summary(fit) else summary(lt, ddf = ddf)
  digits <- max(3, getOption("digits") - 3)
  vc <- as.data.frame(s$varcor, order = "lower.tri")
  corr <- NULL
  if (!is.null(s$vcov) && !is.null(s$vcov@factors$correlation)) {
    corr <- as.matrix(s$vcov@factors$correlation)
    dimnames(corr) <- list(rownames(s$coefficients), rownames(s$coefficients))
  }
  list(
    title = s$methTitle,
    object_class = s$objClass[[1L]],
    formula = paste(deparse(s$call$formula), collapse = " "),
    data_name = pylme4_data_name(s$call),
    aictab = s$AICtab,
    residuals = stats::setNames(stats::quantile(s$residuals, na.rm = TRUE),
                                c("Min", "1Q", "Median", "3Q", "Max")),
    varcor = vc,
    ngrps = s$ngrps,
    nobs = s$devcomp$dims[["n"]],
    coefficients = as.data.frame(s$coefficients, check.names = FALSE),
    correlation = corr,
    fit_messages = I(as.character(unlist(s$optinfo$conv$lme4$messages))),
    text = pylme4_print(s)
  )
}

# ---------------------------------------------------------------------------
# Accessors
# ---------------------------------------------------------------------------

# ranef() as a list of data frames; with cond_var, the conditional standard
# deviations (square roots of the diagonal of "postVar") alongside.
# ranef() stays in R (a handle), so that printing it later does not compute
# the conditional variances again.
pylme4_ranef_object <- function(fit, cond_var = TRUE) {
  lme4::ranef(fit, condVar = cond_var)
}

pylme4_ranef_parts <- function(re, cond_var) {
  lapply(re, function(df) {
    out <- list(values = as.data.frame(df, check.names = FALSE),
                levels = I(rownames(df)))
    if (cond_var) {
      # postVar is a k x k x levels array, or, when a factor has several
      # uncorrelated blocks ((x || g)), a list of such arrays, one per block.
      pv <- attr(df, "postVar")
      block_sds <- function(a) {
        k <- dim(a)[1L]
        n <- dim(a)[3L]
        v <- vapply(seq_len(n), function(i) sqrt(diag(as.matrix(a[, , i]))), numeric(k))
        matrix(as.vector(v), nrow = n, byrow = TRUE)
      }
      sds <- if (is.list(pv)) do.call(cbind, lapply(pv, block_sds)) else block_sds(pv)
      colnames(sds) <- colnames(df)
      out$condsd <- as.data.frame(sds, check.names = FALSE)
      out$postvar <- pv
    }
    out
  })
}

# What R's prompt shows for coef(fit) and ranef(fit, condVar = ): names
# that need them in backticks ($`class:school`).
pylme4_print_coef <- function(fit) {
  pylme4_print(stats::coef(fit))
}

pylme4_coef <- function(fit) {
  lapply(stats::coef(fit), function(df) {
    list(values = as.data.frame(df, check.names = FALSE),
         levels = I(rownames(df)))
  })
}

pylme4_var_corr <- function(fit) {
  as.data.frame(lme4::VarCorr(fit))
}

pylme4_vcov <- function(fit) {
  as.matrix(stats::vcov(fit))
}

pylme4_fitted <- function(fit) {
  I(unname(stats::fitted(fit)))
}

pylme4_residuals <- function(fit, type, scaled) {
  I(unname(stats::residuals(fit, type = type, scaled = scaled)))
}

# Named by row of the data (or newdata): the names say which rows na.action kept.
pylme4_predict <- function(fit, newdata, re_form, allow_new_levels, na_action = "na.pass",
                           type = "link", random_only = FALSE, newparams = NULL) {
  # re_form as simulate() and bootMer get it (pylme4_re_form, inference.R).
  args <- list(fit, re.form = pylme4_re_form(re_form), allow.new.levels = allow_new_levels,
               type = type)
  if (!is.null(newdata)) {
    args$newdata <- newdata
    args$na.action <- match.fun(na_action)
  }
  if (random_only) args$random.only <- TRUE
  if (!is.null(newparams)) args$newparams <- pylme4_newparams(newparams)
  omitted <- attr(stats::model.frame(fit), "na.action")
  re <- args$re.form
  uses_re <- is.null(re) || (!identical(re, NA) && !is.null(lme4::findbars(re)))
  if (is.null(newdata) && !is.null(omitted) && uses_re &&
      (random_only || !is.null(newparams) || !is.null(re))) {
    # lme4 1.1-31 takes the random effects of *every* row of the data here
    # but the fixed part of the rows used ("longer object length is not a
    # multiple of shorter object length"): predict for the rows used, as
    # predict(fit, newdata = <those rows>) does, and pad as na.action says.
    rows <- rownames(stats::model.frame(fit))
    args$newdata <- pylme4_call_data(stats::getCall(fit), stats::formula(fit))[rows, , drop = FALSE]
    return(I(stats::napredict(omitted, do.call(stats::predict, args))))
  }
  I(do.call(stats::predict, args))
}

# newparams as pylme4 sends it: per parameter, list(values, names) (names
# empty for an unnamed vector), as list(beta =, theta =, sigma =) of
# (named) numeric vectors.
pylme4_newparams <- function(newparams) {
  lapply(newparams, function(p) {
    v <- as.numeric(unlist(p$values))
    nm <- as.character(unlist(p$names))
    if (length(nm)) names(v) <- nm
    v
  })
}

pylme4_is_singular <- function(fit, tol) {
  lme4::isSingular(fit, tol = tol)
}

# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------

pylme4_dataset <- function(name, package) {
  env <- new.env()
  utils::data(list = name, package = package, envir = env)
  if (!exists(name, envir = env, inherits = FALSE))
    stop(sprintf("package %s has no data set '%s'", package, name))
  as.data.frame(get(name, envir = env))
}

pylme4_dataset_names <- function(package) {
  I(unname(utils::data(package = package)$results[, "Item"]))
}

pylme4_serialize <- function(x) serialize(x, NULL)

pylme4_unserialize <- function(payload) unserialize(payload)

# ---------------------------------------------------------------------------
# Session facts
# ---------------------------------------------------------------------------

# Versions as the packages spell them ("1.1-31", as CRAN and sessionInfo() do).
pylme4_versions <- function() {
  pv <- function(p) {
    if (requireNamespace(p, quietly = TRUE)) utils::packageDescription(p)$Version else NA_character_
  }
  c(R = paste(R.version$major, R.version$minor, sep = "."),
    lme4 = pv("lme4"), lmerTest = pv("lmerTest"), Matrix = pv("Matrix"),
    nloptr = pv("nloptr"), boot = pv("boot"), pbkrtest = pv("pbkrtest"))
}
