/* test_lstm.c - the LSTM op of src/ops/lstm.c: forward against a
 * double-precision reference written here from the equations and against
 * PyTorch's nn.LSTM; central-difference gradients for every input and
 * parameter; masks with pads anywhere; state carried across calls
 * (incremental generation); initialisation; shapes, shape errors and the
 * builder's argument checks. The
 * training gradient of a whole model with LSTMs is in tests/test_lstm.c.
 *
 * The reference runs one example and one step at a time in double with
 * libm, straight from the equations in lstm.c's header: it shares no code
 * with the op (batched sgemms, fast sigmoid/tanh, batch-major strides).
 * The PyTorch values are an independent implementation: nn.LSTM run once in
 * float64 by tests/ref/gen_lstm_ref.py and pasted below; the suite itself
 * needs no Python.
 *
 * Tolerances (|a - b| <= tol * max(1, |a|, |b|), see tu_close):
 *  - REF_TOL 2e-6 against the double reference and PT_TOL 2e-6 against
 *    PyTorch: float32 with fastmath.h's sigmoid and tanh (2-2.5 ulp) over up
 *    to 6 steps of sums of ~10 O(1) terms. Measured: 1.4e-7 and 6.4e-8.
 *    Wrong gate order, a lost bias or a state not carried is off by 1e-3 or
 *    more; dW_hh taken against c instead of h, by 1e-4.
 *  - Central differences with step FD_H 3e-3 instead of the harness's 1e-3:
 *    the truncation error (h^2/6 |f'''| ~ 1e-6 for these O(1) smooth
 *    functions) stays well below the float32 rounding noise, which drops
 *    3x. Measured worst 5.7e-5 (1e-3: 1.9e-4; 1e-2: 9e-5, truncation
 *    showing). FD_TOL 5e-4; a backward that drops dL/dc through the forget
 *    gate is off by 1e-3 at the first element checked, dW_hh against c
 *    instead of h by 2e-3.
 *  - CARRY_TOL 1e-6: the same float32 arithmetic, only the sgemm shapes
 *    differ (batch x T rows at once, or batch rows). Measured: 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_test.h"

#define REF_TOL 2e-6
#define PT_TOL 2e-6
#define FD_H 3e-3f
#define FD_TOL 5e-4
#define CARRY_TOL 1e-6

/* One configuration: x is [t, f] per example, h hidden units; full
 * sequence or last state; an init input (h0, c0) or zeros; a mask input. */
typedef struct cfg {
    int64_t t, f, h;
    int full, init, mask;
} cfg;

/* Mask ids per example, repeated when T > 5: pads in the middle and at the
 * end; a pad first and the last step active; every step padded (the
 * last-state output is then h0). */
static const float mask_pattern[3][5] = {
    {3, 0, 5, 0, 0}, {0, 2, 2, 0, 7}, {0, 0, 0, 0, 0}};

static float pattern_id(int64_t b, int64_t t)
{
    return mask_pattern[b % 3][t % 5];
}

static void cfg_name(const cfg *c, char *buf, size_t len)
{
    snprintf(buf, len, "T%lld F%lld H%lld %s%s%s", (long long)c->t,
             (long long)c->f, (long long)c->h, c->full ? "full" : "last",
             c->init ? " init" : "", c->mask ? " mask" : "");
}

static float *init_val(tu_harness *h, const cfg *c)
{
    return c->init ? h->ins[1].val : NULL;
}

static float *mask_val(tu_harness *h, const cfg *c)
{
    return c->mask ? h->ins[1 + c->init].val : NULL;
}

/* The op with inputs x, [init], [mask] through the builder's validating
 * path; mask ids follow mask_pattern. */
static void harness_for(tu_harness *h, const cfg *c, int64_t batch,
                        uint64_t seed)
{
    tu_input ins[3] = {{2, {c->t, c->f}, 0}};
    int n = 1;
    if (c->init)
        ins[n++] = (tu_input){1, {2 * c->h}, 0};
    if (c->mask)
        ins[n++] = (tu_input){1, {c->t}, 8};
    int64_t attr[4] = {c->h, c->full, c->init, c->mask};
    tu_harness_init_op(h, ins, n, VAE_OP_LSTM, attr, 4, NULL, 0, batch, seed);
    float *ids = mask_val(h, c);
    for (int64_t b = 0; ids && b < batch; b++)
        for (int64_t t = 0; t < c->t; t++)
            ids[b * c->t + t] = pattern_id(b, t);
}

