#include "weblab_schema.h"

apr_status_t weblab_schema_create_data(weblab_sql_t *c)
{
    return weblab_sql_exec_script(c, weblab_schema_data_sql);
}

apr_status_t weblab_schema_create_coordination(weblab_sql_t *c)
{
    return weblab_sql_exec_script(c, weblab_schema_coordination_sql);
}
