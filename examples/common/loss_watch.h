/* loss_watch.h - notices a training loss that explodes (mostly a learning
 * rate far too high: `vae-image train --lr 10` ends its first epoch at an
 * ELBO of -2.6e13 with nothing said) and warns once per run, on stderr,
 * saying what to try.
 *
 * The loss is counted per unit (an image, or a token of a sentence), so
 * batches of short and of long sentences compare. The reference is the
 * first batch's loss: the loss of the model as it starts, which for a new
 * model is near chance level. Each window of LOSS_WATCH_BATCHES batches,
 * and the rest of each epoch, compares its mean with the reference; a mean
 * more than LOSS_WATCH_FACTOR times the reference, or not finite, is an
 * explosion. Training goes on: the warning only informs. */
#ifndef VAE_EXAMPLE_LOSS_WATCH_H
#define VAE_EXAMPLE_LOSS_WATCH_H

#include "progress.h"

/* Normal training lowers the loss from the start, and an untrained model's
 * loss per unit varies far less than this between batches; a run whose
 * learning rate is too high passes it within an epoch (`--lr 0.1` on the
 * test images: 300 000 times worse; an LSTM language model at `--lr 10`:
 * 6.6 times). */
#define LOSS_WATCH_FACTOR 4.0
#define LOSS_WATCH_BATCHES 100

struct loss_watch {
    const char *unit; /* "image", "token": the unit in the message */
    double first;     /* loss per unit of the first batch */
    int have_first;
    double sum, units; /* the window so far */
    long batches;
    int warned;
};

void loss_watch_init(struct loss_watch *w, const char *unit);

/* Adds a batch: `loss` (nats, the negated ELBO or log-likelihood) summed
 * over its `units` units. Ends the window when it is full; prog, the
 * caller's progress line, is cleared before a warning. */
void loss_watch_batch(struct loss_watch *w, double loss, double units,
                      long epoch, struct progress *prog);

/* Ends the window at the end of an epoch. */
void loss_watch_end_epoch(struct loss_watch *w, long epoch,
                          struct progress *prog);

#endif
