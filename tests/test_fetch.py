"""``fetch-layer``: the DSO API's paged output, replayed by a local HTTP server (never the
internet), goes through the same import; an unreachable server is refused cleanly.

The server serves the v2 fixture in pages of 5, in the API's two documented shapes: HAL JSON
(``_embedded`` + ``_links.next.href``, ``page.totalElements``, the geometry in ``geometrie`` and
the CRS in the ``Content-Crs`` header) and ``_format=geojson`` (a FeatureCollection per page, the
next page in a ``_links`` list with ``rel: next``).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from spacematch import get_store
from spacematch.ingest.fetch import FetchError, fetch_layer
from spacematch.models import Layer, Property

V2 = Path(__file__).parent / "fixtures" / "layers" / "vastgoed_v2.geojson"
PAGE = 5
RENT = {"defaults": {"rent_eur_m2_year": 60.0}}


class Replay(BaseHTTPRequestHandler):
    """Pages of the fixture as the DSO API shapes them; ``fail_first`` 503s before answering."""

    features: ClassVar[list[dict]] = json.loads(V2.read_text())["features"]
    fail_first: ClassVar[int] = 0
    requests: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        Replay.requests.append(self.path)
        if Replay.fail_first > 0:
            Replay.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        page = int(query.get("page", "1"))
        chunk = self.features[(page - 1) * PAGE : page * PAGE]
        more = page * PAGE < len(self.features)
        base = f"http://{self.headers['Host']}{url.path}"
        if query.get("_format") == "geojson":
            body = {
                "type": "FeatureCollection",
                "features": chunk,
                "_links": (
                    [{"href": f"{base}?_format=geojson&page={page + 1}", "rel": "next"}]
                    if more
                    else []
                ),
                "crs": {"type": "name", "properties": {"name": "EPSG:28992"}},
            }
            content_type = "application/geo+json"
        else:
            records = [
                {
                    "_links": {"self": {"href": f"{base}{f['properties']['prgSubobjectid']}/"}},
                    **f["properties"],
                    "geometrie": f["geometry"],
                }
                for f in chunk
            ]
            body = {
                "_links": {
                    "self": {"href": f"{base}?page={page}"},
                    **({"next": {"href": f"{base}?page={page + 1}"}} if more else {}),
                },
                "_embedded": {"verhuurbareeenheden": records},
                "page": {"number": page, "size": PAGE, "totalElements": len(self.features)},
            }
            content_type = "application/hal+json"
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Crs", "EPSG:28992")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Replay.requests, Replay.fail_first = [], 0
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/gemeentelijk_vastgoed/verhuurbareeenheden/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _stored(store) -> dict[str, tuple]:
    with store.sessions() as session:
        rows = session.scalars(select(Property).where(Property.layer == "vastgoed")).all()
        return {p.source_id: (p.status, p.uses, p.buurt_code, p.bag_ids, p.address) for p in rows}


@pytest.mark.parametrize("shape", ["hal", "geojson"])
def test_fetch_reads_every_page_into_the_import(store, area_index, api, shape):
    url = api + ("?_format=geojson" if shape == "geojson" else "")
    result = fetch_layer(
        store, "amsterdam-vastgoed", layer="vastgoed", url=url, mapping=RENT, areas=area_index,
        backoff=0.0,
    )  # fmt: skip
    assert len(Replay.requests) == 4  # 17 features in pages of 5
    assert result.count == 12 and result.report.features == 17
    from spacematch.ingest.importer import import_layer

    import_layer(
        store, V2, layer="direct", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    with store.sessions() as session:
        direct = session.scalars(select(Property).where(Property.layer == "direct")).all()
        layer = session.get(Layer, "vastgoed")
    expected = {p.source_id: (p.status, p.uses, p.buurt_code, p.bag_ids, p.address) for p in direct}
    assert _stored(store) == expected
    assert layer.source.startswith("DSO API http://127.0.0.1:")


def test_fetch_retries_a_failing_page(store, area_index, api):
    Replay.fail_first = 2
    result = fetch_layer(
        store, "amsterdam-vastgoed", layer="vastgoed", url=api, mapping=RENT, areas=area_index,
        retries=2, backoff=0.0,
    )  # fmt: skip
    assert result.count == 12
    assert len(Replay.requests) == 2 + 4


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fetch_refuses_cleanly_when_the_server_is_unreachable(store, area_index, api):
    fetch_layer(
        store, "amsterdam-vastgoed", layer="vastgoed", url=api, mapping=RENT, areas=area_index,
        backoff=0.0,
    )  # fmt: skip
    before = _stored(store)
    url = f"http://127.0.0.1:{_closed_port()}/v1/gemeentelijk_vastgoed/verhuurbareeenheden/"
    with pytest.raises(FetchError, match=r"cannot reach 127\.0\.0\.1:\d+ after 2 tries.*offline"):
        fetch_layer(
            store, "amsterdam-vastgoed", layer="vastgoed", url=url, mapping=RENT,
            areas=area_index, retries=1, backoff=0.0,
        )  # fmt: skip
    assert _stored(store) == before  # the layer is as it was


def test_fetch_layer_command(app, runner, api, tmp_path):
    rent = tmp_path / "rent.toml"
    rent.write_text('extends = "amsterdam-vastgoed"\n[defaults]\nrent_eur_m2_year = 60.0\n')
    result = runner.invoke(
        args=["fetch-layer", "amsterdam-vastgoed", "--layer", "vastgoed", "--url", api,
              "--mapping", str(rent)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "17 features: 9 offered, 2 let (verhuurd)" in result.output
    assert len(_stored(get_store(app))) == 12
    url = f"http://127.0.0.1:{_closed_port()}/v1/x/"
    result = runner.invoke(
        args=["fetch-layer", "amsterdam-vastgoed", "--layer", "vastgoed", "--url", url,
              "--retries", "0", "--mapping", str(rent)]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Fetch refused; layer 'vastgoed' left as it was" in result.output
    assert len(_stored(get_store(app))) == 12
