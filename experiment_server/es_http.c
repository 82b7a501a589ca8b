/* HTTP request heads and responses; see es_http.h. */
#include "config.h"
#include "es_http.h"
#include "es_conf.h"

#include <string.h>
#include <strings.h>
#include <time.h>
#include <apr_strings.h>

/* A view into the request buffer (not NUL-terminated). */
typedef struct span_t {
    const char *s;
    apr_size_t n;
} span_t;

static int span_eq_nocase(span_t a, const char *lit)
{
    apr_size_t n = strlen(lit);
    return a.n == n && strncasecmp(a.s, lit, n) == 0;
}

static span_t span_trim(span_t a)
{
    while (a.n && (a.s[0] == ' ' || a.s[0] == '\t')) {
        a.s++;
        a.n--;
    }
    while (a.n && (a.s[a.n - 1] == ' ' || a.s[a.n - 1] == '\t')) {
        a.n--;
    }
    return a;
}

/* Compare without leaking, through timing, how much of the token matched. */
static int token_eq(const char *given, apr_size_t n, const char *token)
{
    apr_size_t tn = strlen(token);
    unsigned char diff = (unsigned char)(n != tn);

    for (apr_size_t i = 0; i < n; i++) {
        diff |= (unsigned char)given[i]
                ^ (unsigned char)token[tn ? i % tn : 0];
    }
    return diff == 0 && tn > 0;
}

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

/* Does the query string carry auth=<token> (percent-decoded)? */
static int query_has_token(span_t q, const char *token)
{
    char val[WEBLAB_ES_MAX_HEADER];

    while (q.n) {
        const char *amp = memchr(q.s, '&', q.n);
        span_t pair = { q.s, amp ? (apr_size_t)(amp - q.s) : q.n };

        q.s += pair.n + (amp ? 1 : 0);
        q.n -= pair.n + (amp ? 1 : 0);
        if (pair.n < 5 || strncmp(pair.s, "auth=", 5) != 0) {
            continue;
        }
        apr_size_t vn = 0;
        for (apr_size_t i = 5; i < pair.n && vn < sizeof(val); i++) {
            char c = pair.s[i];
            if (c == '%' && i + 2 < pair.n && hexval(pair.s[i + 1]) >= 0
                && hexval(pair.s[i + 2]) >= 0) {
                c = (char)(hexval(pair.s[i + 1]) * 16 + hexval(pair.s[i + 2]));
                i += 2;
            }
            else if (c == '+') {
                c = ' ';
            }
            val[vn++] = c;
        }
        if (token_eq(val, vn, token)) {
            return 1;
        }
    }
    return 0;
}

/* Where the head ends: just past the empty line. 0 if not there yet.
 * Bare LF line ends are tolerated, as RFC 7230 3.5 allows. */
static apr_size_t head_end(const char *buf, apr_size_t len)
{
    for (apr_size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        if (buf[i + 1] == '\n') {
            return i + 2;
        }
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
            return i + 3;
        }
    }
    return 0;
}

static int fail(weblab_es_http_req_t *req, int status, const char *why)
{
    req->status = status;
    req->error = why;
    req->keep_alive = 0;
    return 1;
}

