/* Unit tests of the SQL coordination backend (weblab_coord_sql.c) on a
 * SQLite file in a temporary directory: the queue rules (FIFO, priority,
 * several instances, shared resources), positions, the slot life cycle
 * (assigned -> confirmed -> finishing -> done, released only by disposed),
 * start failures and broken instances, claims, sessions, the upkeep's due
 * lists, cleanup, SQL metacharacters, and many threads reserving through one
 * shared weblab_coord_t with a writer lock.
 *
 * Times are explicit "now" values around T0 (the real clock at setup,
 * because sync_instances and instance_checked run the queue with the real
 * clock); nothing sleeps. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "weblab_coord.h"
#include "weblab_core.h"
#include "weblab_schema.h"
#include "weblab_sql.h"
#include "test_mysql_env.h"
#include "check_main.h"


static apr_pool_t *pool;
static char dir[64];
static char dsn[512];
static const char *mysql_db;        /* set when running on MariaDB */
static weblab_coord_t *coord;
static weblab_sql_t *peek;          /* direct connection for checks */
static double T0;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    if (test_mysql_server()) {
        const char *d;

        ck_assert_int_eq(test_mysql_create(&d, &mysql_db, "coord", pool),
                         APR_SUCCESS);
        snprintf(dsn, sizeof(dsn), "%s", d);
    }
    else {
        strcpy(dir, "/tmp/weblab-coord-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(dsn, sizeof(dsn), "sqlite:%s/coord.db", dir);
    }
    ck_assert_int_eq(weblab_sql_open(&peek, dsn, pool), APR_SUCCESS);
    ck_assert_int_eq(weblab_schema_create_coordination(peek), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_open(&coord, "sql", dsn, 4, NULL, pool),
                     APR_SUCCESS);
    T0 = floor(weblab_now());
}

static void teardown(void)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal",
                                           NULL};
    int i;

    apr_pool_destroy(pool);         /* closes peek and the coord's pool */
    if (mysql_db) {
        test_mysql_drop(mysql_db);
        mysql_db = NULL;
        return;
    }
    for (i = 0; suffixes[i]; i++) {
        char path[160];

        snprintf(path, sizeof(path), "%s/coord.db%s", dir, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- helpers ---- */

static void note_reservation(const char *id)
{
    (void)id;                   /* the checks here read the tables */
}

#include "coord_test_helpers.h"

/* First column of the first row of a query on the coordination file, as an
 * integer (0 when no row). */
static apr_int64_t sql_int(const char *sql, const char *types, const char *a)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(peek, &rows, pool, sql, types, a),
                     APR_SUCCESS);
    return weblab_sql_next(rows) ? weblab_sql_int(rows, 0) : 0;
}

static const char *sql_str(const char *sql, const char *a)
{
    weblab_sql_rows_t *rows;

    ck_assert_int_eq(weblab_sql_select(peek, &rows, pool, sql, "s", a),
                     APR_SUCCESS);
    return weblab_sql_next(rows) ? weblab_sql_str(rows, 0) : NULL;
}

/* No resource instance has two holders; returns how many are held. */
static int held_slots(void)
{
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM (SELECT slot_id FROM"
                             " Reservation WHERE slot_id IS NOT NULL"
                             " GROUP BY slot_id HAVING COUNT(*) > 1) AS dup",
                             NULL, NULL), 0);
    return (int)sql_int("SELECT COUNT(*) FROM Reservation"
                        " WHERE slot_id IS NOT NULL", NULL, NULL);
}

static apr_int64_t resource_id(const char *name)
{
    return sql_int("SELECT id FROM ResourceInstance WHERE name = ?", "s",
                   name);
}

/* ---- queue rules ---- */

