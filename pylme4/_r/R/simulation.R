# lme4's simulate.formula: responses simulated from a model given by its
# formula, its data and its parameters, with no fitted model (the basis of
# power analysis).

# simulate(formula, nsim =, seed =, newdata =, newparams =, family =,
# weights =, offset =, cond.sim =) with only the arguments given.  The
# formula's environment holds the data (as a fit's does), where lme4
# evaluates a left-hand side to choose the method.  `family` is R code
# (a name such as "binomial", or 'binomial(link = "probit")').
pylme4_simulate_formula <- function(formula_text, newdata, newparams, family, nsim, seed,
                                    weights, offset, cond_sim) {
  env <- new.env(parent = globalenv())
  env$newdata <- newdata
  form <- stats::as.formula(formula_text, env = env)
  args <- list(form, nsim = nsim)
  if (!is.null(seed)) args$seed <- seed
  args$newdata <- newdata
  args$newparams <- pylme4_newparams(newparams)
  if (!is.null(family)) args$family <- eval(str2lang(family), envir = globalenv())
  if (!is.null(weights)) args$weights <- weights
  if (!is.null(offset)) args$offset <- offset
  if (!cond_sim) args$cond.sim <- FALSE
  sims <- do.call(stats::simulate, args)
  list(values = pylme4_flat_frame(sims), rows = I(rownames(sims)))
}
