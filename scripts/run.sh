#!/usr/bin/env bash
# The README's first command: install, then start the service on the embedded default (SQLite + in-process worker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh --service  # fonts only: no Chromium, no Node
bash scripts/setup.sh
exec .venv/bin/inkstream serve "$@"
