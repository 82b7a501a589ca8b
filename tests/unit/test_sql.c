/* The SQL layer (weblab_sql.h) on SQLite in a temporary directory:
 * parameters, NULLs, metacharacters, constraints, transactions, the writer
 * lock, the schemas and the connection pool. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

#include "weblab_sql.h"
#include "weblab_schema.h"
#include "check_main.h"

static apr_pool_t *pool;
static char dir[] = "/tmp/weblab-test-sql-XXXXXX";
static const char *dsn;
static weblab_sql_t *conn;

/* A writer lock that counts and checks that nobody is inside twice. */
typedef struct {
    apr_thread_mutex_t *mutex;
    apr_thread_mutex_t *stats;
    int locks;
    int unlocks;
    int inside;
    int max_inside;
    int fail;                   /* lock() refuses */
} counting_lock_t;

static apr_status_t count_lock(void *baton)
{
    counting_lock_t *l = baton;

    if (l->fail) {
        return APR_EGENERAL;
    }
    apr_thread_mutex_lock(l->mutex);
    apr_thread_mutex_lock(l->stats);
    l->locks++;
    l->inside++;
    if (l->inside > l->max_inside) {
        l->max_inside = l->inside;
    }
    apr_thread_mutex_unlock(l->stats);
    return APR_SUCCESS;
}

static apr_status_t count_unlock(void *baton)
{
    counting_lock_t *l = baton;

    apr_thread_mutex_lock(l->stats);
    l->unlocks++;
    l->inside--;
    apr_thread_mutex_unlock(l->stats);
    return apr_thread_mutex_unlock(l->mutex);
}

static counting_lock_t *counting_lock_make(weblab_sql_lock_t *out)
{
    counting_lock_t *l = apr_pcalloc(pool, sizeof(*l));

    ck_assert_int_eq(apr_thread_mutex_create(&l->mutex,
                                             APR_THREAD_MUTEX_DEFAULT, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_thread_mutex_create(&l->stats,
                                             APR_THREAD_MUTEX_DEFAULT, pool),
                     APR_SUCCESS);
    out->lock = count_lock;
    out->unlock = count_unlock;
    out->baton = l;
    return l;
}

static void remove_db_files(void)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    size_t i;

    for (i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        unlink(apr_pstrcat(pool, dir, "/test.db", suffixes[i], NULL));
    }
}

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
    strcpy(dir, "/tmp/weblab-test-sql-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    dsn = apr_pstrcat(pool, "sqlite:", dir, "/test.db", NULL);
    ck_assert_int_eq(weblab_sql_open(&conn, dsn, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "CREATE TABLE t (id INTEGER PRIMARY KEY,"
                                     " s TEXT, i INTEGER, d REAL,"
                                     " u TEXT UNIQUE)", NULL), APR_SUCCESS);
}

static void teardown(void)
{
    weblab_sql_close(conn);
    conn = NULL;
    remove_db_files();
    rmdir(dir);
    apr_pool_destroy(pool);         /* closes pooled connections too */
}

static apr_int64_t count_rows(weblab_sql_t *c, const char *table)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(c, &rows, pool,
                                       apr_pstrcat(pool, "SELECT COUNT(*) "
                                                   "FROM ", table, NULL),
                                       NULL), APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    return weblab_sql_int(rows, 0);
}

START_TEST(test_open_bad_dsn)
{
    weblab_sql_t *c = (weblab_sql_t *)1;

    ck_assert_int_eq(weblab_sql_open(&c, "no-scheme", pool), APR_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(weblab_sql_open(&c, "oracle:/x", pool), APR_ENOTIMPL);
    ck_assert_int_ne(weblab_sql_open(&c, "sqlite:/nonexistent-dir/x/y.db",
                                     pool), APR_SUCCESS);
}
END_TEST

START_TEST(test_schemas)
{
    static const char *const tables[] = {
        "Role", "User", "Group", "Experiment", "UserUsedExperiment",
        "WebSession", "ResourceInstance", "LabInstance", "Reservation", NULL
    };
    int i;

    ck_assert_int_eq(weblab_schema_create_data(conn), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_coordination(conn), APR_SUCCESS);
    /* idempotent */
    ck_assert_int_eq(weblab_schema_create_data(conn), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_coordination(conn), APR_SUCCESS);
    for (i = 0; tables[i]; i++) {
        weblab_sql_rows_t *rows;

        ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
                                           "SELECT name FROM sqlite_master "
                                           "WHERE type = 'table' AND name = ?",
                                           "s", tables[i]), APR_SUCCESS);
        ck_assert_msg(rows->nrows == 1, "table %s missing", tables[i]);
    }
    /* a unique constraint of the coordination schema is there */
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO ResourceInstance "
                                     "(resource_type, name) VALUES (?, ?)",
                                     "ss", "dummy", "r1"), APR_SUCCESS);
    ck_assert_int_ne(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO ResourceInstance "
                                     "(resource_type, name) VALUES (?, ?)",
                                     "ss", "dummy", "r1"), APR_SUCCESS);
    ck_assert(weblab_sql_is_constraint(conn));
}
END_TEST

