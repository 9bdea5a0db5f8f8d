/* hugepages.h - advice that lets the kernel back the library's large
 * buffers (parameters, gradients, Adam's moments, the workspace) with
 * transparent huge pages.
 *
 * A 6 M-parameter model touches about 100 MB in its first step, 25 MB of it
 * while the initialiser writes the parameters: at 4 KiB a page that is
 * 25,000 page faults, which cost more than drawing the numbers (profile in
 * docs/performance.md). A kernel whose transparent_hugepage setting is
 * "madvise" (as on this project's test machine) gives huge pages only to
 * memory that asks. */
#ifndef VAE_HUGEPAGES_H
#define VAE_HUGEPAGES_H

#include <stddef.h>

/* Asks for huge pages on the whole 2 MiB-aligned pages inside [p, p + n),
 * before anything touches them. Memory is unchanged and still released with
 * free; p may be NULL. Does nothing where the system has no such advice, and
 * a refusal is not an error: the pages are then ordinary ones. */
void vae_advise_hugepages(void *p, size_t n);

#endif
