#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test of the map explorer
# (cmd/searchd/browser_test.go) when it is missing. Idempotent.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
echo "installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null || { echo "chromium did not install" >&2; exit 1; }
