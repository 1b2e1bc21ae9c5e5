"""Errors that carry their HTTP status (as pygeoapi does), so the core can refuse input without
knowing about Flask and the views turn them into responses in one place.

A problem is plain text or a message that renders itself in a language (``text(lang)``, e.g.
``spacematch.domain.messages.Message``): the views answer in the request's language
(``texts(lang)``); ``errors`` is the English text, for the CLI, logs and pages that show it raw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Text(Protocol):
    def text(self, lang: str = "nl") -> str: ...


class ApiError(Exception):
    status = 400

    def __init__(self, errors: Mapping[str, str | Text], *, status: int | None = None) -> None:
        self.messages: dict[str, str | Text] = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))
        if status is not None:
            self.status = status

    @property
    def errors(self) -> dict[str, str]:
        """Every problem in English, keyed by field or parameter."""
        return self.texts("en")

    def texts(self, lang: str) -> dict[str, str]:
        """Every problem in ``lang`` (plain texts as they are)."""
        return {k: v if isinstance(v, str) else v.text(lang) for k, v in self.messages.items()}


class NotFound(ApiError):
    status = 404
