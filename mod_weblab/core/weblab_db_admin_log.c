/* The uses log as the web administration reads it: uses filtered by user,
 * group, experiment and dates, one use with its commands and files, CSV
 * export, and the groups an instructor may look at (instructor_of_group,
 * spec 5.2). Read-only: nothing here writes. */
#include "weblab_db_admin_private.h"

#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_lib.h>

/* LIMIT without a limit, portable (SQLite's -1 is not MySQL's). */
#define NO_LIMIT ((apr_int64_t)1 << 62)

/* ---- the group tree ---- */

typedef struct {
    apr_int64_t id;
    apr_int64_t parent;         /* 0 for a top-level group */
    const char *name;
} group_node_t;

static apr_status_t load_tree(weblab_db_admin_t *adm,
                              apr_array_header_t **nodes, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv = weblab_sql_select(adm->c, &rows, p,
                                        "SELECT id, parent_id, name FROM"
                                        " \"Group\" ORDER BY id", NULL);

    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading the groups");
    }
    *nodes = apr_array_make(p, rows->nrows + 1, sizeof(group_node_t));
    while (weblab_sql_next(rows)) {
        group_node_t *g = apr_array_push(*nodes);

        g->id = weblab_sql_int(rows, 0);
        g->parent = weblab_sql_str(rows, 1) ? weblab_sql_int(rows, 1) : 0;
        g->name = weblab_sql_str(rows, 2);
    }
    return APR_SUCCESS;
}

static int has_id(const apr_array_header_t *ids, apr_int64_t id)
{
    int i;

    for (i = 0; i < ids->nelts; i++) {
        if (APR_ARRAY_IDX(ids, i, apr_int64_t) == id) {
            return 1;
        }
    }
    return 0;
}

static void add_id(apr_array_header_t *ids, apr_int64_t id)
{
    if (!has_id(ids, id)) {
        APR_ARRAY_PUSH(ids, apr_int64_t) = id;
    }
}

/* Add every descendant of the groups in ids to ids (a fixed point: the tree
 * is small, and a parent_id cycle cannot loop because ids only grows). */
static void add_descendants(apr_array_header_t *ids,
                            const apr_array_header_t *nodes)
{
    int grew = 1, i;

    while (grew) {
        grew = 0;
        for (i = 0; i < nodes->nelts; i++) {
            const group_node_t *g = &APR_ARRAY_IDX(nodes, i, group_node_t);

            if (g->parent && has_id(ids, g->parent) && !has_id(ids, g->id)) {
                add_id(ids, g->id);
                grew = 1;
            }
        }
    }
}

/* Add every ancestor of the groups in ids to ids. */
static void add_ancestors(apr_array_header_t *ids,
                          const apr_array_header_t *nodes)
{
    int grew = 1, i;

    while (grew) {
        grew = 0;
        for (i = 0; i < nodes->nelts; i++) {
            const group_node_t *g = &APR_ARRAY_IDX(nodes, i, group_node_t);

            if (g->parent && has_id(ids, g->id) && !has_id(ids, g->parent)) {
                add_id(ids, g->parent);
                grew = 1;
            }
        }
    }
}

/* "(1,4,7)" for an SQL IN list; the ids are integers we read ourselves, so
 * writing them into the statement is safe. "(NULL)" when empty: matches
 * nothing. */
static const char *in_list(const apr_array_header_t *ids, apr_pool_t *p)
{
    const char *s = "(";
    int i;

    if (ids->nelts == 0) {
        return "(NULL)";
    }
    for (i = 0; i < ids->nelts; i++) {
        s = apr_psprintf(p, "%s%s%" APR_INT64_T_FMT, s, i ? "," : "",
                         APR_ARRAY_IDX(ids, i, apr_int64_t));
    }
    return apr_pstrcat(p, s, ")", NULL);
}

/* ---- instructors ---- */

/* Add the target_group values of the instructor_of_group permissions that
 * the statement selects (one integer parameter, or none when arg < 0). */
