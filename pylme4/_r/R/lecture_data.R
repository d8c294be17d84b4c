# The simulated data sets of the lecture "Linear mixed effects models 3"
# (pylme4.datasets.test_data, mixed_data, school_data).
#
# Each simulator draws from R's own random stream after set.seed(seed), in the
# order the lecture's recipe draws, so that the lecture's seed gives the
# lecture's data (and its printed numbers) exactly.  The user's random stream
# is left as it was: a data set is not a computation the user seeded.

# Run make() after set.seed(seed) under the given sample.kind, then restore
# the RNG kind and .Random.seed the session had before.
pylme4_with_seed <- function(seed, sample_kind, make) {
  old_kind <- RNGkind()
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (had_seed) old_seed <- get(".Random.seed", envir = globalenv(), inherits = FALSE)
  on.exit({
    suppressWarnings(RNGkind(old_kind[[1L]], old_kind[[2L]], old_kind[[3L]]))
    if (had_seed) {
      assign(".Random.seed", old_seed, envir = globalenv())
    } else if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
      rm(".Random.seed", envir = globalenv())
    }
  })
  # "Rounding" was R's sample() before R 3.6.0; R warns that it is biased.
  suppressWarnings(RNGkind(sample.kind = sample_kind))
  set.seed(seed)
  make()
}

# Two conditions per participant, random intercepts, and one outlying
# participant (the last one) whose values are shifted by `outlier_shift`.
# Draw order: one intercept per participant, then the residuals of
# condition 0 and of condition 1.
pylme4_lecture_test_data <- function(seed, n, b0, b1, sd_participant, sd_residual,
                                     outlier_shift) {
  pylme4_with_seed(seed, "Rejection", function() {
    condition <- rep(0:1, each = n)
    participant <- rep(seq_len(n), 2L)
    intercepts <- stats::rnorm(n, sd = sd_participant)
    value <- numeric(2L * n)
    for (cnd in 0:1) {
      rows <- which(condition == cnd)
      value[rows] <- b0 + b1 * cnd + intercepts[participant[rows]] +
        stats::rnorm(length(rows), sd = sd_residual)
    }
    value[participant == n] <- value[participant == n] + outlier_shift
    data.frame(condition = factor(condition), participant = factor(participant),
               value = value)
  })
}

# Two conditions per participant; each participant belongs to one of two
# groups whose intercepts differ in mean (and possibly in spread).  Draw
# order, as the lecture's grouped mutate() draws: every participant's group,
# then per participant one intercept per row from its group's normal
# distribution, then the residuals of condition 0 and of condition 1.
pylme4_lecture_mixed_data <- function(seed, n, b0, b1, means, sds, sd_residual,
                                      sample_kind) {
  pylme4_with_seed(seed, sample_kind, function() {
    condition <- rep(0:1, each = n)
    participant <- rep(seq_len(n), 2L)
    groups <- vapply(seq_len(n), function(p) sample(1:2, size = 1L), 0L)
    intercept <- numeric(2L * n)
    for (p in seq_len(n)) {
      rows <- which(participant == p)
      g <- groups[[p]]
      intercept[rows] <- stats::rnorm(length(rows), mean = means[[g]], sd = sds[[g]])
    }
    value <- numeric(2L * n)
    for (cnd in 0:1) {
      rows <- which(condition == cnd)
      value[rows] <- b0 + b1 * cnd + intercept[rows] +
        stats::rnorm(length(rows), sd = sd_residual)
    }
    data.frame(condition = factor(condition), participant = factor(participant),
               group = groups[participant], intercept = intercept, value = value)
  })
}

# Pupils in classes a-d of schools I-VI, every class letter in every school.
# Extraversion = intercept + school effect + class-letter effect (shared by
# all schools: the crossed part) + class-within-school effect (the nested
# part, drawn) + residual (drawn).  Openness, agreeableness and sociability are drawn
# independently of extraversion.  Rows are shuffled and numbered, as pupils
# would be listed in a survey file.
pylme4_lecture_school_data <- function(seed, n_per_class, intercept, sd_school, sd_class,
                                       sd_class_in_school, sd_residual) {
  pylme4_with_seed(seed, "Rejection", function() {
    schools <- c("I", "II", "III", "IV", "V", "VI")
    classes <- c("a", "b", "c", "d")
    # Six schools and four class letters are too few to draw their effects at
    # random and still get the spread asked for: they sit at the normal
    # quantiles instead (school I lowest, class a lowest, as in the lecture).
    school_effect <- sd_school * stats::qnorm((seq_along(schools) - 0.5) / length(schools))
    class_effect <- sd_class * stats::qnorm((seq_along(classes) - 0.5) / length(classes))
    cell_effect <- matrix(stats::rnorm(length(classes) * length(schools), sd = sd_class_in_school),
                          nrow = length(classes))
    grid <- expand.grid(pupil = seq_len(n_per_class), class = seq_along(classes),
                        school = seq_along(schools))
    n <- nrow(grid)
    open <- stats::rnorm(n, mean = 40, sd = 5)
    agree <- stats::rnorm(n, mean = 35, sd = 5)
    social <- stats::rnorm(n, mean = 100, sd = 15)
    extro <- intercept + school_effect[grid$school] + class_effect[grid$class] +
      cell_effect[cbind(grid$class, grid$school)] + stats::rnorm(n, sd = sd_residual)
    shuffled <- sample.int(n)
    data.frame(id = seq_len(n), extro = extro[shuffled], open = open[shuffled],
               agree = agree[shuffled], social = social[shuffled],
               class = factor(classes[grid$class[shuffled]], levels = classes),
               school = factor(schools[grid$school[shuffled]], levels = schools))
  })
}
