#include "weblab_lifecycle.h"
#include "weblab_health.h"
#include "weblab_ids.h"

#include <string.h>
#include <math.h>
#include <jansson.h>
#include <apr_strings.h>
#include <apr_time.h>

#define SHOULD_FINISH_RETRY 5.0     /* after a failed should_finish */
#define BROKEN_RETEST 10.0          /* re-test a broken instance */
#define SYNC_PERIOD 5.0
#define FAILED_RETEST 5.0           /* first re-test of a failed instance */
#define CLEANUP_PERIOD 60.0

/* Longest time one lab step may hold its claim. */
static double claim_span(const weblab_core_t *core)
{
    return core->cfg.lab_connect_timeout + core->cfg.lab_timeout + 5.0;
}

void weblab_lifecycle_lab_target(weblab_lab_target_t *t,
                                 const weblab_instance_def_t *d,
                                 const char *api)
{
    memset(t, 0, sizeof(*t));
    t->transport = d->transport ? d->transport : "xmlrpc";
    t->url = d->url;
    t->api = api ? api : d->api ? d->api : "";
    t->auth_user = d->auth_user;
    t->auth_password = d->auth_password;
    /* an XML-RPC experiment server's token (?auth=) is the instance's
     * password: one secret per instance, whatever the transport */
    if (!strcmp(t->transport, "xmlrpc") && d->auth_password
        && *d->auth_password) {
        t->auth = d->auth_password;
    }
}

static void lab_target(weblab_lab_target_t *t, const weblab_instance_def_t *d)
{
    weblab_lifecycle_lab_target(t, d, NULL);
}

double weblab_lifecycle_remaining(const weblab_reservation_t *r, double now)
{
    double t0 = r->init_in_accounting ? r->timestamp_before
                                      : r->timestamp_after;

    return t0 + r->time_allowed - now;
}

static const char *date_str(double t, int local, apr_pool_t *p)
{
    apr_time_t at = (apr_time_t)(t * APR_USEC_PER_SEC);
    apr_time_exp_t x;

    if (local) {
        apr_time_exp_lt(&x, at);
    }
    else {
        apr_time_exp_gmt(&x, at);
    }
    return apr_psprintf(p, "%04d-%02d-%02d %02d:%02d:%02d.%06d",
                        x.tm_year + 1900, x.tm_mon + 1, x.tm_mday, x.tm_hour,
                        x.tm_min, x.tm_sec, x.tm_usec);
}

/* The server_initial_data the original sends to start_experiment (spec
 * 3.2 and 10.2): strings except the boolean. */
static const char *server_initial_data(const weblab_reservation_t *r,
                                       apr_pool_t *p)
{
    apr_time_exp_t lt;
    json_t *o;
    char *s;
    const char *out;
    double len = r->time_allowed;

    apr_time_exp_lt(&lt, (apr_time_t)(r->timestamp_before
                                       * APR_USEC_PER_SEC));
    o = json_object();
    json_object_set_new(o, "priority.queue.slot.length", json_string(
        len == floor(len) ? apr_psprintf(p, "%.0f", len)
                          : apr_psprintf(p, "%g", len)));
    json_object_set_new(o, "priority.queue.slot.start",
                        json_string(date_str(r->timestamp_before, 1, p)));
    json_object_set_new(o, "priority.queue.slot.start.utc",
                        json_string(date_str(r->timestamp_before, 0, p)));
    json_object_set_new(o, "priority.queue.slot.start.timestamp",
                        json_string(apr_psprintf(p, "%.2f",
                                                 r->timestamp_before)));
    json_object_set_new(o, "priority.queue.slot.start.timezone",
                        json_string(apr_psprintf(p, "%d", -lt.tm_gmtoff)));
    json_object_set_new(o, "priority.queue.slot.initialization_in_accounting",
                        json_boolean(r->init_in_accounting));
    json_object_set_new(o, "request.username", json_string(r->login));
    json_object_set_new(o, "request.username.unique", json_string(r->login));
    json_object_set_new(o, "request.full_name", json_string(r->full_name));
    json_object_set_new(o, "request.locale", json_string(""));
    json_object_set_new(o, "request.experiment_id.experiment_name",
                        json_string(r->exp_name));
    json_object_set_new(o, "request.experiment_id.category_name",
                        json_string(r->cat_name));
    json_object_set_new(o, "weblab_reservation_id", json_string(r->id));
    s = json_dumps(o, 0);
    out = apr_pstrdup(p, s ? s : "{}");
    free(s);
    json_decref(o);
    return out;
}