START_TEST(test_fifo_within_priority)
{
    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    reserve_dummy("r3", 5);
    reserve_dummy("r4", 5);

    assert_state("r1", "assigned");
    ck_assert_str_eq(get_r("r1")->resource_instance, "dummy1");
    ck_assert_str_eq(get_r("r1")->instance_name, "exp1");
    ck_assert_double_eq(get_r("r1")->timestamp_before, T0);
    assert_waiting_at("r2", 0);
    assert_waiting_at("r3", 1);
    assert_waiting_at("r4", 2);
    /* a working instance exists: the API shows "waiting" */
    ck_assert_int_eq(get_r("r2")->working_instances, 1);

    /* slots go in arrival order */
    finish("r1", T0 + 1);
    assert_state("r2", "assigned");
    assert_waiting_at("r3", 0);
    assert_waiting_at("r4", 1);
    finish("r2", T0 + 2);
    assert_state("r3", "assigned");
    assert_waiting_at("r4", 0);
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

START_TEST(test_lower_priority_number_first)
{
    deploy_dummy(1);
    reserve_dummy("r0", 5);         /* holds the slot */
    reserve_dummy("rA", 5);
    reserve_dummy("rB", 1);
    reserve_dummy("rC", 5);
    reserve_dummy("rD", 3);

    assert_waiting_at("rB", 0);
    assert_waiting_at("rD", 1);
    assert_waiting_at("rA", 2);
    assert_waiting_at("rC", 3);

    finish("r0", T0 + 1);
    assert_state("rB", "assigned");
    finish("rB", T0 + 2);
    assert_state("rD", "assigned");
    finish("rD", T0 + 3);
    assert_state("rA", "assigned");
    assert_waiting_at("rC", 0);
}
END_TEST

START_TEST(test_several_instances)
{
    weblab_reservation_t *a, *b;

    deploy_dummy(2);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    reserve_dummy("r3", 5);

    a = get_r("r1");
    b = get_r("r2");
    ck_assert_str_eq(a->state, "assigned");
    ck_assert_str_eq(b->state, "assigned");
    ck_assert_ptr_nonnull(a->resource_instance);
    ck_assert_ptr_nonnull(b->resource_instance);
    ck_assert_str_ne(a->resource_instance, b->resource_instance);
    ck_assert_str_ne(a->instance_name, b->instance_name);
    assert_waiting_at("r3", 0);
    ck_assert_int_eq(get_r("r3")->working_instances, 2);
    ck_assert_int_eq(held_slots(), 2);

    /* the freed instance is the one r3 gets */
    finish("r2", T0 + 1);
    ck_assert_str_eq(get_r("r3")->resource_instance, b->resource_instance);
}
END_TEST

START_TEST(test_positions_update_when_ahead_leaves)
{
    deploy_dummy(1);
    reserve_dummy("r0", 5);
    reserve_dummy("w1", 5);
    reserve_dummy("w2", 5);
    reserve_dummy("w3", 5);
    reserve_dummy("w4", 5);
    assert_waiting_at("w1", 0);
    assert_waiting_at("w2", 1);
    assert_waiting_at("w3", 2);
    assert_waiting_at("w4", 3);

    /* finish of a waiting reservation cancels it and it leaves the queue */
    finish("w2", T0 + 1);
    assert_state("w2", "cancelled");
    ck_assert_ptr_null(get_r("w2")->resource_instance);
    assert_waiting_at("w1", 0);
    assert_waiting_at("w3", 1);
    assert_waiting_at("w4", 2);
    assert_state("r0", "assigned");     /* nobody got a slot */

    finish("w1", T0 + 2);
    assert_waiting_at("w3", 0);
    assert_waiting_at("w4", 1);

    /* finish is idempotent */
    finish("w1", T0 + 3);
    assert_state("w1", "cancelled");
    assert_waiting_at("w3", 0);
}
END_TEST

START_TEST(test_no_working_instance_waiting_instances)
{
    weblab_reservation_t *r;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(weblab_coord_instance_checked(coord,
                                                   resource_id("dummy1"), 0,
                                                   "down", T0 + 100),
                     APR_SUCCESS);
    reserve_dummy("r2", 5);
    r = get_r("r2");
    ck_assert_str_eq(r->state, "waiting");
    ck_assert_int_eq(r->position, 0);
    /* 0 working instances: the API shows Reservation::waiting_instances */
    ck_assert_int_eq(r->working_instances, 0);
}
END_TEST

START_TEST(test_shared_resource_instance)
{
    apr_array_header_t *defs = apr_array_make(pool, 2,
                                              sizeof(weblab_instance_def_t));

    add_def(defs, DUMMY, DUMMY_CAT, "exp1", "shared_queue", "shared1");
    add_def(defs, "demo", DUMMY_CAT, "exp1", "shared_queue", "shared1");
    sync_defs(defs);

    reserve_type("rA", DUMMY, DUMMY_CAT, 5, T0);
    reserve_type("rB", "demo", DUMMY_CAT, 5, T0);
    reserve_type("rC", DUMMY, DUMMY_CAT, 5, T0);
    assert_state("rA", "assigned");
    assert_waiting_at("rB", 0);     /* one queue for the resource type */
    assert_waiting_at("rC", 1);
    ck_assert_int_eq(held_slots(), 1);

    finish("rA", T0 + 1);
    assert_state("rB", "assigned");
    ck_assert_str_eq(get_r("rB")->resource_instance, "shared1");
    ck_assert_str_eq(sql_str("SELECT li.exp_name FROM Reservation r JOIN"
                             " LabInstance li ON li.id = r.lab_instance_id"
                             " WHERE r.id = ?", "rB"), "demo");
    assert_waiting_at("rC", 0);
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

/* dummy runs on shared1 and shared2, demo only on shared1: while shared1 is
 * held a demo request waits and never takes shared2, and nothing ever holds
 * shared1 twice. */
START_TEST(test_shared_resource_partial)
{
    apr_array_header_t *defs = apr_array_make(pool, 3,
                                              sizeof(weblab_instance_def_t));

    add_def(defs, DUMMY, DUMMY_CAT, "exp1", "shared_queue", "shared1");
    add_def(defs, DUMMY, DUMMY_CAT, "exp2", "shared_queue", "shared2");
    add_def(defs, "demo", DUMMY_CAT, "exp1", "shared_queue", "shared1");
    sync_defs(defs);

    reserve_type("rA", DUMMY, DUMMY_CAT, 5, T0);
    reserve_type("rB", "demo", DUMMY_CAT, 5, T0);
    reserve_type("rC", DUMMY, DUMMY_CAT, 5, T0);
    ck_assert_str_eq(get_r("rA")->resource_instance, "shared1");
    assert_waiting_at("rB", 0);
    ck_assert_str_eq(get_r("rC")->resource_instance, "shared2");
    ck_assert_int_eq(held_slots(), 2);

    finish("rC", T0 + 1);          /* shared2 is of no use to demo */
    assert_waiting_at("rB", 0);
    finish("rA", T0 + 2);
    ck_assert_str_eq(get_r("rB")->resource_instance, "shared1");
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

/* ---- the slot life cycle ---- */

START_TEST(test_slot_released_only_by_disposed)
{
    weblab_reservation_t *r;
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 40), 1);
    ck_assert_int_eq(confirm("r1", T0 + 1, T0 + 2), 1);
    r = get_r("r1");
    ck_assert_str_eq(r->state, "confirmed");
    ck_assert_str_eq(r->lab_session_id, "labsess");
    ck_assert_str_eq(r->api, "2");
    ck_assert_str_eq(r->initial_configuration, "{\"cfg\": 1}");
    ck_assert_str_eq(r->initial_data, "\"{\\\"cfg\\\": 1}\"");
    ck_assert_int_eq(r->use_id, 42);
    ck_assert_double_eq(r->timestamp_after, T0 + 1);
    ck_assert_double_eq(r->claim_until, 0);

    finish("r1", T0 + 10);
    r = get_r("r1");
    ck_assert_str_eq(r->state, "finishing");
    ck_assert_double_eq(r->next_dispose, T0 + 10);
    ck_assert_int_eq(r->finished, 0);
    /* still holding the slot: r2 is not assigned */
    ck_assert_str_eq(r->resource_instance, "dummy1");
    assert_waiting_at("r2", 0);
    d = due_at(T0 + 10, 350);
    ck_assert(has_id(d.to_dispose, "r1"));

    /* the lab said "ask again": not due before then, slot still held */
    ck_assert_int_eq(weblab_coord_dispose_later(coord, "r1", T0 + 20),
                     APR_SUCCESS);
    d = due_at(T0 + 15, 350);
    ck_assert(!has_id(d.to_dispose, "r1"));
    d = due_at(T0 + 20, 350);
    ck_assert(has_id(d.to_dispose, "r1"));
    assert_waiting_at("r2", 0);
    finish("r1", T0 + 21);          /* idempotent: stays finishing */
    assert_state("r1", "finishing");

    disposed("r1", T0 + 22, 100);
    r = get_r("r1");
    ck_assert_str_eq(r->state, "done");
    ck_assert_int_eq(r->finished, 1);
    ck_assert_str_eq(r->end_data, "\"bye\"");
    ck_assert_double_eq(r->post_expires, T0 + 122);
    ck_assert_ptr_null(r->resource_instance);
    assert_state("r2", "assigned");
    d = due_at(T0 + 30, 350);
    ck_assert(!has_id(d.to_dispose, "r1"));
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

START_TEST(test_finish_assigned_unstarted_releases)
{
    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    /* nobody is starting r1: the cancel frees the slot at once */
    finish("r1", T0 + 1);
    assert_state("r1", "cancelled");
    assert_state("r2", "assigned");
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

START_TEST(test_confirm_after_finish)
{
    int confirmed;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    /* finished while the lab is starting: cancelled, slot kept */
    finish("r1", T0 + 1);
    assert_state("r1", "cancelled");
    assert_waiting_at("r2", 0);
    ck_assert_int_eq(held_slots(), 1);

    confirmed = confirm("r1", T0 + 2, 0);
    ck_assert_int_eq(confirmed, 0);
    assert_state("r1", "cancelled");
    assert_waiting_at("r2", 0);

    /* the starter disposes: the slot goes to r2, r1 stays cancelled */
    disposed("r1", T0 + 3, 100);
    assert_state("r1", "cancelled");
    assert_state("r2", "assigned");
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

/* Shared with the other suite (coord_test_helpers.h). */
START_TEST(test_cancelled_during_start_released_after_claim)
{
    scenario_cancelled_during_start_released();
}
END_TEST

START_TEST(test_start_failed_breaks_and_requeues)
{
    weblab_reservation_t *r;
    weblab_coord_due_t d;
    apr_int64_t rid;

    deploy_dummy(1);
    rid = resource_id("dummy1");
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    ck_assert_int_eq(weblab_coord_start_failed(coord, "r1",
                                               "connection refused", T0 + 1),
                     APR_SUCCESS);

    r = get_r("r1");
    ck_assert_str_eq(r->state, "waiting");
    ck_assert_int_eq(r->priority, -1);
    ck_assert_int_eq(r->position, 0);           /* at the head */
    ck_assert_int_eq(r->working_instances, 0);  /* -> waiting_instances */
    ck_assert_ptr_null(r->resource_instance);
    ck_assert_ptr_null(r->instance_name);
    ck_assert_double_eq(r->claim_until, 0);
    assert_waiting_at("r2", 1);
    ck_assert_int_eq(held_slots(), 0);
    ck_assert_int_eq(sql_int("SELECT working FROM ResourceInstance"
                             " WHERE name = ?", "s", "dummy1"), 0);
    ck_assert_str_eq(sql_str("SELECT error FROM ResourceInstance"
                             " WHERE name = ?", "dummy1"),
                     "connection refused");

    /* listed for a re-test once next_check has come */
    d = due_at(T0 + 2, 350);
    ck_assert_int_eq(d.broken->nelts, 0);
    d = due_at(T0 + 7, 350);
    ck_assert_int_eq(d.broken->nelts, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(d.broken, 0, weblab_coord_broken_t)
                     .resource_id, rid);
    ck_assert_str_eq(APR_ARRAY_IDX(d.broken, 0, weblab_coord_broken_t)
                     .lab.url, LAB_URL);
    ck_assert_str_eq(APR_ARRAY_IDX(d.broken, 0, weblab_coord_broken_t)
                     .lab.resource_instance, "dummy1");

    /* not assigned again: not by a new reservation, a config sync or a
     * failed re-test */
    reserve_dummy("r3", 5);
    deploy_dummy(1);
    ck_assert_int_eq(weblab_coord_instance_checked(coord, rid, 0,
                                                   "still down", T0 + 100),
                     APR_SUCCESS);
    assert_waiting_at("r1", 0);
    assert_waiting_at("r2", 1);
    assert_waiting_at("r3", 2);
    ck_assert_int_eq(held_slots(), 0);
    d = due_at(T0 + 50, 350);
    ck_assert_int_eq(d.broken->nelts, 0);       /* next check at T0+100 */

    /* back in service: the re-queued reservation is served first */
    ck_assert_int_eq(weblab_coord_instance_checked(coord, rid, 1, NULL, 0),
                     APR_SUCCESS);
    assert_state("r1", "assigned");
    assert_waiting_at("r2", 0);
    assert_waiting_at("r3", 1);
    ck_assert_int_eq(get_r("r2")->working_instances, 1);
}
END_TEST

/* A finish that arrives while the start is under way keeps the slot for the
 * starter (test_confirm_after_finish); when that start then FAILS, the
 * starter calls start_failed, which must still release the slot (it once
 * acted on 'assigned' only, and the instance was never assigned again). */
START_TEST(test_start_failed_after_finish_releases_slot)
{
    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    finish("r1", T0 + 1);                   /* user leaves during start */
    assert_state("r1", "cancelled");
    ck_assert_int_eq(weblab_coord_start_failed(coord, "r1", "refused",
                                               T0 + 2), APR_SUCCESS);
    assert_state("r1", "cancelled");
    ck_assert_int_eq(weblab_coord_instance_checked(coord,
                                                   resource_id("dummy1"), 1,
                                                   NULL, 0), APR_SUCCESS);
    ck_assert_msg(!strcmp(state_of("r2"), "assigned"),
                  "slot still held by cancelled r1 after"
                  " start_failed (r1 slot_id=%d); r2 is %s",
                  (int)sql_int("SELECT COALESCE(slot_id, 0) FROM Reservation"
                               " WHERE id = ?", "s", "r1"),
                  state_of("r2"));
}
END_TEST

/* A lab instance removed from the configuration while held: "a holder keeps
 * its slot until disposed", and then it is no longer assigned
 * (weblab_coord.h, sync_instances). */
START_TEST(test_removed_instance_not_reassigned)
{
    apr_array_header_t *defs = apr_array_make(pool, 1,
                                              sizeof(weblab_instance_def_t));

    deploy_dummy(2);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    reserve_dummy("r3", 5);
    ck_assert_str_eq(get_r("r1")->resource_instance, "dummy1");
    ck_assert_str_eq(get_r("r2")->resource_instance, "dummy2");

    add_def(defs, DUMMY, DUMMY_CAT, "exp2", "dummy_queue", "dummy2");
    sync_defs(defs);                        /* exp1/dummy1 removed */
    assert_state("r1", "assigned");         /* the holder keeps it */
    finish("r1", T0 + 1);
    ck_assert_msg(!strcmp(state_of("r3"), "waiting"),
                  "removed instance dummy1 given to r3 (%s on %s)",
                  state_of("r3"), get_r("r3")->resource_instance
                                      ? get_r("r3")->resource_instance : "-");
}
END_TEST

/* ---- claims ---- */

START_TEST(test_claims)
{
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    d = due_at(T0, 350);
    ck_assert(has_id(d.to_start, "r1"));

    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 10), 1);
    ck_assert_int_eq(claim("r1", "assigned", T0 + 1, T0 + 11), 0);
    ck_assert_int_eq(claim("r1", "confirmed", T0 + 20, T0 + 30), 0);
    ck_assert_int_eq(claim("nope", "assigned", T0, T0 + 10), 0);
    ck_assert_double_eq(get_r("r1")->claim_until, T0 + 10);
    d = due_at(T0 + 5, 350);
    ck_assert(!has_id(d.to_start, "r1"));

    /* the claim expires */
    d = due_at(T0 + 10.5, 350);
    ck_assert(has_id(d.to_start, "r1"));
    ck_assert_int_eq(claim("r1", "assigned", T0 + 10.5, T0 + 20), 1);
    ck_assert_double_eq(get_r("r1")->claim_until, T0 + 20);

    /* dispose claims honour next_dispose */
    ck_assert_int_eq(confirm("r1", T0 + 11, 0), 1);
    finish("r1", T0 + 12);
    ck_assert_int_eq(claim("r1", "finishing", T0 + 12, T0 + 22), 1);
    ck_assert_int_eq(claim("r1", "finishing", T0 + 13, T0 + 23), 0);
    d = due_at(T0 + 13, 350);
    ck_assert(!has_id(d.to_dispose, "r1"));
    ck_assert_int_eq(weblab_coord_dispose_later(coord, "r1", T0 + 30),
                     APR_SUCCESS);
    ck_assert_double_eq(get_r("r1")->claim_until, 0);
    ck_assert_int_eq(claim("r1", "finishing", T0 + 25, T0 + 35), 0);
    ck_assert_int_eq(claim("r1", "finishing", T0 + 30, T0 + 40), 1);
}
END_TEST

/* ---- sessions ---- */

START_TEST(test_sessions)
{
    weblab_session_t s, *got;

    memset(&s, 0, sizeof(s));
    s.id = "sessionAAAAAAAAA";
    s.user_id = 7;
    s.login = "student1";
    s.full_name = "Student One";
    s.role = "student";
    s.created = s.latest_access = T0;
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
    /* the same id twice is refused */
    ck_assert_int_ne(weblab_coord_session_create(coord, &s), APR_SUCCESS);

    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->id, s.id);
    ck_assert_int_eq(got->user_id, 7);
    ck_assert_str_eq(got->login, "student1");
    ck_assert_str_eq(got->full_name, "Student One");
    ck_assert_str_eq(got->role, "student");
    ck_assert_double_eq(got->created, T0);
    ck_assert_ptr_null(got->reservation_id);

    /* an access refreshes it: alive 80 s after that, gone after 100 s */
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 70, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 150,
                                              100, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 251,
                                              100, pool), APR_SUCCESS);
    ck_assert_ptr_null(got);
    /* expiry deleted it */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM WebSession WHERE id = ?",
                             "s", s.id), 0);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);

    /* delete; unknown */
    s.id = "sessionBBBBBBBBB";
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_session_delete(coord, s.id), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, "unknown", T0, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);

    /* a reservation is recorded as the session's latest */
    deploy_dummy(1);
    s.id = "sessionAAAAAAAAA";
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->reservation_id, "r1");
    ck_assert_str_eq(get_r("r1")->session_id, s.id);
}
END_TEST

