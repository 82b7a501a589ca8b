/* Unit tests of the async commands' parts that need no web server: the
 * bounded worker (places, refusal when full, what happens to running and
 * queued jobs when its pool goes) and their records in the data database
 * (running, finished once, lost past the deadline, the uses log), on an
 * in-memory SQLite database, or on MariaDB (run-async-mysql.sh). */
#include <check.h>
#include <string.h>
#include <apr_general.h>
#include <apr_atomic.h>
#include <apr_time.h>

#include "weblab_async_worker.h"
#include "weblab_db_async.h"
#include "weblab_schema.h"
#include "test_mysql_env.h"
#include "check_main.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* ---- the worker ---- */

typedef struct sleeper_t {
    apr_interval_time_t sleep;
    volatile apr_uint32_t started;
    volatile apr_uint32_t done;
} sleeper_t;

static void sleep_job(void *baton)
{
    sleeper_t *s = baton;

    apr_atomic_inc32(&s->started);
    apr_sleep(s->sleep);
    apr_atomic_inc32(&s->done);
}

static void wait_for(volatile apr_uint32_t *v, apr_uint32_t n)
{
    int i;

    for (i = 0; i < 500 && apr_atomic_read32(v) < n; i++) {
        apr_sleep(apr_time_from_msec(10));
    }
    ck_assert_uint_eq(apr_atomic_read32(v), n);
}

START_TEST(worker_refuses_beyond_threads_plus_queue)
{
    weblab_async_worker_t *w;
    sleeper_t s = {apr_time_from_msec(300), 0, 0};
    int i;

    ck_assert_int_eq(weblab_async_worker_create(&w, 2, 1, pool),
                     APR_SUCCESS);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(weblab_async_worker_reserve(w), APR_SUCCESS);
        ck_assert_int_eq(weblab_async_worker_run(w, sleep_job, &s, pool),
                         APR_SUCCESS);
    }
    /* two run, one waits: the fourth is refused at once */
    ck_assert_int_eq(weblab_async_worker_reserve(w), APR_EAGAIN);
    ck_assert_int_eq(weblab_async_worker_taken(w), 3);
    wait_for(&s.started, 2);
    apr_sleep(apr_time_from_msec(50));
    ck_assert_uint_eq(apr_atomic_read32(&s.started), 2);   /* bounded */
    wait_for(&s.done, 3);
    apr_sleep(apr_time_from_msec(20));
    ck_assert_int_eq(weblab_async_worker_taken(w), 0);
    /* places come back */
    ck_assert_int_eq(weblab_async_worker_reserve(w), APR_SUCCESS);
    weblab_async_worker_unreserve(w);
    ck_assert_int_eq(weblab_async_worker_taken(w), 0);
}
END_TEST

START_TEST(worker_rejects_bad_sizes)
{
    weblab_async_worker_t *w;

    ck_assert_int_eq(weblab_async_worker_create(&w, 0, 4, pool), APR_EINVAL);
    ck_assert_int_eq(weblab_async_worker_create(&w, 1, -1, pool),
                     APR_EINVAL);
}
END_TEST

START_TEST(worker_pool_end_waits_for_running_drops_queued)
{
    apr_pool_t *child;
    weblab_async_worker_t *w;
    sleeper_t running = {apr_time_from_msec(300), 0, 0};
    sleeper_t queued = {0, 0, 0};

    apr_pool_create(&child, pool);
    ck_assert_int_eq(weblab_async_worker_create(&w, 1, 4, child),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_async_worker_reserve(w), APR_SUCCESS);
    ck_assert_int_eq(weblab_async_worker_run(w, sleep_job, &running, pool),
                     APR_SUCCESS);
    wait_for(&running.started, 1);
    ck_assert_int_eq(weblab_async_worker_reserve(w), APR_SUCCESS);
    ck_assert_int_eq(weblab_async_worker_run(w, sleep_job, &queued, pool),
                     APR_SUCCESS);
    apr_pool_destroy(child);        /* a child process ending */
    ck_assert_uint_eq(apr_atomic_read32(&running.done), 1);
    ck_assert_uint_eq(apr_atomic_read32(&queued.started), 0);
}
END_TEST

