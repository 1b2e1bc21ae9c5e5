"""Declared space needs: validation (shared by the JSON API, the form and the demo loader) and
storage. Flask-free.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.domain.messages import Message, ValidationError
from spacematch.models import (
    LEGAL_FORMS,
    NEED_STATUSES,
    SECTORS,
    USES,
    Need,
)

TEXT_LIMITS = {"initiative": 200, "contact_name": 200, "description": 5000}
# Refused in text: control characters but tab and newlines (NUL cannot be stored in PostgreSQL)
# and lone surrogates (no UTF-8 form: JSON can carry them as "\ud800" escapes).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_AREA_M2 = 1_000_000.0
MAX_DISTANCE_M = 20_000.0
DEFAULT_DISTANCE_M = 1_000.0
FIELDS = (
    "initiative", "legal_form", "sector", "contact_name", "contact_email", "description",
    "min_area_m2", "max_area_m2", "max_rent_eur_month", "uses", "areas", "point",
    "max_distance_m", "needed_from", "min_months", "accessible", "status", "hide_name",
    "willing_to_share",
)  # fmt: skip


@dataclass(frozen=True)
class NeedInput:
    """A validated need, in store units (RD New point)."""

    initiative: str
    legal_form: str
    sector: str
    contact_name: str
    contact_email: str
    description: str
    min_area_m2: float
    max_area_m2: float
    max_rent_eur_month: float
    uses: tuple[str, ...]
    areas: tuple[str, ...]
    x: float | None
    y: float | None
    max_distance_m: float | None
    needed_from: dt.date
    min_months: int
    accessible: bool
    status: str = "open"
    hide_name: bool = False  # public allocation results show the legal form only
    willing_to_share: bool = False  # may be offered a seat of a space shared with others

    def columns(self) -> dict[str, Any]:
        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        values["uses"] = ",".join(self.uses)
        values["areas"] = ",".join(self.areas)
        return values


def validate_need(
    data: Mapping[str, Any],
    *,
    areas: AreaIndex,
    today: dt.date | None = None,
    allow_past: bool = False,
) -> NeedInput:
    """Check every field, collect every problem, and raise one ValidationError listing them."""
    errors: dict[str, Message] = {}
    if not isinstance(data, Mapping):
        raise ValidationError({"_": Message("object")})
    for key in data:
        if key not in FIELDS:
            errors[str(key)] = Message("unknown_field")

    def text(name: str, *, required: bool = True) -> str:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                errors[name] = Message("required")
            return ""
        if not isinstance(value, str):
            errors[name] = Message("required")
            return ""
        value = value.strip()
        limit = TEXT_LIMITS.get(name)
        if limit and len(value) > limit:
            errors[name] = Message("too_long", {"max": limit})
        elif CONTROL_CHARACTERS.search(value):
            errors[name] = Message("characters")
        return value

    def choice(name: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = data.get(name, default)
        if value is None or value == "":
            errors[name] = Message("required")
            return ""
        if value not in choices:
            errors[name] = Message("choice", {"choices": ", ".join(choices)})
            return ""
        return value

    def number(
        name: str, *, minimum: float, maximum: float, required: bool = True, integer: bool = False
    ) -> float | None:
        value = data.get(name)
        if value is None or value == "":
            if required:
                errors[name] = Message("required")
            return None
        if isinstance(value, bool):
            errors[name] = Message("number")
            return None
        try:
            number_value = float(value) if not integer else _as_int(value)
        except (TypeError, ValueError, OverflowError):
            errors[name] = Message("integer" if integer else "number")
            return None
        if number_value != number_value or not minimum <= number_value <= maximum:  # NaN too
            errors[name] = Message("range", {"min": _fmt(minimum), "max": _fmt(maximum)})
            return None
        return number_value

    def codes(name: str) -> list[str]:
        value = data.get(name, [])
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors[name] = Message("list")
            return []
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))

    initiative = text("initiative")
    contact_name = text("contact_name")
    description = text("description", required=False)
    legal_form = choice("legal_form", LEGAL_FORMS)
    sector = choice("sector", SECTORS)
    status = choice("status", NEED_STATUSES, default="open")

    email = text("contact_email")
    if email and "contact_email" not in errors:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["contact_email"] = Message("email")

    min_area = number("min_area_m2", minimum=0.0, maximum=MAX_AREA_M2)
    max_area = number("max_area_m2", minimum=0.0, maximum=MAX_AREA_M2)
    for name, value in (("min_area_m2", min_area), ("max_area_m2", max_area)):
        if value is not None and value <= 0:
            errors[name] = Message("positive")
    if min_area and max_area and min_area > max_area and "max_area_m2" not in errors:
        errors["min_area_m2"] = Message("min_above_max")
    budget = number("max_rent_eur_month", minimum=0.0, maximum=10_000_000.0)
    min_months = number("min_months", minimum=1, maximum=1200, integer=True)
    if "min_months" not in data:
        errors.pop("min_months", None)
        min_months = 12

    uses = codes("uses")
    if "uses" not in errors:
        unknown = [u for u in uses if u not in USES]
        if unknown:
            errors["uses"] = Message("unknown_use", {"values": ", ".join(unknown)})
        elif not uses:
            errors["uses"] = Message("no_use")

    area_codes = codes("areas")
    if "areas" not in errors:
        unknown = [a for a in area_codes if a not in areas]
        if unknown:
            errors["areas"] = Message("unknown_area", {"values": ", ".join(unknown)})

    x = y = distance = None
    point = data.get("point")
    if point is not None and point != "":
        x, y = _point(point, areas, errors)
        distance = number("max_distance_m", minimum=1.0, maximum=MAX_DISTANCE_M, required=False)
        if distance is None and "max_distance_m" not in errors:
            distance = DEFAULT_DISTANCE_M
    elif data.get("max_distance_m") not in (None, ""):
        distance = number("max_distance_m", minimum=1.0, maximum=MAX_DISTANCE_M)
    if not area_codes and (point is None or point == "") and "areas" not in errors:
        errors["areas"] = Message("no_place")

    needed_from = _date(data.get("needed_from"), "needed_from", errors)
    today = today or dt.date.today()
    if needed_from and not allow_past and needed_from < today:
        errors["needed_from"] = Message("past_date")

    def boolean(name: str) -> bool:
        value = data.get(name, False)
        if value in ("true", "1", "on", "yes"):
            value = True
        elif value in ("false", "0", "off", "no", "", None):
            value = False
        if not isinstance(value, bool):
            errors[name] = Message("boolean")
            return False
        return value

    accessible = boolean("accessible")
    hide_name = boolean("hide_name")
    willing_to_share = boolean("willing_to_share")

    if errors:
        raise ValidationError(errors)
    return NeedInput(
        initiative=initiative, legal_form=legal_form, sector=sector, contact_name=contact_name,
        contact_email=email, description=description, min_area_m2=float(min_area),
        max_area_m2=float(max_area), max_rent_eur_month=float(budget), uses=tuple(
            u for u in USES if u in uses), areas=tuple(area_codes), x=x, y=y,
        max_distance_m=distance, needed_from=needed_from, min_months=int(min_months),
        accessible=bool(accessible), status=status, hide_name=hide_name,
        willing_to_share=willing_to_share,
    )  # fmt: skip


def _as_int(value: Any) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not whole")
    if isinstance(value, str):
        value = value.strip()
    return int(value)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _date(value: Any, name: str, errors: dict[str, Message]) -> dt.date | None:
    if value is None or value == "":
        errors[name] = Message("required")
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = Message("date")
        return None


def _point(
    value: Any, areas: AreaIndex, errors: dict[str, Message]
) -> tuple[float | None, float | None]:
    """A [lon, lat] pair in WGS84, converted to RD New and checked to lie inside a buurt."""
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    try:
        lon, lat = (float(v) for v in value)
    except (TypeError, ValueError):
        errors["point"] = Message("point")
        return None, None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors["point"] = Message("point")
        return None, None
    x, y = geo.wgs84_to_rd_xy(lon, lat)
    if areas.buurt_of_points([x], [y])[0] is None:
        errors["point"] = Message("outside")
        return None, None
    return float(x), float(y)


def new_token() -> str:
    """An unguessable 256-bit URL-safe token for an initiative's private page."""
    return secrets.token_urlsafe(32)