/* ---- upkeep lists ---- */

START_TEST(test_due_poll_timeout)
{
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);         /* assigned, latest_poll T0 */
    reserve_dummy("r2", 5);         /* waiting */
    d = due_at(T0 + 5, 10);
    ck_assert_int_eq(d.expired->nelts, 0);
    ck_assert(has_id(d.to_start, "r1"));
    ck_assert(!has_id(d.to_start, "r2"));

    d = due_at(T0 + 11, 10);
    ck_assert(has_id(d.expired, "r1"));
    ck_assert(has_id(d.expired, "r2"));

    ck_assert_int_eq(weblab_coord_touch(coord, "r2", T0 + 11), APR_SUCCESS);
    ck_assert_double_eq(get_r("r2")->latest_poll, T0 + 11);
    d = due_at(T0 + 12, 10);
    ck_assert(has_id(d.expired, "r1"));
    ck_assert(!has_id(d.expired, "r2"));

    /* ended reservations are never "expired" again */
    finish("r1", T0 + 12);
    finish("r2", T0 + 12);
    d = due_at(T0 + 1000, 10);
    ck_assert_int_eq(d.expired->nelts, 0);
}
END_TEST

START_TEST(test_due_time_over_and_should_finish)
{
    apr_array_header_t *defs = apr_array_make(pool, 3,
                                              sizeof(weblab_instance_def_t));
    weblab_reservation_t r;
    weblab_coord_due_t d;

    add_def(defs, DUMMY, DUMMY_CAT, "exp1", "dummy_queue", "dummy1");
    add_def(defs, DUMMY, DUMMY_CAT, "exp2", "dummy_queue", "dummy2");
    add_def(defs, "robot", "Physics", "exp1", "robot_queue", "robot1")
        ->manages_polling = 1;
    sync_defs(defs);

    res_init(&r, "rA", DUMMY, DUMMY_CAT, 5);     /* T0 = slot start */
    r.time_allowed = 30;
    r.init_in_accounting = 1;
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, T0), APR_SUCCESS);
    res_init(&r, "rB", DUMMY, DUMMY_CAT, 5);     /* T0 = lab confirmed */
    r.time_allowed = 30;
    r.init_in_accounting = 0;
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, T0), APR_SUCCESS);
    res_init(&r, "rC", "robot", "Physics", 5);   /* manages polling */
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, T0), APR_SUCCESS);
    assert_state("rA", "assigned");
    assert_state("rB", "assigned");
    assert_state("rC", "assigned");

    ck_assert_int_eq(confirm("rA", T0 + 2, 0), 1);
    ck_assert_int_eq(confirm("rB", T0 + 2, T0 + 5), 1);

    d = due_at(T0 + 29.5, 1000);
    ck_assert_int_eq(d.expired->nelts, 0);
    d = due_at(T0 + 30, 1000);
    ck_assert(has_id(d.expired, "rA"));
    ck_assert(!has_id(d.expired, "rB"));
    d = due_at(T0 + 32, 1000);
    ck_assert(has_id(d.expired, "rA"));
    ck_assert(has_id(d.expired, "rB"));
    ck_assert(!has_id(d.expired, "rC"));

    /* poll timeout: not for a lab that manages polling */
    d = due_at(T0 + 13, 10);
    ck_assert(has_id(d.expired, "rA"));
    ck_assert(has_id(d.expired, "rB"));
    ck_assert(!has_id(d.expired, "rC"));

    /* should_finish questions */
    d = due_at(T0 + 4, 1000);
    ck_assert(!has_id(d.should_finish, "rB"));
    d = due_at(T0 + 5, 1000);
    ck_assert(has_id(d.should_finish, "rB"));
    ck_assert_int_eq(weblab_coord_set_should_finish(coord, "rB", T0 + 8),
                     APR_SUCCESS);
    d = due_at(T0 + 6, 1000);
    ck_assert(!has_id(d.should_finish, "rB"));
    d = due_at(T0 + 8, 1000);
    ck_assert(has_id(d.should_finish, "rB"));
    ck_assert_int_eq(weblab_coord_set_should_finish(coord, "rB", 0),
                     APR_SUCCESS);
    d = due_at(T0 + 1000, 1e9);
    ck_assert(!has_id(d.should_finish, "rB"));
    /* not asked once finishing */
    ck_assert_int_eq(weblab_coord_set_should_finish(coord, "rA", T0 + 3),
                     APR_SUCCESS);
    finish("rA", T0 + 4);
    ck_assert_int_eq(weblab_coord_set_should_finish(coord, "rA", T0 + 5),
                     APR_SUCCESS);
    d = due_at(T0 + 100, 1e9);
    ck_assert(!has_id(d.should_finish, "rA"));
    ck_assert(has_id(d.to_dispose, "rA"));
}
END_TEST

