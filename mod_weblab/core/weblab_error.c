#include "weblab_error.h"

#include <apr_strings.h>

weblab_error_t *weblab_error_make(apr_pool_t *p, weblab_errcode_e code,
                                  apr_status_t rv, const char *fmt, ...)
{
    weblab_error_t *err = apr_pcalloc(p, sizeof(*err));
    va_list ap;

    va_start(ap, fmt);
    err->message = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    err->code = code;
    err->rv = rv;
    return err;
}

const char *weblab_error_code_str(weblab_errcode_e code)
{
    switch (code) {
    case WEBLAB_ERR_INVALID_CREDENTIALS:    return "Client.InvalidCredentials";
    case WEBLAB_ERR_LOGIN:                  return "Server.Login";
    case WEBLAB_ERR_SESSION_NOT_FOUND:      return "Client.SessionNotFound";
    case WEBLAB_ERR_NO_CURRENT_RESERVATION: return "Client.NoCurrentReservation";
    case WEBLAB_ERR_UNKNOWN_EXPERIMENT_ID:  return "Client.UnknownExperimentId";
    case WEBLAB_ERR_USER_PROCESSING:        return "Server.UserProcessing";
    case WEBLAB_ERR_VOODOO:                 return "Server.Voodoo";
    case WEBLAB_ERR_WEBLAB:
    default:                                return "Server.WebLab";
    }
}