START_TEST(test_types_and_null)
{
    weblab_sql_rows_t *rows;
    const apr_int64_t big = APR_INT64_C(9007199254740993);  /* 2^53 + 1 */
    int changes = -1;

    ck_assert_int_eq(weblab_sql_exec(conn, &changes,
                                     "INSERT INTO t (s, i, d, u) "
                                     "VALUES (?, ?, ?, ?)", "sids", "text",
                                     big, 2.5, NULL), APR_SUCCESS);
    ck_assert_int_eq(changes, 1);
    ck_assert_int_eq(weblab_sql_last_id(conn), 1);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (s, i, d, u) "
                                     "VALUES (?, ?, ?, ?)", "sids", NULL,
                                     (apr_int64_t)-7, -0.125, "x"),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_last_id(conn), 2);

    ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
                                       "SELECT s, i, d, u FROM t "
                                       "WHERE id >= ? ORDER BY id", "i",
                                       (apr_int64_t)1), APR_SUCCESS);
    ck_assert_int_eq(rows->nrows, 2);
    ck_assert_int_eq(rows->ncols, 4);
    ck_assert_str_eq(rows->names[0], "s");
    ck_assert_str_eq(rows->names[3], "u");
    ck_assert_ptr_null(weblab_sql_str(rows, 0));    /* before next() */
    ck_assert(weblab_sql_next(rows));
    ck_assert_str_eq(weblab_sql_str(rows, 0), "text");
    ck_assert(weblab_sql_int(rows, 1) == big);
    ck_assert(weblab_sql_double(rows, 2) == 2.5);
    ck_assert_ptr_null(weblab_sql_str(rows, 3));    /* SQL NULL */
    ck_assert_ptr_null(weblab_sql_str(rows, 4));    /* no such column */
    ck_assert(weblab_sql_next(rows));
    ck_assert_ptr_null(weblab_sql_str(rows, 0));
    ck_assert(weblab_sql_int(rows, 1) == -7);
    ck_assert(weblab_sql_double(rows, 2) == -0.125);
    ck_assert_str_eq(weblab_sql_str(rows, 3), "x");
    ck_assert(!weblab_sql_next(rows));
    ck_assert(!weblab_sql_next(rows));

    /* NULL compared with '=' matches nothing; IS NULL finds it */
    ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
                                       "SELECT id FROM t WHERE u IS NULL",
                                       NULL), APR_SUCCESS);
    ck_assert_int_eq(rows->nrows, 1);

    ck_assert_int_eq(weblab_sql_exec(conn, &changes,
                                     "UPDATE t SET d = ? WHERE i < ?", "di",
                                     1.0, (apr_int64_t)100), APR_SUCCESS);
    ck_assert_int_eq(changes, 1);
}
END_TEST

START_TEST(test_metacharacters_verbatim)
{
    static const char *const nasty[] = {
        "'); DROP TABLE t; --",
        "Robert\"); DELETE FROM t WHERE (\"1\"=\"1",
        "a'b''c \\ % _ ? ?1 :name @x $y",
        "line1\nline2\r\n\ttab \xc3\xa9",
        "",
        NULL
    };
    int i;

    for (i = 0; nasty[i]; i++) {
        weblab_sql_rows_t *rows;

        ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                         "INSERT INTO t (s, u) VALUES (?, ?)",
                                         "ss", nasty[i],
                                         apr_itoa(pool, i)), APR_SUCCESS);
        ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
                                           "SELECT s FROM t WHERE s = ?", "s",
                                           nasty[i]), APR_SUCCESS);
        ck_assert_int_eq(rows->nrows, 1);
        ck_assert(weblab_sql_next(rows));
        ck_assert_str_eq(weblab_sql_str(rows, 0), nasty[i]);
    }
    ck_assert_int_eq(count_rows(conn, "t"), 5);     /* t survived */
}
END_TEST