/* ---- the records ---- */

static weblab_sql_t *db;
static const char *mysql_db;        /* set when running on MariaDB */

static const char FIXTURE[] =
    "INSERT INTO Role (id, name) VALUES (1, 'student');"
    "INSERT INTO \"User\" (id, login, full_name, role_id) VALUES"
    " (1, 'student1', 'Student One', 1);"
    "INSERT INTO ExperimentCategory (id, name) VALUES (1, 'Dummy');"
    "INSERT INTO Experiment (id, name, category_id, start_date, end_date)"
    " VALUES (1, 'dummy', 1, '2026-01-01', '2038-01-01');"
    "INSERT INTO UserUsedExperiment (id, user_id, experiment_id,"
    " start_date, reservation_id) VALUES"
    " (1, 1, 1, '2026-01-01T00:00:00', 'r1'),"
    " (2, 1, 1, '2026-01-01T00:00:00', 'r2');";

static void db_setup(void)
{
    const char *dsn = "sqlite::memory:";

    setup();
    if (test_mysql_server()) {
        ck_assert_int_eq(test_mysql_create(&dsn, &mysql_db, "async", pool),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(weblab_sql_open(&db, dsn, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_data(db), APR_SUCCESS);
    ck_assert_msg(weblab_sql_exec_script(db, FIXTURE) == APR_SUCCESS,
                  "fixture: %s", weblab_sql_error(db));
}

static void db_teardown(void)
{
    weblab_sql_close(db);
    if (mysql_db) {
        test_mysql_drop(mysql_db);
        mysql_db = NULL;
    }
    teardown();
}

static apr_hash_t *ids(const char *a, const char *b)
{
    apr_hash_t *h = apr_hash_make(pool);

    apr_hash_set(h, a, APR_HASH_KEY_STRING, "");
    if (b) {
        apr_hash_set(h, b, APR_HASH_KEY_STRING, "");
    }
    return h;
}

static const weblab_async_result_t *get(apr_hash_t *h, const char *id)
{
    return apr_hash_get(h, id, APR_HASH_KEY_STRING);
}

static apr_int64_t count(const char *sql)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(db, &rows, pool, sql, ""),
                     APR_SUCCESS);
    ck_assert(weblab_sql_next(rows));
    return weblab_sql_int(rows, 0);
}

START_TEST(running_then_ok_reported_once)
{
    weblab_async_log_t log;
    apr_hash_t *out;

    ck_assert_int_eq(weblab_db_async_begin(&log, db, "req1", 1, "hello",
                                           NULL, NULL, 100.0, 200.0, pool),
                     APR_SUCCESS);
    ck_assert(!log.is_file && log.row_id > 0);
    /* in the uses log at once, without a response yet */
    ck_assert_int_eq(count("SELECT count(*) FROM UserCommand WHERE command ="
                           " 'hello' AND response IS NULL AND"
                           " timestamp_before = 100 AND timestamp_after IS"
                           " NULL"), 1);
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1,
                                             ids("req1", "other"), 150.0,
                                             pool), APR_SUCCESS);
    ck_assert_int_eq(apr_hash_count(out), 1);
    ck_assert_str_eq(get(out, "req1")->status, "running");
    ck_assert_ptr_null(get(out, "req1")->response);
    /* another use does not see it */
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 2, ids("req1", NULL),
                                             150.0, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_hash_count(out), 0);

    ck_assert_int_eq(weblab_db_async_finish(db, "req1", &log, 1, "done!",
                                            160.0), APR_SUCCESS);
    ck_assert_int_eq(count("SELECT count(*) FROM UserCommand WHERE response"
                           " = 'done!' AND timestamp_after = 160"), 1);
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1, ids("req1", NULL),
                                             170.0, pool), APR_SUCCESS);
    ck_assert_str_eq(get(out, "req1")->status, "ok");
    ck_assert_str_eq(get(out, "req1")->response, "done!");
    /* once */
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1, ids("req1", NULL),
                                             170.0, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_hash_count(out), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM AsyncCommandStatus"), 0);
}
END_TEST

