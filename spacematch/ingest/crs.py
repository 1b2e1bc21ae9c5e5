"""A layer file's CRS: every file must declare it; nothing is guessed. Part of the layer import.

- GeoPackage and Shapefile: their own CRS (a Shapefile without ``.prj`` is refused, unless the
  mapping gives ``crs``).
- GeoJSON: its ``crs`` member; without one it is WGS84 by RFC 7946, unless the mapping gives
  ``crs`` (for legacy files in RD New written without a member).
- JSON lines: the mapping's ``crs``, else a ``crs`` member of the first record's geometry, else
  WGS84 for GeoJSON Feature lines (RFC 8142); flat records without either are refused.
- CSV has no CRS of its own. It is declared by the mapping's ``crs``, else by a sidecar
  ``<name>.prj`` (WKT or ``EPSG:28992`` text), else by the geometry column's name when that name
  states it: ``WKT_LNG_LAT`` and ``lon``/``lat`` mean WGS84.

A CRS declared twice (by the file and the mapping) must agree; the mapping's ``crs`` does override
the WGS84 that CSV column names imply.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from spacematch.geo import WGS84
from spacematch.ingest.problems import Problems


def parse_crs(text: str, where: str, problems: Problems) -> CRS | None:
    try:
        return CRS.from_user_input(text)
    except CRSError:
        shown = text if len(text) <= 80 else text[:77] + "..."
        problems.file("crs", f"unknown CRS {shown!r} in {where}")
        return None


def declared_crs(
    kind: str,
    path: Path,
    crs_of_file: CRS | None,  # a GeoDataFrame's own, None for CSV
    spec: dict[str, Any],
    problems: Problems,
    *,
    csv_lonlat: bool = False,
) -> CRS | None:
    """The CRS the file (or its mapping) declares; None, with a problem, when there is none."""
    mapped = None
    if spec["crs"] is not None:
        mapped = parse_crs(spec["crs"], "the mapping", problems)
        if mapped is None:
            return None
    own: CRS | None = None
    prj = path.with_suffix(".prj")
    if kind == "csv" and prj.is_file():
        own = parse_crs(
            prj.read_text(encoding="utf-8", errors="replace").strip(), prj.name, problems
        )
        if own is None:
            return None
    elif kind == "geojson":
        member = geojson_crs_member(path)
        if member is not None:
            own = parse_crs(member, "the file's crs member", problems)
            if own is None:
                return None
    elif kind in ("gpkg", "shp"):
        if crs_of_file is not None:
            own = CRS.from_user_input(crs_of_file)
        elif kind == "shp" and prj.is_file():
            problems.file("crs", f"unknown CRS in {prj.name}")
            return None
    if own is not None and mapped is not None and not own.equals(mapped, ignore_axis_order=True):
        problems.file(
            "crs", f"the file declares {crs_label(own)} but the mapping says {crs_label(mapped)}"
        )
        return None
    crs = own or mapped
    if crs is None and kind == "geojson":
        crs = WGS84  # RFC 7946: GeoJSON without a crs member is WGS84 lon/lat
    if crs is None and csv_lonlat:
        crs = WGS84
    if crs is None:
        hint = {
            "csv": 'a CSV carries none: give crs = "EPSG:28992" (or the right one) in a mapping, '
            "or a .prj file beside it",
            "shp": "the .prj file is missing",
            "gpkg": "the GeoPackage layer has an undefined spatial reference system",
        }[kind]
        problems.file("crs", f"no CRS declared ({hint})")
    return crs


def geojson_crs_member(path: Path) -> str | None:
    """The name in a GeoJSON file's top-level ``crs`` member, if it has one.

    GDAL falls back to WGS84 for a crs it cannot parse, so the member is read here to refuse an
    unknown CRS instead of silently treating the coordinates as lon/lat. Only the file's head
    (before "features") and tail (after the last "]") are scanned, so large files stay cheap.
    """
    size = path.stat().st_size
    chunk = 65_536
    with open(path, "rb") as fh:
        if size <= 2 * chunk:
            head = tail = fh.read().decode("utf-8", errors="replace")
        else:
            head = fh.read(chunk).decode("utf-8", errors="replace")
            fh.seek(size - chunk)
            tail = fh.read().decode("utf-8", errors="replace")
    start = head.find('"features"')
    regions = [head[:start] if start >= 0 else head]
    end = tail.rfind("]")
    if end >= 0:
        regions.append(tail[end:])
    for region in regions:
        match = re.search(r'"crs"\s*:\s*', region)
        if not match:
            continue
        if region[match.end() :].startswith("null"):
            return None
        try:
            member, _ = json.JSONDecoder().raw_decode(region, match.end())
        except json.JSONDecodeError:
            return "(unreadable crs member)"
        props = member.get("properties", {}) if isinstance(member, dict) else {}
        if isinstance(member, dict) and member.get("type") == "name" and "name" in props:
            return str(props["name"])
        if isinstance(member, dict) and member.get("type") == "EPSG" and "code" in props:
            return f"EPSG:{props['code']}"
        return json.dumps(member)[:60]
    return None


def crs_label(crs: CRS | None) -> str:
    """Short name of a CRS for the layer table: ``EPSG:28992``, else its name."""
    if crs is None:
        return ""
    authority = crs.to_authority(min_confidence=90)
    return ":".join(authority) if authority else crs.name[:64]
