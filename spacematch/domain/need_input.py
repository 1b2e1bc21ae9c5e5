"""A declared need's input: the one definition of its fields, their limits and their messages.

``NeedInput`` (pydantic) is read by the JSON API and the intake form (through ``validate_need``),
by the form's rendering (``limits``) and by the OpenAPI document (``openapi_schema``), so a
limit is written once, here. Every field has a *before* parser (``need_parsers``) that
accepts what the API and the form send (numbers as decimal strings, lists as comma-separated
strings, ``point`` as ``"lon,lat"``...) and refuses with a ``Message`` code; the checks across
fields are small functions run both when every field passed and when some did not, so one
refusal lists every problem (OSMnx style). Flask-free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cache, cached_property, partial
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from pydantic_core import PydanticCustomError

from spacematch import geo
from spacematch.domain.areas import AreaIndex
from spacematch.domain.messages import CATALOGUE, Message, ValidationError
from spacematch.domain.need_parsers import (
    DEFAULT_DISTANCE_M,
    LONGITUDE,
    MAX_AREA_M2,
    MAX_DISTANCE_M,
    MAX_RENT_EUR_MONTH,
    NeedContext,
    parse_areas,
    parse_boolean,
    parse_choice,
    parse_date,
    parse_email,
    parse_number,
    parse_point,
    parse_text,
    parse_uses,
)
from spacematch.models import LEGAL_FORMS, NEED_STATUSES, SECTORS, USES

# A missing required field is "required", except where a more helpful message exists.
WHEN_MISSING = {"uses": "no_use"}
PERSONAL = "Personal data: shown to officers only."


# --- field types: each one's limits feed both its parser and its schema -------------------------


def _text_field(max_length: int, *, required: bool = True) -> Any:
    schema: dict[str, Any] = {"pattern": r"\S"} if required else {"nullable": True}
    return Annotated[
        str,
        Field(max_length=max_length, json_schema_extra=schema),
        BeforeValidator(partial(parse_text, max_length=max_length, required=required)),
    ]


def _number_field(
    *,
    maximum: float,
    minimum: float = 0.0,
    positive: bool = False,
    integer: bool = False,
    required: bool = True,
) -> Any:
    parse = partial(
        parse_number, minimum=minimum, maximum=maximum, positive=positive, integer=integer,
        required=required,
    )  # fmt: skip
    kind: Any = int if integer else float
    constraints = Field(gt=minimum, le=maximum) if positive else Field(ge=minimum, le=maximum)
    if required:
        return Annotated[kind, constraints, BeforeValidator(parse)]
    return Annotated[Annotated[kind, constraints] | None, BeforeValidator(parse)]


def _choice_field(choices: tuple[str, ...]) -> Any:
    return Annotated[Literal[choices], BeforeValidator(partial(parse_choice, choices=choices))]


# The field types. mypy sees what a field holds; pydantic sees the parser and the limits.
if TYPE_CHECKING:
    ShortText: TypeAlias = str
    LongText: TypeAlias = str
    LegalForm: TypeAlias = str
    Sector: TypeAlias = str
    NeedStatus: TypeAlias = str
    Use: TypeAlias = str
    Area: TypeAlias = float
    Rent: TypeAlias = float
    Distance: TypeAlias = float | None
    Months: TypeAlias = int
else:
    ShortText = _text_field(200)
    LongText = _text_field(5000, required=False)
    LegalForm = _choice_field(LEGAL_FORMS)
    Sector = _choice_field(SECTORS)
    NeedStatus = _choice_field(NEED_STATUSES)
    Use = Literal[USES]
    Area = _number_field(maximum=MAX_AREA_M2, positive=True)
    Rent = _number_field(maximum=MAX_RENT_EUR_MONTH)
    Distance = _number_field(minimum=1.0, maximum=MAX_DISTANCE_M, required=False)
    Months = _number_field(minimum=1, maximum=1200, integer=True)
# OpenAPI 3.0 has one schema for all items of an array: both of the point's numbers are
# declared -180..180; the parser holds the latitude to -90..90.
Degrees = Annotated[float, Field(ge=LONGITUDE[0], le=LONGITUDE[1])]


class NeedInput(BaseModel):
    """A validated need; ``x``/``y`` give its point in store units (RD New)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    initiative: ShortText
    legal_form: LegalForm
    sector: Sector
    contact_name: ShortText = Field(description=PERSONAL)
    contact_email: Annotated[str, BeforeValidator(parse_email)] = Field(
        max_length=254, description=PERSONAL, json_schema_extra={"format": "email"}
    )
    description: LongText = ""
    min_area_m2: Area = Field(description="At most max_area_m2.")
    max_area_m2: Area
    max_rent_eur_month: Rent = Field(description="Total monthly budget for rent, €.")
    uses: Annotated[tuple[Use, ...], Field(min_length=1), BeforeValidator(parse_uses)]
    areas: Annotated[tuple[str, ...], BeforeValidator(parse_areas)] = Field(
        default=(),
        description="Preferred areas: any mix of stadsdeel, gebied, wijk and buurt codes "
        "(see /api/areas).",
    )
    point: Annotated[
        tuple[Degrees, Degrees] | None,
        BeforeValidator(parse_point),
    ] = Field(
        default=None,
        description="[lon, lat] in WGS84 (longitude -180..180, latitude -90..90), inside "
        "Amsterdam.",
    )
    max_distance_m: Distance = Field(
        default=None,
        description=f"How far from the point is fine, m (default {DEFAULT_DISTANCE_M:g} with "
        "a point).",
    )
    needed_from: Annotated[dt.date, BeforeValidator(parse_date)] = Field(
        description="ISO 8601; today or later."
    )
    min_months: Months = 12
    accessible: Annotated[bool, BeforeValidator(parse_boolean)] = Field(
        default=False, description="Step-free access required."
    )
    status: NeedStatus = "open"
    hide_name: Annotated[bool, BeforeValidator(parse_boolean)] = Field(
        default=False, description="Public allocation results show the legal form only."
    )
    willing_to_share: Annotated[bool, BeforeValidator(parse_boolean)] = Field(
        default=False, description="May be offered a seat of a space shared by 2-3 initiatives."
    )

    @pydantic.model_validator(mode="after")
    def _across_fields(self) -> NeedInput:
        problems = problems_across(dict(self), failed=set())
        if problems:
            raise PydanticCustomError("across", "rules across fields", {"problems": problems})
        if self.point is not None and self.max_distance_m is None:
            self.__dict__["max_distance_m"] = DEFAULT_DISTANCE_M  # frozen: set once, here
        return self

    @cached_property
    def rd_xy(self) -> tuple[float | None, float | None]:
        import numpy as np

        if self.point is None:
            return None, None
        x, y = geo.wgs84_to_rd_xy(np.array([self.point[0]]), np.array([self.point[1]]))
        return float(x[0]), float(y[0])

    @property
    def x(self) -> float | None:
        return self.rd_xy[0]

    @property
    def y(self) -> float | None:
        return self.rd_xy[1]

    def columns(self) -> dict[str, Any]:
        """The ``need`` table's columns (codes joined by commas, the point in RD New)."""
        values = self.model_dump(exclude={"point"})
        values["uses"] = ",".join(self.uses)
        values["areas"] = ",".join(self.areas)
        values["x"], values["y"] = self.rd_xy
        values["min_area_m2"] = float(self.min_area_m2)
        values["max_area_m2"] = float(self.max_area_m2)
        values["max_rent_eur_month"] = float(self.max_rent_eur_month)
        return values


