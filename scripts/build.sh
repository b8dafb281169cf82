#!/usr/bin/env bash
# Configures and builds comfyd into BUILD_DIR (default build/).
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# COMFYD_BUILD_TARGETS="comfyd comfyd-bridge" builds only those targets
# (what the ComfyUI package does when it builds an unbuilt checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
# Quiet unless it fails: then all of cmake's output, which names the
# missing package ("Package 'grpc' ... not found").
if ! out=$(cmake -S . -B "$dir" -G Ninja "$@" 2>&1); then
  printf '%s\n' "$out" >&2
  exit 1
fi
# shellcheck disable=SC2086 # a list of target names
ninja -C "$dir" ${COMFYD_BUILD_TARGETS:-}
