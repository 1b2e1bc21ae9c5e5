"""Reading a layer file: format, size and encoding guards, geometry columns, and its CRS.

Part of the layer import (:mod:`spacematch.ingest.importer` is the entry point); Flask-free.

Formats: GeoJSON, GeoPackage, Shapefile (``.shp`` or a zipped one) and CSV, all read with
pyogrio; JSON lines (``.jsonl``, ``.ndjson``, ``.geojsonl``, ``.geojsons``) read here, one
record per line: either a GeoJSON Feature (RFC 8142) or a flat record whose ``geometrie`` or
``geometry`` member is a GeoJSON geometry object or WKT text (as the city's exports write them).

CSV geometry comes from the first of the columns ``WKT, wkt, geometry, WKT_LNG_LAT`` (WKT), else
``x/y, X/Y, lon/lat``, or the mapping's ``[geometry]``. Every file must declare its CRS; how each
format does is in :mod:`spacematch.ingest.crs`.

Size, vertex and encoding limits: :mod:`spacematch.ingest.limits`.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from spacematch.geo import WGS84
from spacematch.ingest.cells import as_text
from spacematch.ingest.crs import declared_crs, parse_crs
from spacematch.ingest.limits import (
    MAX_FILE_BYTES,
    MAX_VERTICES,
    geojson_object_limit,
    is_utf8,
    limit_vertices,
    within_size,
)
from spacematch.ingest.problems import Problem, Problems

WKT_COLUMNS = ("WKT", "wkt", "geometry", "geometrie", "WKT_LNG_LAT")
JSONL_GEOMETRY = ("geometrie", "geometry")
XY_COLUMNS = (("x", "y"), ("X", "Y"), ("lon", "lat"))
_USE_ARROW = importlib.util.find_spec("pyarrow") is not None


@dataclass
class Source:
    """A file as read: attributes, geometries in the source CRS, and the declared CRS."""

    frame: pd.DataFrame
    geoms: np.ndarray
    crs: CRS | None
    geom_reported: np.ndarray  # features whose geometry problem was reported while reading


def file_kind(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in (
        (".geojson", "geojson"),
        (".json", "geojson"),
        (".gpkg", "gpkg"),
        (".shp", "shp"),
        (".shp.zip", "shp"),
        (".zip", "shp"),
        (".csv", "csv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".geojsonl", "jsonl"),
        (".geojsons", "jsonl"),
    ):
        if name.endswith(suffix):
            return kind
    return None


def read_source(
    path: Path,
    spec: dict[str, Any],
    problems: Problems,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_vertices: int = MAX_VERTICES,
) -> Source | None:
    """Read the file and settle its CRS; None when it cannot be read at all."""
    kind = file_kind(path)
    if kind is None:
        problems.file(
            "file", f"unsupported file type {path.suffix!r} (GeoJSON, GeoPackage, Shapefile or CSV)"
        )
        return None
    if not path.is_file():
        problems.file("file", f"file not found: {path}")
        return None
    if not within_size(path, max_bytes, problems):
        return None
    if kind in ("geojson", "csv", "jsonl") and not is_utf8(path, kind, problems):
        return None
    if kind == "jsonl":
        return _read_jsonl(path, spec, problems, max_vertices)
    options: dict[str, Any] = {}
    if kind == "geojson":
        options["DATE_AS_STRING"] = "YES"  # dates are parsed (and refused) here, not by GDAL
    try:
        if kind == "gpkg" and spec["source_layer"] is None:
            names = [str(row[0]) for row in pyogrio.list_layers(path)]
            if len(names) > 1:
                problems.file(
                    "file",
                    f"the GeoPackage has several layers ({', '.join(names)}): "
                    "name one with source_layer in a mapping",
                )
                return None
        with warnings.catch_warnings():
            # pyogrio tries JSON-typed GeoJSON columns as JSON and warns when a cell is not;
            # such cells stay text and are checked below.
            warnings.filterwarnings(
                "ignore", message="Could not parse column", category=UserWarning
            )
            with geojson_object_limit(max_vertices if kind == "geojson" else None):
                frame = pyogrio.read_dataframe(
                    path,
                    layer=spec["source_layer"],
                    read_geometry=kind != "csv",
                    force_2d=True,
                    on_invalid="ignore",
                    use_arrow=_USE_ARROW,
                    **options,
                )
    except Exception as exc:
        if "too complex/large" in str(exc):
            where = str(exc).split(";")[1].split(":")[0].strip() if ";" in str(exc) else ""
            problems.file(
                "geometry",
                f"a feature is too large to read ({where}): at most {max_vertices:,} vertices "
                "per feature; simplify the geometry first",
            )
        else:
            problems.file("file", f"cannot read {path.name}: {exc}")
        return None
    if len(frame) == 0:
        problems.file("file", "the file has no features")
        return None

    if kind == "csv":
        frame = pd.DataFrame(frame).reset_index(drop=True)
        geoms, reported, lonlat = _csv_geometry(frame, spec, problems)
        crs = declared_crs(kind, path, None, spec, problems, csv_lonlat=lonlat)
    else:
        crs_of_file = frame.crs
        geoms = np.asarray(frame.geometry.array, dtype=object)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
        reported = np.zeros(len(frame), dtype=bool)
        crs = declared_crs(kind, path, crs_of_file, spec, problems)
    limit_vertices(geoms, reported, max_vertices, problems)
    return Source(frame, geoms, crs, reported)


def _read_jsonl(
    path: Path, spec: dict[str, Any], problems: Problems, max_vertices: int
) -> Source | None:
    """A JSON-lines file: one GeoJSON Feature or one flat record per line (see the docstring)."""
    records: list[dict[str, Any]] = []
    geometries: list[Any] = []
    reported: list[bool] = []
    features = 0
    member_crs: str | None = None
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                problems.file("file", f"line {number} is not JSON: {exc}")
                return None
            if not isinstance(record, dict):
                problems.file("file", f"line {number} is not a JSON object")
                return None
            if record.get("type") == "Feature":
                features += 1
                props = record.get("properties") or {}
                raw = record.get("geometry")
                if "id" in record and "id" not in props:
                    props = {"id": record["id"], **props}
            else:
                key = next((k for k in JSONL_GEOMETRY if k in record), None)
                raw = record.get(key) if key else None
                props = {k: v for k, v in record.items() if k != key}
            if isinstance(raw, dict) and member_crs is None and isinstance(raw.get("crs"), dict):
                member_crs = str((raw["crs"].get("properties") or {}).get("name", "")) or None
            geom, bad = _jsonl_geometry(raw)
            if bad:
                problems.items.append(
                    Problem(len(records) + 1, "geometry", f"not a valid geometry: {bad}")
                )
            records.append(props)
            geometries.append(geom)
            reported.append(bool(bad))
    if not records:
        problems.file("file", "the file has no features")
        return None
    frame = pd.DataFrame.from_records(records)
    geoms = np.empty(len(geometries), dtype=object)
    geoms[:] = geometries
    geom_reported = np.array(reported, dtype=bool)
    crs: CRS | None = None
    if spec["crs"] is not None:
        crs = parse_crs(spec["crs"], "the mapping", problems)
    elif member_crs is not None:
        crs = parse_crs(member_crs, "the first geometry's crs member", problems)
    elif features == len(records):
        crs = WGS84  # RFC 8142: GeoJSON text sequences are WGS84 lon/lat
    else:
        problems.file(
            "crs",
            'no CRS declared (JSON-lines records carry none: give crs = "EPSG:28992" in a '
            "mapping, or a crs member in the geometry)",
        )
    limit_vertices(geoms, geom_reported, max_vertices, problems)
    return Source(frame, geoms, crs, geom_reported)


def _jsonl_geometry(raw: Any) -> tuple[Any, str | None]:
    """A record's geometry (GeoJSON object or WKT text) as shapely, 2D; or why it is unusable."""
    if raw is None or raw == "":
        return None, None
    try:
        if isinstance(raw, dict):
            geom = shapely.from_geojson(json.dumps({k: v for k, v in raw.items() if k != "crs"}))
        elif isinstance(raw, str):
            geom = shapely.from_wkt(raw)
        else:
            return None, f"unexpected {type(raw).__name__}"
    except (shapely.errors.GEOSException, ValueError) as exc:
        return None, str(exc)[:80]
    return shapely.force_2d(geom), None


