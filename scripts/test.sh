#!/usr/bin/env bash
# Set up and run the whole test suite. The tests start (and stop) their own Redis and
# PostgreSQL servers and Chromium on 127.0.0.1; this script only installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
# Types before tests: a type error stops the run (what is checked and how strictly: the
# [tool.mypy] section of pyproject.toml).
.venv/bin/mypy
# Three workers on the two cores (a third of the suite's time is waiting: leases, servers
# starting, browsers; README "Tests" has the timings), each with its own Redis, PostgreSQL,
# Chromium and ports; a file's tests stay on one worker so that its module fixtures start
# once. The files go out in the order collected (tests/conftest.py puts the long ones
# first), not xdist's by number of tests, which left the few long tests of real processes
# to the end. Arguments come last, so `bash scripts/test.sh -n 0 tests/unit` runs serially.
exec .venv/bin/python -m pytest -n "${ORDERBOT_TEST_WORKERS:-3}" --dist loadfile \
    --no-loadscope-reorder "$@"
