# Complete, no and partial pooling side by side (pylme4.pooling): for a
# mixed model with one grouping factor and fixed effects "1 + x", the one
# regression for everybody (lm), one regression per group (lmList) and the
# mixed model's per-group coefficients (coef), all on the rows the mixed
# model used, plus the lecture's shrinkage table.

# The rows of the data the model was fitted to that it used.
pylme4_model_data <- function(fit) {
  data <- pylme4_call_data(fit@call, stats::formula(fit))
  data[pylme4_rows_used(fit), , drop = FALSE]
}

pylme4_pooling <- function(fit) {
  flist <- fit@flist
  if (length(flist) != 1L)
    stop(sprintf("pooling compares per-group estimates of a model with one grouping factor; this model has %d (%s)",
                 length(flist), paste(names(flist), collapse = ", ")))
  group <- names(flist)[[1L]]
  beta <- lme4::fixef(fit)
  if (length(beta) != 2L || names(beta)[[1L]] != "(Intercept)")
    stop(sprintf("pooling shows an intercept and a slope per group: the fixed effects must be '1 + x', not %s",
                 paste(names(beta), collapse = " + ")))
  slope <- names(beta)[[2L]]
  data <- pylme4_model_data(fit)
  fixed <- lme4::nobars(stats::formula(fit))
  complete <- stats::lm(fixed, data = data)
  per_group <- fixed
  per_group[[3L]] <- call("|", fixed[[3L]], str2lang(group))
  nopool <- lme4::lmList(per_group, data = data)
  np <- as.data.frame(stats::coef(nopool), check.names = FALSE)
  pp <- as.data.frame(stats::coef(fit)[[group]], check.names = FALSE)
  pp <- pp[rownames(np), c("(Intercept)", slope), drop = FALSE]
  # The SD of each column over the groups that have a no-pooling estimate
  # of it, under both methods: the two rows describe the same groups.
  spread <- function(est) {
    vapply(c("(Intercept)", slope), function(term) {
      ok <- !is.na(np[[term]])
      stats::sd(est[[term]][ok])
    }, 0)
  }
  mf <- stats::model.frame(fit)
  list(
    group = group,
    slope = slope,
    response = paste(deparse(fixed[[2L]]), collapse = " "),
    levels = as.list(rownames(np)),
    complete = unname(stats::coef(complete)),
    no_pooling = unname(as.matrix(np[, c("(Intercept)", slope)])),
    partial_pooling = unname(as.matrix(pp)),
    sd_no_pooling = unname(spread(np)),
    sd_partial_pooling = unname(spread(pp)),
    sd_groups = unname(vapply(c("(Intercept)", slope), function(term) sum(!is.na(np[[term]])), 0L)),
    fixef = unname(beta),
    covariance = pylme4_pooling_covariance(fit, group, c("(Intercept)", slope)),
    points = data.frame(
      group = as.character(mf[[group]]),
      x = if (slope %in% names(data)) data[[slope]] else rep(NA_real_, nrow(data)),
      y = stats::model.response(mf),
      stringsAsFactors = FALSE)
  )
}

# The covariance matrix of a group's random intercept and slope: the fitted
# bivariate normal the shrinkage plot draws.  With (1 + x || g) the two come
# from separate terms (covariance 0); NULL when the model lacks either.
pylme4_pooling_covariance <- function(fit, group, terms) {
  vcs <- lme4::VarCorr(fit)
  cov <- matrix(0, 2L, 2L, dimnames = list(terms, terms))
  found <- character()
  for (i in seq_along(vcs)) {
    if (names(fit@cnms)[[i]] != group) next
    block <- as.matrix(vcs[[i]])
    shared <- intersect(rownames(block), terms)
    cov[shared, shared] <- block[shared, shared]
    found <- c(found, shared)
  }
  if (all(terms %in% found)) unname(cov) else NULL
}
