"""Needs as published: an allow-list of public fields, and a need's place as geometry. Flask-free.

Privacy: needs are exported through an allow-list (``NEED_COLUMNS``). Contact name, e-mail and
token are never read into a record. The free-text ``description`` is left out too: it is
written to the municipality (not published anywhere in the app), and free text can hold names and
phone numbers that no filter finds reliably; planners' analyses need the structured fields only.
A need's geometry is its point, else the union of its preferred areas (``exports.need_geometries``);
the public OGC API snaps points to the centre of a 100 m cell.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.domain.areas import AreaIndex
from spacematch.export.tables import (
    COMMUNITY_LEGAL_FORMS,
    ExportQuery,
    Table,
    filter_bbox,
    need_buurten,
    need_geometries,
)
from spacematch.models import Need

# The allow-list of a need's public fields. Never add contact_name, contact_email or token.
NEED_COLUMNS: dict[str, str] = {
    "id": "int", "initiative": "str", "legal_form": "str", "community": "bool", "sector": "str",
    "min_area_m2": "float", "max_area_m2": "float", "max_rent_eur_month": "float", "uses": "str",
    "areas": "str", "area_names": "str", "place": "str", "max_distance_m": "float",
    "needed_from": "str", "min_months": "int", "accessible": "bool", "status": "str",
}  # fmt: skip


def need_row(row: Need, areas: AreaIndex) -> dict[str, Any]:
    """A need's public fields only: read one by one from the allow-list, never the whole row."""
    return {
        "id": row.id, "initiative": row.initiative, "legal_form": row.legal_form,
        "community": row.legal_form in COMMUNITY_LEGAL_FORMS, "sector": row.sector,
        "min_area_m2": row.min_area_m2, "max_area_m2": row.max_area_m2,
        "max_rent_eur_month": row.max_rent_eur_month, "uses": ",".join(row.use_list),
        "areas": ",".join(row.area_list),
        "area_names": "; ".join(areas.names.get(c, c) for c in row.area_list),
        "place": "point" if row.x is not None else "areas", "max_distance_m": row.max_distance_m,
        "needed_from": row.needed_from.isoformat(), "min_months": row.min_months,
        "accessible": bool(row.accessible), "status": row.status,
    }  # fmt: skip


def select_needs(session: Session, query: ExportQuery, *, areas: AreaIndex) -> list[Need]:
    """Needs passing the status, sector, legal form and area filters (bbox is geometric: later)."""
    stmt = select(Need).order_by(Need.id)
    if query.status:
        stmt = stmt.where(Need.status.in_(query.status))
    if query.sector:
        stmt = stmt.where(Need.sector.in_(query.sector))
    if query.legal_form:
        stmt = stmt.where(Need.legal_form.in_(query.legal_form))
    rows = list(session.scalars(stmt))
    if query.area:
        wanted = set(areas.buurten_in(query.area))
        rows = [r for r in rows if need_buurten(r.area_list, r.x, r.y, areas) & wanted]
    return rows


def needs_table(
    session: Session, query: ExportQuery, *, areas: AreaIndex, point_grid_m: float | None = None
) -> Table:
    rows = select_needs(session, query, areas=areas)
    table = Table(
        "needs",
        NEED_COLUMNS,
        [need_row(r, areas) for r in rows],
        need_geometries(rows, areas, point_grid_m=point_grid_m),
    )
    return filter_bbox(table, query.bbox)
