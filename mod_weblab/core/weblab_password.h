/* Password hashing and verification. New passwords are bcrypt (apr-util's
 * apr_bcrypt_encode, as htpasswd -B); stored hashes of the original's form
 * "<salt>{sha}<hex>" (spec 5.3) still verify, so user tables can be imported. */
#ifndef WEBLAB_PASSWORD_H
#define WEBLAB_PASSWORD_H

#include <apr_pools.h>

/* Non-zero when password matches stored (bcrypt, "{sha}"/"{sha1}"/"{md5}"
 * legacy form, or any hash apr_password_validate knows). Constant-time for
 * the legacy form. Never logs either argument. */
int weblab_password_verify(const char *stored, const char *password,
                           apr_pool_t *p);

/* A new bcrypt hash of password (cost 10), from p; NULL on failure. */
char *weblab_password_hash(const char *password, apr_pool_t *p);

/* The original's legacy form with the given salt ("aaaa{sha}<sha1 hex>"),
 * from p. For tests and imports only; new passwords use bcrypt. */
char *weblab_password_legacy(const char *salt, const char *password,
                             apr_pool_t *p);

#endif
