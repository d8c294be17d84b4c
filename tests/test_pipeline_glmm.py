"""GLMMs in specs: ``family:`` (glmer), ``family: negative_binomial`` (glmer.nb),
``nAGQ``, ``control``, ``weights`` and ``offset``, against R's own calls in this
process, and through ``export-r`` / ``verify --with-r``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

from pylme4 import datasets, pipeline
from pylme4.pipeline import SpecError, parse_spec

CBPP_SPEC = """\
data:
  dataset: cbpp
models:
  - name: logit
    formula: "cbind(incidence, size - incidence) ~ period + (1 | herd)"
    family: binomial
    control: {optimizer: bobyqa, optCtrl: {maxfun: 100000}, calc.derivs: false}
    confint: Wald
    boot: {nsim: 3, seed: 1}
  - name: probit
    formula: "incidence / size ~ period + (1 | herd)"
    family: 'binomial(link = "probit")'
    weights: size
    nAGQ: 5
  - name: noperiod
    update: logit
    formula: ". ~ . - period"
compare:
  - name: period
    models: [noperiod, logit]
"""

CBPP_R = """
cbpp <- lme4::cbpp
text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
logit <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp,
               family = binomial,
               control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5),
                                      calc.derivs = FALSE))
probit <- glmer(incidence / size ~ period + (1 | herd), data = cbpp,
                family = binomial(link = "probit"), nAGQ = 5, weights = size)
noperiod <- update(logit, . ~ . - period)
a <- anova(noperiod, logit)
coefs <- function(m) as.data.frame(coef(summary(m)), check.names = FALSE)
list(logit = text(summary(logit)), probit = text(summary(probit)),
     noperiod = text(summary(noperiod)),
     logit_fixef = coefs(logit), probit_fixef = coefs(probit),
     probit_ranef = as.data.frame(ranef(probit, condVar = TRUE)),
     probit_stats = c(logLik(probit), AIC(probit), BIC(probit), deviance(probit),
                      getME(probit, "theta")),
     ci = as.data.frame(confint(logit, method = "Wald")),
     anova = text(a))
"""


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=["NA"])


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _verify_with_r(out: Path, spec: Path | None = None) -> None:
    report = pipeline.verify(out, with_r=True, spec_path=spec)
    assert report.ok, [str(d) for d in report.differences]
    assert report.numbers == report.identical > 0


def test_glmer_binomial_with_control_weights_nagq_update_and_compare(tmp_path: Path) -> None:
    (tmp_path / "cbpp.yaml").write_text(CBPP_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "cbpp.yaml")
    out = tmp_path / "results"
    result = pipeline.run(spec, out)
    ref = r(CBPP_R)
    for name in ("logit", "probit", "noperiod"):
        assert _text(out / name / "summary.txt") == ref[name] + "\n", name
    for name in ("logit", "probit"):
        fixef = _csv(out / name / "fixef.csv")
        expected = ref[f"{name}_fixef"]
        assert list(fixef.columns) == ["term", *expected.columns]
        assert list(fixef["term"]) == list(expected.index)
        np.testing.assert_allclose(fixef.iloc[:, 1:].to_numpy(float), expected, **SAME)
    ranef = _csv(out / "probit" / "ranef.csv")
    np.testing.assert_allclose(ranef["condval"], ref["probit_ranef"]["condval"], **SAME)
    np.testing.assert_allclose(ranef["condsd"], ref["probit_ranef"]["condsd"], **SAME)
    stats = _csv(out / "probit" / "stats.csv").set_index("statistic")["value"].astype(float)
    np.testing.assert_allclose(
        stats[["logLik", "AIC", "BIC", "deviance", "theta:1"]], ref["probit_stats"], **SAME
    )
    assert "REMLcrit" not in stats.index
    ci = _csv(out / "logit" / "confint.csv").set_index("parameter")
    np.testing.assert_allclose(ci.to_numpy(float), ref["ci"].to_numpy(float), **SAME)
    assert _text(out / "period" / "anova.txt") == ref["anova"] + "\n"

    models = result.results["models"]
    assert models["probit"]["fun"] == "glmer" and models["probit"]["nAGQ"] == 5
    assert models["probit"]["reml"] is False
    # A variant takes the call's family and control from its base model, as update() does.
    assert spec.model("noperiod").family == "binomial"
    assert spec.model("noperiod").control == spec.model("logit").control

    script = pipeline.export_r(spec)
    assert (
        "fit <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp, "
        'family = binomial, control = glmerControl(optimizer = "bobyqa", '
        "optCtrl = list(maxfun = 100000), calc.derivs = FALSE))\n"
    ) in script
    assert ('family = binomial(link = "probit"), nAGQ = 5, weights = size)\n') in script
    _verify_with_r(out)


def _ticks_csv(folder: Path) -> None:
    ticks = datasets.load("grouseticks")
    frame = ticks[["INDEX", "TICKS", "BROOD", "YEAR", "LOCATION", "cHEIGHT"]].copy()
    frame["log area"] = np.log(1.0 + (np.arange(len(frame)) % 3))
    frame.to_csv(folder / "ticks.csv", index=False)


TICKS_SPEC = """\
data:
  csv: ticks.csv
  name: ticks
