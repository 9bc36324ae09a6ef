/*
** worker_pool.h: the worker lua_States of the Lua mode, one per thread of
** the parallel engine (worker k is used by the thread whose par_run tid is
** k), created on first use and reused by later calls, so a small kernel
** pays no state creation. The pool grows to the threads a call uses and
** shrinks to par.threads() at the next call; one call uses it at a time.
**
** Each worker state has the standard libraries and `par` opened, like the
** caller, except math.random, which draws from the current iteration's
** stream (par_rng_current, else the worker's own default generator):
**   math.random()      float in [0, 1): the stream's random()
**   math.random(m)     integer in [1, m]: 1 + the stream's bounded draw
**                      over m values, as g:integers(1, m + 1)
**   math.random(m, n)  integer in [m, n], as g:integers(m, n + 1)
**   math.random(0)     an integer with all 64 bits random (a raw output)
** and math.randomseed, which is an error inside a kernel.
**
** Ctrl-C: while a call runs, a watcher thread polls the interrupt flag
** (par_interrupted) every 20 ms and, once it is set, installs a hook in
** every worker state that raises "interrupted!" at the next instruction,
** as lua.c does for its state from the signal handler. (A hook present all
** the time would slow kernels by a third: Lua then traps every instruction.)
*/
#ifndef PARLUA_WORKER_POOL_H
#define PARLUA_WORKER_POOL_H

#include <stdint.h>

#include "lua.h"

typedef struct par_worker {
  lua_State *L;       /* its own state */
  uint64_t job;       /* the job it is set up for (0: none) */
} par_worker;

/* Takes the pool for one parallel call with n workers (1 <= n; n above
** par.threads() is allowed for one call) and starts watching for Ctrl-C.
** Returns the workers, or NULL when this thread already holds the pool (a
** kernel call made while one runs: the caller then runs it serially in its
** own state). Waits while another thread holds it. Raises a Lua error in L
** when a worker state cannot be created. */
par_worker *par_pool_acquire(lua_State *L, int n);

/* Stops watching, removes interrupt hooks, empties the workers' stacks,
** drops the values the call left in them (par_msg_clear) and gives the
** pool back. Call after par_run, before raising anything. */
void par_pool_release(void);

#endif
