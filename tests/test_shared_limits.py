"""Rate limits shared by gunicorn's workers through Redis, and need tokens out of gunicorn's
access log.

gunicorn runs ``create_server_app()`` with two sync workers, as in production (see
``tests/test_crash.py``). Its access log names the worker (``%(p)s``) of every request, so each
test knows which worker counted what: with Redis one budget holds whatever the split; with
``memory://`` (the control) each worker counts on its own, exactly ``min(budget, served)`` each.

Redis: ``SPACEMATCH_TEST_REDIS_URL`` (``.ci/run`` starts Debian's redis-server and sets it), else a
``redis-server`` started here on a free port; without either the Redis tests are skipped (in CI,
``SPACEMATCH_REQUIRE_REDIS=1`` turns that skip into a failure).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from spacematch.db import Store
from spacematch.domain.areas import AreaIndex
from spacematch.domain.needs import create_need, validate_need

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
INTAKE_BUDGET = 6
LOGIN_BUDGET = 5
BURST = 16
LOG_FORMAT = '%(p)s %(s)s "%(r)s" "%(f)s" %({x-need-token}i)s'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    redis = pytest.importorskip("redis")
    url = os.environ.get("SPACEMATCH_TEST_REDIS_URL", "")
    proc = None
    if not url:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("SPACEMATCH_REQUIRE_REDIS"):
                pytest.fail("SPACEMATCH_REQUIRE_REDIS is set but there is no redis-server")
            pytest.skip("no redis-server and no SPACEMATCH_TEST_REDIS_URL")
        port = _free_port()
        workdir = tmp_path_factory.mktemp("redis")
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    client.close()
    yield url
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def store_url(tmp_path, sqlite_template, area_records) -> str:
    path = tmp_path / "shared.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _stored_need(url: str) -> tuple[int, str]:
    """One need, stored before the server starts (so the intake's budget is untouched)."""
    store = Store(url)
    try:
        with store.sessions() as session:
            areas = AreaIndex.from_session(session)
        needed = (dt.date.today() + dt.timedelta(days=60)).isoformat()
        need = validate_need(
            {"initiative": "Log Test", "legal_form": "stichting", "sector": "overig",
             "contact_name": "Log Persoon", "contact_email": "log@example.org",
             "min_area_m2": 50, "max_area_m2": 100, "max_rent_eur_month": 1000,
             "uses": ["kantoor"], "areas": ["A"], "needed_from": needed, "min_months": 12},
            areas=areas,
        )  # fmt: skip
        with store.one_statement() as conn:
            made = create_need(conn, need)
        return made.id, made.token
    finally:
        store.dispose()


class Server:
    """gunicorn, two sync workers, access log with the worker's pid."""

    def __init__(self, tmp_path: Path, url: str, storage: str) -> None:
        self.port = _free_port()
        self.access = tmp_path / f"access-{self.port}.log"
        self.errors = tmp_path / f"error-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEMATCH_")}
        env.update(
            SPACEMATCH_DATABASE_URL=url,
            SPACEMATCH_SECRET_KEY="shared-limits-test",
            SPACEMATCH_INSTANCE_PATH=str(tmp_path / "instance"),
            SPACEMATCH_RATELIMIT_STORAGE_URI=storage,
            SPACEMATCH_RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
            SPACEMATCH_RATELIMIT_INTAKE=f"{INTAKE_BUDGET} per minute",
            SPACEMATCH_RATELIMIT_LOGIN=f"{LOGIN_BUDGET} per minute",
            SPACEMATCH_RATELIMIT_LOGIN_ACCOUNT="1000 per hour",
            # the login forms are sent without a token here: the limits are what is tested
            SPACEMATCH_WTF_CSRF_ENABLED="false",
        )
        command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync",
                   "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access),
                   "--access-logformat", LOG_FORMAT, "--error-logfile", str(self.errors),
                   "spacematch.wsgi:create_server_app()"]  # fmt: skip
        # cwd: the repository root, so gunicorn reads its gunicorn.conf.py (the masking logger)
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.errors.read_text(errors="replace")[-3000:]
            try:
                if request(self.port, "GET", "/api/areas?q=A")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("gunicorn did not start:\n" + self.errors.read_text()[-3000:])
        self._wait_for_both_workers(deadline)

    def _wait_for_both_workers(self, deadline: float) -> None:
        """The second worker may still be loading the app when the first answers; a burst then
        all goes to the first. Concurrent warm-up reads until both have answered one."""
        while time.monotonic() < deadline:
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: request(self.port, "GET", "/api/areas?q=A"), range(8)))
            time.sleep(0.2)  # the access log is written after the response
            pids = {line.split()[0] for line in self.lines() if "/api/areas" in line}
            if len(pids) >= 2:
                return
        raise AssertionError("the second gunicorn worker never answered")

    def lines(self) -> list[str]:
        return self.access.read_text().splitlines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def serve(tmp_path, store_url):
    servers: list[Server] = []

    def start(storage: str) -> Server:
        server = Server(tmp_path, store_url, storage)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


