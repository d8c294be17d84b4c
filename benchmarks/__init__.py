"""pylme4's benchmark suite: pylme4 against R itself and the Python alternatives.

    python -m benchmarks            # the full suite (25 to 30 minutes on 2 cores)
    python -m benchmarks --quick    # small sizes, a couple of minutes (CI runs it)
    python -m benchmarks --only conversion overhead

It prints one table and writes every timing to JSON (``benchmarks/results/``,
git-ignored).  Each number is a median over repeated runs, and every ratio
compares two things measured in the same run, alternately (A, B, A, B, ...),
so a busy machine slows both sides alike.  Timings are reported, never
asserted: the targets in the table say what we aim for.

One module per measurement:

=====================  ====================================================
``conversion``         pandas -> R data.frame: pylme4 vs rpy2's pandas2ri
``overhead``           pylme4.lmer + summary(ddf) vs the same calls in R
``statsmodels_mixedlm`` statsmodels' MixedLM on the same models: time and
                       how far its estimates are from lme4's
``bootstrap``          fit.boot_mer(nsim=200), 1 and 2 workers, vs bootMer
``parallel_boot``      fit.boot_mer with 1 .. os.cpu_count() workers vs R's
                       serial and multicore bootMer, sleepstudy (nsim=1000)
                       and a crossed 10,000-row model (nsim=150); also
                       ``python -m benchmarks.parallel_boot [--quick]``
``startup``            import time; first fit with R start-up
``scaling``            how a fit's cost grows with rows and with groups
=====================  ====================================================

Helpers: ``timing`` (alternating repeated runs), ``rprocess`` (a separate
Rscript that times R code inside R), ``data`` (the benchmark data, made by
R code both sides run), ``report`` (the table and the JSON).
"""
