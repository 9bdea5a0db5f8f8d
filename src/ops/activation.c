/* activation.c - elementwise activations. Each is a forward map and its
 * derivative written in terms of (x, y), so one pair of loops serves all. */
#include "../fastmath.h"
#include "../pool.h"
#include "../simd.h"
#include "ops.h"

/* fattr of leaky relu */
enum { LEAKY_SLOPE };

static int32_t same_shape(vae_node_spec *s, const vae_node_spec *const *in,
                          char *err, size_t errlen)
{
    if (s->n_inputs != 1) {
        vae_set_err(err, errlen, "takes exactly one input");
        return VAE_ERR_GRAPH;
    }
    s->rank = in[0]->rank;
    for (int32_t i = 0; i < s->rank; i++)
        s->shape[i] = in[0]->shape[i];
    s->n_params = 0;
    return vae_shape_finish(s, err, errlen);
}

static int32_t leaky_shape(vae_node_spec *s, const vae_node_spec *const *in,
                           char *err, size_t errlen)
{
    float slope = s->fattr[LEAKY_SLOPE];
    if (!(slope >= 0.0f && slope < 1.0f)) {
        vae_set_err(err, errlen, "slope %g not in [0, 1)", (double)slope);
        return VAE_ERR_RANGE;
    }
    return same_shape(s, in, err, errlen);
}

/* Forward and derivative dy/dx given x and y = f(x); a = fattr[LEAKY_SLOPE]
 * (0 for the others). A
 * derivative that reads y alone lets the op run in place (x == y): relu's
 * and leaky relu's test y > 0, which holds exactly when x > 0 (a >= 0). */
static float relu_f(float x, float a) { (void)a; return x > 0.0f ? x : 0.0f; }
static float relu_d(float x, float y, float a)
{
    (void)x, (void)a;
    return y > 0.0f ? 1.0f : 0.0f;
}
static float leaky_f(float x, float a) { return x > 0.0f ? x : a * x; }
static float leaky_d(float x, float y, float a)
{
    (void)x;
    return y > 0.0f ? 1.0f : a;
}
/* tanh, sigmoid and softplus come from fastmath.h: inline and branch-free,
 * so the loops below vectorise (glibc's tanhf and expf would be a call per
 * element). */
static float tanh_f(float x, float a) { (void)a; return vae_fast_tanhf(x); }
static float tanh_d(float x, float y, float a)
{
    (void)x, (void)a;
    return 1.0f - y * y;
}
static float sigmoid_f(float x, float a)
{
    (void)a;
    return vae_fast_sigmoidf(x);
}
static float sigmoid_d(float x, float y, float a)
{
    (void)x, (void)a;
    return y * (1.0f - y);
}
static float softplus_f(float x, float a)
{
    (void)a;
    return vae_fast_softplusf(x);
}
static float softplus_d(float x, float y, float a)
{
    (void)y, (void)a;
    return vae_fast_sigmoidf(x);
}
static float identity_f(float x, float a) { (void)a; return x; }
static float identity_d(float x, float y, float a)
{
    (void)x, (void)y, (void)a;
    return 1.0f;
}

typedef float (*act_fn)(float, float);
typedef float (*act_deriv)(float, float, float);

/* What a range of an activation's loop needs (the node and its input). */
typedef struct act_loop {
    vae_node *n;
    vae_node *in;
} act_loop;

static inline void act_forward(const act_loop *l, act_fn f, int64_t lo,
                               int64_t hi)
{
    const float *x = l->in->val;
    float *y = l->n->val, a = l->n->s.fattr[LEAKY_SLOPE];
    for (int64_t i = lo; i < hi; i++)
        y[i] = f(x[i], a);
}

/* dx += dy f'; or, when the input's gradient is this node's own
 * (grad_in_consumer: the input has no other consumer), dx = dy f' in
 * place. */
static inline void act_backward(const act_loop *l, act_deriv d, int64_t lo,
                                int64_t hi)
{
    const float *x = l->in->val, *y = l->n->val, *dy = l->n->grad;
    float *dx = l->in->grad, a = l->n->s.fattr[LEAKY_SLOPE];
    if (dx == dy)
        for (int64_t i = lo; i < hi; i++)
            dx[i] = dy[i] * d(x[i], y[i], a);
    else
        for (int64_t i = lo; i < hi; i++)
            dx[i] += dy[i] * d(x[i], y[i], a);
}

