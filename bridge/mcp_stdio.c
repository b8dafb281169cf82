/* comfyd-mcp: MCP over stdio for clients that only start processes.
 *
 * Reads newline-delimited JSON-RPC messages from stdin and forwards each
 * one to the bridge's Streamable HTTP endpoint (POST /mcp) with the bearer
 * token; answers (a JSON body, or the events of an SSE stream: progress
 * notifications, then the response) are written to stdout, one message a
 * line. The bridge keeps the MCP session: this process only carries its
 * Mcp-Session-Id and MCP-Protocol-Version, and when the bridge forgot the
 * session (404: it restarted or expired it) initializes again with the
 * client's own initialize params and retries once.
 *
 * Threads: the main thread reads stdin. initialize is forwarded inline (its
 * answer names the session the next messages need); every other message
 * gets a worker thread (at most MAX_INFLIGHT at once), so a long
 * send_message does not hold up the rest. stdout lines are written under a
 * lock. Logs go to stderr; stdout carries only MCP messages. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "mcp.h"
#include "sse.h"
#include "text.h"

#ifndef COMFYD_VERSION
#define COMFYD_VERSION "0.1.0"
#endif

#define DEFAULT_BRIDGE "http://127.0.0.1:8189"
/* Messages forwarded at once: clients have a few calls running. */
#define MAX_INFLIGHT 16
/* A token file holds one token (net_policy's NET_POLICY_TOKEN_MAX). */
#define MAX_TOKEN 1024
/* The bridge URL. */
#define MAX_URL 2048
/* Connecting to a local bridge is immediate; a dead one should fail fast. */
#define CONNECT_TIMEOUT_S 10
/* An answer stalls this long without a byte (the bridge sends keep-alives
 * every 15 s on streams): the bridge is gone. */
#define STALL_S 120
/* The bridge's answer to one message (a JSON body is at most a tool
 * result; streams are split into events). */
#define MAX_BODY (8 * 1024 * 1024)

/* ==== state ==== */