/* json.dumps of a string (the post-reservation initial_data). */
static const char *json_quote(const char *s, apr_pool_t *p)
{
    json_t *v = json_string(s ? s : "");
    char *d = json_dumps(v, JSON_ENCODE_ANY);
    const char *out = apr_pstrdup(p, d ? d : "\"\"");

    free(d);
    json_decref(v);
    return out;
}

/* "ok", "" or nothing mean defaults (spec 3.2 step 5 and 7). */
static int is_default_answer(const char *s)
{
    return !s || !*s || !strcmp(s, "ok") || !strcmp(s, "None");
}

static void use_finish(weblab_core_t *core, const weblab_reservation_t *r,
                       const char *end_data, double now)
{
    weblab_sql_t *conn;
    apr_status_t rv;

    if (!r->use_id || weblab_sql_acquire(core->data, &conn) != APR_SUCCESS) {
        return;
    }
    rv = weblab_db_use_finish(conn, r->use_id, now, r->finish_reason,
                              end_data);
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_ERR, rv,
                        "weblab: could not close use %" APR_INT64_T_FMT,
                        r->use_id);
        weblab_sql_invalidate(core->data, conn);
        return;
    }
    weblab_sql_release(core->data, conn);
}

/* Call dispose on the lab and report completion (or ask_again). */
static apr_status_t dispose_claimed(weblab_core_t *core,
                                    const weblab_reservation_t *r,
                                    apr_pool_t *p)
{
    weblab_lab_target_t t;
    const char *resp = NULL, *errmsg = NULL, *end_data = "null";
    double now;
    apr_status_t rv = APR_SUCCESS;

    if (r->lab_session_id && r->lab.url) {
        lab_target(&t, &r->lab);
        rv = weblab_lab_dispose(&resp, &errmsg, core->labs, &t,
                                r->api ? r->api : "2", r->lab_session_id, p);
    }
    now = weblab_now();
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                        "weblab: dispose failed on %s (%s): %s; instance"
                        " marked broken", r->instance_name, r->lab.url,
                        errmsg ? errmsg : "");
        rv = weblab_coord_disposed(core->coord, r->id, end_data, now,
                                   core->cfg.post_reservation_expiry, 1,
                                   errmsg);
        use_finish(core, r, end_data, now);
        return rv;
    }
    if (!is_default_answer(resp)) {
        json_t *o = json_loads(resp, 0, NULL);

        if (json_is_object(o)) {
            json_t *fin = json_object_get(o, "finished");
            json_t *data = json_object_get(o, "data");

            if (fin && !json_is_true(fin)) {
                json_t *ask = json_object_get(o, "ask_again");
                double again = json_is_number(ask) ? json_number_value(ask)
                                                   : 0.5;

                json_decref(o);
                return weblab_coord_dispose_later(core->coord, r->id,
                                                  now + again);
            }
            if (data) {
                char *d = json_dumps(data, JSON_ENCODE_ANY);

                end_data = apr_pstrdup(p, d ? d : "null");
                free(d);
            }
        }
        json_decref(o);
    }
    rv = weblab_coord_disposed(core->coord, r->id, end_data, now,
                               core->cfg.post_reservation_expiry, 0, NULL);
    use_finish(core, r, end_data, now);
    return rv;
}

