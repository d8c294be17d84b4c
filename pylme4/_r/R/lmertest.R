# lmerTest's tools beyond anova/ranova: contrast tests (contest, contest1D,
# contestMD), least-squares means, F-test drop1 and step.  Each helper takes
# the lmerTest version of the fit (pylme4_as_lmertest) and returns the table
# as R has it together with R's printout of it.

pylme4_lmertest_table <- function(x) {
  # lmerTest 3.1-3's as.data.frame() of an ls_means table with no rows (a
  # model without factors) fails on 1:length(term_names); R prints it fine.
  empty <- inherits(x, "ls_means") && nrow(x) == 0L
  list(table = if (empty) as.data.frame(unclass(x), check.names = FALSE)
               else as.data.frame(x, check.names = FALSE),
       rows = I(rownames(x)),
       text = pylme4_print(x),
       # what its print method reads besides the values (printopts.R)
       attrs = Filter(Negate(is.null),
                      list(class = I(class(x)), heading = attr(x, "heading"),
                           confidence_level = attr(x, "confidence_level"),
                           ddf = attr(x, "ddf"))))
}

# The contrast as the user would type it in R: a plain vector when Python
# gave a vector, otherwise a matrix filled row by row with the given row
# names (NULL: none, so R numbers the rows itself) and the coefficients'
# names as column names.
pylme4_contrast <- function(values, nrow, row_names, col_names) {
  if (is.null(nrow)) return(as.numeric(values))
  matrix(as.numeric(values), nrow = nrow, byrow = TRUE,
         dimnames = list(if (is.null(row_names)) NULL else as.character(row_names),
                         as.character(col_names)))
}

# fun: "contest", "contest1D" or "contestMD"; only the arguments each
# function takes are passed, so R's defaults stay R's.
pylme4_contest <- function(lt, fun, values, nrow, row_names, col_names,
                           rhs, joint, confint, level, ddf) {
  L <- pylme4_contrast(values, nrow, row_names, col_names)
  rhs <- as.numeric(rhs)
  res <- switch(fun,
    contest = lmerTest::contest(lt, L, rhs = rhs, joint = joint,
                                confint = confint, level = level, ddf = ddf),
    contest1D = lmerTest::contest1D(lt, L, rhs = rhs, ddf = ddf,
                                    confint = confint, level = level),
    contestMD = lmerTest::contestMD(lt, L, rhs = rhs, ddf = ddf))
  pylme4_lmertest_table(res)
}

# Least-squares means (pairwise = FALSE) or their differences: the printout
# is print.ls_means' (heading, table, confidence level and df method).
pylme4_ls_means <- function(lt, which, level, ddf, pairwise) {
  x <- if (pairwise) lmerTest::difflsmeans(lt, which = which, level = level, ddf = ddf)
       else lmerTest::ls_means(lt, which = which, level = level, ddf = ddf)
  parts <- pylme4_lmertest_table(x)
  parts$table <- as.data.frame(unclass(x), check.names = FALSE,
                               row.names = rownames(x))
  parts
}

# The contrast matrices behind an ls_means or anova table, one per term, as
# numbers (fractions = TRUE changes only how R prints them).
pylme4_show_tests <- function(lt, of, which, ddf, type, fractions, names) {
  x <- if (identical(of, "anova")) stats::anova(lt, type = type, ddf = ddf)
       else lmerTest::ls_means(lt, which = which, ddf = ddf)
  tests <- lmerTest::show_tests(x, fractions = fractions, names = names)
  list(terms = I(names(tests)),
       matrices = lapply(unname(tests), function(m)
         matrix(as.numeric(m), nrow = nrow(m), dimnames = dimnames(m))),
       text = pylme4_print(tests))
}

# lmerTest's drop1 (F tests of marginal terms); it may refit, so it runs
# where the fit's data can be found, like pylme4_ranova.
pylme4_lmertest_drop1 <- function(lt, ddf) {
  pylme4_anova_parts(stats::drop1(lt, ddf = ddf))
}

# lmerTest's step(): backward elimination of random then fixed terms.  It
# refits with update(), so it runs in an environment whose parent is the
# fit's.  The final model comes back as an lmerMod (what every pylme4 fit
# holds); it is NULL when step removed every random effect (an lm).
pylme4_lmertest_step <- function(lt, ddf, alpha_random, alpha_fixed,
                                 reduce_fixed, reduce_random) {
  fenv <- environment(stats::formula(lt))
  # lmerTest refits a model left without random effects with lm(), and
  # evaluates that call (eval.parent) in its own frames, whose enclosures
  # reach user data only through the global environment and the search
  # path, where an R user's data lives.  So for this call the objects of the
  # fit's environment (the data, weights/offsets given as vectors) are put on
  # the search path, just after the global environment, and taken off again:
  # nothing is written into the global environment.  A name the global
  # environment already binds would shadow them there, so only such names
  # are bound in the global environment for the call, and put back after.
  names_used <- ls(fenv, all.names = TRUE)
  glob <- globalenv()
  clash <- names_used[vapply(names_used, exists, logical(1), envir = glob, inherits = FALSE)]
  saved <- mget(clash, envir = glob)
  attach(mget(names_used, envir = fenv), pos = 2L, name = "pylme4:step_data",
         warn.conflicts = FALSE)
  on.exit({
    detach("pylme4:step_data", character.only = TRUE)
    for (nm in names(saved)) assign(nm, saved[[nm]], envir = glob)
  }, add = TRUE)
  for (nm in clash) assign(nm, get(nm, envir = fenv), envir = glob)
  env <- new.env(parent = fenv)
  env$model <- lt
  env$step <- lmerTest::step
  call <- quote(step(model))
  if (!identical(ddf, "Satterthwaite")) call$ddf <- ddf
  if (alpha_random != 0.1) call$alpha.random <- alpha_random
  if (alpha_fixed != 0.05) call$alpha.fixed <- alpha_fixed
  if (!reduce_fixed) call$reduce.fixed <- FALSE
  if (!reduce_random) call$reduce.random <- FALSE
  s <- eval(call, envir = env)
  final <- lmerTest::get_model(s)
  tab <- function(x) if (is.null(x)) NULL else pylme4_anova_parts(x)
  list(random = tab(s$random), fixed = tab(s$fixed),
       text = pylme4_print(s),
       model = if (inherits(final, "merMod")) methods::as(final, "lmerMod") else NULL,
       final_formula = paste(deparse(stats::formula(final), width.cutoff = 500L),
                             collapse = " "))
}
