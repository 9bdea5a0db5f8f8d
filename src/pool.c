/* pool.c - the library's worker threads (see pool.h).
 *
 * One pool per process, like OpenBLAS's: vae_set_num_threads is
 * process-wide, and a pool per handle would multiply threads by handles.
 * A loop is published as a generation number; workers take task indices
 * from an atomic counter, so a slow or descheduled thread delays no fixed
 * share. Between loops a worker spins for a while (training runs loops
 * back to back, microseconds apart, and waking a sleeping thread costs
 * tens of microseconds), then sleeps on a condition variable. The caller
 * waits for the workers the same way.
 *
 * Only one caller uses the pool at a time (`busy`); another thread's loop
 * runs on that thread alone, so the machine never runs more threads than
 * asked for per caller, and never waits for the pool.
 *
 * The pool is the library's one piece of process-wide mutable state.
 * Everything a worker reads of a loop is written before the generation
 * is published (release) and read after it is seen (acquire); a task's
 * writes happen before its decrement of `pending`, which the caller
 * reads with acquire: C11 atomics that ThreadSanitizer understands. After
 * fork() the child has no workers (threads are not copied): its loops run
 * on the caller, split as before, so it computes the parent's bytes, until
 * it sets a thread count again. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "vae.h"

enum { MAX_WORKERS = 1023 }; /* vae_set_num_threads allows up to 1024 */

/* How long an idle worker, or the caller waiting for workers, spins
 * before sleeping. */
#define SPIN_NS 200000

static struct {
    pthread_mutex_t lock; /* sleeping, waking, resizing */
    pthread_cond_t wake;  /* workers: a new generation (or quit) */
    pthread_cond_t done;  /* the caller: pending reached 0 */
    atomic_flag busy;     /* a caller owns the pool */
    atomic_int threads;   /* the thread count set, which decides how work
                             is split (gemm.c) */
    atomic_int workers;   /* running workers: threads - 1, or 0 after
                             fork(); changed by the owner of busy */
    pthread_t tid[MAX_WORKERS];

    /* The current loop, written by the owner before publishing. */
    vae_task_fn fn;
    void *ctx;
    int64_t n_tasks;
    atomic_int_fast64_t next; /* the next task index to take */
    atomic_int pending;       /* workers still in this loop */
    atomic_uint generation;   /* bumped once per loop */
    atomic_int quit;          /* workers above this many exit */
    atomic_int sleepers;      /* workers waiting on `wake` */
    atomic_int caller_sleeps; /* the caller waits on `done` */
    /* The generation when the newest workers were created: a worker
     * counts as part of every loop published after it, even one published
     * before its thread first runs. No loop can finish without it, so no
     * resize can change this before it has been read. */
    unsigned born;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .busy = ATOMIC_FLAG_INIT,
    .threads = 1,
    .quit = MAX_WORKERS,
};

