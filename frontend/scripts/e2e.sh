#!/usr/bin/env bash
# The browser tests: the whole product (PostgreSQL database, Redis, gateway, worker, a fake
# OpenAI-compatible language model and `next start`) driven by Playwright in Debian's Chromium.
#
#   frontend/scripts/e2e.sh [playwright test args...]     e.g. --grep @ci, or e2e/live.spec.ts
#
# Everything runs in a private network namespace (`unshare -n`) where only 127.0.0.1 exists, so no
# packet can leave the machine (WebRTC candidates included). PostgreSQL is reached through its Unix
# socket there; Redis is a private redis-server. Set NEURA_E2E_NETNS=0 to run in the host's network
# (then PostgreSQL over TCP and NEURA_TEST_REDIS_URL's Redis database).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(cd .. && pwd)
export NEXT_TELEMETRY_DISABLED=1
CHROMIUM=${NEURA_E2E_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "e2e: Chromium not found at $CHROMIUM (Debian: apt-get install -y chromium)" >&2
  exit 69
fi
if [ ! -f .next/BUILD_ID ] || [ -n "$(find src next.config.ts package.json -newer .next/BUILD_ID -print -quit)" ]; then
  npx --no-install next build >/dev/null
fi
artifacts=e2e/artifacts
mkdir -p "$artifacts"
run=(npx --no-install playwright test -c e2e/playwright.config.ts "$@")
if [ "${NEURA_E2E_NETNS:-1}" = 1 ]; then
  socket_dir=${NEURA_E2E_PG_SOCKET_DIR:-/var/run/postgresql}
  export NEURA_E2E_PG_ADMIN_URL=${NEURA_E2E_PG_ADMIN_URL:-"postgresql://postgres@/postgres?host=$socket_dir"}
  ns=(unshare -n)
  [ "$(id -u)" = 0 ] || ns=(unshare -rn)
  exec "${ns[@]}" -- bash -c 'ip link set lo up && exec "$@"' _ \
    "$ROOT/.venv/bin/python" e2e/stack.py --spawn-redis --logs "$artifacts/stack" -- "${run[@]}"
fi
exec "$ROOT/.venv/bin/python" e2e/stack.py --logs "$artifacts/stack" -- "${run[@]}"
