/* weblab-bot options: one table gives getopt_long its options and --help
 * its text, so they cannot drift apart. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot.h"

#define BOT_DEFAULT_URL "http://127.0.0.1:8000"
#define BOT_DEFAULT_USERS "1-4,5-150/5"
/* The original's PROGRAM_FILE (tools/Bot/configuration.py.dist). */
#define BOT_DEFAULT_PROGRAM "this is the content of the file"
#define BOT_MAX_STUDENTS 1000000

enum {
    OPT_URL = 256, OPT_USERS, OPT_ITERATIONS, OPT_USER, OPT_PASSWORD,
    OPT_USER_PREFIX, OPT_ACCOUNTS, OPT_EXP, OPT_CAT, OPT_START_DELAY,
    OPT_STEP_DELAY, OPT_AT_ONCE, OPT_AFTER_RESERVE, OPT_PACING,
    OPT_WAIT_STEP, OPT_WAIT_MAX, OPT_CONFIRM_WAIT, OPT_TIMEOUT,
    OPT_CALL_TIMEOUT, OPT_MAX_CONNECTIONS, OPT_NO_CLEANUP,
    OPT_PROGRAM_FILE, OPT_CSV, OPT_JSON, OPT_PLOT_DIR, OPT_LABEL,
    OPT_PROGRESS, OPT_QUIET, OPT_ALLOW_REMOTE, OPT_HELP = 'h',
    OPT_VERSION = 'V'
};

typedef struct bot_opt_doc_t {
    const char *name;
    int has_arg;
    int id;
    const char *arg;            /* argument name in --help */
    const char *help;
} bot_opt_doc_t;

static const bot_opt_doc_t option_docs[] = {
    { "url", 1, OPT_URL, "URL",
      "server base, /weblab/... is appended (" BOT_DEFAULT_URL ")" },
    { "users", 1, OPT_USERS, "LIST",
      "student counts to run, e.g. 1,3 or 1-4,5-150/5 (the original's: "
      BOT_DEFAULT_USERS ")" },
    { "iterations", 1, OPT_ITERATIONS, "N",
      "runs of each student count; statistics pool them (1)" },
    { "user", 1, OPT_USER, "LOGIN", "account of every student (admin)" },
    { "password", 1, OPT_PASSWORD, "PW", "its password (password)" },
    { "user-prefix", 1, OPT_USER_PREFIX, "PREFIX",
      "with --accounts N: student k logs in as PREFIX1..PREFIXN in turn" },
    { "accounts", 1, OPT_ACCOUNTS, "N",
      "number of PREFIXn accounts (same --password)" },
    { "exp", 1, OPT_EXP, "NAME", "experiment to reserve (dummy)" },
    { "cat", 1, OPT_CAT, "NAME", "its category (Dummy experiments)" },
    { "start-delay", 1, OPT_START_DELAY, "S",
      "first student starts after S s (the original's scenarios: 0 below "
      "5 students, else 4 step delays)" },
    { "step-delay", 1, OPT_STEP_DELAY, "S",
      "student k starts k*S s after the first (0.05)" },
    { "at-once", 0, OPT_AT_ONCE, NULL,
      "press Reserve at once: all log in first (one connection each), then "
      "every reserve_experiment is written back to back and timed from the "
      "write of its own request" },
    { "after-reserve", 1, OPT_AFTER_RESERVE, "cycle|finish",
      "with --at-once: go on with the cycle, or finish (cancel) at once "
      "(cycle)" },
    { "pacing", 1, OPT_PACING, "original|none",
      "waits between status polls: the original's (waiting: "
      "min((position+1) s, 10 s); waiting_confirmation: 1.2 s) or none "
      "(original)" },
    { "wait-step", 1, OPT_WAIT_STEP, "S",
      "waiting: poll after min((position+1)*S, --wait-max) s" },
    { "wait-max", 1, OPT_WAIT_MAX, "S", "upper bound of that wait" },
    { "confirm-wait", 1, OPT_CONFIRM_WAIT, "S",
      "waiting_confirmation: poll after S s" },
    { "timeout", 1, OPT_TIMEOUT, "S",
      "hard bound for the whole run; unfinished work is dropped (600)" },
    { "call-timeout", 1, OPT_CALL_TIMEOUT, "S",
      "bound for one request, counted as an error (60)" },
    { "max-connections", 1, OPT_MAX_CONNECTIONS, "N",
      "requests (so connections) in flight at most; --at-once raises it to "
      "the student count (128)" },
    { "no-cleanup", 0, OPT_NO_CLEANUP, NULL,
      "after a failure leave the reservation and session behind, as the "
      "original does (default: finish and log out, untimed)" },
    { "program-file", 1, OPT_PROGRAM_FILE, "FILE",
      "file sent by send_file (the original's 31-byte text)" },
    { "csv", 1, OPT_CSV, "FILE", "write one row per student count and method" },
    { "json", 1, OPT_JSON, "FILE", "write every statistic as JSON" },
    { "plot-dir", 1, OPT_PLOT_DIR, "DIR",
      "write DIR/<method>.png through gnuplot: users on x, seconds on y; "
      "max red, min blue, mean +- stddev green" },
    { "label", 1, OPT_LABEL, "TEXT",
      "configuration name for the plots and the JSON" },
    { "progress", 0, OPT_PROGRESS, NULL, "a progress line on stderr" },
    { "quiet", 0, OPT_QUIET, NULL, "no table on stdout" },
    { "allow-remote", 0, OPT_ALLOW_REMOTE, NULL,
      "allow a --url that is not loopback" },
    { "help", 0, OPT_HELP, NULL, "show this help" },
    { "version", 0, OPT_VERSION, NULL, "print the version" },
    { NULL, 0, 0, NULL, NULL }
};

