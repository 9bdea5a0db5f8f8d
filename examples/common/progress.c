/* progress.c - see progress.h. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, isatty, fileno */

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void format_duration(double s, char *buf, size_t len)
{
    long t;

    if (!(s >= 0.0 && s < 1e8)) {
        snprintf(buf, len, "?");
        return;
    }
    t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
}

void format_etas(double elapsed, int64_t seen, int64_t n, long epochs_after,
                 double cap, char *run, char *epoch, size_t len)
{
    double rate = elapsed > 0.0 ? (double)seen / elapsed : 0.0;
    double left = rate > 0.0 ? (double)(n - seen) / rate : -1.0;
    double left_all =
        rate > 0.0 ? left + (double)epochs_after * (double)n / rate : -1.0;

    if (cap >= 0.0 && left_all > cap)
        left_all = cap;
    format_duration(left_all, run, len);
    format_duration(left, epoch, len);
}

void progress_init(struct progress *p, double interval)
{
    p->interval = interval;
    p->next = now_seconds() + interval;
    p->tty = isatty(fileno(stderr));
    p->shown = 0;
}

int progress_due(struct progress *p)
{
    double t;

    if (p->interval <= 0.0)
        return 0;
    t = now_seconds();
    if (t < p->next)
        return 0;
    p->next = t + p->interval;
    return 1;
}

void progress_line(struct progress *p, const char *fmt, ...)
{
    va_list ap;

    fputs(p->tty ? "\r" : "", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(p->tty ? "\033[K" : "\n", stderr);
    p->shown = p->tty;
}

void progress_clear(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}
