#!/usr/bin/env bash
# Builds every libFuzzer target with clang (ASan + UBSan) and runs each for a
# bounded time. Usage: fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]
# BUILD_DIR is a configured build tree (for the generated protobuf-c code).
# Exits non-zero when a target crashes; the crashing input is left in
# BUILD_DIR/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
B="$(cd "${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}" && pwd)"
secs="${2:-15}"
if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is not installed; skipping"
  exit 0
fi
out="$B/fuzz"
mkdir -p "$out"
CC=(clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -D_GNU_SOURCE -Icommon -Icore -Ibridge -I"$B/gen" -I/usr/share/include/llhttp)
PB=("$B"/gen/comfyd/v1/*.pb-c.c "$B"/gen/google/protobuf/wrappers.pb-c.c)
LL=(/usr/share/llhttp/llhttp.c /usr/share/llhttp/api.c /usr/share/llhttp/http.c)

# Modules split over several files.
NODEINFO=(core/nodeinfo.c core/nodeinfo_parse.c core/nodeinfo_check.c core/nodeinfo_pb.c)
JSONPB=(common/jsonpb.c common/jsonpb_tree.c common/jsonpb_decode.c common/jsonpb_encode.c)

build() { # name sources-and-libs...
  local name=$1; shift
  echo "fuzz: building $name"
  # The linker's input files (ld --trace) and the headers (clang -M) go next
  # to the target for scripts/check-deps.sh.
  "${CC[@]}" "$@" -o "$out/$name" -Wl,--trace >"$out/$name.inputs"
  "${CC[@]}" -M -Wno-unused-command-line-argument "$@" >"$out/$name.d"
}

build fuzz_skill fuzz/fuzz_skill.c core/skills.c core/preview_policy.c common/text.c common/log.c -lyaml -lpthread
build fuzz_sse fuzz/fuzz_sse.c common/sse.c common/text.c
build fuzz_jsonpb fuzz/fuzz_jsonpb.c "${JSONPB[@]}" common/text.c "${PB[@]}" -lprotobuf-c -lyajl
build fuzz_graph fuzz/fuzz_graph.c "${NODEINFO[@]}" core/nodeindex.c core/graph.c core/graph_parse.c core/graph_validate.c core/graph_diff.c core/graph_delta.c core/graph_cmd.c common/jsonscan.c common/text.c common/log.c "${PB[@]}" \
  -lprotobuf-c -lyajl -lpthread
build fuzz_provenance fuzz/fuzz_provenance.c core/provenance.c "${NODEINFO[@]}" core/nodeindex.c core/graph.c core/graph_parse.c core/graph_validate.c core/graph_diff.c core/graph_delta.c core/graph_cmd.c common/jsonscan.c common/jsontree.c \
  common/text.c common/log.c "${PB[@]}" -lprotobuf-c -lyajl -lpthread
build fuzz_lease_graph fuzz/fuzz_lease_graph.c core/lease_graph.c core/graph_rebase.c core/provenance.c "${NODEINFO[@]}" \
  core/nodeindex.c core/graph.c core/graph_parse.c core/graph_validate.c core/graph_diff.c core/graph_delta.c core/graph_cmd.c \
  common/jsonscan.c common/jsontree.c common/text.c common/log.c "${PB[@]}" \
  -lprotobuf-c -lyajl -lpthread -lm
build fuzz_http1 -DLLHTTP_STRICT_MODE=1 fuzz/fuzz_http1.c bridge/net_http1.c bridge/net_msg.c \
  bridge/net_buf.c bridge/net_policy.c "${LL[@]}" -lcrypto
build fuzz_ws fuzz/fuzz_ws.c bridge/net_ws.c bridge/net_msg.c bridge/net_buf.c common/text.c -lwslay -lcrypto
build fuzz_comfy_event fuzz/fuzz_comfy_event.c core/comfy_event.c "${NODEINFO[@]}" core/nodeindex.c common/jsonscan.c common/jsontree.c common/text.c \
  common/log.c "${PB[@]}" -lprotobuf-c -lyajl -lpthread
build fuzz_imgscale fuzz/fuzz_imgscale.c core/imgscale.c -lpng16 -lz
build fuzz_blob_check fuzz/fuzz_blob_check.c core/blobstore.c core/imgscale.c common/blobspec.c \
  common/text.c common/log.c -lcrypto -lyajl -lpng16 -lz -lpthread
if [ -f fuzz/fuzz_mcp.c ]; then
  build fuzz_mcp fuzz/fuzz_mcp.c bridge/mcp.c common/sse.c common/jsonscan.c common/jsontree.c "${JSONPB[@]}" common/jsonpb_schema.c common/text.c common/log.c "${PB[@]}" \
    -lprotobuf-c -lyajl -lpthread -lcrypto
fi

status=0
for t in "$out"/fuzz_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  corpus="$PWD/fuzz/corpus/$name" # absolute: the target runs in $out
  mkdir -p "$out/corpus-$name"
  args=("$out/corpus-$name")
  [ -d "$corpus" ] && args+=("$corpus")
  echo "fuzz: running $name for ${secs}s"
  if ! (cd "$out" && "$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
        "${args[@]}" >"$out/$name.log" 2>&1); then
    echo "fuzz: $name FAILED"; tail -40 "$out/$name.log"; status=1
  fi
done
exit $status
