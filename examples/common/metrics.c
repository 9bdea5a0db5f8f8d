/* metrics.c - see metrics.h. */
#define _POSIX_C_SOURCE 200809L /* close */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "files.h"
#include "metrics.h"

/* Longer than any line the programs write (most about 200 bytes; vae-text
 * eval of a model conditional on Brown's 15 genres about 2,000, three keys
 * per genre); a longer one is a bug, reported rather than cut. */
#define METRICS_LINE_MAX 8192

struct metrics {
    int fd;
    const char *path;
    char line[METRICS_LINE_MAX];
    size_t len;
    int fields, overflow;
};

struct metrics *open_metrics(const char *path)
{
    char e[1024];
    struct metrics *m = calloc(1, sizeof *m);

    if (!m) {
        fail("out of memory");
        return NULL;
    }
    m->path = path;
    m->fd = file_open_append(path, e, sizeof e);
    if (m->fd < 0) {
        free(m);
        fail("%s", e);
        return NULL;
    }
    return m;
}

/* printf into the line being built. */
static void line_add(struct metrics *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line_add(struct metrics *m, const char *fmt, ...)
{
    size_t room = sizeof m->line - m->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(m->line + m->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        m->overflow = 1;
    else
        m->len += (size_t)n;
}

void json_num(struct metrics *m, const char *key, double v, int decimals)
{
    line_add(m, "%s", m->fields++ ? "," : "{");
    if (isfinite(v))
        line_add(m, "\"%s\":%.*f", key, decimals, v);
    else
        line_add(m, "\"%s\":null", key);
}

int finish_json_line(struct metrics *m)
{
    char e[1024];
    int rc = 0;

    line_add(m, "}\n");
    if (m->overflow)
        rc = fail("%s: a metrics line longer than %d bytes", m->path,
                  METRICS_LINE_MAX);
    else if (file_append(m->fd, m->path, m->line, m->len, e, sizeof e))
        rc = fail("%s", e);
    m->len = 0;
    m->fields = m->overflow = 0;
    return rc;
}

int close_metrics(struct metrics *m, int rc)
{
    if (!m)
        return rc;
    if (close(m->fd) != 0 && rc == 0)
        rc = fail("%s: %s", m->path, strerror(errno));
    free(m);
    return rc;
}
