"""Declared space needs: storage. Their validation (shared by the JSON API, the form and the demo
loader) is ``NeedInput`` in ``spacematch.domain.need_input``, re-exported here. Flask-free.
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from spacematch import geo
from spacematch.domain.need_input import FIELDS, NeedInput, validate_need
from spacematch.models import Need

__all__ = ["FIELDS", "NeedInput", "NewNeed", "create_need", "point_wgs84", "update_need",
           "validate_need"]  # fmt: skip


def new_token() -> str:
    """An unguessable 256-bit URL-safe token for an initiative's private page."""
    return secrets.token_urlsafe(32)


_INSERT_NEED = insert(Need).returning(Need.id)


class NewNeed(NamedTuple):
    id: int
    token: str


def create_need(conn: Session | Connection, need: NeedInput, *, is_demo: bool = False) -> NewNeed:
    """Store a need with one INSERT (the database's trigger moves the data version, see
    migration 0003). Given ``Store.one_statement()``'s connection it is a whole transaction in
    one round trip; given a session it joins that session's transaction."""
    token = new_token()
    # A fixed statement with parameters: compiled once per process. (``insert().values(...)``
    # builds and hashes a new statement per call, which cost more CPU than the database.)
    params = {"token": token, "is_demo": is_demo, **need.columns()}
    new_id = conn.execute(_INSERT_NEED, params).scalar_one()
    return NewNeed(int(new_id), token)


def update_need(row: Need, need: NeedInput) -> Need:
    """Change a stored need in its session (the trigger moves the data version on flush)."""
    for key, value in need.columns().items():
        setattr(row, key, value)
    return row


def point_wgs84(row: Need) -> list[float] | None:
    """The need's point as [lon, lat], for the API and maps."""
    if row.x is None or row.y is None:
        return None
    lon, lat = geo.rd_to_wgs84_xy(row.x, row.y)
    return [round(float(lon), 7), round(float(lat), 7)]
