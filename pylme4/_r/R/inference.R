# R-side helpers of pylme4's inference: parametric bootstrap (lme4's
# bootMer), boot.ci, allFit, confint, anova (lme4 and lmerTest), ranova and
# simulate.
#
# The bootstrap is split into the steps lme4::bootMer takes, so that the
# refits can run in other processes and still give bootMer's replicates bit
# for bit:
#  1. set the seed, evaluate FUN on the fit and simulate all nsim responses
#     in one simulate() call (pylme4_boot_seed, pylme4_boot_t0,
#     pylme4_boot_simulate), in this process's R;
#  2. refit each response with refit(fit, y, control = <the fit's control>)
#     and apply FUN, recording messages, warnings and errors per replicate
#     as bootMer's "factory" does (pylme4_boot_refits; runs in any process);
#  3. assemble a genuine "bootMer"/"boot" object from the replicates
#     (pylme4_boot_object), so that print(), boot::boot.ci() and confint()
#     compute exactly what they compute on bootMer's own result.

# ---------------------------------------------------------------------------
# Bootstrap statistics
# ---------------------------------------------------------------------------

# pylme4_boot_fun_code(), pylme4_sdcor_names(), pylme4_boot_call() and
# pylme4_console_text() live in script.R: the exported R script runs them too.


# The statistic confint(method = "boot") bootstraps: the sd/cor parameters
# under confint's names (.sig01, ..., .sigma), then the fixed effects; the
# same computation as confint.merMod's internal bootFun.
pylme4_confint_boot_fun <- function(fit) {
  useSc <- as.logical(fit@devcomp$dims[["useSc"]])
  ntheta <- length(lme4::getME(fit, "theta"))
  vn <- c(sprintf(".sig%02d", seq_len(ntheta)), if (useSc) ".sigma")
  Cv_to_Sv <- utils::getFromNamespace("Cv_to_Sv", "lme4")
  function(x) {
    th <- x@theta
    nvec <- lengths(x@cnms)
    scaleTh <- lme4::isLMM(x) || lme4::isNLMM(x)
    ss <- if (scaleTh) {
      Cv_to_Sv(th, n = nvec, s = stats::sigma(x))
    } else if (useSc) {
      c(Cv_to_Sv(th, n = nvec), stats::sigma(x))
    } else {
      Cv_to_Sv(th, n = nvec)
    }
    c(stats::setNames(ss, vn), lme4::fixef(x))
  }
}

# The function a named statistic stands for (evaluated where a user's
# top-level code would be: lme4 attached).
pylme4_boot_fun <- function(name, fit) {
  if (identical(name, "confint")) return(pylme4_confint_boot_fun(fit))
  eval(str2lang(pylme4_boot_fun_code(name)), envir = globalenv())
}

# bootMer refits with control = eval.parent(x@call$control): the control the
# user gave when fitting (NULL for the defaults).  pylme4 writes the control
# into the call as code, so it evaluates the same in the fit's environment.
pylme4_boot_control <- function(fit) {
  if (!methods::is(fit, "merMod")) return(NULL)
  eval(fit@call$control, environment(stats::formula(fit)))
}

# ---------------------------------------------------------------------------
# Bootstrap: the steps of bootMer
# ---------------------------------------------------------------------------

# bootMer's start: the seed, exactly as bootMer sets it.
pylme4_boot_seed <- function(seed) {
  if (!is.null(seed)) set.seed(seed)
  else if (!exists(".Random.seed", envir = .GlobalEnv)) stats::runif(1)
  invisible(NULL)
}

# t0 = FUN(fit) for a named statistic, with its names (unnamed statistics get
# names on the Python side).
pylme4_boot_t0 <- function(fit, name) {
  t0 <- pylme4_boot_fun(name, fit)(fit)
  if (!is.numeric(t0))
    stop("bootMer currently only handles functions that return numeric vectors")
  if (identical(name, "var_corr")) names(t0) <- pylme4_sdcor_names(fit)
  list(values = I(unname(as.numeric(t0))),
       names = I(if (is.null(names(t0))) character() else names(t0)))
}

