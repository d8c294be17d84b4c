# R-side helpers for generalized linear mixed models (glmer, glmer.nb).
#
# Fitting goes through pylme4_fit() in core.R (fun_name "glmer" or
# "glmer.nb"), so the call is built as an R user types it.  What is here adds
# the family to what core.R reads from any merMod.

# The family of a fit as glmer's summary prints it ("binomial", "Negative
# Binomial(1.456)") with its link, the number of quadrature points, and the
# negative binomial's theta (NULL for other families).
pylme4_glmer_family <- function(fit) {
  fam <- stats::family(fit)
  dims <- fit@devcomp$dims
  list(
    family = fam$family,
    link = fam$link,
    nagq = if ("nAGQ" %in% names(dims)) as.integer(dims[["nAGQ"]]) else NULL,
    nb_theta = if (lme4::isGLMM(fit) && startsWith(fam$family, "Negative Binomial"))
      lme4::getME(fit, "glmer.nb.theta") else NULL,
    glmm = lme4::isGLMM(fit)
  )
}

# Everything cheap about a glmer fit, in one round trip: what core.R reads from
# every merMod, and the family.
pylme4_glmer_info <- function(fit) {
  c(pylme4_fit_info(fit), pylme4_glmer_family(fit))
}

# summary(fit) of a glmer fit: the parts lmer's summary has (the AIC/BIC/
# logLik/deviance/df.resid table among them) and the family and link it prints.
pylme4_glmer_summary <- function(fit) {
  c(pylme4_lmer_summary(fit), pylme4_glmer_family(fit)[c("family", "link", "nagq")])
}
