"""The store: one SQLAlchemy engine and session factory per app (or per script).

Flask-free on purpose: the CLI, the benchmark and the tests use the same ``Store`` as the views.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.orm import Session, sessionmaker

from .models import Base, StoreState


class Store:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        # psycopg 3 is the PostgreSQL driver we ship; a plain postgresql:// URL means it too.
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        kwargs: dict = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        with self.session() as session:
            if session.get(StoreState, 1) is None:
                session.add(StoreState(id=1, data_version=0))

    def data_version(self) -> int:
        with self.sessions() as session:
            version = session.scalar(select(StoreState.data_version).where(StoreState.id == 1))
        return int(version or 0)

    def dispose(self) -> None:
        self.engine.dispose()


def bump_data_version(session: Session) -> None:
    """Call inside the transaction that changes properties or needs."""
    session.execute(
        update(StoreState)
        .where(StoreState.id == 1)
        .values(data_version=StoreState.data_version + 1)
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
