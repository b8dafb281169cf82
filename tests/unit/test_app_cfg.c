/* Unit tests of app's shared pure parts: configuration, status mapping,
 * the bounded JSON parse and the metrics text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app_int.h"

static int parse(app_cfg *c, char **argv, char *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return app_cfg_parse(c, argc, argv, err, 256);
}

static void clear_env(void)
{
    static const char *const names[] = {"COMFYD_BRIDGE_LISTEN",
                                        "COMFYD_BRIDGE_CORE",
                                        "COMFYD_BRIDGE_DATA",
                                        "COMFYD_BRIDGE_TOKEN_FILE",
                                        "COMFYD_BRIDGE_ALLOW_ORIGIN",
                                        "COMFYD_BRIDGE_ALLOW_HOST",
                                        "COMFYD_BRIDGE_LOG_LEVEL",
                                        "COMFYD_BRIDGE_MAX_CONNECTIONS",
                                        "COMFYD_BRIDGE_MAX_UNAUTH_CONNECTIONS",
                                        "COMFYD_BRIDGE_HANDSHAKE_TIMEOUT_MS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

static void cfg_defaults_put_core_and_token_in_data_dir(void **state)
{
    (void)state;
    clear_env();
    app_cfg c;
    char err[256];
    char *argv[] = {"b", NULL};
    assert_int_equal(parse(&c, argv, err), APP_OK);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8189);
    assert_string_equal(c.data_dir, "./var");
    assert_string_equal(c.core, "unix:./var/comfyd.sock");
    assert_string_equal(c.token_file, "./var/token");
    assert_int_equal(c.n_allow_origins, 0);
    app_cfg_clear(&c);

    char *argv2[] = {"b", "--data", "/tmp/d", NULL};
    assert_int_equal(parse(&c, argv2, err), APP_OK);
    assert_string_equal(c.core, "unix:/tmp/d/comfyd.sock");
    assert_string_equal(c.token_file, "/tmp/d/token");
    app_cfg_clear(&c);
}

static void cfg_flags_are_parsed_and_repeatable(void **state)
{
    (void)state;
    clear_env();
    app_cfg c;
    char err[256];
    char *argv[] = {"b",
                    "--listen",
                    "[::1]:9000",
                    "--core",
                    "127.0.0.1:50051",
                    "--token-file",
                    "/tmp/t",
                    "--allow-origin",
                    "http://a:1",
                    "--allow-origin",
                    "http://b:2",
                    "--allow-host",
                    "box",
                    "--log-level",
                    "debug",
                    NULL};
    assert_int_equal(parse(&c, argv, err), APP_OK);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 9000);
    assert_string_equal(c.core, "127.0.0.1:50051");
    assert_string_equal(c.token_file, "/tmp/t");
    assert_int_equal(c.n_allow_origins, 2);
    assert_string_equal(c.allow_origins[1], "http://b:2");
    assert_int_equal(c.n_allow_hosts, 1);
    assert_int_equal(c.log_level, 1);
    app_cfg_clear(&c);

    char *argv2[] = {"b", "--listen", "localhost:0", NULL};
    assert_int_equal(parse(&c, argv2, err), APP_OK);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 0);
    app_cfg_clear(&c);
}

static void cfg_env_twins_apply_and_flags_win(void **state)
{
    (void)state;
    clear_env();
    setenv("COMFYD_BRIDGE_LISTEN", "127.0.0.1:7000", 1);
    setenv("COMFYD_BRIDGE_ALLOW_ORIGIN", "http://x:1,http://y:2", 1);
    setenv("COMFYD_BRIDGE_CORE", "unix:/env.sock", 1);
    app_cfg c;
    char err[256];
    char *argv[] = {"b", "--core", "unix:/flag.sock", NULL};
    assert_int_equal(parse(&c, argv, err), APP_OK);
    assert_int_equal(c.listen_port, 7000);
    assert_int_equal(c.n_allow_origins, 2);
    assert_string_equal(c.allow_origins[0], "http://x:1");
    assert_string_equal(c.core, "unix:/flag.sock");
    app_cfg_clear(&c);

    char *argv2[] = {"b", "--allow-origin", "http://z:3", NULL};
    assert_int_equal(parse(&c, argv2, err), APP_OK);
    assert_int_equal(c.n_allow_origins, 1);
    assert_string_equal(c.allow_origins[0], "http://z:3");
    app_cfg_clear(&c);

    setenv("COMFYD_BRIDGE_LOG_LEVEL", "loud", 1);
    char *argv3[] = {"b", NULL};
    assert_int_equal(parse(&c, argv3, err), APP_E_ARG);
    assert_non_null(strstr(err, "COMFYD_BRIDGE_LOG_LEVEL"));
    app_cfg_clear(&c);
    clear_env();
}

static void cfg_bad_values_are_refused_with_the_flag_named(void **state)
{
    (void)state;
    clear_env();
    app_cfg c;
    char err[256];
    char *bad[][4] = {
        {"b", "--listen", "nohost", NULL},
        {"b", "--listen", "127.0.0.1:99999", NULL},
        {"b", "--listen", "example.com:80", NULL},
        {"b", "--core", "nowhere", NULL},
        {"b", "--core", "unix:", NULL},
        {"b", "--data", "", NULL},
        {"b", "--bogus", NULL, NULL},
        {"b", "extra", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&c, bad[i], err), APP_E_ARG);
        assert_true(strlen(err) > 0);
        app_cfg_clear(&c);
    }
    char *help[] = {"b", "--help", NULL};
    assert_int_equal(parse(&c, help, err), APP_HELP);
    app_cfg_clear(&c);
    char *ver[] = {"b", "-V", NULL};
    assert_int_equal(parse(&c, ver, err), APP_VERSION);
    app_cfg_clear(&c);
}

/* Several cores (one PostgreSQL database): --core repeated becomes one
 * gRPC address list, of one kind only. */
