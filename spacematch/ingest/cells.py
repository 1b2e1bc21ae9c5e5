"""One column of a layer file's cells read as text, lists, numbers, dates, booleans or use
classes, with a problem per bad cell (:class:`Problems`).

What ``attributes.map_attributes`` builds the Property columns from; whole columns at a time
(pandas/numpy). Flask-free.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pandas as pd

from spacematch.ingest.problems import Problem, Problems
from spacematch.models import USE_BITS, USES

GDAL_LIST_RE = re.compile(r"^\((\d+):(.*)\)$", re.S)  # GDAL's CSV form of a string list
ISO_DATE_RE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO_DATE = re.compile(ISO_DATE_RE)
TRUE_WORDS = ("true", "1", "yes", "y", "ja", "j", "waar", "t")
FALSE_WORDS = ("false", "0", "no", "n", "nee", "onwaar", "f")


def lengths(text: np.ndarray) -> np.ndarray:
    """Characters per cell of a text column (str or None); 0 where None."""
    return np.fromiter((0 if v is None else len(v) for v in text), dtype=np.int64, count=len(text))


def lower(text: np.ndarray) -> np.ndarray:
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


def first_text(frame: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    """First non-empty value per row across ``columns`` (as text); None without columns."""
    if not columns:
        return None
    out = as_text(frame[columns[0]])
    for col in columns[1:]:
        empty = out == None  # noqa: E711
        if empty.any():
            out[empty] = as_text(frame[col])[empty]
    return out


def as_cell(value: object) -> str:
    """A mapping constant as the text a cell would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def apply_values(text: np.ndarray, vmap: dict[str, Any]) -> np.ndarray:
    """Map source values through a value map (case-insensitive)."""
    if not vmap:
        return text
    cells = {k: as_cell(v) for k, v in vmap.items()}
    mapped = pd.Series(lower(text), dtype=object).map(cells)
    hit = mapped.notna().to_numpy(bool)
    out = text.copy()
    out[hit] = mapped.to_numpy(object)[hit]
    return out


def shown(value: object) -> str:
    """A cell's value quoted for a problem's message, cut to about 60 characters."""
    text = repr(str(value))
    return text if len(text) <= 60 else text[:56] + "...'"


def numbers(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """Text to floats (nan where empty); non-numbers, infinities and negatives are problems."""
    present = text != None  # noqa: E711
    values = np.array(pd.to_numeric(pd.Series(text, dtype=object), errors="coerce"), dtype=float)
    bad = present & ~np.isfinite(values)
    problems.mask(bad, name, lambda i: f"must be a number, got {shown(text[i])}")
    problems.mask(np.isfinite(values) & (values < 0), name, "must not be negative")
    values[bad] = np.nan
    return values


def dates(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """ISO 8601 dates (a date-time keeps its date) to datetime64[D]; NaT where empty."""
    day = pd.Series(
        [v[:10] if v is not None and _ISO_DATE.fullmatch(v) else None for v in text],
        dtype=object,
    )
    values = np.array(
        pd.to_datetime(day, format="%Y-%m-%d", errors="coerce"), dtype="datetime64[D]"
    )
    bad = (text != None) & np.isnat(values)  # noqa: E711
    problems.mask(bad, name, lambda i: f"not an ISO 8601 date (YYYY-MM-DD): {shown(text[i])}")
    return values


def booleans(text: np.ndarray, name: str, problems: Problems) -> np.ndarray:
    """true/false, yes/no, ja/nee, 1/0 (case-insensitive) to an object array; None where empty."""
    lowered = pd.Series(lower(text), dtype=object)
    truthy = lowered.isin(TRUE_WORDS).to_numpy(bool)
    falsy = lowered.isin(FALSE_WORDS).to_numpy(bool)
    present = text != None  # noqa: E711
    problems.mask(
        present & ~truthy & ~falsy, name, lambda i: f"must be true or false, got {shown(text[i])}"
    )
    out = np.full(len(text), None, dtype=object)
    out[truthy] = True
    out[falsy] = False
    return out


def use_masks(
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
