# Sourced by the PostgreSQL suites: starts a private PostgreSQL server, the
# real one from Debian's postgresql package, in a temporary folder (data,
# unix socket and log there, TCP off, a free port for the socket's name)
# and stops it on exit.
#   pg_cluster_start   sets PG_DIR, PG_PORT, PG_USER and PG_URI_FMT
#                      (a libpq URI with "{db}" where the database goes)
#   pg_cluster_stop    stops the server (fast mode) and removes PG_DIR
#   pg_cluster_restart stops and starts the same cluster (pg_ctl restart)
# The server refuses to run as root: when we are root it runs as the
# postgres user (or nobody), which owns PG_DIR.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=comfyd

pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_OWNER" -- "$@"
    else
        "$@"
    fi
}

pg_free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_cluster_start() {
    for tool in initdb pg_ctl postgres; do
        if [ ! -x "$PG_BIN/$tool" ]; then
            echo "postgres: $PG_BIN/$tool not found (apt-get install postgresql)" >&2
            exit 2
        fi
    done
    command -v psql >/dev/null || { echo "postgres: psql not found (apt-get install postgresql-client)" >&2; exit 2; }
    PG_DIR=$(mktemp -d /tmp/cfdpg-XXXXXX)
    PG_OWNER=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then
        if id postgres >/dev/null 2>&1; then PG_OWNER=postgres; else PG_OWNER=nobody; fi
        chown "$PG_OWNER" "$PG_DIR"
    fi
    chmod 0755 "$PG_DIR"
    PG_PORT=$(pg_free_port)
    # trust on the socket only: the folder is private to this run.
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" -A trust -E UTF8 --no-sync \
        --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; exit 1; }
    pg_ctl_start
    PG_URI_FMT="postgresql://$PG_USER@/{db}?host=$PG_DIR&port=$PG_PORT"
    export PG_DIR PG_PORT PG_USER PG_URI_FMT
}

pg_ctl_start() {
    # fsync stays on (the default): the suites check durability.
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses= -c max_connections=200" start >/dev/null ||
        { cat "$PG_DIR/server.log" >&2; exit 1; }
}

pg_cluster_restart() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    pg_ctl_start
}

pg_cluster_stop() {
    [ -n "${PG_DIR:-}" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
    PG_DIR=
}
