#!/usr/bin/env bash
# Debian packages Inkstream needs. `--service` (scripts/run.sh): only what the running service uses — the CJK and
# colour-emoji fonts the card renderer draws with, and fontconfig to find them. Without it (scripts/test.sh): those
# plus Chromium (browser tests), Node (unit tests of the web UI's modules) and promtool (the alert-rule tests).
set -euo pipefail
missing=()
if [ "${1:-}" != "--service" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v node >/dev/null || missing+=(nodejs)
fi
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
command -v fc-match >/dev/null || missing+=(fontconfig)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi
if [ "${1:-}" != "--service" ] && ! command -v promtool >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: prometheus (for promtool)"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends prometheus
fi
