#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "log.h"

static int parse(cfg *c, char *err, size_t errlen, int argc, ...)
{
    char *argv[32] = {"comfyd"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return cfg_parse(c, argc, argv, err, errlen);
}

static void clear_env(void)
{
    unsetenv("COMFYD_DATA");
    unsetenv("COMFYD_LISTEN");
    unsetenv("COMFYD_SKILLS");
    unsetenv("COMFYD_ECHO_DELAY_MS");
    unsetenv("COMFYD_LOG_LEVEL");
    unsetenv("COMFYD_IDEMPOTENCY_KEYS");
    unsetenv("COMFYD_IDEMPOTENCY_TTL_S");
}

static void defaults_listen_on_socket_in_data_dir_and_loopback(void **state)
{
    (void)state;
    clear_env();
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 1), CFG_OK);
    assert_string_equal(c.data_dir, "./var");
    assert_int_equal(c.n_listen, 2);
    assert_string_equal(c.listen[0], "unix:./var/comfyd.sock");
    assert_string_equal(c.listen[1], "127.0.0.1:50051");
    assert_int_equal(c.echo_delay_ms, CFG_DEFAULT_ECHO_DELAY_MS);
    cfg_clear(&c);
}

static void flags_override_environment_twins(void **state)
{
    (void)state;
    clear_env();
    setenv("COMFYD_DATA", "/tmp/from-env", 1);
    setenv("COMFYD_ECHO_DELAY_MS", "5", 1);
    setenv("COMFYD_LISTEN", "unix:/tmp/a.sock,127.0.0.1:9", 1);
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 3, "--data", "/tmp/flag"), CFG_OK);
    assert_string_equal(c.data_dir, "/tmp/flag");
    assert_int_equal(c.echo_delay_ms, 5);
    assert_int_equal(c.n_listen, 2);
    assert_string_equal(c.listen[0], "unix:/tmp/a.sock");
    cfg_clear(&c);
    clear_env();
}

static void idempotency_limits_are_flags_with_twins(void **state)
{
    (void)state;
    clear_env();
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 1), CFG_OK);
    assert_int_equal(c.idem_max_keys, CFG_DEFAULT_IDEM_KEYS);
    assert_int_equal(c.idem_ttl_s, CFG_DEFAULT_IDEM_TTL_S);
    cfg_clear(&c);
    setenv("COMFYD_IDEMPOTENCY_TTL_S", "60", 1);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--idempotency-keys", "10"), CFG_OK);
    assert_int_equal(c.idem_max_keys, 10);
    assert_int_equal(c.idem_ttl_s, 60);
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--idempotency-keys", "0"), CFG_EINVAL);
    assert_non_null(strstr(err, "--idempotency-keys"));
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--idempotency-ttl-s", "99999999"), CFG_EINVAL);
    assert_non_null(strstr(err, "--idempotency-ttl-s"));
    cfg_clear(&c);
    clear_env();
}

static void listen_is_repeatable(void **state)
{
    (void)state;
    clear_env();
    cfg c;
    char err[256];
    assert_int_equal(
        parse(&c, err, sizeof err, 5, "--listen", "unix:/x.sock", "--listen", "127.0.0.1:1234"),
        CFG_OK);
    assert_int_equal(c.n_listen, 2);
    assert_string_equal(c.listen[1], "127.0.0.1:1234");
    cfg_clear(&c);
}

static void bad_values_are_refused_with_the_flag_named(void **state)
{
    (void)state;
    clear_env();
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 3, "--listen", "nowhere"), CFG_EINVAL);
    assert_non_null(strstr(err, "--listen"));
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--listen", "127.0.0.1:99999"), CFG_EINVAL);
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--echo-delay-ms", "-1"), CFG_EINVAL);
    assert_non_null(strstr(err, "--echo-delay-ms"));
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--log-level", "loud"), CFG_EINVAL);
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 2, "--bogus"), CFG_EINVAL);
    assert_non_null(strstr(err, "--bogus"));
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 2, "--data"), CFG_EINVAL);
    assert_non_null(strstr(err, "needs a value"));
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 2, "stray"), CFG_EINVAL);
    cfg_clear(&c);
}

static void help_and_version_are_reported(void **state)
{
    (void)state;
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 2, "--help"), CFG_HELP);
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 2, "-V"), CFG_VERSION);
    cfg_clear(&c);
}

static void skills_env_is_colon_separated(void **state)
{
    (void)state;
    clear_env();
    setenv("COMFYD_SKILLS", "/a:/b::/c", 1);
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 1), CFG_OK);
    assert_int_equal(c.n_skill_dirs, 3);
    assert_string_equal(c.skill_dirs[2], "/c");
    cfg_clear(&c);
    clear_env();
}

/* --comfyui and its twin; the flag wins, and --data given as a flag still
 * wins over COMFYD_DATA now that the option slots grew. */
static void comfyui_url_flag_and_env(void **state)
{
    (void)state;
    clear_env();
    cfg c;
    char err[256];
    assert_int_equal(parse(&c, err, sizeof err, 1), CFG_OK);
    assert_null(c.comfyui);
    cfg_clear(&c);
    setenv("COMFYD_COMFYUI", "http://127.0.0.1:8188", 1);
    setenv("COMFYD_DATA", "/tmp/from-env", 1);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--data", "/tmp/flag"), CFG_OK);
    assert_string_equal(c.comfyui, "http://127.0.0.1:8188");
    assert_string_equal(c.data_dir, "/tmp/flag");
    cfg_clear(&c);
    assert_int_equal(parse(&c, err, sizeof err, 3, "--comfyui", "http://[::1]:9000/base"), CFG_OK);
    assert_string_equal(c.comfyui, "http://[::1]:9000/base");
    cfg_clear(&c);
    unsetenv("COMFYD_COMFYUI");
    assert_int_equal(parse(&c, err, sizeof err, 3, "--comfyui", "ftp://x"), CFG_EINVAL);
    assert_non_null(strstr(err, "--comfyui"));
    cfg_clear(&c);
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_listen_on_socket_in_data_dir_and_loopback),
        cmocka_unit_test(flags_override_environment_twins),
        cmocka_unit_test(listen_is_repeatable),
        cmocka_unit_test(idempotency_limits_are_flags_with_twins),
        cmocka_unit_test(bad_values_are_refused_with_the_flag_named),
        cmocka_unit_test(help_and_version_are_reported),
        cmocka_unit_test(skills_env_is_colon_separated),
        cmocka_unit_test(comfyui_url_flag_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