START_TEST(test_constraint_detection)
{
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (u) VALUES (?)", "s",
                                     "same"), APR_SUCCESS);
    ck_assert(!weblab_sql_is_constraint(conn));
    ck_assert_int_ne(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (u) VALUES (?)", "s",
                                     "same"), APR_SUCCESS);
    ck_assert(weblab_sql_is_constraint(conn));
    ck_assert_ptr_nonnull(weblab_sql_error(conn));
    /* a later success clears it; other errors are not constraints */
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (u) VALUES (?)", "s",
                                     "other"), APR_SUCCESS);
    ck_assert(!weblab_sql_is_constraint(conn));
    ck_assert_int_ne(weblab_sql_exec(conn, NULL, "INSERT INTO nowhere "
                                     "VALUES (1)", NULL), APR_SUCCESS);
    ck_assert(!weblab_sql_is_constraint(conn));
    ck_assert_int_ne(weblab_sql_exec(conn, NULL, "SELEKT nonsense", NULL),
                     APR_SUCCESS);
    ck_assert(!weblab_sql_is_constraint(conn));
    ck_assert_int_eq(count_rows(conn, "t"), 2);
}
END_TEST

START_TEST(test_rollback_and_commit)
{
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (s) VALUES (?)", "s",
                                     "gone"), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (s) VALUES (?)", "s",
                                     "gone too"), APR_SUCCESS);
    ck_assert_int_eq(count_rows(conn, "t"), 2);     /* visible inside */
    ck_assert_int_eq(weblab_sql_rollback(conn), APR_SUCCESS);
    ck_assert_int_eq(count_rows(conn, "t"), 0);

    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (s) VALUES (?)", "s",
                                     "kept"), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    ck_assert_int_eq(count_rows(conn, "t"), 1);
    /* rollback with nothing open is harmless */
    ck_assert_int_eq(weblab_sql_rollback(conn), APR_SUCCESS);
}
END_TEST

/* Another connection does not see uncommitted rows. */
START_TEST(test_isolation)
{
    weblab_sql_t *other;

    ck_assert_int_eq(weblab_sql_open(&other, dsn, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (s) VALUES ('x')", NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(count_rows(other, "t"), 0);
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    ck_assert_int_eq(count_rows(other, "t"), 1);
    weblab_sql_close(other);
}
END_TEST

START_TEST(test_lock_calls)
{
    weblab_sql_lock_t lock;
    counting_lock_t *l = counting_lock_make(&lock);

    weblab_sql_set_lock(conn, &lock);
    ck_assert_int_eq(weblab_sql_begin(conn, 0), APR_SUCCESS);   /* reader */
    ck_assert_int_eq(l->locks, 0);
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    ck_assert_int_eq(l->unlocks, 0);

    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(l->locks, 1);
    ck_assert_int_eq(l->unlocks, 0);
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);
    ck_assert_int_eq(l->unlocks, 1);

    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_rollback(conn), APR_SUCCESS);
    ck_assert_int_eq(l->locks, 2);
    ck_assert_int_eq(l->unlocks, 2);

    /* a lock that fails: no transaction, no unlock */
    l->fail = 1;
    ck_assert_int_ne(weblab_sql_begin(conn, 1), APR_SUCCESS);
    ck_assert_int_eq(l->unlocks, 2);
    l->fail = 0;
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);  /* not stuck */
    ck_assert_int_eq(weblab_sql_commit(conn), APR_SUCCESS);

    /* closing with a write transaction open gives the lock back */
    ck_assert_int_eq(weblab_sql_begin(conn, 1), APR_SUCCESS);
    weblab_sql_close(conn);
    ck_assert_int_eq(l->locks, 4);
    ck_assert_int_eq(l->unlocks, 4);
    ck_assert_int_eq(weblab_sql_open(&conn, dsn, pool), APR_SUCCESS);
}
END_TEST

#define WRITERS 4
#define ROUNDS 25