static void cfg_several_cores_make_one_address_list(void **state)
{
    (void)state;
    clear_env();
    app_cfg c;
    char err[256];
    char *unix2[] = {"b", "--core", "unix:/run/a.sock", "--core", "unix:/run/b.sock", NULL};
    assert_int_equal(parse(&c, unix2, err), APP_OK);
    assert_string_equal(c.core, "unix:/run/a.sock,/run/b.sock");
    app_cfg_clear(&c);
    char *ip[] = {"b", "--core", "10.0.0.1:50051", "--core", "localhost:50052", NULL};
    assert_int_equal(parse(&c, ip, err), APP_OK);
    assert_string_equal(c.core, "ipv4:10.0.0.1:50051,127.0.0.1:50052");
    app_cfg_clear(&c);
    char *ip6[] = {"b", "--core", "[::1]:50051", "--core", "[fd00::2]:50051", NULL};
    assert_int_equal(parse(&c, ip6, err), APP_OK);
    assert_string_equal(c.core, "ipv6:[::1]:50051,[fd00::2]:50051");
    app_cfg_clear(&c);
    char *bad[][6] = {
        {"b", "--core", "unix:/a.sock", "--core", "10.0.0.1:1", NULL}, /* two kinds */
        {"b", "--core", "db.example:1", "--core", "10.0.0.1:1", NULL}, /* a name */
        {"b", "--core", "unix:/a,b.sock", "--core", "unix:/c.sock", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&c, bad[i], err), APP_E_ARG);
        assert_non_null(strstr(err, "--core"));
        app_cfg_clear(&c);
    }
    char *many[2 + 2 * (APP_MAX_CORES + 1)];
    many[0] = "b";
    for (int i = 0; i <= APP_MAX_CORES; i++) {
        many[1 + 2 * i] = "--core";
        many[2 + 2 * i] = "unix:/x.sock";
    }
    many[1 + 2 * (APP_MAX_CORES + 1)] = NULL;
    assert_int_equal(parse(&c, many, err), APP_E_ARG);
    assert_non_null(strstr(err, "at most"));
    app_cfg_clear(&c);
}

