/* Permission resolution (spec 5.2), as the original's core/db.py does it:
 * permissions are gathered from the user's role, then every group the user
 * is in with its ancestors, then the user; for one experiment the grant
 * with the largest time_allowed wins and, on a tie, the first gathered
 * (access_all_labs first). */
#include "weblab_db.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_lib.h>

#define PERM_EXPERIMENT_ALLOWED "experiment_allowed"
#define PERM_ACCESS_ALL_LABS    "access_all_labs"
#define PERM_ADMIN_PANEL        "admin_panel_access"
#define PERM_INSTRUCTOR         "instructor_of_group"

#define DEFAULT_PRIORITY        5
#define ALL_LABS_TIME           180.0
#define ALL_LABS_PRIORITY       100

/* One permission row of any scope with its parameters. */
typedef struct {
    apr_int64_t id;
    const char *scope;          /* "user", "group", "role" */
    const char *type;
    const char *permanent_id;
    apr_hash_t *params;         /* parameter name -> value (non-NULL) */
} perm_t;

/* The three scopes differ only in table names and the owner column; one
 * statement per scope with the parameters joined, ordered so that rows of
 * one permission are adjacent. */
static const char SQL_ROLE_PERMS[] =
    "SELECT p.id, p.permission_type, p.permanent_id,"
    " pp.permission_type_parameter, pp.value"
    " FROM RolePermission p JOIN \"User\" u ON u.role_id = p.role_id"
    " LEFT JOIN RolePermissionParameter pp ON pp.permission_id = p.id"
    " WHERE u.id = ? ORDER BY p.id, pp.id";
static const char SQL_GROUP_PERMS[] =
    "SELECT p.id, p.permission_type, p.permanent_id,"
    " pp.permission_type_parameter, pp.value"
    " FROM GroupPermission p"
    " LEFT JOIN GroupPermissionParameter pp ON pp.permission_id = p.id"
    " WHERE p.group_id = ? ORDER BY p.id, pp.id";
static const char SQL_USER_PERMS[] =
    "SELECT p.id, p.permission_type, p.permanent_id,"
    " pp.permission_type_parameter, pp.value"
    " FROM UserPermission p"
    " LEFT JOIN UserPermissionParameter pp ON pp.permission_id = p.id"
    " WHERE p.user_id = ? ORDER BY p.id, pp.id";

static apr_status_t load_scope(apr_array_header_t *perms, weblab_sql_t *c,
                               const char *sql, apr_int64_t owner,
                               const char *scope, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    perm_t *cur = NULL;
    apr_status_t rv = weblab_sql_select(c, &rows, p, sql, "i", owner);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (weblab_sql_next(rows)) {
        apr_int64_t id = weblab_sql_int(rows, 0);
        const char *name = weblab_sql_str(rows, 3);
        const char *value = weblab_sql_str(rows, 4);

        if (!cur || cur->id != id) {
            cur = apr_array_push(perms);
            cur->id = id;
            cur->scope = scope;
            cur->type = weblab_sql_str(rows, 1);
            cur->permanent_id = weblab_sql_str(rows, 2);
            cur->params = apr_hash_make(p);
        }
        if (name && value) {
            apr_hash_set(cur->params, name, APR_HASH_KEY_STRING, value);
        }
    }
    return APR_SUCCESS;
}

static int seen_before(apr_hash_t *seen, apr_int64_t id, apr_pool_t *p)
{
    apr_int64_t *key;

    if (apr_hash_get(seen, &id, sizeof(id))) {
        return 1;
    }
    key = apr_palloc(p, sizeof(*key));
    *key = id;
    apr_hash_set(seen, key, sizeof(*key), key);
    return 0;
}

/* Each group the user is in, then its parent, grandparent...; a group
 * reached twice (shared ancestor, or a parent_id cycle) is read once. */
static apr_status_t load_groups(apr_array_header_t *perms, weblab_sql_t *c,
                                apr_int64_t user_id, apr_pool_t *p)
{
    apr_hash_t *seen = apr_hash_make(p);
    weblab_sql_rows_t *member;
    apr_status_t rv;

    rv = weblab_sql_select(c, &member, p,
                           "SELECT group_id FROM UserIsMemberOf"
                           " WHERE user_id = ? ORDER BY group_id",
                           "i", user_id);
    while (rv == APR_SUCCESS && weblab_sql_next(member)) {
        apr_int64_t gid = weblab_sql_int(member, 0);
        int more = 1;

        while (rv == APR_SUCCESS && more && !seen_before(seen, gid, p)) {
            weblab_sql_rows_t *parent;

            rv = load_scope(perms, c, SQL_GROUP_PERMS, gid, "group", p);
            if (rv != APR_SUCCESS) {
                break;
            }
            rv = weblab_sql_select(c, &parent, p,
                                   "SELECT parent_id FROM \"Group\""
                                   " WHERE id = ?", "i", gid);
            more = rv == APR_SUCCESS && weblab_sql_next(parent)
                   && weblab_sql_str(parent, 0) != NULL;
            if (more) {
                gid = weblab_sql_int(parent, 0);
            }
        }
    }
    return rv;
}

