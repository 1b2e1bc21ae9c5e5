#!/usr/bin/env bash
# The README's start command: install into .venv (only when setup.cfg or pyproject.toml changed
# since the last install), prepare the store (schema, the real areas, and the demo layers and
# needs when the store is empty -- never wiping anything), and serve http://127.0.0.1:${PORT:-5000}
# on the embedded SQLite store in instance/ (or SPACEMATCH_INSTANCE_PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv ""
ensure_node_modules
.venv/bin/flask --app spacematch setup
exec .venv/bin/flask --app spacematch run --host 127.0.0.1 --port "${PORT:-5000}"
