"""Due alerts: the digest of new fits per need and period, and the mail before a meanwhile
lease ends. Flask-free; ``notify`` runs it, writing each mail into the outbox in the same
transaction as the bookkeeping that makes it due no more (so a rerun writes nothing twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.db import Store
from spacematch.mail.messages import mail_settings, need_payload, property_payload
from spacematch.mail.outbox import enqueue, utcnow
from spacematch.matching.need import NeedQuery
from spacematch.models import Layer, Need, NeedMail, Property, StatusEvent

if TYPE_CHECKING:  # the engine (numpy, shapely) loads when an alert run ranks, not on import
    from spacematch.matching import Match, MatchIndex

TOP = 20  # a space in a need's top 20 is a fit...
GOOD_SCORE = 0.6  # ...and so is any space scoring at least this
WIDE = 200  # how far down the ranking the score rule looks
PERIODS = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
LEASE_NOTICE_DAYS = 90


def fits(index: MatchIndex, need: NeedQuery, weights: Mapping[str, float] | None) -> list[Match]:
    """A need's fits: its top ``TOP`` and anything scoring ``GOOD_SCORE`` or more."""
    from spacematch.matching import rank_properties

    ranked = rank_properties(index, need, limit=WIDE, weights=weights)
    return [m for i, m in enumerate(ranked) if i < TOP or m.score >= GOOD_SCORE]


def fits_of(
    index: MatchIndex, needs: Sequence[Need], weights: Mapping[str, float] | None
) -> dict[int, list[Match]]:
    """``fits`` for many needs in one pass of the batch engine (``batch_rank``: the same
    rankings as ``rank_properties`` need by need, without the per-need overhead)."""
    from spacematch.matching.batch import batch_rank

    queries = []
    for need in needs:
        query = NeedQuery.from_need(need)
        query.status = "open"  # a housed need whose lease ends is matched as if open
        queries.append(query)
    if not queries:
        return {}
    ranked = batch_rank(index, needs=queries, limit=WIDE, weights=weights).matches(index)
    return {
        need_id: [m for i, m in enumerate(found) if i < TOP or m.score >= GOOD_SCORE]
        for need_id, found in ranked.items()
    }


@dataclass
class RunCounts:
    digests: int = 0
    lease_notices: int = 0
    needs_checked: int = 0


