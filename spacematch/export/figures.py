"""Supply and demand per buurt and stadsdeel, and the matches. Flask-free.

The allocation share and its chart are in ``allocation_share.py``.

Definitions (the design leaves them open):

* supply: properties with status ``beschikbaar`` (optionally of some layers), counted and summed
  by m² in their buurt.
* a need *accepts* a buurt when the buurt lies in one of its preferred areas (any level) or holds
  its point. ``open_needs`` of a buurt or stadsdeel counts the open needs that accept it (a need
  can count in many buurten, so these counts do not add up).
* ``m2_asked``: each open need's *minimum* area, spread evenly over the buurten it accepts. The
  minimum is what an initiative needs to function (its maximum is a preference), so supply below
  it is a shortage for sure; spreading makes buurten add up to stadsdelen and to the city total.
* a *fit* is a match scoring at least ``min_score`` (default 0.5, as in the matches dataset) on
  a property of the selected layers; ``matched_share`` is the share of a buurt's open needs with
  at least one fit (empty when it has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Unpack

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spacematch.db import Store
from spacematch.domain.areas import AreaIndex
from spacematch.domain.properties import PropertyFilter, find_properties
from spacematch.export.tables import (
    COMMUNITY_LEGAL_FORMS,
    ExportQuery,
    MatchOptions,
    Table,
    filter_bbox,
    need_buurten,
    property_row,
)
from spacematch.models import (
    Area,
    Need,
    Property,
)

if TYPE_CHECKING:  # the matching engine is imported on first use (see all_matches)
    from spacematch.matching import Match

AVAILABLE = "beschikbaar"

AREA_COLUMNS: dict[str, str] = {
    "id": "str", "name": "str", "level": "str", "wijk": "str", "stadsdeel": "str",
    "stadsdeel_name": "str", "available_properties": "int", "available_m2": "float",
    "open_needs": "int", "m2_asked": "float", "balance_m2": "float", "needs_with_fit": "int",
    "matched_share": "float",
}  # fmt: skip
MATCH_COLUMNS: dict[str, str] = {
    "id": "str", "need": "int", "property": "str", "rank": "int", "score": "float",
    "size": "float", "price": "float", "place": "float", "initiative": "str", "legal_form": "str",
    "community": "bool", "sector": "str", "layer": "str", "property_name": "str",
    "address": "str", "area_m2": "float", "rent_eur_month": "float", "buurt": "str",
    "buurt_name": "str",
}  # fmt: skip


def all_matches(
    store: Store, areas: AreaIndex, **matching: Unpack[MatchOptions]
) -> dict[int, list[Match]]:
    """Every open need's ranked properties (no limit), from the matching engine."""
    from spacematch.matching import MatchIndex, rematch_all

    index = matching.get("index")
    match_index = index() if index is not None else MatchIndex.from_store(store, areas)
    return rematch_all(match_index, limit=None, weights=matching.get("weights"))


def matches_table(
    store: Store, query: ExportQuery, *, areas: AreaIndex, **matching: Unpack[MatchOptions]
) -> Table:
    """One row per open need and available property scoring at least ``min_score``.

    The geometry is the property's; area, layer and bbox filter on the property.
    """
    import shapely  # on use: a CLI command that needs no GIS starts faster

    ranked = all_matches(store, areas, **matching)
    pairs = [
        (need_id, rank, m)
        for need_id, ms in ranked.items()
        for rank, m in enumerate(ms, start=1)
        if m.score >= query.min_score
    ]
    flt = PropertyFilter(bbox=query.bbox, area=query.area, layer=query.layer, status=(AVAILABLE,))
    with store.sessions() as session:
        props = {p.id: p for p in find_properties(session, flt, areas=areas)}
        pairs = [p for p in pairs if p[2].property_id in props]
        need_ids = sorted({p[0] for p in pairs})
        needs = {n.id: n for n in session.scalars(select(Need).where(Need.id.in_(need_ids)))}
    pairs.sort(key=lambda p: (p[0], p[1]))
    rows: list[dict[str, Any]] = []
    for need_id, rank, m in pairs:
        need, prop = needs[need_id], property_row(props[m.property_id], areas)
        rows.append({
            "id": f"{need_id}:{m.property_id}", "need": need_id, "property": m.property_id,
            "rank": rank, "score": m.score, "size": round(m.size, 6),
            "price": round(m.price, 6), "place": round(m.place, 6),
            "initiative": need.initiative, "legal_form": need.legal_form,
            "community": need.legal_form in COMMUNITY_LEGAL_FORMS, "sector": need.sector,
            "layer": prop["layer"], "property_name": prop["name"], "address": prop["address"],
            "area_m2": prop["area_m2"], "rent_eur_month": prop["rent_eur_month"],
            "buurt": prop["buurt"], "buurt_name": prop["buurt_name"],
        })  # fmt: skip
    geoms = [shapely.from_wkb(props[m.property_id].geom) for _, _, m in pairs]
    return Table("matches", MATCH_COLUMNS, rows, geoms)


@dataclass
class Figures:
    """Supply and demand of one buurt or stadsdeel."""

    code: str
    name: str
    available_properties: int = 0
    available_m2: float = 0.0
    m2_asked: float = 0.0
    needs: set[int] = field(default_factory=set)
    fitted: set[int] = field(default_factory=set)

    @property
    def open_needs(self) -> int:
        return len(self.needs)

    @property
    def needs_with_fit(self) -> int:
        return len(self.fitted)

    @property
    def matched_share(self) -> float | None:
        return round(len(self.fitted) / len(self.needs), 4) if self.needs else None

    @property
    def balance_m2(self) -> float:
        return round(self.available_m2 - self.m2_asked, 2)