models:
  - name: nb
    formula: "TICKS ~ YEAR + cHEIGHT + (1 | LOCATION)"
    family: negative_binomial
  - name: nb0
    update: nb
    formula: ". ~ . - cHEIGHT"
  - name: pois
    formula: "TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)"
    family: poisson
    offset: log area
  - name: known
    formula: "TICKS ~ YEAR + (1 | LOCATION)"
    family: "MASS::negative.binomial(theta = 2)"
    control: {optimizer: [bobyqa, Nelder_Mead], tolPwrss: 1e-8}
  - name: lin
    formula: "log1p(TICKS) ~ YEAR + (1 | LOCATION)"
    reml: false
    weights: cHEIGHT2
"""


def test_glmer_nb_poisson_offset_and_lmer_weights(tmp_path: Path) -> None:
    _ticks_csv(tmp_path)
    frame = pd.read_csv(tmp_path / "ticks.csv")
    frame["cHEIGHT2"] = 1.0 + frame["cHEIGHT"] ** 2 / 1000.0
    frame.to_csv(tmp_path / "ticks.csv", index=False)
    (tmp_path / "ticks.yaml").write_text(TICKS_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "ticks.yaml")
    out = tmp_path / "results"
    result = pipeline.run(spec, out)
    csv = (tmp_path / "ticks.csv").as_posix()
    ref = r(
        f"""
        ticks <- read.csv('{csv}', na.strings = c('NA', ''), check.names = FALSE)
        text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
        nb <- glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), data = ticks)
        nb0 <- update(nb, . ~ . - cHEIGHT)
        pois <- glmer(TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION), data = ticks,
                      family = poisson, offset = `log area`)
        known <- glmer(TICKS ~ YEAR + (1 | LOCATION), data = ticks,
                       family = MASS::negative.binomial(theta = 2),
                       control = glmerControl(optimizer = c("bobyqa", "Nelder_Mead"),
                                              tolPwrss = 1e-8))
        lin <- lmer(log1p(TICKS) ~ YEAR + (1 | LOCATION), data = ticks, REML = FALSE,
                    weights = cHEIGHT2)
        list(nb = text(summary(nb)), nb0 = text(summary(nb0)), pois = text(summary(pois)),
             known = text(summary(known)), lin = text(summary(lin)),
             theta = getME(nb, "glmer.nb.theta"), theta0 = getME(nb0, "glmer.nb.theta"))
        """
    )
    for name in ("nb", "nb0", "pois", "known", "lin"):
        assert _text(out / name / "summary.txt") == ref[name] + "\n", name
    stats = _csv(out / "nb" / "stats.csv").set_index("statistic")["value"].astype(float)
    np.testing.assert_allclose(stats["nb_theta"], ref["theta"], **SAME)
    stats0 = _csv(out / "nb0" / "stats.csv").set_index("statistic")["value"].astype(float)
    # update() of a glmer.nb fit keeps its theta (R refits a glmer with it fixed).
    np.testing.assert_allclose(stats0["nb_theta"], ref["theta0"], **SAME)
    assert ref["theta0"] == ref["theta"]
    models = result.results["models"]
    assert models["nb"]["fun"] == "glmer.nb" and models["nb0"]["fun"] == "glmer"
    script = pipeline.export_r(spec)
    assert "fit <- glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | LOCATION), data = ticks)\n" in script
    assert "family = poisson, offset = `log area`)\n" in script
    assert "REML = FALSE, weights = cHEIGHT2)\n" in script
    _verify_with_r(out, tmp_path / "ticks.yaml")


GLMM_ERRORS = [
    (
        "   family: binomial\n   ddf: Satterthwaite\n",
        r"<s>:6: models\[0\]\.ddf: is lmerTest's, for linear mixed models \(lmer\) only",
    ),
    (
        "   family: poisson\n   drop1: true\n",
        r"<s>:6: models\[0\]\.drop1: is lmerTest's.*fitted with glmer\(\)",
    ),
    (
        "   family: negative_binomial\n   reml: false\n",
        r"<s>:6: models\[0\]\.reml: a GLMM is fitted by maximum likelihood.*glmer\.nb\(\)",
    ),
    ("   nAGQ: 3\n", r"<s>:5: models\[0\]\.nAGQ: is only used with 'family'"),
    ("   family: poisson\n   nAGQ: 101\n", r"<s>:6: models\[0\]\.nAGQ: must be at most 100"),
    ("   famly: poisson\n", r"<s>:5: models\[0\]: unknown key 'famly' \(did you mean 'family'\?\)"),
    ("   control: bobyqa\n", r"<s>:5: models\[0\]\.control: must be a mapping of control"),
    ("   control: {optimizer: {a: {b: 1}}}\n", r"<s>:5: models\[0\]\.control\.optimizer\.a:"),
    ("   control: {tolPwrss: .nan}\n", r"<s>:5: models\[0\]\.control\.tolPwrss: must be a finite"),
    ("   weights: [w]\n", r"<s>:5: models\[0\]\.weights: must be text, not a list"),
    ("   offset: 'a`b'\n", r"<s>:5: models\[0\]\.offset: 'a`b': a column name with '`'"),
]


@pytest.mark.parametrize("extra,pattern", GLMM_ERRORS)
def test_glmm_spec_errors_name_line_and_key(extra: str, pattern: str) -> None:
    text = "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x + (1 | g)\n" + extra
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="<s>")
    message = str(info.value)
    assert "\n" not in message
    assert re.match(pattern, message), message


def test_a_variant_takes_the_call_from_its_base_model() -> None:
    base = "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x + (1 | g)\n"
    with pytest.raises(SpecError, match=r"<s>:7: models\[1\]\.family: a variant takes 'family'"):
        parse_spec(base + " - name: v\n   update: m\n   family: poisson\n", source="<s>")
    spec = parse_spec(
        base + "   family: poisson\n   offset: o\n - name: v\n   update: m\n   formula: . ~ . - x\n"
    )
    assert spec.model("v").family == "poisson" and spec.model("v").offset == "o"
    with pytest.raises(SpecError, match=r"models\[1\]\.ddf: is lmerTest's"):
        parse_spec(base + "   family: poisson\n - name: v\n   update: m\n   ddf: Satterthwaite\n")


def test_glmm_keys_are_recorded_only_when_given() -> None:
    spec = parse_spec(CBPP_SPEC)
    data = spec.to_dict()["models"]
    assert data[0]["family"] == "binomial" and "nAGQ" not in data[0] and "weights" not in data[0]
    assert data[0]["control"] == {
        "optimizer": "bobyqa", "optCtrl": {"maxfun": 100000}, "calc.derivs": False
    }  # fmt: skip
    assert data[1]["nAGQ"] == 5 and data[1]["weights"] == "size"


def test_weights_or_offset_not_a_column_is_a_spec_error(tmp_path: Path) -> None:
    text = CBPP_SPEC.replace("weights: size", "weights: sise")
    line = text.splitlines().index("    weights: sise") + 1
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(
        SpecError,
        match=rf"s\.yaml:{line}: models\[1\]\.weights: 'sise' is not a "
        r"column of the data set cbpp \(did you mean 'size'\?\)",
    ):
        pipeline.run(pipeline.load_spec(tmp_path / "s.yaml"), tmp_path / "out")


POWER_SPEC = """\
data:
  dataset: sleepstudy
