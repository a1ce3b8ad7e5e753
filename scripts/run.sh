#!/usr/bin/env bash
# Set up and run orderbot on the embedded default: SQLite, one process, demo shop at :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python bot.py "$@"
