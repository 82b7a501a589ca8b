/* Health checkers: optional checks of what a lab instance needs besides
 * its experiment server, run with test_me by the health pass (spec 3.6,
 * the original's IsUpAndRunningHandlers):
 *   host    HostIsUpAndRunningHandler: HOST:PORT accepts a TCP
 *           connection; 2 tries
 *   webcam  WebcamIsUpAndRunningHandler: GET URL answers 2xx with the
 *           Content-Type image/jpeg, image/jpg or image/png; 3 tries
 *   web     WebHandler: GET URL answers 2xx with a JSON object whose
 *           "success" is true; 3 tries
 * A failing checker takes the instance out of service as a failing test_me
 * does. Every try has a connect and a total timeout, and all the checks of
 * a pass run at once (libcurl multi), so dead hosts cost one pass the
 * tries of the slowest check, not the sum of them all.
 *
 * httpd-free and database-free (weblab_health.c applies checkers to lab
 * instances). Strings live in the caller's pools. */
#ifndef WEBLAB_CHECKERS_H
#define WEBLAB_CHECKERS_H

#include <apr_pools.h>
#include <apr_tables.h>

/* One check. type is "host", "webcam" or "web"; anything else (say, a
 * hand-edited row) fails with a message saying so. */
typedef struct weblab_checker_t {
    const char *type;
    const char *target;         /* host: "HOST:PORT" or "[v6]:PORT";
                                 * webcam and web: an http(s) URL */
    double timeout;             /* seconds per try, connecting included */
} weblab_checker_t;

/* The original's webcam timeout: the default of every type. */
#define WEBLAB_CHECKER_TIMEOUT 10.0
#define WEBLAB_CHECKER_TIMEOUT_MAX 60.0
/* Longest target stored (the database column). */
#define WEBLAB_CHECKER_TARGET_MAX 600

/* Tries of a type (2 for host, 3 for the others); 0 when unknown. */
int weblab_checker_tries(const char *type);

/* NULL when c is acceptable, else one line saying why (from p): a known
 * type, a target of its form (HOST:PORT with a port of 1..65535, or an
 * http:// or https:// URL without spaces or quotes, at most
 * WEBLAB_CHECKER_TARGET_MAX characters) and a timeout in
 * (0, WEBLAB_CHECKER_TIMEOUT_MAX]. */
const char *weblab_checker_problem(const weblab_checker_t *c, apr_pool_t *p);

/* The target fit for people other than the sysadmin (status pages, error
 * messages): a password in a URL's user part becomes "***". From p. */
const char *weblab_checker_shown_target(const weblab_checker_t *c,
                                        apr_pool_t *p);

/* "webcam http://cam1/image.jpg" (target shown as above), from p. */
const char *weblab_checker_describe(const weblab_checker_t *c, apr_pool_t *p);

/* Non-zero when a and b are the same check (type, target, timeout). */
int weblab_checker_same(const weblab_checker_t *a, const weblab_checker_t *b);

/* Run checks (array of weblab_checker_t) all at once, each until one try
 * passes or its tries are spent. (*errors)[i] is NULL when checks[i]
 * passed, else one line (from p, at most 400 characters, no password):
 * "<type> <target>: <why> (<n> tries)". A check that fails
 * weblab_checker_problem fails with that message, untried.
 * connect_timeout (> 0) caps the connect phase of every try. The call
 * returns within the longest tries x timeout (per 64 checks: more wait
 * their turn). Returns APR_ENOMEM or APR_EGENERAL (and *errors = NULL)
 * only when the checks could not be run at all. curl_global_init must
 * have been called by the process. */
apr_status_t weblab_checkers_run(const char ***errors,
                                 const apr_array_header_t *checks,
                                 double connect_timeout, apr_pool_t *p);

#endif
