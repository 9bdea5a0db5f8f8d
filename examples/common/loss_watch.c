/* loss_watch.c - see loss_watch.h. */
#include <math.h>

#include "cli.h"
#include "loss_watch.h"

void loss_watch_init(struct loss_watch *w, const char *unit)
{
    w->unit = unit;
    w->first = 0.0;
    w->have_first = 0;
    w->sum = w->units = 0.0;
    w->batches = 0;
    w->warned = 0;
}

/* Compares the window's mean with the reference, then starts a new one. */
static void end_window(struct loss_watch *w, long epoch,
                       struct progress *prog)
{
    double mean = w->units > 0.0 ? w->sum / w->units : 0.0;

    /* A reference of 0 or less (a likelihood whose loss can be negative)
     * leaves only the test for non-finite values. */
    if (w->batches > 0 && !w->warned &&
        (!isfinite(mean) ||
         (w->first > 0.0 && mean > LOSS_WATCH_FACTOR * w->first))) {
        w->warned = 1;
        progress_clear(prog);
        warn("the training loss exploded in epoch %ld: %.4g nats per %s "
             "over its last %ld batches, more than %g times the first "
             "batch's %.4g; the learning rate is probably too high: try a "
             "smaller --lr", epoch, mean, w->unit, w->batches,
             LOSS_WATCH_FACTOR, w->first);
    }
    w->sum = w->units = 0.0;
    w->batches = 0;
}

void loss_watch_batch(struct loss_watch *w, double loss, double units,
                      long epoch, struct progress *prog)
{
    if (units <= 0.0)
        return;
    if (!w->have_first) {
        w->first = loss / units;
        w->have_first = 1;
    }
    w->sum += loss;
    w->units += units;
    if (++w->batches == LOSS_WATCH_BATCHES)
        end_window(w, epoch, prog);
}

void loss_watch_end_epoch(struct loss_watch *w, long epoch,
                          struct progress *prog)
{
    end_window(w, epoch, prog);
}
