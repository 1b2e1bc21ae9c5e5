"""The Babel catalogue for the Flask-free core: ``gettext(msgid, lang)`` in any language.

The web side translates through Flask-Babel, which reads the same compiled catalogue
(``spacematch/translations/<lang>/LC_MESSAGES/messages.mo``); the core (validation messages,
match reasons, mails) cannot import Flask, so it loads the catalogue here with Babel directly,
once per language on first use (never at import time). Msgids are Dutch: Dutch needs no
catalogue. Strings defined away from where they are shown are marked with ``N_`` so
``pybabel extract`` (scripts/i18n.sh, one of Babel's default keywords) finds them.
"""

from __future__ import annotations

from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.support import Translations

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
CATALOGUE_DIR = Path(__file__).resolve().parent / "translations"


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where it is defined; translated later, where it is shown."""
    return msgid


def known(lang: str | None) -> str:
    """``lang`` if the app speaks it, else the default (Dutch)."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (loaded once per process); Dutch is the msgids."""
    lang = known(lang)
    if lang == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(CATALOGUE_DIR), locales=[lang], domain="messages")


def gettext(msgid: str, lang: str, **params: object) -> str:
    """``msgid`` in ``lang``, with ``%(name)s`` placeholders filled from ``params``."""
    text = translations(lang).gettext(msgid)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, lang: str, **params: object) -> str:
    """The singular or plural form for ``n`` in ``lang``; ``%(num)s`` is ``n``."""
    text = translations(lang).ngettext(singular, plural, n)
    return text % {"num": n, **params}
