"""Results: a ``Match`` (one property-need pair with its scores) and an allocation ``Pair``.

A match keeps a reference to the index it came from and renders its reasons only when asked, so
ranking thousands of needs does not build text nobody reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spacematch.matching import criteria as crit
from spacematch.matching.need import NeedQuery
from spacematch.matching.reasons import (
    Criterion,
    Reason,
    place_reason,
    price_reason,
    priority_reason,
    size_reason,
)

if TYPE_CHECKING:
    from spacematch.matching.index import MatchIndex


class Match:
    """One property-need pair: total score, per-criterion scores, and (reverse direction) the
    community-economy priority. Reasons are built on demand from the index it came from."""

    __slots__ = (
        "_index",
        "_kind",
        "_need",
        "_pos",
        "community",
        "local",
        "need_id",
        "place",
        "price",
        "priority",
        "property_id",
        "score",
        "size",
    )

    def __init__(
        self,
        index: MatchIndex,
        need: NeedQuery,
        pos: int,
        kind: int,
        score: float,
        size: float,
        price: float,
        place: float,
        priority: float | None = None,
        community: bool = False,
        local: bool = False,
    ) -> None:
        self._index, self._need, self._pos, self._kind = index, need, pos, kind
        self.property_id: str = index.ids[pos]
        self.need_id: int | None = need.id
        self.score, self.size, self.price, self.place = score, size, price, place
        self.priority, self.community, self.local = priority, community, local

    def __repr__(self) -> str:
        extra = f", priority={self.priority}" if self.priority is not None else ""
        return (
            f"Match(property_id={self.property_id!r}, need_id={self.need_id}, score={self.score}, "
            f"size={self.size:.3f}, price={self.price:.3f}, place={self.place:.3f}{extra})"
        )

    @property
    def criteria(self) -> dict[str, Criterion]:
        """Each criterion's score with its reason."""
        ix, need, pos = self._index, self._need, self._pos
        return {
            "size": Criterion(
                self.size, size_reason(ix.area[pos], need.min_area_m2, need.max_area_m2, self.size)
            ),
            "price": Criterion(
                self.price, price_reason(ix.rent[pos], need.max_rent_eur_month, self.price)
            ),
            "place": Criterion(self.place, self._place_reason()),
        }

    def _place_reason(self) -> Reason:
        ix, need, kind = self._index, self._need, self._kind
        lookup, buurt = ix.lookup, ix.buurt_code_at(self._pos) or ""
        x, y = float(ix.x[self._pos]), float(ix.y[self._pos])
        code: str | None = None
        dist = math.nan
        if kind == crit.PREFERRED:
            code = lookup.preferred_area_of(buurt, need.areas)
        elif kind == crit.ADJACENT:
            code = lookup.adjacent_area_of(buurt, need.areas)
        elif kind == crit.NEAR:
            code, dist = lookup.nearest_area(x, y, need.areas)
        elif kind == crit.POINT:
            dist = math.hypot(x - float(need.x or 0.0), y - float(need.y or 0.0))
        names = ix.areas.names
        return place_reason(
            kind,
            level=ix.areas.levels.get(code, "") if code else "",
            name=names.get(code, "") if code else "",
            buurt=names.get(buurt, buurt),
            dist=dist,
            max_distance=float(need.max_distance_m or 0.0),
        )

    @property
    def place_kind(self) -> int:
        """Which place rule admitted the property (``criteria.PREFERRED``, ``POINT``, ...)."""
        return self._kind

    @property
    def priority_reason(self) -> Reason:
        return priority_reason(self.community, self.local, self._need.legal_form)

    def as_json(self, lang: str = "nl", *, key: str = "property") -> dict[str, Any]:
        """The DESIGN's row shape; ``key`` names the other side ("property" or "need")."""
        row: dict[str, Any] = {
            key: self.property_id if key == "property" else self.need_id,
            "score": self.score,
        }
        row["criteria"] = {
            name: {"score": crit.clean(c.score), "reason": c.reason.text(lang)}
            for name, c in self.criteria.items()
        }
        if self.priority is not None:
            row["priority"] = self.priority
            row["priority_reason"] = self.priority_reason.text(lang)
        return row


@dataclass(frozen=True)
class Pair:
    """One pair of an allocation proposal; ``value`` is what the assignment maximised."""

    need_id: int
    property_id: str
    score: float
    priority: float
    value: float
    match: Match

    @property
    def criteria(self) -> dict[str, Criterion]:
        return self.match.criteria