static struct {
    char url[MAX_URL];
    char auth[MAX_TOKEN + 32];
    int verbose;
    pthread_mutex_t mu; /* the fields below */
    char session[MCP_SESSION_ID_LEN + 1];
    char version[MCP_MAX_VERSION_BYTES + 1];
    char *init_params;   /* the client's initialize params (JSON text) */
    unsigned generation; /* bumped at every new session */
    pthread_mutex_t out_mu;
    sem_t slots;
    pthread_mutex_t run_mu;
    pthread_cond_t run_cv;
    unsigned running;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .out_mu = PTHREAD_MUTEX_INITIALIZER,
       .run_mu = PTHREAD_MUTEX_INITIALIZER,
       .run_cv = PTHREAD_COND_INITIALIZER};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("comfyd-mcp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Writes one message line to stdout: newlines outside JSON strings are
 * only whitespace, so they become spaces. */
static void out_line(const char *json, size_t len)
{
    pthread_mutex_lock(&g.out_mu);
    for (size_t i = 0; i < len; i++) {
        char ch = json[i] == '\n' || json[i] == '\r' ? ' ' : json[i];
        putchar(ch);
    }
    putchar('\n');
    fflush(stdout);
    pthread_mutex_unlock(&g.out_mu);
}

/* A JSON-RPC error for request id (JSON text; "" for null). */
static void out_error(const char *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void out_error(const char *id, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *json = NULL;
    size_t len = 0;
    if (mcp_error(id, code, msg, NULL, &json, &len) == MCP_OK) out_line(json, len);
    free(json);
}

/* ==== one exchange with the bridge ==== */

typedef struct exchange {
    /* request */
    const char *body;
    size_t body_len;
    const char *method; /* "POST" or "DELETE" */
    char session[MCP_SESSION_ID_LEN + 1];
    char version[MCP_MAX_VERSION_BYTES + 1];
    int relay; /* write events and bodies to stdout as they come */
    /* response */
    long status;
    char content_type[128];
    char new_session[MCP_SESSION_ID_LEN + 1];
    text_buf resp; /* a non-stream answer body */
    int too_big;
    sse_parser *sse;
    int sse_failed;
    unsigned events;  /* messages relayed from the stream */
    char *last_event; /* the stream's last data (for initialize) */
} exchange;

static int on_event(void *ud, const sse_event *ev)
{
    exchange *x = ud;
    const char *data = ev->data;
    size_t len = ev->data_len;
    if (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0) return 0;
    if (!len) return 0; /* a priming event without data */
    if (x->relay) out_line(data, len);
    free(x->last_event);
    x->last_event = malloc(len + 1);
    if (x->last_event) {
        memcpy(x->last_event, data, len);
        x->last_event[len] = '\0';
    }
    x->events++;
    return 0;
}

static size_t on_header(char *b, size_t size, size_t n, void *ud)
{
    exchange *x = ud;
    size_t len = size * n;
    const char *colon = memchr(b, ':', len);
    if (!colon) return len;
    size_t klen = (size_t)(colon - b);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (klen == 12 && !strncasecmp(b, "content-type", 12)) {
        size_t k = vlen < sizeof x->content_type - 1 ? vlen : sizeof x->content_type - 1;
        memcpy(x->content_type, v, k);
        x->content_type[k] = '\0';
    } else if (klen == 14 && !strncasecmp(b, "mcp-session-id", 14) &&
               mcp_session_id_valid(v, vlen)) {
        memcpy(x->new_session, v, vlen);
        x->new_session[vlen] = '\0';
    }
    return len;
}

static size_t on_body(char *b, size_t size, size_t n, void *ud)
{
    exchange *x = ud;
    size_t len = size * n;
    if (!strncasecmp(x->content_type, "text/event-stream", 17)) {
        if (!x->sse) {
            sse_opts o = {.max_line = MCP_SSE_MAX_EVENT,
                          .max_data = MCP_SSE_MAX_EVENT,
                          .on_event = on_event,
                          .ud = x};
            if (sse_create(&x->sse, &o) != SSE_OK) return 0;
        }
        if (sse_feed(x->sse, b, len) != SSE_OK) {
            x->sse_failed = 1;
            return 0; /* stops the transfer */
        }
        return len;
    }
    int rc = text_buf_addn_max(&x->resp, b, len, MAX_BODY);
    if (rc == TEXT_BUF_ETOOBIG) x->too_big = 1;
    return rc ? 0 : len;
}

static void exchange_clear(exchange *x)
{
    text_buf_free(&x->resp);
    free(x->last_event);
    sse_destroy(x->sse);
    x->last_event = NULL;
    x->sse = NULL;
}

/* Sends x to the bridge. Returns 0 with x->status set, or -1 (no answer;
 * err says why). */
static int perform(exchange *x, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot create an HTTP handle");
        return -1;
    }
    struct curl_slist *h = NULL;
    char line[256];
    h = curl_slist_append(h, g.auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json, text/event-stream");
    if (x->session[0]) {
        snprintf(line, sizeof line, "Mcp-Session-Id: %s", x->session);
        h = curl_slist_append(h, line);
    }
    if (x->version[0]) {
        snprintf(line, sizeof line, "MCP-Protocol-Version: %s", x->version);
        h = curl_slist_append(h, line);
    }
    curl_easy_setopt(c, CURLOPT_URL, g.url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)STALL_S);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    /* Loopback only by default; never follow a redirect with the token. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!strcmp(x->method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)x->body_len);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, x->method);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && (x->too_big || x->sse_failed))) {
        snprintf(err, errlen, "cannot reach the bridge at %.200s: %s", g.url,
                 curl_easy_strerror(rc));
        return -1;
    }
    if (x->too_big) {
        snprintf(err, errlen, "the bridge's answer is larger than %d bytes", MAX_BODY);
        return -1;
    }
    if (x->sse_failed) {
        snprintf(err, errlen, "the bridge's event stream is malformed or too large");
        return -1;
    }
    return 0;
}

/* ==== messages ==== */

/* What a line is, for answering when the bridge cannot. */
typedef struct line_info {
    char id[MCP_MAX_ID_BYTES + 1]; /* "" for notifications and batches */
    int request;
    int initialize;
} line_info;

static void snapshot(exchange *x, unsigned *generation)
{
    pthread_mutex_lock(&g.mu);
    memcpy(x->session, g.session, sizeof x->session);
    memcpy(x->version, g.version, sizeof x->version);
    if (generation) *generation = g.generation;
    pthread_mutex_unlock(&g.mu);
}

/* The protocol version of an initialize result (JSON-RPC response text). */
static void learn_version(const char *json, size_t len)
{
    yajl_val v = NULL;
    char err[64];
    if (mcp_parse(json, len, &v, err, sizeof err) != MCP_OK) return;
    const char *path[] = {"result", "protocolVersion", NULL};
    yajl_val pv = yajl_tree_get(v, path, yajl_t_string);
    if (pv && mcp_version_supported(pv->u.string, strlen(pv->u.string))) {
        pthread_mutex_lock(&g.mu);
        snprintf(g.version, sizeof g.version, "%s", pv->u.string);
        pthread_mutex_unlock(&g.mu);
    }
    yajl_tree_free(v);
}

/* A new session with the client's initialize params, after the bridge
 * forgot the one of generation gen (another worker may have done it
 * already). Returns 0 when a session exists. */
static int reinitialize(unsigned gen)
{
    pthread_mutex_lock(&g.mu);
    if (g.generation != gen) {
        pthread_mutex_unlock(&g.mu);
        return 0;
    }
    char *params = g.init_params ? strdup(g.init_params) : NULL;
    pthread_mutex_unlock(&g.mu);
    if (!params) return -1;
    size_t n = strlen(params) + 128;
    char *body = malloc(n);
    if (!body) {
        free(params);
        return -1;
    }
    snprintf(body, n,
             "{\"jsonrpc\":\"2.0\",\"id\":\"comfyd-mcp-reinitialize\",\"method\":"
             "\"initialize\",\"params\":%s}",
             params);
    free(params);
    exchange x = {.body = body, .body_len = strlen(body), .method = "POST"};
    char err[256];
    int rc = perform(&x, err, sizeof err);
    free(body);
    if (rc != 0 || x.status != 200 || !x.new_session[0]) {
        logf_("cannot open a new session: %s", rc ? err : "the bridge refused initialize");
        exchange_clear(&x);
        return -1;
    }
    pthread_mutex_lock(&g.mu);
    snprintf(g.session, sizeof g.session, "%s", x.new_session);
    g.generation++;
    pthread_mutex_unlock(&g.mu);
    if (x.resp.p) learn_version(x.resp.p, x.resp.n);
    exchange_clear(&x);
    static const char initialized[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    exchange y = {.body = initialized, .body_len = sizeof initialized - 1, .method = "POST"};
    snapshot(&y, NULL);
    perform(&y, err, sizeof err);
    exchange_clear(&y);
    logf_("the bridge had forgotten the session: a new one is open");
    return 0;
}

/* The error text of an HTTP answer without a JSON-RPC body. */
static void http_reason(const exchange *x, char *out, size_t cap)
{
    const char *body = x->resp.p ? x->resp.p : "";
    snprintf(out, cap, "the bridge answered HTTP %ld%s%.200s", x->status, *body ? ": " : "", body);
}

/* Relays a non-stream answer; for HTTP errors the JSON-RPC error gets the
 * request's id (the bridge answers some with id null). */
static void relay_body(const exchange *x, const line_info *li)
{
    if (x->status == 202 || x->status == 204) return;
    yajl_val v = NULL;
    char err[64];
    int json = x->resp.n && mcp_parse(x->resp.p, x->resp.n, &v, err, sizeof err) == MCP_OK;
    if (x->status >= 200 && x->status < 300 && json) {
        out_line(x->resp.p, x->resp.n);
        yajl_tree_free(v);
        return;
    }
    if (!li->request) {
        char reason[300];
        http_reason(x, reason, sizeof reason);
        logf_("a notification was refused: %s", reason);
        yajl_tree_free(v);
        return;
    }
    const char *code_path[] = {"error", "code", NULL};
    const char *msg_path[] = {"error", "message", NULL};
    yajl_val code = json ? yajl_tree_get(v, code_path, yajl_t_number) : NULL;
    yajl_val msg = json ? yajl_tree_get(v, msg_path, yajl_t_string) : NULL;
    if (code && YAJL_IS_INTEGER(code) && msg) {
        out_error(li->id, (int)YAJL_GET_INTEGER(code), "%s", msg->u.string);
    } else {
        char reason[300];
        http_reason(x, reason, sizeof reason);
        out_error(li->id, MCP_RPC_INTERNAL_ERROR, "%s", reason);
    }
    yajl_tree_free(v);
}

/* Forwards one message and relays the answer. */
static void forward(const char *line, size_t len, const line_info *li)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        exchange x = {.body = line, .body_len = len, .method = "POST", .relay = 1};
        unsigned gen = 0;
        if (!li->initialize) snapshot(&x, &gen);
        char err[300];
        if (perform(&x, err, sizeof err) != 0) {
            logf_("%s", err);
            /* A stream that already carried the answer needs nothing more. */
            if (li->request && !x.events) out_error(li->id, MCP_RPC_INTERNAL_ERROR, "%s", err);
            exchange_clear(&x);
            return;
        }
        if (x.status == 404 && x.session[0] && attempt == 0 && reinitialize(gen) == 0) {
            exchange_clear(&x);
            continue;
        }
        if (li->initialize && x.new_session[0]) {
            pthread_mutex_lock(&g.mu);
            snprintf(g.session, sizeof g.session, "%s", x.new_session);
            g.generation++;
            pthread_mutex_unlock(&g.mu);
            if (x.resp.p) learn_version(x.resp.p, x.resp.n);
            if (x.last_event) learn_version(x.last_event, strlen(x.last_event));
        }
        if (!x.sse) relay_body(&x, li);
        exchange_clear(&x);
        return;
    }
}

typedef struct job {
    char *line;
    size_t len;
    line_info li;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    forward(j->line, j->len, &j->li);
    free(j->line);
    free(j);
    sem_post(&g.slots);
    pthread_mutex_lock(&g.run_mu);
    g.running--;
    pthread_cond_broadcast(&g.run_cv);
    pthread_mutex_unlock(&g.run_mu);
    return NULL;
}

/* Looks at a line: parse errors are answered here (-32700), as are
 * invalid messages (-32600); returns 1 when it should be forwarded. The
 * client's initialize params are kept for a later re-initialize. */
static int inspect(const char *line, size_t len, line_info *li)
{
    memset(li, 0, sizeof *li);
    yajl_val v = NULL;
    char err[256];
    int rc = mcp_parse(line, len, &v, err, sizeof err);
    if (rc != MCP_OK) {
        out_error("", rc == MCP_E_TOOBIG ? MCP_RPC_INVALID_REQUEST : MCP_RPC_PARSE_ERROR,
                  "Parse error: %s", err);
        return 0;
    }
    if (YAJL_IS_ARRAY(v)) {
        /* A batch: the bridge answers it (or refuses it) as a whole. */
        yajl_tree_free(v);
        return 1;
    }
    mcp_msg m;
    if (mcp_message(v, &m, err, sizeof err) != MCP_OK) {
        out_error(m.id, MCP_RPC_INVALID_REQUEST, "Invalid Request: %s", err);
        yajl_tree_free(v);
        return 0;
    }
    li->request = m.kind == MCP_MSG_REQUEST;
    memcpy(li->id, m.id, sizeof li->id);
    li->initialize = li->request && !strcmp(m.method, "initialize");
    if (li->initialize) {
        char *params = NULL;
        size_t plen = 0;
        if (m.params && mcp_json_text(m.params, &params, &plen) == MCP_OK) {
            pthread_mutex_lock(&g.mu);
            free(g.init_params);
            g.init_params = params;
            pthread_mutex_unlock(&g.mu);
        }
    }
    yajl_tree_free(v);
    return 1;
}

static int load_token(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        logf_("cannot read the token file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        out[--n] = '\0';
    if (!n) {
        logf_("the token file %s is empty", path);
        return -1;
    }
    return 0;
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [options]\n"
            "comfyd-mcp speaks MCP on stdin/stdout (one JSON-RPC message a line) and forwards\n"
            "every message to comfyd-bridge's /mcp endpoint, for MCP clients that only start\n"
            "processes. Logs go to stderr.\n"
            "\n"
            "Options:\n"
            "  --bridge URL         the bridge [COMFYD_MCP_BRIDGE, default %s]\n"
            "  --token-file PATH    the bridge's token file [COMFYD_BRIDGE_TOKEN_FILE,\n"
            "                       default ./var/token]; the token itself may be given in\n"
            "                       COMFYD_TOKEN instead\n"
            "  -v, --verbose        log every message forwarded\n"
            "  -h, --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n",
            prog, DEFAULT_BRIDGE);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bridge", required_argument, NULL, 'b'}, {"token-file", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    const char *bridge = getenv("COMFYD_MCP_BRIDGE");
    const char *token_file = getenv("COMFYD_BRIDGE_TOKEN_FILE");
    int opt;
    while ((opt = getopt_long(argc, argv, "hVv", opts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            bridge = optarg;
            break;
        case 't':
            token_file = optarg;
            break;
        case 'v':
            g.verbose = 1;
            break;
        case 'h':
            usage(stdout, argv[0]);
            return 0;
        case 'V':
            printf("comfyd-mcp %s\n", COMFYD_VERSION);
            return 0;
        default:
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (optind < argc) {
        logf_("unexpected argument '%s' (see --help)", argv[optind]);
        return 2;
    }
    if (!bridge || !*bridge) bridge = DEFAULT_BRIDGE;
    if (strncmp(bridge, "http://", 7) && strncmp(bridge, "https://", 8)) {
        logf_("--bridge: '%s' is not an http:// or https:// URL", bridge);
        return 2;
    }
    size_t bl = strlen(bridge);
    while (bl && bridge[bl - 1] == '/')
        bl--;
    int has_path = bl >= 4 && !strncmp(bridge + bl - 4, "/mcp", 4);
    if (bl + 8 >= sizeof g.url) {
        logf_("--bridge: URL too long");
        return 2;
    }
    snprintf(g.url, sizeof g.url, "%.*s%s", (int)bl, bridge, has_path ? "" : "/mcp");
    char token[MAX_TOKEN];
    const char *env_token = getenv("COMFYD_TOKEN");
    if (env_token && *env_token && (!token_file || !*token_file)) {
        snprintf(token, sizeof token, "%s", env_token);
    } else if (load_token(token_file && *token_file ? token_file : "var/token", token,
                          sizeof token) != 0) {
        return 2;
    }
    snprintf(g.auth, sizeof g.auth, "Authorization: Bearer %s", token);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        logf_("cannot initialise libcurl");
        return 1;
    }
    sem_init(&g.slots, 0, MAX_INFLIGHT);

    /* Lines up to one message plus its newline; longer ones are drained
     * and refused. */
    size_t cap = MCP_MAX_MESSAGE_BYTES + 2;
    char *buf = malloc(cap);
    if (!buf) return 1;
    for (;;) {
        size_t n = 0;
        int c, too_long = 0;
        while ((c = getchar()) != EOF && c != '\n') {
            if (n + 1 < cap)
                buf[n++] = (char)c;
            else
                too_long = 1;
        }
        if (c == EOF && n == 0) break;
        while (n && buf[n - 1] == '\r')
            n--;
        buf[n] = '\0';
        if (too_long) {
            out_error("", MCP_RPC_INVALID_REQUEST,
                      "Invalid Request: a message larger than %d "
                      "bytes",
                      MCP_MAX_MESSAGE_BYTES);
            continue;
        }
        if (!n) continue;
        line_info li;
        if (!inspect(buf, n, &li)) continue;
        if (g.verbose) logf_("-> %.200s", buf);
        if (li.initialize) {
            forward(buf, n, &li);
            continue;
        }
        job *j = calloc(1, sizeof *j);
        if (!j || !(j->line = malloc(n + 1))) {
            free(j);
            if (li.request) out_error(li.id, MCP_RPC_INTERNAL_ERROR, "out of memory");
            continue;
        }
        memcpy(j->line, buf, n + 1);
        j->len = n;
        j->li = li;
        sem_wait(&g.slots);
        pthread_mutex_lock(&g.run_mu);
        g.running++;
        pthread_mutex_unlock(&g.run_mu);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, worker, j) != 0) {
            pthread_attr_destroy(&at);
            worker(j); /* no thread: forwarded inline */
            continue;
        }
        pthread_attr_destroy(&at);
    }
    free(buf);
    /* stdin closed: let the answers in flight arrive, then end the session. */
    pthread_mutex_lock(&g.run_mu);
    while (g.running)
        pthread_cond_wait(&g.run_cv, &g.run_mu);
    pthread_mutex_unlock(&g.run_mu);
    exchange x = {.method = "DELETE"};
    snapshot(&x, NULL);
    if (x.session[0]) {
        char err[300];
        perform(&x, err, sizeof err);
        exchange_clear(&x);
    }
    free(g.init_params);
    curl_global_cleanup();
    return 0;
}