apr_status_t weblab_lifecycle_dispose(weblab_core_t *core,
                                      const weblab_reservation_t *r,
                                      apr_pool_t *p)
{
    double now = weblab_now();
    int claimed = 0, cancelled = !strcmp(r->state, "cancelled");
    apr_status_t rv;

    /* Finishing; or cancelled while its lab was starting, and the starter
     * did not dispose it (the upkeep's due list once its claim is over).
     * A start makes up to two lab calls of a claim span each, so the
     * starter gets one span more before its slot is taken back. */
    if (cancelled && r->claim_until > 0
        && r->claim_until + claim_span(core) >= now) {
        return APR_SUCCESS;
    }
    rv = weblab_coord_claim(core->coord, &claimed, r->id,
                            cancelled ? "cancelled" : "finishing", now,
                            now + claim_span(core));
    if (rv != APR_SUCCESS || !claimed) {
        return rv;
    }
    return dispose_claimed(core, r, p);
}

apr_status_t weblab_lifecycle_finish(weblab_core_t *core, const char *id,
                                     int reason, apr_pool_t *p)
{
    weblab_reservation_t *r;
    apr_status_t rv = weblab_coord_finish(core->coord, id, reason,
                                          weblab_now());

    if (rv == APR_SUCCESS) {
        rv = weblab_coord_get(core->coord, &r, id, p);
    }
    if (rv == APR_SUCCESS && r && !strcmp(r->state, "finishing")) {
        rv = weblab_lifecycle_dispose(core, r, p);
    }
    return rv;
}

static apr_int64_t start_use(weblab_core_t *core,
                             const weblab_reservation_t *r, double now,
                             const char *initial_configuration, apr_pool_t *p)
{
    apr_int64_t use_id = 0;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(core->data, &conn);

    if (rv == APR_SUCCESS) {
        rv = weblab_db_use_start(&use_id, conn, r->user_id, r->exp_name,
                                 r->cat_name, r->id, now, r->origin,
                                 r->lab.url, r->permanent_id, r->request_info,
                                 r->client_initial_data,
                                 initial_configuration, p);
        weblab_sql_done(core->data, conn, rv);
    }
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_ERR, rv,
                        "weblab: could not log the start of a use of %s@%s",
                        r->exp_name, r->cat_name);
    }
    return use_id;
}

/* Python's truth of an answer's field, as the original reads "batch" and
 * "keep_initializing" (response.get(key, False), then `if value:`). */
static int truthy(const json_t *v)
{
    return json_is_true(v)
           || (json_is_integer(v) && json_integer_value(v) != 0)
           || (json_is_real(v) && json_real_value(v) != 0)
           || (json_is_string(v) && json_string_length(v) > 0)
           || (json_is_array(v) && json_array_size(v) > 0)
           || (json_is_object(v) && json_object_size(v) > 0);
}

/* start_experiment answered {"keep_initializing": true}: the original
 * records the use and then raises NotImplementedError in its confirmer
 * thread, which only logs it, so the student waits in waiting_confirmation
 * until the reservation ends, holding the lab. We record the same use and
 * an error that says why, and the caller ends the reservation at once
 * (the lab is disposed and freed; the student gets post_reservation). */
static void refuse_keep_initializing(weblab_core_t *core,
                                     const weblab_reservation_t *r,
                                     apr_int64_t use_id)
{
    static const char why[] =
        "start_experiment answered keep_initializing, which WebLab-Deusto"
        " does not implement (the original raises NotImplementedError):"
        " the use was ended and the laboratory disposed";
    weblab_sql_t *conn;
    double now = weblab_now();

    weblab_core_log(core, WEBLAB_LOG_ERR, APR_ENOTIMPL,
                    "weblab: lab instance %s (%s): %s", r->instance_name,
                    r->lab.url, why);
    if (use_id && weblab_sql_acquire(core->data, &conn) == APR_SUCCESS) {
        weblab_sql_done(core->data, conn,
                        weblab_db_use_command(conn, use_id,
                                              "@@@keep_initializing@@@", why,
                                              now, now));
    }
}

