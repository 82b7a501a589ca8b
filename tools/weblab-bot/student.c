/* One simulated student: the original's StandardBotUser.run_user
 * (S/weblab/admin/bot/user.py) as a state machine driven by the client's
 * callbacks and timers instead of a thread:
 *
 *   login -> get_user_information -> list_experiments -> [barrier, at once]
 *   -> reserve_experiment -> (sleep; get_reservation_status)* -> send_file
 *   -> send_command -> finished_experiment -> logout
 *
 * Any failure (transport, HTTP status, is_exception, unexpected answer) is
 * an error of the method that got it and the student stops, as the
 * original's does. Unless --no-cleanup, a stopped student then finishes its
 * reservation and logs out, untimed, so that the next scenario does not
 * queue behind it. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"

#define PATH_LOGIN "/weblab/login/json/"
#define PATH_JSON "/weblab/json/"

typedef enum student_state_t {
    ST_IDLE,
    ST_CALL,                    /* a timed call of st->method in flight */
    ST_READY,                   /* at the barrier (at once) */
    ST_RESERVED,                /* at once, finish: until the burst ends */
    ST_SLEEP,                   /* before the next status poll */
    ST_CLEANUP_FINISH,          /* untimed finished_experiment */
    ST_CLEANUP_LOGOUT,          /* untimed logout */
    ST_DONE
} student_state_t;

struct bot_student_t {
    bot_scenario_t *sc;
    int k;
    bot_request_t req;
    student_state_t state;
    bot_method_t method;
    char *session_id;
    char *reservation_id;
    int finished;               /* finished_experiment answered */
    double cycle_start;
};

static void on_reply(void *baton, const bot_reply_t *reply);

bot_student_t *bot_student_create(bot_scenario_t *sc, int k)
{
    bot_student_t *st = calloc(1, sizeof(*st));
    if (!st) {
        return NULL;
    }
    st->sc = sc;
    st->k = k;
    if (bot_request_init(sc->client, &st->req)) {
        free(st);
        return NULL;
    }
    return st;
}

void bot_student_destroy(bot_student_t *st)
{
    if (!st) {
        return;
    }
    bot_request_cleanup(&st->req);
    free(st->session_id);
    free(st->reservation_id);
    free(st);
}

int bot_student_ready(const bot_student_t *st)
{
    return st->state == ST_READY;
}

int bot_student_reserved(const bot_student_t *st)
{
    return st->state == ST_RESERVED;
}

static json_t *session_param(const bot_student_t *st)
{
    return json_pack("{s:{s:s}}", "session_id", "id", st->session_id);
}

static json_t *reservation_param(const bot_student_t *st)
{
    return json_pack("{s:{s:s}}", "reservation_id", "id", st->reservation_id);
}

/* Start the timed call of method m. */
static void call(bot_student_t *st, bot_method_t m)
{
    const bot_options_t *o = st->sc->opt;
    const char *path = PATH_JSON;
    json_t *params = NULL;

    switch (m) {
    case BOT_LOGIN: {
        char login[256];
        if (o->user_prefix) {
            snprintf(login, sizeof(login), "%s%d", o->user_prefix,
                     st->k % o->accounts + 1);
        }
        else {
            snprintf(login, sizeof(login), "%s", o->user);
        }
        params = json_pack("{s:s, s:s}", "username", login, "password",
                           o->password);
        path = PATH_LOGIN;
        break;
    }
    case BOT_GET_USER_INFORMATION:
    case BOT_LIST_EXPERIMENTS:
    case BOT_LOGOUT:
        params = session_param(st);
        break;
    case BOT_RESERVE_EXPERIMENT:
        params = json_pack("{s:{s:s}, s:{s:s, s:s}, s:s, s:s}",
                           "session_id", "id", st->session_id,
                           "experiment_id", "exp_name", o->exp,
                           "cat_name", o->cat,
                           "client_initial_data", "{}",
                           "consumer_data", "{}");
        break;
    case BOT_GET_RESERVATION_STATUS:
    case BOT_FINISHED_EXPERIMENT:
        params = reservation_param(st);
        break;
    case BOT_SEND_FILE:
        params = reservation_param(st);
        json_object_set_new(params, "file_content",
                            json_string(st->sc->program_b64));
        json_object_set_new(params, "file_info", json_string("program"));
        break;
    case BOT_SEND_COMMAND:
        params = reservation_param(st);
        json_object_set_new(params, "command",
                            json_pack("{s:s}", "commandstring",
                                      "ChangeSwitch on 0"));
        break;
    default:
        abort();
    }
    st->state = ST_CALL;
    st->method = m;
    bot_client_call(st->sc->client, &st->req, path, bot_method_name(m),
                    params, on_reply, st);
}

