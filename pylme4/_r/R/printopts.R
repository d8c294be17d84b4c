# Printouts with print()'s options (correlation, digits, signif.stars); only
# the options given are passed, so R's defaults stay R's.

pylme4_print_options <- function(digits, signif_stars) {
  args <- list()
  if (!is.null(digits)) args$digits <- as.integer(digits)
  if (!is.null(signif_stars)) args$signif.stars <- signif_stars
  args
}

# summary() printed with print()'s options.  For lm and glm fits R takes
# `correlation` in summary() itself.
pylme4_summary_text <- function(fit, lt, ddf, correlation, digits, signif_stars) {
  mixed <- methods::is(fit, "merMod")
  s <- if (!is.null(ddf)) summary(lt, ddf = ddf)
       else if (!mixed && !is.null(correlation)) summary(fit, correlation = correlation)
       else summary(fit)
  args <- c(list(s), pylme4_print_options(digits, signif_stars))
  if (mixed && !is.null(correlation)) args$correlation <- correlation
  paste(utils::capture.output(do.call(print, args)), collapse = "\n")
}

# An anova table rebuilt from its values, row names and heading (all that
# print.anova reads), printed with print()'s options.
pylme4_anova_text <- function(table, rows, heading, digits, signif_stars) {
  rownames(table) <- as.character(unlist(rows))
  attr(table, "heading") <- as.character(unlist(heading))
  class(table) <- c("anova", "data.frame")
  args <- c(list(table), pylme4_print_options(digits, signif_stars))
  paste(utils::capture.output(do.call(print, args)), collapse = "\n")
}

# An lmerTest table rebuilt from its values, row names and the attributes
# its print method reads (class, heading, confidence_level, ddf).
pylme4_lmertest_table_text <- function(table, rows, attrs, digits, signif_stars) {
  rownames(table) <- as.character(unlist(rows))
  for (nm in setdiff(names(attrs), "class")) attr(table, nm) <- attrs[[nm]]
  if (!is.null(attrs$class)) class(table) <- as.character(unlist(attrs$class))
  args <- list(table)
  if (!is.null(digits)) args$digits <- as.integer(digits)
  if (!is.null(signif_stars) && inherits(table, "ls_means")) args$signif.stars <- signif_stars
  paste(utils::capture.output(do.call(print, args)), collapse = "\n")
}

pylme4_fit_text <- function(fit, digits) {
  args <- c(list(fit), pylme4_print_options(digits, NULL))
  paste(utils::capture.output(do.call(print, args)), collapse = "\n")
}
