"""Allocation rounds in the store: open (policy + seed commitment), draw (deferred acceptance,
awards, workflow), accept, refuse (the next on the waiting list), override (with a published
reason), and the public record anyone can recompute. Flask-free. One module each: ``opening``,
``draw``, ``offers``, ``record`` (and ``common``: limits, the error, the change hook); every
name is importable from here.

Two officers drawing the same round at once: the draw starts with
``UPDATE allocation_round SET status='drawn' WHERE id=? AND status='open'``; the database lets
exactly one of them change the row (a row lock on PostgreSQL, the write lock on SQLite), the
other sees no row changed and gets a conflict. Whatever else goes wrong, the unique constraint
on ``round_award(held_property_id, seat)`` refuses a second holder of any seat of any space.
"""

from __future__ import annotations

from spacematch.matching.round_store.common import (
    ACTIVE,
    FALLBACK_INTERESTS,
    MAX_ROUND_SPACES,
    OnChange,
    RoundError,
)
from spacematch.matching.round_store.draw import (
    Drawn,
    draw_round,
)
from spacematch.matching.round_store.offers import (
    accept,
    override,
    refuse,
)
from spacematch.matching.round_store.opening import (
    open_round,
    policy_of,
    preferences,
    set_capacity,
)
from spacematch.matching.round_store.record import (
    decided_rounds,
    holders_history,
    public_round,
    verify_stored,
)
from spacematch.matching.rounds import applications_from_public

__all__ = [
    "ACTIVE",
    "FALLBACK_INTERESTS",
    "MAX_ROUND_SPACES",
    "Drawn",
    "OnChange",
    "RoundError",
    "accept",
    "applications_from_public",
    "decided_rounds",
    "draw_round",
    "holders_history",
    "open_round",
    "override",
    "policy_of",
    "preferences",
    "public_round",
    "refuse",
    "set_capacity",
    "verify_stored",
]
