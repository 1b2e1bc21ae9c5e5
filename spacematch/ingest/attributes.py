"""A layer file's attributes as typed Property columns, checked cell by cell.

Applies a normalised mapping (:mod:`spacematch.ingest.mapping`) to a file's columns. The
functions work on whole columns (pandas/numpy) and report problems through :class:`Problems`,
one per bad cell. Part of the layer import (:mod:`spacematch.ingest.importer` is the entry
point); Flask-free.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from spacematch.ingest.cells import (
    apply_values,
    as_cell,
    as_text,
    booleans,
    dates,
    first_text,
    lengths,
    list_cells,
    lower,
    numbers,
    shown,
    use_masks,
)
from spacematch.ingest.problems import FIELDS, Problems
from spacematch.models import PROPERTY_STATUSES, USE_BITS, USES

# Property columns' lengths (models.py); PostgreSQL enforces them, so they are checked up front.
TEXT_LIMITS = {"name": 300, "address": 300, "department": 200, "contact": 200, "kind": 200}
BAG_ID_RE = re.compile(r"\d{16}")
POSTCODE_RE = re.compile(r"^(\d{4})\s*([A-Za-z]{2})$")
ID_LIMIT = 200  # Property.id is "<layer>.<source id>"
# Source ids end up in URLs (/properties/<layer>.<id>): no slashes, whitespace or URL syntax.
SOURCE_ID_RE = r"[^\s/\\?#%]+"
_ID_RE = re.compile(SOURCE_ID_RE)
_ID_BAD_CHAR = re.compile(r"[\s/\\?#%]")  # a character SOURCE_ID_RE refuses
# Every subset of USES as its canonical comma-separated string, indexed by bit mask.
USE_STRINGS = np.array(
    [",".join(u for i, u in enumerate(USES) if m >> i & 1) for m in range(1 << len(USES))],
    dtype=object,
)


# What every part of ``map_attributes`` reads: one field's cells as text, mapped values and
# (unless ``default=False``) the mapping's default applied.
TextOf = Callable[..., np.ndarray]


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
        text = first_text(frame, columns[name])
        if text is None:
            text = np.full(n, None, dtype=object)
        text = apply_values(text, values.get(name, {}))
        if default and name in defaults and name != "uses":
            text[text == None] = as_cell(defaults[name])  # noqa: E711
        return text

    out: dict[str, Any] = {}
    if "id" not in spec["fields"] and not columns["id"]:
        problems.file("id", "no id column: name one (fields.id) in a mapping")
    out["source_id"] = ids = text_of("id")
    _check_ids(ids, slug, problems, report_missing=bool(columns["id"]))
    _texts(out, text_of, frame, columns, problems)
    _status(out, text_of, frame, columns, problems)
    _area_and_rent(out, text_of, spec, columns, problems)
    _use_classes(out, frame, spec, columns, problems)
    _availability(out, text_of, frame, spec, problems)
    accessible = booleans(text_of("accessible"), "accessible", problems)
    out["accessible"] = accessible == True  # noqa: E712 - None (not given) means False
    return out


def _texts(
    out: dict[str, Any],
    text_of: TextOf,
    frame: pd.DataFrame,
    columns: dict[str, list[str]],
    problems: Problems,
) -> None:
    """Name, address (composed from its parts where the file has no address), department,
    contact, kind and BAG ids, within the store's lengths."""
    n = len(frame)
    for name, limit in TEXT_LIMITS.items():
        text = text_of(name)
        if name == "address":
            empty = text == None  # noqa: E711
            if empty.any() and columns["street"]:
                composed = _compose_address(text_of, n)
                text[empty] = composed[empty]
        too_long = lengths(text) > limit
        problems.mask(too_long, name, f"longer than {limit} characters")
        out[name] = np.where(text == None, "", text)  # noqa: E711

    out["bag_ids"] = np.full(n, "", dtype=object)
    if columns["bag_ids"]:  # files without the column (most) skip the per-row work
        bag = list_cells(frame, columns["bag_ids"])
        bad_bag = np.array(
            [any(not BAG_ID_RE.fullmatch(b) for b in ids) for ids in bag], dtype=bool
        )
        problems.mask(
            bad_bag,
            "bag_ids",
            lambda i: f"not a BAG verblijfsobject id (16 digits): {shown(','.join(bag[i]))}",
        )
        out["bag_ids"] = np.array([",".join(ids) for ids in bag], dtype=object)


def _status(
    out: dict[str, Any],
    text_of: TextOf,
    frame: pd.DataFrame,
    columns: dict[str, list[str]],
    problems: Problems,
) -> None:
    """The status (beschikbaar where none is given; verhuurd where a contract is listed)."""
    let = np.zeros(len(frame), dtype=bool)
    if columns["contracts"]:
        let = np.array([bool(c) for c in list_cells(frame, columns["contracts"])], dtype=bool)
    status = lower(text_of("status"))
    status[status == None] = "beschikbaar"  # noqa: E711
    status[let] = "verhuurd"
    allowed = ", ".join(PROPERTY_STATUSES)
    problems.mask(
        ~pd.Series(status, dtype=object).isin(PROPERTY_STATUSES).to_numpy(bool),
        "status",
        lambda i: f"unknown status {shown(status[i])} (allowed: {allowed})",
    )
    out["status"] = status


