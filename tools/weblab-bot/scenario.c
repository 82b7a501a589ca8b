/* One run of N students: start them (staggered like the original's
 * scenarios, or all at once behind a barrier), turn the event loop until
 * every student is done or the time bound is reached, and show progress. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot.h"

static char *base64(const char *data, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((len + 2) / 3) + 1), *p = out;
    size_t i;
    if (!out) {
        return NULL;
    }
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned char)data[i] << 16
                     | (unsigned char)data[i + 1] << 8
                     | (unsigned char)data[i + 2];
        *p++ = tab[v >> 18];
        *p++ = tab[(v >> 12) & 63];
        *p++ = tab[(v >> 6) & 63];
        *p++ = tab[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned char)data[i] << 16;
        if (i + 1 < len) {
            v |= (unsigned char)data[i + 1] << 8;
        }
        *p++ = tab[v >> 18];
        *p++ = tab[(v >> 12) & 63];
        *p++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p = '\0';
    return out;
}

/* Everyone at the barrier (or failed before it): write every
 * reserve_experiment now; the next turn of the loop sends them back to
 * back. */
static void maybe_burst(bot_scenario_t *sc)
{
    int k;
    if (sc->burst_sent || sc->ready + sc->finished < sc->users) {
        return;
    }
    sc->burst_sent = 1;
    for (k = 0; k < sc->users; k++) {
        if (bot_student_ready(sc->students[k])) {
            bot_student_reserve(sc->students[k]);
        }
    }
}

void bot_scenario_student_ready(bot_scenario_t *sc)
{
    sc->ready++;
    maybe_burst(sc);
}

/* Finish mode: every reserve of the burst answered (or its student
 * failed): the students holding a reservation cancel it now. */
static void maybe_finish(bot_scenario_t *sc)
{
    int k;
    if (sc->burst_answered || !sc->burst_sent
        || sc->reserved + sc->finished < sc->users) {
        return;
    }
    sc->burst_answered = 1;
    for (k = 0; k < sc->users; k++) {
        if (bot_student_reserved(sc->students[k])) {
            bot_student_finish(sc->students[k]);
        }
    }
}

void bot_scenario_student_reserved(bot_scenario_t *sc)
{
    sc->reserved++;
    maybe_finish(sc);
}

void bot_scenario_student_done(bot_scenario_t *sc, bot_student_t *st,
                               int ok)
{
    (void)st;
    sc->finished++;
    if (ok) {
        sc->result->cycles_ok++;
    }
    else {
        sc->result->cycles_failed++;
    }
    if (sc->opt->at_once && !sc->burst_sent) {
        maybe_burst(sc);
    }
    else if (sc->opt->at_once) {
        maybe_finish(sc);
    }
}

static void progress(const bot_scenario_t *sc, int iteration, double t0,
                     int last)
{
    const bot_options_t *o = sc->opt;
    fprintf(stderr, "%s%d students, iteration %d/%d: %ld done "
            "(%ld failed), %ld in flight, %ld queued, %ld sleeping, "
            "%ld requests, %.1f s%s",
            isatty(2) ? "\r" : "", sc->users, iteration, o->iterations,
            sc->finished, sc->result->cycles_failed,
            bot_client_inflight(sc->client), bot_client_pending(sc->client),
            bot_client_timers(sc->client), sc->result->requests,
            bot_now() - t0, isatty(2) && !last ? "   " : "\n");
    fflush(stderr);
}

int bot_scenario_run(const bot_options_t *opt, bot_client_t *client,
                     bot_result_t *result, int users, int iteration,
                     double deadline)
{
    bot_scenario_t sc;
    double t0, next_progress, start_delay;
    int k, rc = 0;

    memset(&sc, 0, sizeof(sc));
    sc.opt = opt;
    sc.client = client;
    sc.result = result;
    sc.users = users;
    sc.program_b64 = base64(opt->program, opt->program_len);
    sc.students = calloc(users, sizeof(*sc.students));
    if (!sc.program_b64 || !sc.students) {
        bot_error("out of memory for %d students", users);
        free(sc.program_b64);
        free(sc.students);
        return BOT_EXIT_ERRORS;
    }
    for (k = 0; k < users; k++) {
        if (!(sc.students[k] = bot_student_create(&sc, k))) {
            bot_error("cannot create student %d (out of memory?)", k + 1);
            while (k-- > 0) {
                bot_student_destroy(sc.students[k]);
            }
            free(sc.program_b64);
            free(sc.students);
            return BOT_EXIT_ERRORS;
        }
    }

    /* the original: new_bot_users(N, ..., initial, step) gives student k
     * the delay initial + k*step; initial is 0 below 5 students, else
     * 4 steps (tools/Bot/configuration.py.dist) */
    start_delay = opt->start_delay >= 0 ? opt->start_delay
                  : users >= 5 ? 4 * opt->step_delay : 0;
    t0 = bot_now();
    if (opt->at_once) {
        /* one connection per student: the burst must not queue */
        bot_client_set_max_inflight(client, opt->max_connections > users
                                            ? opt->max_connections : users);
        for (k = 0; k < users; k++) {
            bot_student_start(sc.students[k]);
        }
    }
    else {
        for (k = 0; k < users; k++) {
            bot_client_timer(client, t0 + start_delay + k * opt->step_delay,
                             bot_student_start, sc.students[k]);
        }
    }

    next_progress = t0 + 1;
    while (sc.finished < users) {
        double now = bot_now();
        if (now >= deadline) {
            long dropped = bot_client_abort(client);
            result->unfinished += users - sc.finished;
            result->timed_out = 1;
            if (opt->progress) {
                progress(&sc, iteration, t0, 1);
            }
            bot_error("--timeout reached: %ld of %d students unfinished, "
                      "%ld requests dropped", users - sc.finished, users,
                      dropped);
            rc = BOT_EXIT_TIMEOUT;
            break;
        }
        if (opt->progress && now >= next_progress) {
            progress(&sc, iteration, t0, 0);
            next_progress = now + 1;
        }
        bot_client_step(client, fmin(0.2, deadline - now));
    }
    result->wall_seconds += bot_now() - t0;
    result->iterations++;
    if (opt->progress && rc == 0) {
        progress(&sc, iteration, t0, 1);
    }
    bot_client_set_max_inflight(client, opt->max_connections);

    for (k = 0; k < users; k++) {
        bot_student_destroy(sc.students[k]);
    }
    free(sc.students);
    free(sc.program_b64);
    return rc;
}