models:
  - name: m
    formula: "Reaction ~ Days + (Days | Subject)"
    power:
      test: Days
      effect: 3
      nsim: 6
      seed: 2
      workers: 2
      power_curve: {along: Subject, n: [6, 20]}
  - name: ml
    update: m
    reml: false
    power: {test: Days, effect: {Days: 2}, nsim: 5, seed: 1, method: lrt, alpha: 0.1}
"""

# docs/power.md's loops, as an R user runs them.
POWER_R = """
library(lme4)
m <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)
beta <- fixef(m); beta["Days"] <- 3
ys <- simulate(m, nsim = 6, seed = 2,
               newparams = list(theta = getME(m, "theta"), beta = beta, sigma = sigma(m)))
p <- sapply(ys, function(y) {
  d <- sleepstudy
  d$Reaction[as.integer(rownames(model.frame(m)))] <- y
  m1 <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = d)
  anova(m1)["Days", "Pr(>F)"]
})
ml <- update(m, REML = FALSE)
beta <- fixef(ml); beta["Days"] <- 2
ys <- simulate(ml, nsim = 5, seed = 1,
               newparams = list(theta = getME(ml, "theta"), beta = beta, sigma = sigma(ml)))
p_lrt <- sapply(ys, function(y) {
  d <- sleepstudy; d$Reaction <- y
  anova(lmer(Reaction ~ 1 + (Days | Subject), d, REML = FALSE),
        lmer(Reaction ~ Days + (Days | Subject), d, REML = FALSE))[2, "Pr(>Chisq)"]
})
extend <- function(data, along, size) {
  levs <- levels(factor(data[[along]])); L <- length(levs)
  parts <- lapply(seq_len(size), function(j) {
    src <- levs[(j - 1) %% L + 1]
    rows <- data[as.character(data[[along]]) == src, , drop = FALSE]
    copy <- (j - 1) %/% L
    rows[[along]] <- if (copy == 0) src else paste0(src, "_", copy + 1)
    rows
  })
  out <- do.call(rbind, parts); rownames(out) <- NULL
  out[[along]] <- factor(out[[along]], levels = unique(out[[along]])); out
}
beta <- fixef(m); beta["Days"] <- 3
curve <- sapply(c(6, 20), function(size) {
  d0 <- extend(sleepstudy, "Subject", size)
  ys <- simulate(formula(m), newdata = d0, nsim = 6, seed = 2,
                 newparams = list(theta = getME(m, "theta"), beta = beta, sigma = sigma(m)))
  pc <- sapply(ys, function(y) {
    d <- d0; d$Reaction <- y
    anova(lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = d))["Days", "Pr(>F)"]
  })
  mean(pc < 0.05)
})
list(p = unname(p), p_lrt = unname(p_lrt), curve = curve,
     ci = binom.test(sum(p < 0.05), 6)$conf.int[1:2])
