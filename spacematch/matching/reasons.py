"""One-line reasons, in Dutch and English, that always agree with the score they explain.

A reason is a code with raw parameters; the text is rendered in the caller's language only when
shown, so the engine stays free of locale state and views pick the user's language.
Numbers that would look equal to the bound they are compared with get an extra decimal, so a
text never reads "100 m², smaller than 100–200 m²".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from spacematch.matching import criteria as c

LANGUAGES = ("nl", "en")
TEMPLATES: dict[str, dict[str, str]] = {
    "size.within": {"nl": "{area} m², binnen {range} m²", "en": "{area} m², within {range} m²"},
    "size.below": {
        "nl": "{area} m², kleiner dan gevraagd ({range} m²)",
        "en": "{area} m², smaller than the {range} m² asked for",
    },
    "size.above": {
        "nl": "{area} m², groter dan gevraagd ({range} m²)",
        "en": "{area} m², larger than the {range} m² asked for",
    },
    "price.free": {
        "nl": "gratis, binnen budget van {budget}",
        "en": "rent-free, within the {budget} budget",
    },
    "price.within": {
        "nl": "{rent} per maand, binnen budget van {budget}",
        "en": "{rent} a month, within the {budget} budget",
    },
    "price.over": {
        "nl": "{rent} per maand, {over} boven budget van {budget}",
        "en": "{rent} a month, {over} over the {budget} budget",
    },
    "place.preferred": {"nl": "in voorkeurs{level} {name}", "en": "in preferred {level} {name}"},
    "place.point": {
        "nl": "{distance} van het opgegeven punt (max. {max})",
        "en": "{distance} from the given point (max. {max})",
    },
    "place.adjacent": {
        "nl": "buurt {buurt} grenst aan voorkeurs{level} {name}",
        "en": "buurt {buurt} is adjacent to preferred {level} {name}",
    },
    "place.near": {
        "nl": "{distance} buiten voorkeurs{level} {name} (max. {max})",
        "en": "{distance} outside preferred {level} {name} (max. {max})",
    },
    "place.anywhere": {"nl": "geen voorkeur voor een plek", "en": "no place preference"},
    "priority.both": {
        "nl": "gemeenschapseconomie ({legal_form}) en lokaal: voorkeursgebied omvat deze buurt",
        "en": "community economy ({legal_form}) and local: a preferred area holds this buurt",
    },
    "priority.community": {
        "nl": "gemeenschapseconomie ({legal_form})",
        "en": "community economy ({legal_form})",
    },
    "priority.local": {
        "nl": "lokaal: voorkeursgebied omvat deze buurt",
        "en": "local: a preferred area holds this buurt",
    },
    "priority.none": {"nl": "geen voorrang", "en": "no priority"},
}
LEGAL_FORM_NAMES = {
    "cooperatie": {"nl": "coöperatie", "en": "cooperative"},
    "stichting": {"nl": "stichting", "en": "foundation"},
    "vereniging": {"nl": "vereniging", "en": "association"},
    "sociale_onderneming": {"nl": "sociale onderneming", "en": "social enterprise"},
}


def number(value: float, lang: str, decimals: int = 0) -> str:
    """1234.5 -> "1.234,5" (nl) or "1,234.5" (en)."""
    text = f"{value:,.{decimals}f}"
    if lang == "nl":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def euros(value: float, lang: str, decimals: int = 0) -> str:
    return (
        f"€ {number(value, lang, decimals)}"
        if lang == "nl"
        else f"€{number(value, lang, decimals)}"
    )


def distance(metres: float, lang: str) -> str:
    """Under 1 km in tens of metres, else km with at most one decimal ("1,2 km", "3 km")."""
    if metres < 995:
        return f"{number(round(metres, -1) if metres >= 10 else round(metres), lang)} m"
    km = number(metres / 1000, lang, 1)
    return f"{km[:-2] if km.endswith(('.0', ',0')) else km} km"


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
        lang = lang if lang in LANGUAGES else "nl"
        p = self.params
        values: dict[str, str] = {}
        if self.code.startswith("size."):
            bound = p["min"] if self.code == "size.below" else p["max"]
            decimals = 0 if self.code == "size.within" else _decimals_apart(p["area"], bound)
            values["area"] = number(p["area"], lang, decimals)
            lo, hi = number(p["min"], lang), number(p["max"], lang)
            values["range"] = lo if lo == hi else f"{lo}–{hi}"
        elif self.code.startswith("price."):
            values["budget"] = euros(p["budget"], lang)
            if self.code == "price.over":
                over = p["rent"] - p["budget"]
                values["rent"] = euros(p["rent"], lang, _decimals_apart(p["rent"], p["budget"]))
                values["over"] = euros(over, lang, 0 if round(over) > 0 else 2)
            elif self.code == "price.within":
                values["rent"] = euros(p["rent"], lang)
        elif self.code.startswith("place."):
            if "level" in p:
                values["level"] = p["level"]
                values["name"] = p["name"]
            if "distance" in p:
                values["distance"] = distance(p["distance"], lang)
                values["max"] = distance(p["max"], lang)
            if "buurt" in p:
                values["buurt"] = p["buurt"]
        elif self.code.startswith("priority."):
            form = p.get("legal_form", "")
            values["legal_form"] = LEGAL_FORM_NAMES.get(form, {}).get(lang, form)
        return TEMPLATES[self.code][lang].format(**values)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


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
