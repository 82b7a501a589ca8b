/* weblab-bot: entry point. Checks the server answers, raises the file
 * limit for the connections it will need, runs every student count
 * (iterations pooled), then writes the table, CSV, JSON and plots. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bot.h"

/* Each connection is a descriptor; 10 000 students at once need 10 000. */
static void raise_nofile(rlim_t needed)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) {
        return;
    }
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < needed
        && geteuid() == 0) {
        struct rlimit more = { needed, needed };
        if (!setrlimit(RLIMIT_NOFILE, &more)) {
            return;
        }
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed) {
        bot_warn("only %lu file descriptors allowed, %lu wanted: connections "
                 "beyond that will fail", (unsigned long)rl.rlim_cur,
                 (unsigned long)needed);
    }
}

typedef struct check_buf_t {
    char data[65536];
    size_t len;
} check_buf_t;

static size_t sink(char *data, size_t size, size_t nmemb, void *baton)
{
    check_buf_t *b = baton;
    size_t len = size * nmemb;
    if (b->len + len < sizeof(b->data)) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
    return len;
}

/* A blocking check before any student starts, so that a wrong --url gives
 * one clear line instead of N errors. */
static int check_server(const bot_options_t *o)
{
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL,
                                             "Content-Type: application/json");
    char url[2048];
    check_buf_t *buf = calloc(1, sizeof(*buf));
    json_t *doc;
    long status = 0;
    CURLcode rc;
    int ok;

    snprintf(url, sizeof(url), "%s/weblab/json/", o->url);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                     "{\"method\":\"check_user_session\",\"params\":{}}");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, buf);
    rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        bot_error("cannot reach %s: %s", url, curl_easy_strerror(rc));
        free(buf);
        return -1;
    }
    doc = json_loadb(buf->data, buf->len, 0, NULL);
    free(buf);
    ok = status == 200 && json_is_object(doc)
         && json_is_boolean(json_object_get(doc, "is_exception"));
    json_decref(doc);
    if (!ok) {
        bot_error("%s does not answer like a WebLab-Deusto JSON API "
                  "(HTTP %ld)", url, status);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bot_options_t o;
    bot_client_t *client;
    bot_result_t *results;
    double t0, deadline;
    int rc, i, n = 0, timed_out = 0, errors = 0, max_users = 0;

    if ((rc = bot_options_parse(&o, argc, argv)) >= 0) {
        bot_options_free(&o);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        bot_error("curl_global_init failed");
        return BOT_EXIT_ERRORS;
    }
    for (i = 0; i < o.nusers; i++) {
        if (o.users[i] > max_users) {
            max_users = o.users[i];
        }
    }
    raise_nofile((rlim_t)(o.at_once && max_users > o.max_connections
                          ? max_users : o.max_connections) + 64);

    if (check_server(&o)) {
        curl_global_cleanup();
        bot_options_free(&o);
        return BOT_EXIT_UNREACHABLE;
    }
    if (!(client = bot_client_create(o.url, o.max_connections,
                                     o.call_timeout))) {
        bot_options_free(&o);
        return BOT_EXIT_ERRORS;
    }
    results = calloc(o.nusers, sizeof(*results));
    t0 = bot_now();
    deadline = t0 + o.timeout;

    for (i = 0; i < o.nusers && !timed_out; i++) {
        bot_result_t *r = &results[n++];
        int it;
        bot_result_init(r, o.users[i]);
        for (it = 1; it <= o.iterations && !timed_out; it++) {
            if (bot_scenario_run(&o, client, r, o.users[i], it, deadline)
                == BOT_EXIT_TIMEOUT) {
                timed_out = 1;
            }
        }
        bot_result_finish(r);
        if (!o.quiet) {
            bot_report_table(stdout, &o, r);
            fflush(stdout);
        }
    }

    for (i = 0; i < n; i++) {
        int m;
        for (m = 0; m < BOT_METHOD_COUNT; m++) {
            errors += results[i].summary[m].errors > 0;
        }
    }
    rc = timed_out ? BOT_EXIT_TIMEOUT : errors ? BOT_EXIT_ERRORS
                                              : BOT_EXIT_OK;
    if (o.csv && bot_report_csv(o.csv, &o, results, n)) {
        rc = BOT_EXIT_ERRORS;
    }
    if (o.json && bot_report_json(o.json, &o, results, n, timed_out,
                                  bot_now() - t0)) {
        rc = BOT_EXIT_ERRORS;
    }
    if (o.plot_dir && bot_plot(o.plot_dir, &o, results, n)) {
        rc = BOT_EXIT_ERRORS;
    }
    if (!o.quiet && errors && !timed_out) {
        fprintf(stderr, "weblab-bot: some calls failed (see the errors "
                "above)\n");
    }

    for (i = 0; i < n; i++) {
        bot_result_free(&results[i]);
    }
    free(results);
    bot_client_destroy(client);
    curl_global_cleanup();
    bot_options_free(&o);
    return rc;
}