typedef struct {
    const weblab_sql_lock_t *lock;
    apr_status_t rv;
} writer_arg_t;

/* Read-modify-write of one counter; correct only if writers are
 * serialized. */
static void *APR_THREAD_FUNC writer(apr_thread_t *thread, void *data)
{
    writer_arg_t *arg = data;
    apr_pool_t *p;
    weblab_sql_t *c;
    int i;

    apr_pool_create(&p, NULL);
    arg->rv = weblab_sql_open(&c, dsn, p);
    if (arg->rv == APR_SUCCESS) {
        weblab_sql_set_lock(c, arg->lock);
        for (i = 0; i < ROUNDS && arg->rv == APR_SUCCESS; i++) {
            weblab_sql_rows_t *rows;
            apr_int64_t n;

            arg->rv = weblab_sql_begin(c, 1);
            if (arg->rv != APR_SUCCESS) {
                break;
            }
            arg->rv = weblab_sql_select(c, &rows, p,
                                        "SELECT i FROM t WHERE id = 1", NULL);
            if (arg->rv == APR_SUCCESS && weblab_sql_next(rows)) {
                n = weblab_sql_int(rows, 0);
                apr_sleep(200);
                arg->rv = weblab_sql_exec(c, NULL,
                                          "UPDATE t SET i = ? WHERE id = 1",
                                          "i", n + 1);
            }
            if (arg->rv == APR_SUCCESS) {
                arg->rv = weblab_sql_commit(c);
            }
            else {
                weblab_sql_rollback(c);
            }
        }
        weblab_sql_close(c);
    }
    apr_pool_destroy(p);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

START_TEST(test_writers_serialized)
{
    weblab_sql_lock_t lock;
    counting_lock_t *l = counting_lock_make(&lock);
    apr_thread_t *threads[WRITERS];
    writer_arg_t args[WRITERS];
    weblab_sql_rows_t *rows;
    int i;

    ck_assert_int_eq(weblab_sql_exec(conn, NULL,
                                     "INSERT INTO t (id, i) VALUES (1, 0)",
                                     NULL), APR_SUCCESS);
    for (i = 0; i < WRITERS; i++) {
        args[i].lock = &lock;
        args[i].rv = APR_EGENERAL;
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, writer,
                                           &args[i], pool), APR_SUCCESS);
    }
    for (i = 0; i < WRITERS; i++) {
        apr_status_t trv;

        apr_thread_join(&trv, threads[i]);
        ck_assert_int_eq(args[i].rv, APR_SUCCESS);
    }
    ck_assert_int_eq(l->locks, WRITERS * ROUNDS);
    ck_assert_int_eq(l->unlocks, WRITERS * ROUNDS);
    ck_assert_int_eq(l->max_inside, 1);
    ck_assert_int_eq(weblab_sql_select(conn, &rows, pool,
                                       "SELECT i FROM t WHERE id = 1", NULL),
                     APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    ck_assert_int_eq(weblab_sql_int(rows, 0), WRITERS * ROUNDS);
}
END_TEST

START_TEST(test_pool)
{
    weblab_sql_lock_t lock;
    counting_lock_t *l = counting_lock_make(&lock);
    weblab_sql_pool_t *sp;
    weblab_sql_t *a, *b, *c;

    ck_assert_int_eq(weblab_sql_pool_create(&sp, dsn, 0, 2, &lock, pool),
                     APR_SUCCESS);
    ck_assert_str_eq(weblab_sql_pool_dsn(sp), dsn);
    ck_assert_int_eq(weblab_sql_acquire(sp, &a), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_acquire(sp, &b), APR_SUCCESS);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert_int_eq(count_rows(a, "t"), 0);

    /* the pool's lock is installed on its connections */
    ck_assert_int_eq(weblab_sql_begin(a, 1), APR_SUCCESS);
    ck_assert_int_eq(l->locks, 1);
    ck_assert_int_eq(weblab_sql_exec(a, NULL, "INSERT INTO t (s) VALUES "
                                     "('forgotten')", NULL), APR_SUCCESS);
    /* released mid-transaction: rolled back and the lock given back */
    weblab_sql_release(sp, a);
    ck_assert_int_eq(l->unlocks, 1);
    ck_assert_int_eq(count_rows(b, "t"), 0);

    ck_assert_int_eq(weblab_sql_acquire(sp, &c), APR_SUCCESS);
    ck_assert_ptr_eq(c, a);             /* the idle one is reused */
    ck_assert_int_eq(weblab_sql_exec(c, NULL, "INSERT INTO t (s) VALUES "
                                     "('kept')", NULL), APR_SUCCESS);
    weblab_sql_release(sp, c);

    /* invalidated: closed, and a working one replaces it */
    ck_assert_int_eq(weblab_sql_begin(b, 1), APR_SUCCESS);
    weblab_sql_invalidate(sp, b);
    ck_assert_int_eq(l->unlocks, 2);
    ck_assert_int_eq(weblab_sql_acquire(sp, &a), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_acquire(sp, &b), APR_SUCCESS);
    ck_assert_int_eq(count_rows(a, "t"), 1);
    ck_assert_int_eq(count_rows(b, "t"), 1);
    weblab_sql_release(sp, a);
    weblab_sql_release(sp, b);
}
END_TEST

