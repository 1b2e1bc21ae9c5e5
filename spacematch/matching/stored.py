"""The matching index's inputs: properties as columns, and what is read from the store (the
data versions, the open needs, one stored need, every property's matching columns).

Kept apart from the index itself (``index.MatchIndex``) so that it holds the index and this
module the SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, select

from spacematch.matching import criteria as crit
from spacematch.matching.need import NeedQuery
from spacematch.models import Need, Property, StoreState

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "EPOCH_ORDINAL",
    "NEED_COLUMNS",
    "PROPERTY_COLUMNS",
    "PropertyArrays",
    "StoredNeed",
    "open_needs",
    "stored_need",
    "stored_properties",
    "to_days",
    "versions",
]

EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal(): day numbers count from the Unix epoch
# fmt: off
PROPERTY_COLUMNS = (
    "id", "x", "y", "minx", "miny", "maxx", "maxy", "area_m2", "rent_eur_m2_year", "uses",
    "available_from", "available_until", "accessible", "status", "buurt_code",
)
# fmt: on


def to_days(values: Iterable[Any], *, missing: int) -> np.ndarray:
    """Dates (``date``, ISO strings or datetime64) as int64 day numbers; None -> ``missing``."""
    import numpy as np

    days = np.array(
        list(values) if not isinstance(values, np.ndarray) else values, dtype="datetime64[D]"
    )
    out = days.astype(np.int64)
    out[np.isnat(days)] = missing
    return out


@dataclass
class PropertyArrays:
    """Properties as columns, the form the benchmark and the store loader both produce.

    ``uses`` may be comma-separated strings or already a bitmask array; dates may be ``date``
    objects, ISO strings or day numbers (``available_until``: None/NaT or ``PERMANENT``).
    """

    ids: Sequence[str] | np.ndarray
    x: Sequence[float] | np.ndarray
    y: Sequence[float] | np.ndarray
    minx: Sequence[float] | np.ndarray
    miny: Sequence[float] | np.ndarray
    maxx: Sequence[float] | np.ndarray
    maxy: Sequence[float] | np.ndarray
    area_m2: Sequence[float] | np.ndarray
    rent_eur_m2_year: Sequence[float] | np.ndarray
    uses: Sequence[str] | np.ndarray
    available_from: Sequence[Any] | np.ndarray
    available_until: Sequence[Any] | np.ndarray
    accessible: Sequence[bool] | np.ndarray
    status: Sequence[str] | np.ndarray
    buurt_code: Sequence[str | None] | np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> PropertyArrays:
        """From rows in ``PROPERTY_COLUMNS`` order."""
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in PROPERTY_COLUMNS]
        return cls(*[list(col) for col in columns])


NEED_COLUMNS = (
    "id", "min_area_m2", "max_area_m2", "max_rent_eur_month", "uses", "areas", "x", "y",
    "max_distance_m", "needed_from", "min_months", "accessible", "status", "legal_form",
)  # fmt: skip


def versions(session: Any) -> tuple[int, int]:
    """The store's (data_version, property_version)."""
    row = session.execute(
        select(StoreState.data_version, StoreState.property_version).where(StoreState.id == 1)
    ).first()
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


class StoredNeed(NamedTuple):
    token: str
    need: NeedQuery
    versions: tuple[int, int]  # the store's (data_version, property_version) when read


_NEED_WITH_VERSIONS = (
    select(
        Need.token,
        *[getattr(Need, name) for name in NEED_COLUMNS],
        StoreState.data_version,
        StoreState.property_version,
    )
    .join(StoreState, StoreState.id == 1)
    .where(Need.id == bindparam("need_id"))
)


def stored_need(conn: Any, need_id: int) -> StoredNeed | None:
    """One need as matching sees it, its token and the store's data versions, in one statement
    (one round trip on PostgreSQL): what ranking one need's properties reads from the store."""
    row = conn.execute(_NEED_WITH_VERSIONS, {"need_id": need_id}).first()
    if row is None:
        return None
    return StoredNeed(row.token, NeedQuery.from_row(row), (row.data_version, row.property_version))


def stored_properties(session: Any) -> PropertyArrays:
    """Every stored property's matching columns, from one SELECT on the session's connection.

    The rows are fetched as the driver's plain tuples (no SQLAlchemy result processing) and
    turned into one array per column: floats and flags as they come, dates as day numbers
    (SQLite stores them as ISO text, which numpy parses; psycopg gives ``date`` objects), the
    use classes as bit masks computed once per distinct value. The values are exactly those
    SQLAlchemy's types would give, so the index is the same.
    """
    import numpy as np
    import pandas as pd

    cols = [getattr(Property, name) for name in PROPERTY_COLUMNS]
    conn = session.connection()
    sql = str(select(*cols).compile(dialect=conn.dialect))
    raw = conn.connection.driver_connection
    cursor = raw.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return PropertyArrays.from_rows([])
    table = np.array(rows, dtype=object)  # one (rows x columns) copy: no zip(*rows) unpacking
    c = {name: table[:, i] for i, name in enumerate(PROPERTY_COLUMNS)}
    uses = np.asarray(c["uses"], dtype=object)
    codes, distinct = pd.factorize(uses, use_na_sentinel=False)  # None is a value: no uses
    masks = np.array([crit.uses_mask(text or "") for text in distinct], dtype=np.int64)
    return PropertyArrays(
        ids=np.asarray(c["id"], dtype=object),
        **{k: np.asarray(c[k], dtype=float) for k in FLOAT_COLUMNS},
        uses=masks[codes],
        available_from=_stored_days(c["available_from"], missing=0),
        available_until=_stored_days(c["available_until"], missing=int(crit.PERMANENT)),
        accessible=np.asarray(c["accessible"], dtype=bool),
        status=np.asarray(c["status"], dtype=object),
        buurt_code=np.asarray(c["buurt_code"], dtype=object),
    )


FLOAT_COLUMNS = ("x", "y", "minx", "miny", "maxx", "maxy", "area_m2", "rent_eur_m2_year")


def _stored_days(values: np.ndarray, *, missing: int) -> np.ndarray:
    """A stored date column (ISO text on SQLite, ``date`` objects from psycopg, None where
    empty) as int64 day numbers since the epoch; None -> ``missing``."""
    import numpy as np

    present = values[values != None]  # noqa: E711 - elementwise on an object array
    if len(present) and isinstance(present[0], dt.date):  # a driver gives one type per column
        out = np.full(len(values), missing, dtype=np.int64)
        out[values != None] = [d.toordinal() - EPOCH_ORDINAL for d in present]  # noqa: E711
        return out
    return to_days(values.astype("datetime64[D]"), missing=missing)


def open_needs(session: Any) -> list[NeedQuery]:
    """Every open need as matching sees it."""
    cols = [getattr(Need, name) for name in NEED_COLUMNS]
    rows = session.execute(select(*cols).where(Need.status == "open")).all()
    return [NeedQuery.from_row(r) for r in rows]
