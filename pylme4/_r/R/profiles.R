# ---------------------------------------------------------------------------
# Likelihood profiles: lme4's profile.merMod, confint.thpr and the numbers
# xyplot.thpr draws (pylme4/profiles.py).
#
# pylme4 profiles one parameter per task (profile(fit, which = i)) and puts
# the parts together here.  profile.merMod profiles each parameter on its own
# (a fresh deviance function and fresh starting values per parameter; lme4's
# parallel = "multicore" splits it the same way), so the parts put together
# are all.equal(tolerance = 0) to profile(fit, which = all of them); only the
# formulas' environments inside the splines differ.
# ---------------------------------------------------------------------------

# The names of the parameters profile() and confint() take, in their order
# (standard deviations and correlations as theta orders them, sigma, then
# the fixed effects), and how many of them are variance parameters.
pylme4_profile_names <- function(fit, signames, prof_scale) {
  useSc <- lme4::isLMM(fit) || lme4::isNLMM(fit)
  prefix <- if (identical(prof_scale, "varcov")) c("var", "cov") else c("sd", "cor")
  profnames <- utils::getFromNamespace("profnames", "lme4")
  vn <- profnames(fit, signames, useSc = useSc, prefix = prefix)
  list(names = I(c(vn, names(lme4::fixef(fit)))), nvp = length(vn))
}

# confint.merMod's names: as profile's, but with sigma wherever the model has
# a scale parameter (a Gamma glmer has one, which profile() cannot profile).
pylme4_confint_names <- function(fit, old_names) {
  useSc <- as.logical(fit@devcomp$dims[["useSc"]])
  profnames <- utils::getFromNamespace("profnames", "lme4")
  vn <- profnames(fit, old_names, useSc = useSc)
  list(names = I(c(vn, names(lme4::fixef(fit)))), nvp = length(vn))
}

# The task: parameter i's profile, serialized (it travels back from workers).
# The splines' formulas (.zeta ~ par) keep profile.merMod's evaluation frame
# as their environment, and with it the model and its deviance function:
# 1.7 MB for sleepstudy instead of 4 KB.  Nothing reads that environment
# (predict() uses knots and coefficients), so it is dropped before travel.
pylme4_profile_part <- function(fit, i, args) {
  p <- do.call(stats::profile, c(list(fit, which = as.integer(i)), args))
  light <- function(s) {
    f <- attr(s, "formula")
    if (inherits(f, "formula")) {
      environment(f) <- globalenv()
      attr(s, "formula") <- f
    }
    s
  }
  attr(p, "forward") <- lapply(attr(p, "forward"), light)
  attr(p, "backward") <- lapply(attr(p, "backward"), light)
  serialize(p, NULL)
}

# The parts (serialized thpr objects, in parameter order) as one thpr, built
# as profile.merMod builds it from its per-parameter results.
pylme4_profile_combine <- function(parts) {
  parts <- lapply(parts, unserialize)
  frames <- lapply(parts, function(p) {
    class(p) <- "data.frame"
    p$.par <- as.character(p$.par)
    p
  })
  ans <- do.call(rbind, frames)
  row.names(ans) <- NULL
  ans$.par <- factor(ans$.par)
  joined <- function(what) do.call(c, lapply(parts, attr, what))
  structure(ans, forward = joined("forward"), backward = joined("backward"),
            lower = joined("lower"), upper = joined("upper"),
            class = c("thpr", "data.frame"))
}

# What the Python Profile holds: as.data.frame(p) and R's printout of p.
pylme4_profile_parts <- function(p) {
  list(frame = as.data.frame(p), text = pylme4_print(p))
}

# confint(p, parm, level): parm NULL for all of them.
pylme4_profile_confint <- function(p, parm, level) {
  ci <- if (is.null(parm)) stats::confint(p, level = level)
        else stats::confint(p, parm = parm, level = level)
  as.data.frame(ci, check.names = FALSE)
}

# What xyplot.thpr draws in each panel, as numbers, computed as it computes
# them: the zeta levels and the parameter values where the backward spline
# meets them (the vertical segments; a level it does not reach is drawn at
# zeta 0 and the spline's first knot), and the profile curve (the forward
# spline over the panel's x range, as panel.thpr evaluates it), or the raw
# points where lme4 has no forward spline.
pylme4_profile_plot_data <- function(p, conf) {
  levels <- sort(sqrt(stats::qchisq(conf, df = 1)))
  zeta <- c(-rev(levels), 0, levels)
  predy <- utils::getFromNamespace("predy", "lme4")
  fwd <- attr(p, "forward")
  bak <- attr(p, "backward")
  # Panels in the profile's order (xyplot.thpr's: that of attr(p, "forward")).
  nms <- unique(as.character(p$.par))
  panels <- lapply(nms, function(n) {
    spl <- fwd[[n]]
    bs <- bak[[n]]
    if (is.null(spl)) {
      r <- p[p$.par == n, ]
      spl <- data.frame(y = r[[".zeta"]], x = r[[n]])
      bs <- data.frame(x = spl$y, y = spl$x)
    }
    is_spline <- inherits(spl, "spline")
    pval <- if (inherits(bs, "spline")) {
      predy(bs, zeta)
    } else if (is.numeric(bs$x) && is.numeric(bs$y) && length(bs$x) == length(bs$y)) {
      stats::approx(bs$x, bs$y, xout = zeta)$y
    } else {
      rep_len(NA_real_, length(zeta))
    }
    z <- zeta
    na <- is.na(pval)
    z[na] <- 0
    if (is_spline) pval[na] <- min(spl$knots)
    # lattice pads a free x scale by 7% of its range on each side.
    lims <- grDevices::extendrange(range(pval, na.rm = TRUE), f = 0.07)
    curve <- if (is_spline) {
      krange <- range(spl$knots)
      pr <- stats::predict(spl, seq(max(lims[1], krange[1]), min(lims[2], krange[2]),
                                    length.out = 101))
      data.frame(x = pr$x, zeta = pr$y)
    } else {
      data.frame(x = spl$x, zeta = spl$y)
    }
    list(segments = data.frame(zeta = z, value = pval), curve = curve,
         spline = is_spline, xlim = I(lims))
  })
  stats::setNames(panels, nms)
}
