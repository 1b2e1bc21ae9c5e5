"""The templates' formatting helpers, in the request's language: every page formats numbers,
money, areas and dates with ``spacematch.formatting`` (as the maps, reasons and mails do), so a
need page and an officer page show the same number the same way."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_request_context
from flask_babel import get_locale

from spacematch import formatting
from spacematch.web.labels import AREA_LEVEL_LABELS, ROLE_LABELS
from spacematch.web.locale import language


def template_helpers() -> dict[str, Any]:
    """``num(v, decimals=2)``, ``dec(v, max_decimals=1)``, ``money(v, decimals=0)``, ``sqm(v)``,
    ``metres(v)``, ``percent(v, decimals=0)``, ``day(d)``, ``moment(t)``, and the role and
    area-level labels (a context processor). The language is Flask-Babel's: the request's, or
    the one a mail is rendered in (``force_locale``, also outside a request, as in ``notify``)."""
    locale = get_locale()
    lang = (
        locale.language if locale is not None else (language() if has_request_context() else "nl")
    )
    return {
        "num": lambda value, decimals=2: formatting.number(float(value), lang, decimals),
        "money": lambda value, decimals=0: formatting.euros(float(value), lang, decimals),
        "dec": lambda value, decimals=1: formatting.decimal(float(value), lang, decimals),
        "sqm": lambda value: formatting.area(float(value), lang),
        "metres": lambda value: formatting.distance(float(value), lang),
        "percent": lambda value, decimals=0: formatting.percent(float(value), lang, decimals),
        "day": lambda value: _day(value, lang),
        "moment": lambda value: _moment(value, lang),
        "role_labels": ROLE_LABELS,
        "level_labels": {level: str(label) for level, label in AREA_LEVEL_LABELS.items()},
    }


def _day(value: dt.date | str | None, lang: str) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return formatting.date(value, lang)


def _moment(value: dt.datetime | str | None, lang: str) -> str:
    """A moment to the minute; public round records carry ISO strings."""
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return formatting.datetime(value, lang)
