"""The stadsdeel / gebied / wijk / buurt hierarchy: loading, lookup, adjacency, spatial join.

Codes are hierarchical by prefix (buurt ``AC02`` lies in wijk ``AC`` in stadsdeel ``A``); gebieden
(``GA01``) are a separate grouping of wijken. Wijken, gebieden and stadsdelen are dissolved from
the 518 buurt polygons so the levels nest exactly.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from spacematch.models import Area

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import shapely


LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"  # the checkout's layers/
AREAS_DIR = LAYERS_DIR / "areas"
ATTRIBUTION = "Bron: Gemeente Amsterdam"
# Buurten whose polygons come within this distance of each other count as touching; the source
# polygons have sub-metre slivers and gaps along shared streets.
ADJACENCY_TOLERANCE_M = 1.0
# A space whose representative point lies in no buurt but this close to one takes the nearest
# buurt's code (the layer import's rule): so a buurt's spaces lie within its bounds grown by
# this much, and the matching's search windows reach that far.
SNAP_M = 25.0


class AreaRecord(TypedDict):
    """One row of the areas table, as ``read_shipped_areas`` gives it (RD New)."""

    code: str
    level: str
    name: str
    parent_code: str | None
    stadsdeel_code: str
    gebied_code: str | None
    area_m2: float
    geom: bytes
    x: float
    y: float
    minx: float
    miny: float
    maxx: float
    maxy: float


def read_shipped_areas(areas_dir: Path = AREAS_DIR) -> list[AreaRecord]:
    """Read the shipped buurt polygons (RD New) and names; dissolve the higher levels."""
    import shapely

    with open(areas_dir / "buurten_rd.geojson", encoding="utf-8") as fh:
        collection = json.load(fh)
    geoms_by_code: dict[str, shapely.Geometry] = {}
    for feature in collection["features"]:
        geometry = dict(feature["geometry"])
        geometry.pop("crs", None)
        geoms_by_code[feature["properties"]["code"]] = shapely.from_geojson(json.dumps(geometry))

    csv.field_size_limit(10**9)
    with open(areas_dir / "INDELING_BUURT.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    names = {r["Buurtcode"]: r for r in rows}
    missing = sorted(set(geoms_by_code) ^ set(names))
    if missing:
        raise ValueError(f"buurt codes differ between the shipped files: {missing}")

    records: list[AreaRecord] = []
    groups: dict[tuple[str, str], list[str]] = {}
    group_names: dict[tuple[str, str], tuple[str, str | None, str]] = {}
    for code, row in sorted(names.items()):
        gebied = row["Gebiedcode"] or None
        records.append(
            _record(
                code,
                "buurt",
                row["Buurt"],
                row["Wijkcode"],
                row["Stadsdeelcode"],
                gebied,
                geoms_by_code[code],
            )
        )
        for level, key, name, parent in (
            ("wijk", row["Wijkcode"], row["Wijk"], gebied or row["Stadsdeelcode"]),
            ("stadsdeel", row["Stadsdeelcode"], row["Stadsdeel"], None),
        ):
            groups.setdefault((level, key), []).append(code)
            group_names[(level, key)] = (name, parent, row["Stadsdeelcode"])
        if gebied:
            groups.setdefault(("gebied", gebied), []).append(code)
            group_names[("gebied", gebied)] = (
                row["Gebied"],
                row["Stadsdeelcode"],
                row["Stadsdeelcode"],
            )
    for (level, key), members in sorted(groups.items()):
        name, parent, stadsdeel = group_names[(level, key)]
        geom = shapely.make_valid(shapely.union_all([geoms_by_code[c] for c in members]))
        gebied = key if level == "gebied" else None
        if level == "wijk":
            gebied = names[members[0]]["Gebiedcode"] or None
        records.append(_record(key, level, name, parent, stadsdeel, gebied, geom))
    return records


def _record(
    code: str,
    level: str,
    name: str,
    parent: str | None,
    stadsdeel: str,
    gebied: str | None,
    geom: shapely.Geometry,
) -> AreaRecord:
    import shapely

    minx, miny, maxx, maxy = geom.bounds
    point = shapely.point_on_surface(geom)
    return {
        "code": code,
        "level": level,
        "name": name,
        "parent_code": parent,
        "stadsdeel_code": stadsdeel,
        "gebied_code": gebied,
        "area_m2": float(geom.area),
        "geom": shapely.to_wkb(geom),
        "x": point.x,
        "y": point.y,
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
    }


def load_areas(session: Session, records: list[AreaRecord] | None = None) -> int:
    """Replace the stored areas with the shipped ones (idempotent)."""
    records = read_shipped_areas() if records is None else records
    session.execute(delete(Area))
    session.execute(cast(Table, Area.__table__).insert(), records)  # a mapped class's Table
    return len(records)


@dataclass
class AreaIndex:
    """The areas in memory: lookup by code and name, adjacency, point-in-buurt joins.

    Built once from the store (about 0.1 s) and shared by the layer import and matching.
    """

    codes: list[str]
    levels: dict[str, str]
    names: dict[str, str]
    parents: dict[str, str | None]
    geoms: dict[str, shapely.Geometry]
    stadsdelen: dict[str, str]
    buurt_codes: npt.NDArray[np.object_] = field(init=False)
    buurt_geoms: npt.NDArray[np.object_] = field(init=False)
    _tree: shapely.STRtree = field(init=False)
    _adjacent: dict[str, frozenset[str]] = field(init=False)

    def __post_init__(self) -> None:
        import numpy as np
        import shapely

        buurten = sorted(c for c in self.codes if self.levels[c] == "buurt")
        self.buurt_codes = np.array(buurten, dtype=object)
        self.buurt_geoms = np.array([self.geoms[c] for c in buurten], dtype=object)
        shapely.prepare(self.buurt_geoms)
        self._tree = shapely.STRtree(self.buurt_geoms)
        self._adjacent = self._compute_adjacency()

    @classmethod
    def from_records(cls, records: list[AreaRecord]) -> AreaIndex:
        """From ``read_shipped_areas()`` records, without a store (tests, benchmarks)."""
        import shapely

        return cls(
            codes=[r["code"] for r in records],
            levels={r["code"]: r["level"] for r in records},
            names={r["code"]: r["name"] for r in records},
            parents={r["code"]: r["parent_code"] for r in records},
            geoms={r["code"]: shapely.from_wkb(r["geom"]) for r in records},
            stadsdelen={r["code"]: r["stadsdeel_code"] for r in records},
        )

    @classmethod
    def from_session(cls, session: Session) -> AreaIndex:
        import shapely

        rows = session.execute(
            select(
                Area.code, Area.level, Area.name, Area.parent_code, Area.stadsdeel_code, Area.geom
            )
        ).all()
        return cls(
            codes=[r.code for r in rows],
            levels={r.code: r.level for r in rows},
            names={r.code: r.name for r in rows},
            parents={r.code: r.parent_code for r in rows},
            geoms={r.code: shapely.from_wkb(r.geom) for r in rows},
            stadsdelen={r.code: r.stadsdeel_code for r in rows},
        )

    def __contains__(self, code: str) -> bool:
        return code in self.levels

    def _compute_adjacency(self) -> dict[str, frozenset[str]]:
        left, right = self._tree.query(
            self.buurt_geoms, predicate="dwithin", distance=ADJACENCY_TOLERANCE_M
        )
        pairs: dict[str, set[str]] = {c: set() for c in self.buurt_codes}
        for i, j in zip(left, right, strict=True):
            if i != j:
                pairs[self.buurt_codes[i]].add(self.buurt_codes[j])
        return {c: frozenset(v) for c, v in pairs.items()}

    def adjacent(self, buurt: str) -> frozenset[str]:
        """Buurten whose polygons touch this one (within 1 m)."""
        return self._adjacent.get(buurt, frozenset())

    def buurten_in(self, code: str) -> list[str]:
        """Every buurt inside an area of any level (a buurt contains itself)."""
        level = self.levels.get(code)
        if level is None:
            return []
        if level == "buurt":
            return [code]
        if level == "gebied":
            return [b for b in self.buurt_codes if self._gebied_of(b) == code]
        return [b for b in self.buurt_codes if b.startswith(code)]

    def _gebied_of(self, buurt: str) -> str | None:
        wijk_parent = self.parents.get(buurt[:2])
        return wijk_parent if wijk_parent and self.levels.get(wijk_parent) == "gebied" else None

    def lineage(self, buurt: str) -> list[str]:
        """The codes a buurt belongs to, broadest first: stadsdeel, gebied, wijk, buurt."""
        out = [buurt[0]]
        gebied = self._gebied_of(buurt)
        if gebied:
            out.append(gebied)
        return [*out, buurt[:2], buurt]

    def find(self, query: str, *, limit: int = 20) -> list[dict[str, str]]:
        """Areas whose code or name contains the query, for the area picker's autocomplete."""
        q = query.strip().lower()
        if not q:
            return []
        order = {"stadsdeel": 0, "gebied": 1, "wijk": 2, "buurt": 3}
        hits = [c for c in self.codes if c.lower() == q or q in self.names[c].lower()]
        hits.sort(
            key=lambda c: (
                c.lower() != q,
                not self.names[c].lower().startswith(q),
                order[self.levels[c]],
                self.names[c],
            )
        )
        return [{"code": c, "level": self.levels[c], "name": self.names[c]} for c in hits[:limit]]

    def by_name(self, name: str) -> str | None:
        """The code of the area with exactly this name (case-insensitive), broadest level first."""
        hits = self.find(name, limit=len(self.codes))
        exact = [h for h in hits if h["name"].lower() == name.strip().lower()]
        return exact[0]["code"] if exact else None

    def buurt_of_points(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """The buurt code of each point, or None for points outside every buurt (vectorised)."""
        import numpy as np
        import shapely

        points = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return self.buurt_of(points)

    def nearest_buurt(
        self, geoms: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64]]:
        """The nearest buurt to each geometry's representative point, and the distance in metres
        (0 inside a buurt): for points on the border, on quays and water, or outside the city."""
        import numpy as np
        import shapely

        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        codes = np.full(len(points), None, dtype=object)
        dist = np.full(len(points), np.nan)
        if len(points) == 0:
            return codes, dist
        (geom_idx, buurt_idx), d = self._tree.query_nearest(
            points, return_distance=True, all_matches=False
        )
        codes[geom_idx] = self.buurt_codes[buurt_idx]
        dist[geom_idx] = d
        return codes, dist

    def buurt_of(self, geoms: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """The buurt each geometry's representative point lies in (None outside Amsterdam)."""
        import numpy as np
        import shapely

        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        out = np.full(len(points), None, dtype=object)
        if len(points) == 0:
            return out
        geom_idx, buurt_idx = self._tree.query(points, predicate="within")
        # A point on a shared edge lies in neither polygon's interior; keep the first hit per point.
        order = np.argsort(geom_idx, kind="stable")
        geom_idx, buurt_idx = geom_idx[order], buurt_idx[order]
        first = np.unique(geom_idx, return_index=True)[1]
        out[geom_idx[first]] = self.buurt_codes[buurt_idx[first]]
        missing = np.flatnonzero(out == None)  # noqa: E711 - elementwise on an object array
        if len(missing):
            # Edge points: fall back to "intersects" (boundary included).
            g_idx, b_idx = self._tree.query(points[missing], predicate="intersects")
            for g, b in zip(g_idx, b_idx, strict=True):
                if out[missing[g]] is None:
                    out[missing[g]] = self.buurt_codes[b]
        return out
