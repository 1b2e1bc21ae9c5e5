"""Benchmark a whole-city vastgoed import: N units in the v2 export's shape, with the preset.

Run from the repository root:

    .venv/bin/python scripts/bench_whole_city.py               # 100,000 units, 3 runs
    .venv/bin/python scripts/bench_whole_city.py -n 20000 --repeat 1 --json

It generates N units (seeded) in the shape of ``gemeentelijk_vastgoed/verhuurbareEenheden`` v2
(prgSubobjectid, address parts, contractNummers, bagVerblijfsobjectIds as GDAL string lists):
about half dwellings and a tenth parking places (skipped), a fifth of the rest let, 2% of an
unknown kind, 1% a few metres outside the buurt polygons (snapped) and 1% far outside (kept
outside the city). It writes a GeoPackage in RD New and imports it with
``import_layer(preset="amsterdam-vastgoed")`` into a fresh SQLite store per run, then prints the
median seconds per stage and, as a machine-independent figure, the ratio to a plain
``pyogrio.read_dataframe`` of the same file. The report's counts are checked against the
generated ones.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spacematch.db import Store  # noqa: E402
from spacematch.domain.areas import load_areas, read_shipped_areas  # noqa: E402
from spacematch.ingest.importer import import_layer  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "scripts" / "bench_import.py")
bench_import = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(bench_import)  # type: ignore[union-attr]

KINDS = ["Bedrijfsruimte", "Kantoor", "Winkelruimte", "Atelier", "Maatschappelijk", "Horeca",
         "Opslagruimte"]  # fmt: skip


def make_units(n: int, seed: int, index) -> tuple:
    rng = np.random.default_rng(seed)
    base = bench_import.make_points(n, seed, index)
    x, y = base.geometry.x.to_numpy().copy(), base.geometry.y.to_numpy().copy()
    roll = rng.random(n)
    kind = np.array(KINDS, dtype=object)[rng.integers(0, len(KINDS), n)]
    kind[roll < 0.5] = "Woning"
    kind[(roll >= 0.5) & (roll < 0.6)] = "Parkeerplaats"
    unknown = (roll >= 0.6) & (roll < 0.62)
    kind[unknown] = "Kiosk"
    offered_kind = roll >= 0.62
    let = offered_kind & (rng.random(n) < 0.2)
    # Border and outside points: shift a point beyond the union's outline.
    union = shapely.union_all(index.buurt_geoms)
    parts = shapely.get_parts(union)
    outline = max(parts, key=lambda g: g.area).exterior  # the city's main outline
    near_out = offered_kind & ~let & (rng.random(n) < 0.012)
    far_out = offered_kind & ~let & ~near_out & (rng.random(n) < 0.012)
    centre = np.array(shapely.centroid(outline).coords[0])
    for mask, metres in ((near_out, 10.0), (far_out, 2000.0)):
        at = np.flatnonzero(mask)
        edge = shapely.line_interpolate_point(outline, rng.random(len(at)), normalized=True)
        ex, ey = shapely.get_x(edge), shapely.get_y(edge)
        d = np.column_stack([ex - centre[0], ey - centre[1]])
        d /= np.linalg.norm(d, axis=1)[:, None]
        x[at], y[at] = ex + d[:, 0] * metres, ey + d[:, 1] * metres
    contracts = np.where(let, "(1:C-2020-1)", "(0:)")
    contracts[kind == "Woning"] = "(1:H-2001-1)"
    frame = base[["geometry"]].copy()
    frame["geometry"] = shapely.points(x, y)
    frame["prgSubobjectid"] = np.arange(1, n + 1)
    frame["vheNaam"] = base["name"].to_numpy()
    frame["straatnaam"] = "Benchstraat"
    frame["huisnummer"] = rng.integers(1, 400, n)
    frame["postcode"] = "1012AB"
    frame["vheSoort"] = kind
    frame["vvo"] = base["area_m2"].to_numpy()
    frame["contractNummers"] = contracts
    frame["bagVerblijfsobjectIds"] = [f"(1:0363010000{i:06d})" for i in range(n)]
    skipped = int(np.isin(kind, ["Woning", "Parkeerplaats"]).sum())
    # A far point may still land in another municipality's hole; the report is the judge.
    expected = {"skipped": skipped, "let": int(let.sum()), "unknown_kind": int(unknown.sum())}
    return frame, expected


def run(args: argparse.Namespace) -> dict:
    records = read_shipped_areas()
    index = bench_import.area_index(records)
    frame, expected = make_units(args.n, args.seed, index)
    out: dict = {"n": args.n, "seed": args.seed, "repeat": args.repeat, "expected": expected}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "eenheden.gpkg"
        pyogrio.write_dataframe(frame, path)
        baseline, runs = [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            pyogrio.read_dataframe(path)
            baseline.append(time.perf_counter() - t0)
            store = Store(f"sqlite:///{tmp}/store-{i}.sqlite")
            store.create_schema()
            with store.session() as session:
                load_areas(session, records)
            result = import_layer(
                store, path, layer="vastgoed", preset="amsterdam-vastgoed",
                mapping={"defaults": {"rent_eur_m2_year": 60.0}},
            )  # fmt: skip
            counts = result.report.counts
            for key, value in expected.items():
                if counts[key] != value:
                    raise SystemExit(f"{key}: report {counts[key]}, generated {value}")
            if sum(counts[k] for k in ("imported", "let", "unknown_kind", "skipped")) != args.n:
                raise SystemExit("the report's outcomes do not add up to the file's features")
            runs.append({**result.stages, "total": result.seconds})
            out["counts"] = counts
            store.dispose()
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        base = statistics.median(baseline)
        out.update(
            file_mb=round(path.stat().st_size / 1e6, 1),
            read_s=round(median["read"], 3),
            validate_s=round(median["validate"], 3),
            insert_s=round(median["write"], 3),
            total_s=round(median["total"], 3),
            baseline_read_dataframe_s=round(base, 3),
            ratio_to_baseline=round(median["total"] / base, 2),
            units_per_s=round(args.n / median["total"]),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of units (100000)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    out = run(args)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['n']:,} units, {out['file_mb']} MB GeoPackage, median of {out['repeat']} runs")
    print(f"report: {out['counts']}")
    for key in ("read_s", "validate_s", "insert_s", "total_s", "baseline_read_dataframe_s"):
        print(f"  {key:28s} {out[key]:8.3f}")
    print(f"  ratio to read_dataframe     {out['ratio_to_baseline']:8.2f}")
    print(f"  units per second            {out['units_per_s']:8,}")


if __name__ == "__main__":
    main()
