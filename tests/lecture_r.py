"""The lecture's data sets built in R, independently of pylme4's helpers, and
the lecture's model and lme4 tolerances shared by the lecture tests.

Each snippet binds the lecture's name (df.sleep, df.test, ...) the way the
lecture's recipe describes it, written here in base R; the tests compare
pylme4's data sets and results with R's on these.
"""

# The lecture's correlated random-slope model of df.sleep.
CORRELATED = "reaction ~ 1 + days + (1 + days | subject)"

# lme4 before 1.1-23 stopped nloptwrap at xtol_abs = ftol_abs = 1e-6 (now 1e-8):
# the lecture's tolerances, for pylme4 and for R.
LECTURE_LME4 = {"optCtrl": {"xtol_abs": 1e-6, "ftol_abs": 1e-6}}
R_LECTURE_LME4 = "lmerControl(optCtrl = list(xtol_abs = 1e-6, ftol_abs = 1e-6))"

# lme4's sleepstudy with lower-case names and character subjects, plus the
# lecture's participants 374 (days 0, 1) and 373 (day 0).
SLEEP = r"""
df.sleep <- sleepstudy
names(df.sleep) <- tolower(names(df.sleep))
df.sleep$subject <- as.character(df.sleep$subject)
df.sleep <- df.sleep[, c("subject", "days", "reaction")]
df.sleep <- rbind(df.sleep,
                  data.frame(subject = "374", days = 0:1, reaction = c(286, 288)),
                  data.frame(subject = "373", days = 0, reaction = 245))
"""

SLEEP18 = SLEEP + "\ndf.sleep <- df.sleep[!(df.sleep$subject %in% c('373', '374')), ]\n"

# set.seed(1); 20 participants; one N(0, 0.5) intercept each; values of
# condition 0 then condition 1 with N(0, 0.5) noise; participant 20 + 30.
_TEST = r"""
set.seed(%(seed)d)
n <- 20
condition <- rep(0:1, each = n); participant <- rep(1:n, 2)
ints <- rnorm(n, sd = 0.5)
value <- c(1 + ints + rnorm(n, sd = 0.5), 1 + 2 + ints + rnorm(n, sd = 0.5))
value[participant == n] <- value[participant == n] + 30
df.test <- data.frame(condition = factor(condition), participant = factor(participant),
                      value = value)
"""


def df_test(seed: int = 1) -> str:
    """R code binding df.test, drawn with set.seed(seed)."""
    return _TEST % {"seed": seed}


TEST = df_test(1)

# The mixture: R < 3.6's sample() ("Rounding", or R's current "Rejection"
# when asked); every participant's group first, then two intercepts per participant from its group's normal, then
# the residuals of condition 0 and 1.
_MIXED = r"""
suppressWarnings(RNGkind(sample.kind = "%(kind)s"))
set.seed(%(seed)d)
n <- 20
condition <- rep(0:1, each = n); participant <- rep(1:n, 2)
g <- integer(n); for (p in 1:n) g[p] <- sample(1:2, size = 1)
intercept <- numeric(2 * n)
for (p in 1:n) {
  i <- c(p, p + n)
  intercept[i] <- rnorm(2, mean = c(%(m1)s, %(m2)s)[g[p]], sd = c(%(s1)s, %(s2)s)[g[p]])
}
value <- 1 + 2 * condition + intercept + c(rnorm(n, sd = 0.5), rnorm(n, sd = 0.5))
df.mixed <- data.frame(condition = factor(condition), participant = factor(participant),
                       group = g[participant], intercept = intercept, value = value)
suppressWarnings(RNGkind(sample.kind = "Rejection"))
"""


def df_mixed(seed: int = 1, *, group_variance: bool = False, sample_kind: str = "Rounding") -> str:
    """R code binding df.mixed (the lecture's means and SDs, or its group-variance ones)."""
    spread = (
        {"m1": 1, "m2": 30, "s1": 1, "s2": 10}
        if group_variance
        else {"m1": 1, "m2": 10, "s1": 0.5, "s2": 0.5}
    )
    return _MIXED % {"seed": seed, "kind": sample_kind, **spread}


MIXED = df_mixed(1)
VARIANCE = df_mixed(1, group_variance=True)

# The school design: schools I-VI at 10 * normal quantiles, classes a-d at
# 2.4 * normal quantiles, drawn class-in-school effects (sd 1), openness,
# agreeableness, sociability, residuals (sd 1), then a shuffle.
_SCHOOL = r"""
set.seed(%(seed)d)
sch <- 10 * qnorm((1:6 - 0.5) / 6); cls <- 2.4 * qnorm((1:4 - 0.5) / 4)
cell <- matrix(rnorm(24), nrow = 4)
k <- rep(rep(1:4, each = 50), 6); s <- rep(1:6, each = 200); N <- 1200
open <- rnorm(N, 40, 5); agree <- rnorm(N, 35, 5); social <- rnorm(N, 100, 15)
extro <- 60 + sch[s] + cls[k] + cell[cbind(k, s)] + rnorm(N)
o <- sample.int(N)
df.school <- data.frame(id = 1:N, extro = extro[o], open = open[o], agree = agree[o],
                        social = social[o],
                        class = factor(letters[1:4][k[o]], levels = letters[1:4]),
                        school = factor(c("I", "II", "III", "IV", "V", "VI")[s[o]],
                                        levels = c("I", "II", "III", "IV", "V", "VI")))
"""


def df_school(seed: int = 1) -> str:
    """R code binding df.school, drawn with set.seed(seed)."""
    return _SCHOOL % {"seed": seed}


SCHOOL = df_school(1)
