/* main.c - test_ops: every op test file's group (OPS_GROUP) in one program.
 *
 *   test_ops            every group, then the table walk (walk.c)
 *   test_ops GROUP...   those groups only (ctest runs each file's group so)
 *
 * Exits 0 when every test passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_test.h"

/* More op files than this is a sign to raise it. */
#define MAX_GROUPS 64

typedef struct group {
    char name[64];
    int (*run)(const char *group);
} group;

static group groups[MAX_GROUPS];
static int n_groups;

/* Runs walk.c's tests; declared here, not in op_test.h: only main runs it. */
int ops_run_walk(void);

void ops_register(const char *file, int (*run)(const char *group))
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    if (n_groups == MAX_GROUPS || strncmp(base, "test_", 5) != 0 || len < 8 ||
        strcmp(base + len - 2, ".c") != 0 || len - 7 >= sizeof groups[0].name) {
        fprintf(stderr, "test_ops: cannot register %s (name test_<file>.c, "
                        "at most %d groups)\n", file, MAX_GROUPS);
        exit(2);
    }
    group *g = &groups[n_groups++];
    memcpy(g->name, base + 5, len - 7);
    g->name[len - 7] = '\0';
    g->run = run;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const group *)a)->name, ((const group *)b)->name);
}

/* cmocka's output does not name the group: a line before it does. */
static int run(const group *g)
{
    printf("---- %s (tests/ops/test_%s.c)\n", g->name, g->name);
    fflush(stdout);
    return g->run(g->name);
}

static const group *find(const char *name)
{
    for (int i = 0; i < n_groups; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    return NULL;
}

int ops_group_registered(const char *name) { return find(name) != NULL; }

int main(int argc, char **argv)
{
    qsort(groups, (size_t)n_groups, sizeof groups[0], by_name);
    int failed = 0;
    if (argc == 1) {
        for (int i = 0; i < n_groups; i++)
            failed += run(&groups[i]);
        failed += ops_run_walk();
        return failed != 0;
    }
    for (int a = 1; a < argc; a++)
        if (!find(argv[a])) {
            fprintf(stderr, "test_ops: no group \"%s\"; the groups:", argv[a]);
            for (int i = 0; i < n_groups; i++)
                fprintf(stderr, " %s", groups[i].name);
            fprintf(stderr, "\n");
            return 2;
        }
    for (int a = 1; a < argc; a++) {
        const group *g = find(argv[a]);
        if (g)
            failed += run(g);
    }
    return failed != 0;
}
