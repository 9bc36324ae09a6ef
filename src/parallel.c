/*
** parallel.c: the parallel engine (blocks handed out in index order to
** OpenMP threads), the worker thread count and the interrupt flag.
*/
#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "array.h"
#include "lauxlib.h"
#include "parallel.h"
#include "rng.h"
#include "progress.h"

static atomic_int nthreads;          /* 0 until first asked */
/* Set by the SIGINT handler, read by workers: a lock-free atomic is both
** async-signal-safe and race-free. */
static atomic_int interrupted;
static atomic_int jit_enabled = 1;

int par_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

#define MAX_THREADS 4096   /* as -t */

/* The count at the start of s as -t takes it (digits, at least 1), ending
** at 'stop' or at the end of s: the count, 0 if s is not one, -1 if it is
** above MAX_THREADS. */
static int parse_count(const char *s, char stop) {
  char *end;
  long v;
  if (*s < '0' || *s > '9') return 0;
  errno = 0;
  v = strtol(s, &end, 10);
  if ((*end != '\0' && *end != stop) || v < 1) return 0;
  return errno == ERANGE || v > MAX_THREADS ? -1 : (int)v;
}

/* A count from environment variable 'name', or 0 (unset or bad). */
static int env_threads(const char *name, char stop) {
  const char *s = getenv(name);
  int n = s != NULL ? parse_count(s, stop) : 0;
  return n > 0 ? n : 0;
}

/* Default: PARLUA_NUM_THREADS, else the first (outer level) count of
** OMP_NUM_THREADS, a list like "4,2", else all cores. A bad OMP_NUM_THREADS
** is ignored, as OpenMP runtimes do; a bad PARLUA_NUM_THREADS is an error
** when par is opened (check_threads_env). */
static int default_threads(void) {
  int n = env_threads("PARLUA_NUM_THREADS", '\0');
  if (n == 0) n = env_threads("OMP_NUM_THREADS", ',');
  return n > 0 ? n : par_cores();
}

int par_threads(void) {
  int n = atomic_load(&nthreads);
  if (n == 0) {
    n = default_threads();
    atomic_store(&nthreads, n);
  }
  return n;
}

void par_set_threads(int n) {
  atomic_store(&nthreads, n);
}

/* Inside an OpenMP region, or in a kernel iteration (a Lua-mode worker, or
** parallel = false on the main thread: the iteration's stream is set). */
int par_in_parallel(void) {
  return omp_in_parallel() || par_rng_current() != NULL;
}

int par_threads_for(int64_t n) {
  if (n < PAR_SERIAL_BELOW || omp_in_parallel()) return 1;
  return par_threads();
}

int64_t par_nblocks(int64_t n, int64_t bsize) {
  return n <= 0 ? 0 : (n - 1) / bsize + 1;
}

/* ---- the engine ---- */

typedef struct run_state {
  par_block_fn fn;
  void *ctx;
  int64_t n, bsize;
  int64_t nblocks;        /* the end of the blocks to run */
  int64_t group;          /* blocks handed out at once */
  atomic_llong next;      /* next block to hand out */
  atomic_llong failed;    /* lowest failing block, nblocks if none */
  atomic_int code;
  atomic_int stopped;     /* interrupted */
  par_progress_slot *progress;   /* counters of finished iterations, or NULL */
} run_state;

/* Records a failure of block b, keeping the lowest one. */
static void record_failure(run_state *s, int64_t b, int code) {
  long long cur = atomic_load(&s->failed);
  while (b < cur) {
    if (atomic_compare_exchange_weak(&s->failed, &cur, (long long)b)) {
      atomic_store(&s->code, code);
      return;
    }
  }
}

/* Blocks a thread takes at once: up to 16 when there are many (fewer
** hand-outs, longer runs of memory for the prefetcher: a memory-bound map
** ran 13% faster on 2 threads), while keeping 64 hand-outs per thread so
** that unevenly fast cores still share the work. */
static int64_t group_size(int64_t nblocks, int nt) {
  int64_t g = nblocks / ((int64_t)nt * 64);
  return g < 1 ? 1 : g > 16 ? 16 : g;
}

/* Runs block b; 0 when the thread should stop (a lower block failed, or
** the user interrupted). */
static int run_block(run_state *s, int64_t b, int tid) {
  int64_t lo, hi;
  int rc;
  if (b > atomic_load(&s->failed)) return 0;
  if (atomic_load_explicit(&interrupted, memory_order_relaxed)) {
    atomic_store(&s->stopped, 1);
    return 0;
  }
  lo = b * s->bsize;
  hi = lo + s->bsize < s->n ? lo + s->bsize : s->n;
  rc = s->fn(s->ctx, lo, hi, b, tid);
  if (rc != 0) record_failure(s, b, rc);
  else if (s->progress != NULL)
    atomic_fetch_add_explicit(&s->progress[tid % PAR_PROGRESS_SLOTS].n, hi - lo,
                              memory_order_relaxed);
  return 1;
}

