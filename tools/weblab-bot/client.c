/* The bot's HTTP/JSON client: one curl multi handle drives every student's
 * requests from a single thread. Students sleep on a timer heap, not in
 * threads, so 10 000 of them cost a heap entry each.
 *
 * Connections: curl keeps a shared cache of keep-alive connections (one per
 * request in flight at most). We cap the requests in flight ourselves and
 * queue the rest in a FIFO before they reach curl, so that curl never
 * queues internally and its timers measure the server, not the cap. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot.h"

#define BOT_MAX_ANSWER (1L << 20)       /* bytes; larger is an error */

typedef struct bot_timer_t {
    double when;
    unsigned long seq;          /* FIFO among equal times */
    bot_timer_fn *fn;
    void *baton;
} bot_timer_t;

struct bot_client_t {
    CURLM *multi;
    char *base;
    struct curl_slist *headers;
    double call_timeout;
    long max_inflight, inflight;
    bot_request_t *active;      /* handed to curl */
    bot_request_t *pending_head, *pending_tail;
    long npending;
    bot_timer_t *heap;
    long nheap, capheap;
    unsigned long seq;
    long completed;
};

double bot_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

bot_client_t *bot_client_create(const char *base_url, int max_inflight,
                                 double call_timeout)
{
    bot_client_t *c = calloc(1, sizeof(*c));
    if (!c || !(c->multi = curl_multi_init())
        || !(c->base = strdup(base_url))) {
        bot_error("cannot create the HTTP client (out of memory?)");
        if (c && c->multi) {
            curl_multi_cleanup(c->multi);
        }
        free(c);
        return NULL;
    }
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, "Accept: application/json");
    c->headers = curl_slist_append(c->headers, "Expect:");
    c->call_timeout = call_timeout;
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    bot_client_set_max_inflight(c, max_inflight);
    return c;
}

void bot_client_set_max_inflight(bot_client_t *c, int max_inflight)
{
    c->max_inflight = max_inflight;
    /* keep as many idle connections as may be busy at once */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)max_inflight);
}

void bot_client_destroy(bot_client_t *c)
{
    if (!c) {
        return;
    }
    bot_client_abort(c);
    curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    free(c->heap);
    free(c->base);
    free(c);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *baton)
{
    bot_request_t *req = baton;
    size_t len = size * nmemb;
    if (req->resp_len + len + 1 > (size_t)BOT_MAX_ANSWER) {
        req->resp_too_big = 1;
        return 0;
    }
    if (req->resp_len + len + 1 > req->resp_cap) {
        size_t cap = req->resp_cap ? req->resp_cap : 1024;
        char *n;
        while (cap < req->resp_len + len + 1) {
            cap *= 2;
        }
        if (!(n = realloc(req->resp, cap))) {
            return 0;
        }
        req->resp = n;
        req->resp_cap = cap;
    }
    req->t_last_data = bot_now();
    memcpy(req->resp + req->resp_len, data, len);
    req->resp_len += len;
    req->resp[req->resp_len] = '\0';
    return len;
}

/* Called by curl once the connection is ready, just before the request
 * is sent (and again if curl retries on a fresh connection). */
static int on_prereq(void *baton, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    bot_request_t *req = baton;
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    req->t_written = bot_now();
    return CURL_PREREQFUNC_OK;
}

