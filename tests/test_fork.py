"""A process forked while no thread was inside R uses its copy of the parent's
R (as R's own parallel::mclapply children do); one forked while R was busy
refuses R with a clear error instead of corrupting or hanging
(pylme4/_r/session.py, ``_before_fork``).

Each test runs in a fresh process (conftest's run_python), bounded by a
timeout: a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import json
import signal
import textwrap

import numpy as np
import pytest
from conftest import r, run_python

SLEEP_FIT = "Reaction ~ Days + (Days | Subject)"

# Children of the script's process still present (zombies included), from /proc.
CHILDREN = """
def children():
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.append((int(name), fields[0]))
    return found
"""


def _run(code: str, timeout: float = 240) -> str:
    return run_python("-c", textwrap.dedent(code), timeout=timeout).stdout


def _sigma_in_r() -> float:
    return float(np.asarray(r(f"sigma(lmer({SLEEP_FIT}, data = sleepstudy))")).reshape(-1)[0])


# The script of the brief, as a user writes it: fork is the default start
# method on Linux with Python 3.11.  `before` runs in the parent before the
# Pool: nothing (R is then still starting in the background when the Pool
# forks), or a first R call.  After the Pool the parent goes on: a fit, and a
# file round trip through R's tempdir(), which the children must not remove.
POOL = """
import json, os, sys
import multiprocessing as mp
import pylme4
from pylme4 import datasets
from pylme4._r.call import run_code
{before}
def fit(seed):
    d = datasets.load("sleepstudy")
    return os.getpid(), pylme4.lmer("Reaction ~ Days + (Days | Subject)", d).sigma
with mp.get_context("fork").Pool(2) as pool:
    got = pool.map(fit, [1, 2, 3, 4])
tempdir = run_code("tempdir()")
# A plain fork whose child leaves through sys.exit(): atexit hooks run there
# (a Pool's workers leave with os._exit), so R's own exit would delete the
# parent's temporary directory if the child ran it.
pid = os.fork()
if pid == 0:
    code = 0 if fit(5)[1] == got[0][1] and run_code("tempdir()") == tempdir else 4
    sys.exit(code)
_, status = os.waitpid(pid, 0)
own = fit(0)[1]
roundtrip = run_code(
    'f <- tempfile(); writeLines("kept", f); x <- readLines(f); unlink(f); '
    'c(x, as.character(dir.exists(tempdir())), tempdir())'
)
{children}
print(json.dumps({{
    "parent": os.getpid(),
    "children": [list(g) for g in got],
    "plain_fork_exit": os.waitstatus_to_exitcode(status),
    "own": own,
    "roundtrip": list(roundtrip),
    "tempdir": tempdir,
    "left": children(),
}}))
"""


@pytest.mark.parametrize(
    "before",
    [
        "",
        "datasets.load('sleepstudy')",
        "pylme4.lmer('Reaction ~ Days + (1 | Subject)', datasets.load('sleepstudy'))",
    ],
    ids=["r-starting", "data-loaded", "parent-fitted"],
)
def test_a_fork_pool_fits_in_the_children_and_the_parent_goes_on(before):
    out = json.loads(_run(POOL.format(before=before, children=CHILDREN)).splitlines()[-1])
    pids = {pid for pid, _ in out["children"]}
    assert out["parent"] not in pids and len(pids) >= 1
    sigmas = [sigma for _, sigma in out["children"]]
    # The children's fits are the parent's own, and R's.
    assert sigmas == [out["own"]] * 4
    np.testing.assert_allclose(out["own"], _sigma_in_r(), rtol=1e-12, atol=0)
    assert out["plain_fork_exit"] == 0
    assert out["roundtrip"] == ["kept", "TRUE", out["tempdir"]]
    assert out["left"] == []


# A fork while another thread is inside R (here: holds the session lock, as
# every R call does) must neither hang the forking thread nor let the child
# use a half-changed R: the child's R calls raise the clear error at once.
# The same when the forking thread itself is inside an R section.
BUSY = """
import os, threading
import pylme4
from pylme4._r import session
sleep = pylme4.datasets.load("sleepstudy")
pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)

