/*
** array.h: parlua's dense arrays, as C code sees them.
**
** An array is a Lua full userdata holding a par_array. Its elements live in a
** reference-counted par_buffer, so views (rows, slices, reshapes) and other
** lua_States (the parallel-Lua workers) can share the same memory. Buffer
** bytes are reported to Lua's garbage collector as debt when allocated, so
** loops that create large temporaries stay bounded.
**
** Layout: contiguous, row-major. A 1-D array of n elements has dim = {n, 1};
** a 2-D array has dim = {rows, cols}. Indices seen by Lua are 1-based.
*/
#ifndef PARLUA_ARRAY_H
#define PARLUA_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "lua.h"
#include "lauxlib.h"

typedef enum { PAR_F64 = 0, PAR_I64 = 1, PAR_BOOL = 2 } par_dtype;

/* Reference-counted, 64-byte aligned element storage. */
typedef struct par_buffer par_buffer;

typedef struct par_array {
  par_buffer *buf;   /* owner of the memory (NULL while being built) */
  void *data;        /* first element; inside buf */
  par_dtype dtype;
  int ndim;          /* 1 or 2 */
  int64_t dim[2];    /* rows, cols (cols == 1 for 1-D) */
  int64_t size;      /* dim[0] * dim[1] */
} par_array;

#define PAR_ARRAY_MT "par.array"

/* Typed element pointers. */
#define PAR_F64P(a)  ((double *)(a)->data)
#define PAR_I64P(a)  ((int64_t *)(a)->data)
#define PAR_BOOLP(a) ((uint8_t *)(a)->data)

/* --- buffers (pure C, thread-safe) --- */

/* New buffer of 'bytes' bytes (uninitialised), or NULL when refused
** (out of memory or over the PARLUA_MAX_MEMORY cap). */
par_buffer *par_buffer_new(size_t bytes);
void par_buffer_retain(par_buffer *b);
void par_buffer_release(par_buffer *b);
void *par_buffer_data(par_buffer *b);
size_t par_buffer_bytes(const par_buffer *b);
/* Bytes held by all live buffers of the process. */
size_t par_memory_in_use(void);
/* Raises the error of a bad PARLUA_MAX_MEMORY (when par is opened). */
void par_check_max_memory(lua_State *L);

/* --- dtypes --- */

size_t par_dtype_size(par_dtype dt);
const char *par_dtype_name(par_dtype dt);
/* Index of a dtype name ("float64", "int64", "bool") or -1. */
int par_dtype_from_name(const char *name);
/* Optional dtype argument at 'arg' (nil or absent gives 'def'). */
par_dtype par_optdtype(lua_State *L, int arg, par_dtype def);

/* --- arrays on the Lua stack --- */

/* Pushes a new array; elements uninitialised. ndim 1 ignores m.
** Raises "not enough memory" when the memory cannot be had, and an error
** naming the size when n or m is negative or the total overflows. */
par_array *par_newarray(lua_State *L, par_dtype dt, int ndim, int64_t n, int64_t m);
/* Same, elements set to zero. */
par_array *par_newarray_zero(lua_State *L, par_dtype dt, int ndim, int64_t n, int64_t m);
/* Pushes a new array with the same dtype and shape as 'like'. */
par_array *par_newarray_like(lua_State *L, const par_array *like, par_dtype dt);
/* Pushes a view sharing base's buffer, starting at 'data'. */
par_array *par_pushview(lua_State *L, const par_array *base, void *data,
                        int ndim, int64_t n, int64_t m);

/* The array at 'idx', or NULL if that value is not an array. */
par_array *par_toarray(lua_State *L, int idx);
/* The array at argument 'arg', or an argument error. */
par_array *par_checkarray(lua_State *L, int arg);

/* Writes a shape as "(3,)" or "(3, 4)" into buf (at least 48 bytes). */
const char *par_shapestr(const par_array *a, char *buf);
/* Same shape? */
int par_sameshape(const par_array *a, const par_array *b);

/* Element i (0-based, row-major) as a Lua value. */
void par_pushelem(lua_State *L, const par_array *a, int64_t i);
/* Stores the Lua value at 'idx' into element i, with Lua's conversion rules
** (a float without an exact integer value into int64 is an error). */
void par_setelem(lua_State *L, par_array *a, int64_t i, int idx);
/* Element i converted to double. */
double par_getf(const par_array *a, int64_t i);

/* Raises "no axis: <name> <what>" at the first non-nil argument after the
** first n: a method without an axis refuses one that a NumPy habit passes
** (m:argmax(1)) instead of ignoring it. In array_reduce.c. */
void par_noaxis(lua_State *L, int n, const char *name, const char *what);

/* Adds C functions to the methods table of arrays (a:name(...)). */
void par_array_addmethods(lua_State *L, const luaL_Reg *l);
/* Adds metamethods (__add, __tostring, ...) to the array metatable. */
void par_array_addmeta(lua_State *L, const luaL_Reg *l);

#endif