static apr_status_t add_targets(weblab_db_admin_t *adm,
                                apr_array_header_t *targets, const char *sql,
                                apr_int64_t arg, apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv = arg < 0 ? weblab_sql_select(adm->c, &rows, p, sql, NULL)
                              : weblab_sql_select(adm->c, &rows, p, sql, "i",
                                                  arg);

    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading permissions");
    }
    while (weblab_sql_next(rows)) {
        const char *v = weblab_sql_str(rows, 0);
        char *end;
        apr_int64_t id = v ? apr_strtoi64(v, &end, 10) : 0;

        if (v && *v && !*end && id > 0) {
            add_id(targets, id);
        }
    }
    return APR_SUCCESS;
}

#define TARGETS_SQL(scope, where) \
    "SELECT pp.value FROM " scope "Permission p JOIN " scope \
    "PermissionParameter pp ON pp.permission_id = p.id" \
    " AND pp.permission_type_parameter = 'target_group'" \
    " WHERE p.permission_type = 'instructor_of_group' AND " where

apr_status_t weblab_db_admin_instructor_groups(weblab_db_admin_t *adm,
                                               apr_array_header_t **ids,
                                               const char *login,
                                               apr_pool_t *p)
{
    apr_array_header_t *nodes, *mine, *targets;
    weblab_sql_rows_t *rows;
    apr_int64_t uid, role_id = -1;
    apr_status_t rv;

    *ids = apr_array_make(p, 4, sizeof(apr_int64_t));
    if ((rv = weblab_dbadm_user_id(adm, &uid, login)) != APR_SUCCESS
        || (rv = load_tree(adm, &nodes, p)) != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_select(adm->c, &rows, p,
                           "SELECT u.role_id, m.group_id FROM \"User\" u"
                           " LEFT JOIN UserIsMemberOf m ON m.user_id = u.id"
                           " WHERE u.id = ?", "i", uid);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading the user's groups");
    }
    mine = apr_array_make(p, 4, sizeof(apr_int64_t));
    while (weblab_sql_next(rows)) {
        if (weblab_sql_str(rows, 0)) {
            role_id = weblab_sql_int(rows, 0);
        }
        if (weblab_sql_str(rows, 1)) {
            add_id(mine, weblab_sql_int(rows, 1));
        }
    }
    add_ancestors(mine, nodes);
    targets = apr_array_make(p, 4, sizeof(apr_int64_t));
    rv = add_targets(adm, targets, TARGETS_SQL("User", "p.user_id = ?"), uid,
                     p);
    if (rv == APR_SUCCESS && mine->nelts) {
        rv = add_targets(adm, targets,
                         apr_pstrcat(p, TARGETS_SQL("Group", "p.group_id IN "),
                                     in_list(mine, p), NULL), -1, p);
    }
    if (rv == APR_SUCCESS && role_id >= 0) {
        rv = add_targets(adm, targets, TARGETS_SQL("Role", "p.role_id = ?"),
                         role_id, p);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    add_descendants(targets, nodes);
    *ids = targets;
    return APR_SUCCESS;
}

apr_status_t weblab_db_admin_group_names(weblab_db_admin_t *adm,
                                         apr_array_header_t **names,
                                         const apr_array_header_t *ids,
                                         apr_pool_t *p)
{
    apr_array_header_t *nodes;
    apr_status_t rv = load_tree(adm, &nodes, p);
    int i;

    *names = apr_array_make(p, ids->nelts + 1, sizeof(const char *));
    for (i = 0; rv == APR_SUCCESS && i < nodes->nelts; i++) {
        const group_node_t *g = &APR_ARRAY_IDX(nodes, i, group_node_t);

        if (has_id(ids, g->id)) {
            APR_ARRAY_PUSH(*names, const char *) = g->name;
        }
    }
    return rv;
}

/* ---- uses ---- */

/* A date or date-time filter normalized to "YYYY-MM-DD[THH:MM[:SS[.f]]]",
 * or NULL when it has another form. */
static const char *iso_bound(const char *s, apr_pool_t *p)
{
    static const char pattern[] = "dddd-dd-dd";
    char *out = apr_pstrdup(p, s);
    size_t i, n = strlen(out);

    if (n < 10) {
        return NULL;
    }
    for (i = 0; i < 10; i++) {
        if (pattern[i] == 'd' ? !apr_isdigit(out[i]) : out[i] != '-') {
            return NULL;
        }
    }
    if (n == 10) {
        return out;
    }
    if (out[10] != 'T' && out[10] != ' ') {
        return NULL;
    }
    out[10] = 'T';
    for (i = 11; i < n; i++) {
        if (!apr_isdigit(out[i]) && out[i] != ':' && out[i] != '.') {
            return NULL;
        }
    }
    return n >= 16 ? out : NULL;
}

#define USES_COLUMNS \
    "SELECT u.id, us.login, e.name, c.name, u.start_date, u.end_date," \
    " u.origin, u.coord_address, u.reservation_id, u.finish_reason," \
    " (SELECT COUNT(*) FROM UserCommand uc WHERE uc.experiment_use_id = u.id" \
    "  AND uc.command NOT LIKE '@@@%'), " \
    " (SELECT COUNT(*) FROM UserFile uf WHERE uf.experiment_use_id = u.id)," \
    " us.full_name, u.permission_permanent_id, u.request_info," \
    " u.session_time_seconds"

#define USES_FROM \
    " FROM UserUsedExperiment u" \
    " JOIN \"User\" us ON us.id = u.user_id" \
    " JOIN Experiment e ON e.id = u.experiment_id" \
    " JOIN ExperimentCategory c ON c.id = e.category_id"

/* Every filter is bound (NULL when unused) so that one statement serves
 * every combination; only the group restrictions are written in. */
#define USES_WHERE \
    " WHERE (? IS NULL OR us.login = ?) AND (? IS NULL OR e.name = ?)" \
    " AND (? IS NULL OR c.name = ?) AND (? IS NULL OR u.start_date >= ?)" \
    " AND (? IS NULL OR u.start_date < ?)"

static void read_use(weblab_db_admin_use_t *u, weblab_sql_rows_t *rows)
{
    u->id = weblab_sql_int(rows, 0);
    u->login = weblab_sql_str(rows, 1);
    u->exp_name = weblab_sql_str(rows, 2);
    u->cat_name = weblab_sql_str(rows, 3);
    u->start_date = weblab_sql_str(rows, 4);
    u->end_date = weblab_sql_str(rows, 5);
    u->origin = weblab_sql_str(rows, 6);
    u->coord_address = weblab_sql_str(rows, 7);
    u->reservation_id = weblab_sql_str(rows, 8);
    u->finish_reason = weblab_sql_str(rows, 9);
    u->commands = weblab_sql_int(rows, 10);
    u->files = weblab_sql_int(rows, 11);
}

/* " AND u.user_id IN (members of ids)" */
static const char *members_of(const apr_array_header_t *ids, apr_pool_t *p)
{
    return apr_pstrcat(p, " AND u.user_id IN (SELECT user_id FROM"
                       " UserIsMemberOf WHERE group_id IN ", in_list(ids, p),
                       ")", NULL);
}

apr_status_t weblab_db_admin_uses_find(weblab_db_admin_t *adm,
                                       apr_array_header_t **uses, int *total,
                                       const weblab_db_admin_use_filter_t *f,
                                       apr_pool_t *p)
{
    const char *from = NULL, *to = NULL, *groups_sql = "";
    weblab_sql_rows_t *rows;
    apr_int64_t id;
    apr_status_t rv;

    if (f->login && (rv = weblab_dbadm_user_id(adm, &id, f->login))
                    != APR_SUCCESS) {
        return rv;
    }
    if (f->from && !(from = iso_bound(f->from, p))) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "'%s' is not a date "
                                 "(YYYY-MM-DD or YYYY-MM-DDTHH:MM)", f->from);
    }
    if (f->to && !(to = iso_bound(f->to, p))) {
        return weblab_dbadm_fail(adm, APR_EINVAL, "'%s' is not a date "
                                 "(YYYY-MM-DD or YYYY-MM-DDTHH:MM)", f->to);
    }
    if (to) {
        /* '~' sorts after every character of an ISO date: the whole day
         * (or minute) given is included */
        to = apr_pstrcat(p, to, "~", NULL);
    }
    if (f->group) {
        apr_array_header_t *nodes, *ids;

        if ((rv = weblab_dbadm_group_id(adm, &id, f->group)) != APR_SUCCESS
            || (rv = load_tree(adm, &nodes, p)) != APR_SUCCESS) {
            return rv;
        }
        ids = apr_array_make(p, 4, sizeof(apr_int64_t));
        add_id(ids, id);
        add_descendants(ids, nodes);
        groups_sql = members_of(ids, p);
    }
    if (f->only_groups) {
        groups_sql = apr_pstrcat(p, groups_sql,
                                 members_of(f->only_groups, p), NULL);
    }
    if (total) {
        rv = weblab_sql_select(adm->c, &rows, p,
                               apr_pstrcat(p, "SELECT COUNT(*)" USES_FROM
                                           USES_WHERE, groups_sql, NULL),
                               "ssssssssss", f->login, f->login, f->exp_name,
                               f->exp_name, f->cat_name, f->cat_name, from,
                               from, to, to);
        if (rv != APR_SUCCESS) {
            return weblab_dbadm_sql_fail(adm, rv, "counting uses");
        }
        *total = weblab_sql_next(rows) ? (int)weblab_sql_int(rows, 0) : 0;
    }
    rv = weblab_sql_select(adm->c, &rows, p,
                           apr_pstrcat(p, USES_COLUMNS USES_FROM USES_WHERE,
                                       groups_sql,
                                       " ORDER BY u.id DESC LIMIT ? OFFSET ?",
                                       NULL),
                           "ssssssssssii", f->login, f->login, f->exp_name,
                           f->exp_name, f->cat_name, f->cat_name, from, from,
                           to, to,
                           f->limit > 0 ? (apr_int64_t)f->limit : NO_LIMIT,
                           (apr_int64_t)(f->offset > 0 ? f->offset : 0));
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading the uses log");
    }
    *uses = apr_array_make(p, rows->nrows + 1, sizeof(weblab_db_admin_use_t));
    while (weblab_sql_next(rows)) {
        read_use(apr_array_push(*uses), rows);
    }
    return APR_SUCCESS;
}

