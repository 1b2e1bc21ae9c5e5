"""Builders shared by several test modules: layers of points, needs tailored to a property,
canary needs whose personal data and tokens the privacy tests look for in every output, and
throwaway PostgreSQL schemas.

Plain functions, imported as ``from builders import ...`` (``tests/`` is on the path, as for
``conftest``); fixtures stay in the test modules that own them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from spacematch import get_store
from spacematch.domain.areas import AreaIndex
from spacematch.domain.needs import NeedInput, create_need, validate_need
from spacematch.models import Need, Property

RD_NEW = "urn:ogc:def:crs:EPSG::28992"

# Personal data that must never leave the store but through the initiative's own pages.
CANARY = {
    "contact_name": "Canarius Contactpersoon",
    "contact_email": "canarius.contact@example.org",
    "description": "Canarius vrije tekst: bel 06-12345678",
}
CANARY_TOKEN = "canarytoken-Zq8yXw3vT5uR1pO9nM7lK2jH4gF6dS0aQ"


def stored_areas(app) -> AreaIndex:
    """The areas as the app's store holds them."""
    with get_store(app).sessions() as session:
        return AreaIndex.from_session(session)


# -- layers ------------------------------------------------------------------------------------


def write_layer(path: Path, features: list[dict], crs: str | None = RD_NEW) -> Path:
    """A GeoJSON layer file (coordinates in RD New unless ``crs`` says otherwise)."""
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def point(fid: str, xy: tuple[float, float], **props: Any) -> dict:
    """A 120 m² office-and-studio property at ``xy``; ``props`` change or add attributes."""
    base = {
        "id": fid,
        "name": f"Pand {fid}",
        "area_m2": 120,
        "rent_eur_m2_year": 100,
        "uses": "kantoor,atelier",
        "available_from": "2026-09-01",
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(xy)},
        "properties": {**base, **props},
    }


# -- needs -------------------------------------------------------------------------------------


def need_fitting(app, prop: Property, **fields: Any) -> NeedInput:
    """A valid need that fits ``prop`` perfectly (size, rent, use, buurt, date), so it heads the
    property's candidates. ``fields`` give the initiative, contact and description."""
    data = {
        "legal_form": "cooperatie",
        "sector": "overig",
        "min_area_m2": prop.area_m2 * 0.9,
        "max_area_m2": prop.area_m2 * 1.1,
        "max_rent_eur_month": prop.rent_eur_m2_year * prop.area_m2 / 12 + 100,
        "uses": prop.use_list[:1],
        "areas": [prop.buurt_code],
        "needed_from": prop.available_from.isoformat(),
        "min_months": 1,
        "accessible": False,
        **fields,
    }
    return validate_need(data, areas=stored_areas(app), allow_past=True)


def add_canaries(app, places: Iterable[dict], **fields: Any) -> list[int]:
    """One need with ``CANARY``'s personal data per entry of ``places`` (its areas, point or
    status), the i-th with the token ``CANARY_TOKEN`` + i; ``fields`` complete the need."""
    areas = stored_areas(app)
    base = {
        "initiative": "Canarius Coöperatie",
        "legal_form": "cooperatie",
        "sector": "voedsel",
        "min_area_m2": 60,
        "max_area_m2": 400,
        "max_rent_eur_month": 5000,
        "needed_from": "2026-09-01",
        **fields,
        **CANARY,
    }
    ids = []
    with get_store(app).session() as session:
        for i, place in enumerate(places):
            new = create_need(
                session, validate_need({**base, **place}, areas=areas, allow_past=True)
            )
            session.get(Need, new.id).token = f"{CANARY_TOKEN}{i}"
            ids.append(new.id)
    return ids


def secrets_of(app) -> list[str]:
    """Every need's contact name, e-mail, token and description, as stored."""
    with get_store(app).sessions() as session:
        rows = session.execute(
            select(Need.contact_name, Need.contact_email, Need.token, Need.description)
        ).all()
    return sorted({value for row in rows for value in row if value})


def psycopg_url(url: str) -> str:
    """A ``postgresql://`` URL for SQLAlchemy's psycopg 3 driver."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@contextmanager
def pg_schema(pg_url: str, prefix: str) -> Iterator[str]:
    """A new, empty schema in ``pg_url``'s database, as a URL whose connections use it; dropped
    with everything in it afterwards (tests never touch the shared schema this way)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(psycopg_url(pg_url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(psycopg_url(pg_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
