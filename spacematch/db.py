"""The store: one SQLAlchemy engine and session factory per app (or per script).

Flask-free on purpose: the CLI, the benchmark and the tests use the same ``Store`` as the views.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, select, update
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from spacematch.models import StoreState


class Store:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        # psycopg 3 is the PostgreSQL driver we ship; a plain postgresql:// URL means it too.
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
            _create_private_sqlite_file(url)
        self.engine: Engine = create_engine(url, **kwargs)
        # Single statements (a submission's INSERT, the data versions and the need asked on
        # every match request) need no BEGIN and COMMIT around them: on PostgreSQL they run on a
        # second pool whose connections stay in autocommit, so each is one round trip. (Setting
        # autocommit per checkout instead, through execution_options, cost 90 us of CPU per
        # statement in psycopg; with no transaction left open there is nothing to reset on
        # return either.)
        self._autocommit = self.engine
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self._autocommit = create_engine(
                url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **kwargs
            )
            for engine in (self.engine, self._autocommit):
                _ping_when_idle(engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def one_statement(self) -> Iterator[Connection]:
        """A connection for one statement that is a transaction of its own: on PostgreSQL in
        autocommit (a single round trip; a write and its triggers commit or fail together), on
        SQLite inside BEGIN ... COMMIT (local: no round trips to save). Never run two writes,
        or two reads that must agree, through it: each statement stands alone. Nothing is reset
        when the connection goes back to the pool, so never ``SET`` a session setting on it."""
        if self.is_sqlite:
            with self.engine.begin() as conn:
                yield conn
        else:
            with self._autocommit.connect() as conn:
                yield conn

    def create_schema(self) -> str:
        """Bring the schema to the newest migration (data kept; see ``spacematch.migrations``)
        and make sure the state row exists. Returns what was done, in a few words."""
        from spacematch.migrations import upgrade

        done = upgrade(self)
        with self.session() as session:
            if session.get(StoreState, 1) is None:
                session.add(StoreState(id=1, data_version=0))
        return done

    def data_version(self) -> int:
        return self.versions()[0]

    def versions(self) -> tuple[int, int]:
        """``(data_version, property_version)`` in one query."""
        with self._autocommit.connect() as conn:
            row = conn.execute(_VERSIONS).first()
        return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._autocommit is not self.engine:
            self._autocommit.dispose()


def bump_data_version(session: Session) -> None:
    """Call inside the transaction that changes properties: moves both versions. (Writes to
    needs move ``data_version`` alone, through the database triggers of migration 0003.)"""
    session.execute(
        update(StoreState)
        .where(StoreState.id == 1)
        .values(
            data_version=StoreState.data_version + 1,
            property_version=StoreState.property_version + 1,
        )
    )


_VERSIONS = select(StoreState.data_version, StoreState.property_version).where(StoreState.id == 1)
# A pooled PostgreSQL connection idle for longer than this is pinged before use, so one that
# died meanwhile (a database restart, an idle timeout) is replaced instead of failing a request.
# Busy connections skip the ping: SQLAlchemy's pool_pre_ping, which pings on every checkout, cost
# a round trip per session, a quarter of a match request's database time under load. The price:
# should the database restart in the very seconds a connection is busy, that one request fails
# (500), and SQLAlchemy then replaces the pool's connections.
PING_AFTER_IDLE_S = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(
        dbapi_connection: DBAPIConnection,
        record: ConnectionPoolEntry,
        _proxy: PoolProxiedConnection,
    ) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # the pool retries with a new connection
            raise exc.DisconnectionError(str(err)) from err


def _create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite store as an empty file readable by its owner only (0600): it holds
    initiatives' contact data and password hashes. SQLite gives its -wal and -shm files the
    database file's mode. An existing file is left as it is."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except FileNotFoundError:  # its folder does not exist: SQLite will say so on connect
        return
    os.close(fd)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
