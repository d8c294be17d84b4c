"""Post-fit keys of specs: ``emmeans:`` (with contrasts) and ``wald_anova:``, against
emmeans and car in R in this process, and through ``export-r`` / ``verify --with-r``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAME, r

from pylme4 import pipeline
from pylme4.pipeline import SpecError, parse_spec

CAKE_SPEC = """\
data:
  dataset: cake
models:
  - name: m
    formula: "angle ~ recipe * temperature + (1 | recipe:replicate)"
    emmeans:
      specs: recipe
      by: temperature
      lmer_df: satterthwaite
      contrasts:
        - pairwise
        - {method: trt.vs.ctrl, adjust: holm}
    wald_anova: {type: 3, test: F}
  - name: kr
    formula: "angle ~ recipe + temp + (1 | recipe:replicate)"
    ddf: Satterthwaite
    emmeans: {specs: [recipe], at: {temp: [175, 215]}, level: 0.9}
    wald_anova: true
"""

CAKE_R = """
cake <- lme4::cake
text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
frame <- function(x) {
  f <- as.data.frame(summary(x))
  attributes(f) <- attributes(f)[c("names", "row.names", "class")]
  class(f) <- "data.frame"
  f
}
m <- lmer(angle ~ recipe * temperature + (1 | recipe:replicate), data = cake)
emm <- suppressMessages(emmeans::emmeans(m, "recipe", by = "temperature",
                                         lmer.df = "satterthwaite"))
pw <- emmeans::contrast(emm, method = "pairwise")
tc <- emmeans::contrast(emm, method = "trt.vs.ctrl", adjust = "holm")
kr <- lmer(angle ~ recipe + temp + (1 | recipe:replicate), data = cake)
emm_kr <- emmeans::emmeans(kr, "recipe", at = list(temp = c(175, 215)),
                           lmer.df = "kenward-roger", level = 0.9)
list(emm = text(summary(emm)), emm_frame = frame(emm),
     pw = text(summary(pw)), tc = text(summary(tc)), tc_frame = frame(tc),
     anova = text(car::Anova(m, type = "III", test.statistic = "F")),
     anova_kr = as.data.frame(car::Anova(kr)), anova_kr_text = text(car::Anova(kr)),
     emm_kr = text(summary(emm_kr)))
"""


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=["NA"])


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _verify_with_r(out: Path) -> None:
    report = pipeline.verify(out, with_r=True)
    assert report.ok, [str(d) for d in report.differences]
    assert report.numbers == report.identical > 0


def test_emmeans_contrasts_and_wald_anova_are_rs_own(tmp_path: Path) -> None:
    (tmp_path / "cake.yaml").write_text(CAKE_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "cake.yaml")
    out = tmp_path / "results"
    pipeline.run(spec, out)
    ref = r(CAKE_R)
    assert _text(out / "m" / "emmeans.txt") == ref["emm"] + "\n"
    emm = _csv(out / "m" / "emmeans.csv")
    expected = ref["emm_frame"]
    assert list(emm.columns) == list(expected.columns)
    numeric = ["emmean", "SE", "df", "lower.CL", "upper.CL"]
    np.testing.assert_allclose(emm[numeric], expected[numeric].to_numpy(float), **SAME)
    assert _text(out / "m" / "emmeans_contrasts.txt") == (
        f"pairwise:\n{ref['pw']}\n\ntrt.vs.ctrl, adjust = holm:\n{ref['tc']}\n"
    )
    contrasts = _csv(out / "m" / "emmeans_contrasts.csv")
    assert list(contrasts.columns[:2]) == ["method", "adjust"]
    holm = contrasts[contrasts["method"] == "trt.vs.ctrl"]
    assert set(holm["adjust"]) == {"holm"}
    assert set(contrasts[contrasts["method"] == "pairwise"]["adjust"]) == {"default"}
    np.testing.assert_allclose(holm["p.value"], ref["tc_frame"]["p.value"], **SAME)
    assert _text(out / "m" / "wald_anova.txt") == ref["anova"] + "\n"
    assert _text(out / "kr" / "emmeans.txt") == ref["emm_kr"] + "\n"
    assert _text(out / "kr" / "wald_anova.txt") == ref["anova_kr_text"] + "\n"
    wald = _csv(out / "kr" / "wald_anova.csv")
    assert list(wald["term"]) == list(ref["anova_kr"].index)
    np.testing.assert_allclose(wald.iloc[:, 1:], ref["anova_kr"].to_numpy(float), **SAME)

    script = pipeline.export_r(spec)
    assert (
        'pylme4_write_emmeans(fit, "m", specs = "recipe", by = c("temperature"), '
        'lmer_df = "satterthwaite", level = 0.95)'
    ) in script
    assert 'pylme4_write_wald_anova(fit, "m", type = "III", test = "F")' in script
    # In the order of the outputs that need them: kr's Kenward-Roger emmeans asks for
    # pbkrtest before m's wald_anova asks for car.
    assert "# Needs R with the packages lme4, lmerTest, emmeans, pbkrtest, car.\n" in script
    _verify_with_r(out)


GLMM_SPEC = """\
data:
  dataset: cbpp
