"""Attribute mappings for layer files: the format, the shipped presets, and applying one.

A *mapping* tells :func:`spacematch.layers.import_layer` which source column holds each
Property field. It is a small declarative file, TOML (``.toml``) or JSON (``.json``) with the
same structure; TOML is the one to hand-write because it allows comments::

    # ateliers.toml: mapping for the broedplaatsen export
    extends = "amsterdam-vastgoed"   # optional: start from a preset, then override it
    title = "Ateliers"               # optional: layer title when the import gives none
    crs = "EPSG:28992"               # only for files that carry no CRS of their own (CSV)
    source_layer = "eenheden"        # optional: which layer of a multi-layer GeoPackage
    optional = ["name"]              # fields whose mapped columns may be absent from the file

    [fields]                         # Property field = source column, or a list of columns
    id = "vheId"
    area_m2 = "vvo"
    uses = ["vheSoort", "feitelijkGebruik"]

    [geometry]                       # CSV only, when the columns are not detected by name
    x = "RD_X"                       # ... x/y columns, or: wkt = "geom"
    y = "RD_Y"

    [values.uses]                    # source value (case-insensitive) = field value(s)
    "Bedrijfsruimte" = "werkplaats"
    "Broedplaats" = ["atelier", "werkplaats"]
    "Leegstand" = []                 # an empty list drops the value

    [defaults]                       # constants for absent columns and empty cells
    rent_eur_m2_year = 45.0
    department = "Vastgoed"

Rules:

- A field not named in ``[fields]`` is read from the column of the same name when the file has
  one, so a file whose columns already are the design's field names needs no mapping at all.
- A field with several columns takes the first non-empty value per feature; ``uses`` instead
  combines the use classes of all its columns.
- A mapped column missing from the file is a file-level problem (a typo must not silently empty a
  field), unless the field is listed in ``optional``.
- ``[values.<field>]`` maps source values to field values before validation, matched
  case-insensitively after trimming. For ``uses`` a whole cell is looked up first, then each
  comma-separated part; unmapped values pass through and must then be valid themselves.
- ``[defaults]`` fills absent columns and empty cells. ``id`` has no default (ids must be stable).

The functions at the bottom turn a file's columns into typed Property columns. They work on whole
columns (pandas/numpy) and report problems through :class:`Problems`, one per bad cell.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .models import PROPERTY_STATUSES, USES

FIELDS = (
    "id",
    "name",
    "address",
    "area_m2",
    "rent_eur_m2_year",
    "uses",
    "available_from",
    "available_until",
    "accessible",
    "status",
    "department",
    "contact",
)
MAPPING_KEYS = (
    "extends",
    "title",
    "crs",
    "source_layer",
    "optional",
    "fields",
    "geometry",
    "values",
    "defaults",
)

# The city's gemeentelijk vastgoed export of verhuurbareEenheden: one point per lettable unit in
# RD New. It carries no rent, and the preset invents none: the asking rent drives the price
# score, so a guessed one would rank silently wrong. Give it in a mapping that extends the preset
# (see tests/fixtures/layers/vastgoed_rent.toml):
#   extends = "amsterdam-vastgoed"
#   [defaults]
#   rent_eur_m2_year = 60.0
# Values that describe no use (vacancy, unknown) are dropped; any other unexpected value is
# reported as an unknown use class, so the officer can extend the value map.
_VASTGOED_USES: dict[str, Any] = {
    "kantoor": "kantoor",
    "kantoorruimte": "kantoor",
    "kantoren": "kantoor",
    "bedrijfsruimte": "werkplaats",
    "bedrijfsruimten": "werkplaats",
    "bedrijfspand": "werkplaats",
    "werkplaats": "werkplaats",
    "winkel": "winkel",
    "winkelruimte": "winkel",
    "detailhandel": "winkel",
    "horeca": "horeca",
    "atelier": "atelier",
    "ateliers": "atelier",
    "broedplaats": "atelier",
    "maatschappelijk": "maatschappelijk",
    "maatschappelijk vastgoed": "maatschappelijk",
    "onderwijs": "maatschappelijk",
    "zorg": "maatschappelijk",
    "buurthuis": "maatschappelijk",
    "wijkcentrum": "maatschappelijk",
    "opslag": "opslag",
    "opslagruimte": "opslag",
    "berging": "opslag",
    "grond": "grond",
    "kavel": "grond",
    "terrein": "grond",
    "leegstand": [],
    "leeg": [],
    "onbekend": [],
    "geen": [],
}

PRESETS: dict[str, dict] = {
    "amsterdam-vastgoed": {
        "title": "Gemeentelijk vastgoed",
        "fields": {
            "id": ["vheId"],
            "name": ["vheNaam"],
            "area_m2": ["vvo"],
            "uses": ["vheSoort", "feitelijkGebruik"],
            # The export identifies a unit by its BAG verblijfsobject, not by a street address.
            "address": ["adres", "bagVerblijfsobjectId"],
        },
        "optional": ["name", "address"],
        "values": {"uses": _VASTGOED_USES},
        "defaults": {"department": "Gemeentelijk vastgoed"},
    },
}

# Property columns' lengths (models.py); PostgreSQL enforces them, so they are checked up front.
TEXT_LIMITS = {"name": 300, "address": 300, "department": 200, "contact": 200}
ID_LIMIT = 200  # Property.id is "<layer>.<source id>"
# Source ids end up in URLs (/properties/<layer>.<id>): no slashes, whitespace or URL syntax.
SOURCE_ID_RE = r"[^\s/\\?#%]+"
ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
TRUE_WORDS = ("true", "1", "yes", "y", "ja", "j", "waar", "t")
FALSE_WORDS = ("false", "0", "no", "n", "nee", "onwaar", "f")
USE_BIT = {u: 1 << i for i, u in enumerate(USES)}
# Every subset of USES as its canonical comma-separated string, indexed by bit mask.
USE_STRINGS = np.array(
    [",".join(u for i, u in enumerate(USES) if m >> i & 1) for m in range(1 << len(USES))],
    dtype=object,
)
_FIELD_ORDER = {
    f: i for i, f in enumerate(("layer", "mapping", "file", "crs", "geometry", *FIELDS))
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer file; ``feature`` is 1-based, None for the whole file."""

    feature: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        parts = [f"feature {self.feature}" if self.feature is not None else None, self.field]
        return ": ".join([p for p in parts if p] + [self.message])