FIELDS: tuple[str, ...] = tuple(NeedInput.model_fields)


# --- rules across fields -----------------------------------------------------------------------


def _min_within_max(values: Mapping[str, Any]) -> dict[str, Message]:
    if values["min_area_m2"] > values["max_area_m2"]:
        return {"min_area_m2": Message("min_above_max")}
    return {}


def _has_a_place(values: Mapping[str, Any]) -> dict[str, Message]:
    if not values["areas"] and values["point"] is None:
        return {"areas": Message("no_place")}
    return {}


# (fields a rule reads, the rule): a rule runs only when its fields passed on their own.
RULES: tuple[tuple[frozenset[str], Callable[[Mapping[str, Any]], dict[str, Message]]], ...] = (
    (frozenset({"min_area_m2", "max_area_m2"}), _min_within_max),
    (frozenset({"areas", "point"}), _has_a_place),
)


def problems_across(values: Mapping[str, Any], *, failed: set[str]) -> dict[str, Message]:
    """The rules across fields whose fields are all in ``values`` and none in ``failed``."""
    problems: dict[str, Message] = {}
    for names, rule in RULES:
        if not names & failed and names <= values.keys():
            problems.update(rule(values))
    return problems


@cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(NeedInput.model_fields[name].rebuild_annotation())


