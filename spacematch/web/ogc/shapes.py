"""The OGC API's area geometry: the simplified unions that stand for a need's preferred areas,
and the collections' spatial extents. Flask-free."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.models import (
    Need,
)
from spacematch.web.ogc.collections import (
    NEED_AREA_TOLERANCE_M,
    NEED_POINT_GRID_M,
)

if TYPE_CHECKING:
    import shapely


class AreaShapes:
    """Per set of area codes: the union, a point inside it, the buurten it covers and (only when
    asked: measuring it is the costly part) the union simplified by ``simplify_within``. Kept as
    long as the app's AreaIndex (the areas change only with a new index), so a data change
    rebuilds the needs in milliseconds."""

    def __init__(self, areas: AreaIndex) -> None:
        self.areas = areas
        self.cache: dict[tuple[str, ...], tuple[Any, Any, frozenset[str]]] = {}
        self.simple: dict[tuple[str, ...], Any] = {}

    def key(self, codes: list[str]) -> tuple[str, ...]:
        return tuple(sorted({c for c in codes if c in self.areas}))

    def get(self, codes: list[str]) -> tuple[Any, Any, frozenset[str]]:
        """``(union, point inside it, buurten)``."""
        import shapely

        key = self.key(codes)
        hit = self.cache.get(key)
        if hit is None:
            union = shapely.union_all([self.areas.geoms[c] for c in key]) if key else None
            inside = shapely.point_on_surface(union) if union is not None else None
            buurten = frozenset(b for c in key for b in self.areas.buurten_in(c))
            hit = self.cache[key] = (union, inside, buurten)
        return hit

    def simplified(self, codes: list[str]) -> Any:
        key = self.key(codes)
        if key not in self.simple:
            union = self.get(codes)[0]
            self.simple[key] = (
                simplify_within(union, NEED_AREA_TOLERANCE_M) if union is not None else None
            )
        return self.simple[key]


def _need_shapes(
    needs: list[Need], shapes: AreaShapes, *, areas_only: bool
) -> tuple[list, list[frozenset[str]]]:
    """``needs``: the snapped point, else a point inside the areas' union. ``need-areas``: the
    union of the preferred areas, simplified. And per need the buurten it accepts (its areas',
    plus the buurt of its point, as ``exports.need_buurten``)."""
    import numpy as np
    import shapely

    geoms: list[shapely.Geometry | None] = []
    buurten: list[frozenset[str]] = []
    with_point = [n for n in needs if n.x is not None and n.y is not None]
    point_buurt = dict(
        zip(
            (n.id for n in with_point),
            shapes.areas.buurt_of_points(
                np.array([n.x for n in with_point], dtype=float),
                np.array([n.y for n in with_point], dtype=float),
            )
            if with_point
            else [],
            strict=True,
        )
    )
    grid = NEED_POINT_GRID_M
    for need in needs:
        _, inside, covered = shapes.get(need.area_list)
        own = point_buurt.get(need.id)
        buurten.append(covered | {own} if own is not None else covered)
        if areas_only:
            geoms.append(shapes.simplified(need.area_list))
        elif need.x is not None and need.y is not None:
            x, y = (need.x // grid + 0.5) * grid, (need.y // grid + 0.5) * grid
            geoms.append(shapely.Point(x, y))
        else:
            geoms.append(inside)
    return geoms, buurten


def simplify_within(geom: shapely.Geometry, limit_m: float) -> shapely.Geometry:
    """``geom`` simplified topology-preservingly (valid, no ring lost) and no further than
    ``limit_m`` from it (Hausdorff distance, measured on edges densified to a tenth).

    GEOS's topology-preserving Douglas-Peucker alone does not keep that promise: a 5 m
    tolerance moved the union of wijken MH and MM by 8.6 m (checked with buffers). So each
    result is measured, and the tolerance halved until it holds (the exact geometry last).
    """
    import shapely

    tolerance = limit_m
    for _ in range(4):
        simpler = shapely.simplify(geom, tolerance, preserve_topology=True)
        if shapely.hausdorff_distance(simpler, geom, densify=0.1) <= limit_m:
            return simpler
        tolerance /= 2
    return geom


def spatial_extent(areas: AreaIndex) -> list[float]:
    """Amsterdam's bounds in CRS84, from the stadsdelen (rounded outwards)."""
    import shapely

    union = shapely.union_all([g for c, g in areas.geoms.items() if areas.levels[c] == "stadsdeel"])
    envelope: shapely.Geometry = geo.to_wgs84(shapely.envelope(union))  # one geometry in, one out
    minx, miny, maxx, maxy = envelope.bounds
    return [
        math.floor(minx * 1000) / 1000,
        math.floor(miny * 1000) / 1000,
        math.ceil(maxx * 1000) / 1000,
        math.ceil(maxy * 1000) / 1000,
    ]


def storage_extent(areas: AreaIndex) -> list[float]:
    """Amsterdam's bounds in RD New (whole metres, outwards)."""
    import shapely

    union = shapely.union_all([g for c, g in areas.geoms.items() if areas.levels[c] == "stadsdeel"])
    minx, miny, maxx, maxy = union.bounds
    return [math.floor(minx), math.floor(miny), math.ceil(maxx), math.ceil(maxy)]
