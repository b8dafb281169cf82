#!/usr/bin/env bash
# comfyd against the Python peers of the seed designs, side by side, in one
# run: the aiohttp Graph Control Endpoint (graph_aiohttp.py + editor_sim.mjs)
# and the Flask-SocketIO session layer (session_flask_socketio.py), measured
# by the peers' own drivers (bench_graph.mjs, bench_session.mjs) and, for
# comfyd, by the same drivers through the adapters of peers/comfyd/.
#
#   bench/compare.sh [BUILD_DIR] [--reps N] [--requests N] [--conc-seconds S]
#                    [--lat-turns N] [--big-requests N] [--quick] [--only idle]
#
# BUILD_DIR (default: build) holds comfyd and comfyd-bridge (EDITOR, default
# tests/graph/editor.mjs, is the headless tab: an older checkout's can be
# measured the same way); build it with
# -DCMAKE_BUILD_TYPE=RelWithDebInfo or Release. The peers are copied from
# PEERS_SRC (default: ../shared/peers next to the repository) into the
# git-ignored PEERS_DIR (default: build/peers) and `npm ci` runs there; the
# Python peers need Debian's python3-aiohttp, python3-flask-socketio and
# python3-eventlet (scripts/setup.sh) and run with /usr/bin/python3.
#
# Each of the --reps runs (default 3) starts fresh processes for both sides,
# the side that goes first alternating. The table gives medians, comfyd /
# peer and the min–max spread. It is a report: no figure fails it; a
# process that does not start, a functional check or a driver error does
# (exit 1). Every process is started here and stopped by its PID.
#
# --only idle: the idle-WebSocket row alone (fresh processes for each side,
# each run). IDLE_COMFYD (default "1000 10000") and IDLE_PEER (default
# "400 1200") are the FROM and TO of that row's slope; an older bridge with a
# fixed limit of 256 connections is measured with IDLE_COMFYD="50 240".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

build=build
REPS=${REPS:-3}
REQUESTS=2000       # measured sequential round trips (after WARMUP)
WARMUP=300
CONC_SECONDS=5      # the 16-caller closed loop (after 1 s of warm-up)
LAT_TURNS=300       # user_message turns timed (after 100 warm-up turns)
BIG_REQUESTS=200    # round trips on the 500-node canvas
# Idle WebSockets: the memory per connection is the slope between FROM and
# TO open connections. comfyd's TO is the goal itself, 10,000 connections
# held by one bridge; the aiohttp peer is measured up to 1200 (its slope is
# flat by then and it is the slower side to fill). Earlier bridges had a
# fixed limit of 256: measure them with IDLE_COMFYD="50 240".
IDLE_PEER=${IDLE_PEER:-400 1200}
IDLE_COMFYD=${IDLE_COMFYD:-1000 10000}
ONLY=
SUBSCRIBERS=100
while [ $# -gt 0 ]; do
    case $1 in
    --reps) REPS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --conc-seconds) CONC_SECONDS=$2; shift 2 ;;
    --lat-turns) LAT_TURNS=$2; shift 2 ;;
    --big-requests) BIG_REQUESTS=$2; shift 2 ;;
    --quick) REPS=1 REQUESTS=300 WARMUP=100 CONC_SECONDS=2 LAT_TURNS=100 BIG_REQUESTS=50; shift ;;
    --only)
        [ "${2:-}" = idle ] || { echo "compare.sh: --only takes 'idle'" >&2; exit 2; }
        ONLY=$2
        shift 2
        ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
build=$(cd "$build" && pwd)
PY=/usr/bin/python3
PEERS_SRC=${PEERS_SRC:-$(cd "$repo/.." && pwd)/shared/peers}
PEERS_DIR=${PEERS_DIR:-$repo/build/peers}
OBJECT_INFO=$repo/tests/fixtures/object_info.json
EDITOR=${EDITOR:-$repo/tests/graph/editor.mjs}

fail() { echo "compare.sh: $*" >&2; exit 1; }
for b in "$build/core/comfyd" "$build/bridge/comfyd-bridge"; do
    [ -x "$b" ] || fail "$b is not built (cmake --build $build --target comfyd comfyd-bridge)"
done
[ -f "$PEERS_SRC/bench_graph.mjs" ] || fail "no peers in $PEERS_SRC (set PEERS_SRC)"
command -v node >/dev/null || fail "node not found"
$PY -c 'import aiohttp, flask_socketio, eventlet' 2>/dev/null ||
    fail "the Python peers need python3-aiohttp python3-flask-socketio python3-eventlet (scripts/setup.sh)"

