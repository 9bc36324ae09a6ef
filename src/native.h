/*
** native.h: native kernels, the runtime side of the kernel compiler.
**
** The compiler (the par.jit.* Lua modules) turns a Lua function into C that
** starts with kernel_rt.h; this part compiles it through the kernel cache
** (kernel_cache.h), marshals the live values the code reads, runs it with
** the parallel engine in PAR_BLOCK blocks, and turns its results and error
** records into Lua values and errors.
**
** Each par_native_* function takes the kernel function at stack index
** 'fidx' and pushes the call's results, returning how many (>= 0); when
** the function is not native (outside the subset, no C compiler, a refused
** cache, a failed dlopen or compile) it pushes the reason and returns
** PAR_NATIVE_REFUSED, so that auto mode can fall back to Lua mode with
** that reason. Errors of the kernel itself (an iteration failed, Ctrl-C,
** bad arguments) are raised as Lua errors.
*/
#ifndef PARLUA_NATIVE_H
#define PARLUA_NATIVE_H

#include <stdint.h>

#include "lua.h"

#define PAR_NATIVE_REFUSED (-1)

typedef struct par_native_opts {
  int parallel;          /* opts.parallel (default 1) */
  int has_seed;          /* opts.seed given? */
  uint64_t seed;
  int fastmath;          /* opts.fastmath */
} par_native_opts;

/* par.prange(n, f): one array per result of f. */
int par_native_prange(lua_State *L, int64_t n, int fidx, const par_native_opts *o);
/* par.preduce(op, n, f) with op "+", "*", "min" or "max". */
int par_native_preduce(lua_State *L, const char *op, int64_t n, int fidx,
                       const par_native_opts *o);
/* par.map(f, args...) over the 'nargs' values from stack index 'first'. */
int par_native_map(lua_State *L, int fidx, int first, int nargs, const par_native_opts *o);
/* par.mapreduce(op, f, args...). */
int par_native_mapreduce(lua_State *L, const char *op, int fidx, int first, int nargs,
                         const par_native_opts *o);
/* One call of a par.jit function with the 'nargs' arguments from 'first'. */
int par_native_call(lua_State *L, int fidx, int first, int nargs, const par_native_opts *o);
/* Pushes the text of par.explain(f [, "c"]); isjit: f is a par.jit
** callable's function. */
void par_native_explain(lua_State *L, int fidx, int withc, int isjit);

/* Opens par._native (the native path alone, for tests) into the par table
** on top of the stack. */
void par_open_native(lua_State *L);

#endif
