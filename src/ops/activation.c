/* activation.c - elementwise activations. Each is a forward map and its
 * derivative written in terms of (x, y), so one pair of loops serves all. */
#include "../fastmath.h"
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

static inline void act_forward(vae_node *n, vae_node *const *in, act_fn f,
                               int64_t batch)
{
    int64_t len = batch * n->s.size;
    const float *x = in[0]->val;
    float a = n->s.fattr[LEAKY_SLOPE];
    for (int64_t i = 0; i < len; i++)
        n->val[i] = f(x[i], a);
}

static inline void act_backward(vae_node *n, vae_node *const *in,
                                act_deriv d, int64_t batch)
{
    if (!in[0]->grad)
        return;
    int64_t len = batch * n->s.size;
    const float *x = in[0]->val;
    float a = n->s.fattr[LEAKY_SLOPE];
    for (int64_t i = 0; i < len; i++)
        in[0]->grad[i] += n->grad[i] * d(x[i], n->val[i], a);
}

/* Each activation gets its own forward/backward, so the compiler can inline
 * f and d into the loop instead of calling through a pointer per element
 * (and each is cloned for AVX2, simd.h). */
#define ACTIVATION(NAME, CODE, F, D, SHAPE, IN_PLACE)                         \
    VAE_CLONES static void NAME##_forward(vae_node *n, vae_node *const *in,   \
                                          const float *w, int64_t batch)      \
    {                                                                         \
        (void)w;                                                              \
        act_forward(n, in, F, batch);                                         \
    }                                                                         \
    VAE_CLONES static void NAME##_backward(vae_node *n, vae_node *const *in,  \
                                           const float *w, float *dw,         \
                                           int64_t batch)                     \
    {                                                                         \
        (void)w, (void)dw;                                                    \
        act_backward(n, in, D, batch);                                        \
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
