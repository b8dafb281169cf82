#include "pgconn.h"

#include <stdio.h>
#include <string.h>

const char *pgconn_msg(PGconn *c, const PGresult *r, char *buf, size_t len)
{
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!m) m = c ? PQerrorMessage(c) : "out of memory";
    size_t ml = strlen(m);
    while (ml && (m[ml - 1] == '\n' || m[ml - 1] == ' '))
        ml--;
    snprintf(buf, len, "%.*s", (int)ml, m);
    return buf;
}

PGconn *pgconn_open(const char *uri, const char *app, char *err, size_t errlen)
{
    /* The URI comes last so that what it says wins over these defaults. */
    const char *keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname", NULL};
    const char *vals[] = {PGCONN_CONNECT_TIMEOUT_S, app, "UTF8", uri, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        pgconn_msg(c, NULL, err, errlen);
        PQfinish(c);
        return NULL;
    }
    /* NOTICEs (a table that already exists) are not for the log. */
    PGresult *r = PQexec(c, "SET synchronous_commit = on; SET client_min_messages = warning");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) pgconn_msg(c, r, err, errlen);
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

int pgconn_broken(PGconn *c, const PGresult *r)
{
    if (!c || PQstatus(c) != CONNECTION_OK) return 1;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    /* connection class, admin/crash shutdown, starting up */
    return !state || strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0;
}
