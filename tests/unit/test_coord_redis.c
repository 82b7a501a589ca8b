/* The coordination behaviour of tests/unit/test_coord.c, on the Redis
 * backend (weblab_coord_redis*.c) and through the weblab_coord.h API only:
 * where test_coord.c reads SQL tables, these read weblab_coord_get,
 * weblab_coord_instances and the due lists, and a direct hiredis
 * connection ("peek") only for what the API does not show (TTLs, a lab
 * instance's own experiment). Plus what only Redis has: targets and key
 * prefixes, a killed connection, a flushed script cache, redis-server
 * killed and restarted with and without persistence.
 *
 * Run by tests/unit/with-redis.sh, which starts a private redis-server and
 * sets WEBLAB_TEST_REDIS (exit 77, skipped, without it). Each test gets its
 * own key prefix, so the tests never see each other's keys.
 *
 * Times are explicit "now" values around T0 (the real clock at setup);
 * nothing sleeps except while redis-server restarts. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "weblab_coord.h"
#include "weblab_coord_redis.h"
#include "weblab_core.h"


static apr_pool_t *pool;
static const char *base_target;     /* from with-redis.sh */
static const char *prefix;          /* this test's key prefix */
static const char *target;          /* base_target with the prefix */
static weblab_coord_t *coord;
static redisContext *peek;          /* direct connection for checks */
static apr_array_header_t *known;   /* reservation ids made by the test */
static double T0;

/* ---- the direct connection ---- */

static redisContext *peek_connect(void)
{
    weblab_redis_target_t t;
    const char *err;
    struct timeval tv = {2, 0};
    redisContext *c;

    ck_assert_int_eq(weblab_redis_target_parse(&t, &err, base_target, pool),
                     APR_SUCCESS);
    c = t.host ? redisConnectWithTimeout(t.host, t.port, tv)
               : redisConnectUnixWithTimeout(t.socket_path, tv);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(!c->err, "peek connection: %s", c->errstr);
    return c;
}

/* A command on peek; its answer as an integer (strings are parsed). */
static long long peek_int(const char *fmt, ...)
{
    redisReply *reply;
    long long v = 0;
    va_list ap;

    va_start(ap, fmt);
    reply = redisvCommand(peek, fmt, ap);
    va_end(ap);
    ck_assert_msg(reply != NULL, "peek: %s", peek->errstr);
    if (reply->type == REDIS_REPLY_INTEGER) {
        v = reply->integer;
    }
    else if (reply->type == REDIS_REPLY_STRING) {
        v = atoll(reply->str);
    }
    freeReplyObject(reply);
    return v;
}

/* A string answer on peek, copied into pool (NULL for nil). */
static const char *peek_str(const char *fmt, ...)
{
    redisReply *reply;
    const char *v = NULL;
    va_list ap;

    va_start(ap, fmt);
    reply = redisvCommand(peek, fmt, ap);
    va_end(ap);
    ck_assert_msg(reply != NULL, "peek: %s", peek->errstr);
    if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
        || reply->type == REDIS_REPLY_ERROR) {
        v = apr_pstrmemdup(pool, reply->str, reply->len);
    }
    freeReplyObject(reply);
    return v;
}

static void drop_keys(const char *pfx)
{
    redisReply *reply = redisCommand(peek,
        "EVAL %s 0 %s",
        "local k = redis.call('KEYS', ARGV[1])"
        " for i = 1, #k, 500 do"
        "   redis.call('DEL', unpack(k, i, math.min(i + 499, #k)))"
        " end return #k",
        apr_pstrcat(pool, pfx, "*", NULL));

    if (reply) {
        freeReplyObject(reply);
    }
}

static const char *with_prefix(const char *pfx)
{
    return apr_pstrcat(pool, base_target,
                       strchr(base_target, '?') ? "&" : "?", "prefix=", pfx,
                       NULL);
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    peek = peek_connect();
    prefix = apr_psprintf(pool, "wltest:%ld:", (long)getpid());
    target = with_prefix(prefix);
    drop_keys(prefix);
    ck_assert_int_eq(weblab_coord_open(&coord, "redis", target, 4, NULL,
                                       pool), APR_SUCCESS);
    known = apr_array_make(pool, 16, sizeof(const char *));
    T0 = floor(weblab_now());
}

static void teardown(void)
{
    if (peek && !peek->err) {
        drop_keys(prefix);
    }
    if (peek) {
        redisFree(peek);
        peek = NULL;
    }
    apr_pool_destroy(pool);         /* closes the coord's connections */
}

/* ---- helpers (as in test_coord.c) ---- */

/* reservation ids the test made, for held_slots() */
static void note_reservation(const char *id)
{
    APR_ARRAY_PUSH(known, const char *) = apr_pstrdup(pool, id);
}

#include "coord_test_helpers.h"

