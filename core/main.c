/* comfyd: the core service. Wires configuration, the data directory lock,
 * the store, the skill registry, the session manager, the canvas manager
 * (with the workflow store and --object-info), the skills' graph tools
 * and the gRPC server, then waits for SIGINT/SIGTERM and shuts down in
 * order. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "canvas.h"
#include "fsutil.h"
#include "cfg.h"
#include "embedder.h"
#include "log.h"
#include "rpcs.h"
#include "runs.h"
#include "session.h"
#include "skills.h"
#include "store.h"
#include "store_pg_notify.h"
#include "svc.h"
#include "text.h"
#include "tools.h"
#include "wfstore.h"

#define MOD "comfyd"

/* Takes DIR/comfyd.lock with flock so that two instances never share a data
 * directory (gRPC would silently take over the other's unix socket). The
 * descriptor stays open for the life of the process. */
static int lock_data_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/comfyd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOG_E(MOD, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0) pid[strcspn(pid, "\n")] = 0;
        LOG_E(MOD, "data directory %s is in use by another comfyd (pid %s); stop it or use --data",
              dir, n > 0 ? pid : "unknown");
        close(fd);
        return -1;
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, len, 0) != len)
        LOG_W(MOD, "cannot write the pid into %s", path);
    return fd;
}

/* A run's output for an attachment (sess_output_fn over runs_output). */
static int fetch_output(void *ud, const char *prompt_id, const char *node_id, uint32_t index,
                        void **data, size_t *len, char *err, size_t errlen)
{
    Comfyd__V1__GetRunOutputResponse *o = NULL;
    int rc = runs_output(ud, prompt_id, node_id, index, 0, &o, err, errlen);
    if (rc != RUNS_OK) {
        return rc == RUNS_EINVAL || rc == RUNS_ENOTFOUND ? SESS_EINVAL
               : rc == RUNS_EFULL                        ? SESS_EFULL
                                                         : SESS_EIO;
    }
    *data = malloc(o->data.len ? o->data.len : 1);
    if (!*data) {
        protobuf_c_message_free_unpacked(&o->base, NULL);
        return SESS_ENOMEM;
    }
    memcpy(*data, o->data.data, o->data.len);
    *len = o->data.len;
    protobuf_c_message_free_unpacked(&o->base, NULL);
    return SESS_OK;
}

/* Attachment GC: at start, then every BLOB_GC_PERIOD_MS until stopped. */
/* A SQLite store named by --store sqlite:PATH may lie outside the data
 * directory, so its lock does not cover it: PATH.lock does. SQLite serves
 * one core; two would interrupt and rerun each other's turns at start.
 * Returns the descriptor (kept open for the life of the process) or -1. */
static int lock_sqlite_store(const char *path)
{
    char lp[4096];
    if ((size_t)snprintf(lp, sizeof lp, "%s.lock", path) >= sizeof lp) {
        LOG_E(MOD, "--store: the SQLite path is too long");
        return -1;
    }
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        LOG_E(MOD, "cannot open %s: %s", lp, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        LOG_E(MOD,
              "SQLite store %s is in use by another comfyd: a SQLite store serves one core; "
              "several cores share a PostgreSQL database (--store postgres://..., "
              "docs/scale-out.md)",
              path);
        close(fd);
        return -1;
    }
    return fd;
}

/* A core's name in the lease rows and event notifications: its host and
 * data directory, unique among live cores (the directory's lock file
 * refuses a second core on it) and the same after a restart, so a
 * restarted core takes its own leases back at once. */
static void core_name(const char *data_dir, char *out, size_t n)
{
    char host[64] = "localhost", path[4096];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    if (!realpath(data_dir, path)) snprintf(path, sizeof path, "%s", data_dir);
    size_t hl = strlen(host), pl = strlen(path);
    /* The end of a long path tells the folders apart. */
    const char *tail = path;
    if (hl + 1 + pl > n - 1) tail = path + (hl + 1 + pl - (n - 1));
    text_buf b = {0};
    text_buf_addf(&b, "%s:%s", host, tail);
    snprintf(out, n, "%.*s", (int)(n - 1), b.p ? b.p : "comfyd");
    text_buf_free(&b);
}