/* ---- reference --------------------------------------------------------- */

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* out: batch x [T, H] or [H]; state: batch x (h, c) after the last step. */
static void reference(tu_harness *h, const cfg *c, double *out, double *state)
{
    const int64_t T = c->t, F = c->f, H = c->h, G = 4 * H;
    const float *w_ih = h->w, *w_hh = w_ih + G * F, *b_ih = w_hh + G * H,
                *b_hh = b_ih + G, *init = init_val(h, c), *ids = mask_val(h, c);
    double *hs = tu_alloc((size_t)H * sizeof(double));
    double *cs = tu_alloc((size_t)H * sizeof(double));
    double *z = tu_alloc((size_t)G * sizeof(double));
    for (int64_t b = 0; b < h->batch; b++) {
        for (int64_t j = 0; j < H; j++) {
            hs[j] = init ? init[b * 2 * H + j] : 0.0;
            cs[j] = init ? init[b * 2 * H + H + j] : 0.0;
        }
        for (int64_t t = 0; t < T; t++) {
            const float *x = h->ins[0].val + (b * T + t) * F;
            int active = !ids || ids[b * T + t] != 0.0f;
            for (int64_t k = 0; active && k < G; k++) {
                z[k] = (double)b_ih[k] + b_hh[k];
                for (int64_t e = 0; e < F; e++)
                    z[k] += (double)w_ih[k * F + e] * x[e];
                for (int64_t e = 0; e < H; e++)
                    z[k] += (double)w_hh[k * H + e] * hs[e];
            }
            for (int64_t j = 0; active && j < H; j++) {
                double i = sigmoid(z[j]), f = sigmoid(z[H + j]);
                double g = tanh(z[2 * H + j]), o = sigmoid(z[3 * H + j]);
                cs[j] = f * cs[j] + i * g;
                hs[j] = o * tanh(cs[j]);
            }
            for (int64_t j = 0; c->full && j < H; j++)
                out[(b * T + t) * H + j] = active ? hs[j] : 0.0;
        }
        for (int64_t j = 0; j < H; j++) {
            if (!c->full)
                out[b * H + j] = hs[j];
            state[b * 2 * H + j] = hs[j];
            state[b * 2 * H + H + j] = cs[j];
        }
    }
    free(hs);
    free(cs);
    free(z);
}

static void check_forward(const cfg *c, uint64_t seed, double *worst)
{
    const int64_t batch = 3;
    char name[64], what[96];
    cfg_name(c, name, sizeof name);
    tu_harness h;
    harness_for(&h, c, batch, seed);
    assert_int_equal(h.node.s.rank, c->full ? 2 : 1);
    assert_int_equal(h.node.s.size, c->full ? c->t * c->h : c->h);
    assert_int_equal(h.node.s.n_params,
                     4 * c->h * c->f + 4 * c->h * c->h + 8 * c->h);
    /* The harness's weights are U(-0.8, 0.8): well inside the sigmoids'
     * curved range for these small fan-ins, unlike an all-saturated net. */
    double *out = tu_alloc((size_t)tu_out_count(&h) * sizeof(double));
    double *state = tu_alloc((size_t)(batch * 2 * c->h) * sizeof(double));
    reference(&h, c, out, state);
    tu_forward(&h);
    for (int64_t i = 0; i < tu_out_count(&h); i++) {
        snprintf(what, sizeof what, "%s: out[%lld]", name, (long long)i);
        tu_expect_close(h.node.val[i], out[i], REF_TOL, what, worst);
    }
    for (int64_t i = 0; i < batch * 2 * c->h; i++) {
        snprintf(what, sizeof what, "%s: state[%lld]", name, (long long)i);
        tu_expect_close(h.node.state[i], state[i], REF_TOL, what, worst);
    }
    free(out);
    free(state);
    tu_harness_free(&h);
}

/* Every combination of full sequence, init and mask, at batch 3, T 5, F 4,
 * H 3 and at the smallest size, H 1, T 1. */
static void test_forward_reference(void **state)
{
    (void)state;
    const int64_t sizes[][3] = {{5, 4, 3}, {1, 2, 1}};
    double worst = 0.0;
    int cases = 0;
    for (int s = 0; s < TU_COUNT(sizes); s++)
        for (int k = 0; k < 8; k++, cases++) {
            cfg c = {sizes[s][0], sizes[s][1], sizes[s][2], k & 1, (k >> 1) & 1,
                     (k >> 2) & 1};
            check_forward(&c, 10 + (uint64_t)cases, &worst);
        }
    printf("reference, %d configs: worst relative disagreement %.3g\n", cases,
           worst);
}

/* ---- gradients --------------------------------------------------------- */

