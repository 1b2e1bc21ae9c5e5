"""The need as the engine sees it: a plain value, so a need that is not stored can be ranked too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# A point without a distance means "near here": the intake form uses the same default.
DEFAULT_MAX_DISTANCE_M = 1_000.0
COMMUNITY_LEGAL_FORMS = frozenset({"cooperatie", "stichting", "vereniging", "sociale_onderneming"})


@dataclass
class NeedQuery:
    """What matching needs to know about a need (no personal data).

    ``x``/``y`` is an optional point in RD New. ``max_distance_m`` is measured from that point
    when there is one; without a point it is a tolerance around the preferred areas (see
    ``criteria``). ``id`` is None for a need that is not stored.
    """

    min_area_m2: float
    max_area_m2: float
    max_rent_eur_month: float
    uses: list[str]
    needed_from: dt.date
    areas: list[str] = field(default_factory=list)
    x: float | None = None
    y: float | None = None
    max_distance_m: float | None = None
    min_months: int = 12
    accessible: bool = False
    status: str = "open"
    legal_form: str = "informeel"
    id: int | None = None

    def __post_init__(self) -> None:
        self.uses = list(self.uses)
        self.areas = list(dict.fromkeys(self.areas))
        # Lenient on purpose: a stored need that slipped past validation must not break the
        # index for everyone; a half point is no point, and a range upside down matches little.
        if self.x is None or self.y is None:
            self.x = self.y = None
        elif self.max_distance_m is None:
            self.max_distance_m = DEFAULT_MAX_DISTANCE_M

    @property
    def has_point(self) -> bool:
        return self.x is not None

    @property
    def is_community(self) -> bool:
        """Community economy by legal form (see ``COMMUNITY_LEGAL_FORMS``)."""
        return self.legal_form in COMMUNITY_LEGAL_FORMS

    @classmethod
    def from_need(cls, need: Any) -> NeedQuery:
        """From the ORM ``Need`` (or any object with its attributes)."""
        return cls.from_row(need)

    @classmethod
    def from_row(cls, row: Any) -> NeedQuery:
        """From an ORM object or a Core row with the Need columns (uses/areas comma-separated)."""
        return cls(
            id=row.id,
            min_area_m2=float(row.min_area_m2),
            max_area_m2=float(row.max_area_m2),
            max_rent_eur_month=float(row.max_rent_eur_month),
            uses=[u for u in (row.uses or "").split(",") if u],
            areas=[a for a in (row.areas or "").split(",") if a],
            x=None if row.x is None else float(row.x),
            y=None if row.y is None else float(row.y),
            max_distance_m=None if row.max_distance_m is None else float(row.max_distance_m),
            needed_from=row.needed_from,
            min_months=int(row.min_months if row.min_months is not None else 12),
            accessible=bool(row.accessible),
            status=row.status or "open",
            legal_form=row.legal_form or "informeel",
        )
