"""The benchmark city in PostGIS, and the engine's per-need query as one SQL statement.

Used by ``scripts/benchmark.py --postgis URL``: the same properties (every status, the monthly
rent precomputed as the engine does) go into a table with a GiST index on their bounds; each
sampled need runs the same filter - score - top 20 as ``rank_properties``: the window (the
need's rectangles, through the GiST index), status, shared use, size, price and date limits,
step-free access, the meanwhile term, the place rules (preferred buurt, the point's distance,
adjacent buurt, distance to the preferred areas' union), the three scores, the weighted total
rounded to 6 decimals, and the tie-breaks (earlier availability, then lower id). Timed through
psycopg per need, fetch included; the answers are compared with the engine's.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence

import numpy as np
import psycopg
import shapely

from spacematch.matching import MatchIndex, NeedQuery, rank_properties
from spacematch.matching import criteria as crit

SRID = 28992
TABLE = "bench_property"


def load_city(conn: psycopg.Connection, ix: MatchIndex) -> float:
    """(Re)create the table from the index's arrays; returns the seconds it took."""
    t = time.perf_counter()
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}_raw")
    conn.execute(
        f"""CREATE UNLOGGED TABLE {TABLE}_raw (pos int, id text, x float8, y float8,
        minx float8, miny float8, maxx float8, maxy float8, area float8, rent float8, uses int,
        avail_from int, avail_until int, accessible bool, status text, buurt int)"""
    )
    until = np.where(ix.avail_until >= crit.PERMANENT, -1, ix.avail_until)
    columns = [
        np.arange(ix.n),
        ix.ids,
        ix.x,
        ix.y,
        *ix.bounds.T,
        ix.area,
        ix.rent,
        ix.uses,
        ix.avail_from,
        until,
        np.where(ix.accessible, "t", "f"),
        ix.status,
        ix.buurt,
    ]
    step = 200_000
    with conn.cursor() as cur, cur.copy(f"COPY {TABLE}_raw FROM STDIN") as copy:
        for start in range(0, ix.n, step):
            buf = io.StringIO()
            part = [np.asarray(c[start : start + step]) for c in columns]
            for row in zip(*[p.tolist() for p in part], strict=True):
                buf.write("\t".join(map(repr_sql, row)) + "\n")
            copy.write(buf.getvalue())
    conn.execute(
        f"""CREATE TABLE {TABLE} AS SELECT pos, id, x, y, area, rent, uses, avail_from,
        date '1970-01-01' + avail_from AS from_date,
        CASE WHEN avail_until < 0 THEN NULL ELSE date '1970-01-01' + avail_until END AS until,
        accessible, status, buurt,
        ST_MakeEnvelope(minx, miny, maxx, maxy, {SRID}) AS bounds,
        ST_SetSRID(ST_MakePoint(x, y), {SRID}) AS pt
        FROM {TABLE}_raw"""
    )
    conn.execute(f"DROP TABLE {TABLE}_raw")
    conn.execute(f"CREATE INDEX ON {TABLE} USING gist (bounds)")
    conn.execute(f"ANALYZE {TABLE}")
    conn.commit()
    return time.perf_counter() - t


