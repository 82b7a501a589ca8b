/* The uses log (spec 5.4): one UserUsedExperiment row per confirmed
 * reservation, its commands and files, and its end. Dates are ISO strings
 * in UTC with the microseconds also in the *_micro columns, as the
 * original's reports expect; command timestamps are epoch seconds. */
#include "weblab_db.h"

#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <apr_sha1.h>
#include <apr_base64.h>

#define CMD_INITIAL_REQUEST  "@@@initial::request@@@"
#define CMD_INITIAL_RESPONSE "@@@initial::response@@@"
#define CMD_FINISH           "@@@finish@@@"
#define FILE_NOT_STORED      "<file not stored>"

/* The microseconds of an ISO date made by weblab_db_iso_date. */
static apr_int64_t iso_micro(const char *iso)
{
    const char *dot = strchr(iso, '.');

    return dot ? apr_atoi64(dot + 1) : 0;
}

/* Epoch seconds of "YYYY-MM-DDTHH:MM:SS[.ffffff]" (UTC); 0 when the text
 * does not have that form. */
static int iso_to_epoch(const char *iso, double *epoch)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int y, mo, d, h, mi, s;
    long usec = 0, scale = 100000;
    const char *f;

    if (!iso || sscanf(iso, "%4d-%2d-%2d%*c%2d:%2d:%2d",
                       &y, &mo, &d, &h, &mi, &s) != 6) {
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    f = strchr(iso, '.');
    for (f = f ? f + 1 : ""; *f >= '0' && *f <= '9' && scale; f++) {
        usec += (*f - '0') * scale;
        scale /= 10;
    }
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS) {
        return 0;
    }
    *epoch = (double)apr_time_sec(t) + (double)usec / APR_USEC_PER_SEC;
    return 1;
}

static apr_status_t use_by_reservation(apr_int64_t *use_id, weblab_sql_t *c,
                                       const char *reservation_id,
                                       apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_status_t rv = weblab_sql_select(c, &rows, p,
                                        "SELECT id FROM UserUsedExperiment"
                                        " WHERE reservation_id = ?",
                                        "s", reservation_id);

    *use_id = 0;
    if (rv == APR_SUCCESS && weblab_sql_next(rows)) {
        *use_id = weblab_sql_int(rows, 0);
    }
    return rv;
}

static apr_status_t insert_command(weblab_sql_t *c, apr_int64_t use_id,
                                   const char *command, const char *response,
                                   double before, double after)
{
    return weblab_sql_exec(c, NULL,
                           "INSERT INTO UserCommand (experiment_use_id,"
                           " command, response, timestamp_before,"
                           " timestamp_after) VALUES (?, ?, ?, ?, ?)",
                           "issdd", use_id, command, response, before, after);
}

/* Inside the caller's write transaction: the row and its two synthetic
 * commands. *use_id = 0 with APR_NOTFOUND when the experiment is unknown. */
static apr_status_t insert_use(apr_int64_t *use_id, weblab_sql_t *c,
                               apr_int64_t user_id, const char *exp_name,
                               const char *cat_name,
                               const char *reservation_id, double start,
                               const char *origin, const char *coord_address,
                               const char *permanent_id,
                               const char *request_info,
                               const char *client_initial_data,
                               const char *initial_configuration,
                               apr_pool_t *p)
{
    const char *start_iso = weblab_db_iso_date(start, p);
    weblab_sql_rows_t *rows;
    apr_int64_t id;
    apr_status_t rv;

    *use_id = 0;
    rv = weblab_sql_select(c, &rows, p,
                           "SELECT e.id FROM Experiment e"
                           " JOIN ExperimentCategory cat"
                           " ON cat.id = e.category_id"
                           " WHERE e.name = ? AND cat.name = ?",
                           "ss", exp_name, cat_name);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!weblab_sql_next(rows)) {
        return APR_NOTFOUND;
    }
    rv = weblab_sql_exec(c, NULL,
                         "INSERT INTO UserUsedExperiment (user_id,"
                         " experiment_id, start_date, start_date_micro,"
                         " permission_permanent_id, origin, coord_address,"
                         " reservation_id, request_info)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         "iisisssss", user_id, weblab_sql_int(rows, 0),
                         start_iso, iso_micro(start_iso), permanent_id,
                         origin ? origin : "",
                         coord_address ? coord_address : "",
                         reservation_id, request_info);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    id = weblab_sql_last_id(c);
    rv = insert_command(c, id, CMD_INITIAL_REQUEST, client_initial_data,
                        start, start);
    if (rv == APR_SUCCESS) {
        rv = insert_command(c, id, CMD_INITIAL_RESPONSE,
                            initial_configuration, start, start);
    }
    if (rv == APR_SUCCESS) {
        *use_id = id;
    }
    return rv;
}

