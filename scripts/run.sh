#!/usr/bin/env bash
# Sets up, builds and runs comfyd on its embedded defaults: data in ./var
# (SQLite), gRPC on unix:var/comfyd.sock and 127.0.0.1:50051, the offline
# echo provider. Extra arguments go to comfyd (see build/core/comfyd --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/core/comfyd --data ./var "$@"