static void test_grads(void **state)
{
    (void)state;
    const int64_t batch = 3;
    double worst = 0.0;
    char name[64];
    for (int k = 0; k < 6; k++) {
        /* With init: all four of full x mask; without: full x {mask}. */
        cfg c = {5, 4, 3, k & 1, k < 4, k < 4 ? (k >> 1) & 1 : 1};
        cfg_name(&c, name, sizeof name);
        tu_harness h;
        harness_for(&h, &c, batch, 300 + (uint64_t)k);
        h.fd_step = FD_H;
        worst = fmax(worst, tu_check_grads(&h, name, FD_TOL));
        /* A padded step gets no gradient at all, not merely a small one;
         * tu_check_grads leaves the analytic gradients in place. */
        const float *ids = mask_val(&h, &c);
        for (int64_t r = 0; ids && r < batch * c.t; r++)
            for (int64_t e = 0; ids[r] == 0.0f && e < c.f; e++)
                if (h.ins[0].grad[r * c.f + e] != 0.0f)
                    fail_msg("%s: padded step row %lld has gradient %g", name,
                             (long long)r,
                             (double)h.ins[0].grad[r * c.f + e]);
        tu_harness_free(&h);
    }
    printf("gradients, 6 configs: worst relative disagreement %.3g\n", worst);
}

static void test_accumulates(void **state)
{
    (void)state;
    const cfg configs[] = {{5, 4, 3, 1, 1, 1}, {5, 4, 3, 0, 1, 1},
                           {4, 2, 2, 0, 0, 0}};
    for (int k = 0; k < TU_COUNT(configs); k++) {
        tu_harness h;
        harness_for(&h, &configs[k], 3, 400 + (uint64_t)k);
        tu_check_accumulates(&h);
        tu_harness_free(&h);
    }
}

/* ---- carried state ----------------------------------------------------- */

/* T steps one call at a time (T = 1 each; the first from init, the rest
 * carrying the state) equal one call over all T. The one-step net's init
 * turns NaN after the first call: carrying must not read it. */
static void check_carry(int mask, double *worst)
{
    const int64_t batch = 3, T = 6, F = 4, H = 3;
    const cfg whole_c = {T, F, H, 1, 1, mask}, step_c = {1, F, H, 1, 1, mask};
    tu_harness whole, step;
    harness_for(&whole, &whole_c, batch, 500 + (uint64_t)mask);
    harness_for(&step, &step_c, batch, 600 + (uint64_t)mask);
    assert_int_equal(step.node.s.n_params, whole.node.s.n_params);
    memcpy(step.w, whole.w, (size_t)whole.node.s.n_params * sizeof(float));
    memcpy(step.ins[1].val, whole.ins[1].val,
           (size_t)(batch * 2 * H) * sizeof(float));
    tu_forward(&whole);

    char what[64];
    for (int64_t t = 0; t < T; t++) {
        for (int64_t b = 0; b < batch; b++) {
            memcpy(step.ins[0].val + b * F, whole.ins[0].val + (b * T + t) * F,
                   (size_t)F * sizeof(float));
            if (mask)
                step.ins[2].val[b] = whole.ins[2].val[b * T + t];
        }
        step.run.carry = t > 0;
        tu_forward(&step);
        for (int64_t i = 0; i < batch * 2 * H && t == 0; i++)
            step.ins[1].val[i] = NAN;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t j = 0; j < H; j++) {
                snprintf(what, sizeof what, "mask %d, step %lld, h[%lld][%lld]",
                         mask, (long long)t, (long long)b, (long long)j);
                tu_expect_close(step.node.val[b * H + j],
                             whole.node.val[(b * T + t) * H + j], CARRY_TOL,
                             what, worst);
            }
    }
    for (int64_t i = 0; i < batch * 2 * H; i++)
        tu_expect_close(step.node.state[i], whole.node.state[i], CARRY_TOL,
                     "final state", worst);
    tu_harness_free(&whole);
    tu_harness_free(&step);
}

static void test_carry(void **state)
{
    (void)state;
    double worst = 0.0;
    check_carry(0, &worst);
    check_carry(1, &worst);
    printf("carry: worst relative disagreement %.3g\n", worst);
}

/* ---- PyTorch reference values ------------------------------------------ */

/* Made once with `/usr/bin/python3 tests/ref/gen_lstm_ref.py`, whose output
 * replaces this block to regenerate it; the script's docstring says what
 * the two cases are. */

