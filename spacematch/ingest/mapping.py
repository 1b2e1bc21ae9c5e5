"""The attribute mapping format for layer files: reading a mapping and checking it.

A *mapping* tells :func:`spacematch.ingest.importer.import_layer` which source column holds each
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

    # Whole-city exports (every lettable unit, not only vacant space for initiatives):
    skip_kinds = ["Woning", "Parkeerplaats"]  # kind values (fields.kind) skipped and counted
    unknown_uses = "import"          # an unknown use value is reported, not refused (see below)
    # available_until applies only where this column holds one of these values (grex: a plan
    # still to come, so meanwhile use ends at its start date); a date already past is dropped.
    until_when = { column = "planstatus", values = ["T"] }

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
- Column names match ignoring case and underscores, so ``prgSubobjectid`` also reads a
  ``prg_subobjectid`` column (the city's exports come in camelCase and in snake_case).
- Source-only fields feed the import but are not stored as given: ``kind`` (the unit's kind,
  stored for the officer, and the key of ``skip_kinds``), ``contracts`` (a unit with any contract
  number is let: status ``verhuurd``), ``bag_ids`` (BAG verblijfsobject ids, stored), and
  ``street``, ``house_number``, ``house_letter``, ``house_addition``, ``postcode``, composed into
  ``address`` ("Jan Pieter Heijestraat 12A-2, 1053 GL") where the file gives no address.
  ``contracts`` and ``bag_ids`` cells may be JSON arrays, GDAL's string-list forms
  (``["a","b"]``, ``(2:a,b)``) or comma-separated text.
- ``skip_kinds``: features whose ``kind`` is one of these (case-insensitive) are not imported;
  the import report counts them per kind.
- ``unknown_uses = "import"``: a use value that maps to no use class is listed in the report
  with its count instead of refusing the file; a feature left without any use class is stored
  with none, and is not matched until its kind is mapped (``[values.uses]``). The default,
  ``"refuse"``, and ``import-layer --strict``, refuse such a file.

Kept in one module so the format, its documentation and its checks change together; the named
presets are in :mod:`spacematch.ingest.presets`, applying a mapping to a file is
:mod:`spacematch.ingest.attributes`.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any, TypeGuard

from spacematch.ingest.presets import PRESETS
from spacematch.ingest.problems import FIELDS, LayerError, Problem
from spacematch.models import PROPERTY_STATUSES, USES

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
    "skip_kinds",
    "unknown_uses",
    "until_when",
)
UNKNOWN_USES = ("refuse", "import")


def load_mapping(source: str | Path | dict[str, Any]) -> dict[str, Any]:
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


def empty_mapping() -> dict[str, Any]:
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
        "skip_kinds": [],
        "unknown_uses": None,  # not given: "refuse"
        "until_when": None,
    }


def read_mapping_file(path: Path) -> dict[str, Any]:
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


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base`` (both normalised): per field, per value, per default."""
    out = empty_mapping()
    for key in ("title", "crs", "source_layer"):
        out[key] = over[key] if over[key] is not None else base[key]
    out["optional"] = sorted(set(base["optional"]) | set(over["optional"]))
    out["fields"] = {**base["fields"], **over["fields"]}
    out["geometry"] = over["geometry"] or base["geometry"]
    out["defaults"] = {**base["defaults"], **over["defaults"]}
    out["skip_kinds"] = sorted(set(base["skip_kinds"]) | set(over["skip_kinds"]))
    out["unknown_uses"] = over["unknown_uses"] or base["unknown_uses"]
    out["until_when"] = over["until_when"] or base["until_when"]
    out["values"] = {
        f: {**base["values"].get(f, {}), **over["values"].get(f, {})}
        for f in sorted(set(base["values"]) | set(over["values"]))
    }
    return out


def normalise(raw: object, errors: list[str], *, depth: int = 0) -> dict[str, Any]:
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

    _normalise_fields(raw, out, errors)
    _normalise_values(raw, out, errors)
    _normalise_rules(raw, out, errors)

    return merge(base, out) if base is not None else out


def _normalise_fields(raw: dict[str, Any], out: dict[str, Any], errors: list[str]) -> None:
    """``optional``, ``fields`` and ``geometry``: which columns feed which field."""
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


def _normalise_values(raw: dict[str, Any], out: dict[str, Any], errors: list[str]) -> None:
    """``values`` (source value -> field value, keys lower-case) and ``defaults``."""
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


def _normalise_rules(raw: dict[str, Any], out: dict[str, Any], errors: list[str]) -> None:
    """The whole-city rules: ``skip_kinds``, ``unknown_uses`` and ``until_when``."""
    skip = raw.get("skip_kinds", [])
    if not _is_str_list(skip):
        errors.append("skip_kinds: must be a list of kind values")
    else:
        out["skip_kinds"] = sorted({k.strip().lower() for k in skip if k.strip()})
    if raw.get("unknown_uses") is not None:
        if raw["unknown_uses"] not in UNKNOWN_USES:
            errors.append(f"unknown_uses: must be one of {', '.join(UNKNOWN_USES)}")
        else:
            out["unknown_uses"] = raw["unknown_uses"]

    until_when = raw.get("until_when")
    if until_when is not None:
        if (
            not isinstance(until_when, dict)
            or set(until_when) != {"column", "values"}
            or not isinstance(until_when["column"], str)
            or not _is_str_list(until_when["values"])
        ):
            errors.append('until_when: give column = "name" and values = ["...", ...]')
        else:
            out["until_when"] = {
                "column": until_when["column"],
                "values": sorted({v.strip().lower() for v in until_when["values"]}),
            }


def _check_value(name: str, target: object) -> str | None:
    """Why a value-map target is unusable, or None."""
    if name == "uses":
        targets = [target] if isinstance(target, str) else target
        if not _is_str_list(targets) or any(t not in USES for t in targets):
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
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if name == "area_m2":
            return None if number is not None and number > 0 else "must be a number greater than 0"
        return None if number is not None and number >= 0 else "must be a number, 0 or more"
    if name == "uses":
        uses = [u.strip() for u in value.split(",")] if isinstance(value, str) else value
        if not _is_str_list(uses) or not uses or any(u not in USES for u in uses):
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


def _table(raw: dict[str, Any], key: str, errors: list[str]) -> dict[str, Any]:
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


def _is_str_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
