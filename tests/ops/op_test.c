/* op_test.c - the checks several op test files share (op_test.h). */
#include "op_test.h"

#include <stdio.h>

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
