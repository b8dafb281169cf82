/* net_policy: Host, Origin, token rules and the token file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static net_str S(const char *s)
{
    return (net_str){s, s ? strlen(s) : 0};
}

static int setup(void **state)
{
    static const char *const hosts[] = {"bridge.test", "other.test:9000"};
    static const char *const origins[] = {"http://localhost:5173"};
    net_policy_opts o = {8189, hosts, 2, origins, 1, TOKEN};
    net_policy *p;
    assert_int_equal(net_policy_create(&p, &o), 0);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    net_policy_destroy(*state);
    return 0;
}

static void loopback_hosts_with_the_listen_port_pass(void **state)
{
    net_policy *p = *state;
    assert_true(net_policy_host_ok(p, S("127.0.0.1:8189")));
    assert_true(net_policy_host_ok(p, S("localhost:8189")));
    assert_true(net_policy_host_ok(p, S("LocalHost:8189")));
    assert_true(net_policy_host_ok(p, S("[::1]:8189")));
}

static void other_ports_and_names_fail(void **state)
{
    net_policy *p = *state;
    assert_false(net_policy_host_ok(p, S("127.0.0.1:8188")));
    assert_false(net_policy_host_ok(p, S("127.0.0.1")));         /* port 80 */
    assert_false(net_policy_host_ok(p, S("evil.example:8189"))); /* DNS rebinding */
    assert_false(net_policy_host_ok(p, S("localhost.:8189")));
    assert_false(net_policy_host_ok(p, S("127.0.0.2:8189")));
    assert_false(net_policy_host_ok(p, S("[::2]:8189")));
}

static void malformed_hosts_fail(void **state)
{
    net_policy *p = *state;
    const char *bad[] = {"",
                         ":8189",
                         "localhost:",
                         "localhost:0",
                         "localhost:70000",
                         "localhost:81a9",
                         "a:b:c",
                         "local host:8189",
                         "[::1:8189",
                         "localhost:8189 ",
                         "localhost:+8189"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(net_policy_host_ok(p, S(bad[i])));
    assert_false(net_policy_host_ok(p, (net_str){NULL, 0}));
}

static void configured_hosts_pass(void **state)
{
    net_policy *p = *state;
    assert_true(net_policy_host_ok(p, S("bridge.test:8189")));
    assert_true(net_policy_host_ok(p, S("BRIDGE.test:8189")));
    assert_false(net_policy_host_ok(p, S("bridge.test:9000")));
    assert_true(net_policy_host_ok(p, S("other.test:9000")));
    assert_false(net_policy_host_ok(p, S("other.test:8189")));
}

static void default_and_configured_origins_pass(void **state)
{
    net_policy *p = *state;
    assert_true(net_policy_origin_ok(p, S("http://127.0.0.1:8188")));
    assert_true(net_policy_origin_ok(p, S("http://localhost:8188")));
    assert_true(net_policy_origin_ok(p, S("HTTP://LOCALHOST:8188")));
    assert_true(net_policy_origin_ok(p, S("http://localhost:5173")));
}

static void foreign_and_null_origins_fail(void **state)
{
    net_policy *p = *state;
    assert_false(net_policy_origin_ok(p, S("null")));
    assert_false(net_policy_origin_ok(p, S("http://evil.example")));
    assert_false(net_policy_origin_ok(p, S("http://localhost:8188/")));
    assert_false(net_policy_origin_ok(p, S("https://localhost:8188")));
    assert_false(net_policy_origin_ok(p, S("http://localhost:8188.evil.example")));
    assert_false(net_policy_origin_ok(p, (net_str){NULL, 0}));
}

static void bearer_token_rules(void **state)
{
    net_policy *p = *state;
    assert_true(net_policy_bearer_ok(p, S("Bearer " TOKEN)));
    assert_true(net_policy_bearer_ok(p, S("bearer " TOKEN)));
    assert_true(net_policy_bearer_ok(p, S("Bearer   " TOKEN)));
    assert_false(net_policy_bearer_ok(p, S("Basic " TOKEN)));
    assert_false(net_policy_bearer_ok(p, S("Bearer")));
    assert_false(net_policy_bearer_ok(p, S("Bearer ")));
    assert_false(net_policy_bearer_ok(p, S(TOKEN)));
    assert_false(net_policy_bearer_ok(p, S("Bearer " TOKEN "0")));
    assert_false(net_policy_bearer_ok(p, S("Bearer 0123456789abcdef")));
    assert_false(net_policy_bearer_ok(p, S("Bearer 1123456789abcdef0123456789abcdef0123456789abcdef"
                                           "0123456789abcdef")));
    assert_true(net_policy_token_ok(p, S(TOKEN)));
    assert_false(net_policy_token_ok(p, S("")));
}

static net_policy_req base_req(void)
{
    net_policy_req r;
    memset(&r, 0, sizeof r);
    r.host = S("127.0.0.1:8189");
    r.nhost = 1;
    return r;
}

static void check_requires_a_token_without_an_allowed_origin(void **state)
{
    net_policy *p = *state;
    net_policy_req r = base_req();
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    r.authorization = S("Bearer " TOKEN);
    r.nauthorization = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_OK);
    r.authorization = S("Bearer wrong");
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
}

