"""The OGC API's in-memory tables: each collection built whole once per store data version
(``build``), then filtered and paged in memory (``Prepared``). Flask-free."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.export.public import NEED_COLUMNS, need_row, select_needs
from spacematch.export.tables import (
    PROPERTY_COLUMNS,
    ExportQuery,
    Table,
    property_row,
)
from spacematch.models import (
    Layer,
    Property,
)
from spacematch.web.ogc.collections import (
    COLLECTIONS,
    QUERYABLES,
    RD_NEW,
    Collection,
)
from spacematch.web.ogc.query import (
    ItemsQuery,
    _in_period,
)
from spacematch.web.ogc.shapes import (
    AreaShapes,
    _need_shapes,
)

if TYPE_CHECKING:
    import numpy as np
    import shapely


@dataclass
class Prepared:
    """One collection, whole, as served: rows ordered by id, geometries of the collection's one
    type (RD New), and per row the buurten it lies in (for ``area``)."""

    collection: Collection
    table: Table
    buurten: list[frozenset[str]]
    context: dict[str, Any]  # the known values of the enum filters
    texts: dict[str, list[str]] = field(default_factory=dict)

    def geometry_texts(self, crs: str) -> list[str]:
        """Every feature's geometry as GeoJSON text in ``crs``, made once per CRS (a page is then
        a join of strings): CRS84 per RFC 7946 (counter-clockwise, rounded to the collection's
        precision), RD New as stored (Python floats, written in full)."""
        import numpy as np
        import shapely

        texts = self.texts.get(crs)
        if texts is None:
            geoms = np.array(self.table.geoms, dtype=object)
            if crs == RD_NEW:
                texts = [
                    "null" if g is None else json.dumps(shapely.geometry.mapping(g)) for g in geoms
                ]
            elif len(geoms):
                out = geo.rfc7946(geoms, precision=self.collection.precision)
                texts = ["null" if t is None else t for t in shapely.to_geojson(out)]
            else:
                texts = []
            self.texts[crs] = texts
        return texts

    def features_json(self, positions: Iterable[int], crs: str) -> str:
        """The features at ``positions`` as the text of a GeoJSON array."""
        texts, rows, id_column = self.geometry_texts(crs), self.table.rows, self.table.id_column
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        return (
            "["
            + ",".join(
                f'{{"type":"Feature","id":{dumps(rows[i][id_column])},"geometry":{texts[i]},'
                f'"properties":{dumps(rows[i])}}}'
                for i in positions
            )
            + "]"
        )

    def select(self, q: ItemsQuery, areas: AreaIndex) -> np.ndarray:
        """Positions of the rows matching the query's filters, in order (not yet paged)."""
        import numpy as np
        import shapely

        rows = self.table.rows
        keep = np.ones(len(rows), dtype=bool)
        for name, values in q.filters.items():
            spec = QUERYABLES[name]
            wanted = set(values)
            if spec.kind == "area":
                wanted = {b for v in values for b in areas.buurten_in(v)}
                hits = [bool(b & wanted) for b in self.buurten]
            elif spec.kind == "list":
                hits = [bool(wanted.intersection((r[spec.column] or "").split(","))) for r in rows]
            else:
                hits = [r[spec.column] in wanted for r in rows]
            keep &= np.asarray(hits, dtype=bool)
        if q.window is not None:
            if q.window.is_empty:
                keep[:] = False
            elif keep.any():
                shapely.prepare(q.window)
                geoms = np.array(self.table.geoms, dtype=object)
                keep &= shapely.intersects(q.window, geoms)
        if q.period is not None and self.collection.temporal:
            keep &= np.asarray([_in_period(r, self.collection, q.period) for r in rows], dtype=bool)
        return np.flatnonzero(keep)


def as_type(geoms: list[shapely.Geometry | None], geometry_type: str) -> list:
    """Every geometry as ``geometry_type``: Point (a polygon's representative point, always
    inside it) or MultiPolygon (a Polygon wrapped)."""
    import shapely

    out: list[shapely.Geometry | None] = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(None)
        elif geometry_type == "Point":
            out.append(g if g.geom_type == "Point" else shapely.point_on_surface(g))
        elif g.geom_type == "Polygon":
            out.append(shapely.MultiPolygon([g]))
        elif g.geom_type == "MultiPolygon":
            out.append(g)
        else:
            polys = shapely.get_parts(g)
            out.append(shapely.MultiPolygon([p for p in polys if p.geom_type == "Polygon"]))
    return out


def _sorted(table: Table, buurten: list[frozenset[str]]) -> tuple[Table, list[frozenset[str]]]:
    """Ordered by id in Python, so both stores (SQLite and PostgreSQL collations) page alike."""
    order = sorted(range(len(table)), key=lambda i: table.rows[i][table.id_column])
    return table.take(order), [buurten[i] for i in order]


def build(
    cid: str,
    store: Any,
    *,
    areas: AreaIndex,
    index: Callable[[], Any],
    weights: Mapping[str, float] | None,
    shapes: AreaShapes | None = None,
) -> Prepared:
    """The whole collection ``cid`` as served (rebuilt by the caller when the data change)."""
    import shapely

    collection = COLLECTIONS[cid]
    shapes = shapes if shapes is not None and shapes.areas is areas else AreaShapes(areas)
    with store.sessions() as session:
        context = {
            "layers": sorted(session.scalars(select(Layer.slug))),
            "stadsdelen": sorted(c for c, lv in areas.levels.items() if lv == "stadsdeel"),
        }
        if cid in ("properties", "plots"):
            rows = list(session.scalars(select(Property)))
            if cid == "plots":
                rows = [r for r in rows if r.geom_type != "Point"]
            geoms = list(shapely.from_wkb([r.geom for r in rows])) if rows else []
            table = Table("properties" if cid == "properties" else "plots", PROPERTY_COLUMNS,
                          [property_row(r, areas) for r in rows], geoms)  # fmt: skip
            buurten = [frozenset([r.buurt_code]) for r in rows]
        elif cid in ("needs", "need-areas"):
            needs = select_needs(
                session, ExportQuery(dataset="needs", status=("open",)), areas=areas
            )
            if cid == "need-areas":
                needs = [n for n in needs if any(c in areas for c in n.area_list)]
            geoms, buurten = _need_shapes(needs, shapes, areas_only=cid == "need-areas")
            table = Table(cid, NEED_COLUMNS, [need_row(n, areas) for n in needs], geoms)
    if cid == "areas":
        from spacematch.export.figures import areas_table

        table = areas_table(store, ExportQuery(dataset="areas"), areas=areas, index=index,
                            weights=weights)  # fmt: skip
        buurten = [frozenset([code]) for code in table.ids()]
    table.geoms = as_type(table.geoms, collection.geometry_type)
    table, buurten = _sorted(table, buurten)
    return Prepared(collection, table, buurten, context)
