"""One-line reasons, in Dutch and English, that always agree with the score they explain.

A reason is a code with raw parameters; the text is rendered in the caller's language only when
shown, so the engine stays free of locale state and views pick the user's language. The texts
are Dutch msgids in the Babel catalogue (``spacematch.i18n``); numbers, money and distances are
formatted by ``spacematch.formatting``, as on every page.
Numbers that would look equal to the bound they are compared with get an extra decimal, so a
text never reads "100 m², smaller than 100–200 m²".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from spacematch.formatting import distance, euros, number
from spacematch.i18n import N_, gettext, known
from spacematch.matching import criteria as c

# Code -> Dutch msgid (English in spacematch/translations/en/LC_MESSAGES/messages.po).
TEMPLATES: dict[str, str] = {
    "size.within": N_("%(area)s m², binnen %(range)s m²"),
    "size.below": N_("%(area)s m², kleiner dan gevraagd (%(range)s m²)"),
    "size.above": N_("%(area)s m², groter dan gevraagd (%(range)s m²)"),
    "price.free": N_("gratis, binnen budget van %(budget)s"),
    "price.within": N_("%(rent)s per maand, binnen budget van %(budget)s"),
    "price.over": N_("%(rent)s per maand, %(over)s boven budget van %(budget)s"),
    "place.preferred": N_("in voorkeurs%(level)s %(name)s"),
    "place.point": N_("%(distance)s van het opgegeven punt (max. %(max)s)"),
    "place.adjacent": N_("buurt %(buurt)s grenst aan voorkeurs%(level)s %(name)s"),
    "place.near": N_("%(distance)s buiten voorkeurs%(level)s %(name)s (max. %(max)s)"),
    "place.anywhere": N_("geen voorkeur voor een plek"),
    "priority.both": N_(
        "gemeenschapseconomie (%(legal_form)s) en lokaal: voorkeursgebied omvat deze buurt"
    ),
    "priority.community": N_("gemeenschapseconomie (%(legal_form)s)"),
    "priority.local": N_("lokaal: voorkeursgebied omvat deze buurt"),
    "priority.none": N_("geen voorrang"),
}
# The legal forms as a reason names them (lower case, mid-sentence).
LEGAL_FORM_NAMES = {
    "cooperatie": N_("coöperatie"),
    "stichting": N_("stichting"),
    "vereniging": N_("vereniging"),
    "sociale_onderneming": N_("sociale onderneming"),
}
# Area levels mid-sentence ("in voorkeurswijk Oost"); English keeps Amsterdam's own terms.
LEVEL_NAMES = {
    "stadsdeel": N_("stadsdeel"),
    "gebied": N_("gebied"),
    "wijk": N_("wijk"),
    "buurt": N_("buurt"),
}


def _name(names: dict[str, str], code: str, lang: str) -> str:
    return gettext(names[code], lang) if code in names else code


def _decimals_apart(value: float, bound: float) -> int:
    """How many decimals show ``value`` different from ``bound`` (0, 1 or 2)."""
    for decimals in (0, 1):
        if round(value, decimals) != round(bound, decimals):
            return decimals
    return 2


@dataclass(frozen=True)
class Reason:
    """A code plus raw parameters; ``text(lang)`` renders it for lang in {"nl", "en"}."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "nl") -> str:
        lang = known(lang)
        render = _VALUES[self.code.partition(".")[0]]
        return gettext(TEMPLATES[self.code], lang, **render(self.code, self.params, lang))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


def _size_values(code: str, p: dict[str, Any], lang: str) -> dict[str, str]:
    bound = p["min"] if code == "size.below" else p["max"]
    decimals = 0 if code == "size.within" else _decimals_apart(p["area"], bound)
    lo, hi = number(p["min"], lang), number(p["max"], lang)
    return {"area": number(p["area"], lang, decimals), "range": lo if lo == hi else f"{lo}–{hi}"}


def _price_values(code: str, p: dict[str, Any], lang: str) -> dict[str, str]:
    values = {"budget": euros(p["budget"], lang)}
    if code == "price.over":
        over = p["rent"] - p["budget"]
        values["rent"] = euros(p["rent"], lang, _decimals_apart(p["rent"], p["budget"]))
        values["over"] = euros(over, lang, 0 if round(over) > 0 else 2)
    elif code == "price.within":
        values["rent"] = euros(p["rent"], lang)
    return values


def _place_values(code: str, p: dict[str, Any], lang: str) -> dict[str, str]:
    values: dict[str, str] = {}
    if "level" in p:
        values["level"] = _name(LEVEL_NAMES, p["level"], lang)
        values["name"] = p["name"]
    if "distance" in p:
        values["distance"] = distance(p["distance"], lang)
        values["max"] = distance(p["max"], lang)
    if "buurt" in p:
        values["buurt"] = p["buurt"]
    return values


def _priority_values(code: str, p: dict[str, Any], lang: str) -> dict[str, str]:
    return {"legal_form": _name(LEGAL_FORM_NAMES, p.get("legal_form", ""), lang)}


# A reason's placeholders, per criterion (the part of its code before the dot).
_VALUES = {"size": _size_values, "price": _price_values, "place": _place_values,
           "priority": _priority_values}  # fmt: skip


class Criterion(NamedTuple):
    """One criterion's score and the reason that explains it."""

    score: float
    reason: Reason


def size_reason(area: float, min_area: float, max_area: float, score: float) -> Reason:
    params = {"area": float(area), "min": float(min_area), "max": float(max_area)}
    if score >= 1.0:
        return Reason("size.within", params)
    return Reason("size.below" if area < min_area else "size.above", params)


def price_reason(rent: float, budget: float, score: float) -> Reason:
    params = {"rent": float(rent), "budget": float(budget)}
    if score >= 1.0:
        return Reason("price.free" if rent <= 0 else "price.within", params)
    return Reason("price.over", params)


def place_reason(
    kind: int,
    *,
    level: str = "",
    name: str = "",
    buurt: str = "",
    dist: float = math.nan,
    max_distance: float = math.nan,
) -> Reason:
    """The reason for a place kind from ``criteria`` (the caller names the area involved)."""
    if kind == c.PREFERRED:
        return Reason("place.preferred", {"level": level, "name": name})
    if kind == c.POINT:
        return Reason("place.point", {"distance": float(dist), "max": float(max_distance)})
    if kind == c.ADJACENT:
        return Reason("place.adjacent", {"level": level, "name": name, "buurt": buurt})
    if kind == c.NEAR:
        return Reason(
            "place.near",
            {"level": level, "name": name, "distance": float(dist), "max": float(max_distance)},
        )
    if kind == c.ANYWHERE:
        return Reason("place.anywhere")
    raise ValueError(f"no reason for an excluded place (kind {kind})")


def priority_reason(community: bool, local: bool, legal_form: str) -> Reason:
    code = {(True, True): "both", (True, False): "community", (False, True): "local"}.get(
        (community, local), "none"
    )
    return Reason(f"priority.{code}", {"legal_form": legal_form})
