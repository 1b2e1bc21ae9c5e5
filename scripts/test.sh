#!/usr/bin/env bash
# The README's test command: install the package with its test dependencies into .venv (when
# setup.cfg or pyproject.toml changed), lint, check the import contracts and the types, and run
# the whole suite. Store-backed tests also run on PostgreSQL when SPACEMATCH_TEST_DATABASE_URL
# is set (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv test
ensure_node_modules
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