static void cfg_connection_limits_have_flags_and_twins(void **state)
{
    (void)state;
    clear_env();
    app_cfg c;
    char err[256];
    char *argv[] = {"b", NULL};
    assert_int_equal(parse(&c, argv, err), APP_OK);
    assert_int_equal(c.max_connections, APP_DEFAULT_MAX_CONNECTIONS);
    assert_int_equal(c.max_unauth_connections, APP_DEFAULT_MAX_UNAUTH);
    assert_int_equal(c.handshake_timeout_ms, APP_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    app_cfg_clear(&c);

    char *argv2[] = {"b", "--max-connections",      "32",   "--max-unauth-connections",
                     "8", "--handshake-timeout-ms", "1500", NULL};
    assert_int_equal(parse(&c, argv2, err), APP_OK);
    assert_int_equal(c.max_connections, 32);
    assert_int_equal(c.max_unauth_connections, 8);
    assert_int_equal(c.handshake_timeout_ms, 1500);
    app_cfg_clear(&c);

    setenv("COMFYD_BRIDGE_MAX_CONNECTIONS", "40", 1);
    setenv("COMFYD_BRIDGE_MAX_UNAUTH_CONNECTIONS", "4", 1);
    setenv("COMFYD_BRIDGE_HANDSHAKE_TIMEOUT_MS", "2000", 1);
    char *argv3[] = {"b", "--max-unauth-connections", "5", NULL};
    assert_int_equal(parse(&c, argv3, err), APP_OK);
    assert_int_equal(c.max_connections, 40);
    assert_int_equal(c.max_unauth_connections, 5);
    assert_int_equal(c.handshake_timeout_ms, 2000);
    app_cfg_clear(&c);
    clear_env();

    char *bad[][4] = {
        {"b", "--max-connections", "0", NULL},
        {"b", "--max-connections", "12x", NULL},
        {"b", "--max-unauth-connections", "", NULL},
        {"b", "--handshake-timeout-ms", "5", NULL},
        {"b", "--handshake-timeout-ms", "99999999", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&c, bad[i], err), APP_E_ARG);
        assert_non_null(strstr(err, bad[i][1]));
        app_cfg_clear(&c);
    }
    /* The unauthenticated budget is part of the total. */
    char *over[] = {"b", "--max-connections", "8", "--max-unauth-connections", "9", NULL};
    assert_int_equal(parse(&c, over, err), APP_E_ARG);
    assert_non_null(strstr(err, "--max-unauth-connections"));
    app_cfg_clear(&c);
}

static void grpc_codes_map_to_http_statuses(void **state)
{
    (void)state;
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_OK), 200);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_INVALID_ARGUMENT), 400);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_NOT_FOUND), 404);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_ALREADY_EXISTS), 409);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_FAILED_PRECONDITION), 409);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_DEADLINE_EXCEEDED), 504);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_UNAVAILABLE), 503);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_RESOURCE_EXHAUSTED), 429);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_ABORTED), 502);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_INTERNAL), 500);
    assert_int_equal(app_status_for_grpc(GRPC_STATUS_UNIMPLEMENTED), 500);
    assert_string_equal(app_grpc_code_name(GRPC_STATUS_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
    assert_string_equal(app_grpc_code_name((grpc_status_code)99), "UNKNOWN");
}

static void graph_codes_map_to_http_statuses(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int status;
    } t[] = {
        {"INVALID_COMMAND", 422},
        {"UNKNOWN_NODE_TYPE", 422},
        {"NODE_NOT_FOUND", 422},
        {"SLOT_NOT_FOUND", 422},
        {"TYPE_MISMATCH", 422},
        {"WIDGET_NOT_FOUND", 422},
        {"VALUE_INVALID", 422},
        {"REF_NOT_FOUND", 422},
        {"SKIPPED", 422},
        {"STALE_REVISION", 409},
        {"NO_LIVE_CANVAS", 409},
        {"AMBIGUOUS_CANVAS", 409},
        {"CANVAS_NOT_FOUND", 404},
        {"WORKFLOW_NOT_FOUND", 404},
        {"INVALID_NAME", 400},
        {"EDITOR_TIMEOUT", 504},
        {"EDITOR_GONE", 502},
        {"EDITOR_FAILED", 502},
        {"IDEMPOTENCY_KEY_REUSED", 409},
        {"LEASED", 409},
    };
    const ProtobufCEnumDescriptor *d = &comfyd__v1__graph_error_code__descriptor;
    /* Every code of the contract is in the table. */
    assert_int_equal(d->n_values - 1, sizeof t / sizeof t[0]);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char full[64];
        snprintf(full, sizeof full, "GRAPH_ERROR_CODE_%s", t[i].name);
        Comfyd__V1__GraphErrorCode c = app_graph_code_named(full);
        assert_int_equal(app_graph_code_named(t[i].name), c);
        assert_int_not_equal(c, 0);
        assert_string_equal(app_graph_code_name(c), t[i].name);
        assert_int_equal(app_status_for_graph(c), t[i].status);
    }
    assert_int_equal(app_status_for_graph(0), 500);
    assert_string_equal(app_graph_code_name(0), "UNSPECIFIED");
}