/* confirm(next_should_finish = 0) is what weblab_lifecycle_start passes for
 * an api "1" lab, meaning "do not ask" (weblab_reservation_t comment, and
 * set_should_finish treats 0 that way): it must not be due at once. */
START_TEST(test_confirm_zero_should_finish_never_due)
{
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(confirm("r1", T0 + 1, 0), 1);
    d = due_at(T0 + 2, 1000);
    ck_assert_msg(!has_id(d.should_finish, "r1"),
                  "confirm with next_should_finish 0 (never) is"
                  " listed in due.should_finish");
}
END_TEST

/* ---- cleanup ---- */

START_TEST(test_cleanup)
{
    weblab_reservation_t *r;
    weblab_session_t s, *got;

    deploy_dummy(1);
    reserve_dummy("r2", 5);         /* will be done */
    reserve_dummy("r1", 5);         /* will be cancelled */
    reserve_dummy("r3", 5);         /* stays active */
    finish("r1", T0);               /* post_expires T0 + 3600 */
    ck_assert_int_eq(claim("r2", "assigned", T0, T0 + 10), 1);
    ck_assert_int_eq(confirm("r2", T0 + 1, 0), 1);
    finish("r2", T0 + 5);
    disposed("r2", T0 + 10, 100);   /* post_expires T0 + 110 */
    assert_state("r3", "assigned");

    memset(&s, 0, sizeof(s));
    s.id = "sessionAAAAAAAAA";
    s.user_id = 1;
    s.login = s.full_name = s.role = "x";
    s.created = s.latest_access = T0;
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 109, 200), APR_SUCCESS);
    ck_assert_str_eq(state_of("r2"), "done");
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM WebSession", NULL, NULL),
                     1);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 111, 200), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_get(coord, &r, "r2", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    assert_state("r1", "cancelled");
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM WebSession", NULL, NULL),
                     1);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 3601, 200),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_get(coord, &r, "r1", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM WebSession", NULL, NULL),
                     0);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0, 1e9,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);

    /* active reservations are never dropped */
    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 1e7, 200),
                     APR_SUCCESS);
    assert_state("r3", "assigned");
}
END_TEST

