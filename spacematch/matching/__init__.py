"""Matching: R-tree candidates, explained scores, ranking both ways and allocation. Flask-free."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The names below are loaded from their modules on first use (PEP 562), so that importing one
# light module of the package (the need query, the reasons, the round store) does not load numpy
# and shapely through the engine: a CLI command that needs no matching starts faster.
if TYPE_CHECKING:
    from spacematch.matching.allocation import propose_allocation, score_pair_batch, score_pairs
    from spacematch.matching.batch import Ranking, batch_rank, rank_new_properties
    from spacematch.matching.cache import IndexCache
    from spacematch.matching.criteria import CRITERIA, DEFAULT_WEIGHTS, normalise_weights
    from spacematch.matching.engine import (
        MAX_LIMIT,
        Match,
        rank_needs,
        rank_properties,
        rematch_all,
        rematch_each,
        summary,
    )
    from spacematch.matching.index import MatchIndex
    from spacematch.matching.match import Pair
    from spacematch.matching.need import NeedQuery
    from spacematch.matching.reasons import Criterion, Reason
    from spacematch.matching.report import format_summary
    from spacematch.matching.stored import PropertyArrays

_WHERE = {
    "CRITERIA": "spacematch.matching.criteria",
    "Criterion": "spacematch.matching.reasons",
    "DEFAULT_WEIGHTS": "spacematch.matching.criteria",
    "IndexCache": "spacematch.matching.cache",
    "MAX_LIMIT": "spacematch.matching.engine",
    "Match": "spacematch.matching.engine",
    "MatchIndex": "spacematch.matching.index",
    "NeedQuery": "spacematch.matching.need",
    "Pair": "spacematch.matching.match",
    "PropertyArrays": "spacematch.matching.stored",
    "Ranking": "spacematch.matching.batch",
    "Reason": "spacematch.matching.reasons",
    "batch_rank": "spacematch.matching.batch",
    "format_summary": "spacematch.matching.report",
    "normalise_weights": "spacematch.matching.criteria",
    "propose_allocation": "spacematch.matching.allocation",
    "rank_needs": "spacematch.matching.engine",
    "rank_new_properties": "spacematch.matching.batch",
    "rank_properties": "spacematch.matching.engine",
    "rematch_all": "spacematch.matching.engine",
    "rematch_each": "spacematch.matching.engine",
    "score_pair_batch": "spacematch.matching.allocation",
    "score_pairs": "spacematch.matching.allocation",
    "summary": "spacematch.matching.engine",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "Ranking",
    "Reason",
    "batch_rank",
    "format_summary",
    "normalise_weights",
    "propose_allocation",
    "rank_needs",
    "rank_new_properties",
    "rank_properties",
    "rematch_all",
    "rematch_each",
    "score_pair_batch",
    "score_pairs",
    "summary",
]
