"""Benchmark: pylme4.glmer()/glmer_nb() against the same fit typed in the embedded R.

    .venv/bin/python -m benchmarks.glmer [--repeat 5]

No speed target is set for GLMMs; this prints the overhead pylme4 adds to
lme4's own fitting time (checks, conversion, building the result, summary)
as medians over repeated runs, for three models.  R's fit is timed inside
the embedded R; both sides get their data once, before any timing.

- cbpp binomial, cbind response (56 rows);
- grouseticks Poisson with three crossed random effects (403 rows);
- a simulated negative binomial (2,000 rows, 50 groups).
"""

from __future__ import annotations

import argparse
import warnings

from .timing import median_seconds, r_median_seconds

MODELS = [
    (
        "cbpp binomial",
        "cbpp",
        "",
        "glmer",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        {"family": "binomial"},
        "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp, "
        "family = binomial)",
    ),
    (
        "grouseticks Poisson",
        "grouseticks",
        "",
        "glmer",
        "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        {"family": "poisson"},
        "glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION), "
        "data = grouseticks, family = poisson)",
    ),
    (
        "negative binomial",
        "nb",
        "set.seed(1); nb <- data.frame(g = gl(50, 40), x = rnorm(2000)); "
        "nb$y <- rnbinom(2000, mu = exp(1 + 0.4 * nb$x + rnorm(50, sd = 0.5)[nb$g]), size = 2)",
        "glmer_nb",
        "y ~ x + (1 | g)",
        {},
        "glmer.nb(y ~ x + (1 | g), data = nb)",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import pylme4
    from pylme4._r.call import run_code

    warnings.simplefilter("ignore")
    print(f"{'model':<22} {'R glmer':>10} {'pylme4':>10} {'+summary':>10} {'overhead':>10}")
    for label, name, setup, fun, formula, kwargs, r_call in MODELS:
        data = run_code(f"{setup}\n{name}") if setup else pylme4.datasets.load(name)
        r_time = r_median_seconds(r_call, args.repeat, setup=setup)

        def fit(fun=fun, formula=formula, data=data, name=name, kwargs=kwargs):
            return getattr(pylme4, fun)(formula, data, data_name=name, **kwargs)

        py_time = median_seconds(fit, args.repeat)
        both = median_seconds(lambda fit=fit: str(fit().summary()), args.repeat)
        print(
            f"{label:<22} {r_time:>9.3f}s {py_time:>9.3f}s {both:>9.3f}s {py_time - r_time:>+9.3f}s"
        )


if __name__ == "__main__":
    main()
