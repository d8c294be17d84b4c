"""Conversions from R must not take references from Python objects they do not own.

rpy2 3.5's ``SexpVector.memoryview()`` returns through a C helper that
decrements None's reference count on every call; a long session (or a full
test suite) then aborts at exit with "deallocating None".  pylme4 reads R's
vectors without it; these tests count None's references around many
conversions, and the values against R's.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
from conftest import r

from pylme4._r.call import run_code

N = 2000


def _none_refs() -> int:
    gc.collect()
    return sys.getrefcount(None)


def test_converting_vectors_keeps_none_alive() -> None:
    run_code("c(1.5, NA)")  # start R and warm the caches first
    before = _none_refs()
    for _ in range(N):
        run_code("list(d = c(1.5, NA), i = c(1L, NA), l = c(TRUE, NA), m = matrix(1:6, 2))")
    # With the leak, None loses one reference per vector converted (4 * N).
    # (Python >= 3.12 makes None immortal: a constant count.)
    assert _none_refs() - before > -N // 4


def test_converted_values_are_rs() -> None:
    got = r(
        "list(d = c(1.5, -2, NA), i = c(3L, NA, -7L), l = c(TRUE, NA, FALSE),"
        " m = matrix(c(1, 2, 3, 4, 5, 6), 2))"
    )
    np.testing.assert_array_equal(got["d"], [1.5, -2.0, np.nan])
    np.testing.assert_array_equal(got["i"], [3.0, np.nan, -7.0])
    assert list(got["l"]) == [True, None, False]
    np.testing.assert_array_equal(got["m"].to_numpy(), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])


def test_arrays_keep_their_shape_and_order() -> None:
    got = r("array(1:24, c(2, 3, 4))")
    assert got.shape == (2, 3, 4)
    # R stores arrays column-major: every element, read in R's order, and a
    # middle one (the last element is the same in C and Fortran order).
    np.testing.assert_array_equal(got.ravel(order="F"), r("as.vector(array(1:24, c(2, 3, 4)))"))
    assert got[1, 0, 2] == r("array(1:24, c(2, 3, 4))[2, 1, 3]")
