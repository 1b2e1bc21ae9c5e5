"""The matching index: R-trees plus numpy columns, built once per data version.

Properties: one numpy array per attribute the criteria read, in id order (an array position is
also the id tie-break rank), and R-trees over the bounds (RD New) of every *available* property,
one tree per use class. Each tree has three attribute axes besides x and y (available_from, area,
monthly rent), so one window query applies the need's search window and its date, size and price
limits at once. Open needs: an R-tree over each need's search window (its preferred areas'
bounds with their adjacent buurten, grown by a tolerance, and the point's reach) and the needs'
attributes as arrays, for the reverse direction (a property's candidate needs).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from spacematch.domain.areas import AreaIndex
from spacematch.matching import criteria as crit
from spacematch.matching.need import NeedQuery
from spacematch.matching.places import AreaLookup, PlacePlan, lookup_for, stack_rects
from spacematch.matching.rtree import RTree, unique_positions
from spacematch.matching.stored import (
    EPOCH_ORDINAL,
    PropertyArrays,
    open_needs,
    stored_properties,
    to_days,
    versions,
)

if TYPE_CHECKING:
    import numpy as np


STATUS_AVAILABLE = "beschikbaar"


def _float(values: Any) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(np.asarray(values, dtype=float))


def _day_numbers(values: Any, *, missing: int) -> np.ndarray:
    import numpy as np

    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return to_days(values, missing=missing)


def _uses_array(values: Any) -> np.ndarray:
    import numpy as np

    arr = values if isinstance(values, np.ndarray) else None
    if arr is not None and arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    cache: dict[str, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, text in enumerate(values):
        mask = cache.get(text)
        if mask is None:
            mask = cache[text] = crit.uses_mask(text or "")
        out[i] = mask
    return out


class MatchIndex:
    """Everything matching reads, in memory. Immutable once built; safe to share across threads."""

    def __init__(
        self,
        areas: AreaIndex,
        props: PropertyArrays,
        needs: Sequence[NeedQuery],
        *,
        data_version: int = 0,
        property_version: int = 0,
    ) -> None:
        self.areas = areas
        self.data_version = data_version
        self.property_version = property_version
        self.lookup: AreaLookup = lookup_for(areas)
        self._build_properties(props)
        self._build_needs(list(needs))

    # -- construction -------------------------------------------------------------------------

    def _build_properties(self, p: PropertyArrays) -> None:
        import numpy as np

        ids = np.asarray(p.ids, dtype=object)
        order = np.argsort(ids.astype(str), kind="stable")
        self.ids = ids[order]
        self.n = len(self.ids)
        self.position = {pid: i for i, pid in enumerate(self.ids)}
        if len(self.position) != self.n:
            raise ValueError("property ids must be unique")
        self.x, self.y = _float(p.x)[order], _float(p.y)[order]
        self.bounds = np.column_stack(
            [_float(p.minx), _float(p.miny), _float(p.maxx), _float(p.maxy)]
        )[order]
        self.area = _float(p.area_m2)[order]
        self.rent_m2_year = _float(p.rent_eur_m2_year)[order]
        self.rent = crit.monthly_rent(self.rent_m2_year, self.area)
        self.uses = _uses_array(p.uses)[order]
        self.avail_from = _day_numbers(p.available_from, missing=0)[order]
        self.avail_until = _day_numbers(p.available_until, missing=int(crit.PERMANENT))[order]
        self.avail_until[self.avail_until >= crit.PERMANENT] = crit.PERMANENT
        self.accessible = np.asarray(p.accessible, dtype=bool)[order]
        self.status = np.asarray(p.status, dtype=object)[order]
        self.available = self.status == STATUS_AVAILABLE
        nb = self.lookup.n_buurten  # position nb = "no known buurt": never preferred nor adjacent
        self.buurt = np.array(
            [
                self.lookup.buurt_pos.get(b, nb)
                for b in np.asarray(p.buurt_code, dtype=object)[order]
            ],
            dtype=np.int64,
        )
        self.buurt_codes = np.append(
            np.asarray(self.areas.buurt_codes, dtype=object), np.array([None], dtype=object)
        )
        # Kept "buiten Amsterdam" by the layer import (buurt ""): matched only by distance to a
        # need's point, never by an area (not even near it) nor by a need that names no place.
        self.outside = np.asarray(p.buurt_code, dtype=object)[order] == ""
        self.available_positions = np.flatnonzero(self.available)
        # One R-tree per use class: a need queries only the trees of its own uses. Besides the
        # bounds (x, y) each tree has three attribute axes - available_from, area, monthly rent -
        # so the window also cuts the availability, size and price limits and the numpy filters
        # see about a quarter of the candidates a 2D window gives (for the same search time).
        self.use_trees: list[RTree] = []
        for bit in crit.USE_BITS.values():
            at = self.available_positions[(self.uses[self.available_positions] & bit) != 0]
            attrs = np.column_stack([self.avail_from[at], self.area[at], self.rent[at]])
            self.use_trees.append(
                RTree(
                    at,
                    np.hstack([self.bounds[at, :2], attrs]),
                    np.hstack([self.bounds[at, 2:], attrs]),
                )
            )

    def _build_needs(self, needs: list[NeedQuery]) -> None:
        import numpy as np

        needs = sorted(
            (n for n in needs if n.status == "open"), key=lambda n: (n.id is None, n.id or 0)
        )
        self.needs = needs
        m, nb = len(needs), self.lookup.n_buurten
        self.need_position = {n.id: i for i, n in enumerate(needs) if n.id is not None}
        self.need_ids = np.array([n.id if n.id is not None else -1 for n in needs], dtype=np.int64)
        self.plans: list[PlacePlan] = []
        self.need_preferred = np.zeros((m, nb + 1), dtype=bool)
        self.need_adjacent = np.zeros((m, nb + 1), dtype=bool)
        self.need_code = np.zeros((m, nb + 1), dtype=np.int8)
        rect_ids: list[int] = []
        rects: list[np.ndarray] = []
        for i, need in enumerate(needs):
            plan = self.plan(need, cached=False)
            self.need_preferred[i, :] = plan.preferred
            self.need_adjacent[i, :] = plan.adjacent
            self.need_code[i, :] = plan.code
            plan.preferred, plan.adjacent = self.need_preferred[i], self.need_adjacent[i]
            plan.code = self.need_code[i]
            self.plans.append(plan)
            window = plan.rects if not plan.anywhere else np.array([[-1e12, -1e12, 1e12, 1e12]])
            rects.append(window)
            rect_ids.extend([i] * len(window))

        def column(get: Any, dtype: Any) -> np.ndarray:
            import numpy as np

            return np.array([get(n) for n in needs], dtype=dtype)

        self.n_min = column(lambda n: n.min_area_m2, float)
        self.n_max = column(lambda n: n.max_area_m2, float)
        self.n_budget = column(lambda n: n.max_rent_eur_month, float)
        self.n_uses = column(lambda n: crit.uses_mask(n.uses), np.int64)
        self.n_from = to_days([n.needed_from for n in needs], missing=0)
        self.n_months = column(lambda n: n.min_months, np.int64)
        self.n_accessible = column(lambda n: n.accessible, bool)
        self.n_community = column(lambda n: n.is_community, bool)
        self.n_has_point = np.array([p.has_point for p in self.plans], dtype=bool)
        self.n_px = np.array([p.px for p in self.plans], dtype=float)
        self.n_py = np.array([p.py for p in self.plans], dtype=float)
        self.n_dmax = np.array([p.max_distance_m for p in self.plans], dtype=float)
        self.n_tolerance = np.array([p.tolerance for p in self.plans], dtype=object)
        self.n_anywhere = np.array([p.anywhere for p in self.plans], dtype=bool)
        self.n_rects, self.n_width = stack_rects(self.plans)
        all_rects = np.concatenate(rects) if rects else np.empty((0, 4))
        self.need_tree = RTree(
            np.array(rect_ids, dtype=np.int64), all_rects[:, :2], all_rects[:, 2:]
        )

    @classmethod
    def from_arrays(
        cls,
        props: PropertyArrays,
        needs: Sequence[NeedQuery],
        areas: AreaIndex,
        *,
        data_version: int = 0,
    ) -> MatchIndex:
        """From in-memory columns (benchmark, tests): no database involved."""
        return cls(areas, props, needs, data_version=data_version)

    @classmethod
    def from_store(cls, store: Any, areas: AreaIndex) -> MatchIndex:
        """Read only the needed columns with one SELECT each for properties and needs, in one
        transaction.

        The data versions are read first: if a write lands during the read the index may be
        newer than its versions say, and is merely rebuilt once more; never older.
        The properties come straight from the driver's cursor into arrays (see
        :func:`stored.stored_properties`): at a million spaces SQLAlchemy's rows cost more than the
        rest of the build.
        """
        with store.sessions() as session, session.begin():
            version, property_version = versions(session)
            props = stored_properties(session)
            needs = open_needs(session)
        return cls(
            areas,
            props,
            needs,
            data_version=version,
            property_version=property_version,
        )

    def with_needs_from(self, store: Any) -> MatchIndex:
        """A new index with the store's current open needs and this index's properties (shared:
        they are never modified), for when only needs changed. Rebuilds everything instead when
        the properties changed too."""
        with store.sessions() as session, session.begin():
            version, property_version = versions(session)
            if property_version != self.property_version:
                return MatchIndex.from_store(store, self.areas)
            needs = open_needs(session)
        index = copy.copy(self)  # _build_needs replaces every need attribute, shares the rest
        index.data_version = version
        index._build_needs(needs)
        return index

    # -- lookups ------------------------------------------------------------------------------

    def plan(self, need: NeedQuery, *, cached: bool = True) -> PlacePlan:
        """The need's place plan; reuses the one built for a stored open need when unchanged."""
        if cached and need.id is not None:
            pos = self.need_position.get(need.id)
            if pos is not None and self.needs[pos] == need:
                return self.plans[pos]
        return self.lookup.plan(need.areas, need.x, need.y, need.max_distance_m)

    def property_candidates(self, plan: PlacePlan, need: NeedQuery) -> np.ndarray:
        """Positions of available properties sharing a use with the need, inside its search
        window and its date, size and price limits (exactly: no further check of these is
        needed): each once, in no particular order."""
        import numpy as np

        uses = crit.uses_mask(need.uses)
        nf = float(need.needed_from.toordinal() - EPOCH_ORDINAL)
        # Inclusive ranges on the very float values the rules compare: exact, so not padded.
        lo = np.array([-np.inf, 0.5 * need.min_area_m2, -np.inf])
        hi = np.array(
            [nf + crit.AVAILABLE_WITHIN_DAYS, 2.0 * need.max_area_m2, 1.5 * need.max_rent_eur_month]
        )
        if plan.anywhere:  # no window: the same limits over every available property
            at = self.available_positions
            ok = (self.uses[at] & uses) != 0
            for column, low, high in zip(
                (self.avail_from, self.area, self.rent), lo, hi, strict=True
            ):
                ok &= (column[at] >= low) & (column[at] <= high)
            hits: np.ndarray = at[ok]
            return hits
        k = len(plan.rects)
        lows = np.hstack([plan.rects[:, :2], np.broadcast_to(lo, (k, 3))])
        highs = np.hstack([plan.rects[:, 2:], np.broadcast_to(hi, (k, 3))])
        parts: list[np.ndarray] = []
        seen = 0
        for bit, tree in zip(crit.USE_BITS.values(), self.use_trees, strict=True):
            if uses & bit:
                found = tree.query(lows, highs)
                if seen:  # already found through an earlier use's tree
                    found = found[(self.uses[found] & seen) == 0]
                parts.append(found)
                seen |= bit
        found = (
            parts[0]
            if len(parts) == 1
            else np.concatenate(parts)
            if parts
            else np.empty(0, np.int64)
        )
        return unique_positions(found, self.n) if k > 1 else found

    def need_candidates(self, pos: int) -> np.ndarray:
        """Positions of open needs whose search window holds this property's bounds."""
        import numpy as np

        return np.unique(self.need_tree.query(self.bounds[pos, :2], self.bounds[pos, 2:]))

    @cached_property
    def points(self) -> np.ndarray:
        """Shapely points of the properties, for distances to tolerance areas (built on demand)."""
        import shapely

        points: np.ndarray = shapely.points(self.x, self.y)
        return points

    def buurt_code_at(self, pos: int) -> str | None:
        code: str | None = self.buurt_codes[self.buurt[pos]]
        return code