# All nsim responses, drawn as bootMer draws them (one simulate() call with
# na.action = na.exclude; or, semiparametric, fitted + resampled residuals),
# packed for shipping (see pylme4_pack_responses).
pylme4_boot_simulate <- function(fit, nsim, use_u, re_form, type) {
  nsim <- as.integer(nsim)
  if (identical(type, "parametric")) {
    args <- list(fit, nsim = nsim, na.action = stats::na.exclude)
    if (!is.null(re_form)) args <- c(args, list(re.form = pylme4_re_form(re_form)))
    else args <- c(args, list(use.u = use_u))
    ss <- do.call(stats::simulate, args)
  } else {
    if (!is.null(re_form))
      stop(paste(sQuote("re.form")), "cannot be used with semiparametric bootstrapping")
    if (!use_u)
      stop("semiparametric bootstrapping with use.u=FALSE not yet implemented")
    if (lme4::isGLMM(fit))
      warning("semiparametric bootstrapping is questionable for GLMMs")
    ss <- replicate(nsim, stats::fitted(fit) +
                      sample(stats::residuals(fit, "response"), replace = TRUE),
                    simplify = FALSE)
  }
  pylme4_pack_responses(ss)
}

# Simulated responses as one numeric vector with dimensions (rows, columns
# of one response, replicates), so they cross to Python and to worker
# processes as plain doubles.  A response is a numeric vector, a factor
# (binomial models; its codes travel, with its levels) or a two-column
# matrix (binomial models with cbind(successes, failures)).
pylme4_pack_responses <- function(ss) {
  first <- ss[[1L]]
  levels <- if (is.factor(first)) levels(first) else character()
  k <- if (is.matrix(first)) ncol(first) else 1L
  n <- if (is.matrix(first)) nrow(first) else length(first)
  values <- unlist(lapply(ss, function(y) as.numeric(if (is.factor(y)) as.integer(y) else y)),
                   use.names = FALSE)
  list(ys = I(values), dim = c(n, k, length(ss)), levels = I(levels))
}

# Replicate i of packed responses (as pylme4_pack_responses wrote them; `ys`
# may hold only some replicates: `dim` says how many).
pylme4_unpack_response <- function(ys, dim, levels, i) {
  n <- dim[[1L]]
  k <- dim[[2L]]
  block <- ys[(i - 1L) * n * k + seq_len(n * k)]
  if (k > 1L) return(matrix(block, nrow = n))
  if (length(levels)) return(factor(levels[block], levels = levels))
  block
}

# re.form as pylme4 passes it: "NA" for NA, otherwise a one-sided formula.
pylme4_re_form <- function(re_form) {
  if (is.null(re_form)) NULL
  else if (identical(re_form, "NA")) NA
  else stats::as.formula(re_form, env = globalenv())
}

