"""GLM families for glmer(): which distribution, which link, written as R code.

A family reaches R as the code an R user would type in the call, so the fit
prints ``family = binomial`` or ``family = binomial(link = "probit")`` and
``summary()`` prints "Family: binomial  ( probit )", exactly as in R.  It may
be given as

- a family name: ``"binomial"``, ``"poisson"``, ``"Gamma"``, ``"gaussian"``,
  ``"inverse.gaussian"`` (the canonical link, as R's bare ``binomial``);
- a :class:`Family`, which also names the link: ``Family("binomial", "probit")``;
- R code that makes a family: ``'binomial(link = "cloglog")'``,
  ``'MASS::negative.binomial(theta = 2)'`` (R checks it when fitting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ArgumentError, ArgumentTypeError, suggestion

# The families glmer() accepts by name (R's stats package spells Gamma with a
# capital G).  The quasi families are refused by lme4 itself.
FAMILIES = ("binomial", "poisson", "Gamma", "gaussian", "inverse.gaussian")

# The links R's make.link() knows; every family above accepts any of them
# when the link is given as a string.
LINKS = ("logit", "probit", "cauchit", "cloglog", "identity", "log", "sqrt", "1/mu^2", "inverse")

_QUASI = ("quasi", "quasibinomial", "quasipoisson")
_NEGATIVE_BINOMIAL = ("negative.binomial", "negbin", "nbinom", "negative_binomial", "nb")
_NAME = re.compile(r"^[A-Za-z.][A-Za-z0-9._]*$")
_QUALIFIED = re.compile(r"^[A-Za-z][A-Za-z0-9.]*:::?[A-Za-z.][A-Za-z0-9._]*$")


@dataclass(frozen=True)
class Family:
    """A GLM family with its link, as R's ``binomial(link = "probit")``.

    Parameters
    ----------
    name
        One of ``"binomial"``, ``"poisson"``, ``"Gamma"``, ``"gaussian"``,
        ``"inverse.gaussian"``.
    link
        One of R's links (``"logit"``, ``"probit"``, ``"cauchit"``,
        ``"cloglog"``, ``"identity"``, ``"log"``, ``"sqrt"``, ``"1/mu^2"``,
        ``"inverse"``), or None for the family's canonical link.

    Examples
    --------
    >>> Family("binomial", "probit").r_code
    'binomial(link = "probit")'
    >>> Family("poisson").r_code
    'poisson'
    """

    name: str
    link: str | None = None

    def __post_init__(self) -> None:
        check_family_name(self.name)
        if self.link is not None and self.link not in LINKS:
            raise ArgumentError(
                f"link {self.link!r} is not one of R's links: {', '.join(LINKS)}"
                + suggestion(str(self.link), LINKS)
            )

    @property
    def r_code(self) -> str:
        """The family as an R user types it in a call."""
        if self.link is None:
            return self.name
        return f'{self.name}(link = "{self.link}")'

    def __str__(self) -> str:
        return self.r_code


def check_family_name(name: object) -> None:
    """A ValueError naming the families glmer() accepts, unless ``name`` is one."""
    if name in FAMILIES:
        return
    if not isinstance(name, str):
        raise ArgumentTypeError(
            f"family must be a family name such as 'binomial', a pylme4.Family, or R code, "
            f"not {type(name).__name__}"
        )
    if name in _QUASI:
        raise ArgumentError(f"lme4's glmer() cannot fit the {name!r} family (no quasi families)")
    if name in _NEGATIVE_BINOMIAL:
        raise ArgumentError(
            "for a negative binomial model use pylme4.glmer_nb(), which estimates theta "
            "as lme4's glmer.nb() does, or family='MASS::negative.binomial(theta = ...)' "
            "for a known theta"
        )
    raise ArgumentError(
        f"family {name!r} is not one of {', '.join(FAMILIES)}" + suggestion(name, FAMILIES)
    )


def family_code(family: str | Family) -> str:
    """The R code that goes after ``family =`` in the printed call."""
    if isinstance(family, Family):
        return family.r_code
    if isinstance(family, str):
        text = family.strip()
        if _NAME.match(text):
            check_family_name(text)
            return text
        if _QUALIFIED.match(text) or ("(" in text and text.endswith(")")):
            return text  # R code such as 'binomial(link = "probit")'; R checks it
        raise ArgumentError(
            f"family {family!r} is neither a family name ({', '.join(FAMILIES)}) nor R code "
            "such as 'binomial(link = \"probit\")'"
        )
    check_family_name(family)
    return str(family)  # pragma: no cover - check_family_name raised
