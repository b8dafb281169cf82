// clang-format off
// Build from the repo root (B = a configured build dir): clang -g -O1 -fsanitize=fuzzer,address,undefined -Ibridge -Icommon -Icore -I$B/gen fuzz/fuzz_jsonpb.c common/jsonpb.c common/jsonpb_tree.c common/jsonpb_decode.c common/jsonpb_encode.c common/text.c $B/gen/comfyd/v1/*.pb-c.c $B/gen/google/protobuf/wrappers.pb-c.c -lprotobuf-c -lyajl -o fuzz_jsonpb
// clang-format on
/* Fuzz target of common/jsonpb.
 *
 * The first byte picks the message type and the options; the rest is the
 * JSON text. Beyond memory errors it checks the codec's promises: a failed
 * decode returns a code of the enum and a valid UTF-8 message; a decoded
 * message always encodes, decodes back to the same protobuf bytes and
 * encodes to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comfyd/v1/graph.pb-c.h"
#include "comfyd/v1/session.pb-c.h"
#include "comfyd/v1/skill.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"
#include "jsonpb.h"
#include "text.h"

static const ProtobufCMessageDescriptor *const types[] = {
    &comfyd__v1__execute_batch_request__descriptor,
    &comfyd__v1__execute_request__descriptor,
    &comfyd__v1__execute_batch_response__descriptor,
    &comfyd__v1__configure_session_request__descriptor,
    &comfyd__v1__session_event__descriptor,
    &comfyd__v1__attach_canvas_response__descriptor,
    &comfyd__v1__report_editor_request__descriptor,
    &comfyd__v1__get_graph_response__descriptor,
    &comfyd__v1__list_node_types_response__descriptor,
    &comfyd__v1__list_skills_response__descriptor,
    &google__protobuf__bytes_value__descriptor,
    &google__protobuf__float_value__descriptor,
    &comfyd__v1__value__descriptor,
};

static const ProtobufCMessageDescriptor *const flat[] = {&comfyd__v1__command__descriptor};

static int packed_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a);
    if (na != protobuf_c_message_get_packed_size(b)) return 0;
    uint8_t *pa = malloc(na + 1), *pb = malloc(na + 1);
    if (!pa || !pb) abort();
    protobuf_c_message_pack(a, pa);
    protobuf_c_message_pack(b, pb);
    int eq = memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return eq;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    const ProtobufCMessageDescriptor *d = types[(sel & 0x0F) % (sizeof types / sizeof types[0])];
    jsonpb_opts o = {0};
    o.flatten = flat;
    o.n_flatten = 1;
    o.flatten_all = (sel & 0x80) != 0;
    o.ignore_unknown_fields = (sel & 0x40) != 0;
    o.emit_defaults = (sel & 0x20) != 0;
    if (sel & 0x10) o.max_depth = 8;

    char err[256];
    ProtobufCMessage *m = NULL;
    int r = jsonpb_decode(d, (const char *)data + 1, size - 1, &o, &m, err, sizeof err);
    if (r) {
        if (m || (r != JSONPB_ENOMEM && (r > JSONPB_ESYNTAX || r < JSONPB_ELIMIT))) abort();
        if (!err[0] || !text_utf8_valid(err, strlen(err))) abort();
        return 0;
    }
    char *j1 = NULL, *j2 = NULL;
    size_t l1, l2;
    /* The encoder counts flattened members as levels, and emit_defaults
     * makes the text longer than the input: no limits on the way back. */
    o.max_depth = 0;
    o.max_input_bytes = o.max_total_elements = o.max_array_elements = SIZE_MAX;
    if (jsonpb_encode(m, &o, &j1, &l1, err, sizeof err)) abort();
    ProtobufCMessage *back = NULL;
    if (jsonpb_decode(d, j1, l1, &o, &back, err, sizeof err)) abort();
    if (!packed_equal(m, back)) abort();
    if (jsonpb_encode(back, &o, &j2, &l2, err, sizeof err)) abort();
    if (l1 != l2 || memcmp(j1, j2, l1) != 0) abort();
    free(j1);
    free(j2);
    protobuf_c_message_free_unpacked(back, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
