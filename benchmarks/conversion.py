"""pandas -> R data.frame: pylme4's converter against rpy2's stock one.

    python -m benchmarks --only conversion

Frames of 1e4 / 1e5 / 1e6 rows with one column of each kind users pass:
float64, int64, a Categorical with 1,000 levels, strings (object dtype,
1,000 distinct values) and nullable Int64 with missing values; each kind
alone and all five together.  pylme4: ``pylme4._r.convert.frame_to_r``;
stock: ``(ro.default_converter + pandas2ri.converter).context()`` and
``py2rpy``.  The ratio is stock time / pylme4 time (a speed-up).  The
target (issue 2) is 1e6 x 5 in < 0.25 s and at least 20x the stock converter.

R -> Python ("from R" rows): the same frames made in R, read back by
``pylme4._r.convert.to_python`` against rpy2's ``rpy2py``; and a helper's
answer of 10,000 length-one vectors, half bare (scalars) and half marked
``I()`` (arrays), the shape rule issue 14 added.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd

from .report import Row
from .timing import alternate, clock, median

SECTION = "conversion"
KINDS = ("float", "int", "categorical", "string", "nullable")


def make_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    """One column of each kind, ``rows`` rows."""
    rng = np.random.default_rng(seed)
    levels = [f"g{i:04d}" for i in range(1000)]
    nullable = pd.array(rng.integers(0, 100, rows), dtype="Int64")
    nullable[::97] = pd.NA
    return pd.DataFrame(
        {
            "float": rng.normal(size=rows),
            "int": rng.integers(0, 1000, rows),
            "categorical": pd.Categorical.from_codes(
                rng.integers(0, 1000, rows), categories=levels
            ),
            "string": np.array(levels, dtype=object)[rng.integers(0, 1000, rows)],
            "nullable": nullable,
        }
    )


def pylme4_convert(df: pd.DataFrame) -> None:
    from pylme4._r import session
    from pylme4._r.convert import frame_to_r

    with session.LOCK:
        frame_to_r(df)


def stock_convert(df: pd.DataFrame) -> None:
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri

    from pylme4._r import session

    with warnings.catch_warnings(), session.LOCK:
        warnings.simplefilter("ignore")
        with (ro.default_converter + pandas2ri.converter).context():
            ro.conversion.get_conversion().py2rpy(df)


def _in_r(df: pd.DataFrame) -> object:
    from pylme4._r import session
    from pylme4._r.convert import frame_to_r

    with session.LOCK:
        return frame_to_r(df)


def pylme4_read(sexp: object) -> None:
    from pylme4._r import session
    from pylme4._r.convert import to_python

    with session.LOCK:
        to_python(sexp)


def stock_read(sexp: object) -> None:
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri

    from pylme4._r import session

    with warnings.catch_warnings(), session.LOCK:
        warnings.simplefilter("ignore")
        with (ro.default_converter + pandas2ri.converter).context():
            ro.conversion.get_conversion().rpy2py(sexp)


def _helper_answer() -> object:
    from pylme4._r import session
    from pylme4._r.call import run_code

    run_code("1")  # R started
    import rpy2.rinterface as ri

    with session.LOCK:
        return ri.baseenv["eval"](
            ri.parse("c(as.list(as.numeric(1:5000)), lapply(as.numeric(1:5000), I))")
        )


def run_from_r(quick: bool) -> list[Row]:
    """R -> Python: pylme4's to_python against rpy2's rpy2py."""
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    rows = []
    cases: list[tuple[str, str, object]] = [
        ("all 5 (from R)", f"{size:.0e} rows".replace("e+0", "e"), _in_r(make_frame(size)))
        for size in sizes
    ]
    cases.append(("length-1 vectors (from R)", "1e4 items", _helper_answer()))
    for case, size_text, sexp in cases:
        times = alternate(
            {
                "pylme4": clock(partial(pylme4_read, sexp)),
                "other": clock(partial(stock_read, sexp)),
            },
            {"pylme4": 3 if quick else 7, "other": 2 if quick else 3},
        )
        rows.append(
            Row(SECTION, case, size_text, "rpy2 pandas2ri", times, ratio_is="other / pylme4")
        )
    return rows


def run(quick: bool) -> list[Row]:
    from pylme4._r import session

    session.helpers()  # R starts outside the timings
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    rows = []
    for size in sizes:
        frame = make_frame(size)
        # The stock converter is slow at 1e6 rows: fewer runs of it.
        repeat = {"pylme4": 3 if quick else 7, "other": 2 if quick or size >= 1_000_000 else 3}
        for kind in (*KINDS, "all 5"):
            df = frame if kind == "all 5" else frame[[kind]]
            times = alternate(
                {
                    "pylme4": clock(partial(pylme4_convert, df)),
                    "other": clock(partial(stock_convert, df)),
                },
                repeat,
            )
            big_frame = kind == "all 5" and size == 1_000_000
            rows.append(
                Row(
                    SECTION,
                    kind,
                    f"{size:.0e} rows".replace("e+0", "e"),
                    "rpy2 pandas2ri",
                    times,
                    ratio_is="other / pylme4",
                    target=(">=", 20.0) if big_frame else None,
                    note=(
                        "target also: pylme4 < 0.25 s "
                        f"({'met' if median(times.wall['pylme4']) < 0.25 else 'NOT met'} by the median)"
                        if big_frame
                        else ""
                    ),
                )
            )
    return rows + run_from_r(quick)