static void check_requires_a_token_even_with_an_allowed_origin(void **state)
{
    net_policy *p = *state;
    net_policy_req r = base_req();
    r.origin = S("http://localhost:8188");
    r.norigin = 1;
    /* Any local process can send ComfyUI's Origin: it waives nothing. */
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    r.origin = S("http://127.0.0.1:8188");
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    r.authorization = S("Bearer wrong");
    r.nauthorization = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    r.authorization = S("Bearer " TOKEN);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_OK);
}

static void subprotocol_token_counts_on_upgrades(void **state)
{
    net_policy *p = *state;
    net_msg *m;
    net_msg_create(&m);
    net_msg_set_method(m, "GET", 3);
    net_msg_set_target(m, "/ws", 3);
    net_msg_set_authority(m, "127.0.0.1:8189", 14);
    net_msg_add_header(m, "Origin", 6, "http://127.0.0.1:8188", 21);
    const char *v = "comfyd, comfyd.token." TOKEN;
    net_msg_add_header(m, "Sec-WebSocket-Protocol", 22, v, strlen(v));
    net_policy_req r;
    net_policy_req_from_msg(&r, m, 1);
    assert_int_equal(r.has_proto_token, 1);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_OK);
    /* Not on plain requests. */
    net_policy_req_from_msg(&r, m, 0);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    /* The plain subprotocol is the one echoed when offered. */
    net_str pr = net_policy_ws_protocol(m);
    assert_int_equal(pr.len, 6);
    assert_memory_equal(pr.p, "comfyd", 6);
    net_msg_destroy(m);

    net_msg_create(&m);
    net_msg_set_method(m, "GET", 3);
    net_msg_set_target(m, "/ws", 3);
    net_msg_set_authority(m, "127.0.0.1:8189", 14);
    v = "x, comfyd.token.nope";
    net_msg_add_header(m, "Sec-WebSocket-Protocol", 22, v, strlen(v));
    net_policy_req_from_msg(&r, m, 1);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    pr = net_policy_ws_protocol(m);
    assert_int_equal(pr.len, strlen("comfyd.token.nope"));
    net_msg_destroy(m);

    /* Two token subprotocols are refused, even if one is right. */
    net_msg_create(&m);
    net_msg_set_method(m, "GET", 3);
    net_msg_set_target(m, "/ws", 3);
    net_msg_set_authority(m, "127.0.0.1:8189", 14);
    v = "comfyd.token." TOKEN ",comfyd.token.x";
    net_msg_add_header(m, "Sec-WebSocket-Protocol", 22, v, strlen(v));
    net_policy_req_from_msg(&r, m, 1);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    net_msg_destroy(m);
}

static void check_refuses_foreign_origin_even_with_a_token(void **state)
{
    net_policy *p = *state;
    net_policy_req r = base_req();
    r.origin = S("http://evil.example");
    r.norigin = 1;
    r.authorization = S("Bearer " TOKEN);
    r.nauthorization = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_ORIGIN);
    r.origin = S("null");
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_ORIGIN);
    r.origin = S("http://localhost:8188");
    r.norigin = 2;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_ORIGIN);
}

