/* The bot's reports: a table per student count on stdout (times in ms),
 * and CSV / JSON files of every statistic (times in seconds, as the
 * original's figures). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"

static double per_second(const bot_result_t *r)
{
    return r->wall_seconds > 0 ? r->cycles_ok / r->wall_seconds : 0;
}

static const char *mode_text(const bot_options_t *o)
{
    if (!o->at_once) {
        return "cycle";
    }
    return o->after_reserve == BOT_AFTER_RESERVE_FINISH ? "at-once, finish"
                                                        : "at-once, cycle";
}

void bot_report_table(FILE *out, const bot_options_t *o,
                      const bot_result_t *r)
{
    int m;
    const char *key;
    json_t *v;

    fprintf(out, "\n== %d students x %d iteration%s (%s%s%s): %.2f s, "
            "%ld cycles ok, %ld failed", r->users, r->iterations,
            r->iterations == 1 ? "" : "s", mode_text(o),
            o->label ? ", " : "", o->label ? o->label : "", r->wall_seconds,
            r->cycles_ok, r->cycles_failed);
    if (r->unfinished) {
        fprintf(out, ", %ld unfinished (time bound)", r->unfinished);
    }
    fprintf(out, ", %.1f cycles/s; routes:", per_second(r));
    json_object_foreach(r->routes, key, v) {
        fprintf(out, " %s=%lld", key, (long long)json_integer_value(v));
    }
    fprintf(out, "\n%-24s %8s %7s %10s %10s %10s %10s %10s %10s %10s\n",
            "method (ms)", "calls", "errors", "min", "mean", "stddev", "p50",
            "p95", "p99", "max");
    for (m = 0; m < BOT_METHOD_COUNT; m++) {
        const bot_summary_t *s = &r->summary[m];
        if (s->count == 0) {
            continue;
        }
        fprintf(out, "%-24s %8ld %7ld %10.3f %10.3f %10.3f %10.3f %10.3f "
                "%10.3f %10.3f\n", bot_method_name(m), s->count, s->errors,
                s->min * 1e3, s->mean * 1e3, s->stddev * 1e3, s->p50 * 1e3,
                s->p95 * 1e3, s->p99 * 1e3, s->max * 1e3);
    }
    if (o->at_once) {
        fprintf(out, "(reserve_experiment timed from the write of its own "
                "request)\n");
    }
    for (m = 0; m < BOT_METHOD_COUNT; m++) {
        const bot_series_t *s = &r->series[m];
        int i;
        for (i = 0; i < s->nkinds; i++) {
            fprintf(out, "error: %s: %s x%ld\n", bot_method_name(m),
                    s->kinds[i].what, s->kinds[i].count);
        }
        if (s->other_kinds) {
            fprintf(out, "error: %s: other kinds x%ld\n", bot_method_name(m),
                    s->other_kinds);
        }
    }
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

int bot_report_csv(const char *path, const bot_options_t *o,
                   const bot_result_t *rs, int n)
{
    FILE *f = fopen(path, "w");
    int i, m;
    if (!f) {
        bot_error("--csv %s: %s", path, strerror(errno));
        return -1;
    }
    fputs("label,mode,users,iterations,method,count,errors,min_s,mean_s,"
          "stddev_s,p50_s,p95_s,p99_s,max_s,wall_s,cycles_ok,cycles_failed,"
          "cycles_per_s\n", f);
    for (i = 0; i < n; i++) {
        const bot_result_t *r = &rs[i];
        for (m = 0; m < BOT_METHOD_COUNT; m++) {
            const bot_summary_t *s = &r->summary[m];
            if (s->count == 0) {
                continue;
            }
            csv_field(f, o->label ? o->label : "");
            fputc(',', f);
            csv_field(f, mode_text(o));
            fprintf(f, ",%d,%d,%s,%ld,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                    "%.3f,%ld,%ld,%.3f\n", r->users, r->iterations,
                    bot_method_name(m), s->count, s->errors, s->min, s->mean,
                    s->stddev, s->p50, s->p95, s->p99, s->max,
                    r->wall_seconds, r->cycles_ok, r->cycles_failed,
                    per_second(r));
        }
    }
    if (fclose(f)) {
        bot_error("--csv %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static json_t *summary_json(const bot_series_t *se, const bot_summary_t *s)
{
    json_t *kinds = json_object();
    int i;
    for (i = 0; i < se->nkinds; i++) {
        json_object_set_new(kinds, se->kinds[i].what,
                            json_integer(se->kinds[i].count));
    }
    if (se->other_kinds) {
        json_object_set_new(kinds, "(other)", json_integer(se->other_kinds));
    }
    return json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
                     "s:o}",
                     "count", (json_int_t)s->count,
                     "ok", (json_int_t)(s->count - s->errors),
                     "errors", (json_int_t)s->errors,
                     "min", s->min, "mean", s->mean, "stddev", s->stddev,
                     "p50", s->p50, "p95", s->p95, "p99", s->p99,
                     "max", s->max, "error_kinds", kinds);
}

int bot_report_json(const char *path, const bot_options_t *o,
                    const bot_result_t *rs, int n, int timed_out,
                    double elapsed)
{
    json_t *doc, *scen = json_array();
    int i, m, rc;

    for (i = 0; i < n; i++) {
        const bot_result_t *r = &rs[i];
        json_t *methods = json_object();
        for (m = 0; m < BOT_METHOD_COUNT; m++) {
            if (r->summary[m].count > 0) {
                json_object_set_new(methods, bot_method_name(m),
                                    summary_json(&r->series[m],
                                                 &r->summary[m]));
            }
        }
        json_array_append_new(scen, json_pack(
            "{s:i, s:i, s:f, s:I, s:I, s:I, s:f, s:I, s:O, s:b, s:o}",
            "users", r->users, "iterations", r->iterations,
            "wall_seconds", r->wall_seconds,
            "cycles_ok", (json_int_t)r->cycles_ok,
            "cycles_failed", (json_int_t)r->cycles_failed,
            "unfinished", (json_int_t)r->unfinished,
            "cycles_per_second", per_second(r),
            "requests", (json_int_t)r->requests, "routes", r->routes,
            "timed_out", r->timed_out, "methods", methods));
    }
    /* start_delay null: the original's (0 below 5 students, else 4
     * step delays) */
    doc = json_pack("{s:s, s:s, s:s?, s:s, s:{s:b, s:s, s:f, s:f, s:f, s:o, "
                    "s:f, s:i, s:s?, s:s?, s:i, s:s, s:s, s:i, s:f, s:f, "
                    "s:b}, s:b, s:f, s:s, s:o}",
                    "tool", "weblab-bot", "version", PACKAGE_VERSION,
                    "label", o->label, "url", o->url,
                    "options",
                    "at_once", o->at_once, "mode", mode_text(o),
                    "wait_step", o->wait_step, "wait_max", o->wait_max,
                    "confirm_wait", o->confirm_wait,
                    "start_delay", o->start_delay >= 0
                        ? json_real(o->start_delay) : json_null(),
                    "step_delay", o->step_delay,
                    "iterations", o->iterations,
                    "user", o->user_prefix ? NULL : o->user,
                    "user_prefix", o->user_prefix, "accounts", o->accounts,
                    "exp", o->exp, "cat", o->cat,
                    "max_connections", o->max_connections,
                    "timeout", o->timeout, "call_timeout", o->call_timeout,
                    "cleanup", o->cleanup,
                    "timed_out", timed_out, "elapsed_seconds", elapsed,
                    "time_unit", "seconds", "scenarios", scen);
    if (!doc) {
        bot_error("--json %s: cannot build the document", path);
        return -1;
    }
    rc = json_dump_file(doc, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER
                                   | JSON_REAL_PRECISION(9));
    json_decref(doc);
    if (rc) {
        bot_error("--json %s: cannot write it", path);
        return -1;
    }
    return 0;
}