class LayerError(Exception):
    """A layer file was refused; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(
            problems,
            key=lambda p: (p.feature or 0, _FIELD_ORDER.get(p.field or "", 99), p.message),
        )
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems; adding from a boolean mask keeps the checks vectorised."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def file(self, field: str | None, message: str) -> None:
        self.items.append(Problem(None, field, message))

    def mask(
        self, mask: np.ndarray, field: str | None, message: str | Callable[[int], str]
    ) -> None:
        """One problem per True in ``mask``; a callable message gets the 0-based row.

        Only flagged rows are visited, so a clean file costs one vectorised check per rule.
        """
        for i in np.flatnonzero(mask):
            text = message if isinstance(message, str) else message(int(i))
            self.items.append(Problem(int(i) + 1, field, text))


# --- the mapping format ----------------------------------------------------------------------


def load_mapping(source: str | Path | dict) -> dict:
    """Read and check a mapping (TOML or JSON file, or a dict); returns its normalised form.

    Raises LayerError listing every problem in the mapping.
    """
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        try:
            raw = read_mapping_file(path)
        except (OSError, ValueError) as exc:
            raise LayerError([Problem(None, "mapping", f"cannot read {path.name}: {exc}")]) from exc
    errors: list[str] = []
    mapping = normalise(raw, errors)
    if errors:
        raise LayerError([Problem(None, "mapping", e) for e in errors])
    return mapping


def empty_mapping() -> dict:
    """The normalised mapping that maps nothing: every field from its own column."""
    return {
        "title": None,
        "crs": None,
        "source_layer": None,
        "optional": [],
        "fields": {},
        "geometry": {},
        "values": {},
        "defaults": {},
    }


def read_mapping_file(path: Path) -> dict:
    """Parse a mapping file by its extension (TOML or JSON)."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    if suffix == ".json":
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict):
            raise ValueError("a JSON mapping must be an object")
        return data
    raise ValueError(f"unsupported mapping file type {suffix!r} (use .toml or .json)")


