#!/bin/sh
# Fan-out of session events across two cores on one PostgreSQL database
# (bench/pg_fanout.py): starts a private server (tests/postgres/cluster.sh),
# two cores of BUILD_DIR on it, and prints the per-token delay from core A's
# subscriber to core B's.
#   bench/pg_fanout.sh BUILD_DIR [WORDS [TOKEN_DELAY_MS]]
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [WORDS [TOKEN_DELAY_MS]]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/postgres/cluster.sh"
trap pg_cluster_stop EXIT
trap 'exit 130' INT TERM
pg_cluster_start
COMFYD_BIN="$build/core/comfyd" COMFYD_IT_PG=$PG_URI_FMT PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$here/pg_fanout.py" "$@"
