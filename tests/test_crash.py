"""Crashes: ``kill -9`` the server during a burst of submissions, and ``flask import-layer``
mid-write; after a restart every acknowledged need is there and the layer is wholly the old or
wholly the new version.

The app runs as real subprocesses (gunicorn with two sync workers, as in production and in
``scripts/loadtest.py``; the ``flask`` CLI for imports) on SQLite, and on PostgreSQL when
``SPACEMATCH_TEST_DATABASE_URL`` is set -- in a fresh schema created for the test and dropped
after it, never the shared one.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a commit survives the process being killed
(it is in the WAL file, which the next opener recovers from), though not a power cut. These tests
kill processes; they do not cut power.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import pg_schema, psycopg_url
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

import spacematch.db
from spacematch.db import Store
from spacematch.domain.areas import load_areas
from spacematch.ingest.importer import import_layer
from spacematch.models import (
    Area,
    Layer,
    Need,
    Property,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SPACEMATCH_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
START_TIMEOUT_S = 60.0


def _with_query(url: str, **query: str) -> str:
    return make_url(url).update_query_dict(query).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path, sqlite_template, area_records) -> Iterator[str]:
    """A fresh store with the areas loaded: a copy of the SQLite template, or a new schema."""
    if request.param == "sqlite":
        path = tmp_path / "crash.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with pg_schema(PG_URL, "test_crash") as url:
        store = Store(url)
        try:
            store.create_schema()
            with store.session() as session:
                load_areas(session, area_records)
        finally:
            store.dispose()
        yield url


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEMATCH_")}
    env.update(
        SPACEMATCH_DATABASE_URL=url,
        SPACEMATCH_SECRET_KEY="crash-test",
        SPACEMATCH_RATELIMIT_ENABLED="false",
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """gunicorn (two sync workers) serving the app on 127.0.0.1, in its own process group."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = _free_port()
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync",
                   "--bind", f"127.0.0.1:{self.port}",
                   "spacematch.wsgi:create_server_app()"]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_env(url),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log = log

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                if _get(self.port, "/api/areas?q=A", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("gunicorn did not start:\n" + self.log.read_text()[-3000:])

    def kill9(self) -> None:
        """SIGKILL the master and its workers at once: nothing gets to clean up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def _need(marker: str) -> bytes:
    return json.dumps(
        {
            "initiative": f"{marker} Buurtkeuken",
            "legal_form": "cooperatie",
            "sector": "voedsel",
            "contact_name": "Crash Test",
            "contact_email": "crash@example.org",
            "min_area_m2": 40,
            "max_area_m2": 120,
            "max_rent_eur_month": 900,
            "uses": ["horeca", "kantoor"],
            "areas": ["A", "E"],
            "needed_from": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        }
    ).encode()


def test_every_acknowledged_need_survives_kill_9_during_a_burst(store_url, tmp_path):
    run = uuid.uuid4().hex[:8]
    server = Server(store_url, tmp_path / "gunicorn.log")
    acked: list[tuple[int, str, str]] = []  # id, token, marker
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    counter = iter(range(1_000_000))

    def client() -> None:
        while not stop.is_set():
            with lock:
                marker = f"CR{run}-{next(counter):06d}"
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request(
                    "POST",
                    "/api/needs",
                    body=_need(marker),
                    headers={"Content-Type": "application/json", "Connection": "close"},
                )
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(type(exc).__name__)  # no answer: not acknowledged
                continue
            finally:
                conn.close()
            if response.status == 201:
                data = json.loads(body)
                with lock:
                    acked.append((int(data["id"]), data["token"], marker))
            else:
                with lock:
                    failures.append(str(response.status))

    try:
        server.wait_ready()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(acked) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill9()  # mid-burst: eight requests are in flight
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    finally:
        stop.set()
        server.stop()
    print(f"\nkill -9 after {len(acked)} acknowledged submissions; unanswered: {len(failures)}")
    assert len(acked) >= 150, f"only {len(acked)} acknowledged before the kill; {failures[:5]}"
    assert not [f for f in failures if f.isdigit()], "the server answered with an error"

    # Restart on the same store: every acknowledged need is stored once and is served.
    server = Server(store_url, tmp_path / "gunicorn.log")
    try:
        server.wait_ready()
        store = Store(store_url)
        try:
            with store.sessions() as session:
                rows = session.execute(
                    select(Need.id, Need.token, Need.initiative).where(
                        Need.initiative.like(f"CR{run}-%")
                    )
                ).all()
        finally:
            store.dispose()
        stored = {row.id: (row.token, row.initiative.split(" ")[0]) for row in rows}
        markers = [row.initiative.split(" ")[0] for row in rows]
        assert len(markers) == len(set(markers)), "a submission was stored twice"
        missing = [a for a in acked if stored.get(a[0]) != (a[1], a[2])]
        assert missing == [], f"{len(missing)} acknowledged needs lost"
        for need_id, token, _ in acked[:: max(1, len(acked) // 50)]:
            status, _ = _get(server.port, f"/api/needs/{need_id}/matches?token={token}")
            assert status == 200
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request(
            "POST",
            "/api/needs",
            body=_need(f"CR{run}-after"),
            headers={"Content-Type": "application/json"},
        )
        assert conn.getresponse().status == 201  # and the store takes new ones
        conn.close()
    finally:
        server.stop()


# --- layer import --------------------------------------------------------------------------------

LAYER = "crashtest"


def _write_layer(path: Path, points: list[tuple[float, float]], n: int, rent: float) -> str:
    """A GeoJSON layer in RD New of ``n`` points spread over the buurten; returns the checksum
    the stored layer must have (see :func:`_stored`)."""
    features = []
    digest = hashlib.sha256()
    rows = []
    for i in range(n):
        x, y = points[i % len(points)]
        area = float(50 + i % 400)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {
                    "id": f"p{i:06d}",
                    "name": f"Pand {i}",
                    "area_m2": area,
                    "rent_eur_m2_year": rent,
                    "uses": "kantoor,atelier",
                    "available_from": "2026-01-01",
                },
            }
        )
        rows.append((f"{LAYER}.p{i:06d}", rent, area))
    for row in sorted(rows):
        digest.update(repr(row).encode())
    layer = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:28992"}},
        "features": features,
    }
    path.write_text(json.dumps(layer), encoding="utf-8")
    return digest.hexdigest()


def _stored(url: str) -> tuple[int, int, str]:
    """The stored layer as (feature_count in the layer table, property rows, checksum)."""
    store = Store(url)
    try:
        with store.sessions() as session:
            if store.is_sqlite:
                assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            count = session.scalar(select(Layer.feature_count).where(Layer.slug == LAYER))
            rows = session.execute(
                select(Property.id, Property.rent_eur_m2_year, Property.area_m2)
                .where(Property.layer == LAYER)
                .order_by(Property.id)
            ).all()
    finally:
        store.dispose()
    digest = hashlib.sha256()
    for row in sorted((r.id, float(r.rent_eur_m2_year), float(r.area_m2)) for r in rows):
        digest.update(repr(row).encode())
    return int(count or 0), len(rows), digest.hexdigest()


def _writing(url: str, app_name: str, wal: Path | None, wal_start: int) -> bool:
    """Has the import started writing its new rows (and not yet committed)?"""
    if wal is not None:  # SQLite spills the transaction's pages to the WAL as it writes
        return wal.exists() and wal.stat().st_size > wal_start + 2_000_000
    engine = create_engine(psycopg_url(PG_URL))
    try:
        with engine.connect() as conn:
            query = conn.execute(
                text(
                    "SELECT query FROM pg_stat_activity WHERE application_name = :name "
                    "AND state = 'active' AND backend_xid IS NOT NULL"
                ),
                {"name": app_name},
            ).scalar()
    finally:
        engine.dispose()
    # The bulk writer streams the rows with COPY on PostgreSQL (INSERT for the small tables).
    head = (query or "").lstrip().upper()
    return head.startswith(("INSERT INTO PROPERTY", "COPY PROPERTY"))


def test_a_layer_import_killed_mid_write_leaves_the_old_layer_whole(store_url, tmp_path):
    store = Store(store_url)
    try:
        with store.sessions() as session:
            query = select(Area.x, Area.y).where(Area.level == "buurt").order_by(Area.code)
            points = [tuple(p) for p in session.execute(query)]
        old_sum = _write_layer(tmp_path / "old.geojson", points, 30_000, rent=100.0)
        new_sum = _write_layer(tmp_path / "new.geojson", points, 50_000, rent=200.0)
        import_layer(store, tmp_path / "old.geojson", layer=LAYER)
    finally:
        store.dispose()
    old = (30_000, 30_000, old_sum)
    new = (50_000, 50_000, new_sum)
    assert _stored(store_url) == old

    app_name = f"crash-import-{uuid.uuid4().hex[:8]}"
    url = store_url
    wal = None
    wal_start = 0
    if store_url.startswith("sqlite"):
        wal = Path(store_url.removeprefix("sqlite:///") + "-wal")
        wal_start = wal.stat().st_size if wal.exists() else 0
    else:
        url = _with_query(store_url, application_name=app_name)
    command = [sys.executable, "-m", "flask", "--app", "spacematch", "import-layer",
               str(tmp_path / "new.geojson"), "--layer", LAYER]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=ROOT, env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if _writing(url, app_name, wal, wal_start):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the import finished before it could be killed"
        time.sleep(0.1)  # a few more batches
        proc.send_signal(signal.SIGKILL)
        wal_mb = f", WAL {wal.stat().st_size / 1e6:.0f} MB" if wal is not None else ""
        print(f"\nimport killed {time.monotonic() - deadline + 60:.2f} s after its start{wal_mb}")
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    # "Restart": a new process opens the store (SQLite recovers from its WAL on open).
    assert _stored(store_url) == old, "a killed import left a mix of old and new"

    # And the next import goes through whole.
    done = subprocess.run(command, cwd=ROOT, env=_env(store_url), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _stored(store_url) == new


@pytest.mark.skipif(not PG_URL, reason="needs SPACEMATCH_TEST_DATABASE_URL")
def test_pooled_connections_killed_by_the_database_are_replaced(monkeypatch):
    """A PostgreSQL restart (or an idle timeout) kills pooled connections; a connection idle
    for a while is pinged before use and replaced, so no request fails for it."""
    monkeypatch.setattr(spacematch.db, "PING_AFTER_IDLE_S", 0.05)
    app_name = f"crash-pool-{uuid.uuid4().hex[:8]}"
    store = Store(_with_query(psycopg_url(PG_URL), application_name=app_name))
    admin = create_engine(psycopg_url(PG_URL))
    try:
        with store.sessions() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": app_name},
            ).scalar()
        assert killed == 1
        time.sleep(0.1)
        with store.sessions() as session:
            assert session.execute(text("SELECT 2")).scalar() == 2
    finally:
        store.dispose()
        admin.dispose()
