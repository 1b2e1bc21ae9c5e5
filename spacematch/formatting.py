"""Numbers, money, areas, distances and dates for people, with Babel, in the page's language.

One module for every page, map, reason and mail, so a need page and an officer page show the
same number the same way ("1,00" and "€ 1.500" in Dutch, "1.00" and "€1,500" in English).
Values are rounded with Python's ``round`` before Babel formats them, so a text agrees with
comparisons made with ``round`` (the match reasons rely on that). Flask-free.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import NumberPattern, parse_pattern

from spacematch.i18n import known

NBSP = "\xa0"


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(known(lang))


def _plain(text: str) -> str:
    """CLDR puts a no-break space between "€" and the amount in Dutch; the texts (and the API's
    reasons, which clients compare) use a plain one."""
    return text.replace(NBSP, " ")


@cache
def _pattern(pattern: str) -> NumberPattern:
    """A parsed number pattern (Babel parses its argument anew on every call)."""
    return parse_pattern(pattern)


def _apply(pattern: str, value: float, lang: str) -> str:
    return _plain(_pattern(pattern).apply(value, _locale(lang)))


@cache
def _symbols(lang: str) -> dict[int, str]:
    """The locale's group and decimal signs, as a ``str.translate`` table from Python's."""
    symbols = _locale(lang).number_symbols["latn"]
    return str.maketrans({",": symbols["group"], ".": symbols["decimal"]})


def number(value: float, lang: str, decimals: int = 0) -> str:
    """1234.5 -> "1.234,5" (nl) or "1,234.5" (en), with exactly ``decimals`` decimals.

    The signs are the locale's (CLDR, through Babel); the digits are Python's, grouped by
    three as both locales' "#,##0" pattern does: Babel's own formatter costs some 20 µs a call,
    and a ranking page formats thousands of numbers."""
    rounded = round(float(value), decimals) + 0.0  # + 0.0: no "-0"
    return f"{rounded:,.{decimals}f}".translate(_symbols(known(lang)))


def decimal(value: float, lang: str, max_decimals: int = 2) -> str:
    """As many decimals as the value has, up to ``max_decimals`` (120 -> "120", 12.5 -> "12,5")."""
    text = f"{round(float(value), max_decimals) + 0.0:,.{max_decimals}f}"
    if max_decimals:
        text = text.rstrip("0").rstrip(".")
    return text.translate(_symbols(known(lang)))


@cache
def _money(lang: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The locale's text before and after an amount in euros, (positive, negative)."""
    pattern = _locale(lang).currency_formats["standard"]
    euro = _locale(lang).currency_symbols.get("EUR", "€")
    prefix = tuple(_plain(p.replace("¤", euro)) for p in pattern.prefix)
    suffix = tuple(_plain(p.replace("¤", euro)) for p in pattern.suffix)
    return (prefix[0], prefix[1]), (suffix[0], suffix[1])


def euros(value: float, lang: str, decimals: int = 0) -> str:
    """1500 -> "€ 1.500" (nl) or "€1,500" (en); the sign where the locale puts it."""
    amount = round(float(value), decimals) + 0.0
    (before, before_negative), (after, after_negative) = _money(known(lang))
    if amount < 0:
        return f"{before_negative}{number(-amount, lang, decimals)}{after_negative}"
    return f"{before}{number(amount, lang, decimals)}{after}"


def area(value: float, lang: str) -> str:
    """An area in m², up to one decimal: "1.250 m²", "12,5 m²"."""
    return f"{decimal(value, lang, 1)} m²"


def distance(metres: float, lang: str) -> str:
    """Under 1 km in tens of metres, else km with at most one decimal ("1,2 km", "3 km")."""
    if metres < 995:
        return f"{number(round(metres, -1) if metres >= 10 else round(metres), lang)} m"
    return f"{decimal(metres / 1000, lang, 1)} km"


def score(value: float, lang: str) -> str:
    """A score or priority in [0, 1] with two decimals: "0,85" / "0.85"."""
    return number(value, lang, 2)


def percent(value: float, lang: str, decimals: int = 0) -> str:
    """0.123 -> "12%" (``decimals`` after the point)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return _apply(pattern, value, lang)


def date(value: dt.date, lang: str) -> str:
    """A date as people read it: "1 mrt 2027" / "Mar 1, 2027"."""
    return format_date(value, format="medium", locale=_locale(lang))


def datetime(value: dt.datetime, lang: str) -> str:
    """A moment, to the minute: "1 mrt 2027 14:05" / "Mar 1, 2027 2:05 PM"."""
    return _plain(f"{date(value, lang)} {format_time(value, format='short', locale=_locale(lang))}")
