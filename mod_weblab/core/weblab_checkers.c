/* Health checkers (weblab_checkers.h): what each type checks, and one
 * libcurl multi loop that runs the checks of a pass at once, retrying a
 * failed try at once as the original's run_times() does. */
#include "weblab_checkers.h"

#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include <apr_errno.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

/* Checks in flight at once: each holds a socket, and a child's descriptor
 * limit is shared with the requests it serves. */
#define PARALLEL 64
/* A "web" check's answer is a small JSON document. */
#define WEB_BODY_MAX (64 * 1024)
#define ERRMSG_MAX 400

int weblab_checker_tries(const char *type)
{
    if (!type) {
        return 0;
    }
    if (!strcmp(type, "host")) {
        return 2;
    }
    return !strcmp(type, "webcam") || !strcmp(type, "web") ? 3 : 0;
}

/* ---- targets ---- */

static const char *host_problem(const char *s, apr_pool_t *p)
{
    const char *colon = strrchr(s, ':');
    const char *host_end = colon;
    const char *c;
    long port;
    char *end;

    if (!colon || colon == s || !colon[1]) {
        return apr_psprintf(p, "the host check '%s' must look like "
                            "HOST:PORT (192.0.2.7:80, [2001:db8::7]:80)", s);
    }
    if (*s == '[') {
        /* an IPv6 literal: [hex:digits] */
        if (colon[-1] != ']' || colon - s < 4) {
            return apr_psprintf(p, "the host check '%s' must look like "
                                "HOST:PORT (192.0.2.7:80, [2001:db8::7]:80)",
                                s);
        }
        for (c = s + 1; c < colon - 1; c++) {
            if (!apr_isxdigit(*c) && *c != ':' && *c != '.') {
                return apr_psprintf(p, "the host check '%s' has a character "
                                    "that is not allowed in an IPv6 address",
                                    s);
            }
        }
    }
    else {
        if (host_end - s > 253) {
            return "the host name of a host check is longer than 253 "
                   "characters";
        }
        for (c = s; c < host_end; c++) {
            if (!apr_isalnum(*c) && *c != '.' && *c != '-' && *c != '_') {
                return apr_psprintf(p, "the host check '%s' has a character "
                                    "that is not allowed in a host name", s);
            }
        }
    }
    for (c = colon + 1; *c; c++) {
        if (!apr_isdigit(*c)) {
            return apr_psprintf(p, "the port of the host check '%s' is not a "
                                "number", s);
        }
    }
    port = strtol(colon + 1, &end, 10);
    if (port < 1 || port > 65535 || end - colon > 6) {
        return apr_psprintf(p, "the port of the host check '%s' must be 1 to "
                            "65535", s);
    }
    return NULL;
}

static const char *url_problem(const char *type, const char *s, apr_pool_t *p)
{
    size_t i;

    if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) {
        return apr_psprintf(p, "the %s check '%s' must start with http:// or "
                            "https://", type, s);
    }
    for (i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch <= 0x20 || ch >= 0x7f || strchr("\"'`\\<>{}|^", ch)) {
            return apr_psprintf(p, "the %s check '%s' contains a character "
                                "that is not allowed in a URL", type, s);
        }
    }
    return NULL;
}

const char *weblab_checker_problem(const weblab_checker_t *c, apr_pool_t *p)
{
    if (!c->type || !weblab_checker_tries(c->type)) {
        return apr_psprintf(p, "unknown checker type '%s' (host, webcam or "
                            "web)", c->type ? c->type : "");
    }
    if (!c->target || !*c->target) {
        return apr_psprintf(p, "the %s check has no target", c->type);
    }
    if (strlen(c->target) > WEBLAB_CHECKER_TARGET_MAX) {
        return apr_psprintf(p, "the target of a %s check is longer than %d "
                            "characters", c->type, WEBLAB_CHECKER_TARGET_MAX);
    }
    if (!(c->timeout > 0 && c->timeout <= WEBLAB_CHECKER_TIMEOUT_MAX)) {
        return apr_psprintf(p, "the timeout of a check must be more than 0 "
                            "and at most %.0f seconds",
                            WEBLAB_CHECKER_TIMEOUT_MAX);
    }
    return !strcmp(c->type, "host") ? host_problem(c->target, p)
                                    : url_problem(c->type, c->target, p);
}