/* Every permission of the user, in the original's order: role, groups,
 * user (array of perm_t from p). */
static apr_status_t gather_permissions(apr_array_header_t **out,
                                       weblab_sql_t *c, apr_int64_t user_id,
                                       apr_pool_t *p)
{
    apr_array_header_t *perms = apr_array_make(p, 8, sizeof(perm_t));
    apr_status_t rv;

    *out = NULL;
    rv = load_scope(perms, c, SQL_ROLE_PERMS, user_id, "role", p);
    if (rv == APR_SUCCESS) {
        rv = load_groups(perms, c, user_id, p);
    }
    if (rv == APR_SUCCESS) {
        rv = load_scope(perms, c, SQL_USER_PERMS, user_id, "user", p);
    }
    if (rv == APR_SUCCESS) {
        *out = perms;
    }
    return rv;
}

static const char *param(const perm_t *perm, const char *name)
{
    return apr_hash_get(perm->params, name, APR_HASH_KEY_STRING);
}

/* Number parsing as Python's float()/int() of the stored strings:
 * surrounding blanks allowed, nothing else. */
static int parse_double(const char *s, double *out)
{
    char *end;
    double d;

    if (!s) {
        return 0;
    }
    d = strtod(s, &end);
    while (apr_isspace(*end)) {
        end++;
    }
    if (end == s || *end || !isfinite(d)) {
        return 0;
    }
    *out = d;
    return 1;
}

static int parse_int(const char *s, int *out)
{
    char *end;
    long v;

    if (!s) {
        return 0;
    }
    v = strtol(s, &end, 10);
    while (apr_isspace(*end)) {
        end++;
    }
    if (end == s || *end || v < -2147483647L || v > 2147483647L) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int parse_bool(const char *s)
{
    if (!s) {
        return 1;               /* absent: the original's default, True */
    }
    return !strcmp(s, "1") || !strcasecmp(s, "true");
}

/* Key of an experiment by names; length-prefixed, so no name can fake
 * another pair. */
static const char *exp_key(const char *name, const char *cat, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_SIZE_T_FMT ":%s%s", strlen(name), name,
                        cat);
}

/* The whole catalog (a deployment has tens of experiments), or only the
 * experiment name@cat when name is given: by names, and in *all in
 * category, name order for access_all_labs. */
