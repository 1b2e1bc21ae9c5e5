"""Benchmark the layer import: N random points inside real buurten, GeoPackage and GeoJSON.

Run from the repository root:

    .venv/bin/python scripts/bench_import.py                 # 100,000 points, 3 runs per format
    .venv/bin/python scripts/bench_import.py -n 20000 --repeat 5 --json
    .venv/bin/python scripts/bench_import.py -n 1000000 --repeat 1 --formats gpkg --max-mb 400 \
        --postgres postgresql://user:pw@host/db --index --json

It generates N points (seeded) inside the shipped buurt polygons with every Property field set,
writes them to a temporary GeoPackage and GeoJSON in RD New (EPSG:28992), and imports each file
with ``spacematch.ingest.importer.import_layer`` into a fresh SQLite store per run (schema
created, areas loaded). It prints the median seconds of the read, validate and insert stages and
of the whole
import (wall, and this process's CPU seconds: wall time moves with the host's load), and, as a
machine-independent figure, the ratio of the import to a plain ``pyogrio.read_dataframe`` of the
same file measured in the same process. The target from issue 2 is 100,000 points in at most
20 s; from issue 17, 1,000,000 points (GeoPackage) in at most 120 s.

``--postgres URL`` imports the same files into that PostgreSQL database too (its tables are
dropped and recreated per run: give a scratch database). ``--index`` also times
``MatchIndex.from_store`` after each import (issue 17: at most 30 s at 1,000,000 spaces).
The JSON's ``host`` holds the date, the CPU model and the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spacematch.db import Store  # noqa: E402
from spacematch.domain.areas import AreaIndex, load_areas, read_shipped_areas  # noqa: E402
from spacematch.ingest.importer import import_layer  # noqa: E402
from spacematch.matching.index import MatchIndex  # noqa: E402
from spacematch.models import USES, Base  # noqa: E402


def area_index(records: list[dict]) -> AreaIndex:
    """The buurt index, built from the shipped areas without a store."""
    by_code = {r["code"]: r for r in records}
    return AreaIndex(
        codes=list(by_code),
        levels={c: r["level"] for c, r in by_code.items()},
        names={c: r["name"] for c, r in by_code.items()},
        parents={c: r["parent_code"] for c, r in by_code.items()},
        geoms={c: shapely.from_wkb(r["geom"]) for c, r in by_code.items()},
        stadsdelen={c: r["stadsdeel_code"] for c, r in by_code.items()},
    )


def make_points(n: int, seed: int, index: AreaIndex) -> gpd.GeoDataFrame:
    """N points uniformly inside the buurten (rejection sampling), with every field filled."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(index.buurt_geoms)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    have = 0
    while have < n:
        x = rng.uniform(minx, maxx, 2 * n)
        y = rng.uniform(miny, maxy, 2 * n)
        # A point on a buurt's exact edge is fine for the import; keep those strictly inside.
        inside = index.buurt_of_points(x, y) != None  # noqa: E711
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    x = np.concatenate(xs)[:n].round(2)
    y = np.concatenate(ys)[:n].round(2)

    uses = np.array(USES, dtype=object)
    first = uses[rng.integers(0, len(USES), n)]
    second = uses[rng.integers(0, len(USES), n)]
    two = rng.random(n) < 0.3
    start = np.datetime64("2026-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")
    months = rng.integers(6, 60, n).astype("timedelta64[D]") * 30
    temporary = rng.random(n) < 0.4
    until = np.where(temporary, (start + months).astype(str), None)
    return gpd.GeoDataFrame(
        {
            "id": np.char.add("B", np.char.zfill(np.arange(1, n + 1).astype(str), 6)),
            "name": np.char.add("Bench space ", np.arange(1, n + 1).astype(str)),
            "address": np.char.add("Benchstraat ", rng.integers(1, 400, n).astype(str)),
            "area_m2": rng.uniform(15, 2500, n).round(1),
            "rent_eur_m2_year": rng.uniform(0, 250, n).round(2),
            "uses": np.where(two, first + "," + second, first),
            "available_from": start.astype(str),
            "available_until": until,
            "accessible": rng.random(n) < 0.3,
            "status": "beschikbaar",
            "department": "Vastgoed",
            "contact": "vastgoed@example.org",
        },
        geometry=shapely.points(x, y),
        crs="EPSG:28992",
    )


