"""Allocation rounds in the store and on the web: open, draw, verify, publish, answer, override,
shared spaces, and one holder per seat also with two officers drawing at once (SQLite and,
when configured, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from spacematch import get_store
from spacematch.matching import MatchIndex
from spacematch.matching import round_store as rs
from spacematch.matching.rounds import applications_from_public, blocking_pairs, verify_public
from spacematch.matching.sharing import group_proposals
from spacematch.models import (
    AllocationRound,
    Need,
    Property,
    RoundAward,
    RoundSpace,
    StatusEvent,
)
from tests.builders import stored_areas

ROOT = Path(__file__).resolve().parent.parent


def _index(app) -> MatchIndex:
    return MatchIndex.from_store(get_store(app), stored_areas(app))


def _available(app, n: int | None = None) -> list[str]:
    with get_store(app).sessions() as session:
        ids = list(session.scalars(
            select(Property.id).where(Property.status == "beschikbaar").order_by(Property.id)
        ))  # fmt: skip
    return ids[:n] if n else ids


def _open_and_draw(client, ids, policy=None) -> dict:
    body = {"properties": ids} | ({"policy": policy} if policy is not None else {})
    opened = client.post("/api/rounds", json=body)
    assert opened.status_code == 201, opened.get_json()
    rid = opened.get_json()["id"]
    before = client.get(f"/api/rounds/{rid}").get_json()
    assert before["seed"] is None and before["commitment"] == opened.get_json()["commitment"]
    drawn = client.post(f"/api/rounds/{rid}/draw", json={})
    assert drawn.status_code == 200, drawn.get_json()
    return drawn.get_json()


def test_a_round_is_stable_verifiable_and_private(seeded_app, client, login, tmp_path):
    login("officer")
    ids = _available(seeded_app)
    record = _open_and_draw(client, ids)
    assert record["status"] == "drawn" and len(record["seed"]) == 64
    winners = [w for s in record["spaces"] for w in s["draw_winners"]]
    assert winners, "the demo round houses nobody"
    # each space at most its capacity, each need at most one space
    assert all(len(s["draw_winners"]) <= s["capacity"] for s in record["spaces"])
    assert len({w["need"] for w in winners}) == len(winners)
    # stable: no need and space that both prefer each other
    capacity, apps = applications_from_public(record)
    assigned = {w["need"]: s["id"] for s in record["spaces"] for w in s["draw_winners"]}
    assert blocking_pairs(capacity, apps, assigned, record["seed"]) == []
    # the public JSON names no contact
    with get_store(seeded_app).sessions() as session:
        contacts = session.execute(select(Need.contact_name, Need.contact_email)).all()
        tokens = list(session.scalars(select(Need.token)))
    raw = json.dumps(record)
    for name, email in contacts:
        assert email not in raw and name not in raw
    assert not any(t in raw for t in tokens)
    # verify-round and the standalone script both confirm it from the public JSON alone
    result = seeded_app.test_cli_runner().invoke(args=["verify-round", str(record["id"])])
    assert result.exit_code == 0 and "matches" in result.output
    path = tmp_path / "round.json"
    path.write_text(json.dumps(record))
    script = [sys.executable, str(ROOT / "scripts" / "verify_round.py"), str(path)]
    assert subprocess.run(script, capture_output=True, check=False).returncode == 0
    # tampering is caught by the script (it shares no code with the app)
    first = next(s for s in record["spaces"] if s["draw_winners"])
    first["draw_winners"][0]["lottery"] = "0" * 64
    path.write_text(json.dumps(record))
    out = subprocess.run(script, capture_output=True, text=True, check=False)
    assert out.returncode == 1 and "MISMATCH" in out.stdout
    # the workflow: every won space is in_optie for its winner, in the history
    with get_store(seeded_app).sessions() as session:
        for s in record["spaces"]:
            if s["draw_winners"]:
                assert session.get(Property, s["id"]).status == "in_optie"
                last = session.scalars(
                    select(StatusEvent).where(StatusEvent.property_id == s["id"])
                ).all()[-1]
                assert last.to_status == "in_optie"
                assert last.need_id == s["draw_winners"][0]["need"]


def test_a_round_is_drawn_once_and_needs_an_officer(seeded_app, client, login):
    assert (
        client.post("/api/rounds", json={"properties": _available(seeded_app, 3)}).status_code
        == 401
    )
    login("planner")
    assert (
        client.post("/api/rounds", json={"properties": _available(seeded_app, 3)}).status_code
        == 403
    )


def test_open_round_refuses_bad_input(seeded_app, client, login):
    login("officer")
    ids = _available(seeded_app, 3)
    assert client.post("/api/rounds", json={"properties": []}).status_code == 400
    assert client.post("/api/rounds", json={"properties": ["nope.1"]}).status_code == 400
    bad = client.post("/api/rounds", json={"properties": ids, "policy": {"min_score": 7}})
    assert bad.status_code == 400 and "policy.min_score" in bad.get_json()["errors"]
    assert client.post("/api/rounds", json={"properties": ids}).status_code == 201
    again = client.post("/api/rounds", json={"properties": ids})
    assert again.status_code == 409  # a space is in one undecided round at a time


def test_hidden_names_show_the_legal_form_only(seeded_app, client, login):
    login("officer")
    with get_store(seeded_app).session() as session:
        session.execute(text("UPDATE need SET hide_name = :t"), {"t": True})
        names = list(session.scalars(select(Need.initiative)))
    record = _open_and_draw(client, _available(seeded_app))
    raw = json.dumps(record)
    assert not any(n in raw for n in names)
    assert all(v["initiative"] is None and v["legal_form"] for v in record["initiatives"].values())
    page = client.get("/toewijzingen").get_data(as_text=True)
    assert not any(n in page for n in names)
    opened = dt.datetime.fromisoformat(record["opened_at"])  # shown as people read it, not ISO
    assert record["opened_at"] not in page
    assert f"Geopend {opened.day} " in page and f" {opened:%H:%M}" in page


def test_same_seed_same_result(seeded_app, login, client):
    """Recomputing with the revealed seed reproduces the stored draw; any other seed fails the
    commitment."""
    login("officer")
    record = _open_and_draw(client, _available(seeded_app))
    with get_store(seeded_app).sessions() as session:
        assert rs.verify_stored(session, record["id"]) == []
        session.get(AllocationRound, record["id"]).seed = "00" * 32  # never committed
        assert "the seed does not match the commitment" in verify_public(
            rs.public_round(session, record["id"])
        )


def test_two_officers_drawing_at_once_leave_one_holder(seeded_app):
    store = get_store(seeded_app)
    index = _index(seeded_app)
    ids = _available(seeded_app)
    with store.session() as session:
        rid = rs.open_round(session, ids, None, actor="a@example.org").id
    barrier = threading.Barrier(2)
    results: list[str] = []

    def draw(actor: str) -> None:
        barrier.wait()
        try:
            with store.session() as session:
                rs.draw_round(session, index, rid, actor=actor)
            results.append("drawn")
        except rs.RoundError as err:
            results.append(f"refused {err.status}")

    threads = [threading.Thread(target=draw, args=(f"{k}@example.org",)) for k in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["drawn", "refused 409"]
    with store.sessions() as session:
        held = session.execute(
            select(RoundAward.held_property_id, RoundAward.seat, func.count())
            .where(RoundAward.held_property_id.is_not(None))
            .group_by(RoundAward.held_property_id, RoundAward.seat)
        ).all()
        assert held and all(n == 1 for _, _, n in held)
        events = session.scalar(select(func.count()).select_from(StatusEvent))
        assert events == len(held)


def test_the_database_refuses_a_second_holder(seeded_app):
    store = get_store(seeded_app)
    pid = _available(seeded_app, 1)[0]
    with store.session() as session:
        rid = rs.open_round(session, [pid], None, actor="a").id
        need = session.scalar(select(Need.id).limit(1))
    with pytest.raises(IntegrityError), store.session() as session:
        for _ in range(2):
            session.add(RoundAward(
                round_id=rid, property_id=pid, seat=0, need_id=need, status="offered",
                held_property_id=pid, via="draw", reason="", actor="a",
            ))  # fmt: skip
        session.flush()


def test_refusal_offers_the_next_on_the_waiting_list_and_acceptance_houses(seeded_app):
    store = get_store(seeded_app)
    index = _index(seeded_app)
    ids = _available(seeded_app)
    with store.session() as session:
        rid = rs.open_round(session, ids, None, actor="a").id
        rs.draw_round(session, index, rid, actor="a")
        record = rs.public_round(session, rid)
    space = next(s for s in record["spaces"] if s["draw_winners"] and s["waiting"])
    with store.session() as session:
        award = session.scalar(select(RoundAward).where(RoundAward.property_id == space["id"]))
        with pytest.raises(rs.RoundError):
            rs.refuse(session, award.id, reason=" ", actor="a")
    with store.session() as session:
        nxt = rs.refuse(session, award.id, reason="te ver weg", actor="a")
        expected = next(
            w["need"] for w in space["waiting"]
            if session.get(Need, w["need"]).status == "open"
        )  # fmt: skip
        assert nxt is not None and nxt.need_id == expected and nxt.via == "waiting_list"
        rs.accept(session, nxt.id, actor="a")
    with store.sessions() as session:
        prop = session.get(Property, space["id"])
        assert prop.status == "toegewezen"
        assert session.get(Need, expected).status == "gehuisvest"
        history = [(e.to_status, e.need_id) for e in session.scalars(
            select(StatusEvent).where(StatusEvent.property_id == space["id"])
            .order_by(StatusEvent.id)
        )]  # fmt: skip
        assert history == [
            ("in_optie", award.need_id),
            ("beschikbaar", None),
            ("in_optie", expected),
            ("toegewezen", expected),
        ]
        # the need's other offers (none in a one-to-one round) are not left standing
        assert not session.scalar(
            select(func.count())
            .select_from(RoundAward)
            .where(RoundAward.need_id == expected, RoundAward.status == "offered")
        )


def test_override_needs_a_reason_that_is_published(seeded_app, client, login):
    login("officer")
    record = _open_and_draw(client, _available(seeded_app))
    space = next(s for s in record["spaces"] if s["draw_winners"])
    with get_store(seeded_app).sessions() as session:
        other = session.scalar(
            select(Need.id).where(Need.status == "open", Need.id.not_in(
                [w["need"] for s in record["spaces"] for w in s["draw_winners"]]
            )).limit(1)
        )  # fmt: skip
    url = f"/api/rounds/{record['id']}/override"
    assert client.post(url, json={"property": space["id"], "need": other}).status_code == 400
    done = client.post(
        url, json={"property": space["id"], "need": other, "reason": "urgent: brand in pand"}
    )
    assert done.status_code == 201, done.get_json()
    public = client.get(f"/api/rounds/{record['id']}").get_json()
    entry = next(s for s in public["spaces"] if s["id"] == space["id"])
    assert [h["need"] for h in entry["holders"]] == [other]
    assert entry["overrides"][0]["reason"] == "urgent: brand in pand"
    assert "urgent: brand in pand" in client.get("/toewijzingen").get_data(as_text=True)
    # the draw itself still verifies: an override is published beside it, not hidden in it
    result = seeded_app.test_cli_runner().invoke(args=["verify-round", str(record["id"])])
    assert result.exit_code == 0
    geo = client.get("/toewijzingen.geojson").get_json()
    assert any(f["properties"]["reason"] == "urgent: brand in pand" for f in geo["features"])


def test_stated_interests_are_the_preferences(seeded_app):
    """Stated interests (the ``interest`` table), in their order, are what the round uses."""
    store = get_store(seeded_app)
    index = _index(seeded_app)
    ids = _available(seeded_app)
    with store.session() as session:
        fits, source = rs.preferences(session, index, ids)
        assert source == "fits"  # nobody stated an interest yet
        need_id, best = next((n, p) for n, p in fits.items() if len(p) >= 2)
        reversed_order = best[::-1]
        for rank, pid in enumerate(reversed_order):
            session.execute(
                text("INSERT INTO interest VALUES (:n, :p, :r)"),
                {"n": need_id, "p": pid, "r": rank},
            )
        prefs, source = rs.preferences(session, index, ids)
        assert source == "interests" and prefs == {need_id: reversed_order}


def test_a_space_offered_to_a_group(seeded_app):
    """A large space with capacity 2: two willing needs win a seat each, the history names both,
    and the proposals only hold groups that fit and pay together."""
    store = get_store(seeded_app)
    with store.session() as session:
        big = session.scalars(
            select(Property).where(Property.status == "beschikbaar")
            .order_by(Property.area_m2.desc())
        ).first()  # fmt: skip
        pid, area, rent = big.id, big.area_m2, big.rent_eur_m2_year * big.area_m2 / 12
        from spacematch.domain.needs import create_need, validate_need

        made = []
        for k in range(3):
            need = validate_need({
                "initiative": f"Deler {k}", "legal_form": "vereniging", "sector": "cultuur",
                "contact_name": "X", "contact_email": f"d{k}@example.org",
                "min_area_m2": area * 0.3, "max_area_m2": area * 0.5,
                "max_rent_eur_month": rent * 0.6, "uses": big.use_list[:1],
                "areas": [big.buurt_code], "needed_from": big.available_from.isoformat(),
                "min_months": 1, "willing_to_share": True,
            }, areas=stored_areas(seeded_app), allow_past=True)  # fmt: skip
            made.append(create_need(session, need).id)
    index = _index(seeded_app)
    groups = group_proposals(index, pid, set(made))
    assert groups
    for g in groups:
        assert g.summed_min_area <= area and g.summed_budget >= rent
        assert set(g.need_ids) <= set(made) and 2 <= len(g.need_ids) <= 3
    with store.session() as session:
        rid = rs.open_round(session, [pid], None, capacities={pid: 2}, actor="a").id
        rs.draw_round(session, index, rid, actor="a", preference_lists={n: [pid] for n in made})
        record = rs.public_round(session, rid)
    winners = record["spaces"][0]["draw_winners"]
    assert len(winners) == 2 and {w["need"] for w in winners} <= set(made)
    assert len(record["spaces"][0]["waiting"]) == 1
    with store.session() as session:
        for a in session.scalars(select(RoundAward).where(RoundAward.round_id == rid)):
            rs.accept(session, a.id, actor="a")
    with store.sessions() as session:
        assert session.get(Property, pid).status == "toegewezen"
        housed = {e.need_id for e in session.scalars(
            select(StatusEvent).where(
                StatusEvent.property_id == pid, StatusEvent.to_status == "toegewezen"
            )
        )}  # fmt: skip
        assert housed == {w["need"] for w in winners}
        assert all(session.get(Need, n).status == "gehuisvest" for n in housed)
        assert session.get(RoundSpace, (rid, pid)).capacity == 2


def test_public_pages_and_officer_round_page(seeded_app, client, login):
    login("officer")
    record = _open_and_draw(client, _available(seeded_app))
    page = client.get("/toewijzingen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert record["seed"] in html and "Voorrang 1" in html
    assert client.get(f"/officer/rounds/{record['id']}").status_code == 200
    geo = client.get("/toewijzingen.geojson").get_json()
    assert geo["type"] == "FeatureCollection" and geo["features"]
    lon, lat = geo["features"][0]["geometry"]["coordinates"]
    assert 4.7 < lon < 5.1 and 52.2 < lat < 52.5


def test_allocation_page_ticks_nothing_and_weighs_priority(seeded_app, client, login):
    login("officer")
    page = client.get("/allocation").get_data(as_text=True)
    assert 'name="property"' in page and " checked" not in page
    assert 'value="0.5"' in page
    every = client.get("/allocation?all=1").get_data(as_text=True)
    assert every.count(" checked") == every.count('name="property"')


def test_a_space_released_on_its_page_can_go_to_a_new_round(seeded_app):
    """The property page's workflow is the authority: a space it made beschikbaar again is no
    longer held by the earlier round's award, and the next round can award it."""
    from spacematch.domain import workflow

    store = get_store(seeded_app)
    index = _index(seeded_app)
    ids = _available(seeded_app)
    with store.session() as session:
        rid = rs.open_round(session, ids, None, actor="a").id
        rs.draw_round(session, index, rid, actor="a")
        award = session.scalar(select(RoundAward).where(RoundAward.round_id == rid))
        pid, need_id = award.property_id, award.need_id
        workflow.transition(
            session, property_id=pid, to_status="beschikbaar", need_id=None,
            reason="terug", actor="a",
        )  # fmt: skip
    with store.session() as session:
        second = rs.open_round(session, [pid], None, actor="a").id
        assert session.get(RoundAward, award.id).status == "released"
    index = _index(seeded_app)
    with store.session() as session:
        rs.draw_round(session, index, second, actor="a", preference_lists={need_id: [pid]})
        holders = session.scalars(
            select(RoundAward).where(RoundAward.held_property_id == pid)
        ).all()
        assert [(h.round_id, h.need_id) for h in holders] == [(second, need_id)]