def merge(base: dict, over: dict) -> dict:
    """``over`` on top of ``base`` (both normalised): per field, per value, per default."""
    out = empty_mapping()
    for key in ("title", "crs", "source_layer"):
        out[key] = over[key] if over[key] is not None else base[key]
    out["optional"] = sorted(set(base["optional"]) | set(over["optional"]))
    out["fields"] = {**base["fields"], **over["fields"]}
    out["geometry"] = over["geometry"] or base["geometry"]
    out["defaults"] = {**base["defaults"], **over["defaults"]}
    out["values"] = {
        f: {**base["values"].get(f, {}), **over["values"].get(f, {})}
        for f in sorted(set(base["values"]) | set(over["values"]))
    }
    return out


def normalise(raw: object, errors: list[str], *, depth: int = 0) -> dict:
    """Check a raw mapping and bring it to one shape; problems go to ``errors``.

    Normalised: columns are lists, value-map keys lower-case, presets resolved. Idempotent, so a
    normalised mapping can be passed again.
    """
    out = empty_mapping()
    if not isinstance(raw, dict):
        errors.append("a mapping must be a table/object")
        return out
    for key in raw:
        if key not in MAPPING_KEYS:
            errors.append(f"unknown key {key!r} (keys: {', '.join(MAPPING_KEYS)})")

    base = None
    extends = raw.get("extends")
    if extends is not None:
        if extends not in PRESETS:
            errors.append(f"extends: unknown preset {extends!r} (presets: {', '.join(PRESETS)})")
        elif depth > 0:
            errors.append("extends: a preset cannot extend another")
        else:
            base = normalise(PRESETS[extends], errors, depth=1)

    for key in ("title", "crs", "source_layer"):
        value = raw.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            errors.append(f"{key}: must be a non-empty string")
        elif value is not None:
            out[key] = value.strip()

    optional = raw.get("optional", [])
    if not _is_str_list(optional):
        errors.append("optional: must be a list of field names")
    else:
        out["optional"] = [f for f in optional if _known_field(f, "optional", errors)]

    for name, columns in _table(raw, "fields", errors).items():
        if not _known_field(name, "fields", errors):
            continue
        cols = [columns] if isinstance(columns, str) else columns
        if not _is_str_list(cols) or not cols:
            errors.append(f"fields.{name}: must be a column name or a list of column names")
            continue
        out["fields"][name] = list(cols)

    geometry = _table(raw, "geometry", errors)
    if geometry:
        ok_keys = set(geometry) in ({"wkt"}, {"x", "y"})
        if not ok_keys or not all(isinstance(v, str) and v for v in geometry.values()):
            errors.append('geometry: give either wkt = "column" or x = "column", y = "column"')
        else:
            out["geometry"] = dict(geometry)

    for name, table in _table(raw, "values", errors).items():
        if not _known_field(name, "values", errors):
            continue
        if not isinstance(table, dict):
            errors.append(f"values.{name}: must be a table of source value = field value")
            continue
        vmap: dict[str, Any] = {}
        for source, target in table.items():
            message = _check_value(name, target)
            if message:
                errors.append(f"values.{name}.{source}: {message}")
            elif name == "uses":
                vmap[str(source).strip().lower()] = [target] if isinstance(target, str) else target
            else:
                vmap[str(source).strip().lower()] = target
        out["values"][name] = vmap

    for name, value in _table(raw, "defaults", errors).items():
        if _known_field(name, "defaults", errors):
            message = _check_default(name, value)
            if message:
                errors.append(f"defaults.{name}: {message}")
            else:
                out["defaults"][name] = list(value) if isinstance(value, list) else value

    return merge(base, out) if base is not None else out


def _check_value(name: str, target: object) -> str | None:
    """Why a value-map target is unusable, or None."""
    if name == "uses":
        targets = [target] if isinstance(target, str) else target
        if not _is_str_list(targets) or any(t not in USES for t in targets):  # type: ignore[union-attr]
            return f"must be a use class or a list of them (allowed: {', '.join(USES)})"
        return None
    if name == "accessible":
        return None if isinstance(target, bool) else "must be true or false"
    if name == "id":
        return "ids cannot be mapped to other values"
    return _check_default(name, target)