/* Looks the reservation up before taking the writer lock (the common
 * repeated call costs one read), again under it, and once more after a
 * unique-constraint failure: on a database without our writer lock
 * (MySQL) two processes may race to insert and the loser returns the
 * winner's row. Opens its own write transaction. */
apr_status_t weblab_db_use_start(apr_int64_t *use_id, weblab_sql_t *c,
                                 apr_int64_t user_id, const char *exp_name,
                                 const char *cat_name,
                                 const char *reservation_id, double start,
                                 const char *origin, const char *coord_address,
                                 const char *permanent_id,
                                 const char *request_info,
                                 const char *client_initial_data,
                                 const char *initial_configuration,
                                 apr_pool_t *p)
{
    apr_status_t rv;
    int constraint;

    *use_id = 0;
    if (!reservation_id || !exp_name || !cat_name) {
        return APR_EINVAL;
    }
    rv = use_by_reservation(use_id, c, reservation_id, p);
    if (rv != APR_SUCCESS || *use_id) {
        return rv;
    }
    rv = weblab_sql_begin(c, 1);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = use_by_reservation(use_id, c, reservation_id, p);
    if (rv != APR_SUCCESS || *use_id) {
        goto done;
    }
    rv = insert_use(use_id, c, user_id, exp_name, cat_name, reservation_id,
                    start, origin, coord_address, permanent_id, request_info,
                    client_initial_data, initial_configuration, p);
done:
    if (rv == APR_SUCCESS) {
        return weblab_sql_commit(c);
    }
    constraint = weblab_sql_is_constraint(c);
    weblab_sql_rollback(c);
    if (constraint) {
        apr_status_t rv2 = use_by_reservation(use_id, c, reservation_id, p);

        if (rv2 == APR_SUCCESS && *use_id) {
            return APR_SUCCESS;
        }
    }
    *use_id = 0;
    return rv;
}

/* On SQLite one logged row gets a transaction of its own, unless the
 * caller has one open (own: set when this call began it). That transaction
 * waits for the writers' lock: an autocommit INSERT meets the other writers
 * in SQLite's busy handler instead, which sleeps 1, 2, 5... ms a try. On
 * MySQL (no writer lock) an autocommit INSERT is one round trip, not
 * three. */
static apr_status_t begin_row(weblab_sql_t *c, int *own)
{
    *own = !weblab_sql_in_tx(c) && weblab_sql_has_writer_lock(c);
    return *own ? weblab_sql_begin(c, WEBLAB_SQL_WRITE_ROWS) : APR_SUCCESS;
}

static apr_status_t end_row(weblab_sql_t *c, int own, apr_status_t rv)
{
    return own ? weblab_sql_end(c, rv) : rv;
}

apr_status_t weblab_db_use_command(weblab_sql_t *c, apr_int64_t use_id,
                                   const char *command, const char *response,
                                   double before, double after)
{
    int own;
    apr_status_t rv = begin_row(c, &own);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return end_row(c, own, insert_command(c, use_id, command, response,
                                          before, after));
}