static apr_array_header_t *instances_now(weblab_coord_t *c)
{
    apr_array_header_t *all = NULL;

    ck_assert_int_eq(weblab_coord_instances(c, &all, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(all);
    return all;
}

static weblab_coord_instance_t *instance_named(const char *ri)
{
    apr_array_header_t *all = instances_now(coord);
    int i;

    for (i = 0; i < all->nelts; i++) {
        weblab_coord_instance_t *in = &APR_ARRAY_IDX(all, i,
                                                     weblab_coord_instance_t);

        if (!strcmp(in->lab.resource_instance, ri)) {
            return in;
        }
    }
    ck_abort_msg("no instance %s", ri);
    return NULL;
}

static apr_int64_t resource_id(const char *name)
{
    return instance_named(name)->resource_id;
}

/* No resource instance has two holders, seen from both sides: no two of
 * the ids hold the same slot, and every slot's holder holds that slot.
 * Returns how many slots are held. */
static int held_among(weblab_coord_t *c, const apr_array_header_t *ids)
{
    apr_hash_t *seen = apr_hash_make(pool);
    apr_array_header_t *all = instances_now(c);
    int i, held = 0;

    for (i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        weblab_reservation_t *r = NULL;
        const char *other;

        ck_assert_int_eq(weblab_coord_get(c, &r, id, pool), APR_SUCCESS);
        if (!r || !r->slot_id) {
            continue;
        }
        other = apr_hash_get(seen, &r->slot_id, sizeof(r->slot_id));
        ck_assert_msg(other == NULL, "slot %d held by %s and %s",
                      (int)r->slot_id, other, id);
        apr_hash_set(seen, apr_pmemdup(pool, &r->slot_id, sizeof(r->slot_id)),
                     sizeof(r->slot_id), id);
        held++;
    }
    for (i = 0; i < all->nelts; i++) {
        weblab_coord_instance_t *in = &APR_ARRAY_IDX(all, i,
                                                     weblab_coord_instance_t);
        const char *by = apr_hash_get(seen, &in->resource_id,
                                      sizeof(in->resource_id));

        if (in->holder) {
            ck_assert_msg(by && !strcmp(by, in->holder), "instance %s: holder"
                          " %s, but reservations say %s",
                          in->lab.resource_instance, in->holder,
                          by ? by : "nobody");
        }
        else {
            ck_assert_msg(by == NULL, "instance %s free but held by %s",
                          in->lab.resource_instance, by);
        }
    }
    return held;
}

static int held_slots(void)
{
    return held_among(coord, known);
}

static void session_make(const char *id, double t)
{
    weblab_session_t s;

    memset(&s, 0, sizeof(s));
    s.id = id;
    s.user_id = 1;
    s.login = s.full_name = s.role = "x";
    s.created = s.latest_access = t;
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
}

static int session_exists(const char *id)
{
    return (int)peek_int("EXISTS %ss:%s", prefix, id);
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
    ck_assert_int_eq(get_r("r2")->working_instances, 1);

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
    reserve_dummy("r0", 5);
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

    finish("w2", T0 + 1);
    assert_state("w2", "cancelled");
    ck_assert_ptr_null(get_r("w2")->resource_instance);
    assert_waiting_at("w1", 0);
    assert_waiting_at("w3", 1);
    assert_waiting_at("w4", 2);
    assert_state("r0", "assigned");

    finish("w1", T0 + 2);
    assert_waiting_at("w3", 0);
    assert_waiting_at("w4", 1);

    finish("w1", T0 + 3);           /* idempotent */
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
    ck_assert_int_eq(r->working_instances, 0);
}
END_TEST

/* The experiment of the lab instance a reservation got (not shown by the
 * API: read from its keys). */
static const char *lab_exp_of(const char *id)
{
    const char *li = peek_str("HGET %sr:%s li", prefix, id);

    ck_assert_ptr_nonnull(li);
    return peek_str("HGET %sli:%s exp_name", prefix, li);
}

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
    assert_waiting_at("rB", 0);
    assert_waiting_at("rC", 1);
    ck_assert_int_eq(held_slots(), 1);

    finish("rA", T0 + 1);
    assert_state("rB", "assigned");
    ck_assert_str_eq(get_r("rB")->resource_instance, "shared1");
    ck_assert_str_eq(lab_exp_of("rB"), "demo");
    assert_waiting_at("rC", 0);
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

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

    finish("rC", T0 + 1);
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
    ck_assert_str_eq(r->resource_instance, "dummy1");
    assert_waiting_at("r2", 0);
    d = due_at(T0 + 10, 350);
    ck_assert(has_id(d.to_dispose, "r1"));

    ck_assert_int_eq(weblab_coord_dispose_later(coord, "r1", T0 + 20),
                     APR_SUCCESS);
    d = due_at(T0 + 15, 350);
    ck_assert(!has_id(d.to_dispose, "r1"));
    d = due_at(T0 + 20, 350);
    ck_assert(has_id(d.to_dispose, "r1"));
    assert_waiting_at("r2", 0);
    finish("r1", T0 + 21);
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
    finish("r1", T0 + 1);
    assert_state("r1", "cancelled");
    assert_state("r2", "assigned");
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

START_TEST(test_confirm_after_finish)
{
    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    finish("r1", T0 + 1);
    assert_state("r1", "cancelled");
    assert_waiting_at("r2", 0);
    ck_assert_int_eq(held_slots(), 1);

    ck_assert_int_eq(confirm("r1", T0 + 2, 0), 0);
    assert_state("r1", "cancelled");
    assert_waiting_at("r2", 0);

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
    weblab_coord_instance_t *in;
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
    ck_assert_int_eq(r->position, 0);
    ck_assert_int_eq(r->working_instances, 0);
    ck_assert_ptr_null(r->resource_instance);
    ck_assert_ptr_null(r->instance_name);
    ck_assert_double_eq(r->claim_until, 0);
    assert_waiting_at("r2", 1);
    ck_assert_int_eq(held_slots(), 0);
    in = instance_named("dummy1");
    ck_assert_int_eq(in->working, 0);
    ck_assert_str_eq(in->error, "connection refused");

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
    ck_assert_int_eq(d.broken->nelts, 0);

    ck_assert_int_eq(weblab_coord_instance_checked(coord, rid, 1, NULL, 0),
                     APR_SUCCESS);
    assert_state("r1", "assigned");
    assert_waiting_at("r2", 0);
    assert_waiting_at("r3", 1);
    ck_assert_int_eq(get_r("r2")->working_instances, 1);
    ck_assert_ptr_null(instance_named("dummy1")->error);
}
END_TEST

START_TEST(test_start_failed_after_finish_releases_slot)
{
    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    finish("r1", T0 + 1);
    assert_state("r1", "cancelled");
    ck_assert_int_eq(weblab_coord_start_failed(coord, "r1", "refused",
                                               T0 + 2), APR_SUCCESS);
    assert_state("r1", "cancelled");
    ck_assert_int_eq(get_r("r1")->slot_id, 0);
    ck_assert_int_eq(weblab_coord_instance_checked(coord,
                                                   resource_id("dummy1"), 1,
                                                   NULL, 0), APR_SUCCESS);
    assert_state("r2", "assigned");
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

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
    ck_assert_str_eq(get_r("r1")->resource_instance, "dummy1");
    finish("r1", T0 + 1);
    ck_assert_msg(!strcmp(state_of("r3"), "waiting"),
                  "removed instance dummy1 given to r3 (%s on %s)",
                  state_of("r3"), get_r("r3")->resource_instance
                                      ? get_r("r3")->resource_instance : "-");
    /* once free, it is gone for good */
    sync_defs(defs);
    ck_assert_int_eq(instances_now(coord)->nelts, 1);
    finish("r2", T0 + 2);
    ck_assert_str_eq(get_r("r3")->resource_instance, "dummy2");
}
END_TEST

/* A lab instance that stops answering (health check): out of service, and
 * its holder back at the head of the queue, served by another instance. */
START_TEST(test_instance_failed_requeues_holder)
{
    weblab_reservation_t *r;

    deploy_dummy(2);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    reserve_dummy("r3", 5);
    ck_assert_int_eq(confirm("r1", T0 + 1, T0 + 5), 1);
    ck_assert_int_eq(weblab_coord_instance_failed(coord,
                                                  resource_id("dummy1"),
                                                  "no answer", T0 + 2,
                                                  T0 + 12), APR_SUCCESS);
    r = get_r("r1");
    ck_assert_str_eq(r->state, "waiting");
    ck_assert_int_eq(r->priority, -1);
    ck_assert_int_eq(r->position, 0);
    ck_assert_int_eq(r->use_id, 42);            /* keeps its use */
    ck_assert_ptr_null(r->lab_session_id);
    ck_assert_double_eq(r->latest_poll, T0 + 2);
    ck_assert(!has_id(due_at(T0 + 100, 1000).should_finish, "r1"));
    ck_assert_int_eq(instance_named("dummy1")->working, 0);
    ck_assert_str_eq(instance_named("dummy1")->error, "no answer");
    finish("r2", T0 + 3);                       /* frees dummy2 */
    ck_assert_str_eq(get_r("r1")->resource_instance, "dummy2");
    assert_waiting_at("r3", 0);
    ck_assert_int_eq(held_slots(), 1);
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

    d = due_at(T0 + 10.5, 350);
    ck_assert(has_id(d.to_start, "r1"));
    ck_assert_int_eq(claim("r1", "assigned", T0 + 10.5, T0 + 20), 1);
    ck_assert_double_eq(get_r("r1")->claim_until, T0 + 20);

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
    long long ttl;

    memset(&s, 0, sizeof(s));
    s.id = "sessionAAAAAAAAA";
    s.user_id = 7;
    s.login = "student1";
    s.full_name = "Student One";
    s.role = "student";
    s.created = s.latest_access = T0;
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
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
    /* a hash with a TTL: until the first refresh, the creation TTL */
    ttl = peek_int("TTL %ss:%s", prefix, s.id);
    ck_assert_int_gt(ttl, 100);

    /* an access refreshes it: alive 80 s after that, gone after 100 s */
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 70, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ttl = peek_int("TTL %ss:%s", prefix, s.id);
    ck_assert_msg(ttl > 90 && ttl <= 101, "TTL %lld after a refresh with a"
                  " 100 s timeout", ttl);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 150,
                                              100, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 251,
                                              100, pool), APR_SUCCESS);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(session_exists(s.id), 0);      /* expiry deleted it */
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);

    s.id = "sessionBBBBBBBBB";
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_session_delete(coord, s.id), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, "unknown", T0, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);

    deploy_dummy(1);
    s.id = "sessionAAAAAAAAA";
    ck_assert_int_eq(weblab_coord_session_create(coord, &s), APR_SUCCESS);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got, s.id, T0 + 1, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->reservation_id, "r1");
    ck_assert_str_eq(get_r("r1")->session_id, s.id);
    /* a reservation of an unknown session does not make one up */
    ck_assert_int_eq(session_exists("sessionCCCCCCCCC"), 0);
}
END_TEST

