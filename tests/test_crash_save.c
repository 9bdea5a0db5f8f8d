/* Crash-safe save: a child process saves a model to one path over and
 * over, alternating two parameter sets (save k holds A for even k, B for
 * odd k), and reports each save that returned on a pipe. The parent waits
 * for a random number of completed saves (0..2), sleeps a random part of a
 * save time (seeded generator), and kills the child with SIGKILL, so kills
 * land before, inside and between writes whatever the machine's speed.
 *
 * After each kill the path must load, checksum and all, and hold exactly
 * the last save that returned or the one the kill interrupted (which may
 * have reached its rename): with c saves reported, save c - 1's parameters
 * (or what the path held before, if c = 0) or save c's. A killed save leaves
 * its temporary file `<path>.tmp.<host>.<pid>.<k>` (docs/file-format.md);
 * each child's are counted, and the next save removes them. Finally a save
 * beside temp files of dead processes of this host (removed), of its own
 * pid (a killed process whose pid was reused), of a live process and of
 * another host (all three kept) must succeed and leave exactly the kept
 * ones. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "replace_file.h"
#include "testutil.h"

enum {
    TRIALS = 100,
    DATA = 784,
    HIDDEN = 256,
    LATENT = 16,
    MAX_WAIT = 2,     /* completed saves waited for: 0..MAX_WAIT */
    PARENT_STALE = 3, /* temp names of this process planted before a save */
    DEAD_STALE = 3,   /* temp names of dead children planted before a save */
};

static char dir[64], path[128], host[9];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_for(double seconds)
{
    struct timespec t;
    t.tv_sec = (time_t)seconds;
    t.tv_nsec = (long)((seconds - (double)t.tv_sec) * 1e9);
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        continue;
}

/* 784 -> 256 -> head(16); 16 -> 256 -> 784: 415,024 parameters, a 1.7 MB
 * file: a write takes tens of milliseconds, long enough for kills to land
 * inside it, and a hundred trials with a load after each take seconds. */
static vae_model *model(void)
{
    const tu_layer enc[] = {TU_DENSE(HIDDEN), TU_ACT(VAE_OP_RELU)};
    const tu_layer dec[] = {TU_DENSE(HIDDEN), TU_ACT(VAE_OP_RELU),
                            TU_DENSE(DATA)};
    return tu_model(DATA, enc, TU_COUNT(enc), LATENT, dec, TU_COUNT(dec),
                    VAE_LIKELIHOOD_BERNOULLI, 1);
}

/* The number of temporary files of saves to `path` whose names start with
 * `<path>.tmp.<who>` (who "" for all), of which those shorter than `full`
 * bytes are added to *partial (if not NULL); with `remove_them` they are
 * deleted after counting. */
static int temp_files(const char *who, int remove_them, size_t *partial,
                      size_t full)
{
    const char *base = strrchr(path, '/') + 1;
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s.tmp.%s", base, who);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        count++;
        char p[sizeof dir + sizeof e->d_name + 1];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (partial && stat(p, &sb) == 0 && (size_t)sb.st_size < full)
            (*partial)++;
        if (remove_them)
            remove(p);
    }
    closedir(d);
    return count;
}

/* "<host>.<pid>." as temp names of this host's process pid have it. */
static const char *who(long pid)
{
    static char w[48];
    snprintf(w, sizeof w, "%s.%ld.", host, pid);
    return w;
}

/* Moves a temp file left by the killed child `pid`, if any, to `kept`
 * in the directory, and its name's part after the pid to suffix (cap
 * bytes). Returns 1 if there was one. */
static int keep_leftover(pid_t pid, char *suffix, size_t cap)
{
    const char *base = strrchr(path, '/') + 1;
    char prefix[96];
    int len = snprintf(prefix, sizeof prefix, "%s.tmp.%s", base, who(pid));
    DIR *d = opendir(dir);
    assert_non_null(d);
    int done = 0;
    struct dirent *e;
    while (!done && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, (size_t)len) != 0)
            continue;
        char from[sizeof dir + sizeof e->d_name + 1], to[sizeof dir + 8];
        snprintf(from, sizeof from, "%s/%s", dir, e->d_name);
        snprintf(to, sizeof to, "%s/kept", dir);
        assert_int_equal(rename(from, to), 0);
        snprintf(suffix, cap, "%s", e->d_name + len);
        done = 1;
    }
    closedir(d);
    return done;
}

