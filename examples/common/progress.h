/* progress.h - time and the progress lines of long commands on stderr:
 * a line every few seconds, redrawn in place on a terminal, with the ETAs
 * of a training run. */
#ifndef VAE_EXAMPLE_PROGRESS_H
#define VAE_EXAMPLE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic seconds. */
double now_seconds(void);
/* "42s", "3m07s", "2h05m"; "?" for a negative or absurd value. */
void format_duration(double s, char *buf, size_t len);

/* The two ETAs of a training progress line, at the rate so far: `seen` of
 * the epoch's n examples done in `elapsed` seconds and `epochs_after` more
 * epochs to come. run gets the rest of the run, capped at `cap` seconds
 * when cap >= 0; epoch the rest of the epoch. */
void format_etas(double elapsed, int64_t seen, int64_t n, long epochs_after,
                 double cap, char *run, char *epoch, size_t len);

struct progress {
    double interval; /* seconds between lines; 0 disables them */
    double next;     /* time of the next line */
    int tty;         /* redraw one line in place instead of scrolling */
    int shown;       /* a line is on screen and must be cleared */
};

void progress_init(struct progress *p, double interval);
/* True when a line is due; schedules the next one. */
int progress_due(struct progress *p);
void progress_line(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Removes a line redrawn in place, so the next output starts clean. */
void progress_clear(struct progress *p);

#endif
