#!/usr/bin/env bash
# `npm start`: installs npm packages when missing, builds, and runs the gateway on the embedded
# defaults (config/gateway.yaml with rules from config/rules.yaml; no Redis needed).
set -euo pipefail
cd "$(dirname "$0")/.."
# Node 24 from npm ci (the `node` dev dependency), also when run as `bash scripts/start.sh`.
export PATH="$PWD/node_modules/.bin:$PATH"
bash scripts/ensure-deps.sh
npm run build --silent
exec node --max-semi-space-size=32 dist/cli.js gateway --config config/gateway.yaml "$@"
