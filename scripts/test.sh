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

# Lint, format check, unused code (knip), layering (dependency-cruiser) and the tests' types, before
# the tests; a failure counts as one failed check in the closing line, and the tests still run.
lint_failed=0
npm run lint --silent || { echo "scripts/test.sh: npm run lint failed (npm run format fixes formatting)" >&2; lint_failed=1; }

npm run build --silent || exit 1

mkdir -p .tmp
rm -f .tmp/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
status=$?

[ $lint_failed = 1 ] && status=1
if [ -f .tmp/vitest.json ]; then
  LINT_FAILED=$lint_failed node -e '
    const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    const failed = r.numFailedTests + Number(process.env.LINT_FAILED);
    console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (r.numTotalTests === 0) process.exitCode = 1;
  ' || status=1
else
  echo "0 passed, $((1 + lint_failed)) failed"
  status=1
fi
exit $status
