"""A first pylme4 session: lme4's sleepstudy, fitted from pandas.

Run with `make demo` (or `.venv/bin/python examples/sleepstudy.py`).
Every printed block is R's own output, byte for byte.
"""

import pylme4
from pylme4 import datasets

sleep = datasets.load("sleepstudy")
print(sleep.head(), end="\n\n")

# Partial pooling: random intercepts and slopes per subject.
fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
print(fit.summary(), end="\n\n")

# p-values with lmerTest's Satterthwaite degrees of freedom.
print(fit.summary(ddf="Satterthwaite"), end="\n\n")

print("fixef():")
print(fit.fixef().to_string(), end="\n\n")
print("coef()$Subject (first rows):")
print(fit.coef()["Subject"].head().to_string(), end="\n\n")
print("VarCorr():")
print(fit.var_corr().to_string())
