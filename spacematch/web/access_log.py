"""Need tokens out of the access log: gunicorn's logger with every token masked.

A need's token is its only key (``/needs/<token>``, ``?token=`` on the matches API: the design's
public contract), and an access log keeps URLs for months, readable by whoever runs the server.
So the production set-up logs through ``TokenMaskingLogger``::

    gunicorn --logger-class spacematch.web.access_log.TokenMaskingLogger --access-logfile - ...

(``gunicorn.conf.py`` in the repository root sets it, and gunicorn reads that file when started
from there). Every atom of the access-log format that can carry a URL -- the request line
``%(r)s``, path ``%(U)s``, query ``%(q)s``, referrer ``%(f)s`` and every request/response header
or environ atom -- shows ``/needs/***`` and ``token=***`` instead, and the ``Authorization`` and
``X-Need-Token`` headers as ``***``. A reverse proxy in front keeps its own log: mask it there too
(SECURITY.md has an nginx example). Flask-free; gunicorn is imported only by gunicorn itself.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from spacematch.web.masking import MASK, mask_tokens

_SECRET_HEADERS = ("{authorization}i", "{x-need-token}i", "{cookie}i", "{set-cookie}o")


class TokenMaskingLogger(Logger):
    """gunicorn's logger whose access-log atoms carry no need token (nor session cookie)."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = mask_tokens(value)
        for key in _SECRET_HEADERS:
            if atoms.get(key):
                atoms[key] = MASK
        return atoms