/* Creates the temporary file `<path>.tmp.<w><k>` holding a few bytes. */
static void plant(const char *w, int k)
{
    char stale[192];
    snprintf(stale, sizeof stale, "%s.tmp.%s%d", path, w, k);
    FILE *fp = fopen(stale, "wb");
    assert_non_null(fp);
    fputs("partial", fp);
    assert_int_equal(fclose(fp), 0);
}

/* Loads path: it must load and hold exactly one of the two parameter sets.
 * Returns 0 for a, 1 for b. */
static int load_which(const float *a, const float *b, int64_t n)
{
    char err[256] = "";
    vae_model *m = NULL;
    int32_t st = vae_model_load(path, &m, NULL, err, sizeof err);
    if (st != VAE_OK)
        fail_msg("load after a kill: %s: %s", vae_status_string(st), err);
    assert_int_equal(vae_model_num_params(m), n);
    size_t bytes = (size_t)n * sizeof(float);
    int which = memcmp(vae_model_params(m), a, bytes) == 0   ? 0
                : memcmp(vae_model_params(m), b, bytes) == 0 ? 1
                                                             : -1;
    vae_model_free(m);
    if (which < 0)
        fail_msg("the file loads but holds neither parameter set");
    return which;
}

/* The child: save k holds A for even k and B for odd k; one byte on fd
 * after each save that returned. A failed save exits with 3. Should the
 * parent die first, the next report raises SIGPIPE, which ends the child. */
static void child(vae_model *m, const float *a, const float *b, int64_t n,
                  int fd)
{
    for (unsigned k = 0;; k++) {
        memcpy(vae_model_params(m), k % 2 ? b : a, (size_t)n * sizeof(float));
        if (vae_model_save(m, NULL, path) != VAE_OK ||
            write(fd, "s", 1) != 1)
            _exit(3);
    }
}

/* Reads up to `want` bytes (all until end of file if want < 0); returns
 * the number read. */
static int read_reports(int fd, int want)
{
    int got = 0;
    char c;
    while (want < 0 || got < want) {
        ssize_t r = read(fd, &c, 1);
        if (r == 1)
            got++;
        else if (r == 0 || errno != EINTR)
            break;
    }
    return got;
}

