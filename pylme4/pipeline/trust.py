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

- a model's ``family`` must be one of glmer()'s families written as a
  name (``poisson``), a call of it with a link (``binomial(link =
  "probit")``, links of :data:`pylme4.families.LINKS`), or
  ``MASS::negative.binomial(theta = <number>)`` (:data:`FAMILY_FUNCTIONS`);
  R evaluates it, and a bare name that is a function is called;
- ``control`` settings must be named as lmerControl()/glmerControl() name
  them (:data:`CONTROL_SETTINGS`), and ``optimizer`` must be one of lme4's
  (:data:`OPTIMIZERS`): lme4 looks an optimizer given as text up with
  ``get()`` and calls it.  Its values are numbers, logicals and text, passed
  to R as data;
- ``weights`` and ``offset`` are column names, checked against the data and
  passed as R symbols;

``trust=True`` (the CLI's ``--trust``) lifts these rules for a spec the user
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

from ..errors import one_line, suggestion
from ..families import FAMILIES, LINKS
from .spec import NEGATIVE_BINOMIAL, ModelSpec, Spec, SpecError

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
CODE_FIELDS = ("models[{i}].formula", "models[{i}].family")

#: The families a spec's ``family:`` may call: glmer()'s (pylme4.families.FAMILIES),
#: and MASS's negative binomial with a known theta.
FAMILY_FUNCTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"stats": FAMILIES, "MASS": ("negative.binomial",)}
)

#: The settings of lmerControl() (lme4 1.1-31) and those glmerControl() adds.
CONTROL_SETTINGS = (
    "optimizer",
    "restart_edge",
    "boundary.tol",
    "calc.derivs",
    "use.last.params",
    "sparseX",
    "standardize.X",
    "check.nobs.vs.rankZ",
    "check.nobs.vs.nlev",
    "check.nlev.gtreq.5",
    "check.nlev.gtr.1",
    "check.nobs.vs.nRE",
    "check.rankX",
    "check.scaleX",
    "check.formula.LHS",
    "check.conv.grad",
    "check.conv.singular",
    "check.conv.hess",
    "optCtrl",
    "mod.type",
)
GLMER_CONTROL_SETTINGS = ("tolPwrss", "compDev", "nAGQ0initStep", "check.response.not.const")

#: The optimizers lme4 knows by name (lmerControl's ``optimizer``).
OPTIMIZERS = ("Nelder_Mead", "bobyqa", "nloptwrap", "nlminbwrap", "nmkbw", "optimx")

_FAMILY_NAME = "|".join(re.escape(f) for f in FAMILIES)
_LINK = "|".join(re.escape(link) for link in LINKS)
_NUMBER = r"[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?"
# The shapes a family may have without --trust (spaces as R allows them).
_FAMILY_SHAPES = (
    re.compile(rf"(?:stats::)?(?:{_FAMILY_NAME})"),
    re.compile(rf"(?:stats::)?(?:{_FAMILY_NAME})\(\s*(?:link\s*=\s*)?\"(?:{_LINK})\"\s*\)"),
    re.compile(
        rf"MASS::negative\.binomial\(\s*(?:theta\s*=\s*)?{_NUMBER}\s*"
        rf"(?:,\s*link\s*=\s*\"(?:{_LINK})\"\s*)?\)"
    ),
)


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
        if model.update is not None:
            continue  # its family and control are its base model's, checked there
        if model.family is not None and model.family != NEGATIVE_BINOMIAL:
            check_family(spec, f"models[{i}].family", model.family, trust=trust)
        if model.control is not None:
            check_control(spec, f"models[{i}].control", model, trust=trust)
    check_data_path(spec, trust=trust)


def check_family(spec: Spec, key: str, text: str, *, trust: bool = False) -> None:
    """``text`` is one of the family shapes a spec may give (any one R expression with trust)."""
    if trust:
        check_code(spec, key, text, trust=True)
        return
    if any(shape.fullmatch(text) for shape in _FAMILY_SHAPES):
        return
    head = re.match(r"[A-Za-z.][A-Za-z0-9._:]*", text)
    name = head.group(0) if head else text
    names = [*FAMILIES, NEGATIVE_BINOMIAL, "MASS::negative.binomial"]
    raise spec.error(
        key,
        f"{text!r} is not a family a spec may give: one of {', '.join(FAMILIES)}, "
        f"optionally with a link ('binomial(link = \"probit\")'; links: {', '.join(LINKS)}), "
        f"{NEGATIVE_BINOMIAL} (glmer.nb(), theta estimated) or "
        f"MASS::negative.binomial(theta = <number>){suggestion(name, names)}; "
        "if you trust this spec, run it with --trust",
    )


def check_control(spec: Spec, key: str, model: ModelSpec, *, trust: bool = False) -> None:
    """The settings are the control function's, and ``optimizer`` is one of lme4's."""
    assert model.control is not None
    known = CONTROL_SETTINGS + (GLMER_CONTROL_SETTINGS if model.is_glmm else ())
    fun = "glmerControl" if model.is_glmm else "lmerControl"
    for name, value in model.control.items():
        if name not in known and not trust:
            raise spec.error(
                f"{key}.{name}",
                f"{fun}() has no setting {name!r}{suggestion(name, known)}",
            )
        if name == "optimizer" and not trust:
            values = value if isinstance(value, tuple) else (value,)
            for item in values:
                if item not in OPTIMIZERS:
                    raise spec.error(
                        f"{key}.{name}",
                        f"{item!r} is not one of lme4's optimizers "
                        f"({', '.join(OPTIMIZERS)}){suggestion(str(item), OPTIMIZERS)}; "
                        "lme4 calls the function of that name (run with --trust for your own)",
                    )


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


__all__ = [
    "ALLOWED",
    "CODE_FIELDS",
    "CONTROL_SETTINGS",
    "FAMILY_FUNCTIONS",
    "OPTIMIZERS",
    "SpecError",
    "allowed_names",
    "check_code",
    "check_control",
    "check_family",
    "check_spec",
]
