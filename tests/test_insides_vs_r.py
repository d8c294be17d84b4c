"""fit.get_me() and the other insides of a fit (pylme4.insides) against R.

Each model is fitted twice in the same process, by pylme4 and by R's lme4 on
R's copy of the data; every getME() component of the two must agree: numbers
to rtol=1e-12, integers, names and dimnames exactly, sparse matrices as
scipy CSC matrices whose dense form equals R's as.matrix().
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import SAME, python_data, r

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
