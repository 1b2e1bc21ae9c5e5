"""Bulk writing of a layer's property rows, without an ORM object or SQLAlchemy bind
processing per row.

Part of the layer import (:mod:`spacematch.ingest.importer` is the entry point); Flask-free.

Why: with ``session.execute(insert, [dict, ...])`` SQLAlchemy spent about 15 us of CPU per row on
building and processing parameters, more than the database spent storing it, so a
1,000,000-point file took minutes to write. Here the columns arrive as numpy arrays, are turned
into the database's own representation once per column (vectorised), and the rows go to the
driver in batches, on the session's connection and so inside the import's one transaction:

- PostgreSQL: ``COPY property (...) FROM STDIN`` through psycopg (text format).
- SQLite: the driver's ``executemany`` with ``?`` placeholders. Dates are stored as the
  ``YYYY-MM-DD`` text and booleans as 0/1, exactly as SQLAlchemy's ``Date`` and ``Boolean``
  types store them there, so the ORM reads the rows back unchanged. The connection's page cache
  is raised for the import (and set back). When the rows outnumber those already in the table
  (a first import, or a re-import of the big layer) and are at least
  ``SQLITE_REBUILD_MIN_ROWS``, the table's secondary indexes are dropped before the insert and
  created again from their stored SQL after it, still inside the transaction: sorting once is
  cheaper than a million random index inserts (1,000,000 rows: 13 s CPU instead of 22 s).
  Readers keep their snapshot (WAL); a failure rolls the indexes back with the rows.

PostgreSQL keeps its indexes: dropping one would lock every reader of ``property`` out until
the import commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection

SQLITE_IMPORT_CACHE_KIB = 256 * 1024  # PRAGMA cache_size during an import (256 MiB of pages)
SQLITE_REBUILD_MIN_ROWS = 50_000  # fewer rows: the indexes are kept and updated row by row

# Columns stored as dates or booleans need a conversion first; the rest go as they are.
DATE_COLUMNS = ("available_from", "available_until")
BOOL_COLUMNS = ("accessible",)
NAN_IS_NULL = ("outside_m",)  # nan (inside a buurt) is stored as NULL


def write_rows(
    conn: Connection,
    table: str,
    keys: Sequence[str],
    columns: Sequence[Any],
    n: int,
    *,
    batch: int,
    progress: Callable[[int], None],
) -> None:
    """Insert ``n`` rows given as one array (or a scalar, for every row) per key.

    ``progress(done)`` is called after each batch of ``batch`` rows.
    """
    postgres = conn.dialect.name == "postgresql"
    pairs = zip(keys, columns, strict=True)
    values = [_db_values(key, column, n, postgres=postgres) for key, column in pairs]
    names = ", ".join(keys)
    raw = conn.connection.driver_connection
    if raw is None:  # a pooled connection always has one
        raise RuntimeError("no DBAPI connection")
    cursor = raw.cursor()
    try:
        if postgres:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for done, rows in _batches(values, n, batch):
                    for row in rows:
                        copy.write_row(row)
                    progress(done)
        else:
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(keys))})"
            (previous,) = cursor.execute("PRAGMA cache_size").fetchone()
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
            try:
                rebuild = n >= SQLITE_REBUILD_MIN_ROWS and n >= _row_count(cursor, table)
                indexes = _drop_indexes(cursor, table) if rebuild else []
                for done, rows in _batches(values, n, batch):
                    cursor.executemany(sql, rows)
                    progress(done)
                for create in indexes:
                    cursor.execute(create)
            finally:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")
    finally:
        cursor.close()


def _row_count(cursor: Any, table: str) -> int:
    (count,) = cursor.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


def _drop_indexes(cursor: Any, table: str) -> list[str]:
    """Drop the table's explicit indexes (not its primary key); returns their CREATE INDEX SQL."""
    rows = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL ORDER BY name",
        (table,),
    ).fetchall()
    for name, _sql in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    return [str(sql) for _name, sql in rows]


def _batches(
    values: list[list[Any]], n: int, batch: int
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """Rows as tuples, ``batch`` at a time, with the count done after each."""
    batch = max(1, batch)
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        yield stop, list(zip(*(v[start:stop] for v in values), strict=True))


def _db_values(key: str, column: Any, n: int, *, postgres: bool) -> list[Any]:
    """One column as a list of values the driver takes as they are."""
    if not isinstance(column, np.ndarray):
        return [column] * n
    if key in DATE_COLUMNS:
        return _iso_dates(column)
    if key in BOOL_COLUMNS:
        flags = column.astype(bool)
        out: list[Any] = flags.tolist() if postgres else flags.astype(np.int64).tolist()
        return out
    if key in NAN_IS_NULL:
        floats = column.astype(float)
        cells: list[Any] = floats.tolist()
        for i in np.flatnonzero(np.isnan(floats)):
            cells[i] = None
        return cells
    plain: list[Any] = column.tolist()
    return plain


def _iso_dates(column: np.ndarray) -> list[str | None]:
    """Dates (datetime64, ``date`` objects or None) as ``YYYY-MM-DD`` text; None stays None."""
    days = np.asarray(column, dtype="datetime64[D]")
    text: list[str | None] = np.datetime_as_string(days, unit="D").astype(object).tolist()
    for i in np.flatnonzero(np.isnat(days)):
        text[i] = None
    return text