/* ---- SQL metacharacters ---- */

#define META_ID    "r'1\"; DROP TABLE Reservation;--"
#define META_SID   "s'1\"); DELETE FROM WebSession;--"
#define META_LOGIN "o'b\";DELETE FROM WebSession;\\%_"  /* <= 32 */
#define META_EXP   "ex'p\"; --"
#define META_CAT   "c'at%_\\"
#define META_INST  "i'n\"st"
#define META_RI    "r'i;--"

START_TEST(test_sql_metacharacters)
{
    apr_array_header_t *defs = apr_array_make(pool, 1,
                                              sizeof(weblab_instance_def_t));
    weblab_reservation_t r, *got;
    weblab_session_t s, *sgot;

    add_def(defs, META_EXP, META_CAT, META_INST, "q'ueue", META_RI);
    sync_defs(defs);

    memset(&s, 0, sizeof(s));
    s.id = META_SID;
    s.user_id = 3;
    s.login = META_LOGIN;
    s.full_name = META_LOGIN;
    s.role = "stu'dent";
    s.created = s.latest_access = T0;
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);

    res_init(&r, META_ID, META_EXP, META_CAT, 5);
    r.session_id = META_SID;
    r.login = META_LOGIN;
    r.full_name = META_LOGIN;
    r.client_initial_data = "{\"a\": \"'; --\"}";
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, T0), APR_SUCCESS);

    got = get_r(META_ID);
    ck_assert_str_eq(got->id, META_ID);
    ck_assert_str_eq(got->login, META_LOGIN);
    ck_assert_str_eq(got->full_name, META_LOGIN);
    ck_assert_str_eq(got->exp_name, META_EXP);
    ck_assert_str_eq(got->cat_name, META_CAT);
    ck_assert_str_eq(got->resource_type, "q'ueue");
    ck_assert_str_eq(got->instance_name, META_INST);
    ck_assert_str_eq(got->resource_instance, META_RI);
    ck_assert_str_eq(got->client_initial_data, "{\"a\": \"'; --\"}");
    ck_assert_str_eq(got->state, "assigned");

    ck_assert_int_eq(weblab_coord_session_get(coord, &sgot, META_SID, T0 + 1,
                                              100, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(sgot);
    ck_assert_str_eq(sgot->login, META_LOGIN);
    ck_assert_str_eq(sgot->role, "stu'dent");
    ck_assert_str_eq(sgot->reservation_id, META_ID);

    /* every table is still there, with exactly what was written */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM Reservation", NULL, NULL),
                     1);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM WebSession", NULL, NULL),
                     1);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM Reservation WHERE"
                             " login = ?", "s", META_LOGIN), 1);
    finish(META_ID, T0 + 1);
    assert_state(META_ID, "cancelled");
}
END_TEST

