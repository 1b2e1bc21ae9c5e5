"""How quickly a newcomer's commands start: `flask --help`, `create-user`, and a second
`./scripts/run.sh` until the home page answers.

    python scripts/bench_startup.py [--runs 5] [--skip-run-sh] [--venv DIR] [--tree DIR ...]

Prints the median and range of each (wall seconds, and the child's CPU seconds: the machine is
shared, so CPU time is the steadier figure) and the import time of ``create_app`` split by
top-level package (``python -X importtime``), so a slow-down can be traced to the library that
caused it. Targets (issue 10): `--help` and `create-user` <= 1.5 s, a second run.sh <= 5 s.

``--venv`` takes the interpreter and ``flask`` from another virtualenv (default: ``.venv`` of
this checkout, else the interpreter running this script). ``--tree`` (repeatable) times another
checkout of spacematch with the same interpreter, put first on PYTHONPATH: runs alternate between
the trees, so a before/after comparison sees the same load. Byte code goes to one cache folder
(PYTHONPYCACHEPREFIX; PYTHONDONTWRITEBYTECODE is dropped) and every tree is started once before
timing, so no run pays for compiling (a newcomer's second command does not either).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
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


def timed(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall and CPU (user + system of the child) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


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


def import_profile(python: Path, env: dict[str, str], cwd: Path = ROOT) -> Counter[str]:
    code = "from spacematch import create_app; create_app()"
    out = subprocess.run(
        [str(python), "-X", "importtime", "-c", code], cwd=cwd, env=env,
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    total: Counter[str] = Counter()
    for line in out.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            total[m.group(2).split(".")[0]] += int(m.group(1))
    return total


def report(name: str, values: list[tuple[float, float]], target: float) -> None:
    walls = [w for w, _ in values]
    med = statistics.median(walls)
    cpu = statistics.median(c for _, c in values)
    print(f"{name:40s} median {med:5.2f} s  (min {min(walls):.2f}, max {max(walls):.2f})"
          f"  cpu {cpu:5.2f} s  target <= {target:.1f} s"
          f"  {'met' if med <= target else 'MISSED'}")  # fmt: skip


def interpreter(venv: str | None) -> tuple[Path, Path]:
    """python and flask of the chosen virtualenv."""
    if venv:
        bin_dir = Path(venv) / "bin"
    elif (ROOT / ".venv" / "bin" / "flask").exists():
        bin_dir = ROOT / ".venv" / "bin"
    else:
        bin_dir = Path(sys.executable).parent
    python, flask = bin_dir / "python", bin_dir / "flask"
    if not flask.exists():
        sys.exit(f"no flask in {bin_dir}: run ./scripts/run.sh once first (it creates .venv)")
    return python, flask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-run-sh", action="store_true")
    parser.add_argument("--venv", help="virtualenv whose python and flask to use")
    parser.add_argument("--tree", action="append", default=[], help="another checkout to time")
    args = parser.parse_args()
    python, flask = interpreter(args.venv)
    trees = [ROOT, *(Path(t).resolve() for t in args.tree)]
    with tempfile.TemporaryDirectory() as tmp:
        envs = {}
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for n, tree in enumerate(trees):
            envs[tree] = {**base, "SPACEMATCH_INSTANCE_PATH": f"{tmp}/i{n}",
                          "SPACEMATCH_DATABASE_URL": f"sqlite:///{tmp}/bench{n}.sqlite3",
                          "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": f"{tmp}/pyc"}  # fmt: skip
            subprocess.run([str(flask), "--app", "spacematch", "init-db"], cwd=tree,
                           env=envs[tree], check=True, capture_output=True)  # fmt: skip
            timed([str(flask), "--app", "spacematch", "--help"], envs[tree], tree)  # warm-up
        helps: dict[Path, list[tuple[float, float]]] = {t: [] for t in trees}
        users: dict[Path, list[tuple[float, float]]] = {t: [] for t in trees}
        for i in range(args.runs):
            for tree in trees:
                helps[tree].append(timed([str(flask), "--app", "spacematch", "--help"],
                                         envs[tree], tree))  # fmt: skip
            for tree in trees:
                users[tree].append(timed(
                    [str(flask), "--app", "spacematch", "create-user", f"u{i}@example.org",
                     "--role", "officer", "--password", f"a long passphrase {i} x"],
                    envs[tree], tree))  # fmt: skip
        for tree in trees:
            label = "" if len(trees) == 1 else f" [{tree.name}]"
            report("flask --help" + label, helps[tree], 1.5)
            report("flask create-user" + label, users[tree], 1.5)
        if not args.skip_run_sh:
            # CPU of a server left running is not measured: nan.
            starts = [(run_sh_start(envs[ROOT]), float("nan")) for _ in range(args.runs)]
            report("second ./scripts/run.sh", starts, 5.0)
        for tree in trees:
            profile = import_profile(python, envs[tree], tree)
            print(f"create_app imports by package (s) [{tree.name}]:", ", ".join(
                f"{k} {v / 1e6:.2f}" for k, v in profile.most_common(8)))  # fmt: skip
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
