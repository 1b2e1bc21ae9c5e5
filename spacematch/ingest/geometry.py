"""A layer file's geometries: checked, reprojected to RD New and joined to buurten, vectorised.

Part of the layer import (:mod:`spacematch.ingest.importer` is the entry point); Flask-free.
Every check works on the whole geometry array (shapely 2), and problems are reported from
boolean masks, so a clean file costs one vectorised pass per rule and no Python per feature.

Rules, each a problem for the feature in any mode:

- the geometry is missing (unless the reader already reported why) or empty;
- its type is not Point, Polygon or MultiPolygon;
- in a geographic CRS, its coordinates are not longitude/latitude;
- it cannot be reprojected from the file's CRS, or it is invalid in RD New.

Borders: a representative point in no buurt but within ``SNAP_M`` (25 m) of one takes the
nearest buurt; one further out is kept "buiten Amsterdam" (``buurt_code`` "", ``outside_m`` its
distance). ``strict`` makes an outside point a problem instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from spacematch.domain.areas import SNAP_M, AreaIndex
from spacematch.geo import RD_NEW, to_rd
from spacematch.ingest.crs import crs_label
from spacematch.ingest.problems import Problems
from spacematch.ingest.read import Source

GEOM_TYPES = {0: "Point", 3: "Polygon", 6: "MultiPolygon"}
TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


@dataclass
class Located:
    """Where each feature lies: its buurt (None where not located), how it got there (inside,
    snapped or outside) and its distance to the nearest buurt when it is not inside one."""

    buurt: np.ndarray
    place: np.ndarray
    distance: np.ndarray


def check_geometry(
    source: Source, problems: Problems, areas: AreaIndex | None, *, strict: bool = False
) -> dict[str, Any]:
    """Check geometries, reproject them to RD New and join them to buurten, all vectorised.

    Returns ``ok`` (usable geometry, located), ``type_id``, ``area`` (m², RD New), ``place``
    (inside, snapped or outside) and the Property geometry columns.
    """
    geoms = source.geoms
    n = len(geoms)
    type_id = shapely.get_type_id(geoms)
    ok = _check_shapes(geoms, source.geom_reported, type_id, problems)
    rd = np.full(n, None, dtype=object)
    if source.crs is None:
        ok[:] = False
    else:
        ok = _reproject(geoms, ok, source.crs, rd, problems)
    located = _locate(rd, ok, areas, problems, strict=strict)

    area = np.zeros(n)
    area[ok] = shapely.area(rd[ok])
    geom_type = np.full(n, "", dtype=object)
    for tid, name in GEOM_TYPES.items():
        geom_type[type_id == tid] = name
    columns: dict[str, Any] = {
        "geom_type": geom_type,
        "buurt_code": located.buurt,
        "outside_m": located.distance,
    }
    if ok.all():  # only a clean file is written; skip the work otherwise
        columns.update(_stored_columns(rd, type_id))
    return {"ok": ok, "type_id": type_id, "area": area, "columns": columns, "place": located.place}


def _check_shapes(
    geoms: np.ndarray, reported: np.ndarray, type_id: np.ndarray, problems: Problems
) -> np.ndarray:
    """Missing, empty and unsupported geometries; returns the usable ones."""
    is_missing = shapely.is_missing(geoms)
    problems.mask(is_missing & ~reported, "geometry", "geometry is missing")
    empty = ~is_missing & shapely.is_empty(geoms)
    problems.mask(empty, "geometry", "geometry is empty")
    bad_type = ~is_missing & ~empty & ~np.isin(type_id, list(GEOM_TYPES))
    problems.mask(
        bad_type,
        "geometry",
        lambda i: (
            f"geometry type {TYPE_NAMES[type_id[i]]} is "
            "not supported (Point, Polygon or MultiPolygon)"
        ),
    )
    ok: np.ndarray = ~(is_missing | empty | bad_type)
    return ok


def _reproject(
    geoms: np.ndarray, ok: np.ndarray, crs: CRS, rd: np.ndarray, problems: Problems
) -> np.ndarray:
    """Fill ``rd`` with the usable geometries in RD New; returns those still usable after the
    coordinate, reprojection and validity checks."""
    n = len(geoms)
    label = crs_label(crs)
    if crs.is_geographic and ok.any():
        bounds = np.zeros((n, 4))
        bounds[ok] = shapely.bounds(geoms[ok])
        wild = ok & ((np.abs(bounds[:, [0, 2]]) > 180) | (np.abs(bounds[:, [1, 3]]) > 90)).any(1)
        problems.mask(
            wild,
            "geometry",
            f"coordinates are not longitude/latitude as {label} "
            "requires: is the CRS declared right?",
        )
        ok &= ~wild
    if crs.equals(RD_NEW):
        rd[ok] = geoms[ok]
    elif ok.any():
        rd[ok] = to_rd(geoms[ok], crs.to_wkt())
    bounds = np.full((n, 4), np.nan)
    bounds[ok] = shapely.bounds(rd[ok])
    unprojectable = ok & ~np.isfinite(bounds).all(axis=1)
    problems.mask(unprojectable, "geometry", f"coordinates cannot be reprojected from {label}")
    ok &= ~unprojectable
    invalid = np.zeros(n, dtype=bool)
    invalid[ok] = ~shapely.is_valid(rd[ok])
    if invalid.any():
        reasons = np.full(n, None, dtype=object)
        reasons[invalid] = shapely.is_valid_reason(rd[invalid])
        problems.mask(invalid, "geometry", lambda i: f"geometry is invalid: {reasons[i]}")
    ok &= ~invalid
    return ok


def _locate(
    rd: np.ndarray,
    ok: np.ndarray,
    areas: AreaIndex | None,
    problems: Problems,
    *,
    strict: bool,
) -> Located:
    """The buurt of each usable geometry; snaps or keeps outside points (see the docstring).
    Clears ``ok`` where a feature cannot be located."""
    n = len(rd)
    located = Located(
        buurt=np.full(n, None, dtype=object),
        place=np.full(n, "inside", dtype=object),
        distance=np.full(n, np.nan),
    )
    if not ok.any():
        return located
    if areas is None or len(areas.buurt_codes) == 0:
        problems.file("geometry", "no buurten in the store: load the areas first (init-db)")
        ok[:] = False
        return located
    buurt = located.buurt
    buurt[ok] = areas.buurt_of(rd[ok])
    outside = ok & (buurt == None)  # noqa: E711
    if strict:
        problems.mask(outside, "geometry", "outside Amsterdam: lies in no buurt")
        ok &= ~outside
    elif outside.any():
        nearest, dist = areas.nearest_buurt(rd[outside])
        at = np.flatnonzero(outside)
        located.distance[at] = np.round(dist, 1)
        near = dist <= SNAP_M
        buurt[at[near]] = nearest[near]
        buurt[at[~near]] = ""
        located.place[at[near]] = "snapped"
        located.place[at[~near]] = "outside"
    return located


def _stored_columns(rd: np.ndarray, type_id: np.ndarray) -> dict[str, np.ndarray]:
    """The Property geometry columns: WKB, representative point and bounds (RD New).

    A point is its own representative point, so only polygons pay for ``point_on_surface``.
    """
    points = rd.copy()
    polygons = type_id != 0
    if polygons.any():
        points[polygons] = shapely.point_on_surface(rd[polygons])
    bounds = shapely.bounds(rd)
    return {
        "geom": shapely.to_wkb(rd),
        "x": shapely.get_x(points),
        "y": shapely.get_y(points),
        "minx": bounds[:, 0],
        "miny": bounds[:, 1],
        "maxx": bounds[:, 2],
        "maxy": bounds[:, 3],
    }
