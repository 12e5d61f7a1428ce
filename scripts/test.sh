#!/usr/bin/env bash
# The README's second command: install everything, then lint and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
bash scripts/services.sh
bash scripts/setup.sh
.venv/bin/ruff check inkstream tests
.venv/bin/mypy inkstream
.venv/bin/pytest "$@"
