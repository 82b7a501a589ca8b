/* Coordination: user sessions, reservations, queues and slots, shared by
 * every httpd child of every core. One interface, backends behind it (SQL:
 * weblab_coord_sql.c; Redis: weblab_coord_redis*.c). Every step that
 * touches several rows is atomic in the backend; a slot is never given to two
 * reservations.
 *
 * Reservation states (docs/INTERNALS.md has the state machine):
 *   waiting     in the queue of its resource type
 *   assigned    holds a slot; the lab has not confirmed yet
 *               (client sees waiting_confirmation)
 *   confirmed   the lab started; time runs           (confirmed)
 *   finishing   finished; dispose not completed yet  (post_reservation, finished=false)
 *   done        disposed; slot released             (post_reservation, finished=true)
 *   cancelled   ended before any lab started         (NoCurrentReservation)
 * Long-running lab calls are never made inside a backend transaction: a
 * caller first "claims" the step (start or dispose) for a bounded time, calls
 * the lab, then reports the result. */
#ifndef WEBLAB_COORD_H
#define WEBLAB_COORD_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "weblab_db.h"

typedef struct weblab_session_t {
    const char *id;
    apr_int64_t user_id;
    const char *login;
    const char *full_name;
    const char *role;
    double created;
    double latest_access;
    const char *reservation_id;     /* latest reservation uuid or NULL */
} weblab_session_t;

typedef struct weblab_reservation_t {
    const char *id;                 /* uuid */
    const char *session_id;
    apr_int64_t user_id;
    const char *login;
    const char *full_name;
    const char *exp_name;
    const char *cat_name;
    const char *resource_type;
    int priority;
    double time_allowed;
    int init_in_accounting;
    const char *permanent_id;
    const char *state;              /* see above */
    double created;
    double latest_poll;
    const char *client_initial_data;
    const char *request_info;       /* JSON object as a string */
    const char *route;
    const char *origin;
    /* queue (state waiting) */
    int position;                   /* 0-based rank in its queue */
    int working_instances;          /* of its resource type */
    /* slot and lab (from assigned on) */
    const char *instance_name;      /* "exp1" */
    const char *resource_instance;  /* "dummy1" */
    apr_int64_t slot_id;            /* resource id held, 0 when none */
    weblab_instance_def_t lab;      /* where the lab is (url, api, auth) */
    const char *api;                /* resolved api, NULL until started */
    double claim_until;             /* 0 when nobody holds a claim */
    double timestamp_before;        /* slot assigned */
    double timestamp_after;         /* lab confirmed */
    const char *lab_session_id;
    const char *initial_configuration;
    double next_should_finish;      /* 0: do not ask */
    double next_dispose;
    int finish_reason;
    int finished;
    const char *initial_data;
    const char *end_data;
    double post_expires;
    apr_int64_t use_id;
} weblab_reservation_t;

/* What the periodic upkeep has to do now (arrays of const char * uuids). */
typedef struct weblab_coord_due_t {
    apr_array_header_t *expired;        /* poll timeout or time over */
    apr_array_header_t *to_start;       /* assigned, unclaimed */
    apr_array_header_t *to_dispose;     /* finishing, next_dispose passed */
    apr_array_header_t *should_finish;  /* confirmed, next_should_finish passed */
    apr_array_header_t *broken;         /* lab instances to re-test: weblab_coord_broken_t */
} weblab_coord_due_t;

typedef struct weblab_coord_broken_t {
    apr_int64_t resource_id;
    weblab_instance_def_t lab;
} weblab_coord_broken_t;

/* One lab instance as the scheduler sees it (status pages, health checks). */
typedef struct weblab_coord_instance_t {
    apr_int64_t resource_id;
    weblab_instance_def_t lab;
    int working;
    const char *error;              /* why it is broken, NULL when working */
    const char *holder;             /* reservation uuid holding it, or NULL */
    const char *holder_login;
    const char *holder_state;
    int queue_length;               /* waiting reservations of its type */
} weblab_coord_instance_t;

/* A waiting reservation as the administrators' live view shows it
 * (weblab_coord_queue): no id that would let a reader act on it. */
typedef struct weblab_coord_waiting_t {
    const char *resource_type;
    int position;                   /* 0-based rank in its queue */
    const char *login;
    const char *full_name;
    const char *exp_name;
    const char *cat_name;
    int priority;
    double created;
} weblab_coord_waiting_t;