/* BEGIN generated by tests/ref/gen_lstm_ref.py (torch 1.13.0a0, seed 20240611) */
enum { PT_B = 2, PT_T = 4, PT_F = 3, PT_H = 2 };
static const int pt_lengths[PT_B] = {4, 2};
static const float pt_params[56] = {
    0.613946915f, -0.168994188f, -0.453527719f, 0.323340237f,
    -0.355631381f, -0.536586583f, -0.642807782f, 0.514831662f,
    0.238152444f, 0.462210149f, 0.0116578182f, 0.0297578666f,
    -0.15943478f, -0.0394804701f, -0.662864208f, 0.268605828f,
    -0.122564301f, 0.611777365f, 0.0536734201f, -0.145927891f,
    0.590694487f, 0.524732947f, 0.561767578f, 0.281891704f,
    0.00488507235f, 0.643207014f, 0.247067183f, 0.102428302f,
    0.131453574f, -0.256747544f, -0.0831943378f, 0.549517572f,
    -0.122543812f, -0.0657409057f, 0.599479258f, 0.608454227f,
    0.239179403f, 0.641293287f, -0.391270697f, 0.263167113f,
    0.652455032f, -0.577408552f, -0.411919951f, -0.112667546f,
    0.647081912f, -0.081982702f, 0.464888155f, -0.320946217f,
    0.0764105469f, -0.640863836f, -0.015309168f, -0.18583414f,
    0.517953396f, -0.219411775f, -0.114831954f, -0.568938434f,
};
static const float pt_x[24] = {
    1.45023906f, 1.83119226f, 0.9901281f, 1.79695833f,
    1.18083739f, -0.263778418f, 0.226560593f, 1.14612961f,
    0.250504494f, -0.0231365766f, -0.623581052f, 0.901382983f,
    -0.0389268883f, 0.665532947f, 1.33896029f, -0.238331363f,
    -1.83348131f, -1.35668039f, -0.343568772f, 0.316454321f,
    0.866268694f, -0.599041104f, -0.844836533f, -2.60666752f,
};
static const float pt_init[8] = {
    0.808591127f, -1.15177667f, 0.134622201f, 0.282030165f,
    -0.275558859f, 0.86178273f, -0.669900596f, 0.045054242f,
};
static const float pt_r[16] = {
    -0.211749613f, -0.712392151f, 1.48022151f, 1.51604843f,
    -0.145217985f, 0.513290048f, -0.734849751f, 0.538754046f,
    0.243110329f, -0.390593618f, 0.0747420266f, -0.374097884f,
    1.13846326f, 0.096893765f, 0.716822982f, -0.44113493f,
};
static const double pt_dense_out[16] = {
    0.092706906264601929, 0.098018843615554602, 0.33109478326358016, 0.063049643752849119,
    0.41420089314606923, 0.021022209705025847, 0.40952034235772949, 0.02965815643232295,
    -0.15415377442252373, 0.050161010204715979, 0.29113044884662237, -0.030029446974928608,
    0.42343574080321184, -0.033067651178284224, 0.20432972155604334, -0.037211913646409057,
};
static const double pt_dense_state[8] = {
    0.40952034235772949, 0.02965815643232295, 0.61541144181719221, 0.12441037013563755,
    0.20432972155604334, -0.037211913646409057, 1.0206166874088622, -0.59327621116159546,
};
static const double pt_dense_dparams[56] = {
    0.028620151290203386, -0.013867300529458153, -0.063287597136997276, 0.014261992313760186,
    0.0060518051713417034, -0.0027478021982493633, -0.01320066218019909, 0.042743101163896458,
    -0.058295282494261337, 0.12521311054717832, 0.11521753883570832, 0.019855455698270276,
    0.27731595720709501, 0.46164144091382042, 0.18932658467148014, 0.68916740759344652,
    0.54197341791487064, 0.0020378918649214032, 0.27969667717040864, 0.20569238498531989,
    -0.31782999734498019, 0.034742608124863038, -0.016400728164059162, -0.072065842476672179,
    -0.0070898443445298305, 0.0063011679118420549, 0.021923564691410099, -0.027083330820830656,
    0.0090438177739000994, -0.046113064976141038, 0.034623085268075761, -0.038011149050853982,
    -0.018313734587796535, 0.063394772835539639, 0.10994112298410721, -0.049381283882514351,
    0.069433183861288786, 0.0058813030353941824, 0.0068224386087178792, 0.010537917873461047,
    0.10790489603646315, 0.019167419635571777, -0.028486820646125108, 0.077375371850214023,
    0.33135349619703303, 0.44828333962653766, 0.3900001687726144, 0.050191208675182758,
    0.10790489603646315, 0.019167419635571774, -0.028486820646125115, 0.077375371850214036,
    0.33135349619703303, 0.44828333962653766, 0.3900001687726144, 0.050191208675182765,
};
static const double pt_dense_dx[24] = {
    0.023961767147211873, -0.020660958622591163, -0.0098443907683033599, 0.12463574117163483,
    -0.058089679448131773, 0.22528614765685209, 0.029886602356555696, -0.0088812342577122092,
    0.064810058103007398, 0.059329535981529867, -0.011908442063753478, 0.083308625809323508,
    -0.00097048275462754876, -0.027474302295753299, -0.12058922328798624, 0.036479297307781884,
    -0.011139617164437232, -0.01998161578530663, -0.046621283652977241, 0.0076590873642010419,
    -0.049184263893743682, 0.0146714001360168, -0.0050622133170092655, 0.06161680311273722,
};
static const double pt_dense_dinit[8] = {
    0.037829073176764524, 0.0559797036441066, 0.062094958900641692, 0.21994091573793978,
    -0.031202800267590508, -0.005956667450438196, 0.12358322412464615, -0.10479411117404297,
};
static const double pt_packed_out[16] = {
    0.092706906264601929, 0.098018843615554602, 0.33109478326358016, 0.063049643752849119,
    0.41420089314606923, 0.021022209705025847, 0.40952034235772949, 0.02965815643232295,
    -0.15415377442252373, 0.050161010204715979, 0.29113044884662237, -0.030029446974928608,
    0, 0, 0, 0,
};
static const double pt_packed_state[8] = {
    0.40952034235772949, 0.02965815643232295, 0.61541144181719221, 0.12441037013563755,
    0.29113044884662237, -0.030029446974928608, 0.7704110591285791, -0.36103085281505171,
};
static const double pt_packed_dparams[56] = {
    0.069803143868744852, 0.049141856777734035, -0.044060006108061753, 0.016599840633767519,
    -0.00053323176759567995, -7.9262402339127578e-05, 0.02581606304166852, 0.010293532879915654,
    -0.1183699144401789, 0.1242852683614681, 0.11776031897599423, 0.02502326250285368,
    0.34909413130646194, 0.40138098609535938, -0.0046747753211839292, 0.69163320348329116,
    0.54733018074128692, -0.0024077959948899229, 0.39594482644628182, 0.25908171748610981,
    -0.15817187330378951, 0.041903319915685855, -0.0079218171256850954, -0.033725137657655876,
    -0.024905437509767897, 0.0041637978597419481, 0.019112462739330986, -0.028126037743958346,
    -0.028816757281801206, -0.034568565233466839, 0.035755107756478249, -0.03841980190616643,
    -0.064859576871070163, 0.041102049907039924, 0.11013142072628829, -0.050973966064396511,
    -0.018269571892518939, 0.01365824199021835, 0.0012853743531438255, 0.010385962468534682,
    -0.020045136169835165, 0.016067872701758492, -0.12378830987074987, 0.079996673869979024,
    0.090825389964536471, 0.43680090752634376, 0.13019026023658734, 0.040860980626591027,
    -0.020045136169835165, 0.016067872701758495, -0.12378830987074989, 0.079996673869979024,
    0.090825389964536457, 0.43680090752634376, 0.13019026023658734, 0.04086098062659102,
};
static const double pt_packed_dx[24] = {
    0.023961767147211873, -0.020660958622591163, -0.0098443907683033599, 0.12463574117163483,
    -0.058089679448131773, 0.22528614765685209, 0.029886602356555696, -0.0088812342577122092,
    0.064810058103007398, 0.059329535981529867, -0.011908442063753478, 0.083308625809323508,
    -0.0049678954772132316, -0.020738611057896771, -0.09624200546900874, 0.0078657552446354494,
    0.0019885996047266166, 0.0014918749739231481, 0, 0,
    0, 0, 0, 0,
};
static const double pt_packed_dinit[8] = {
    0.037829073176764524, 0.0559797036441066, 0.062094958900641692, 0.21994091573793978,
    -0.027213011511183015, -0.0095575415681509995, 0.09679742835045875, -0.12082445231167084,
};
/* END generated by tests/ref/gen_lstm_ref.py */

