#!/usr/bin/env bash
# The README's test command: install the package with its test dependencies into .venv, lint, and
# run the whole suite. Store-backed tests also run on PostgreSQL when
# SPACEMATCH_TEST_DATABASE_URL is set (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The design system's CSS the app serves and axe-core for the browser tests, exactly as locked.
npm ci --no-audit --no-fund
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
