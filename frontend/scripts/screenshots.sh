#!/usr/bin/env bash
# Copy the screenshots the browser tests took (every page, desktop and phone, light and dark) to
# docs/screenshots/, the folder the README links. Run the tour first: scripts/e2e.sh tour
set -euo pipefail
cd "$(dirname "$0")/.."
from=e2e/artifacts/screenshots
to=../docs/screenshots
if [ ! -d "$from" ]; then
  echo "no screenshots yet: run scripts/e2e.sh tour" >&2
  exit 66
fi
mkdir -p "$to"
for folder in "$from"/*/; do
  name=$(basename "$folder")
  mkdir -p "$to/$name"
  cp "$folder"*.jpg "$to/$name/"
done
echo "copied $(find "$from" -name '*.jpg' | wc -l) screenshots to docs/screenshots/"
