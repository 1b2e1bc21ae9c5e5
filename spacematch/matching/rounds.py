"""Allocation rounds: a published policy, a committed seed, one lottery and need-proposing
deferred acceptance. Flask-free and store-free: plain values in, plain values out, so the very
same code draws a round in the app, in ``verify-round`` and in ``scripts/verify_round.py``.

Why deferred acceptance (Gale-Shapley, need-proposing) and not the summed-score optimum: cities
allocate scarce public goods this way (school choice in New York and Amsterdam) because the
result is *stable* - no need and space both prefer each other to what they got, so nobody has a
justified complaint - and *strategy-proof* for the needs: listing one's true order is always
best. Spaces rank their applicants by the policy's tier, then by one lottery number per need
across the whole round (single tie-break), then by need id (never reached in practice).

The lottery number of a need is HMAC-SHA256(seed, "need:<id>"), lower wins. The seed is drawn at
opening, only its SHA-256 is published (the commitment); at the draw the seed is published and
anyone can check ``commitment(seed)`` and recompute every lottery number and the whole result.
The policy (tiers, eligibility, deadline) is in ``round_policy.py``.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spacematch.matching.round_policy import is_local

if TYPE_CHECKING:
    from spacematch.matching.index import MatchIndex
    from spacematch.matching.round_policy import Policy

SEED_BYTES = 32
MAX_SHARE = 3  # a shared space goes to at most three initiatives


# -- seed, commitment, lottery ------------------------------------------------------------------


def new_seed() -> str:
    """A fresh random seed as 64 hex digits (``secrets``: not guessable before the draw)."""
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    """The published commitment: SHA-256 of the seed's bytes, as hex."""
    return hashlib.sha256(bytes.fromhex(seed)).hexdigest()


def lottery_number(seed: str, need_id: int) -> str:
    """The need's lottery number in this round: HMAC-SHA256(seed, "need:<id>") as hex (lower
    is better). Keyed by the seed, so nobody can compute it before the seed is revealed."""
    return hmac.digest(bytes.fromhex(seed), f"need:{need_id}".encode(), "sha256").hex()


# -- the mechanism ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    """One need in a round: its eligible spaces in its own order, and its tier at each."""

    need_id: int
    prefs: tuple[str, ...]
    tiers: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Ranked:
    """A need's place in a space's order: tier, then lottery number, then id."""

    need_id: int
    tier: int
    lottery: str

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.tier, self.lottery, self.need_id)


@dataclass
class Outcome:
    """Per space its winners (at most its capacity) and its waiting list, both in the space's
    order; per need the space it won (or none)."""

    winners: dict[str, list[Ranked]] = field(default_factory=dict)
    waiting: dict[str, list[Ranked]] = field(default_factory=dict)
    assigned: dict[int, str] = field(default_factory=dict)


