"""The planner page against a baseline in the same run: HTML bytes and server time.

    .venv/bin/python scripts/bench_planner.py                      # baseline: git ref b9e127d
    .venv/bin/python scripts/bench_planner.py --baseline-ref main --requests 50 --json
    .venv/bin/python scripts/bench_planner.py --baseline-path ../old-checkout \\
        --database-url postgresql://user:pw@127.0.0.1:5432/db

Both apps serve the same demo store (``--database-url``, prepared with ``flask setup``: schema,
areas, and the demo when it is empty; default a fresh SQLite file in a temporary folder), each in
its own process (werkzeug, one thread) with its own code on ``sys.path``: this checkout, and the
baseline (``--baseline-path``, else ``git worktree add --detach`` of ``--baseline-ref`` into a
temporary folder, removed afterwards). Each is logged in as a planner and warmed
(``--warm`` requests: the first builds the caches), then ``--requests`` requests of ``/planner``
alternate between the two, so both see the same machine load.

Reported per app: the page's HTML bytes, and p50 / p95 of the server's own time per request —
wall (``perf_counter``) and CPU (``thread_time`` of the thread that ran the request) measured
by a WSGI wrapper around the app in its process — and of the client's round trip; then the
ratios current / baseline; and the first (cold) request of each, which builds the caches. For
this checkout also the map data the page fetches (``/planner/monitor.geojson``, when it
exists): bytes and server p50. Nothing is hard-coded: every figure comes from the run.
Targets (issue 17): HTML <= 100 kB, server p50 <= 0.2x today's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLANNER = ("bench-planner@example.org", "bench planner password")
APP_CONFIG = {
    "SECRET_KEY": "bench-planner",
    "WTF_CSRF_ENABLED": False,  # the client posts the login form directly
    "RATELIMIT_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1
    "TILES_URL": "http://127.0.0.9:9/{z}/{x}/{y}.png",
}


# -- the server side (run as: bench_planner.py --serve CODE_DIR --database-url URL) ------------


def serve(code: Path, database_url: str) -> None:
    """Serve ``code``'s app on a free port (printed as ``PORT n``), one request at a time, with
    the request's server wall and CPU time in response headers."""
    sys.path.insert(0, str(code))
    from werkzeug.serving import make_server

    from spacematch import create_app

    app = create_app({"DATABASE_URL": database_url, **APP_CONFIG})

    def timed(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        wall, cpu = time.perf_counter(), time.thread_time()
        result = app.wsgi_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        headers = [*captured["headers"], ("X-Bench-Wall-Ms", f"{wall * 1000:.3f}"),
                   ("X-Bench-Cpu-Ms", f"{cpu * 1000:.3f}")]  # fmt: skip
        start_response(captured["status"], headers)
        return [body]

    server = make_server("127.0.0.1", 0, timed, threaded=False)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


# -- the client side ---------------------------------------------------------------------------


class Client:
    """HTTP to one app, keeping its session cookie."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: str | None = None
    ) -> tuple[int, dict[str, str], bytes, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"Accept-Language": "nl"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, elapsed

    def login(self) -> None:
        form = urllib.parse.urlencode({"email": PLANNER[0], "password": PLANNER[1]})
        status, _, body, _ = self.request("POST", "/login", form)
        if status != 302:
            raise SystemExit(f"login failed on port {self.port}: {status} {body[:200]!r}")


@contextmanager
def running(code: Path, database_url: str, name: str) -> Iterator[Client]:
    """One app's server process, for the duration of the block."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(code),
         "--database-url", database_url],
        stdout=subprocess.PIPE, text=True, cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
    )  # fmt: skip
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = re.match(r"PORT (\d+)", line)
        if not match:
            raise SystemExit(f"{name} app did not start (exit {process.poll()}): {line!r}")
        client = Client(int(match.group(1)))
        client.login()
        yield client
    finally:
        process.terminate()
        process.wait(timeout=30)


