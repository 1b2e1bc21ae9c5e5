"""Display labels of the domain's codes (legal forms, sectors, uses, statuses, fields), in the
Babel catalogue: one place for every page, map and form that shows a code to a person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# A property's fields as labelled in the popups of the maps that show properties.
PROPERTY_FIELD_LABELS = {
    "address": _l("Adres"),
    "area_m2": "m²",
    "rent_eur_month": _l("Huur €/maand"),
    "uses": _l("Gebruik"),
    "available_from": _l("Beschikbaar vanaf"),
    "available_until": _l("Tijdelijk tot"),
    "buurt_name": _l("Buurt"),
}

LEGAL_FORM_LABELS = {
    "cooperatie": _l("Coöperatie"),
    "stichting": _l("Stichting"),
    "vereniging": _l("Vereniging"),
    "sociale_onderneming": _l("Sociale onderneming"),
    "mkb": _l("Mkb-bedrijf"),
    "informeel": _l("Informeel collectief"),
}

SECTOR_LABELS = {
    "voedsel": _l("Voedsel"),
    "energie": _l("Energie"),
    "zorg": _l("Zorg en welzijn"),
    "wonen": _l("Wonen"),
    "cultuur": _l("Cultuur"),
    "maken": _l("Maken en ambacht"),
    "sport": _l("Sport"),
    "onderwijs": _l("Onderwijs"),
    "overig": _l("Overig"),
}

NEED_STATUS_LABELS = {
    "open": _l("open"),
    "gehuisvest": _l("gehuisvest"),
    "ingetrokken": _l("ingetrokken"),
}

USE_LABELS = {
    "kantoor": _l("Kantoor"),
    "atelier": _l("Atelier"),
    "werkplaats": _l("Werkplaats"),
    "winkel": _l("Winkel"),
    "horeca": _l("Horeca"),
    "maatschappelijk": _l("Maatschappelijk"),
    "opslag": _l("Opslag"),
    "grond": _l("Grond (kavel)"),
}

STATUS_LABELS = {
    "beschikbaar": _l("beschikbaar"),
    "in_optie": _l("in optie"),
    "toegewezen": _l("toegewezen"),
    "ingetrokken": _l("ingetrokken"),
    "verhuurd": _l("verhuurd"),
}

CRITERION_LABELS = {"size": _l("Grootte"), "price": _l("Prijs"), "place": _l("Plek")}

MAP_LABELS = {
    "properties": _l("Panden (dit filter)"),
    "property": _l("Dit pand"),
    "candidates": _l("Kandidaat-initiatieven"),
    **PROPERTY_FIELD_LABELS,
    "status": _l("Status"),
    "score_text": _l("Score"),
    "priority_text": _l("Voorrang"),
    "legal_form": _l("Rechtsvorm"),
    "reasons": _l("Waarom"),
    "legend": _l("Legenda"),
    "score_high": _l("kandidaat, hoge score (beste passing)"),
    "score_mid": _l("kandidaat, middelmatige score"),
    "score_low": _l("kandidaat, lage score"),
}

ROLE_LABELS = {
    "officer": _l("medewerker vastgoed"),
    "planner": _l("planner"),
    "admin": _l("beheerder"),
}

# Area levels as the area picker names them (English keeps Amsterdam's own terms).
AREA_LEVEL_LABELS = {
    "stadsdeel": _l("stadsdeel"),
    "gebied": _l("gebied"),
    "wijk": _l("wijk"),
    "buurt": _l("buurt"),
}
