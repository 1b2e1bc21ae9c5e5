"""Layer import: read a property layer file, validate every feature, replace the layer atomically.

Flask-free: the CLI, the demo loader, the benchmark and the tests call :func:`import_layer`.

Formats: GeoJSON, GeoPackage, Shapefile (``.shp`` or a zipped one) and CSV, read with pyogrio by
:mod:`spacematch.ingest.read`, which also settles the CRS (every file must declare one; nothing is
guessed) and bounds the cost of a bad file (``max_bytes``, ``max_vertices``, UTF-8 only).
Attribute names are mapped by a small declarative mapping (TOML or JSON; the format is documented
in :mod:`spacematch.ingest.mapping`), a preset, or nothing when the columns already carry the
design's field names.

Defaults where the file is silent (a mapping's ``[defaults]`` overrides them): ``status``
beschikbaar; ``accessible`` false; ``available_from`` the import date (the space is available
now); ``available_until`` empty (permanent); ``area_m2`` the polygon's own area in RD New, which
beats a mapping default (a point without area and without a default is a problem);
``rent_eur_m2_year`` has none: a missing rent is a problem unless the mapping gives a default,
because a guessed rent would silently skew the price score.

Geometry must be Point, Polygon or MultiPolygon (2D; Z is dropped) and valid after reprojection.
Borders: a representative point in no buurt but within ``snap_m`` (25 m) of one takes the nearest
buurt (border slivers, quays, water); one further out is kept "buiten Amsterdam" (``buurt_code``
"", ``outside_m`` its distance): never in an area filter's results, matched only by distance to a
need's point. ``strict=True`` (``import-layer --strict``) refuses both, and unknown use values,
as problems.

Whole-city exports: features whose kind is in the mapping's ``skip_kinds`` are not imported, a
unit with a contract number is stored as let (``verhuurd``), and with ``unknown_uses = "import"``
a unit whose kind maps to no use class is stored unmatched; :mod:`spacematch.ingest.report`
counts each outcome, and the report is kept with the layer.

Re-import: a property whose id persists keeps its stored status once the workflow has moved it
on (in_optie, toegewezen, ingetrokken); the file's status (beschikbaar, or verhuurd from its
contracts) applies to new ids and to the others. Any problem (a file-level one always, a
feature's in any mode) aborts the import before anything is written.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from spacematch.db import Store, bump_data_version
from spacematch.domain.areas import AreaIndex
from spacematch.ingest.attributes import column_key, map_attributes
from spacematch.ingest.bulk import write_rows
from spacematch.ingest.geometry import check_geometry
from spacematch.ingest.limits import MAX_FILE_BYTES, MAX_VERTICES
from spacematch.ingest.mapping import empty_mapping, load_mapping, merge
from spacematch.ingest.presets import PRESETS
from spacematch.ingest.problems import LayerError, Problem, Problems
from spacematch.ingest.read import Source, crs_label, read_source
from spacematch.ingest.report import ImportReport, build_report
from spacematch.models import Layer, Property

__all__ = [
    "PRESETS",
    "ImportResult",
    "LayerError",
    "Problem",
    "import_layer",
    "load_mapping",
]

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
INSERT_BATCH = 10_000  # rows per batch written (progress is reported after each)
WORKFLOW_STATUSES = ("in_optie", "toegewezen", "ingetrokken")  # kept over the file's status


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``kept_status`` counts persisting ids whose workflow status was kept
    over the file's; ``stages`` holds seconds per stage (read, validate, write) for benchmarks,
    ``cpu`` this process's CPU seconds per stage (wall time moves with the host's load)."""

    layer: str
    count: int
    source_crs: str
    seconds: float
    kept_status: int
    stages: dict[str, float] = field(default_factory=dict, compare=False)
    report: ImportReport | None = field(default=None, compare=False)
    cpu: dict[str, float] = field(default_factory=dict, compare=False)


def _resolve_mapping(
    preset: str | None, mapping: str | Path | dict[str, Any] | None
) -> dict[str, Any]:
    """The preset and/or the mapping as one normalised mapping (the mapping wins where both
    speak; a mapping can also name its preset with ``extends``)."""
    out = empty_mapping()
    if preset is not None:
        if preset not in PRESETS:
            message = f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})"
            raise LayerError([Problem(None, "mapping", message)])
        out = load_mapping(PRESETS[preset])
    if mapping is not None:
        out = merge(out, load_mapping(mapping))
    return out


