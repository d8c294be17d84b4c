# lmerTest's tools beyond anova/ranova: contrast tests (contest, contest1D,
# contestMD), least-squares means, F-test drop1 and step.  Each helper takes
# the lmerTest version of the fit (pylme4_as_lmertest) and returns the table
# as R has it together with R's printout of it.

pylme4_lmertest_table <- function(x) {
  list(table = as.data.frame(x, check.names = FALSE),
       rows = I(rownames(x)),
       text = pylme4_print(x))
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
