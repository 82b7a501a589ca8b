/* The WebLab-Deusto JSON API (spec 1.2-1.5): one entry point that takes the
 * request body and the request context the web server extracted, and gives
 * back the JSON answer plus the cookies to set. httpd-free: the glue in
 * mod_weblab/httpd/ and the unit tests both call it. */
#ifndef WEBLAB_API_H
#define WEBLAB_API_H

#include <apr_pools.h>
#include "weblab_core.h"
#include "weblab_error.h"

/* What the web server saw; any field may be NULL. */
typedef struct weblab_req_in_t {
    const char *header_session_id;      /* X-WebLab-session-id */
    const char *cookie_session_id;      /* weblabsessionid (with .route) */
    const char *query_session_id;       /* ?session_id= */
    const char *header_reservation_id;  /* X-WebLab-reservation-id */
    const char *query_reservation_id;   /* ?reservation_id= */
    const char *cookie_reservation_id;  /* weblab_reservation_id */
    const char *client_ip;              /* X-Forwarded-For or peer */
    const char *user_agent;
    const char *referer;
    const char *locale;                 /* weblabdeusto-locale */
    int indent;                         /* ?indent= given */
} weblab_req_in_t;

/* What to send back. body is always set (HTTP 200, application/json). */
typedef struct weblab_req_out_t {
    const char *body;
    const char *session_id;     /* set weblabsessionid/loginweblabsessionid
                                 * to "<session_id>.<route>" when not NULL */
    const char *reservation_id; /* weblab_reservation_id value; NULL = delete */
    const char *route;
    const char *method;         /* for logs; NULL if unknown */
    const weblab_error_t *error;/* the error answered, for logs; NULL if ok */
} weblab_req_out_t;

/* Handle one JSON-RPC call. Never fails: every problem becomes an error
 * answer in out->body. Everything is allocated from p (r->pool). */
void weblab_api_handle(weblab_core_t *core, const char *body, apr_size_t len,
                       const weblab_req_in_t *in, weblab_req_out_t *out,
                       apr_pool_t *p);

/* The error answer for a request the glue refused before parsing it (e.g.
 * an oversize body), in the protocol's own form; from p. */
const char *weblab_api_error_body(const weblab_error_t *err, apr_pool_t *p);

/* The method names, NULL-terminated (for the GET page). */
const char *const *weblab_api_method_names(void);

#endif