def prepare_store(database_url: str) -> None:
    """``flask setup`` with this checkout (schema, areas, the demo if empty), and the planner."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPACEMATCH_DATABASE_URL": database_url,
           "SPACEMATCH_SECRET_KEY": APP_CONFIG["SECRET_KEY"]}  # fmt: skip
    flask = [sys.executable, "-m", "flask", "--app", "spacematch"]
    subprocess.run([*flask, "setup"], env=env, cwd=ROOT, check=True, stdout=sys.stderr)
    subprocess.run([*flask, "create-user", PLANNER[0], "--role", "planner", "--password",
                    PLANNER[1]], env=env, cwd=ROOT, check=True, stdout=sys.stderr)  # fmt: skip


@contextmanager
def baseline_checkout(ref: str) -> Iterator[Path]:
    """``ref`` checked out (detached) into a temporary git worktree, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-planner-") as tmp:
        path = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
                       check=True, stdout=sys.stderr, stderr=sys.stderr)  # fmt: skip
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                           check=False, stdout=sys.stderr, stderr=sys.stderr)  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[tuple[float, float, float]], html: bytes) -> dict[str, Any]:
    """p50 / p95 of server wall, server CPU and client round trip (ms), and the page's bytes."""
    out: dict[str, Any] = {"html_bytes": len(html), "requests": len(samples)}
    for i, name in enumerate(("server_wall", "server_cpu", "client")):
        values = [s[i] for s in samples]
        out[f"{name}_p50_ms"] = round(statistics.median(values), 2)
        out[f"{name}_p95_ms"] = round(percentile(values, 0.95), 2)
    return out


def timed_get(client: Client, path: str) -> tuple[tuple[float, float, float], bytes]:
    status, headers, body, elapsed = client.request("GET", path)
    if status != 200:
        raise SystemExit(f"GET {path} on port {client.port}: {status}")
    wall, cpu = float(headers["x-bench-wall-ms"]), float(headers["x-bench-cpu-ms"])
    return (wall, cpu, elapsed * 1000), body