# ---- the peers, copied into the build folder
mkdir -p "$PEERS_DIR"
# (The source may be read-only: the copies get the default mode, so a later
# run can overwrite them.)
cp -r --no-preserve=mode "$PEERS_SRC"/. "$PEERS_DIR"/
cp --no-preserve=mode "$here"/compare/*.mjs "$PEERS_DIR"/comfyd/
(cd "$PEERS_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
if [ ! -f "$repo/tests/graph/node_modules/@comfyorg/litegraph/package.json" ]; then
    (cd "$repo/tests/graph" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$PEERS_DIR/results/compare-$stamp
mkdir -p "$OUT"
tmp=$(mktemp -d /tmp/comfyd-compare.XXXXXX)

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process started here, by PID (SIGTERM, SIGKILL after 5 s);
# its exit status goes to STOP_RC.
STOP_RC=0
stop_pid() {
    kill "$1" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$1" 2>/dev/null || true
    STOP_RC=0
    wait "$1" 2>/dev/null || STOP_RC=$?
}

wait_line() { # file pattern seconds pid
    for _ in $(seq 1 $(($3 * 10))); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || break
        sleep 0.1
    done
    echo "compare.sh: no '$2' in $1:" >&2
    tail -30 "$1" >&2
    exit 1
}

wait_http() { # url seconds [curl args]
    local url=$1 s=$2
    shift 2
    for _ in $(seq 1 $((s * 10))); do
        curl -fsS -o /dev/null --max-time 1 "$@" "$url" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$url did not answer within ${s}s"
}

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

graph_driver() { # base json protocol [env...] -- [bench_graph args]
    local base=$1 json=$2 proto=$3
    shift 3
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    (cd "$PEERS_DIR" && env "${envs[@]}" node bench_graph.mjs --base "$base" --protocol "$proto" \
        --json "$json" --server-stats '' "$@") | sed 's/^/    /'
}

# The idle-WebSocket driver holds TO sockets in one node process: its soft
# open files limit is raised to the hard one (the servers raise their own:
# the bridge's --max-connections, 16,384 by default, is cut to that limit
# less 128). TO connections from one address to one port take TO of the
# ~28,000 ephemeral ports of Linux's default range; each run's servers
# listen on a fresh port, so the TIME_WAIT sockets of an earlier run do not
# hold ports for the next one.
idle_driver() { # url "FROM TO" pids json
    local range=$2 hard
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt $((${range#* } + 200)) ]; then
        fail "idle WebSockets: ${range#* } connections need an open files hard limit over $((${range#* } + 200)), it is $hard (set IDLE_COMFYD / IDLE_PEER lower)"
    fi
    # (word splitting of $range is wanted: FROM and TO)
    # shellcheck disable=SC2086
    (cd "$PEERS_DIR" && ulimit -Sn "$hard" && node comfyd/idle_ws.mjs "$1" $range "$3" "$4") | sed 's/^/    /'
}

# Stops a bridge and its core; either exiting non-zero on SIGTERM fails the run.
stop_comfyd() { # bridge_pid core_pid dir
    stop_pid "$1"
    [ "$STOP_RC" = 0 ] || { tail -30 "$3/bridge.log" >&2; fail "comfyd-bridge exited with $STOP_RC"; }
    stop_pid "$2"
    [ "$STOP_RC" = 0 ] || { tail -30 "$3/comfyd.log" >&2; fail "comfyd exited with $STOP_RC"; }
}

run_peer() { # rep
    local d=$OUT/rep$1/peer
    mkdir -p "$d"
    local gport sport
    gport=$(free_port)
    sport=$(free_port)
    echo "== run $1/$REPS: peers"
    (cd "$PEERS_DIR" && exec $PY graph_aiohttp.py --port "$gport" --object-info "$OBJECT_INFO" \
        --save-dir "$tmp/saves" --timeout 2 --max-seconds 900) >"$d/graph_server.log" 2>&1 &
    local sp=$!
    PIDS+=("$sp")
    wait_http "http://127.0.0.1:$gport/comfy/graph/node_types" 30
    # First, on the fresh process: memory freed by earlier load would be
    # reused and hide what the connections cost.
    echo "  idle WebSockets (fresh process)"
    idle_driver "ws://127.0.0.1:$gport/comfy/graph/ws" "$IDLE_PEER" "$sp" "$d/idle.json"
    if [ "$ONLY" = idle ]; then
        stop_pid "$sp"
        return
    fi
    if [ "$1" = 1 ]; then
        (cd "$PEERS_DIR" && node check_graph.mjs --base "http://127.0.0.1:$gport" --timeout-s 2) >"$d/check_graph.log" 2>&1 ||
            { cat "$d/check_graph.log" >&2; fail "the aiohttp peer's check failed"; }
        echo "    check_graph: $(tail -1 "$d/check_graph.log")"
    fi
    (cd "$PEERS_DIR" && exec node editor_sim.mjs --base "http://127.0.0.1:$gport" --max-seconds 900) >"$d/editor.log" 2>&1 &
    local ep=$!
    PIDS+=("$ep")
    wait_line "$d/editor.log" "editor_sim ready" 30 "$ep"
    echo "  graph, 7 nodes (editor_sim)"
    graph_driver "http://127.0.0.1:$gport" "$d/graph.json" ./comfyd/peer_proto.mjs -- \
        --phases seq,conc --warmup "$WARMUP" --requests "$REQUESTS" --callers 16 \
        --conc-seconds "$CONC_SECONDS" --warmup-seconds 1 --watch "server:$sp,editor:$ep"
    stop_pid "$ep"
    (cd "$PEERS_DIR" && exec node editor_sim.mjs --base "http://127.0.0.1:$gport" --extra-nodes 493 --max-seconds 900) \
        >"$d/editor_big.log" 2>&1 &
    ep=$!
    PIDS+=("$ep")
    wait_line "$d/editor_big.log" "editor_sim ready" 30 "$ep"
    echo "  graph, 500 nodes (editor_sim --extra-nodes 493)"
    graph_driver "http://127.0.0.1:$gport" "$d/big_get.json" ./comfyd/peer_proto.mjs CMD_MIX=get_graph -- \
        --phases seq --warmup 20 --requests "$BIG_REQUESTS"
    graph_driver "http://127.0.0.1:$gport" "$d/big_mix.json" ./comfyd/peer_proto.mjs -- \
        --phases seq --warmup 20 --requests "$BIG_REQUESTS"
    stop_pid "$ep"
    stop_pid "$sp"

    (cd "$PEERS_DIR" && exec $PY session_flask_socketio.py --port "$sport" --max-seconds 900) >"$d/session_server.log" 2>&1 &
    sp=$!
    PIDS+=("$sp")
    wait_http "http://127.0.0.1:$sport/healthz" 30
    if [ "$1" = 1 ]; then
        (cd "$PEERS_DIR" && node check_session.mjs --url "http://127.0.0.1:$sport") >"$d/check_session.log" 2>&1 ||
            { cat "$d/check_session.log" >&2; fail "the Flask-SocketIO peer's check failed"; }
        echo "    check_session: $(tail -1 "$d/check_session.log")"
    fi
    echo "  session (Flask-SocketIO)"
    (cd "$PEERS_DIR" && node bench_session.mjs --url "http://127.0.0.1:$sport" --phases latency,tputN \
        --lat-warmup 100 --lat-turns "$LAT_TURNS" --lat-tokens 8 --token-size 4 --tputn-tokens 2000 \
        --subscribers "$SUBSCRIBERS" --watch "server:$sp" --json "$d/session.json") | sed 's/^/    /'
    stop_pid "$sp"
}

run_comfyd() { # rep
    local d=$OUT/rep$1/comfyd
    mkdir -p "$d"
    local data=$tmp/data$1 port cport
    mkdir -p "$data"
    port=$(free_port)
    cport=$(free_port)
    local base=http://127.0.0.1:$port tok=$data/token
    echo "== run $1/$REPS: comfyd"
    "$build/core/comfyd" --data "$data" --listen "unix:$data/c.sock" --listen "127.0.0.1:$cport" \
        --echo-delay-ms 0 --object-info "$OBJECT_INFO" --log-level info >"$d/comfyd.log" 2>&1 &
    local cp=$!
    PIDS+=("$cp")
    wait_line "$d/comfyd.log" "comfyd: ready" 30 "$cp"
    "$build/bridge/comfyd-bridge" --listen "127.0.0.1:$port" --core "unix:$data/c.sock" --data "$data" \
        --log-level warn >"$d/bridge.log" 2>&1 &
    local bp=$!
    PIDS+=("$bp")
    for _ in $(seq 1 300); do [ -s "$tok" ] && break; sleep 0.1; done
    [ -s "$tok" ] || fail "the bridge wrote no token file"
    wait_http "$base/healthz" 30 -H "Authorization: Bearer $(cat "$tok")"
    echo "  idle WebSockets (fresh processes)"
    idle_driver "ws://127.0.0.1:$port/comfy/graph/ws?token=$(cat "$tok")" "$IDLE_COMFYD" "$bp,$cp" "$d/idle.json"
    if [ "$ONLY" = idle ]; then
        stop_comfyd "$bp" "$cp" "$d"
        return
    fi
    local wf=$PEERS_DIR/comfyd/wf.json
    node "$EDITOR" --url "ws://127.0.0.1:$port" --token-file "$tok" --object-info "$OBJECT_INFO" \
        --canvas-id bench:txt2img --workflow "$wf" >"$d/editor.log" 2>&1 &
    local ep=$!
    PIDS+=("$ep")
    wait_line "$d/editor.log" "editor: attached" 30 "$ep"
    (cd "$PEERS_DIR" && node comfyd/check_comfyd.mjs "$base" "$tok" bench:txt2img) >"$d/check.log" 2>&1 ||
        { cat "$d/check.log" >&2; fail "the comfyd check failed"; }
    if [ "$1" = 1 ]; then echo "    check_comfyd: $(tail -1 "$d/check.log")"; fi
    echo "  graph, 7 nodes (headless LiteGraph editor)"
    graph_driver "$base" "$d/graph.json" ./comfyd/comfyd_proto.mjs COMFYD_TOKEN_FILE="$tok" COMFYD_CANVAS=bench:txt2img -- \
        --phases seq,conc --warmup "$WARMUP" --requests "$REQUESTS" --callers 16 \
        --conc-seconds "$CONC_SECONDS" --warmup-seconds 1 --watch "core:$cp,bridge:$bp,editor:$ep"
    stop_pid "$ep"

    (cd "$PEERS_DIR" && exec node comfyd/fake_tab.mjs "ws://127.0.0.1:$port" "$tok" bench:fake 900) >"$d/fake_tab.log" 2>&1 &
    local fp=$!
    PIDS+=("$fp")
    wait_line "$d/fake_tab.log" "editor: attached" 30 "$fp"
    echo "  graph, 7 nodes (light fake tab)"
    graph_driver "$base" "$d/fake.json" ./comfyd/comfyd_proto.mjs COMFYD_TOKEN_FILE="$tok" COMFYD_CANVAS=bench:fake -- \
        --phases seq --warmup "$WARMUP" --requests "$REQUESTS" --watch "core:$cp,bridge:$bp,tab:$fp"
    stop_pid "$fp"

    node "$EDITOR" --url "ws://127.0.0.1:$port" --token-file "$tok" --object-info "$OBJECT_INFO" \
        --canvas-id bench:big --workflow "$wf" >"$d/editor_big.log" 2>&1 &
    ep=$!
    PIDS+=("$ep")
    wait_line "$d/editor_big.log" "editor: attached" 30 "$ep"
    (cd "$PEERS_DIR" && node comfyd/big_canvas.mjs "$base" "$tok" bench:big 500) | sed 's/^/    /'
    echo "  graph, 500 nodes (headless LiteGraph editor)"
    graph_driver "$base" "$d/big_get.json" ./comfyd/comfyd_proto.mjs COMFYD_TOKEN_FILE="$tok" COMFYD_CANVAS=bench:big CMD_MIX=get_graph -- \
        --phases seq --warmup 20 --requests "$BIG_REQUESTS"
    graph_driver "$base" "$d/big_mix.json" ./comfyd/comfyd_proto.mjs COMFYD_TOKEN_FILE="$tok" COMFYD_CANVAS=bench:big -- \
        --phases seq --warmup 20 --requests "$BIG_REQUESTS"
    stop_pid "$ep"

    echo "  session (echo provider, unpaced)"
    (cd "$PEERS_DIR" && node comfyd/session_comfyd.mjs "$port" "$tok" "$LAT_TURNS" "$SUBSCRIBERS") >"$d/session.log" 2>&1 ||
        { cat "$d/session.log" >&2; fail "session_comfyd.mjs failed"; }
    grep -v '^JSON ' "$d/session.log" | sed 's/^/    /'
    sed -n 's/^JSON //p' "$d/session.log" >"$d/session.json"

    stop_comfyd "$bp" "$cp" "$d"
}

t0=$(date +%s)
echo "== $(uname -srm), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== comfyd from $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || echo '?')), peers in $PEERS_DIR"
for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) = 1 ]; then
        run_peer "$rep"
        run_comfyd "$rep"
    else
        run_comfyd "$rep"
        run_peer "$rep"
    fi
done
echo
echo "== $REPS run(s) in $(($(date +%s) - t0)) s, load now $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT"
echo
node "$here/compare/table.mjs" "$OUT"
