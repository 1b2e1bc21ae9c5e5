#!/usr/bin/env bash
# The README's start command: install into .venv, prepare the store (schema, the real areas, and
# the demo layers and needs when the store is empty -- never wiping anything), and serve
# http://127.0.0.1:5000 on the embedded SQLite store in instance/.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
# The design system's CSS the app serves and axe-core for the browser tests, exactly as locked.
npm ci --no-audit --no-fund
.venv/bin/flask --app spacematch setup
exec .venv/bin/flask --app spacematch run --host 127.0.0.1 --port "${PORT:-5000}"