/* ---- PyTorch ----------------------------------------------------------- */

/* Both cases run nn.LSTM with (h0, c0) and the full sequence out; "packed"
 * gives example b only its first pt_lengths[b] steps, which is the mask
 * 1..1 0..0 (pads at the end: all that packing can express). */
static void check_pytorch(int packed, const double *out, const double *state,
                          const double *dparams, const double *dx,
                          const double *dinit, double *worst)
{
    const cfg c = {PT_T, PT_F, PT_H, 1, 1, packed};
    tu_harness h;
    harness_for(&h, &c, PT_B, 700);
    assert_int_equal(h.node.s.n_params, TU_COUNT(pt_params));
    memcpy(h.w, pt_params, sizeof pt_params);
    memcpy(h.ins[0].val, pt_x, sizeof pt_x);
    memcpy(h.ins[1].val, pt_init, sizeof pt_init);
    memcpy(h.r, pt_r, sizeof pt_r);
    for (int64_t b = 0; packed && b < PT_B; b++)
        for (int64_t t = 0; t < PT_T; t++)
            h.ins[2].val[b * PT_T + t] = t < pt_lengths[b] ? 1.0f : 0.0f;
    memset(h.ins[0].grad, 0, sizeof pt_x);
    memset(h.ins[1].grad, 0, sizeof pt_init);
    memset(h.dw, 0, sizeof pt_params);
    tu_backward(&h);

    const struct {
        const char *name;
        const float *got;
        const double *want;
        int64_t n;
    } checks[] = {
        {"out", h.node.val, out, TU_COUNT(pt_r)},
        {"state", h.node.state, state, TU_COUNT(pt_init)},
        {"dparams", h.dw, dparams, TU_COUNT(pt_params)},
        {"dx", h.ins[0].grad, dx, TU_COUNT(pt_x)},
        {"dinit", h.ins[1].grad, dinit, TU_COUNT(pt_init)},
    };
    char what[64];
    for (int k = 0; k < TU_COUNT(checks); k++)
        for (int64_t i = 0; i < checks[k].n; i++) {
            snprintf(what, sizeof what, "%s: %s[%lld]",
                     packed ? "packed" : "dense", checks[k].name,
                     (long long)i);
            tu_expect_close(checks[k].got[i], checks[k].want[i], PT_TOL, what,
                         worst);
        }
    tu_harness_free(&h);
}

