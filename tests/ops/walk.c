/* walk.c - the tests that walk the op table (src/ops/op_table.c, made
 * from src/ops/op_list.h) and the op files under src/ops. test_ops runs
 * them after every group. */
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
        assert_non_null(o->forward);
        assert_non_null(o->backward);
    }
}

/* Every op but input given a node that does not exist fails with a
 * sticky error, whatever its own rules (each op's builder call is tested
 * the same way in its file); so does a layer in an empty graph. */
static void test_missing_nodes(void **state)
{
    (void)state;
    const int64_t v[1] = {4};
    vae_graph *g;

    const int32_t bad_ids[] = {1, 7, -1};
    for (int32_t op = VAE_OP_DENSE; op < VAE_OP_COUNT_; op++)
        for (int i = 0; i < TU_COUNT(bad_ids); i++) {
            assert_int_equal(vae_graph_new(&g), VAE_OK);
            assert_int_equal(vae_graph_input(g, v, 1), 0);
            ops_expect_sticky_failure(g, vae_graph_add_code(g, op, &bad_ids[i],
                                                            1, NULL, 0, NULL,
                                                            0));
            vae_graph_free(g);
        }

    /* A layer in an empty graph has nothing to refer to. */
    assert_int_equal(vae_graph_new(&g), VAE_OK);
    ops_expect_sticky_failure(g, vae_graph_relu(g, 0));
    vae_graph_free(g);
}

/* The files under src/ops that define ops (hold "const vae_op vae_op_";
 * the others, im2col.c, shape.c and op_table.c, are helpers of ops): base
 * names without ".c", and their text. */
enum { MAX_OP_FILES = 64 };

static int list_op_files(tu_c_file *files)
{
    int n_all = tu_read_c_files(VAE_OPS_SRC_DIR, files, MAX_OP_FILES);
    int n_files = 0;
    for (int i = 0; i < n_all; i++) {
        if (strstr(files[i].text, "const vae_op vae_op_"))
            files[n_files++] = files[i];
        else
            free(files[i].text);
    }
    assert_true(n_files > 0);
    return n_files;
}

/* Each src/ops/<file>.c that defines an op has its tests in
 * tests/ops/test_<file>.c, whose group is in this program and so has run
 * before this walk. */
static void test_op_files_have_tests(void **state)
{
    (void)state;
    tu_c_file files[MAX_OP_FILES];
    int n_files = list_op_files(files), missing = 0;
    char path[4096];
    for (int i = 0; i < n_files; i++) {
        const char *stem = files[i].stem;
        if (snprintf(path, sizeof path, "%s/test_%s.c", VAE_OPS_TEST_DIR,
                     stem) >= (int)sizeof path)
            fail_msg("path too long: %s", VAE_OPS_TEST_DIR);
        FILE *f = fopen(path, "r");
        if (f)
            fclose(f);
        if (!f || !ops_group_registered(stem)) {
            print_error("src/ops/%s.c defines an op, but tests/ops/test_%s.c "
                        "%s\n", stem, stem, !f ? "does not exist"
                        : "is not in test_ops (rerun cmake)");
            missing++;
        }
    }
    printf("  %d files under src/ops define ops\n", n_files);
    tu_free_c_files(files, n_files);
    if (missing)
        fail_msg("%d op files without their tests/ops/test_<file>.c", missing);
}

/* The test file of the op named `name`, when src/ops has its definition
 * in so many words (activation.c makes its ops with a macro). */
static const char *test_file_of(const char *name, const tu_c_file *files,
                                int n_files)
{
    static char path[128];
    char def[96];
    snprintf(def, sizeof def, "const vae_op vae_op_%s = {", name);
    for (int i = 0; i < n_files; i++)
        if (strstr(files[i].text, def)) {
            snprintf(path, sizeof path, "tests/ops/test_%s.c", files[i].stem);
            return path;
        }
    return "its test file under tests/ops";
}

/* A source takes no inputs: its shape function accepts a node without any
 * (with the shape [3] in its attributes, where input and data keep their
 * shape), which every other op refuses (as it must: a model file may say
 * anything), and gives it no parameters. Nothing flows into a source and it has nothing to
 * learn, so it has no gradient to check. */
