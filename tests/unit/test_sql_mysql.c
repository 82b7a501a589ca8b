/* Unit tests of the MySQL/MariaDB backend of weblab_sql: DSNs (always),
 * and, when WEBLAB_TEST_MYSQL_DSN names a server (run-sql-mysql.sh), the
 * schema translation, values through bound parameters, the writers' named
 * lock across connections, duplicate keys without values in the message,
 * matched-row counts, and reconnection after the server drops us. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "weblab_sql.h"
#include "weblab_schema.h"
#include "test_mysql_env.h"
#include "check_main.h"

static apr_pool_t *pool;
static const char *dsn, *dbname;
static weblab_sql_t *conn;

START_TEST(test_dsn_checks)
{
    apr_pool_t *p;
    const char *user, *pw, *host, *db, *server;
    const char *made;

    apr_pool_create(&p, NULL);
    ck_assert_ptr_null(weblab_sql_dsn_problem("sqlite:/x/y.db", p));
    ck_assert_ptr_null(weblab_sql_dsn_problem("mysql://u:p@h:3307/db", p));
    ck_assert_ptr_null(weblab_sql_dsn_problem("mysql://u@h/db", p));
    ck_assert_ptr_null(weblab_sql_dsn_problem(
        "mysql://u@/db?unix_socket=/run/mysqld/mysqld.sock", p));
    ck_assert_ptr_null(weblab_sql_dsn_problem("mysql://u@[::1]:3306/db", p));
    ck_assert_ptr_nonnull(weblab_sql_dsn_problem("mysql:u@h/db", p));
    ck_assert_ptr_nonnull(weblab_sql_dsn_problem("mysql://u@h:0/db", p));
    ck_assert_ptr_nonnull(weblab_sql_dsn_problem("mysql://u@h:99999/db", p));
    ck_assert_ptr_nonnull(weblab_sql_dsn_problem("mysql://u@h/db?x=1", p));
    ck_assert_ptr_nonnull(weblab_sql_dsn_problem("mysql://u:%zz@h/db", p));
    ck_assert_ptr_nonnull(weblab_sql_dsn_problem("oracle://h/db", p));
    ck_assert_str_eq(weblab_sql_dsn_redact("mysql://wl:s3cr%40t@h:1/db", p),
                     "mysql://wl:***@h:1/db");
    ck_assert_str_eq(weblab_sql_dsn_redact("mysql://wl@h/db", p),
                     "mysql://wl@h/db");
    ck_assert_str_eq(weblab_sql_dsn_redact("sqlite:/a:b@c", p),
                     "sqlite:/a:b@c");
    ck_assert(weblab_sql_dsn_needs_lock("sqlite:/x.db"));
    ck_assert(!weblab_sql_dsn_needs_lock("mysql://u@h/db"));

    /* every character survives the round trip through %XX */
    made = weblab_sql_dsn_mysql("we b@lab", "p:a/s@s%w'o\"rd", "127.0.0.1",
                                3307, "Web-Lab_1", NULL, p);
    ck_assert_ptr_null(weblab_sql_dsn_problem(made, p));
    ck_assert_int_eq(weblab_sql_dsn_mysql_parts(made, &user, &pw, &host, &db,
                                                &server, "root", NULL, p),
                     APR_SUCCESS);
    ck_assert_str_eq(user, "we b@lab");
    ck_assert_str_eq(pw, "p:a/s@s%w'o\"rd");
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_str_eq(db, "Web-Lab_1");
    ck_assert_str_eq(server, "mysql://root@127.0.0.1:3307/");
    ck_assert(!strstr(weblab_sql_dsn_redact(made, p), "s%w"));
    apr_pool_destroy(p);
}
END_TEST

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    ck_assert_int_eq(test_mysql_create(&dsn, &dbname, "sql", pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_open(&conn, dsn, pool), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    test_mysql_drop(dbname);
}

static apr_int64_t one_int(weblab_sql_t *c, const char *sql)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(c, &rows, pool, sql, NULL),
                     APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    return weblab_sql_int(rows, 0);
}

START_TEST(test_schema_values_and_errors)
{
    weblab_sql_rows_t *rows;
    char *big = apr_palloc(pool, 200001);
    int changes = -1;

    memset(big, 'x', 200000);
    big[200000] = '\0';
    ck_assert_int_eq(weblab_schema_create_data(conn), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_coordination(conn), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_data(conn), APR_SUCCESS); /* again */
    ck_assert_int_eq(weblab_sql_exec_script(conn,
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, -- why\n"
        " name VARCHAR(10) NOT NULL UNIQUE, body TEXT, at REAL);"
        "INSERT INTO t (name) VALUES ('a;b')"), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
        "INSERT INTO t (name, body, at) VALUES (?, ?, ?)", "ssd",
        "Ana", big, 1700000000.123456), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_last_id(conn), 2);
    ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
        "SELECT body, at, name FROM t WHERE name = ?", "s", "Ana"),
        APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_int_eq(strlen(weblab_sql_str(rows, 0)), 200000);
    ck_assert(weblab_sql_double(rows, 1) == 1700000000.123456);
    /* binary collation: 'ana' is another name, as on SQLite */
    ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
        "SELECT id FROM t WHERE name = ?", "s", "ana"), APR_SUCCESS);
    ck_assert_int_eq(rows->nrows, 0);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
        "INSERT INTO t (name) VALUES (?)", "s", "ana"), APR_SUCCESS);
    /* a duplicate: a constraint error that does not repeat the value */
    ck_assert_int_ne(weblab_sql_exec(conn, NULL,
        "INSERT INTO t (name) VALUES (?)", "s", "Ana"), APR_SUCCESS);
    ck_assert(weblab_sql_is_constraint(conn));
    ck_assert(!strstr(weblab_sql_error(conn), "Ana"));
    /* UPDATE counts matched rows, changed or not (as SQLite) */
    ck_assert_int_eq(weblab_sql_exec(conn, &changes,
        "UPDATE t SET body = NULL WHERE name = ?", "s", "a;b"), APR_SUCCESS);
    ck_assert_int_eq(changes, 1);
    /* "User" and "Group" quoted as in our SQL; NULL parameters */
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
        "INSERT INTO \"User\" (login, full_name, avatar) VALUES (?, ?, ?)",
        "sss", "o'b\";--", "x", NULL), APR_SUCCESS);
    ck_assert_int_eq(one_int(conn, "SELECT COUNT(*) FROM \"User\""
                             " WHERE avatar IS NULL"), 1);
    /* a value longer than its column is an error, never truncated */
    ck_assert_int_ne(weblab_sql_exec(conn, NULL,
        "INSERT INTO t (name) VALUES (?)", "s", "12345678901"), APR_SUCCESS);
}
END_TEST

