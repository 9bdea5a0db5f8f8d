/* metrics.h - the example programs' metrics files: one JSON object per
 * line, each line appended whole and synced (files.h), so a crash or a
 * full disk never leaves half a line. Errors are recorded with fail()
 * (cli.h). */
#ifndef VAE_EXAMPLE_METRICS_H
#define VAE_EXAMPLE_METRICS_H

struct metrics;

/* Opens path for appending, created if missing; anything but a regular
 * file is refused at once (files.h). NULL (and a recorded error) on
 * failure. */
struct metrics *open_metrics(const char *path);
/* Adds "key":value to the line being built. JSON has no Inf or NaN, so
 * those become null. */
void json_num(struct metrics *m, const char *key, double v, int decimals);
/* Appends the line and syncs it, so a crash later loses no finished line.
 * The line goes in whole or not at all (file_append): after a failed write
 * (a full disk, a file-size limit) the file holds exactly the lines before
 * it, and the error says why. */
int finish_json_line(struct metrics *m);
/* Closes m (NULL: nothing); returns rc, or -1 if rc was 0 and the close
 * failed. */
int close_metrics(struct metrics *m, int rc);

#endif
