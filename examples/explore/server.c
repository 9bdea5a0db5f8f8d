/* server.c - see server.h. Requests are checked here before explore_api
 * sees them: the Host header (a loopback server answers loopback names
 * only, which defeats DNS rebinding), a JSON content type on POST (a
 * cross-site form cannot send one without a CORS preflight, which this
 * server never grants) and the body size (413 as soon as the declared or
 * received length passes EXPLORE_MAX_BODY, without reading the rest). */
#define _POSIX_C_SOURCE 200809L /* strncasecmp, inet_pton */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "cli.h"
#include "server.h"

#define CONNECTION_LIMIT 64
#define CONNECTION_TIMEOUT_S 15

static const char page_policy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

struct explore_server {
    struct MHD_Daemon *daemon;
    struct explore *e;
    int loopback; /* bound to a loopback address: check Host */
    char log[256]; /* libmicrohttpd's last message, for start-up errors */
};

/* One request's state across the handler's calls. */
struct request {
    char *body;
    size_t len;
    int answered; /* a response is queued: drop what else arrives */
};

static void on_log(void *cls, const char *fmt, va_list ap)
{
    struct explore_server *s = cls;
    vsnprintf(s->log, sizeof s->log, fmt, ap);
    s->log[strcspn(s->log, "\r\n")] = '\0';
}

static enum MHD_Result send_response(struct MHD_Connection *c,
                                     struct request *r, unsigned status,
                                     const char *type, const void *data,
                                     size_t size, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *res =
        MHD_create_response_from_buffer(size, (void *)data, mode);
    enum MHD_Result ok;

    if (!res) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free((void *)data);
        return MHD_NO;
    }
    MHD_add_response_header(res, "Content-Type", type);
    MHD_add_response_header(res, "Cache-Control", "no-store");
    MHD_add_response_header(res, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(res, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(res, "X-Frame-Options", "DENY");
    if (strncmp(type, "text/html", 9) == 0)
        MHD_add_response_header(res, "Content-Security-Policy", page_policy);
    ok = MHD_queue_response(c, status, res);
    MHD_destroy_response(res);
    r->answered = 1;
    return ok;
}

static enum MHD_Result send_json(struct MHD_Connection *c, struct request *r,
                                 unsigned status, char *json)
{
    static const char oom[] = "{\"error\":\"out of memory\"}";

    if (!json)
        return send_response(c, r, 500, "application/json", oom,
                             sizeof oom - 1, MHD_RESPMEM_PERSISTENT);
    return send_response(c, r, status, "application/json", json, strlen(json),
                         MHD_RESPMEM_MUST_FREE);
}

/* {"error": msg} for refusals made before the API runs. msg holds no
 * character that needs escaping in JSON. */
static enum MHD_Result send_error(struct MHD_Connection *c, struct request *r,
                                  unsigned status, const char *msg)
{
    size_t n = strlen(msg) + 16;
    char *json = malloc(n);

    if (json)
        snprintf(json, n, "{\"error\":\"%s\"}", msg);
    return send_json(c, r, status, json);
}

/* Host names that mean this machine; anything else reached a loopback
 * server through a name that points elsewhere or was rebound. */
static int host_is_loopback(const char *host)
{
    char name[256];
    size_t n;
    struct in_addr a4;

    if (host[0] == '[') {
        n = strcspn(host, "]");
        return n == 4 && strncmp(host, "[::1", 4) == 0 &&
               (host[5] == '\0' || host[5] == ':');
    }
    n = strcspn(host, ":");
    if (n >= sizeof name)
        return 0;
    memcpy(name, host, n);
    name[n] = '\0';
    if (strcasecmp(name, "localhost") == 0)
        return 1;
    return inet_pton(AF_INET, name, &a4) == 1 &&
           (ntohl(a4.s_addr) >> 24) == 127;
}

/* The first call of a request: refusals that need no body. */
static enum MHD_Result check_headers(struct explore_server *s,
                                     struct MHD_Connection *c,
                                     struct request *r, const char *method)
{
    const char *host =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *type =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *length =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

    if (s->loopback && host && !host_is_loopback(host))
        return send_error(c, r, 403, "the Host header does not name this "
                                     "machine (vae-explore serves loopback "
                                     "names only)");
    if (strcmp(method, "POST") != 0)
        return MHD_YES;
    if (!type || strncasecmp(type, "application/json", 16) != 0 ||
        (type[16] != '\0' && type[16] != ';' && type[16] != ' '))
        return send_error(c, r, 415, "POST bodies must be application/json");
    if (length && strtoull(length, NULL, 10) > EXPLORE_MAX_BODY)
        return send_error(c, r, 413, "request body too large");
    return MHD_YES;
}

static enum MHD_Result serve_asset(struct MHD_Connection *c, struct request *r,
                                   const char *url, const char *method)
{
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;

    for (size_t i = 0; i < explore_asset_count; i++) {
        const struct explore_asset *a = &explore_assets[i];
        if (strcmp(path, a->path) != 0)
            continue;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_error(c, r, 405, "the page's files take GET only");
        return send_response(c, r, 200, a->type, a->data, a->size,
                             MHD_RESPMEM_PERSISTENT);
    }
    return send_error(c, r, 404, "no such page");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct explore_server *s = cls;
    struct request *r = *req_cls;
    char *json = NULL;
    unsigned status;

    (void)version;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *req_cls = r;
        return check_headers(s, c, r, method);
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->answered)
            return MHD_YES;
        if (r->len + n > EXPLORE_MAX_BODY)
            return send_error(c, r, 413, "request body too large");
        if (!r->body && !(r->body = malloc(EXPLORE_MAX_BODY)))
            return send_error(c, r, 500, "out of memory");
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        return MHD_YES;
    }
    if (r->answered)
        return MHD_YES;
    if (strncmp(url, "/api/", 5) != 0)
        return serve_asset(c, r, url, method);
    status = explore_api(s->e, method, url, r->body, r->len, &json);
    return send_json(c, r, status, json);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    struct request *r = *req_cls;

    (void)cls;
    (void)c;
    (void)code;
    if (r) {
        free(r->body);
        free(r);
        *req_cls = NULL;
    }
}

int explore_server_start(struct explore *e, const char *bind_addr,
                         unsigned port, struct explore_server **out,
                         unsigned *port_out)
{
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    struct sockaddr *addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     MHD_USE_ERROR_LOG;
    struct explore_server *s;
    const union MHD_DaemonInfo *info;

    *out = NULL;
    if (port > 65535)
        return fail("--port: %u is not a port", port);
    if (!(s = calloc(1, sizeof *s)))
        return fail("out of memory");
    s->e = e;
    if (inet_pton(AF_INET, bind_addr, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)port);
        addr = (struct sockaddr *)&a4;
        s->loopback = (ntohl(a4.sin_addr.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, bind_addr, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)port);
        addr = (struct sockaddr *)&a6;
        s->loopback = IN6_IS_ADDR_LOOPBACK(&a6.sin6_addr);
        flags |= MHD_USE_IPv6;
    } else {
        free(s);
        return fail("--bind: '%s' is not an IPv4 or IPv6 address", bind_addr);
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, s, MHD_OPTION_END);
    if (!s->daemon) {
        fail("cannot serve on %s port %u%s%s", bind_addr, port,
             s->log[0] ? ": " : "", s->log);
        free(s);
        return -1;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : port;
    *out = s;
    return 0;
}

void explore_server_stop(struct explore_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