def _check_default(name: str, value: object) -> str | None:
    """Why a default (or mapped) value is unusable, or None when it is fine."""
    if name == "id":
        return "ids cannot have a default (they must be stable per feature)"
    if name in ("area_m2", "rent_eur_m2_year"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if name == "area_m2":
            return None if number and value > 0 else "must be a number greater than 0"
        return None if number and value >= 0 else "must be a number, 0 or more"
    if name == "uses":
        uses = [u.strip() for u in value.split(",")] if isinstance(value, str) else value
        if not _is_str_list(uses) or not uses or any(u not in USES for u in uses):  # type: ignore[union-attr]
            return f"must be use classes from: {', '.join(USES)}"
        return None
    if name == "accessible":
        return None if isinstance(value, bool) else "must be true or false"
    if name == "status":
        return (
            None if value in PROPERTY_STATUSES else f"must be one of {', '.join(PROPERTY_STATUSES)}"
        )
    if name in ("available_from", "available_until"):
        if isinstance(value, dt.date):
            return None
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return "must be an ISO 8601 date (YYYY-MM-DD)"
        return None
    return None if isinstance(value, str) else "must be a string"


def _table(raw: dict, key: str, errors: list[str]) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        errors.append(f"{key}: must be a table/object")
        return {}
    return value


def _known_field(name: object, section: str, errors: list[str]) -> bool:
    if name in FIELDS:
        return True
    errors.append(f"{section}: unknown field {name!r} (fields: {', '.join(FIELDS)})")
    return False


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# --- applying a mapping to a file's columns --------------------------------------------------


def map_attributes(frame: pd.DataFrame, spec: dict, slug: str, problems: Problems) -> dict:
    """The file's attributes as typed Property columns, checked column by column.

    Returns arrays aligned with the frame's rows. ``area_m2`` is nan where the file gives none:
    the caller fills in the polygon's area, else ``area_default``; ``area_given`` marks the rows
    whose file gave one.
    """
    n = len(frame)
    columns = _resolve_columns(frame, spec, problems)
    defaults, values = spec["defaults"], spec["values"]

    def text_of(name: str, *, default: bool = True) -> np.ndarray:
        text = _column(frame, columns[name])
        if text is None:
            text = np.full(n, None, dtype=object)
        text = _apply_values(text, values.get(name, {}))
        if default and name in defaults and name != "uses":
            text[text == None] = _as_cell(defaults[name])  # noqa: E711
        return text

    out: dict[str, Any] = {}
    if "id" not in spec["fields"] and not columns["id"]:
        problems.file("id", "no id column: name one (fields.id) in a mapping")
    out["source_id"] = ids = text_of("id")
    _check_ids(ids, slug, problems, report_missing=bool(columns["id"]))

    for name, limit in TEXT_LIMITS.items():
        text = text_of(name)
        too_long = pd.Series(text, dtype=object).str.len().fillna(0).to_numpy() > limit
        problems.mask(too_long, name, f"longer than {limit} characters")
        out[name] = np.where(text == None, "", text)  # noqa: E711

    status = pd.Series(text_of("status"), dtype=object)
    status = status.str.lower().where(status.notna(), "beschikbaar").to_numpy(object)
    allowed = ", ".join(PROPERTY_STATUSES)
    problems.mask(
        ~np.isin(status, PROPERTY_STATUSES),
        "status",
        lambda i: f"unknown status {_shown(status[i])} (allowed: {allowed})",
    )
    out["status"] = status

    # A polygon's own area beats a mapping's constant, so the default is applied by the caller.
    area_text = text_of("area_m2", default=False)
    out["area_m2"] = _number(area_text, "area_m2", problems)
    problems.mask(out["area_m2"] == 0, "area_m2", "must be greater than 0")
    out["area_given"] = area_text != None  # noqa: E711
    out["area_default"] = defaults.get("area_m2")

    rent_text = text_of("rent_eur_m2_year")
    out["rent_eur_m2_year"] = _number(rent_text, "rent_eur_m2_year", problems)
    if columns["rent_eur_m2_year"] or "rent_eur_m2_year" in defaults:
        problems.mask(rent_text == None, "rent_eur_m2_year", "missing")  # noqa: E711
    elif "rent_eur_m2_year" not in spec["fields"]:
        problems.file(
            "rent_eur_m2_year",
            "no rent column and no default: name a column "
            "(fields.rent_eur_m2_year) or give defaults.rent_eur_m2_year in a mapping",
        )

    masks, bad_use = _uses(frame, columns["uses"], values.get("uses", {}), problems)
    if "uses" in defaults:
        given = defaults["uses"]
        default_uses = [u.strip() for u in given.split(",")] if isinstance(given, str) else given
        masks[(masks == 0) & ~bad_use] = sum(USE_BIT[u] for u in set(default_uses))
    problems.mask(
        (masks == 0) & ~bad_use, "uses", f"no use class given (allowed: {', '.join(USES)})"
    )
    out["uses"] = USE_STRINGS[masks]

    available_from = _date(text_of("available_from"), "available_from", problems)
    available_from[np.isnat(available_from)] = np.datetime64(dt.date.today(), "D")
    available_until = _date(text_of("available_until"), "available_until", problems)
    with np.errstate(invalid="ignore"):
        early = ~np.isnat(available_until) & (available_until < available_from)
    problems.mask(early, "available_until", "before available_from")
    out["available_from"] = available_from.astype(object)
    out["available_until"] = available_until.astype(object)

    accessible = _bool(text_of("accessible"), "accessible", problems)
    out["accessible"] = accessible == True  # noqa: E712 - None (not given) means False
    return out


def _resolve_columns(frame: pd.DataFrame, spec: dict, problems: Problems) -> dict[str, list[str]]:
    """Per field, the file's columns that feed it; a mapped column that is absent is a problem."""
    columns: dict[str, list[str]] = {}
    for name in FIELDS:
        mapped = spec["fields"].get(name)
        if mapped is None:
            columns[name] = [name] if name in frame.columns else []
            continue
        columns[name] = [c for c in mapped if c in frame.columns]
        if not columns[name] and name not in spec["optional"]:
            shown = ", ".join(map(str, frame.columns[:30]))
            problems.file(
                name, f"column {' / '.join(mapped)} not in the file (its columns: {shown})"
            )
    return columns


def _check_ids(ids: np.ndarray, slug: str, problems: Problems, *, report_missing: bool) -> None:
    """Ids must be present, unique, URL-safe and short enough for Property.id."""
    missing = ids == None  # noqa: E711
    if report_missing:
        problems.mask(missing, "id", "missing")
    series = pd.Series(ids, dtype=object)
    shaped = series.str.fullmatch(SOURCE_ID_RE).fillna(True).to_numpy(bool)
    problems.mask(~shaped, "id", "must not contain spaces or any of / \\ ? # %")
    limit = ID_LIMIT - len(slug) - 1
    problems.mask(
        series.str.len().fillna(0).to_numpy() > limit, "id", f"longer than {limit} characters"
    )
    duplicate = series.duplicated(keep="first").to_numpy(bool) & ~missing
    if duplicate.any():
        first = pd.Series(np.arange(len(ids))).groupby(series.fillna("")).transform("min")
        first_at = first.to_numpy() + 1
        problems.mask(
            duplicate,
            "id",
            lambda i: f"duplicate id {_shown(ids[i])} (first at feature {first_at[i]})",
        )


def as_text(series: pd.Series) -> np.ndarray:
    """A column as stripped strings (object array), None where empty; integral floats lose .0."""
    s = pd.Series(series).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s):
        return np.where(s.to_numpy(bool), "true", "false").astype(object)
    if pd.api.types.is_float_dtype(s):
        values = s.to_numpy(float)
        finite = np.isfinite(values)
        integral = finite & (values == np.floor(values)) & (np.abs(values) < 2**53)
        out = np.full(len(s), None, dtype=object)
        out[finite] = values[finite].astype(str)
        out[integral] = values[integral].astype(np.int64).astype(str)
        return out
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None).to_numpy(object)
    missing = s.isna().to_numpy(bool)
    text = s.astype(str).str.strip()
    out = np.array(text, dtype=object)
    out[missing | (text == "").to_numpy(bool)] = None
    return out