/* One thread's loop: take the next group of blocks until none is left,
** a lower block failed, or the user interrupted. */
static void worker(run_state *s, int tid) {
  for (;;) {
    int64_t b = atomic_fetch_add(&s->next, s->group), end = b + s->group;
    if (b >= s->nblocks) return;
    if (end > s->nblocks) end = s->nblocks;
    for (; b < end; b++)
      if (!run_block(s, b, tid)) return;
  }
}

par_result par_run(int64_t n, int64_t bsize, int nthreads_req, par_block_fn fn, void *ctx) {
  bsize = bsize > 0 ? bsize : PAR_BLOCK;
  return par_run_blocks(n, bsize, 0, par_nblocks(n, bsize), nthreads_req, fn, ctx);
}

par_result par_run_blocks(int64_t n, int64_t bsize, int64_t b0, int64_t b1, int nthreads_req,
                          par_block_fn fn, void *ctx) {
  run_state s;
  par_result r = {PAR_OK, -1, 0};
  int nt = nthreads_req > 0 ? nthreads_req : par_threads();
  s.fn = fn; s.ctx = ctx; s.n = n; s.bsize = bsize > 0 ? bsize : PAR_BLOCK;
  s.nblocks = b1;
  atomic_init(&s.next, b0);
  atomic_init(&s.failed, s.nblocks);
  atomic_init(&s.code, 0);
  atomic_init(&s.stopped, 0);
  s.progress = par_progress_enter();
  if (nt > b1 - b0) nt = (int)(b1 > b0 ? b1 - b0 : 1);
  s.group = group_size(b1 - b0, nt);
  if (nt <= 1 || omp_in_parallel())
    worker(&s, 0);
  else {
    #pragma omp parallel num_threads(nt)
    worker(&s, omp_get_thread_num());
  }
  par_progress_leave(s.progress);
  if (atomic_load(&s.failed) < s.nblocks) {
    r.status = PAR_FAILED;
    r.failed_block = atomic_load(&s.failed);
    r.code = atomic_load(&s.code);
  }
  else if (atomic_load(&s.stopped) || atomic_load(&interrupted))
    r.status = PAR_INTERRUPTED;
  return r;
}

void par_set_jit(int enabled) { atomic_store(&jit_enabled, enabled != 0); }
int par_jit_enabled(void) { return atomic_load(&jit_enabled); }

/* ---- interruption ---- */

void par_interrupt(void) { atomic_store_explicit(&interrupted, 1, memory_order_relaxed); }
int par_interrupted(void) { return atomic_load_explicit(&interrupted, memory_order_relaxed); }
void par_clear_interrupt(void) { atomic_store(&interrupted, 0); }

/* Clears the flag only outside kernels: the other iterations of a
** Lua-mode kernel, and its caller, must still see it. */
int par_raise_interrupt(lua_State *L) {
  if (par_rng_current() == NULL) par_clear_interrupt();
  return luaL_error(L, "interrupted!");
}

/* ---- Lua bindings ---- */

static int l_threads(lua_State *L) {
  lua_pushinteger(L, par_threads());
  return 1;
}

static int l_set_threads(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 4096, 1, "thread count must be between 1 and 4096");
  par_set_threads((int)n);
  return 0;
}

static const luaL_Reg funcs[] = {
  {"threads", l_threads},
  {"set_threads", l_set_threads},
  {NULL, NULL}
};

/* Raises the error of a bad PARLUA_NUM_THREADS (empty is unset), worded as
** for a bad -t, unless the count is already set (by -t). */
static void check_threads_env(lua_State *L) {
  const char *s = getenv("PARLUA_NUM_THREADS");
  int n;
  if (s == NULL || *s == '\0' || atomic_load(&nthreads) != 0) return;
  n = parse_count(s, '\0');
  if (n == 0) luaL_error(L, "bad PARLUA_NUM_THREADS '%s' (positive integer expected)", s);
  if (n < 0) luaL_error(L, "bad PARLUA_NUM_THREADS '%s' (at most %d threads)", s, MAX_THREADS);
}

/* Bad environment values are errors when par is opened, before any code
** runs (parlua's start-up, require "par" in lua5.4). */
void par_open_parallel(lua_State *L) {
  check_threads_env(L);
  par_check_max_memory(L);
  luaL_setfuncs(L, funcs, 0);
}