models:
  - name: g
    formula: "cbind(incidence, size - incidence) ~ period + (1 | herd)"
    family: binomial
    emmeans: {specs: period, type: response, contrasts: [{method: pairwise, adjust: none}]}
    wald_anova: {type: 2}
"""


def test_emmeans_on_the_response_scale_and_wald_chisq_of_a_glmer(tmp_path: Path) -> None:
    (tmp_path / "cbpp.yaml").write_text(GLMM_SPEC, encoding="utf-8")
    out = tmp_path / "results"
    pipeline.run(pipeline.load_spec(tmp_path / "cbpp.yaml"), out)
    ref = r(
        """
        cbpp <- lme4::cbpp
        text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
        g <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp,
                   family = binomial)
        emm <- emmeans::emmeans(g, "period", type = "response")
        list(emm = text(summary(emm)),
             pw = text(summary(emmeans::contrast(emm, method = "pairwise", adjust = "none"))),
             prob = as.data.frame(summary(emm))$prob,
             anova = text(car::Anova(g, type = "II", test.statistic = "Chisq")))
        """
    )
    assert _text(out / "g" / "emmeans.txt") == ref["emm"] + "\n"
    np.testing.assert_allclose(_csv(out / "g" / "emmeans.csv")["prob"], ref["prob"], **SAME)
    assert _text(out / "g" / "emmeans_contrasts.txt") == f"pairwise, adjust = none:\n{ref['pw']}\n"
    assert _text(out / "g" / "wald_anova.txt") == ref["anova"] + "\n"
    _verify_with_r(out)


POSTHOC_ERRORS = [
    ("   emmeans: recipe\n", r"<s>:5: models\[0\]\.emmeans: must be a mapping such as"),
    ("   emmeans: {by: g}\n", r"<s>:5: models\[0\]\.emmeans: 'specs' is missing"),
    (
        "   emmeans: {specs: 'recipe | temp'}\n",
        r"<s>:5: models\[0\]\.emmeans\.specs: 'recipe \| temp' is not a predictor's name",
    ),
    (
        "   emmeans: {specs: x, lmer_df: satterwaite}\n",
        r".*emmeans\.lmer_df: must be one of .*\(did you mean 'satterthwaite'\?\)",
    ),
    (
        "   emmeans: {specs: x, contrasts: [pairwize]}\n",
        r".*emmeans\.contrasts\[0\]: must be one of .*\(did you mean 'pairwise'\?\)",
    ),
    (
        "   emmeans: {specs: x, contrasts: [{method: pairwise, adjust: tukee}]}\n",
        r".*emmeans\.contrasts\[0\]\.adjust: must be one of .*\(did you mean 'tukey'\?\)",
    ),
    ("   emmeans: {specs: x, at: {x: [1, a]}}\n", r".*emmeans\.at\.x: must be numbers, or levels"),
    ("   emmeans: {specs: x, typ: response}\n", r".*unknown key 'typ' \(did you mean 'type'\?\)"),
    ("   wald_anova: {type: 4}\n", r"<s>:5: models\[0\]\.wald_anova\.type: must be 2, 3, II or"),
    ("   wald_anova: {test: LR}\n", r".*wald_anova\.test: must be one of Chisq, F"),
    (
        "   family: poisson\n   wald_anova: {test: F}\n",
        r".*wald_anova\.test: F \(Kenward-Roger F tests\) is for lmer models",
    ),
    (
        "   family: poisson\n   emmeans: {specs: x, lmer_df: asymptotic}\n",
        r".*emmeans\.lmer_df: is for lmer models",
    ),
]


@pytest.mark.parametrize("extra,pattern", POSTHOC_ERRORS)
def test_posthoc_spec_errors_name_line_and_key(extra: str, pattern: str) -> None:
    text = "data: {csv: a.csv}\nmodels:\n - name: m\n   formula: y ~ x + (1 | g)\n" + extra
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="<s>")
    message = str(info.value)
    assert "\n" not in message
    assert re.match(pattern, message), message


def test_posthoc_keys_are_recorded_only_when_given() -> None:
    data = parse_spec(CAKE_SPEC).to_dict()["models"]
    assert data[0]["wald_anova"] == {"type": "III", "test": "F"}
    assert data[1]["wald_anova"] == {"type": "II", "test": "Chisq"}
    assert data[0]["emmeans"]["contrasts"][1] == {"method": "trt.vs.ctrl", "adjust": "holm"}
    assert data[1]["emmeans"]["at"] == {"temp": [175.0, 215.0]}
    assert (
        "emmeans"
        not in parse_spec(GLMM_SPEC.replace("    emmeans:", "    #")).to_dict()["models"][0]
    )


TABLES_SPEC = """\
data:
  dataset: sleepstudy
