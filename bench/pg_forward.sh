#!/bin/sh
# The cost of a forwarded graph command against a local one (bench/pg_forward.py):
# starts a private PostgreSQL server (tests/postgres/cluster.sh), two cores
# of BUILD_DIR with a bridge each and a headless editor (tests/graph, its
# node_modules installed) attached through bridge A, and prints the round
# trips of get_graph and move_node through bridge A and through bridge B.
#   bench/pg_forward.sh BUILD_DIR [COMMANDS]
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [COMMANDS]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$here/../tests/graph/node_modules/@comfyorg/litegraph/package.json" ]; then
    (cd "$here/../tests/graph" && npm ci --no-audit --no-fund --loglevel=error)
fi
. "$here/../tests/postgres/cluster.sh"
trap pg_cluster_stop EXIT
trap 'exit 130' INT TERM
pg_cluster_start
COMFYD_BIN="$build/core/comfyd" COMFYD_IT_PG=$PG_URI_FMT PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$here/pg_forward.py" "$@"