apr_status_t weblab_lifecycle_start(weblab_core_t *core,
                                    const weblab_reservation_t *r,
                                    apr_pool_t *p)
{
    const char *api, *resp = NULL, *errmsg = NULL, *lab_sid;
    const char *remote_sid = NULL;
    const char *initial_configuration = "{}";
    weblab_reservation_t *again;
    weblab_lab_target_t t;
    int claimed = 0, confirmed = 0, batch = 0, keep_initializing = 0;
    double now = weblab_now();
    apr_int64_t use_id;
    apr_status_t rv;

    rv = weblab_coord_claim(core->coord, &claimed, r->id, "assigned", now,
                            now + claim_span(core));
    if (rv != APR_SUCCESS || !claimed) {
        return rv;
    }
    lab_target(&t, &r->lab);
    api = t.api;
    if (!*api) {
        rv = weblab_lab_get_api(&api, &errmsg, core->labs, &t, p);
        if (rv == APR_SUCCESS) {
            weblab_coord_set_api(core->coord, r->id, api);
        }
    }
    lab_sid = weblab_ids_session_new(p);
    if (rv == APR_SUCCESS) {
        rv = weblab_lab_start_session(&resp, &remote_sid, &errmsg,
                                      core->labs, &t, api, lab_sid,
                                      r->client_initial_data,
                                      server_initial_data(r, p), p);
    }
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                        "weblab: start_experiment failed on %s (%s): %s;"
                        " instance marked broken, reservation re-queued",
                        r->instance_name, r->lab.url, errmsg ? errmsg : "");
        return weblab_coord_start_failed(core->coord, r->id,
                                         errmsg ? errmsg : "start failed",
                                         weblab_now());
    }
    if (remote_sid) {
        /* The lab chose the session id (weblablib): status and delete
         * name it, so it is the one we keep. */
        lab_sid = remote_sid;
    }
    if (!is_default_answer(resp)) {
        json_t *o = json_loads(resp, 0, NULL);

        if (json_is_object(o)) {
            json_t *ic = json_object_get(o, "initial_configuration");

            if (json_is_string(ic)) {
                initial_configuration = apr_pstrdup(p, json_string_value(ic));
            }
            else if (ic && !json_is_null(ic)) {
                char *d = json_dumps(ic, JSON_ENCODE_ANY);

                initial_configuration = apr_pstrdup(p, d ? d : "{}");
                free(d);
            }
            batch = truthy(json_object_get(o, "batch"));
            keep_initializing = truthy(json_object_get(o,
                                                       "keep_initializing"));
        }
        json_decref(o);
    }
    now = weblab_now();
    use_id = start_use(core, r, now, initial_configuration, p);
    rv = weblab_coord_confirm(core->coord, &confirmed, r->id, lab_sid, api,
                              initial_configuration,
                              json_quote(initial_configuration, p), use_id,
                              now, strcmp(api, "1") && !keep_initializing
                                   ? now : 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_coord_get(core->coord, &again, r->id, p);
    if (rv != APR_SUCCESS || !again) {
        return rv;
    }
    if (!confirmed) {
        /* finished while the lab was starting: undo the start, unless the
         * upkeep took the slot back meanwhile (the lab may be another
         * student's by now) */
        if (!again->slot_id) {
            return APR_SUCCESS;
        }
        again->lab_session_id = lab_sid;
        again->api = api;
        again->use_id = use_id;
        return dispose_claimed(core, again, p);
    }
    if (keep_initializing) {
        refuse_keep_initializing(core, r, use_id);
        return weblab_lifecycle_finish(core, r->id, WEBLAB_FINISH_KICKED, p);
    }
    if (batch) {
        return weblab_lifecycle_finish(core, r->id, WEBLAB_FINISH_BATCH, p);
    }
    return APR_SUCCESS;
}

int weblab_lifecycle_is_transport_failure(apr_status_t rv)
{
    return rv == APR_ECONNREFUSED || rv == APR_TIMEUP
           || APR_STATUS_IS_ECONNREFUSED(rv) || APR_STATUS_IS_TIMEUP(rv);
}

