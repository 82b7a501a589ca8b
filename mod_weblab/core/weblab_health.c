/* The checkers' verdicts on lab instances (weblab_health.h). */
#include "weblab_health.h"
#include "weblab_checkers.h"
#include "weblab_db.h"

#include <string.h>
#include <apr_strings.h>

static int is_of(const weblab_instance_checker_t *k,
                 const weblab_instance_def_t *d)
{
    return d && d->exp_name && d->cat_name && d->instance_name
           && !strcmp(k->instance_name, d->instance_name)
           && !strcmp(k->exp_name, d->exp_name)
           && !strcmp(k->cat_name, d->cat_name);
}

static const weblab_instance_def_t *lab_at(const apr_array_header_t *labs,
                                           int i)
{
    return APR_ARRAY_IDX(labs, i, const weblab_instance_def_t *);
}

/* Whether the checker is of one of labs. */
static int asked(const weblab_instance_checker_t *k,
                 const apr_array_header_t *labs)
{
    int i;

    for (i = 0; i < labs->nelts; i++) {
        if (is_of(k, lab_at(labs, i))) {
            return 1;
        }
    }
    return 0;
}

/* Every configured checker, or NULL (logged) when they cannot be read. */
static apr_array_header_t *read_checkers(weblab_core_t *core, apr_pool_t *p)
{
    apr_array_header_t *all = NULL;
    apr_uint32_t more;
    weblab_sql_t *conn;
    apr_status_t rv = weblab_sql_acquire(core->data, &conn);

    if (rv == APR_SUCCESS) {
        rv = weblab_sql_done(core->data, conn,
                             weblab_db_instance_checkers(&all, conn, p));
        if (rv == APR_SUCCESS) {
            return all;
        }
    }
    /* every pass while the database is away, or until an older database
     * gets the table: rate-limited */
    if (weblab_core_log_due(core, &more)) {
        weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                        "weblab: could not read the health checkers of the"
                        " lab instances (a database made by an older"
                        " version? any weblab-admin command updates it);"
                        " checking with test_me only (%u similar failures"
                        " not logged)", more);
    }
    return NULL;
}

void weblab_health_check_labs(const char ***errors, weblab_core_t *core,
                              const apr_array_header_t *labs, apr_pool_t *p)
{
    int n = labs ? labs->nelts : 0;
    const char **out = apr_pcalloc(p, sizeof(*out) * (n + 1));
    const char **verdicts;
    apr_array_header_t *all, *distinct;
    apr_uint32_t more;
    apr_status_t rv;
    int *run_as;        /* per configured checker: its index in distinct */
    int i, k, j;

    *errors = out;
    if (!n || !(all = read_checkers(core, p)) || !all->nelts) {
        return;
    }
    /* the checkers of these labs, each distinct one once (the original
     * runs a webcam shared by several instances once per pass) */
    distinct = apr_array_make(p, all->nelts, sizeof(weblab_checker_t));
    run_as = apr_pcalloc(p, sizeof(*run_as) * all->nelts);
    for (k = 0; k < all->nelts; k++) {
        const weblab_instance_checker_t *ic =
            &APR_ARRAY_IDX(all, k, weblab_instance_checker_t);

        run_as[k] = -1;
        if (!asked(ic, labs)) {
            continue;
        }
        for (j = 0; j < distinct->nelts; j++) {
            if (weblab_checker_same(&ic->check,
                                    &APR_ARRAY_IDX(distinct, j,
                                                   weblab_checker_t))) {
                break;
            }
        }
        if (j == distinct->nelts) {
            APR_ARRAY_PUSH(distinct, weblab_checker_t) = ic->check;
        }
        run_as[k] = j;
    }
    if (!distinct->nelts) {
        return;
    }
    rv = weblab_checkers_run(&verdicts, distinct,
                             core->cfg.lab_connect_timeout, p);
    if (rv != APR_SUCCESS) {
        if (weblab_core_log_due(core, &more)) {
            weblab_core_log(core, WEBLAB_LOG_WARN, rv,
                            "weblab: could not run the health checkers;"
                            " checking with test_me only (%u similar"
                            " failures not logged)", more);
        }
        return;
    }
    for (i = 0; i < n; i++) {
        for (k = 0; k < all->nelts; k++) {
            const char *v = run_as[k] >= 0 ? verdicts[run_as[k]] : NULL;

            if (!v || !is_of(&APR_ARRAY_IDX(all, k,
                                            weblab_instance_checker_t),
                             lab_at(labs, i))) {
                continue;
            }
            if (!out[i]) {
                out[i] = v;
            }
            else if (!strstr(out[i], v)) {
                out[i] = apr_pstrcat(p, out[i], "; ", v, NULL);
            }
        }
    }
}
