#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds, runs every test with
# vitest, and ends with one plain line of counts: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# Node 24 comes from npm ci (the `node` dev dependency), whatever the system Node is. npm scripts
# put node_modules/.bin first on PATH already; this makes `bash scripts/test.sh` do the same.
export PATH="$PWD/node_modules/.bin:$PATH"

bash scripts/ensure-deps.sh --system || exit 1

node_version=$(node --version) || exit 1
echo "node $node_version ($(command -v node))"
major=${node_version#v}
major=${major%%.*}
if [ "$major" -lt 22 ]; then
  echo "scripts/test.sh: Node $node_version is too old: switchyard needs >= 22.19 (package.json engines)." >&2
  echo "npm ci should have put Node 24 in node_modules/.bin (the \`node\` dev dependency): was its install script skipped (ignore-scripts)?" >&2
  exit 1
fi

npm run build --silent || exit 1

mkdir -p .tmp
rm -f .tmp/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
status=$?

if [ -f .tmp/vitest.json ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (r.numTotalTests === 0) process.exitCode = 1;
  ' || status=1
else
  echo "0 passed, 0 failed"
  status=1
fi
exit $status
