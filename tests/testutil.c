#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed; }

static uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double tu_uniform(tu_rng *r, double lo, double hi)
{
    double u = (double)(tu_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return lo + (hi - lo) * u;
}

double tu_normal(tu_rng *r)
{
    /* 1 - u keeps the log argument in (0, 1]. */
    double u1 = 1.0 - tu_uniform(r, 0.0, 1.0);
    double u2 = tu_uniform(r, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void tu_fill_uniform(tu_rng *r, float *p, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)tu_uniform(r, lo, hi);
}

int tu_close(double a, double b, double tol)
{
    double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= tol * scale;
}

void *tu_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

float *tu_dup(const float *src, int64_t n)
{
    float *p = tu_alloc((size_t)n * sizeof *p);
    memcpy(p, src, (size_t)n * sizeof *p);
    return p;
}

int32_t tu_add_layer(vae_graph *g, int32_t x, const tu_layer *l)
{
    switch (l->op) {
    case VAE_OP_DENSE: return vae_graph_dense(g, x, l->units);
    case VAE_OP_RELU: return vae_graph_relu(g, x);
    case VAE_OP_LEAKY_RELU: return vae_graph_leaky_relu(g, x, l->slope);
    case VAE_OP_TANH: return vae_graph_tanh(g, x);
    case VAE_OP_SIGMOID: return vae_graph_sigmoid(g, x);
    case VAE_OP_SOFTPLUS: return vae_graph_softplus(g, x);
    case VAE_OP_IDENTITY: return vae_graph_identity(g, x);
    default: fail_msg("tu_add_layer: op %d has no builder", (int)l->op);
    }
    return VAE_ERR_INVALID_ARG;
}

vae_graph *tu_graph(int64_t in, const tu_layer *layers, int n)
{
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    int32_t id = vae_graph_input(g, &in, 1);
    for (int i = 0; i < n; i++)
        id = tu_add_layer(g, id, &layers[i]);
    if (id < 0)
        fail_msg("tu_graph: %s", vae_graph_last_error(g));
    assert_int_equal(vae_graph_set_output(g, id), VAE_OK);
    return g;
}

vae_model *tu_model(int64_t data, const tu_layer *enc, int n_enc,
                    int64_t latent, const tu_layer *dec, int n_dec,
                    int32_t likelihood, uint64_t seed)
{
    vae_graph *ge = tu_graph(data, enc, n_enc);
    vae_graph *gd = tu_graph(latent, dec, n_dec);
    vae_model *m = NULL;
    char err[256] = "";
    int32_t st = vae_model_new(ge, gd, latent, likelihood, seed, &m, err,
                               sizeof err);
    vae_graph_free(ge);
    vae_graph_free(gd);
    if (st != VAE_OK)
        fail_msg("tu_model: %s (%s)", vae_status_string(st), err);
    return m;
}
