/* The main() of a Check test program: APR (and libcurl, when the file
 * defines CHECK_MAIN_CURL before including this) set up, the suite made
 * and run, everything torn down; exit status 0 when every check passed.
 *
 *     int main(void) { return check_main(sql_suite); }
 */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>
#include <apr_general.h>
#ifdef CHECK_MAIN_CURL
#include <curl/curl.h>
#endif

static int check_main(Suite *(*make_suite)(void))
{
    SRunner *sr;
    int failed;

    apr_initialize();
#ifdef CHECK_MAIN_CURL
    curl_global_init(CURL_GLOBAL_DEFAULT);
#endif
    sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
#ifdef CHECK_MAIN_CURL
    curl_global_cleanup();
#endif
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
