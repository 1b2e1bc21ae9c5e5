"""Supply and demand per buurt and stadsdeel, the matches, the allocation share. Flask-free.

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
* allocation share: m² of properties with status ``toegewezen`` whose latest allocation event
  names a community-economy need (cooperatie, stichting, vereniging, sociale onderneming), over
  all toegewezen m². A toegewezen property without an event counts as allocated to someone
  else, from before the record starts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
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
    StatusEvent,
)

if TYPE_CHECKING:  # the matching engine is imported on first use (see all_matches)
    from spacematch.matching import Match

AVAILABLE = "beschikbaar"
TARGET_SHARE = 0.35
TARGET_YEAR = 2035

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


@dataclass
class AllocationShare:
    total_m2: float
    community_m2: float
    properties: int
    community_properties: int
    series: list[tuple[dt.date, float]]  # cumulative community share after each allocation day

    @property
    def share(self) -> float | None:
        return self.community_m2 / self.total_m2 if self.total_m2 else None


def allocation_share(store: Store) -> AllocationShare:
    """Share of allocated (toegewezen) municipal m² that went to community-economy initiatives."""
    with store.sessions() as session:
        allocated = dict(
            session.execute(
                select(Property.id, Property.area_m2).where(Property.status == "toegewezen")
            ).all()
        )
        events = session.execute(
            select(StatusEvent.property_id, StatusEvent.at, Need.legal_form)
            .outerjoin(Need, Need.id == StatusEvent.need_id)
            .where(
                StatusEvent.to_status == "toegewezen", StatusEvent.property_id.in_(list(allocated))
            )
            .order_by(StatusEvent.at, StatusEvent.id)
        ).all()
    latest: dict[str, tuple[dt.date, bool]] = {}
    for prop_id, at, legal_form in events:  # later events overwrite earlier ones
        latest[prop_id] = (at.date(), legal_form in COMMUNITY_LEGAL_FORMS)
    undated = sum(m2 for pid, m2 in allocated.items() if pid not in latest)
    total, community = float(undated), 0.0
    by_day: dict[dt.date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for pid, (day, is_community) in latest.items():
        by_day[day][0] += allocated[pid]
        by_day[day][1] += allocated[pid] if is_community else 0.0
    series: list[tuple[dt.date, float]] = []
    for day in sorted(by_day):
        total += by_day[day][0]
        community += by_day[day][1]
        series.append((day, community / total if total else 0.0))
    return AllocationShare(
        total_m2=round(total, 2), community_m2=round(community, 2), properties=len(allocated),
        community_properties=sum(1 for _, c in latest.values() if c), series=series,
    )  # fmt: skip


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@dataclass(frozen=True)
class _ChartFrame:
    """Where dates and shares land in the chart: plot area inside the margins, from 1 January of
    the first year shown to the end of the target year, shares from 0 (bottom) to 1 (top)."""

    width: int
    height: int
    start: dt.date
    end: dt.date
    left: int = 48
    right: int = 24
    top: int = 16
    bottom: int = 32

    def x(self, day: dt.date) -> float:
        span = (self.end - self.start).days or 1
        return round(self.left + (self.width - self.left - self.right) * (day - self.start).days
                     / span, 1)  # fmt: skip

    def y(self, value: float) -> float:
        return round(self.top + (self.height - self.top - self.bottom) * (1 - value), 1)


def share_chart_svg(
    share: AllocationShare,
    *,
    labels: Mapping[str, str],
    today: dt.date | None = None,
    percent: Callable[[float], str] = lambda v: f"{v * 100:.1f}%",
    width: int = 640,
    height: int = 260,
) -> str:
    """The community share of allocated m² over time against the 35%-by-2035 line, as inline SVG.

    Server-side and dependency-free (no chart library, no CDN). ``labels`` holds the translated
    texts (title, target, needed, now, empty); ``percent`` formats a share in the user's locale.
    """
    today = today or dt.date.today()
    start_year = min([today.year, *(d.year for d, _ in share.series)])
    frame = _ChartFrame(width, height, dt.date(start_year, 1, 1), dt.date(TARGET_YEAR, 12, 31))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="share-title" class="share-chart">',
        f'<title id="share-title">{_esc(labels["title"])}</title>',
        *_chart_axes(frame, start_year),
        _chart_target(frame, labels["target"]),
    ]
    if not share.series:
        parts.append(
            f'<text x="{(frame.left + width - frame.right) / 2}" y="{frame.y(0.7)}" '
            f'text-anchor="middle" font-size="13" fill="#555">{_esc(labels["empty"])}</text>'
        )
    else:
        parts.append(_chart_series(frame, share, today, labels, percent))
    parts.append("</svg>")
    return "".join(parts)


def _chart_axes(frame: _ChartFrame, start_year: int) -> list[str]:
    """Grid lines at 0, 25, 50, 75 and 100 %, and the years below (every other one when many)."""
    right = frame.width - frame.right
    parts = []
    for pct in (0, 25, 50, 75, 100):
        yy = frame.y(pct / 100)
        parts.append(
            f'<line x1="{frame.left}" x2="{right}" y1="{yy}" y2="{yy}" stroke="#ddd"/>'
            f'<text x="{frame.left - 6}" y="{yy + 4}" text-anchor="end" '
            f'font-size="11">{pct}%</text>'
        )
    step = 1 if TARGET_YEAR - start_year < 12 else 2
    for year in range(start_year, TARGET_YEAR + 1):
        if (TARGET_YEAR - year) % step == 0:
            parts.append(
                f'<text x="{frame.x(dt.date(year, 7, 1))}" y="{frame.height - frame.bottom + 16}" '
                f'text-anchor="middle" font-size="11">{year}</text>'
            )
    return parts


def _chart_target(frame: _ChartFrame, label: str) -> str:
    """The manifesto's line: TARGET_SHARE, dashed red, labelled at its right end."""
    right, target_y = frame.width - frame.right, frame.y(TARGET_SHARE)
    return (
        f'<line x1="{frame.left}" x2="{right}" y1="{target_y}" y2="{target_y}" '
        f'stroke="#ec0000" stroke-width="2" stroke-dasharray="6 4" class="target"/>'
        f'<text x="{right}" y="{target_y - 6}" text-anchor="end" font-size="12" '
        f'fill="#ec0000">{_esc(label)}</text>'
    )


