# summary() printed with print()'s options (correlation, digits,
# signif.stars); only the options given are passed, so R's defaults stay R's.
pylme4_summary_text <- function(fit, lt, ddf, correlation, digits, signif_stars) {
  s <- if (is.null(ddf)) summary(fit) else summary(lt, ddf = ddf)
  args <- list(s)
  if (!is.null(correlation)) args$correlation <- correlation
  if (!is.null(digits)) args$digits <- as.integer(digits)
  if (!is.null(signif_stars)) args$signif.stars <- signif_stars
  paste(utils::capture.output(do.call(print, args)), collapse = "\n")
}
