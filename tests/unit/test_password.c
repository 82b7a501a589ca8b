/* Password verification (weblab_password.h): the original's legacy
 * "<salt>{sha}<hex>" form (spec 5.3), md5 legacy, bcrypt, and hashes made by
 * htpasswd. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "weblab_password.h"
#include "check_main.h"

/* sha1("aaaa" "password"): the form the original stores. */
#define LEGACY_SHA "aaaa{sha}a776159c8c7ff8b73e43aa54d081979e72511474"
/* md5("salt" "password") */
#define LEGACY_MD5 "salt{md5}67a1e09bb1f83f5007dc119c14d663aa"
/* htpasswd -nbB user password (cost 5) */
#define HTPASSWD_BCRYPT \
    "$2y$05$EMgsC84rMbU8I0XKLMFQe.q9lKoARm7ahwCPO4d9ETTSK4wgDrGVa"
/* htpasswd -nbm user password */
#define HTPASSWD_APR1 "$apr1$Ld2gYN0c$bqwXVKppJj6/YekLpFqmS/"

static apr_pool_t *pool;

static void setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

START_TEST(test_legacy_sha)
{
    ck_assert(weblab_password_verify(LEGACY_SHA, "password", pool));
    ck_assert(!weblab_password_verify(LEGACY_SHA, "Password", pool));
    ck_assert(!weblab_password_verify(LEGACY_SHA, "password ", pool));
    ck_assert(!weblab_password_verify(LEGACY_SHA, "passwor", pool));
    ck_assert(!weblab_password_verify(LEGACY_SHA, "aaaapassword", pool));
    /* "{sha1}" is the same algorithm */
    ck_assert(weblab_password_verify(
        "aaaa{sha1}a776159c8c7ff8b73e43aa54d081979e72511474", "password",
        pool));
    /* the salt matters */
    ck_assert(!weblab_password_verify(
        "aaab{sha}a776159c8c7ff8b73e43aa54d081979e72511474", "password",
        pool));
    /* hex digits in either case */
    ck_assert(weblab_password_verify(
        "aaaa{sha}A776159C8C7FF8B73E43AA54D081979E72511474", "password",
        pool));
}
END_TEST

START_TEST(test_legacy_make)
{
    ck_assert_str_eq(weblab_password_legacy("aaaa", "password", pool),
                     LEGACY_SHA);
    ck_assert(weblab_password_verify(
        weblab_password_legacy("s4lt", "other one", pool), "other one",
        pool));
}
END_TEST

START_TEST(test_legacy_md5)
{
    ck_assert(weblab_password_verify(LEGACY_MD5, "password", pool));
    ck_assert(!weblab_password_verify(LEGACY_MD5, "passwore", pool));
}
END_TEST

START_TEST(test_legacy_bad_forms)
{
    /* unknown algorithm, truncated digest, empty digest */
    ck_assert(!weblab_password_verify(
        "aaaa{sha256}a776159c8c7ff8b73e43aa54d081979e72511474", "password",
        pool));
    ck_assert(!weblab_password_verify(
        "aaaa{sha}a776159c8c7ff8b73e43aa54d081979e7251147", "password",
        pool));
    ck_assert(!weblab_password_verify("aaaa{sha}", "password", pool));
    ck_assert(!weblab_password_verify("{}", "password", pool));
}
END_TEST

START_TEST(test_bcrypt_round_trip)
{
    const char *h1 = weblab_password_hash("s3cret pass", pool);
    const char *h2 = weblab_password_hash("s3cret pass", pool);

    ck_assert_ptr_nonnull(h1);
    ck_assert_ptr_nonnull(h2);
    ck_assert_int_eq(strncmp(h1, "$2y$10$", 7), 0);
    ck_assert_uint_eq(strlen(h1), 60);
    ck_assert_str_ne(h1, h2);                   /* random salt */
    ck_assert(weblab_password_verify(h1, "s3cret pass", pool));
    ck_assert(weblab_password_verify(h2, "s3cret pass", pool));
    ck_assert(!weblab_password_verify(h1, "s3cret Pass", pool));
    ck_assert(!weblab_password_verify(h1, "s3cret pas", pool));
}
END_TEST

START_TEST(test_htpasswd_hashes)
{
    ck_assert(weblab_password_verify(HTPASSWD_BCRYPT, "password", pool));
    ck_assert(!weblab_password_verify(HTPASSWD_BCRYPT, "passwore", pool));
    ck_assert(weblab_password_verify(HTPASSWD_APR1, "password", pool));
    ck_assert(!weblab_password_verify(HTPASSWD_APR1, "passwore", pool));
}
END_TEST

START_TEST(test_empty_and_null)
{
    const char *h = weblab_password_hash("x", pool);

    ck_assert(!weblab_password_verify(NULL, "password", pool));
    ck_assert(!weblab_password_verify(LEGACY_SHA, NULL, pool));
    ck_assert(!weblab_password_verify(NULL, NULL, pool));
    ck_assert(!weblab_password_verify("", "password", pool));
    ck_assert(!weblab_password_verify(LEGACY_SHA, "", pool));
    ck_assert(!weblab_password_verify(h, "", pool));
    ck_assert(!weblab_password_verify(HTPASSWD_BCRYPT, "", pool));
    /* an empty password never verifies, even against its own legacy hash */
    ck_assert(!weblab_password_verify(
        weblab_password_legacy("aaaa", "", pool), "", pool));
    /* garbage is not a hash */
    ck_assert(!weblab_password_verify("not a hash", "not a hash", pool));
}
END_TEST

static Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("password");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);     /* bcrypt under valgrind is slow */
    tcase_add_test(tc, test_legacy_sha);
    tcase_add_test(tc, test_legacy_make);
    tcase_add_test(tc, test_legacy_md5);
    tcase_add_test(tc, test_legacy_bad_forms);
    tcase_add_test(tc, test_bcrypt_round_trip);
    tcase_add_test(tc, test_htpasswd_hashes);
    tcase_add_test(tc, test_empty_and_null);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_main(password_suite);
}
