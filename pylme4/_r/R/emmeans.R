# Post-estimation with emmeans (estimated marginal means, trends, contrasts)
# and car (Type II/III Wald tests).  The emmGrid objects stay in R: Python
# keeps a handle and passes it back for contrast(), confint() and test(), so
# every number is emmeans' own.  Each helper returns the object together with
# its summary as a data frame, the summary's notes and R's printout.

# The predictors of the fixed-effect part: the variables a reference grid is
# made of (what specs, by, at and var may name).
pylme4_emm_model_vars <- function(fit) {
  all.vars(stats::delete.response(stats::terms(lme4::nobars(stats::formula(fit)))))
}

# What is wrong with the names (and at's factor levels) the user gave, as
# data for the Python side to word; NULL when nothing is.  kind: "name" (not
# a predictor), "level" (not a level of factor `variable`), "type" (var is
# not numeric).
pylme4_emm_problem <- function(fit, specs_vars, by, at, trend_var) {
  vars <- pylme4_emm_model_vars(fit)
  problem <- function(argument, kind, unknown, variable = "", variables = vars)
    list(argument = argument, kind = kind, unknown = I(as.character(unknown)),
         variable = variable, variables = I(as.character(variables)))
  # var may be a transformation of a predictor ("log(temp)"), as emtrends takes it.
  trend_vars <- if (is.null(trend_var)) NULL else all.vars(str2lang(trend_var))
  for (check in list(list("specs", specs_vars), list("by", by),
                     list("at", names(at)), list("var", trend_vars))) {
    bad <- setdiff(check[[2L]], vars)
    if (length(bad)) return(problem(check[[1L]], "name", bad))
  }
  frame <- fit@frame
  for (nm in names(at)) {
    column <- if (nm %in% names(frame)) frame[[nm]] else NULL
    if (is.factor(column)) {
      bad <- setdiff(as.character(at[[nm]]), levels(column))
      if (length(bad)) return(problem("at", "level", bad, nm, levels(column)))
    }
  }
  if (!is.null(trend_var) && trend_var %in% names(frame) && !is.numeric(frame[[trend_var]]))
    return(problem("var", "type", trend_var))
  NULL
}

pylme4_emm_specs <- function(specs, is_formula) {
  if (is_formula) eval(str2lang(specs), baseenv()) else as.character(specs)
}

# A summary_emm table: the frame (without emmeans' attributes), the notes
# printed under it, and R's printout.
pylme4_emm_summary_parts <- function(s) {
  frame <- as.data.frame(s)
  attributes(frame) <- attributes(frame)[c("names", "row.names", "class")]
  class(frame) <- "data.frame"
  list(frame = frame,
       notes = I(as.character(attr(s, "mesg"))),
       est_name = attr(s, "estName"),
       text = pylme4_print(s))
}

# An emmGrid (grid = the object), or the emm_list of `contrast ~ specs`
# (grid = its emmeans, contrasts = its contrasts), with the summary parts of
# each and the whole printout.
pylme4_emm_result <- function(x) {
  one <- function(g) c(pylme4_emm_summary_parts(summary(g)),
                       list(by = I(as.character(g@misc$by.vars)),
                            variables = I(names(g@levels))))
  if (inherits(x, "emm_list")) {
    if (length(x) != 2L) stop("pylme4: emmeans returned ", length(x), " results; expected 2")
    list(grid = x[[1L]], contrasts = x[[2L]], names = I(names(x)),
         parts = one(x[[1L]]), contrast_parts = one(x[[2L]]),
         text = pylme4_print(x), problem = NULL)
  } else {
    list(grid = x, contrasts = NULL, names = I(character()), parts = one(x),
         contrast_parts = NULL, text = NULL, problem = NULL)
  }
}

# emmeans(fit, specs, ...) or emtrends(fit, specs, var = trend_var, ...),
# called as a user types it: only the arguments given are passed, so
# emmeans' defaults stay emmeans'.
pylme4_emmeans <- function(fit, specs, is_formula, by, at, type, lmer_df,
                           level, weights, trend_var) {
  specs <- pylme4_emm_specs(specs, is_formula)
  specs_vars <- if (is_formula) all.vars(specs[[length(specs)]]) else specs
  problem <- pylme4_emm_problem(fit, specs_vars, by, at, trend_var)
  if (!is.null(problem))
    return(list(grid = NULL, contrasts = NULL, problem = problem))
  env <- new.env(parent = environment(stats::formula(fit)))
  env$object <- fit
  args <- list(as.name("object"), specs)
  if (!is.null(trend_var)) args$var <- trend_var
  if (!is.null(by)) args$by <- as.character(by)
  if (!is.null(at)) args$at <- at
  if (!is.null(type)) args$type <- type
  if (!is.null(lmer_df)) args$lmer.df <- lmer_df
  if (!is.null(weights)) args$weights <- weights
  if (level != 0.95) args$level <- level
  fun <- if (is.null(trend_var)) quote(emmeans::emmeans) else quote(emmeans::emtrends)
  pylme4_emm_result(eval(as.call(c(list(fun), args)), envir = env))
}

# contrast(grid, method, ...) (or pairs(grid, ...) when method is NULL);
# `weights` is a named list of custom coefficient vectors.  keep_by: leave
# `by` to emmeans (the grid's own); otherwise by = by (NULL: none).
pylme4_emm_contrast <- function(grid, method, weights, adjust, keep_by, by, reverse, ref) {
  args <- list(grid)
  if (is.null(method)) {
    fun <- graphics::pairs
    if (reverse) args$reverse <- TRUE
  } else {
    fun <- emmeans::contrast
    args$method <- if (is.null(weights)) method else lapply(weights, as.numeric)
    if (!is.null(ref)) args$ref <- ref
  }
  if (!is.null(adjust)) args$adjust <- adjust
  if (!keep_by) args["by"] <- list(if (is.null(by)) NULL else as.character(by))
  pylme4_emm_result(do.call(fun, args))
}

# confint(grid, level = level, adjust = adjust, by = by) as a table.
pylme4_emm_confint <- function(grid, level, adjust, keep_by, by) {
  args <- list(grid)
  if (level != 0.95) args$level <- level
  if (!is.null(adjust)) args$adjust <- adjust
  if (!keep_by) args["by"] <- list(if (is.null(by)) NULL else as.character(by))
  pylme4_emm_summary_parts(do.call(stats::confint, args))
}

# test(grid, null = null, side = side, joint = joint, adjust = adjust, by = by).
pylme4_emm_test <- function(grid, null, side, joint, adjust, keep_by, by) {
  args <- list(grid)
  if (null != 0) args$null <- null
  if (side != 0) args$side <- side
  if (joint) args$joint <- TRUE
  if (!is.null(adjust)) args$adjust <- adjust
  if (!keep_by) args["by"] <- list(if (is.null(by)) NULL else as.character(by))
  pylme4_emm_summary_parts(do.call(emmeans::test, args))
}

# car::Anova(fit, type = type, test.statistic = test): Wald chi-square tests,
# or (linear mixed models) F tests with Kenward-Roger's df.
pylme4_wald_anova <- function(fit, type, test) {
  pylme4_anova_parts(car::Anova(fit, type = type, test.statistic = test))
}