/* ---- concurrency ---- */

#define NTHREADS 16
#define NRES 200
#define NINST 3

typedef struct {
    pthread_mutex_t mutex;
    int holders;
    int max_holders;
    int locks;
} test_lock_t;

static apr_status_t tl_lock(void *baton)
{
    test_lock_t *t = baton;

    pthread_mutex_lock(&t->mutex);
    t->locks++;
    if (++t->holders > t->max_holders) {
        t->max_holders = t->holders;
    }
    return APR_SUCCESS;
}

static apr_status_t tl_unlock(void *baton)
{
    test_lock_t *t = baton;

    t->holders--;
    pthread_mutex_unlock(&t->mutex);
    return APR_SUCCESS;
}

typedef struct {
    weblab_coord_t *coord;
    int index;
    const char **finish_ids;    /* phase 2: ids this thread finishes */
    int nfinish;
    const char *claim_id;       /* phase 3 */
    int claimed;
    int failures;
} worker_t;

static void *reserve_worker(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *tp;
    int i;

    apr_pool_create(&tp, NULL);
    for (i = w->index; i < NRES; i += NTHREADS) {
        weblab_reservation_t r;

        res_init(&r, apr_psprintf(tp, "c%03d", i), DUMMY, DUMMY_CAT, 5);
        r.session_id = apr_psprintf(tp, "sess%012d", i);
        r.user_id = i;
        if (weblab_coord_reserve(w->coord, &r, T0 + i * 0.001)
            != APR_SUCCESS) {
            w->failures++;
        }
        else {
            weblab_reservation_t *got = NULL;

            /* reads run while others write */
            if (weblab_coord_get(w->coord, &got, r.id, tp) != APR_SUCCESS
                || !got) {
                w->failures++;
            }
        }
    }
    apr_pool_destroy(tp);
    return NULL;
}

