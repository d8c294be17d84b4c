"""The trust model of specs: a spec is data, not code (docs/security.md).

A spec travels by e-mail and through repositories, so ``pylme4 run``,
``verify``, ``verify --with-r`` and ``export-r`` treat it as untrusted input:

- every field that reaches R as code (each model's ``formula``, also the
  change ``formula`` of a model with ``update:``) is
  parsed by R, never evaluated, and every function its parse tree calls must
  be on :data:`ALLOWED`, the one list of modelling functions a spec may use
  (``pkg::fun`` only for the pairs listed there; ``:::`` never; a function
  computed by another call, such as ``get("f")(x)``, never);
- ``data.csv`` must be a relative path that stays inside the spec's folder,
  also after following symbolic links.

``trust=True`` (the CLI's ``--trust``) lifts both rules for a spec the user
vouches for; results.json records that it was used.  Whatever the trust, the
code must be exactly one R expression without a comment, because the
exported R script writes it as code.

Other fields never reach R as code: names (of models, of ``update:`` and
``compare:`` references, of contrasts) are checked against fixed patterns by
:mod:`pylme4.pipeline.spec`, choices (``ddf``, ``boot.fun``, ``confint``)
against fixed lists, numbers (contrast weights, alphas) are numbers, and
strings the exported script holds (``ls_means.which``) are quoted by
:func:`pylme4.pipeline.export_r.r_string`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath
from types import MappingProxyType

from ..errors import one_line
from .spec import Spec, SpecError

#: The functions a spec's R code may call, by the package that exports them.
#: A name may be written alone (``ns(Days, 3)``) or with its package
#: (``splines::ns(Days, 3)``).  Operators are functions in R and are listed too.
ALLOWED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "base": (
            # formula and model operators, arithmetic, comparison, logic
            "~",
            "+",
            "-",
            "*",
            "/",
            "^",
            ":",
            "%in%",
            "|",
            "||",
            "(",
            "%%",
            "%/%",
            "==",
            "!=",
            "<",
            ">",
            "<=",
            ">=",
            "!",
            "&",
            "&&",
            # transformations of a variable
            "I",
            "log",
            "log1p",
            "log2",
            "log10",
            "exp",
            "expm1",
            "sqrt",
            "abs",
            "sign",
            "floor",
            "ceiling",
            "round",
            "trunc",
            "pmin",
            "pmax",
            "sin",
            "cos",
            "tan",
            "is.na",
            "ifelse",
            "scale",
            "cut",
            # factors and vectors
            "factor",
            "ordered",
            "interaction",
            "cbind",
            "c",
            "as.numeric",
            "as.double",
            "as.integer",
            "as.logical",
            "as.character",
            "as.factor",
            "as.ordered",
        ),
        "stats": ("poly", "relevel", "offset", "qlogis", "plogis"),
        "splines": ("ns", "bs"),
        # lme4's own formula helper: (0 + dummy(f, "a") | g)
        "lme4": ("dummy",),
    }
)

#: The spec fields R evaluates as code, as ``Spec.lines`` keys (``{i}``: each model).
CODE_FIELDS = ("models[{i}].formula",)


def allowed_names() -> tuple[str, ...]:
    """Every function a spec may call by its name alone."""
    return tuple(sorted({name for names in ALLOWED.values() for name in names}))


def check_spec(spec: Spec, *, trust: bool = False) -> None:
    """Refuse a spec that would make R run code off the allow-list, or read outside its folder.

    Raises
    ------
    SpecError
        One line naming the file, line, key and the function (or path).
    """
    for i, model in enumerate(spec.models):
        if model.formula is not None:
            check_code(spec, f"models[{i}].formula", model.formula, trust=trust)
    check_data_path(spec, trust=trust)


def check_code(spec: Spec, key: str, text: str, *, trust: bool = False) -> None:
    """``text`` (the value of ``key``) parses as one R expression calling only allowed functions."""
    from .._r.call import r_value

    pairs = [(pkg, fun) for pkg, funs in ALLOWED.items() for fun in funs]
    found = r_value(
        "pylme4_code_check",
        text,
        list(allowed_names()),
        [p for p, _ in pairs],
        [f for _, f in pairs],
        check_calls=not trust,
        doing="parsing the spec's R code",
    )
    kind, what = str(found["kind"]), str(found["what"])
    if not kind:
        return
    if kind == "parse":
        # R says "<text>:1:17: unexpected symbol" and then shows the line.
        first = what.splitlines()[0] if what.strip() else what
        match = re.match(r"<text>:(\d+):(\d+): (.*)", first)
        if match is not None:
            first = f"{match.group(3)} at character {match.group(2)}"
        raise spec.error(key, f"is not valid R: {one_line(first)}")
    if kind == "shape":
        raise spec.error(key, f"must be a single R expression: {what}")
    if kind == "computed":
        culprit = "a function it computes instead of naming it, e.g. (function(x) ...)(y),"
    else:
        culprit = f"{what}()"
    raise spec.error(
        key,
        f"calls {culprit}, which is not on pylme4's list of modelling functions "
        "(docs/security.md); if you trust this spec, run it with --trust",
    )


def check_data_path(spec: Spec, *, trust: bool = False) -> None:
    """``data.csv`` is relative and, symbolic links followed, inside the spec's folder."""
    written = spec.data.csv
    if written is None or trust:
        return
    if PurePosixPath(written).is_absolute() or PureWindowsPath(written).anchor:
        raise spec.error(
            "data.csv",
            f"{written!r} is an absolute path; a spec reads data only from its own folder "
            "(give a path relative to the spec, or run with --trust)",
        )
    path = spec.csv_path
    base = spec.base_dir.resolve()
    assert path is not None
    if not path.is_relative_to(base):
        raise spec.error(
            "data.csv",
            f"{written!r} leads outside the spec's folder {base} (to {path}); a spec reads "
            "data only from its own folder (move the data there, or run with --trust)",
        )


__all__ = ["ALLOWED", "CODE_FIELDS", "SpecError", "allowed_names", "check_code", "check_spec"]