models:
  - name: m
    formula: "Reaction ~ Days + (Days | Subject)"
    r2: true
    icc: true
    tidy: {conf_int: true, conf_method: profile}
  - name: g
    formula: "Reaction ~ Days + (1 | Subject)"
    ddf: Satterthwaite
    icc: {by_group: true}
    tidy: {effects: [fixed, ran_pars, ran_vals], conf_int: true, conf_level: 0.9}
  - name: b
    formula: "Reaction ~ Days + (1 | Subject)"
    tidy: true
"""

TABLES_R = """
sleepstudy <- lme4::sleepstudy
text <- function(x) paste(capture.output(print(x)), collapse = "\\n")
snake <- function(t) { t <- as.data.frame(t); names(t) <- gsub(".", "_", names(t), fixed = TRUE); t }
m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)
g <- lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy)
r2 <- performance::r2_nakagawa(m, tolerance = 1e-5)
icc <- performance::icc(m, tolerance = 1e-5)
icc_g <- performance::icc(g, by_group = TRUE, tolerance = 1e-5)
list(r2 = text(r2), r2_values = c(r2$R2_conditional, r2$R2_marginal),
     icc = text(icc), icc_values = c(icc$ICC_adjusted, icc$ICC_unadjusted),
     icc_g = text(icc_g), icc_g_values = icc_g$ICC,
     tidy_m = snake(broom.mixed::tidy(m, conf.int = TRUE, conf.method = "profile")),
     tidy_g = snake(broom.mixed::tidy(g, effects = c("fixed", "ran_pars", "ran_vals"),
                                      conf.int = TRUE, conf.level = 0.9)),
     tidy_b = snake(broom.mixed::tidy(g)))
