/* walk.c - the tests that walk the op table (src/ops/op_table.c, made
 * from src/ops/op_list.h) and the op files under src/ops. test_ops runs
 * them after every group. */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_test.h"

static void test_op_table(void **state)
{
    (void)state;
    assert_null(vae_op_get(0));
    assert_null(vae_op_get(-1));
    assert_null(vae_op_get(VAE_OP_COUNT_));
    assert_null(vae_op_get(1000));
    for (int32_t op = VAE_OP_INPUT; op < VAE_OP_COUNT_; op++) {
        const vae_op *o = vae_op_get(op);
        assert_non_null(o);
        assert_non_null(o->name);
        assert_int_equal(o->code, op); /* each op states its own code */
        assert_non_null(o->shape);
        if (op != VAE_OP_INPUT) {
            assert_non_null(o->forward);
            assert_non_null(o->backward);
        }
    }
}

/* A layer of every op after input on a node that does not exist fails
 * with a sticky error (data, which takes no node, on the rank 0 of the
 * layer here); so does a layer in an empty graph. */
static void test_missing_nodes(void **state)
{
    (void)state;
    const int64_t v[1] = {4};
    vae_graph *g;

    const int32_t bad_ids[] = {1, 7, -1};
    for (int32_t op = VAE_OP_DENSE; op < VAE_OP_COUNT_; op++)
        for (int i = 0; i < TU_COUNT(bad_ids); i++) {
            tu_layer l = {.op = op, .units = 3, .slope = 0.1f, .kernel = 1,
                          .stride = 1};
            assert_int_equal(vae_graph_new(&g), VAE_OK);
            assert_int_equal(vae_graph_input(g, v, 1), 0);
            ops_expect_sticky_failure(g, tu_add_layer(g, bad_ids[i], &l));
            vae_graph_free(g);
        }

    /* A layer in an empty graph has nothing to refer to. */
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    ops_expect_sticky_failure(g, vae_graph_relu(g, 0));
    vae_graph_free(g);
}

/* The text of a file, NUL-terminated, for the caller to free. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = 2 * cap + 4096;
            text = realloc(text, cap);
            assert_non_null(text);
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    text[len] = '\0';
    return text;
}

/* Each src/ops/<file>.c that defines an op (holds "const vae_op vae_op_")
 * has its tests in tests/ops/test_<file>.c, whose group is in this program
 * and so has run before this walk. The other files there are helpers of
 * ops (im2col.c, shape.c, op_table.c). */
static void test_op_files_have_tests(void **state)
{
    (void)state;
    DIR *dir = opendir(VAE_OPS_SRC_DIR);
    if (!dir)
        fail_msg("cannot list %s", VAE_OPS_SRC_DIR);
    int files = 0, missing = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", VAE_OPS_SRC_DIR, e->d_name);
        char *text = read_text(path);
        int defines_op = strstr(text, "const vae_op vae_op_") != NULL;
        free(text);
        if (!defines_op)
            continue;
        files++;
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(n - 2), e->d_name);
        snprintf(path, sizeof path, "%s/test_%s.c", VAE_OPS_TEST_DIR, stem);
        FILE *f = fopen(path, "r");
        if (f)
            fclose(f);
        if (!f || !ops_group_registered(stem)) {
            print_error("src/ops/%s defines an op, but tests/ops/test_%s.c "
                        "%s\n", e->d_name, stem, !f ? "does not exist"
                        : "is not in test_ops (rerun cmake)");
            missing++;
        }
    }
    closedir(dir);
    printf("  %d files under src/ops define ops\n", files);
    assert_true(files > 0);
    if (missing)
        fail_msg("%d op files without their tests/ops/test_<file>.c", missing);
}

int ops_run_walk(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_missing_nodes),
        cmocka_unit_test(test_op_files_have_tests),
    };
    printf("---- table walk (tests/ops/walk.c)\n");
    fflush(stdout);
    return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
