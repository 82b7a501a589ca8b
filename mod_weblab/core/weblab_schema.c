#include "weblab_schema.h"

#include <apr_strings.h>

apr_status_t weblab_schema_create_data(weblab_sql_t *c)
{
    return weblab_sql_exec_script(c, weblab_schema_data_sql);
}

/* The tables added to the data schema since its first release: one of
 * them missing means an older schema, which the script (all IF NOT EXISTS)
 * brings up to date. */
static const char *const added_tables[] = {
    "ExperimentInstanceChecker",
    "AsyncCommandStatus",
    NULL
};

apr_status_t weblab_schema_upgrade_data(int *upgraded, weblab_sql_t *c,
                                        apr_pool_t *p)
{
    weblab_sql_rows_t *rows;
    apr_pool_t *scratch;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (upgraded) {
        *upgraded = 0;
    }
    if (apr_pool_create(&scratch, p) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    for (i = 0; added_tables[i] && rv == APR_SUCCESS; i++) {
        rv = weblab_sql_select(c, &rows, scratch, apr_pstrcat(scratch,
                               "SELECT COUNT(*) FROM ", added_tables[i],
                               NULL), NULL);
    }
    apr_pool_destroy(scratch);
    if (rv == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    rv = weblab_sql_exec_script(c, weblab_schema_data_sql);
    if (rv == APR_SUCCESS && upgraded) {
        *upgraded = 1;
    }
    return rv;
}

apr_status_t weblab_schema_create_coordination(weblab_sql_t *c)
{
    return weblab_sql_exec_script(c, weblab_schema_coordination_sql);
}