apr_status_t weblab_lifecycle_lab_failed(weblab_core_t *core,
                                         const weblab_reservation_t *r,
                                         apr_status_t why, const char *errmsg,
                                         apr_pool_t *p)
{
    weblab_sql_t *conn;
    double now = weblab_now();

    weblab_core_log(core, WEBLAB_LOG_WARN, why,
                    "weblab: lab instance %s (%s) stopped answering: %s;"
                    " out of service, its student re-queued",
                    r->instance_name, r->lab.url, errmsg ? errmsg : "");
    if (r->use_id && weblab_sql_acquire(core->data, &conn) == APR_SUCCESS) {
        /* keep the story of the use: it goes on on another instance */
        weblab_sql_done(core->data, conn,
                        weblab_db_use_command(conn, r->use_id,
                                              "@@@lab failed@@@",
                                              errmsg ? errmsg : "", now,
                                              now));
    }
    if (!r->slot_id) {
        return APR_SUCCESS;
    }
    return weblab_coord_instance_failed(core->coord, r->slot_id,
                                        errmsg ? errmsg : "no answer", now,
                                        now + FAILED_RETEST);
}

apr_status_t weblab_lifecycle_should_finish(weblab_core_t *core,
                                            const weblab_reservation_t *r,
                                            apr_pool_t *p)
{
    weblab_lab_target_t t;
    const char *errmsg = NULL;
    double secs = 0;
    apr_status_t rv;

    if (strcmp(r->state, "confirmed") || !r->api || !strcmp(r->api, "1")) {
        return weblab_coord_set_should_finish(core->coord, r->id, 0);
    }
    lab_target(&t, &r->lab);
    rv = weblab_lab_should_finish(&secs, &errmsg, core->labs, &t, r->api,
                                  r->lab_session_id, p);
    if (weblab_lifecycle_is_transport_failure(rv)) {
        return weblab_lifecycle_lab_failed(core, r, rv, errmsg, p);
    }
    if (rv != APR_SUCCESS) {
        weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                        "weblab: should_finish failed on %s: %s",
                        r->instance_name, errmsg ? errmsg : "");
        return weblab_coord_set_should_finish(core->coord, r->id,
                                              weblab_now()
                                              + SHOULD_FINISH_RETRY);
    }
    if (secs < 0) {
        return weblab_lifecycle_finish(core, r->id, WEBLAB_FINISH_KICKED, p);
    }
    return weblab_coord_set_should_finish(core->coord, r->id,
                                          secs > 0 ? weblab_now() + secs : 0);
}

apr_status_t weblab_lifecycle_expire(int *expired, weblab_core_t *core,
                                     const weblab_reservation_t *r,
                                     double now, apr_pool_t *p)
{
    int active = !strcmp(r->state, "waiting") || !strcmp(r->state, "assigned")
                 || !strcmp(r->state, "confirmed");
    /* unmanaged (weblablib) labs are used in their own pages: the student
     * does not poll WebLab meanwhile (spec 4.5: manages_polling) */
    int manages = r->lab.manages_polling
                  || (r->lab.transport && !strcmp(r->lab.transport, "http"));
    int poll_out = active && !manages
                   && now - r->latest_poll > core->cfg.poll_time;
    int time_out = !strcmp(r->state, "confirmed")
                   && weblab_lifecycle_remaining(r, now) <= 0;

    *expired = poll_out || time_out;
    if (!*expired) {
        return APR_SUCCESS;
    }
    return weblab_lifecycle_finish(core, r->id,
                                   poll_out ? WEBLAB_FINISH_TIMEOUT
                                            : WEBLAB_FINISH_KICKED, p);
}

apr_status_t weblab_lifecycle_sync(weblab_core_t *core, apr_pool_t *p)
{
    apr_array_header_t *defs;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(core->data, &conn);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_db_instances(&defs, conn, p);
    if (rv != APR_SUCCESS) {
        weblab_sql_invalidate(core->data, conn);
        return rv;
    }
    weblab_sql_release(core->data, conn);
    return weblab_coord_sync_instances(core->coord, defs, p);
}