/* The trailing metadata's value is a name, whole: the message text is
 * never read for a code. */
static void graph_code_named_needs_a_whole_known_name(void **state)
{
    (void)state;
    assert_int_equal(app_graph_code_named("GRAPH_ERROR_CODE_NO_LIVE_CANVAS"),
                     COMFYD__V1__GRAPH_ERROR_CODE__GRAPH_ERROR_CODE_NO_LIVE_CANVAS);
    assert_int_equal(app_graph_code_named("NO_LIVE_CANVAS: no tab is attached"), 0);
    assert_int_equal(app_graph_code_named("NOT_A_CODE"), 0);
    assert_int_equal(app_graph_code_named("GRAPH_ERROR_CODE_UNSPECIFIED"), 0);
    assert_int_equal(app_graph_code_named(""), 0);
    assert_int_equal(app_graph_code_named(NULL), 0);
}

/* One error space: a code means one thing in every module that uses it,
 * and one function names it. */
static void one_error_space(void **state)
{
    (void)state;
    assert_int_equal(APP_E_NOMEM, BNET_E_NOMEM);
    assert_int_equal(BNET_E_NOMEM, RPCC_ENOMEM);
    assert_int_equal(RPCC_ENOMEM, CFD_ERR_NOMEM);
    assert_int_not_equal(BNET_E_CLOSED, RPCC_ECLOSED);
    assert_string_equal(cfd_strerror(BNET_E_FULL), "output limit reached");
    assert_string_equal(bnet_strerror(BNET_E_FULL), cfd_strerror(BNET_E_FULL));
    assert_string_equal(rpcc_strerror(RPCC_EBUSY), "too many calls in flight");
    assert_string_equal(app_strerror(APP_E_JSON), "invalid JSON");
    assert_string_equal(app_strerror(APP_HELP), "help requested");
    assert_string_equal(cfd_strerror(-99999), "unknown error");
    /* Each band's codes stay inside it. */
    assert_true(BNET_E_TOKEN <= CFD_BAND_NET && BNET_E_TOKEN > CFD_BAND_NET - CFD_BAND_SIZE);
    assert_true(APP_E_START <= CFD_BAND_APP && APP_E_START > CFD_BAND_APP - CFD_BAND_SIZE);
    assert_true(RPCC_EMETHODS <= CFD_BAND_RPCC && RPCC_EMETHODS > CFD_BAND_RPCC - CFD_BAND_SIZE);
}

