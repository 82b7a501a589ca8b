/* Identifier formats (weblab_ids.h, spec section 0): session ids, uuid4,
 * the public reservation id and the ".route" suffix. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "weblab_ids.h"
#include "check_main.h"

#define SESSION_ALPHABET \
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
#define MANY 10000

static apr_pool_t *pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(test_session_id_shape)
{
    int i;

    for (i = 0; i < 1000; i++) {
        const char *id = weblab_ids_session_new(pool);

        ck_assert_ptr_nonnull(id);
        ck_assert_uint_eq(strlen(id), WEBLAB_SESSION_ID_LEN);
        ck_assert_uint_eq(strspn(id, SESSION_ALPHABET), WEBLAB_SESSION_ID_LEN);
        /* a '.' would be taken for the start of a route */
        ck_assert_ptr_null(strchr(id, '.'));
        ck_assert(weblab_ids_is_session_id(id));
    }
}
END_TEST

/* Unique over many, and every one of the 64 symbols is used (a mask that
 * dropped a bit would leave half of them out). */
START_TEST(test_session_id_unique_and_spread)
{
    apr_hash_t *seen = apr_hash_make(pool);
    int used[256] = { 0 };
    const char *c;
    int i;

    for (i = 0; i < MANY; i++) {
        const char *id = weblab_ids_session_new(pool);
        int j;

        ck_assert_ptr_null(apr_hash_get(seen, id, APR_HASH_KEY_STRING));
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
        for (j = 0; id[j]; j++) {
            used[(unsigned char)id[j]]++;
        }
    }
    ck_assert_uint_eq(apr_hash_count(seen), MANY);
    for (c = SESSION_ALPHABET; *c; c++) {
        ck_assert_msg(used[(unsigned char)*c] > 0, "'%c' never used", *c);
    }
}
END_TEST

START_TEST(test_is_session_id_rejects)
{
    ck_assert(!weblab_ids_is_session_id(""));
    ck_assert(!weblab_ids_is_session_id("abcdefghijklmno"));      /* 15 */
    ck_assert(!weblab_ids_is_session_id("abcdefghijklmnopq"));    /* 17 */
    ck_assert(!weblab_ids_is_session_id("abcdefgh.jklmnop"));
    ck_assert(!weblab_ids_is_session_id("abcdefgh+jklmnop"));
    ck_assert(!weblab_ids_is_session_id("abcdefgh jklmnop"));
    ck_assert(weblab_ids_is_session_id("abcdefgh-_KLMNOP"));
}
END_TEST

START_TEST(test_uuid4_shape)
{
    apr_hash_t *seen = apr_hash_make(pool);
    int i, k;

    for (i = 0; i < 1000; i++) {
        const char *u = weblab_ids_uuid_new(pool);

        ck_assert_ptr_nonnull(u);
        ck_assert_uint_eq(strlen(u), WEBLAB_UUID_LEN);
        ck_assert(weblab_ids_is_uuid(u));
        for (k = 0; k < WEBLAB_UUID_LEN; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23) {
                ck_assert_int_eq(u[k], '-');
            }
            else {
                ck_assert_ptr_nonnull(strchr("0123456789abcdef", u[k]));
            }
        }
        ck_assert_int_eq(u[14], '4');                   /* version 4 */
        ck_assert_ptr_nonnull(strchr("89ab", u[19]));   /* RFC 4122 */
        ck_assert_ptr_null(apr_hash_get(seen, u, APR_HASH_KEY_STRING));
        apr_hash_set(seen, u, APR_HASH_KEY_STRING, u);
    }
}
END_TEST

START_TEST(test_is_uuid_rejects)
{
    ck_assert(weblab_ids_is_uuid("0123abcd-4567-4def-89ab-0123456789ab"));
    ck_assert(!weblab_ids_is_uuid(""));
    ck_assert(!weblab_ids_is_uuid("0123abcd-4567-4def-89ab-0123456789a"));
    ck_assert(!weblab_ids_is_uuid("0123abcd-4567-4def-89ab-0123456789abc"));
    ck_assert(!weblab_ids_is_uuid("0123abcd-4567-4def-89ab-0123456789ag"));
    ck_assert(!weblab_ids_is_uuid("0123abcd04567-4def-89ab-0123456789ab"));
    ck_assert(!weblab_ids_is_uuid("0123abc-d4567-4def-89ab-0123456789ab"));
}
END_TEST

START_TEST(test_reservation_public)
{
    const char *u = weblab_ids_uuid_new(pool);
    const char *pub = weblab_ids_reservation_public(pool, u, "route1");

    ck_assert_str_eq(pub, apr_pstrcat(pool, u, ";", u, ".route1", NULL));
    ck_assert_str_eq(weblab_ids_reservation_public(pool, "a", "r"), "a;a.r");
    /* and back */
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, pub), u);
    ck_assert_str_eq(weblab_ids_strip_route(pool, pub),
                     apr_pstrcat(pool, u, ";", u, NULL));
}
END_TEST

START_TEST(test_reservation_uuid_edges)
{
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, ""), "");
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, "abc"), "abc");
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, "abc;"), "abc");
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, ";abc"), "");
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, "a;b;c"), "a");
    ck_assert_str_eq(weblab_ids_reservation_uuid(pool, "a.r;b"), "a.r");
}
END_TEST

START_TEST(test_strip_route_edges)
{
    ck_assert_str_eq(weblab_ids_strip_route(pool, ""), "");
    ck_assert_str_eq(weblab_ids_strip_route(pool, "abc"), "abc");
    ck_assert_str_eq(weblab_ids_strip_route(pool, "abc."), "abc");
    ck_assert_str_eq(weblab_ids_strip_route(pool, ".route"), "");
    ck_assert_str_eq(weblab_ids_strip_route(pool, "sess.route1"), "sess");
    ck_assert_str_eq(weblab_ids_strip_route(pool, "a.b.c"), "a");
}
END_TEST

/* The results are copies in the pool, not pointers into the input. */
START_TEST(test_results_are_copies)
{
    char in[] = "abc.route";
    char *out = weblab_ids_strip_route(pool, in);

    in[0] = 'X';
    ck_assert_str_eq(out, "abc");
    out = weblab_ids_reservation_uuid(pool, in);
    ck_assert_ptr_ne(out, in);
}
END_TEST

static Suite *ids_suite(void)
{
    Suite *s = suite_create("ids");
    TCase *tc = tcase_create("ids");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_session_id_shape);
    tcase_add_test(tc, test_session_id_unique_and_spread);
    tcase_add_test(tc, test_is_session_id_rejects);
    tcase_add_test(tc, test_uuid4_shape);
    tcase_add_test(tc, test_is_uuid_rejects);
    tcase_add_test(tc, test_reservation_public);
    tcase_add_test(tc, test_reservation_uuid_edges);
    tcase_add_test(tc, test_strip_route_edges);
    tcase_add_test(tc, test_results_are_copies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(ids_suite);
}
