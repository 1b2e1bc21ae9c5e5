"""A layer file's attributes as typed Property columns, checked cell by cell.

Applies a normalised mapping (:mod:`spacematch.ingest.mapping`) to a file's columns. The
functions work on whole columns (pandas/numpy) and report problems through :class:`Problems`,
one per bad cell. Part of the layer import (:mod:`spacematch.ingest.importer` is the entry
point); Flask-free.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from spacematch.ingest.problems import FIELDS, Problem, Problems
from spacematch.models import PROPERTY_STATUSES, USE_BITS, USES

# Property columns' lengths (models.py); PostgreSQL enforces them, so they are checked up front.
TEXT_LIMITS = {"name": 300, "address": 300, "department": 200, "contact": 200}
KIND_LIMIT = 200
BAG_ID_RE = re.compile(r"\d{16}")
GDAL_LIST_RE = re.compile(r"^\((\d+):(.*)\)$", re.S)  # GDAL's CSV form of a string list
POSTCODE_RE = re.compile(r"^(\d{4})\s*([A-Za-z]{2})$")
ID_LIMIT = 200  # Property.id is "<layer>.<source id>"
# Source ids end up in URLs (/properties/<layer>.<id>): no slashes, whitespace or URL syntax.
SOURCE_ID_RE = r"[^\s/\\?#%]+"
ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ID_RE = re.compile(SOURCE_ID_RE)
_ID_BAD_CHAR = re.compile(r"[\s/\\?#%]")  # a character SOURCE_ID_RE refuses
_ISO_DATE = re.compile(ISO_DATE_RE)
TRUE_WORDS = ("true", "1", "yes", "y", "ja", "j", "waar", "t")
FALSE_WORDS = ("false", "0", "no", "n", "nee", "onwaar", "f")
# Every subset of USES as its canonical comma-separated string, indexed by bit mask.
USE_STRINGS = np.array(
    [",".join(u for i, u in enumerate(USES) if m >> i & 1) for m in range(1 << len(USES))],
    dtype=object,
)


def map_attributes(
    frame: pd.DataFrame, spec: dict[str, Any], slug: str, problems: Problems
) -> dict[str, Any]:
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
        if name == "address":
            empty = text == None  # noqa: E711
            if empty.any() and columns["street"]:
                composed = _compose_address(text_of, n)
                text[empty] = composed[empty]
        too_long = _lengths(text) > limit
        problems.mask(too_long, name, f"longer than {limit} characters")
        out[name] = np.where(text == None, "", text)  # noqa: E711

    kind = text_of("kind")
    problems.mask(
        _lengths(kind) > KIND_LIMIT,
        "kind",
        f"longer than {KIND_LIMIT} characters",
    )
    out["kind"] = np.where(kind == None, "", kind)  # noqa: E711
    out["bag_ids"] = np.full(n, "", dtype=object)
    if columns["bag_ids"]:  # files without the column (most) skip the per-row work
        bag = list_cells(frame, columns["bag_ids"])
        bad_bag = np.array(
            [any(not BAG_ID_RE.fullmatch(b) for b in ids) for ids in bag], dtype=bool
        )
        problems.mask(
            bad_bag,
            "bag_ids",
            lambda i: f"not a BAG verblijfsobject id (16 digits): {_shown(','.join(bag[i]))}",
        )
        out["bag_ids"] = np.array([",".join(ids) for ids in bag], dtype=object)
    let = np.zeros(n, dtype=bool)
    if columns["contracts"]:
        let = np.array([bool(c) for c in list_cells(frame, columns["contracts"])], dtype=bool)

    status = _lower(text_of("status"))
    status[status == None] = "beschikbaar"  # noqa: E711
    status[let] = "verhuurd"
    allowed = ", ".join(PROPERTY_STATUSES)
    problems.mask(
        ~pd.Series(status, dtype=object).isin(PROPERTY_STATUSES).to_numpy(bool),
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

    tolerant = (spec.get("unknown_uses") or "refuse") == "import"
    masks, bad_use, unknown = _uses(
        frame, columns["uses"], values.get("uses", {}), problems, tolerant=tolerant
    )
    if "uses" in defaults:
        given = defaults["uses"]
        default_uses = [u.strip() for u in given.split(",")] if isinstance(given, str) else given
        masks[(masks == 0) & ~bad_use] = sum(USE_BITS[u] for u in set(default_uses))
    if not tolerant:
        problems.mask(
            (masks == 0) & ~bad_use, "uses", f"no use class given (allowed: {', '.join(USES)})"
        )
    out["uses"] = USE_STRINGS[masks]
    # Whole-city policy: a unit without a use class is stored unmatched; the report names its
    # kind (the source's kind, else its first unknown use value).
    unmatched = np.full(n, None, dtype=object)
    if tolerant:
        none = np.flatnonzero(masks == 0)
        for i in none:
            unmatched[i] = out["kind"][i] or (unknown.get(int(i)) or [""])[0] or "(leeg)"
    out["unknown_kind"] = unmatched
    out["unknown_values"] = unknown

    available_from = _date(text_of("available_from"), "available_from", problems)
    available_from[np.isnat(available_from)] = np.datetime64(dt.date.today(), "D")
    available_until = _date(text_of("available_until"), "available_until", problems)
    if spec.get("until_when"):
        # The end date holds only where the condition column says so (grex: a future plan ends
        # meanwhile use at its start); a start already past means the plan is under way.
        cond = spec["until_when"]
        found = _resolve_one(frame, cond["column"])
        text = as_text(frame[found]) if found is not None else np.full(n, None, dtype=object)
        holds = pd.Series(_lower(text), dtype=object).isin(cond["values"]).to_numpy(bool)
        with np.errstate(invalid="ignore"):
            past = ~np.isnat(available_until) & (available_until < available_from)
        available_until[~holds | past] = np.datetime64("NaT")
    with np.errstate(invalid="ignore"):
        early = ~np.isnat(available_until) & (available_until < available_from)
    problems.mask(early, "available_until", "before available_from")
    out["available_from"] = available_from  # datetime64[D]: the writer stores them as text
    out["available_until"] = available_until  # NaT: permanent

    accessible = _bool(text_of("accessible"), "accessible", problems)
    out["accessible"] = accessible == True  # noqa: E712 - None (not given) means False
    return out


def column_key(name: object) -> str:
    """A column name for matching: case and underscores ignored (camelCase = snake_case)."""
    return str(name).replace("_", "").lower()


def _resolve_one(frame: pd.DataFrame, column: str) -> str | None:
    """The file's column for a name: exact, else ignoring case and underscores."""
    if column in frame.columns:
        return column
    key = column_key(column)
    return next((c for c in frame.columns if column_key(c) == key), None)


