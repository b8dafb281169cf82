#!/bin/bash
# CPU time per request on a 500-node canvas, by process (core, bridge, tab):
# a figure that a loaded machine disturbs far less than latency, for
# comparing two builds run one after the other.
#   bench/big_canvas_cpu.sh [BUILD_DIR [EDITOR_MJS [REQUESTS]]]
# BUILD_DIR (default build) holds comfyd and comfyd-bridge; EDITOR_MJS
# (default tests/graph/editor.mjs) is the headless LiteGraph tab, so an
# older checkout's build and editor can be measured the same way. Needs
# the peers' drivers copied by bench/compare.sh (PEERS_DIR, default
# build/peers). Prints, for get_graph and then for alternating
# set_widget/move_node: the p50 and each process's CPU ms per request
# (utime+stime from /proc, in clock ticks, warm-up included).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
editor=${2:-$repo/tests/graph/editor.mjs}
N=${3:-200}
PEERS_DIR=${PEERS_DIR:-$repo/build/peers}
OBJECT_INFO=$repo/tests/fixtures/object_info.json
[ -f "$PEERS_DIR/bench_graph.mjs" ] || { echo "no peers in $PEERS_DIR: run bench/compare.sh first" >&2; exit 2; }
for b in "$build/core/comfyd" "$build/bridge/comfyd-bridge"; do
    [ -x "$b" ] || { echo "$b is not built" >&2; exit 2; }
done
tick=$(getconf CLK_TCK)
data=$(mktemp -d /tmp/comfyd-cpu.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/core/comfyd" --data "$data" --listen "unix:$data/c.sock" --echo-delay-ms 0 \
    --object-info "$OBJECT_INFO" --log-level warn >"$data/core.log" 2>&1 &
cp=$!
PIDS+=("$cp")
for _ in $(seq 1 100); do [ -S "$data/c.sock" ] && break; sleep 0.1; done
"$build/bridge/comfyd-bridge" --listen "127.0.0.1:$port" --core "unix:$data/c.sock" --data "$data" \
    --log-level warn >"$data/bridge.log" 2>&1 &
bp=$!
PIDS+=("$bp")
tok=$data/token
for _ in $(seq 1 100); do [ -s "$tok" ] && break; sleep 0.1; done
until curl -sf -H "Authorization: Bearer $(cat "$tok")" "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.1; done
node "$editor" --url "ws://127.0.0.1:$port" --token-file "$tok" --object-info "$OBJECT_INFO" \
    --canvas-id bench:big --workflow "$PEERS_DIR/comfyd/wf.json" >"$data/editor.log" 2>&1 &
ep=$!
PIDS+=("$ep")
for _ in $(seq 1 100); do grep -q "editor: attached" "$data/editor.log" && break; sleep 0.1; done
(cd "$PEERS_DIR" && node comfyd/big_canvas.mjs "http://127.0.0.1:$port" "$tok" bench:big 500) | sed 's/^/  /'
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # label env...
    local label=$1
    shift
    local a b c
    a=$(ticks "$cp") b=$(ticks "$bp") c=$(ticks "$ep")
    local p50
    p50=$(cd "$PEERS_DIR" && env COMFYD_TOKEN_FILE="$tok" COMFYD_CANVAS=bench:big "$@" node bench_graph.mjs \
        --base "http://127.0.0.1:$port" --protocol ./comfyd/comfyd_proto.mjs --json /dev/null \
        --server-stats '' --phases seq --warmup 20 --requests "$N" | grep -o 'p50=[0-9.]*ms' | head -1)
    awk -v l="$label" -v p="$p50" -v t="$tick" -v n="$N" -v a="$(($(ticks "$cp") - a))" \
        -v b="$(($(ticks "$bp") - b))" -v c="$(($(ticks "$ep") - c))" \
        'BEGIN { k = 1000 / t / n; printf "  %-22s %s  cpu ms/request: core %.2f bridge %.2f tab %.2f\n", l, p, a * k, b * k, c * k }'
}
echo "500-node canvas, $N requests each ($build, $editor)"
run "get_graph" CMD_MIX=get_graph
run "set_widget/move_node" CMD_MIX=mix