void bot_student_start(void *baton)
{
    bot_student_t *st = baton;
    st->cycle_start = bot_now();
    call(st, BOT_LOGIN);
}

void bot_student_reserve(bot_student_t *st)
{
    call(st, BOT_RESERVE_EXPERIMENT);
}

void bot_student_finish(bot_student_t *st)
{
    call(st, BOT_FINISHED_EXPERIMENT);
}

static void poll_status(void *baton)
{
    call(baton, BOT_GET_RESERVATION_STATUS);
}

static void done(bot_student_t *st, int ok)
{
    st->state = ST_DONE;
    bot_scenario_student_done(st->sc, st, ok);
}

/* The untimed clean-up after a failure: finish the reservation if there
 * is one, then log out. */
static void cleanup_next(bot_student_t *st)
{
    bot_client_t *c = st->sc->client;
    if (st->state != ST_CLEANUP_FINISH && st->state != ST_CLEANUP_LOGOUT
        && st->reservation_id && !st->finished) {
        st->state = ST_CLEANUP_FINISH;
        bot_client_call(c, &st->req, PATH_JSON, "finished_experiment",
                        reservation_param(st), on_reply, st);
    }
    else if (st->state != ST_CLEANUP_LOGOUT && st->session_id) {
        st->state = ST_CLEANUP_LOGOUT;
        bot_client_call(c, &st->req, PATH_JSON, "logout", session_param(st),
                        on_reply, st);
    }
    else {
        done(st, 0);
    }
}

static void fail(bot_student_t *st, bot_method_t m, const char *what)
{
    char kind[160];
    bot_series_error(&st->sc->result->series[m], what);
    snprintf(kind, sizeof(kind), "stopped at %s", bot_method_name(m));
    bot_series_error(&st->sc->result->series[BOT_CYCLE], kind);
    if (st->sc->opt->cleanup) {
        cleanup_next(st);
    }
    else {
        done(st, 0);
    }
}

/* Pick the route from the weblabsessionid cookie (<id>.<route>), as the
 * original prints per iteration. */
static void count_route(bot_student_t *st)
{
    char *v = bot_request_cookie(&st->req, "weblabsessionid");
    const char *dot = v ? strchr(v, '.') : NULL;
    const char *route = dot ? dot + 1 : "<unknown>";
    json_t *routes = st->sc->result->routes;
    json_t *n = json_object_get(routes, route);
    json_object_set_new(routes, route,
                        json_integer(n ? json_integer_value(n) + 1 : 1));
    free(v);
}

static int has_experiment(json_t *list, const char *exp, const char *cat)
{
    size_t i;
    json_t *item;
    if (!json_is_array(list)) {
        return 0;
    }
    json_array_foreach(list, i, item) {
        json_t *e = json_object_get(item, "experiment");
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *c = json_string_value(
            json_object_get(json_object_get(e, "category"), "name"));
        if (name && c && !strcmp(name, exp) && !strcmp(c, cat)) {
            return 1;
        }
    }
    return 0;
}

/* A reservation answer: what to do next, or an error text in *why. */
static void on_reservation(bot_student_t *st, json_t *res)
{
    const bot_options_t *o = st->sc->opt;
    const char *status = json_string_value(json_object_get(res, "status"));

    if (!status) {
        status = "(none)";
    }
    if (!strcmp(status, "Reservation::confirmed")) {
        call(st, BOT_SEND_FILE);
    }
    else if (!strcmp(status, "Reservation::waiting")
             || !strcmp(status, "Reservation::waiting_confirmation")) {
        double wait;
        if (!strcmp(status, "Reservation::waiting")) {
            json_int_t pos = json_integer_value(json_object_get(res,
                                                                "position"));
            wait = fmin((pos + 1) * o->wait_step, o->wait_max);
        }
        else {
            wait = o->confirm_wait;
        }
        if (wait <= 0) {
            call(st, BOT_GET_RESERVATION_STATUS);
        }
        else {
            st->state = ST_SLEEP;
            bot_client_timer(st->sc->client, bot_now() + wait, poll_status,
                             st);
        }
    }
    else {
        /* the original raises UserAssertionException: not a call error */
        char kind[160];
        snprintf(kind, sizeof(kind), "ended in %s", status);
        bot_series_error(&st->sc->result->series[BOT_CYCLE], kind);
        if (o->cleanup) {
            cleanup_next(st);
        }
        else {
            done(st, 0);
        }
    }
}

/* The text of an error answer, or NULL for a good one; *result is then
 * the "result" member (borrowed from *doc). */