def _resolve_columns(
    frame: pd.DataFrame, spec: dict[str, Any], problems: Problems
) -> dict[str, list[str]]:
    """Per field, the file's columns that feed it; a mapped column that is absent is a problem.

    A column is found by its exact name, else ignoring case and underscores.
    """
    by_key: dict[str, str] = {}
    for col in frame.columns:
        by_key.setdefault(column_key(col), col)

    def find(col: str) -> str | None:
        return col if col in frame.columns else by_key.get(column_key(col))

    columns: dict[str, list[str]] = {}
    for name in FIELDS:
        mapped = spec["fields"].get(name)
        if mapped is None:
            columns[name] = [name] if name in frame.columns else []
            continue
        found = [find(c) for c in mapped]
        columns[name] = list(dict.fromkeys(c for c in found if c is not None))
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
    problems.mask(~_shaped_ids(ids), "id", "must not contain spaces or any of / \\ ? # %")
    limit = ID_LIMIT - len(slug) - 1
    problems.mask(_lengths(ids) > limit, "id", f"longer than {limit} characters")
    duplicate = series.duplicated(keep="first").to_numpy(bool) & ~missing
    if duplicate.any():
        first = pd.Series(np.arange(len(ids))).groupby(series.fillna("")).transform("min")
        first_at = np.array([problems.feature(int(i)) for i in first.to_numpy()])
        problems.mask(
            duplicate,
            "id",
            lambda i: f"duplicate id {_shown(ids[i])} (first at feature {first_at[i]})",
        )


def _shaped_ids(ids: np.ndarray) -> np.ndarray:
    """Whether each id (str or None) fits ``SOURCE_ID_RE``; None counts as shaped (it is
    reported as missing). One regex search over all ids finds the usual clean file at C speed;
    only a file with a bad id pays for a match per row."""
    present = [v for v in ids if v is not None]
    if all(present) and not _ID_BAD_CHAR.search("".join(present)):
        return np.ones(len(ids), dtype=bool)
    return np.array([v is None or _ID_RE.fullmatch(v) is not None for v in ids], dtype=bool)


def _lengths(text: np.ndarray) -> np.ndarray:
    """Characters per cell of a text column (str or None); 0 where None."""
    return np.fromiter((0 if v is None else len(v) for v in text), dtype=np.int64, count=len(text))


