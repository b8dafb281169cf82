/* Test helper: runs tests/llm/fake_openai.py as a child process on a free
 * loopback port. Included by the unit tests that need a model server; every
 * function is static. Start it before the test creates threads. */
#ifndef COMFYD_TEST_FAKE_SERVER_H
#define COMFYD_TEST_FAKE_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

typedef struct fake_server {
    pid_t pid;
    int port;
    int stdin_fd; /* closing it stops the server (--exit-on-stdin-eof) */
    char record[64];
    char base_url[64];
} fake_server;

/* Starts the server; returns 0, or -1 (with a message on stderr). */
static int fake_server_start(fake_server *fs)
{
    memset(fs, 0, sizeof *fs);
    snprintf(fs->record, sizeof fs->record, "/tmp/fake_openai_rec.XXXXXX");
    int rfd = mkstemp(fs->record);
    if (rfd < 0) return -1;
    close(rfd);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl("/usr/bin/python3", "/usr/bin/python3", COMFYD_SOURCE_DIR "/tests/llm/fake_openai.py",
              "--scripts", COMFYD_SOURCE_DIR "/tests/llm/scripts", "--port", "0", "--record",
              fs->record, "--exit-on-stdin-eof", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fs->pid = pid;
    fs->stdin_fd = in[1];
    fcntl(fs->stdin_fd, F_SETFD, FD_CLOEXEC);
    char line[128];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        if (poll(&pfd, 1, 15000) <= 0) break;
        ssize_t k = read(out[0], line + n, 1);
        if (k <= 0) break;
        if (line[n] == '\n') break;
        n++;
    }
    line[n] = 0;
    close(out[0]);
    if (sscanf(line, "LISTENING %d", &fs->port) != 1) {
        fprintf(stderr, "fake_openai.py did not start (read '%s')\n", line);
        return -1;
    }
    snprintf(fs->base_url, sizeof fs->base_url, "http://127.0.0.1:%d/v1", fs->port);
    return 0;
}

static void fake_server_stop(fake_server *fs)
{
    if (fs->pid <= 0) return;
    close(fs->stdin_fd);
    kill(fs->pid, SIGTERM);
    int st;
    while (waitpid(fs->pid, &st, 0) < 0 && errno == EINTR)
        ;
    unlink(fs->record);
    fs->pid = 0;
}

static size_t fake_discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)ud;
    return s * n;
}

/* Rewinds every script and empties the request record. Returns 0 or -1. */
static int fake_server_reset(fake_server *fs)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_reset", fs->port);
    CURL *h = curl_easy_init();
    if (!h) return -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fake_discard);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    int fd = open(fs->record, O_WRONLY | O_TRUNC);
    if (fd >= 0) close(fd);
    return rc == CURLE_OK && fd >= 0 ? 0 : -1;
}

/* The recorded requests, one JSON object a line (malloc'd; "" when none). */
static char *fake_server_requests(fake_server *fs)
{
    FILE *f = fopen(fs->record, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    if (s && fread(s, 1, (size_t)len, f) != (size_t)len) {
        free(s);
        s = NULL;
    }
    if (s) s[len] = 0;
    fclose(f);
    return s;
}

/* The n-th recorded request (0-based) as its own string, or NULL. */
static char *fake_server_request(fake_server *fs, size_t n)
{
    char *all = fake_server_requests(fs);
    if (!all) return NULL;
    char *line = all;
    for (size_t i = 0; i < n && line; i++) {
        line = strchr(line, '\n');
        if (line) line++;
    }
    char *out = NULL;
    if (line && *line) {
        size_t k = strcspn(line, "\n");
        out = malloc(k + 1);
        if (out) {
            memcpy(out, line, k);
            out[k] = 0;
        }
    }
    free(all);
    return out;
}

#endif