def _field_values(data: Mapping[str, Any], names: set[str], context: NeedContext) -> dict[str, Any]:
    """The named fields parsed on their own (for the rules when another field failed)."""
    values = {}
    for name in names:
        if name in context.parsed:
            values[name] = context.parsed[name]
        elif name in data:
            values[name] = _field_adapter(name).validate_python(data[name], context=context)
        else:  # as the model does: a default is not validated
            values[name] = NeedInput.model_fields[name].get_default(call_default_factory=True)
    return values


# --- the entry point -----------------------------------------------------------------------------


def _messages(err: pydantic.ValidationError) -> dict[str, Message]:
    """pydantic's errors as one ``Message`` per field (the first problem of each)."""
    messages: dict[str, Message] = {}
    for error in err.errors(include_url=False, include_input=False):
        name = str(error["loc"][0]) if error["loc"] else "_"
        kind = error["type"]
        if kind == "extra_forbidden":
            message = Message("unknown_field")
        elif kind == "missing":
            message = Message(WHEN_MISSING.get(name, "required"))
        elif kind == "across":
            for key, value in error["ctx"]["problems"].items():
                messages.setdefault(key, value)
            continue
        elif kind in CATALOGUE:
            message = Message(kind, dict(error.get("ctx") or {}))
        elif kind == "string_too_long":  # an e-mail address longer once normalised
            message = Message("too_long", {"max": error["ctx"]["max_length"]})
        else:  # a pydantic check behind a parser, which refuses first: cannot happen
            raise RuntimeError(f"NeedInput.{name}: unexpected {kind}") from err
        messages.setdefault(name, message)
    return messages


def validate_need(
    data: Any,
    *,
    areas: AreaIndex,
    today: dt.date | None = None,
    allow_past: bool = False,
) -> NeedInput:
    """Check every field, collect every problem, and raise one ValidationError listing them."""
    if not isinstance(data, Mapping):
        raise ValidationError({"_": Message("object")})
    context = NeedContext(areas=areas, today=today or dt.date.today(), allow_past=allow_past)
    # Unknown keys are named here: pydantic cannot even report a key with a lone surrogate.
    errors = {str(k): Message("unknown_field") for k in data if k not in NeedInput.model_fields}
    raw = {k: v for k, v in data.items() if k in NeedInput.model_fields}
    try:
        need = NeedInput.model_validate(raw, context=context)
    except pydantic.ValidationError as err:
        errors.update(_messages(err))
    else:
        if not errors:
            return need
    failed = set(errors)
    wanted = {n for names, _ in RULES if not names & failed for n in names}
    values = _field_values(raw, wanted, context) if wanted else {}
    errors.update(problems_across(values, failed=failed))
    raise ValidationError(errors)


def field_schema(name: str) -> dict[str, Any]:
    """A field's JSON Schema as pydantic writes it, without the ``null`` branch of an optional
    one: the form's HTML limits and the OpenAPI document read the limits from here."""
    schema = dict(_json_schema()["properties"][name])
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    return {**schema, **branches[0]} if branches else schema


def limits(name: str) -> dict[str, float]:
    """A field's bounds for an HTML input (``maxlength``, ``min``, ``max``)."""
    schema = field_schema(name)
    keys = {"maxLength": "maxlength", "minimum": "min", "exclusiveMinimum": "min", "maximum": "max"}
    return {html: schema[key] for key, html in keys.items() if key in schema}


@cache
def _json_schema() -> dict[str, Any]:
    return NeedInput.model_json_schema()