START_TEST(file_error_keeps_no_response)
{
    weblab_async_log_t log;
    apr_hash_t *out;

    ck_assert_int_eq(weblab_db_async_begin(&log, db, "req2", 1, NULL, "QUJD",
                                           "prog", 100.0, 200.0, pool),
                     APR_SUCCESS);
    ck_assert(log.is_file);
    ck_assert_int_eq(weblab_db_async_finish(db, "req2", &log, 0,
                                            "Couldn't send async file: x",
                                            120.0), APR_SUCCESS);
    ck_assert_int_eq(count("SELECT count(*) FROM UserFile WHERE file_info ="
                           " 'prog' AND response IS NULL AND timestamp_after"
                           " = 120 AND file_hash ="
                           " '{sha}3c01bdbb26f358bab27f267924aa2c9a03fcfdb8'"),
                     1);
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1, ids("req2", NULL),
                                             130.0, pool), APR_SUCCESS);
    ck_assert_str_eq(get(out, "req2")->status, "error");
    ck_assert_str_eq(get(out, "req2")->response,
                     "Couldn't send async file: x");
}
END_TEST

START_TEST(running_past_deadline_is_lost)
{
    weblab_async_log_t log;
    apr_hash_t *out;

    ck_assert_int_eq(weblab_db_async_begin(&log, db, "req3", 1, "slow", NULL,
                                           NULL, 100.0, 200.0, pool),
                     APR_SUCCESS);
    /* a late start moves the deadline */
    ck_assert_int_eq(weblab_db_async_extend(db, "req3", 300.0), APR_SUCCESS);
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1, ids("req3", NULL),
                                             250.0, pool), APR_SUCCESS);
    ck_assert_str_eq(get(out, "req3")->status, "running");
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1, ids("req3", NULL),
                                             301.0, pool), APR_SUCCESS);
    ck_assert_str_eq(get(out, "req3")->status, "error");
    ck_assert_str_eq(get(out, "req3")->response, WEBLAB_ASYNC_LOST);
    ck_assert_int_eq(weblab_db_async_collect(&out, db, 1, ids("req3", NULL),
                                             302.0, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_hash_count(out), 0);
    /* an answer arriving after all still reaches the uses log */
    ck_assert_int_eq(weblab_db_async_finish(db, "req3", &log, 1, "late",
                                            310.0), APR_SUCCESS);
    ck_assert_int_eq(count("SELECT count(*) FROM UserCommand WHERE command ="
                           " 'slow' AND response = 'late'"), 1);
    ck_assert_int_eq(count("SELECT count(*) FROM AsyncCommandStatus"), 0);
}
END_TEST

START_TEST(unreported_outcomes_do_not_pile_up)
{
    weblab_async_log_t log;

    ck_assert_int_eq(weblab_db_async_begin(&log, db, "old", 1, "a", NULL,
                                           NULL, 100.0, 200.0, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_db_async_begin(&log, db, "new", 1, "b", NULL,
                                           NULL, 200.0 + 86400 + 1,
                                           200.0 + 86400 + 100, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(count("SELECT count(*) FROM AsyncCommandStatus WHERE id ="
                           " 'old'"), 0);
    ck_assert_int_eq(count("SELECT count(*) FROM AsyncCommandStatus"), 1);
}
END_TEST

static Suite *async_suite(void)
{
    Suite *s = suite_create("async");
    TCase *w = tcase_create("worker"), *d = tcase_create("records");

    tcase_add_checked_fixture(w, setup, teardown);
    tcase_add_test(w, worker_refuses_beyond_threads_plus_queue);
    tcase_add_test(w, worker_rejects_bad_sizes);
    tcase_add_test(w, worker_pool_end_waits_for_running_drops_queued);
    suite_add_tcase(s, w);
    tcase_add_checked_fixture(d, db_setup, db_teardown);
    tcase_add_test(d, running_then_ok_reported_once);
    tcase_add_test(d, file_error_keeps_no_response);
    tcase_add_test(d, running_past_deadline_is_lost);
    tcase_add_test(d, unreported_outcomes_do_not_pile_up);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    return check_main(async_suite);
}