static apr_status_t load_catalog(apr_hash_t **by_name,
                                 apr_array_header_t **all, weblab_sql_t *c,
                                 const char *name, const char *cat,
                                 apr_pool_t *p)
{
    static const char SQL[] =
        "SELECT e.id, e.name, cat.name, e.start_date,"
        " e.end_date, e.client FROM Experiment e"
        " JOIN ExperimentCategory cat ON cat.id = e.category_id";
    weblab_sql_rows_t *rows;
    apr_status_t rv;

    if (name) {
        rv = weblab_sql_select(c, &rows, p, apr_pstrcat(p, SQL,
                               " WHERE e.name = ? AND cat.name = ?", NULL),
                               "ss", name, cat);
    }
    else {
        rv = weblab_sql_select(c, &rows, p, apr_pstrcat(p, SQL,
                               " ORDER BY cat.name, e.name", NULL), "");
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *by_name = apr_hash_make(p);
    *all = apr_array_make(p, rows->nrows ? rows->nrows : 1,
                          sizeof(weblab_experiment_t *));
    while (weblab_sql_next(rows)) {
        weblab_experiment_t *e;

        /* MySQL compares names without case; the original does not */
        if (name && (strcmp(weblab_sql_str(rows, 1), name)
                     || strcmp(weblab_sql_str(rows, 2), cat))) {
            continue;
        }
        e = apr_pcalloc(p, sizeof(*e));
        e->id = weblab_sql_int(rows, 0);
        e->name = weblab_sql_str(rows, 1);
        e->category = weblab_sql_str(rows, 2);
        e->start_date = weblab_sql_str(rows, 3);
        e->end_date = weblab_sql_str(rows, 4);
        e->client = weblab_sql_str(rows, 5);
        apr_hash_set(*by_name, exp_key(e->name, e->category, p),
                     APR_HASH_KEY_STRING, e);
        APR_ARRAY_PUSH(*all, weblab_experiment_t *) = e;
    }
    return APR_SUCCESS;
}

/* Keep a for its experiment unless an earlier grant allows as much time. */
static void offer(apr_hash_t *winners, weblab_allowed_t *a)
{
    weblab_allowed_t *cur = apr_hash_get(winners, &a->experiment->id,
                                         sizeof(apr_int64_t));

    if (!cur || a->time_allowed > cur->time_allowed) {
        apr_hash_set(winners, &a->experiment->id, sizeof(apr_int64_t), a);
    }
}

static weblab_allowed_t *make_allowed(weblab_experiment_t *e,
                                      const perm_t *perm, apr_pool_t *p)
{
    weblab_allowed_t *a = apr_pcalloc(p, sizeof(*a));

    a->experiment = e;
    a->permanent_id = perm->permanent_id;
    a->permission_id = perm->id;
    a->scope = perm->scope;
    return a;
}

static void offer_all_labs(apr_hash_t *winners, const apr_array_header_t *all,
                           const perm_t *perm, apr_pool_t *p)
{
    int i;

    for (i = 0; i < all->nelts; i++) {
        weblab_allowed_t *a =
            make_allowed(APR_ARRAY_IDX(all, i, weblab_experiment_t *), perm,
                         p);

        a->time_allowed = ALL_LABS_TIME;
        a->priority = ALL_LABS_PRIORITY;
        a->init_in_accounting = 1;
        offer(winners, a);
    }
}

/* An experiment_allowed grant; ignored when it names no existing
 * experiment or its numbers do not parse (the original failed the whole
 * listing there; one bad row should not hide the user's other labs). */
static void offer_grant(apr_hash_t *winners, apr_hash_t *by_name,
                        const perm_t *perm, apr_pool_t *p)
{
    const char *name = param(perm, "experiment_permanent_id");
    const char *cat = param(perm, "experiment_category_id");
    const char *prio = param(perm, "priority");
    weblab_experiment_t *e;
    weblab_allowed_t *a;
    double time_allowed;
    int priority = DEFAULT_PRIORITY;

    if (!name || !cat
        || !parse_double(param(perm, "time_allowed"), &time_allowed)
        || (prio && !parse_int(prio, &priority))) {
        return;
    }
    e = apr_hash_get(by_name, exp_key(name, cat, p), APR_HASH_KEY_STRING);
    if (!e) {
        return;
    }
    a = make_allowed(e, perm, p);
    a->time_allowed = time_allowed;
    a->priority = priority;
    a->init_in_accounting =
        parse_bool(param(perm, "initialization_in_accounting"));
    offer(winners, a);
}

static apr_status_t load_client_params(weblab_experiment_t *e,
                                       weblab_sql_t *c, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv;

    rv = weblab_sql_select(c, &rows, p,
                           "SELECT parameter_name, parameter_type, value"
                           " FROM ExperimentClientParameter"
                           " WHERE experiment_id = ? ORDER BY parameter_name",
                           "i", e->id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    e->params = apr_array_make(p, rows->nrows ? rows->nrows : 1,
                               sizeof(weblab_client_param_t));
    while (weblab_sql_next(rows)) {
        weblab_client_param_t *cp = apr_array_push(e->params);

        cp->name = weblab_sql_str(rows, 0);
        cp->type = weblab_sql_str(rows, 1);
        cp->value = weblab_sql_str(rows, 2);
    }
    return APR_SUCCESS;
}

/* total_uses and latest_use of every winner, in one query. ISO dates of
 * one format sort as text, so MAX() is the latest. */
static apr_status_t attach_uses(apr_hash_t *winners, weblab_sql_t *c,
                                apr_int64_t user_id, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv;

    rv = weblab_sql_select(c, &rows, p,
                           "SELECT experiment_id, COUNT(*), MAX(start_date)"
                           " FROM UserUsedExperiment WHERE user_id = ?"
                           " GROUP BY experiment_id", "i", user_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (weblab_sql_next(rows)) {
        apr_int64_t id = weblab_sql_int(rows, 0);
        weblab_allowed_t *a = apr_hash_get(winners, &id, sizeof(id));

        if (a) {
            a->total_uses = weblab_sql_int(rows, 1);
            a->latest_use = weblab_sql_str(rows, 2);
        }
    }
    return APR_SUCCESS;
}

static int by_category_then_name(const void *x, const void *y)
{
    const weblab_allowed_t *a = x, *b = y;
    int d = strcmp(a->experiment->category, b->experiment->category);

    return d ? d : strcmp(a->experiment->name, b->experiment->name);
}

/* The winning grant of every experiment the user may use (or only of
 * name@cat when name is given): experiment id -> weblab_allowed_t. */
static apr_status_t choose_winners(apr_hash_t **winners, weblab_sql_t *c,
                                   const weblab_user_t *user,
                                   const char *name, const char *cat,
                                   apr_pool_t *p)
{
    apr_array_header_t *perms, *all;
    apr_hash_t *by_name;
    apr_status_t rv;
    int i, all_labs_done = 0;

    *winners = NULL;
    if (!user) {
        return APR_EINVAL;
    }
    rv = gather_permissions(&perms, c, user->id, p);
    if (rv == APR_SUCCESS) {
        rv = load_catalog(&by_name, &all, c, name, cat, p);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *winners = apr_hash_make(p);
    /* The first access_all_labs counts, offered before any grant. */
    for (i = 0; i < perms->nelts && !all_labs_done; i++) {
        const perm_t *perm = &APR_ARRAY_IDX(perms, i, perm_t);

        if (perm->type && !strcmp(perm->type, PERM_ACCESS_ALL_LABS)) {
            offer_all_labs(*winners, all, perm, p);
            all_labs_done = 1;
        }
    }
    for (i = 0; i < perms->nelts; i++) {
        const perm_t *perm = &APR_ARRAY_IDX(perms, i, perm_t);

        if (perm->type && !strcmp(perm->type, PERM_EXPERIMENT_ALLOWED)) {
            offer_grant(*winners, by_name, perm, p);
        }
    }
    return APR_SUCCESS;
}

apr_status_t weblab_db_allowed_one(const weblab_allowed_t **allowed,
                                   weblab_sql_t *c, const weblab_user_t *user,
                                   const char *name, const char *cat,
                                   apr_pool_t *p)
{
    apr_hash_t *winners;
    apr_hash_index_t *hi;
    apr_status_t rv = choose_winners(&winners, c, user, name, cat, p);

    *allowed = NULL;
    if (rv == APR_SUCCESS && (hi = apr_hash_first(p, winners))) {
        *allowed = apr_hash_this_val(hi);
    }
    return rv;
}

apr_status_t weblab_db_allowed(apr_array_header_t **allowed, weblab_sql_t *c,
                               const weblab_user_t *user, apr_pool_t *p)
{
    apr_array_header_t *out;
    apr_hash_t *winners;
    apr_hash_index_t *hi;
    apr_status_t rv;

    *allowed = NULL;
    rv = choose_winners(&winners, c, user, NULL, NULL, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = attach_uses(winners, c, user->id, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out = apr_array_make(p, apr_hash_count(winners) + 1,
                         sizeof(weblab_allowed_t));
    for (hi = apr_hash_first(p, winners); hi; hi = apr_hash_next(hi)) {
        weblab_allowed_t *a = apr_hash_this_val(hi);

        rv = load_client_params(a->experiment, c, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        *(weblab_allowed_t *)apr_array_push(out) = *a;
    }
    qsort(out->elts, out->nelts, sizeof(weblab_allowed_t),
          by_category_then_name);
    *allowed = out;
    return APR_SUCCESS;
}

apr_status_t weblab_db_user_flags(int *is_admin, int *is_instructor,
                                  weblab_sql_t *c, const weblab_user_t *user,
                                  apr_pool_t *p)
{
    apr_array_header_t *perms;
    const char *role;
    int admin, instructor, i;
    apr_status_t rv;

    *is_admin = *is_instructor = 0;
    if (!user) {
        return APR_EINVAL;
    }
    rv = gather_permissions(&perms, c, user->id, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    role = user->role ? user->role : "";
    /* Spec 5.2 also names a role "admin". */
    admin = !strcmp(role, "administrator") || !strcmp(role, "admin");
    instructor = !strcmp(role, "instructor");
    for (i = 0; i < perms->nelts; i++) {
        const char *type = APR_ARRAY_IDX(perms, i, perm_t).type;

        if (!type) {
            continue;
        }
        admin |= !strcmp(type, PERM_ADMIN_PANEL);
        instructor |= !strcmp(type, PERM_INSTRUCTOR);
    }
    *is_admin = admin;
    *is_instructor = instructor || admin;
    return APR_SUCCESS;
}
