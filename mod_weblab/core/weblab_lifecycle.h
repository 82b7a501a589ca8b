/* The lab-facing steps of a reservation's life, shared by the API (which
 * runs them inline when the student polls, so nobody waits for a timer) and
 * the periodic upkeep (which runs them for everyone else): start the lab,
 * ask should_finish, expire, dispose. Each step claims its reservation in
 * the coordination backend first, so that two threads, children or cores
 * never run the same step twice; lab calls happen outside transactions. */
#ifndef WEBLAB_LIFECYCLE_H
#define WEBLAB_LIFECYCLE_H

#include "weblab_core.h"

/* Finish reasons stored in the uses log (UserUsedExperiment.finish_reason). */
#define WEBLAB_FINISH_USER 0        /* finished_experiment, logout */
#define WEBLAB_FINISH_TIMEOUT 1     /* poll timeout */
#define WEBLAB_FINISH_KICKED 2      /* time over, lab asked to finish */
#define WEBLAB_FINISH_BATCH 3       /* batch lab */

/* Start the lab of an assigned reservation (unless another thread holds the
 * claim): get_api if needed, start_experiment, then confirm, or mark the
 * instance broken and re-queue the reservation at the head. */
apr_status_t weblab_lifecycle_start(weblab_core_t *core,
                                    const weblab_reservation_t *r,
                                    apr_pool_t *p);

/* Dispose a finishing reservation whose time has come (ask_again honoured;
 * the slot is released only when the lab says finished). */
apr_status_t weblab_lifecycle_dispose(weblab_core_t *core,
                                      const weblab_reservation_t *r,
                                      apr_pool_t *p);

/* Ask the lab should_finish and act on the answer. */
apr_status_t weblab_lifecycle_should_finish(weblab_core_t *core,
                                            const weblab_reservation_t *r,
                                            apr_pool_t *p);

/* End reservation id now (idempotent) and dispose it at once when it had a
 * lab. */
apr_status_t weblab_lifecycle_finish(weblab_core_t *core, const char *id,
                                     int reason, apr_pool_t *p);

/* If r is past its poll timeout or its time, finish it: *expired = 1. */
apr_status_t weblab_lifecycle_expire(int *expired, weblab_core_t *core,
                                     const weblab_reservation_t *r,
                                     double now, apr_pool_t *p);

/* The lab of r stopped answering (a transport failure, not a fault): take
 * its instance out of service and put r back at the head of the queue, to
 * be served by another instance (spec 3.6, beyond the original, which ended
 * the reservation). */
apr_status_t weblab_lifecycle_lab_failed(weblab_core_t *core,
                                         const weblab_reservation_t *r,
                                         apr_status_t why, const char *errmsg,
                                         apr_pool_t *p);

/* Non-zero when rv means the lab is unreachable (refused, timed out),
 * rather than that it answered with an error. */
int weblab_lifecycle_is_transport_failure(apr_status_t rv);

/* Where and how to call the lab of instance d (api: the resolved one, or
 * NULL for d's own); an XML-RPC instance's auth_password is its ?auth=
 * token. */
void weblab_lifecycle_lab_target(weblab_lab_target_t *t,
                                 const weblab_instance_def_t *d,
                                 const char *api);

/* Seconds left of a confirmed reservation (may be negative). */
double weblab_lifecycle_remaining(const weblab_reservation_t *r, double now);

/* Make the configured instances (data database) the scheduled ones. */
apr_status_t weblab_lifecycle_sync(weblab_core_t *core, apr_pool_t *p);

/* One pass of periodic work: sync instances, expiry, pending starts and
 * disposals, should_finish questions, re-testing broken instances, cleanup.
 * Safe when several processes run it at once. */
apr_status_t weblab_lifecycle_upkeep(weblab_core_t *core, apr_pool_t *p);

#endif
