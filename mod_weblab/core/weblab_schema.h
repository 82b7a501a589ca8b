/* The SQL schemas (conf/schema-*.sql compiled in) and the helpers that
 * create them. */
#ifndef WEBLAB_SCHEMA_H
#define WEBLAB_SCHEMA_H

#include "weblab_sql.h"

extern const char weblab_schema_data_sql[];
extern const char weblab_schema_coordination_sql[];

/* Create the data tables (idempotent: CREATE ... IF NOT EXISTS). */
apr_status_t weblab_schema_create_data(weblab_sql_t *c);

/* Create the coordination tables (idempotent). */
apr_status_t weblab_schema_create_coordination(weblab_sql_t *c);

#endif