typedef struct weblab_coord_t weblab_coord_t;

/* Backend vtable. ctx is the backend's per-process state. Optional entries
 * may be NULL (the wrappers then return APR_ENOTIMPL). */
typedef struct weblab_coord_backend_t {
    const char *name;
    apr_status_t (*session_create)(void *ctx, const weblab_session_t *s);
    apr_status_t (*session_get)(void *ctx, weblab_session_t **s,
                                const char *id, double now, double timeout,
                                apr_pool_t *p);
    apr_status_t (*session_delete)(void *ctx, const char *id);
    apr_status_t (*reserve)(void *ctx, const weblab_reservation_t *r,
                            double now);
    apr_status_t (*get)(void *ctx, weblab_reservation_t **r, const char *id,
                        apr_pool_t *p);
    apr_status_t (*touch)(void *ctx, const char *id, double now);
    apr_status_t (*claim)(void *ctx, int *claimed, const char *id,
                          const char *state, double now, double until);
    apr_status_t (*set_api)(void *ctx, const char *id, const char *api);
    apr_status_t (*confirm)(void *ctx, int *confirmed, const char *id,
                            const char *lab_session_id, const char *api,
                            const char *initial_configuration,
                            const char *initial_data, apr_int64_t use_id,
                            double now, double next_should_finish);
    apr_status_t (*start_failed)(void *ctx, const char *id,
                                 const char *error, double now);
    apr_status_t (*finish)(void *ctx, const char *id, int reason, double now);
    apr_status_t (*dispose_later)(void *ctx, const char *id, double at);
    apr_status_t (*disposed)(void *ctx, const char *id, const char *end_data,
                             double now, double post_expiry, int broken,
                             const char *error);
    apr_status_t (*set_should_finish)(void *ctx, const char *id, double at);
    apr_status_t (*due)(void *ctx, weblab_coord_due_t *due, double now,
                        double poll_time, apr_pool_t *p);
    apr_status_t (*sync_instances)(void *ctx, const apr_array_header_t *defs,
                                   apr_pool_t *p);
    apr_status_t (*instance_checked)(void *ctx, apr_int64_t resource_id,
                                     int ok, const char *error, double next);
    apr_status_t (*cleanup)(void *ctx, double now, double session_timeout);
    apr_status_t (*instances)(void *ctx, apr_array_header_t **out,
                              apr_pool_t *p);
    apr_status_t (*instance_failed)(void *ctx, apr_int64_t resource_id,
                                    const char *error, double now,
                                    double next_check);
    apr_status_t (*queue)(void *ctx, apr_array_header_t **out,
                          apr_pool_t *p);
} weblab_coord_backend_t;

struct weblab_coord_t {
    const weblab_coord_backend_t *be;
    void *ctx;
};

/* Open the backend named engine with its target: "sql" with a weblab_sql
 * DSN, "redis" with redis://[[user]:password@]host[:port][/db][?opts] or
 * unix:/path/to/socket[?db=N&opts] (weblab_coord_redis.h). lock: writer
 * lock for SQL (may be NULL; ignored by redis). Allocated from p; a Redis
 * backend connects on first use, so it opens while Redis is down. */
apr_status_t weblab_coord_open(weblab_coord_t **coord, const char *engine,
                               const char *target, int pool_max,
                               const struct weblab_sql_lock_t *lock,
                               apr_pool_t *p);

/* NULL when target suits engine, else why not (never quoting a password;
 * from p). */
const char *weblab_coord_check_target(const char *engine, const char *target,
                                      apr_pool_t *p);

/* target fit for a log line: a Redis password becomes "***". */
const char *weblab_coord_target_redacted(const char *engine,
                                         const char *target, apr_pool_t *p);

/* Thin wrappers, same meaning as the vtable entries. */
apr_status_t weblab_coord_session_create(weblab_coord_t *c,
                                         const weblab_session_t *s);
/* *s = NULL when unknown or expired (an expired one is deleted). */
apr_status_t weblab_coord_session_get(weblab_coord_t *c, weblab_session_t **s,
                                      const char *id, double now,
                                      double timeout, apr_pool_t *p);
apr_status_t weblab_coord_session_delete(weblab_coord_t *c, const char *id);
/* Insert r (state ignored: it starts waiting) and run the queue, one
 * transaction; also records r->id as the session's latest reservation. */
apr_status_t weblab_coord_reserve(weblab_coord_t *c,
                                  const weblab_reservation_t *r, double now);
