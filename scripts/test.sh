#!/usr/bin/env bash
# Set up and run the whole test suite. The tests start (and stop) their own Redis and
# PostgreSQL servers and Chromium on 127.0.0.1; this script only installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
