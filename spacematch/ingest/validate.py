"""The import's check stage: drop the mapping's skipped kinds, check every feature's attributes
and geometry, fill areas, and build the import report. Raises LayerError with every problem
found; nothing here writes (``importer.py`` replaces the layer once this has passed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacematch.domain.areas import AreaIndex
from spacematch.ingest.attributes import file_columns, map_attributes
from spacematch.ingest.geometry import check_geometry
from spacematch.ingest.problems import LayerError, Problems
from spacematch.ingest.read import Source
from spacematch.ingest.report import ImportReport, build_report


@dataclass(frozen=True)
class Checked:
    """A file that passed every check: its Property columns and its import report."""

    count: int
    columns: dict[str, Any]
    report: ImportReport


def validate_features(
    source: Source,
    spec: dict[str, Any],
    layer: str,
    problems: Problems,
    areas: AreaIndex | None,
    *,
    strict: bool,
    hook: Callable[[str, int, int], None],
) -> Checked:
    """Skip the mapping's skipped kinds, check attributes and geometries, and build the report;
    raises LayerError with every problem found."""
    total = len(source.frame)
    source, skipped = _skip_kinds(source, spec, problems)
    n = len(source.frame)
    hook("validate", 0, n)
    table = map_attributes(source.frame, spec, layer, problems)
    geo = check_geometry(source, problems, areas, strict=strict)
    _fill_area(table, geo, source, problems)
    if problems:
        raise LayerError(problems.items)
    numbers = problems.numbers if problems.numbers is not None else np.arange(1, n + 1)
    report = build_report(
        total=total,
        numbers=numbers,
        skipped_numbers=skipped["numbers"],
        skipped_ids=skipped["ids"],
        skipped_kinds=skipped["kinds"],
        ids=table["source_id"],
        kinds=table["kind"],
        status=table["status"],
        unknown_kind=table.pop("unknown_kind"),
        place=geo.pop("place"),
        distance=geo["columns"]["outside_m"],
        unknown_values=table.pop("unknown_values"),
    )
    return Checked(n, {**table, **geo["columns"]}, report)


def _skip_kinds(
    source: Source, spec: dict[str, Any], problems: Problems
) -> tuple[Source, dict[str, np.ndarray]]:
    """Take out the features whose kind is one of the mapping's ``skip_kinds`` (dwellings,
    parking places: not space for initiatives), before they are checked; problems name the
    remaining features by their number in the file."""
    none = np.zeros(0, dtype=object)
    skipped = {"numbers": np.zeros(0, dtype=int), "ids": none, "kinds": none}
    if not spec["skip_kinds"]:
        return source, skipped
    frame = source.frame
    found = file_columns(frame, spec["fields"].get("kind") or [])
    if not found:
        return source, skipped  # no kind column mapped, or it is missing: map_attributes says
    kinds = frame[found[0]].astype(object).where(frame[found[0]].notna(), None)
    for col in found[1:]:
        kinds = kinds.where(kinds.notna(), frame[col])
    text = kinds.astype(str).str.strip()
    skip = (kinds.notna() & text.str.lower().isin(spec["skip_kinds"])).to_numpy(bool)
    if not skip.any():
        return source, skipped
    id_columns = file_columns(frame, spec["fields"].get("id", ["id"]))
    ids = (
        frame[id_columns[0]].to_numpy(dtype=object)[skip]
        if id_columns
        else np.full(int(skip.sum()), None, dtype=object)
    )
    skipped = {
        "numbers": np.flatnonzero(skip) + 1,
        "ids": np.array([_id_text(v) for v in ids], dtype=object),
        "kinds": text.to_numpy(object)[skip],
    }
    return _without(source, skip, problems), skipped


def _without(source: Source, drop: np.ndarray, problems: Problems) -> Source:
    """The source without the rows in ``drop``; their problems are forgotten, and the rest keep
    their feature numbers in the file."""
    keep = np.flatnonzero(~drop)
    dropped = set((np.flatnonzero(drop) + 1).tolist())
    problems.items = [p for p in problems.items if p.feature not in dropped]
    problems.numbers = keep + 1
    frame = source.frame.iloc[keep].reset_index(drop=True)
    return Source(frame, source.geoms[keep], source.crs, source.geom_reported[keep])


def _id_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _fill_area(
    table: dict[str, Any], geo: dict[str, Any], source: Source, problems: Problems
) -> None:
    """A plot without area_m2 gets its polygon's area, a point the mapping's default area;
    a point without either is a problem."""
    is_polygon = np.isin(geo["type_id"], (3, 6))
    given = table.pop("area_given")
    default = table.pop("area_default")
    fill = ~given & is_polygon & geo["ok"]
    table["area_m2"][fill] = geo["area"][fill]
    rest = ~given & ~is_polygon
    if default is not None:
        table["area_m2"][rest] = float(default)
    else:
        problems.mask(
            rest & ~source.geom_reported,
            "area_m2",
            "missing (only a polygon's area can be computed)",
        )