static const char *check_reply(const bot_reply_t *r, json_t **doc,
                               json_t **result, char *buf, size_t len)
{
    json_error_t jerr;
    *doc = NULL;
    if (r->code != CURLE_OK) {
        if (r->code == CURLE_OPERATION_TIMEDOUT) {
            return "timeout";
        }
        snprintf(buf, len, "connection: %s", r->curl_error);
        return buf;
    }
    if (r->http_status != 200) {
        snprintf(buf, len, "HTTP %ld", r->http_status);
        return buf;
    }
    if (!(*doc = json_loadb(r->body, r->len, 0, &jerr))
        || !json_is_object(*doc)) {
        return "answer is not a JSON object";
    }
    if (json_is_true(json_object_get(*doc, "is_exception"))) {
        const char *code = json_string_value(json_object_get(*doc, "code"));
        snprintf(buf, len, "%s", code ? code : "is_exception");
        return buf;
    }
    if (!(*result = json_object_get(*doc, "result"))) {
        return "answer without result";
    }
    return NULL;
}

static void on_reply(void *baton, const bot_reply_t *r)
{
    bot_student_t *st = baton;
    bot_scenario_t *sc = st->sc;
    bot_result_t *res = sc->result;
    bot_method_t m = st->method;
    json_t *doc = NULL, *result = NULL;
    char buf[160];
    const char *why;

    res->requests++;
    why = check_reply(r, &doc, &result, buf, sizeof(buf));

    if (st->state == ST_CLEANUP_FINISH || st->state == ST_CLEANUP_LOGOUT) {
        json_decref(doc);
        if (st->state == ST_CLEANUP_FINISH) {
            st->finished = 1;
        }
        cleanup_next(st);
        return;
    }

    /* answers that are well-formed but wrong for this method */
    if (!why) {
        if (m == BOT_LOGIN
            && !json_is_string(json_object_get(result, "id"))) {
            why = "login answer without id";
        }
        else if (m == BOT_LIST_EXPERIMENTS
                 && !has_experiment(result, sc->opt->exp, sc->opt->cat)) {
            snprintf(buf, sizeof(buf), "%s@%s not listed", sc->opt->exp,
                     sc->opt->cat);
            why = buf;
        }
        else if (m == BOT_RESERVE_EXPERIMENT
                 && !json_is_string(json_object_get(
                        json_object_get(result, "reservation_id"), "id"))) {
            why = "reservation answer without reservation_id";
        }
    }
    if (why) {
        json_decref(doc);
        fail(st, m, why);
        return;
    }

    bot_series_add(&res->series[m],
                   m == BOT_RESERVE_EXPERIMENT && sc->opt->at_once
                       ? r->since_written : r->seconds);

    switch (m) {
    case BOT_LOGIN:
        st->session_id = strdup(json_string_value(json_object_get(result,
                                                                  "id")));
        count_route(st);
        call(st, BOT_GET_USER_INFORMATION);
        break;
    case BOT_GET_USER_INFORMATION:
        call(st, BOT_LIST_EXPERIMENTS);
        break;
    case BOT_LIST_EXPERIMENTS:
        if (sc->opt->at_once) {
            st->state = ST_READY;
            bot_scenario_student_ready(sc);
        }
        else {
            call(st, BOT_RESERVE_EXPERIMENT);
        }
        break;
    case BOT_RESERVE_EXPERIMENT:
        st->reservation_id = strdup(json_string_value(json_object_get(
            json_object_get(result, "reservation_id"), "id")));
        if (sc->opt->at_once
            && sc->opt->after_reserve == BOT_AFTER_RESERVE_FINISH) {
            /* the cancels wait for the last reserve of the burst, so that
             * they do not compete with it (the original's students poll
             * after a second or more, not at once) */
            st->state = ST_RESERVED;
            bot_scenario_student_reserved(sc);
        }
        else {
            on_reservation(st, result);
        }
        break;
    case BOT_GET_RESERVATION_STATUS:
        on_reservation(st, result);
        break;
    case BOT_SEND_FILE:
        call(st, BOT_SEND_COMMAND);
        break;
    case BOT_SEND_COMMAND:
        call(st, BOT_FINISHED_EXPERIMENT);
        break;
    case BOT_FINISHED_EXPERIMENT:
        st->finished = 1;
        call(st, BOT_LOGOUT);
        break;
    case BOT_LOGOUT:
        free(st->session_id);
        st->session_id = NULL;
        bot_series_add(&res->series[BOT_CYCLE], bot_now() - st->cycle_start);
        done(st, 1);
        break;
    default:
        break;
    }
    json_decref(doc);
}
