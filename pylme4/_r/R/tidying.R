# broom.mixed's tidy(), glance() and augment() of a fitted merMod.
#
# broom.mixed computes everything (tidy's intervals through confint(), its
# lmerTest df and p-values through summary(x, ddf = )); these helpers only
# call it as a user would and hand back plain data frames (broom returns
# tibbles).  Python renames tidy's and glance's columns to snake_case.

# tidy(fit, effects, conf.int, conf.level, conf.method, ddf.method,
# exponentiate, ...):
# `lt` is lmerTest's version of an lmer fit when ddf is given (broom.mixed
# then reports lmerTest's df and p-values); `extra` is passed on as `...`
# (nsim, seed, boot.type for conf.method = "boot").
pylme4_tidy <- function(fit, lt, effects, conf_int, conf_level, conf_method, ddf,
                        exponentiate, extra = list()) {
  args <- list(if (is.null(lt)) fit else lt, effects = effects, conf.int = conf_int,
               conf.level = conf_level, conf.method = conf_method,
               exponentiate = exponentiate)
  if (!is.null(ddf)) args$ddf.method <- ddf
  tab <- as.data.frame(do.call(broom.mixed::tidy, c(args, extra)), stringsAsFactors = FALSE)
  # ran_coefs' intervals are a logical NA column: numbers (NaN) for Python.
  for (nm in intersect(c("conf.low", "conf.high"), names(tab))) tab[[nm]] <- as.numeric(tab[[nm]])
  tab
}

pylme4_glance <- function(fit) {
  as.data.frame(broom.mixed::glance(fit))
}

# augment(fit): the model frame (matrix columns split as print() names them)
# with broom.mixed's .fitted, .resid, ... columns.
pylme4_augment <- function(fit) {
  pylme4_flat_frame(as.data.frame(broom.mixed::augment(fit)))
}
