/* The web administration's methods about labs: experiments, lab instances
 * with their health, the uses log (administrators, and instructors for
 * their groups) and the live view of slots and queues. Access checks and
 * helpers: weblab_api_admin.c. */
#include "weblab_api_admin_private.h"

#include <string.h>
#include <apr_strings.h>

static json_t *use_json(const weblab_db_admin_use_t *u)
{
    return json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I,"
        " s:o}",
        "id", (json_int_t)u->id, "login", weblab_adm_js(u->login),
        "experiment", weblab_adm_js(u->exp_name), "category",
        weblab_adm_js(u->cat_name), "start_date", weblab_adm_js(u->start_date),
        "end_date", weblab_adm_js(u->end_date), "origin",
        weblab_adm_js(u->origin), "lab", weblab_adm_js(u->coord_address),
        "commands", (json_int_t)u->commands, "files", (json_int_t)u->files,
        "finish_reason", weblab_adm_js(weblab_db_admin_finish_reason(u)));
}

/* ---- experiments and lab instances ---- */

static json_t *client_params_json(const apr_array_header_t *params)
{
    json_t *out = json_object();
    int i;

    for (i = 0; params && i < params->nelts; i++) {
        const weblab_client_param_t *cp =
            &APR_ARRAY_IDX(params, i, weblab_client_param_t);

        json_object_set_new(
            out, cp->name,
            json_pack("{s:s, s:s}", "type", cp->type, "value", cp->value));
    }
    return out;
}

weblab_error_t *weblab_m_admin_list_experiments(json_t **result,
                                                weblab_call_t *call)
{
    apr_array_header_t *exps;
    json_t *list;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;
    int i;

    if (err) {
        return err;
    }
    rv = weblab_db_admin_experiment_list(a.adm, &exps, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    list = json_array();
    for (i = 0; i < exps->nelts; i++) {
        const weblab_db_admin_experiment_t *e =
            &APR_ARRAY_IDX(exps, i, weblab_db_admin_experiment_t);

        json_array_append_new(
            list, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i}", "name",
                            e->exp.name, "category", e->exp.category, "client",
                            weblab_adm_js(e->exp.client), "start_date",
                            weblab_adm_js(e->exp.start_date), "end_date",
                            weblab_adm_js(e->exp.end_date), "params",
                            client_params_json(e->exp.params), "instances",
                            e->instances));
    }
    return weblab_adm_finish(&a, result, list, APR_SUCCESS);
}

/* Client parameters from {"name": value}: the JSON type gives the type. */
static apr_array_header_t *p_client_params(weblab_adm_t *a,
                                           weblab_error_t **err)
{
    json_t *v = json_object_get(a->call->params, "params"), *value;
    apr_array_header_t *out;
    const char *name;

    *err = NULL;
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_object(v)) {
        *err = weblab_adm_bad_param(
            a->call, "Parameter '%s' must be an object", "params");
        return NULL;
    }
    out = apr_array_make(a->call->p, 4, sizeof(weblab_client_param_t));
    json_object_foreach (v, name, value) {
        weblab_client_param_t *cp = apr_array_push(out);

        cp->name = apr_pstrdup(a->call->p, name);
        if (json_is_boolean(value)) {
            cp->type = "bool";
            cp->value = json_is_true(value) ? "True" : "False";
        }
        else if (json_is_integer(value)) {
            cp->type = "integer";
            cp->value = apr_psprintf(a->call->p, "%" APR_INT64_T_FMT,
                                     (apr_int64_t)json_integer_value(value));
        }
        else if (json_is_real(value)) {
            cp->type = "floating";
            cp->value =
                apr_psprintf(a->call->p, "%.17g", json_real_value(value));
        }
        else if (json_is_string(value)) {
            cp->type = "string";
            cp->value = apr_pstrdup(a->call->p, json_string_value(value));
        }
        else {
            *err = weblab_adm_bad_param(a->call,
                                        "Client parameter '%s' must be a "
                                        "string, a number or a boolean",
                                        name);
            return NULL;
        }
    }
    return out;
}

