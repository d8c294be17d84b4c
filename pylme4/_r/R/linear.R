# Linear models without random effects: lm() (complete pooling) and lme4's
# lmList() (one lm() per group: no pooling).  Fitted through pylme4_fit() in
# core.R, so their calls print as a user types them ("data = df.sleep").

# Everything cheap about an lm() fit, in one round trip (glm() fits too:
# the accessors are generic).
pylme4_lm_info <- function(fit) {
  na_act <- fit$na.action
  ll <- stats::logLik(fit)
  list(
    loglik = as.numeric(ll),
    loglik_df = attr(ll, "df"),
    aic = stats::AIC(fit),
    bic = stats::BIC(fit),
    deviance = stats::deviance(fit),
    formula = paste(deparse(stats::formula(fit)), collapse = " "),
    data_name = pylme4_data_name(fit$call),
    coef = as.list(stats::coef(fit)),
    sigma = stats::sigma(fit),
    df_residual = fit$df.residual,
    nobs = stats::nobs(fit),
    omitted = I(if (is.null(na_act)) integer() else as.integer(na_act)),
    na_action = if (is.null(na_act)) "" else class(na_act)[[1L]],
    text = pylme4_print(fit)
  )
}

# summary(lm) as data plus its printed text.
pylme4_lm_summary <- function(fit) {
  s <- summary(fit)
  list(
    coefficients = as.data.frame(s$coefficients, check.names = FALSE),
    sigma = s$sigma,
    df = I(as.integer(s$df)),
    r_squared = s$r.squared,
    adj_r_squared = s$adj.r.squared,
    fstatistic = if (is.null(s$fstatistic)) NULL else as.list(s$fstatistic),
    text = pylme4_print(s)
  )
}

pylme4_lm_vcov <- function(fit) {
  as.matrix(stats::vcov(fit))
}

pylme4_lm_fitted <- function(fit) {
  I(unname(stats::fitted(fit)))
}

pylme4_lm_residuals <- function(fit) {
  I(unname(stats::residuals(fit)))
}

pylme4_lm_predict <- function(fit, newdata) {
  I(unname(if (is.null(newdata)) stats::predict(fit) else stats::predict(fit, newdata = newdata)))
}

# Everything about an lmList() fit: the per-group coefficients (NA where a
# group's data cannot identify a coefficient, as coef() gives them), the rows
# per group, the groups whose fit failed, the pooled residual SD and its df
# (what show() prints), and the printed text.
pylme4_lmlist_info <- function(fit) {
  cf <- stats::coef(fit)
  sizes <- vapply(fit, function(m) if (is.null(m)) 0L else length(stats::fitted(m)), 0L)
  pooled <- if (fit@pool) lme4:::pooledSD(fit) else NULL
  # R's scalars of the list (logLik sums the groups' fits; R has no nobs()
  # or deviance() for an lmList4); NULL where R cannot compute one.
  stat <- function(f) tryCatch(as.numeric(f(fit)), error = function(e) NULL)
  list(
    coef = list(values = as.data.frame(cf, check.names = FALSE), levels = as.list(rownames(cf))),
    sizes = as.list(sizes),
    failed = as.list(names(fit)[vapply(fit, is.null, NA)]),
    sigma = stat(stats::sigma),
    loglik = stat(stats::logLik),
    aic = stat(stats::AIC),
    bic = stat(stats::BIC),
    df_residual = if (is.null(pooled)) NULL else attr(pooled, "df"),
    text = pylme4_print(fit)
  )
}

# Everything cheap about a glm() fit, in one round trip: lm()'s fields plus
# the family and the null deviance.
pylme4_glm_info <- function(fit) {
  c(pylme4_lm_info(fit), list(
    family = fit$family$family,
    link = fit$family$link,
    null_deviance = fit$null.deviance,
    converged = isTRUE(fit$converged)
  ))
}

# summary(glm) as data plus its printed text.
pylme4_glm_summary <- function(fit) {
  s <- summary(fit)
  list(
    coefficients = as.data.frame(s$coefficients, check.names = FALSE),
    dispersion = s$dispersion,
    df = I(as.integer(s$df)),
    deviance = s$deviance,
    null_deviance = s$null.deviance,
    df_null = s$df.null,
    aic = s$aic,
    iterations = s$iter,
    text = pylme4_print(s)
  )
}