static void test_pytorch(void **state)
{
    (void)state;
    double worst = 0.0;
    check_pytorch(0, pt_dense_out, pt_dense_state, pt_dense_dparams,
                  pt_dense_dx, pt_dense_dinit, &worst);
    check_pytorch(1, pt_packed_out, pt_packed_state, pt_packed_dparams,
                  pt_packed_dx, pt_packed_dinit, &worst);
    printf("PyTorch: worst relative disagreement %.3g\n", worst);
}

/* ---- initialisation ---------------------------------------------------- */

/* nn.LSTM's: all four blocks uniform in +-1/sqrt(H) (not fan-in F). */
static void test_init(void **state)
{
    (void)state;
    const cfg c = {3, 7, 16, 1, 0, 0};
    tu_harness h;
    harness_for(&h, &c, 1, 800);
    assert_non_null(h.op->init);
    vae_rng rng;
    vae_rng_seed(&rng, 42);
    h.op->init(&h.node.s, h.w, &rng);
    const int64_t G = 4 * c.h;
    const int64_t starts[5] = {0, G * c.f, G * (c.f + c.h),
                               G * (c.f + c.h) + G, h.node.s.n_params};
    const double bound = 1.0 / sqrt((double)c.h);
    for (int blk = 0; blk < 4; blk++) {
        double most = 0.0, sum = 0.0;
        for (int64_t i = starts[blk]; i < starts[blk + 1]; i++) {
            assert_true(fabs(h.w[i]) <= bound * (1.0 + 1e-6));
            most = fmax(most, fabs(h.w[i]));
            sum += h.w[i];
        }
        double n = (double)(starts[blk + 1] - starts[blk]);
        assert_true(most > 0.8 * bound);
        assert_true(fabs(sum / n) < 0.25 * bound);
    }
    tu_harness_free(&h);
}

/* ---- shapes ------------------------------------------------------------ */

/* got must be the status `want`, recorded on g with a message naming the
 * op and containing `words`, and sticky. */
static void expect_error(vae_graph *g, int32_t got, int32_t want,
                         const char *words, const char *what)
{
    if (got != want)
        fail_msg("%s: got %d, want %d (%s)", what, (int)got, (int)want,
                 vae_graph_last_error(g));
    assert_int_equal(vae_graph_status(g), want);
    const char *msg = vae_graph_last_error(g);
    if (strncmp(msg, "lstm: ", 6) != 0 || !strstr(msg, words))
        fail_msg("%s: message \"%s\" lacks \"lstm: ...%s\"", what, msg, words);
    assert_int_equal(vae_graph_relu(g, 0), want);
    vae_graph_free(g);
}

/* A [5, 4] input, its flattening (node 1), a [6] vector (node 2) to be an
 * init for hidden 3, and a [5] id node (node 3) to be a mask. */
static vae_graph *seq_graph(void)
{
    const int64_t x[2] = {5, 4}, ids[1] = {5};
    vae_graph *g = tu_graph_input(x, 2);
    assert_int_equal(vae_graph_flatten(g, 0), 1);
    assert_int_equal(vae_graph_dense(g, 1, 6), 2);
    assert_int_equal(vae_graph_data(g, ids, 1), 3);
    return g;
}