def child_tries():
    pid = os.fork()
    if pid == 0:
        try:
            pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
            os._exit(3)
        except pylme4.RNotAvailableError as exc:
            print(exc, flush=True)
            os._exit(0)
        except BaseException:
            os._exit(4)
    return pid

held, go = threading.Event(), threading.Event()
def hold():
    with session.LOCK:
        held.set()
        go.wait()
holder = threading.Thread(target=hold)
holder.start()
held.wait()
first = child_tries()
go.set()
holder.join()
with session.LOCK:
    second = child_tries()
codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in (first, second)]
print("codes", *codes)
print("parent", pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep).nobs)
"""


def test_a_fork_while_r_is_busy_refuses_r_in_the_child_without_hanging():
    lines = _run(BUSY, timeout=120).splitlines()
    assert lines[-2:] == ["codes 0 0", "parent 180"], lines
    assert len(lines) == 4
    for message in lines[:2]:
        assert message.startswith(
            "this process was forked while R was in use by another thread of its parent"
        )
        assert "use the 'spawn' start method" in message


# Ctrl-C still stops an R call of the parent after forked children used R
# (the watcher thread and its pipe are the parent's; the children made their
# own or none).  The busy loop would run 60 s; the interrupt comes at 1 s.
INTERRUPT = """
import multiprocessing as mp, os, signal, threading, time
import pylme4
from pylme4._r.call import run_code
sleep = pylme4.datasets.load("sleepstudy")
run_code("NULL")
def fit(_):
    return pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep).nobs