def _lower(text: np.ndarray) -> np.ndarray:
    """A text column (str or None) in lower case, None kept (a new object array)."""
    out = np.empty(len(text), dtype=object)
    out[:] = [None if v is None else v.lower() for v in text]
    return out


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
        days: np.ndarray = (
            s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None).to_numpy(object)
        )
        return days
    missing = s.isna().to_numpy(bool)
    # Text cells are stripped by a plain comprehension (10x cheaper than pandas' per-cell
    # machinery); any other cell goes through pandas' own astype(str), as all cells once did.
    cells = s.to_numpy(dtype=object)
    out = np.empty(len(s), dtype=object)
    out[:] = [v.strip() if type(v) is str else None for v in cells]
    other = np.flatnonzero(~missing & (out == None))  # noqa: E711
    if len(other):
        out[other] = pd.Series(cells[other], dtype=object).astype(str).str.strip().to_numpy(object)
    out[missing | (out == "")] = None
    return out


def parse_list(cell: object) -> list[str]:
    """A list cell as strings: a JSON array (or a list GDAL already parsed), GDAL's CSV form
    ``(2:a,b)``, or comma/semicolon-separated text; empty items dropped."""
    if cell is None or (isinstance(cell, float) and not np.isfinite(cell)):
        return []
    items: list[Any] | None = None
    if isinstance(cell, list | tuple | np.ndarray):
        items = list(cell)
    else:
        text = str(cell).strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                items = parsed
        if items is None:
            match = GDAL_LIST_RE.match(text)
            body = match.group(2) if match else text
            items = re.split(r"[,;]", body)
    out = []
    for item in items:
        item_text = _item_text(item)
        if item_text is not None:
            out.append(item_text)
    return out


def _item_text(item: object) -> str | None:
    """One list item as stripped text (an integral float loses its .0); None when empty."""
    if item is None or isinstance(item, bool):
        return None if item is None else str(item).lower()
    if isinstance(item, float | np.floating):
        if not np.isfinite(item):
            return None
        return str(int(item)) if float(item).is_integer() else str(item)
    text = str(item).strip()
    return text or None


