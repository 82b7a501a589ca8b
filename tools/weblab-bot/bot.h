/* weblab-bot: simulated students against a WebLab-Deusto JSON API (spec
 * section 7), on one libcurl multi event loop. Shared declarations of the
 * tool's files:
 *   main.c      entry point: limits, reachability check, scenarios, exit
 *   options.c   option table, --help, parsing, the user-count list
 *   client.c    HTTP/JSON client: curl multi loop, connection cap, timers
 *   student.c   one student's state machine (the original's StandardBotUser)
 *   scenario.c  runs N students once (cycle or "at once"), progress line
 *   stats.c     samples per method, min/max/mean/stddev/percentiles
 *   report.c    the table on stdout, CSV and JSON files
 *   plot.c      PNG plots through gnuplot, in the seed's style
 * Nothing here includes httpd or APR: the bot talks HTTP like any client. */
#ifndef WEBLAB_BOT_H
#define WEBLAB_BOT_H

#include <stddef.h>
#include <stdio.h>
#include <curl/curl.h>
#include <jansson.h>

#define BOT_EXIT_OK 0
#define BOT_EXIT_ERRORS 1       /* the run completed; some calls failed */
#define BOT_EXIT_USAGE 2
#define BOT_EXIT_UNREACHABLE 3  /* the server did not answer the check */
#define BOT_EXIT_TIMEOUT 4      /* --timeout reached before the end */

/* ---- methods (stats rows) ---- */

typedef enum bot_method_t {
    BOT_LOGIN,
    BOT_GET_USER_INFORMATION,
    BOT_LIST_EXPERIMENTS,
    BOT_RESERVE_EXPERIMENT,
    BOT_GET_RESERVATION_STATUS,
    BOT_SEND_FILE,
    BOT_SEND_COMMAND,
    BOT_FINISHED_EXPERIMENT,
    BOT_LOGOUT,
    BOT_CYCLE,                  /* pseudo-method: one student's whole cycle */
    BOT_METHOD_COUNT
} bot_method_t;

/* The JSON-RPC name of m ("cycle" for BOT_CYCLE). */
const char *bot_method_name(bot_method_t m);

/* ---- options (options.c) ---- */

typedef enum bot_after_reserve_t {
    BOT_AFTER_RESERVE_CYCLE,    /* poll, send_file, send_command, finish */
    BOT_AFTER_RESERVE_FINISH    /* finished_experiment at once (cancel) */
} bot_after_reserve_t;

typedef struct bot_options_t {
    const char *url;            /* base, no trailing '/' */
    int *users;                 /* student counts, in order */
    int nusers;
    int iterations;
    const char *user;           /* one account for every student ... */
    const char *user_prefix;    /* ... or PREFIX1..PREFIXn */
    int accounts;               /* n; 0: one account */
    const char *password;
    const char *exp, *cat;
    double start_delay;         /* < 0: the original's (0, or 4 steps at 5+) */
    double step_delay;
    int at_once;
    bot_after_reserve_t after_reserve;
    double wait_step, wait_max; /* waiting: min((pos+1)*step, max) s */
    double confirm_wait;        /* waiting_confirmation */
    double timeout;             /* whole run */
    double call_timeout;        /* one request */
    int max_connections;
    int cleanup;                /* after a failure, finish and log out */
    const char *program;        /* bytes sent by send_file (base64'd) */
    size_t program_len;
    char *owned_url, *owned_program;    /* freed by bot_options_free */
    const char *csv, *json, *plot_dir, *label;
    int progress, quiet, allow_remote;
} bot_options_t;

/* Parse argv into o (defaults first). Returns -1 to go on, else an exit
 * status (0 after --help/--version, BOT_EXIT_USAGE after an error, which
 * is printed). */
int bot_options_parse(bot_options_t *o, int argc, char **argv);

/* Free what bot_options_parse allocated in o. */
void bot_options_free(bot_options_t *o);

/* Parse "1-4,5-150/5,1000" into a new array (malloc); returns the count,
 * or -1 on a malformed list. */
int bot_parse_users(const char *text, int **out);

/* Non-zero when the host of url is a loopback address or "localhost". */
int bot_url_is_loopback(const char *url);

/* ---- statistics (stats.c) ---- */

