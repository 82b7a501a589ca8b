/* experiment, instance and uses subcommands. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

enum {
    OPT_CLIENT = OPT_FIRST_FREE, OPT_PARAM, OPT_URL, OPT_RESOURCE, OPT_API,
    OPT_TRANSPORT, OPT_AUTH_USER, OPT_AUTH_PASSWORD, OPT_MANAGES_POLLING,
    OPT_USER, OPT_LIMIT, OPT_CHECK_HOST, OPT_CHECK_WEBCAM, OPT_CHECK_WEB,
    OPT_CHECK_TIMEOUT, OPT_CLEAR
};

/* The health checkers' options, shared by "instance add" and "instance
 * checkers" (spec 3.6: the original's IsUpAndRunningHandlers). */
#define CHECKER_OPTIONS \
    { "check-host", OPT_CHECK_HOST, 1, "=HOST:PORT health check: the host " \
      "accepts TCP connections (2 tries); repeat for several" }, \
    { "check-webcam", OPT_CHECK_WEBCAM, 1, "=URL health check: GET URL " \
      "answers an image/jpeg, image/jpg or image/png (3 tries)" }, \
    { "check-web", OPT_CHECK_WEB, 1, "=URL health check: GET URL answers " \
      "JSON with \"success\": true (3 tries)" }, \
    { "check-timeout", OPT_CHECK_TIMEOUT, 1, "=SECONDS of each try of the " \
      "checks given with it (10)" }