with mp.get_context("fork").Pool(2) as pool:
    print(pool.map(fit, [1, 2]))
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.monotonic()
try:
    run_code("t <- proc.time()[[3]]; while (proc.time()[[3]] - t < 60) NULL; 1")
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted", time.monotonic() - start < 30)
print(fit(0))
"""


def test_ctrl_c_interrupts_the_parents_r_after_forked_children_ran():
    assert signal.SIGINT  # the script signals itself, never the test process
    assert _run(INTERRUPT, timeout=180).splitlines() == ["[180, 180]", "interrupted True", "180"]


# A fork from a thread other than the main one: in the child that thread is
# the main thread but keeps its own (small) stack, so R's C-stack check must
# measure that stack (pylme4/_r/stack.py): deep recursion is an R error, and
# an ordinary fit works.
THREAD_FORK = """
import os, threading
import pylme4
from pylme4._r.call import run_code
from pylme4.errors import RError
sleep = pylme4.datasets.load("sleepstudy")
here = list(pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep).fixef())
F = "f <- function(n) if (n == 0) 0 else 1 + f(n - 1); "
def forker():
    pid = os.fork()
    if pid == 0:
        try:
            run_code("options(expressions = 5e5); " + F + "f(1e5)")
            print("no error", flush=True)
        except RError as exc:
            print("RError:", exc, flush=True)
        print(run_code(F + "f(100)"), flush=True)
        print(list(pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep).fixef()) == here,
              flush=True)
        os._exit(0)
    print("exit", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
threading.stack_size(2**21)
t = threading.Thread(target=forker)
t.start()
t.join()
"""


def test_a_fork_from_another_thread_checks_that_threads_stack():
    lines = _run(THREAD_FORK).splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("RError: R failed while running R code: C stack usage ")
    assert lines[0].endswith(" is too close to the limit")
    assert lines[1:] == ["100.0", "True", "exit 0"]


# pylme4's own workers, started in the parent, belong to the parent: a forked
# child neither uses them nor kills them when it exits (it starts its own if
# it asks for workers).
WORKERS = """
import os, sys
import pylme4
from pylme4 import parallel
sleep = pylme4.datasets.load("sleepstudy")
fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
parallel.start_workers(2)
parents = sorted(parallel.worker_pids())
pid = os.fork()
if pid == 0:
    sys.exit(0 if parallel.worker_pids() == [] else 5)
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print("kept", sorted(parallel.worker_pids()) == parents and len(parents) == 2)
parallel.stop_workers()
"""


def test_a_forked_child_leaves_the_parents_workers_alone():
    assert _run(WORKERS, timeout=300).splitlines() == ["child 0", "kept True"]


# R's random stream: a forked child starts from a copy of the parent's
# .Random.seed (as mclapply's children do), so children that draw without a
# seed draw what the parent draws next; `seed=` gives each task its own
# reproducible stream, R's own for that seed.
RNG = """
import json, os
import pylme4
sleep = pylme4.datasets.load("sleepstudy")
fit = pylme4.lmer("Reaction ~ Days + (1 | Subject)", sleep)
fit.simulate(nsim=1)  # the stream is under way before the forks
def draw(seed):
    return fit.simulate(nsim=1, seed=seed).to_numpy().ravel().tolist()
pids = []
for seed in (None, None, 1, 2):
    pid = os.fork()
    if pid == 0:
        print(json.dumps([seed, draw(seed)]), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
print(json.dumps(["parent", draw(None)]), flush=True)
"""


def test_forked_children_copy_rs_random_stream_and_seed_separates_them():
    rows = [json.loads(line) for line in _run(RNG).splitlines()]
    assert [row[0] for row in rows] == [None, None, 1, 2, "parent"]
    unseeded = [rows[0][1], rows[1][1], rows[4][1]]
    assert unseeded[0] == unseeded[1] == unseeded[2]
    for seed, values in rows[2:4]:
        expected = r(
            "m <- lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy); "
            f"unlist(simulate(m, nsim = 1, seed = {seed}), use.names = FALSE)"
        )
        np.testing.assert_allclose(values, np.asarray(expected), rtol=1e-12, atol=0)
    assert rows[2][1] != rows[3][1] != unseeded[0]


# A fork taken by another thread while the main thread is in an R call: the
# child refuses R, and its own Ctrl-C does not reach the parent's R call
# through the wakeup fd it inherited (the parent's watcher pipe).
CROSSTALK = """
import os, signal, threading, time
import pylme4
from pylme4._r.call import run_code
run_code("NULL")
result = {}
def forker():
    time.sleep(0.5)  # the main thread is inside R by now
    pid = os.fork()
    if pid == 0:
        code = 5
        try:
            run_code("1")
        except pylme4.RNotAvailableError:
            code = 0
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        os._exit(code)
    result["code"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
t = threading.Thread(target=forker)
t.start()
try:
    print(run_code("t <- proc.time()[[3]]; while (proc.time()[[3]] - t < 3) NULL; 42"))
except KeyboardInterrupt:
    print("interrupted")
t.join()
print(result["code"])
"""


def test_a_childs_ctrl_c_does_not_interrupt_the_parents_r_call():
    assert _run(CROSSTALK, timeout=120).splitlines() == ["42.0", "0"]


# Two threads forking at once: another at-fork hook that waits (registered
# before pylme4's, so it runs after pylme4's "before" hook, holding LOCK) lets
# the second thread's fork begin meanwhile.  The first fork's child has R,
# the second's refuses it, and the parent's LOCK is free afterwards.
TWO_FORKS = """
import os, threading, time
os.register_at_fork(before=lambda: time.sleep(0.3))
import pylme4
from pylme4._r.call import run_code
from pylme4._r import session
run_code("NULL")
codes = []
def forker():
    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if run_code("1 + 1") == 2 else 4)
        except pylme4.RNotAvailableError:
            os._exit(2)
    codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
threads = [threading.Thread(target=forker) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(codes), session.LOCK.acquire(timeout=10), run_code("2 + 2"))
"""


def test_two_threads_forking_at_once_leave_the_lock_free():
    assert _run(TWO_FORKS, timeout=120).splitlines() == ["[0, 2] True 4.0"]
