#!/usr/bin/env bash
# Prints the path of a Python virtual environment that runs the real ComfyUI
# server kept in ../shared/vendor/ComfyUI, creating it first when missing.
# The venv lives outside the checkout (~/.cache/comfyd by default) and is keyed
# by ComfyUI's requirements.txt and the Python version, so a fresh clone reuses
# it and a change of either builds a new one. The first build downloads about
# 6 GB from PyPI (the Linux torch wheel brings CUDA packages; ComfyUI runs them
# on the CPU with --cpu) and takes several minutes.
#
#   scripts/comfyui-venv.sh            create if needed, print the venv path
#   COMFYUI_DIR=/path/to/ComfyUI ...   another ComfyUI tree
set -euo pipefail
cd "$(dirname "$0")/.."

COMFYUI_DIR=${COMFYUI_DIR:-$(cd .. && pwd)/shared/vendor/ComfyUI}
# Debian's Python (python3-venv from scripts/setup.sh), not whatever python3
# comes first on PATH: the venv's base must be a package setup.sh installs.
PY=${COMFYD_PYTHON:-/usr/bin/python3}
CACHE=${COMFYD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/comfyd}

[ -f "$COMFYUI_DIR/requirements.txt" ] || {
  echo "comfyui-venv: no ComfyUI at $COMFYUI_DIR (set COMFYUI_DIR)" >&2
  exit 2
}
key=$({
  cat "$COMFYUI_DIR/requirements.txt"
  "$PY" -c 'import sys; print(sys.version)'
  echo requests # imported by ComfyUI without being listed
} | sha256sum | cut -c1-16)
venv="$CACHE/comfyui-venv-$key"

mkdir -p "$CACHE"
# One builder at a time: a second caller waits for the first instead of
# deleting a venv that is still being filled.
exec 9>"$CACHE/.lock"
flock 9
if [ ! -f "$venv/.complete" ]; then
  echo "comfyui-venv: building $venv (first time: several minutes)" >&2
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$COMFYUI_DIR/requirements.txt" requests >&2
  touch "$venv/.complete"
fi
# What the venv was built from, for scripts/check-deps.sh (ComfyUI's
# requirements are outside the checkout).
if [ ! -f "$venv/requirements.txt" ]; then
  { cat "$COMFYUI_DIR/requirements.txt"; echo requests; } >"$venv/requirements.txt"
fi
echo "$venv"
