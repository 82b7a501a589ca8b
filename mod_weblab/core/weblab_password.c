#include "weblab_password.h"

#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_sha1.h>
#include <apr_general.h>
#include <apr_base64.h>

#define BCRYPT_COST 10

static void to_hex(char *out, const unsigned char *in, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* hex digest of salt+password with the named algorithm, or NULL if the
 * algorithm is not one the original used that APR provides. */
static char *legacy_digest(const char *alg, const char *salt,
                           const char *password, apr_pool_t *p)
{
    char *hex;

    if (!strcmp(alg, "sha") || !strcmp(alg, "sha1")) {
        apr_sha1_ctx_t ctx;
        unsigned char d[APR_SHA1_DIGESTSIZE];

        apr_sha1_init(&ctx);
        apr_sha1_update(&ctx, salt, strlen(salt));
        apr_sha1_update(&ctx, password, strlen(password));
        apr_sha1_final(d, &ctx);
        hex = apr_palloc(p, 2 * sizeof(d) + 1);
        to_hex(hex, d, sizeof(d));
        return hex;
    }
    if (!strcmp(alg, "md5")) {
        apr_md5_ctx_t ctx;
        unsigned char d[APR_MD5_DIGESTSIZE];

        apr_md5_init(&ctx);
        apr_md5_update(&ctx, salt, strlen(salt));
        apr_md5_update(&ctx, password, strlen(password));
        apr_md5_final(d, &ctx);
        hex = apr_palloc(p, 2 * sizeof(d) + 1);
        to_hex(hex, d, sizeof(d));
        return hex;
    }
    return NULL;
}

/* Compare two strings in time that depends only on their lengths. */
static int equal_ct(const char *a, const char *b)
{
    size_t n = strlen(a), i;
    unsigned char diff = 0;

    if (n != strlen(b)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        diff |= (unsigned char)(apr_tolower(a[i]) ^ apr_tolower(b[i]));
    }
    return diff == 0;
}

int weblab_password_verify(const char *stored, const char *password,
                           apr_pool_t *p)
{
    const char *open, *close;

    if (!stored || !password || !*stored || !*password) {
        return 0;
    }
    /* Legacy: ([a-zA-Z0-9]*){([a-zA-Z0-9_-]+)}([a-fA-F0-9]+) */
    open = strchr(stored, '{');
    close = open ? strchr(open, '}') : NULL;
    if (open && close && stored[0] != '$') {
        char *salt = apr_pstrmemdup(p, stored, open - stored);
        char *alg = apr_pstrmemdup(p, open + 1, close - open - 1);
        char *digest = legacy_digest(alg, salt, password, p);

        return digest && equal_ct(digest, close + 1);
    }
    return apr_password_validate(password, stored) == APR_SUCCESS;
}

char *weblab_password_hash(const char *password, apr_pool_t *p)
{
    unsigned char salt[16];
    char *out = apr_palloc(p, 64);

    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_bcrypt_encode(password, BCRYPT_COST, salt, sizeof(salt), out, 64)
        != APR_SUCCESS) {
        return NULL;
    }
    return out;
}

char *weblab_password_legacy(const char *salt, const char *password,
                             apr_pool_t *p)
{
    return apr_pstrcat(p, salt, "{sha}",
                       legacy_digest("sha", salt, password, p), NULL);
}
