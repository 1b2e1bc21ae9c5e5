"""The outbox: every mail is a row first, written in the transaction of its cause.

Delivery claims a due row with a compare-and-set (``pending`` -> ``sending`` with a lease in
``next_attempt_at``), sends it, then marks it ``sent``. Whoever is killed mid-send leaves the row
``sending`` with its lease: once the lease has passed the row is due again and sent again with
the same ``Message-ID`` (so a kill between the SMTP server's "250 OK" and our commit can give the
receiver one repeat of that one mail, recognisable by its Message-ID; nothing is ever lost). On
PostgreSQL the due rows are read ``FOR UPDATE SKIP LOCKED``, so several hosts running
``notify`` at once each take other rows; the compare-and-set makes it safe on SQLite too.
Flask-free.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spacematch.db import Store
from spacematch.models import Outbox

# Seconds to wait after the n-th failed attempt (the last is repeated); after MAX_ATTEMPTS the
# row is ``failed`` and only an operator's ``notify --retry-failed`` tries it again.
BACKOFF_S = (60, 300, 1800, 7200, 43200)
MAX_ATTEMPTS = 8
# How long a claimed row is left to its sender before another may take it.
LEASE_S = 300


def utcnow() -> dt.datetime:
    """Naive UTC, as the DateTime columns store it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain or 'spacematch.invalid'}>"


def enqueue(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    recipient: str,
    language: str,
    payload: dict[str, Any],
    domain: str,
    need_id: int | None = None,
    property_id: str | None = None,
) -> Outbox | None:
    """Add a mail to the session's transaction, unless one with ``dedupe_key`` exists (then
    None): a repeated cause (a second notify run, a retried request) writes no second mail."""
    if session.scalar(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)) is not None:
        return None
    row = Outbox(
        kind=kind, dedupe_key=dedupe_key, message_id=new_message_id(domain), need_id=need_id,
        property_id=property_id, recipient=recipient, language=language,
        payload=json.dumps(payload, ensure_ascii=False, default=str), state="pending",
        attempts=0, next_attempt_at=utcnow(), last_error="",
    )  # fmt: skip
    try:
        with session.begin_nested():  # another host wrote the same key meanwhile: theirs stands
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def claim(
    store: Store,
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
    ids: Sequence[int] | None = None,
    lease_s: int = LEASE_S,
) -> list[Outbox]:
    """Take up to ``limit`` due rows (or just ``ids``, if due) for this sender."""
    now = now or utcnow()
    due = (Outbox.state.in_(("pending", "sending"))) & (Outbox.next_attempt_at <= now)
    with store.session() as session:
        query = select(Outbox.id).where(due).order_by(Outbox.id).limit(limit)
        if ids is not None:
            query = query.where(Outbox.id.in_(list(ids)))
        if not store.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        candidates = list(session.scalars(query))
        claimed = []
        for row_id in candidates:
            done = cast(  # an UPDATE's result is a CursorResult, which has rowcount
                "CursorResult[*tuple[Any, ...]]",
                session.execute(
                    update(Outbox)
                    .where(Outbox.id == row_id, due)
                    .values(state="sending", next_attempt_at=now + dt.timedelta(seconds=lease_s))
                ),
            )
            if done.rowcount == 1:
                claimed.append(row_id)
        rows = (
            list(session.scalars(select(Outbox).where(Outbox.id.in_(claimed)))) if claimed else []
        )
    return sorted(rows, key=lambda r: r.id)


def mark_sent(store: Store, row_id: int, *, now: dt.datetime | None = None) -> None:
    with store.session() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id == row_id)
            .values(state="sent", sent_at=now or utcnow(), attempts=Outbox.attempts + 1)
        )


def mark_failed(store: Store, row_id: int, error: str, *, now: dt.datetime | None = None) -> None:
    """Count the attempt and wait ``BACKOFF_S`` before the next; give up after MAX_ATTEMPTS."""
    now = now or utcnow()
    with store.session() as session:
        row = session.get(Outbox, row_id, with_for_update=True)
        if row is None or row.state == "sent":
            return
        row.attempts += 1
        row.last_error = error[:2000]
        wait = BACKOFF_S[min(row.attempts, len(BACKOFF_S)) - 1]
        row.next_attempt_at = now + dt.timedelta(seconds=wait)
        row.state = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"


def retry_failed(store: Store) -> int:
    """Put every given-up row back in the queue (after a mail server outage was fixed)."""
    with store.session() as session:
        done = cast(  # an UPDATE's result is a CursorResult, which has rowcount
            "CursorResult[*tuple[Any, ...]]",
            session.execute(
                update(Outbox).where(Outbox.state == "failed")
                .values(state="pending", attempts=0, next_attempt_at=utcnow())
            ),
        )  # fmt: skip
        return int(done.rowcount or 0)


def mails_for_property(session: Session, property_id: str) -> list[Outbox]:
    """The mails about a property, newest first (for its officer page; no addresses shown)."""
    return list(session.scalars(
        select(Outbox).where(Outbox.property_id == property_id).order_by(Outbox.id.desc())
    ))  # fmt: skip
