/* The health checkers applied to lab instances, for the health pass of the
 * upkeep (weblab_lifecycle.c): which checkers each instance has (read from
 * the data database at every pass, so a change made with weblab-admin
 * counts at the next one), each distinct checker run once, all at once
 * (weblab_checkers.h). */
#ifndef WEBLAB_HEALTH_H
#define WEBLAB_HEALTH_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "weblab_core.h"

/* For each lab of labs (array of const weblab_instance_def_t *),
 * (*errors)[i] is NULL when every checker of that instance passed (or it
 * has none), else why not: the failed checkers' messages joined by "; "
 * (from p). When the checkers cannot be read or run, that is logged (at
 * most once per WEBLAB_LOG_EVERY seconds) and every lab passes: test_me
 * still guards them. *errors is never NULL. */
void weblab_health_check_labs(const char ***errors, weblab_core_t *core,
                              const apr_array_header_t *labs, apr_pool_t *p);

#endif
