"""fit.get_me() and the other insides of a fit (pylme4.insides) against R.

Each model is fitted twice in the same process, by pylme4 and by R's lme4 on
R's copy of the data; every getME() component of the two must agree: numbers
to rtol=1e-12, integers, names and dimnames exactly, sparse matrices as
scipy CSC matrices whose dense form equals R's as.matrix().
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import R_OUT, SAME, python_data, r

import pylme4
from pylme4.errors import ArgumentError, ArgumentTypeError
from pylme4.options import GET_ME_NAMES

SLEEP_NA = "sleep_na <- sleepstudy; sleep_na$Reaction[c(3, 50, 51)] <- NA; sleep_na$Days[100] <- NA"

MODELS = {
    "sleepstudy": ("", "sleepstudy", "lmer", "Reaction ~ Days + (Days | Subject)", {}),
    "penicillin": ("", "Penicillin", "lmer", "diameter ~ 1 + (1 | plate) + (1 | sample)", {}),
    "cbpp": (
        "",
        "cbpp",
        "glmer",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        {"family": "binomial"},
    ),
    "sleep_na": (
        SLEEP_NA,
        "sleep_na",
        "lmer",
        "Reaction ~ Days + (Days | Subject)",
        {"reml": False},
    ),
}

# R's getME(m, name) for every name, in a form built without pylme4's own
# shaping: sparse matrices as their dense as.matrix() and their dimnames.
R_REFERENCE = """
ref <- function(x) {
  if (methods::is(x, "CHMfactor")) x <- methods::as(x, "sparseMatrix")
  if (methods::is(x, "sparseMatrix")) {
    nm <- function(v) if (is.null(v)) NULL else I(v)
    return(list(pylme4_sparse = TRUE, dense = unname(as.matrix(x)),
                rownames = nm(rownames(x)), colnames = nm(colnames(x))))
  }
  if (methods::is(x, "Matrix")) return(as.matrix(x))
  if (is.data.frame(x)) return(x)
  if (is.list(x)) return(lapply(x, ref))
  if (is.atomic(x) && is.null(dim(x)) && !is.factor(x)) return(I(x))
  x
}
names <- c({names})
stats::setNames(lapply(names, function(nm) ref(lme4::getME(m, nm))), names)
"""


def _r_call(fun: str, formula: str, data_name: str, kwargs: dict[str, Any]) -> str:
    extra = ""
    if "family" in kwargs:
        extra += f", family = {kwargs['family']}"
    if kwargs.get("reml") is False:
        extra += ", REML = FALSE"
    return f"m <- lme4::{fun}({formula}, data = {data_name}{extra})"


@pytest.fixture(scope="module", params=list(MODELS))
def model(request):
    setup, data_name, fun, formula, kwargs = MODELS[request.param]
    data = python_data(setup, data_name)
    fit = getattr(pylme4, fun)(formula, data, data_name=data_name, **kwargs)
    names = ", ".join(f'"{n}"' for n in GET_ME_NAMES)
    code = (
        "library(lme4)\n"
        + setup
        + "\n"
        + _r_call(fun, formula, data_name, kwargs)
        + "\n"
        + R_REFERENCE.replace("{names}", names)
    )
    return fit, r(code)


def _assert_same(py: Any, ref: Any, where: str) -> None:
    if isinstance(ref, dict) and ref.get("pylme4_sparse"):
        assert isinstance(py, sp.csc_matrix), where
        dense = np.asarray(ref["dense"], dtype=float)
        assert py.shape == dense.shape, where
        np.testing.assert_allclose(py.toarray(), dense, **SAME, err_msg=where)
        for attr in ("rownames", "colnames"):
            want = ref[attr]
            got = getattr(py, attr)
            if want is None:
                assert got is None, where
            else:
                assert list(got) == list(want), where
        return
    if isinstance(ref, dict):
        assert isinstance(py, dict), where
        assert list(py) == list(ref), where
        for key in ref:
            _assert_same(py[key], ref[key], f"{where}[{key!r}]")
        return
    if isinstance(ref, pd.DataFrame):
        assert isinstance(py, pd.DataFrame), where
        pd.testing.assert_index_equal(py.index, ref.index)
        pd.testing.assert_index_equal(py.columns, ref.columns)
        for col in ref.columns:
            _assert_same_values(py[col].to_numpy(), ref[col].to_numpy(), f"{where}[{col!r}]")
        return
    if isinstance(ref, pd.Series):
        assert isinstance(py, pd.Series), where
        pd.testing.assert_index_equal(py.index, ref.index)
        _assert_same_values(py.to_numpy(), ref.to_numpy(), where)
        return
    if isinstance(ref, np.ndarray):
        if ref.size == 1 and not isinstance(py, (np.ndarray, pd.Series)):
            _assert_same_values(np.atleast_1d(py), ref, where)  # getME's single numbers
            return
        assert isinstance(py, np.ndarray), where
        assert py.shape == ref.shape, where
        _assert_same_values(py, ref, where)
        return
    if isinstance(ref, pd.Categorical):  # flist's grouping factors
        assert isinstance(py, pd.Categorical), where
        pd.testing.assert_index_equal(py.categories, ref.categories)
        np.testing.assert_array_equal(py.codes, ref.codes, err_msg=where)
        return
    assert py == ref or (py != py and ref != ref), where


def _assert_same_values(py: Any, ref: Any, where: str) -> None:
    py = np.asarray(py)
    ref = np.asarray(ref)
    if ref.dtype.kind == "f" or py.dtype.kind == "f":
        np.testing.assert_allclose(py.astype(float), ref.astype(float), **SAME, err_msg=where)
    elif isinstance(ref.dtype, pd.CategoricalDtype) or ref.dtype == object:
        assert list(py) == list(ref), where
    else:
        np.testing.assert_array_equal(py, ref, err_msg=where)


@pytest.mark.parametrize("name", GET_ME_NAMES)
def test_get_me_equals_r(model, name):
    fit, reference = model
    _assert_same(fit.get_me(name), reference[name], name)


def test_get_me_sparse_is_csc_with_r_dimnames():
    fit = pylme4.lmer(
        "Reaction ~ Days + (Days | Subject)",
        pylme4.datasets.load("sleepstudy"),
        data_name="sleepstudy",
    )
    zt = fit.get_me("Zt")
    assert sp.issparse(zt) and zt.format == "csc"
    assert zt.shape == (36, 180)
    assert (
        list(zt.rownames[:2])
        == r(
            "I(rownames(lme4::getME(lme4::lmer(Reaction ~ Days + "
            '(Days | Subject), sleepstudy), "Zt"))[1:2])'
        ).tolist()
    )
    assert list(fit.get_me("cnms")["Subject"]) == ["(Intercept)", "Days"]


def test_get_me_bad_names():
    fit = pylme4.lmer(
        "Reaction ~ Days + (1 | Subject)",
        pylme4.datasets.load("sleepstudy"),
        data_name="sleepstudy",
    )
    with pytest.raises(ArgumentError, match="'Zt'"):
        fit.get_me("ZT")
    with pytest.raises(ArgumentError, match="function"):
        fit.get_me("devfun")
    with pytest.raises(ArgumentTypeError):
        fit.get_me(3)
    assert fit.get_me("n") == 180  # the session survives


# -- model.matrix, model.frame, weights, hatvalues, postVar ------------------


def _fit_and_r(key: str):
    setup, data_name, fun, formula, kwargs = MODELS[key]
    data = python_data(setup, data_name)
    fit = getattr(pylme4, fun)(formula, data, data_name=data_name, **kwargs)
    r_fit = "library(lme4)\n" + setup + "\n" + _r_call(fun, formula, data_name, kwargs) + "\n"
    return fit, r_fit


@pytest.mark.parametrize("key", list(MODELS))
def test_model_matrix_equals_r(key):
    fit, r_fit = _fit_and_r(key)
    for type_ in ("fixed", "random", "randomListRaw"):
        ref = r(
            r_fit + R_REFERENCE.split("names <- ")[0] + f'ref(model.matrix(m, type = "{type_}"))'
        )
        _assert_same(fit.model_matrix(type_), ref, type_)
    with pytest.raises(ArgumentError, match="'random'"):
        fit.model_matrix("randon")


@pytest.mark.parametrize("key", list(MODELS))
def test_model_frame_weights_hatvalues_equal_r(key):
    fit, r_fit = _fit_and_r(key)
    ref = r(
        r_fit
        + "mf <- model.frame(m)\n"
        + "list(rows = I(as.integer(rownames(mf))), w = I(unname(weights(m))), "
        + "h = I(unname(hatvalues(m))), ncol = ncol(as.data.frame(as.list(mf))))"
    )
    frame = fit.model_frame()
    rows = ref["rows"] - 1  # R's row names are the data's row numbers
    pd.testing.assert_index_equal(frame.index, fit.data_index[rows])
    assert frame.shape[1] == ref["ncol"]
    np.testing.assert_allclose(fit.weights().to_numpy(), ref["w"], **SAME)
    np.testing.assert_allclose(fit.hatvalues().to_numpy(), ref["h"], **SAME)
    pd.testing.assert_index_equal(fit.hatvalues().index, fit.data_index[rows])


def test_ranef_postvar_equals_r():
    fit, r_fit = _fit_and_r("sleepstudy")
    ref = r(r_fit + 'attr(ranef(m, condVar = TRUE)$Subject, "postVar")')
    got = fit.ranef_postvar()["Subject"]
    assert got.shape == ref.shape == (2, 2, 18)
    np.testing.assert_allclose(got, ref, **SAME)


def test_ranef_cond_var_carries_postvar_equal_to_r():
    # ranef() (condVar = TRUE) is still a dict of DataFrames, and .postvar holds
    # R's attr(, "postVar") arrays (sleepstudy's covariance of intercept and
    # slope, -21.44 for subject 308, is one of them).
    for key in MODELS:
        fit, r_fit = _fit_and_r(key)
        ref = r(r_fit + 'lapply(ranef(m, condVar = TRUE), function(d) attr(d, "postVar"))')
        re = fit.ranef(cond_var=True)
        assert isinstance(re, dict) and list(re) == list(ref)
        assert list(re.postvar) == list(ref)
        for g in ref:
            assert re.postvar[g].shape == ref[g].shape
            np.testing.assert_allclose(re.postvar[g], ref[g], **SAME)
            np.testing.assert_allclose(fit.ranef_postvar()[g], ref[g], **SAME)
    fit, r_fit = _fit_and_r("sleepstudy")
    ref = r(r_fit + 'attr(ranef(m, condVar = TRUE)$Subject, "postVar")[1, 2, 1]')
    got = fit.ranef(cond_var=True).postvar["Subject"][0, 1, 0]
    np.testing.assert_allclose(got, ref, **SAME)
    assert round(got, 2) == round(ref, 2) == -21.44
    assert fit.ranef(cond_var=False).postvar is None
    again = pickle.loads(pickle.dumps(fit.ranef(cond_var=True)))
    np.testing.assert_array_equal(again.postvar["Subject"], fit.ranef_postvar()["Subject"])
    pd.testing.assert_frame_equal(again["Subject"], fit.ranef(cond_var=True)["Subject"])


def test_ranef_postvar_of_uncorrelated_blocks_is_a_list_as_in_r():
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days || Subject)", sleep, data_name="sleepstudy")
    ref = r(
        "m <- lme4::lmer(Reaction ~ Days + (Days || Subject), sleepstudy)\n"
        'attr(lme4::ranef(m, condVar = TRUE)$Subject, "postVar")'
    )
    got = fit.ranef(cond_var=True).postvar["Subject"]
    assert isinstance(ref, dict) and list(got) == list(ref) == ["(Intercept)", "Days"]
    for name, want in ref.items():
        assert got[name].shape == want.shape == (1, 1, 18)
        np.testing.assert_allclose(got[name], want, **SAME)


# -- influence.merMod ---------------------------------------------------------

R_INFLUENCE = """
inf <- influence(m{args})
frame <- function(x) as.data.frame(x, check.names = FALSE)
list(names = I(names(inf)), groups = inf$groups, deleted = I(as.character(inf$deleted)),
     fixed = inf[[1]], fixed_del = frame(inf[[2]]), vc = inf[[3]], vc_del = frame(inf[[4]]),
     vcov = frame(inf[[5]]), vcov_del = unname(lapply(inf[[6]], frame)),
     converged = I(unname(inf$converged)), feval = I(unname(inf$function.evals)),
     cooks = I(cooks.distance(inf)), cooks_names = I(as.character(names(cooks.distance(inf)))),
     dfbeta = frame(dfbeta(inf)), dfbeta_vc = frame(dfbeta(inf, which = "var.cov")),
     dfbetas = frame(dfbetas(inf)))