static void *finish_worker(void *arg)
{
    worker_t *w = arg;
    int i;

    for (i = 0; i < w->nfinish; i++) {
        if (weblab_coord_finish(w->coord, w->finish_ids[i], 0, T0 + 1)
            != APR_SUCCESS) {
            w->failures++;
        }
    }
    return NULL;
}

static void *claim_worker(void *arg)
{
    worker_t *w = arg;

    if (weblab_coord_claim(w->coord, &w->claimed, w->claim_id, "assigned",
                           T0 + 2, T0 + 60) != APR_SUCCESS) {
        w->failures++;
    }
    return NULL;
}

static void run_workers(worker_t *w, void *(*fn)(void *))
{
    pthread_t th[NTHREADS];
    int i;

    for (i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, fn, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(w[i].failures, 0);
    }
}

/* The queue as it stands: assigned ids and waiting ids by position. */
static int queue_snapshot(weblab_coord_t *c, const char **assigned,
                          const char **by_pos, int *nwaiting)
{
    int i, nassigned = 0;

    *nwaiting = 0;
    for (i = 0; i < NRES; i++) {
        const char *id = apr_psprintf(pool, "c%03d", i);
        weblab_reservation_t *r = NULL;

        ck_assert_int_eq(weblab_coord_get(c, &r, id, pool), APR_SUCCESS);
        ck_assert_ptr_nonnull(r);
        if (!strcmp(r->state, "assigned")) {
            ck_assert_int_lt(nassigned, NINST);
            assigned[nassigned++] = r->id;
        }
        else if (!strcmp(r->state, "waiting")) {
            ck_assert_int_ge(r->position, 0);
            ck_assert_int_lt(r->position, NRES);
            ck_assert_msg(by_pos[r->position] == NULL,
                          "position %d given to %s and %s", r->position,
                          by_pos[r->position], r->id);
            by_pos[r->position] = r->id;
            (*nwaiting)++;
        }
    }
    return nassigned;
}

START_TEST(test_concurrent_reservations)
{
    test_lock_t lock;
    weblab_sql_lock_t sql_lock;
    weblab_coord_t *shared;
    worker_t w[NTHREADS];
    const char *assigned[NINST], *by_pos[NRES], *fin[NTHREADS][2];
    int i, nwaiting, claimed;

    memset(&lock, 0, sizeof(lock));
    pthread_mutex_init(&lock.mutex, NULL);
    sql_lock.lock = tl_lock;
    sql_lock.unlock = tl_unlock;
    sql_lock.baton = &lock;
    /* fewer connections than threads: the pool makes some wait too */
    ck_assert_int_eq(weblab_coord_open(&shared, "sql", dsn, 8, &sql_lock,
                                       pool), APR_SUCCESS);
    deploy_dummy_on(shared, NINST);

    /* phase 1: 200 reservations from 16 threads on 3 instances */
    memset(w, 0, sizeof(w));
    for (i = 0; i < NTHREADS; i++) {
        w[i].coord = shared;
        w[i].index = i;
    }
    lock.locks = 0;
    run_workers(w, reserve_worker);
    ck_assert_int_eq(lock.max_holders, 1);
    /* reserves that meet are written together (group commit) */
    ck_assert_int_ge(lock.locks, 1);
    ck_assert_int_le(lock.locks, NRES);

    memset(by_pos, 0, sizeof(by_pos));
    ck_assert_int_eq(queue_snapshot(shared, assigned, by_pos, &nwaiting),
                     NINST);
    ck_assert_int_eq(nwaiting, NRES - NINST);
    for (i = 0; i < NRES - NINST; i++) {
        ck_assert_msg(by_pos[i] != NULL, "no one at position %d", i);
    }
    ck_assert_int_eq(held_slots(), NINST);
    ck_assert_int_eq(sql_int("SELECT COUNT(DISTINCT slot_id) FROM Reservation"
                             " WHERE state = 'assigned'", NULL, NULL), NINST);
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM Reservation", NULL, NULL),
                     NRES);

    /* phase 2: every thread finishes one of the 3 holders (each several
     * times over) and one distinct waiting reservation behind the first
     * three; the head of the queue gets the slots */
    {
        const char *head[NINST] = {by_pos[0], by_pos[1], by_pos[2]};
        const char *cancelled[NTHREADS];

        for (i = 0; i < NTHREADS; i++) {
            fin[i][0] = assigned[i % NINST];
            fin[i][1] = cancelled[i] = by_pos[NINST + i];
            w[i].finish_ids = fin[i];
            w[i].nfinish = 2;
        }
        run_workers(w, finish_worker);
        for (i = 0; i < NINST; i++) {
            ck_assert_str_eq(state_of(assigned[i]), "cancelled");
            ck_assert_str_eq(state_of(head[i]), "assigned");
        }
        for (i = 0; i < NTHREADS; i++) {
            ck_assert_str_eq(state_of(cancelled[i]), "cancelled");
        }
        memset(by_pos, 0, sizeof(by_pos));
        ck_assert_int_eq(queue_snapshot(shared, assigned, by_pos, &nwaiting),
                         NINST);
        for (i = 0; i < NINST; i++) {
            ck_assert(!strcmp(assigned[i], head[0])
                      || !strcmp(assigned[i], head[1])
                      || !strcmp(assigned[i], head[2]));
        }
        ck_assert_int_eq(nwaiting, NRES - 2 * NINST - NTHREADS);
        for (i = 0; i < nwaiting; i++) {
            ck_assert_ptr_nonnull(by_pos[i]);
        }
        ck_assert_int_eq(held_slots(), NINST);
    }

    /* phase 3: 16 threads claim the same start step; one wins */
    for (i = 0; i < NTHREADS; i++) {
        w[i].claim_id = assigned[0];
        w[i].claimed = -1;
    }
    run_workers(w, claim_worker);
    claimed = 0;
    for (i = 0; i < NTHREADS; i++) {
        ck_assert(w[i].claimed == 0 || w[i].claimed == 1);
        claimed += w[i].claimed;
    }
    ck_assert_int_eq(claimed, 1);
    ck_assert_int_eq(lock.max_holders, 1);
}
END_TEST

