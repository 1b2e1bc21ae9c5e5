"""The parsers of a need's fields, one per kind of field, each refusing with a ``Message``
code (``problem``), and the context they read (the areas, today).

``need_input.NeedInput`` puts them in front of its fields as *before* validators; they accept
what the API and the form send (numbers as decimal strings, lists as comma-separated strings,
``point`` as ``"lon,lat"``...). Flask-free.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.models import USES

MAX_AREA_M2 = 1_000_000.0
MAX_RENT_EUR_MONTH = 10_000_000.0
MAX_DISTANCE_M = 20_000.0
DEFAULT_DISTANCE_M = 1_000.0
LONGITUDE = (-180.0, 180.0)
LATITUDE = (-90.0, 90.0)
# Refused in text: control characters but tab and newlines (NUL cannot be stored in PostgreSQL)
# and lone surrogates (no UTF-8 form: JSON can carry them as "\ud800" escapes).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
TRUE = ("true", "1", "on", "yes")
FALSE = ("false", "0", "off", "no", "")


@dataclass(frozen=True)
class NeedContext:
    """What the checks need besides the input: the areas, today, and whether a past
    ``needed_from`` may stay (an edit that keeps the declared date)."""

    areas: AreaIndex
    today: dt.date
    allow_past: bool = False
    # Values of the costly fields (a point's buurt lookup) once parsed, for the rules across
    # fields when another field failed.
    parsed: dict[str, Any] = field(default_factory=dict)


def problem(code: str, **params: Any) -> PydanticCustomError:
    """A refusal pydantic carries, turned back into ``Message(code, params)`` by ``_messages``."""
    return PydanticCustomError(code, code, params)


def is_blank(value: Any) -> bool:
    return value is None or value == ""


def context_of(info: ValidationInfo) -> NeedContext:
    context = info.context
    if not isinstance(context, NeedContext):
        raise TypeError("validate a NeedInput with context=NeedContext(...)")
    return context


def parse_text(value: Any, *, max_length: int | None, required: bool) -> str:
    """Stripped text; blank is "" when allowed; no control characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise problem("required")
        return ""
    if not isinstance(value, str):
        raise problem("required")
    text = value.strip()
    if max_length is not None and len(text) > max_length:
        raise problem("too_long", max=max_length)
    if CONTROL_CHARACTERS.search(text):
        raise problem("characters")
    return text


def parse_email(value: Any) -> str:
    from email_validator import EmailNotValidError, validate_email

    text = parse_text(value, max_length=None, required=True)
    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError:
        raise problem("email") from None


def parse_choice(value: Any, *, choices: tuple[str, ...]) -> str:
    if is_blank(value):
        raise problem("required")
    if value not in choices:
        raise problem("choice", choices=", ".join(choices))
    return str(value)


def _as_int(value: Any) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not whole")
    if isinstance(value, str):
        value = value.strip()
    return int(value)


def parse_number(
    value: Any, *, minimum: float, maximum: float, positive: bool, integer: bool, required: bool
) -> float | int | None:
    """A number in [minimum, maximum] (``positive``: also > 0); strings as the form sends them."""
    if is_blank(value):
        if required:
            raise problem("required")
        return None
    if isinstance(value, bool):
        raise problem("number")
    try:
        number = _as_int(value) if integer else float(value)
    except (TypeError, ValueError, OverflowError):
        raise problem("integer" if integer else "number") from None
    if number != number or not minimum <= number <= maximum:  # NaN too
        raise problem("range", min=minimum, max=maximum)
    if positive and number <= 0:
        raise problem("positive")
    return number


def _shown(codes: list[str]) -> str:
    """Codes for a message; a lone surrogate (no UTF-8 form, pydantic cannot carry it) as U+FFFD."""
    text = ", ".join(codes)
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _codes(value: Any) -> list[str]:
    """A list of codes, or a comma-separated string of them; blanks and repeats dropped."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise problem("list")
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


def parse_uses(value: Any) -> tuple[str, ...]:
    uses = _codes(value)
    unknown = [u for u in uses if u not in USES]
    if unknown:
        raise problem("unknown_use", values=_shown(unknown))
    if not uses:
        raise problem("no_use")
    return tuple(u for u in USES if u in uses)


def parse_areas(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    codes = _codes(value)
    known = context_of(info).areas
    unknown = [a for a in codes if a not in known]
    if unknown:
        raise problem("unknown_area", values=_shown(unknown))
    context_of(info).parsed["areas"] = tuple(codes)
    return tuple(codes)


def parse_point(value: Any, info: ValidationInfo) -> tuple[float, float] | None:
    """[lon, lat] in WGS84 (or "lon,lat"), inside a buurt of the store."""
    import numpy as np

    if is_blank(value):
        return None
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    try:
        lon, lat = (float(v) for v in value)
    except (TypeError, ValueError):
        raise problem("point") from None
    if not (LONGITUDE[0] <= lon <= LONGITUDE[1] and LATITUDE[0] <= lat <= LATITUDE[1]):
        raise problem("point")
    x, y = geo.wgs84_to_rd_xy(np.array([lon]), np.array([lat]))
    if context_of(info).areas.buurt_of_points(x, y)[0] is None:
        raise problem("outside")
    context_of(info).parsed["point"] = (lon, lat)
    return (lon, lat)


def parse_date(value: Any, info: ValidationInfo) -> dt.date:
    if is_blank(value):
        raise problem("required")
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise problem("date") from None
    context = context_of(info)
    if not context.allow_past and day < context.today:
        raise problem("past_date")
    return day


def parse_boolean(value: Any) -> bool:
    if value in TRUE:
        return True
    if value in FALSE or value is None:
        return False
    if not isinstance(value, bool):
        raise problem("boolean")
    return value