"""


def test_power_and_power_curve_are_the_r_loops_p_values(tmp_path: Path) -> None:
    (tmp_path / "power.yaml").write_text(POWER_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "power.yaml")
    out = tmp_path / "results"
    result = pipeline.run(spec, out)
    ref = r(POWER_R)
    power = _csv(out / "m" / "power.csv")
    assert list(power.columns) == ["simulation", "p_value", "error"]
    assert list(power["simulation"]) == [f"sim_{i}" for i in range(1, 7)]
    np.testing.assert_allclose(power["p_value"], ref["p"], **SAME)
    lrt = _csv(out / "ml" / "power.csv")
    np.testing.assert_allclose(lrt["p_value"], ref["p_lrt"], **SAME)
    curve = _csv(out / "m" / "power_curve.csv")
    assert list(curve["n"]) == [6, 20] and list(curve["nobs"]) == [60, 200]
    np.testing.assert_allclose(curve["power"], ref["curve"], **SAME)
    models = result.results["models"]
    assert models["m"]["power_estimate"] == np.mean(np.asarray(ref["p"]) < 0.05)
    np.testing.assert_allclose(models["m"]["power_ci"], ref["ci"], **SAME)
    text = _text(out / "ml" / "power.txt")
    assert "Test: likelihood-ratio test against the model without the term, alpha = 0.1" in text
    assert spec.seeds() == {"m.power": 2, "ml.power": 1}
    script = pipeline.export_r(spec)
    assert (
        'pylme4_write_power(fit, "m", test = "Days", seed = 2, nsim = 6, alpha = 0.05, '
        'method = "satterthwaite", level = 0.95, workers = 2, effect = list("Days" = 3.0))'
    ) in script
    # verify --with-r: the script's own loop (script.R, not pylme4's power.R).
    _verify_with_r(out)


GLMM_POWER_SPEC = """\
data:
  dataset: cbpp
