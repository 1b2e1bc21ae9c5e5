#!/usr/bin/env python3
"""Load test: need submissions and match queries against the app under gunicorn.

For each store -- the embedded SQLite (a fresh file) and PostgreSQL (a fresh schema in the
database ``--pg-url`` names; default ``SPACEMATCH_LOAD_DATABASE_URL``; skipped with a note when
neither is given) -- the script:

1. prepares the store through the CLI (``init-db``, then ``demo``), as an administrator would;
2. starts gunicorn on a free port on 127.0.0.1 (``--workers``, default 2, of
   ``--worker-class``, default sync) with the intake's rate limit switched off
   (``SPACEMATCH_RATELIMIT_ENABLED=false``), and warms the workers up with a few match queries
   on demo needs (not counted);
3. runs two phases on that server, each of ``--submissions`` valid, varied needs
   (``POST /api/needs``) sent by ``--clients`` concurrent clients, each client following every
   submission with a match query (``GET /api/needs/<id>/matches?token=``) on a need
   acknowledged earlier by any client:

   - *burst*: every client sends its next request as soon as it has the last answer, so the
     server runs flat out: this measures throughput. With 50 clients always waiting, latency
     here is mostly time in the queue (about clients / throughput, Little's law);
   - *steady*: submissions are offered at ``--rate`` per second (default 200, the throughput
     target; open loop: submission k is due at k / rate s and sent by a free client): this
     measures latency at that load, and whether the server keeps up with it;

4. stops the server, then checks in the database that every acknowledged submission (201 with
   id and token) is stored exactly once: each initiative name carries a unique marker, so lost
   and duplicated submissions are counted, as are submissions stored without an acknowledgement
   (a client timeout), which are not an error.

It reports per phase throughput (acknowledged submissions per second), p50/p95/p99 latency per
request kind and errors by status, then the storage checks; as text or, with ``--json``, as one
JSON object. Targets: 0 lost, 0 duplicated, 0 server errors (5xx or dropped connections);
>= 200 submissions/s in the burst on PostgreSQL; match p95 <= 50 ms in the steady phase, which
must sustain the offered rate. The exit status is 0 when every target is met, 3 when one is missed
(1 stays Python's own: a crash). The
load average at the start of each phase is reported too: the client runs on the same machine,
and anything else running there skews the figures.

Only 127.0.0.1 is contacted; every request has a timeout, each phase a deadline, and the server
is stopped (and its process group killed if need be) whatever happens.

    .venv/bin/python scripts/loadtest.py
    .venv/bin/python scripts/loadtest.py --pg-url postgresql://user:pw@127.0.0.1:5432/db --json
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SUBMISSIONS_PER_S = 200.0  # on PostgreSQL
TARGET_MATCH_P95_MS = 50.0
EXIT_TARGET_MISSED = 3  # not 1, which Python exits with on an uncaught exception
REQUEST_TIMEOUT_S = 30.0
START_TIMEOUT_S = 60.0
CONFIG_KEYS = ("submissions", "clients", "workers", "worker_class", "threads", "phases", "rate",
               "matches_per_submission", "keep_alive", "warmup", "seed")  # fmt: skip


# --- stores -----------------------------------------------------------------------------------


def _psycopg_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class PgSchema:
    """A fresh schema in the given PostgreSQL database, dropped on exit (unless ``keep``)."""

    def __init__(self, url: str, *, keep: bool = False) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        self.name = f"loadtest_{dt.datetime.now():%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:6]}"
        self.keep = keep
        self.admin = create_engine(_psycopg_url(url))
        self.url = (
            make_url(_psycopg_url(url))
            .update_query_dict({"options": f"-csearch_path={self.name}"})
            .render_as_string(hide_password=False)
        )

    def __enter__(self) -> PgSchema:
        from sqlalchemy import text

        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        if not self.keep:
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


def _env(url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEMATCH_")}
    env.update(
        SPACEMATCH_DATABASE_URL=url,
        SPACEMATCH_SECRET_KEY=uuid.uuid4().hex,
        SPACEMATCH_RATELIMIT_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def prepare_store(url: str) -> dict[str, float]:
    """Schema, areas and demo through the CLI; returns seconds per command."""
    timings = {}
    for command in (["init-db"], ["demo"]):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "spacematch", *command],
            cwd=ROOT,
            env=_env(url),
            check=True,
            capture_output=True,
            timeout=600,
        )
        timings[command[0]] = round(time.perf_counter() - started, 2)
    return timings


@dataclass
class Places:
    """Real area codes and points inside buurten (WGS84), for varied, valid needs."""

    codes: dict[str, list[str]]
    points: list[tuple[float, float]]
    demo_needs: list[tuple[int, str]]


def read_places(url: str) -> Places:
    from sqlalchemy import select

    from spacematch.db import Store
    from spacematch.geo import rd_to_wgs84_xy
    from spacematch.models import Area, Need

    store = Store(url)
    try:
        with store.sessions() as session:
            rows = session.execute(select(Area.code, Area.level, Area.x, Area.y)).all()
            demo = session.execute(select(Need.id, Need.token).where(Need.is_demo)).all()
    finally:
        store.dispose()
    codes: dict[str, list[str]] = {}
    for row in rows:
        codes.setdefault(row.level, []).append(row.code)
    buurten = [r for r in rows if r.level == "buurt"]
    lon, lat = rd_to_wgs84_xy([r.x for r in buurten], [r.y for r in buurten])
    points = [(round(float(a), 6), round(float(b), 6)) for a, b in zip(lon, lat, strict=True)]
    return Places(codes, points, [(r.id, r.token) for r in demo])


# --- needs ------------------------------------------------------------------------------------

# The choice lists are the model's own, so the load sends only values the app accepts.
from spacematch.models import LEGAL_FORMS, SECTORS, USES  # noqa: E402

DISTRICTS = ("Noord", "Oost", "West", "Zuidoost")
KINDS = ("Buurtkeuken", "Energiecoöperatie", "Repair café", "Ateliercollectief", "Voedselbank")


def marker(run: str, i: int) -> str:
    return f"LT{run}-{i:05d}"


def make_need(rng: random.Random, places: Places, run: str, i: int) -> dict[str, Any]:
    """A valid need with a unique marker in its name; places, sizes, uses and dates vary."""
    min_area = rng.choice((15, 25, 40, 60, 90, 150, 250, 400, 800))
    need: dict[str, Any] = {
        "initiative": f"{marker(run, i)} {rng.choice(KINDS)} {rng.choice(DISTRICTS)}",
        "legal_form": rng.choice(LEGAL_FORMS),
        "sector": rng.choice(SECTORS),
        "contact_name": "Load Test",
        "contact_email": f"loadtest+{i}@example.org",
        "description": rng.choice(("", "Ruimte voor onze leden — ‘t liefst gelijkvloers.")),
        "min_area_m2": min_area,
        "max_area_m2": round(min_area * rng.uniform(1.2, 3.0)),
        "max_rent_eur_month": rng.choice((0, 250, 600, 1200, 2500, 5000)),
        "uses": rng.sample(USES, rng.randint(1, 3)),
        "needed_from": (dt.date.today() + dt.timedelta(days=rng.randint(0, 180))).isoformat(),
        "min_months": rng.choice((1, 6, 12, 24, 60)),
        "accessible": rng.random() < 0.2,
    }
    shape = rng.random()
    if shape < 0.8:
        levels = [
            rng.choice(("stadsdeel", "wijk", "buurt", "buurt")) for _ in range(rng.randint(1, 3))
        ]
        need["areas"] = sorted({rng.choice(places.codes[level]) for level in levels})
    if shape >= 0.6:
        need["point"] = list(rng.choice(places.points))
        need["max_distance_m"] = rng.choice((250, 500, 1000, 2500))
    return need


# --- server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving ``spacematch.wsgi:create_server_app()`` on 127.0.0.1, in its own
    process group."""

    def __init__(self, url: str, args: argparse.Namespace, log: Path) -> None:
        self.port = free_port()
        self.log = log
        command = [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(args.workers),
            "--worker-class", args.worker_class,
            # gunicorn turns sync workers into gthread ones when given threads > 1
            "--threads", str(args.threads if args.worker_class == "gthread" else 1),
            "--timeout", "60",
            "--graceful-timeout", "10",
            "--keep-alive", "5",
            "spacematch.wsgi:create_server_app()",
        ]  # fmt: skip
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_env(url),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                status, _ = request(
                    http.client.HTTPConnection("127.0.0.1", self.port, timeout=2),
                    "GET",
                    "/api/areas?q=A",
                )
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"gunicorn did not answer within {START_TIMEOUT_S:.0f} s:\n{self.tail()}"
        )

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    keep_alive: bool = True,
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if not keep_alive:
        headers["Connection"] = "close"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


