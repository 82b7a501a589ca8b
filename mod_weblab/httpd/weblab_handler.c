/* The JSON endpoint (SetHandler weblab-json): read the body with a size
 * cap, collect the session/reservation hints from headers, cookies and the
 * query string, call the core, set the cookies the original sets (spec 1.4)
 * and write the answer. */
#include "weblab_glue.h"
#include "weblab_api.h"

#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_cookies.h>
#include <util_script.h>
#include <apr_strings.h>
#include <apr_date.h>

APLOG_USE_MODULE(weblab);

#define COOKIE_LONG (100L * 24 * 3600)  /* weblabsessionid: 100 days */
#define COOKIE_SHORT 3600L              /* loginweblabsessionid: 1 hour */

static const char *cookie_value(request_rec *r, const char *name)
{
    const char *v = NULL;

    if (ap_cookie_read(r, name, &v, 0) != APR_SUCCESS || !v || !*v) {
        return NULL;
    }
    return v;
}

/* Read the whole body; *too_big when it exceeds max (the rest is drained). */
static apr_status_t read_body(request_rec *r, apr_off_t max, char **body,
                              apr_size_t *len, int *too_big)
{
    apr_size_t cap = 8192, n = 0;
    char *buf;
    int rc;

    *too_big = 0;
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        return APR_EGENERAL;
    }
    if (r->remaining > max) {
        *too_big = 1;
        return ap_discard_request_body(r) == OK ? APR_SUCCESS : APR_EGENERAL;
    }
    buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            long got;

            if (n == cap) {
                char *bigger;

                if ((apr_off_t)cap >= max) {
                    *too_big = 1;
                    ap_discard_request_body(r);
                    return APR_SUCCESS;
                }
                cap *= 2;
                bigger = apr_palloc(r->pool, cap + 1);
                memcpy(bigger, buf, n);
                buf = bigger;
            }
            got = ap_get_client_block(r, buf + n, cap - n);
            if (got < 0) {
                return APR_EGENERAL;
            }
            if (got == 0) {
                break;
            }
            n += (apr_size_t)got;
            if ((apr_off_t)n > max) {
                *too_big = 1;
                ap_discard_request_body(r);
                return APR_SUCCESS;
            }
        }
    }
    buf[n] = '\0';
    *body = buf;
    *len = n;
    return APR_SUCCESS;
}

/* The path of WeblabServerURL ("/weblab/" by default): the cookie path. */
static const char *cookie_path(const weblab_server_conf_t *c, apr_pool_t *p)
{
    const char *u = c->core_cfg.server_url;
    const char *slash = strstr(u, "://");

    slash = slash ? strchr(slash + 3, '/') : NULL;
    return slash ? slash : "/weblab/";
}

static void set_cookies(request_rec *r, const weblab_server_conf_t *c,
                        const weblab_req_out_t *out)
{
    apr_time_t now = r->request_time;
    char d_long[APR_RFC822_DATE_LEN], d_short[APR_RFC822_DATE_LEN];
    const char *path = cookie_path(c, r->pool);

    apr_rfc822_date(d_long, now + apr_time_from_sec(COOKIE_LONG));
    apr_rfc822_date(d_short, now + apr_time_from_sec(COOKIE_SHORT));
    if (out->session_id) {
        apr_table_add(r->headers_out, "Set-Cookie", apr_psprintf(r->pool,
                      "weblabsessionid=%s.%s; Expires=%s; Path=%s",
                      out->session_id, out->route, d_long, path));
        apr_table_add(r->headers_out, "Set-Cookie", apr_psprintf(r->pool,
                      "loginweblabsessionid=%s.%s; Expires=%s; Path=%s",
                      out->session_id, out->route, d_short, path));
    }
    if (out->reservation_id && !strpbrk(out->reservation_id, ";, \r\n")) {
        /* a value with ';' cannot be a cookie value as is: quote it */
        apr_table_add(r->headers_out, "Set-Cookie", apr_psprintf(r->pool,
                      "weblab_reservation_id=%s; Expires=%s; Path=%s",
                      out->reservation_id, d_long, path));
    }
    else if (out->reservation_id && !strpbrk(out->reservation_id, "\"\r\n")) {
        apr_table_add(r->headers_out, "Set-Cookie", apr_psprintf(r->pool,
                      "weblab_reservation_id=\"%s\"; Expires=%s; Path=%s",
                      out->reservation_id, d_long, path));
    }
    else {
        apr_table_add(r->headers_out, "Set-Cookie",
                      "weblab_reservation_id=; Expires=Thu, 01-Jan-1970"
                      " 00:00:00 GMT; Path=/");
    }
}

