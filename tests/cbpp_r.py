"""lme4's cbpp models, shared by the glmer test modules: the formulas as a
Python user gives them (and R's call uses them), and R code for the data."""

# Successes and failures per herd and period.
CBIND = "cbind(incidence, size - incidence) ~ period + (1 | herd)"

# A predictor on a scale 1000 times the others: lme4 warns (large eigenvalue).
CBPP_BIG = "set.seed(1); cbpp_big <- cbpp; cbpp_big$x <- rnorm(nrow(cbpp)) * 1000"
CBIND_BIG = "cbind(incidence, size - incidence) ~ period + x + (1 | herd)"
