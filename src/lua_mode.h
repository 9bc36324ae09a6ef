/*
** lua_mode.h: running a kernel in Lua mode. The kernel function is called
** for i = 1..n in worker lua_States (worker_pool.h), one per thread of the
** parallel engine, over blocks of par_kernel_block iterations handed out in
** index order. Before each call the thread's current random stream is set
** to par_stream_init(seed, i), so par.random & co. and math.random draw
** from the iteration's own stream and results never depend on the thread
** count. What each iteration returns is stored per block (or folded into
** the block's reduction) and assembled by the caller after the join
** (kernel_api.c), in block order.
**
** Errors: an iteration that raises stops its block; blocks after the lowest
** failing one are skipped, earlier ones finish (par_run), and the caller
** raises "iteration i: <message>" with the worker's traceback appended.
** Workers never raise across threads: every call into a worker state is a
** lua_pcall in that state.
**
** A kernel call made inside a running kernel (in a worker, or while this
** thread holds the pool) runs serially in the calling state, with the same
** blocks, streams and results.
*/
#ifndef PARLUA_LUA_MODE_H
#define PARLUA_LUA_MODE_H

#include <stdatomic.h>
#include <stdint.h>

#include "lua.h"

#include "array.h"

/* Kinds of returned values, as bits so that the kinds of a column can be
** or-ed together. PAR_V_OBJ: any other value (string, table, array...). */
enum { PAR_V_NIL = 1, PAR_V_INT = 2, PAR_V_FLT = 4, PAR_V_BOOL = 8, PAR_V_OBJ = 16 };

/* A Lua number: an integer or a float. */
typedef struct par_lnum {
  int isint;
  lua_Integer i;
  lua_Number f;
} par_lnum;

/* An argument of par.map: the elements of an array, or a scalar that
** every call receives. */
typedef struct par_marg {
  const void *data;      /* array elements, row-major (NULL: a scalar) */
  par_dtype dtype;
  int isbool;            /* scalar: a boolean (else a number) */
  int boolean;
  par_lnum num;
} par_marg;

/* What one block of iterations produced. Iteration lo + j (0-based) of the
** block returned, as its value c, kind[c][j] (0 or PAR_V_NIL: nil) and
** val[c][j]: the integer, the double's bits, 0/1, or for PAR_V_OBJ the
** object's number (1-based) in par_job_pushobjs's table. */
typedef struct par_jblock {
  int ncols, capcols;
  uint8_t **kind;
  uint64_t **val;
  unsigned *mask;        /* mask[c]: the kinds of value c in this block */
  int64_t nobj;
  struct par_msg *objs;  /* the objects, encoded by a worker */
  par_lnum acc;          /* reductions: the block's result */
  int hasacc;
  par_lnum *red;         /* a par.jit loop's reductions: the block's partials */
  int code;              /* failure code (private) */
  char *err;             /* failure message */
} par_jblock;

typedef struct par_job {
  /* set by the caller before par_job_run */
  int64_t n;             /* iterations 1..n */
  uint64_t seed;         /* the loop seed */
  int nthreads;          /* 0: par.threads(); 1: one thread (parallel = false) */
  int op;                /* a reduction (par_op of reduce.h: sum, prod, min,
                            max), or -1 to collect the returned values */
  const char *fname;     /* the API function, for messages */
  int nargs;             /* par.map: arguments of each call; 0: f(i) */
  par_marg *args;        /* nargs of them */
  int nred;              /* a loop of a par.jit function (kernel_api.c):
                            f(i, p1, ..., pnred) returns the new partials of
                            its nred reductions; each block starts them at
                            red0 and passes them from one iteration to the
                            next, and keeps the last ones in blk->red */
  const par_lnum *red0;
  const char *const *rednames;   /* the reduced variables, for messages */
  /* filled by par_job_run */
  int64_t bsize;         /* iterations per block: par_kernel_block */
  int64_t nblocks;
  par_jblock *blocks;    /* blocks base .. base + nheld - 1 */
  int64_t base, nheld;
  /* private */
  atomic_llong ranto;    /* blocks [0, ranto) may hold something to free */
  uint64_t id;
  struct par_msg *kernel;
  struct par_worker *workers;
  int64_t ndirect;
} par_job;

/* Pushes a new job (a userdata that frees what the job holds when
** collected), with room for nargs map arguments. */
par_job *par_job_push(lua_State *L, int nargs);

/* Takes the results of the 'count' blocks in job->blocks (a reduction
** combining them in order); must not raise. */
typedef void (*par_job_fold)(lua_State *L, const par_job *job, int64_t count, void *ud);

/* Runs the kernel at fidx (a function) for the job at jobidx. Raises the
** error of the lowest failing iteration, "interrupted!", or an error about
** a value that cannot cross into the workers. With 'take' (reductions),
** the blocks run PAR_JOB_CHUNK at a time, each part handed to take(ud),
** so that memory does not grow with the count. */
void par_job_run(lua_State *L, int jobidx, int fidx, par_job_fold take, void *ud);

#define PAR_JOB_CHUNK ((int64_t)1 << 10)

/* Pushes a table holding the objects returned in block b, by number. */
void par_job_pushobjs(lua_State *L, int jobidx, int64_t b);

/* Frees the blocks of the job at jobidx (its results were assembled). */
void par_job_free(lua_State *L, int jobidx);

/* One step of a reduction with Lua's arithmetic: acc + x or acc * x
** (integers wrap, a float makes a float), or the min/max step of reduce.h
** (a NaN accumulator stays, a NaN x wins, else x if it is strictly
** smaller/larger, compared exactly as Lua compares integers and floats). */
par_lnum par_lnum_fold(int op, par_lnum acc, par_lnum x);

/* Pushes a as a Lua integer or float. */
void par_lnum_push(lua_State *L, par_lnum a);

#endif