static void json_parse_refuses_what_would_not_survive(void **state)
{
    (void)state;
    yajl_val v = NULL;
    char err[256];
    assert_int_equal(app__json_parse("{\"a\":[1,2.50,\"x\"]}", 18, &v, err, sizeof err), APP_OK);
    yajl_gen g = app__gen();
    assert_int_equal(app__json_emit(g, v), 0);
    char *out;
    size_t len;
    assert_int_equal(app__gen_finish(g, &out, &len), APP_OK);
    assert_string_equal(out, "{\"a\":[1,2.50,\"x\"]}"); /* numbers verbatim */
    free(out);
    yajl_tree_free(v);

    static const char *const bad[] = {
        "{\"a\":\"x\\u0000y\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00x\"}",
        "{\"a\":1} // c",
        "{\"a\":",
        "",
        "{\"a\":1} {\"b\":2}",
        "{\"a\":\"\\ud800\\u0041\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(app__json_parse(bad[i], strlen(bad[i]), &v, err, sizeof err), APP_E_JSON);
        assert_null(v);
        assert_memory_equal(err, "invalid JSON: ", 14);
    }
    assert_int_equal(app__json_parse("{\"a\":\"\\ud83d\\ude00\"}", 20, &v, err, sizeof err),
                     APP_OK);
    yajl_tree_free(v);
    assert_int_equal(app__json_parse("x\0y", 3, &v, err, sizeof err), APP_E_JSON);

    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_int_equal(app__json_parse(deep, 200, &v, err, sizeof err), APP_E_TOOBIG);
    assert_null(v);
}

static void metrics_render_counts_by_label(void **state)
{
    (void)state;
    app_metrics m;
    memset(&m, 0, sizeof m);
    app_metrics_http(&m, APP_ROUTE_COMMAND, 200);
    app_metrics_http(&m, APP_ROUTE_COMMAND, 200);
    app_metrics_http(&m, APP_ROUTE_COMMAND, 409);
    for (int s = 300; s < 300 + 2 * APP_METRICS_STATUSES; s++)
        app_metrics_http(&m, APP_ROUTE_DIFF, s);
    app_metrics_grpc(&m, APP_M_EXECUTE, GRPC_STATUS_UNAVAILABLE);
    app_metrics_grpc(&m, APP_M_SUBSCRIBE, (grpc_status_code)77);
    m.ws_opened[APP_WS_EDITOR] = 3;
    app_metric_value net[] = {{"net_connections", "Open.", 4, 1}};
    char *out;
    size_t len;
    assert_int_equal(app_metrics_render(&m, net, 1, 1, &out, &len), APP_OK);
    assert_int_equal(strlen(out), len);
    assert_non_null(
        strstr(out, "comfyd_bridge_http_requests_total{route=\"command\",status=\"200\"} 2\n"));
    assert_non_null(
        strstr(out, "comfyd_bridge_http_requests_total{route=\"command\",status=\"409\"} 1\n"));
    assert_non_null(
        strstr(out, "comfyd_bridge_http_requests_total{route=\"diff\",status=\"other\"} 17\n"));
    assert_non_null(
        strstr(out, "comfyd_bridge_grpc_calls_total{method=\"Execute\",code=\"UNAVAILABLE\"} 1\n"));
    assert_non_null(
        strstr(out, "comfyd_bridge_grpc_calls_total{method=\"Subscribe\",code=\"UNKNOWN\"} 1\n"));
    assert_non_null(strstr(out, "comfyd_bridge_ws_connections_total{endpoint=\"editor\"} 3\n"));
    assert_non_null(strstr(out, "# TYPE comfyd_bridge_core_up gauge\ncomfyd_bridge_core_up 1\n"));
    assert_non_null(strstr(out, "# TYPE comfyd_bridge_net_connections gauge\n"
                                "comfyd_bridge_net_connections 4\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cfg_defaults_put_core_and_token_in_data_dir),
        cmocka_unit_test(cfg_flags_are_parsed_and_repeatable),
        cmocka_unit_test(cfg_env_twins_apply_and_flags_win),
        cmocka_unit_test(cfg_bad_values_are_refused_with_the_flag_named),
        cmocka_unit_test(cfg_several_cores_make_one_address_list),
        cmocka_unit_test(cfg_connection_limits_have_flags_and_twins),
        cmocka_unit_test(grpc_codes_map_to_http_statuses),
        cmocka_unit_test(graph_codes_map_to_http_statuses),
        cmocka_unit_test(graph_code_named_needs_a_whole_known_name),
        cmocka_unit_test(one_error_space),
        cmocka_unit_test(json_parse_refuses_what_would_not_survive),
        cmocka_unit_test(metrics_render_counts_by_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
