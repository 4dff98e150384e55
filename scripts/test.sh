#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds, runs every test with
# vitest, and ends with one plain line of counts: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh --system || exit 1
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