def deferred_acceptance(
    capacity: Mapping[str, int],
    applications: Sequence[Application],
    seed: str,
) -> Outcome:
    """Need-proposing deferred acceptance with one lottery across the round.

    Each free need proposes to its best space not yet tried; a space keeps its best
    ``capacity`` proposers by (tier, lottery, id) and rejects the rest, who propose on. The
    result does not depend on the order in which free needs propose. The waiting list of a
    space is every need that proposed to it and does not hold it, in the space's order: exactly
    the needs that ranked it above what they got (or listed it and got nothing).
    """
    key = bytes.fromhex(seed)
    lottery = {
        a.need_id: hmac.digest(key, f"need:{a.need_id}".encode(), "sha256").hex()
        for a in applications
    }
    apps = {a.need_id: a for a in applications}
    if len(apps) != len(applications):
        raise ValueError("a need applies once per round")
    # One integer per (need, space) keeps the order (tier, lottery, id) and compares fast:
    # tier x N + the need's place in the single lottery.
    n_apps = len(apps)
    place = {n: r for r, n in enumerate(sorted(apps, key=lambda n: (lottery[n], n)))}
    nxt = dict.fromkeys(apps, 0)
    held: dict[str, list[tuple[int, int]]] = {}  # per space a heap of (-key, need): worst on top
    proposed: dict[str, list[int]] = {}
    free = sorted(apps, reverse=True)
    while free:
        n = free.pop()
        app = apps[n]
        prefs, tiers, rank = app.prefs, app.tiers, place[n]
        i = nxt[n]
        while i < len(prefs):
            s = prefs[i]
            i += 1
            cap = capacity.get(s, 0)
            if cap <= 0:
                continue
            proposed.setdefault(s, []).append(n)
            k = tiers[s] * n_apps + rank
            heap = held.setdefault(s, [])
            if len(heap) < cap:
                heapq.heappush(heap, (-k, n))
                break
            if -heap[0][0] > k:  # the worst held ranks below n: n takes the seat
                _, out_need = heapq.heapreplace(heap, (-k, n))
                free.append(out_need)
                break
        nxt[n] = i  # a need that ran out of spaces stays unassigned
    out = Outcome()
    for s in capacity:
        keep = sorted(n for _, n in held.get(s, ()))
        keep.sort(key=lambda n: (apps[n].tiers[s], place[n]))
        out.winners[s] = [Ranked(n, apps[n].tiers[s], lottery[n]) for n in keep]
        holders = set(keep)
        for n in keep:
            out.assigned[n] = s
        rest = [n for n in proposed.get(s, ()) if n not in holders]
        rest.sort(key=lambda n: (apps[n].tiers[s], place[n]))
        out.waiting[s] = [Ranked(n, apps[n].tiers[s], lottery[n]) for n in rest]
    return out


def blocking_pairs(
    capacity: Mapping[str, int],
    applications: Sequence[Application],
    assigned: Mapping[int, str],
    seed: str,
) -> list[tuple[int, str]]:
    """Pairs (need, space) that both prefer each other to the assignment: the need ranks the
    space above what it got, and the space has a free seat or holds someone it ranks lower."""
    lottery = {a.need_id: lottery_number(seed, a.need_id) for a in applications}
    apps = {a.need_id: a for a in applications}
    holders: dict[str, list[tuple[int, str, int]]] = {s: [] for s in capacity}
    for n, s in assigned.items():
        if s in holders:
            holders[s].append((apps[n].tiers[s], lottery[n], n))
    out = []
    for a in applications:
        got = assigned.get(a.need_id)
        for s in a.prefs:
            if s == got:
                break
            if capacity.get(s, 0) <= 0:
                continue
            key = (a.tiers[s], lottery[a.need_id], a.need_id)
            held = holders[s]
            if len(held) < capacity[s] or max(held) > key:
                out.append((a.need_id, s))
    return out


# -- the public record ---------------------------------------------------------------------------


def result_record(outcome: Outcome) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The outcome as the JSON the round publishes (ids, tiers, lottery numbers)."""
    return {
        s: {
            "winners": [{"need": r.need_id, "tier": r.tier, "lottery": r.lottery} for r in w],
            "waiting": [
                {"need": r.need_id, "tier": r.tier, "lottery": r.lottery}
                for r in outcome.waiting[s]
            ],
        }
        for s, w in outcome.winners.items()
    }


def applications_from_public(data: Mapping[str, Any]) -> tuple[dict[str, int], list[Application]]:
    """The round's inputs from its public JSON (see ``domain.rounds.public_round``)."""
    capacity = {str(s["id"]): int(s.get("capacity", 1)) for s in data["spaces"]}
    apps = [
        Application(
            int(a["need"]),
            tuple(str(p["space"]) for p in a["preferences"]),
            {str(p["space"]): int(p["tier"]) for p in a["preferences"]},
        )
        for a in data["applications"]
    ]
    return capacity, apps


