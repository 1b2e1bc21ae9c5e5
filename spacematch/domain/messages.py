"""Validation messages in Dutch and English, for the Flask-free core.

The core cannot use Flask-Babel (it must run without an app), so its user-facing messages are
codes with parameters, rendered here in the caller's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CATALOGUE: dict[str, dict[str, str]] = {
    "required": {"nl": "Dit veld is verplicht.", "en": "This field is required."},
    "too_long": {"nl": "Maximaal {max} tekens.", "en": "At most {max} characters."},
    "choice": {"nl": "Kies een van: {choices}.", "en": "Choose one of: {choices}."},
    "number": {"nl": "Vul een getal in.", "en": "Enter a number."},
    "integer": {"nl": "Vul een heel getal in.", "en": "Enter a whole number."},
    "positive": {"nl": "Moet groter dan 0 zijn.", "en": "Must be greater than 0."},
    "not_negative": {"nl": "Mag niet negatief zijn.", "en": "Must not be negative."},
    "range": {"nl": "Moet tussen {min} en {max} liggen.", "en": "Must be between {min} and {max}."},
    "min_above_max": {
        "nl": "Het minimum is groter dan het maximum.",
        "en": "The minimum is larger than the maximum.",
    },
    "email": {"nl": "Geen geldig e-mailadres.", "en": "Not a valid e-mail address."},
    "date": {"nl": "Geen geldige datum (JJJJ-MM-DD).", "en": "Not a valid date (YYYY-MM-DD)."},
    "past_date": {"nl": "Deze datum ligt in het verleden.", "en": "This date is in the past."},
    "no_use": {"nl": "Kies minstens één gebruik.", "en": "Choose at least one use."},
    "unknown_use": {"nl": "Onbekend gebruik: {values}.", "en": "Unknown use: {values}."},
    "unknown_area": {"nl": "Onbekend gebied: {values}.", "en": "Unknown area: {values}."},
    "no_place": {
        "nl": "Kies minstens één gebied of een punt op de kaart.",
        "en": "Choose at least one area or a point on the map.",
    },
    "point": {
        "nl": "Een punt is [lengtegraad, breedtegraad] in WGS84.",
        "en": "A point is [longitude, latitude] in WGS84.",
    },
    "outside": {
        "nl": "Dit punt ligt buiten Amsterdam.",
        "en": "This point lies outside Amsterdam.",
    },
    "boolean": {"nl": "Kies ja of nee.", "en": "Choose yes or no."},
    "list": {"nl": "Geef een lijst.", "en": "Give a list."},
    "object": {"nl": "Stuur een JSON-object.", "en": "Send a JSON object."},
    "need_not_open": {
        "nl": "Kies een initiatief met een open ruimtevraag.",
        "en": "Choose an initiative whose need is still open.",
    },
    "unknown_field": {"nl": "Onbekend veld.", "en": "Unknown field."},
    "characters": {
        "nl": "Bevat tekens die niet zijn toegestaan (stuurtekens).",
        "en": "Contains characters that are not allowed (control characters).",
    },
}


@dataclass(frozen=True)
class Message:
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "nl") -> str:
        templates = CATALOGUE[self.code]
        return templates.get(lang, templates["nl"]).format(**self.params)


class ValidationError(Exception):
    """Every problem with one input, keyed by field (OSMnx-style: collect, then raise once)."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("; ".join(f"{k}: {v.text('en')}" for k, v in errors.items()))
        self.errors = errors

    def texts(self, lang: str = "nl") -> dict[str, str]:
        return {name: message.text(lang) for name, message in self.errors.items()}