weblab_error_t *weblab_m_admin_add_experiment(json_t **result,
                                              weblab_call_t *call)
{
    weblab_db_admin_experiment_spec_t e;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    memset(&e, 0, sizeof(e));
    if (weblab_adm_experiment(&a, &e.exp_name, &e.cat_name, &err)
        && !(e.client = weblab_adm_str(&a, "client", 1, &err), err)) {
        e.params = p_client_params(&a, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(&a, result, NULL,
                             weblab_db_admin_experiment_add(a.adm, &e));
}

weblab_error_t *weblab_m_admin_remove_experiment(json_t **result,
                                                 weblab_call_t *call)
{
    const char *exp, *cat;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (!weblab_adm_experiment(&a, &exp, &cat, &err)) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL, weblab_db_admin_experiment_remove(a.adm, exp, cat));
}

/* The scheduler's view of a configured lab instance, NULL when it has not
 * picked it up yet. */
static const weblab_coord_instance_t *scheduled(const apr_array_header_t *live,
                                                const weblab_instance_def_t *d)
{
    int i;

    for (i = 0; live && i < live->nelts; i++) {
        const weblab_coord_instance_t *in =
            &APR_ARRAY_IDX(live, i, weblab_coord_instance_t);

        if (!strcmp(in->lab.exp_name, d->exp_name)
            && !strcmp(in->lab.cat_name, d->cat_name)
            && !strcmp(in->lab.instance_name, d->instance_name)) {
            return in;
        }
    }
    return NULL;
}

/* The checkers of d among all (weblab_instance_checker_t), as a JSON list;
 * a password in a URL is not sent, as the Basic-auth one is not. */
static json_t *checkers_json(const apr_array_header_t *all,
                             const weblab_instance_def_t *d, apr_pool_t *p)
{
    json_t *out = json_array();
    int i;

    for (i = 0; all && i < all->nelts; i++) {
        const weblab_instance_checker_t *k =
            &APR_ARRAY_IDX(all, i, weblab_instance_checker_t);

        if (!strcmp(k->instance_name, d->instance_name)
            && !strcmp(k->exp_name, d->exp_name)
            && !strcmp(k->cat_name, d->cat_name)) {
            json_array_append_new(
                out, json_pack("{s:s, s:s, s:f}", "type", k->check.type,
                               "target",
                               weblab_checker_shown_target(&k->check, p),
                               "timeout", k->check.timeout));
        }
    }
    return out;
}

#define CHECKERS_FORM \
    "Parameter '%s' must be a list of {\"type\": \"host\" | \"webcam\" |" \
    " \"web\", \"target\": \"HOST:PORT\" or URL, \"timeout\": seconds}"

/* The "checkers" parameter (array of weblab_checker_t in *out); *given = 0
 * when absent. Types and targets are checked by the administration layer;
 * only the shape is checked here. */
static weblab_error_t *checkers_param(apr_array_header_t **out, int *given,
                                      weblab_adm_t *a)
{
    json_t *v = json_object_get(a->call->params, "checkers");
    json_t *o;
    size_t i;

    *out = apr_array_make(a->call->p, 4, sizeof(weblab_checker_t));
    *given = v && !json_is_null(v);
    if (!*given) {
        return NULL;
    }
    if (!json_is_array(v)) {
        return weblab_adm_bad_param(a->call, CHECKERS_FORM, "checkers");
    }
    json_array_foreach(v, i, o) {
        json_t *type = json_object_get(o, "type");
        json_t *target = json_object_get(o, "target");
        json_t *timeout = json_object_get(o, "timeout");
        weblab_checker_t *c;

        if (!json_is_object(o) || !json_is_string(type)
            || !json_is_string(target)
            || (timeout && !json_is_null(timeout)
                && !json_is_number(timeout))) {
            return weblab_adm_bad_param(a->call, CHECKERS_FORM, "checkers");
        }
        c = apr_array_push(*out);
        c->type = apr_pstrdup(a->call->p, json_string_value(type));
        c->target = apr_pstrdup(a->call->p, json_string_value(target));
        c->timeout = json_is_number(timeout) ? json_number_value(timeout)
                                             : WEBLAB_CHECKER_TIMEOUT;
    }
    return NULL;
}

weblab_error_t *weblab_m_admin_list_instances(json_t **result,
                                              weblab_call_t *call)
{
    apr_array_header_t *defs, *checkers, *live = NULL;
    json_t *list;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;
    int i;

    if (err) {
        return err;
    }
    rv = weblab_db_admin_instance_list(a.adm, &defs, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    /* a database older than checkers has no table for them (yet): the
     * instances are still listed, their checkers as null */
    if (weblab_db_admin_instance_checkers(a.adm, &checkers, call->p)
        != APR_SUCCESS) {
        checkers = NULL;
    }
    rv = weblab_coord_instances(call->core->coord, &live, call->p);
    if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
        return weblab_adm_leave(
            &a, weblab_backend_error(call, rv, "coordination"));
    }
    list = json_array();
    for (i = 0; i < defs->nelts; i++) {
        const weblab_instance_def_t *d =
            &APR_ARRAY_IDX(defs, i, weblab_instance_def_t);
        const weblab_coord_instance_t *in = scheduled(live, d);
        const char *health = !in           ? "not scheduled yet"
                             : in->working ? "working"
                                           : "broken";

        /* the Basic-auth password of a weblablib lab is never sent */
        json_array_append_new(
            list,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:s, s:o, s:o,"
                " s:o, s:o}",
                "experiment", d->exp_name, "category", d->cat_name, "instance",
                d->instance_name, "resource_type", d->resource_type,
                "resource_instance", d->resource_instance, "transport",
                weblab_adm_js(d->transport), "url", weblab_adm_js(d->url),
                "api", weblab_adm_js(d->api && *d->api ? d->api : NULL),
                "manages_polling", d->manages_polling, "health", health,
                "error", weblab_adm_js(in ? in->error : NULL), "user",
                weblab_adm_js(in ? in->holder_login : NULL), "state",
                weblab_adm_js(in ? in->holder_state : NULL), "checkers",
                checkers ? checkers_json(checkers, d, call->p)
                         : json_null()));
    }
    return weblab_adm_finish(&a, result, list, APR_SUCCESS);
}