/* Run fn on every reservation id of ids (fresh state each time). */
static void for_each(weblab_core_t *core, apr_array_header_t *ids,
                     apr_status_t (*fn)(weblab_core_t *,
                                        const weblab_reservation_t *,
                                        apr_pool_t *),
                     const char *what, apr_pool_t *p)
{
    int i;

    for (i = 0; ids && i < ids->nelts; i++) {
        weblab_reservation_t *r;
        apr_pool_t *sub;
        apr_status_t rv;

        apr_pool_create(&sub, p);
        rv = weblab_coord_get(core->coord, &r,
                              APR_ARRAY_IDX(ids, i, const char *), sub);
        if (rv == APR_SUCCESS && r) {
            rv = fn(core, r, sub);
        }
        if (rv != APR_SUCCESS) {
            weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                            "weblab: upkeep could not %s a reservation", what);
        }
        apr_pool_destroy(sub);
    }
}

static apr_status_t expire_one(weblab_core_t *core,
                               const weblab_reservation_t *r, apr_pool_t *p)
{
    int expired;

    return weblab_lifecycle_expire(&expired, core, r, weblab_now(), p);
}

/* Re-test the broken instances that are due: test_me and their checkers
 * (weblab_health.c). A resource that serves several lab instances comes
 * back only when all of them pass, or it would flap. */
static void retest_broken(weblab_core_t *core, apr_array_header_t *broken,
                          apr_pool_t *p)
{
    apr_array_header_t *labs;
    const char **why;           /* per row: NULL when it passed */
    int i, j;

    if (!broken || !broken->nelts) {
        return;
    }
    labs = apr_array_make(p, broken->nelts,
                          sizeof(const weblab_instance_def_t *));
    for (i = 0; i < broken->nelts; i++) {
        APR_ARRAY_PUSH(labs, const weblab_instance_def_t *) =
            &APR_ARRAY_IDX(broken, i, weblab_coord_broken_t).lab;
    }
    weblab_health_check_labs(&why, core, labs, p);
    for (i = 0; i < broken->nelts; i++) {
        weblab_coord_broken_t *b = &APR_ARRAY_IDX(broken, i,
                                                  weblab_coord_broken_t);
        const char *echo = NULL, *errmsg = NULL;
        const char *msg = apr_psprintf(p, "%f", weblab_now());
        weblab_lab_target_t t;
        apr_status_t rv;

        lab_target(&t, &b->lab);
        rv = weblab_lab_test_me(&echo, &errmsg, core->labs, &t, msg, p);
        if (rv != APR_SUCCESS || !echo || strcmp(echo, msg)) {
            errmsg = errmsg ? errmsg : "test_me did not echo";
            why[i] = why[i] ? apr_pstrcat(p, errmsg, "; ", why[i], NULL)
                            : errmsg;
        }
    }
    for (i = 0; i < broken->nelts; i++) {
        weblab_coord_broken_t *b = &APR_ARRAY_IDX(broken, i,
                                                  weblab_coord_broken_t);
        const char *error = NULL;
        int first = 1;

        for (j = 0; j < broken->nelts; j++) {
            if (APR_ARRAY_IDX(broken, j, weblab_coord_broken_t).resource_id
                != b->resource_id) {
                continue;
            }
            if (j < i) {
                first = 0;              /* reported with row j */
                break;
            }
            error = error ? error : why[j];
        }
        if (!first) {
            continue;
        }
        if (!error) {
            weblab_core_log(core, WEBLAB_LOG_INFO, APR_SUCCESS,
                            "weblab: instance %s (%s) answers again; back"
                            " in service", b->lab.instance_name, b->lab.url);
        }
        weblab_coord_instance_checked(core->coord, b->resource_id, !error,
                                      error, weblab_now() + BROKEN_RETEST);
    }
}

