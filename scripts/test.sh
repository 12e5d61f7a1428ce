#!/usr/bin/env bash
# The README's second command: install everything, then lint and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
bash scripts/services.sh
bash scripts/setup.sh
.venv/bin/ruff check inkstream tests
.venv/bin/mypy inkstream
if [ "$#" -gt 0 ]; then
  .venv/bin/pytest "$@"
  exit
fi
# Two workers, each test module whole on one of them (its servers and browser are module fixtures); then, alone,
# the tests that restart a service the others share (PostgreSQL).
.venv/bin/pytest -n "${TEST_WORKERS:-2}" --dist loadscope -m "not serial"
.venv/bin/pytest -m serial