/* Each activation gets its own loops, so the compiler can inline f and d
 * instead of calling through a pointer per element (and each is cloned,
 * simd.h); the elements are split across the worker pool in ranges. */
#define ACTIVATION(NAME, CODE, F, D, SHAPE, IN_PLACE)                         \
    VAE_CLONES static void NAME##_fwd_range(void *l, int64_t lo, int64_t hi)  \
    {                                                                         \
        act_forward(l, F, lo, hi);                                            \
    }                                                                         \
    VAE_CLONES static void NAME##_bwd_range(void *l, int64_t lo, int64_t hi)  \
    {                                                                         \
        act_backward(l, D, lo, hi);                                           \
    }                                                                         \
    static void NAME##_forward(vae_node *n, vae_node *const *in,              \
                               const float *w, int64_t batch)                 \
    {                                                                         \
        (void)w;                                                              \
        act_loop l = {n, in[0]};                                              \
        vae_parallel_ranges(batch * n->s.size, VAE_POOL_GRAIN,                \
                            NAME##_fwd_range, &l);                            \
    }                                                                         \
    static void NAME##_backward(vae_node *n, vae_node *const *in,             \
                                const float *w, float *dw, int64_t batch)     \
    {                                                                         \
        (void)w, (void)dw;                                                    \
        act_loop l = {n, in[0]};                                              \
        if (in[0]->grad)                                                      \
            vae_parallel_ranges(batch * n->s.size, VAE_POOL_GRAIN,            \
                                NAME##_bwd_range, &l);                        \
    }                                                                         \
    const vae_op vae_op_##NAME = {.name = #NAME,                              \
                                  .code = CODE,                               \
                                  .shape = SHAPE,                             \
                                  .forward = NAME##_forward,                  \
                                  .backward = NAME##_backward,                \
                                  .backward_reads_val = 1,                    \
                                  .forward_in_place = IN_PLACE,               \
                                  .per_step = 1};

/* softplus's derivative, sigmoid(x), needs x: it never runs in place. */
ACTIVATION(relu, VAE_OP_RELU, relu_f, relu_d, same_shape, 1)
ACTIVATION(leaky_relu, VAE_OP_LEAKY_RELU, leaky_f, leaky_d, leaky_shape, 1)
ACTIVATION(tanh, VAE_OP_TANH, tanh_f, tanh_d, same_shape, 1)
ACTIVATION(sigmoid, VAE_OP_SIGMOID, sigmoid_f, sigmoid_d, same_shape, 1)
ACTIVATION(softplus, VAE_OP_SOFTPLUS, softplus_f, softplus_d, same_shape, 0)
ACTIVATION(identity, VAE_OP_IDENTITY, identity_f, identity_d, same_shape, 1)

static int32_t unary(vae_graph *g, const vae_op *op, int32_t x)
{
    return vae_graph_add(g, op, &x, 1, NULL, 0, NULL, 0);
}

VAE_API int32_t vae_graph_relu(vae_graph *g, int32_t x)
{
    return unary(g, &vae_op_relu, x);
}

VAE_API int32_t vae_graph_leaky_relu(vae_graph *g, int32_t x, float slope)
{
    float attr[] = {[LEAKY_SLOPE] = slope};
    return vae_graph_add(g, &vae_op_leaky_relu, &x, 1, NULL, 0, attr, 1);
}

VAE_API int32_t vae_graph_tanh(vae_graph *g, int32_t x)
{
    return unary(g, &vae_op_tanh, x);
}

VAE_API int32_t vae_graph_sigmoid(vae_graph *g, int32_t x)
{
    return unary(g, &vae_op_sigmoid, x);
}

VAE_API int32_t vae_graph_softplus(vae_graph *g, int32_t x)
{
    return unary(g, &vae_op_softplus, x);
}

VAE_API int32_t vae_graph_identity(vae_graph *g, int32_t x)
{
    return unary(g, &vae_op_identity, x);
}
