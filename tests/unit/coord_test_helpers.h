/* Helpers shared by the coordination suites, test_coord.c (SQL backend)
 * and test_coord_redis.c (Redis backend): deploying dummy lab instances,
 * making reservations and reading their state through weblab_coord.h.
 * The including file defines, before including this one: pool, coord, T0,
 * and note_reservation(id), called for every reservation made here; and,
 * after it, held_slots() (slots held, as its backend counts them). */
#ifndef COORD_TEST_HELPERS_H
#define COORD_TEST_HELPERS_H

#define DUMMY "dummy"
#define DUMMY_CAT "Dummy experiments"
#define LAB_URL "http://127.0.0.1:1/weblab/"

static weblab_instance_def_t *add_def(apr_array_header_t *defs,
                                      const char *exp, const char *cat,
                                      const char *inst, const char *rt,
                                      const char *ri)
{
    weblab_instance_def_t *d = apr_array_push(defs);

    memset(d, 0, sizeof(*d));
    d->exp_name = exp;
    d->cat_name = cat;
    d->instance_name = inst;
    d->resource_type = rt;
    d->resource_instance = ri;
    d->transport = "xmlrpc";
    d->url = LAB_URL;
    d->api = "";
    d->auth_user = "";
    d->auth_password = "";
    return d;
}

static void sync_defs(apr_array_header_t *defs)
{
    ck_assert_int_eq(weblab_coord_sync_instances(coord, defs, pool),
                     APR_SUCCESS);
}

/* n instances exp1..expN of dummy@Dummy experiments on dummy1..dummyN of
 * dummy_queue. */
static void deploy_dummy_on(weblab_coord_t *c, int n)
{
    apr_array_header_t *defs = apr_array_make(pool, n,
                                              sizeof(weblab_instance_def_t));
    int i;

    for (i = 1; i <= n; i++) {
        add_def(defs, DUMMY, DUMMY_CAT, apr_psprintf(pool, "exp%d", i),
                "dummy_queue", apr_psprintf(pool, "dummy%d", i));
    }
    ck_assert_int_eq(weblab_coord_sync_instances(c, defs, pool),
                     APR_SUCCESS);
}

static void deploy_dummy(int n)
{
    deploy_dummy_on(coord, n);
}

static void res_init(weblab_reservation_t *r, const char *id, const char *exp,
                     const char *cat, int priority)
{
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->session_id = "sessionAAAAAAAAA";
    r->user_id = 1;
    r->login = "student1";
    r->full_name = "Student One";
    r->exp_name = exp;
    r->cat_name = cat;
    r->priority = priority;
    r->time_allowed = 200;
    r->init_in_accounting = 1;
    r->permanent_id = "Students::dummy";
    r->client_initial_data = "{}";
    r->request_info = "{}";
    r->route = "route1";
    r->origin = "127.0.0.1";
}

static void reserve_type(const char *id, const char *exp, const char *cat,
                         int priority, double now)
{
    weblab_reservation_t r;

    res_init(&r, id, exp, cat, priority);
    ck_assert_int_eq(weblab_coord_reserve(coord, &r, now), APR_SUCCESS);
    note_reservation(id);
}

static void reserve_dummy(const char *id, int priority)
{
    reserve_type(id, DUMMY, DUMMY_CAT, priority, T0);
}

static weblab_reservation_t *get_r(const char *id)
{
    weblab_reservation_t *r = NULL;

    ck_assert_int_eq(weblab_coord_get(coord, &r, id, pool), APR_SUCCESS);
    ck_assert_msg(r != NULL, "reservation %s not found", id);
    return r;
}

static const char *state_of(const char *id)
{
    return get_r(id)->state;
}

static void assert_state(const char *id, const char *state)
{
    const char *got = state_of(id);

    ck_assert_msg(!strcmp(got, state), "%s: state %s, expected %s", id, got,
                  state);
}

static void assert_waiting_at(const char *id, int position)
{
    weblab_reservation_t *r = get_r(id);

    ck_assert_msg(!strcmp(r->state, "waiting"), "%s: state %s, expected"
                  " waiting", id, r->state);
    ck_assert_msg(r->position == position, "%s: position %d, expected %d",
                  id, r->position, position);
}

static int claim(const char *id, const char *state, double now, double until)
{
    int claimed = -1;

    ck_assert_int_eq(weblab_coord_claim(coord, &claimed, id, state, now,
                                        until), APR_SUCCESS);
    return claimed;
}

static int confirm(const char *id, double now, double next_should_finish)
{
    int confirmed = -1;

    ck_assert_int_eq(weblab_coord_confirm(coord, &confirmed, id, "labsess",
                                          "2", "{\"cfg\": 1}",
                                          "\"{\\\"cfg\\\": 1}\"", 42, now,
                                          next_should_finish), APR_SUCCESS);
    return confirmed;
}

static void finish(const char *id, double now)
{
    ck_assert_int_eq(weblab_coord_finish(coord, id, 0, now), APR_SUCCESS);
}

static void disposed(const char *id, double now, double post_expiry)
{
    ck_assert_int_eq(weblab_coord_disposed(coord, id, "\"bye\"", now,
                                           post_expiry, 0, NULL),
                     APR_SUCCESS);
}

static weblab_coord_due_t due_at(double now, double poll_time)
{
    weblab_coord_due_t d;

    ck_assert_int_eq(weblab_coord_due(coord, &d, now, poll_time, pool),
                     APR_SUCCESS);
    return d;
}

static int has_id(const apr_array_header_t *a, const char *id)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(a, i, const char *), id)) {
            return 1;
        }
    }
    return 0;
}

static int held_slots(void);

/* The starter of a lab could not dispose a reservation cancelled during
 * the start (a backend error at confirm): once its claim is over, the
 * upkeep's due list has it, and disposing it releases the slot. Each suite
 * runs it on its backend (held_slots is the including file's). */
static void scenario_cancelled_during_start_released(void)
{
    weblab_coord_due_t d;

    deploy_dummy(1);
    reserve_dummy("r1", 5);
    reserve_dummy("r2", 5);
    ck_assert_int_eq(claim("r1", "assigned", T0, T0 + 30), 1);
    finish("r1", T0 + 1);
    assert_state("r1", "cancelled");
    /* the starter still has it: not due */
    d = due_at(T0 + 29, 1000);
    ck_assert(!has_id(d.to_dispose, "r1"));

    /* the starter never came back */
    d = due_at(T0 + 31, 1000);
    ck_assert(has_id(d.to_dispose, "r1"));
    ck_assert_int_eq(claim("r1", "cancelled", T0 + 31, T0 + 61), 1);
    disposed("r1", T0 + 32, 100);
    assert_state("r1", "cancelled");
    assert_state("r2", "assigned");
    ck_assert_int_eq(held_slots(), 1);
    d = due_at(T0 + 100, 1000);
    ck_assert(!has_id(d.to_dispose, "r1"));
    /* released: an upkeep working from an older list cannot take it again */
    ck_assert_int_eq(claim("r1", "cancelled", T0 + 100, T0 + 130), 0);
}

#endif