"""


def _same_tidy(path: Path, expected: pd.DataFrame) -> None:
    ours = _csv(path)
    assert list(ours.columns) == list(expected.columns), path
    for column in expected.columns:
        if not pd.api.types.is_numeric_dtype(expected[column]):
            # Text as written (pandas reads a column of level numbers as numbers).
            mine = [
                "NA" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v)
                for v in ours[column]
            ]
            assert mine == list(expected[column].fillna("NA").astype(str)), column
        else:
            np.testing.assert_allclose(ours[column], expected[column], **SAME, err_msg=column)


def test_r2_icc_and_tidy_are_performance_and_broom_mixeds_own(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(TABLES_SPEC, encoding="utf-8")
    spec = pipeline.load_spec(tmp_path / "s.yaml")
    out = tmp_path / "results"
    pipeline.run(spec, out)
    ref = r(TABLES_R)
    assert _text(out / "m" / "r2.txt") == ref["r2"] + "\n"
    np.testing.assert_allclose(_csv(out / "m" / "r2.csv")["value"], ref["r2_values"], **SAME)
    assert list(_csv(out / "m" / "r2.csv")["statistic"]) == ["conditional", "marginal"]
    assert _text(out / "m" / "icc.txt") == ref["icc"] + "\n"
    np.testing.assert_allclose(_csv(out / "m" / "icc.csv")["value"], ref["icc_values"], **SAME)
    assert _text(out / "g" / "icc.txt") == ref["icc_g"] + "\n"
    np.testing.assert_allclose(_csv(out / "g" / "icc.csv")["ICC"], ref["icc_g_values"], **SAME)
    _same_tidy(out / "m" / "tidy.csv", ref["tidy_m"])
    _same_tidy(out / "g" / "tidy.csv", ref["tidy_g"])  # lme4's fit: no df with ddf
    _same_tidy(out / "b" / "tidy.csv", ref["tidy_b"])
    script = pipeline.export_r(spec)
    assert 'pylme4_write_r2(fit, "m")' in script
    assert 'pylme4_write_icc(fit, "g", by_group = TRUE)' in script
    assert (
        'pylme4_write_tidy(fit, "m", effects = c("fixed", "ran_pars"), conf_int = TRUE, '
        'conf_level = 0.95, conf_method = "profile")'
    ) in script
    assert "performance, broom.mixed" in script
    _verify_with_r(out)


def test_r2_icc_tidy_of_a_glmer_verify_with_r(tmp_path: Path) -> None:
    text = (
        "data:\n  dataset: cbpp\nmodels:\n  - name: g\n"
        '    formula: "cbind(incidence, size - incidence) ~ period + (1 | herd)"\n'
        "    family: binomial\n    r2: true\n    icc: true\n    tidy: {conf_int: true}\n"
    )
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "results"
    pipeline.run(pipeline.load_spec(tmp_path / "s.yaml"), out)
    ref = r(
        """
        g <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = lme4::cbpp,
                   family = binomial)
        paste(capture.output(print(performance::r2_nakagawa(g, tolerance = 1e-5))),
              collapse = "\\n")
        """
    )
    assert _text(out / "g" / "r2.txt") == ref + "\n"
    _verify_with_r(out)


TABLES_ERRORS = [
    ("   r2: yes please\n", r"<s>:5: models\[0\]\.r2: must be true or false"),
    ("   icc: {by_grp: true}\n", r".*icc: unknown key 'by_grp' \(did you mean 'by_group'\?\)"),
    ("   tidy: {effects: [fixed, fixed]}\n", r".*tidy\.effects: 'fixed' is listed twice"),
    ("   tidy: {effects: ran_val}\n", r".*tidy\.effects: must be one of .*'ran_vals'"),
    ("   tidy: {conf_method: boot}\n", r".*tidy\.conf_method: must be one of Wald, profile"),
    (
        "   tidy: {effects: [ran_vals], conf_int: true, conf_method: profile}\n",
        r".*tidy\.conf_method: profile intervals have no rows for the conditional modes",
    ),
]


@pytest.mark.parametrize("extra,pattern", TABLES_ERRORS)
def test_tables_spec_errors_name_line_and_key(extra: str, pattern: str) -> None:
    test_posthoc_spec_errors_name_line_and_key(extra, pattern)
