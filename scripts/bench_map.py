"""Measure the overview map at scale: page size, server time, and time to interactive in Chromium.

    .venv/bin/python scripts/bench_map.py          # 100,000 properties (the benchmark's city)
    .venv/bin/python scripts/bench_map.py --properties 20000 --json

Builds the matching benchmark's seeded synthetic city (scripts/benchmark.py) into a fresh SQLite
store, serves the app with werkzeug on 127.0.0.1, and reports:

- the HTML size of ``/`` and its server time (median of ``--repeat`` requests);
- the size and time of the data the map fetches for the first view (per layer, clustered or not);
- the time from navigation start until every overlay has drawn its data, in headless Chromium
  (Debian's /usr/bin/chromium through Playwright), median of 3 page loads;
- a baseline in the same process: a folium map with one Marker per property for
  ``--baseline-markers`` properties (HTML size and build time), and our ratios to it.

Targets (issue 4): HTML <= 500 kB, server time <= 300 ms, interactive <= 3 s at 100,000 properties.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spacematch import create_app, get_store  # noqa: E402
from spacematch.db import Store  # noqa: E402
from spacematch.domain.areas import load_areas, read_shipped_areas  # noqa: E402
from spacematch.models import USES, Layer, Property  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def load_benchmark_module():
    spec = importlib.util.spec_from_file_location("sm_benchmark", ROOT / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_store(path: Path, n: int, seed: int) -> tuple[Store, list[str]]:
    """The synthetic city as stored properties (points; plots as squares of their area)."""
    bench = load_benchmark_module()
    areas = bench.area_index()
    city = bench.synthetic_properties(areas, n, np.random.default_rng(seed))
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    with store.session() as session:
        load_areas(session, read_shipped_areas())
    layers = sorted({pid.split(".", 1)[0] for pid in city.ids})
    epoch = np.datetime64("1970-01-01", "D")
    with store.session() as session:
        for slug in layers:
            session.add(
                Layer(slug=slug, title=f"{slug} (synthetic)", source="bench_map", is_demo=True)
            )
        session.flush()
        rows = []
        for i, pid in enumerate(city.ids):
            minx, miny, maxx, maxy = (float(city.minx[i]), float(city.miny[i]),
                                      float(city.maxx[i]), float(city.maxy[i]))  # fmt: skip
            polygon = maxx > minx
            geom = (
                shapely.box(minx, miny, maxx, maxy)
                if polygon
                else shapely.Point(city.x[i], city.y[i])
            )
            until = int(city.available_until[i])
            rows.append({
                "id": pid, "layer": pid.split(".", 1)[0], "source_id": pid.split(".", 1)[1],
                "name": f"Synthetic {pid}", "address": "",
                "geom_type": "Polygon" if polygon else "Point",
                "geom": shapely.to_wkb(geom), "x": float(city.x[i]), "y": float(city.y[i]),
                "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy,
                "area_m2": float(city.area_m2[i]),
                "rent_eur_m2_year": float(city.rent_eur_m2_year[i]),
                "uses": ",".join(u for u in USES if u in str(city.uses[i]).split(",")),
                "available_from": (epoch + int(city.available_from[i])).astype(dt.date),
                "available_until": None if until > 2_000_000 else (epoch + until).astype(dt.date),
                "accessible": bool(city.accessible[i]), "status": str(city.status[i]),
                "department": "", "contact": "", "buurt_code": str(city.buurt_code[i]),
            })  # fmt: skip
            if len(rows) == 10_000:
                session.execute(Property.__table__.insert(), rows)
                rows = []
        if rows:
            session.execute(Property.__table__.insert(), rows)
    return store, layers


def get(port: int, path: str) -> tuple[float, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", path)
    body = conn.getresponse().read()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, body


def browser_interactive(base: str, layers: list[str], runs: int = 3) -> list[float]:
    """Seconds from navigation start until every overlay has drawn its data."""
    from playwright.sync_api import sync_playwright

    keys = ["buurten", *layers]
    loaded = " && ".join(f"d['loaded_{k}'] !== undefined" for k in keys)
    condition = (
        "() => { const m = document.querySelector('.folium-map'); if (!m) return false; "
        f"const d = m.dataset; return {loaded}; }}"
    )
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_context().new_page()
            page.goto(base + "/", wait_until="commit")
            page.wait_for_function(condition, timeout=60_000)
            out.append(page.evaluate("() => performance.now()") / 1000.0)
            page.context.close()
        browser.close()
    return out


def baseline(n: int) -> dict:
    """One folium Marker per property: the approach the overview must beat."""
    import folium

    rng = np.random.default_rng(1)
    lat = 52.30 + rng.random(n) * 0.12
    lon = 4.80 + rng.random(n) * 0.20
    started = time.perf_counter()
    m = folium.Map(location=(52.37, 4.9), zoom_start=12)
    for a, b in zip(lat, lon, strict=True):
        folium.Marker((float(a), float(b)), popup=f"pand {a:.4f}").add_to(m)
    html = m.get_root().render()
    return {
        "markers": n,
        "html_bytes": len(html.encode()),
        "build_s": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--properties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--baseline-markers", type=int, default=5_000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        store, layers = build_store(Path(tmp) / "city.sqlite3", args.properties, args.seed)
        store.dispose()
        build_s = time.perf_counter() - started
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/city.sqlite3", "SECRET_KEY": "bench",
                          "TILES_URL": "http://127.0.0.9:9/{z}/{x}/{y}.png"})  # fmt: skip
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_port
        get(port, "/")  # warm up (area index, templates)
        page_times, html = [], b""
        for _ in range(args.repeat):
            elapsed, html = get(port, "/")
            page_times.append(elapsed)
        # The first view's data: what the browser fetches at zoom 12 over the whole city.
        bbox = "4.689789,52.314776,5.118256,52.420429"
        data = {}
        for slug in layers:
            path = f"/api/properties/overview?layer={slug}&status=beschikbaar&bbox={bbox}&zoom=12"
            times = []
            for _ in range(5):
                elapsed, body = get(port, path)
                times.append(elapsed)
            parsed = json.loads(body)
            data[slug] = {"ms": statistics.median(times) * 1000, "bytes": len(body),
                          "features": len(parsed["features"]), "clustered": parsed["clustered"],
                          "matched": parsed["numberMatched"]}  # fmt: skip
        interactive = (
            [] if args.no_browser else browser_interactive(f"http://127.0.0.1:{port}", layers)
        )
        server.shutdown()
        get_store(app).dispose()

    base = baseline(args.baseline_markers)
    html_kb = len(html) / 1000
    figures = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}",
        "properties": args.properties,
        "store_build_s": round(build_s, 2),
        "html_kb": round(html_kb, 1),
        "server_p50_ms": round(statistics.median(page_times) * 1000, 1),
        "server_max_ms": round(max(page_times) * 1000, 1),
        "first_view_data_kb": round(sum(d["bytes"] for d in data.values()) / 1000, 1),
        "first_view_data_max_ms": round(max(d["ms"] for d in data.values()), 1),
        "layers": data,
        "interactive_s": round(statistics.median(interactive), 2) if interactive else None,
        "interactive_runs_s": [round(v, 2) for v in interactive],
        "baseline": {k: round(v, 3) if isinstance(v, float) else v for k, v in base.items()},
        "baseline_html_ratio": round(base["html_bytes"] / max(len(html), 1), 1),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"overview map, {args.properties:,} properties "
            f"({figures['machine']}, {figures['date']})"
        )
        print(f"  page HTML            {figures['html_kb']:8.1f} kB   (target <= 500)")
        print(f"  server time p50      {figures['server_p50_ms']:8.1f} ms   (target <= 300)")
        print(
            f"  first-view data      {figures['first_view_data_kb']:8.1f} kB, slowest layer "
            f"{figures['first_view_data_max_ms']:.0f} ms"
        )
        for slug, d in data.items():
            kind = "clusters" if d["clustered"] else "features"
            print(
                f"    {slug:16s} {d['matched']:7,} matched -> {d['features']:5,} {kind}, "
                f"{d['bytes'] / 1000:7.1f} kB, {d['ms']:6.1f} ms"
            )
        if interactive:
            print(
                f"  interactive (Chromium) {figures['interactive_s']:6.2f} s median of "
                f"{figures['interactive_runs_s']}   (target <= 3)"
            )
        print(
            f"  baseline: {base['markers']:,} folium Markers -> "
            f"{base['html_bytes'] / 1e6:.1f} MB HTML "
            f"in {base['build_s']:.1f} s; ours is {figures['baseline_html_ratio']}x smaller for "
            f"{args.properties // base['markers']}x the properties"
        )
    return figures


if __name__ == "__main__":
    main()
