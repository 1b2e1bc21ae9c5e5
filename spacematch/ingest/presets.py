"""The shipped presets: named mappings for known source exports.

A preset is a raw mapping in the format of :mod:`spacematch.ingest.mapping`; ``import-layer
--preset`` selects one by name and a mapping's ``extends`` starts from one. Kept apart from the
format so that supporting another export touches data only.
"""

from __future__ import annotations

from typing import Any

# The city's gemeentelijk vastgoed export of verhuurbareEenheden: one point per lettable unit in
# RD New. It carries no rent, and the preset invents none: the asking rent drives the price
# score, so a guessed one would rank silently wrong. Give it in a mapping that extends the preset
# (see tests/fixtures/layers/vastgoed_rent.toml):
#   extends = "amsterdam-vastgoed"
#   [defaults]
#   rent_eur_m2_year = 60.0
# Values that describe no use (vacancy, unknown) are dropped; any other unexpected value is
# reported as an unknown use class, so the officer can extend the value map.
_VASTGOED_USES: dict[str, Any] = {
    "kantoor": "kantoor",
    "kantoorruimte": "kantoor",
    "kantoren": "kantoor",
    "bedrijfsruimte": "werkplaats",
    "bedrijfsruimten": "werkplaats",
    "bedrijfspand": "werkplaats",
    "werkplaats": "werkplaats",
    "winkel": "winkel",
    "winkelruimte": "winkel",
    "detailhandel": "winkel",
    "horeca": "horeca",
    "atelier": "atelier",
    "ateliers": "atelier",
    "broedplaats": "atelier",
    "maatschappelijk": "maatschappelijk",
    "maatschappelijk vastgoed": "maatschappelijk",
    "onderwijs": "maatschappelijk",
    "zorg": "maatschappelijk",
    "buurthuis": "maatschappelijk",
    "wijkcentrum": "maatschappelijk",
    "opslag": "opslag",
    "opslagruimte": "opslag",
    "berging": "opslag",
    "grond": "grond",
    "kavel": "grond",
    "terrein": "grond",
    "leegstand": [],
    "leeg": [],
    "onbekend": [],
    "geen": [],
}

PRESETS: dict[str, dict] = {
    "amsterdam-vastgoed": {
        "title": "Gemeentelijk vastgoed",
        "fields": {
            "id": ["vheId"],
            "name": ["vheNaam"],
            "area_m2": ["vvo"],
            "uses": ["vheSoort", "feitelijkGebruik"],
            # The export identifies a unit by its BAG verblijfsobject, not by a street address.
            "address": ["adres", "bagVerblijfsobjectId"],
        },
        "optional": ["name", "address"],
        "values": {"uses": _VASTGOED_USES},
        "defaults": {"department": "Gemeentelijk vastgoed"},
    },
}
