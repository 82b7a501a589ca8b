/* The registry of labs: the built-in ones by name, and loadable ones from a
 * shared object (--lab-module). To add a built-in lab, write lab_<name>.c
 * and list it in builtins[] below (and in Makefile.am). */
#include "weblab_lab_plugin.h"

#include <string.h>
#include <apr_dso.h>
#include <apr_strings.h>

static const weblab_lab_plugin_t *const builtins[] = {
    &weblab_lab_dummy,
    &weblab_lab_dummy_batch,
    NULL
};

const weblab_lab_plugin_t *const *weblab_lab_plugin_builtins(void)
{
    return builtins;
}

const weblab_lab_plugin_t *weblab_lab_plugin_find(const char *name)
{
    for (int i = 0; builtins[i]; i++) {
        if (strcmp(builtins[i]->name, name) == 0) {
            return builtins[i];
        }
    }
    return NULL;
}

apr_status_t weblab_lab_plugin_load(const weblab_lab_plugin_t **plugin,
                                    const char **message, const char *path,
                                    apr_pool_t *pool)
{
    apr_dso_handle_t *dso;
    apr_dso_handle_sym_t sym;
    char err[256];
    apr_status_t rv;

    *plugin = NULL;
    rv = apr_dso_load(&dso, path, pool);
    if (rv != APR_SUCCESS) {
        *message = apr_psprintf(pool, "cannot load lab module %s: %s", path,
                                apr_dso_error(dso, err, sizeof(err)));
        return rv;
    }
    rv = apr_dso_sym(&sym, dso, WEBLAB_LAB_PLUGIN_SYMBOL);
    if (rv != APR_SUCCESS) {
        *message = apr_psprintf(pool, "lab module %s does not export %s",
                                path, WEBLAB_LAB_PLUGIN_SYMBOL);
        return rv;
    }
    const weblab_lab_plugin_t *p = (const weblab_lab_plugin_t *)sym;
    if (p->abi_version != WEBLAB_LAB_PLUGIN_ABI) {
        *message = apr_psprintf(pool, "lab module %s was built for plug-in "
                                "ABI %d, this daemon has ABI %d", path,
                                p->abi_version, WEBLAB_LAB_PLUGIN_ABI);
        return APR_EINVAL;
    }
    if (!p->name || !*p->name) {
        *message = apr_psprintf(pool, "lab module %s has no name", path);
        return APR_EINVAL;
    }
    *plugin = p;
    return APR_SUCCESS;
}