/* The session manager's events to the other cores (sess_fanout_fn). */
static void fanout_event(void *ud, const char *session_id, const void *event, size_t len)
{
    pgnotify_publish(ud, session_id, event, len);
}

/* A Cancel of a turn running on another core ("cancel", "cancel-clear"). */
static void fanout_cancel(void *ud, const char *session_id, int clear_queue)
{
    pgnotify_send_control(ud, session_id, clear_queue ? "cancel-clear" : "cancel");
}

/* A turn waiting here for another core's lease ("turn:ID"). */
static void fanout_offer(void *ud, const char *session_id, uint64_t msg_id)
{
    char word[32];
    snprintf(word, sizeof word, "turn:%llu", (unsigned long long)msg_id);
    pgnotify_send_control(ud, session_id, word);
}

static void remote_control(void *ud, const char *session_id, const char *word)
{
    if (!strcmp(word, "cancel") || !strcmp(word, "cancel-clear"))
        sess_remote_cancel(ud, session_id, !strcmp(word, "cancel-clear"));
    else if (!strncmp(word, "turn:", 5)) {
        char *end = NULL;
        unsigned long long id = strtoull(word + 5, &end, 10);
        if (id && end && !*end) sess_turn_offered(ud, session_id, (uint64_t)id);
    }
}

static void remote_event(void *ud, const char *session_id, const uint8_t *event, size_t len)
{
    sess_remote_event(ud, session_id, event, len);
}

static void hook_lost(void *ud, const char *session_id)
{
    sess_lease_lost(ud, session_id);
}

static void hook_interrupted(void *ud, const char *session_id, uint64_t msg_id)
{
    sess_turn_interrupted(ud, session_id, msg_id);
}

static void hook_orphan(void *ud, const char *session_id, uint64_t msg_id, const char *content)
{
    sess_requeue(ud, session_id, msg_id, content);
}

static pthread_mutex_t gc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc_cv = PTHREAD_COND_INITIALIZER;
static int gc_stop;
static sess_mgr *gc_sm;