def _column(frame: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    """First non-empty value per row across ``columns`` (as text); None without columns."""
    if not columns:
        return None
    out = as_text(frame[columns[0]])
    for col in columns[1:]:
        empty = out == None  # noqa: E711
        if empty.any():
            out[empty] = as_text(frame[col])[empty]
    return out


def _as_cell(value: object) -> str:
    """A mapping constant as the text a cell would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _apply_values(text: np.ndarray, vmap: dict) -> np.ndarray:
    """Map source values through a value map (case-insensitive)."""
    if not vmap:
        return text
    cells = {k: _as_cell(v) for k, v in vmap.items()}
    mapped = pd.Series(text, dtype=object).str.lower().map(cells)
    hit = mapped.notna().to_numpy(bool)
    out = text.copy()
    out[hit] = mapped.to_numpy(object)[hit]
    return out


def _shown(value: object) -> str:
    text = repr(str(value))
    return text if len(text) <= 60 else text[:56] + "...'"


def _number(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """Text to floats (nan where empty); non-numbers, infinities and negatives are problems."""
    present = text != None  # noqa: E711
    values = np.array(pd.to_numeric(pd.Series(text, dtype=object), errors="coerce"), dtype=float)
    bad = present & ~np.isfinite(values)
    problems.mask(bad, name, lambda i: f"must be a number, got {_shown(text[i])}")
    problems.mask(np.isfinite(values) & (values < 0), name, "must not be negative")
    values[bad] = np.nan
    return values


def _date(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """ISO 8601 dates (a date-time keeps its date) to datetime64[D]; NaT where empty."""
    s = pd.Series(text, dtype=object)
    shaped = s.str.fullmatch(ISO_DATE_RE).fillna(False).to_numpy(bool)
    day = s.str[:10].where(shaped)
    values = np.array(
        pd.to_datetime(day, format="%Y-%m-%d", errors="coerce"), dtype="datetime64[D]"
    )
    bad = (text != None) & np.isnat(values)  # noqa: E711
    problems.mask(bad, name, lambda i: f"not an ISO 8601 date (YYYY-MM-DD): {_shown(text[i])}")
    return values


def _bool(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """true/false, yes/no, ja/nee, 1/0 (case-insensitive) to an object array; None where empty."""
    lowered = pd.Series(text, dtype=object).str.lower()
    truthy = lowered.isin(TRUE_WORDS).to_numpy(bool)
    falsy = lowered.isin(FALSE_WORDS).to_numpy(bool)
    present = text != None  # noqa: E711
    problems.mask(
        present & ~truthy & ~falsy, name, lambda i: f"must be true or false, got {_shown(text[i])}"
    )
    out = np.full(len(text), None, dtype=object)
    out[truthy] = True
    out[falsy] = False
    return out


def _uses(
    frame: pd.DataFrame, columns: list[str], vmap: dict, problems: Problems
) -> tuple[np.ndarray, np.ndarray]:
    """Use classes per row as a bit mask over USES (0 = none), and rows with an unknown one.

    Cells may be lists or comma-separated strings; the uses of all columns are combined.
    """
    n = len(frame)
    masks = np.zeros(n, dtype=np.int64)
    bad_rows = np.zeros(n, dtype=bool)
    tokens: list[pd.Series] = []
    for col in columns:
        cells = pd.Series(frame[col].to_numpy(dtype=object)).explode().dropna()
        text = cells.astype(str).str.strip()
        text = text[text != ""]
        whole = text.str.lower().map(vmap) if vmap else pd.Series(None, index=text.index)
        hit = whole.notna().to_numpy(bool)
        parts = text[~hit].str.split(",").explode().str.strip().str.lower()
        parts = parts[parts != ""]
        if vmap:
            mapped = parts.map(vmap)
            parts = parts.astype(object).where(mapped.isna(), mapped)
        tokens.extend([whole[hit], parts])
    if not tokens:
        return masks, bad_rows
    token = pd.concat(tokens).explode().dropna().astype(str)
    bits = token.map(USE_BIT)
    unknown = bits.isna().to_numpy(bool)
    rows = token.index.to_numpy(int)
    np.bitwise_or.at(masks, rows[~unknown], bits[~unknown].to_numpy(np.int64))
    allowed = ", ".join(USES)
    for row, value in zip(rows[unknown], token.to_numpy()[unknown], strict=True):
        problems.items.append(
            Problem(int(row) + 1, "uses", f"unknown use class {value!r} (allowed: {allowed})")
        )
    bad_rows[rows[unknown]] = True
    return masks, bad_rows
