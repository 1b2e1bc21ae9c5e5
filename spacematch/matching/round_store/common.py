"""The round store's shared parts: its limits, its error, text checks and the change hook.
Flask-free."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from spacematch.domain.need_parsers import CONTROL_CHARACTERS
from spacematch.models import (
    StatusEvent,
)

MAX_ROUND_SPACES = 20_000
FALLBACK_INTERESTS = 10  # without stated interests: a need's best fits among the round's spaces
ACTIVE = ("offered", "accepted")


# Called in the transaction of every workflow step a round makes (the web side writes the
# status mails there).
OnChange = Callable[[Session, StatusEvent], object] | None


def _text(value: Any, field: str, *, limit: int = 2000) -> str:
    """A reason or id as given, refused when it cannot be stored (control characters, NUL)."""
    if not isinstance(value, str):
        raise RoundError({field: "must be text"})
    if CONTROL_CHARACTERS.search(value) or len(value) > limit:
        raise RoundError({field: f"at most {limit} characters, no control characters"})
    return value.strip()


class RoundError(ValueError):
    """A request about a round that cannot be done: ``errors`` per field, an HTTP-like status."""

    def __init__(self, errors: dict[str, str], status: int = 400) -> None:
        super().__init__(errors)
        self.errors, self.status = errors, status
