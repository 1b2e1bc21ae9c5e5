"""The vastgoed officer's pages: the blueprint, the labels its pages share, and the filtered
property list (map + table). One property with its candidate initiatives and its allocation
workflow is in ``officer_property``; the allocation proposal is in ``allocation``.

Officers and admins only. The map and the table of ``/properties`` always agree because both are
driven by the same canonical filter arguments: the table parses them with
``properties.parse_filter`` and the map fetches ``/api/properties`` with exactly those arguments,
which the API parses with the same function.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any, cast

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from spacematch import geo, maps
from spacematch.domain.properties import (
    PropertyFilter,
    count_properties,
    find_properties,
    parse_filter,
)
from spacematch.errors import ApiError
from spacematch.export.tables import property_record
from spacematch.models import PROPERTY_STATUSES, USES, Layer
from spacematch.web.auth import role_required
from spacematch.web.common import (
    area_index,
    map_config,
    render_map,
    whole_number,
)
from spacematch.web.labels import MAP_LABELS, STATUS_LABELS, USE_LABELS
from spacematch.web.officer.blueprint import OFFICER_ROLES, bp
from spacematch.web.state import state

PAGE_SIZE = 25  # one screenful of rows to read and compare
# The filters of the officer's list; the same names as the API's (``properties.parse_filter``).
FILTER_PARAMS = (
    "layer",
    "area",
    "status",
    "use",
    "min_area",
    "max_area",
    "max_rent",
    "available_from",
)
FILTER_ERRORS = {
    "area": _l("Onbekend gebied."),
    "layer": _l("Onbekende laag."),
    "status": _l("Onbekende status."),
    "use": _l("Onbekend gebruik."),
    "min_area": _l("Vul een getal van 0 of meer in."),
    "max_area": _l("Vul een getal van 0 of meer in."),
    "max_rent": _l("Vul een getal van 0 of meer in."),
    "available_from": _l("Vul een datum in (JJJJ-MM-DD)."),
}


# -- the filter ------------------------------------------------------------------------------


def resolve_area(raw: str) -> str:
    """An area code as typed (any case) or an area's exact name -> its code; else unchanged."""
    areas = area_index()
    raw = raw.strip()
    if raw in areas:
        return raw
    if raw.upper() in areas:
        return raw.upper()
    return areas.by_name(raw) or raw


def filter_args(args: MultiDict) -> dict[str, str]:
    """The request's filter as canonical query arguments, the single source for table and map.

    Repeated values (status checkboxes) are comma-joined, as the API takes them; the area text
    box (any code or name) wins over the stadsdeel select.
    """
    out: dict[str, str] = {}
    for name in FILTER_PARAMS:
        values = [v.strip() for v in args.getlist(name) if v.strip()]
        if values:
            out[name] = ",".join(values)
    if "area" not in out and args.get("stadsdeel", "").strip():
        out["area"] = args["stadsdeel"].strip()
    if "area" in out:
        out["area"] = resolve_area(out["area"])
    return out


def parse_officer_filter(
    args: dict[str, str], layers: set[str]
) -> tuple[PropertyFilter, dict[str, str], dict[str, str]]:
    """Parse the canonical arguments; an invalid one is reported and dropped, the rest apply.

    Returns the filter, the arguments that were applied (for the map URL and links) and the
    errors per field in the user's language.
    """
    areas = area_index()
    errors: dict[str, str] = {}
    try:
        return (
            parse_filter(args, areas=areas, layers=layers, statuses=PROPERTY_STATUSES),
            args,
            errors,
        )
    except ApiError as err:
        for name in err.errors:
            label = FILTER_ERRORS.get(name)
            errors[name] = str(label) if label is not None else _("Ongeldige waarde.")
    valid = {k: v for k, v in args.items() if k not in errors}
    return (
        parse_filter(valid, areas=areas, layers=layers, statuses=PROPERTY_STATUSES),
        valid,
        errors,
    )


def layer_titles() -> dict[str, str]:
    with state().store.sessions() as session:
        return dict(session.execute(select(Layer.slug, Layer.title).order_by(Layer.slug)).all())


def stadsdelen() -> list[tuple[str, str]]:
    areas = area_index()
    return sorted(
        ((c, areas.names[c]) for c in areas.codes if areas.levels[c] == "stadsdeel"),
        key=lambda pair: pair[1],
    )


def area_bounds_wgs84(code: str | None) -> tuple[float, float, float, float] | None:
    """The WGS84 bounds of an area, to open the map on the filtered area."""
    import shapely

    geom = area_index().geoms.get(code) if code else None
    if geom is None:
        return None
    minx, miny, maxx, maxy = shapely.bounds(geo.to_wgs84(geom)).tolist()
    return minx, miny, maxx, maxy


def _page() -> int:
    page = whole_number(request.args.get("page", "1"))
    return page if page is not None and page >= 1 else 1


@bp.get("/properties")
@role_required(*OFFICER_ROLES)
def properties():
    """Map and table of the properties matching one GET filter form."""
    titles = layer_titles()
    args = filter_args(request.args)
    flt, applied, errors = parse_officer_filter(args, set(titles))
    page = _page()
    areas = area_index()
    with state().store.sessions() as session:
        total = count_properties(session, flt, areas=areas)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(page, pages)
        paged = dataclasses.replace(flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        rows = find_properties(session, paged, areas=areas)
        from spacematch.domain.interests import interest_counts
        from spacematch.mail.alerts import leases_ending

        counts = interest_counts(session, [r.id for r in rows])
        leases = leases_ending(
            session, today=dt.date.today(), days=int(current_app.config["LEASE_NOTICE_DAYS"])
        )
    records = [property_record(r, areas) for r in rows]
    # url_for's stub types **values by its _external and co; these are plain strings.
    query = cast("dict[str, Any]", applied)
    m = maps.officer_properties_map(
        map_config(),
        properties_url=url_for("api.properties_overview", **query),
        property_link=url_for("officer.property_page", property_id="__ID__"),
        labels={k: str(v) for k, v in MAP_LABELS.items()},
        bounds=area_bounds_wgs84(flt.area),
    )
    return render_template(
        "officer/properties.html",
        records=records,
        interest_counts=counts,
        leases=leases,
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1 if records else 0,
        last=(page - 1) * PAGE_SIZE + len(records),
        args=args,
        applied=applied,
        errors=errors,
        layer_titles=titles,
        stadsdelen=stadsdelen(),
        statuses=PROPERTY_STATUSES,
        uses=USES,
        status_labels=STATUS_LABELS,
        use_labels=USE_LABELS,
        area_label=areas.names.get(flt.area, "") if flt.area else "",
        api_url=url_for("api.properties", **query),
        **render_map(m),
    ), 400 if errors else 200