static void *gc_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gc_mu);
    while (!gc_stop) {
        pthread_mutex_unlock(&gc_mu);
        sess_gc_blobs(gc_sm, BLOB_TTL_MS);
        pthread_mutex_lock(&gc_mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += BLOB_GC_PERIOD_MS / 1000;
        while (!gc_stop && pthread_cond_timedwait(&gc_cv, &gc_mu, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&gc_mu);
    return NULL;
}

int main(int argc, char **argv)
{
    cfg c;
    char err[512] = "";
    int rc = cfg_parse(&c, argc, argv, err, sizeof err);
    if (rc == CFG_HELP) {
        cfg_usage(stdout, argv[0]);
        cfg_clear(&c);
        return 0;
    }
    if (rc == CFG_VERSION) {
        printf("comfyd %s\n", cfg_version());
        cfg_clear(&c);
        return 0;
    }
    if (rc != CFG_OK) {
        fprintf(stderr, "comfyd: %s\n", err);
        cfg_clear(&c);
        return 2;
    }
    log_set_level(c.log_level);

    /* Signals are taken synchronously by the main thread (sigwait); every
     * thread created from here on inherits the blocked mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 1;
    int lock_fd = -1, store_lock_fd = -1;
    store *st = NULL;
    lease *ls = NULL;
    pgnotify *nt = NULL;
    creg *cr = NULL;
    skills *reg = NULL;
    sess_mgr *sm = NULL;
    blobstore *blobs = NULL;
    pthread_t gc_thread;
    int gc_started = 0;
    wfstore *wfs = NULL;
    canvas_mgr *cm = NULL;
    tools *tl = NULL;
    ckpt *ck = NULL;
    svc_objinfo *oi = NULL;
    runs *rn = NULL;
    rpcs *server = NULL;
    svc_ctx ctx = {0};
    embedder *emb = NULL;
    pthread_mutex_init(&ctx.reload_mu, NULL);

    if (fs_mkdirs(c.data_dir, 0700) != 0) {
        LOG_E(MOD, "cannot create data directory %s: %s", c.data_dir, strerror(errno));
        goto out;
    }
    if ((lock_fd = lock_data_dir(c.data_dir)) < 0) goto out;

    char dbpath[4096];
    snprintf(dbpath, sizeof dbpath, "%s/comfyd.db", c.data_dir);
    if (c.store && strncmp(c.store, STORE_SPEC_SQLITE, strlen(STORE_SPEC_SQLITE)) == 0 &&
        (store_lock_fd = lock_sqlite_store(c.store + strlen(STORE_SPEC_SQLITE))) < 0)
        goto out;
    /* --store names the engine; a PostgreSQL URI may hold a password, so
     * only the engine is logged (the engine logs its host and database). */
    if ((rc = store_open(&st, c.store ? c.store : dbpath)) != STORE_OK) {
        LOG_E(MOD, "cannot open the store %s: %s", c.store ? "given by --store" : dbpath,
              store_strerror(rc));
        goto out;
    }
    char core_id[LEASE_CORE_ID_MAX + 1];
    core_name(c.data_dir, core_id, sizeof core_id);
    if (strcmp(store_engine(st), "postgres") == 0) {
        /* Several cores may share the database: turns run under session
         * leases and events reach the other cores (docs/scale-out.md). */
        char lerr[256] = "";
        uint32_t ttl = c.lease_ttl_ms ? c.lease_ttl_ms : LEASE_TTL_DEFAULT_MS;
        if (lease_open(&ls, c.store, core_id, ttl, lerr, sizeof lerr) != LEASE_OK) {
            LOG_E(MOD, "cannot use session leases: %s", lerr);
            goto out;
        }
        LOG_I(MOD, "core %s: session leases of %u ms on the shared database", core_id, ttl);
        /* Canvases attached here are registered with the address the other
         * cores forward their graph commands to. */
        const char *adv = c.advertise ? c.advertise : c.listen[0];
        if (!c.advertise && (strncmp(adv, "0.0.0.0:", 8) == 0 || strncmp(adv, "[::]:", 5) == 0))
            LOG_W(MOD,
                  "--advertise not given and %s is not an address other cores can reach: "
                  "graph commands for canvases attached here cannot be forwarded",
                  adv);
        if (creg_open(&cr, c.store, core_id, adv, ttl, lerr, sizeof lerr) != CREG_OK) {
            LOG_E(MOD, "cannot use the canvas registry: %s", lerr);
            goto out;
        }
        LOG_I(MOD, "core %s: canvases attached here are reached at %s", core_id, adv);
        lease_set_addr(ls, adv);
    }

    skills_root roots[1 + CFG_MAX_SKILL_DIRS];
    size_t n_roots = 0;
    roots[n_roots++] = (skills_root){c.builtin_skills, SKILL_SOURCE_BUILTIN};
    for (size_t i = 0; i < c.n_skill_dirs; i++)
        roots[n_roots++] = (skills_root){c.skill_dirs[i], SKILL_SOURCE_USER};
    if (skills_load(&reg, roots, n_roots) != SKILLS_OK) {
        LOG_E(MOD, "cannot load skills: out of memory");
        goto out;
    }
    for (size_t i = 0; i < skills_error_count(reg); i++) {
        const skills_error *e = skills_error_at(reg, i);
        LOG_W("skills", "skipped %s: %s", e->path, e->message);
    }
    LOG_I("skills", "%zu skill(s) loaded", skills_count(reg));

    char blobdir[4096], berr[512] = "";
    snprintf(blobdir, sizeof blobdir, "%s/blobs", c.data_dir);
    if (blobstore_create(&blobs, blobdir, berr, sizeof berr) != BLOB_OK) {
        LOG_E(MOD, "cannot open the attachment store: %s", berr);
        goto out;
    }
    sess_mgr_opts so = {.st = st,
                        .skills = reg,
                        .default_delay_ms = c.echo_delay_ms,
                        .blobs = blobs,
                        .context_window = c.context_window,
                        .lease = ls};
    if ((rc = sess_mgr_create(&sm, &so)) != SESS_OK) {
        LOG_E(MOD, "cannot start the session manager");
        goto out;
    }
    if (ls) {
        char nerr[256] = "";
        if (pgnotify_open(&nt, c.store, core_id, remote_event, sm, nerr, sizeof nerr) != 0) {
            LOG_E(MOD, "cannot share session events with the other cores: %s", nerr);
            goto out;
        }
        pgnotify_set_control(nt, remote_control);
        sess_mgr_set_fanout(sm, fanout_event, fanout_cancel, nt);
        sess_mgr_set_offer(sm, fanout_offer);
    }

    char wfdir[4096], werr[512] = "";
    snprintf(wfdir, sizeof wfdir, "%s/workflows", c.data_dir);
    if (wfstore_open(&wfs, wfdir, werr, sizeof werr) != WFSTORE_OK) {
        LOG_E(MOD, "cannot open the workflow store: %s", werr);
        goto out;
    }
    if (wfstore_cleaned(wfs))
        LOG_I(MOD, "removed %zu temporary file(s) of interrupted workflow saves from %s",
              wfstore_cleaned(wfs), wfdir);
    canvas_mgr_opts co = {.store = wfs,
                          .default_timeout_ms = c.editor_timeout_ms,
                          .idem_max_keys = c.idem_max_keys,
                          .idem_max_age_ms = (uint64_t)c.idem_ttl_s * 1000,
                          .db = st};
    if (canvas_mgr_create(&cm, &co) != CANVAS_OK) {
        LOG_E(MOD, "cannot start the canvas manager");
        goto out;
    }
    if (c.object_info && svc_objinfo_start(&oi, cm, c.object_info, c.data_dir) != 0) goto out;
    if (c.comfyui) {
        char rpath[4096], rerr[512] = "";
        snprintf(rpath, sizeof rpath, "%s/runs.db", c.data_dir);
        runs_opts ro = {.comfyui_url = c.comfyui, .db_path = rpath, .cm = cm};
        if (runs_create(&rn, &ro, rerr, sizeof rerr) != 0) {
            LOG_E(MOD, "cannot follow runs: %s", rerr);
            goto out;
        }
    }
    /* The skills' graph tools and the canvas note go through the canvas
     * manager like any GraphService caller. */
    if (ckpt_create(&ck, st, cm) != CKPT_OK) {
        LOG_E(MOD, "cannot set up canvas checkpoints: out of memory");
        goto out;
    }
    tools_opts to = {.cm = cm, .runs = rn, .ck = ck};
    size_t n_tools = 0;
    const agent_tool *tool_table = tools_table(&n_tools);
    if (tools_create(&tl, &to) != TOOLS_OK ||
        sess_mgr_set_tools(sm, tool_table, n_tools, tl) != SESS_OK) {
        LOG_E(MOD, "cannot set up the agent tools: out of memory");
        goto out;
    }
    sess_mgr_set_note(sm, tools_note, tl);
    sess_mgr_set_turn_end(sm, tools_turn_end, tl);
    if (rn) sess_mgr_set_output(sm, fetch_output, rn);
    /* Before the runners start: a recovered turn may search (recall). */
    if (c.embed_url) {
        /* The key comes from the environment only (a flag would show in
         * ps) and goes to --embed-url's host only (embed_client.h). */
        embedder_cfg ec = {.base_url = c.embed_url,
                           .model = c.embed_model,
                           .api_key = getenv("COMFYD_EMBED_API_KEY"),
                           .min_sim = c.embed_min_sim};
        char eerr[256] = "";
        if (embedder_create(&emb, st, &ec, eerr, sizeof eerr) != 0) {
            LOG_E(MOD, "--embed-url: %s", eerr);
            goto out;
        }
        LOG_I(MOD, "hybrid search: embeddings by %s", c.embed_model);
    }
    sess_mgr_set_embedder(sm, emb);
    sess_mgr_start(sm);
    lease_hooks lh = {
        .lost = hook_lost, .interrupted = hook_interrupted, .orphan = hook_orphan, .ud = sm};
    if (ls && lease_start(ls, &lh) != LEASE_OK) {
        LOG_E(MOD, "cannot start the lease thread");
        goto out;
    }
    /* Attachment files no message refers to: now, then periodically. */
    gc_sm = sm;
    if (pthread_create(&gc_thread, NULL, gc_main, NULL) == 0) gc_started = 1;

    ctx.sm = sm;
    ctx.roots = roots;
    ctx.n_roots = n_roots;
    ctx.cm = cm;
    ctx.runs = rn;
    ctx.ck = ck;
    ctx.reg = cr;
    if (cr) ctx.fwd = svc_fwd_create(cr);
    ctx.st = st;
    ctx.ls = ls;
    ctx.nt = nt;
    ctx.core_id = core_id;
    rpcs_method methods[64];
    size_t nm = svc_session_methods(&ctx, methods, 64);
    nm += svc_skill_methods(&ctx, methods + nm, 64 - nm);
    nm += svc_graph_methods(&ctx, methods + nm, 64 - nm);
    nm += svc_run_methods(&ctx, methods + nm, 64 - nm);
    nm += svc_fork_methods(&ctx, methods + nm, 64 - nm);
    nm += svc_health_methods(&ctx, methods + nm, 64 - nm);
    rpcs_opts ro = {.listen = (const char *const *)c.listen,
                    .n_listen = c.n_listen,
                    .cq_threads = c.cq_threads,
                    .handler_threads = c.handler_threads,
                    /* Room for a burst of small deltas per subscriber; the
                     * byte budget still bounds memory. */
                    .max_queued = 8192};
    if ((rc = rpcs_create(&server, &ro, methods, nm)) != RPCS_OK) {
        LOG_E(MOD, "cannot start the gRPC server: %s", cfd_strerror(rc));
        goto out;
    }
    char where[1024] = "";
    for (size_t i = 0; i < c.n_listen; i++) {
        strncat(where, i ? ", " : "", sizeof where - strlen(where) - 1);
        strncat(where, c.listen[i], sizeof where - strlen(where) - 1);
    }
    LOG_N(MOD, "ready: comfyd %s listening on %s (data %s)", cfg_version(), where, c.data_dir);

    int sig = 0;
    sigwait(&sigs, &sig);
    LOG_I(MOD, "%s received: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    exit_code = 0;

out:
    /* Order: end the streams and stop the turns, fail the requests waiting
     * for tabs and end the canvas streams, then the server (grace period
     * for what is left), then the state. */
    svc_objinfo_stop(oi);
    if (gc_started) {
        pthread_mutex_lock(&gc_mu);
        gc_stop = 1;
        pthread_cond_signal(&gc_cv);
        pthread_mutex_unlock(&gc_mu);
        pthread_join(gc_thread, NULL);
    }
    /* No sweep queues a turn while the runners are being joined. */
    lease_stop(ls);
    if (sm) sess_mgr_shutdown(sm);
    if (cm) canvas_mgr_shutdown(cm);
    /* Forwarded requests in flight end (CANCELLED) before their calls do. */
    svc_fwd_destroy(ctx.fwd);
    /* Ends the WatchRun streams before the server waits for them. */
    runs_shutdown(rn);
    if (server) rpcs_destroy(server);
    /* After the server: its handlers (GetHealth lists the peers and reads
     * the counters, a turn's events are published) use both until the
     * last call ended. Both threads call into the session manager, so
     * they stop before it is freed. */
    lease_close(ls);
    pgnotify_close(nt);
    /* No search runs any more; the store outlives it. */
    embedder_destroy(emb);
    creg_close(cr);
    runs_destroy(rn);
    canvas_mgr_destroy(cm);
    wfstore_close(wfs);
    sess_mgr_destroy(sm);
    /* After the session manager: no turn calls a tool any more. */
    tools_destroy(tl);
    ckpt_destroy(ck);
    skills_unref(reg);
    blobstore_destroy(blobs);
    store_close(st);
    if (store_lock_fd >= 0) close(store_lock_fd);
    if (lock_fd >= 0) close(lock_fd);
    pthread_mutex_destroy(&ctx.reload_mu);
    if (exit_code == 0) LOG_N(MOD, "stopped");
    cfg_clear(&c);
    return exit_code;
}