static void check_tests_host_first(void **state)
{
    net_policy *p = *state;
    net_policy_req r = base_req();
    r.host = S("evil.example:8189");
    r.origin = S("http://evil.example");
    r.norigin = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_HOST);
    r = base_req();
    r.nhost = 0;
    r.host = (net_str){NULL, 0};
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_HOST);
    r = base_req();
    r.nhost = 2;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_HOST);
}

static void query_token_counts_only_when_offered(void **state)
{
    net_policy *p = *state;
    net_policy_req r = base_req();
    r.has_query_token = 1;
    r.query_token = S(TOKEN);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_OK);
    r.query_token = S("nope");
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    r.has_query_token = 0;
    r.query_token = S(TOKEN);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
}

static void public_routes_skip_only_the_token(void **state)
{
    net_policy *p = *state;
    net_policy_req r = base_req();
    r.public_route = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_OK);
    r.origin = S("http://evil.example");
    r.norigin = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_ORIGIN);
    r = base_req();
    r.public_route = 1;
    r.host = S("evil.example:8189");
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_HOST);
    r = base_req();
    r.public_route = 1;
    r.authorization = S("Bearer wrong");
    r.nauthorization = 1;
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
}

static void request_fields_come_from_the_message(void **state)
{
    net_policy *p = *state;
    net_msg *m;
    net_msg_create(&m);
    net_msg_set_method(m, "GET", 3);
    net_msg_set_target(m, "/ws?a=1&token=" TOKEN, strlen("/ws?a=1&token=" TOKEN));
    net_msg_add_header(m, "Host", 4, "localhost:8189", 14);
    net_msg_set_authority(m, "localhost:8189", 14);
    net_policy_req r;
    net_policy_req_from_msg(&r, m, 0);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    net_policy_req_from_msg(&r, m, 1);
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_OK);
    net_msg_destroy(m);
}

static void failures_map_to_statuses(void **state)
{
    (void)state;
    assert_int_equal(net_policy_status(NET_POLICY_E_HOST), 421);
    assert_int_equal(net_policy_status(NET_POLICY_E_ORIGIN), 403);
    assert_int_equal(net_policy_status(NET_POLICY_E_TOKEN), 401);
    assert_string_equal(net_policy_message(NET_POLICY_E_ORIGIN), "origin not allowed");
    assert_string_equal(net_policy_message(NET_POLICY_E_TOKEN), "missing or invalid token");
}

static void bad_configuration_is_refused(void **state)
{
    (void)state;
    net_policy *p = NULL;
    static const char *const null_origin[] = {"null"};
    static const char *const bad_host[] = {"bad host"};
    net_policy_opts o = {0, NULL, 0, NULL, 0, TOKEN};
    assert_int_equal(net_policy_create(&p, &o), NET_POLICY_E_ARG);
    o.port = 8189;
    o.origins = null_origin;
    o.norigins = 1;
    assert_int_equal(net_policy_create(&p, &o), NET_POLICY_E_ARG);
    o.origins = NULL;
    o.norigins = 0;
    o.hosts = bad_host;
    o.nhosts = 1;
    assert_int_equal(net_policy_create(&p, &o), NET_POLICY_E_ARG);
    o.hosts = NULL;
    o.nhosts = 0;
    o.token = "short";
    assert_int_equal(net_policy_create(&p, &o), NET_POLICY_E_ARG);
    o.token = NULL;
    assert_int_equal(net_policy_create(&p, &o), 0);
    /* Without a token nothing but a public route gets in. */
    net_policy_req r = base_req();
    r.has_query_token = 1;
    r.query_token = S("");
    assert_int_equal(net_policy_check(p, &r), NET_POLICY_E_TOKEN);
    net_policy_destroy(p);
}

/* ---- token file ---- */

static void tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/test_net_policy.XXXXXX");
    assert_non_null(mkdtemp(out));
}