static int by_time(const void *a, const void *b)
{
    const weblab_db_admin_interaction_t *x = a, *y = b;

    return x->before < y->before ? -1 : x->before > y->before ? 1 : 0;
}

apr_status_t weblab_db_admin_use_get(weblab_db_admin_t *adm,
                                     weblab_db_admin_use_detail_t **use,
                                     apr_int64_t id,
                                     const apr_array_header_t *only_groups,
                                     apr_pool_t *p)
{
    weblab_db_admin_use_detail_t *d;
    weblab_sql_rows_t *rows;
    apr_status_t rv;

    *use = NULL;
    rv = weblab_sql_select(adm->c, &rows, p,
                           apr_pstrcat(p, USES_COLUMNS USES_FROM
                                       " WHERE u.id = ?",
                                       only_groups ? members_of(only_groups, p)
                                                   : "", NULL), "i", id);
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading the use");
    }
    if (!weblab_sql_next(rows)) {
        return APR_SUCCESS;
    }
    d = apr_pcalloc(p, sizeof(*d));
    read_use(&d->use, rows);
    d->full_name = weblab_sql_str(rows, 12);
    d->permanent_id = weblab_sql_str(rows, 13);
    d->request_info = weblab_sql_str(rows, 14);
    d->session_seconds = weblab_sql_str(rows, 15)
        ? weblab_sql_double(rows, 15) : -1;
    d->interactions = apr_array_make(p, 8,
                                     sizeof(weblab_db_admin_interaction_t));
    rv = weblab_sql_select(adm->c, &rows, p,
                           "SELECT command, response, timestamp_before,"
                           " timestamp_after FROM UserCommand"
                           " WHERE experiment_use_id = ? ORDER BY id", "i",
                           id);
    while (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        weblab_db_admin_interaction_t *it = apr_array_push(d->interactions);

        it->command = weblab_sql_str(rows, 0);
        it->response = weblab_sql_str(rows, 1);
        it->before = weblab_sql_double(rows, 2);
        it->after = weblab_sql_double(rows, 3);
    }
    if (rv == APR_SUCCESS) {
        rv = weblab_sql_select(adm->c, &rows, p,
                               "SELECT file_info, file_hash, response,"
                               " timestamp_before, timestamp_after"
                               " FROM UserFile WHERE experiment_use_id = ?"
                               " ORDER BY id", "i", id);
    }
    while (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        weblab_db_admin_interaction_t *it = apr_array_push(d->interactions);

        it->is_file = 1;
        it->command = weblab_sql_str(rows, 0);
        it->file_hash = weblab_sql_str(rows, 1);
        it->response = weblab_sql_str(rows, 2);
        it->before = weblab_sql_double(rows, 3);
        it->after = weblab_sql_double(rows, 4);
    }
    if (rv != APR_SUCCESS) {
        return weblab_dbadm_sql_fail(adm, rv, "reading the use's commands");
    }
    /* stable enough: commands and files each come in id order */
    qsort(d->interactions->elts, d->interactions->nelts,
          sizeof(weblab_db_admin_interaction_t), by_time);
    *use = d;
    return APR_SUCCESS;
}