/* Every check_interval: test_me and the checkers (weblab_health.c) of
 * every working instance; one that fails leaves service and its student
 * is re-queued (broken ones are re-tested by retest_broken until they
 * pass again). */
static void health_pass(weblab_core_t *core, apr_pool_t *p)
{
    apr_array_header_t *all, *labs;
    const char **checked;
    int i, k;

    if (weblab_coord_instances(core->coord, &all, p) != APR_SUCCESS) {
        return;
    }
    labs = apr_array_make(p, all->nelts + 1,
                          sizeof(const weblab_instance_def_t *));
    for (i = 0; i < all->nelts; i++) {
        weblab_coord_instance_t *in = &APR_ARRAY_IDX(all, i,
                                                     weblab_coord_instance_t);

        if (in->working) {
            APR_ARRAY_PUSH(labs, const weblab_instance_def_t *) = &in->lab;
        }
    }
    weblab_health_check_labs(&checked, core, labs, p);
    for (i = 0, k = 0; i < all->nelts; i++) {
        weblab_coord_instance_t *in = &APR_ARRAY_IDX(all, i,
                                                     weblab_coord_instance_t);
        const char *echo = NULL, *errmsg = NULL;
        const char *msg = apr_psprintf(p, "%f", weblab_now());
        const char *why;
        weblab_lab_target_t t;
        apr_status_t rv;
        double now;

        if (!in->working) {
            continue;
        }
        why = checked[k++];
        lab_target(&t, &in->lab);
        rv = weblab_lab_test_me(&echo, &errmsg, core->labs, &t, msg, p);
        if (rv == APR_SUCCESS && echo && !strcmp(echo, msg)) {
            if (!why) {
                continue;
            }
            errmsg = why;
        }
        else {
            if (rv == APR_SUCCESS) {
                errmsg = "test_me did not echo";
            }
            if (why) {
                errmsg = apr_pstrcat(p, errmsg ? errmsg : "no answer", "; ",
                                     why, NULL);
            }
        }
        weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                        "weblab: health check of %s (%s) failed: %s; out of"
                        " service", in->lab.instance_name, in->lab.url,
                        errmsg ? errmsg : "");
        now = weblab_now();
        weblab_coord_instance_failed(core->coord, in->resource_id,
                                     errmsg ? errmsg : "no answer", now,
                                     now + FAILED_RETEST);
    }
}

apr_status_t weblab_lifecycle_upkeep(weblab_core_t *core, apr_pool_t *p)
{
    weblab_coord_due_t due;
    double now = weblab_now();
    apr_status_t rv;

    if (now - core->last_sync >= SYNC_PERIOD) {
        rv = weblab_lifecycle_sync(core, p);
        if (rv != APR_SUCCESS) {
            apr_uint32_t more;

            /* retried every pass while a backend is away: rate-limited */
            if (weblab_core_log_due(core, &more)) {
                weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                                "weblab: could not sync the lab instances;"
                                " will retry (%u similar failures not"
                                " logged)", more);
            }
        }
        else {
            core->last_sync = now;
        }
    }
    rv = weblab_coord_due(core->coord, &due, now, core->cfg.poll_time, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for_each(core, due.expired, expire_one, "expire", p);
    for_each(core, due.to_start, weblab_lifecycle_start, "start", p);
    for_each(core, due.to_dispose, weblab_lifecycle_dispose, "dispose", p);
    for_each(core, due.should_finish, weblab_lifecycle_should_finish,
             "ask should_finish for", p);
    retest_broken(core, due.broken, p);
    if (core->cfg.check_interval > 0
        && now - core->last_check >= core->cfg.check_interval) {
        core->last_check = now;
        health_pass(core, p);
    }
    if (now - core->last_cleanup >= CLEANUP_PERIOD) {
        rv = weblab_coord_cleanup(core->coord, now,
                                  core->cfg.session_timeout);
        if (rv == APR_SUCCESS) {
            core->last_cleanup = now;
        }
    }
    return rv;
}
