/* Identifier formats of WebLab-Deusto (spec section 0): 16-char session ids,
 * uuid4 reservation ids, the client-visible "<uuid>;<uuid>.<route>" form and
 * the ".route" suffix that mod_proxy_balancer reads from cookies. */
#ifndef WEBLAB_IDS_H
#define WEBLAB_IDS_H

#include <apr_pools.h>

#define WEBLAB_SESSION_ID_LEN 16
#define WEBLAB_UUID_LEN 36

/* A new random session id (16 chars of [0-9a-zA-Z_-]; no '.', which would
 * break route detection), allocated from p. NULL if no randomness. */
char *weblab_ids_session_new(apr_pool_t *p);

/* A new random uuid4 string (36 chars), from p. NULL if no randomness. */
char *weblab_ids_uuid_new(apr_pool_t *p);

/* "<uuid>;<uuid>.<route>" as given to clients, from p. */
char *weblab_ids_reservation_public(apr_pool_t *p, const char *uuid,
                                    const char *route);

/* The reservation uuid inside a client-supplied id: the part before the first
 * ';' (the whole string if none). From p. */
char *weblab_ids_reservation_uuid(apr_pool_t *p, const char *public_id);

/* A cookie value without its ".route" suffix (the part before the first
 * '.'). From p. */
char *weblab_ids_strip_route(apr_pool_t *p, const char *cookie_value);

/* Non-zero when s has the shape of a session id we generate. */
int weblab_ids_is_session_id(const char *s);

/* Non-zero when s has the shape of a uuid (8-4-4-4-12 hex). */
int weblab_ids_is_uuid(const char *s);

#endif
