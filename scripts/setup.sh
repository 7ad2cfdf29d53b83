#!/bin/sh
# Installs the npm dependencies when they are missing or older than package.json / the lockfile.
# `npm test` and `npm run demo` run this first, so a fresh clone needs no other step.
set -eu
cd "$(dirname "$0")/.."
# onnxruntime-node's install script would fetch CUDA providers from NuGet: useless on CPU, unreachable offline.
export ONNXRUNTIME_NODE_INSTALL=skip
stamp=node_modules/.ingest-installed
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  touch "$stamp"
fi
# The npm package `node` brings Node 24 into node_modules/.bin, where npm scripts find it first.
if ! node_modules/.bin/node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' 2>/dev/null; then
  echo "setup: node_modules/.bin/node is missing or older than 22.18; run 'npm ci' and check its output" >&2
  exit 1
fi