static void test_shapes(void **state)
{
    (void)state;
    for (int k = 0; k < 8; k++) {
        int full = k & 1, init = (k >> 1) & 1, mask = (k >> 2) & 1;
        vae_graph *g = seq_graph();
        int32_t id = vae_graph_lstm(g, 0, 3, init ? 2 : -1, mask ? 3 : -1,
                                    full);
        assert_int_equal(id, 4);
        const vae_node_spec *s = &g->nodes[id];
        assert_int_equal(s->n_inputs, 1 + init + mask);
        assert_int_equal(vae_graph_node_size(g, id), full ? 15 : 3);
        assert_int_equal(s->rank, full ? 2 : 1);
        assert_int_equal(s->shape[0], full ? 5 : 3);
        assert_int_equal(s->shape[1], full ? 3 : 0);
        assert_int_equal(s->n_params, 4 * 3 * 4 + 4 * 3 * 3 + 8 * 3);
        /* Per example: gates, entering h and c and tanh(c) for 5 steps;
         * the carried (h, c). */
        assert_int_equal(vae_op_get(VAE_OP_LSTM)->saved(s), 7 * 5 * 3);
        assert_int_equal(vae_op_get(VAE_OP_LSTM)->state(s), 2 * 3);
        vae_graph_free(g);
    }
}

/* VAE_ERR_RANGE: an attribute outside its range on its own. VAE_ERR_SHAPE:
 * inputs that do not fit. VAE_ERR_GRAPH: wiring (node ids, flags that
 * disagree with the inputs). */
static void test_shape_errors(void **state)
{
    (void)state;
    const int64_t bad_hidden[] = {0, -1, ((int64_t)1 << 20) + 1, INT64_MAX};
    char what[64];
    for (int i = 0; i < TU_COUNT(bad_hidden); i++) {
        vae_graph *g = seq_graph();
        snprintf(what, sizeof what, "hidden %lld", (long long)bad_hidden[i]);
        expect_error(g, vae_graph_lstm(g, 0, bad_hidden[i], -1, -1, 1),
                     VAE_ERR_RANGE, "hidden", what);
    }
    const int32_t bad_full[] = {2, -1};
    for (int i = 0; i < TU_COUNT(bad_full); i++) {
        vae_graph *g = seq_graph();
        expect_error(g, vae_graph_lstm(g, 0, 3, 2, 3, bad_full[i]),
                     VAE_ERR_RANGE, "full_sequence", "full_sequence");
    }

    /* x not [T, F]. */
    const int64_t vec[1] = {20}, cube[3] = {2, 5, 2};
    vae_graph *g = tu_graph_input(vec, 1);
    expect_error(g, vae_graph_lstm(g, 0, 3, -1, -1, 1), VAE_ERR_SHAPE,
                 "rank 1", "x of rank 1");
    g = tu_graph_input(cube, 3);
    expect_error(g, vae_graph_lstm(g, 0, 3, -1, -1, 1), VAE_ERR_SHAPE,
                 "rank 3", "x of rank 3");
    /* Too many weights (4H(F + H) > 2^36), and steps so many that a step's
     * rows are more than INT_MAX floats apart; both before any memory is
     * asked for. */
    const int64_t wide[2] = {5, 1 << 20}, long_seq[2] = {(int64_t)1 << 29, 1};
    g = tu_graph_input(wide, 2);
    expect_error(g, vae_graph_lstm(g, 0, 1 << 15, -1, -1, 0), VAE_ERR_SHAPE,
                 "weights", "F 2^20, H 2^15");
    g = seq_graph();
    expect_error(g, vae_graph_lstm(g, 0, 1 << 20, -1, -1, 0), VAE_ERR_SHAPE,
                 "weights", "F 4, H 2^20");
    g = tu_graph_input(long_seq, 2);
    expect_error(g, vae_graph_lstm(g, 0, 2, -1, -1, 1), VAE_ERR_SHAPE,
                 "steps", "T 2^29, H 2");

    /* init not 2H elements: the [20] flattening, the [6] vector for H 4. */
    g = seq_graph();
    expect_error(g, vae_graph_lstm(g, 0, 3, 1, -1, 1), VAE_ERR_SHAPE, "init",
                 "init of 20");
    g = seq_graph();
    expect_error(g, vae_graph_lstm(g, 0, 4, 2, -1, 1), VAE_ERR_SHAPE, "init",
                 "init of 6 for H 4");
    /* mask not [T]: x itself, ids of another length, [T, 1]. */
    const int64_t six[1] = {6}, col[2] = {5, 1};
    g = seq_graph();
    expect_error(g, vae_graph_lstm(g, 0, 3, -1, 0, 1), VAE_ERR_SHAPE, "mask",
                 "mask [5, 4]");
    g = seq_graph();
    assert_int_equal(vae_graph_data(g, six, 1), 4);
    expect_error(g, vae_graph_lstm(g, 0, 3, -1, 4, 1), VAE_ERR_SHAPE, "mask",
                 "mask [6]");
    g = seq_graph();
    assert_int_equal(vae_graph_data(g, col, 2), 4);
    expect_error(g, vae_graph_lstm(g, 0, 3, -1, 4, 1), VAE_ERR_SHAPE, "mask",
                 "mask [5, 1]");

    /* Nodes that do not exist. */
    g = seq_graph();
    expect_error(g, vae_graph_lstm(g, 7, 3, -1, -1, 1), VAE_ERR_GRAPH,
                 "does not exist", "x missing");
    g = seq_graph();
    expect_error(g, vae_graph_lstm(g, 0, 3, 9, -1, 1), VAE_ERR_GRAPH,
                 "does not exist", "init missing");
    /* Flags that disagree with the inputs (only a damaged file or a direct
     * vae_graph_add can say so). */
    const struct {
        int32_t n;
        int64_t has_init, has_mask;
    } flags[] = {{1, 1, 0}, {2, 0, 0}, {2, 1, 1}, {3, 1, 0}, {2, 2, 0},
                 {2, 0, -1}};
    const int32_t ins[3] = {0, 2, 3};
    for (int i = 0; i < TU_COUNT(flags); i++) {
        int64_t attr[4] = {3, 1, flags[i].has_init, flags[i].has_mask};
        g = seq_graph();
        snprintf(what, sizeof what, "flags #%d", i);
        expect_error(g, vae_graph_add_code(g, VAE_OP_LSTM, ins, flags[i].n,
                                           attr, 4, NULL, 0),
                     VAE_ERR_GRAPH, "inputs", what);
    }
}

