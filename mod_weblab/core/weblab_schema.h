/* The SQL schemas (conf/schema-*.sql compiled in) and the helpers that
 * create them. */
#ifndef WEBLAB_SCHEMA_H
#define WEBLAB_SCHEMA_H

#include "weblab_sql.h"

extern const char weblab_schema_data_sql[];
extern const char weblab_schema_coordination_sql[];

/* Create the data tables (idempotent: CREATE ... IF NOT EXISTS). */
apr_status_t weblab_schema_create_data(weblab_sql_t *c);

/* Bring a data database made by an older version up to date: when a table
 * added since is missing, the (idempotent) data script runs again, which
 * creates what is missing and leaves the rest alone; only a read when
 * nothing is missing. There is no version number: every change so far
 * adds tables. *upgraded (may be NULL) says whether the script ran; p is
 * for scratch. */
apr_status_t weblab_schema_upgrade_data(int *upgraded, weblab_sql_t *c,
                                        apr_pool_t *p);

/* Create the coordination tables (idempotent). */
apr_status_t weblab_schema_create_coordination(weblab_sql_t *c);

#endif