static void cpu_relax(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Takes and runs tasks of the current loop until none is left. */
static void run_tasks(void)
{
    int64_t t;
    while ((t = atomic_fetch_add_explicit(&pool.next, 1,
                                          memory_order_relaxed)) <
           pool.n_tasks)
        pool.fn(pool.ctx, t);
}

/* Spins until *v != old or SPIN_NS pass; returns the last value seen. */
static unsigned spin_while_equal(atomic_uint *v, unsigned old)
{
    int64_t until = now_ns() + SPIN_NS;
    unsigned seen;
    for (int i = 0; (seen = atomic_load(v)) == old; i++) {
        cpu_relax();
        if ((i & 255) == 255 && now_ns() > until)
            break;
    }
    return seen;
}

static void *worker(void *arg)
{
    int self = (int)(intptr_t)arg;
    unsigned seen = pool.born;
    for (;;) {
        unsigned gen = spin_while_equal(&pool.generation, seen);
        if (gen == seen) {
            /* Sleep; the publisher checks `sleepers` after bumping the
             * generation (both seq_cst), so either it sees this worker
             * counted or this worker sees the new generation. */
            pthread_mutex_lock(&pool.lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while ((gen = atomic_load(&pool.generation)) == seen &&
                   self < atomic_load(&pool.quit))
                pthread_cond_wait(&pool.wake, &pool.lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.lock);
        }
        if (self >= atomic_load(&pool.quit))
            return NULL;
        seen = gen;
        run_tasks();
        /* seq_cst, as caller_sleeps: the caller either sees pending
         * reach 0 or is seen asleep (wait_workers). */
        if (atomic_fetch_sub(&pool.pending, 1) == 1 &&
            atomic_load(&pool.caller_sleeps)) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

/* Waits until every worker has left the current loop. */
static void wait_workers(void)
{
    int64_t until = now_ns() + SPIN_NS;
    for (int i = 0; atomic_load_explicit(&pool.pending,
                                         memory_order_acquire) > 0;
         i++) {
        cpu_relax();
        if ((i & 255) == 255 && now_ns() > until) {
            pthread_mutex_lock(&pool.lock);
            atomic_store(&pool.caller_sleeps, 1);
            while (atomic_load(&pool.pending) > 0)
                pthread_cond_wait(&pool.done, &pool.lock);
            atomic_store(&pool.caller_sleeps, 0);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

void vae_parallel_for(int64_t n_tasks, vae_task_fn fn, void *ctx)
{
    if (n_tasks > 1 && !atomic_flag_test_and_set(&pool.busy)) {
        if (pool.workers > 0) {
            pool.fn = fn;
            pool.ctx = ctx;
            pool.n_tasks = n_tasks;
            atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
            atomic_store_explicit(&pool.pending, pool.workers,
                                  memory_order_relaxed);
            atomic_fetch_add(&pool.generation, 1);
            if (atomic_load(&pool.sleepers) > 0) {
                pthread_mutex_lock(&pool.lock);
                pthread_cond_broadcast(&pool.wake);
                pthread_mutex_unlock(&pool.lock);
            }
            run_tasks();
            wait_workers();
            atomic_flag_clear(&pool.busy);
            return;
        }
        atomic_flag_clear(&pool.busy);
    }
    for (int64_t t = 0; t < n_tasks; t++)
        fn(ctx, t);
}

typedef struct ranges {
    int64_t n, grain;
    vae_range_fn range;
    void *ctx;
} ranges;

static void range_task(void *ctx, int64_t t)
{
    const ranges *r = ctx;
    int64_t lo = t * r->grain;
    r->range(r->ctx, lo, r->n - lo < r->grain ? r->n : lo + r->grain);
}

void vae_parallel_ranges(int64_t n, int64_t grain, vae_range_fn range,
                         void *ctx)
{
    if (n <= grain) {
        if (n > 0)
            range(ctx, 0, n);
        return;
    }
    ranges r = {n, grain, range, ctx};
    vae_parallel_for((n + grain - 1) / grain, range_task, &r);
}

static void zero_range(void *p, int64_t lo, int64_t hi)
{
    memset((float *)p + lo, 0, (size_t)(hi - lo) * sizeof(float));
}

void vae_parallel_zero(float *p, int64_t n)
{
    int64_t threads = vae_pool_threads(), grain = (n + threads - 1) / threads;
    vae_parallel_ranges(n, grain > 4 * VAE_POOL_GRAIN ? grain
                                                     : 4 * VAE_POOL_GRAIN,
                        zero_range, p);
}

int32_t vae_pool_threads(void)
{
    return atomic_load_explicit(&pool.threads, memory_order_relaxed);
}

/* Stops workers [keep, pool.workers). The caller owns busy. */
static void stop_workers(int keep)
{
    pthread_mutex_lock(&pool.lock);
    atomic_store(&pool.quit, keep);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int i = keep; i < pool.workers; i++)
        pthread_join(pool.tid[i], NULL);
    atomic_store(&pool.workers, keep);
    atomic_store(&pool.quit, MAX_WORKERS);
}

/* fork(): the child has the parent's pool but none of its workers. The
 * handlers hold the lock across the fork so the child's copy is not
 * caught mid-change, and the child forgets its workers (not the thread
 * count, which decides how work is split). The condition variables are
 * made anew: the copies still count the parent's sleeping workers as
 * waiters, and glibc's broadcast would wait for them forever. */
static void before_fork(void) { pthread_mutex_lock(&pool.lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&pool.lock); }
static void after_fork_child(void)
{
    atomic_store(&pool.workers, 0);
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.caller_sleeps, 0);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pthread_mutex_unlock(&pool.lock);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int fork_handlers;

static void register_fork(void)
{
    fork_handlers = pthread_atfork(before_fork, after_fork_parent,
                                   after_fork_child) == 0;
}

int32_t vae_pool_resize(int32_t n)
{
    if (n < 1 || n - 1 > MAX_WORKERS)
        return VAE_ERR_RANGE;
    pthread_once(&fork_once, register_fork);
    if (!fork_handlers && n > 1)
        return VAE_ERR_NOMEM;
    /* Waits for a loop of another thread to finish: resizing is rare and
     * the caller has said no other thread is in the library. */
    while (atomic_flag_test_and_set(&pool.busy))
        cpu_relax();
    int32_t st = VAE_OK;
    int had = pool.workers;
    if (n - 1 < had)
        stop_workers(n - 1);
    pool.born = atomic_load(&pool.generation);
    for (int i = had; i < n - 1; i++) {
        if (pthread_create(&pool.tid[i], NULL, worker, (void *)(intptr_t)i)) {
            stop_workers(had);
            st = VAE_ERR_NOMEM;
            break;
        }
        atomic_store(&pool.workers, i + 1);
    }
    if (st == VAE_OK)
        atomic_store(&pool.threads, n);
    atomic_flag_clear(&pool.busy);
    return st;
}

#if defined(__GNUC__) || defined(__clang__)
/* Workers run the library's code: they must be gone before it is
 * unloaded (dlclose) or the process ends. A loop still running on
 * another thread keeps them; the process is then going down anyway. */
__attribute__((destructor)) static void stop_pool(void)
{
    if (!atomic_flag_test_and_set(&pool.busy))
        stop_workers(0);
}
#endif