def burst(server: Server, method: str, path: str, body: bytes, content_type: str) -> list[int]:
    """``BURST`` requests over 8 connections at once, so both workers take some."""
    headers = {"Content-Type": content_type}
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(lambda _: request(server.port, method, path, body, headers)[0], range(BURST))
        )


def served_per_worker(server: Server, path: str) -> Counter:
    time.sleep(0.3)  # the access log is written after the response
    pids = Counter()
    for line in server.lines():
        if f'"{path}' in line or f" {path} " in line:
            pids[line.split()[0]] += 1
    assert sum(pids.values()) == BURST, server.lines()
    return pids


LOGIN_FORM = b"email=nobody%40example.org&password=wrong"
CASES = {
    "intake": ("POST", "/api/needs", b"{}", "application/json", INTAKE_BUDGET),
    "login": ("POST", "/login", LOGIN_FORM, "application/x-www-form-urlencoded", LOGIN_BUDGET),
}


@pytest.mark.parametrize("case", CASES)
def test_two_workers_share_one_count_through_redis(serve, redis_url, case):
    method, path, body, content_type, budget = CASES[case]
    server = serve(redis_url)
    statuses = burst(server, method, path, body, content_type)
    pids = served_per_worker(server, path)
    assert len(pids) == 2, f"one worker took every request: {pids}"
    passed = BURST - Counter(statuses)[429]
    if case == "intake":
        assert passed == budget, (statuses, pids)
    else:
        # A failed login is counted once its answer is known (a success costs nothing), so the
        # two workers may each let one through on the budget's last unit: at most one extra.
        # Counted apart they would let up to twice the budget through (the control below).
        assert budget <= passed <= budget + 1, (statuses, pids)


def test_with_memory_storage_each_worker_counts_alone(serve):
    """The control: what Redis fixes. Each worker lets its own budget through."""
    method, path, body, content_type, budget = CASES["intake"]
    server = serve("memory://")
    statuses = burst(server, method, path, body, content_type)
    pids = served_per_worker(server, path)
    passed = sum(min(budget, n) for n in pids.values())
    assert BURST - Counter(statuses)[429] == passed, (statuses, pids)


def test_an_unreachable_redis_fails_closed_with_a_log_line(serve):
    port = _free_port()
    server = serve(f"redis://127.0.0.1:{port}/0")
    status, body = request(
        server.port, "POST", "/api/needs", b"{}", {"Content-Type": "application/json"}
    )
    assert status == 503 and "niet beschikbaar" in json.loads(body)["errors"]["_"]
    assert request(server.port, "GET", "/api/areas?q=A")[0] == 200  # unlimited routes go on
    time.sleep(0.3)
    log = server.errors.read_text()
    assert re.search(
        rf"rate-limit storage redis://127\.0\.0\.1:{port}/0 unreachable .*fail closed", log
    )


def test_the_access_log_holds_no_need_token(serve, store_url):
    need_id, token = _stored_need(store_url)
    server = serve("memory://")
    secret_paths = [
        f"/needs/{token}",
        f"/needs/{token}/edit",
        f"/api/needs/{need_id}/matches?token={token}",
        f"/login?next=/needs/{token}",
    ]
    for path in secret_paths:
        assert request(server.port, "GET", path, headers={"Referer": f"http://x/needs/{token}"})[
            0
        ] in (200, 302)
    status, _ = request(server.port, "GET", f"/api/needs/{need_id}/matches",
                        headers={"X-Need-Token": token})  # fmt: skip
    assert status == 200
    time.sleep(0.3)
    text = server.access.read_text()
    assert text.count("/needs/***") >= 3 and "token=***" in text, text
    assert token not in text
    assert token not in server.errors.read_text()
