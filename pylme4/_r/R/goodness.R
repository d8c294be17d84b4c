# performance's R2 (Nakagawa) and ICC of a fitted merMod.
#
# performance reports some of its problems by printing (insight's
# print_color: "Random effect variances not available ...", or the text of
# an error it caught) rather than by signalling them.  pylme4 never prints:
# what it printed becomes a message, recorded with the call's conditions.
pylme4_performance_call <- function(compute) {
  printed <- utils::capture.output(value <- compute())
  printed <- trimws(printed[nzchar(trimws(printed))])
  if (length(printed)) message(paste(printed, collapse = "\n"))
  value
}

# r2_nakagawa(): NA (an unnamed logical) when performance could not compute
# the variances at all.
pylme4_r2 <- function(fit, tolerance) {
  r2 <- pylme4_performance_call(function() performance::r2_nakagawa(fit, tolerance = tolerance))
  if (!inherits(r2, "r2_nakagawa")) return(list(ok = FALSE))
  list(ok = TRUE, conditional = as.numeric(r2$R2_conditional),
       marginal = as.numeric(r2$R2_marginal), text = pylme4_print(r2))
}

# icc(fit, by_group): NA (or NULL) when performance could not compute it.
pylme4_icc <- function(fit, by_group, tolerance) {
  icc <- pylme4_performance_call(
    function() performance::icc(fit, by_group = by_group, tolerance = tolerance))
  if (!inherits(icc, c("icc", "icc_by_group"))) return(list(ok = FALSE))
  out <- list(ok = TRUE, text = pylme4_print(icc))
  if (by_group) {
    out$table <- data.frame(Group = icc$Group, ICC = icc$ICC, stringsAsFactors = FALSE)
  } else {
    out$adjusted <- as.numeric(icc$ICC_adjusted)
    out$unadjusted <- as.numeric(icc$ICC_unadjusted)
  }
  out
}
