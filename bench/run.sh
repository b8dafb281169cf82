#!/bin/sh
# Builds comfyd and comfyd-bench (Release) in build-bench/, starts comfyd on
# a temporary data dir with an unpaced echo provider, runs the bench over
# the unix socket and over TCP, prints the tables, and stops comfyd.
#   bench/run.sh [comfyd-bench options...]     e.g. --calls 50000
# Figures are a report, never a pass/fail test.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${COMFYD_BENCH_BUILD:-$src/build-bench}
# Release unless told otherwise (COMFYD_BENCH_BUILD_TYPE=RelWithDebInfo).
btype=${COMFYD_BENCH_BUILD_TYPE:-Release}

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$btype" -DCOMFYD_TESTS=OFF >/dev/null
if ! out=$(ninja -C "$build" comfyd comfyd-bench 2>&1); then
    printf '%s\n' "$out" >&2
    echo "bench/run.sh: the $btype build failed" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/comfyd-bench.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A free loopback port (bound and released; a race here only fails the run).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/core/comfyd" --data "$tmp/data" --listen "unix:$tmp/c.sock" --listen "127.0.0.1:$port" \
    --echo-delay-ms 0 --log-level warn 2>"$tmp/comfyd.log" &
pid=$!

# Wait for the socket to answer (the ready line depends on the log level).
i=0
while [ ! -S "$tmp/c.sock" ]; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "bench/run.sh: comfyd did not start:" >&2
        cat "$tmp/comfyd.log" >&2
        exit 1
    fi
    sleep 0.05
done

echo "== $(uname -srm), $(nproc) CPUs, $btype build, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== over the unix socket"
"$build/bench/comfyd-bench" --target "unix:$tmp/c.sock" "$@"
echo
echo "== over TCP 127.0.0.1:$port"
"$build/bench/comfyd-bench" --target "127.0.0.1:$port" "$@"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" -ne 0 ]; then
    echo "bench/run.sh: comfyd exited with $rc" >&2
    cat "$tmp/comfyd.log" >&2
    exit 1
fi
