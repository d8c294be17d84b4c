"""The ``pylme4`` command: run, verify and export reproducible analyses; check the setup.

::

    pylme4 run SPEC --out DIR          fit the spec's models, write outputs + results.json
    pylme4 verify DIR [--with-r]       re-run DIR's spec and compare every output
    pylme4 export-r SPEC [-o FILE]     the same analysis as a standalone R script
    pylme4 doctor                      check R, the R packages and rpy2; say how to fix

Results go to files and stdout; progress, warnings and errors go to stderr.
A bad spec, bad data or a missing R exits non-zero with one line saying why
(no traceback).  Exit codes: 0 success; 1 verify found differences (or doctor
found problems); 2 the spec, the command line or the results folder is wrong
(including a spec refused by the trust check, docs/security.md); 3 the data or
a model failed; 4 R, an R package or a Python package is missing; 5 a file
could not be read or written (disk full, permissions, busy); 130 interrupted
(Ctrl-C); 143 terminated (SIGTERM).

This module imports nothing heavy at start-up, so that ``pylme4 doctor``
works even when R, rpy2 or pandas cannot be loaded.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import PylmeError, RNotAvailableError, one_line

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_BAD_SPEC = 2
EXIT_BAD_DATA = 3
EXIT_MISSING = 4
EXIT_FILE = 5
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def _err(text: str) -> None:
    print(f"pylme4: {text}", file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    return None if args.quiet else _err


def _command_line(argv: Sequence[str] | None) -> str:
    words = list(sys.argv[1:] if argv is None else argv)
    return " ".join(shlex.quote(w) for w in ["pylme4", *words])


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from .pipeline import load_spec, run

    spec = load_spec(args.spec)
    result = run(
        spec,
        args.out,
        progress=_progress(args),
        command=args.command_line,
        trust=args.trust,
        force=args.force,
    )
    for model, text in result.messages:
        _err(f"warning: {model}: {one_line(text)}")
    print(f"results in {result.out_dir}")
    folders = {**result.results["models"], **result.results.get("compare", {})}
    width = max(len(name) for name in folders) + 1
    for name, entry in folders.items():
        print(f"  {name + '/':{width}}  {' '.join(entry['files'])}")
    print(f"  {'results.json':{width}}  every number, the spec and the provenance")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from .pipeline import Tolerance, verify

    report = verify(
        args.dir,
        spec_path=args.spec,
        tolerance=Tolerance(rtol=args.rtol, atol=args.atol),
        with_r=args.with_r,
        progress=_progress(args),
        trust=args.trust,
    )
    print(report.text(verbose=args.verbose))
    return EXIT_OK if report.ok else EXIT_DIFFERENT


def _cmd_export_r(args: argparse.Namespace) -> int:
    from .pipeline import export_r, load_spec

    spec = load_spec(args.spec)
    if args.output is None:
        sys.stdout.write(export_r(spec, trust=args.trust))
        return EXIT_OK
    output = Path(args.output)
    text = export_r(spec, script_path=output, trust=args.trust)
    output.write_text(text, encoding="utf-8")  # an OSError: main() names the file
    _err(
        f"wrote {output} (run it with: Rscript {shlex.quote(str(output))} [OUTDIR]; "
        "OUTDIR defaults to results-r beside the script)"
    )
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import diagnose

    problems = 0
    for check in diagnose():
        print(f"{'ok' if check.ok else 'PROBLEM':8} {check.name}: {check.detail}")
        if not check.ok:
            problems += 1
            if check.fix:
                print(f"{'':8} fix: {check.fix}")
    if problems:
        print(f"{problems} problem(s); run the command(s) above, then `pylme4 doctor` again")
        return EXIT_DIFFERENT
    print("everything pylme4 needs is here")
    return EXIT_OK


class _UsageError(Exception):
    pass


# ---------------------------------------------------------------------------
# Parsing and errors
# ---------------------------------------------------------------------------


def _trust_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust",
        action="store_true",
        help="the spec is yours: let its formulas call any R function and its data "
        "live anywhere (docs/security.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pylme4`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="pylme4",
        description="Reproducible lme4 analyses: YAML spec -> R's lme4 -> results with provenance.",
        epilog="Exit codes: 0 ok, 1 differences/problems found, 2 bad spec or usage, "
        "3 bad data or failed model, 4 R or a package missing, 5 a file could not be "
        "read or written, 130 interrupted, 143 terminated.  What a spec may do and what "
        "--trust means: docs/security.md.",
    )
    parser.add_argument("--version", action="version", version=f"pylme4 {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="fit the models of a spec and write the results")
    run.add_argument("spec", metavar="SPEC", help="the YAML spec (e.g. analysis.yaml)")
    run.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="the results folder: new or empty, or earlier results with --force",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="replace the results of an earlier run in DIR: only the files pylme4 wrote "
        "there (listed in DIR/.pylme4-manifest) are replaced, your own files stay; a "
        "folder with files but no pylme4 results is refused even with --force",
    )
    _trust_option(run)
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(handler=_cmd_run)

    verify = sub.add_parser(
        "verify", help="re-run a results folder's spec and compare every output"
    )
    verify.add_argument("dir", metavar="DIR", help="a results folder written by `pylme4 run`")
    verify.add_argument(
        "--with-r",
        action="store_true",
        help="also run the exported R script with Rscript and compare R's numbers",
    )
    verify.add_argument(
        "--spec", metavar="SPEC", help="the spec's new place, if it and its data moved"
    )
    verify.add_argument(
        "--rtol", type=float, default=1e-8, help="relative tolerance for numbers (default 1e-8)"
    )
    verify.add_argument(
        "--atol", type=float, default=1e-12, help="absolute tolerance for numbers (default 1e-12)"
    )
    verify.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every differing value (by default: a count per file and the first few)",
    )
    verify.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    _trust_option(verify)
    verify.set_defaults(handler=_cmd_verify)

    export = sub.add_parser("export-r", help="write the spec's analysis as a standalone R script")
    export.add_argument("spec", metavar="SPEC", help="the YAML spec")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write the script here (default: stdout)"
    )
    _trust_option(export)
    export.set_defaults(handler=_cmd_export_r)

    doctor = sub.add_parser("doctor", help="check R, the R packages and rpy2")
    doctor.set_defaults(handler=_cmd_doctor)
    return parser


def _exit_code(exc: BaseException) -> int | None:
    """The exit code for an expected failure, or None for a bug (shown with its traceback).

    A missing R (RNotAvailableError, an ImportError) never gets here: main()
    handles it with the other missing packages.
    """
    if isinstance(exc, _UsageError):
        return EXIT_BAD_SPEC
    if isinstance(exc, OSError):
        return EXIT_FILE
    # The pipeline needs pandas and pyyaml; without them it raised nothing.
    try:
        from .pipeline import FileAccessError, OutputDirError, SpecError
    except ImportError:
        FileAccessError = OutputDirError = SpecError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, FileAccessError):
        return EXIT_FILE
    if isinstance(exc, (SpecError, OutputDirError)):
        return EXIT_BAD_SPEC
    if isinstance(exc, PylmeError):  # bad data, a failed model (ModelError), an R error
        return EXIT_BAD_DATA
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pylme4`` command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = _command_line(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    with _terminate_as_exception():
        return _handle(handler, args)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup on the way out runs."""


@contextlib.contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """While a command runs, SIGTERM unwinds (removing half-written results) instead of killing."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGTERM)
        if previous == signal.SIG_DFL:

            def terminated(signum: int, frame: Any) -> None:
                raise _Terminated("terminated")

            signal.signal(signal.SIGTERM, terminated)
        else:
            previous = None  # someone else handles it: leave it to them
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _handle(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except _Terminated:
        _err("terminated")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except ImportError as exc:
        # A Python package (rpy2, pandas, pyyaml) or R itself (RNotAvailableError
        # is an ImportError) is missing: say which, not a traceback.
        if isinstance(exc, RNotAvailableError):
            _err(f"error: {one_line(exc)}")
        else:
            _err(f"error: {one_line(exc)}; run `pylme4 doctor` to see what is missing")
        return EXIT_MISSING
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        if isinstance(exc, OSError) and exc.strerror:
            # e.g. export-r -o in a read-only folder: the path, then the cause.
            where = f"{exc.filename}: " if exc.filename is not None else ""
            _err(f"error: {where}{exc.strerror}")
        else:
            _err(f"error: {one_line(exc)}")
        return code