/* "{sha}<hex>" of the decoded content. The decoded copy lives in a
 * subpool freed here: files can be large and p may be a long request's. */
static const char *file_hash(const char *content_b64, apr_pool_t *p)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    char out[sizeof("{sha}") + 2 * APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    apr_pool_t *tmp;
    char *plain;
    int len;
    size_t i;

    if (!content_b64) {
        content_b64 = "";
    }
    apr_pool_create(&tmp, p);
    plain = apr_palloc(tmp, apr_base64_decode_len(content_b64));
    len = apr_base64_decode(plain, content_b64);
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, (const unsigned char *)plain,
                           len > 0 ? (unsigned int)len : 0);
    apr_sha1_final(digest, &ctx);
    apr_pool_destroy(tmp);
    memcpy(out, "{sha}", 5);
    for (i = 0; i < sizeof(digest); i++) {
        out[5 + 2 * i] = hex[digest[i] >> 4];
        out[6 + 2 * i] = hex[digest[i] & 15];
    }
    out[5 + 2 * sizeof(digest)] = '\0';
    return apr_pstrdup(p, out);
}

apr_status_t weblab_db_use_file(weblab_sql_t *c, apr_int64_t use_id,
                                const char *content_b64,
                                const char *file_info, const char *response,
                                double before, double after, apr_pool_t *p)
{
    const char *hash = file_hash(content_b64, p);
    int own;
    apr_status_t rv = begin_row(c, &own);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_exec(c, NULL,
                         "INSERT INTO UserFile (experiment_use_id,"
                         " file_sent, file_hash, file_info, response,"
                         " timestamp_before, timestamp_after)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)",
                         "issssdd", use_id, FILE_NOT_STORED, hash, file_info,
                         response, before, after);
    return end_row(c, own, rv);
}

/* The UPDATE only touches an open use (end_date IS NULL), so of two racing
 * finishes exactly one writes the end and the @@@finish@@@ command. Opens
 * its own write transaction; APR_NOTFOUND for an unknown use. */
apr_status_t weblab_db_use_finish(weblab_sql_t *c, apr_int64_t use_id,
                                  double end, int finish_reason,
                                  const char *end_data)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *tmp;
    const char *end_iso;
    double start = end;
    apr_status_t rv;
    int changes = 0;

    /* No pool in the signature: a private unmanaged one (no parent, so no
     * shared pool is touched from this thread) for the few rows read. */
    rv = apr_pool_create_unmanaged_ex(&tmp, NULL, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = weblab_sql_select(c, &rows, tmp,
                           "SELECT start_date, end_date FROM"
                           " UserUsedExperiment WHERE id = ?",
                           "i", use_id);
    if (rv != APR_SUCCESS) {
        goto out;
    }
    if (!weblab_sql_next(rows)) {
        rv = APR_NOTFOUND;
        goto out;
    }
    if (weblab_sql_str(rows, 1)) {
        goto out;               /* already closed: nothing changes */
    }
    if (!iso_to_epoch(weblab_sql_str(rows, 0), &start)) {
        start = end;
    }
    end_iso = weblab_db_iso_date(end, tmp);
    rv = weblab_sql_begin(c, 1);
    if (rv != APR_SUCCESS) {
        goto out;
    }
    rv = weblab_sql_exec(c, &changes,
                         "UPDATE UserUsedExperiment SET end_date = ?,"
                         " end_date_micro = ?, finish_reason = ?,"
                         " session_time_seconds = ?"
                         " WHERE id = ? AND end_date IS NULL",
                         "siidi", end_iso, iso_micro(end_iso),
                         (apr_int64_t)finish_reason, end - start, use_id);
    if (rv == APR_SUCCESS && changes == 1) {
        rv = insert_command(c, use_id, CMD_FINISH, end_data, end, end);
    }
    rv = weblab_sql_end(c, rv);
out:
    apr_pool_destroy(tmp);
    return rv;
}
