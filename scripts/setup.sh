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