/* ---- upkeep lists ---- */

START_TEST(test_due_poll_timeout)
{
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
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

    finish("r1", T0 + 12);
    finish("r2", T0 + 12);
    d = due_at(T0 + 1000, 10);
    ck_assert_int_eq(d.expired->nelts, 0);
    /* touching an unknown reservation makes nothing up */
    ck_assert_int_eq(weblab_coord_touch(coord, "nope", T0), APR_SUCCESS);
    ck_assert_int_eq(peek_int("EXISTS %sr:nope", prefix), 0);
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

    res_init(&r, "rA", DUMMY, DUMMY_CAT, 5);
    r.time_allowed = 30;
    r.init_in_accounting = 1;
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, T0), APR_SUCCESS);
    res_init(&r, "rB", DUMMY, DUMMY_CAT, 5);
    r.time_allowed = 30;
    r.init_in_accounting = 0;
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, T0), APR_SUCCESS);
    res_init(&r, "rC", "robot", "Physics", 5);
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

    d = due_at(T0 + 13, 10);
    ck_assert(has_id(d.expired, "rA"));
    ck_assert(has_id(d.expired, "rB"));
    ck_assert(!has_id(d.expired, "rC"));

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

START_TEST(test_confirm_zero_should_finish_never_due)
{
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(confirm("r1", T0 + 1, 0), 1);
    d = due_at(T0 + 2, 1000);
    ck_assert(!has_id(d.should_finish, "r1"));
}
END_TEST