/* "POST <target> HTTP/1.x" */
static int parse_request_line(weblab_es_http_req_t *req, span_t line,
                              span_t *query)
{
    const char *sp1 = memchr(line.s, ' ', line.n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', line.n - (sp1 + 1 - line.s))
                          : NULL;
    if (!sp1 || !sp2 || sp2 == sp1 + 1) {
        return fail(req, 400, "malformed request line");
    }
    span_t method = { line.s, (apr_size_t)(sp1 - line.s) };
    span_t target = { sp1 + 1, (apr_size_t)(sp2 - sp1 - 1) };
    span_t version = { sp2 + 1, line.n - (apr_size_t)(sp2 + 1 - line.s) };

    if (version.n != 8 || strncmp(version.s, "HTTP/1.", 7) != 0) {
        return version.n >= 5 && strncmp(version.s, "HTTP/", 5) == 0
               ? fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are supported")
               : fail(req, 400, "malformed request line");
    }
    if (version.s[7] == '0') {
        req->http10 = 1;
        req->keep_alive = 0;
    }
    else if (version.s[7] == '1') {
        req->keep_alive = 1;
    }
    else {
        return fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    const char *qm = memchr(target.s, '?', target.n);
    if (qm) {
        query->s = qm + 1;
        query->n = target.n - (apr_size_t)(qm + 1 - target.s);
    }
    if (!(method.n == 4 && strncmp(method.s, "POST", 4) == 0)) {
        return fail(req, 405, "XML-RPC calls are POST requests");
    }
    return 0;
}

static int parse_content_length(weblab_es_http_req_t *req, span_t v,
                                 int *seen)
{
    apr_size_t n = 0;

    if (!v.n) {
        return fail(req, 400, "invalid Content-Length");
    }
    for (apr_size_t i = 0; i < v.n; i++) {
        if (v.s[i] < '0' || v.s[i] > '9') {
            return fail(req, 400, "invalid Content-Length");
        }
        if (n > WEBLAB_ES_MAX_BODY) {
            break;      /* too large already; avoid overflow */
        }
        n = n * 10 + (apr_size_t)(v.s[i] - '0');
    }
    if (*seen && n != req->content_length) {
        return fail(req, 400, "conflicting Content-Length headers");
    }
    *seen = 1;
    req->content_length = n;
    return 0;
}

int weblab_es_http_parse_head(weblab_es_http_req_t *req, const char *buf,
                              apr_size_t len, const char *auth)
{
    span_t query = { NULL, 0 };
    int have_length = 0, chunked = 0, header_auth = 0;
    apr_size_t end, pos;

    memset(req, 0, sizeof(*req));
    /* Clients may send empty lines between requests (RFC 7230 3.5). */
    for (pos = 0; pos < len && (buf[pos] == '\r' || buf[pos] == '\n'); pos++)
        ;
    end = head_end(buf + pos, len - pos > WEBLAB_ES_MAX_HEADER
                              ? WEBLAB_ES_MAX_HEADER : len - pos);
    if (!end) {
        if (len - pos < WEBLAB_ES_MAX_HEADER) {
            return 0;
        }
        return fail(req, 431, "request header too large");
    }
    req->head_len = pos + end;
    buf += pos;

    span_t rest = { buf, end };
    int first = 1;
    while (rest.n) {
        const char *nl = memchr(rest.s, '\n', rest.n);
        span_t line = { rest.s, (apr_size_t)(nl - rest.s) };
        rest.s = nl + 1;
        rest.n -= line.n + 1;
        if (line.n && line.s[line.n - 1] == '\r') {
            line.n--;
        }
        if (!line.n) {
            break;      /* the empty line ending the head */
        }
        if (first) {
            first = 0;
            if (parse_request_line(req, line, &query)) {
                return 1;
            }
            continue;
        }
        if (line.s[0] == ' ' || line.s[0] == '\t') {
            return fail(req, 400, "folded header lines are not accepted");
        }
        const char *colon = memchr(line.s, ':', line.n);
        if (!colon || colon == line.s) {
            return fail(req, 400, "malformed header line");
        }
        span_t name = { line.s, (apr_size_t)(colon - line.s) };
        span_t value = span_trim((span_t){ colon + 1,
                                           line.n - name.n - 1 });
        if (span_eq_nocase(name, "Content-Length")) {
            if (parse_content_length(req, value, &have_length)) {
                return 1;
            }
        }
        else if (span_eq_nocase(name, "Transfer-Encoding")) {
            chunked = 1;
        }
        else if (span_eq_nocase(name, "Connection")) {
            /* a token list; "close" and "keep-alive" are what matter */
            for (apr_size_t i = 0; i + 5 <= value.n; i++) {
                if (strncasecmp(value.s + i, "close", 5) == 0) {
                    req->keep_alive = 0;
                    break;
                }
                if (i + 10 <= value.n
                    && strncasecmp(value.s + i, "keep-alive", 10) == 0) {
                    req->keep_alive = 1;
                }
            }
        }
        else if (span_eq_nocase(name, "Expect")) {
            if (!span_eq_nocase(value, "100-continue")) {
                return fail(req, 417, "only Expect: 100-continue is known");
            }
            req->expect_continue = 1;
        }
        else if (span_eq_nocase(name, "X-WebLab-Auth") && auth) {
            header_auth |= token_eq(value.s, value.n, auth);
        }
    }
    if (chunked) {
        return fail(req, 411, "chunked request bodies are not accepted; "
                    "send a Content-Length");
    }
    if (!have_length) {
        return fail(req, 411, "a Content-Length is required");
    }
    if (req->content_length > WEBLAB_ES_MAX_BODY) {
        return fail(req, 413, "request body larger than 16 MiB");
    }
    req->authorized = !auth || header_auth
                      || (query.s && query_has_token(query, auth));
    return 1;
}

const char *weblab_es_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}

char *weblab_es_http_response(apr_size_t *len, int status,
                              const char *content_type,
                              const char *extra_headers, const char *body,
                              apr_size_t body_len, int keep_alive, int http10,
                              apr_pool_t *p)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    const char *conn = "";

    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!keep_alive) {
        conn = "Connection: close\r\n";
    }
    else if (http10) {
        conn = "Connection: keep-alive\r\n";
    }
    char *head = apr_psprintf(p, "HTTP/1.1 %d %s\r\n"
                              "Server: mod_weblab-experiment_server/%s\r\n"
                              "Date: %s\r\n"
                              "Content-Type: %s\r\n"
                              "Content-Length: %" APR_SIZE_T_FMT "\r\n"
                              "%s%s\r\n",
                              status, weblab_es_http_reason(status),
                              PACKAGE_VERSION, date, content_type, body_len,
                              extra_headers, conn);
    apr_size_t hlen = strlen(head);
    char *out = apr_palloc(p, hlen + body_len + 1);

    memcpy(out, head, hlen);
    if (body_len) {
        memcpy(out + hlen, body, body_len);
    }
    out[hlen + body_len] = '\0';
    *len = hlen + body_len;
    return out;
}
