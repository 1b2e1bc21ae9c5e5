"""How quickly a newcomer's commands start: `flask --help`, `create-user`, and a second
`./scripts/run.sh` until the home page answers.

    python scripts/bench_startup.py [--runs 5] [--skip-run-sh]

Prints the median and range of each (wall seconds) and the import time of ``create_app`` split
by top-level package (``python -X importtime``), so a slow-down can be traced to the library
that caused it. Targets (issue 10): `--help` and `create-user` <= 1.5 s, a second run.sh <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = ROOT / ".venv" / "bin" / "flask"
PYTHON = ROOT / ".venv" / "bin" / "python"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_sh_start(env: dict[str, str]) -> float:
    """Seconds from starting ./scripts/run.sh until / answers (the venv is already installed)."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = started + 120
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise SystemExit("run.sh did not answer within 120 s")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait()


def import_profile(env: dict[str, str]) -> Counter[str]:
    code = "from spacematch import create_app; create_app()"
    out = subprocess.run(
        [str(PYTHON), "-X", "importtime", "-c", code], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    total: Counter[str] = Counter()
    for line in out.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            total[m.group(2).split(".")[0]] += int(m.group(1))
    return total


def report(name: str, values: list[float], target: float) -> None:
    med = statistics.median(values)
    print(f"{name:28s} median {med:5.2f} s  (min {min(values):.2f}, max {max(values):.2f})"
          f"  target <= {target:.1f} s  {'met' if med <= target else 'MISSED'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-run-sh", action="store_true")
    args = parser.parse_args()
    if not FLASK.exists():
        sys.exit("run ./scripts/run.sh once first (it creates .venv)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SPACEMATCH_INSTANCE_PATH": tmp,
               "SPACEMATCH_DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3"}  # fmt: skip
        subprocess.run([str(FLASK), "--app", "spacematch", "init-db"], cwd=ROOT, env=env,
                       check=True, capture_output=True)  # fmt: skip
        helps = [
            timed([str(FLASK), "--app", "spacematch", "--help"], env) for _ in range(args.runs)
        ]
        users = [
            timed([str(FLASK), "--app", "spacematch", "create-user", f"u{i}@example.org",
                   "--role", "officer", "--password", f"a long passphrase {i} x"], env)
            for i in range(args.runs)
        ]  # fmt: skip
        report("flask --help", helps, 1.5)
        report("flask create-user", users, 1.5)
        if not args.skip_run_sh:
            starts = [run_sh_start(env) for _ in range(args.runs)]
            report("second ./scripts/run.sh", starts, 5.0)
        profile = import_profile(env)
        print("create_app imports by package (s):", ", ".join(
            f"{k} {v / 1e6:.2f}" for k, v in profile.most_common(8)))  # fmt: skip
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