def verify_public(data: Mapping[str, Any]) -> list[str]:
    """Recompute a drawn round from its public JSON alone; the list of mismatches (empty: it
    matches). Checks the seed against the commitment, every lottery number and every winner and
    waiting list."""
    problems: list[str] = []
    seed = data.get("seed")
    if not seed:
        return ["the round has not been drawn: no seed published"]
    if commitment(seed) != data.get("commitment"):
        problems.append("the seed does not match the commitment")
    capacity, apps = applications_from_public(data)
    expected = result_record(deferred_acceptance(capacity, apps, seed))
    published = {
        str(s["id"]): {"winners": s.get("draw_winners", []), "waiting": s.get("waiting", [])}
        for s in data["spaces"]
    }
    for sid, exp in expected.items():
        got = published.get(sid, {})
        for part in ("winners", "waiting"):
            want = [(e["need"], e["tier"], e["lottery"]) for e in exp[part]]
            have = [(e.get("need"), e.get("tier"), e.get("lottery")) for e in got.get(part, [])]
            if want != have:
                problems.append(f"space {sid}: the published {part} differ from the recomputed")
    return problems


# -- from the matching index to applications ----------------------------------------------------


def share_view(index: MatchIndex, capacity: Mapping[str, int]) -> MatchIndex:
    """The index as a seat of each shared space sees it: area and rent divided by the capacity.

    A need is eligible for a seat of a space shared by ``c`` when the hard filters pass on
    ``area / c`` and ``rent / c``: so any ``c`` winners together fit (summed minimum areas at most
    the area) and together pay (summed budgets at least the rent). A shallow copy: the index
    itself stays untouched and shared by every thread.
    """
    import numpy as np

    shared = {index.position[s]: c for s, c in capacity.items() if c > 1 and s in index.position}
    if not shared:
        return index
    view = copy.copy(index)
    view.area = index.area.copy()
    view.rent = index.rent.copy()
    pos = np.fromiter(shared, dtype=np.int64)
    div = np.fromiter(shared.values(), dtype=float)
    view.area[pos] /= div
    view.rent[pos] /= div
    return view


def build_applications(
    index: MatchIndex,
    capacity: Mapping[str, int],
    preferences: Mapping[int, Sequence[str]],
    policy: Policy,
    *,
    willing_to_share: set[int] | frozenset[int] = frozenset(),
    weights: Mapping[str, float] | None = None,
) -> list[Application]:
    """Each open need's stated order over the round's spaces, cut to the spaces it is eligible
    for (the hard filters, the policy's minimum score; a shared space only for needs willing to
    share), with its tier at each. Needs that are not open in the index, or eligible nowhere,
    do not apply."""
    import numpy as np

    from spacematch.matching.allocation import score_pair_batch

    view = share_view(index, capacity)
    shared = {s for s, c in capacity.items() if c > 1}
    wanted: dict[int, list[str]] = {}
    for need_id in sorted(preferences):
        if need_id not in index.need_position:
            continue
        listed = [s for s in dict.fromkeys(preferences[need_id]) if s in capacity]
        if need_id not in willing_to_share:
            listed = [s for s in listed if s not in shared]
        if listed:
            wanted[need_id] = listed
    pair_needs = [n for n, listed in wanted.items() for _ in listed]
    pair_spaces = [s for listed in wanted.values() for s in listed]
    scores = score_pair_batch(view, pair_needs, pair_spaces, weights=weights)
    keep = np.isfinite(scores)
    if policy.min_score is not None:
        keep &= scores >= policy.min_score
    out = []
    k = 0
    for need_id, listed in wanted.items():
        flags = keep[k : k + len(listed)].tolist()
        k += len(listed)
        prefs = tuple(s for s, ok in zip(listed, flags, strict=True) if ok)
        if not prefs:
            continue
        need = index.needs[index.need_position[need_id]]
        tiers = {
            s: policy.tier_of(
                need.legal_form, is_local(need.areas, index.buurt_code_at(index.position[s]))
            )
            for s in prefs
        }
        out.append(Application(need_id, prefs, tiers))
    return out
