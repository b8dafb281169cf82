#!/bin/sh
# Runs the session and live-graph suites on PostgreSQL: starts a private
# server (tests/postgres/cluster.sh), runs tests/integration against comfyd
# with --store postgres://... (a database per comfyd data directory), with
# the PostgreSQL-only tests there (test_pg_*.py), then tests/graph (a
# database per stack) on the same server, and stops the server.
#   tests/postgres/run.sh BUILD_DIR [pytest args for tests/integration...]
# Needs Debian's postgresql package (initdb, pg_ctl, psql) besides what
# tests/integration/run.sh and tests/graph/run.sh need. Exits non-zero on
# any failure.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [pytest args...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)

. "$here/cluster.sh"
trap pg_cluster_stop EXIT
trap 'exit 130' INT TERM
pg_cluster_start
echo "postgres: server on $PG_DIR port $PG_PORT"

# The store's contract on this engine (tests/unit/test_store_pg.c), in a
# database whose collation is not byte order (ICU en-US, where "a" < "B"):
# ids must still sort as on SQLite.
psql -qAt -v ON_ERROR_STOP=1 "$(echo "$PG_URI_FMT" | sed 's/{db}/postgres/')" \
    -c "CREATE DATABASE unit_store TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" >/dev/null
COMFYD_TEST_PG=$(echo "$PG_URI_FMT" | sed 's/{db}/unit_store/') "$build/tests/test_store_pg"
# Fork, revert and canvas checkpoints: the same contract as on SQLite.
psql -qAt -v ON_ERROR_STOP=1 "$(echo "$PG_URI_FMT" | sed 's/{db}/postgres/')" \
    -c "CREATE DATABASE unit_store_fork" >/dev/null
COMFYD_TEST_PG=$(echo "$PG_URI_FMT" | sed 's/{db}/unit_store_fork/') "$build/tests/test_store_fork"
psql -qAt -v ON_ERROR_STOP=1 "$(echo "$PG_URI_FMT" | sed 's/{db}/postgres/')" \
    -c "CREATE DATABASE unit_store_embed" >/dev/null
COMFYD_TEST_PG=$(echo "$PG_URI_FMT" | sed 's/{db}/unit_store_embed/') "$build/tests/test_store_embed"
# Session leases (core/lease.c): two handles play two cores.
psql -qAt -v ON_ERROR_STOP=1 "$(echo "$PG_URI_FMT" | sed 's/{db}/postgres/')" \
    -c "CREATE DATABASE unit_lease" >/dev/null
COMFYD_TEST_PG=$(echo "$PG_URI_FMT" | sed 's/{db}/unit_lease/') "$build/tests/test_lease"

# tests/integration/test_pg_*.py (several cores and bridges on one
# database, a core killed mid-turn, a server restart) run only here; they restart the server through pg_ctl as PG_OWNER.
export PG_BIN PG_DIR PG_PORT PG_OWNER
# Both suites run whatever the first gives; the script fails if either does.
rc=0
COMFYD_IT_PG=$PG_URI_FMT "$here/../integration/run.sh" "$build" "$@" || rc=$?

# The live-graph suite (comfyd and comfyd-bridge, a database per stack).
COMFYD_IT_PG=$PG_URI_FMT "$here/../graph/run.sh" "$build" || rc=$?
exit "$rc"
