"""Parallel refits from code as people write it (issue 13).

No ``if __name__ == "__main__":`` guard: an unguarded script under every
multiprocessing start method, ``python -c``, code piped on stdin and a
Jupyter kernel each run ``boot_mer(..., workers=2)`` and print R's serial
``bootMer`` replicates bit for bit; the workers never run the user's code.
Also: Ctrl-C during the first parallel call (workers still starting), workers
that cannot start, the parallel profile, and the one check of ``workers=`` /
``executor=`` every parallel entry point shares.
"""

from __future__ import annotations

import json
import re
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import r, run_python

import pylme4
from pylme4 import parallel
from pylme4.errors import PylmeError

FORMULA = "Reaction ~ Days + (Days | Subject)"
NSIM = 20

# Unguarded on purpose.  "main ran" is printed once per run of this code: a
# worker that re-ran the user's main module would print it again.
USER_CODE = textwrap.dedent(
    """
    %(preamble)s
    import json, os, warnings
    import pylme4
    print("main ran", os.getpid(), flush=True)
    warnings.simplefilter("ignore")
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("%(formula)s", sleep, data_name="sleepstudy")
    b = fit.boot_mer("fixef", nsim=%(nsim)d, seed=%(seed)d, workers=2)
    print("RESULT", json.dumps(b.t.to_numpy().tolist()), flush=True)
    """
)


def _code(seed: int, preamble: str = "") -> str:
    return USER_CODE % {"preamble": preamble, "formula": FORMULA, "nsim": NSIM, "seed": seed}


def _r_replicates(seed: int) -> np.ndarray:
    return np.asarray(
        r(
            f"m <- lmer({FORMULA}, data = sleepstudy)\n"
            f"unname(suppressWarnings(bootMer(m, fixef, nsim = {NSIM}, seed = {seed}))$t)"
        )
    )


def _check_output(stdout: str, seed: int) -> None:
    lines = stdout.splitlines()
    assert sum(line.startswith("main ran") for line in lines) == 1, stdout
    result = [line for line in lines if line.startswith("RESULT ")]
    assert len(result) == 1, stdout
    got = np.array(json.loads(result[0][len("RESULT ") :]))
    expected = _r_replicates(seed)
    assert got.shape == expected.shape == (NSIM, 2)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("method", [None, "fork", "forkserver", "spawn"])
def test_an_unguarded_script_gets_rs_replicates(tmp_path, method):
    # None: this Python's default start method; the others as set by users
    # (and as Python 3.14 changes the default).  loky uses none of them.
    preamble = (
        ""
        if method is None
        else f"import multiprocessing\nmultiprocessing.set_start_method({method!r})"
    )
    script = tmp_path / "analysis.py"
    script.write_text(_code(11, preamble))
    _check_output(run_python(str(script), timeout=600, cwd=tmp_path).stdout, 11)


def test_python_dash_c_gets_rs_replicates(tmp_path):
    _check_output(run_python("-c", _code(12), timeout=600, cwd=tmp_path).stdout, 12)


def test_code_on_stdin_gets_rs_replicates(tmp_path):
    _check_output(run_python("-", timeout=600, input=_code(13), cwd=tmp_path).stdout, 13)


def test_ipython_gets_rs_replicates(tmp_path):
    pytest.importorskip("IPython")
    # IPython as a terminal user starts it, fed the code line by line.
    out = run_python(
        "-m",
        "IPython",
        "--no-banner",
        "--colors=NoColor",
        "--quick",
        timeout=600,
        input=_code(15) + "\nexit\n",
        cwd=tmp_path,
    )
    prompts = re.compile(r"^(In \[\d+\]: )+", re.MULTILINE)
    _check_output(prompts.sub("", out.stdout), 15)


def test_a_jupyter_notebook_cell_gets_rs_replicates(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(_code(14)))
    # The kernel is this Python (ipykernel's own kernel spec), with this
    # process's environment (PYTHONPATH included).
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    stdout = "".join(
        o.get("text", "")
        for o in nb.cells[0].outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )
    _check_output(stdout, 14)


# Ctrl-C during the first parallel call, while its workers still start R.
# Each worker holds in R's start-up (a user profile, read by workers started
# after this script's own R) until the test opens a gate, so the key press
# lands where the test means it to, whatever the machine's load:
# - "own work": boot_mer is still doing its own work (evaluating the
#   statistic here, then simulating), no task submitted yet;
# - "waiting": boot_mer waits in the pool for its workers to start.
# A lost Ctrl-C would wait for the workers for ever: after 30 s the gate
# opens, the call finishes and the test fails on "outcome".
HOLD_R = textwrap.dedent(
    """
    local({
      gate <- Sys.getenv("PYLME4_TEST_GATE")
      file.create(file.path(gate, paste0("starting-", Sys.getpid())))
      # until the gate opens, or the test script (the workers' parent) is gone
      parent <- as.integer(Sys.getenv("PYLME4_TEST_PARENT"))
      while (!file.exists(file.path(gate, "open")) && tools::pskill(parent, 0L)) Sys.sleep(0.01)
    })
    """
)

