#!/bin/sh
# Regenerates README.md's config reference from the config structs (`mtag config reference --markdown`):
# everything between the config-reference markers is replaced. Usage: scripts/update_config_reference.sh [MTAG]
set -eu
cd "$(dirname "$0")/.."
mtag=${1:-build/mtag}
generated=$(mktemp)
trap 'rm -f "$generated" README.md.tmp' EXIT
"$mtag" config reference --markdown > "$generated"
awk -v gen="$generated" '
  /^<!-- config-reference:begin/ { print; while ((getline line < gen) > 0) print line; skip = 1; next }
  /^<!-- config-reference:end -->/ { skip = 0 }
  !skip { print }
' README.md > README.md.tmp
mv README.md.tmp README.md