int bot_request_init(bot_client_t *c, bot_request_t *req)
{
    memset(req, 0, sizeof(*req));
    if (!(req->easy = curl_easy_init())) {
        return -1;
    }
    curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
    curl_easy_setopt(req->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(req->easy, CURLOPT_WRITEDATA, req);
    /* the cookie engine of this handle is the student's cookie jar */
    curl_easy_setopt(req->easy, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(req->easy, CURLOPT_NOSIGNAL, 1L);
    /* like the original's bot, never through a proxy */
    curl_easy_setopt(req->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(req->easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(req->easy, CURLOPT_USERAGENT,
                     "weblab-bot/" PACKAGE_VERSION);
    curl_easy_setopt(req->easy, CURLOPT_HTTP_VERSION,
                     (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(req->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS,
                     (long)(c->call_timeout * 1000));
    curl_easy_setopt(req->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(fmin(c->call_timeout, 10.0) * 1000));
    /* answers are small; a smaller receive buffer keeps 10 000 handles
     * cheap */
    curl_easy_setopt(req->easy, CURLOPT_BUFFERSIZE, 4096L);
    curl_easy_setopt(req->easy, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(req->easy, CURLOPT_PREREQDATA, req);
    return 0;
}

void bot_request_cleanup(bot_request_t *req)
{
    if (req->easy) {
        curl_easy_cleanup(req->easy);
    }
    free(req->body);
    free(req->resp);
    memset(req, 0, sizeof(*req));
}

static void start_request(bot_client_t *c, bot_request_t *req)
{
    req->prev_active = NULL;
    req->next_active = c->active;
    if (c->active) {
        c->active->prev_active = req;
    }
    c->active = req;
    c->inflight++;
    curl_multi_add_handle(c->multi, req->easy);
}

static void unlink_active(bot_client_t *c, bot_request_t *req)
{
    if (req->prev_active) {
        req->prev_active->next_active = req->next_active;
    }
    else {
        c->active = req->next_active;
    }
    if (req->next_active) {
        req->next_active->prev_active = req->prev_active;
    }
    req->prev_active = req->next_active = NULL;
    c->inflight--;
    curl_multi_remove_handle(c->multi, req->easy);
}

void bot_client_call(bot_client_t *c, bot_request_t *req, const char *path,
                     const char *method, json_t *params, bot_reply_fn *fn,
                     void *baton)
{
    json_t *doc = json_pack("{s:s, s:o}", "method", method, "params",
                            params ? params : json_object());
    size_t blen = strlen(c->base) + strlen(path) + 1;
    char *url = malloc(blen);

    free(req->body);
    req->body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    snprintf(url, blen, "%s%s", c->base, path);
    curl_easy_setopt(req->easy, CURLOPT_URL, url);   /* curl copies it */
    free(url);
    curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE,
                     (long)(req->body ? strlen(req->body) : 0));
    req->resp_len = 0;
    req->resp_too_big = 0;
    req->t_written = req->t_last_data = 0;
    req->fn = fn;
    req->baton = baton;
    req->busy = 1;
    req->next_pending = NULL;
    if (c->inflight < c->max_inflight) {
        start_request(c, req);
    }
    else {
        if (c->pending_tail) {
            c->pending_tail->next_pending = req;
        }
        else {
            c->pending_head = req;
        }
        c->pending_tail = req;
        c->npending++;
    }
}

/* ---- timers: a binary min-heap on (when, seq) ---- */

static int timer_before(const bot_timer_t *a, const bot_timer_t *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

void bot_client_timer(bot_client_t *c, double when, bot_timer_fn *fn,
                      void *baton)
{
    long i;
    if (c->nheap == c->capheap) {
        long cap = c->capheap ? 2 * c->capheap : 256;
        bot_timer_t *n = realloc(c->heap, cap * sizeof(*n));
        if (!n) {
            bot_error("out of memory (timers)");
            abort();
        }
        c->heap = n;
        c->capheap = cap;
    }
    i = c->nheap++;
    c->heap[i] = (bot_timer_t){ when, c->seq++, fn, baton };
    while (i > 0 && timer_before(&c->heap[i], &c->heap[(i - 1) / 2])) {
        bot_timer_t t = c->heap[i];
        c->heap[i] = c->heap[(i - 1) / 2];
        c->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static bot_timer_t timer_pop(bot_client_t *c)
{
    bot_timer_t top = c->heap[0];
    long i = 0;
    c->heap[0] = c->heap[--c->nheap];
    for (;;) {
        long l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->nheap && timer_before(&c->heap[l], &c->heap[m])) {
            m = l;
        }
        if (r < c->nheap && timer_before(&c->heap[r], &c->heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        bot_timer_t t = c->heap[i];
        c->heap[i] = c->heap[m];
        c->heap[m] = t;
        i = m;
    }
    return top;
}

/* ---- the loop ---- */

static void start_pending(bot_client_t *c)
{
    while (c->pending_head && c->inflight < c->max_inflight) {
        bot_request_t *req = c->pending_head;
        c->pending_head = req->next_pending;
        if (!c->pending_head) {
            c->pending_tail = NULL;
        }
        req->next_pending = NULL;
        c->npending--;
        start_request(c, req);
    }
}

static void finish_request(bot_client_t *c, CURL *easy, CURLcode code)
{
    bot_request_t *req = NULL;
    bot_reply_t reply;
    curl_off_t total = 0, pretransfer = 0;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
    memset(&reply, 0, sizeof(reply));
    reply.code = code;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply.http_status);
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    reply.seconds = total / 1e6;
    /* Our own stamps, taken inside curl's callbacks: just before the
     * request is sent, and at its last answer bytes. curl's PRETRANSFER is
     * stamped after the send, so a client descheduled between send() and
     * that stamp (2 CPUs shared with the server) would hide server time. */
    reply.since_written = (total - pretransfer) / 1e6;
    if (req->t_written > 0 && req->t_last_data >= req->t_written) {
        reply.since_written = req->t_last_data - req->t_written;
    }
    if (code != CURLE_OK) {
        reply.curl_error = req->resp_too_big ? "answer larger than 1 MB"
                                             : curl_easy_strerror(code);
    }
    reply.body = req->resp ? req->resp : "";
    reply.len = req->resp_len;
    unlink_active(c, req);
    c->completed++;
    req->busy = 0;
    free(req->body);
    req->body = NULL;
    /* the callback may start the student's next call on req */
    req->fn(req->baton, &reply);
}

void bot_client_step(bot_client_t *c, double max_wait)
{
    double now = bot_now(), wait;
    int running = 0, left;
    CURLMsg *msg;

    while (c->nheap > 0 && c->heap[0].when <= now) {
        bot_timer_t t = timer_pop(c);
        t.fn(t.baton);
    }
    start_pending(c);
    curl_multi_perform(c->multi, &running);
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg == CURLMSG_DONE) {
            finish_request(c, msg->easy_handle, msg->data.result);
        }
    }
    start_pending(c);

    wait = max_wait;
    if (c->nheap > 0) {
        wait = fmin(wait, c->heap[0].when - bot_now());
    }
    if (wait > 0) {
        /* curl shortens the wait to its own next timeout (new handles: 0) */
        curl_multi_poll(c->multi, NULL, 0, (int)ceil(wait * 1000), NULL);
    }
}

long bot_client_abort(bot_client_t *c)
{
    long n = c->inflight + c->npending;
    while (c->active) {
        bot_request_t *req = c->active;
        unlink_active(c, req);
        req->busy = 0;
    }
    while (c->pending_head) {
        c->pending_head->busy = 0;
        c->pending_head = c->pending_head->next_pending;
    }
    c->pending_tail = NULL;
    c->npending = 0;
    c->nheap = 0;
    return n;
}

long bot_client_inflight(const bot_client_t *c)
{
    return c->inflight;
}

long bot_client_pending(const bot_client_t *c)
{
    return c->npending;
}

long bot_client_timers(const bot_client_t *c)
{
    return c->nheap;
}

long bot_client_completed(const bot_client_t *c)
{
    return c->completed;
}

char *bot_request_cookie(bot_request_t *req, const char *name)
{
    struct curl_slist *list = NULL, *it;
    char *value = NULL;
    if (curl_easy_getinfo(req->easy, CURLINFO_COOKIELIST, &list) != CURLE_OK) {
        return NULL;
    }
    /* Netscape format: host, subdomains, path, secure, expiry, name, value */
    for (it = list; it && !value; it = it->next) {
        const char *f = it->data;
        int field;
        for (field = 0; field < 5 && f; field++) {
            f = strchr(f, '\t');
            f = f ? f + 1 : NULL;
        }
        if (f) {
            const char *tab = strchr(f, '\t');
            if (tab && (size_t)(tab - f) == strlen(name)
                && !strncmp(f, name, tab - f)) {
                value = strdup(tab + 1);
            }
        }
    }
    curl_slist_free_all(list);
    return value;
}