def cpu_model() -> str:
    """The CPU's model name (Linux), for the figures' machine column."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fresh_store(backend: str, tmp: str, name: str, postgres: str | None, records: list) -> Store:
    """An empty store with the schema and the shipped areas: a new SQLite file, or the
    PostgreSQL database with its tables dropped and recreated."""
    if backend == "sqlite":
        store = Store(f"sqlite:///{tmp}/store-{name}.sqlite")
    else:
        assert postgres is not None
        store = Store(postgres)
        Base.metadata.drop_all(store.engine)
    store.create_schema()
    with store.session() as session:
        load_areas(session, records)
    return store


def import_once(store: Store, path: Path, args: argparse.Namespace) -> dict:
    """One import (and, with --index, one index build from the store): wall and CPU seconds."""
    result = import_layer(
        store,
        path,
        layer="bench",
        progress=args.progress,
        **({"max_bytes": int(args.max_mb * 1e6)} if args.max_mb else {}),
    )
    if result.count != args.n:
        raise SystemExit(f"imported {result.count} of {args.n}")
    run = {**result.stages, "total": result.seconds}
    run.update({f"{k}_cpu": v for k, v in result.cpu.items()})
    run["total_cpu"] = sum(result.cpu.values())
    if getattr(args, "index", False):
        with store.sessions() as session:
            areas = AreaIndex.from_session(session)
        t0, c0 = time.perf_counter(), time.process_time()
        index = MatchIndex.from_store(store, areas)
        run["index"], run["index_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        if index.n != args.n:
            raise SystemExit(f"the index holds {index.n} of {args.n} spaces")
    return run


def figures(runs: list[dict], base: float, path: Path, n: int) -> dict:
    """Medians of the runs, rounded, with the names the JSON has always used."""
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out = {
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "read_s": round(median["read"], 3),
        "validate_s": round(median["validate"], 3),
        "insert_s": round(median["write"], 3),
        "total_s": round(median["total"], 3),
        "read_cpu_s": round(median["read_cpu"], 3),
        "validate_cpu_s": round(median["validate_cpu"], 3),
        "insert_cpu_s": round(median["write_cpu"], 3),
        "total_cpu_s": round(median["total_cpu"], 3),
        "baseline_read_dataframe_s": round(base, 3),
        "ratio_to_baseline": round(median["total"] / base, 2),
        "points_per_s": round(n / median["total"]),
    }
    if "index" in median:
        out["index_s"] = round(median["index"], 3)
        out["index_cpu_s"] = round(median["index_cpu"], 3)
    return out


def run(args: argparse.Namespace) -> dict:
    records = read_shipped_areas()
    index = area_index(records)
    load_before = os.getloadavg()
    started = time.perf_counter()
    frame = make_points(args.n, args.seed, index)
    generated = time.perf_counter() - started
    postgres = getattr(args, "postgres", None)
    out: dict = {
        "n": args.n,
        "seed": args.seed,
        "repeat": args.repeat,
        "generate_s": round(generated, 3),
        "formats": {},
    }
    backends = ["sqlite"] + (["postgresql"] if postgres else [])
    if postgres:
        out["postgres"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in args.formats.split(","):
            path = Path(tmp) / f"bench.{suffix}"
            pyogrio.write_dataframe(frame, path)
            for backend in backends:
                baseline, runs = [], []
                for i in range(args.repeat):
                    t0 = time.perf_counter()
                    pyogrio.read_dataframe(path)
                    baseline.append(time.perf_counter() - t0)
                    store = fresh_store(backend, tmp, f"{suffix}-{i}", postgres, records)
                    try:
                        runs.append(import_once(store, path, args))
                    finally:
                        store.dispose()
                result = figures(runs, statistics.median(baseline), path, args.n)
                out["formats" if backend == "sqlite" else "postgres"][suffix] = result
    out["host"] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_avg_before": [round(v, 2) for v in load_before],
        "load_avg_after": [round(v, 2) for v in os.getloadavg()],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of points (100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per format; median (3)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--formats", default="gpkg,geojson", help="comma-separated: gpkg, geojson (both)"
    )
    parser.add_argument(
        "--max-mb",
        type=float,
        default=None,
        help="raise the import's file size limit (1,000,000 points make a 230 MB GeoPackage)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="import into this PostgreSQL database too (its tables are dropped: a scratch one)",
    )
    parser.add_argument(
        "--index", action="store_true", help="time MatchIndex.from_store after each import"
    )
    parser.add_argument("--progress", action="store_true", help="show the import's progress bar")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result))
        return
    host = result["host"]
    print(
        f"{args.n:,} points inside real buurten, EPSG:28992, median of {args.repeat} runs "
        f"({host['date']}, {host['cpu']}, load {host['load_avg_before'][0]}); "
        f"generating took {result['generate_s']} s"
    )
    header = f"{'store':10} {'format':7} {'MB':>6} {'read':>13} {'validate':>13} {'insert':>13}"
    print(header + f" {'total':>13} {'index':>13} {'baseline':>9} {'ratio':>6}")
    tables = [("sqlite", result["formats"]), ("postgresql", result.get("postgres", {}))]
    for store, formats in tables:
        for name, r in formats.items():
            cells = [
                f"{r[f'{k}_s']:6.2f}/{r[f'{k}_cpu_s']:6.2f}"
                for k in ("read", "validate", "insert", "total")
            ]
            index = f"{r['index_s']:6.2f}/{r['index_cpu_s']:6.2f}" if "index_s" in r else "-"
            print(
                f"{store:10} {name:7} {r['file_mb']:6.1f} {' '.join(cells)} {index:>13} "
                f"{r['baseline_read_dataframe_s']:9.2f} {r['ratio_to_baseline']:6.2f}"
            )
    print(
        "seconds wall/CPU; baseline = pyogrio.read_dataframe of the same file; targets: "
        "100,000 points <= 20 s, 1,000,000 points (gpkg) <= 120 s, index <= 30 s"
    )


if __name__ == "__main__":
    main()