/* A pooled SQLite connection reads one snapshot from acquire to release
 * (its selects share one read transaction); a write on it, or a release,
 * ends that snapshot; a connection of its own (weblab-admin) never holds
 * one. */
START_TEST(test_pooled_reads_share_a_snapshot)
{
    weblab_sql_lock_t lock;
    weblab_sql_pool_t *sp;
    weblab_sql_t *a;
    int n0;

    counting_lock_make(&lock);
    ck_assert_int_eq(weblab_sql_pool_create(&sp, dsn, 0, 2, &lock, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_acquire(sp, &a), APR_SUCCESS);
    n0 = count_rows(a, "t");
    ck_assert_int_eq(weblab_sql_exec(conn, NULL, "INSERT INTO t (s) VALUES "
                                     "('from another')", NULL), APR_SUCCESS);
    ck_assert_int_eq(count_rows(a, "t"), n0);         /* same snapshot */
    ck_assert_int_eq(count_rows(conn, "t"), n0 + 1);  /* no snapshot held */

    /* a write transaction after reads starts from the newest data */
    ck_assert_int_eq(weblab_sql_begin(a, 1), APR_SUCCESS);
    ck_assert_int_eq(count_rows(a, "t"), n0 + 1);
    ck_assert_int_eq(weblab_sql_exec(a, NULL, "INSERT INTO t (s) VALUES "
                                     "('mine')", NULL), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_commit(a), APR_SUCCESS);
    ck_assert_int_eq(count_rows(conn, "t"), n0 + 2);

    /* released and acquired again: a new snapshot */
    ck_assert_int_eq(count_rows(a, "t"), n0 + 2);
    ck_assert_int_eq(weblab_sql_exec(conn, NULL, "INSERT INTO t (s) VALUES "
                                     "('later')", NULL), APR_SUCCESS);
    weblab_sql_release(sp, a);
    ck_assert_int_eq(weblab_sql_acquire(sp, &a), APR_SUCCESS);
    ck_assert_int_eq(count_rows(a, "t"), n0 + 3);

    /* an autocommit write on it also ends the snapshot first */
    ck_assert_int_eq(weblab_sql_exec(conn, NULL, "INSERT INTO t (s) VALUES "
                                     "('again')", NULL), APR_SUCCESS);
    ck_assert_int_eq(weblab_sql_exec(a, NULL, "INSERT INTO t (s) VALUES "
                                     "('autocommit')", NULL), APR_SUCCESS);
    ck_assert_int_eq(count_rows(a, "t"), n0 + 5);
    weblab_sql_release(sp, a);
}
END_TEST

static Suite *sql_suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tcase_create("sqlite");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_open_bad_dsn);
    tcase_add_test(tc, test_schemas);
    tcase_add_test(tc, test_types_and_null);
    tcase_add_test(tc, test_metacharacters_verbatim);
    tcase_add_test(tc, test_constraint_detection);
    tcase_add_test(tc, test_rollback_and_commit);
    tcase_add_test(tc, test_isolation);
    tcase_add_test(tc, test_lock_calls);
    tcase_add_test(tc, test_writers_serialized);
    tcase_add_test(tc, test_pool);
    tcase_add_test(tc, test_pooled_reads_share_a_snapshot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(sql_suite);
}