/* Group commit: reserves that arrive while one is being written wait and
 * are written together in one transaction; one failing item (unknown
 * experiment, duplicate id) fails alone. */
#define NGROUP 10

typedef struct {
    weblab_coord_t *coord;
    const char *id;
    const char *exp;
    apr_status_t rv;
} group_worker_t;

static void *group_reserve(void *arg)
{
    group_worker_t *g = arg;
    weblab_reservation_t r;

    res_init(&r, g->id, g->exp, DUMMY_CAT, 5);
    g->rv = weblab_coord_reserve(g->coord, &r, T0);
    return NULL;
}

START_TEST(test_group_commit)
{
    test_lock_t lock;
    weblab_sql_lock_t sql_lock;
    weblab_coord_t *shared;
    group_worker_t g[NGROUP];
    pthread_t th[NGROUP];
    int i;

    memset(&lock, 0, sizeof(lock));
    pthread_mutex_init(&lock.mutex, NULL);
    sql_lock.lock = tl_lock;
    sql_lock.unlock = tl_unlock;
    sql_lock.baton = &lock;
    ck_assert_int_eq(weblab_coord_open(&shared, "sql", dsn, 8, &sql_lock,
                                       pool), APR_SUCCESS);
    deploy_dummy_on(shared, 1);
    for (i = 0; i < NGROUP; i++) {
        g[i].coord = shared;
        g[i].id = apr_psprintf(pool, "g%03d", i);
        g[i].exp = DUMMY;
        g[i].rv = APR_EGENERAL;
    }
    g[3].exp = "no-such-experiment";
    g[5].id = "g000";                   /* the first one's id again */

    /* the test holds the writer lock: the first reserve waits for it with
     * its own batch of one, the next nine queue behind it */
    tl_lock(&lock);
    lock.locks = 0;
    ck_assert_int_eq(pthread_create(&th[0], NULL, group_reserve, &g[0]), 0);
    usleep(200000);
    for (i = 1; i < NGROUP; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, group_reserve, &g[i]),
                         0);
    }
    usleep(400000);
    tl_unlock(&lock);
    for (i = 0; i < NGROUP; i++) {
        pthread_join(th[i], NULL);
    }
    ck_assert_int_eq(lock.locks, 2);      /* two batches: 1, then 9 */
    for (i = 0; i < NGROUP; i++) {
        if (i == 3) {
            ck_assert_int_eq(g[i].rv, APR_NOTFOUND);
        }
        else if (i == 5) {
            ck_assert_int_ne(g[i].rv, APR_SUCCESS);
        }
        else {
            ck_assert_msg(g[i].rv == APR_SUCCESS, "reserve %d failed: %d", i,
                          g[i].rv);
        }
    }
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM Reservation", NULL, NULL),
                     NGROUP - 2);
    ck_assert_str_eq(state_of("g000"), "assigned");
    ck_assert_int_eq(held_slots(), 1);
    for (i = 1; i < NGROUP; i++) {
        if (i != 3 && i != 5) {
            ck_assert_str_eq(state_of(g[i].id), "waiting");
        }
    }
    /* each failure left nothing behind: the session points at a real one */
    ck_assert_int_eq(sql_int("SELECT COUNT(*) FROM Reservation"
                             " WHERE exp_name = ?", "s",
                             "no-such-experiment"), 0);
}
END_TEST

static Suite *coord_suite(void)
{
    Suite *s = suite_create("weblab_coord_sql");
    TCase *tc = tcase_create("queue");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fifo_within_priority);
    tcase_add_test(tc, test_lower_priority_number_first);
    tcase_add_test(tc, test_several_instances);
    tcase_add_test(tc, test_positions_update_when_ahead_leaves);
    tcase_add_test(tc, test_no_working_instance_waiting_instances);
    tcase_add_test(tc, test_shared_resource_instance);
    tcase_add_test(tc, test_shared_resource_partial);
    suite_add_tcase(s, tc);

    tc = tcase_create("slots");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_slot_released_only_by_disposed);
    tcase_add_test(tc, test_finish_assigned_unstarted_releases);
    tcase_add_test(tc, test_confirm_after_finish);
    tcase_add_test(tc, test_cancelled_during_start_released_after_claim);
    tcase_add_test(tc, test_start_failed_breaks_and_requeues);
    tcase_add_test(tc, test_start_failed_after_finish_releases_slot);
    tcase_add_test(tc, test_removed_instance_not_reassigned);
    tcase_add_test(tc, test_claims);
    suite_add_tcase(s, tc);

    tc = tcase_create("upkeep");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sessions);
    tcase_add_test(tc, test_due_poll_timeout);
    tcase_add_test(tc, test_due_time_over_and_should_finish);
    tcase_add_test(tc, test_confirm_zero_should_finish_never_due);
    tcase_add_test(tc, test_cleanup);
    tcase_add_test(tc, test_sql_metacharacters);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_concurrent_reservations);
    tcase_add_test(tc, test_group_commit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(coord_suite);
}