void bot_error(const char *fmt, ...)
{
    va_list ap;
    fputs("ERROR: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bot_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("WARNING: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* "  LEFT   help" with help wrapped at 79 columns under its column. */
static void print_wrapped(const char *left, const char *help)
{
    const int col = 31, width = 79 - 31;
    const char *p = help;
    if (strlen(left) > 28) {
        printf("  %s\n%*s", left, col, "");
    }
    else {
        printf("  %-28s ", left);
    }
    while (*p) {
        int len = (int)strlen(p), cut = len;
        if (len > width) {
            for (cut = width; cut > 0 && p[cut] != ' '; cut--) {
            }
            if (cut == 0) {
                cut = width;
            }
        }
        printf("%.*s\n", cut, p);
        p += cut;
        while (*p == ' ') {
            p++;
        }
        if (*p) {
            printf("%*s", col, "");
        }
    }
}

static void print_help(const char *prog)
{
    const bot_opt_doc_t *d;
    printf("usage: %s [options]\n\n"
           "Simulates students of a WebLab-Deusto server (spec section 7): "
           "each logs in,\ncalls get_user_information and list_experiments, "
           "reserves the experiment,\npolls get_reservation_status until "
           "confirmed, sends a file and\n\"ChangeSwitch on 0\", finishes and "
           "logs out. For each student count it prints\ncount, errors, min, "
           "mean, stddev, p50, p95, p99 and max of every method.\n\n"
           "options:\n", prog);
    for (d = option_docs; d->name; d++) {
        char left[64];
        if (d->id < 256) {
            snprintf(left, sizeof(left), "-%c, --%s%s%s", d->id, d->name,
                     d->arg ? " " : "", d->arg ? d->arg : "");
        }
        else {
            snprintf(left, sizeof(left), "    --%s%s%s", d->name,
                     d->arg ? " " : "", d->arg ? d->arg : "");
        }
        print_wrapped(left, d->help);
    }
    printf("\nTimes: a call is timed from when it is handed to the event "
           "loop (connect\nincluded) to its answer; with --at-once, "
           "reserve_experiment is timed from the\nwrite of its request. "
           "An is_exception answer, an HTTP error or a timeout is an\n"
           "error of that method, and the student stops.\n\n"
           "exit status: 0 no error; 1 some calls failed; 2 usage; 3 server "
           "unreachable;\n4 --timeout reached.\n");
}

static int parse_double(double *out, const char *text, const char *name,
                        double min)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min) {
        bot_error("%s: expected a number >= %g, got \"%s\"", name, min, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_int(int *out, const char *text, const char *name, int min,
                     int max)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        bot_error("%s: expected an integer from %d to %d, got \"%s\"", name,
                  min, max, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_count(const char **p, long *out)
{
    char *end;
    long v;
    if (!isdigit((unsigned char)**p)) {
        return -1;
    }
    errno = 0;
    v = strtol(*p, &end, 10);
    if (errno || v < 1 || v > BOT_MAX_STUDENTS) {
        return -1;
    }
    *p = end;
    *out = v;
    return 0;
}

void bot_options_free(bot_options_t *o)
{
    free(o->users);
    free(o->owned_url);
    free(o->owned_program);
    o->users = NULL;
    o->owned_url = o->owned_program = NULL;
}

int bot_parse_users(const char *text, int **out)
{
    int n = 0, cap = 16;
    int *v = malloc(cap * sizeof(*v));
    const char *p = text;
    if (!v) {
        return -1;
    }
    for (;;) {
        long a, b, step = 1, i;
        while (*p == ' ') {
            p++;
        }
        if (parse_count(&p, &a)) {
            goto bad;
        }
        b = a;
        if (*p == '-') {
            p++;
            if (parse_count(&p, &b) || b < a) {
                goto bad;
            }
            if (*p == '/') {
                p++;
                if (parse_count(&p, &step)) {
                    goto bad;
                }
            }
        }
        for (i = a; i <= b; i += step) {
            if (n == 1000) {
                goto bad;
            }
            if (n == cap) {
                int *nv = realloc(v, 2 * cap * sizeof(*v));
                if (!nv) {
                    goto bad;
                }
                v = nv;
                cap *= 2;
            }
            v[n++] = (int)i;
        }
        while (*p == ' ') {
            p++;
        }
        if (!*p) {
            break;
        }
        if (*p != ',') {
            goto bad;
        }
        p++;
    }
    *out = v;
    return n;
bad:
    free(v);
    return -1;
}

int bot_url_is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int ok = 0;
    if (!u) {
        return 0;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        char buf[64];
        size_t len = strlen(host);
        unsigned char a4[4], a6[16];
        if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.")) {
            ok = 1;
        }
        else if (inet_pton(AF_INET, host, a4) == 1) {
            ok = a4[0] == 127;
        }
        else if (len > 2 && len < sizeof(buf) && host[0] == '['
                 && host[len - 1] == ']') {
            memcpy(buf, host + 1, len - 2);
            buf[len - 2] = '\0';
            if (inet_pton(AF_INET6, buf, a6) == 1) {
                static const unsigned char lo[16] = { [15] = 1 };
                static const unsigned char mapped[12] = {
                    [10] = 0xff, [11] = 0xff };
                ok = !memcmp(a6, lo, 16)
                     || (!memcmp(a6, mapped, 12) && a6[12] == 127);
            }
        }
        curl_free(host);
    }
    curl_url_cleanup(u);
    return ok;
}

static int check_url(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
        ok = !strcmp(scheme, "http") || !strcmp(scheme, "https");
        curl_free(scheme);
    }
    curl_url_cleanup(u);
    return ok;
}

static int read_program(bot_options_t *o, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;
    if (!f) {
        bot_error("--program-file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || len > 10 << 20
        || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        bot_error("--program-file %s: unreadable or larger than 10 MB", path);
        return -1;
    }
    buf = malloc(len + 1);
    if (!buf || fread(buf, 1, len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        bot_error("--program-file %s: read failed", path);
        return -1;
    }
    fclose(f);
    buf[len] = '\0';
    free(o->owned_program);
    o->owned_program = buf;
    o->program = buf;
    o->program_len = len;
    return 0;
}

int bot_options_parse(bot_options_t *o, int argc, char **argv)
{
    struct option longopts[sizeof(option_docs) / sizeof(option_docs[0])];
    const char *users = BOT_DEFAULT_USERS, *pacing = "original";
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
                                             : argv[0];
    double wait_step = NAN, wait_max = NAN, confirm_wait = NAN;
    size_t i;
    int c;

    memset(o, 0, sizeof(*o));
    o->url = BOT_DEFAULT_URL;
    o->iterations = 1;
    o->user = "admin";
    o->password = "password";
    o->exp = "dummy";
    o->cat = "Dummy experiments";
    o->start_delay = -1;
    o->step_delay = 0.05;
    o->timeout = 600;
    o->call_timeout = 60;
    o->max_connections = 128;
    o->cleanup = 1;
    o->program = BOT_DEFAULT_PROGRAM;
    o->program_len = strlen(BOT_DEFAULT_PROGRAM);

    for (i = 0; option_docs[i].name; i++) {
        longopts[i].name = option_docs[i].name;
        longopts[i].has_arg = option_docs[i].has_arg;
        longopts[i].flag = NULL;
        longopts[i].val = option_docs[i].id;
    }
    memset(&longopts[i], 0, sizeof(longopts[i]));

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_URL: o->url = optarg; break;
        case OPT_USERS: users = optarg; break;
        case OPT_ITERATIONS:
            rc = parse_int(&o->iterations, optarg, "--iterations", 1, 1000);
            break;
        case OPT_USER: o->user = optarg; break;
        case OPT_PASSWORD: o->password = optarg; break;
        case OPT_USER_PREFIX: o->user_prefix = optarg; break;
        case OPT_ACCOUNTS:
            rc = parse_int(&o->accounts, optarg, "--accounts", 1,
                           BOT_MAX_STUDENTS);
            break;
        case OPT_EXP: o->exp = optarg; break;
        case OPT_CAT: o->cat = optarg; break;
        case OPT_START_DELAY:
            rc = parse_double(&o->start_delay, optarg, "--start-delay", 0);
            break;
        case OPT_STEP_DELAY:
            rc = parse_double(&o->step_delay, optarg, "--step-delay", 0);
            break;
        case OPT_AT_ONCE: o->at_once = 1; break;
        case OPT_AFTER_RESERVE:
            if (!strcmp(optarg, "cycle")) {
                o->after_reserve = BOT_AFTER_RESERVE_CYCLE;
            }
            else if (!strcmp(optarg, "finish")) {
                o->after_reserve = BOT_AFTER_RESERVE_FINISH;
            }
            else {
                bot_error("--after-reserve: expected cycle or finish, got "
                          "\"%s\"", optarg);
                rc = -1;
            }
            break;
        case OPT_PACING:
            if (strcmp(optarg, "original") && strcmp(optarg, "none")) {
                bot_error("--pacing: expected original or none, got \"%s\"",
                          optarg);
                rc = -1;
            }
            pacing = optarg;
            break;
        case OPT_WAIT_STEP:
            rc = parse_double(&wait_step, optarg, "--wait-step", 0);
            break;
        case OPT_WAIT_MAX:
            rc = parse_double(&wait_max, optarg, "--wait-max", 0);
            break;
        case OPT_CONFIRM_WAIT:
            rc = parse_double(&confirm_wait, optarg, "--confirm-wait", 0);
            break;
        case OPT_TIMEOUT:
            rc = parse_double(&o->timeout, optarg, "--timeout", 0.001);
            break;
        case OPT_CALL_TIMEOUT:
            rc = parse_double(&o->call_timeout, optarg, "--call-timeout",
                              0.001);
            break;
        case OPT_MAX_CONNECTIONS:
            rc = parse_int(&o->max_connections, optarg, "--max-connections",
                           1, BOT_MAX_STUDENTS);
            break;
        case OPT_NO_CLEANUP: o->cleanup = 0; break;
        case OPT_PROGRAM_FILE: rc = read_program(o, optarg); break;
        case OPT_CSV: o->csv = optarg; break;
        case OPT_JSON: o->json = optarg; break;
        case OPT_PLOT_DIR: o->plot_dir = optarg; break;
        case OPT_LABEL: o->label = *optarg ? optarg : NULL; break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_ALLOW_REMOTE: o->allow_remote = 1; break;
        case OPT_HELP:
            print_help(prog);
            return BOT_EXIT_OK;
        case OPT_VERSION:
            printf("weblab-bot (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
            return BOT_EXIT_OK;
        case ':':
            bot_error("%s needs a value (see %s --help)", argv[optind - 1],
                      prog);
            return BOT_EXIT_USAGE;
        default:
            bot_error("unknown option %s (see %s --help)", argv[optind - 1],
                      prog);
            return BOT_EXIT_USAGE;
        }
        if (rc) {
            return BOT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        bot_error("unexpected argument \"%s\" (see %s --help)", argv[optind],
                  prog);
        return BOT_EXIT_USAGE;
    }

    if (!strcmp(pacing, "original")) {
        o->wait_step = 1.0;
        o->wait_max = 10.0;
        o->confirm_wait = 1.2;
    }
    if (!isnan(wait_step)) {
        o->wait_step = wait_step;
    }
    if (!isnan(wait_max)) {
        o->wait_max = wait_max;
    }
    if (!isnan(confirm_wait)) {
        o->confirm_wait = confirm_wait;
    }

    if ((o->nusers = bot_parse_users(users, &o->users)) <= 0) {
        bot_error("--users: expected counts like 1,3 or 1-4,5-150/5 (at most "
                  "1000 counts of 1 to %d), got \"%s\"", BOT_MAX_STUDENTS,
                  users);
        return BOT_EXIT_USAGE;
    }
    if (!!o->user_prefix != !!o->accounts) {
        bot_error("--user-prefix and --accounts go together");
        return BOT_EXIT_USAGE;
    }
    if (!check_url(o->url)) {
        bot_error("--url: expected an http:// or https:// URL, got \"%s\"",
                  o->url);
        return BOT_EXIT_USAGE;
    }
    if (!o->allow_remote && !bot_url_is_loopback(o->url)) {
        bot_error("--url %s is not a loopback address; pass --allow-remote "
                  "to load another machine", o->url);
        return BOT_EXIT_USAGE;
    }
    {
        /* the paths are appended to the base */
        size_t len = strlen(o->url);
        char *u = strdup(o->url);
        while (len > 0 && u[len - 1] == '/') {
            u[--len] = '\0';
        }
        o->url = o->owned_url = u;
    }
    return -1;
}
