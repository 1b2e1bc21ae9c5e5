"""Layer import: read a property layer file, validate every feature, replace the layer atomically.

Flask-free: the CLI, the demo loader, the benchmark and the tests call :func:`import_layer`.

Formats: GeoJSON, GeoPackage, Shapefile (``.shp`` or a zipped one) and CSV, read with pyogrio by
:mod:`spacematch.ingest.read`, which also settles the CRS (:mod:`spacematch.ingest.crs`: every
file must declare one; nothing is guessed) and bounds the cost of a bad file (``max_bytes``,
``max_vertices``, UTF-8 only); :mod:`spacematch.ingest.validate` checks every feature.
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
from spacematch.ingest.bulk import write_rows
from spacematch.ingest.crs import crs_label
from spacematch.ingest.limits import MAX_FILE_BYTES, MAX_VERTICES
from spacematch.ingest.mapping import empty_mapping, load_mapping, merge
from spacematch.ingest.presets import PRESETS
from spacematch.ingest.problems import LayerError, Problem, Problems
from spacematch.ingest.read import read_source
from spacematch.ingest.report import ImportReport
from spacematch.ingest.validate import validate_features
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
        checked = validate_features(source, spec, layer, problems, areas, strict=strict, hook=hook)
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
    stages = _stages((started, read_done, validate_done, finished))
    cpu = _stages((cpu_started, cpu_read, cpu_validate, cpu_finished))
    return ImportResult(
        layer, checked.count, source_crs, finished - started, kept, stages, checked.report, cpu
    )


def _stages(marks: tuple[float, float, float, float]) -> dict[str, float]:
    """Seconds per stage from the clock read at the start and after each stage."""
    return {name: marks[k + 1] - marks[k] for k, name in enumerate(("read", "validate", "write"))}


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
