#!/usr/bin/env bash
# The web app's checks, as CI runs them: the generated API client matches the gateway's schemas,
# types (tsc --noEmit), lint (ESLint), a production build (next build), then the browser tests.
#
#   frontend/scripts/check.sh                 the CI set of browser flows (tagged @ci)
#   NEURA_E2E_ARGS= frontend/scripts/check.sh  every flow (also: frontend/scripts/e2e.sh [args])
#
# Without Chromium the browser tests are skipped with a note, unless NEURA_REQUIRE_E2E=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
if ! command -v npm >/dev/null 2>&1; then
  echo "web app: Node.js 20+ is needed for its checks (npm not found)" >&2
  exit 69
fi
bash scripts/install.sh
started=$(date +%s)
bash scripts/generate-api.sh --check
npx --no-install tsc --noEmit
npx --no-install eslint --max-warnings 0 .
npx --no-install prettier --check . >/dev/null || { echo "web app: run npm run format" >&2; npx --no-install prettier --check . | tail -20; exit 1; }
echo "web app: types and lint clean"
npx --no-install next build > .next-build.log 2>&1 || { tail -40 .next-build.log >&2; exit 1; }
rm -f .next-build.log
echo "web app: production build done ($(( $(date +%s) - started )) s so far)"
if [ ! -x "${NEURA_E2E_CHROMIUM:-/usr/bin/chromium}" ] && [ "${NEURA_REQUIRE_E2E:-0}" != 1 ]; then
  echo "web app: browser tests skipped: no Chromium at ${NEURA_E2E_CHROMIUM:-/usr/bin/chromium} (Debian: apt-get install -y chromium)"
  exit 0
fi
if [ -n "${NEURA_E2E_ARGS+set}" ]; then
  read -ra flows <<< "$NEURA_E2E_ARGS"
else
  flows=(--grep @ci)
fi
bash scripts/e2e.sh ${flows[@]+"${flows[@]}"}
echo "web app: checks done in $(( $(date +%s) - started )) s"
