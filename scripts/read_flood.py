#!/usr/bin/env python3
"""Read flood: do heavy anonymous reads slow the interactive API down? (issue 16)

For each setting -- the anonymous read budget on (``RATELIMIT_ANONYMOUS_READS``, the default)
and off (``SPACEMATCH_RATELIMIT_ENABLED=false``, what the probe found) -- the script:

1. prepares a fresh SQLite store through the CLI (``init-db``, ``demo``: 1,500 properties);
2. starts gunicorn (``--workers``, default 2 sync, ``create_server_app()``) on 127.0.0.1;
3. measures ``GET /api/areas?q=a`` (the area picker) on the quiet server: ``--probes`` requests
   one after the other, the median and p95;
4. lets ``--clients`` (default 4) anonymous clients loop for ``--seconds`` (default 10) on the
   heavy reads (``/ogc/collections/needs/items?limit=10000``, ``/ogc/collections/properties/
   items?limit=10000`` and ``/api/properties``) while the probe measures the area picker again;
5. reports both medians, their ratio, and what the flood got (200s, 429s, requests a second).

Target: with the budget on, the area picker's median under the flood stays within 3x its quiet
median. Exit 0 when met, 3 when missed (1: a crash). The client runs on the same machine, so a
busy machine skews both phases alike; run it when nothing else does. Only 127.0.0.1 is contacted.

    .venv/bin/python scripts/read_flood.py
    .venv/bin/python scripts/read_flood.py --json --seconds 20
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "/ogc/collections/needs/items?limit=10000",
    "/ogc/collections/properties/items?limit=10000",
    "/api/properties",
)
PROBE = "/api/areas?q=a"
TARGET_RATIO = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 30.0) -> tuple[int, float]:
    """Status and milliseconds of one GET on a new connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def env_for(url: str, workdir: Path, limited: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPACEMATCH_")}
    env.update(
        SPACEMATCH_DATABASE_URL=url,
        SPACEMATCH_SECRET_KEY="read-flood",
        SPACEMATCH_INSTANCE_PATH=str(workdir / "instance"),
        SPACEMATCH_RATELIMIT_ENABLED="true" if limited else "false",
    )
    return env


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def probe(port: int, count: int, pause: float = 0.02) -> list[float]:
    times = []
    for _ in range(count):
        status, ms = get(port, PROBE)
        if status == 200:
            times.append(ms)
        time.sleep(pause)
    return times


def flood_client(port: int, offset: int, seconds: float, results: Any) -> None:
    """Loop on the heavy reads for ``seconds`` (no pause, no back-off); report the statuses."""
    statuses: Counter = Counter()
    deadline = time.perf_counter() + seconds
    i = offset
    while time.perf_counter() < deadline:
        try:
            status, _ = get(port, HEAVY[i % len(HEAVY)], timeout=60)
        except OSError:
            status = 0
        statuses[status] += 1
        i += 1
    results.put(statuses)


def run(setting: str, store: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    limited = setting == "budget on"
    url = f"sqlite:///{store}"
    port = free_port()
    log = open(workdir / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class",
         "sync", "--bind", f"127.0.0.1:{port}", "spacematch.wsgi:create_server_app()"],
        cwd=ROOT, env=env_for(url, workdir, limited), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited; see " + log.name)
            try:
                if get(port, PROBE, timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer; see " + log.name)
            time.sleep(0.2)
        for path in (*HEAVY, PROBE):  # warm the caches of both workers (not counted)
            for _ in range(args.workers):
                get(port, path.replace("10000", "10"))
        quiet = probe(port, args.probes)

        # The flooding clients are processes of their own: as threads they would hold the
        # probe's GIL and inflate its figures.
        results: multiprocessing.Queue = multiprocessing.Queue()
        clients = [
            multiprocessing.Process(target=flood_client, args=(port, k, args.seconds, results))
            for k in range(args.clients)
        ]
        started = time.perf_counter()
        for client in clients:
            client.start()
        loaded: list[float] = []
        while time.perf_counter() - started < args.seconds:
            loaded += probe(port, 1)
        flood: Counter = Counter()
        for _ in clients:
            flood.update(results.get(timeout=120))
        for client in clients:
            client.join(timeout=30)
        elapsed = time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
    quiet_median, loaded_median = statistics.median(quiet), statistics.median(loaded)
    return {
        "quiet_ms": {"median": round(quiet_median, 1), "p95": round(percentile(quiet, 0.95), 1),
                     "n": len(quiet)},
        "flooded_ms": {"median": round(loaded_median, 1),
                       "p95": round(percentile(loaded, 0.95), 1), "n": len(loaded)},
        "ratio": round(loaded_median / quiet_median, 2),
        "flood": {"statuses": {str(k): v for k, v in sorted(flood.items())},
                  "per_second": round(sum(flood.values()) / elapsed, 1)},
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="read-flood-"))
    try:
        template = workdir / "template.sqlite3"
        for command in (["init-db"], ["demo"]):
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "spacematch", *command],
                cwd=ROOT, env=env_for(f"sqlite:///{template}", workdir, False), check=True,
                capture_output=True, timeout=600,
            )  # fmt: skip
        results = {}
        for setting in ("budget on", "budget off"):
            store = workdir / f"{setting.replace(' ', '-')}.sqlite3"
            shutil.copyfile(template, store)
            results[setting] = run(setting, store, args, workdir)
        load = os.getloadavg()
        report = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average": [round(v, 2) for v in load]},
            "config": vars(args), "results": results,
            "target": {"ratio_with_budget_at_most": TARGET_RATIO,
                       "met": results["budget on"]["ratio"] <= TARGET_RATIO},
        }  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for setting, r in report["results"].items():
            print(
                f"{setting:10}  /api/areas quiet median {r['quiet_ms']['median']} ms "
                f"(p95 {r['quiet_ms']['p95']}), under the flood {r['flooded_ms']['median']} ms "
                f"(p95 {r['flooded_ms']['p95']}): x{r['ratio']}; flood "
                f"{r['flood']['per_second']}/s {r['flood']['statuses']}"
            )
        print(f"target (budget on, <= x{TARGET_RATIO}): "
              f"{'met' if report['target']['met'] else 'MISSED'}; load average {load}")  # fmt: skip
    return 0 if report["target"]["met"] else 3


if __name__ == "__main__":
    sys.exit(main())
