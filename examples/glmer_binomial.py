"""A binomial mixed model: lme4's cbpp (contagious bovine pleuropneumonia).

Each row is one herd in one period: `size` animals, `incidence` of them with
new cases.  The question is how the probability of a new case changes over
the four periods, allowing each herd its own baseline risk.

Run with `.venv/bin/python examples/glmer_binomial.py`.  Every printed block
is R's own output, byte for byte.
"""

import numpy as np

import pylme4
from pylme4 import datasets

cbpp = datasets.load("cbpp")
print(cbpp.head(), end="\n\n")

# Successes and failures per row, as in R: cbind(incidence, size - incidence).
fit = pylme4.glmer(
    "cbind(incidence, size - incidence) ~ period + (1 | herd)",
    cbpp,
    family="binomial",
    data_name="cbpp",
)
print(fit.summary(), end="\n\n")

# The same model written with proportions and the numbers of trials as weights.
same = pylme4.glmer(
    "incidence / size ~ period + (1 | herd)",
    cbpp,
    family="binomial",
    weights="size",
    data_name="cbpp",
)
print("Same estimates from proportions with weights:", np.allclose(same.fixef(), fit.fixef()))

# Fixed effects as odds ratios relative to period 1.
print("\nOdds ratios (exp(fixef())):")
print(np.exp(fit.fixef()).to_string(), end="\n\n")

# Population-level predicted probabilities of a new case, per period.
periods = cbpp[["period"]].drop_duplicates().reset_index(drop=True)
probability = fit.predict(periods, re_form="NA", type="response")
print("Predicted probability of a new case (typical herd):")
print(periods.assign(probability=probability).to_string(index=False))