def _csv_geometry(
    frame: pd.DataFrame, spec: dict[str, Any], problems: Problems
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Geometries from a CSV's WKT or x/y columns; also whether the column names mean WGS84."""
    n = len(frame)
    none = np.full(n, None, dtype=object)
    reported = np.zeros(n, dtype=bool)
    columns = set(frame.columns)
    wkt = spec["geometry"].get("wkt")
    xy = (spec["geometry"]["x"], spec["geometry"]["y"]) if "x" in spec["geometry"] else None
    if not wkt and not xy:
        wkt = next((c for c in WKT_COLUMNS if c in columns), None)
        xy = None if wkt else next((p for p in XY_COLUMNS if set(p) <= columns), None)
    needed = [wkt] if wkt else list(xy or ())
    missing = [c for c in needed if c not in columns]
    if not needed or missing:
        found = f"columns {', '.join(missing)} not found" if missing else "no geometry columns"
        problems.file(
            "geometry",
            f"{found}: a CSV needs a WKT column "
            f"({', '.join(WKT_COLUMNS)}) or x/y columns (x/y, X/Y, lon/lat)",
        )
        return none, np.ones(n, dtype=bool), False
    if wkt:
        text = as_text(frame[wkt])
        present = text != None  # noqa: E711 - elementwise on an object array
        geoms = none.copy()
        parsed = shapely.from_wkt(text[present].astype(str), on_invalid="ignore")
        geoms[present] = shapely.force_2d(parsed)
        bad = present & shapely.is_missing(geoms)
        problems.mask(bad, "geometry", f"{wkt}: not valid WKT")
        reported |= bad
        return geoms, reported, wkt == "WKT_LNG_LAT"
    x_col, y_col = xy  # type: ignore[misc]
    coords = []
    for col in (x_col, y_col):
        text = as_text(frame[col])
        values = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(float)
        bad = (text != None) & ~np.isfinite(values)  # noqa: E711
        problems.mask(bad & ~reported, "geometry", f"{col}: must be a number")
        reported |= bad
        coords.append(values)
    ok = np.isfinite(coords[0]) & np.isfinite(coords[1])
    geoms = none.copy()
    geoms[ok] = shapely.points(coords[0][ok], coords[1][ok])
    return geoms, reported, (x_col, y_col) == ("lon", "lat")
