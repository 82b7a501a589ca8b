/* One error object for every API failure: its WebLab code, the APR status
 * behind it and a message. Rendered into the JSON envelope in one place
 * (weblab_api.c), the idea of httpd's dav_error. */
#ifndef WEBLAB_ERROR_H
#define WEBLAB_ERROR_H

#include <apr_pools.h>
#include <apr_errno.h>

typedef enum {
    WEBLAB_ERR_INVALID_CREDENTIALS,     /* Client.InvalidCredentials */
    WEBLAB_ERR_LOGIN,                   /* Server.Login */
    WEBLAB_ERR_SESSION_NOT_FOUND,       /* Client.SessionNotFound */
    WEBLAB_ERR_NO_CURRENT_RESERVATION,  /* Client.NoCurrentReservation */
    WEBLAB_ERR_UNKNOWN_EXPERIMENT_ID,   /* Client.UnknownExperimentId */
    WEBLAB_ERR_USER_PROCESSING,         /* Server.UserProcessing */
    WEBLAB_ERR_WEBLAB,                  /* Server.WebLab */
    WEBLAB_ERR_VOODOO                   /* Server.Voodoo */
} weblab_errcode_e;

typedef struct weblab_error_t {
    weblab_errcode_e code;
    apr_status_t rv;            /* underlying cause, APR_SUCCESS if none */
    const char *message;        /* shown to the client */
    int always_shown;           /* the message holds nothing internal: sent
                                 * even without debug mode (administration
                                 * methods' input errors) */
} weblab_error_t;

/* Make an error from pool p; the message is printf-formatted. */
weblab_error_t *weblab_error_make(apr_pool_t *p, weblab_errcode_e code,
                                  apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The code as sent on the wire without the "JSON:" prefix,
 * e.g. "Client.SessionNotFound". Static storage. */
const char *weblab_error_code_str(weblab_errcode_e code);

#endif