CTRL_C_FIRST_CALL = textwrap.dedent(
    """
    import json, os, pathlib, signal, sys, threading, time, warnings
    import numpy as np
    import pylme4
    from pylme4 import parallel
    from pylme4._r.call import run_code
    from pylme4.parallel import pool

    # Ctrl-C as in a terminal, even when the tests run as a background job
    # (which ignores SIGINT, and pylme4 then leaves it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    warnings.simplefilter("ignore")
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    when = %(when)r
    gate = pathlib.Path.cwd()
    os.environ["R_PROFILE_USER"] = str(gate / "hold.R")
    os.environ["PYLME4_TEST_GATE"] = str(gate)
    os.environ["PYLME4_TEST_PARENT"] = str(os.getpid())
    main = threading.main_thread().ident
    sent, returned = {}, threading.Event()

    def starting():
        return sorted(int(p.name.split("-")[1]) for p in gate.glob("starting-*"))

    def in_pool_run():
        frame = sys._current_frames().get(main)
        while frame is not None:
            if frame.f_code is pool._Pool.run.__code__:
                return True
            frame = frame.f_back
        return False

    def ctrl_c(ready):
        while not (len(starting()) == 2 and ready()):
            time.sleep(0.01)
        sent.update(starting=starting(), workers=sorted(parallel.worker_pids()))
        sent.update(busy=len(parallel.running_pids()), at=time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    def open_the_gate_if_ctrl_c_is_lost():
        while "at" not in sent:
            time.sleep(0.01)
        if not returned.wait(30):
            (gate / "open").touch()

    def statistic(f):
        # boot_mer evaluates it here first, after starting the workers.
        if not sent:
            ctrl_c(lambda: True)
        return f.fixef()

    threading.Thread(target=open_the_gate_if_ctrl_c_is_lost, daemon=True).start()
    if when == "waiting":
        threading.Thread(target=ctrl_c, args=(in_pool_run,), daemon=True).start()
    try:
        fit.boot_mer(statistic if when == "own work" else "fixef", nsim=200, seed=1, workers=2)
        outcome = "finished"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    stopped = time.monotonic() - sent["at"]
    returned.set()
    alive = []
    for pid in set(sent["starting"]) | set(sent["workers"]):
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
    left = parallel.worker_count()
    here = fit.boot_mer("fixef", nsim=4, seed=2)
    (gate / "open").touch()
    workers = fit.boot_mer("fixef", nsim=4, seed=2, workers=2)
    ref = run_code(
        "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\\n"
        "unname(suppressWarnings(bootMer(m, fixef, nsim = 4, seed = 2))$t)"
    )
    print(json.dumps({
        "outcome": outcome, "stopped": stopped, "alive": alive, "left": left,
        "starting": sent["starting"], "workers": sent["workers"], "busy": sent["busy"],
        "same_here": bool(np.array_equal(here.t.to_numpy(), ref.to_numpy())),
        "same_workers": bool(np.array_equal(workers.t.to_numpy(), ref.to_numpy())),
    }))
    """
)


@pytest.mark.parametrize("when", ["own work", "waiting"])
def test_ctrl_c_while_the_first_workers_start_stops_them_within_two_seconds(tmp_path, when):
    (tmp_path / "hold.R").write_text(HOLD_R)
    script = tmp_path / "ctrl_c_first.py"
    script.write_text(CTRL_C_FIRST_CALL % {"when": when})
    out = run_python(str(script), timeout=600, cwd=tmp_path)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # The key was pressed while both workers were starting R, running no task.
    assert len(result["starting"]) == 2 and result["starting"] == result["workers"]
    assert result["busy"] == 0
    assert result["outcome"] == "KeyboardInterrupt"
    assert result["stopped"] < 2.0  # the bound docs/cluster.md promises
    assert result["alive"] == [] and result["left"] == 0
    # R goes on, here and in new workers.
    assert result["same_here"] and result["same_workers"]


