#!/usr/bin/env bash
# Builds another revision of switchyard for a same-run comparison with this checkout:
#   npm run bench:baseline [-- REF [DIR]]        (default: main, .tmp/bench-REF)
#   npm run bench -- --node /usr/bin/node@DIR,node_modules/.bin/node
# DIR is a clone at REF (committed work only) with its own `npm ci` and build, so its dist/,
# dist-scripts/ and node_modules/ (undici 7 on main before issue 16) are the "before",
# whatever this checkout has moved to. Prints DIR on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
ref=${1:-main}
dir=${2:-.tmp/bench-${ref//\//-}}
sha=$(git rev-parse --verify "$ref^{commit}")
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
git clone --quiet . "$dir"
git -C "$dir" checkout --quiet --detach "$sha"
echo "building $ref ($sha) in $dir ..." >&2
# --engine-strict=false: an older revision may be installed by a newer Node, or the reverse.
(cd "$dir" && npm ci --no-audit --no-fund --engine-strict=false >&2 && npm run build --silent >&2)
echo "$dir"
