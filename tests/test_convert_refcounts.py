"""R -> numpy conversion must not leak or steal Python references.

rpy2 3.5's vector memoryview() drops one reference to None per call; a long
session (or this test suite) then aborts Python with "none_dealloc".  pylme4
copies R vectors without it.
"""

from __future__ import annotations

import sys

import numpy as np
from conftest import r


def test_converting_vectors_keeps_references_to_none():
    r("c(1.5, 2.5)")
    before = sys.getrefcount(None)
    for _ in range(500):
        assert r("c(1.5, 2.5)")[1] == 2.5
        assert list(r("c(1L, NA, 3L)")[[0, 2]]) == [1, 3]
        assert r("c(TRUE, FALSE)").tolist() == [True, False]
    # Python >= 3.12 makes None immortal (a constant count); before that, a
    # stolen reference per conversion would show as a drop of 1500.
    assert sys.getrefcount(None) > before - 100


def test_arrays_keep_their_shape_and_order():
    got = r("array(1:24, c(2, 3, 4))")
    assert got.shape == (2, 3, 4)
    # R stores arrays column-major: every element, read in R's order, and a
    # middle one (the last element is the same in C and Fortran order).
    np.testing.assert_array_equal(got.ravel(order="F"), r("as.vector(array(1:24, c(2, 3, 4)))"))
    assert got[1, 0, 2] == r("array(1:24, c(2, 3, 4))[2, 1, 3]")
    np.testing.assert_array_equal(
        r("matrix(c(1, 2, 3, 4, 5, 6), 2)").to_numpy(), [[1, 3, 5], [2, 4, 6]]
    )