class _Spaces:
    """The properties and layers an alert run reads, one query per need (not one per fit)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.layers = {layer.slug: layer for layer in session.scalars(select(Layer))}
        self.rows: dict[str, Property] = {}

    def load(self, matches: list[Match]) -> None:
        wanted = [m.property_id for m in matches if m.property_id not in self.rows]
        if wanted:
            with self.session.no_autoflush:
                found = self.session.scalars(select(Property).where(Property.id.in_(wanted)))
                self.rows.update((p.id, p) for p in found)

    def available_before(self, property_id: str, end: dt.date) -> bool:
        prop = self.rows.get(property_id)
        return prop is not None and prop.available_from < end

    def payload(self, match: Match, lang: str) -> dict[str, Any] | None:
        prop = self.rows.get(match.property_id)
        if prop is None:
            return None
        return {
            **property_payload(self.session, prop, self.layers), "score": round(match.score, 2),
            "reasons": [c.reason.text(lang) for c in match.criteria.values()],
        }  # fmt: skip


def _lease_end(session: Session, need: Need) -> dt.date | None:
    """The available_until of the space the need is housed in, if any."""
    prop_id = session.scalar(
        select(StatusEvent.property_id)
        .where(StatusEvent.need_id == need.id, StatusEvent.to_status == "toegewezen")
        .order_by(StatusEvent.id.desc()).limit(1)
    )  # fmt: skip
    prop = session.get(Property, prop_id) if prop_id else None
    if prop is None or prop.status != "toegewezen":
        return None
    return prop.available_until


def run_alerts(
    store: Store,
    index: MatchIndex,
    *,
    domain: str,
    weights: Mapping[str, float] | None = None,
    now: dt.datetime | None = None,
    lease_notice_days: int = LEASE_NOTICE_DAYS,
) -> RunCounts:
    """Write every due digest and lease-end mail into the outbox; one transaction per need."""
    now = now or utcnow()
    counts = RunCounts()
    with store.sessions() as session:
        need_ids = list(session.scalars(
            select(NeedMail.need_id).join(Need, Need.id == NeedMail.need_id)
            .where(NeedMail.confirmed_at.is_not(None), NeedMail.alerts != "off",
                   Need.status.in_(("open", "gehuisvest")))
            .order_by(NeedMail.need_id)
        ))  # fmt: skip
        # Every candidate's fits in one batch pass; each need is then re-read under its lock.
        ranked = fits_of(
            index, list(session.scalars(select(Need).where(Need.id.in_(need_ids)))), weights
        )
    for need_id in need_ids:
        with store.session() as session:
            spaces = _Spaces(session)
            settings = session.get(NeedMail, need_id, with_for_update=True)
            need = session.get(Need, need_id)
            if settings is None or need is None or settings.alerts not in PERIODS:
                continue
            counts.needs_checked += 1
            lease_end = None
            if need.status == "gehuisvest":
                lease_end = _lease_end(session, need)
                window = dt.timedelta(days=lease_notice_days)
                if lease_end is None or now.date() < lease_end - window:
                    continue  # housed, no lease ending soon: no alerts
                if settings.lease_notice_for != lease_end:
                    counts.lease_notices += _lease_notice(
                        spaces, ranked.get(need.id, []), need, settings, lease_end, domain
                    )
                    continue
            last = settings.last_digest_at
            if last is not None and now - last < PERIODS[settings.alerts]:
                continue
            found = ranked.get(need.id, [])
            spaces.load(found)
            if lease_end is not None:
                found = [m for m in found if spaces.available_before(m.property_id, lease_end)]
            current = [m.property_id for m in found]
            reported = set(filter(None, settings.reported.split(",")))
            new = [m for m in found if m.property_id not in reported]
            settings.reported = ",".join(current)
            if not new:
                continue
            items = [p for m in new if (p := spaces.payload(m, settings.language))]
            key_time = (last or settings.confirmed_at or now).isoformat()
            written = enqueue(
                session, kind="digest", dedupe_key=f"digest:{need.id}:{key_time}",
                recipient=need.contact_email, language=settings.language, domain=domain,
                payload={**need_payload(need, settings), "fits": items,
                         "period": settings.alerts}, need_id=need.id,
            )  # fmt: skip
            if written is not None:
                settings.last_digest_at = now
                counts.digests += 1
    return counts


def _lease_notice(
    spaces: _Spaces,
    found: list[Match],
    need: Need,
    settings: NeedMail,
    lease_end: dt.date,
    domain: str,
) -> int:
    spaces.load(found)
    found = [m for m in found if spaces.available_before(m.property_id, lease_end)]
    items = [p for m in found if (p := spaces.payload(m, settings.language))]
    written = enqueue(
        spaces.session, kind="lease_end", dedupe_key=f"lease:{need.id}:{lease_end.isoformat()}",
        recipient=need.contact_email, language=settings.language, domain=domain,
        payload={**need_payload(need, settings), "fits": items,
                 "lease_end": lease_end.isoformat()}, need_id=need.id,
    )  # fmt: skip
    settings.lease_notice_for = lease_end
    settings.reported = ",".join(m.property_id for m in found)
    return int(written is not None)


def leases_ending(
    session: Session, *, today: dt.date, days: int = LEASE_NOTICE_DAYS
) -> list[dict[str, Any]]:
    """Spaces assigned with an available_until within ``days``: "huur loopt af" for officers."""
    props = session.scalars(
        select(Property).where(
            Property.status == "toegewezen", Property.available_until.is_not(None),
            Property.available_until <= today + dt.timedelta(days=days),
        ).order_by(Property.available_until)
    )  # fmt: skip
    rows = []
    for prop in props:
        need_id = session.scalar(
            select(StatusEvent.need_id)
            .where(StatusEvent.property_id == prop.id, StatusEvent.to_status == "toegewezen")
            .order_by(StatusEvent.id.desc()).limit(1)
        )  # fmt: skip
        need = session.get(Need, need_id) if need_id else None
        rows.append({"property": prop, "need": need, "until": prop.available_until})
    return rows


__all__ = ["fits", "leases_ending", "mail_settings", "run_alerts"]
