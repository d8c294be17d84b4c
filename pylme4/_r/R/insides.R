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