def import_layer(
    store: Store,
    path: str | Path,
    *,
    layer: str,
    title: str | None = None,
    preset: str | None = None,
    mapping: str | Path | dict[str, Any] | None = None,
    is_demo: bool = False,
    progress: bool = False,
    areas: AreaIndex | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_vertices: int = MAX_VERTICES,
    strict: bool = False,
    source_label: str | None = None,
    crs: str | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> ImportResult:
    """Validate a layer file and replace the layer with it in one transaction.

    Raises LayerError with every problem found, before anything is written; the previous
    version of the layer then stays as it was. ``areas`` saves rebuilding the buurt index when
    several layers are imported in a row. ``max_bytes`` (file size) and ``max_vertices`` (per
    feature) bound the time and memory a file may cost; see :mod:`spacematch.ingest.read`.
    ``strict`` refuses points outside the buurten and unknown use values too. ``source_label``
    names the source on the layer (default: the file's name), e.g. the API address a fetch read.
    ``crs`` declares the CRS of a file that carries none (as a mapping's ``crs`` would).
    ``on_progress(stage, done, total)`` is told of each stage (read, validate, write) and of the
    rows written, for the admin upload page's progress.
    """
    hook = on_progress or (lambda stage, done, total: None)
    hook("read", 0, 0)
    started, cpu_started = time.perf_counter(), time.process_time()
    path = Path(path)
    problems = Problems()
    spec = _import_spec(layer, preset, mapping, crs=crs, strict=strict, problems=problems)
    source = read_source(path, spec, problems, max_bytes=max_bytes, max_vertices=max_vertices)
    if source is None:
        raise LayerError(problems.items)
    read_done, cpu_read = time.perf_counter(), time.process_time()

    with tqdm(
        total=len(source.frame),
        unit=" features",
        desc=f"{layer}: validating",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:
        if areas is None and source.crs is not None:
            with store.sessions() as session:
                areas = AreaIndex.from_session(session)
        checked = _validate(source, spec, layer, problems, areas, strict=strict, hook=hook)
        validate_done, cpu_validate = time.perf_counter(), time.process_time()
        bar.reset(total=checked.count)
        bar.set_description(f"{layer}: writing")
        hook("write", 0, checked.count)
        source_crs = crs_label(source.crs)
        kept = _replace(
            store,
            checked.columns,
            slug=layer,
            title=title or spec["title"],
            source=source_label or path.name,
            is_demo=is_demo,
            source_crs=source_crs,
            bar=bar,
            report=checked.report,
            hook=hook,
        )
    finished, cpu_finished = time.perf_counter(), time.process_time()
    stages = {
        "read": read_done - started,
        "validate": validate_done - read_done,
        "write": finished - validate_done,
    }
    cpu = {
        "read": cpu_read - cpu_started,
        "validate": cpu_validate - cpu_read,
        "write": cpu_finished - cpu_validate,
    }
    return ImportResult(
        layer, checked.count, source_crs, finished - started, kept, stages, checked.report, cpu
    )


def _import_spec(
    layer: str,
    preset: str | None,
    mapping: str | Path | dict[str, Any] | None,
    *,
    crs: str | None,
    strict: bool,
    problems: Problems,
) -> dict[str, Any]:
    """The layer name checked, and the mapping the import applies (preset, mapping, the
    ``crs`` argument and ``strict`` folded in). A bad name is reported with the file's other
    problems; a bad preset or mapping refuses the import at once."""
    if not SLUG_RE.fullmatch(layer):
        problems.file(
            "layer",
            f"invalid layer name {layer!r}: use 1-64 lower-case letters, "
            "digits, '-' or '_', starting with a letter or digit",
        )
    try:
        spec = _resolve_mapping(preset, mapping)
    except LayerError as err:
        raise LayerError(problems.items + err.problems) from None
    if crs is not None and spec["crs"] is None:
        spec = {**spec, "crs": crs}
    if strict:
        spec = {**spec, "unknown_uses": "refuse"}
    return spec


@dataclass(frozen=True)
class _Checked:
    """A file that passed every check: its Property columns and its import report."""

    count: int
    columns: dict[str, Any]
    report: ImportReport


def _validate(
    source: Source,
    spec: dict[str, Any],
    layer: str,
    problems: Problems,
    areas: AreaIndex | None,
    *,
    strict: bool,
    hook: Callable[[str, int, int], None],
) -> _Checked:
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
    return _Checked(n, {**table, **geo["columns"]}, report)


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
    found = _file_columns(frame, spec["fields"].get("kind") or [])
    if not found:
        return source, skipped  # no kind column mapped, or it is missing: map_attributes says
    kinds = frame[found[0]].astype(object).where(frame[found[0]].notna(), None)
    for col in found[1:]:
        kinds = kinds.where(kinds.notna(), frame[col])
    text = kinds.astype(str).str.strip()
    skip = (kinds.notna() & text.str.lower().isin(spec["skip_kinds"])).to_numpy(bool)
    if not skip.any():
        return source, skipped
    id_columns = _file_columns(frame, spec["fields"].get("id", ["id"]))
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


def _file_columns(frame: pd.DataFrame, names: list[str]) -> list[str]:
    """The frame's columns for mapped names: exact, else ignoring case and underscores."""
    by_key = {column_key(c): c for c in frame.columns}
    found = [c if c in frame.columns else by_key.get(column_key(c)) for c in names]
    return [c for c in found if c is not None]


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


# --- writing ---------------------------------------------------------------------------------


def _replace(
    store: Store,
    table: dict[str, Any],
    *,
    slug: str,
    title: str | None,
    source: str,
    is_demo: bool,
    source_crs: str,
    bar: tqdm,
    report: ImportReport | None = None,
    hook: Callable[[str, int, int], None] | None = None,
) -> int:
    """Replace the layer's properties in one transaction; returns how many statuses were kept."""
    n = len(table["source_id"])
    ids = np.array([f"{slug}.{sid}" for sid in table["source_id"]], dtype=object)
    table = {**table, "layer": slug, "id": ids}
    properties = cast(Table, Property.__table__)  # a mapped class's table is a Table
    keys = [c.name for c in properties.columns]
    with store.session() as session:
        # Lock the layer's rows (PostgreSQL; SQLite locks the whole file on write anyway), so a
        # workflow step taken during the import is not lost between reading and replacing.
        row = session.get(Layer, slug, with_for_update=True)
        kept = _keep_workflow(session, slug, table)
        _save_layer(
            session,
            row,
            slug=slug,
            title=title,
            source=source,
            is_demo=is_demo,
            count=n,
            source_crs=source_crs,
            report=report,
        )
        session.execute(properties.delete().where(properties.c.layer == slug))
        written = 0

        def progress(done: int) -> None:
            nonlocal written
            bar.update(done - written)
            written = done
            if hook is not None:
                hook("write", done, n)

        write_rows(
            session.connection(),
            properties.name,
            keys,
            [table[key] for key in keys],
            n,
            batch=INSERT_BATCH,
            progress=progress,
        )
        bump_data_version(session)
    return kept


def _save_layer(
    session: Session,
    row: Layer | None,
    *,
    slug: str,
    title: str | None,
    source: str,
    is_demo: bool,
    count: int,
    source_crs: str,
    report: ImportReport | None,
) -> None:
    """Create or update the layer's row (its title stays unless a new one is given)."""
    if row is None:
        row = Layer(slug=slug, title=title or _default_title(slug))
        session.add(row)
    else:
        row.title = title or row.title
        row.imported_at = func.now()
    row.source, row.is_demo, row.feature_count, row.source_crs = source, is_demo, count, source_crs
    row.report = report.to_json() if report is not None else ""
    session.flush()


def _keep_workflow(session: Session, slug: str, table: dict[str, Any]) -> int:
    """Re-import: a persisting id keeps a workflow status (in_optie, toegewezen, ingetrokken)
    over the file's, and the use classes an officer gave a unit of unknown kind while the file
    gives none. Updates ``table``'s ``status`` and ``uses``; returns how many statuses were kept
    that differ from the file's."""
    query = select(Property.id, Property.status, Property.uses).where(Property.layer == slug)
    stored_rows = session.execute(query.with_for_update()).all()
    if not stored_rows:
        return 0
    ids = pd.Series(table["id"], dtype=object)
    officer_uses = ids.map({r.id: r.uses for r in stored_rows if r.uses})
    given = np.asarray(table["uses"], dtype=object)
    keep_uses = officer_uses.notna().to_numpy(bool) & (given == "")
    if keep_uses.any():
        table["uses"] = np.where(keep_uses, officer_uses.to_numpy(object), given)
    mapped = ids.map({r.id: r.status for r in stored_rows})
    previous = mapped.to_numpy(object)
    keep = mapped.notna().to_numpy(bool) & np.isin(previous, WORKFLOW_STATUSES)
    kept = int((keep & (previous != table["status"])).sum())
    table["status"] = np.where(keep, previous, table["status"])
    return kept


def _default_title(slug: str) -> str:
    return slug.replace("-", " ").replace("_", " ").capitalize()
