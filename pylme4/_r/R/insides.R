# The insides of a fitted merMod: lme4's getME() components.
#
# One round trip per component; the value is given the shape Python reads:
# every sparse Matrix (dgCMatrix, dtCMatrix, dsCMatrix, the Cholesky factor
# L) as a general dgCMatrix, which pylme4._r.convert turns into a scipy
# sparse matrix with R's dimnames; dense Matrix objects as base matrices;
# vectors wrapped in I() so that a length-one vector stays a vector.

# getME() names whose value is a single number (or flag).
pylme4_get_me_scalars <- c("sigma", "REML", "is_REML", "n_rtrms", "n_rfacs",
                           "N", "n", "p", "q", "k", "m", "glmer.nb.theta")

pylme4_insides_shape <- function(x) {
  if (methods::is(x, "CHMfactor") || methods::is(x, "sparseMatrix")) {
    x <- methods::as(x, "CsparseMatrix")
    x <- methods::as(methods::as(x, "generalMatrix"), "dMatrix")
    return(x)
  }
  if (methods::is(x, "Matrix")) return(as.matrix(x))
  if (is.data.frame(x)) return(x)
  if (is.list(x)) return(lapply(x, pylme4_insides_shape))
  if (is.atomic(x) && is.null(dim(x)) && !is.factor(x)) return(I(x))
  x
}

pylme4_get_me <- function(fit, name) {
  value <- lme4::getME(fit, name)
  if (name %in% pylme4_get_me_scalars) return(as.vector(value))
  pylme4_insides_shape(value)
}

# model.matrix(fit, type): "fixed" (X), "random" (Z, sparse) or
# "randomListRaw" (one raw model matrix per random-effects term).
pylme4_model_matrix <- function(fit, type) {
  pylme4_insides_shape(stats::model.matrix(fit, type = type))
}

# model.frame(fit), its matrix columns (cbind(successes, failures)) split
# into plain columns as print() names them.
pylme4_model_frame <- function(fit) {
  mf <- stats::model.frame(fit)
  list(frame = pylme4_flat_frame(mf), rows = I(rownames(mf)))
}

pylme4_weights <- function(fit) I(unname(stats::weights(fit)))

pylme4_hatvalues <- function(fit) I(unname(stats::hatvalues(fit)))

# ranef(condVar = TRUE)'s postVar arrays: k x k x levels per grouping factor
# (a list of such arrays, one per block, for (x || g) terms).
pylme4_postvar <- function(fit) {
  lapply(lme4::ranef(fit, condVar = TRUE), function(df) attr(df, "postVar"))
}

# ---------------------------------------------------------------------------
# influence.merMod, its cooks.distance / dfbeta / dfbetas, rePCA
# ---------------------------------------------------------------------------

# The names of the data a fit was given (what influence()'s `groups` may
# name): the data the call names, from the fit's environment.
pylme4_data_columns <- function(fit) {
  I(names(pylme4_call_data(stats::getCall(fit), stats::formula(fit))))
}

# influence(model, groups = ..., maxfun = ..., do.coef = ...) evaluated as a
# user types it, where the fit's data is bound to its name, so that
# influence.merMod finds the data through getCall(model)$data.  ncores = 1:
# lme4 would start a PSOCK cluster otherwise (getOption("mc.cores")).
# Every piece of the result comes back in one round trip, with
# cooks.distance(), dfbeta() and dfbetas() of it.
pylme4_influence <- function(fit, groups, maxfun, do_coef) {
  # The fit and the values go into the call itself: a name bound next to the
  # data could be the data's own name (data_name = "model").
  env <- new.env(parent = environment(stats::formula(fit)))
  args <- list(quote(stats::influence), fit, maxfun = maxfun, do.coef = do_coef, ncores = 1)
  if (!is.null(groups)) args$groups <- as.character(unlist(groups))
  inf <- eval(as.call(args), envir = env)
  if (!do_coef) return(list(hat = I(unname(inf$hat))))
  nm <- names(inf)
  frame <- function(x) as.data.frame(x, check.names = FALSE)
  deleted <- as.character(inf$deleted)
  cooks <- stats::cooks.distance(inf)
  list(
    names = I(nm),
    fixed = inf[[1L]], fixed_del = frame(inf[[2L]]),
    vc = inf[[3L]], vc_del = frame(inf[[4L]]),
    vcov = frame(inf[[5L]]),
    vcov_del = unname(lapply(inf[[6L]], frame)),
    groups = inf$groups,
    deleted = I(deleted),
    converged = I(unname(inf$converged)),
    feval = I(as.numeric(unname(inf$function.evals))),
    cooks = I(unname(cooks)),
    cooks_names = I(if (is.null(names(cooks))) character() else names(cooks)),
    dfbeta_fixed = frame(stats::dfbeta(inf, which = "fixed")),
    dfbeta_vc = frame(stats::dfbeta(inf, which = "var.cov")),
    dfbetas = frame(stats::dfbetas(inf)))
}

# rePCA(fit): per grouping factor, prcomp's pieces, the summary's
# importance table, and both printouts.
pylme4_re_pca <- function(fit) {
  p <- lme4::rePCA(fit)
  s <- summary(p)
  terms <- lapply(names(p), function(nm) {
    x <- p[[nm]]
    list(sdev = I(x$sdev), rotation = as.matrix(x$rotation),
         center = x$center, scale = x$scale,
         importance = s[[nm]]$importance, text = pylme4_print(x))
  })
  names(terms) <- names(p)
  list(terms = terms, names = I(names(p)), text = pylme4_print(p),
       summary_text = pylme4_print(s))
}
