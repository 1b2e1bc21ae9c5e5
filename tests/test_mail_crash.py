"""``kill -9`` during ``flask notify``: no mail lost, none sent twice under another Message-ID,
and a repeat only for a mail in flight at the kill (recognisable by its Message-ID). Then two
``notify`` processes at once share the queue without sending anything twice.

``notify`` runs as a real subprocess against a real SMTP server (aiosmtpd in this process, a
little slow per mail so the kills land mid-run), on SQLite and on PostgreSQL (a throwaway
schema) when ``SPACEMATCH_TEST_DATABASE_URL`` is set. Prints its figures.
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import signal
import subprocess
import sys
import time
from mailbox import Mailbox
from pathlib import Path
from typing import IO

import pytest
from builders import pg_schema
from sqlalchemy import func, select

from spacematch.db import Store
from spacematch.mail.outbox import enqueue
from spacematch.models import Outbox

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("SPACEMATCH_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
MAILS = 240
KILLS = 3
LEASE_S = 1


class SlowMailbox(Mailbox):
    """Takes 15 ms per mail, as a remote server would take longer still."""

    def __init__(self) -> None:
        super().__init__()
        inner = self.controller.handler

        class Slow:
            async def handle_DATA(self, server, session, envelope):
                await asyncio.sleep(0.015)
                return await inner.handle_DATA(server, session, envelope)

        self.controller.handler = Slow()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path / "mailcrash.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with pg_schema(PG_URL, "test_mailcrash") as url:
        store = Store(url)
        store.create_schema()
        store.dispose()
        yield url


def _notify(url: str, port: int, log: IO[bytes]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEMATCH_")}
    env.update(
        SPACEMATCH_DATABASE_URL=url, SPACEMATCH_SECRET_KEY="crash-test",
        SPACEMATCH_MAIL_SERVER="127.0.0.1", SPACEMATCH_MAIL_PORT=str(port),
        SPACEMATCH_MAIL_LEASE_S=str(LEASE_S), PYTHONPATH=str(ROOT),
    )  # fmt: skip
    command = [sys.executable, "-m", "flask", "--app", "spacematch", "notify", "--no-alerts"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def test_kill_9_during_notify_loses_nothing_and_duplicates_nothing(store_url, tmp_path):
    store = Store(store_url)
    with store.session() as session:
        for i in range(MAILS):
            enqueue(session, kind="lost", dedupe_key=f"crash:{i}", recipient=f"r{i}@example.org",
                    language="nl", payload={"needs": []}, domain="crash.example")  # fmt: skip
    with store.sessions() as session:
        expected = set(session.scalars(select(Outbox.message_id)))
    box = SlowMailbox().start()
    log_path = tmp_path / "notify.log"
    log = log_path.open("ab")
    try:
        kills = 0
        for _ in range(KILLS):
            proc = _notify(store_url, box.port, log)
            target = len(box.raw) + MAILS // (KILLS + 2)
            deadline = time.monotonic() + 60
            while len(box.raw) < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(timeout=10)
            time.sleep(LEASE_S + 0.2)  # the killed sender's leases pass
        # Two senders at once finish the queue.
        procs = [_notify(store_url, box.port, log) for _ in range(2)]
        for proc in procs:
            assert proc.wait(timeout=120) == 0, log_path.read_text()[-3000:]
        time.sleep(0.3)
        received = [m["Message-ID"] for m in box.messages]
        with store.sessions() as session:
            rows = session.execute(select(Outbox.state, func.count()).group_by(Outbox.state))
            states = {state: int(n) for state, n in rows}
    finally:
        box.stop()
        log.close()
        store.dispose()  # also when an assertion failed: no connection left for the GC
    counts = collections.Counter(received)
    repeats = sum(n - 1 for n in counts.values())
    lost = expected - set(counts)
    print(f"\nkill -9 during notify ({store_url.split(':')[0]}): {MAILS} mails, {kills} kills, "
          f"{len(received)} received, {len(counts)} distinct Message-IDs, {len(lost)} lost, "
          f"{repeats} repeated (same Message-ID), rows {states}")  # fmt: skip
    assert kills >= 2  # the kills did land mid-run
    assert not lost
    assert set(counts) == expected  # nothing under another Message-ID
    assert states == {"sent": MAILS}
    assert repeats <= kills  # only a mail in flight at a kill can arrive twice
