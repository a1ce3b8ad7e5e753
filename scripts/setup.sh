#!/usr/bin/env bash
# Set up orderbot on a fresh Debian machine: virtualenv, Python packages and, with --test,
# the servers and browser the test suite starts itself (Redis, PostgreSQL, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if [[ "${1:-}" == "--test" ]]; then
  command -v redis-server >/dev/null || need_apt+=(redis-server)
  command -v chromium >/dev/null || need_apt+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx)
  command -v openssl >/dev/null || need_apt+=(openssl)
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# The DejaVu font draws the PDFs (order confirmations, return labels) in every language.
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need_apt+=(fonts-dejavu-core)
if (( ${#need_apt[@]} )); then
  echo "setup: installing ${need_apt[*]} (apt)"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${need_apt[@]}" >/dev/null
fi

requirements=requirements.txt
[[ "${1:-}" == "--test" ]] && requirements=requirements-dev.txt
stamp=".venv/.installed-$(sha256sum requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)-$(basename $requirements)"
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
if [[ ! -f "$stamp" ]]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v WARNING || true
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements" 2>&1 | grep -v WARNING || true
  .venv/bin/python -m pip check >/dev/null
  touch "$stamp"
fi
