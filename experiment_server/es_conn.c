/* Client connections; see es_conn.h.
 *
 * While an answer is pending, the connection is not read, so a client
 * cannot make us buffer answers (the output side of redis's client limits).
 * The input buffer never grows past the header limit plus the announced
 * body, which is capped before a byte of it is read. */
#include "es_conn.h"
#include "es_conf.h"
#include "es_http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <apr_strings.h>

#define INITIAL_BUFFER  8192
#define SHRINK_ABOVE    65536

struct weblab_es_conn_t {
    int fd;
    char *in;                   /* received, not yet consumed */
    apr_size_t in_len, in_cap;
    char *out;                  /* malloc'd rest of an answer not yet sent */
    apr_size_t out_len, out_off;
    int have_head;              /* req below is parsed for the input */
    weblab_es_http_req_t req;
    int close_after_write;
    int eof;                    /* the client will send no more */
    int lingering;              /* our side shut; draining until EOF */
    long long deadline;         /* ms (monotonic) when it is closed */
    weblab_es_conn_t *prev, *next;
};

typedef weblab_es_conn_t conn_t;

long long weblab_es_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_interest(weblab_es_conns_t *cs, conn_t *c, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = c };
    return epoll_ctl(cs->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(weblab_es_conns_t *cs, conn_t *c)
{
    epoll_ctl(cs->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev) {
        c->prev->next = c->next;
    }
    else {
        cs->head = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    cs->count--;
    free(c->in);
    free(c->out);
    free(c);
}

/* Our answer is out and no more will follow: stop sending and read what
 * the client still sends, so that closing does not reset the connection
 * before the client has read our answer (httpd's lingering close). */
static void conn_linger(weblab_es_conns_t *cs, conn_t *c)
{
    if (c->eof || shutdown(c->fd, SHUT_WR) != 0) {
        conn_close(cs, c);
        return;
    }
    c->lingering = 1;
    c->deadline = weblab_es_now_ms() + WEBLAB_ES_LINGER_MS;
    set_interest(cs, c, EPOLLIN);
}

/* Send an answer; what the socket does not take now waits for EPOLLOUT.
 * Returns 0, or -1 if the connection was closed. */
static int conn_send(weblab_es_conns_t *cs, conn_t *c, const char *buf,
                     apr_size_t len)
{
    ssize_t n;

    do {
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        conn_close(cs, c);
        return -1;
    }
    if (n < 0) {
        n = 0;
    }
    c->deadline = weblab_es_now_ms() + WEBLAB_ES_IDLE_TIMEOUT_MS;
    if ((apr_size_t)n == len) {
        if (c->close_after_write) {
            conn_linger(cs, c);
            return -1;
        }
        return 0;
    }
    c->out = malloc(len - (apr_size_t)n);
    if (!c->out) {
        conn_close(cs, c);
        return -1;
    }
    memcpy(c->out, buf + n, len - (apr_size_t)n);
    c->out_len = len - (apr_size_t)n;
    c->out_off = 0;
    set_interest(cs, c, EPOLLOUT);
    return 0;
}

/* Answer an HTTP-level error in text and close. */
static void conn_http_error(weblab_es_conns_t *cs, conn_t *c, int status,
                            const char *why)
{
    const char *body = apr_psprintf(cs->req_pool, "%d %s: %s\n", status,
                                    weblab_es_http_reason(status), why);
    apr_size_t len;
    char *resp = weblab_es_http_response(&len, status,
                                         "text/plain; charset=utf-8",
                                         status == 405 ? "Allow: POST\r\n"
                                                       : "",
                                         body, strlen(body), 0, 0,
                                         cs->req_pool);

    weblab_es_log(cs->log, WEBLAB_ES_LOG_INFO, APR_SUCCESS,
                  "HTTP %d answered: %s", status, why);
    c->close_after_write = 1;
    c->in_len = 0;
    conn_send(cs, c, resp, len);
}

/* Make room for at least want bytes of input. */
static int conn_reserve(conn_t *c, apr_size_t want)
{
    if (want <= c->in_cap) {
        return 0;
    }
    apr_size_t cap = c->in_cap ? c->in_cap * 2 : INITIAL_BUFFER;
    if (cap < want) {
        cap = want;
    }
    char *in = realloc(c->in, cap);
    if (!in) {
        return -1;
    }
    c->in = in;
    c->in_cap = cap;
    return 0;
}

/* Drop n consumed bytes from the front of the input. */
static void conn_consume(conn_t *c, apr_size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->have_head = 0;
    if (c->in_cap > SHRINK_ABOVE && c->in_len < INITIAL_BUFFER) {
        char *in = realloc(c->in, INITIAL_BUFFER);
        if (in) {
            c->in = in;
            c->in_cap = INITIAL_BUFFER;
        }
    }
}

/* Serve every complete request in the input, one answer at a time.
 * Returns -1 if the connection was closed. */
static int conn_process(weblab_es_conns_t *cs, conn_t *c)
{
    while (!c->out && !c->lingering) {
        apr_pool_clear(cs->req_pool);
        if (!c->have_head) {
            if (!c->in_len
                || !weblab_es_http_parse_head(&c->req, c->in, c->in_len,
                                              cs->auth)) {
                break;
            }
            if (c->req.status) {
                conn_http_error(cs, c, c->req.status, c->req.error);
                return -1;
            }
            c->have_head = 1;
            if (conn_reserve(c, c->req.head_len + c->req.content_length)) {
                conn_close(cs, c);
                return -1;
            }
            if (c->req.expect_continue
                && c->in_len < c->req.head_len + c->req.content_length) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL)
                    != (ssize_t)sizeof(cont) - 1) {
                    conn_close(cs, c);
                    return -1;
                }
            }
        }
        apr_size_t total = c->req.head_len + c->req.content_length;
        if (c->in_len < total) {
            break;
        }

        const char *xml;
        apr_size_t xml_len, len;
        weblab_es_rpc_handle(&xml, &xml_len, cs->rpc, c->in + c->req.head_len,
                             c->req.content_length, c->req.authorized,
                             cs->req_pool);
        int keep = c->req.keep_alive && !c->eof && !cs->stopping;
        char *resp = weblab_es_http_response(&len, 200, "text/xml", "", xml,
                                             xml_len, keep, c->req.http10,
                                             cs->req_pool);
        conn_consume(c, total);
        c->close_after_write = !keep;
        if (conn_send(cs, c, resp, len) < 0) {
            return -1;
        }
    }
    if (c->eof && !c->out && !c->lingering) {
        conn_close(cs, c);
        return -1;
    }
    return 0;
}