models:
  - name: logit
    formula: "cbind(incidence, size - incidence) ~ period + (1 | herd)"
    family: binomial
    power: {test: period, effect: {period2: -0.5}, nsim: 4, seed: 3}
  - name: wald
    update: logit
    power: {test: period2, nsim: 3, seed: 1, method: wald}
"""


def test_glmm_power_lrt_and_wald_verify_with_r(tmp_path: Path) -> None:
    (tmp_path / "cbpp.yaml").write_text(GLMM_POWER_SPEC, encoding="utf-8")
    out = tmp_path / "results"
    spec = pipeline.load_spec(tmp_path / "cbpp.yaml")
    assert spec.model("logit").power_method == "lrt"
    with pytest.raises(pipeline.ModelError, match="period2"):
        # 'period2' is a coefficient, not a term: pylme4.power() says so, naming the model.
        pipeline.run(spec, out)
    spec = parse_spec(
        GLMM_POWER_SPEC.replace("test: period2, nsim: 3", "test: period, nsim: 3").replace(
            "method: wald", "method: lrt"
        )
    )
    (tmp_path / "cbpp.yaml").write_text(spec.text, encoding="utf-8")
    result = pipeline.run(pipeline.load_spec(tmp_path / "cbpp.yaml"), out)
    assert len(_csv(out / "logit" / "power.csv")) == 4
    assert result.results["models"]["wald"]["power_failed"] == 0
    _verify_with_r(out)


POWER_ERRORS = [
    ("   power: {test: Days}\n", r"<s>:5: models\[0\]\.power: 'seed' is missing"),
    ("   power: {test: Days, seed: 1, nsim: 0}\n", r".*power\.nsim: must be at least 1"),
    ("   power: {test: Days, seed: 1, method: wald}\n", r".*power\.method: 'wald' is not a test"),
    ("   power: {test: Days, seed: 1, efect: 3}\n", r".*unknown key 'efect' \(did you mean"),
    ("   power: {test: Days, seed: 1, effect: big}\n", r".*power\.effect: must be a number"),
    ("   power: {test: Days, seed: 1, alpha: 1}\n", r".*power\.alpha: must be a number between"),
    (
        "   power: {test: Days, seed: 1, power_curve: {along: g, n: [1]}}\n",
        r".*power\.power_curve\.n: must be at least 2",
    ),
    ("   power: Days\n", r"<s>:5: models\[0\]\.power: must be a mapping such as"),
    (
        "   family: poisson\n   power: {test: x, seed: 1, method: satterthwaite}\n",
        r".*power\.method: 'satterthwaite' is not a test of a GLMM \(glmer\(\)\)",
    ),
]


@pytest.mark.parametrize("extra,pattern", POWER_ERRORS)
def test_power_spec_errors_name_line_and_key(extra: str, pattern: str) -> None:
    test_glmm_spec_errors_name_line_and_key(extra, pattern)
