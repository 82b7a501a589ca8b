/* Plots in the seed's style (docs/source/performance.rst of the original):
 * users on x, seconds on y; max in red, min in blue, mean with stddev
 * error bars in green; one PNG per method. The data (.dat) and the
 * gnuplot script (plots.gp) stay beside the images so that a figure can be
 * redrawn or restyled without running the bot again. */
#include "config.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bot.h"

extern char **environ;

/* s as a gnuplot single-quoted string ('' escapes ') */
static void gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') {
            fputc('\'', f);
        }
        if (*s != '\n') {
            fputc(*s, f);
        }
    }
    fputc('\'', f);
}

static int write_data(const char *path, const bot_result_t *rs, int n,
                      bot_method_t m)
{
    FILE *f = fopen(path, "w");
    int i, rows = 0;
    if (!f) {
        bot_error("--plot-dir: %s: %s", path, strerror(errno));
        return -1;
    }
    fputs("# users min_s max_s mean_s stddev_s p99_s calls errors\n", f);
    for (i = 0; i < n; i++) {
        const bot_summary_t *s = &rs[i].summary[m];
        if (s->count - s->errors <= 0) {
            continue;
        }
        fprintf(f, "%d %.6f %.6f %.6f %.6f %.6f %ld %ld\n", rs[i].users,
                s->min, s->max, s->mean, s->stddev, s->p99, s->count,
                s->errors);
        rows++;
    }
    fclose(f);
    return rows;
}

int bot_plot(const char *dir, const bot_options_t *o, const bot_result_t *rs,
             int n)
{
    char path[4096], script[4096];
    FILE *gp;
    int m, plots = 0, status;
    pid_t pid;
    char *argv[3];

    if (mkdir(dir, 0755) && errno != EEXIST) {
        bot_error("--plot-dir %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(script, sizeof(script), "%s/plots.gp", dir);
    if (!(gp = fopen(script, "w"))) {
        bot_error("--plot-dir: %s: %s", script, strerror(errno));
        return -1;
    }
    fputs("# written by weblab-bot; run: gnuplot plots.gp (from its "
          "directory's parent as written)\n"
          "set terminal pngcairo size 800,500 font 'sans,10' noenhanced\n"
          "set xlabel 'users'\nset ylabel 'seconds'\n"
          "set key top left\nset grid\nset xrange [0:*]\n"
          "set yrange [0:*]\n", gp);
    for (m = 0; m < BOT_METHOD_COUNT; m++) {
        char title[512];
        int rows;
        snprintf(path, sizeof(path), "%s/%s.dat", dir, bot_method_name(m));
        if ((rows = write_data(path, rs, n, m)) < 0) {
            fclose(gp);
            return -1;
        }
        if (rows == 0) {
            remove(path);
            continue;
        }
        snprintf(title, sizeof(title), "%s%s%s%s", bot_method_name(m),
                 o->label ? " (" : "", o->label ? o->label : "",
                 o->label ? ")" : "");
        if (n == 1) {
            /* one student count: give the single x some room */
            fprintf(gp, "set xrange [%g:%g]\n", rs[0].users * 0.9 - 1,
                    rs[0].users * 1.1 + 1);
        }
        fputs("set output ", gp);
        snprintf(path, sizeof(path), "%s/%s.png", dir, bot_method_name(m));
        gp_string(gp, path);
        fputs("\nset title ", gp);
        gp_string(gp, title);
        fputs("\nplot ", gp);
        snprintf(path, sizeof(path), "%s/%s.dat", dir, bot_method_name(m));
        gp_string(gp, path);
        fputs(" using 1:3 with linespoints lw 2 pt 7 ps 0.6 "
              "lc rgb 'red' title 'max', \\\n     '' using 1:2 with "
              "linespoints lw 2 pt 7 ps 0.6 lc rgb 'blue' title 'min', "
              "\\\n     '' using 1:4:5 with yerrorlines lw 2 pt 7 ps 0.6 "
              "lc rgb 'dark-green' title 'mean +- stddev'\n", gp);
        plots++;
    }
    if (fclose(gp)) {
        bot_error("--plot-dir: %s: %s", script, strerror(errno));
        return -1;
    }
    if (plots == 0) {
        bot_warn("--plot-dir: no successful call to plot");
        return 0;
    }
    argv[0] = "gnuplot";
    argv[1] = script;
    argv[2] = NULL;
    if ((errno = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ))) {
        bot_error("--plot-dir: cannot run gnuplot (%s); the data and %s are "
                  "written", strerror(errno), script);
        return -1;
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
        || WEXITSTATUS(status)) {
        bot_error("--plot-dir: gnuplot %s failed", script);
        return -1;
    }
    return 0;
}
