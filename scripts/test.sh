#!/usr/bin/env bash
# The README's test command: install the package with its test dependencies into .venv, lint, and
# run the whole suite. Store-backed tests also run on PostgreSQL when
# SPACEMATCH_TEST_DATABASE_URL is set (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