const char *weblab_db_admin_finish_reason(const weblab_db_admin_use_t *u)
{
    if (!u->finish_reason) {
        return u->end_date ? "unknown" : NULL;
    }
    switch (atoi(u->finish_reason)) {
    case 0:  return "finished";
    case 1:  return "client timeout";
    case 2:  return "kicked";
    case 3:  return "batch";
    default: return "unknown";
    }
}

/* One CSV cell: quoted when needed, formula-looking text defused. */
static const char *csv_cell(const char *s, apr_pool_t *p)
{
    const char *c;
    char *out, *o;

    if (!s) {
        return "";
    }
    if (s[0] && strchr("=+-@", s[0])) {
        s = apr_pstrcat(p, "'", s, NULL);
    }
    if (!strpbrk(s, ",\"\r\n")) {
        return s;
    }
    out = o = apr_palloc(p, strlen(s) * 2 + 3);
    *o++ = '"';
    for (c = s; *c; c++) {
        if (*c == '"') {
            *o++ = '"';
        }
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

const char *weblab_db_admin_uses_csv(const apr_array_header_t *uses,
                                     apr_pool_t *p)
{
    apr_array_header_t *lines = apr_array_make(p, uses->nelts + 1,
                                               sizeof(const char *));
    int i;

    APR_ARRAY_PUSH(lines, const char *) =
        "id,login,experiment,category,start_date,end_date,origin,"
        "lab,commands,files,finish_reason\r\n";
    for (i = 0; i < uses->nelts; i++) {
        const weblab_db_admin_use_t *u =
            &APR_ARRAY_IDX(uses, i, weblab_db_admin_use_t);

        APR_ARRAY_PUSH(lines, const char *) = apr_psprintf(
            p, "%" APR_INT64_T_FMT ",%s,%s,%s,%s,%s,%s,%s,%" APR_INT64_T_FMT
            ",%" APR_INT64_T_FMT ",%s\r\n", u->id, csv_cell(u->login, p),
            csv_cell(u->exp_name, p), csv_cell(u->cat_name, p),
            csv_cell(u->start_date, p), csv_cell(u->end_date, p),
            csv_cell(u->origin, p), csv_cell(u->coord_address, p),
            u->commands, u->files,
            csv_cell(weblab_db_admin_finish_reason(u), p));
    }
    return apr_array_pstrcat(p, lines, '\0');
}
