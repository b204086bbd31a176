#!/usr/bin/env bash
# Regenerate the typed API client from the gateway's own schemas (no server, no database needed):
#   src/api/schema.d.ts    from the OpenAPI document (`neura openapi`), by openapi-typescript
#   src/api/realtime.d.ts  from the realtime JSON Schema (`neura schemas`), by json-schema-to-typescript
# With --check it regenerates into a temporary folder and fails when the committed files differ (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(cd .. && pwd)
NEURA=${NEURA:-$ROOT/.venv/bin/neura}
check=false
[ "${1:-}" = "--check" ] && check=true

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=src/api
$check && out=$work/out && mkdir -p "$out"

"$NEURA" openapi > "$work/openapi.json"
npx --no-install openapi-typescript "$work/openapi.json" -o "$out/schema.d.ts" --alphabetize >/dev/null
"$NEURA" schemas > "$work/realtime.json"
node scripts/realtime-types.mjs "$work/realtime.json" "$out/realtime.d.ts"

if $check; then
  status=0
  for f in schema.d.ts realtime.d.ts; do
    if ! diff -u "src/api/$f" "$out/$f" > "$work/$f.diff"; then
      echo "src/api/$f is out of date with the gateway's schema; run: npm run generate" >&2
      head -40 "$work/$f.diff" >&2
      status=1
    fi
  done
  [ $status = 0 ] && echo "generated API client: up to date"
  exit $status
fi
echo "wrote src/api/schema.d.ts and src/api/realtime.d.ts"
