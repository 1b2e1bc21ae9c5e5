"""Place lookups precomputed once per area index: buurt positions, adjacency, window rectangles.

Matching asks "is this property's buurt preferred, or adjacent to a preferred buurt?" for
thousands of properties per query. Answering with boolean arrays indexed by buurt position
replaces per-property set lookups with one numpy gather.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, TypeAlias

from spacematch.domain.areas import SNAP_M, AreaIndex
from spacematch.matching.criteria import ADJACENT, EXCLUDED, PREFERRED

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import shapely


# Window rectangles are padded by this much so float rounding at an edge never drops a candidate
# (the exact checks run afterwards anyway).
PAD_M = 0.01
# The area-only parts of a plan: preferred and adjacent rows, the kind per buurt slot, the
# candidate rectangles and the tolerance geometry (None without a distance tolerance).
_AreaPart: TypeAlias = (
    "tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.int8], "
    "npt.NDArray[np.float64], shapely.Geometry | None]"
)


@dataclass
class PlacePlan:
    """One need's place rules, ready for vectorised checks."""

    preferred: np.ndarray  # bool over buurt positions, plus a False slot for "unknown"
    adjacent: np.ndarray  # likewise; excludes the preferred buurten
    code: np.ndarray  # int8 over buurt positions: criteria.PREFERRED, ADJACENT or EXCLUDED
    rects: np.ndarray  # (k, 4) minx, miny, maxx, maxy: the search window
    has_point: bool
    px: float
    py: float
    max_distance_m: float
    tolerance: shapely.Geometry | None  # preferred areas' union when max_distance_m has no point
    anywhere: bool  # no areas and no point: no place rule at all


@dataclass
class AreaLookup:
    """Buurt-position arrays and cached per-code lookups for one ``AreaIndex``."""

    areas: AreaIndex
    buurt_pos: dict[str, int] = field(init=False)
    adjacency: np.ndarray = field(init=False)  # (nb, nb) bool
    members: dict[str, np.ndarray] = field(init=False)  # code -> buurt positions
    bounds: dict[str, tuple[float, float, float, float]] = field(init=False)
    ring_bounds: dict[str, tuple[float, float, float, float]] = field(init=False)

    def __post_init__(self) -> None:
        import numpy as np

        codes = list(self.areas.buurt_codes)
        self.buurt_pos = {c: i for i, c in enumerate(codes)}
        nb = len(codes)
        self.adjacency = np.zeros((nb, nb), dtype=bool)
        groups: dict[str, list[int]] = {}
        for i, code in enumerate(codes):
            for other in self.areas.adjacent(code):
                self.adjacency[i, self.buurt_pos[other]] = True
            for parent in self.areas.lineage(code):
                groups.setdefault(parent, []).append(i)
        self.members = {c: np.array(v, dtype=np.int64) for c, v in groups.items()}
        self.bounds = {c: tuple(g.bounds) for c, g in self.areas.geoms.items()}
        self.ring_bounds = {}
        for code, idx in self.members.items():
            ring = np.flatnonzero(self.adjacency[idx].any(axis=0))
            boxes = np.array([self.bounds[codes[i]] for i in (*idx, *ring)])
            self.ring_bounds[code] = (
                boxes[:, 0].min(),
                boxes[:, 1].min(),
                boxes[:, 2].max(),
                boxes[:, 3].max(),
            )
        self._union = lru_cache(maxsize=4096)(self._union_uncached)
        self._parts: dict[tuple[tuple[str, ...], bool, float], _AreaPart] = {}
        self._code_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_buurten(self) -> int:
        return len(self.buurt_pos)

    def _union_uncached(self, codes: tuple[str, ...]) -> shapely.Geometry:
        import shapely

        geom = shapely.union_all([self.areas.geoms[c] for c in codes])
        shapely.prepare(geom)
        return geom

    def _rows(self, code: str) -> tuple[np.ndarray, np.ndarray]:
        """One area's buurt slots and the slots touching them, as boolean rows (cached)."""
        import numpy as np

        found = self._code_rows.get(code)
        if found is None:
            nb = self.n_buurten
            inside = np.zeros(nb + 1, dtype=bool)
            inside[self.members[code]] = True
            ring = np.zeros(nb + 1, dtype=bool)
            ring[:nb] = self.adjacency[inside[:nb]].any(axis=0)
            found = self._code_rows[code] = (inside, ring)
        return found

    def _area_part(self, known: tuple[str, ...], has_point: bool, dist: float) -> _AreaPart:
        """The parts of a plan that depend on the areas only: many needs name the same areas,
        and a country's 100,000 needs would otherwise spend most of the index build here.
        Kept per lookup (bounded); callers get copies of the arrays."""
        import numpy as np

        key = (known, has_point, dist)
        found = self._parts.get(key)
        if found is not None:
            return found
        nb = self.n_buurten
        # One extra slot at position nb stands for "unknown buurt": never preferred nor adjacent.
        preferred = np.zeros(nb + 1, dtype=bool)
        touching = np.zeros(nb + 1, dtype=bool)
        for code in known:
            inside, ring = self._rows(code)
            preferred |= inside
            touching |= ring
        adjacent = touching & ~preferred
        tolerance = None
        if known and not has_point and dist > 0:
            tolerance = self._union(tuple(sorted(known)))
        grow = (dist if tolerance is not None else 0.0) + PAD_M
        # Spaces coded to a buurt lie up to SNAP_M outside it (the import snaps border points):
        # the window reaches that far around the preferred and adjacent buurten.
        snap = SNAP_M + PAD_M
        rects = []
        for code in known:
            minx, miny, maxx, maxy = self.bounds[code]
            rminx, rminy, rmaxx, rmaxy = self.ring_bounds[code]
            rects.append(
                (
                    min(minx - grow, rminx - snap),
                    min(miny - grow, rminy - snap),
                    max(maxx + grow, rmaxx + snap),
                    max(maxy + grow, rmaxy + snap),
                )
            )
        kinds = np.where(preferred, PREFERRED, np.where(adjacent, ADJACENT, EXCLUDED))
        boxes = np.array(rects, dtype=float).reshape(-1, 4)
        if not has_point:  # the final window: drop the rectangles another one holds
            boxes = _drop_contained(boxes)
        part: _AreaPart = (preferred, adjacent, kinds.astype(np.int8), boxes, tolerance)
        if len(self._parts) >= 65_536:
            self._parts.clear()
        self._parts[key] = part
        return part

    def plan(
        self,
        areas: list[str],
        x: float | None,
        y: float | None,
        max_distance_m: float | None,
    ) -> PlacePlan:
        """The place rules of one need. Unknown area codes match nothing."""
        import numpy as np

        known = tuple(c for c in areas if c in self.members)
        has_point = x is not None and y is not None
        dist = float(max_distance_m or 0.0)
        preferred, adjacent, code, area_rects, tolerance = self._area_part(known, has_point, dist)
        rects = area_rects.copy()
        if x is not None and y is not None:  # has_point
            reach = dist + PAD_M
            point = np.array([[x - reach, y - reach, x + reach, y + reach]], dtype=float)
            rects = _drop_contained(np.vstack([area_rects, point]))
        return PlacePlan(
            preferred=preferred.copy(),
            adjacent=adjacent.copy(),
            code=code.copy(),
            rects=rects,
            has_point=has_point,
            px=float(x) if x is not None and y is not None else np.nan,
            py=float(y) if x is not None and y is not None else np.nan,
            max_distance_m=dist,
            tolerance=tolerance,
            anywhere=not areas and not has_point,
        )

    def preferred_area_of(self, buurt: str, areas: list[str]) -> str | None:
        """The most specific of the need's areas that contains this buurt."""
        hits = (
            [c for c in self.areas.lineage(buurt) if c in areas] if buurt in self.buurt_pos else []
        )
        return hits[-1] if hits else None

    def adjacent_area_of(self, buurt: str, areas: list[str]) -> str | None:
        """The first of the need's areas with a buurt that touches this buurt."""
        pos = self.buurt_pos.get(buurt)
        if pos is None:
            return None
        for code in areas:
            if code in self.members and self.adjacency[pos, self.members[code]].any():
                return code
        return None

    def nearest_area(self, x: float, y: float, areas: list[str]) -> tuple[str | None, float]:
        """The need's area closest to a point, and the distance to it."""
        import shapely

        best: tuple[str | None, float] = (None, float("inf"))
        point = shapely.Point(x, y)
        for code in areas:
            if code in self.members:
                d = float(shapely.distance(self.areas.geoms[code], point))
                if d < best[1]:
                    best = (code, d)
        return best


