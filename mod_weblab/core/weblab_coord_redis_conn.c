/* Redis connections for the coordination backend: the target string, a
 * per-process apr_reslist of hiredis contexts (connect and command
 * timeouts, AUTH and SELECT on connect), and running one step of the
 * script with EVALSHA. A context that saw an I/O or protocol error is never
 * used again (hiredis contexts are unusable after one); the step is retried
 * once on a new connection (OpenIDC/mod_auth_openidc:src/cache/redis.c
 * does the same). */
#include "weblab_coord_redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_reslist.h>
#include <apr_sha1.h>
#include <apr_strings.h>

extern const char weblab_coord_redis_lua[];

#define DEFAULT_PORT 6379
#define DEFAULT_PREFIX "weblab:"
#define DEFAULT_CONNECT_TIMEOUT 2.0
#define DEFAULT_TIMEOUT 5.0

typedef struct redis_conn_t {
    redisContext *ctx;
    apr_uint32_t gen;           /* pool generation it was made in */
    int used;                   /* a command went through: may be stale */
} redis_conn_t;

struct weblab_redis_t {
    weblab_redis_target_t t;
    apr_reslist_t *list;
    /* Bumped on every I/O error: connections made before it are dropped
     * rather than tried one by one (after a Redis restart all are dead). */
    volatile apr_uint32_t gen;
    char sha[2 * APR_SHA1_DIGESTSIZE + 1];
    size_t script_len;
};