weblab_error_t *weblab_m_admin_add_instance(json_t **result,
                                            weblab_call_t *call)
{
    weblab_instance_def_t d;
    apr_array_header_t *checkers = NULL;
    const char *resource = NULL;
    int mp = -1, checks = 0;
    apr_status_t rv;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    memset(&d, 0, sizeof(d));
    if (weblab_adm_experiment(&a, &d.exp_name, &d.cat_name, &err)
        && !(d.instance_name = weblab_adm_str(&a, "instance", 0, &err), err)
        && !(d.url = weblab_adm_str(&a, "url", 0, &err), err)
        && !(resource = weblab_adm_str(&a, "resource", 1, &err), err)
        && !(d.api = weblab_adm_str(&a, "api", 1, &err), err)
        && !(d.transport = weblab_adm_str(&a, "transport", 1, &err), err)
        && !(d.auth_user = weblab_adm_str(&a, "auth_user", 1, &err), err)
        && !(d.auth_password = weblab_adm_str(&a, "auth_password", 1, &err),
             err)) {
        mp = weblab_adm_bool(&a, "manages_polling", &err);
    }
    if (!err) {
        err = checkers_param(&checkers, &checks, &a);
    }
    if (!err && resource) {
        const char *at = strchr(resource, '@');

        if (!at || at == resource || !at[1]) {
            err = weblab_adm_bad_param(call,
                                       "The resource '%s' must look like "
                                       "NAME@TYPE (dummy1@dummy_queue)",
                                       resource);
        }
        else {
            d.resource_instance =
                apr_pstrndup(call->p, resource, at - resource);
            d.resource_type = at + 1;
        }
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    d.manages_polling = mp > 0;
    /* the instance and its checkers, or nothing */
    rv = weblab_db_admin_begin(a.adm);
    if (rv == APR_SUCCESS) {
        rv = weblab_db_admin_instance_add(a.adm, &d);
        if (rv == APR_SUCCESS && checks) {
            rv = weblab_db_admin_instance_set_checkers(
                a.adm, d.exp_name, d.cat_name, d.instance_name, checkers);
        }
        if (weblab_db_admin_end(a.adm, rv == APR_SUCCESS) != APR_SUCCESS
            && rv == APR_SUCCESS) {
            rv = APR_EGENERAL;
        }
    }
    return weblab_adm_finish(&a, result, NULL, rv);
}

weblab_error_t *weblab_m_admin_set_instance_checkers(json_t **result,
                                                     weblab_call_t *call)
{
    const char *exp, *cat, *inst = NULL;
    apr_array_header_t *checkers = NULL;
    int given = 0;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (weblab_adm_experiment(&a, &exp, &cat, &err)
        && !(inst = weblab_adm_str(&a, "instance", 0, &err), err)) {
        err = checkers_param(&checkers, &given, &a);
        if (!err && !given) {
            err = weblab_adm_bad_param(call, "Parameter '%s' is required "
                                       "([] removes them all)", "checkers");
        }
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL,
        weblab_db_admin_instance_set_checkers(a.adm, exp, cat, inst,
                                              checkers));
}

weblab_error_t *weblab_m_admin_remove_instance(json_t **result,
                                               weblab_call_t *call)
{
    const char *exp, *cat, *inst = NULL;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);

    if (err) {
        return err;
    }
    if (weblab_adm_experiment(&a, &exp, &cat, &err)) {
        inst = weblab_adm_str(&a, "instance", 0, &err);
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    return weblab_adm_finish(
        &a, result, NULL,
        weblab_db_admin_instance_remove(a.adm, exp, cat, inst));
}

/* ---- the uses log (administrators and instructors) ---- */

static int uses_filter(weblab_adm_t *a, weblab_db_admin_use_filter_t *f,
                       int max_limit, weblab_error_t **err)
{
    apr_int64_t n;
    int given;

    memset(f, 0, sizeof(*f));
    f->only_groups = a->only_groups;
    if ((f->login = weblab_adm_str(a, "login", 1, err), *err)
        || (f->group = weblab_adm_str(a, "group", 1, err), *err)
        || (f->exp_name = weblab_adm_str(a, "exp_name", 1, err), *err)
        || (f->cat_name = weblab_adm_str(a, "cat_name", 1, err), *err)
        || (f->from = weblab_adm_str(a, "from", 1, err), *err)
        || (f->to = weblab_adm_str(a, "to", 1, err), *err)) {
        return 0;
    }
    n = weblab_adm_int(a, "limit", &given, err);
    if (*err) {
        return 0;
    }
    f->limit = !given || n <= 0 || n > max_limit ? max_limit : (int)n;
    n = weblab_adm_int(a, "offset", &given, err);
    if (*err) {
        return 0;
    }
    f->offset = n > 0 && n < 1000000000 ? (int)n : 0;
    return 1;
}

#define USES_PAGE_MAX 1000
#define USES_CSV_MAX 100000

weblab_error_t *weblab_m_admin_list_uses(json_t **result, weblab_call_t *call)
{
    weblab_db_admin_use_filter_t f;
    apr_array_header_t *uses;
    int total = 0, i;
    json_t *list;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_INSTRUCTOR);
    apr_status_t rv;

    if (err) {
        return err;
    }
    if (!uses_filter(&a, &f, USES_PAGE_MAX, &err)) {
        return weblab_adm_leave(&a, err);
    }
    rv = weblab_db_admin_uses_find(a.adm, &uses, &total, &f, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    list = json_array();
    for (i = 0; i < uses->nelts; i++) {
        json_array_append_new(
            list, use_json(&APR_ARRAY_IDX(uses, i, weblab_db_admin_use_t)));
    }
    return weblab_adm_finish(&a, result,
                             json_pack("{s:o, s:i, s:i, s:i}", "uses", list,
                                       "total", total, "offset", f.offset,
                                       "limit", f.limit),
                             APR_SUCCESS);
}

weblab_error_t *weblab_m_admin_get_use(json_t **result, weblab_call_t *call)
{
    weblab_db_admin_use_detail_t *d;
    apr_int64_t id;
    json_t *doc, *list;
    int given, i;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_INSTRUCTOR);
    apr_status_t rv;

    if (err) {
        return err;
    }
    id = weblab_adm_int(&a, "id", &given, &err);
    if (!err && !given) {
        err = weblab_adm_bad_param(call, "Missing parameter '%s'", "id");
    }
    if (err) {
        return weblab_adm_leave(&a, err);
    }
    rv = weblab_db_admin_use_get(a.adm, &d, id, a.only_groups, call->p);
    if (rv != APR_SUCCESS) {
        return weblab_adm_finish(&a, result, NULL, rv);
    }
    if (!d) {
        return weblab_adm_leave(
            &a, weblab_adm_shown(weblab_error_make(
                    call->p, WEBLAB_ERR_WEBLAB, APR_ENOENT,
                    "There is no use %" APR_INT64_T_FMT "%s", id,
                    a.only_groups ? " in your groups" : "")));
    }
    doc = use_json(&d->use);
    list = json_array();
    for (i = 0; i < d->interactions->nelts; i++) {
        const weblab_db_admin_interaction_t *it =
            &APR_ARRAY_IDX(d->interactions, i, weblab_db_admin_interaction_t);

        json_array_append_new(
            list,
            json_pack("{s:s, s:o, s:o, s:o, s:f, s:o}", "kind",
                      it->is_file ? "file" : "command",
                      it->is_file ? "file_info" : "command",
                      weblab_adm_js(it->command), "file_hash",
                      weblab_adm_js(it->file_hash), "response",
                      weblab_adm_js(it->response), "timestamp_before",
                      it->before, "timestamp_after",
                      it->after > 0 ? json_real(it->after) : json_null()));
    }
    json_object_set_new(doc, "full_name", weblab_adm_js(d->full_name));
    json_object_set_new(doc, "permission", weblab_adm_js(d->permanent_id));
    json_object_set_new(doc, "request_info", weblab_adm_js(d->request_info));
    json_object_set_new(doc, "session_seconds",
                        d->session_seconds >= 0 ? json_real(d->session_seconds)
                                                : json_null());
    json_object_set_new(doc, "interactions", list);
    return weblab_adm_finish(&a, result, doc, APR_SUCCESS);
}