def stack_rects(plans: list[PlacePlan]) -> tuple[np.ndarray, np.ndarray]:
    """The plans' window rectangles as one (m, width, 4) array padded with empty boxes, and
    each plan's count: what the batch path's window tests read, without a loop per chunk."""
    import numpy as np

    width = np.array([len(p.rects) for p in plans], dtype=np.int64)
    most = max(1, int(width.max()) if len(width) else 0)
    out = np.tile(np.array([np.inf, np.inf, -np.inf, -np.inf]), (len(plans), most, 1))
    for i, p in enumerate(plans):
        out[i, : len(p.rects)] = p.rects
    return out, width


def _drop_contained(rects: np.ndarray) -> np.ndarray:
    """Rectangles inside another one add nothing but duplicate candidates."""
    import numpy as np

    if len(rects) < 2:
        return rects
    inner, outer = rects[:, None, :], rects[None, :, :]  # [i, j]: is rect i inside rect j?
    inside = (outer[..., :2] <= inner[..., :2]).all(-1) & (outer[..., 2:] >= inner[..., 2:]).all(-1)
    equal = (outer == inner).all(-1)
    earlier = np.tri(len(rects), k=-1, dtype=bool)  # j < i
    # Drop rect i when another one holds it; of identical ones keep the first.
    dropped = inside & (~equal | earlier)
    np.fill_diagonal(dropped, False)
    kept: npt.NDArray[np.float64] = rects[~dropped.any(axis=1)]
    return kept


_lookups_lock = threading.Lock()


def lookup_for(areas: AreaIndex) -> AreaLookup:
    """The lookup for an area index, built once (about 50 ms) and kept on that index."""
    with _lookups_lock:
        found = areas.__dict__.get("_matching_lookup")
        if found is None:
            found = areas.__dict__["_matching_lookup"] = AreaLookup(areas)
        return found