static void token_file_is_created_private_and_read_back(void **state)
{
    (void)state;
    char dir[64], path[128], tok[NET_POLICY_TOKEN_MAX + 1], again[NET_POLICY_TOKEN_MAX + 1];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/token", dir);
    assert_int_equal(net_policy_token_load(path, tok, sizeof tok), 0);
    assert_int_equal(strlen(tok), NET_POLICY_TOKEN_HEX);
    assert_int_equal(strspn(tok, "0123456789abcdef"), NET_POLICY_TOKEN_HEX);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(net_policy_token_load(path, again, sizeof again), 0);
    assert_string_equal(tok, again);
    unlink(path);
    assert_int_equal(net_policy_token_load(path, again, sizeof again), 0);
    assert_string_not_equal(tok, again);
    unlink(path);
    rmdir(dir);
}

static void write_file(const char *path, const char *s, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    fchmod(fd, mode);
    close(fd);
}

static void readable_token_file_is_refused(void **state)
{
    (void)state;
    char dir[64], path[128], tok[NET_POLICY_TOKEN_MAX + 1];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/token", dir);
    write_file(path, TOKEN "\n", 0640);
    assert_int_equal(net_policy_token_load(path, tok, sizeof tok), NET_POLICY_E_PERM);
    chmod(path, 0604);
    assert_int_equal(net_policy_token_load(path, tok, sizeof tok), NET_POLICY_E_PERM);
    chmod(path, 0600);
    assert_int_equal(net_policy_token_load(path, tok, sizeof tok), 0);
    assert_string_equal(tok, TOKEN);
    unlink(path);
    rmdir(dir);
}

static void symlinked_or_foreign_token_file_is_refused(void **state)
{
    (void)state;
    char dir[64], path[128], real[128], tok[NET_POLICY_TOKEN_MAX + 1];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/token", dir);
    snprintf(real, sizeof real, "%s/real", dir);
    write_file(real, TOKEN, 0600);
    assert_int_equal(symlink(real, path), 0);
    assert_int_equal(net_policy_token_load(path, tok, sizeof tok), NET_POLICY_E_PERM);
    unlink(path);
    if (geteuid() == 0) {
        /* Only root can give a file away; as another user this part is
         * covered by the uid check in the same branch as the mode. */
        assert_int_equal(chown(real, 65534, 65534), 0);
        assert_int_equal(net_policy_token_load(real, tok, sizeof tok), NET_POLICY_E_PERM);
    }
    unlink(real);
    rmdir(dir);
}

static void malformed_token_file_is_refused(void **state)
{
    (void)state;
    char dir[64], path[128], tok[NET_POLICY_TOKEN_MAX + 1];
    tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/token", dir);
    const char *bad[] = {"", "short\n", TOKEN " extra\n", "bad token with spaces 0123456789abcdef"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i], 0600);
        errno = 0;
        assert_int_equal(net_policy_token_load(path, tok, sizeof tok), NET_POLICY_E_IO);
        assert_int_equal(errno, EINVAL);
    }
    char longtok[300];
    memset(longtok, 'a', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = '\0';
    write_file(path, longtok, 0600);
    assert_int_equal(net_policy_token_load(path, tok, sizeof tok), NET_POLICY_E_IO);
    assert_int_equal(net_policy_token_load(path, tok, 10), NET_POLICY_E_ARG);
    unlink(path);
    assert_int_equal(net_policy_token_load("/nonexistent-dir/token", tok, sizeof tok),
                     NET_POLICY_E_IO);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(loopback_hosts_with_the_listen_port_pass),
        T(other_ports_and_names_fail),
        T(malformed_hosts_fail),
        T(configured_hosts_pass),
        T(default_and_configured_origins_pass),
        T(foreign_and_null_origins_fail),
        T(bearer_token_rules),
        T(check_requires_a_token_without_an_allowed_origin),
        T(check_requires_a_token_even_with_an_allowed_origin),
        T(subprotocol_token_counts_on_upgrades),
        T(check_refuses_foreign_origin_even_with_a_token),
        T(check_tests_host_first),
        T(query_token_counts_only_when_offered),
        T(public_routes_skip_only_the_token),
        T(request_fields_come_from_the_message),
#undef T
        cmocka_unit_test(failures_map_to_statuses),
        cmocka_unit_test(bad_configuration_is_refused),
        cmocka_unit_test(token_file_is_created_private_and_read_back),
        cmocka_unit_test(readable_token_file_is_refused),
        cmocka_unit_test(symlinked_or_foreign_token_file_is_refused),
        cmocka_unit_test(malformed_token_file_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
