# R-side checks that let pylme4 name the culprit of a bad input: formulas
# that parse but that lme4 would reject with an unclear message, and the
# grouping factors lme4 builds (asked only after a fit failed).

# Every helper here walks formulas with an explicit stack, never by recursion:
# a formula with thousands of terms is a left-nested chain of '+' thousands of
# calls deep, and R-level recursion that deep overflows the C stack (a
# segfault when the embedded R has no C stack check).

# lme4's formula operators and R's model-formula operators.  Their operands
# are terms of the model, where a string can only be a mistake; inside any
# other call (I(), relevel(), splines::ns(), ...) strings are ordinary values.
pylme4_formula_ops <- c("~", "+", "-", "*", "/", ":", "^", "%in%", "|", "||", "(")

# How deeply a formula may nest before pylme4 refuses it, before R's own
# recursive code sees it.  lme4 1.1-31's findbars() and subbars() recurse once
# per level and exhaust an 8 MB C stack at about 650 levels (a chain of 650
# '+'): where R checks its C stack (Rscript; Cstack_info() has a size) that is
# a clean R error, which pylme4 translates.  Where it does not (an embedded R
# without a stack limit) it is a segfault, so there the limit is 500.  R's
# C code (all.vars(), deparse(), terms()) recurses without that check too,
# and overflows somewhere between 20,000 and 50,000 levels: 5,000 is refused
# everywhere (beyond lme4's reach anyway: R's default expressions = 5000).
pylme4_depth_limit <- function() {
  if (is.na(Cstack_info()[["size"]])) 500L else 5000L
}

# Walk the parse tree of `f` without recursion.  `visit(node, formula_level,
# top, depth)` is called on every node; formula_level is TRUE for the formula
# and the operands of formula operators.  Returns the maximum depth.
pylme4_walk_formula <- function(f, visit) {
  nodes <- vector("list", 64L)
  level <- logical(64L)
  depth <- integer(64L)
  nodes[1L] <- list(f)
  level[1L] <- TRUE
  depth[1L] <- 1L
  n <- 1L
  deepest <- 0L
  while (n > 0L) {
    x <- nodes[[n]]
    lv <- level[[n]]
    d <- depth[[n]]
    nodes[n] <- list(NULL)
    n <- n - 1L
    if (d > deepest) deepest <- d
    visit(x, lv, d == 1L, d)
    if (!is.call(x)) next
    head <- x[[1L]]
    op <- is.name(head) && as.character(head) %in% pylme4_formula_ops
    args <- as.list(x)[-1L]
    for (i in rev(seq_along(args))) {
      a <- args[i]  # a one-element list keeps a missing argument harmless
      if (identical(a[[1L]], quote(expr = ))) next
      if (n == length(nodes)) {
        length(nodes) <- 2L * n
        length(level) <- 2L * n
        length(depth) <- 2L * n
      }
      n <- n + 1L
      nodes[n] <- a
      level[n] <- lv && op
      depth[n] <- d + 1L
    }
  }
  deepest
}

# The random-effects terms of a formula, (lhs | g) and (lhs || g), as lme4's
# findbars() finds them (at the formula level), found without recursion.
pylme4_find_bars <- function(f) {
  bars <- list()
  pylme4_walk_formula(f, function(x, formula_level, top, depth) {
    if (formula_level && is.call(x) && is.name(x[[1L]]) &&
        as.character(x[[1L]]) %in% c("|", "||") && length(x) == 3L)
      bars[[length(bars) + 1L]] <<- x
  })
  bars
}

