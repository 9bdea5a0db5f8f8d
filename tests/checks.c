/* checks.c - the record of argument checks, and the public functions that
 * source files declare (testutil.h). test_api_validation and test_ops both
 * record their checks here, so the two programs count and print them the
 * same way, and both find the op builders with tu_op_builders, so the
 * functions one leaves to the other are exactly those the other requires. */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- the record --------------------------------------------------------- */

enum { MAX_FUNCS = 96, WHAT_LEN = 1024 };

static struct {
    char name[TU_NAME_LEN];
    int checks;
    char what[WHAT_LEN]; /* distinct descriptions, "; "-separated */
} covered[MAX_FUNCS];
static int n_covered;

void tu_check_note(const char *call, const char *what)
{
    char name[TU_NAME_LEN];
    call += strspn(call, "( "); /* wrapping macros parenthesise the call */
    size_t len = strcspn(call, "( ");
    assert_true(len > 0 && len < sizeof name);
    memcpy(name, call, len);
    name[len] = '\0';
    int i = 0;
    while (i < n_covered && strcmp(covered[i].name, name) != 0)
        i++;
    if (i == n_covered) {
        assert_true(n_covered < MAX_FUNCS);
        snprintf(covered[n_covered++].name, sizeof covered[i].name, "%s", name);
    }
    covered[i].checks++;
    char *w = covered[i].what;
    if (strstr(w, what))
        return;
    size_t used = strlen(w);
    snprintf(w + used, WHAT_LEN - used, "%s%s", used ? "; " : "", what);
}

void tu_check_expect(const char *call, const char *what, int64_t got,
                     int64_t want, const char *msg)
{
    tu_check_note(call, what);
    if (got != want)
        fail_msg("%s [%s]: returned %lld (%s), want %lld (%s)", call, what,
                 (long long)got, vae_status_string((int32_t)got),
                 (long long)want, vae_status_string((int32_t)want));
    if (want < 0 && msg && msg[0] == '\0')
        fail_msg("%s [%s]: status %lld but no message", call, what,
                 (long long)got);
}

int tu_checks_of(const char *name)
{
    for (int i = 0; i < n_covered; i++)
        if (strcmp(covered[i].name, name) == 0)
            return covered[i].checks;
    return 0;
}

int tu_checked_count(void) { return n_covered; }

const char *tu_checked_name(int i)
{
    assert_true(i >= 0 && i < n_covered);
    return covered[i].name;
}

void tu_checks_table(void)
{
    const char *table = getenv("VAE_VALIDATION_TABLE");
    if (!table || table[0] != '1')
        return;
    int total = 0;
    printf("| function | checks | bad inputs tested |\n|---|---:|---|\n");
    for (int i = 0; i < n_covered; i++) {
        printf("| `%s` | %d | %s |\n", covered[i].name, covered[i].checks,
               covered[i].what);
        total += covered[i].checks;
    }
    printf("\n%d functions, %d checks\n", n_covered, total);
    fflush(stdout);
}

/* ---- public functions in source files ------------------------------------ */

char *tu_read_text(const char *path)
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

static int by_stem(const void *a, const void *b)
{
    return strcmp(((const tu_c_file *)a)->stem, ((const tu_c_file *)b)->stem);
}

int tu_read_c_files(const char *dir, tu_c_file *files, int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot list %s", dir);
    int n_files = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
            (int)sizeof path)
            fail_msg("path too long: %s", dir);
        assert_true(n_files < cap && n - 2 < sizeof files->stem);
        snprintf(files[n_files].stem, sizeof files->stem, "%.*s", (int)(n - 2),
                 e->d_name);
        files[n_files++].text = tu_read_text(path);
    }
    closedir(d);
    /* readdir's order is the file system's: sorted, listings read alike
     * on every machine. */
    qsort(files, (size_t)n_files, sizeof *files, by_stem);
    return n_files;
}

void tu_free_c_files(tu_c_file *files, int n)
{
    for (int i = 0; i < n; i++)
        free(files[i].text);
}

int tu_next_api_function(const char **text, char *name, size_t cap)
{
    for (const char *line = *text; *line;) {
        const char *end = strchr(line, '\n');
        const char *next = end ? end + 1 : line + strlen(line);
        if (strncmp(line, "VAE_API ", 8) == 0) {
            const char *paren = memchr(line, '(', (size_t)(next - line));
            if (!paren)
                fail_msg("a VAE_API line without its '(': %.*s",
                         (int)(next - line), line);
            const char *start = paren;
            while (start > line && (start[-1] == '_' ||
                                    (start[-1] >= 'a' && start[-1] <= 'z') ||
                                    (start[-1] >= '0' && start[-1] <= '9')))
                start--;
            size_t len = (size_t)(paren - start);
            assert_true(len > 0 && len < cap);
            memcpy(name, start, len);
            name[len] = '\0';
            *text = next;
            return 1;
        }
        line = next;
    }
    return 0;
}

int tu_op_builders(const char *ops_dir, tu_builder *out, int cap)
{
    enum { MAX_FILES = 64 };
    tu_c_file files[MAX_FILES];
    int n_files = tu_read_c_files(ops_dir, files, MAX_FILES), n = 0;
    for (int i = 0; i < n_files; i++) {
        const char *text = files[i].text;
        char name[TU_NAME_LEN];
        while (tu_next_api_function(&text, name, sizeof name)) {
            assert_true(n < cap);
            snprintf(out[n].name, sizeof out[n].name, "%s", name);
            /* Arrays of one size (a stem is NUL-terminated within it):
             * snprintf here drew a truncation warning from GCC. */
            _Static_assert(sizeof out->stem == sizeof files->stem,
                           "stem sizes differ");
            memcpy(out[n].stem, files[i].stem, sizeof out[n].stem);
            n++;
        }
    }
    tu_free_c_files(files, n_files);
    /* None found means a wrong directory, not an API without builders. */
    assert_true(n > 0);
    return n;
}

int tu_is_op_builder(const char *name, const tu_builder *builders, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(builders[i].name, name) == 0)
            return 1;
    return 0;
}
