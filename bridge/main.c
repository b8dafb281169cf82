/* comfyd-bridge: parses the configuration, runs the application layer (app.h)
 * on a libuv loop and shuts down gracefully on SIGINT/SIGTERM (a second
 * signal stops at once). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "app.h"
#include "log.h"

static app *the_app;
static uv_signal_t sig_int, sig_term;

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    log_msg(LOG_INFO, "comfyd-bridge", "%s received", signum == SIGINT ? "SIGINT" : "SIGTERM");
    app_shutdown(the_app);
    /* The signal handles keep the loop alive: drop them once stopping, so
     * uv_run returns when the server's handles are closed. A second signal
     * is still delivered while they stay. */
    static int seen;
    if (++seen >= 2) {
        uv_close((uv_handle_t *)&sig_int, NULL);
        uv_close((uv_handle_t *)&sig_term, NULL);
    } else {
        uv_unref((uv_handle_t *)&sig_int);
        uv_unref((uv_handle_t *)&sig_term);
    }
}

int main(int argc, char **argv)
{
    app_cfg cfg;
    char err[512];
    int rc = app_cfg_parse(&cfg, argc, argv, err, sizeof err);
    if (rc == APP_HELP) {
        app_cfg_usage(stdout, argv[0]);
        app_cfg_clear(&cfg);
        return 0;
    }
    if (rc == APP_VERSION) {
        printf("comfyd-bridge %s\n", app_version());
        app_cfg_clear(&cfg);
        return 0;
    }
    if (rc != APP_OK) {
        fprintf(stderr, "comfyd-bridge: %s\n", err);
        app_cfg_clear(&cfg);
        return 2;
    }
    log_set_level((log_level)cfg.log_level);

    uv_loop_t *loop = uv_default_loop();
    rc = app_create(&the_app, loop, &cfg);
    app_cfg_clear(&cfg);
    if (rc != APP_OK) {
        uv_loop_close(loop);
        return 1;
    }
    uv_signal_init(loop, &sig_int);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_term, on_signal, SIGTERM);

    uv_run(loop, UV_RUN_DEFAULT);

    if (!uv_is_closing((uv_handle_t *)&sig_int)) {
        uv_close((uv_handle_t *)&sig_int, NULL);
        uv_close((uv_handle_t *)&sig_term, NULL);
    }
    app_destroy(the_app);
    uv_run(loop, UV_RUN_DEFAULT); /* the signal handles' close callbacks */
    if (uv_loop_close(loop) != 0) log_msg(LOG_WARN, "comfyd-bridge", "loop handles left open");
    log_msg(LOG_NOTICE, "comfyd-bridge", "stopped");
    return 0;
}