"""


def _assert_influence_equals_r(inf: Any, ref: dict[str, Any], deleted: pd.Index) -> None:
    assert inf.keys() == tuple(ref["names"])
    assert inf.groups == ref["groups"]
    pd.testing.assert_index_equal(inf.deleted, deleted.rename(ref["groups"]))
    pd.testing.assert_series_equal(inf.fixed_effects, ref["fixed"], rtol=1e-12, atol=0)
    pd.testing.assert_series_equal(inf.var_cov_comps, ref["vc"], rtol=1e-12, atol=0)
    for got, want in (
        (inf.fixed_effects_deleted, ref["fixed_del"]),
        (inf.var_cov_comps_deleted, ref["vc_del"]),
        (inf.dfbeta(), ref["dfbeta"]),
        (inf.dfbeta("var.cov"), ref["dfbeta_vc"]),
        (inf.dfbetas(), ref["dfbetas"]),
    ):
        pd.testing.assert_index_equal(got.columns, want.columns)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), **SAME)
        pd.testing.assert_index_equal(got.index, inf.deleted)
    assert list(ref["deleted"]) == [str(x) for x in ref["fixed_del"].index]
    np.testing.assert_allclose(inf.vcov.to_numpy(), ref["vcov"].to_numpy(), **SAME)
    assert list(inf.vcov_deleted) == list(inf.deleted)
    for got, want in zip(inf.vcov_deleted.values(), ref["vcov_del"]):
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), **SAME)
    np.testing.assert_array_equal(inf.converged.to_numpy(), ref["converged"])
    np.testing.assert_array_equal(inf.function_evals.to_numpy(), ref["feval"])
    np.testing.assert_allclose(inf.cooks_distance().to_numpy(), ref["cooks"], **SAME)
    pd.testing.assert_index_equal(inf.cooks_distance().index, inf.deleted)
    first = ref["names"][1]
    assert inf[first] is inf.fixed_effects_deleted


@pytest.mark.parametrize("key, groups", [("sleepstudy", "Subject"), ("cbpp", "herd")])
def test_influence_by_group_equals_r(key, groups):
    fit, r_fit = _fit_and_r(key)
    ref = r(r_fit + R_INFLUENCE.replace("{args}", f', groups = "{groups}"'))
    inf = fit.influence(groups=groups)
    _assert_influence_equals_r(inf, ref, pd.Index(list(ref["deleted"]), dtype=object))
    again = pickle.loads(pickle.dumps(inf))
    pd.testing.assert_series_equal(again.cooks_distance(), inf.cooks_distance())
    pd.testing.assert_frame_equal(
        again.vcov_deleted[inf.deleted[0]], inf.vcov_deleted[inf.deleted[0]]
    )
    assert len(ref["cooks_names"]) == 0  # R leaves Cook's distances of groups unnamed


SMALL = (
    "small <- sleepstudy[sleepstudy$Subject %in% c('308', '309', '310', '330'), ]\n"
    "small$Reaction[3] <- NA; rownames(small) <- NULL"
)


def test_influence_by_observation_with_na_rows_equals_r():
    # One refit per row of the data (40 here), the row with a missing
    # response included, as lme4 does; R's row names are the rows of the
    # data, which pylme4 gives as the DataFrame's own labels.
    data = python_data(SMALL, "small").set_axis(range(1000, 1040), axis=0)
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", data, data_name="small")
    r_fit = "library(lme4)\n" + SMALL + "\nm <- lmer(Reaction ~ Days + (Days | Subject), small)\n"
    ref = r(r_fit + R_INFLUENCE.replace("{args}", ""))
    inf = fit.influence()
    assert inf.groups == "case"
    _assert_influence_equals_r(inf, ref, data.index[np.asarray(ref["deleted"], dtype=int) - 1])
    assert list(ref["cooks_names"]) == [str(i) for i in range(1, 41)]
    # groups of several columns: R pastes every column of the data
    ref = r(r_fit + R_INFLUENCE.replace("{args}", ', groups = c("Subject", "Days")'))
    inf = fit.influence(groups=["Subject", "Days"])
    _assert_influence_equals_r(inf, ref, pd.Index(list(ref["deleted"]), dtype=object))


def test_influence_without_refits_is_r_hat_values():
    fit, r_fit = _fit_and_r("sleep_na")
    ref = r(r_fit + "I(unname(influence(m, do.coef = FALSE)$hat))")
    inf = fit.influence(do_coef=False)
    np.testing.assert_allclose(inf.hat.to_numpy(), ref, **SAME)
    pd.testing.assert_index_equal(inf.hat.index, fit.hatvalues().index)
    with pytest.raises(ArgumentError, match="do_coef=False"):
        inf.cooks_distance()


def test_influence_bad_arguments():
    fit, _ = _fit_and_r("sleepstudy")
    with pytest.raises(pylme4.DataError, match="'Subjects'.*did you mean 'Subject'"):
        fit.influence(groups="Subjects")
    with pytest.raises(ArgumentTypeError, match="groups"):
        fit.influence(groups=3)
    with pytest.raises(ArgumentError, match="maxfun"):
        fit.influence(groups="Subject", maxfun=0)
    inf = fit.influence(groups="Subject", maxfun=20)
    with pytest.raises(ArgumentError, match="'var.cov'"):
        inf.dfbeta("varcov")
    with pytest.raises(ArgumentError, match="fixed.effects"):
        inf["fixed"]


def test_influence_with_few_evaluations_equals_r():
    fit, r_fit = _fit_and_r("sleepstudy")
    ref = r(r_fit + R_INFLUENCE.replace("{args}", ', groups = "Subject", maxfun = 20'))
    inf = fit.influence(groups="Subject", maxfun=20)
    _assert_influence_equals_r(inf, ref, pd.Index(list(ref["deleted"]), dtype=object))


# -- rePCA ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "formula, data_name",
    [
        ("Reaction ~ Days + (Days | Subject)", "sleepstudy"),
        ("Reaction ~ Days + (Days || Subject)", "sleepstudy"),
        ("diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin"),
    ],
)
def test_re_pca_equals_r(formula, data_name):
    fit = pylme4.lmer(formula, pylme4.datasets.load(data_name), data_name=data_name)
    ref = r(
        f"{R_OUT}m <- lme4::lmer({formula}, {data_name}); p <- lme4::rePCA(m); s <- summary(p)\n"
        "list(names = I(names(p)), text = out(p), summary_text = out(s),\n"
        "     parts = lapply(names(p), function(g) list(sdev = I(p[[g]]$sdev),\n"
        "       rotation = p[[g]]$rotation, importance = s[[g]]$importance,\n"
        "       center = p[[g]]$center, scale = p[[g]]$scale)))"
    )
    got = fit.re_pca()
    assert list(got) == list(ref["names"])
    assert str(got) == ref["text"]
    assert got.summary_text == ref["summary_text"]
    for name, want in zip(ref["names"], ref["parts"]):
        pc = got[name]
        np.testing.assert_allclose(pc.sdev, want["sdev"], **SAME)
        np.testing.assert_allclose(pc.rotation.to_numpy(), np.asarray(want["rotation"]), **SAME)
        np.testing.assert_allclose(pc.importance.to_numpy(), want["importance"].to_numpy(), **SAME)
        assert list(pc.importance.index) == list(want["importance"].index)
        assert (pc.center, pc.scale) == (want["center"], want["scale"])
    with pytest.raises(KeyError):
        got["nope"]
    assert str(pickle.loads(pickle.dumps(got))) == ref["text"]


def test_influence_of_weighted_fit_under_any_data_name_equals_r():
    # The data may be bound to any name, even one of influence()'s own
    # variables; weights as a column or as an array give the same refits.
    sleep = pylme4.datasets.load("sleepstudy").assign(w=np.linspace(0.5, 2.0, 180))
    ref = r(
        "library(lme4); sleep_w <- transform(sleepstudy, w = seq(0.5, 2, length.out = 180))\n"
        "m <- lmer(Reaction ~ Days + (Days | Subject), sleep_w, weights = w)\n"
        'I(cooks.distance(influence(m, groups = "Subject")))'
    )
    formula = "Reaction ~ Days + (Days | Subject)"
    for data_name in ("model", "data", "del"):
        fit = pylme4.lmer(formula, sleep, data_name=data_name, weights="w")
        got = fit.influence(groups="Subject").cooks_distance()
        np.testing.assert_allclose(got.to_numpy(), ref, **SAME)
    fit = pylme4.lmer(formula, sleep, weights=sleep["w"].to_numpy())
    got = fit.influence(groups="Subject").cooks_distance()
    np.testing.assert_allclose(got.to_numpy(), ref, **SAME)
