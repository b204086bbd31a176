#!/usr/bin/env bash
# Install the web app's packages exactly as locked (npm ci) when node_modules is missing or older
# than package-lock.json. Nothing is downloaded at build or run time after this.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
