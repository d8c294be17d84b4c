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