_INSERT_NEED = insert(Need).returning(Need.id)


class NewNeed(NamedTuple):
    id: int
    token: str


def create_need(conn: Session | Connection, need: NeedInput, *, is_demo: bool = False) -> NewNeed:
    """Store a need with one INSERT (the database's trigger moves the data version, see
    migration 0003). Given ``Store.one_statement()``'s connection it is a whole transaction in
    one round trip; given a session it joins that session's transaction."""
    token = new_token()
    # A fixed statement with parameters: compiled once per process. (``insert().values(...)``
    # builds and hashes a new statement per call, which cost more CPU than the database.)
    params = {"token": token, "is_demo": is_demo, **need.columns()}
    new_id = conn.execute(_INSERT_NEED, params).scalar_one()
    return NewNeed(int(new_id), token)


def update_need(row: Need, need: NeedInput) -> Need:
    """Change a stored need in its session (the trigger moves the data version on flush)."""
    for key, value in need.columns().items():
        setattr(row, key, value)
    return row


def point_wgs84(row: Need) -> list[float] | None:
    """The need's point as [lon, lat], for the API and maps."""
    if row.x is None or row.y is None:
        return None
    lon, lat = geo.rd_to_wgs84_xy(row.x, row.y)
    return [round(float(lon), 7), round(float(lat), 7)]
