"""Matching: R-tree candidates, explained scores, ranking both ways and allocation. Flask-free."""

from __future__ import annotations

from .cache import IndexCache
from .criteria import CRITERIA, DEFAULT_WEIGHTS, normalise_weights
from .engine import (
    MAX_LIMIT,
    Match,
    Pair,
    propose_allocation,
    rank_needs,
    rank_properties,
    rematch_all,
    summary,
)
from .index import MatchIndex, PropertyArrays
from .need import NeedQuery
from .reasons import Criterion, Reason
from .report import format_summary

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "MAX_LIMIT",
    "Criterion",
    "IndexCache",
    "Match",
    "MatchIndex",
    "NeedQuery",
    "Pair",
    "PropertyArrays",
    "Reason",
    "format_summary",
    "normalise_weights",
    "propose_allocation",
    "rank_needs",
    "rank_properties",
    "rematch_all",
    "summary",
]
