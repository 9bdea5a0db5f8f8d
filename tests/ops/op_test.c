/* op_test.c - the checks several op test files share (op_test.h). */
#include "op_test.h"

void ops_expect_sticky_failure(vae_graph *g, int32_t got)
{
    assert_true(got < 0);
    assert_int_equal(vae_graph_status(g), got);
    assert_true(vae_graph_last_error(g)[0] != '\0');
}