def list_cells(frame: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    """Per row, the items of the first non-empty list cell across ``columns``."""
    out: list[list[str]] = [[] for _ in range(len(frame))]
    seen: dict[str, list[str]] = {}  # whole-city files repeat cells such as "(0:)" or "[]"
    for col in columns:
        for i, cell in enumerate(frame[col].to_numpy(dtype=object)):
            if out[i]:
                continue
            if isinstance(cell, str):
                items = seen.get(cell)
                if items is None:
                    items = seen[cell] = parse_list(cell)
                out[i] = list(items)
            else:
                out[i] = parse_list(cell)
    return out


def _compose_address(text_of: Callable[[str], np.ndarray], n: int) -> np.ndarray:
    """Street, number, letter, addition and postcode as one Dutch address line:
    "Jan Pieter Heijestraat 12A-2, 1053 GL"; None where there is no street.

    Composed column-wise (object arrays concatenate element by element in C); the addition
    needs a number, the postcode does not."""
    street = text_of("street")
    out = np.full(n, None, dtype=object)
    rows = street != None  # noqa: E711
    if not rows.any():
        return out
    line = street[rows].copy()
    number = text_of("house_number")[rows]
    letter = text_of("house_letter")[rows]
    addition = text_of("house_addition")[rows]
    postcode = text_of("postcode")[rows]
    letter = np.where(letter == None, "", letter)  # noqa: E711
    has_number = number != None  # noqa: E711
    has_addition = has_number & (addition != None)  # noqa: E711
    has_postcode = postcode != None  # noqa: E711
    line[has_number] = line[has_number] + " " + number[has_number] + letter[has_number]
    line[has_addition] = line[has_addition] + "-" + addition[has_addition]
    codes = np.array([_postcode(p) for p in postcode[has_postcode]], dtype=object)
    line[has_postcode] = line[has_postcode] + ", " + codes
    out[rows] = line
    return out


def _postcode(text: str) -> str:
    """A Dutch postcode as "1053 GL"; other text as it is."""
    match = POSTCODE_RE.match(text)
    return f"{match.group(1)} {match.group(2).upper()}" if match else text


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


def _apply_values(text: np.ndarray, vmap: dict[str, Any]) -> np.ndarray:
    """Map source values through a value map (case-insensitive)."""
    if not vmap:
        return text
    cells = {k: _as_cell(v) for k, v in vmap.items()}
    mapped = pd.Series(_lower(text), dtype=object).map(cells)
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
    day = pd.Series(
        [v[:10] if v is not None and _ISO_DATE.fullmatch(v) else None for v in text],
        dtype=object,
    )
    values = np.array(
        pd.to_datetime(day, format="%Y-%m-%d", errors="coerce"), dtype="datetime64[D]"
    )
    bad = (text != None) & np.isnat(values)  # noqa: E711
    problems.mask(bad, name, lambda i: f"not an ISO 8601 date (YYYY-MM-DD): {_shown(text[i])}")
    return values


def _bool(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """true/false, yes/no, ja/nee, 1/0 (case-insensitive) to an object array; None where empty."""
    lowered = pd.Series(_lower(text), dtype=object)
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
    frame: pd.DataFrame,
    columns: list[str],
    vmap: dict[str, Any],
    problems: Problems,
    *,
    tolerant: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[int, list[str]]]:
    """Use classes per row as a bit mask over USES (0 = none), rows with an unknown one, and the
    unknown values per row.

    Cells may be lists or comma-separated strings; the uses of all columns are combined. An
    unknown value is a problem unless ``tolerant`` (whole-city policy: reported, not refused).
    """
    n = len(frame)
    masks = np.zeros(n, dtype=np.int64)
    bad_rows = np.zeros(n, dtype=bool)
    unknown_values: dict[int, list[str]] = {}
    allowed = ", ".join(USES)
    for col in columns:
        cells = frame[col].to_numpy(dtype=object)
        col_masks, col_unknown = _cell_uses(cells, vmap)
        masks |= col_masks
        for row, values in col_unknown.items():
            unknown_values.setdefault(row, []).extend(values)
            if tolerant:
                continue
            bad_rows[row] = True
            for value in values:
                problems.items.append(
                    Problem(
                        problems.feature(row),
                        "uses",
                        f"unknown use class {value!r} (allowed: {allowed})",
                    )
                )
    return masks, bad_rows, unknown_values


def _cell_uses(cells: np.ndarray, vmap: dict[str, Any]) -> tuple[np.ndarray, dict[int, list[str]]]:
    """One column's use classes per row (bit masks) and its unknown values per row.

    A file repeats a handful of use cells over all its rows, so when every cell is text (or
    empty) each distinct cell is parsed once and the result spread over the rows by its code;
    other cells (lists from a GeoJSON array) are parsed row by row. Both run the same parser.
    """
    missing = pd.isna(cells) if cells.dtype == object else np.zeros(len(cells), bool)
    if all(type(v) is str for v in cells[~missing]):
        codes, uniques = pd.factorize(pd.Series(cells, dtype=object), use_na_sentinel=True)
        distinct_masks, distinct_unknown = _parse_uses(np.asarray(uniques, dtype=object), vmap)
        present = codes >= 0
        masks = np.zeros(len(cells), dtype=np.int64)
        masks[present] = distinct_masks[codes[present]]
        unknown: dict[int, list[str]] = {}
        if distinct_unknown:
            has_unknown = np.zeros(len(uniques) + 1, dtype=bool)
            has_unknown[list(distinct_unknown)] = True
            for row in np.flatnonzero(has_unknown[codes]):
                unknown[int(row)] = list(distinct_unknown[int(codes[row])])
        return masks, unknown
    return _parse_uses(cells, vmap)


def _parse_uses(cells: np.ndarray, vmap: dict[str, Any]) -> tuple[np.ndarray, dict[int, list[str]]]:
    """Bit masks and unknown values (in the cell's order) per cell of ``cells``.

    A cell is a list, or text split on commas; each item is stripped and lower-cased, and the
    value map applies to the whole cell first, then to each item.
    """
    masks = np.zeros(len(cells), dtype=np.int64)
    exploded = pd.Series(cells, dtype=object).explode().dropna()
    text = exploded.astype(str).str.strip()
    text = text[text != ""]
    whole = text.str.lower().map(vmap) if vmap else pd.Series(None, index=text.index)
    hit = whole.notna().to_numpy(bool)
    parts = text[~hit].str.split(",").explode().str.strip().str.lower()
    parts = parts[parts != ""]
    if vmap:
        mapped = parts.map(vmap)
        parts = parts.astype(object).where(mapped.isna(), mapped)
    # Per cell: the whole-cell hits before the items, as the import has always ordered them.
    token = pd.concat([whole[hit], parts]).explode().dropna().astype(str)
    token = token.iloc[np.argsort(token.index.to_numpy(int), kind="stable")]
    bits = token.map(USE_BITS)
    unknown = bits.isna().to_numpy(bool)
    rows = token.index.to_numpy(int)
    np.bitwise_or.at(masks, rows[~unknown], bits[~unknown].to_numpy(np.int64))
    values: dict[int, list[str]] = {}
    for row, value in zip(rows[unknown], token.to_numpy()[unknown], strict=True):
        values.setdefault(int(row), []).append(str(value))
    return masks, values
