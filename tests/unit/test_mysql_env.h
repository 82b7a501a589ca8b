/* Suites that run on SQLite by default and on MariaDB when
 * WEBLAB_TEST_MYSQL_DSN names a server (tests/unit/with-mariadb.sh sets it
 * to "mysql://root@127.0.0.1:PORT/"): each test then gets a fresh database
 * on that server, dropped by its teardown. Header-only: included by one
 * test file each. */
#ifndef TEST_MYSQL_ENV_H
#define TEST_MYSQL_ENV_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include "weblab_sql.h"

/* The server DSN, or NULL when the suite runs on SQLite. */
static const char *test_mysql_server(void)
{
    const char *s = getenv("WEBLAB_TEST_MYSQL_DSN");

    return s && *s ? s : NULL;
}

/* server DSN with the database name put in (before any "?query"). */
static const char *test_mysql_dsn_for(const char *db, apr_pool_t *p)
{
    const char *server = test_mysql_server();
    const char *q = strchr(server, '?');
    apr_size_t n = q ? (apr_size_t)(q - server) : strlen(server);
    const char *base = apr_pstrmemdup(p, server, n);

    return apr_pstrcat(p, base, base[n - 1] == '/' ? "" : "/", db,
                       q ? q : "", NULL);
}

static apr_status_t test_mysql_admin(const char *sql, apr_pool_t *p)
{
    weblab_sql_t *c;
    apr_status_t rv = weblab_sql_open(&c, test_mysql_server(), p);

    if (rv == APR_SUCCESS) {
        rv = weblab_sql_exec_script(c, sql);
        weblab_sql_close(c);
    }
    return rv;
}

/* A fresh, empty database named after tag and this process; its DSN in
 * *dsn and its name in *db (both from p). Check forks each test, so the
 * pid is unique per test. */
static apr_status_t test_mysql_create(const char **dsn, const char **db,
                                      const char *tag, apr_pool_t *p)
{
    *db = apr_psprintf(p, "wltest_%s_%ld", tag, (long)getpid());
    *dsn = test_mysql_dsn_for(*db, p);
    test_mysql_admin(apr_psprintf(p, "DROP DATABASE IF EXISTS %s", *db), p);
    return test_mysql_admin(apr_psprintf(p, "CREATE DATABASE %s", *db), p);
}

static void test_mysql_drop(const char *db)
{
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    test_mysql_admin(apr_psprintf(p, "DROP DATABASE IF EXISTS %s", db), p);
    apr_pool_destroy(p);
}

#endif
