/* main.c - vae-explore: serves a page that shows inside a trained model
 * (docs/explore.md). Uses only the public libvae API. */
#define _POSIX_C_SOURCE 200809L /* sigaction */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#include "cli.h"
#include "explore.h"
#include "server.h"

#include <unistd.h>

/* The stop signals write their number here and main() reads it. A
 * handler rather than sigwait: OpenBLAS starts its threads before main()
 * runs, with the signals unblocked, and a blocked-signal scheme would let
 * the kernel hand SIGTERM to one of them, killing the process uncleanly. */
static int stop_pipe[2] = {-1, -1};

static void on_stop(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (write(stop_pipe[1], &c, 1) < 0) {
        /* Nothing safe to do in a handler; the pipe cannot fill up
         * before main() reads the first byte. */
    }
    errno = saved;
}

/* Installs on_stop for SIGINT and SIGTERM. */
static int catch_stop_signals(void)
{
    struct sigaction sa = {0};

    if (pipe(stop_pipe) != 0)
        return fail("pipe: %s", strerror(errno));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return fail("sigaction: %s", strerror(errno));
    return 0;
}

/* Blocks until a stop signal arrives; returns its number. */
static int wait_for_stop(void)
{
    unsigned char c = 0;
    while (read(stop_pipe[0], &c, 1) < 0 && errno == EINTR)
        ;
    return c;
}

enum opt_id {
    OPT_MODEL, OPT_DATA, OPT_CORPUS, OPT_PORT, OPT_BIND, OPT_LIMIT,
    OPT_SEED, OPT_THREADS, OPT_COUNT
};

static const char *const opt_names[OPT_COUNT] = {
    [OPT_MODEL] = "--model", [OPT_DATA] = "--data",
    [OPT_CORPUS] = "--corpus", [OPT_PORT] = "--port",
    [OPT_BIND] = "--bind", [OPT_LIMIT] = "--limit",
    [OPT_SEED] = "--seed", [OPT_THREADS] = "--threads",
};

static const char usage[] =
    "usage: vae-explore --model MODEL [--data DIR | --corpus KIND --data PATH]\n"
    "                   [--port P] [--bind ADDRESS] [--limit N] [--seed S]\n"
    "                   [--threads N]\n"
    "\n"
    "Serves a page that explores MODEL (a vae-image or vae-text model):\n"
    "sliders over the latent space, the test set's latent map,\n"
    "interpolation; sampling and reconstruction of sentences. DIR holds the\n"
    "IDX files of an image model's data; KIND (brown, aclimdb or lines) and\n"
    "PATH name a text model's corpus. Its test split is the map.\n"
    "Defaults: --port 8080 (0: any free port) --bind 127.0.0.1 (loopback\n"
    "only; ::1 for IPv6) --limit 5000 (points on the map) --seed 1.\n"
    "Stops cleanly on SIGINT (Ctrl-C) or SIGTERM. See docs/explore.md.\n";

static int cmd_serve(const struct args *a)
{
    struct explore_config cfg = {0};
    struct explore e;
    struct explore_server *srv = NULL;
    const char *bind_addr = a->val[OPT_BIND] ? a->val[OPT_BIND] : "127.0.0.1";
    long port = 0, limit = 0;
    unsigned bound = 0;
    int rc = -1;

    if (get_long(a, OPT_PORT, 8080, 0, 65535, &port) ||
        get_long(a, OPT_LIMIT, 5000, 1, EXPLORE_MAX_MAP, &limit) ||
        get_seed(a, OPT_SEED, 1, &cfg.seed))
        return -1;
    if (a->val[OPT_CORPUS] && !a->val[OPT_DATA])
        return fail("--corpus needs --data (the corpus's path)");
    cfg.model = a->val[OPT_MODEL];
    cfg.data = a->val[OPT_DATA];
    cfg.corpus = a->val[OPT_CORPUS];
    cfg.map_limit = limit;
    if (catch_stop_signals())
        return -1;
    if (explore_open(&e, &cfg) == 0 &&
        explore_server_start(&e, bind_addr, (unsigned)port, &srv, &bound) == 0) {
        if (cfg.corpus && e.kind == EXPLORE_IMAGE)
            fprintf(stderr, "vae-explore: --corpus ignored: %s is an image "
                    "model\n", cfg.model);
        printf("vae-explore: serving %s (%s model, latent %lld, %lld items) "
               "on http://%s%s%s:%u/\n", e.model_name,
               e.kind == EXPLORE_IMAGE ? "image" : "text",
               (long long)e.latent, (long long)e.n_items,
               strchr(bind_addr, ':') ? "[" : "", bind_addr,
               strchr(bind_addr, ':') ? "]" : "", bound);
        fflush(stdout);
        fprintf(stderr, "vae-explore: %s, stopping\n",
                wait_for_stop() == SIGINT ? "SIGINT" : "SIGTERM");
        rc = 0;
    }
    explore_server_stop(srv);
    explore_close(&e);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct command commands[] = {
        {"serve",
         OPT(OPT_MODEL) | OPT(OPT_DATA) | OPT(OPT_CORPUS) | OPT(OPT_PORT) |
             OPT(OPT_BIND) | OPT(OPT_LIMIT) | OPT(OPT_SEED) | OPT(OPT_THREADS),
         OPT(OPT_MODEL), cmd_serve},
    };
    static const struct program vae_explore = {
        "vae-explore", usage, opt_names, OPT_COUNT, OPT_THREADS, commands,
        1, NULL, 0};
    char **args;
    int rc;

    /* cli_main dispatches on a command; vae-explore has one, so the flags
     * come first and "serve" is put in front of them (written or not). */
    if (argc < 2 || strcmp(argv[1], "serve") == 0 ||
        strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "help") == 0)
        return cli_main(&vae_explore, argc, argv);
    if (!(args = malloc((size_t)(argc + 2) * sizeof *args))) {
        fputs("vae-explore: out of memory\n", stderr);
        return 1;
    }
    args[0] = argv[0];
    args[1] = "serve";
    memcpy(args + 2, argv + 1, (size_t)argc * sizeof *args);
    rc = cli_main(&vae_explore, argc + 1, args);
    free(args);
    return rc;
}