/* ---- target ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* %XX-decode the n bytes at s. */
static const char *unescape(const char *s, apr_size_t n, apr_pool_t *p)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0
            && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static int parse_int(int *out, const char *s, int min, int max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max) {
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int parse_seconds(double *out, const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (!*s || *end || !(v > 0) || v > 3600) {
        return 0;
    }
    *out = v;
    return 1;
}

/* key=value&... options shared by both forms. */
static const char *parse_query(weblab_redis_target_t *t, const char *q,
                               apr_pool_t *p)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        apr_size_t n = amp ? (apr_size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        const char *key, *val;

        if (!eq) {
            return "an option without '=' after '?'";
        }
        key = apr_pstrmemdup(p, q, eq - q);
        val = unescape(eq + 1, n - (eq + 1 - q), p);
        if (!strcmp(key, "db")) {
            if (!parse_int(&t->db, val, 0, 1000000)) {
                return "db must be a number >= 0";
            }
        }
        else if (!strcmp(key, "password")) {
            t->password = val;
        }
        else if (!strcmp(key, "user")) {
            t->user = val;
        }
        else if (!strcmp(key, "prefix")) {
            t->prefix = val;
        }
        else if (!strcmp(key, "connect_timeout")) {
            if (!parse_seconds(&t->connect_timeout, val)) {
                return "connect_timeout must be seconds in (0, 3600]";
            }
        }
        else if (!strcmp(key, "timeout")) {
            if (!parse_seconds(&t->timeout, val)) {
                return "timeout must be seconds in (0, 3600]";
            }
        }
        else {
            return apr_psprintf(p, "unknown option '%s' (db, user, password,"
                                " prefix, connect_timeout, timeout)", key);
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* [[user]:password@]host[:port][/db] */
static const char *parse_authority(weblab_redis_target_t *t, const char *s,
                                   apr_pool_t *p)
{
    const char *slash = strchr(s, '/');
    apr_size_t n = slash ? (apr_size_t)(slash - s) : strlen(s);
    const char *at = NULL, *hp, *colon, *c;

    for (c = s; c < s + n; c++) {
        if (*c == '@') {
            at = c;             /* the last one: passwords may hold '@' */
        }
    }
    if (at) {
        colon = memchr(s, ':', at - s);
        if (!colon) {
            return "write the password as redis://:password@host";
        }
        if (colon > s) {
            t->user = unescape(s, colon - s, p);
        }
        t->password = unescape(colon + 1, at - colon - 1, p);
        hp = at + 1;
    }
    else {
        hp = s;
    }
    n -= hp - s;
    if (n && *hp == '[') {      /* [IPv6] */
        const char *close = memchr(hp, ']', n);

        if (!close) {
            return "unclosed '[' in the host";
        }
        t->host = apr_pstrmemdup(p, hp + 1, close - hp - 1);
        colon = close + 1 < hp + n && close[1] == ':' ? close + 1 : NULL;
    }
    else {
        colon = memchr(hp, ':', n);
        t->host = apr_pstrmemdup(p, hp, colon ? (apr_size_t)(colon - hp) : n);
    }
    if (!*t->host) {
        return "no host";
    }
    if (colon && !parse_int(&t->port,
                            apr_pstrmemdup(p, colon + 1, hp + n - colon - 1),
                            1, 65535)) {
        return "the port must be a number from 1 to 65535";
    }
    if (slash && slash[1] && !parse_int(&t->db, slash + 1, 0, 1000000)) {
        return "the database (after '/') must be a number >= 0";
    }
    return NULL;
}

apr_status_t weblab_redis_target_parse(weblab_redis_target_t *t,
                                       const char **err, const char *target,
                                       apr_pool_t *p)
{
    const char *q = strchr(target, '?');
    const char *main = q ? apr_pstrmemdup(p, target, q - target) : target;

    memset(t, 0, sizeof(*t));
    t->port = DEFAULT_PORT;
    t->prefix = DEFAULT_PREFIX;
    t->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
    t->timeout = DEFAULT_TIMEOUT;
    *err = NULL;
    if (!strncmp(main, "redis://", 8)) {
        *err = parse_authority(t, main + 8, p);
    }
    else if (!strncmp(main, "unix:", 5)) {
        t->socket_path = main + 5;
        if (*t->socket_path != '/') {
            *err = "unix: needs an absolute socket path";
        }
    }
    else {
        *err = "expected redis://[[user]:password@]host[:port][/db] or"
               " unix:/path/to/redis.sock[?db=N]";
    }
    if (!*err && q) {
        *err = parse_query(t, q + 1, p);
    }
    if (!*err && t->user && !t->password) {
        *err = "a user needs a password";
    }
    return *err ? APR_EINVAL : APR_SUCCESS;
}

const char *weblab_redis_target_redacted(const char *target, apr_pool_t *p)
{
    char *s = apr_pstrdup(p, target);
    char *q = strchr(s, '?');
    char *at, *colon, *pw;
    const char *rest;

    if (!strncmp(s, "redis://", 8)) {
        char *slash = strchr(s + 8, '/');

        at = NULL;
        for (colon = s + 8; *colon && colon != slash && colon != q; colon++) {
            if (*colon == '@') {
                at = colon;
            }
        }
        colon = at ? memchr(s + 8, ':', at - (s + 8)) : NULL;
        if (colon) {
            s = apr_pstrcat(p, apr_pstrmemdup(p, s, colon + 1 - s), "***",
                            at, NULL);
            q = strchr(s, '?');
        }
    }
    if (q && (pw = strstr(q, "password="))) {
        rest = strchr(pw, '&');
        s = apr_pstrcat(p, apr_pstrmemdup(p, s, pw + 9 - s), "***",
                        rest ? rest : "", NULL);
    }
    return s;
}

/* ---- connections ---- */

static struct timeval tv_of(double seconds)
{
    struct timeval tv;

    tv.tv_sec = (long)seconds;
    tv.tv_usec = (long)((seconds - (double)tv.tv_sec) * 1e6);
    return tv;
}

/* Why a context failed (errno is read at once, before anything resets it). */
static apr_status_t ctx_status(const redisContext *ctx, int saved_errno)
{
    if (!ctx) {
        return APR_ENOMEM;
    }
    switch (ctx->err) {
    case REDIS_ERR_EOF:
        return APR_EOF;
    case REDIS_ERR_IO:
        if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK
            || saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS) {
            return APR_TIMEUP;
        }
        return saved_errno ? APR_FROM_OS_ERROR(saved_errno) : APR_EGENERAL;
    default:
        return APR_EGENERAL;
    }
}

/* An error answer: temporary states get APR_EAGAIN. */
static apr_status_t reply_status(const redisReply *reply)
{
    static const char *const temporary[] = {"LOADING", "BUSY", "TRYAGAIN",
                                            "MASTERDOWN", NULL};
    int i;

    for (i = 0; temporary[i]; i++) {
        if (!strncmp(reply->str, temporary[i], strlen(temporary[i]))) {
            return APR_EAGAIN;
        }
    }
    return APR_EGENERAL;
}

/* Run a setup command (AUTH, SELECT) on a new context. */
static apr_status_t setup_command(redisContext *ctx, int argc,
                                  const char **argv)
{
    redisReply *reply = redisCommandArgv(ctx, argc, argv, NULL);
    apr_status_t rv;

    if (!reply) {
        return ctx_status(ctx, errno);
    }
    rv = reply->type == REDIS_REPLY_ERROR ? APR_EACCES : APR_SUCCESS;
    freeReplyObject(reply);
    return rv;
}

static apr_status_t conn_construct(void **res, void *params, apr_pool_t *p)
{
    weblab_redis_t *r = params;
    const weblab_redis_target_t *t = &r->t;
    redis_conn_t *conn = calloc(1, sizeof(*conn));
    apr_status_t rv = APR_SUCCESS;

    if (!conn) {
        return APR_ENOMEM;
    }
    conn->gen = apr_atomic_read32(&r->gen);
    errno = 0;
    conn->ctx = t->host
        ? redisConnectWithTimeout(t->host, t->port, tv_of(t->connect_timeout))
        : redisConnectUnixWithTimeout(t->socket_path,
                                      tv_of(t->connect_timeout));
    if (!conn->ctx || conn->ctx->err) {
        rv = ctx_status(conn->ctx, errno);
    }
    if (rv == APR_SUCCESS
        && redisSetTimeout(conn->ctx, tv_of(t->timeout)) != REDIS_OK) {
        rv = ctx_status(conn->ctx, errno);
    }
    if (rv == APR_SUCCESS && t->password) {
        const char *argv[3] = {"AUTH", t->user ? t->user : t->password,
                               t->password};

        rv = setup_command(conn->ctx, t->user ? 3 : 2, argv);
    }
    if (rv == APR_SUCCESS && t->db) {
        char db[16];
        const char *argv[2] = {"SELECT", db};

        snprintf(db, sizeof(db), "%d", t->db);
        rv = setup_command(conn->ctx, 2, argv);
    }
    if (rv != APR_SUCCESS) {
        if (conn->ctx) {
            redisFree(conn->ctx);
        }
        free(conn);
        return rv;
    }
    *res = conn;
    return APR_SUCCESS;
}

static apr_status_t conn_destruct(void *res, void *params, apr_pool_t *p)
{
    redis_conn_t *conn = res;

    redisFree(conn->ctx);
    free(conn);
    return APR_SUCCESS;
}

apr_status_t weblab_redis_create(weblab_redis_t **out,
                                 const weblab_redis_target_t *t,
                                 int pool_max, apr_pool_t *p)
{
    weblab_redis_t *r = apr_pcalloc(p, sizeof(*r));
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t sha;
    apr_status_t rv;
    int i;

    r->t = *t;
    r->t.host = t->host ? apr_pstrdup(p, t->host) : NULL;
    r->t.socket_path = t->socket_path ? apr_pstrdup(p, t->socket_path) : NULL;
    r->t.user = t->user ? apr_pstrdup(p, t->user) : NULL;
    r->t.password = t->password ? apr_pstrdup(p, t->password) : NULL;
    r->t.prefix = apr_pstrdup(p, t->prefix);
    r->script_len = strlen(weblab_coord_redis_lua);
    apr_sha1_init(&sha);
    apr_sha1_update(&sha, weblab_coord_redis_lua,
                    (unsigned int)r->script_len);
    apr_sha1_final(digest, &sha);
    for (i = 0; i < APR_SHA1_DIGESTSIZE; i++) {
        sprintf(r->sha + 2 * i, "%02x", digest[i]);
    }
    if (pool_max < 1) {
        pool_max = 1;
    }
    rv = apr_reslist_create(&r->list, 0, pool_max, pool_max, 0,
                            conn_construct, conn_destruct, r, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* a thread waiting for a free connection waits no longer than a call */
    apr_reslist_timeout_set(r->list, (apr_interval_time_t)
                            ((t->connect_timeout + t->timeout)
                             * APR_USEC_PER_SEC));
    *out = r;
    return APR_SUCCESS;
}

/* A connection of the current generation. */
static apr_status_t acquire(weblab_redis_t *r, redis_conn_t **conn)
{
    for (;;) {
        void *res;
        apr_status_t rv = apr_reslist_acquire(r->list, &res);

        if (rv != APR_SUCCESS) {
            return rv;
        }
        *conn = res;
        if ((*conn)->gen == apr_atomic_read32(&r->gen)) {
            return APR_SUCCESS;
        }
        apr_reslist_invalidate(r->list, res);
    }
}

/* ---- arguments ---- */

void weblab_redis_args_init(weblab_redis_args_t *a)
{
    a->n = 0;
}

void weblab_redis_arg_str(weblab_redis_args_t *a, const char *s)
{
    if (a->n >= WEBLAB_REDIS_MAX_ARGS) {
        return;
    }
    a->v[a->n] = s ? s : "";
    a->len[a->n] = s ? strlen(s) : 1;   /* "\0": NULL */
    a->n++;
}

void weblab_redis_arg_num(weblab_redis_args_t *a, double d)
{
    if (a->n < WEBLAB_REDIS_MAX_ARGS) {
        snprintf(a->num[a->n], sizeof(a->num[a->n]), "%.17g", d);
        weblab_redis_arg_str(a, a->num[a->n]);
    }
}

void weblab_redis_arg_int(weblab_redis_args_t *a, apr_int64_t i)
{
    if (a->n < WEBLAB_REDIS_MAX_ARGS) {
        snprintf(a->num[a->n], sizeof(a->num[a->n]), "%" APR_INT64_T_FMT, i);
        weblab_redis_arg_str(a, a->num[a->n]);
    }
}

/* ---- running a step ---- */

apr_status_t weblab_redis_run(weblab_redis_t *r, const char *step,
                              const weblab_redis_args_t *a,
                              weblab_redis_reply_fn fn, void *baton)
{
    const char *argv[WEBLAB_REDIS_MAX_ARGS + 6];
    size_t len[WEBLAB_REDIS_MAX_ARGS + 6];
    int argc = 6, attempt, i;

    argv[2] = "0";              /* no KEYS: the script names its keys */
    argv[3] = r->t.prefix;
    argv[4] = step;
    for (i = 2; i < 5; i++) {
        len[i] = strlen(argv[i]);
    }
    len[5] = 1;
    for (i = 0; a && i < a->n; i++, argc++) {
        argv[argc] = a->v[i];
        len[argc] = a->len[i];
    }
    for (attempt = 0; attempt < 2; attempt++) {
        redis_conn_t *conn;
        redisReply *reply;
        apr_status_t rv = acquire(r, &conn);
        int reused, saved_errno;

        if (rv != APR_SUCCESS) {
            return rv;
        }
        reused = conn->used;
        /* a retry tells the script that the first try may have happened */
        argv[5] = attempt ? "1" : "0";
        argv[0] = "EVALSHA";
        argv[1] = r->sha;
        len[0] = 7;
        len[1] = strlen(r->sha);
        errno = 0;
        reply = redisCommandArgv(conn->ctx, argc, argv, len);
        if (reply && reply->type == REDIS_REPLY_ERROR
            && !strncmp(reply->str, "NOSCRIPT", 8)) {
            freeReplyObject(reply);
            argv[0] = "EVAL";
            argv[1] = weblab_coord_redis_lua;
            len[0] = 4;
            len[1] = r->script_len;
            reply = redisCommandArgv(conn->ctx, argc, argv, len);
        }
        saved_errno = errno;
        if (!reply) {
            rv = ctx_status(conn->ctx, saved_errno);
            apr_atomic_inc32(&r->gen);
            apr_reslist_invalidate(r->list, conn);
            if (reused && attempt == 0) {
                continue;       /* maybe only this old connection was dead */
            }
            return rv;
        }
        conn->used = 1;
        if (reply->type == REDIS_REPLY_ERROR) {
            rv = reply_status(reply);
        }
        else {
            rv = fn ? fn(reply, baton) : APR_SUCCESS;
        }
        freeReplyObject(reply);
        apr_reslist_release(r->list, conn);
        return rv;
    }
    return APR_EGENERAL;        /* not reached */
}
