"""The allocation share and its chart: the manifesto's 35 % of allocated m² by 2035. Flask-free.

The share: m² of properties with status ``toegewezen`` whose latest allocation event names a
community-economy need (cooperatie, stichting, vereniging, sociale onderneming), over all
toegewezen m². A toegewezen property without an event counts as allocated to someone else,
from before the record starts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from spacematch.db import Store
from spacematch.export.tables import COMMUNITY_LEGAL_FORMS
from spacematch.models import Need, Property, StatusEvent

TARGET_SHARE = 0.35
TARGET_YEAR = 2035


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