def test_the_batch_eligibility_agrees_with_one_need_at_a_time(seeded_app):
    """``score_pair_batch`` (a round's eligibility, all pairs at once) gives exactly the scores
    of ``score_pairs`` (one need against its properties), eligible or not, also on shares."""
    import numpy as np

    from spacematch.matching import score_pair_batch, score_pairs
    from spacematch.matching.rounds import share_view

    index = _index(seeded_app)
    rng = np.random.default_rng(13)
    need_ids = [n.id for n in index.needs]
    ids = index.ids.tolist()
    pairs = [(int(n), ids[p]) for n, p in zip(
        rng.choice(need_ids, 3000), rng.integers(0, len(ids), 3000), strict=True
    )]  # fmt: skip
    with get_store(seeded_app).sessions() as session:
        fits, _ = rs.preferences(session, index, ids)
    pairs += [(n, p) for n, ps in fits.items() for p in ps]  # mostly eligible pairs
    view = share_view(index, {p: 2 for p in ids[::5]})
    for ix in (index, view):
        batch = score_pair_batch(ix, [n for n, _ in pairs], [p for _, p in pairs])
        one = [score_pairs(ix, n, [p]).get(p, np.nan) for n, p in pairs]
        assert np.isfinite(batch).sum() > 500
        np.testing.assert_array_equal(batch, np.array(one))


def test_the_api_draws_only_on_json(seeded_app, client, login):
    """A cross-site HTML form carries the session cookie but cannot send JSON: refused."""
    login("officer")
    rid = client.post("/api/rounds", json={"properties": _available(seeded_app, 3)}).get_json()[
        "id"
    ]
    assert client.post(f"/api/rounds/{rid}/draw", data={}).status_code == 400
    assert client.get(f"/api/rounds/{rid}").get_json()["status"] == "open"