START_FAILS = textwrap.dedent(
    """
    import json, os, sys, time, warnings
    import numpy as np
    import pylme4
    from pylme4 import parallel
    from pylme4._r.call import run_code

    warnings.simplefilter("ignore")
    sleep = pylme4.datasets.load("sleepstudy")
    fit = pylme4.lmer("Reaction ~ Days + (Days | Subject)", sleep, data_name="sleepstudy")
    saved_env, saved_path = dict(os.environ), list(sys.path)
    # What new processes see (this one's R and rpy2 already run):
    os.environ.update(json.loads(%(env)r))
    sys.path[:0] = json.loads(%(path)r)
    start = time.monotonic()
    try:
        fit.boot_mer("fixef", nsim=10, seed=3, workers=2)
        error = None
    except parallel.WorkerError as exc:
        error = str(exc)
    took = time.monotonic() - start
    left = parallel.worker_count()
    os.environ.clear()
    os.environ.update(saved_env)
    sys.path[:] = saved_path
    here = fit.boot_mer("fixef", nsim=4, seed=2)
    ref = run_code(
        "m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\\n"
        "unname(suppressWarnings(bootMer(m, fixef, nsim = 4, seed = 2))$t)"
    )
    workers = fit.boot_mer("fixef", nsim=4, seed=2, workers=2)
    print(json.dumps({
        "error": error, "took": took, "left": left,
        "same_here": bool(np.array_equal(here.t.to_numpy(), ref.to_numpy())),
        "same_workers": bool(np.array_equal(workers.t.to_numpy(), ref.to_numpy())),
    }))
    """
)


def _start_fails(tmp_path, env: dict[str, str], path: tuple[str, ...] = ()) -> dict:
    script = tmp_path / "start_fails.py"
    script.write_text(START_FAILS % {"env": json.dumps(env), "path": json.dumps(list(path))})
    out = run_python(str(script), timeout=600, cwd=tmp_path)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_workers_without_r_fail_clearly_and_the_session_survives(tmp_path):
    # R missing where the workers run: rpy2 cannot find it.
    result = _start_fails(tmp_path, {"R_HOME": str(tmp_path / "no-R-here")})
    error = result["error"]
    assert error is not None and error.startswith("pylme4's worker processes could not start: ")
    # the worker's own last error line: R's, as it gives up at start
    assert error.endswith("Fatal error: unable to open the base package")
    assert "\n" not in error
    assert result["took"] < 10.0  # a bounded check the issue asks for
    assert result["left"] == 0
    assert result["same_here"] and result["same_workers"]


def test_workers_that_cannot_import_fail_clearly_and_the_session_survives(tmp_path):
    # An import error in the worker: a broken rpy2 first on its sys.path
    # (loky gives workers the parent's sys.path).
    fake = tmp_path / "broken" / "rpy2"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('rpy2 is broken on this node (test)')\n")
    result = _start_fails(tmp_path, {}, (str(tmp_path / "broken"),))
    error = result["error"]
    assert error.startswith(
        "pylme4's worker processes could not start: RNotAvailableError: rpy2 could not "
        "load R (ImportError: rpy2 is broken on this node (test))"
    )
    assert "\n" not in error
    assert result["took"] < 10.0
    assert result["left"] == 0
    assert result["same_here"] and result["same_workers"]


@pytest.fixture(scope="module")
def fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pylme4.lmer(FORMULA, pylme4.datasets.load("sleepstudy"), data_name="sleepstudy")


def test_the_profile_split_over_workers_is_the_serial_profile(fit):
    serial = fit.confint(method="profile", level=0.9)
    split = fit.confint(method="profile", level=0.9, workers=2)
    pd.testing.assert_frame_equal(split, serial, check_exact=True)
    ref = r(
        f"m <- lmer({FORMULA}, data = sleepstudy)\n"
        "as.data.frame(confint(m, level = 0.9, quiet = TRUE), check.names = FALSE)"
    )
    assert list(split.index) == list(ref.index) and list(split.columns) == list(ref.columns)
    np.testing.assert_array_equal(split.to_numpy(), ref.to_numpy())


def _entry_points(fit):
    sleep = pylme4.datasets.load("sleepstudy")
    return {
        "boot_mer": lambda **kw: fit.boot_mer("fixef", nsim=2, seed=1, **kw),
        "all_fit": lambda **kw: fit.all_fit(optimizers=["bobyqa"], **kw),
        "fit_many": lambda **kw: pylme4.fit_many([{"formula": FORMULA, "data": sleep}], **kw),
        "confint boot": lambda **kw: fit.confint(method="boot", nsim=2, seed=1, **kw),
        "confint profile": lambda **kw: fit.confint(method="profile", **kw),
    }


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"workers": "2"}, r"workers must be a positive integer \(1 runs here\), not '2'"),
        ({"workers": 0}, r"workers must be a positive integer \(1 runs here\), not 0"),
        ({"workers": 1.5}, r"workers must be a positive integer \(1 runs here\), not 1.5"),
        ({"executor": "pool"}, r"executor must be a concurrent.futures.Executor .* not str 'pool'"),
    ],
)
def test_every_entry_point_checks_workers_and_executor_alike(fit, kwargs, pattern):
    for name, run in _entry_points(fit).items():
        with pytest.raises(parallel.ParallelArgumentError, match=pattern) as caught:
            run(**kwargs)
        assert isinstance(caught.value, PylmeError), name
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, TypeError)