static int methods_page(request_rec *r)
{
    const char *const *m;

    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rputs("<!DOCTYPE html>\n<html><head><title>WebLab-Deusto JSON API"
             "</title></head><body><h1>WebLab-Deusto JSON API</h1>\n"
             "<p>POST {\"method\": ..., \"params\": {...}} here.</p><ul>\n",
             r);
    for (m = weblab_api_method_names(); *m; m++) {
        ap_rprintf(r, "<li><code>%s</code></li>\n", *m);
    }
    ap_rputs("</ul></body></html>\n", r);
    return OK;
}

static int weblab_json_handler(request_rec *r)
{
    weblab_server_conf_t *c;
    weblab_req_in_t in;
    weblab_req_out_t out;
    apr_table_t *args = NULL;
    char *body = NULL;
    apr_size_t len = 0;
    int too_big;
    apr_status_t rv;

    if (!r->handler || strcmp(r->handler, WEBLAB_HANDLER) != 0) {
        return DECLINED;
    }
    c = ap_get_module_config(r->server->module_config, &weblab_module);
    if (r->method_number == M_GET) {
        return methods_page(r);
    }
    if (r->method_number != M_POST) {
        r->allowed = (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, "application/json");
    if (!c->core) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "weblab: not configured or databases unavailable in"
                      " this child");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    rv = read_body(r, c->max_body, &body, &len, &too_big);
    if (rv != APR_SUCCESS) {
        return HTTP_BAD_REQUEST;
    }
    if (too_big) {
        weblab_error_t err = {WEBLAB_ERR_WEBLAB, APR_EINVAL, NULL};

        err.message = apr_psprintf(r->pool, "Request too large (more than %"
                                   APR_OFF_T_FMT " bytes)", c->max_body);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "weblab: refused a request body over %" APR_OFF_T_FMT
                      " bytes", c->max_body);
        ap_rputs(weblab_api_error_body(&err, r->pool), r);
        return OK;
    }
    memset(&in, 0, sizeof(in));
    ap_args_to_table(r, &args);
    in.header_session_id = apr_table_get(r->headers_in, "X-WebLab-session-id");
    in.cookie_session_id = cookie_value(r, "weblabsessionid");
    in.query_session_id = args ? apr_table_get(args, "session_id") : NULL;
    in.header_reservation_id = apr_table_get(r->headers_in,
                                             "X-WebLab-reservation-id");
    in.query_reservation_id = args ? apr_table_get(args, "reservation_id")
                                   : NULL;
    in.cookie_reservation_id = cookie_value(r, "weblab_reservation_id");
    in.client_ip = apr_table_get(r->headers_in, "X-Forwarded-For");
    if (!in.client_ip) {
        in.client_ip = r->useragent_ip;
    }
    in.user_agent = apr_table_get(r->headers_in, "User-Agent");
    in.referer = apr_table_get(r->headers_in, "Referer");
    in.locale = apr_table_get(r->headers_in, "weblabdeusto-locale");
    in.indent = args && apr_table_get(args, "indent") != NULL;
    weblab_api_handle(c->core, body, len, &in, &out, r->pool);
    if (out.error && out.error->rv != APR_SUCCESS
        && out.error->code != WEBLAB_ERR_INVALID_CREDENTIALS
        && out.error->rv != APR_EINVAL) {
        apr_uint32_t more;

        /* a backend that is down fails every request: not one line each */
        if (weblab_core_log_due(c->core, &more)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, out.error->rv, r,
                          "weblab: %s failed: %s (%u similar failures not"
                          " logged in the last %d s)",
                          out.method ? out.method : "?", out.error->message,
                          more, WEBLAB_LOG_EVERY);
        }
    }
    set_cookies(r, c, &out);
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    ap_rputs(out.body, r);
    return OK;
}

void weblab_handler_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(weblab_json_handler, NULL, NULL, APR_HOOK_MIDDLE);
}
