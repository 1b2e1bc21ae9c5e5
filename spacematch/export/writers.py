"""Writing an export ``Table`` as GeoJSON (RFC 7946), GeoPackage (RD New) or CSV (WGS84 WKT,
with the CSV-injection guard); see ``spacematch.export.tables`` for the formats' rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

from spacematch import geo
from spacematch.export.tables import Table, table_features
from spacematch.geojson import feature_collection


def write_geojson(table: Table) -> bytes:
    collection = feature_collection(table_features(table), name=table.name)
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_gpkg(table: Table) -> bytes:
    """A GeoPackage in RD New with one layer named after the dataset, typed columns."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for name, kind in table.columns.items():
        values = [r[name] for r in table.rows]
        if kind == "float":
            data[name] = pd.array(
                [np.nan if v is None else float(v) for v in values], dtype="float64"
            )
        elif kind == "int":
            data[name] = pd.array(values, dtype="int64")
        elif kind == "bool":
            data[name] = pd.array(values, dtype="bool")
        else:
            data[name] = pd.Series(values, dtype="object")
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(table.geoms), crs=geo.RD_NEW))
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GPKG", layer=table.name, engine="pyogrio")
    return buffer.getvalue()


def write_csv(table: Table) -> bytes:
    """CSV with a BOM, columns as in the table plus ``WKT`` (WGS84 lon/lat) last."""
    import numpy as np
    import shapely

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*table.columns, "WKT"])
    wgs = geo.rfc7946(np.array(table.geoms, dtype=object)) if len(table) else []
    wkts = shapely.to_wkt(wgs, rounding_precision=7, trim=True) if len(table) else []
    for row, wkt in zip(table.rows, wkts, strict=True):
        writer.writerow(
            [*(_csv_cell(row[n], kind) for n, kind in table.columns.items()), wkt or ""]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "str" and str(value)[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + str(value)
    return str(value)


WRITERS: dict[str, Callable[[Table], bytes]] = {
    "geojson": write_geojson,
    "gpkg": write_gpkg,
    "csv": write_csv,
}


def write(table: Table, fmt: str) -> bytes:
    return WRITERS[fmt](table)


def filename(dataset: str, fmt: str, *, today: dt.date | None = None) -> str:
    return f"spacematch-{dataset}-{(today or dt.date.today()).isoformat()}.{fmt}"
