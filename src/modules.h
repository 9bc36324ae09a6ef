/*
** modules.h: the open functions of parlua's parts. Each adds its functions
** to the `par` table on top of the stack (and array methods to the array
** metatable); par.c calls them in order, like Lua's linit.c.
*/
#ifndef PARLUA_MODULES_H
#define PARLUA_MODULES_H

#include "lua.h"

void par_open_parallel(lua_State *L);     /* parallel.c: threads, set_threads */
void par_open_timing(lua_State *L);       /* timing.c: clock, timeit */
void par_open_array(lua_State *L);        /* array_lua.c: constructors, indexing, shape */
void par_open_array_format(lua_State *L); /* array_format.c: tostring */
void par_open_array_io(lua_State *L);     /* array_io.c: .npy and CSV */
void par_open_array_ops(lua_State *L);    /* array_ops.c: arithmetic, comparisons, where */
void par_open_array_math(lua_State *L);   /* array_math.c: exp, cos, ... */
void par_open_array_reduce(lua_State *L); /* array_reduce.c: sum, mean, ... */
void par_open_array_sort(lua_State *L);   /* array_sort.c: sort, median, quantile, ... */
void par_open_rng(lua_State *L);          /* rng_lua.c: generators, default generator */
void par_open_kernels(lua_State *L);      /* kernel_api.c: prange, preduce, map, ... */
void par_open_native(lua_State *L);       /* native.c: compiled kernels (par._native) */
void par_open_chunk_texts(lua_State *L);  /* chunk_texts.c: texts of chunks without a file */

#endif