weblab_error_t *weblab_m_admin_export_uses(json_t **result,
                                           weblab_call_t *call)
{
    weblab_db_admin_use_filter_t f;
    apr_array_header_t *uses;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_INSTRUCTOR);
    apr_status_t rv;

    if (err) {
        return err;
    }
    if (!uses_filter(&a, &f, USES_CSV_MAX, &err)) {
        return weblab_adm_leave(&a, err);
    }
    rv = weblab_db_admin_uses_find(a.adm, &uses, NULL, &f, call->p);
    return weblab_adm_finish(
        &a, result,
        rv ? NULL
           : json_pack("{s:s, s:s, s:i}", "filename", "weblab-uses.csv", "csv",
                       weblab_db_admin_uses_csv(uses, call->p), "count",
                       uses->nelts),
        rv);
}

/* ---- the live view ---- */

weblab_error_t *weblab_m_admin_live_status(json_t **result,
                                           weblab_call_t *call)
{
    apr_array_header_t *live = NULL, *waiting = NULL;
    json_t *slots, *queue;
    weblab_adm_t a;
    weblab_error_t *err = weblab_adm_enter(&a, call, WEBLAB_ADM_ADMIN);
    apr_status_t rv;
    int i;

    if (err) {
        return err;
    }
    /* the coordination backend only: give the connection back first */
    weblab_adm_leave(&a, NULL);
    rv = weblab_coord_instances(call->core->coord, &live, call->p);
    if (rv == APR_SUCCESS) {
        rv = weblab_coord_queue(call->core->coord, &waiting, call->p);
        if (rv == APR_ENOTIMPL) { /* optional in a backend: no queue shown */
            waiting = NULL;
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        return weblab_backend_error(call, rv, "coordination");
    }
    slots = json_array();
    for (i = 0; i < live->nelts; i++) {
        const weblab_coord_instance_t *in =
            &APR_ARRAY_IDX(live, i, weblab_coord_instance_t);
        weblab_reservation_t *r = NULL;
        json_t *holder = json_null();

        if (in->holder
            && weblab_coord_get(call->core->coord, &r, in->holder, call->p)
                   == APR_SUCCESS
            && r) {
            double t0 = r->init_in_accounting ? r->timestamp_before
                                              : r->timestamp_after;
            json_t *left = json_null();

            if (!strcmp(r->state, "confirmed") && t0 > 0) {
                left = json_real(t0 + r->time_allowed - call->now);
            }
            holder = json_pack("{s:o, s:o, s:o, s:o, s:o, s:f, s:o}", "login",
                               weblab_adm_js(r->login), "full_name",
                               weblab_adm_js(r->full_name), "experiment",
                               weblab_adm_js(r->exp_name), "category",
                               weblab_adm_js(r->cat_name), "state",
                               weblab_adm_js(r->state), "time_allowed",
                               r->time_allowed, "time_left", left);
        }
        json_array_append_new(
            slots, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:i}",
                             "resource_type", in->lab.resource_type,
                             "resource_instance", in->lab.resource_instance,
                             "experiment", in->lab.exp_name, "category",
                             in->lab.cat_name, "instance",
                             in->lab.instance_name, "working", in->working,
                             "error", weblab_adm_js(in->error), "holder",
                             holder, "queue_length", in->queue_length));
    }
    queue = json_array();
    for (i = 0; waiting && i < waiting->nelts; i++) {
        const weblab_coord_waiting_t *w =
            &APR_ARRAY_IDX(waiting, i, weblab_coord_waiting_t);

        json_array_append_new(
            queue,
            json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:i, s:f}",
                      "resource_type", w->resource_type, "position",
                      w->position, "login", weblab_adm_js(w->login),
                      "full_name", weblab_adm_js(w->full_name), "experiment",
                      weblab_adm_js(w->exp_name), "category",
                      weblab_adm_js(w->cat_name), "priority", w->priority,
                      "waiting_since", w->created));
    }
    *result = json_pack("{s:f, s:o, s:o}", "now", call->now, "instances",
                        slots, "waiting", queue);
    return NULL;
}
