#include "weblab_ids.h"

#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_lib.h>

static const char session_alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-";

char *weblab_ids_session_new(apr_pool_t *p)
{
    unsigned char raw[WEBLAB_SESSION_ID_LEN];
    char *id;
    int i;

    if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    id = apr_palloc(p, WEBLAB_SESSION_ID_LEN + 1);
    for (i = 0; i < WEBLAB_SESSION_ID_LEN; i++) {
        id[i] = session_alphabet[raw[i] & 63];  /* 64 symbols: no bias */
    }
    id[WEBLAB_SESSION_ID_LEN] = '\0';
    return id;
}

char *weblab_ids_uuid_new(apr_pool_t *p)
{
    unsigned char b[16];

    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
        return NULL;
    }
    b[6] = (b[6] & 0x0f) | 0x40;    /* version 4 */
    b[8] = (b[8] & 0x3f) | 0x80;    /* RFC 4122 variant */
    return apr_psprintf(p,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

char *weblab_ids_reservation_public(apr_pool_t *p, const char *uuid,
                                    const char *route)
{
    return apr_pstrcat(p, uuid, ";", uuid, ".", route, NULL);
}

char *weblab_ids_reservation_uuid(apr_pool_t *p, const char *public_id)
{
    const char *semi = strchr(public_id, ';');

    return semi ? apr_pstrmemdup(p, public_id, semi - public_id)
                : apr_pstrdup(p, public_id);
}

char *weblab_ids_strip_route(apr_pool_t *p, const char *cookie_value)
{
    const char *dot = strchr(cookie_value, '.');

    return dot ? apr_pstrmemdup(p, cookie_value, dot - cookie_value)
               : apr_pstrdup(p, cookie_value);
}

int weblab_ids_is_session_id(const char *s)
{
    size_t n = strlen(s);

    return n == WEBLAB_SESSION_ID_LEN
        && strspn(s, session_alphabet) == WEBLAB_SESSION_ID_LEN;
}

int weblab_ids_is_uuid(const char *s)
{
    int i;

    if (strlen(s) != WEBLAB_UUID_LEN) {
        return 0;
    }
    for (i = 0; i < WEBLAB_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}