# Problems with a parsed formula that R's parser accepts but lme4 cannot use,
# each as one sentence; character(0) when there are none.  Only what lme4
# would refuse too (or crash on): every formula lme4 fits passes.
pylme4_formula_problems <- function(f) {
  problems <- character()
  add <- function(text) problems <<- c(problems, text)
  show <- function(x) {
    text <- paste(deparse(x, width.cutoff = 500L, nlines = 2L), collapse = " ")
    if (nchar(text) > 120L) paste0(substr(text, 1L, 117L), "...") else text
  }
  # A call whose head cannot be a function: two terms side by side, as in
  # (1 | g)(0 + x | g) or 2 (x).  Any other head (pkg::f, x$f, f(1), an
  # anonymous function) may be a function, and R says so when it is not.
  juxtaposed <- function(h) {
    if (is.name(h)) return(FALSE)
    if (!is.call(h)) return(TRUE)
    if (!identical(h[[1L]], as.name("(")) || length(h) != 2L) return(FALSE)
    inner <- h[[2L]]
    if (is.call(inner))
      is.name(inner[[1L]]) && as.character(inner[[1L]]) %in% pylme4_formula_ops
    else !is.name(inner)
  }
  deepest <- pylme4_walk_formula(f, function(x, formula_level, top, depth) {
    if (is.character(x) && formula_level) {
      add(sprintf(paste0("it has the string %s as a term; a column name with spaces or other ",
                         "special characters goes in backticks, e.g. `my column`"),
                  encodeString(x, quote = '"')))
    } else if (is.call(x)) {
      head <- x[[1L]]
      if (juxtaposed(head)) {
        add(sprintf(paste0("'%s' puts two terms next to each other without an operator; ",
                           "did you forget a '+'?"), show(x)))
      } else if (formula_level && !top && identical(head, as.name("~"))) {
        add("it has more than one '~'")
      }
    }
  })
  limit <- pylme4_depth_limit()
  if (deepest > limit) {
    add(sprintf(paste0("it is nested %d calls deep (a chain of that many '+'?), more than ",
                       "the %d this R can walk safely (lme4 itself stops near 650): use ",
                       "fewer terms"), deepest, limit))
    return(problems)  # the other checks deparse, which recurses
  }
  if (!length(problems)) {
    for (bar in pylme4_find_bars(f)) {
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

# A re.form argument (predict(), simulate(), bootMer()): NULL, NA (given as
# "NA") or a one-sided formula of random-effects terms.  Returns its problems
# as in pylme4_formula_problems(); a syntax error is R's error.
pylme4_re_form_problems <- function(text) {
  if (identical(text, "NA")) return(I(character()))
  f <- str2lang(text)
  if (!is.call(f) || !identical(f[[1L]], as.name("~")))
    stop("not a formula: it has no '~'")
  I(pylme4_formula_problems(f))
}

# The class of each variable of a fit's model frame (the plain columns among
# them are what newdata must match), e.g. c(Days = "numeric", Subject = "factor").
pylme4_frame_classes <- function(fit) {
  vapply(stats::model.frame(fit), function(v) class(v)[[1L]], "")
}

# The grouping factors lme4 builds for a model (name -> number of levels, and
# its first levels), computed by lme4's own lFormula() on the same call with
# the checks on levels switched off.  Used to name the factor when lmer()
# failed with "grouping factors must have > 1 sampled level".
pylme4_grouping_levels <- function(formula_text, data, data_name, symbols = list(),
                                   extra = list(), code = list()) {
  env <- pylme4_fit_env(data, data_name, extra)
  ignore <- list(check.nlev.gtr.1 = "ignore", check.nobs.vs.nlev = "ignore",
                 check.nobs.vs.rankZ = "ignore", check.nobs.vs.nRE = "ignore")
  call <- pylme4_build_call("lFormula", formula_text, data_name, symbols = symbols,
                            code = code, control = ignore, control_fun = "lmerControl")
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
  # The head may be lme4::glmer (glmer.nb's fits, and their updates, have it).
  fun <- sub("^lme4:::?", "", paste(deparse(call[[1L]]), collapse = ""))
  builder <- switch(fun, lmer = quote(lme4::lFormula),
                    glmer = quote(lme4::glFormula), NULL)
  if (is.null(builder)) return(invisible())
  f <- eval(call$formula, envir = env)
  bars <- pylme4_find_bars(f)
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