# One replicate as bootMer runs it (lme4's internal "factory"): FUN applied
# to refit(fit, y, control = control), with its messages and warnings
# recorded and muffled, and an error turning the value into NAs.
pylme4_boot_replicate <- function(fit, y, FUN, control, nstat) {
  msg <- warn <- err <- NULL
  value <- withCallingHandlers(
    tryCatch(FUN(lme4::refit(fit, y, control = control)),
             error = function(e) {
               err <<- conditionMessage(e)
               NULL
             }),
    warning = function(w) {
      warn <<- append(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    },
    message = function(m) {
      msg <<- append(msg, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  if (!is.null(err)) value <- rep(NA_real_, nstat)
  if (length(value) != nstat) {
    err <- sprintf("the statistic gave %d values, not %d as on the original fit",
                   length(value), nstat)
    value <- rep(NA_real_, nstat)
  }
  list(value = as.numeric(value), message = msg, warning = warn, error = err)
}

# Refit the packed responses `ys` one after the other.  Returns the
# statistics (replicate by replicate) and every message, warning and error
# with the replicate it came from (1-based within this chunk).
pylme4_boot_refits <- function(fit, ys, dim, levels, name, nstat) {
  FUN <- pylme4_boot_fun(name, fit)
  control <- pylme4_boot_control(fit)
  out <- lapply(seq_len(dim[[3L]]), function(i)
    pylme4_boot_replicate(fit, pylme4_unpack_response(ys, dim, levels, i), FUN,
                          control, nstat))
  kinds <- c("message", "warning", "error")
  rep_of <- unlist(lapply(seq_along(out), function(i)
    rep(i, sum(lengths(out[[i]][kinds])))))
  kind_of <- unlist(lapply(out, function(o) rep(kinds, lengths(o[kinds]))))
  text_of <- unlist(lapply(out, function(o) unlist(o[kinds])))
  list(t = I(as.vector(vapply(out, `[[`, numeric(nstat), "value"))),
       replicate = I(as.integer(rep_of)), kind = I(as.character(kind_of)),
       text = I(as.character(text_of)))
}

# One refit for a statistic computed in Python: the refitted model itself.
pylme4_boot_refit_one <- function(fit, ys, dim, levels, i) {
  y <- pylme4_unpack_response(ys, dim, levels, i)
  lme4::refit(fit, y, control = pylme4_boot_control(fit))
}


# A genuine bootMer object (classes "bootMer", "boot") holding the
# replicates, built as lme4::bootMer builds its result; and its printout as
# the console shows it (print.boot's output, then bootMer's message about
# warnings and failures).
pylme4_boot_object <- function(fit, t0, t, nsim, names, fun_name, fun_code,
                               seed, use_u, re_form, type, msg_kind, msg_text) {
  names(t0) <- if (length(names)) as.character(unlist(names)) else NULL
  t <- matrix(t, nrow = nsim)
  FUN <- if (nzchar(fun_name)) pylme4_boot_fun(fun_name, fit) else NULL
  mle <- list(beta = lme4::getME(fit, "beta"), theta = lme4::getME(fit, "theta"))
  if (lme4::isLMM(fit)) mle <- c(mle, list(sigma = stats::sigma(fit)))
  msg_kind <- as.character(unlist(msg_kind))
  msg_text <- as.character(unlist(msg_text))
  msgs <- list()
  for (k in c("message", "warning", "error"))
    msgs[[paste0("factory-", k)]] <- table(trimws(msg_text[msg_kind == k]))
  num_fail <- sum(msgs[["factory-error"]])
  b <- structure(list(t0 = t0, t = t, R = as.integer(nsim),
                      data = stats::model.frame(fit),
                      seed = get0(".Random.seed", envir = .GlobalEnv),
                      statistic = FUN, sim = "parametric",
                      call = pylme4_boot_call(fun_code, nsim, seed, use_u, re_form, type),
                      ran.gen = "simulate(<lmerMod>, 1, *)", mle = mle),
                 class = c("bootMer", "boot"))
  attr(b, "bootFail") <- num_fail
  attr(b, "boot.fail.msgs") <- if (num_fail == 0) NULL else msgs[["factory-error"]]
  attr(b, "boot.all.msgs") <- msgs
  attr(b, "boot_type") <- "boot"
  b
}


pylme4_boot_print <- function(b) {
  pylme4_console_text(function() print(b))
}

# boot::boot.ci on the bootstrap, called as a user types it:
# boot.ci(<name>, conf = <level>, type = <type>, index = <i>), <name> being
# the Python name of the bootstrap.  The level is written only when it is
# not boot.ci's default 0.95.
pylme4_boot_ci <- function(b, index, type, conf, name = "boot_out") {
  env <- new.env(parent = globalenv())
  assign(name, b, envir = env)
  env$boot.ci <- boot::boot.ci
  args <- list(as.name("boot.ci"), as.name(name))
  if (conf != 0.95) args$conf <- conf
  args$type <- type
  args$index <- index
  ci <- eval(as.call(args), envir = env)
  if (is.null(ci)) stop("all bootstrap values of the statistic are equal: boot.ci cannot compute an interval")
  key <- c(norm = "normal", basic = "basic", perc = "percent", stud = "student", bca = "bca")[[type]]
  tab <- ci[[key]]
  list(low = unname(tab[1L, ncol(tab) - 1L]), high = unname(tab[1L, ncol(tab)]), R = ci$R,
       text = pylme4_console_text(function() print(ci)))
}

# confint() of the bootstrap replicates (lme4's confint.bootMer).
pylme4_boot_confint <- function(b, level, type) {
  stats::confint(b, level = level, type = type)
}

# ---------------------------------------------------------------------------
# allFit
# ---------------------------------------------------------------------------

# The optimizers allFit tries by default (those whose packages are installed),
# with the names allFit gives the fits.
pylme4_allfit_methods <- function(fit) {
  for (pkg in c("dfoptim", "optimx")) requireNamespace(pkg, quietly = TRUE)
  mt <- lme4::allFit(fit, show.meth.tab = TRUE)
  I(gsub("\\.$", "", paste(mt[, "optimizer"], mt[, "method"], sep = ".")))
}

# One optimizer's refit, exactly as allFit runs it (allFit on that row of
# its table of methods): the fit, or the error allFit keeps in its place.
pylme4_allfit_one <- function(fit, name) {
  # allFit loads these on first use, with a message; load them quietly.
  for (pkg in c("dfoptim", "optimx")) requireNamespace(pkg, quietly = TRUE)
  mt <- lme4::allFit(fit, show.meth.tab = TRUE)
  names_all <- gsub("\\.$", "", paste(mt[, "optimizer"], mt[, "method"], sep = "."))
  i <- match(name, names_all)
  if (is.na(i)) stop("allFit has no optimizer '", name, "'")
  lme4::allFit(fit, meth.tab = mt[i, , drop = FALSE], verbose = FALSE)[[1L]]
}

pylme4_allfit_one_serialized <- function(fit, name) {
  serialize(pylme4_allfit_one(fit, name), NULL)
}

# The allFit object of the refits (in allFit's order) and the pieces of its
# summary, with the summary's printout.
pylme4_allfit_summary <- function(fit, fits, names, serialized) {
  if (serialized) fits <- lapply(fits, unserialize)
  names(fits) <- names
  af <- structure(fits, class = "allFit", fit = fit,
                  sessionInfo = utils::sessionInfo(), data = NULL)
  s <- summary(af)
  err <- vapply(fits, function(x) if (inherits(x, "error")) conditionMessage(x) else "", "")
  list(which_ok = I(s$which.OK),
       msgs = lapply(s$msgs, function(m) I(as.character(unlist(m)))),
       fixef = as.data.frame(s$fixef, check.names = FALSE),
       llik = s$llik,
       sdcor = s$sdcor,
       # summary.allFit takes the values from as.data.frame(VarCorr(x))
       # (standard deviations first, then correlations): which are which.
       sdcor_is_cor = I(!is.na(as.data.frame(lme4::VarCorr(fit))$var2)),
       theta = as.data.frame(s$theta, check.names = FALSE),
       times = as.data.frame(s$times, check.names = FALSE),
       feval = I(s$feval),
       errors = I(err),
       text = pylme4_print(s))
}

# ---------------------------------------------------------------------------
# confint
# ---------------------------------------------------------------------------

# confint(fit, parm, method, level, oldNames); parm NULL: all parameters.
# (Profile intervals go through pylme4_profile_part and confint.thpr, as
# confint.merMod itself goes through profile().)
pylme4_confint <- function(fit, method, level, parm, old_names) {
  args <- list(fit, method = method, level = level, oldNames = old_names, quiet = TRUE)
  if (!is.null(parm)) args$parm <- as.integer(parm)
  ci <- do.call(stats::confint, args)
  as.data.frame(ci, check.names = FALSE)
}

# ---------------------------------------------------------------------------
# anova, lmerTest's anova and ranova
# ---------------------------------------------------------------------------

pylme4_anova_parts <- function(a) {
  list(table = as.data.frame(a, check.names = FALSE),
       rows = I(rownames(a)),
       heading = I(as.character(attr(a, "heading"))),
       text = pylme4_print(a))
}

# anova(name1, name2, ...) with each fit bound to its name, as a user types
# it (R prints those names); refit = FALSE is written only when asked.
pylme4_anova <- function(fits, refit) {
  env <- new.env(parent = globalenv())
  for (nm in names(fits)) assign(nm, fits[[nm]], envir = env)
  args <- c(list(as.name("anova")), lapply(names(fits), as.name))
  if (!refit) args$refit <- FALSE
  pylme4_anova_parts(eval(as.call(args), envir = env))
}

# lmerTest's anova(model, type = type, ddf = ddf).
pylme4_lmertest_anova <- function(lt, type, ddf) {
  pylme4_anova_parts(stats::anova(lt, type = type, ddf = ddf))
}

# lmerTest's ranova(model); it refits reduced models with update(), so it
# runs where the fit's data can be found: the fit's environment.
pylme4_ranova <- function(lt, reduce_terms) {
  env <- new.env(parent = environment(stats::formula(lt)))
  env$model <- lt
  env$ranova <- lmerTest::ranova
  call <- quote(ranova(model))
  if (!reduce_terms) call$reduce.terms <- FALSE
  pylme4_anova_parts(eval(call, envir = env))
}

# ---------------------------------------------------------------------------
# One-sided tests
# ---------------------------------------------------------------------------

# lmerTest's summary with a one-sided p-value computed from the same t value
# and df: "greater" tests H1: beta > 0 (upper tail), "less" H1: beta < 0.
# The printout shows the one-sided column in place of the two-sided one.
pylme4_lmer_summary_one_sided <- function(fit, lt, ddf, alternative) {
  parts <- pylme4_lmer_summary(fit, lt, ddf)
  s <- summary(lt, ddf = ddf)
  cf <- s$coefficients
  upper <- identical(alternative, "greater")
  p <- stats::pt(cf[, "t value"], cf[, "df"], lower.tail = !upper)
  column <- if (upper) "Pr(>t)" else "Pr(<t)"
  shown <- cbind(cf[, setdiff(colnames(cf), "Pr(>|t|)"), drop = FALSE], p)
  colnames(shown)[ncol(shown)] <- column
  s$coefficients <- shown
  full <- cbind(cf, p)
  colnames(full)[ncol(full)] <- column
  parts$coefficients <- as.data.frame(full, check.names = FALSE)
  parts$text <- pylme4_print(s)
  parts
}

# ---------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------

# simulate(fit, nsim, seed, ...) with only the arguments given; use.u and
# re.form are exclusive, as in lme4.
pylme4_simulate <- function(fit, nsim, seed, use_u, re_form, newdata, allow_new_levels,
                            newparams = NULL) {
  args <- list(fit, nsim = nsim)
  if (!is.null(seed)) args$seed <- seed
  if (!is.null(use_u)) args$use.u <- use_u
  if (!is.null(re_form)) args$re.form <- pylme4_re_form(re_form)
  if (!is.null(newdata)) args$newdata <- newdata
  if (allow_new_levels) args$allow.new.levels <- TRUE
  if (!is.null(newparams)) args$newparams <- pylme4_newparams(newparams)
  sims <- do.call(stats::simulate, args)
  list(values = pylme4_flat_frame(sims), seed = attr(sims, "seed"))
}

# A data frame whose matrix columns (two-column binomial responses) are
# split into plain columns named <column>.<matrix column>, as print() shows
# them (sim_1.incidence, sim_1.V2).
pylme4_flat_frame <- function(df) {
  parts <- lapply(names(df), function(nm) {
    x <- df[[nm]]
    if (!is.matrix(x)) return(stats::setNames(data.frame(x), nm))
    cn <- colnames(x)
    if (is.null(cn)) cn <- rep("", ncol(x))
    # Unnamed columns (cbind(incidence, size - incidence)) get the names
    # print() and as.data.frame() give them: V1, V2, ...
    cn[cn == ""] <- paste0("V", which(cn == ""))
    stats::setNames(as.data.frame(unclass(x)), paste(nm, cn, sep = "."))
  })
  out <- do.call(cbind, parts)
  names(out) <- unlist(lapply(parts, names))
  out
}

# ---------------------------------------------------------------------------
# Worker processes
# ---------------------------------------------------------------------------

# A fresh R pays on its first fits and refits for method dispatch caches,
# lazy loading and byte-code compilation; a worker pays it at start-up, while
# the main process prepares the work, instead of on its first task.
pylme4_warm_up <- function() {
  fit <- lme4::lmer(Reaction ~ Days + (Days | Subject), data = lme4::sleepstudy)
  y <- lme4::getME(fit, "y")
  invisible(lme4::fixef(lme4::refit(fit, rev(y))))
}
