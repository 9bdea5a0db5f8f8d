/* server.h - vae-explore's HTTP server on libmicrohttpd: the page's files
 * and the JSON API of explore.h, served by one internal thread, so the
 * model is only ever used from that thread. */
#ifndef VAE_EXPLORE_SERVER_H
#define VAE_EXPLORE_SERVER_H

#include "explore.h"

/* The page's files, embedded at build time (assets.c, from page/). */
struct explore_asset {
    const char *path, *type;
    const unsigned char *data;
    size_t size;
};
extern const struct explore_asset explore_assets[];
extern const size_t explore_asset_count;

struct explore_server;

/* Serves e on bind_addr (an IPv4 or IPv6 literal) and port (0: a free port
 * the system picks; *port_out receives the one in use). e must outlive the
 * server. Returns 0, or -1 with fail() (cli.h). */
int explore_server_start(struct explore *e, const char *bind_addr,
                         unsigned port, struct explore_server **out,
                         unsigned *port_out);

/* Closes every connection, waits for the server's thread and frees it.
 * NULL is a no-op. */
void explore_server_stop(struct explore_server *s);

#endif
