/* weblab-admin entry point: the subcommand table, option parsing with
 * apr_getopt_long, --help on every subcommand, output helpers and the
 * privilege drop that keeps a root-run tool from leaving root-owned files
 * in a deployment (the model is icing/mod_md's a2md command table). */
#include "admin.h"

#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>

const apr_getopt_option_t admin_json_option[] = {
    { "json", OPT_JSON, 0, "print JSON instead of a table" },
    { NULL, 0, 0, NULL }
};

const apr_getopt_option_t admin_no_options[] = {
    { NULL, 0, 0, NULL }
};

static const admin_cmd_t commands[] = {
    { "create", admin_cmd_create, "DIR [options]",
      "create a new deployment in DIR (databases, httpd configurations)",
      admin_create_options, 1, 1 },
    { "start", admin_cmd_start, "DIR",
      "start the experiment servers, the core httpds and the front",
      admin_start_options, 1, 1 },
    { "stop", admin_cmd_stop, "DIR", "stop every process of the deployment",
      admin_stop_options, 1, 1 },
    { "restart", admin_cmd_restart, "DIR",
      "graceful restart of the httpds (starts what is not running)",
      admin_start_options, 1, 1 },
    { "status", admin_cmd_status, "DIR [--json]",
      "each process with its pid, port and state", admin_status_options, 1,
      1 },
    { "httpd-config-generate", admin_cmd_httpd_config_generate, "DIR",
      "regenerate DIR/httpd/* from DIR/weblab.conf (old files are backed up)",
      admin_no_options, 1, 1 },
    { "user add", admin_cmd_user_add, "DIR LOGIN [options]",
      "add a user", admin_user_add_options, 2, 2 },
    { "user list", admin_cmd_user_list, "DIR [--json]", "list the users",
      admin_json_option, 1, 1 },
    { "user remove", admin_cmd_user_remove, "DIR LOGIN",
      "remove a user that has no uses", admin_no_options, 2, 2 },
    { "user passwd", admin_cmd_user_passwd, "DIR LOGIN --password P",
      "set a user's password", admin_user_passwd_options, 2, 2 },
    { "user verify", admin_cmd_user_verify, "DIR LOGIN --password P",
      "check a password (exit status 0 when it matches)",
      admin_user_verify_options, 2, 2 },
    { "user disable", admin_cmd_user_disable, "DIR LOGIN",
      "forbid a user to log in (keeps the uses)", admin_no_options, 2, 2 },
    { "user enable", admin_cmd_user_enable, "DIR LOGIN",
      "allow a disabled user to log in again", admin_no_options, 2, 2 },
    { "group add", admin_cmd_group_add, "DIR NAME [--parent P]",
      "add a group", admin_group_add_options, 2, 2 },
    { "group list", admin_cmd_group_list, "DIR [--json]",
      "list the groups and their members", admin_json_option, 1, 1 },
    { "group remove", admin_cmd_group_remove, "DIR NAME",
      "remove a group without subgroups", admin_no_options, 2, 2 },
    { "group add-user", admin_cmd_group_add_user, "DIR GROUP LOGIN",
      "put a user in a group", admin_no_options, 3, 3 },
    { "group remove-user", admin_cmd_group_remove_user, "DIR GROUP LOGIN",
      "take a user out of a group", admin_no_options, 3, 3 },
    { "grant", admin_cmd_grant,
      "DIR (--user L | --group G | --role R) EXP@CAT --time SECONDS",
      "allow a user, group or role to use an experiment",
      admin_grant_options, 2, 2 },
    { "revoke", admin_cmd_revoke, "DIR (--user L | --group G | --role R) "
      "EXP@CAT", "remove such a permission", admin_revoke_options, 2, 2 },
    { "permissions", admin_cmd_permissions, "DIR [--json]",
      "list every permission", admin_json_option, 1, 1 },
    { "experiment add", admin_cmd_experiment_add, "DIR EXP@CAT [options]",
      "add an experiment type", admin_experiment_add_options, 2, 2 },
    { "experiment list", admin_cmd_experiment_list, "DIR [--json]",
      "list the experiments", admin_json_option, 1, 1 },
    { "experiment remove", admin_cmd_experiment_remove, "DIR EXP@CAT",
      "remove an experiment that has no uses", admin_no_options, 2, 2 },
    { "instance add", admin_cmd_instance_add,
      "DIR EXP@CAT INSTANCE --url URL [options]",
      "declare a lab instance serving an experiment",
      admin_instance_add_options, 3, 3 },
    { "instance list", admin_cmd_instance_list, "DIR [--json]",
      "list the lab instances", admin_json_option, 1, 1 },
    { "instance remove", admin_cmd_instance_remove, "DIR EXP@CAT INSTANCE",
      "remove a lab instance", admin_no_options, 3, 3 },
    { "instance checkers", admin_cmd_instance_checkers,
      "DIR EXP@CAT INSTANCE [--check-... | --clear | --json]",
      "list, replace (--check-*) or remove (--clear) the health checks of a"
      " lab instance", admin_instance_checkers_options, 3, 3 },
    { "uses", admin_cmd_uses, "DIR [--user L] [--limit N] [--json]",
      "the uses log, latest first, with the number of commands",
      admin_uses_options, 1, 1 },
    { NULL, NULL, NULL, NULL, NULL, 0, 0 }
};