static int is_source(const vae_op *o)
{
    vae_node_spec s = {.op = o->code};
    s.iattr[VAE_SHAPED_RANK] = 1;
    s.iattr[VAE_SHAPED_DIMS] = 3;
    const vae_node_spec *in[VAE_MAX_INPUTS] = {0};
    char err[256];
    return o->shape(&s, in, err, sizeof err) == VAE_OK && s.n_params == 0;
}

/* Every op of the table had its gradients compared with central
 * differences by tu_check_grads in the groups that ran before (testutil
 * counts the values it compared, per op), except:
 *  - sources (is_source: input, data), with nothing to differentiate;
 *  - ops whose tests showed with tu_check_no_grads that all their inputs
 *    are token ids and they own no parameters (shift_right,
 *    token_dropout), which tu_check_no_grads records as it passes.
 * A new op is covered by calling tu_check_grads in its own test file. */
static void test_every_op_has_gradient_check(void **state)
{
    (void)state;
    tu_c_file files[MAX_OP_FILES];
    int n_files = list_op_files(files), missing = 0;
    for (int32_t op = 1; op < VAE_OP_COUNT_; op++) {
        const vae_op *o = vae_op_get(op);
        assert_non_null(o);
        if (tu_fd_checked(op) > 0)
            printf("  %-17s %6lld values against central differences\n",
                   o->name, (long long)tu_fd_checked(op));
        else if (tu_no_grads_checked(op))
            printf("  %-17s no gradient: ids in, no parameters "
                   "(tu_check_no_grads)\n", o->name);
        else if (is_source(o))
            printf("  %-17s no gradient: a source, no inputs, no "
                   "parameters\n", o->name);
        else {
            fflush(stdout); /* the listing in order, when piped */
            print_error("%s: no finite-difference case ran: %s must check "
                        "its gradients with tu_check_grads\n", o->name,
                        test_file_of(o->name, files, n_files));
            missing++;
        }
    }
    tu_free_c_files(files, n_files);
    fflush(stdout);
    if (missing)
        fail_msg("%d ops without a finite-difference case", missing);
}

/* Every public builder, a VAE_API function defined in src/ops/<file>.c,
 * had its arguments checked in the groups that ran before: the checks of
 * OPS_EXPECT_G and the other macros of op_test.h are recorded per function
 * (testutil.h's record). test_api_validation leaves the builders to this
 * walk, finding them the same way (tu_op_builders), so a builder is
 * checked in one of the two programs, and only there: a check recorded
 * here for another public function belongs in test_api_validation. With
 * VAE_VALIDATION_TABLE=1 this prints the builders' rows of the table in
 * docs/reliability.md. */
static void test_every_builder_checked(void **state)
{
    (void)state;
    enum { MAX_BUILDERS = 64 };
    tu_builder builders[MAX_BUILDERS];
    int n = tu_op_builders(VAE_OPS_SRC_DIR, builders, MAX_BUILDERS);
    int missing = 0, stray = 0;
    for (int i = 0; i < n; i++) {
        const char *name = builders[i].name, *stem = builders[i].stem;
        if (tu_checks_of(name) > 0) {
            printf("  %-27s %3d argument checks\n", name, tu_checks_of(name));
            continue;
        }
        fflush(stdout); /* the listing in order, when piped */
        print_error("%s (src/ops/%s.c): no argument check ran: "
                    "tests/ops/test_%s.c must check its arguments "
                    "(OPS_EXPECT_G, OPS_EXPECT_NODE_CHECKS)\n",
                    name, stem, stem);
        missing++;
    }
    for (int i = 0; i < tu_checked_count(); i++)
        if (!tu_is_op_builder(tu_checked_name(i), builders, n)) {
            print_error("%s is not an op builder: its checks belong in "
                        "tests/test_api_validation.c\n", tu_checked_name(i));
            stray++;
        }
    fflush(stdout);
    tu_checks_table();
    if (missing || stray)
        fail_msg("%d op builders without argument checks, %d other "
                 "functions checked here", missing, stray);
}

int ops_run_walk(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_missing_nodes),
        cmocka_unit_test(test_op_files_have_tests),
        cmocka_unit_test(test_every_op_has_gradient_check),
        cmocka_unit_test(test_every_builder_checked),
    };
    printf("---- table walk (tests/ops/walk.c)\n");
    fflush(stdout);
    return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
