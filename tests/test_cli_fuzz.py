"""The CLI fuzzed: random specs from valid and invalid pieces, random bytes as CSV.

Whatever the input, `pylme4 run`, `verify` and `export-r` end with a
documented exit code and at most one error line, never a traceback or an
unexpected exception, and write nothing outside the output folder (payloads
in the formula pool would create files in a folder that must stay empty).
Bounded: a fixed number of derandomized examples, so the run is the same in
CI and stays well under a minute.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import yaml
from conftest import r
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylme4 import cli

# Exit codes each command may end with (README, "Exit codes").
EXPECTED = {
    "run": {cli.EXIT_OK, cli.EXIT_BAD_SPEC, cli.EXIT_BAD_DATA, cli.EXIT_FILE},
    "verify": {
        cli.EXIT_OK,
        cli.EXIT_DIFFERENT,
        cli.EXIT_BAD_SPEC,
        cli.EXIT_BAD_DATA,
        cli.EXIT_FILE,
    },
    "export-r": {cli.EXIT_OK, cli.EXIT_BAD_SPEC},
}

OUTSIDE = Path(tempfile.mkdtemp(prefix="pylme4-fuzz-outside-"))
PAYLOADS = [
    f"I(Reaction + 0 * system('touch {OUTSIDE}/a')) ~ Days + (1 | Subject)",
    f"Reaction ~ base::system('touch {OUTSIDE}/b') + (1 | Subject)",
    f"Reaction ~ get('file.create')('{OUTSIDE}/c') + (1 | Subject)",
    f"Reaction ~ I(0 * base:::file.create('{OUTSIDE}/d')) + (1 | Subject)",
    f"y ~ x + (1 | g); file.create('{OUTSIDE}/e')",
    f"y ~ x # \nfile.create('{OUTSIDE}/f')",
]
FORMULAS = [
    "Reaction ~ Days + (1 | Subject)",
    "Reaction ~ Days + (Days || Subject)",
    "log(Reaction) ~ poly(Days, 2) + (1 | Subject)",
    "y ~ x + (1 | g)",
    "y ~ 1 + (1 | g)",
    "Reaction ~ Days",
    "Reaction ~ Days + (1 | Subject",
    "~ (1 | Subject)",
    "Reaction ~ Dayz + (1 | Subject)",
    *PAYLOADS,
]
TEXT = st.text(max_size=12)


def mostly(usual: st.SearchStrategy, rare: st.SearchStrategy, odds: int = 4) -> st.SearchStrategy:
    """``usual`` in ``odds`` of ``odds + 1`` draws, else ``rare``: deep paths get exercised."""
    return st.sampled_from([True] * odds + [False]).flatmap(lambda u: usual if u else rare)


NAMES = mostly(st.sampled_from(["m", "m2", "nested", "a-b", "m1\n", "../x", "", "fit"]), TEXT)


def scalar() -> st.SearchStrategy:
    return st.one_of(
        TEXT,
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(allow_nan=True),
        st.booleans(),
        st.none(),
    )


junk = st.one_of(
    scalar(), st.lists(scalar(), max_size=3), st.dictionaries(TEXT, scalar(), max_size=2)
)

data_block = mostly(
    st.one_of(
        st.just({"dataset": "sleepstudy"}),
        st.just({"csv": "d.csv"}),
        st.fixed_dictionaries(
            {"dataset": st.sampled_from(["sleepstudy", "Pastes", "nope", "sleepstudy); q(", ""])},
            optional={
                "package": st.one_of(st.sampled_from(["lme4", "datasets", "x); q("]), TEXT),
                "name": NAMES,
            },
        ),
        st.fixed_dictionaries(
            {"csv": st.sampled_from(["d.csv", "../d.csv", "/etc/hostname", "missing.csv", "."])},
            optional={
                "name": NAMES,
                "factors": st.dictionaries(
                    st.sampled_from(["g", "x", "Subject", "nope"]),
                    st.one_of(st.lists(scalar(), max_size=3), scalar()),
                    max_size=2,
                ),
            },
        ),
    ),
    junk,
    odds=9,
)

plain_model = st.fixed_dictionaries(
    {"name": st.sampled_from(["m", "m2", "a-b"]), "formula": st.sampled_from(FORMULAS)},
    optional={
        "reml": st.booleans(),
        "ddf": st.just("Satterthwaite"),
        "boot": st.fixed_dictionaries({"nsim": st.integers(1, 2), "seed": st.integers(-9, 9)}),
        "confint": st.just("Wald"),
    },
)

wild_model = st.fixed_dictionaries(
    {"name": NAMES, "formula": mostly(st.sampled_from(FORMULAS), TEXT)},
    optional={
        "reml": st.one_of(st.booleans(), TEXT),
        "ddf": st.sampled_from(["Satterthwaite", "KR", None]),
        "boot": st.one_of(
            st.fixed_dictionaries(
                {"nsim": st.integers(-1, 2), "seed": st.integers(-(2**40), 2**40)},
                optional={
                    "fun": st.sampled_from(["fixef", "sigma", "system"]),
                    "workers": st.sampled_from([1, 0, "2"]),
                },
            ),
            junk,
        ),
        "confint": st.one_of(st.sampled_from(["Wald", "boot", "nope"]), junk),
        "all_fit": st.one_of(st.just(False), TEXT),
        "re_form": TEXT,
    },
)
model = mostly(plain_model, wild_model, odds=2)

spec_strategy = mostly(
    st.fixed_dictionaries(
        {
            "data": data_block,
            "models": mostly(st.lists(model, min_size=1, max_size=2), junk, odds=9),
        }
    ),
    junk,
)

csv_strategy = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.tuples(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(-5, 5),
            st.sampled_from("abcd"),
        ),
        min_size=0,
        max_size=30,
    ).map(lambda rows: ("y,x,g\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows)).encode()),
)


def call(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    text = err.getvalue()
    assert "Traceback" not in text, text
    assert len([line for line in text.splitlines() if line.startswith("pylme4: error:")]) <= 1, text
    return code, text


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    spec=spec_strategy,
    raw_yaml=mostly(st.none(), st.text(max_size=80), odds=9),
    data=csv_strategy,
    use_sleep=st.booleans(),
)
def test_the_cli_survives_random_specs_and_csv_files(spec, raw_yaml, data, use_sleep) -> None:
    with tempfile.TemporaryDirectory(prefix="pylme4-fuzz-") as tmp:
        folder = Path(tmp)
        (folder / "spec.yaml").write_text(
            raw_yaml if raw_yaml is not None else yaml.safe_dump(spec, allow_unicode=True),
            encoding="utf-8",
        )
        (folder / "d.csv").write_bytes(SLEEP_CSV if use_sleep else data)
        before = sorted(os.listdir(folder))
        code, err = call("run", str(folder / "spec.yaml"), "--out", str(folder / "out"), "-q")
        assert code in EXPECTED["run"], err
        if code == 0:
            code, err = call(
                "verify", str(folder / "out"), "-q", "--spec", str(folder / "spec.yaml")
            )
            assert code in EXPECTED["verify"], err
            assert code == 0, err  # the same spec on the same data gives the same numbers
        else:
            assert not (folder / "out").exists()
        code, err = call("export-r", str(folder / "spec.yaml"), "-o", str(folder / "a.R"))
        assert code in EXPECTED["export-r"], err
        after = set(os.listdir(folder)) - {"out", "a.R"}
        assert sorted(after) == before
    assert list(OUTSIDE.iterdir()) == []


SLEEP_CSV = b""


def setup_module() -> None:
    global SLEEP_CSV
    path = OUTSIDE.parent / f"{OUTSIDE.name}-sleep.csv"
    r(f"write.csv(lme4::sleepstudy, '{path}', row.names = FALSE)")
    SLEEP_CSV = path.read_bytes()
    path.unlink()


def teardown_module() -> None:
    assert list(OUTSIDE.iterdir()) == []
    OUTSIDE.rmdir()


def test_fuzz_payloads_are_refused() -> None:
    # The pool's payloads are what the fuzzing relies on never running.
    with tempfile.TemporaryDirectory() as tmp:
        for formula in PAYLOADS:
            path = Path(tmp) / "s.yaml"
            path.write_text(
                json.dumps(
                    {
                        "data": {"dataset": "sleepstudy"},
                        "models": [{"name": "m", "formula": formula}],
                    }
                ),
                encoding="utf-8",
            )
            code, err = call("run", str(path), "--out", str(Path(tmp) / "out"), "-q")
            assert code == cli.EXIT_BAD_SPEC, err