/* The password of a URL's user part ("http://u:PASSWORD@host/"), or NULL;
 * *at and *len locate it in url. */
static int url_password(const char *url, size_t *at, size_t *len)
{
    const char *auth = strstr(url, "://");
    const char *end, *arob, *colon;

    if (!auth) {
        return 0;
    }
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    arob = memchr(auth, '@', end - auth);
    while (arob) {                      /* the last '@' ends the user part */
        const char *more = memchr(arob + 1, '@', end - arob - 1);

        if (!more) {
            break;
        }
        arob = more;
    }
    colon = arob ? memchr(auth, ':', arob - auth) : NULL;
    if (!colon || colon + 1 == arob) {
        return 0;
    }
    *at = colon + 1 - url;
    *len = arob - colon - 1;
    return 1;
}

const char *weblab_checker_shown_target(const weblab_checker_t *c,
                                        apr_pool_t *p)
{
    size_t at, len;

    if (!c->target) {
        return "";
    }
    if (!url_password(c->target, &at, &len)) {
        return c->target;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, c->target, at), "***",
                       c->target + at + len, NULL);
}

const char *weblab_checker_describe(const weblab_checker_t *c, apr_pool_t *p)
{
    return apr_pstrcat(p, c->type ? c->type : "?", " ",
                       weblab_checker_shown_target(c, p), NULL);
}

int weblab_checker_same(const weblab_checker_t *a, const weblab_checker_t *b)
{
    return a->type && b->type && a->target && b->target
           && !strcmp(a->type, b->type) && !strcmp(a->target, b->target)
           && a->timeout == b->timeout;
}

/* ---- running them ---- */

typedef struct job_t {
    const weblab_checker_t *c;
    int tries;                  /* made so far */
    int max_tries;
    int webcam, web;
    CURL *h;
    int added;                  /* h is in the multi handle */
    char errbuf[CURL_ERROR_SIZE];
    char *body;                 /* web: the answer (malloc) */
    size_t len, cap;
    int too_big;
    int headers_in;             /* webcam: the body began, we stopped */
    int finished;
} job_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *baton)
{
    job_t *j = baton;
    size_t n = size * nmemb;

    if (!j->web) {
        /* the headers are all in: the image itself is not needed (and an
         * MJPEG stream never ends) */
        j->headers_in = 1;
        return 0;
    }
    if (n > WEB_BODY_MAX - j->len) {
        j->too_big = 1;
        return 0;
    }
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 4096;
        char *grown;

        while (cap < j->len + n + 1) {
            cap *= 2;
        }
        grown = realloc(j->body, cap);
        if (!grown) {
            return 0;
        }
        j->body = grown;
        j->cap = cap;
    }
    memcpy(j->body + j->len, data, n);
    j->len += n;
    j->body[j->len] = '\0';
    return n;
}

static long to_ms(double s)
{
    return s > 0 ? (long)(s * 1000.0 + 0.5) : 1;
}

static apr_status_t job_prepare(job_t *j, double connect_timeout,
                                apr_pool_t *p)
{
    double connect = connect_timeout < j->c->timeout ? connect_timeout
                                                     : j->c->timeout;
    CURL *h = curl_easy_init();

    if (!h) {
        return APR_ENOMEM;
    }
    j->h = h;
    curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    /* threaded httpd: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, to_ms(connect));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, to_ms(j->c->timeout));
    /* every check proves a new connection, never a pooled one */
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_weblab health check");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (!j->webcam && !j->web) {
        /* TCP connect only; curl gives us its resolver and timeouts.
         * Never through a proxy: that would test the proxy. */
        curl_easy_setopt(h, CURLOPT_URL,
                         apr_pstrcat(p, "http://", j->c->target, "/", NULL));
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
    }
    else {
        /* the original's urlopen follows redirects */
        curl_easy_setopt(h, CURLOPT_URL, j->c->target);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    }
    return APR_SUCCESS;
}