typedef struct {
    const char *dsn;
    apr_time_t got;
    apr_status_t rv;
    int mode;                   /* of its begin; 0: WEBLAB_SQL_WRITE */
} waiter_t;

static void *second_writer(void *arg)
{
    waiter_t *w = arg;
    apr_pool_t *p;
    weblab_sql_t *c;

    apr_pool_create(&p, NULL);
    w->rv = weblab_sql_open(&c, w->dsn, p);
    if (w->rv == APR_SUCCESS) {
        w->rv = weblab_sql_begin(c, w->mode ? w->mode : WEBLAB_SQL_WRITE);
        w->got = apr_time_now();
        if (w->rv == APR_SUCCESS) {
            w->rv = weblab_sql_commit(c);
        }
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(test_writers_take_turns)
{
    waiter_t w = {dsn, 0, APR_EGENERAL};
    pthread_t th;
    apr_time_t released;

    ck_assert_int_eq(weblab_sql_begin(conn, 0), APR_SUCCESS);  /* reader */
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(pthread_create(&th, NULL, second_writer, &w), 0);
    apr_sleep(apr_time_from_msec(400));
    released = apr_time_now();
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.rv, APR_SUCCESS);
    ck_assert_msg(w.got >= released, "the second writer did not wait");
    /* released by rollback too */
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_rollback(conn), APR_SUCCESS);
    w.got = 0;
    second_writer(&w);
    ck_assert_int_eq(w.rv, APR_SUCCESS);
}
END_TEST

/* A transaction that writes only rows of its own does not wait for the
 * named lock of the serialized writers. */
START_TEST(test_row_writers_do_not_wait)
{
    waiter_t w = {dsn, 0, APR_EGENERAL, WEBLAB_SQL_WRITE_ROWS};
    pthread_t th;
    apr_time_t released;

    ck_assert_int_eq(weblab_sql_begin(conn, WEBLAB_SQL_WRITE), APR_SUCCESS);
    ck_assert_int_eq(pthread_create(&th, NULL, second_writer, &w), 0);
    apr_sleep(apr_time_from_msec(400));
    released = apr_time_now();
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.rv, APR_SUCCESS);
    ck_assert_msg(w.got < released, "the row writer waited for the lock");
}
END_TEST

START_TEST(test_reconnects_after_being_dropped)
{
    weblab_sql_t *admin;
    apr_int64_t id = one_int(conn, "SELECT CONNECTION_ID()");

    ck_assert_int_eq(weblab_sql_open(&admin, dsn, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec_script(admin, apr_psprintf(pool,
                     "KILL %" APR_INT64_T_FMT, id)), APR_SUCCESS);
    /* a read is repeated on a new connection */
    ck_assert_int_ne(one_int(conn, "SELECT CONNECTION_ID()"), id);
    id = one_int(conn, "SELECT CONNECTION_ID()");
    ck_assert_int_eq(weblab_sql_exec_script(admin, apr_psprintf(pool,
                     "KILL %" APR_INT64_T_FMT, id)), APR_SUCCESS);
    /* so is the start of a write transaction */
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec_script(conn, "CREATE TABLE k (a INT)"),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    id = one_int(conn, "SELECT CONNECTION_ID()");
    ck_assert_int_eq(weblab_sql_exec_script(admin, apr_psprintf(pool,
                     "KILL %" APR_INT64_T_FMT, id)), APR_SUCCESS);
    /* a write outside a transaction is not repeated: the caller hears */
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                     "INSERT INTO k (a) VALUES (?)", "i", (apr_int64_t)1),
                     APR_ECONNRESET);
    ck_assert_int_eq(one_int(conn, "SELECT COUNT(*) FROM k"), 0);
}
END_TEST

static Suite *sql_mysql_suite(void)
{
    Suite *s = suite_create("weblab_sql_mysql");
    TCase *tc = tcase_create("dsn");

    tcase_add_test(tc, test_dsn_checks);
    suite_add_tcase(s, tc);
    if (test_mysql_server()) {
        tc = tcase_create("server");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_schema_values_and_errors);
        tcase_add_test(tc, test_writers_take_turns);
        tcase_add_test(tc, test_row_writers_do_not_wait);
        tcase_add_test(tc, test_reconnects_after_being_dropped);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void)
{
    return check_main(sql_mysql_suite);
}
