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

# Kinds (vheSoort) of unit in the whole-city export that are not space for initiatives: skipped
# and counted per kind in the import report. A mapping that extends the preset can add kinds.
_VASTGOED_SKIP = [
    "woning",
    "woningen",
    "woonruimte",
    "studentenwoning",
    "zelfstandige woonruimte",
    "onzelfstandige woonruimte",
    "woonwagen",
    "woonwagenstandplaats",
    "standplaats",
    "woonboot",
    "ligplaats",
    "parkeerplaats",
    "parkeerplaatsen",
    "parkeergarage",
    "garage",
    "garagebox",
    "stalling",
    "fietsenstalling",
    "reclame",
    "reclamemast",
    "antenne",
    "antennemast",
    "zendmast",
]

# The city's land-development (grondexploitatie) projects, grex/projecten: one MultiPolygon per
# project, with plannaam, startdatum, planstatus (A actueel, T toekomstig) and oppervlakte. Until a
# future plan starts its land can be used meanwhile: the preset imports every project as a plot
# (use grond) and, where planstatus says the plan is still to come, as meanwhile until startdatum.
# Like the vastgoed export it carries no rent: give one in a mapping that extends the preset.
PRESETS: dict[str, dict[str, Any]] = {
    # verhuurbareEenheden, v2 (prgSubobjectid, address parts, contractNummers,
    # bagVerblijfsobjectIds) and v1 (vheId, bagVerblijfsobjectId) field names; camelCase and
    # snake_case columns both match. The whole city comes in one file: dwellings and parking
    # places are skipped, let units (a contract number) stored as verhuurd, and a kind the value
    # map does not know is imported without a use class (listed in the report).
    "amsterdam-vastgoed": {
        "title": "Gemeentelijk vastgoed",
        "fields": {
            "id": ["prgSubobjectid", "vheId"],
            "name": ["vheNaam", "weergavenaam"],
            "area_m2": ["vvo"],
            "uses": ["vheSoort", "feitelijkGebruik"],
            "kind": ["vheSoort"],
            "address": ["adres"],
            "street": ["straatnaam"],
            "house_number": ["huisnummer"],
            "house_letter": ["huisletter"],
            "house_addition": ["huisnummertoevoeging"],
            "postcode": ["postcode"],
            "contracts": ["contractNummers", "contractIds"],
            "bag_ids": ["bagVerblijfsobjectIds", "bagVerblijfsobjectId"],
        },
        "optional": [
            "name",
            "address",
            "street",
            "house_number",
            "house_letter",
            "house_addition",
            "postcode",
            "contracts",
            "bag_ids",
        ],
        "values": {"uses": _VASTGOED_USES},
        "defaults": {"department": "Gemeentelijk vastgoed"},
        "skip_kinds": _VASTGOED_SKIP,
        "unknown_uses": "import",
    },
    "amsterdam-grex": {
        "title": "Grondexploitatieprojecten",
        "fields": {
            "id": ["id"],
            "name": ["plannaam"],
            "area_m2": ["oppervlakte"],
            "available_until": ["startdatum"],
            "kind": ["planstatus"],
        },
        "optional": ["name", "area_m2", "available_until", "kind"],
        "defaults": {"uses": "grond", "department": "Grondexploitatie"},
        # Meanwhile use ends when a future plan (T, toekomstig) starts; a current plan (A) is
        # under way and its end of meanwhile use is not in the data.
        "until_when": {"column": "planstatus", "values": ["T", "Toekomstig"]},
    },
}