/* Start (another) try of j. */
static apr_status_t job_try(job_t *j, CURLM *m)
{
    j->tries++;
    j->errbuf[0] = '\0';
    j->len = 0;
    j->too_big = 0;
    j->headers_in = 0;
    if (curl_multi_add_handle(m, j->h) != CURLM_OK) {
        return APR_EGENERAL;
    }
    j->added = 1;
    return APR_SUCCESS;
}

static int is_image_type(const char *ct, apr_pool_t *p)
{
    char *media = apr_pstrndup(p, ct, strcspn(ct, ";"));
    char *c;

    apr_collapse_spaces(media, media);
    for (c = media; *c; c++) {
        *c = apr_tolower(*c);
    }
    return !strcmp(media, "image/jpeg") || !strcmp(media, "image/jpg")
           || !strcmp(media, "image/png");
}

/* NULL when the try passed, else why not. */
static const char *judge(job_t *j, CURLcode cc, apr_pool_t *p)
{
    long code = 0;
    char *ct = NULL;
    json_error_t jerr;
    json_t *o, *success, *msg;
    const char *why = NULL;

    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && j->headers_in)) {
        if (j->too_big) {
            return apr_psprintf(p, "answer larger than %d KiB",
                                WEB_BODY_MAX / 1024);
        }
        if (cc == CURLE_COULDNT_CONNECT) {
            long os_errno = 0;
            char buf[120];

            /* curl's own words here are "Couldn't connect to server" */
            curl_easy_getinfo(j->h, CURLINFO_OS_ERRNO, &os_errno);
            if (os_errno) {
                return apr_pstrcat(p, "cannot connect: ",
                                   apr_strerror((apr_status_t)os_errno, buf,
                                                sizeof(buf)), NULL);
            }
        }
        return *j->errbuf ? apr_pstrdup(p, j->errbuf) : curl_easy_strerror(cc);
    }
    if (!j->webcam && !j->web) {
        return NULL;                    /* connected */
    }
    curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        return apr_psprintf(p, "HTTP status %ld", code);
    }
    if (j->webcam) {
        curl_easy_getinfo(j->h, CURLINFO_CONTENT_TYPE, &ct);
        if (!ct) {
            return "no Content-Type in the answer; an image/jpeg, image/jpg "
                   "or image/png was expected";
        }
        return is_image_type(ct, p)
            ? NULL
            : apr_psprintf(p, "Content-Type %s, not image/jpeg, image/jpg "
                           "or image/png", ct);
    }
    o = json_loadb(j->body ? j->body : "", j->len, 0, &jerr);
    if (!json_is_object(o)) {
        why = "the answer is not a JSON object";
    }
    else if (!json_is_true(success = json_object_get(o, "success"))) {
        msg = json_object_get(o, "message");
        why = apr_pstrcat(p, "\"success\" is not true",
                          json_is_string(msg) ? ": " : "",
                          json_is_string(msg) ? json_string_value(msg) : "",
                          NULL);
    }
    json_decref(o);
    return why;
}

/* One line for the instance's error list: bounded, no control character,
 * no password. */
static const char *verdict(const job_t *j, const char *why, apr_pool_t *p)
{
    char *line = apr_psprintf(p, "%s: %s", weblab_checker_describe(j->c, p),
                              why);
    size_t at, len;
    char *c;

    if (j->tries > 1) {
        line = apr_psprintf(p, "%s (%d tries)", line, j->tries);
    }
    if (j->c->target && url_password(j->c->target, &at, &len) && len) {
        const char *pw = apr_pstrmemdup(p, j->c->target + at, len);
        char *hit;

        while ((hit = strstr(line, pw)) != NULL) {
            line = apr_pstrcat(p, apr_pstrmemdup(p, line, hit - line), "***",
                               hit + len, NULL);
        }
    }
    for (c = line; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = ' ';
        }
    }
    if (strlen(line) > ERRMSG_MAX) {
        strcpy(line + ERRMSG_MAX - 3, "...");
    }
    return line;
}

