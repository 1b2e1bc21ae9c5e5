#!/usr/bin/env python3
"""Check a spacematch allocation round from its public JSON alone. Python 3 standard library only,
and written apart from spacematch's own code, so anyone can run it without trusting (or
installing) the app:

    curl -s https://<host>/api/rounds/7 > round.json
    python3 scripts/verify_round.py round.json        # or: ... | python3 scripts/verify_round.py -

It checks that the revealed seed hashes to the commitment published when the round opened
(SHA-256 of the seed's bytes), recomputes every lottery number (HMAC-SHA256 keyed by the seed
over "need:<id>", lower first), reruns need-proposing deferred acceptance (spaces rank
applicants by tier, then lottery number, then id; a space takes at most its capacity) and
compares every winner and waiting list with the published ones. Exit 0: it matches; 1: it
does not (each difference printed); 2: the file is not a drawn round.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys


def lottery(seed: str, need: int) -> str:
    return hmac.new(bytes.fromhex(seed), f"need:{need}".encode(), hashlib.sha256).hexdigest()


def recompute(data: dict) -> dict[str, dict[str, list[tuple[int, int, str]]]]:
    """Deferred acceptance, the plain way: repeat rounds of proposals until nobody is free."""
    seed = data["seed"]
    capacity = {str(s["id"]): int(s.get("capacity", 1)) for s in data["spaces"]}
    prefs = {
        int(a["need"]): [str(p["space"]) for p in a["preferences"]] for a in data["applications"]
    }
    tier = {
        (int(a["need"]), str(p["space"])): int(p["tier"])
        for a in data["applications"]
        for p in a["preferences"]
    }
    lot = {n: lottery(seed, n) for n in prefs}

    def key(need: int, space: str) -> tuple[int, str, int]:
        return (tier[(need, space)], lot[need], need)

    held: dict[str, list[int]] = {s: [] for s in capacity}
    proposed: dict[str, set[int]] = {s: set() for s in capacity}
    tried = {n: 0 for n in prefs}
    free = sorted(prefs)  # the order of proposals does not change the result
    while free:
        need = free[-1]
        if tried[need] >= len(prefs[need]):
            free.pop()
            continue
        space = prefs[need][tried[need]]
        tried[need] += 1
        if capacity.get(space, 0) <= 0:
            continue
        proposed[space].add(need)
        ranked = sorted(held[space] + [need], key=lambda n: key(n, space))
        held[space] = ranked[: capacity[space]]
        if need in held[space]:
            free.pop()
        free.extend(n for n in ranked[capacity[space] :] if n != need)
    out = {}
    for space in capacity:
        winners = sorted(held[space], key=lambda n: key(n, space))
        waiting = sorted(proposed[space] - set(winners), key=lambda n: key(n, space))
        out[space] = {
            part: [(n, tier[(n, space)], lot[n]) for n in group]
            for part, group in (("winners", winners), ("waiting", waiting))
        }
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    if argv[1] == "-":
        text = sys.stdin.read()
    else:
        with open(argv[1], encoding="utf-8") as f:
            text = f.read()
    data = json.loads(text)
    if not data.get("seed"):
        print("not drawn yet: no seed has been published")
        return 2
    problems = []
    if hashlib.sha256(bytes.fromhex(data["seed"])).hexdigest() != data.get("commitment"):
        problems.append("the seed does not hash to the published commitment")
    expected = recompute(data)
    for space in data["spaces"]:
        sid = str(space["id"])
        for part, field in (("winners", "draw_winners"), ("waiting", "waiting")):
            have = [(e["need"], e["tier"], e["lottery"]) for e in space.get(field, [])]
            if have != expected.get(sid, {}).get(part, []):
                problems.append(
                    f"space {sid}: {part} differ (published {have}, "
                    f"recomputed {expected.get(sid, {}).get(part, [])})"
                )
    for problem in problems:
        print("MISMATCH:", problem)
    if problems:
        return 1
    housed = sum(len(v["winners"]) for v in expected.values())
    print(
        f"round {data.get('id')}: matches - commitment, {len(expected)} spaces, "
        f"{len(data['applications'])} applications, {housed} winners recomputed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
