"""Downloads: ``GET /export/<dataset>.<fmt>`` for planners (and admins, and officers).

Officers may download too: an export holds less than what an officer already sees (no contact
data of initiatives), and a property list is part of their own work. Anonymous users are sent to
the login page. Unknown dataset or format: 404 naming it; a bad filter: 400 naming it.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from spacematch.errors import NotFound
from spacematch.export.datasets import build_table
from spacematch.export.tables import (
    DATASETS,
    FORMATS,
    check_target,
    parse_query,
)
from spacematch.export.writers import filename, write
from spacematch.web.auth import role_required
from spacematch.web.common import area_index, index_cache, match_weights
from spacematch.web.state import state

bp = Blueprint("exports", __name__)
EXPORT_ROLES = ("planner", "officer")


@bp.get("/export/<dataset>.<fmt>")
@role_required(*EXPORT_ROLES)
def download(dataset: str, fmt: str) -> Response:
    """One dataset in one format, as an attachment; filters are query parameters."""
    check_target(dataset, fmt)
    return Response(
        export_bytes(dataset, fmt, request.args),
        content_type=FORMATS[fmt],  # as written: mimetype= would add a second charset
        headers={
            "Content-Disposition": f'attachment; filename="{filename(dataset, fmt)}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.get("/export/<path:name>")
@role_required(*EXPORT_ROLES)
def unknown(name: str) -> Response:
    """Anything that is not ``<dataset>.<fmt>``: a 404 that says what would work."""
    raise NotFound(
        {
            "export": f"unknown export {name!r}; use /export/<dataset>.<format> with dataset "
            f"{' | '.join(DATASETS)} and format {' | '.join(FORMATS)}"
        }
    )


def export_bytes(dataset: str, fmt: str, args: dict[str, str]) -> bytes:
    """Parse the filters, build the table and write it (shared with the CLI)."""
    areas = area_index()
    store = state().store
    with store.sessions() as session:
        query = parse_query(dataset, args, session=session, areas=areas)
    table = build_table(store, query, areas=areas, index=index_cache().get, weights=match_weights())
    return write(table, fmt)