def _area_and_rent(
    out: dict[str, Any],
    text_of: TextOf,
    spec: dict[str, Any],
    columns: dict[str, list[str]],
    problems: Problems,
) -> None:
    """Area (a polygon's own area beats a mapping's constant, so the default is applied by
    the caller) and rent, which a file must give by a column or a default."""
    defaults = spec["defaults"]
    area_text = text_of("area_m2", default=False)
    out["area_m2"] = numbers(area_text, "area_m2", problems)
    problems.mask(out["area_m2"] == 0, "area_m2", "must be greater than 0")
    out["area_given"] = area_text != None  # noqa: E711
    out["area_default"] = defaults.get("area_m2")

    rent_text = text_of("rent_eur_m2_year")
    out["rent_eur_m2_year"] = numbers(rent_text, "rent_eur_m2_year", problems)
    if columns["rent_eur_m2_year"] or "rent_eur_m2_year" in defaults:
        problems.mask(rent_text == None, "rent_eur_m2_year", "missing")  # noqa: E711
    elif "rent_eur_m2_year" not in spec["fields"]:
        problems.file(
            "rent_eur_m2_year",
            "no rent column and no default: name a column "
            "(fields.rent_eur_m2_year) or give defaults.rent_eur_m2_year in a mapping",
        )


def _use_classes(
    out: dict[str, Any],
    frame: pd.DataFrame,
    spec: dict[str, Any],
    columns: dict[str, list[str]],
    problems: Problems,
) -> None:
    """Use classes (a default where a row names none); unknown ones refused, or under the
    whole-city policy kept with the row unmatched and its kind reported."""
    defaults, values = spec["defaults"], spec["values"]
    tolerant = (spec.get("unknown_uses") or "refuse") == "import"
    masks, bad_use, unknown = use_masks(
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
    unmatched = np.full(len(frame), None, dtype=object)
    if tolerant:
        none = np.flatnonzero(masks == 0)
        for i in none:
            unmatched[i] = out["kind"][i] or (unknown.get(int(i)) or [""])[0] or "(leeg)"
    out["unknown_kind"] = unmatched
    out["unknown_values"] = unknown


def _availability(
    out: dict[str, Any],
    text_of: TextOf,
    frame: pd.DataFrame,
    spec: dict[str, Any],
    problems: Problems,
) -> None:
    """From (today where not given) and until (none: permanent), with a mapping's condition
    on the end date."""
    available_from = dates(text_of("available_from"), "available_from", problems)
    available_from[np.isnat(available_from)] = np.datetime64(dt.date.today(), "D")
    available_until = dates(text_of("available_until"), "available_until", problems)
    if spec.get("until_when"):
        # The end date holds only where the condition column says so (grex: a future plan ends
        # meanwhile use at its start); a start already past means the plan is under way.
        cond = spec["until_when"]
        found = next(iter(file_columns(frame, [cond["column"]])), None)
        text = (
            as_text(frame[found]) if found is not None else np.full(len(frame), None, dtype=object)
        )
        holds = pd.Series(lower(text), dtype=object).isin(cond["values"]).to_numpy(bool)
        with np.errstate(invalid="ignore"):
            past = ~np.isnat(available_until) & (available_until < available_from)
        available_until[~holds | past] = np.datetime64("NaT")
    with np.errstate(invalid="ignore"):
        early = ~np.isnat(available_until) & (available_until < available_from)
    problems.mask(early, "available_until", "before available_from")
    out["available_from"] = available_from  # datetime64[D]: the writer stores them as text
    out["available_until"] = available_until  # NaT: permanent


def column_key(name: object) -> str:
    """A column name for matching: case and underscores ignored (camelCase = snake_case)."""
    return str(name).replace("_", "").lower()


def file_columns(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """The file's columns for mapped names, in the mapping's order and each once: a column is
    found by its exact name, else ignoring case and underscores (the first such column), so
    every stage of the import reads the same column for a name."""
    by_key: dict[str, str] = {}
    for col in frame.columns:
        by_key.setdefault(column_key(col), col)
    found = (c if c in frame.columns else by_key.get(column_key(c)) for c in names)
    return list(dict.fromkeys(c for c in found if c is not None))


def _resolve_columns(
    frame: pd.DataFrame, spec: dict[str, Any], problems: Problems
) -> dict[str, list[str]]:
    """Per field, the file's columns that feed it (``file_columns``); a mapped column that is
    absent is a problem."""
    columns: dict[str, list[str]] = {}
    for name in FIELDS:
        mapped = spec["fields"].get(name)
        if mapped is None:
            columns[name] = [name] if name in frame.columns else []
            continue
        columns[name] = file_columns(frame, mapped)
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
    problems.mask(lengths(ids) > limit, "id", f"longer than {limit} characters")
    duplicate = series.duplicated(keep="first").to_numpy(bool) & ~missing
    if duplicate.any():
        first = pd.Series(np.arange(len(ids))).groupby(series.fillna("")).transform("min")
        first_at = np.array([problems.feature(int(i)) for i in first.to_numpy()])
        problems.mask(
            duplicate,
            "id",
            lambda i: f"duplicate id {shown(ids[i])} (first at feature {first_at[i]})",
        )


def _shaped_ids(ids: np.ndarray) -> np.ndarray:
    """Whether each id (str or None) fits ``SOURCE_ID_RE``; None counts as shaped (it is
    reported as missing). One regex search over all ids finds the usual clean file at C speed;
    only a file with a bad id pays for a match per row."""
    present = [v for v in ids if v is not None]
    if all(present) and not _ID_BAD_CHAR.search("".join(present)):
        return np.ones(len(ids), dtype=bool)
    return np.array([v is None or _ID_RE.fullmatch(v) is not None for v in ids], dtype=bool)


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