/* The builder's arguments (recorded for the table walk and
 * docs/reliability.md). */
static void test_lstm_arguments(void **state)
{
    (void)state;
    OPS_EXPECT_NODE_CHECKS(vae_graph_lstm, OPS_SEQ, , 4, -1, -1, 1);
    const int32_t bad_ids[] = {-2, -100, INT32_MIN, 2, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_ids); i++) {
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("init naming no node (only -1 means none)",
                     VAE_ERR_GRAPH,
                     vae_graph_lstm(ops_g, 1, 4, bad_ids[i], -1, 1));
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("mask naming no node (only -1 means none)",
                     VAE_ERR_GRAPH,
                     vae_graph_lstm(ops_g, 1, 4, -1, bad_ids[i], 1));
    }
    const int64_t bad_hidden[] = {0, -1, INT64_MIN, ((int64_t)1 << 20) + 1,
                                  INT64_MAX};
    for (int i = 0; i < TU_COUNT(bad_hidden); i++) {
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("hidden not in 1..2^20", VAE_ERR_RANGE,
                     vae_graph_lstm(ops_g, 1, bad_hidden[i], -1, -1, 1));
    }
    const int32_t bad_full[] = {2, -1, INT32_MAX};
    for (int i = 0; i < TU_COUNT(bad_full); i++) {
        ops_fresh(OPS_SEQ);
        OPS_EXPECT_G("full_sequence not 0 or 1", VAE_ERR_RANGE,
                     vae_graph_lstm(ops_g, 1, 4, -1, -1, bad_full[i]));
    }
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("x not a sequence [T, F]", VAE_ERR_SHAPE,
                 vae_graph_lstm(ops_g, 0, 4, -1, -1, 1));
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("init without 2 x hidden elements", VAE_ERR_SHAPE,
                 vae_graph_lstm(ops_g, 1, 4, 0, -1, 1));
    ops_fresh(OPS_SEQ);
    OPS_EXPECT_G("mask not [T] ids", VAE_ERR_SHAPE,
                 vae_graph_lstm(ops_g, 1, 4, -1, 1, 1));
    const int64_t long_seq = (int64_t)1 << 28;
    ops_fresh_input(&long_seq, 1);
    assert_int_equal(vae_graph_embedding(ops_g, 0, 10, 1), 1);
    OPS_EXPECT_G("T x 4 hidden above 2^31 - 1", VAE_ERR_SHAPE,
                 vae_graph_lstm(ops_g, 1, 4, -1, -1, 1));
    const int64_t wide_seq[2] = {2, (int64_t)1 << 31};
    ops_fresh_input(wide_seq, 2);
    OPS_EXPECT_G("features above 2^30", VAE_ERR_SHAPE,
                 vae_graph_lstm(ops_g, 0, 4, -1, -1, 1));
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_forward_reference),
    cmocka_unit_test(test_grads),
    cmocka_unit_test(test_accumulates),
    cmocka_unit_test(test_carry),
    cmocka_unit_test(test_pytorch),
    cmocka_unit_test(test_init),
    cmocka_unit_test(test_shapes),
    cmocka_unit_test(test_shape_errors),
    cmocka_unit_test(test_lstm_arguments),
};
OPS_GROUP(tests)