@dataclass
class SupplyDemand:
    buurten: dict[str, Figures]
    stadsdelen: dict[str, Figures]
    city: Figures
    min_score: float

    def containing(self, buurt: str, areas: AreaIndex, *, strict: bool = True) -> list[Figures]:
        """The buurt's figures, its stadsdeel's and the city's. ``strict=False`` skips a code
        the area index does not know (a property's buurt may be outside the loaded areas)."""
        if strict:
            return [self.buurten[buurt], self.stadsdelen[areas.stadsdelen[buurt]], self.city]
        found = (self.buurten.get(buurt), self.stadsdelen.get(areas.stadsdelen.get(buurt, "")))
        return [*(f for f in found if f is not None), self.city]

    def all(self) -> list[Figures]:
        return [*self.buurten.values(), *self.stadsdelen.values(), self.city]


def supply_demand(
    store: Store,
    *,
    areas: AreaIndex,
    layers: tuple[str, ...] = (),
    min_score: float = 0.5,
    with_matches: bool = True,
    **matching: Unpack[MatchOptions],
) -> SupplyDemand:
    """The figures per buurt, per stadsdeel and for the city (see the module docstring).

    ``with_matches=False`` skips ranking every need (the overview map needs only m² figures).
    """
    figures = SupplyDemand(
        buurten={c: Figures(c, areas.names[c]) for c in areas.buurt_codes},
        stadsdelen={
            c: Figures(c, areas.names[c]) for c in areas.codes if areas.levels[c] == "stadsdeel"
        },
        city=Figures("0363", "Amsterdam"),
        min_score=min_score,
    )
    with store.sessions() as session:
        supply_rows, eligible = _supply(session, layers)
        open_needs = session.execute(
            select(Need.id, Need.min_area_m2, Need.areas, Need.x, Need.y).where(
                Need.status == "open"
            )
        ).all()
    for buurt, count, m2 in supply_rows:
        for fig in figures.containing(buurt, areas, strict=False):
            fig.available_properties += int(count)
            fig.available_m2 += float(m2 or 0.0)
    ranked = all_matches(store, areas, **matching) if with_matches else {}
    fitted = _fitted(ranked, eligible, min_score)
    for need in open_needs:
        _add_demand(figures, need, need.id in fitted, areas)
    for fig in figures.all():
        fig.available_m2 = round(fig.available_m2, 2)
        fig.m2_asked = round(fig.m2_asked, 2)
    return figures


def _supply(session: Session, layers: tuple[str, ...]) -> tuple[list[Any], set[str]]:
    """Available properties (of ``layers``, or all) per buurt as (buurt, count, m²) rows, and
    the ids of those properties (a fit must be one of them)."""
    supply = (
        select(Property.buurt_code, func.count(Property.id), func.sum(Property.area_m2))
        .where(Property.status == AVAILABLE)
        .group_by(Property.buurt_code)
    )
    ids = select(Property.id).where(Property.status == AVAILABLE)
    if layers:
        supply = supply.where(Property.layer.in_(layers))
        ids = ids.where(Property.layer.in_(layers))
    return list(session.execute(supply).all()), set(session.scalars(ids))


def _fitted(ranked: Mapping[int, list[Match]], eligible: set[str], min_score: float) -> set[int]:
    """The needs with at least one fit: a match scoring ``min_score`` on an eligible property."""
    return {
        nid
        for nid, ms in ranked.items()
        if any(m.score >= min_score and m.property_id in eligible for m in ms)
    }


def _add_demand(figures: SupplyDemand, need: Any, fits: bool, areas: AreaIndex) -> None:
    """Count one open need in every buurt it accepts (and their stadsdelen and the city), its
    minimum area spread evenly over those buurten."""
    codes = [a for a in (need.areas or "").split(",") if a]
    accepted = sorted(need_buurten(codes, need.x, need.y, areas))
    share = float(need.min_area_m2) / len(accepted) if accepted else 0.0
    for buurt in accepted:
        for fig in figures.containing(buurt, areas):
            fig.m2_asked += share
            fig.needs.add(need.id)
            if fits:
                fig.fitted.add(need.id)


def figures_row(fig: Figures, areas: AreaIndex) -> dict[str, Any]:
    level = areas.levels.get(fig.code, "")
    stadsdeel = fig.code[:1]
    return {
        "id": fig.code, "name": fig.name, "level": level,
        "wijk": fig.code[:2] if level == "buurt" else None, "stadsdeel": stadsdeel,
        "stadsdeel_name": areas.names.get(stadsdeel, ""),
        "available_properties": fig.available_properties, "available_m2": fig.available_m2,
        "open_needs": fig.open_needs, "m2_asked": fig.m2_asked, "balance_m2": fig.balance_m2,
        "needs_with_fit": fig.needs_with_fit, "matched_share": fig.matched_share,
    }  # fmt: skip


def areas_table(
    store: Store, query: ExportQuery, *, areas: AreaIndex, **matching: Unpack[MatchOptions]
) -> Table:
    """Supply and demand per buurt, with the buurt polygon (the stored one, RD New)."""
    import shapely  # on use: a CLI command that needs no GIS starts faster

    figures = supply_demand(
        store, areas=areas, layers=query.layer, min_score=query.min_score, **matching
    )
    codes = list(areas.buurt_codes)
    if query.area:
        wanted = set(areas.buurten_in(query.area))
        codes = [c for c in codes if c in wanted]
    with store.sessions() as session:
        wkb = dict(session.execute(select(Area.code, Area.geom).where(Area.level == "buurt")).all())
    table = Table(
        "areas",
        AREA_COLUMNS,
        [figures_row(figures.buurten[c], areas) for c in codes],
        [shapely.from_wkb(wkb[c]) for c in codes],
    )
    return filter_bbox(table, query.bbox)
