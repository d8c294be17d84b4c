# Case-resampling bootstraps (pylme4.resampling): draw the data's rows with
# replacement, as modelr::bootstrap() does (sample(nrow(data), replace =
# TRUE) per replicate), and refit the model's own call on each resample.

# n resamples of the data behind `fit` (an lm or merMod), each refitted with
# the fit's call; `estimates` picks the numbers kept (coef or fixef).  With a
# seed, set.seed(seed) first, as an R user would; without, R's stream goes on.
# Returns the estimates (n x p, NA for a refit that failed), each replicate's
# warnings/messages and errors.
pylme4_resample_rows <- function(fit, n, seed = NULL) {
  is_mer <- methods::is(fit, "merMod")
  call <- if (is_mer) fit@call else fit$call
  estimates <- if (is_mer) lme4::fixef else stats::coef
  # Weights or an offset given as arrays are bound beside the data
  # (.weights, .offset) and cannot follow the resampled rows.
  if (any(c(".weights", ".offset") %in% all.names(call)))
    stop("resampling rows needs weights and offset given as columns of the data, not as arrays")
  data <- pylme4_call_data(call, stats::formula(fit))
  t0 <- estimates(fit)
  call$data <- quote(.resample)
  env <- new.env(parent = environment(stats::formula(fit)))
  if (!is.null(seed)) set.seed(seed)
  n <- as.integer(n)
  t <- matrix(NA_real_, nrow = n, ncol = length(t0), dimnames = list(NULL, names(t0)))
  notes <- vector("list", n)
  errors <- character(n)
  for (i in seq_len(n)) {
    rows <- sample(nrow(data), replace = TRUE)
    assign(".resample", data[rows, , drop = FALSE], envir = env)
    said <- character()
    kinds <- character()
    refit <- withCallingHandlers(
      tryCatch(eval(call, envir = env), error = function(e) {
        errors[[i]] <<- conditionMessage(e)
        NULL
      }),
      warning = function(w) {
        said <<- c(said, conditionMessage(w))
        kinds <<- c(kinds, "warning")
        invokeRestart("muffleWarning")
      },
      message = function(m) {
        said <<- c(said, sub("\n$", "", conditionMessage(m)))
        kinds <<- c(kinds, "message")
        invokeRestart("muffleMessage")
      })
    # lme4 also records its convergence checks in the fit; keep those it did
    # not already signal as a warning.
    if (!is.null(refit) && is_mer) {
      kept <- setdiff(as.character(unlist(refit@optinfo$conv$lme4$messages)), said)
      said <- c(said, kept)
      kinds <- c(kinds, rep("warning", length(kept)))
    }
    notes[[i]] <- list(kinds = as.list(kinds), texts = as.list(said))
    if (!is.null(refit)) {
      est <- estimates(refit)
      t[i, names(est)] <- est
    }
  }
  list(t0 = as.list(t0), t = as.data.frame(t, check.names = FALSE), notes = notes,
       errors = as.list(errors))
}