def git_describe(path: Path) -> str:
    sha = subprocess.run(["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    dirty = subprocess.run(
        ["git", "-C", str(path), "status", "--porcelain", "--", "spacematch", "templates"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return f"{sha}{' (with uncommitted changes)' if dirty else ''}"


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(
            (ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), ""
        )
    return (f"{os.cpu_count()} vCPU {model or platform.processor()} ({platform.machine()}), "
            f"Python {platform.python_version()}")  # fmt: skip


def measure(current: Client, baseline: Client, args: argparse.Namespace) -> dict[str, Any]:
    """Warm both, then alternate timed requests of the page; the map data of the current app."""
    first = {}  # the first request builds the caches: what a page costs after a data change
    for i in range(max(args.warm, 1)):
        for name, client in (("current", current), ("baseline", baseline)):
            sample, _ = timed_get(client, args.path)
            if i == 0:
                first[name] = {"server_wall_ms": round(sample[0], 1),
                               "server_cpu_ms": round(sample[1], 1)}  # fmt: skip
    samples: dict[str, list[tuple[float, float, float]]] = {"current": [], "baseline": []}
    pages: dict[str, bytes] = {}
    for i in range(args.requests):
        order = (("current", current), ("baseline", baseline))
        for name, client in order if i % 2 == 0 else order[::-1]:
            sample, pages[name] = timed_get(client, args.path)
            samples[name].append(sample)
    result = {name: summary(samples[name], pages[name]) for name in samples}
    for name in result:
        result[name]["first_request"] = first[name]
    urls = re.findall(rb'"(/planner/monitor\.geojson[^"]*)"', pages["current"])
    if urls:
        url = json.loads(b'"' + urls[0] + b'"')
        timed_get(current, url)  # warm
        data = [timed_get(current, url) for _ in range(max(5, args.requests // 3))]
        result["current"]["map_data"] = {"path": url, **summary([d[0] for d in data], data[-1][1])}
    return result


@contextmanager
def _given(path: Path) -> Iterator[Path]:
    """A checkout given by path: used as it is, left in place."""
    yield path.resolve()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-ref", default="b9e127d", help="git ref (default b9e127d)")
    parser.add_argument("--baseline-path", type=Path, help="a checkout to use instead of a ref")
    parser.add_argument("--database-url", help="the demo store (default: a fresh SQLite file)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per app")
    parser.add_argument("--warm", type=int, default=3, help="untimed requests per app first")
    parser.add_argument("--path", default="/planner", help="the page (default /planner)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.database_url)
        return {}

    with tempfile.TemporaryDirectory(prefix="bench-planner-store-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/demo.sqlite3"
        prepare_store(database_url)
        with (
            baseline_checkout(args.baseline_ref)
            if args.baseline_path is None
            else _given(args.baseline_path) as baseline_code,
            running(ROOT, database_url, "current") as current,
            running(baseline_code, database_url, "baseline") as baseline,
        ):
            baseline_name = git_describe(baseline_code)
            started = time.perf_counter()
            result = measure(current, baseline, args)
            elapsed = time.perf_counter() - started
    cur, base = result["current"], result["baseline"]
    figures: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "store": "sqlite (fresh demo)" if args.database_url is None else database_url.split(":")[0],
        "path": args.path,
        "current_code": git_describe(ROOT),
        "baseline_code": baseline_name,
        "measure_s": round(elapsed, 1),
        "current": cur,
        "baseline": base,
        "html_ratio": round(cur["html_bytes"] / base["html_bytes"], 3),
        "server_wall_p50_ratio": round(cur["server_wall_p50_ms"] / base["server_wall_p50_ms"], 3),
        "server_cpu_p50_ratio": round(cur["server_cpu_p50_ms"] / base["server_cpu_p50_ms"], 3),
        "client_p50_ratio": round(cur["client_p50_ms"] / base["client_p50_ms"], 3),
    }
    figures["targets"] = {
        "html_bytes_le_100kB": cur["html_bytes"] <= 100_000,
        "server_wall_p50_le_0.2x": figures["server_wall_p50_ratio"] <= 0.2,
        "server_cpu_p50_le_0.2x": figures["server_cpu_p50_ratio"] <= 0.2,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        report(figures)
    return figures


def report(f: dict[str, Any]) -> None:
    cur, base = f["current"], f["baseline"]
    print(f"planner page {f['path']}, {f['date']}, {f['machine']}, load {f['load_average']}")
    print(f"  current {f['current_code']} against baseline {f['baseline_code']}, {f['store']}, "
          f"{cur['requests']} requests each, alternating")  # fmt: skip
    print(f"  {'':22s}{'current':>12s}{'baseline':>12s}{'ratio':>9s}")
    print(f"  {'HTML bytes':22s}{cur['html_bytes']:>12,}{base['html_bytes']:>12,}"
          f"{f['html_ratio']:>9.3f}   (target <= 100,000 bytes)")  # fmt: skip
    for key, label, ratio in (
        ("server_wall", "server wall", "server_wall_p50_ratio"),
        ("server_cpu", "server CPU", "server_cpu_p50_ratio"),
        ("client", "client round trip", "client_p50_ratio"),
    ):
        target = "   (target <= 0.2)" if key != "client" else ""
        p50 = f"{cur[key + '_p50_ms']:>12.1f}{base[key + '_p50_ms']:>12.1f}"
        print(f"  {label + ' p50 ms':22s}{p50}{f[ratio]:>9.3f}{target}")
        print(
            f"  {label + ' p95 ms':22s}{cur[key + '_p95_ms']:>12.1f}{base[key + '_p95_ms']:>12.1f}"
        )
    print(f"  {'first request (cold)':22s}{cur['first_request']['server_wall_ms']:>12.1f}"
          f"{base['first_request']['server_wall_ms']:>12.1f}   server wall ms; CPU "
          f"{cur['first_request']['server_cpu_ms']:.1f} / "
          f"{base['first_request']['server_cpu_ms']:.1f} ms")  # fmt: skip
    data = cur.get("map_data")
    if data:
        print(f"  map data {data['path']}: {data['html_bytes']:,} bytes, server wall p50 "
              f"{data['server_wall_p50_ms']:.1f} ms, CPU p50 "
              f"{data['server_cpu_p50_ms']:.1f} ms")  # fmt: skip
    print(f"  targets: {f['targets']}")


if __name__ == "__main__":
    main()
