"""Sizes and times of the OGC API's item pages, on the shipped demo with the open needs copied to N.

Run from the repository root:

    .venv/bin/python scripts/bench_ogc.py            # 1,000 open needs
    .venv/bin/python scripts/bench_ogc.py -n 5000

It builds a temporary SQLite store (schema, shipped areas, demo), copies open needs until there
are N, and asks each collection for a page of 1,000 through the test client three times: the
first builds the collection (after a data change), the next two are the cached page. It then
asks for an uncached page of the built need-areas. Printed: bytes, features, milliseconds, and
as a machine-independent figure the ratio of an uncached page to the cached one. Issue 15's
target: 1,000 needs in at most 1 MB.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="open needs (default 1000)")
    args = parser.parse_args()

    from spacematch import create_app, get_store
    from spacematch.domain.areas import load_areas, read_shipped_areas
    from spacematch.ingest.demo import load_demo
    from spacematch.models import Need

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = create_app(
            {"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
             "TESTING": True}
        )  # fmt: skip
        store = get_store(app)
        store.create_schema()
        with store.session() as session:
            load_areas(session, read_shipped_areas())
        load_demo(store)
        with store.session() as session:
            rows = list(session.scalars(select(Need).where(Need.status == "open")))
            for i in range(max(args.n - len(rows), 0)):
                src = rows[i % len(rows)]
                copy = {c.name: getattr(src, c.name) for c in Need.__table__.columns}
                copy.update(id=None, token=f"bench-{i}", created_at=None, updated_at=None)
                session.add(Need(**{k: v for k, v in copy.items() if v is not None}))
        client = app.test_client()
        for cid in ("properties", "plots", "needs", "need-areas", "areas"):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                response = client.get(f"/ogc/collections/{cid}/items?limit=1000")
                times.append((time.perf_counter() - start) * 1000)
            body = response.get_json()
            print(
                f"{cid:11} {len(response.data):>10,} bytes  {body['numberReturned']:>5} features"
                f"  build+page {times[0]:8.0f} ms  cached {times[1]:6.1f} / {times[2]:6.1f} ms"
            )
        start = time.perf_counter()
        client.get("/ogc/collections/need-areas/items?limit=1000&offset=1")
        uncached = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        client.get("/ogc/collections/need-areas/items?limit=1000&offset=1")
        cached = (time.perf_counter() - start) * 1000
        print(f"need-areas uncached page {uncached:.0f} ms, cached {cached:.1f} ms, "
              f"ratio {uncached / cached:.0f}x")  # fmt: skip
        store.dispose()


if __name__ == "__main__":
    main()
