#!/usr/bin/env bash
# Sets up, builds and runs comfyd and comfyd-bridge on their embedded
# defaults: data in ./var (SQLite), the offline echo provider, gRPC on
# unix:var/comfyd.sock and 127.0.0.1:50051, HTTP/WebSocket on
# 127.0.0.1:8189 (token in var/token). Ctrl+C stops both.
#   scripts/run.sh               core and bridge
#   scripts/run.sh --core-only   only comfyd
# COMFYD_* and COMFYD_BRIDGE_* environment variables configure both (see
# build/core/comfyd --help and build/bridge/comfyd-bridge --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
export PATH="$PWD/tools/node/bin:$PATH" # the Node of tools/node

data="${COMFYD_DATA:-./var}"
if [ "${1:-}" = "--core-only" ]; then
  exec build/core/comfyd --data "$data"
fi

build/core/comfyd --data "$data" &
core=$!
trap 'kill -TERM $core 2>/dev/null; wait $core 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 100); do
  [ -S "$data/comfyd.sock" ] && break
  kill -0 $core 2>/dev/null || { echo "run: comfyd exited" >&2; exit 1; }
  sleep 0.1
done
build/bridge/comfyd-bridge --data "$data" --core "unix:$data/comfyd.sock"