static void job_release(job_t *j, CURLM *m)
{
    if (j->h) {
        if (j->added) {
            curl_multi_remove_handle(m, j->h);
        }
        curl_easy_cleanup(j->h);
    }
    j->h = NULL;
    j->added = 0;
    free(j->body);
    j->body = NULL;
}

apr_status_t weblab_checkers_run(const char ***errors,
                                 const apr_array_header_t *checks,
                                 double connect_timeout, apr_pool_t *p)
{
    int n = checks ? checks->nelts : 0;
    const char **out = apr_pcalloc(p, sizeof(*out) * (n + 1));
    job_t *jobs = apr_pcalloc(p, sizeof(*jobs) * (n + 1));
    double longest = 0;
    apr_time_t deadline;
    apr_status_t rv = APR_SUCCESS;
    int next = 0, active = 0, i;
    CURLM *m;

    *errors = NULL;
    if (n == 0) {
        *errors = out;
        return APR_SUCCESS;
    }
    if (connect_timeout <= 0) {
        connect_timeout = WEBLAB_CHECKER_TIMEOUT;
    }
    m = curl_multi_init();
    if (!m) {
        return APR_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        job_t *j = &jobs[i];
        const char *why;

        j->c = &APR_ARRAY_IDX(checks, i, weblab_checker_t);
        if ((why = weblab_checker_problem(j->c, p)) != NULL) {
            out[i] = verdict(j, why, p);
            j->finished = 1;
            continue;
        }
        j->max_tries = weblab_checker_tries(j->c->type);
        j->webcam = !strcmp(j->c->type, "webcam");
        j->web = !strcmp(j->c->type, "web");
        if (j->max_tries * j->c->timeout > longest) {
            longest = j->max_tries * j->c->timeout;
        }
    }
    /* curl enforces every timeout; this only guards against a bug there */
    deadline = apr_time_now()
               + apr_time_from_sec(((n + PARALLEL - 1) / PARALLEL) * longest
                                   + 5);
    for (;;) {
        CURLMsg *msg;
        CURLMcode mc;
        int running = 0, left, progress = 0;

        while (active < PARALLEL && next < n) {
            job_t *j = &jobs[next++];

            if (j->finished) {
                continue;               /* refused by weblab_checker_problem */
            }
            if (job_prepare(j, connect_timeout, p) != APR_SUCCESS
                || job_try(j, m) != APR_SUCCESS) {
                out[j - jobs] = verdict(j, "could not start the check", p);
                j->finished = 1;
                job_release(j, m);
                continue;
            }
            active++;
        }
        if (!active) {
            break;
        }
        if (apr_time_now() > deadline) {
            for (i = 0; i < n; i++) {
                if (jobs[i].h && !jobs[i].finished) {
                    out[i] = verdict(&jobs[i], "no verdict in time", p);
                    jobs[i].finished = 1;
                }
            }
            break;
        }
        mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            rv = APR_EGENERAL;
            break;
        }
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            job_t *j = NULL;
            const char *why;

            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            progress = 1;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            why = judge(j, msg->data.result, p);
            curl_multi_remove_handle(m, j->h);
            j->added = 0;
            if (why && j->tries < j->max_tries
                && job_try(j, m) == APR_SUCCESS) {
                continue;
            }
            out[j - jobs] = why ? verdict(j, why, p) : NULL;
            j->finished = 1;
            job_release(j, m);
            active--;
        }
        if (!progress) {
            /* returns early on activity or when a curl timer is due */
#if LIBCURL_VERSION_NUM >= 0x074200
            curl_multi_poll(m, NULL, 0, running ? 1000 : 50, NULL);
#else
            curl_multi_wait(m, NULL, 0, running ? 1000 : 50, NULL);
#endif
        }
    }
    for (i = 0; i < n; i++) {
        job_release(&jobs[i], m);
    }
    curl_multi_cleanup(m);
    if (rv == APR_SUCCESS) {
        *errors = out;
    }
    return rv;
}