/* ---- output helpers ---- */

int admin_error(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("ERROR: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return ADMIN_EXIT_ERROR;
}

void admin_warn(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("WARNING: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int admin_json_print(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    json_decref(v);
    if (!s) {
        return admin_error("could not encode the JSON output");
    }
    puts(s);
    free(s);
    return ADMIN_EXIT_OK;
}

json_t *admin_json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

struct admin_table_t {
    apr_pool_t *pool;
    int ncols;
    apr_array_header_t *rows;   /* of const char ** */
};

admin_table_t *admin_table_make(apr_pool_t *p, int ncols, ...)
{
    admin_table_t *t = apr_pcalloc(p, sizeof(*t));
    const char **head = apr_pcalloc(p, sizeof(char *) * ncols);
    va_list ap;
    int i;

    t->pool = p;
    t->ncols = ncols;
    t->rows = apr_array_make(p, 16, sizeof(const char **));
    va_start(ap, ncols);
    for (i = 0; i < ncols; i++) {
        head[i] = va_arg(ap, const char *);
    }
    va_end(ap);
    APR_ARRAY_PUSH(t->rows, const char **) = head;
    return t;
}

void admin_table_row(admin_table_t *t, ...)
{
    const char **row = apr_pcalloc(t->pool, sizeof(char *) * t->ncols);
    va_list ap;
    int i;

    va_start(ap, t);
    for (i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);

        row[i] = s && *s ? s : "-";
    }
    va_end(ap);
    APR_ARRAY_PUSH(t->rows, const char **) = row;
}

/* Display width of a UTF-8 string (code points). */
static int width_of(const char *s)
{
    int n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return n;
}

void admin_table_print(const admin_table_t *t)
{
    int *w = apr_pcalloc(t->pool, sizeof(int) * t->ncols);
    int r, c;

    for (r = 0; r < t->rows->nelts; r++) {
        const char **row = APR_ARRAY_IDX(t->rows, r, const char **);

        for (c = 0; c < t->ncols; c++) {
            int n = width_of(row[c]);

            w[c] = n > w[c] ? n : w[c];
        }
    }
    for (r = 0; r < t->rows->nelts; r++) {
        const char **row = APR_ARRAY_IDX(t->rows, r, const char **);

        for (c = 0; c < t->ncols; c++) {
            if (c == t->ncols - 1) {
                printf("%s\n", row[c]);
            }
            else {
                printf("%s%*s  ", row[c], w[c] - width_of(row[c]), "");
            }
        }
    }
}

/* ---- privileges ---- */

static int drop_to(uid_t uid, gid_t gid, const char *name)
{
    if (name ? initgroups(name, gid) : setgroups(0, NULL)) {
        return admin_error("could not set the groups of %s: %s",
                           name ? name : "the owner", strerror(errno));
    }
    if (setgid(gid) || setuid(uid)) {
        return admin_error("could not switch to user %s (uid %ld): %s",
                           name ? name : "?", (long)uid, strerror(errno));
    }
    if (uid != 0 && setuid(0) == 0) {
        return admin_error("root privileges could not be dropped");
    }
    return ADMIN_EXIT_OK;
}

int admin_drop_privileges_to_owner(const char *path)
{
    struct passwd *pw;
    struct stat st;

    if (geteuid() != 0) {
        return ADMIN_EXIT_OK;
    }
    if (stat(path, &st)) {
        return admin_error("%s: %s", path, strerror(errno));
    }
    if (st.st_uid == 0) {
        return ADMIN_EXIT_OK;
    }
    pw = getpwuid(st.st_uid);
    return drop_to(st.st_uid, pw ? pw->pw_gid : st.st_gid,
                   pw ? pw->pw_name : NULL);
}

int admin_drop_privileges_to_user(const char *user)
{
    struct passwd *pw = getpwnam(user);

    if (!pw) {
        return admin_error("user '%s' does not exist", user);
    }
    return drop_to(pw->pw_uid, pw->pw_gid, pw->pw_name);
}

/* ---- options ---- */

const char *admin_opt(const admin_args_t *a, int id)
{
    const char *v = NULL;
    int i;

    for (i = 0; i < a->opts->nelts; i++) {
        const admin_opt_t *o = &APR_ARRAY_IDX(a->opts, i, admin_opt_t);

        if (o->id == id) {
            v = o->value ? o->value : "";
        }
    }
    return v;
}

int admin_flag(const admin_args_t *a, int id)
{
    return admin_opt(a, id) != NULL;
}

apr_array_header_t *admin_opt_all(const admin_args_t *a, int id,
                                  apr_pool_t *p)
{
    apr_array_header_t *all = apr_array_make(p, 2, sizeof(const char *));
    int i;

    for (i = 0; i < a->opts->nelts; i++) {
        const admin_opt_t *o = &APR_ARRAY_IDX(a->opts, i, admin_opt_t);

        if (o->id == id) {
            APR_ARRAY_PUSH(all, const char *) = o->value;
        }
    }
    return all;
}

int admin_opt_int(int *out, const admin_args_t *a, int id, const char *name,
                  int dflt)
{
    const char *s = admin_opt(a, id);
    char *end;
    long v;

    if (!s) {
        *out = dflt;
        return ADMIN_EXIT_OK;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < -1000000000L || v > 1000000000L) {
        return admin_error("%s expects an integer, not '%s'", name, s);
    }
    *out = (int)v;
    return ADMIN_EXIT_OK;
}

int admin_opt_double(double *out, const admin_args_t *a, int id,
                     const char *name, double dflt)
{
    const char *s = admin_opt(a, id);
    char *end;
    double v;

    if (!s) {
        *out = dflt;
        return ADMIN_EXIT_OK;
    }
    errno = 0;
    v = strtod(s, &end);
    if (!*s || *end || errno) {
        return admin_error("%s expects a number, not '%s'", name, s);
    }
    *out = v;
    return ADMIN_EXIT_OK;
}

/* The help line's argument name: descriptions start with "=META ". */
static void describe(const apr_getopt_option_t *o, const char **meta,
                     const char **text, apr_pool_t *p)
{
    const char *d = o->description ? o->description : "";

    *meta = "";
    *text = d;
    if (d[0] == '=') {
        const char *sp = strchr(d, ' ');

        *meta = sp ? apr_pstrmemdup(p, d + 1, sp - d - 1) : d + 1;
        *text = sp ? sp + 1 : "";
    }
}

static void print_options(FILE *out, const apr_getopt_option_t *opts,
                          apr_pool_t *p)
{
    for (; opts && opts->name; opts++) {
        const char *meta, *text, *left;

        if (!opts->description) {
            continue;                   /* hidden */
        }
        describe(opts, &meta, &text, p);
        left = apr_psprintf(p, "%s--%s%s%s",
                            opts->optch < 256
                            ? apr_psprintf(p, "-%c, ", opts->optch) : "    ",
                            opts->name, *meta ? " " : "", meta);
        if (strlen(left) < 30) {
            fprintf(out, "  %-30s %s\n", left, text);
        }
        else {
            fprintf(out, "  %s\n  %-30s %s\n", left, "", text);
        }
    }
}

static void command_help(FILE *out, const char *prog, const admin_cmd_t *c,
                         apr_pool_t *p)
{
    fprintf(out, "usage: %s %s %s\n\n%s\n", prog, c->name, c->synopsis,
            c->summary);
    fprintf(out, "\noptions:\n");
    print_options(out, c->options, p);
    fprintf(out, "  %-30s %s\n", "-h, --help", "show this help");
}

static void usage(FILE *out, const char *prog)
{
    const admin_cmd_t *c;

    fprintf(out, "usage: %s COMMAND DIR [options]\n\n"
            "Creates, runs and administers a mod_weblab (WebLab-Deusto) "
            "deployment.\n\ncommands:\n", prog);
    for (c = commands; c->name; c++) {
        fprintf(out, "  %-22s %s\n", c->name, c->summary);
    }
    fprintf(out, "\n%s COMMAND --help describes a command; %s --version "
            "prints the version.\n", prog, prog);
}

typedef struct {
    char msg[256];
} getopt_err_t;

static void getopt_err(void *arg, const char *fmt, ...)
{
    getopt_err_t *e = arg;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->msg[strcspn(e->msg, "\n")] = '\0';
}

/* Parse argv (argv[0] names the command) with the command's options plus
 * --help. Returns -1 to continue, else the exit status. */
static int parse(admin_args_t *a, const admin_cmd_t *c, int argc,
                 const char *const *argv, apr_pool_t *p)
{
    apr_array_header_t *opts = apr_array_make(p, 32,
                                              sizeof(apr_getopt_option_t));
    const apr_getopt_option_t *o;
    apr_getopt_option_t *help;
    getopt_err_t err = { "" };
    apr_getopt_t *os;
    apr_status_t rv;
    const char *arg;
    int ch, i;

    for (o = c->options; o && o->name; o++) {
        APR_ARRAY_PUSH(opts, apr_getopt_option_t) = *o;
    }
    help = apr_array_push(opts);
    help->name = "help";
    help->optch = 'h';
    help->has_arg = 0;
    help->description = "show this help";
    memset(apr_array_push(opts), 0, sizeof(apr_getopt_option_t));

    a->opts = apr_array_make(p, 16, sizeof(admin_opt_t));
    a->pos = apr_array_make(p, 4, sizeof(const char *));
    apr_getopt_init(&os, p, argc, argv);
    os->interleave = 1;
    os->errfn = getopt_err;
    os->errarg = &err;
    while ((rv = apr_getopt_long(os, (apr_getopt_option_t *)opts->elts, &ch,
                                 &arg)) == APR_SUCCESS) {
        admin_opt_t *ao;

        if (ch == 'h') {
            command_help(stdout, a->prog, c, p);
            return ADMIN_EXIT_OK;
        }
        ao = apr_array_push(a->opts);
        ao->id = ch;
        ao->value = arg;
    }
    if (rv != APR_EOF) {
        const char *m = err.msg;

        if (!strncmp(m, argv[0], strlen(argv[0]))) {
            m += strlen(argv[0]);
            m += strspn(m, ": ");
        }
        admin_error("%s %s: %s (see %s %s --help)", a->prog, c->name,
                    *m ? m : "bad option", a->prog, c->name);
        return ADMIN_EXIT_USAGE;
    }
    for (i = os->ind; i < argc; i++) {
        APR_ARRAY_PUSH(a->pos, const char *) = os->argv[i];
    }
    if (a->pos->nelts < c->min_pos || a->pos->nelts > c->max_pos) {
        admin_error("usage: %s %s %s", a->prog, c->name, c->synopsis);
        return ADMIN_EXIT_USAGE;
    }
    return -1;
}

/* The command named by argv[1] (and argv[2] for two-word names); *used gets
 * how many words the name took. */
static const admin_cmd_t *find_command(int argc, const char *const *argv,
                                       int *used)
{
    const admin_cmd_t *c;

    for (c = commands; c->name; c++) {
        const char *sp = strchr(c->name, ' ');

        if (!sp && !strcmp(c->name, argv[1])) {
            *used = 1;
            return c;
        }
        if (sp && argc > 2 && strlen(argv[1]) == (size_t)(sp - c->name)
            && !strncmp(c->name, argv[1], sp - c->name)
            && !strcmp(sp + 1, argv[2])) {
            *used = 2;
            return c;
        }
    }
    return NULL;
}

/* Print the subcommands of a group word ("user") when called without one. */
static int group_usage(const char *prog, const char *word)
{
    const admin_cmd_t *c;
    size_t n = strlen(word);
    int found = 0;

    for (c = commands; c->name; c++) {
        if (!strncmp(c->name, word, n) && c->name[n] == ' ') {
            if (!found) {
                fprintf(stderr, "ERROR: %s %s needs a subcommand:\n", prog,
                        word);
            }
            fprintf(stderr, "  %s %s %s\n", prog, c->name, c->synopsis);
            found = 1;
        }
    }
    return found;
}

int main(int argc, const char *const *argv)
{
    const admin_cmd_t *c;
    admin_args_t args;
    apr_pool_t *pool;
    const char *prog;
    int used = 0, rc;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    umask(022);

    prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (argc < 2) {
        usage(stderr, prog);
        return ADMIN_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-version")
        || !strcmp(argv[1], "-V")) {
        printf("weblab-admin (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return ADMIN_EXIT_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")
        || !strcmp(argv[1], "help")) {
        if (argc > 2 && (c = find_command(argc - 1, argv + 1, &used))) {
            command_help(stdout, prog, c, pool);
        }
        else {
            usage(stdout, prog);
        }
        return ADMIN_EXIT_OK;
    }
    c = find_command(argc, argv, &used);
    if (!c) {
        if (group_usage(prog, argv[1])) {
            return ADMIN_EXIT_USAGE;
        }
        admin_error("unknown command '%s' (see %s --help)", argv[1], prog);
        return ADMIN_EXIT_USAGE;
    }
    args.prog = prog;
    {
        const char **sub = apr_palloc(pool, sizeof(char *) * (argc + 1));
        int i, n = 0;

        sub[n++] = apr_pstrcat(pool, prog, " ", c->name, NULL);
        for (i = 1 + used; i < argc; i++) {
            sub[n++] = argv[i];
        }
        sub[n] = NULL;
        rc = parse(&args, c, n, sub, pool);
    }
    if (rc >= 0) {
        return rc;
    }
    rc = c->handler(c, &args, pool);
    fflush(stdout);
    return rc;
}