# --- load -------------------------------------------------------------------------------------


@dataclass
class Record:
    """What one phase saw: latencies and statuses per request kind, acknowledged submissions."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"submit": [], "match": []})
    statuses: dict[str, Counter] = field(
        default_factory=lambda: {"submit": Counter(), "match": Counter()}
    )
    acked: list[tuple[int, str, int]] = field(default_factory=list)  # id, token, index
    lag: list[float] = field(default_factory=list)  # paced: how late each submission was sent
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_phase(
    port: int,
    bodies: dict[int, bytes],
    args: argparse.Namespace,
    *,
    rate: float,
    known: list[tuple[int, str, int]],
) -> Record:
    """Send the submissions in ``bodies`` (index -> JSON) from ``args.clients`` threads, each
    submission followed by match queries on needs acknowledged so far (``known`` seeds them).

    ``rate`` > 0 paces the submissions (open loop: submission k is due at k / rate seconds and
    sent by the first free client); 0 sends them as fast as the clients get answers.
    """
    record = Record()
    pending = iter(sorted(bodies))
    pending_lock = threading.Lock()
    pickable = list(known)  # grows as submissions are acknowledged, shared by all clients
    deadline = time.monotonic() + args.deadline
    started = time.monotonic()
    slot = iter(range(len(bodies)))

    def client(number: int) -> None:
        local = random.Random(f"{args.seed}-{number}-{rate}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)

        def timed(kind: str, method: str, path: str, body: bytes | None = None):
            nonlocal conn
            begun = time.perf_counter()
            try:
                status, payload = request(conn, method, path, body, keep_alive=args.keep_alive)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
                status, payload = type(exc).__name__, b""
            elapsed = time.perf_counter() - begun
            with record.lock:
                record.statuses[kind][status] += 1
                if isinstance(status, int) and status < 500:
                    record.latencies[kind].append(elapsed)
            return status, payload

        try:
            while time.monotonic() < deadline:
                with pending_lock:
                    i = next(pending, None)
                    k = next(slot, None)
                if i is None or k is None:
                    return
                if rate > 0:
                    due = started + k / rate
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
                    with record.lock:
                        record.lag.append(max(0.0, time.monotonic() - due))
                status, payload = timed("submit", "POST", "/api/needs", bodies[i])
                if status == 201:
                    data = json.loads(payload)
                    with record.lock:
                        record.acked.append((int(data["id"]), str(data["token"]), i))
                        pickable.append(record.acked[-1])
                for _ in range(_matches_now(local, args.matches_per_submission)):
                    with record.lock:
                        pick = local.choice(pickable) if pickable else None
                    if pick is not None:
                        timed("match", "GET", f"/api/needs/{pick[0]}/matches?token={pick[1]}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT_S))
    record.seconds = time.monotonic() - started
    return record


def _matches_now(rng: random.Random, ratio: float) -> int:
    whole = int(ratio)
    return whole + (1 if rng.random() < ratio - whole else 0)


def warm_up(port: int, places: Places, count: int) -> Counter:
    """A few concurrent match queries on demo needs, so every worker has built its indexes."""
    statuses: Counter = Counter()
    if not places.demo_needs:
        return statuses
    lock = threading.Lock()

    def one(n: int) -> None:
        need_id, token = places.demo_needs[n % len(places.demo_needs)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        try:
            status, _ = request(conn, "GET", f"/api/needs/{need_id}/matches?token={token}")
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
        finally:
            conn.close()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S * 2)
    return statuses


# --- checks and report ------------------------------------------------------------------------


def check_stored(url: str, records: list[Record], run: str, sent_total: int) -> dict[str, int]:
    """Every acknowledged submission stored exactly once, under its id and token."""
    from sqlalchemy import select

    from spacematch.db import Store
    from spacematch.models import Need

    store = Store(url)
    try:
        with store.sessions() as session:
            rows = session.execute(
                select(Need.id, Need.token, Need.initiative).where(
                    Need.initiative.like(f"LT{run}-%")
                )
            ).all()
    finally:
        store.dispose()
    acked = [a for record in records for a in record.acked]
    per_marker = Counter(row.initiative.split(" ", 1)[0] for row in rows)
    by_id = {row.id: row for row in rows}
    lost = 0
    for need_id, token, i in acked:
        row = by_id.get(need_id)
        if row is None or row.token != token or not row.initiative.startswith(marker(run, i) + " "):
            lost += 1
    sent = sum(sum(record.statuses["submit"].values()) for record in records)
    return {
        "acknowledged": len(acked),
        "stored": len(rows),
        "lost": lost,
        "duplicated": sum(n - 1 for n in per_marker.values() if n > 1),
        "duplicate_ids_acknowledged": len(acked) - len({a[0] for a in acked}),
        "stored_without_ack": len(set(per_marker) - {marker(run, i) for _, _, i in acked}),
        "not_sent": sent_total - sent,
    }


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _ms(values: list[float]) -> dict[str, Any]:
    ms = [v * 1000 for v in values]
    out: dict[str, Any] = {"count": len(ms)}
    for q in (50, 95, 99):
        p = percentile(ms, q)
        out[f"p{q}_ms"] = None if p is None else round(p, 1)
    out["max_ms"] = round(max(ms), 1) if ms else None
    return out


def summarise(record: Record, rate: float) -> dict[str, Any]:
    seconds = record.seconds
    requests_done = sum(sum(c.values()) for c in record.statuses.values())
    out: dict[str, Any] = {
        "offered_submissions_per_s": rate or None,
        "seconds": round(seconds, 2),
        "submissions_per_s": round(len(record.acked) / seconds, 1) if seconds else None,
        "requests_per_s": round(requests_done / seconds, 1) if seconds else None,
        "requests": {kind: sum(c.values()) for kind, c in record.statuses.items()},
        "latency": {kind: _ms(values) for kind, values in record.latencies.items()},
        "errors": {
            kind: {str(k): n for k, n in sorted(c.items(), key=str) if k not in (200, 201)}
            for kind, c in record.statuses.items()
        },
        "server_errors": sum(
            n
            for c in record.statuses.values()
            for status, n in c.items()
            if not isinstance(status, int) or status >= 500
        ),
    }
    if rate > 0:
        out["send_lag"] = _ms(record.lag)
    return out


def targets(result: dict[str, Any], backend: str) -> dict[str, bool]:
    stored, phases = result["stored"], result["phases"]
    met = {
        "no_lost": stored["lost"] == 0 and stored["not_sent"] == 0,
        "no_duplicates": stored["duplicated"] == 0 and stored["duplicate_ids_acknowledged"] == 0,
        "no_server_errors": all(p["server_errors"] == 0 for p in phases.values()),
    }
    if "steady" in phases:
        steady = phases["steady"]
        met["match_p95"] = (steady["latency"]["match"]["p95_ms"] or 0) <= TARGET_MATCH_P95_MS
        # the server kept up with the offered rate (within 5 %)
        met["steady_rate_sustained"] = (steady["submissions_per_s"] or 0) >= 0.95 * steady[
            "offered_submissions_per_s"
        ]
    if backend == "postgresql" and "burst" in phases:
        met["throughput"] = (phases["burst"]["submissions_per_s"] or 0) >= TARGET_SUBMISSIONS_PER_S
    return met


def run_backend(backend: str, url: str, args: argparse.Namespace, workdir: Path) -> dict:
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    say(f"[{backend}] preparing a fresh store (init-db, demo) ...")
    setup = prepare_store(url)
    places = read_places(url)
    run = uuid.uuid4().hex[:8]
    rng = random.Random(args.seed)
    plan = [("burst", 0.0)] if args.phases in ("both", "burst") else []
    if args.phases in ("both", "steady"):
        plan.append(("steady", args.rate))
    n = args.submissions
    server = Server(url, args, workdir / f"gunicorn-{backend}.log")
    records: dict[str, Record] = {}
    loadavg = {}
    try:
        server.wait_ready()
        say(f"[{backend}] gunicorn on 127.0.0.1:{server.port}; warming up ...")
        warm = warm_up(server.port, places, args.warmup)
        known: list[tuple[int, str, int]] = []
        for number, (phase, rate) in enumerate(plan):
            bodies = {
                i: json.dumps(make_need(rng, places, run, i)).encode()
                for i in range(number * n, (number + 1) * n)
            }
            loadavg[phase] = round(os.getloadavg()[0], 2)
            pace = f"at {rate:g} submissions/s" if rate else "as fast as answered"
            say(f"[{backend}] {phase}: {n} submissions from {args.clients} clients, {pace} ...")
            records[phase] = run_phase(server.port, bodies, args, rate=rate, known=known)
            known += records[phase].acked
    finally:
        server.stop()
    result: dict[str, Any] = {
        "phases": {phase: summarise(records[phase], rate) for phase, rate in plan},
        "stored": check_stored(url, list(records.values()), run, n * len(plan)),
        "load_average_at_start": loadavg,
        "setup_seconds": setup,
        "warmup": {str(k): v for k, v in warm.items()},
    }
    result["targets"] = targets(result, backend)
    return result


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def print_text(report: dict[str, Any]) -> None:
    cfg = report["config"]
    threads = f" x {cfg['threads']} threads" if cfg["worker_class"] == "gthread" else ""
    print(
        f"spacematch load test, {report['date']}, {report['machine']['cpus']} CPUs "
        f"({report['machine']['cpu']}); gunicorn {cfg['workers']} {cfg['worker_class']} workers"
        f"{threads}; {cfg['clients']} clients; per phase {cfg['submissions']} submissions, "
        f"each followed by {cfg['matches_per_submission']:g} match queries"
    )
    for backend, result in report["results"].items():
        if "skipped" in result:
            print(f"\n{backend}: skipped ({result['skipped']})")
            continue
        print(f"\n{backend}:")
        for phase, p in result["phases"].items():
            offered = p["offered_submissions_per_s"]
            how = f"offered {offered:g}/s" if offered else "unpaced"
            print(
                f"  {phase} ({how}, load average {result['load_average_at_start'][phase]}): "
                f"{p['submissions_per_s']} submissions/s, {p['requests_per_s']} requests/s "
                f"in {p['seconds']} s"
            )
            for kind in ("submit", "match"):
                k = p["latency"][kind]
                print(
                    f"    {kind:<7} n={k['count']:<5} p50 {k['p50_ms']} ms  p95 {k['p95_ms']} ms"
                    f"  p99 {k['p99_ms']} ms  max {k['max_ms']} ms"
                )
            if "send_lag" in p:
                print(f"    sent late: p95 {p['send_lag']['p95_ms']} ms behind schedule")
            errors = {k: v for k, v in p["errors"].items() if v}
            print(f"    errors  {errors or 'none'} (server errors: {p['server_errors']})")
        st = result["stored"]
        print(
            f"  stored: {st['acknowledged']} acknowledged, {st['lost']} lost, "
            f"{st['duplicated']} duplicated; {st['stored_without_ack']} stored without "
            f"acknowledgement; {st['not_sent']} not sent"
        )
        missed = [name for name, ok in result["targets"].items() if not ok]
        print(f"  targets: {'all met' if not missed else 'MISSED ' + ', '.join(missed)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--worker-class",
        default="sync",
        choices=("sync", "gthread"),
        help="sync (measured fastest here: no GIL contention, connections spread over the "
        "workers) or gthread",
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker")
    parser.add_argument(
        "--phases",
        choices=("both", "burst", "steady"),
        default="both",
        help="burst: as fast as the server answers (throughput); steady: paced at --rate "
        "(latency at that rate); both: burst, then steady, on the same server",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_SUBMISSIONS_PER_S,
        help="submissions per second offered in the steady phase",
    )
    parser.add_argument(
        "--matches-per-submission",
        type=float,
        default=1.0,
        help="match queries each client sends after each submission (fractions: on average)",
    )
    parser.add_argument(
        "--keep-alive",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="reuse each client's connection (default: a new connection per request, as from "
        "many browsers or a proxy; gunicorn's sync workers close connections anyway)",
    )
    parser.add_argument("--warmup", type=int, default=40, help="match queries before measuring")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SPACEMATCH_LOAD_DATABASE_URL", ""),
        help="PostgreSQL database to create a fresh schema in "
        "(default: $SPACEMATCH_LOAD_DATABASE_URL; none: PostgreSQL is skipped)",
    )
    parser.add_argument("--backend", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--keep", action="store_true", help="keep the stores for inspection")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the load")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if min(args.submissions, args.clients, args.workers, args.threads) < 1 or args.rate <= 0:
        parser.error("--submissions, --clients, --workers, --threads and --rate must be positive")

    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {k: getattr(args, k) for k in CONFIG_KEYS},
        "results": {},
    }
    workdir = Path(tempfile.mkdtemp(prefix="spacematch-load-"))
    if args.backend in ("all", "sqlite"):
        url = f"sqlite:///{workdir / 'store.sqlite3'}"
        report["results"]["sqlite"] = run_backend("sqlite", url, args, workdir)
    if args.backend in ("all", "postgresql"):
        if not args.pg_url:
            report["results"]["postgresql"] = {
                "skipped": "no --pg-url and no SPACEMATCH_LOAD_DATABASE_URL"
            }
        else:
            with PgSchema(args.pg_url, keep=args.keep) as schema:
                report["results"]["postgresql"] = run_backend(
                    "postgresql", schema.url, args, workdir
                )
                report["results"]["postgresql"]["schema"] = schema.name
    if args.keep:
        report["workdir"] = str(workdir)
    else:
        for path in sorted(workdir.iterdir()):
            path.unlink()
        workdir.rmdir()

    if args.json:
        print(json.dumps(report, indent=None))
    else:
        print_text(report)
    met = all(all(r["targets"].values()) for r in report["results"].values() if "targets" in r)
    return 0 if met else EXIT_TARGET_MISSED


if __name__ == "__main__":
    sys.exit(main())
