"""Matching: R-tree candidates, explained scores, ranking both ways and allocation. Flask-free."""

from __future__ import annotations

from spacematch.matching.batch import Ranking, batch_rank, rank_new_properties
from spacematch.matching.cache import IndexCache
from spacematch.matching.criteria import CRITERIA, DEFAULT_WEIGHTS, normalise_weights
from spacematch.matching.engine import (
    MAX_LIMIT,
    Match,
    Pair,
    propose_allocation,
    rank_needs,
    rank_properties,
    rematch_all,
    rematch_each,
    score_pair_batch,
    score_pairs,
    summary,
)
from spacematch.matching.index import MatchIndex, PropertyArrays
from spacematch.matching.need import NeedQuery
from spacematch.matching.reasons import Criterion, Reason
from spacematch.matching.report import format_summary

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
