/* pgconn: one libpq connection as the scale-out modules (lease.c,
 * store_pg_notify.c) open it: the same defaults as the store's
 * (store_pg.c): a connect timeout, UTF-8, synchronous_commit=on, the URI's
 * own parameters winning over these. */
#ifndef COMFYD_PGCONN_H
#define COMFYD_PGCONN_H

#include <libpq-fe.h>
#include <stddef.h>

/* Seconds libpq waits for a connection (each attempt). */
#define PGCONN_CONNECT_TIMEOUT_S "5"

/* Connects to uri (a libpq URI, may hold a password: never logged) as
 * application_name app. Returns the connection (the caller PQfinishes it)
 * or NULL with a one-line reason (libpq's, naming the host) in err. */
PGconn *pgconn_open(const char *uri, const char *app, char *err, size_t errlen);
/* 1 when r is a failure of the connection itself (the caller drops the
 * connection and opens a new one on its next call). */
int pgconn_broken(PGconn *c, const PGresult *r);
/* libpq's last message for c without its trailing newline, into buf. */
const char *pgconn_msg(PGconn *c, const PGresult *r, char *buf, size_t len);

#endif