typedef struct bot_error_kind_t {
    char *what;                 /* "JSON:Client.InvalidCredentials", ... */
    long count;
} bot_error_kind_t;

#define BOT_MAX_ERROR_KINDS 8

/* Samples of one method in one scenario (all its iterations). */
typedef struct bot_series_t {
    double *samples;            /* seconds of the successful calls */
    long n, cap;
    long errors;
    bot_error_kind_t kinds[BOT_MAX_ERROR_KINDS];
    int nkinds;
    long other_kinds;           /* errors beyond BOT_MAX_ERROR_KINDS kinds */
} bot_series_t;

/* What is reported for a series. Times in seconds. */
typedef struct bot_summary_t {
    long count;                 /* successful + failed calls */
    long errors;
    double min, max, mean, stddev, p50, p95, p99;
} bot_summary_t;

/* Record a successful call of `seconds`. */
void bot_series_add(bot_series_t *s, double seconds);
/* Record a failed call; `what` (copied) is its kind, e.g. the JSON code. */
void bot_series_error(bot_series_t *s, const char *what);
/* Sorts the samples and fills sum. */
void bot_series_summarize(bot_series_t *s, bot_summary_t *sum);
/* Free the samples and kinds; s is empty again. */
void bot_series_free(bot_series_t *s);

/* Results of one user count. */
typedef struct bot_result_t {
    int users;
    int iterations;
    bot_series_t series[BOT_METHOD_COUNT];
    bot_summary_t summary[BOT_METHOD_COUNT];    /* filled by finish */
    double wall_seconds;        /* summed over iterations */
    long cycles_ok, cycles_failed, unfinished;
    long requests;
    json_t *routes;             /* {"route1": n}, owned */
    int timed_out;
} bot_result_t;

/* An empty result for `users` students; bot_result_free releases it. */
void bot_result_init(bot_result_t *r, int users);
/* Fill r->summary from the series once every iteration ran. */
void bot_result_finish(bot_result_t *r);
void bot_result_free(bot_result_t *r);

/* ---- HTTP/JSON client (client.c) ---- */

typedef struct bot_client_t bot_client_t;
typedef struct bot_request_t bot_request_t;

/* How a request ended. Body is NUL-terminated, owned by the client and
 * valid during the callback only. */
typedef struct bot_reply_t {
    CURLcode code;              /* CURLE_OK when an answer came */
    const char *curl_error;     /* message when code != CURLE_OK */
    long http_status;
    double seconds;             /* added to the loop .. complete */
    double since_written;       /* just before its request was sent ..
                                   its last answer bytes (our clock) */
    const char *body;
    size_t len;
} bot_reply_t;

typedef void bot_reply_fn(void *baton, const bot_reply_t *reply);
typedef void bot_timer_fn(void *baton);

/* One request slot; a student embeds one and reuses it (and its easy
 * handle, which keeps the student's cookies) for each of its calls. */
struct bot_request_t {
    CURL *easy;
    char *body;                 /* malloc'd JSON, freed after the call */
    char *resp;
    size_t resp_len, resp_cap;
    int resp_too_big;
    bot_reply_fn *fn;
    void *baton;
    bot_request_t *next_pending;    /* FIFO of requests over the cap */
    bot_request_t *prev_active, *next_active;   /* handed to curl */
    int busy;                   /* between call and callback */
    double t_written;           /* just before the request is sent */
    double t_last_data;         /* last answer bytes received */
};

/* A client for base_url ("http://127.0.0.1:8000"). max_inflight caps the
 * requests (hence connections) in flight; more wait in a FIFO before they
 * are timed. NULL on failure (printed). */
bot_client_t *bot_client_create(const char *base_url, int max_inflight,
                                 double call_timeout);
/* Abort what is in flight (no callbacks) and free c. */
void bot_client_destroy(bot_client_t *c);
/* Change the cap (and the idle connections curl keeps). */
void bot_client_set_max_inflight(bot_client_t *c, int max_inflight);

/* Make req's easy handle: cookie engine on, no proxy, timeouts. 0 on
 * success. bot_request_cleanup frees it. */
int bot_request_init(bot_client_t *c, bot_request_t *req);
void bot_request_cleanup(bot_request_t *req);