/* ---- cleanup and TTLs ---- */

START_TEST(test_cleanup)
{
    weblab_reservation_t *r;
    weblab_session_t *got;

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
    session_make("sessionAAAAAAAAA", T0);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 109, 200), APR_SUCCESS);
    ck_assert_str_eq(state_of("r2"), "done");
    ck_assert_int_eq(session_exists("sessionAAAAAAAAA"), 1);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 111, 200), APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_get(coord, &r, "r2", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    assert_state("r1", "cancelled");
    ck_assert_int_eq(session_exists("sessionAAAAAAAAA"), 1);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 3601, 200),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_get(coord, &r, "r1", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(session_exists("sessionAAAAAAAAA"), 0);
    ck_assert_int_eq(weblab_coord_session_get(coord, &got,
                                              "sessionAAAAAAAAA", T0, 1e9,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);

    ck_assert_int_eq(weblab_coord_cleanup(coord, T0 + 1e7, 200),
                     APR_SUCCESS);
    assert_state("r3", "assigned");
}
END_TEST

/* Ended reservations expire on their own at post_expires, but never while
 * they hold a slot; active ones never do. */
START_TEST(test_ttls)
{
    long long ms;
    double now = weblab_now();

    deploy_dummy(1);
    reserve_type("r1", DUMMY, DUMMY_CAT, 5, now);
    reserve_type("r2", DUMMY, DUMMY_CAT, 5, now);
    ck_assert_int_eq(peek_int("PTTL %sr:r1", prefix), -1);
    ck_assert_int_eq(peek_int("PTTL %sr:r2", prefix), -1);

    ck_assert_int_eq(claim("r1", "assigned", now, now + 30), 1);
    finish("r1", now);              /* cancelled while starting */
    assert_state("r1", "cancelled");
    ck_assert_int_eq(peek_int("PTTL %sr:r1", prefix), -1);
    disposed("r1", now, 50);        /* slot released: expires in 50 s */
    ms = peek_int("PTTL %sr:r1", prefix);
    ck_assert_msg(ms > 40000 && ms <= 50000, "PTTL %lld", ms);

    finish("r2", now);              /* waiting -> cancelled: 3600 s */
    ms = peek_int("PTTL %sr:r2", prefix);
    ck_assert_msg(ms > 3500000 && ms <= 3600000, "PTTL %lld", ms);
}
END_TEST

/* ---- odd strings ---- */

#define META_ID    "r'1\"; DEL *:--"
#define META_SID   "s:1*?[x]\\"
#define META_LOGIN "o'brien\"; FLUSHALL;--\\%_\n"
#define META_EXP   "ex:p\"; --"
#define META_CAT   "c'at%_\\[\"]"
#define META_INST  "i'n\"st"
#define META_RI    "r'i;--:1"

START_TEST(test_metacharacters)
{
    apr_array_header_t *defs = apr_array_make(pool, 1,
                                              sizeof(weblab_instance_def_t));
    weblab_reservation_t r, *got;
    weblab_session_t s, *sgot;

    add_def(defs, META_EXP, META_CAT, META_INST, "q'ueue:", META_RI);
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
    APR_ARRAY_PUSH(known, const char *) = META_ID;

    got = get_r(META_ID);
    ck_assert_str_eq(got->id, META_ID);
    ck_assert_str_eq(got->login, META_LOGIN);
    ck_assert_str_eq(got->exp_name, META_EXP);
    ck_assert_str_eq(got->cat_name, META_CAT);
    ck_assert_str_eq(got->resource_type, "q'ueue:");
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
    ck_assert_int_eq(held_slots(), 1);
    finish(META_ID, T0 + 1);
    assert_state(META_ID, "cancelled");
    ck_assert_int_eq(held_slots(), 0);
}
END_TEST

/* ---- targets, prefixes, connections ---- */

START_TEST(test_targets)
{
    weblab_redis_target_t t;
    const char *err;
    apr_pool_t *p = pool;

    ck_assert_int_eq(weblab_redis_target_parse(&t, &err,
                     "redis://:s3cr%40t@10.0.0.7:6380/3?prefix=wl1:&timeout=1.5",
                     p), APR_SUCCESS);
    ck_assert_str_eq(t.host, "10.0.0.7");
    ck_assert_int_eq(t.port, 6380);
    ck_assert_int_eq(t.db, 3);
    ck_assert_ptr_null(t.user);
    ck_assert_str_eq(t.password, "s3cr@t");
    ck_assert_str_eq(t.prefix, "wl1:");
    ck_assert_double_eq(t.timeout, 1.5);
    ck_assert_double_eq(t.connect_timeout, 2.0);

    ck_assert_int_eq(weblab_redis_target_parse(&t, &err, "redis://localhost",
                                               p), APR_SUCCESS);
    ck_assert_str_eq(t.host, "localhost");
    ck_assert_int_eq(t.port, 6379);
    ck_assert_int_eq(t.db, 0);
    ck_assert_ptr_null(t.password);
    ck_assert_str_eq(t.prefix, "weblab:");

    ck_assert_int_eq(weblab_redis_target_parse(&t, &err,
                     "redis://weblab:pw@[::1]:7000/1", p), APR_SUCCESS);
    ck_assert_str_eq(t.host, "::1");
    ck_assert_int_eq(t.port, 7000);
    ck_assert_str_eq(t.user, "weblab");
    ck_assert_str_eq(t.password, "pw");

    ck_assert_int_eq(weblab_redis_target_parse(&t, &err,
                     "unix:/run/redis/redis.sock?db=2&password=x&prefix=a:",
                     p), APR_SUCCESS);
    ck_assert_ptr_null(t.host);
    ck_assert_str_eq(t.socket_path, "/run/redis/redis.sock");
    ck_assert_int_eq(t.db, 2);
    ck_assert_str_eq(t.password, "x");

    ck_assert_int_ne(weblab_redis_target_parse(&t, &err, "sqlite:/x.db", p),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    ck_assert_int_ne(weblab_redis_target_parse(&t, &err,
                     "redis://h:99999", p), APR_SUCCESS);
    ck_assert_int_ne(weblab_redis_target_parse(&t, &err,
                     "redis://h/x", p), APR_SUCCESS);
    ck_assert_int_ne(weblab_redis_target_parse(&t, &err,
                     "redis://h?bogus=1", p), APR_SUCCESS);
    ck_assert_int_ne(weblab_redis_target_parse(&t, &err, "unix:relative", p),
                     APR_SUCCESS);
    ck_assert_int_ne(weblab_redis_target_parse(&t, &err,
                     "redis://secret@h", p), APR_SUCCESS);
    ck_assert_ptr_null(strstr(err, "secret"));

    /* never a password in a log line */
    ck_assert_str_eq(weblab_coord_target_redacted("redis",
                     "redis://u:p%40ss@h:1/2?password=again&db=1", p),
                     "redis://u:***@h:1/2?password=***&db=1");
    ck_assert_str_eq(weblab_coord_target_redacted("redis", "redis://h/0", p),
                     "redis://h/0");
    ck_assert_ptr_null(weblab_coord_check_target("redis", "redis://h", p));
    ck_assert_ptr_nonnull(weblab_coord_check_target("redis", "sqlite:/x",
                                                    p));
    ck_assert_ptr_nonnull(weblab_coord_check_target("sql", "redis://h", p));
    ck_assert_ptr_null(weblab_coord_check_target("sql", "sqlite:/x.db", p));
    ck_assert_ptr_nonnull(weblab_coord_check_target("memcached", "x", p));
}
END_TEST

/* Two deployments on one server, told apart by their key prefix. */
START_TEST(test_prefixes_keep_deployments_apart)
{
    const char *other_prefix = apr_pstrcat(pool, prefix, "other:", NULL);
    weblab_coord_t *other;
    weblab_session_t *got;
    weblab_reservation_t *r;

    ck_assert_int_eq(weblab_coord_open(&other, "redis",
                                       with_prefix(other_prefix), 2, NULL,
                                       pool), APR_SUCCESS);
    deploy_dummy(1);
    deploy_dummy_on(other, 1);
    session_make("sessionAAAAAAAAA", T0);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(weblab_coord_session_get(other, &got,
                                              "sessionAAAAAAAAA", T0, 100,
                                              pool), APR_SUCCESS);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(weblab_coord_get(other, &r, "r1", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    /* the other deployment's slot is its own */
    {
        weblab_reservation_t o;

        res_init(&o, "o1", DUMMY, DUMMY_CAT, 5);
        ck_assert_int_eq(weblab_coord_reserve(other, &o, T0), APR_SUCCESS);
        ck_assert_int_eq(weblab_coord_get(other, &r, "o1", pool),
                         APR_SUCCESS);
        ck_assert_str_eq(r->state, "assigned");
    }
    assert_state("r1", "assigned");
    drop_keys(other_prefix);
}
END_TEST

/* Killed connections and a flushed script cache are repaired within the
 * call: one reconnect and retry, EVAL when the script is not loaded. A
 * server that does not answer gives an error, not a hang. */
START_TEST(test_connection_lost_and_script_flushed)
{
    weblab_coord_t *dead;
    weblab_reservation_t *r;
    apr_status_t rv;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    peek_int("CLIENT KILL TYPE normal SKIPME yes");
    reserve_dummy("r2", 5);                 /* retried on a new connection */
    assert_waiting_at("r2", 0);
    ck_assert_int_eq(held_slots(), 1);      /* and done once */
    ck_assert_str_eq(peek_str("SCRIPT FLUSH"), "OK");
    assert_state("r1", "assigned");
    finish("r1", T0 + 1);
    assert_state("r2", "assigned");

    /* nothing listens there: an error at once */
    ck_assert_int_eq(weblab_coord_open(&dead, "redis",
                                       "redis://127.0.0.1:1/0", 2, NULL,
                                       pool), APR_SUCCESS);
    rv = weblab_coord_get(dead, &r, "r1", pool);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_int_ne(rv, APR_NOTFOUND);
    ck_assert_ptr_null(r);
}
END_TEST

/* A wrong password is an error answer, not a crash; AUTH and SELECT are
 * sent on connect (db 1 here holds nothing of db 0). */
START_TEST(test_auth_and_select)
{
    weblab_coord_t *c1, *bad;
    weblab_reservation_t *r;
    const char *t1 = apr_pstrcat(pool, target, "&db=1", NULL);
    apr_status_t rv;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    ck_assert_int_eq(weblab_coord_open(&c1, "redis", t1, 2, NULL, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(weblab_coord_get(c1, &r, "r1", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(weblab_coord_open(&bad, "redis",
                                       apr_pstrcat(pool, target,
                                                   "&password=wrong", NULL),
                                       2, NULL, pool), APR_SUCCESS);
    rv = weblab_coord_get(bad, &r, "r1", pool);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_ptr_null(r);
}
END_TEST

/* ---- concurrency ---- */

#define NTHREADS 16
#define NRES 200
#define NINST 3

typedef struct {
    weblab_coord_t *coord;
    int index;
    const char **finish_ids;
    int nfinish;
    const char *claim_id;
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

static apr_array_header_t *all_ids(void)
{
    apr_array_header_t *ids = apr_array_make(pool, NRES,
                                             sizeof(const char *));
    int i;

    for (i = 0; i < NRES; i++) {
        APR_ARRAY_PUSH(ids, const char *) = apr_psprintf(pool, "c%03d", i);
    }
    return ids;
}

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
    weblab_coord_t *shared;
    worker_t w[NTHREADS];
    const char *assigned[NINST], *by_pos[NRES], *fin[NTHREADS][2];
    apr_array_header_t *ids = all_ids(), *waiting;
    int i, nwaiting, claimed;

    /* fewer connections than threads: the pool makes some wait too */
    ck_assert_int_eq(weblab_coord_open(&shared, "redis", target, 8, NULL,
                                       pool), APR_SUCCESS);
    deploy_dummy_on(shared, NINST);

    /* phase 1: 200 reservations from 16 threads on 3 instances */
    memset(w, 0, sizeof(w));
    for (i = 0; i < NTHREADS; i++) {
        w[i].coord = shared;
        w[i].index = i;
    }
    run_workers(w, reserve_worker);

    memset(by_pos, 0, sizeof(by_pos));
    ck_assert_int_eq(queue_snapshot(shared, assigned, by_pos, &nwaiting),
                     NINST);
    ck_assert_int_eq(nwaiting, NRES - NINST);
    for (i = 0; i < NRES - NINST; i++) {
        ck_assert_msg(by_pos[i] != NULL, "no one at position %d", i);
    }
    ck_assert_int_eq(held_among(shared, ids), NINST);
    /* the live view agrees: the same queue, in the same order */
    ck_assert_int_eq(weblab_coord_queue(shared, &waiting, pool), APR_SUCCESS);
    ck_assert_int_eq(waiting->nelts, NRES - NINST);
    for (i = 0; i < waiting->nelts; i++) {
        ck_assert_int_eq(APR_ARRAY_IDX(waiting, i, weblab_coord_waiting_t)
                         .position, i);
    }

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
        ck_assert_int_eq(held_among(shared, ids), NINST);
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
}
END_TEST

/* ---- redis-server killed and restarted ---- */

static const char *redis_dir(void)
{
    const char *d = getenv("WEBLAB_TEST_REDIS_DIR");

    ck_assert_msg(d != NULL, "WEBLAB_TEST_REDIS_DIR not set (with-redis.sh)");
    return d;
}

static void kill_redis(void)
{
    const char *pidfile = apr_pstrcat(pool, redis_dir(), "/redis.pid", NULL);
    FILE *f = fopen(pidfile, "r");
    long pid = 0;
    int i;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
    for (i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++) {
        usleep(50000);
    }
    redisFree(peek);
    peek = NULL;
}

/* Start it again from its configuration and wait until it answers PING
 * (not LOADING). */
static void start_redis(void)
{
    const char *server = getenv("WEBLAB_TEST_REDIS_SERVER");
    int i;

    ck_assert_int_eq(system(apr_psprintf(pool, "'%s' '%s/redis.conf'",
                                         server ? server : "redis-server",
                                         redis_dir())), 0);
    for (i = 0; i < 200; i++) {
        weblab_redis_target_t t;
        const char *err;
        struct timeval tv = {1, 0};
        redisContext *c;
        redisReply *reply;
        int ok = 0;

        weblab_redis_target_parse(&t, &err, base_target, pool);
        c = redisConnectUnixWithTimeout(t.socket_path, tv);
        if (c && !c->err && (reply = redisCommand(c, "PING"))) {
            ok = reply->type == REDIS_REPLY_STATUS;
            freeReplyObject(reply);
        }
        if (ok) {
            peek = c;
            return;
        }
        if (c) {
            redisFree(c);
        }
        usleep(50000);
    }
    ck_abort_msg("redis-server did not come back");
}

/* Calls while Redis is down fail with an error (never "not found", never a
 * hang); the first call after it is back succeeds by itself. */
static void assert_down(void)
{
    weblab_reservation_t *r = NULL, res;
    weblab_session_t *s = NULL;
    apr_status_t rv;
    int i;

    for (i = 0; i < 3; i++) {
        rv = weblab_coord_get(coord, &r, "r1", pool);
        ck_assert_msg(rv != APR_SUCCESS && rv != APR_NOTFOUND,
                      "get while Redis is down: %d", rv);
    }
    rv = weblab_coord_session_get(coord, &s, "sessionAAAAAAAAA", T0, 100,
                                  pool);
    ck_assert_int_ne(rv, APR_SUCCESS);
    res_init(&res, "r9", DUMMY, DUMMY_CAT, 5);
    rv = weblab_coord_reserve(coord, &res, T0);
    ck_assert_msg(rv != APR_SUCCESS && rv != APR_NOTFOUND,
                  "reserve while Redis is down: %d", rv);
}

/* Some connections in the pool, all of which die with the server. */
static void *get_worker(void *arg)
{
    weblab_reservation_t *r;
    apr_pool_t *tp;

    apr_pool_create(&tp, NULL);
    weblab_coord_get(coord, &r, "r1", tp);
    apr_pool_destroy(tp);
    return NULL;
}

static void fill_pool(void)
{
    pthread_t th[4];
    int i;

    for (i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, get_worker, NULL);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
}

/* With every write on disk (appendfsync always) nothing is lost: states,
 * queue order, claims, sessions, slots. */
START_TEST(test_restart_persisted)
{
    weblab_session_t *s;

    peek_int("CONFIG SET appendfsync always");
    deploy_dummy(1);
    session_make("sessionAAAAAAAAA", T0);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    reserve_dummy("r3", 1);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    ck_assert_int_eq(confirm("r1", T0 + 1, 0), 1);
    fill_pool();

    kill_redis();
    assert_down();
    start_redis();

    assert_state("r1", "confirmed");        /* first call: no error */
    ck_assert_str_eq(get_r("r1")->lab_session_id, "labsess");
    assert_waiting_at("r3", 0);
    assert_waiting_at("r2", 1);
    ck_assert_int_eq(weblab_coord_session_get(coord, &s, "sessionAAAAAAAAA",
                                              T0 + 1, 100, pool),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->reservation_id, "r3");
    ck_assert_int_eq(held_slots(), 1);
    finish("r1", T0 + 2);
    disposed("r1", T0 + 3, 100);
    assert_state("r3", "assigned");
    ck_assert_int_eq(held_slots(), 1);
}
END_TEST

/* Without persistence a restart loses everything coordination holds:
 * sessions (students log in again), reservations and queues (clients get
 * "not found"), the slots' holders (a lab in use is not disposed by us) and
 * the instance list, which the next sync (every few seconds in the
 * upkeep) writes again. The service itself resumes on its own. */
START_TEST(test_restart_not_persisted)
{
    weblab_reservation_t *r;
    weblab_session_t *s;
    weblab_reservation_t res;
    const char *dir = redis_dir();

    deploy_dummy(1);
    session_make("sessionAAAAAAAAA", T0);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    fill_pool();

    kill_redis();
    assert_down();
    ck_assert_int_eq(system(apr_psprintf(pool, "rm -rf '%s/appendonlydir'"
                                         " '%s/dump.rdb'", dir, dir)), 0);
    start_redis();

    ck_assert_int_eq(weblab_coord_get(coord, &r, "r1", pool), APR_SUCCESS);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(weblab_coord_session_get(coord, &s, "sessionAAAAAAAAA",
                                              T0 + 1, 100, pool),
                     APR_SUCCESS);
    ck_assert_ptr_null(s);
    res_init(&res, "r3", DUMMY, DUMMY_CAT, 5);
    ck_assert_int_eq(weblab_coord_reserve(coord, &res, T0 + 2),
                     APR_NOTFOUND);
    deploy_dummy(1);                        /* what the upkeep's sync does */
    reserve_dummy("r3", 5);
    assert_state("r3", "assigned");
}
END_TEST

static Suite *coord_suite(void)
{
    Suite *s = suite_create("weblab_coord_redis");
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
    tcase_add_test(tc, test_instance_failed_requeues_holder);
    tcase_add_test(tc, test_claims);
    suite_add_tcase(s, tc);

    tc = tcase_create("upkeep");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sessions);
    tcase_add_test(tc, test_due_poll_timeout);
    tcase_add_test(tc, test_due_time_over_and_should_finish);
    tcase_add_test(tc, test_confirm_zero_should_finish_never_due);
    tcase_add_test(tc, test_cleanup);
    tcase_add_test(tc, test_ttls);
    tcase_add_test(tc, test_metacharacters);
    suite_add_tcase(s, tc);

    tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_targets);
    tcase_add_test(tc, test_prefixes_keep_deployments_apart);
    tcase_add_test(tc, test_connection_lost_and_script_flushed);
    tcase_add_test(tc, test_auth_and_select);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_concurrent_reservations);
    suite_add_tcase(s, tc);

    /* last: they restart the server */
    tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_restart_persisted);
    tcase_add_test(tc, test_restart_not_persisted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    base_target = getenv("WEBLAB_TEST_REDIS");
    if (!base_target || !*base_target) {
        fprintf(stderr, "test_coord_redis: WEBLAB_TEST_REDIS is not set;"
                " run it through tests/unit/with-redis.sh\n");
        return 77;
    }
    /* a write to a connection Redis closed must fail, not kill us (httpd
     * ignores SIGPIPE too) */
    signal(SIGPIPE, SIG_IGN);
    apr_initialize();
    sr = srunner_create(coord_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
