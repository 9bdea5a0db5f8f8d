/* op_test.c - the checks several op test files share (op_test.h). */
#include "op_test.h"

#include <stdio.h>
#include <string.h>

void ops_expect_sticky_failure(vae_graph *g, int32_t got)
{
    assert_true(got < 0);
    assert_int_equal(vae_graph_status(g), got);
    assert_true(vae_graph_last_error(g)[0] != '\0');
}

void ops_expect_error(vae_graph *g, int32_t got, int32_t want,
                      const char *what)
{
    if (got != want)
        fail_msg("%s: got %d, want %d (%s)", what, (int)got, (int)want,
                 vae_graph_last_error(g));
    assert_int_equal(vae_graph_status(g), want);
    assert_true(vae_graph_last_error(g)[0] != '\0');
    assert_int_equal(vae_graph_relu(g, 0), want);
    vae_graph_free(g);
}

void ops_check_linear_grads(tu_harness *h, const char *what, double tol)
{
    h->fd_step = OPS_LINEAR_FD_H;
    printf("  %s: worst relative disagreement %.3g\n", what,
           tu_check_grads(h, what, tol));
    tu_check_accumulates(h);
}

void ops_check_layer_grads(const int64_t *dims, int32_t rank, const tu_layer *l,
                           int64_t batch, uint64_t seed, const char *what)
{
    tu_harness h;
    tu_harness_init(&h, dims, rank, l, batch, seed);
    ops_check_linear_grads(&h, what, OPS_LINEAR_FD_TOL);
    tu_harness_free(&h);
}

tu_input ops_ids_input(int64_t T, int64_t id_max)
{
    tu_input in = {1, {T}, id_max};
    return in;
}

void ops_expect_exact(const float *got, const float *want, int64_t n,
                      const char *what)
{
    for (int64_t i = 0; i < n; i++)
        if (!(got[i] == want[i]))
            fail_msg("%s[%lld]: %g, want %g", what, (long long)i,
                     (double)got[i], (double)want[i]);
}

vae_graph *ops_three_nodes(void)
{
    const int64_t v[1] = {3}, t[1] = {4};
    vae_graph *g = NULL;
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    assert_int_equal(vae_graph_input(g, v, 1), 0);
    assert_int_equal(vae_graph_data(g, t, 1), 1);
    assert_int_equal(vae_graph_repeat(g, 0, 4), 2);
    return g;
}

/* A builder call that must fail with `status` and a message that names the
 * op and contains `word`. */
static void expect_fail(vae_graph *g, int32_t got, int32_t status,
                        const char *op, const char *word)
{
    const char *msg = vae_graph_last_error(g);
    if (got != status)
        fail_msg("%s: got %d, want %d (%s)", op, (int)got, (int)status, msg);
    assert_int_equal(vae_graph_status(g), status);
    if (strncmp(msg, op, strlen(op)) != 0 || !strstr(msg, word))
        fail_msg("%s: message \"%s\" lacks \"%s\"", op, msg, word);
}

void ops_expect_failures(const ops_bad_case *cases, int n)
{
    for (int i = 0; i < n; i++) {
        vae_graph *g = ops_three_nodes();
        expect_fail(g, cases[i].build(g), cases[i].status, cases[i].op,
                    cases[i].word);
        /* Sticky: a valid call afterwards returns the same error. */
        assert_int_equal(vae_graph_relu(g, 0), cases[i].status);
        vae_graph_free(g);
    }
}

vae_graph *ops_g;

int ops_free_graph(void **state)
{
    (void)state;
    vae_graph_free(ops_g);
    ops_g = NULL;
    return 0;
}

vae_graph *ops_fresh(ops_graph_kind kind)
{
    static const int64_t vec[1] = {4}, img[3] = {2, 6, 6}, seq[1] = {5};
    ops_free_graph(NULL);
    switch (kind) {
    case OPS_EMPTY: assert_int_equal(vae_graph_new(&ops_g), VAE_OK); break;
    case OPS_VEC: ops_g = tu_graph_input(vec, 1); break;
    case OPS_IMG: ops_g = tu_graph_input(img, 3); break;
    case OPS_SEQ:
        ops_g = tu_graph_input(seq, 1);
        assert_int_equal(vae_graph_embedding(ops_g, 0, 10, 3), 1);
        break;
    }
    return ops_g;
}

vae_graph *ops_fresh_input(const int64_t *dims, int32_t rank)
{
    ops_free_graph(NULL);
    ops_g = tu_graph_input(dims, rank);
    return ops_g;
}