static void test_kill_during_save(void **state)
{
    (void)state;
    vae_model *m = model();
    const int64_t n = vae_model_num_params(m);
    float *a = tu_dup(vae_model_params(m), n);
    float *b = tu_alloc((size_t)n * sizeof(float));
    tu_rng r;
    tu_seed(&r, 2024);
    tu_fill_uniform(&r, b, n, -0.1, 0.1);
    size_t full = 0;
    assert_int_equal(vae_model_save_size(m, NULL, &full), VAE_OK);

    /* The range of the sleeps: the parent's save time at first, then the
     * child's as measured by its reports (a loaded machine slows both). */
    double t_save = 1e9;
    for (int i = 0; i < 3; i++) {
        double t0 = now();
        assert_int_equal(vae_model_save(m, NULL, path), VAE_OK);
        double dt = now() - t0;
        t_save = dt < t_save ? dt : t_save;
    }
    int held = load_which(a, b, n); /* what the path holds: 0 A, 1 B */
    assert_int_equal(held, 0);

    int loaded[2] = {0, 0}, left = 0, previous = 0, reports = 0, adopted = 0;
    int cleaned = 0;
    long dead[DEAD_STALE];
    char suffix[64] = "";
    size_t partial = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
        int wait_for = (int)tu_uniform(&r, 0.0, MAX_WAIT + 1.0);
        double frac = tu_uniform(&r, 0.0, 1.5); /* of a save time */
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL); /* nothing buffered is written twice */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(m, a, b, n, fds[1]);
        }
        close(fds[1]);
        double t0 = now();
        int c = read_reports(fds[0], wait_for);
        if (c > 0)
            t_save = 0.5 * t_save + 0.5 * (now() - t0) / c;
        sleep_for(frac * t_save);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        c += read_reports(fds[0], -1);
        close(fds[0]);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("trial %d: the child was not killed (status 0x%x): a "
                     "save failed", trial, (unsigned)status);
        reports += c;
        if (trial < DEAD_STALE)
            dead[trial] = (long)pid;
        /* A temp file left behind: the kill landed between its creation
         * and the rename. One is kept for the end; the others are the next
         * save's to remove. */
        int mine = temp_files(who(pid), 0, &partial, full);
        int others = temp_files("", 0, NULL, full) - mine;
        left += mine;
        /* A save that returned has removed every earlier child's. */
        if (c > 0 && others != 0)
            fail_msg("trial %d: %d temp files of killed saves outlived a "
                     "completed save", trial, others);
        cleaned += c > 0;
        if (!adopted)
            adopted = keep_leftover(pid, suffix, sizeof suffix);
        int last = c == 0 ? held : (c - 1) % 2, interrupted = c % 2;
        int now_held = load_which(a, b, n);
        if (now_held != last && now_held != interrupted)
            fail_msg("trial %d: after %d completed saves the path holds %c",
                     trial, c, now_held ? 'B' : 'A');
        previous += now_held == last;
        loaded[now_held]++;
        held = now_held;
    }

    /* A save that meets temp files of its own pid, as after a killed
     * process whose pid this one reuses, takes another name and keeps
     * them. One is a child's leftover with our pid put in place of the
     * child's (so any naming with the pid in it is tested), the others
     * follow the documented naming (docs/file-format.md). Beside them:
     * files of the first children (dead and reaped), to be removed, and of
     * a live process (ours' parent) and of another host, to be kept. */
    assert_int_equal(adopted, 1);
    char from[sizeof dir + 8], to[sizeof path + 96];
    snprintf(from, sizeof from, "%s/kept", dir);
    snprintf(to, sizeof to, "%s.tmp.%s%s", path, who((long)getpid()), suffix);
    assert_int_equal(rename(from, to), 0);
    for (int k = 1; k <= PARENT_STALE; k++)
        plant(who((long)getpid()), k);
    for (int i = 0; i < DEAD_STALE; i++)
        plant(who(dead[i]), 0);
    plant(who((long)getppid()), 0);
    char other[48];
    snprintf(other, sizeof other, "%c%s.%ld.", host[0] == '0' ? '1' : '0',
             host + 1, dead[0]);
    plant(other, 0);
    memcpy(vae_model_params(m), b, (size_t)n * sizeof(float));
    int32_t st = vae_model_save(m, NULL, path);
    if (st != VAE_OK)
        fail_msg("save beside stale temp files: %s", vae_model_last_error(m));
    assert_int_equal(load_which(a, b, n), 1);
    /* Files that may be another process's are not the save's to delete. */
    assert_int_equal(temp_files(who((long)getpid()), 0, NULL, full),
                     1 + PARENT_STALE);
    assert_int_equal(temp_files(who((long)getppid()), 0, NULL, full), 1);
    assert_int_equal(temp_files(other, 0, NULL, full), 1);
    assert_int_equal(temp_files("", 1, NULL, full), 1 + PARENT_STALE + 2);
    assert_int_equal(temp_files("", 0, NULL, full), 0);

    print_message("crash save: %d kills after %d completed saves in all "
                  "(a save took %.1f ms at the end, %zu bytes); %d left a "
                  "temp file (%zu of them shorter than the file), %d did "
                  "not; the path "
                  "held the last completed save %d times, the interrupted "
                  "one (renamed before the kill) %d times; A %d, B %d; %d "
                  "children completed a save and so removed the earlier "
                  "ones' temp files\n",
                  TRIALS, reports, 1e3 * t_save, full, left, partial,
                  TRIALS - left, previous, TRIALS - previous, loaded[0],
                  loaded[1], cleaned);
    /* Kills inside a write are the point of the test. */
    assert_true(left > 0);
    assert_true(loaded[0] > 0 && loaded[1] > 0);
    assert_true(cleaned > 0);
    free(a);
    free(b);
    vae_model_free(m);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/vae-test-crash-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/model.vae", dir);
    vae_host_tag(host);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* What a test that failed part way leaves. */
    temp_files("", 1, NULL, 0);
    char kept[sizeof dir + 8];
    snprintf(kept, sizeof kept, "%s/kept", dir);
    remove(kept);
    remove(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_save),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