def _chart_series(
    frame: _ChartFrame,
    share: AllocationShare,
    today: dt.date,
    labels: Mapping[str, str],
    percent: Callable[[float], str],
) -> str:
    """The share so far as steps up to today, the path still needed to the target, and today's
    value labelled (below the point when it sits just under the target line)."""
    points = [(frame.x(share.series[0][0]), frame.y(share.series[0][1]))]
    for (_, before), (day, value) in zip(share.series, share.series[1:], strict=False):
        points += [(frame.x(day), frame.y(before)), (frame.x(day), frame.y(value))]
    points.append((frame.x(today), points[-1][1]))
    path = " ".join(f"{px},{py}" for px, py in points)
    now_x, now_y = points[-1]
    current = share.share or 0.0
    label_y = now_y + (16 if 0 < TARGET_SHARE - current < 0.1 else -6)
    return (
        f'<polyline points="{path}" fill="none" stroke="#2b83ba" stroke-width="2.5" '
        f'class="actual"/>'
        f'<line x1="{now_x}" y1="{now_y}" x2="{frame.x(frame.end)}" y2="{frame.y(TARGET_SHARE)}" '
        f'stroke="#888" stroke-dasharray="2 3" class="needed">'
        f"<title>{_esc(labels['needed'])}</title></line>"
        f'<circle cx="{now_x}" cy="{now_y}" r="4" fill="#2b83ba"/>'
        f'<text x="{now_x + 6}" y="{label_y}" font-size="12" fill="#2b83ba">'
        f"{_esc(labels['now'])}: {_esc(percent(current))}</text>"
    )
