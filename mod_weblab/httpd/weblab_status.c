/* mod_weblab's part of Apache's server-status page: every lab instance
 * (working or broken and why, who holds it, its queue length), read from
 * the coordination backend (the same view in every core). */
#include "weblab_glue.h"

#include <http_protocol.h>
#include <mod_status.h>
#include <apr_optional_hooks.h>
#include <apr_strings.h>

static int weblab_status_hook(request_rec *r, int flags)
{
    weblab_server_conf_t *c = ap_get_module_config(r->server->module_config,
                                                   &weblab_module);
    apr_array_header_t *all = NULL;
    int i;

    if (!c || !c->core
        || weblab_coord_instances(c->core->coord, &all, r->pool)
           != APR_SUCCESS) {
        return OK;
    }
    if (flags & AP_STATUS_SHORT) {
        int working = 0;

        for (i = 0; i < all->nelts; i++) {
            working += APR_ARRAY_IDX(all, i, weblab_coord_instance_t).working;
        }
        ap_rprintf(r, "WeblabInstances: %d\nWeblabInstancesWorking: %d\n",
                   all->nelts, working);
        return OK;
    }
    ap_rputs("<hr>\n<h2>mod_weblab lab instances</h2>\n<table border=\"1\">"
             "<tr><th>experiment</th><th>instance</th><th>resource</th>"
             "<th>state</th><th>held by</th><th>queue</th></tr>\n", r);
    for (i = 0; i < all->nelts; i++) {
        const weblab_coord_instance_t *in =
            &APR_ARRAY_IDX(all, i, weblab_coord_instance_t);

        ap_rprintf(r, "<tr><td>%s@%s</td><td>%s</td><td>%s@%s</td>"
                   "<td>%s</td><td>%s</td><td>%d</td></tr>\n",
                   ap_escape_html(r->pool, in->lab.exp_name),
                   ap_escape_html(r->pool, in->lab.cat_name),
                   ap_escape_html(r->pool, in->lab.instance_name),
                   ap_escape_html(r->pool, in->lab.resource_instance),
                   ap_escape_html(r->pool, in->lab.resource_type),
                   in->working ? "working"
                       : ap_escape_html(r->pool,
                             apr_pstrcat(r->pool, "broken: ",
                                         in->error ? in->error : "", NULL)),
                   in->holder_login
                       ? ap_escape_html(r->pool, apr_pstrcat(r->pool,
                             in->holder_login, " (", in->holder_state, ")",
                             NULL))
                       : "",
                   in->queue_length);
    }
    ap_rputs("</table>\n", r);
    return OK;
}

void weblab_status_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(ap, status_hook, weblab_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
