# Simulated data for the benchmarks, made by R so both sides (pylme4's
# embedded R and the separate Rscript) get bit-identical data from one seed.
#
# y ~ x + (1 | g): `rows` observations in `groups` groups (every group used),
# random intercepts with sd 1, slope 0.5, residual sd 1.
bench_data <- function(rows, groups, seed = 1L) {
  set.seed(seed)
  rows <- as.integer(rows)
  groups <- as.integer(groups)
  codes <- sample(c(seq_len(groups), sample.int(groups, rows - groups, replace = TRUE)))
  g <- factor(codes, levels = seq_len(groups), labels = sprintf("g%05d", seq_len(groups)))
  x <- rnorm(rows)
  u <- rnorm(groups)
  data.frame(y = 1 + 0.5 * x + u[codes] + rnorm(rows), x = x, g = g)
}

# A crossed design, as in a psycholinguistic experiment: every one of
# `subjects` subjects sees every one of `items` items once (subjects * items
# rows).  Predictors: `cond`, a two-level item property ("a"/"b"), `x`, a
# trial-level covariate, and `trial`, the position in the subject's session
# (centred, in [-0.5, 0.5)).  Subjects vary in intercept (sd 1) and in their
# `cond` effect (sd 0.5); items in intercept (sd 0.7); residual sd 1.
# Model: y ~ cond + x + trial + (1 + cond | subject) + (1 | item).
bench_crossed <- function(subjects, items, seed = 1L) {
  set.seed(seed)
  d <- expand.grid(item = seq_len(items), subject = seq_len(subjects))
  s <- d$subject
  i <- d$item
  cond <- rep(c(-0.5, 0.5), length.out = items)[i]
  u <- matrix(rnorm(2 * subjects), ncol = 2) %*% diag(c(1, 0.5))
  w <- rnorm(items, sd = 0.7)
  x <- rnorm(nrow(d))
  trial <- (ave(seq_along(s), s, FUN = seq_along) - 1) / items - 0.5
  data.frame(
    y = 1 + 0.4 * cond + 0.3 * x - 0.2 * trial + u[s, 1] + u[s, 2] * cond + w[i] +
      rnorm(nrow(d)),
    cond = factor(ifelse(cond < 0, "a", "b")),
    x = x,
    trial = trial,
    subject = factor(sprintf("s%04d", s)),
    item = factor(sprintf("i%04d", i))
  )
}