def repr_sql(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def need_sql(ix: MatchIndex, need: NeedQuery, weights: np.ndarray) -> tuple[str, dict]:
    """The statement and parameters that rank one need's properties."""
    plan = ix.plan(need)
    params: dict = {
        "uses": crit.uses_mask(need.uses),
        "amin": 0.5 * need.min_area_m2,
        "amax": 2.0 * need.max_area_m2,
        "mn": need.min_area_m2,
        "mx": need.max_area_m2,
        "b": need.max_rent_eur_month,
        "latest": need.needed_from.toordinal() - 719_163 + crit.AVAILABLE_WITHIN_DAYS,
        "nf": need.needed_from,
        "months": need.min_months,
        "acc": need.accessible,
        "pref": np.flatnonzero(plan.preferred).tolist(),
        "adj": np.flatnonzero(plan.adjacent).tolist(),
        "haspt": plan.has_point,
        "px": plan.px if plan.has_point else 0.0,
        "py": plan.py if plan.has_point else 0.0,
        "d": plan.max_distance_m,
        "tol": shapely.to_wkb(plan.tolerance) if plan.tolerance is not None else None,
        "ws": float(weights[0]),
        "wp": float(weights[1]),
        "wl": float(weights[2]),
    }
    window = "TRUE"
    if not plan.anywhere:
        boxes = []
        for k, (a, b, c, d) in enumerate(plan.rects.tolist()):
            params.update({f"r{k}a": a, f"r{k}b": b, f"r{k}c": c, f"r{k}d": d})
            boxes.append(
                f"bounds && ST_MakeEnvelope(%(r{k}a)s, %(r{k}b)s, %(r{k}c)s, %(r{k}d)s, {SRID})"
            )
        window = "(" + " OR ".join(boxes or ["FALSE"]) + ")"
    anywhere = "TRUE" if plan.anywhere else "FALSE"
    tol = f"ST_GeomFromWKB(%(tol)s, {SRID})"
    sql = f"""
    WITH c AS (
      SELECT pos, id, avail_from, area, rent, pt, CASE
        WHEN {anywhere} THEN 5
        WHEN buurt = ANY(%(pref)s::int[]) THEN 1
        WHEN %(haspt)s AND sqrt((x - %(px)s) ^ 2 + (y - %(py)s) ^ 2) <= %(d)s THEN 2
        WHEN buurt = ANY(%(adj)s::int[]) THEN 3
        WHEN %(tol)s::bytea IS NOT NULL AND ST_DWithin({tol}, pt, %(d)s) THEN 4
        ELSE 0 END AS kind
      FROM {TABLE}
      WHERE {window} AND status = 'beschikbaar' AND (uses & %(uses)s) <> 0
        AND area >= %(amin)s AND area <= %(amax)s AND rent <= 1.5 * %(b)s::float8
        AND avail_from <= %(latest)s AND (accessible OR NOT %(acc)s)
        AND (until IS NULL OR until + 1 >=
             (greatest(%(nf)s::date, from_date) + %(months)s * interval '1 month')::date)
    ), s AS (
      SELECT pos, id, avail_from,
        least(greatest(least((area - 0.5 * %(mn)s) / greatest(0.5 * %(mn)s, 1e-12),
                             (2.0 * %(mx)s - area) / greatest(%(mx)s, 1e-12)), 0.0), 1.0) AS size,
        CASE WHEN rent <= %(b)s THEN 1.0 ELSE least(greatest(
             (1.5 * %(b)s - rent) / greatest(0.5 * %(b)s, 1e-12), 0.0), 1.0) END AS price,
        CASE WHEN kind IN (1, 2, 5) THEN 1.0 WHEN kind = 3 THEN 0.5
             ELSE least(greatest(0.5 * (1.0 - ST_Distance({tol}, pt)
                                        / greatest(%(d)s, 1e-12)), 0.0), 0.5) END AS place
      FROM c WHERE kind <> 0
    )
    SELECT id, round((%(ws)s * size + %(wp)s * price + %(wl)s * place)::numeric, 6) AS total
    FROM s ORDER BY total DESC, avail_from, pos LIMIT 20
    """
    return sql, params


def compare_postgis(
    url: str,
    ix: MatchIndex,
    needs: Sequence[NeedQuery],
    *,
    log: Callable[..., None] = print,
) -> dict:
    """Load the city, time each need's query, and compare the answers with the engine's."""
    weights = crit.normalise_weights()
    with psycopg.connect(url) as conn:
        load_s = load_city(conn, ix)
        log(f"PostGIS: loaded {ix.n:,} properties with a GiST index in {load_s:.1f} s")
        times, same = [], 0
        statements = [need_sql(ix, n, weights) for n in needs]
        for sql, params in statements[:20]:  # warm the cache and the prepared statements
            conn.execute(sql, params).fetchall()
        for need, (sql, params) in zip(needs, statements, strict=True):
            t = time.perf_counter()
            rows = conn.execute(sql, params).fetchall()
            times.append((time.perf_counter() - t) * 1000.0)
            ours = [m.property_id for m in rank_properties(ix, need, limit=20)]
            same += [r[0] for r in rows] == ours
    times_a = np.array(times)
    p50 = float(np.percentile(times_a, 50))
    log(
        f"PostGIS per need: p50 {p50:.2f} ms, p95 {np.percentile(times_a, 95):.2f} ms; "
        f"same top 20 as the engine on {same} of {len(needs)} needs"
    )
    return {
        "postgis_load_s": round(load_s, 2),
        "postgis_per_need_p50_ms": round(p50, 3),
        "postgis_per_need_p95_ms": round(float(np.percentile(times_a, 95)), 3),
        "postgis_needs": len(needs),
        "postgis_same": same,
    }