/* POST the JSON-RPC call {"method": method, "params": params} to path
 * ("/weblab/json/"); steals params. fn runs once, from the loop. */
void bot_client_call(bot_client_t *c, bot_request_t *req, const char *path,
                     const char *method, json_t *params, bot_reply_fn *fn,
                     void *baton);

/* Run fn(baton) from the loop at monotonic time `when` (bot_now()). */
void bot_client_timer(bot_client_t *c, double when, bot_timer_fn *fn,
                      void *baton);

/* One turn of the loop: due timers, pending requests, transfers,
 * callbacks; waits at most max_wait seconds for activity. */
void bot_client_step(bot_client_t *c, double max_wait);

/* Drop every timer and in-flight or pending request without calling back
 * (used when the time bound is reached). Returns how many requests were
 * in flight or pending. */
long bot_client_abort(bot_client_t *c);

/* Counters for the progress line: requests handed to curl, requests
 * waiting for the cap, timers set, requests completed. */
long bot_client_inflight(const bot_client_t *c);
long bot_client_pending(const bot_client_t *c);
long bot_client_timers(const bot_client_t *c);
long bot_client_completed(const bot_client_t *c);

/* The value of cookie `name` in req's jar (malloc'd), or NULL. */
char *bot_request_cookie(bot_request_t *req, const char *name);

/* Monotonic seconds. */
double bot_now(void);

/* ---- students and scenarios (student.c, scenario.c) ---- */

typedef struct bot_scenario_t bot_scenario_t;
typedef struct bot_student_t bot_student_t;

/* Student k of scenario sc: allocate and prepare (its easy handle), or
 * NULL. */
bot_student_t *bot_student_create(bot_scenario_t *sc, int k);
/* Free st; it must have no request in flight. */
void bot_student_destroy(bot_student_t *st);
/* Begin the cycle now (login). */
void bot_student_start(void *st);
/* At once: after the barrier, send reserve_experiment now. */
void bot_student_reserve(bot_student_t *st);
/* Non-zero when the student waits at the barrier. */
int bot_student_ready(const bot_student_t *st);
/* At once, finish mode: every reserve of the burst is answered; finish
 * (cancel) now. */
void bot_student_finish(bot_student_t *st);
/* Non-zero when the student holds a reservation and waits for the rest of
 * the burst to be answered. */
int bot_student_reserved(const bot_student_t *st);

/* Shared by the students of one run. */
struct bot_scenario_t {
    const bot_options_t *opt;
    bot_client_t *client;
    bot_result_t *result;
    int users;
    char *program_b64;
    bot_student_t **students;
    long finished;              /* students done (ok or failed) */
    long ready;                 /* at the barrier (at once) */
    int burst_sent;
    long reserved;              /* answered, waiting for the burst's end */
    int burst_answered;
};

/* Called by a student when it is done (ok: its cycle completed). */
void bot_scenario_student_done(bot_scenario_t *sc, bot_student_t *st,
                               int ok);
/* Called by a student reaching the barrier. */
void bot_scenario_student_ready(bot_scenario_t *sc);
/* At once, finish mode: called by a student whose reserve was answered. */
void bot_scenario_student_reserved(bot_scenario_t *sc);

/* Run one iteration of `users` students into result. deadline: monotonic
 * time to give up at. Returns 0, or BOT_EXIT_TIMEOUT. */
int bot_scenario_run(const bot_options_t *opt, bot_client_t *client,
                     bot_result_t *result, int users, int iteration,
                     double deadline);

/* ---- output (report.c, plot.c) ---- */

/* The readable table of one result on out. */
void bot_report_table(FILE *out, const bot_options_t *opt,
                      const bot_result_t *r);
/* CSV / JSON of every result; 0 or -1 (printed). */
int bot_report_csv(const char *path, const bot_options_t *opt,
                   const bot_result_t *rs, int n);
int bot_report_json(const char *path, const bot_options_t *opt,
                    const bot_result_t *rs, int n, int timed_out,
                    double elapsed);
/* DIR/<method>.png (+ .dat, plots.gp) through gnuplot; 0 or -1. */
int bot_plot(const char *dir, const bot_options_t *opt,
             const bot_result_t *rs, int n);

/* "ERROR: ..." on stderr. */
void bot_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bot_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