const apr_getopt_option_t admin_experiment_add_options[] = {
    { "client", OPT_CLIENT, 1, "=CLIENT client type: js, redirect, blank... "
      "(js)" },
    { "param", OPT_PARAM, 1, "=NAME[:TYPE]=VALUE client parameter, TYPE "
      "string (default), integer, floating or bool; repeat for several" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_instance_add_options[] = {
    { "url", OPT_URL, 1, "=URL where the lab answers, e.g. "
      "http://127.0.0.1:10001/ (required)" },
    { "resource", OPT_RESOURCE, 1, "=NAME@TYPE the resource (slot) it uses; "
      "TYPE is the queue (INSTANCE@EXP_queue)" },
    { "api", OPT_API, 1, "=API experiment server API: 1, 2 or 2_concurrent "
      "(asked to the server)" },
    { "transport", OPT_TRANSPORT, 1, "=T xmlrpc (WebLab experiment servers) "
      "or http (weblablib labs) (xmlrpc)" },
    { "auth-user", OPT_AUTH_USER, 1, "=USER Basic auth user of a weblablib "
      "lab" },
    { "auth-password", OPT_AUTH_PASSWORD, 1, "=PASSWORD its password; for an"
      " xmlrpc lab, the token sent as ?auth=" },
    { "manages-polling", OPT_MANAGES_POLLING, 0, "the lab decides when a "
      "use ends" },
    CHECKER_OPTIONS,
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_instance_checkers_options[] = {
    CHECKER_OPTIONS,
    { "clear", OPT_CLEAR, 0, "remove every health check of the instance" },
    { "json", OPT_JSON, 0, "print JSON instead of a table" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_uses_options[] = {
    { "user", OPT_USER, 1, "=LOGIN only this user's uses" },
    { "limit", OPT_LIMIT, 1, "=N at most N uses (all)" },
    { "json", OPT_JSON, 0, "print JSON instead of a table" },
    { NULL, 0, 0, NULL }
};

static const char *pos(const admin_args_t *a, int i)
{
    return APR_ARRAY_IDX(a->pos, i, const char *);
}

static int db_error(weblab_db_admin_t *adm)
{
    return admin_error("%s", weblab_db_admin_error(adm));
}

static int split_exp(const char **exp, const char **cat, const char *id,
                     apr_pool_t *p)
{
    const char *why = weblab_db_admin_split_exp(exp, cat, id, p);

    return why ? admin_error("%s", why) : ADMIN_EXIT_OK;
}

/* ---- experiment ---- */

static int parse_param(weblab_client_param_t *cp, const char *spec,
                       apr_pool_t *p)
{
    const char *eq = strchr(spec, '=');
    const char *colon;
    char *name;

    if (!eq || eq == spec) {
        return admin_error("--param '%s': use NAME=VALUE or "
                           "NAME:TYPE=VALUE", spec);
    }
    name = apr_pstrmemdup(p, spec, eq - spec);
    colon = strchr(name, ':');
    cp->type = "string";
    if (colon) {
        cp->type = apr_pstrdup(p, colon + 1);
        name[colon - name] = '\0';
    }
    cp->name = name;
    cp->value = eq + 1;
    return ADMIN_EXIT_OK;
}

int admin_cmd_experiment_add(const admin_cmd_t *cmd, admin_args_t *args,
                             apr_pool_t *p)
{
    weblab_db_admin_experiment_spec_t e = { 0 };
    apr_array_header_t *specs = admin_opt_all(args, OPT_PARAM, p);
    weblab_db_admin_t *adm;
    int rc, i;

    (void)cmd;
    if ((rc = split_exp(&e.exp_name, &e.cat_name, pos(args, 1), p))) {
        return rc;
    }
    e.client = admin_opt(args, OPT_CLIENT);
    e.params = apr_array_make(p, specs->nelts + 1,
                              sizeof(weblab_client_param_t));
    for (i = 0; i < specs->nelts; i++) {
        rc = parse_param(apr_array_push(e.params),
                         APR_ARRAY_IDX(specs, i, const char *), p);
        if (rc != ADMIN_EXIT_OK) {
            return rc;
        }
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_experiment_add(adm, &e) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("added experiment %s\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_experiment_remove(const admin_cmd_t *cmd, admin_args_t *args,
                                apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    const char *exp, *cat;
    int rc;

    (void)cmd;
    if ((rc = split_exp(&exp, &cat, pos(args, 1), p))
        || (rc = admin_db_open(&adm, NULL, pos(args, 0), p))) {
        return rc;
    }
    if (weblab_db_admin_experiment_remove(adm, exp, cat) != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("removed experiment %s\n", pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_experiment_list(const admin_cmd_t *cmd, admin_args_t *args,
                              apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    apr_array_header_t *exps;
    admin_table_t *t;
    json_t *list;
    int rc, i, j;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_experiment_list(adm, &exps, p) != APR_SUCCESS) {
        return db_error(adm);
    }
    t = admin_table_make(p, 5, "EXPERIMENT", "CLIENT", "INSTANCES", "UNTIL",
                         "PARAMETERS");
    list = json_array();
    for (i = 0; i < exps->nelts; i++) {
        const weblab_db_admin_experiment_t *x =
            &APR_ARRAY_IDX(exps, i, weblab_db_admin_experiment_t);
        json_t *o = json_object(), *params = json_object();
        const char *text = "";

        for (j = 0; j < x->exp.params->nelts; j++) {
            const weblab_client_param_t *cp =
                &APR_ARRAY_IDX(x->exp.params, j, weblab_client_param_t);
            json_t *v = json_object();

            json_object_set_new(v, "type", json_string(cp->type));
            json_object_set_new(v, "value", json_string(cp->value));
            json_object_set_new(params, cp->name, v);
            text = apr_psprintf(p, "%s%s%s=%s", text, j ? ", " : "",
                                cp->name, cp->value);
        }
        json_object_set_new(o, "id", json_string(
                                apr_pstrcat(p, x->exp.name, "@",
                                            x->exp.category, NULL)));
        json_object_set_new(o, "name", json_string(x->exp.name));
        json_object_set_new(o, "category", json_string(x->exp.category));
        json_object_set_new(o, "client", json_string(x->exp.client));
        json_object_set_new(o, "start_date", json_string(x->exp.start_date));
        json_object_set_new(o, "end_date", json_string(x->exp.end_date));
        json_object_set_new(o, "instances", json_integer(x->instances));
        json_object_set_new(o, "parameters", params);
        json_array_append_new(list, o);
        admin_table_row(t, apr_pstrcat(p, x->exp.name, "@", x->exp.category,
                                       NULL), x->exp.client,
                        apr_itoa(p, x->instances),
                        apr_pstrndup(p, x->exp.end_date, 10), text);
    }
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}

/* ---- instance ---- */

/* The checkers given as options, in the order given (array of
 * weblab_checker_t); *given = 0 when none. */
static int parse_checkers(apr_array_header_t **out, int *given,
                          const admin_args_t *args, apr_pool_t *p)
{
    double timeout;
    int rc, i;

    *out = apr_array_make(p, 4, sizeof(weblab_checker_t));
    *given = 0;
    if ((rc = admin_opt_double(&timeout, args, OPT_CHECK_TIMEOUT,
                               "--check-timeout", WEBLAB_CHECKER_TIMEOUT))) {
        return rc;
    }
    for (i = 0; i < args->opts->nelts; i++) {
        const admin_opt_t *o = &APR_ARRAY_IDX(args->opts, i, admin_opt_t);
        weblab_checker_t *c;

        if (o->id != OPT_CHECK_HOST && o->id != OPT_CHECK_WEBCAM
            && o->id != OPT_CHECK_WEB) {
            continue;
        }
        c = apr_array_push(*out);
        c->type = o->id == OPT_CHECK_HOST     ? "host"
                  : o->id == OPT_CHECK_WEBCAM ? "webcam"
                                              : "web";
        c->target = o->value;
        c->timeout = timeout;
    }
    *given = (*out)->nelts > 0;
    if (!*given && admin_opt(args, OPT_CHECK_TIMEOUT)) {
        return admin_error("--check-timeout applies to the checks given with "
                           "it: add --check-host, --check-webcam or "
                           "--check-web");
    }
    return ADMIN_EXIT_OK;
}

static json_t *checker_json(const weblab_checker_t *c)
{
    json_t *o = json_object();

    json_object_set_new(o, "type", json_string(c->type));
    json_object_set_new(o, "target", json_string(c->target));
    json_object_set_new(o, "timeout", json_real(c->timeout));
    return o;
}

static int is_of(const weblab_instance_checker_t *k,
                 const weblab_instance_def_t *d)
{
    return !strcmp(k->instance_name, d->instance_name)
           && !strcmp(k->exp_name, d->exp_name)
           && !strcmp(k->cat_name, d->cat_name);
}

/* The checkers of d among all (array of weblab_instance_checker_t): a JSON
 * list in *json and "webcam http://..., host h:1" in *text. */
static void checkers_of(json_t **json, const char **text,
                        const apr_array_header_t *all,
                        const weblab_instance_def_t *d, apr_pool_t *p)
{
    int i;

    *json = json_array();
    *text = "";
    for (i = 0; all && i < all->nelts; i++) {
        const weblab_instance_checker_t *k =
            &APR_ARRAY_IDX(all, i, weblab_instance_checker_t);

        if (!is_of(k, d)) {
            continue;
        }
        json_array_append_new(*json, checker_json(&k->check));
        *text = apr_pstrcat(p, *text, **text ? ", " : "", k->check.type, " ",
                            k->check.target, NULL);
    }
}

int admin_cmd_instance_add(const admin_cmd_t *cmd, admin_args_t *args,
                           apr_pool_t *p)
{
    weblab_instance_def_t d = { 0 };
    weblab_db_admin_t *adm;
    apr_array_header_t *checkers;
    const char *resource = admin_opt(args, OPT_RESOURCE);
    int rc, checks;
    apr_status_t rv;

    (void)cmd;
    if ((rc = split_exp(&d.exp_name, &d.cat_name, pos(args, 1), p))
        || (rc = parse_checkers(&checkers, &checks, args, p))) {
        return rc;
    }
    d.instance_name = pos(args, 2);
    d.url = admin_opt(args, OPT_URL);
    if (!d.url) {
        return admin_error("--url is required");
    }
    if (resource) {
        const char *at = strchr(resource, '@');

        if (!at) {
            return admin_error("--resource '%s': use NAME@TYPE, e.g. "
                               "dummy1@dummy_queue", resource);
        }
        d.resource_instance = apr_pstrmemdup(p, resource, at - resource);
        d.resource_type = at + 1;
        if (!*d.resource_instance || !*d.resource_type) {
            return admin_error("--resource '%s': use NAME@TYPE, e.g. "
                               "dummy1@dummy_queue", resource);
        }
    }
    d.api = admin_opt(args, OPT_API);
    d.transport = admin_opt(args, OPT_TRANSPORT);
    d.auth_user = admin_opt(args, OPT_AUTH_USER);
    d.auth_password = admin_opt(args, OPT_AUTH_PASSWORD);
    d.manages_polling = admin_flag(args, OPT_MANAGES_POLLING);
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    /* the instance and its checkers, or nothing */
    rv = weblab_db_admin_begin(adm);
    if (rv == APR_SUCCESS) {
        rv = weblab_db_admin_instance_add(adm, &d);
    }
    if (rv == APR_SUCCESS && checks) {
        rv = weblab_db_admin_instance_set_checkers(adm, d.exp_name,
                                                   d.cat_name,
                                                   d.instance_name, checkers);
    }
    if (weblab_db_admin_end(adm, rv == APR_SUCCESS) != APR_SUCCESS
        || rv != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("added instance %s of %s at %s", d.instance_name, pos(args, 1),
           d.url);
    if (checks) {
        printf(" with %d health check%s", checkers->nelts,
               checkers->nelts == 1 ? "" : "s");
    }
    putchar('\n');
    return ADMIN_EXIT_OK;
}

int admin_cmd_instance_remove(const admin_cmd_t *cmd, admin_args_t *args,
                              apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    const char *exp, *cat;
    int rc;

    (void)cmd;
    if ((rc = split_exp(&exp, &cat, pos(args, 1), p))
        || (rc = admin_db_open(&adm, NULL, pos(args, 0), p))) {
        return rc;
    }
    if (weblab_db_admin_instance_remove(adm, exp, cat, pos(args, 2))
        != APR_SUCCESS) {
        return db_error(adm);
    }
    printf("removed instance %s of %s\n", pos(args, 2), pos(args, 1));
    return ADMIN_EXIT_OK;
}

int admin_cmd_instance_list(const admin_cmd_t *cmd, admin_args_t *args,
                            apr_pool_t *p)
{
    weblab_db_admin_t *adm;
    apr_array_header_t *defs, *checkers;
    admin_table_t *t;
    json_t *list;
    int rc, i;

    (void)cmd;
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_instance_list(adm, &defs, p) != APR_SUCCESS
        || weblab_db_admin_instance_checkers(adm, &checkers, p)
           != APR_SUCCESS) {
        return db_error(adm);
    }
    t = admin_table_make(p, 7, "EXPERIMENT", "INSTANCE", "RESOURCE",
                         "TRANSPORT", "API", "URL", "CHECKS");
    list = json_array();
    for (i = 0; i < defs->nelts; i++) {
        const weblab_instance_def_t *d =
            &APR_ARRAY_IDX(defs, i, weblab_instance_def_t);
        const char *res = apr_pstrcat(p, d->resource_instance, "@",
                                      d->resource_type, NULL);
        const char *checks;
        json_t *o = json_object(), *cj;

        checkers_of(&cj, &checks, checkers, d, p);

        json_object_set_new(o, "experiment", json_string(
                                apr_pstrcat(p, d->exp_name, "@", d->cat_name,
                                            NULL)));
        json_object_set_new(o, "instance", json_string(d->instance_name));
        json_object_set_new(o, "resource", json_string(res));
        json_object_set_new(o, "transport", json_string(d->transport));
        json_object_set_new(o, "url", json_string(d->url));
        json_object_set_new(o, "api", json_string(d->api));
        json_object_set_new(o, "auth_user", json_string(d->auth_user));
        json_object_set_new(o, "manages_polling",
                            json_boolean(d->manages_polling));
        json_object_set_new(o, "checkers", cj);
        json_array_append_new(list, o);
        admin_table_row(t, apr_pstrcat(p, d->exp_name, "@", d->cat_name,
                                       NULL), d->instance_name, res,
                        d->transport, d->api, d->url, checks);
    }
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}

/* Without options: list the instance's checkers. With --check-*: replace
 * them. With --clear: remove them. */
int admin_cmd_instance_checkers(const admin_cmd_t *cmd, admin_args_t *args,
                                apr_pool_t *p)
{
    weblab_instance_def_t d = { 0 };
    weblab_db_admin_t *adm;
    apr_array_header_t *checkers, *all;
    admin_table_t *t;
    const char *text;
    json_t *list;
    int rc, checks, clear = admin_flag(args, OPT_CLEAR), i;

    (void)cmd;
    if ((rc = split_exp(&d.exp_name, &d.cat_name, pos(args, 1), p))
        || (rc = parse_checkers(&checkers, &checks, args, p))) {
        return rc;
    }
    d.instance_name = pos(args, 2);
    if (clear && checks) {
        return admin_error("give either --clear or checks, not both");
    }
    if ((checks || clear) && admin_flag(args, OPT_JSON)) {
        return admin_error("--json lists the checks: it does not go with "
                           "--clear or --check-*");
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (checks || clear) {
        if (weblab_db_admin_instance_set_checkers(adm, d.exp_name, d.cat_name,
                                                  d.instance_name,
                                                  checkers) != APR_SUCCESS) {
            return db_error(adm);
        }
        if (clear) {
            printf("instance %s of %s has no health checks now\n",
                   d.instance_name, pos(args, 1));
        }
        else {
            printf("instance %s of %s has %d health check%s now\n",
                   d.instance_name, pos(args, 1), checkers->nelts,
                   checkers->nelts == 1 ? "" : "s");
        }
        return ADMIN_EXIT_OK;
    }
    /* a listing: the instance must exist */
    if (weblab_db_admin_instance_list(adm, &all, p) != APR_SUCCESS) {
        return db_error(adm);
    }
    for (i = 0; i < all->nelts; i++) {
        const weblab_instance_def_t *x =
            &APR_ARRAY_IDX(all, i, weblab_instance_def_t);

        if (!strcmp(x->instance_name, d.instance_name)
            && !strcmp(x->exp_name, d.exp_name)
            && !strcmp(x->cat_name, d.cat_name)) {
            break;
        }
    }
    if (i == all->nelts) {
        return admin_error("unknown instance '%s' of %s", d.instance_name,
                           pos(args, 1));
    }
    if (weblab_db_admin_instance_checkers(adm, &all, p) != APR_SUCCESS) {
        return db_error(adm);
    }
    checkers_of(&list, &text, all, &d, p);
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    t = admin_table_make(p, 4, "TYPE", "TARGET", "TIMEOUT", "TRIES");
    for (i = 0; i < all->nelts; i++) {
        const weblab_instance_checker_t *k =
            &APR_ARRAY_IDX(all, i, weblab_instance_checker_t);

        if (is_of(k, &d)) {
            admin_table_row(t, k->check.type, k->check.target,
                            apr_psprintf(p, "%g", k->check.timeout),
                            apr_itoa(p, weblab_checker_tries(k->check.type)));
        }
    }
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}

/* ---- uses ---- */

int admin_cmd_uses(const admin_cmd_t *cmd, admin_args_t *args,
                   apr_pool_t *p)
{
    static const char *const reasons[] = {
        "finished", "client timeout", "kicked", "batch"
    };
    weblab_db_admin_t *adm;
    apr_array_header_t *uses;
    admin_table_t *t;
    json_t *list;
    int rc, i, limit;

    (void)cmd;
    if ((rc = admin_opt_int(&limit, args, OPT_LIMIT, "--limit", 0))) {
        return rc;
    }
    if (limit < 0) {
        return admin_error("--limit must be 0 (all) or more");
    }
    if ((rc = admin_db_open(&adm, NULL, pos(args, 0), p)) != ADMIN_EXIT_OK) {
        return rc;
    }
    if (weblab_db_admin_uses(adm, &uses, admin_opt(args, OPT_USER), limit, p)
        != APR_SUCCESS) {
        return db_error(adm);
    }
    t = admin_table_make(p, 7, "ID", "USER", "EXPERIMENT", "START", "END",
                         "COMMANDS", "ORIGIN");
    list = json_array();
    for (i = 0; i < uses->nelts; i++) {
        const weblab_db_admin_use_t *u =
            &APR_ARRAY_IDX(uses, i, weblab_db_admin_use_t);
        const char *exp = apr_pstrcat(p, u->exp_name, "@", u->cat_name, NULL);
        int reason = u->finish_reason ? atoi(u->finish_reason) : -1;
        json_t *o = json_object();

        json_object_set_new(o, "id", json_integer(u->id));
        json_object_set_new(o, "login", json_string(u->login));
        json_object_set_new(o, "experiment", json_string(exp));
        json_object_set_new(o, "start_date", admin_json_str(u->start_date));
        json_object_set_new(o, "end_date", admin_json_str(u->end_date));
        json_object_set_new(o, "origin", admin_json_str(u->origin));
        json_object_set_new(o, "coord_address",
                            admin_json_str(u->coord_address));
        json_object_set_new(o, "reservation_id",
                            admin_json_str(u->reservation_id));
        json_object_set_new(o, "finish_reason",
                            reason >= 0 && reason <= 3
                            ? json_string(reasons[reason]) : json_null());
        json_object_set_new(o, "commands", json_integer(u->commands));
        json_object_set_new(o, "files", json_integer(u->files));
        json_array_append_new(list, o);
        admin_table_row(t, apr_psprintf(p, "%" APR_INT64_T_FMT, u->id),
                        u->login, exp, u->start_date,
                        u->end_date ? u->end_date : "running",
                        apr_psprintf(p, "%" APR_INT64_T_FMT, u->commands),
                        u->origin);
    }
    if (admin_flag(args, OPT_JSON)) {
        return admin_json_print(list);
    }
    json_decref(list);
    admin_table_print(t);
    return ADMIN_EXIT_OK;
}
