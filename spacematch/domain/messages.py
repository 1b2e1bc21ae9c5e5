"""Validation messages of the Flask-free core, in the Babel catalogue.

The core cannot use Flask-Babel (it must run without an app), so a problem is a code with
parameters; ``Message.text(lang)`` renders it through ``spacematch.i18n`` (the same compiled
catalogue the pages use), numbers formatted for that language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spacematch import formatting
from spacematch.i18n import N_, gettext

# Code -> Dutch msgid (English in spacematch/translations/en/LC_MESSAGES/messages.po).
CATALOGUE: dict[str, str] = {
    "required": N_("Dit veld is verplicht."),
    "too_long": N_("Maximaal %(max)s tekens."),
    "choice": N_("Kies een van: %(choices)s."),
    "number": N_("Vul een getal in."),
    "integer": N_("Vul een heel getal in."),
    "positive": N_("Moet groter dan 0 zijn."),
    "not_negative": N_("Mag niet negatief zijn."),
    "range": N_("Moet tussen %(min)s en %(max)s liggen."),
    "min_above_max": N_("Het minimum is groter dan het maximum."),
    "email": N_("Geen geldig e-mailadres."),
    "date": N_("Geen geldige datum (JJJJ-MM-DD)."),
    "past_date": N_("Deze datum ligt in het verleden."),
    "no_use": N_("Kies minstens één gebruik."),
    "unknown_use": N_("Onbekend gebruik: %(values)s."),
    "unknown_area": N_("Onbekend gebied: %(values)s."),
    "no_place": N_("Kies minstens één gebied of een punt op de kaart."),
    "point": N_("Een punt is [lengtegraad, breedtegraad] in WGS84."),
    "outside": N_("Dit punt ligt buiten Amsterdam."),
    "boolean": N_("Kies ja of nee."),
    "list": N_("Geef een lijst."),
    "object": N_("Stuur een JSON-object."),
    "need_not_open": N_("Kies een initiatief met een open ruimtevraag."),
    "unknown_field": N_("Onbekend veld."),
    "characters": N_("Bevat tekens die niet zijn toegestaan (stuurtekens)."),
}

# Code -> Dutch msgid for the query parameters and bodies of the JSON API, the exports and the
# OGC API (lower case: an answer names the parameter, the text follows it). Numbers are given as
# text: they are URL values. Apart from CATALOGUE (a need's fields), whose messages all take
# the same few parameters.
PARAMETERS: dict[str, str] = {
    "param_not_negative": N_("moet een getal zijn, niet negatief"),
    "param_date": N_("moet een datum JJJJ-MM-DD zijn"),
    "param_whole": N_("moet een heel getal van %(low)s tot %(high)s zijn"),
    "param_score": N_("moet een getal van 0 tot 1 zijn"),
    "param_one_of": N_("moet een van deze zijn: %(choices)s"),
    "param_boolean": N_("moet true of false zijn"),
    "param_unknown": N_("onbekende %(name)s %(values)s; bekend: %(known)s"),
    "param_area": N_("onbekende gebiedscode %(code)s"),
    "param_nul": N_("bevat een NUL-teken"),
    "param_not_filter": N_("geen filter van dataset %(dataset)s; filters: %(filters)s"),
    "bbox_numbers": N_("moet vier getallen zijn: minlon,minlat,maxlon,maxlat"),
    "bbox_finite": N_("moeten eindige getallen zijn"),
    "bbox_range": N_(
        "moet minlon<=maxlon binnen [-180, 180] en minlat<=maxlat binnen [-90, 90] zijn"
    ),
    "unknown_dataset": N_("onbekende dataset %(name)s; bekend: %(known)s"),
    "unknown_format": N_("onbekend formaat %(name)s; bekend: %(known)s"),
    "body_need": N_("stuur een JSON-object met de velden van de ruimtevraag"),
    # The OGC API's parameters and resources.
    "ogc_format": N_("onbekend formaat; geleverd: %(formats)s"),
    "ogc_language": N_("onbekende taal; geleverd: %(languages)s"),
    "ogc_resource_param": N_("onbekende parameter; deze bron neemt %(allowed)s"),
    "ogc_collection_param": N_("onbekende parameter; deze collectie neemt %(allowed)s"),
    "ogc_crs": N_("CRS niet ondersteund; ondersteund: %(crs)s"),
    "ogc_bbox_count": N_("moet 4 getallen zijn minx,miny,maxx,maxy (of 6 met minz en maxz)"),
    "ogc_bbox_numbers": N_("moeten getallen zijn: minx,miny,maxx,maxy"),
    "ogc_bbox_z": N_("minz mag niet groter zijn dan maxz"),
    "ogc_bbox_rd": N_("moet minx<=maxx en miny<=maxy zijn (RD New, meters)"),
    "ogc_bbox_wgs84": N_(
        "lengtegraden moeten binnen [-180, 180] liggen, breedtegraden minlat<=maxlat in [-90, 90]"
    ),
    "ogc_datetime": N_("moet een RFC 3339-datum-tijd zijn of een interval begin/eind"),
    "ogc_datetime_part": N_("%(part)s is geen RFC 3339-datum of -datum-tijd"),
    "ogc_interval": N_("het begin van het interval ligt na het eind"),
    "ogc_unknown_values": N_("onbekende %(name)s %(values)s"),
    "ogc_feature": N_("geen object %(fid)s in collectie %(cid)s"),
    "ogc_collection": N_("onbekende collectie %(cid)s; bekend: %(known)s"),
}


def _shown(value: Any, lang: str) -> str:
    """A parameter as text: numbers in the language's notation (1.000.000 / 1,000,000)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return formatting.decimal(value, lang, 2)
    return str(value)


@dataclass(frozen=True)
class Message:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "nl") -> str:
        params = {name: _shown(value, lang) for name, value in self.params.items()}
        msgid = CATALOGUE[self.code] if self.code in CATALOGUE else PARAMETERS[self.code]
        return gettext(msgid, lang, **params)


class MessageError(ValueError):
    """A ValueError that carries its ``Message`` (its text in English), so a parser deep down
    can say what is wrong and the caller show it in the user's language."""

    def __init__(self, code: str, **params: Any) -> None:
        self.message = Message(code, params)
        super().__init__(self.message.text("en"))


class ValidationError(Exception):
    """Every problem with one input, keyed by field (OSMnx-style: collect, then raise once)."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("; ".join(f"{k}: {v.text('en')}" for k, v in errors.items()))
        self.errors = errors

    def texts(self, lang: str = "nl") -> dict[str, str]:
        return {name: message.text(lang) for name, message in self.errors.items()}
