"""The cluster path: boot_mer, all_fit and fit_many on a Dask cluster's
``executor=`` (a ``Client(LocalCluster(processes=True))``, or its ``get_executor()``).

Each Dask worker process starts its own R once, on its first task, and
reuses it; the results are identical to the serial run in this process (and
the bootstrap's to R's own ``bootMer``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import SAME, r

import pylme4

distributed = pytest.importorskip("distributed")

FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def executor():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client  # executor= takes the Client itself, as docs/cluster.md shows
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def sleep():
    return pylme4.datasets.load("sleepstudy")


# An R global that counts the tasks each worker's R has run.
BUMP = ".pylme4_test_n <<- if (exists('.pylme4_test_n')) .pylme4_test_n + 1 else 1"


def where_fitted(fit):
    """Run in a worker: its process, what R says its pid is, how many tasks
    this R has run (this one included) and the fit's fixed effects."""
    from pylme4._r.call import run_code

    return os.getpid(), int(run_code("Sys.getpid()")), int(run_code(BUMP)), fit.fixef()


def test_fit_many_on_dask_equals_serial_and_reuses_each_workers_r(executor, sleep):
    specs = [
        {"formula": f, "data": sleep.iloc[::k], "data_name": "sleep"}
        for f in (FORMULA, "Reaction ~ Days + (1 | Subject)")
        for k in (1, 2, 3)
    ]
    remote = pylme4.fit_many(specs, fun=where_fitted, executor=executor)
    serial = pylme4.fit_many(specs, fun="fixef")
    for (_, _, _, fixef), ref in zip(remote, serial):
        np.testing.assert_array_equal(fixef, ref)
    pids = {pid for pid, _, _, _ in remote}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    # R runs inside each worker process...
    assert all(r_pid == pid for pid, r_pid, _, _ in remote)
    # ... and each worker's R is started once and reused: its task counter
    # runs 1, 2, ..., k over the k tasks of that worker (6 tasks on at most 2
    # workers: some k >= 3; a fresh R per task would count 1 each time)
    for pid in pids:
        counts = sorted(n for p, _, n, _ in remote if p == pid)
        assert counts == list(range(1, len(counts) + 1)), (pid, counts)
    # whole fits travel back too, equal to R's
    fits = pylme4.fit_many(specs[:1], executor=executor)
    ref = r(f"fixef(lmer({FORMULA}, data = sleepstudy))")
    np.testing.assert_allclose(fits[0].fixef(), ref, **SAME)
    assert str(fits[0]) == str(pylme4.lmer(**specs[0]))


def test_boot_mer_on_dask_is_bootmer(executor, sleep):
    fit = pylme4.lmer(FORMULA, sleep, data_name="sleepstudy")
    remote = fit.boot_mer("fixef", nsim=20, seed=7, executor=executor)
    serial = fit.boot_mer("fixef", nsim=20, seed=7)
    np.testing.assert_array_equal(remote.t.to_numpy(), serial.t.to_numpy())
    # The Client's concurrent.futures executor is the same place.
    via_executor = fit.boot_mer("fixef", nsim=20, seed=7, executor=executor.get_executor())
    np.testing.assert_array_equal(via_executor.t.to_numpy(), serial.t.to_numpy())
    ref = r(
        f"m <- lmer({FORMULA}, data = sleepstudy)\nunname(bootMer(m, fixef, nsim = 20, seed = 7)$t)"
    )
    np.testing.assert_array_equal(remote.t.to_numpy(), np.asarray(ref))
    assert str(remote) == str(serial)


def test_all_fit_on_dask_equals_serial(executor, sleep):
    fit = pylme4.lmer(FORMULA, sleep, data_name="sleepstudy")
    optimizers = ["bobyqa", "Nelder_Mead", "nloptwrap.NLOPT_LN_BOBYQA"]
    remote = fit.all_fit(optimizers=optimizers, executor=executor)
    serial = fit.all_fit(optimizers=optimizers)
    np.testing.assert_array_equal(remote.fixef.to_numpy(), serial.fixef.to_numpy())
    np.testing.assert_array_equal(remote.llik.to_numpy(), serial.llik.to_numpy())
    assert list(remote.which_ok) == list(serial.which_ok)


def test_all_fit_on_dask_is_allfit(executor, sleep):
    # R's own allFit with the same optimizers, bit for bit.
    fit = pylme4.lmer(FORMULA, sleep, data_name="sleepstudy")
    remote = fit.all_fit(optimizers=["bobyqa", "Nelder_Mead"], executor=executor)
    ref = r(
        f"m <- lmer({FORMULA}, data = sleepstudy)\n"
        "mt <- allFit(m, show.meth.tab = TRUE)\n"
        "s <- summary(suppressWarnings(allFit(m, meth.tab = mt[1:2, , drop = FALSE])))\n"
        "list(fixef = as.data.frame(s$fixef, check.names = FALSE), llik = s$llik)"
    )
    assert list(remote.fixef.index) == list(ref["fixef"].index) == ["bobyqa", "Nelder_Mead"]
    np.testing.assert_array_equal(remote.fixef.to_numpy(), ref["fixef"].to_numpy())
    np.testing.assert_array_equal(remote.llik.to_numpy(), np.atleast_1d(ref["llik"]))
