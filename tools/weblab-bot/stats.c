/* Statistics of the bot: every successful call's time is kept (10 000
 * students make a few hundred thousand doubles), so the percentiles are
 * exact (nearest rank), as redis-benchmark reports them. min/max/mean/
 * stddev are over all calls of all iterations, like the original's
 * data.py (numpy, population stddev). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"

static const char *const method_names[BOT_METHOD_COUNT] = {
    "login", "get_user_information", "list_experiments",
    "reserve_experiment", "get_reservation_status", "send_file",
    "send_command", "finished_experiment", "logout", "cycle"
};

const char *bot_method_name(bot_method_t m)
{
    return m < BOT_METHOD_COUNT ? method_names[m] : "?";
}

void bot_series_add(bot_series_t *s, double seconds)
{
    if (s->n == s->cap) {
        long cap = s->cap ? 2 * s->cap : 64;
        double *n = realloc(s->samples, cap * sizeof(*n));
        if (!n) {
            bot_error("out of memory (samples)");
            abort();
        }
        s->samples = n;
        s->cap = cap;
    }
    s->samples[s->n++] = seconds;
}

void bot_series_error(bot_series_t *s, const char *what)
{
    int i;
    s->errors++;
    for (i = 0; i < s->nkinds; i++) {
        if (!strcmp(s->kinds[i].what, what)) {
            s->kinds[i].count++;
            return;
        }
    }
    if (s->nkinds < BOT_MAX_ERROR_KINDS) {
        s->kinds[s->nkinds].what = strdup(what);
        s->kinds[s->nkinds].count = 1;
        s->nkinds++;
    }
    else {
        s->other_kinds++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double rank(const double *sorted, long n, double pct)
{
    long k = (long)ceil(pct / 100.0 * n);
    if (k < 1) {
        k = 1;
    }
    return sorted[k > n ? n - 1 : k - 1];
}

void bot_series_summarize(bot_series_t *s, bot_summary_t *sum)
{
    double total = 0, sq = 0;
    long i;
    memset(sum, 0, sizeof(*sum));
    sum->count = s->n + s->errors;
    sum->errors = s->errors;
    if (s->n == 0) {
        return;
    }
    qsort(s->samples, s->n, sizeof(double), cmp_double);
    for (i = 0; i < s->n; i++) {
        total += s->samples[i];
    }
    sum->mean = total / s->n;
    for (i = 0; i < s->n; i++) {
        double d = s->samples[i] - sum->mean;
        sq += d * d;
    }
    sum->stddev = sqrt(sq / s->n);
    sum->min = s->samples[0];
    sum->max = s->samples[s->n - 1];
    sum->p50 = rank(s->samples, s->n, 50);
    sum->p95 = rank(s->samples, s->n, 95);
    sum->p99 = rank(s->samples, s->n, 99);
}

void bot_series_free(bot_series_t *s)
{
    int i;
    for (i = 0; i < s->nkinds; i++) {
        free(s->kinds[i].what);
    }
    free(s->samples);
    memset(s, 0, sizeof(*s));
}

void bot_result_init(bot_result_t *r, int users)
{
    memset(r, 0, sizeof(*r));
    r->users = users;
    r->routes = json_object();
}

void bot_result_finish(bot_result_t *r)
{
    int m;
    for (m = 0; m < BOT_METHOD_COUNT; m++) {
        bot_series_summarize(&r->series[m], &r->summary[m]);
    }
}

void bot_result_free(bot_result_t *r)
{
    int m;
    for (m = 0; m < BOT_METHOD_COUNT; m++) {
        bot_series_free(&r->series[m]);
    }
    json_decref(r->routes);
    r->routes = NULL;
}
