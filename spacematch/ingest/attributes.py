"""A layer file's attributes as typed Property columns, checked cell by cell.

Applies a normalised mapping (:mod:`spacematch.ingest.mapping`) to a file's columns. The
functions work on whole columns (pandas/numpy) and report problems through :class:`Problems`,
one per bad cell. Part of the layer import (:mod:`spacematch.ingest.importer` is the entry
point); Flask-free.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from spacematch.ingest.problems import FIELDS, Problem, Problems
from spacematch.models import PROPERTY_STATUSES, USE_BITS, USES

# Property columns' lengths (models.py); PostgreSQL enforces them, so they are checked up front.
TEXT_LIMITS = {"name": 300, "address": 300, "department": 200, "contact": 200}
ID_LIMIT = 200  # Property.id is "<layer>.<source id>"
# Source ids end up in URLs (/properties/<layer>.<id>): no slashes, whitespace or URL syntax.
SOURCE_ID_RE = r"[^\s/\\?#%]+"
ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
TRUE_WORDS = ("true", "1", "yes", "y", "ja", "j", "waar", "t")
FALSE_WORDS = ("false", "0", "no", "n", "nee", "onwaar", "f")
# Every subset of USES as its canonical comma-separated string, indexed by bit mask.
USE_STRINGS = np.array(
    [",".join(u for i, u in enumerate(USES) if m >> i & 1) for m in range(1 << len(USES))],
    dtype=object,
)


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
        masks[(masks == 0) & ~bad_use] = sum(USE_BITS[u] for u in set(default_uses))
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
    bits = token.map(USE_BITS)
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
