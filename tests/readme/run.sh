#!/bin/sh
# Runs the shell and Python examples of README.md against the real comfyd
# and comfyd-bridge of a build dir, with the headless editor of tests/graph
# as the canvas (tests/readme/run_examples.py says how).
#   tests/readme/run.sh BUILD_DIR
# Needs what README.md's examples need: curl, node with npm, Debian's
# python3 with python3-websockets and python3-venv, and PyPI for the client
# venv (kept in BUILD_DIR/readme-run/.venv). Exits non-zero when an example fails.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
for b in "$build/core/comfyd" "$build/bridge/comfyd-bridge"; do
    [ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 2; }
done
exec /usr/bin/python3 "$(dirname "$0")/run_examples.py" "$build"
