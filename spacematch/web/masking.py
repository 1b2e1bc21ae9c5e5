"""Need tokens masked in text bound for a log (``/needs/***``, ``token=***``). Flask-free.

Used by gunicorn's access log (``spacematch.web.access_log``) and by the app's own log (a crash on
a need's private page logs its path).
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# /needs/<token>[/edit|/withdraw]: a token is 20+ URL-safe characters (ours are 43); "new" and
# other short words are kept. Percent-encoded forms are masked too.
_PATH_TOKEN = re.compile(r"((?:/|%2F)needs(?:/|%2F))[A-Za-z0-9_\-]{20,}", re.IGNORECASE)
# token=... in a query string (also percent-encoded as the value of a ?next= or a referrer).
_QUERY_TOKEN = re.compile(r"((?:^|[?&;\s]|%26|%3F)token(?:=|%3D))[^&;#\s\"]*", re.IGNORECASE)


def mask_tokens(text: str | None) -> str | None:
    """``text`` with every need token replaced by ``***``."""
    if not text:
        return text
    return _QUERY_TOKEN.sub(r"\1" + MASK, _PATH_TOKEN.sub(r"\1" + MASK, text))


class MaskTokensFilter(logging.Filter):
    """A logging filter that masks need tokens in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