static void conn_on_readable(weblab_es_conns_t *cs, conn_t *c)
{
    char drain[4096];
    ssize_t n;

    if (c->lingering) {
        n = recv(c->fd, drain, sizeof(drain), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(cs, c);
        }
        return;
    }
    /* Room for the rest of the head, or for the announced body. */
    apr_size_t want = c->have_head
                      ? c->req.head_len + c->req.content_length
                      : c->in_len + 4096;
    if (!c->have_head && want > WEBLAB_ES_MAX_HEADER + 4096) {
        want = WEBLAB_ES_MAX_HEADER + 4096;
    }
    if (conn_reserve(c, want) || c->in_len >= c->in_cap) {
        conn_close(cs, c);
        return;
    }
    n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(cs, c);
        }
        return;
    }
    if (n == 0) {
        c->eof = 1;
        if (c->in_len == 0) {
            conn_close(cs, c);
            return;
        }
    }
    c->in_len += (apr_size_t)n;
    c->deadline = weblab_es_now_ms() + WEBLAB_ES_IDLE_TIMEOUT_MS;
    conn_process(cs, c);
}

static void conn_on_writable(weblab_es_conns_t *cs, conn_t *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                     MSG_NOSIGNAL);

    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            conn_close(cs, c);
        }
        return;
    }
    c->out_off += (apr_size_t)n;
    c->deadline = weblab_es_now_ms() + WEBLAB_ES_IDLE_TIMEOUT_MS;
    if (c->out_off < c->out_len) {
        return;
    }
    free(c->out);
    c->out = NULL;
    if (c->close_after_write) {
        conn_linger(cs, c);
        return;
    }
    set_interest(cs, c, EPOLLIN);
    conn_process(cs, c);   /* requests pipelined behind this one */
}

int weblab_es_conn_open(weblab_es_conns_t *cs, int fd)
{
    int one = 1;
    conn_t *c = calloc(1, sizeof(*c));
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

    /* Our answers are one write each; never hold one back for Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!c || epoll_ctl(cs->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free(c);
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->deadline = weblab_es_now_ms() + WEBLAB_ES_IDLE_TIMEOUT_MS;
    c->next = cs->head;
    if (cs->head) {
        cs->head->prev = c;
    }
    cs->head = c;
    cs->count++;
    return 0;
}

void weblab_es_conn_on_event(weblab_es_conns_t *cs, weblab_es_conn_t *c,
                             uint32_t events)
{
    if (c->out && (events & EPOLLOUT)) {
        conn_on_writable(cs, c);
    }
    else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        conn_on_readable(cs, c);
    }
}

void weblab_es_conns_sweep(weblab_es_conns_t *cs, long long now)
{
    conn_t *c = cs->head;

    while (c) {
        conn_t *next = c->next;
        if (now >= c->deadline) {
            conn_close(cs, c);
        }
        c = next;
    }
}

void weblab_es_conns_close_all(weblab_es_conns_t *cs)
{
    while (cs->head) {
        conn_close(cs, cs->head);
    }
}
