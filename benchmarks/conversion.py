"""Benchmark: pandas -> R data.frame conversion, pylme4 vs rpy2's stock converter.

    .venv/bin/python benchmarks/conversion.py [--rows 1000000] [--repeat 5]

Target (issue 2): 1,000,000 rows x 5 columns (float, int, Categorical with
1,000 levels, string, nullable Int64) in under 0.25 s.  Prints medians over
repeated runs; the stock converter runs fewer times (it is slow).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd


def make_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = [f"g{i:04d}" for i in range(1000)]
    nullable = pd.array(rng.integers(0, 100, rows), dtype="Int64")
    nullable[::97] = pd.NA
    return pd.DataFrame(
        {
            "y": rng.normal(size=rows),
            "n": rng.integers(0, 1000, rows),
            "g": pd.Categorical.from_codes(rng.integers(0, 1000, rows), categories=levels),
            "s": np.array(levels, dtype=object)[rng.integers(0, 1000, rows)],
            "k": nullable,
        }
    )


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from pylme4._r import session
    from pylme4._r.convert import frame_to_r

    session.helpers()  # start R outside the timings
    df = make_frame(args.rows)

    def ours() -> None:
        with session.LOCK:
            frame_to_r(df)

    def stock() -> None:
        import rpy2.robjects as ro
        from rpy2.robjects import pandas2ri

        with warnings.catch_warnings(), session.LOCK:
            warnings.simplefilter("ignore")
            with (ro.default_converter + pandas2ri.converter).context():
                ro.conversion.get_conversion().py2rpy(df)

    t_ours = timed(ours, args.repeat)
    t_stock = timed(stock, max(1, args.repeat // 3))
    print(f"rows x cols         : {args.rows:,} x {df.shape[1]}")
    print(f"pylme4 frame_to_r   : {t_ours:8.3f} s  (target < 0.25 s at 1e6 rows)")
    print(f"rpy2 pandas2ri      : {t_stock:8.3f} s")
    print(f"speed-up            : {t_stock / t_ours:8.1f} x")


if __name__ == "__main__":
    main()
