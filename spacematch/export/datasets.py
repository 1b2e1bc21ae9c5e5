"""Each export dataset built as a ``Table``: properties and needs from the store, matches and
area figures from the matching engine."""

from __future__ import annotations

from typing import Unpack

from spacematch.db import Store
from spacematch.domain.areas import AreaIndex
from spacematch.export import figures
from spacematch.export.public import needs_table
from spacematch.export.tables import (
    ExportQuery,
    MatchOptions,
    Table,
    properties_table,
)


def build_table(
    store: Store, query: ExportQuery, *, areas: AreaIndex, **matching: Unpack[MatchOptions]
) -> Table:
    """The dataset as a Table; ``matching`` goes to the datasets built on matches (the app passes
    its cached index and the officers' weights, see ``figures.MatchOptions``)."""
    if query.dataset in ("matches", "areas"):
        build = figures.matches_table if query.dataset == "matches" else figures.areas_table
        return build(store, query, areas=areas, **matching)
    with store.sessions() as session:
        if query.dataset == "properties":
            return properties_table(session, query, areas=areas)
        return needs_table(session, query, areas=areas)
