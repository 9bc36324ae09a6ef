/*
** parallel.h: the parallel engine, thread count and interruption.
**
** par_run splits an index range [0, n) into fixed blocks whose size depends
** on n only, never on the thread count, and hands them out dynamically to
** OpenMP threads in index order (runs of up to 16 consecutive blocks at a
** time when there are many). Code that combines per-block results in
** block order is therefore bitwise reproducible on any number of threads.
**
** Workers never touch a lua_State and never raise: a block function returns
** non-zero to report a failure; blocks after the lowest failing one are
** skipped, earlier ones still run, and par_run returns the failing block.
*/
#ifndef PARLUA_PARALLEL_H
#define PARLUA_PARALLEL_H

#include <stdint.h>

#include "lua.h"

/* The reduction block of the API: sums and products combine 1024 elements
** left to right per block, then the block results left to right. */
#define PAR_BLOCK 1024

/* Iterations per block of a kernel of n iterations (a function of n alone).
** Reductions keep the API's PAR_BLOCK, whose order fixes their bits; a
** kernel without one, whose iterations may each be long (an eigenvalue
** problem per matrix), takes n/64 when that is smaller, so that even 20
** iterations spread over the threads. */
static inline int64_t par_kernel_block(int64_t n, int reduces) {
  if (reduces || n >= 64 * PAR_BLOCK) return PAR_BLOCK;
  return n <= 64 ? 1 : (n + 63) / 64;
}

/* Below this many elements, element-wise array operations stay serial. */
#define PAR_SERIAL_BELOW 32768

/* Runs one block [lo, hi) with block index 'block' on thread 'tid'.
** Returns 0 on success, non-zero to stop the loop. */
typedef int (*par_block_fn)(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid);

/* Outcome of par_run. */
enum { PAR_OK = 0, PAR_FAILED = 1, PAR_INTERRUPTED = 2 };

typedef struct par_result {
  int status;            /* PAR_OK, PAR_FAILED or PAR_INTERRUPTED */
  int64_t failed_block;  /* lowest failing block (PAR_FAILED), else -1 */
  int code;              /* what that block returned */
} par_result;

/* Number of blocks of 'bsize' covering n. */
int64_t par_nblocks(int64_t n, int64_t bsize);

/* Runs fn over the blocks of [0, n) of size bsize on up to 'nthreads'
** threads (0: par_threads()). Serial when nthreads is 1 or when called from
** inside a parallel region. Checks the interrupt flag between blocks, and
** adds finished blocks to the active progress counter (progress.h). */
par_result par_run(int64_t n, int64_t bsize, int nthreads, par_block_fn fn, void *ctx);
/* The same for blocks b0 .. b1-1 of them only. */
par_result par_run_blocks(int64_t n, int64_t bsize, int64_t b0, int64_t b1, int nthreads,
                          par_block_fn fn, void *ctx);

/* Threads to use for an element-wise operation over n elements: 1 below
** PAR_SERIAL_BELOW or inside a parallel region, else par_threads(). */
int par_threads_for(int64_t n);

/* Worker thread count (>= 1) and its setter. */
int par_threads(void);
void par_set_threads(int n);
/* Number of processors available to this process. */
int par_cores(void);
/* Inside a parallel region (a kernel or an element-wise operation)? */
int par_in_parallel(void);

/* --no-jit: when off, every kernel runs in Lua mode. On by default. */
void par_set_jit(int enabled);
int par_jit_enabled(void);

/* Interruption (SIGINT): par_interrupt is async-signal-safe. Long C loops
** poll par_interrupted() and stop early; the caller then raises
** "interrupted!" with par_raise_interrupt. */
void par_interrupt(void);
int par_interrupted(void);
void par_clear_interrupt(void);
int par_raise_interrupt(lua_State *L);

/* Opens par.threads and par.set_threads into the table on top of the stack. */
void par_open_parallel(lua_State *L);

#endif
