"""The overview map's data: features when few, grid clusters when many; the counts add up."""

import pytest

from spacematch import get_store
from spacematch.domain.properties import parse_filter
from spacematch.export.clusters import ColumnsCache, cell_size_m, overview


@pytest.fixture
def columns(seeded_app):
    return ColumnsCache(get_store(seeded_app))


def run(app, columns, area_index, query, *, zoom=12, max_features=1500):
    store = get_store(app)
    with store.sessions() as session:
        flt = parse_filter(
            query,
            areas=area_index,
            layers={"bedrijfsruimte", "maatschappelijk", "ateliers", "kavels"},
        )
        return overview(
            session, columns.get(), flt, zoom=zoom, areas=area_index, max_features=max_features
        )


def test_few_matches_come_back_as_the_api_features(seeded_app, columns, area_index):
    client = seeded_app.test_client()
    body = run(seeded_app, columns, area_index, {"layer": "ateliers"})
    api = client.get("/api/properties?layer=ateliers").get_json()
    assert body["clustered"] is False
    assert [f["id"] for f in body["features"]] == [f["id"] for f in api["features"]]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"layer": "bedrijfsruimte"},
        {"area": "E", "status": "beschikbaar"},
        {"use": "atelier", "max_rent": "100"},
    ],
)
def test_clusters_count_exactly_the_matches(seeded_app, columns, area_index, query):
    client = seeded_app.test_client()
    expected = client.get("/api/properties", query_string=query).get_json()["numberReturned"]
    body = run(seeded_app, columns, area_index, query, max_features=10)
    assert body["clustered"] is True
    assert body["numberMatched"] == expected
    assert sum(f["properties"]["count"] for f in body["features"]) == expected
    assert all(f["properties"]["cluster"] for f in body["features"])


def test_cells_shrink_as_you_zoom_in(seeded_app, columns, area_index):
    coarse = run(seeded_app, columns, area_index, {}, zoom=10, max_features=10)
    fine = run(seeded_app, columns, area_index, {}, zoom=14, max_features=10)
    assert len(coarse["features"]) < len(fine["features"])
    assert cell_size_m(12) == pytest.approx(4 * cell_size_m(14))


def test_columns_follow_the_data_version(seeded_app, columns):
    first = columns.get()
    assert columns.get() is first
    client = seeded_app.test_client()
    client.post("/api/needs", json={})  # refused: nothing changes
    assert columns.get() is first
    from spacematch.db import bump_data_version

    with get_store(seeded_app).session() as session:
        bump_data_version(session)
    assert columns.get() is not first


def test_overview_endpoint_checks_zoom(client):
    assert client.get("/api/properties/overview?zoom=99").status_code == 400
    assert "zoom" in client.get("/api/properties/overview?zoom=x").get_json()["errors"]