/* *r = NULL when unknown. Position and working_instances filled when
 * waiting; lab filled from assigned on. */
apr_status_t weblab_coord_get(weblab_coord_t *c, weblab_reservation_t **r,
                              const char *id, apr_pool_t *p);
/* Record a poll (latest_poll = now). */
apr_status_t weblab_coord_touch(weblab_coord_t *c, const char *id, double now);
/* Claim the pending step of a reservation in state for lab calls until
 * "until"; *claimed = 1 if this caller got it. */
apr_status_t weblab_coord_claim(weblab_coord_t *c, int *claimed,
                                const char *id, const char *state, double now,
                                double until);
/* Cache the api discovered for the reservation's lab instance. */
apr_status_t weblab_coord_set_api(weblab_coord_t *c, const char *id,
                                  const char *api);
/* The lab started: assigned -> confirmed. *confirmed = 0 when the
 * reservation was finished meanwhile (the caller must dispose the lab). */
apr_status_t weblab_coord_confirm(weblab_coord_t *c, int *confirmed,
                                  const char *id, const char *lab_session_id,
                                  const char *api,
                                  const char *initial_configuration,
                                  const char *initial_data,
                                  apr_int64_t use_id, double now,
                                  double next_should_finish);
/* The lab failed to start: its instance is marked broken (error kept), the
 * slot released and the reservation re-queued at the head (priority -1). */
apr_status_t weblab_coord_start_failed(weblab_coord_t *c, const char *id,
                                       const char *error, double now);
/* End a reservation (idempotent): waiting/assigned-unstarted -> cancelled
 * (slot released), confirmed -> finishing with next_dispose = now. */
apr_status_t weblab_coord_finish(weblab_coord_t *c, const char *id,
                                 int reason, double now);
/* Dispose said ask again at "at"; drops the claim. */
apr_status_t weblab_coord_dispose_later(weblab_coord_t *c, const char *id,
                                        double at);
/* Dispose completed: finishing -> done, slot released (instance marked
 * broken first when broken != 0), queue run. */
apr_status_t weblab_coord_disposed(weblab_coord_t *c, const char *id,
                                   const char *end_data, double now,
                                   double post_expiry, int broken,
                                   const char *error);
/* Next should_finish question at "at" (0: never). */
apr_status_t weblab_coord_set_should_finish(weblab_coord_t *c, const char *id,
                                            double at);
/* Collect what the upkeep must do now. */
apr_status_t weblab_coord_due(weblab_coord_t *c, weblab_coord_due_t *due,
                              double now, double poll_time, apr_pool_t *p);
/* Make the configured lab instances (weblab_instance_def_t) the ones
 * scheduled: new ones added (working), changed ones updated, removed ones
 * no longer assigned (a holder keeps its slot until disposed). */
apr_status_t weblab_coord_sync_instances(weblab_coord_t *c,
                                         const apr_array_header_t *defs,
                                         apr_pool_t *p);
/* Result of re-testing a broken instance: ok puts it back in service. */
apr_status_t weblab_coord_instance_checked(weblab_coord_t *c,
                                           apr_int64_t resource_id, int ok,
                                           const char *error, double next);
/* Drop expired sessions, post-reservation data past its expiry and old
 * cancelled reservations. */
apr_status_t weblab_coord_cleanup(weblab_coord_t *c, double now,
                                  double session_timeout);

/* Every lab instance (array of weblab_coord_instance_t), sorted by
 * resource type and name. */
apr_status_t weblab_coord_instances(weblab_coord_t *c,
                                    apr_array_header_t **out, apr_pool_t *p);

/* A lab instance stopped answering: it leaves service (error kept, next
 * re-test at next_check) and the reservation holding it, if assigned or
 * confirmed, goes back to the head of its queue (priority -1) keeping its
 * use, to be served by another instance. A finishing holder is left to its
 * dispose (which will fail and release the slot). */
apr_status_t weblab_coord_instance_failed(weblab_coord_t *c,
                                          apr_int64_t resource_id,
                                          const char *error, double now,
                                          double next_check);

/* Every waiting reservation (array of weblab_coord_waiting_t, from p) in
 * queue order: by resource type, then priority, then arrival. Read-only;
 * for the administrators' live view. */
apr_status_t weblab_coord_queue(weblab_coord_t *c, apr_array_header_t **out,
                                apr_pool_t *p);

#endif
