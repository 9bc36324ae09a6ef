/*
** array_lua.c: the Lua face of parlua's arrays: constructors (array, zeros,
** ones, empty, full, linspace, arange, meshgrid, concat), indexing
** (__index, __newindex, __len, __pairs), the fields shape/size/ndim/dtype/T
** and the basic methods (get, set, slice, col, copy, reshape, astype,
** totable, transpose, dot).
*/
#include <math.h>
#include <string.h>

#include "array.h"
#include "modules.h"

#define ESIZE(a)      par_dtype_size((a)->dtype)
#define ELEMP(a, k)   ((char *)(a)->data + (size_t)(k) * ESIZE(a))

/* Registry key of ipairs' iterator function (see from_ipairs). */
static const char ipairs_key = 'i';

/* Raises msg as an argument error for arg > 0, as a plain error otherwise. */
static int fail(lua_State *L, int arg, const char *msg) {
  if (arg > 0) return luaL_argerror(L, arg, msg);
  return luaL_error(L, "%s", msg);
}

/* ======================================================================
** Sizes and shapes
** ====================================================================== */

/* The size at stack index idx (reported as argument 'arg'): a non-negative
** integer, or -1 when 'infer' allows it. 3.0 is fine, 2.5 is not. */
static int64_t checksize(lua_State *L, int idx, int arg, int infer) {
  int isint;
  lua_Integer n = lua_tointegerx(L, idx, &isint);
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_typeerror(L, arg, "number");
  if (!isint || n < (infer ? -1 : 0))
    luaL_argerror(L, arg, "size must be a non-negative integer");
  return n;
}

/* Reads a shape at argument 'arg': a table {n [, m]} or one or two sizes
** (the second no later than argument 'last'). Sets *ndim and dim; returns
** the number of arguments used. */
static int getshape(lua_State *L, int arg, int last, int infer, int *ndim,
                    int64_t dim[2]) {
  dim[1] = 1;
  if (lua_istable(L, arg)) {
    lua_Unsigned k, len = lua_rawlen(L, arg);
    luaL_argcheck(L, len == 1 || len == 2, arg, "shape must have 1 or 2 dimensions");
    for (k = 0; k < len; k++) {
      lua_rawgeti(L, arg, (lua_Integer)k + 1);
      dim[k] = checksize(L, -1, arg, infer);
      lua_pop(L, 1);
    }
    *ndim = (int)len;
    return 1;
  }
  dim[0] = checksize(L, arg, arg, infer);
  if (arg + 1 > last || lua_type(L, arg + 1) != LUA_TNUMBER) {
    *ndim = 1;
    return 1;
  }
  dim[1] = checksize(L, arg + 1, arg + 1, infer);
  *ndim = 2;
  return 2;
}

/* Pushes a new array of the shape at argument 1 and the dtype after it. */
static par_array *newfromargs(lua_State *L) {
  int ndim;
  int64_t dim[2];
  int used = getshape(L, 1, 2, 0, &ndim, dim);
  par_dtype dt = par_optdtype(L, used + 1, PAR_F64);
  return par_newarray(L, dt, ndim, dim[0], dim[1]);
}

/* Sets every element of a to the Lua value at idx (Lua's conversion rules). */
static void fill(lua_State *L, par_array *a, int idx) {
  int64_t k;
  if (a->size == 0) return;
  par_setelem(L, a, 0, idx);
  switch (a->dtype) {
    case PAR_F64: {
      double v = PAR_F64P(a)[0];
      for (k = 1; k < a->size; k++) PAR_F64P(a)[k] = v;
      break;
    }
    case PAR_I64: {
      int64_t v = PAR_I64P(a)[0];
      for (k = 1; k < a->size; k++) PAR_I64P(a)[k] = v;
      break;
    }
    case PAR_BOOL:
      memset(a->data, PAR_BOOLP(a)[0], (size_t)a->size);
      break;
  }
}

/* ======================================================================
** par.array: from Lua tables
** ====================================================================== */

enum { K_NONE, K_INT, K_FLOAT, K_BOOL };

/* A table being converted: 1-D (entries are values) or 2-D (entries are
** tables or 1-D arrays, the rows). */
typedef struct tsrc {
  int idx;
  int is2d;
  int64_t n, m;
} tsrc;

/* Pushes entry (i, j) (1-based; j unused for 1-D) of the source. */
static void pushentry(lua_State *L, const tsrc *t, int64_t i, int64_t j) {
  par_array *row;
  lua_rawgeti(L, t->idx, i);
  if (!t->is2d) return;
  row = par_toarray(L, -1);
  if (row != NULL) par_pushelem(L, row, j - 1);
  else lua_rawgeti(L, -1, j);
  lua_remove(L, -2);
}

/* Raises "entry [i][j] is <the value on top>, expected <what>", or "entry
** [i][j] has no integer representation" when what is NULL. */
static int entryerror(lua_State *L, const tsrc *t, int64_t i, int64_t j,
                      const char *what) {
  const char *pos = t->is2d ?
      lua_pushfstring(L, "[%I][%I]", (lua_Integer)i, (lua_Integer)j) :
      lua_pushfstring(L, "[%I]", (lua_Integer)i);
  if (what == NULL)
    lua_pushfstring(L, "entry %s has no integer representation", pos);
  else
    lua_pushfstring(L, "entry %s is %s%s, expected %s", pos,
                    lua_isnil(L, -2) ? "" : "a ", luaL_typename(L, -2), what);
  return luaL_argerror(L, t->idx, lua_tostring(L, -1));
}

static int kindof(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER: return lua_isinteger(L, idx) ? K_INT : K_FLOAT;
    case LUA_TBOOLEAN: return K_BOOL;
    default: return K_NONE;
  }
}

/* Number of entries of a row (a table or a 1-D array), or -1. */
static int64_t rowlen(lua_State *L, int idx) {
  par_array *row = par_toarray(L, idx);
  if (row != NULL) return row->ndim == 1 && row->buf != NULL ? row->dim[0] : -1;
  return lua_istable(L, idx) ? (int64_t)lua_rawlen(L, idx) : -1;
}

/* Fills t's shape; rows must be tables or 1-D arrays of one length. */
static void tableshape(lua_State *L, tsrc *t) {
  int64_t i;
  t->n = (int64_t)lua_rawlen(L, t->idx);
  t->m = 1;
  lua_rawgeti(L, t->idx, 1);
  t->is2d = t->n > 0 && rowlen(L, -1) >= 0;
  lua_pop(L, 1);
  if (!t->is2d) return;
  for (i = 1; i <= t->n; i++) {
    int64_t len;
    lua_rawgeti(L, t->idx, i);
    len = rowlen(L, -1);
    if (len < 0) {
      t->is2d = 0;            /* report this entry as a 1-D one */
      entryerror(L, t, i, 0, "a table (a row)");
    }
    if (i == 1) t->m = len;
    else if (len != t->m)
      luaL_argerror(L, t->idx, lua_pushfstring(L, "row %I has length %I, row 1 has length %I",
                    (lua_Integer)i, (lua_Integer)len, (lua_Integer)t->m));
    lua_pop(L, 1);
  }
}

/* The dtype the entries call for: all integers int64, any float float64,
** all booleans bool. */
static par_dtype inferdtype(lua_State *L, const tsrc *t) {
  int64_t i, j;
  int kind = K_NONE;
  for (i = 1; i <= t->n; i++)
    for (j = 1; j <= t->m; j++) {
      int k;
      pushentry(L, t, i, j);
      k = kindof(L, -1);
      if (kind == K_NONE) kind = k;
      if (k == K_NONE)
        entryerror(L, t, i, j, kind == K_NONE ? "a number or boolean" :
                   kind == K_BOOL ? "a boolean" : "a number");
      if ((k == K_BOOL) != (kind == K_BOOL))
        entryerror(L, t, i, j, kind == K_BOOL ? "a boolean" : "a number");
      if (k == K_FLOAT) kind = K_FLOAT;
      lua_pop(L, 1);
    }
  return kind == K_INT ? PAR_I64 : kind == K_BOOL ? PAR_BOOL : PAR_F64;
}

/* Stores the value on top into element k of a, then pops it. */
static void storeentry(lua_State *L, const tsrc *t, par_array *a, int64_t k,
                       int64_t i, int64_t j) {
  switch (a->dtype) {
    case PAR_F64:
      if (lua_type(L, -1) != LUA_TNUMBER) entryerror(L, t, i, j, "a number");
      PAR_F64P(a)[k] = lua_tonumber(L, -1);
      break;
    case PAR_I64: {
      int isint;
      if (lua_type(L, -1) != LUA_TNUMBER) entryerror(L, t, i, j, "a number");
      PAR_I64P(a)[k] = lua_tointegerx(L, -1, &isint);
      if (!isint) entryerror(L, t, i, j, NULL);
      break;
    }
    case PAR_BOOL:
      if (lua_type(L, -1) != LUA_TBOOLEAN) entryerror(L, t, i, j, "a boolean");
      PAR_BOOLP(a)[k] = (uint8_t)lua_toboolean(L, -1);
      break;
  }
  lua_pop(L, 1);
}

static void astype_into(lua_State *L, par_array *dst, const par_array *src);

/* Pushes the array made of the table at argument 'arg': dtype 'dt', or
** inferred when dt < 0. Errors name the argument and the entry. */
static par_array *fromtable(lua_State *L, int arg, int dt) {
  tsrc t;
  par_array *a;
  int64_t i, j;
  luaL_checktype(L, arg, LUA_TTABLE);
  t.idx = arg;
  tableshape(L, &t);
  a = par_newarray(L, dt < 0 ? inferdtype(L, &t) : (par_dtype)dt, t.is2d ? 2 : 1, t.n, t.m);
  for (i = 1; i <= t.n; i++)
    for (j = 1; j <= t.m; j++) {
      pushentry(L, &t, i, j);
      storeentry(L, &t, a, (i - 1) * t.m + (j - 1), i, j);
    }
  return a;
}

/* par.array(t [, dtype]): a table of values (1-D) or of rows (2-D); an
** array gives a converted copy. */
static int l_array(lua_State *L) {
  par_array *src = par_toarray(L, 1);
  if (src != NULL) {
    par_checkarray(L, 1);
    astype_into(L, par_newarray_like(L, src, par_optdtype(L, 2, src->dtype)), src);
  }
  else fromtable(L, 1, lua_isnoneornil(L, 2) ? -1 : (int)par_optdtype(L, 2, PAR_F64));
  return 1;
}

/* The array at argument 'arg'; a table there is converted in place. */
static par_array *toarrayarg(lua_State *L, int arg) {
  if (lua_istable(L, arg)) {
    fromtable(L, arg, -1);
    lua_replace(L, arg);
  }
  return par_checkarray(L, arg);
}

/* ======================================================================
** Other constructors
** ====================================================================== */

static int l_zeros(lua_State *L) {
  par_array *a = newfromargs(L);
  memset(a->data, 0, (size_t)a->size * ESIZE(a));
  return 1;
}

static int l_ones(lua_State *L) {
  par_array *a = newfromargs(L);
  if (a->dtype == PAR_BOOL) lua_pushboolean(L, 1);
  else lua_pushinteger(L, 1);
  fill(L, a, -1);
  lua_pop(L, 1);
  return 1;
}

/* par.empty: uninitialised numbers; bool arrays are zeroed, so that every
** byte holds 0 or 1. */
static int l_empty(lua_State *L) {
  par_array *a = newfromargs(L);
  if (a->dtype == PAR_BOOL) memset(a->data, 0, (size_t)a->size);
  return 1;
}

/* par.full(n [, m], v [, dtype]): dtype from v unless given. */
static int l_full(lua_State *L) {
  int top = lua_gettop(L), ndim, used;
  int64_t dim[2];
  par_dtype dt;
  if (top >= 3 && lua_type(L, top) == LUA_TSTRING) top--;   /* dtype */
  luaL_argcheck(L, top >= 2, 2, "value expected");
  used = getshape(L, 1, top - 1, 0, &ndim, dim);
  luaL_argcheck(L, used + 1 == top, used + 1, "at most 2 sizes expected");
  switch (lua_type(L, top)) {
    case LUA_TNUMBER: dt = lua_isinteger(L, top) ? PAR_I64 : PAR_F64; break;
    case LUA_TBOOLEAN: dt = PAR_BOOL; break;
    default: return luaL_typeerror(L, top, "number or boolean");
  }
  dt = par_optdtype(L, top + 1, dt);
  fill(L, par_newarray(L, dt, ndim, dim[0], dim[1]), top);
  return 1;
}

/* NumPy's linspace: a + i*step with step = (b-a)/(n-1) (or (i/(n-1))*(b-a)
** when step underflows to 0), the last value exactly b. */
static int l_linspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  int64_t i, n = lua_isnoneornil(L, 3) ? 50 : checksize(L, 3, 3, 0);
  double delta = b - a, div = (double)(n - 1), step = delta / div;
  double *y = PAR_F64P(par_newarray(L, PAR_F64, 1, n, 1));
  if (n == 1) y[0] = 0.0 * delta + a;
  else if (step == 0) {
    for (i = 0; i < n; i++) y[i] = ((double)i / div) * delta + a;
  }
  else {
    for (i = 0; i < n; i++) y[i] = (double)i * step + a;
  }
  if (n > 1) y[n - 1] = b;
  return 1;
}

/* Integer arange: the length is the exact ceiling of (stop-start)/step. */
static void arange_int(lua_State *L, lua_Integer start, lua_Integer stop,
                       lua_Integer step) {
  lua_Unsigned d, s, n = 0;
  int64_t i, *y;
  if (step > 0 ? stop > start : stop < start) {
    d = step > 0 ? (lua_Unsigned)stop - (lua_Unsigned)start
                 : (lua_Unsigned)start - (lua_Unsigned)stop;
    s = step > 0 ? (lua_Unsigned)step : 0u - (lua_Unsigned)step;
    n = d / s + (d % s != 0);
  }
  if (n > (lua_Unsigned)INT64_MAX) n = (lua_Unsigned)INT64_MAX;
  y = PAR_I64P(par_newarray(L, PAR_I64, 1, (int64_t)n, 1));
  for (i = 0; i < (int64_t)n; i++)
    y[i] = (int64_t)((lua_Unsigned)start + (lua_Unsigned)i * (lua_Unsigned)step);
}

/* Float arange as NumPy fills it: y[0] = start, y[1] = start + step, then
** y[i] = start + i*(y[1] - y[0]); length ceil((stop - start)/step), or 1
** when that quotient underflows to +0. */
static void arange_float(lua_State *L, double start, double stop, double step) {
  double delta = stop - start, len = delta / step, *y;
  int64_t i, n;
  if (isnan(len)) luaL_error(L, "arange: cannot compute length");
  if (len == 0 && delta != 0) len = signbit(len) ? 0 : 1;
  len = ceil(len);
  n = len <= 0 ? 0 : len >= 0x1p62 ? INT64_MAX : (int64_t)len;
  y = PAR_F64P(par_newarray(L, PAR_F64, 1, n, 1));
  if (n > 0) y[0] = start;
  if (n > 1) {
    y[1] = start + step;
    delta = y[1] - y[0];
    for (i = 2; i < n; i++) y[i] = start + (double)i * delta;
  }
}

/* par.arange([start,] stop [, step]): int64 if all arguments are integers. */
static int l_arange(lua_State *L) {
  int one = lua_isnoneornil(L, 2);
  int sarg = one ? 0 : 1, earg = one ? 1 : 2;
  luaL_checknumber(L, 1);
  if (!one) luaL_checknumber(L, 2);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checknumber(L, 3);
    luaL_argcheck(L, lua_tonumber(L, 3) != 0, 3, "step must not be zero");
  }
  if ((one || lua_isinteger(L, 1)) && lua_isinteger(L, earg) &&
      (lua_isnoneornil(L, 3) || lua_isinteger(L, 3)))
    arange_int(L, one ? 0 : lua_tointeger(L, sarg), lua_tointeger(L, earg),
               luaL_optinteger(L, 3, 1));
  else
    arange_float(L, one ? 0.0 : lua_tonumber(L, sarg), lua_tonumber(L, earg),
                 luaL_optnumber(L, 3, 1.0));
  return 1;
}

/* par.meshgrid(x, y): X, Y of shape (#y, #x), as NumPy's indexing='xy'. */
static int l_meshgrid(lua_State *L) {
  par_array *x = toarrayarg(L, 1), *y = toarrayarg(L, 2), *X, *Y;
  int64_t i, j, nx = x->size, ny = y->size;
  size_t xs = ESIZE(x), ys = ESIZE(y);
  X = par_newarray(L, x->dtype, 2, ny, nx);
  Y = par_newarray(L, y->dtype, 2, ny, nx);
  for (i = 0; i < ny; i++) {
    memcpy(ELEMP(X, i * nx), x->data, (size_t)nx * xs);
    for (j = 0; j < nx; j++) memcpy(ELEMP(Y, i * nx + j), ELEMP(y, i), ys);
  }
  return 2;
}

/* par.concat(a, b, ...): 1-D arrays joined, 2-D arrays stacked by rows;
** int64 with float64 gives float64, bool only joins bool. */
static int l_concat(lua_State *L) {
  int k, nargs = lua_gettop(L) > 0 ? lua_gettop(L) : 1;
  par_array *first = toarrayarg(L, 1), *out;
  par_dtype dt = first->dtype;
  int64_t rows = 0, at = 0;
  for (k = 1; k <= nargs; k++) {
    par_array *a = toarrayarg(L, k);
    char s1[48], s2[48];
    if (a->ndim != first->ndim || (a->ndim == 2 && a->dim[1] != first->dim[1]))
      luaL_argerror(L, k, lua_pushfstring(L, "cannot join shape %s to shape %s",
                    par_shapestr(a, s1), par_shapestr(first, s2)));
    if ((a->dtype == PAR_BOOL) != (dt == PAR_BOOL))
      luaL_argerror(L, k, lua_pushfstring(L, "cannot join %s to %s",
                    par_dtype_name(a->dtype), par_dtype_name(dt)));
    if (a->dtype != dt) dt = PAR_F64;
    rows += a->dim[0];
  }
  out = par_newarray(L, dt, first->ndim, rows, first->dim[1]);
  for (k = 1; k <= nargs; k++) {
    par_array *a = par_toarray(L, k);
    par_array part = *out;
    part.data = ELEMP(out, at);
    part.size = a->size;
    astype_into(L, &part, a);
    at += a->size;
  }
  return 1;
}

/* ======================================================================
** Indexing
** ====================================================================== */

/* The integer index at stack index idx (argument 'arg' for errors). */
static lua_Integer toindex(lua_State *L, int idx, int arg) {
  int isint;
  lua_Integer i = lua_tointegerx(L, idx, &isint);
  if (!isint || lua_type(L, idx) != LUA_TNUMBER) {
    const char *got = lua_type(L, idx) == LUA_TNUMBER ?
        luaL_tolstring(L, idx, NULL) : luaL_typename(L, idx);
    fail(L, arg, lua_pushfstring(L, "array index must be an integer, got %s", got));
  }
  return i;
}

/* The 0-based position of 1-based index i along 'axis', or an error. */
static int64_t checkrange(lua_State *L, lua_Integer i, const par_array *a,
                          int axis, int arg) {
  if ((lua_Unsigned)i - 1u >= (lua_Unsigned)a->dim[axis]) {
    char shape[48];
    const char *what = a->ndim == 1 ? "index" : axis == 0 ? "row index" : "column index";
    fail(L, arg, lua_pushfstring(L, "%s %I out of range for array of shape %s",
                                  what, i, par_shapestr(a, shape)));
  }
  return (int64_t)i - 1;
}

/* Raises "attempt to use a closed array" at the innermost Lua code, which
** may be below C functions (ipairs' iterator, pairs). */
static void checkopen(lua_State *L, const par_array *a) {
  lua_Debug ar;
  int level;
  if (a->buf != NULL) return;
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0) {
      lua_pushfstring(L, "%s:%d: attempt to use a closed array", ar.short_src, ar.currentline);
      lua_error(L);
    }
  }
  luaL_error(L, "attempt to use a closed array");
}

/* Pushes row r (0-based) of a 2-D array as a 1-D view, or element r. */
static void pushitem(lua_State *L, const par_array *a, int64_t r) {
  if (a->ndim == 1) par_pushelem(L, a, r);
  else par_pushview(L, a, ELEMP(a, r * a->dim[1]), 1, a->dim[1], 1);
}

/* ipairs(a) stops at the first nil: a read of a[#a + 1] by ipairs' own
** iterator gives nil instead of an error, so 'for i, x in ipairs(a)' works
** while every other out-of-range read still fails. */
static int from_ipairs(lua_State *L) {
  lua_Debug ar;
  int yes;
  if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "f", &ar)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &ipairs_key);
  yes = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return yes;
}

static int shapetable(lua_State *L, const par_array *a) {
  lua_createtable(L, a->ndim, 0);
  lua_pushinteger(L, a->dim[0]);
  lua_rawseti(L, -2, 1);
  if (a->ndim == 2) {
    lua_pushinteger(L, a->dim[1]);
    lua_rawseti(L, -2, 2);
  }
  return 1;
}

static int a_transpose(lua_State *L);

/* a.shape, a.size, a.ndim, a.dtype, a.T, then the methods table (upvalue 1
** is the metatable); nil for anything else, so a:foo() fails as "attempt to
** call a nil value (method 'foo')". */
static int index_string(lua_State *L, const par_array *a) {
  const char *k = lua_tostring(L, 2);
  if (strcmp(k, "shape") == 0) return shapetable(L, a);
  if (strcmp(k, "size") == 0) lua_pushinteger(L, a->size);
  else if (strcmp(k, "ndim") == 0) lua_pushinteger(L, a->ndim);
  else if (strcmp(k, "dtype") == 0) lua_pushstring(L, par_dtype_name(a->dtype));
  else if (strcmp(k, "T") == 0) {
    lua_settop(L, 1);
    return a_transpose(L);
  }
  else {
    lua_getfield(L, lua_upvalueindex(1), "__methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
  }
  return 1;
}

/* Self of __index and __newindex: the metatable is their upvalue, so the
** check costs one comparison instead of luaL_checkudata's registry lookup. */
static par_array *checkself(lua_State *L) {
  par_array *a = (par_array *)lua_touserdata(L, 1);
  if (a == NULL || !lua_getmetatable(L, 1) || !lua_rawequal(L, -1, lua_upvalueindex(1)))
    luaL_typeerror(L, 1, PAR_ARRAY_MT);
  lua_pop(L, 1);
  return a;
}

static int index_slow(lua_State *L, const par_array *a) {
  lua_Integer i;
  if (lua_type(L, 2) == LUA_TSTRING) return index_string(L, a);
  i = toindex(L, 2, 0);
  checkopen(L, a);
  if (i == a->dim[0] + 1 && from_ipairs(L)) return 0;
  pushitem(L, a, checkrange(L, i, a, 0, 0));
  return 1;
}

/* __index. The fast path (an in-range integer key on a 1-D array) is the
** inner loop of plain Lua code over arrays. */
static int a_index(lua_State *L) {
  par_array *a = checkself(L);
  if (lua_isinteger(L, 2)) {
    lua_Integer i = lua_tointeger(L, 2);
    if (a->ndim == 1 && (lua_Unsigned)i - 1u < (lua_Unsigned)a->dim[0]) {
      if (a->dtype == PAR_F64) lua_pushnumber(L, PAR_F64P(a)[i - 1]);
      else par_pushelem(L, a, i - 1);
      return 1;
    }
  }
  return index_slow(L, a);
}

/* Copies 'src' into row r of the 2-D array a; src is a 1-D array or a
** table with one value per column. */
static void setrow(lua_State *L, par_array *a, int64_t r, int v) {
  int64_t j, m = a->dim[1];
  par_array *src = par_toarray(L, v), row = *a;
  char s1[48], s2[48];
  row.ndim = 1;
  row.dim[0] = row.size = m;
  row.dim[1] = 1;
  row.data = ELEMP(a, r * m);
  if (src != NULL && src->buf != NULL && src->ndim == 1 && src->dim[0] == m)
    astype_into(L, &row, src);
  else if (src == NULL && lua_istable(L, v) && (int64_t)lua_rawlen(L, v) == m) {
    for (j = 0; j < m; j++) {
      lua_rawgeti(L, v, j + 1);
      par_setelem(L, &row, j, -1);
      lua_pop(L, 1);
    }
  }
  else if (src != NULL)
    luaL_error(L, "cannot assign array of shape %s to a row of shape %s",
               par_shapestr(src, s1), par_shapestr(&row, s2));
  else if (lua_istable(L, v))
    luaL_error(L, "cannot assign a table of %I values to a row of shape %s",
               (lua_Integer)lua_rawlen(L, v), par_shapestr(&row, s2));
  else
    luaL_error(L, "cannot assign a %s to a row of shape %s",
               luaL_typename(L, v), par_shapestr(&row, s2));
}

/* __newindex: a[i] = v (1-D), a[i] = row (2-D). */
static int a_newindex(lua_State *L) {
  par_array *a = checkself(L);
  lua_Integer i;
  if (lua_isinteger(L, 2)) {
    i = lua_tointeger(L, 2);
    if (a->ndim == 1 && (lua_Unsigned)i - 1u < (lua_Unsigned)a->dim[0]) {
      if (a->dtype == PAR_F64 && lua_type(L, 3) == LUA_TNUMBER)
        PAR_F64P(a)[i - 1] = lua_tonumber(L, 3);
      else par_setelem(L, a, i - 1, 3);
      return 0;
    }
  }
  if (lua_type(L, 2) == LUA_TSTRING)
    return luaL_error(L, "cannot set field '%s' of an array", lua_tostring(L, 2));
  i = toindex(L, 2, 0);
  checkopen(L, a);
  if (a->ndim == 1) par_setelem(L, a, checkrange(L, i, a, 0, 0), 3);
  else setrow(L, a, checkrange(L, i, a, 0, 0), 3);
  return 0;
}

static int a_len(lua_State *L) {
  par_array *a = (par_array *)luaL_checkudata(L, 1, PAR_ARRAY_MT);
  checkopen(L, a);
  lua_pushinteger(L, a->dim[0]);
  return 1;
}

static int pairs_next(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 0 || i >= a->dim[0]) return 0;
  lua_pushinteger(L, i + 1);
  pushitem(L, a, i);
  return 2;
}

/* __pairs: i, a[i] for i = 1..#a. */
static int a_pairs(lua_State *L) {
  checkopen(L, luaL_checkudata(L, 1, PAR_ARRAY_MT));
  lua_pushcfunction(L, pairs_next);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

/* The flat 0-based position of the element whose indices start at 'arg'
** (one index for 1-D arrays, two for 2-D); 'n' indices were given, and
** more than a->ndim is an error (never an index dropped). */
static int64_t elemindex(lua_State *L, const par_array *a, int arg, int n) {
  int64_t i;
  if (n > a->ndim)
    luaL_argerror(L, arg + a->ndim, lua_pushfstring(L,
        "too many indices for array: array is %d-dimensional, but %d were indexed",
        a->ndim, n));
  i = checkrange(L, toindex(L, arg, arg), a, 0, arg);
  if (a->ndim == 1) return i;
  return i * a->dim[1] + checkrange(L, toindex(L, arg + 1, arg + 1), a, 1, arg + 1);
}

/* a:get(i [, j]) */
static int a_get(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  par_pushelem(L, a, elemindex(L, a, 2, lua_gettop(L) - 1));
  return 1;
}

/* a:set(i [, j], v): the last argument is the value. */
static int a_set(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  int64_t k = elemindex(L, a, 2, lua_gettop(L) - 2);
  luaL_checkany(L, a->ndim + 2);
  par_setelem(L, a, k, a->ndim + 2);
  return 0;
}

/* ======================================================================
** Methods
** ====================================================================== */

/* a:slice(i [, j]): rows (or elements) i..j as a view; j = i - 1 gives an
** empty view. */
static int a_slice(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), j = luaL_optinteger(L, 3, a->dim[0]);
  char shape[48];
  if (i < 1 || j > a->dim[0] || j < i - 1)
    luaL_argerror(L, 2, lua_pushfstring(L, "slice %I..%I out of range for array of shape %s",
                  i, j, par_shapestr(a, shape)));
  par_pushview(L, a, ELEMP(a, (i - 1) * a->dim[1]), a->ndim, j - i + 1, a->dim[1]);
  return 1;
}

/* a:col(j): column j of a 2-D array, as a new 1-D array. */
static int a_col(lua_State *L) {
  par_array *a = par_checkarray(L, 1), *c;
  int64_t i, j, n = a->dim[0], m = a->dim[1];
  size_t es = ESIZE(a);
  luaL_argcheck(L, a->ndim == 2, 1, "'col' needs a 2-D array");
  j = checkrange(L, toindex(L, 2, 2), a, 1, 2);
  c = par_newarray(L, a->dtype, 1, n, 1);
  for (i = 0; i < n; i++) memcpy(ELEMP(c, i), ELEMP(a, i * m + j), es);
  return 1;
}

static int a_copy(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  memcpy(par_newarray_like(L, a, a->dtype)->data, a->data, (size_t)a->size * ESIZE(a));
  return 1;
}

/* a:reshape(n [, m]) or a:reshape{n [, m]}: a view; one size may be -1. */
static int a_reshape(lua_State *L) {
  par_array *a = par_checkarray(L, 1), want;
  int64_t dim[2], known;
  int ndim, infer;
  char s1[48], s2[48];
  getshape(L, 2, 3, 1, &ndim, dim);
  infer = dim[0] == -1 ? 0 : ndim == 2 && dim[1] == -1 ? 1 : -1;
  luaL_argcheck(L, !(dim[0] == -1 && dim[1] == -1), 2, "only one size can be -1");
  want.ndim = ndim;
  want.dim[0] = dim[0];
  want.dim[1] = dim[1];
  known = infer < 0 ? 0 : dim[1 - infer];
  if (infer >= 0 && known > 0 && a->size % known == 0)
    dim[infer] = a->size / known;
  if (dim[0] < 0 || dim[1] < 0 || (dim[1] != 0 && dim[0] > INT64_MAX / dim[1]) ||
      dim[0] * dim[1] != a->size)
    luaL_argerror(L, 2, lua_pushfstring(L, "cannot reshape array of shape %s into shape %s",
                  par_shapestr(a, s1), par_shapestr(&want, s2)));
  par_pushview(L, a, a->data, ndim, dim[0], dim[1]);
  return 1;
}

/* Writes "[i]" or "[i][j]" for flat position k of a. */
static const char *posstr(lua_State *L, const par_array *a, int64_t k) {
  if (a->ndim == 1) return lua_pushfstring(L, "[%I]", (lua_Integer)k + 1);
  return lua_pushfstring(L, "[%I][%I]", (lua_Integer)(k / a->dim[1]) + 1,
                         (lua_Integer)(k % a->dim[1]) + 1);
}

/* Copies src into dst (same size) converting the dtype: floats into int64
** must have an integer value; numbers into bool are true when nonzero; bool
** into numbers gives 0 or 1. */
static void astype_into(lua_State *L, par_array *dst, const par_array *src) {
  int64_t k, n = src->size;
  if (dst->dtype == src->dtype) {
    memmove(dst->data, src->data, (size_t)n * ESIZE(src));
    return;
  }
  for (k = 0; k < n; k++) {
    double v = par_getf(src, k);
    switch (dst->dtype) {
      case PAR_F64: PAR_F64P(dst)[k] = v; break;
      case PAR_BOOL:
        PAR_BOOLP(dst)[k] = src->dtype == PAR_I64 ? PAR_I64P(src)[k] != 0 : v != 0;
        break;
      case PAR_I64:
        if (src->dtype == PAR_BOOL) PAR_I64P(dst)[k] = PAR_BOOLP(src)[k];
        else if (v == floor(v) && v >= -0x1p63 && v < 0x1p63) PAR_I64P(dst)[k] = (int64_t)v;
        else {
          const char *pos = posstr(L, src, k);
          lua_pushnumber(L, v);
          luaL_error(L, "number has no integer representation (element %s is %s)",
                     pos, luaL_tolstring(L, -1, NULL));
        }
        break;
    }
  }
}

static int a_astype(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  luaL_checkstring(L, 2);
  astype_into(L, par_newarray_like(L, a, par_optdtype(L, 2, a->dtype)), a);
  return 1;
}

/* Pushes n elements starting at flat position k as a table. */
static void pushtable(lua_State *L, const par_array *a, int64_t k, int64_t n) {
  int64_t j;
  lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
  for (j = 0; j < n; j++) {
    par_pushelem(L, a, k + j);
    lua_rawseti(L, -2, j + 1);
  }
}

static int a_totable(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  int64_t i;
  if (a->ndim == 1) {
    pushtable(L, a, 0, a->size);
    return 1;
  }
  lua_createtable(L, a->dim[0] > INT32_MAX ? 0 : (int)a->dim[0], 0);
  for (i = 0; i < a->dim[0]; i++) {
    pushtable(L, a, i * a->dim[1], a->dim[1]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* Transposes the n x m matrix src into dst in cache-sized tiles. */
#define TRANSPOSE(T, dst, src, n, m) do { \
    int64_t ib, jb, i, j; \
    for (ib = 0; ib < (n); ib += 32) \
      for (jb = 0; jb < (m); jb += 32) \
        for (i = ib; i < (n) && i < ib + 32; i++) \
          for (j = jb; j < (m) && j < jb + 32; j++) \
            ((T *)(dst))[j * (n) + i] = ((const T *)(src))[i * (m) + j]; \
  } while (0)

/* a:transpose() and a.T: a transposed copy (a copy of a 1-D array). */
static int a_transpose(lua_State *L) {
  par_array *a = par_checkarray(L, 1), *t;
  if (a->ndim == 1) return a_copy(L);
  t = par_newarray(L, a->dtype, 2, a->dim[1], a->dim[0]);
  if (a->size == 0) return 1;   /* (0, huge): no loop over the huge side */
  if (a->dtype == PAR_BOOL) TRANSPOSE(uint8_t, t->data, a->data, a->dim[0], a->dim[1]);
  else TRANSPOSE(uint64_t, t->data, a->data, a->dim[0], a->dim[1]);
  return 1;
}

/* a:dot(b): par.linalg.matmul(a, b), par being the loaded module. */
static int a_dot(lua_State *L) {
  par_checkarray(L, 1);
  par_checkarray(L, 2);
  lua_settop(L, 2);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "par") != LUA_TTABLE)
    return luaL_error(L, "the par module is not loaded");
  lua_getfield(L, -1, "linalg");
  if (!lua_istable(L, -1) || lua_getfield(L, -1, "matmul") != LUA_TFUNCTION)
    return luaL_error(L, "par.linalg.matmul is not available");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

/* Remembers ipairs' iterator (see from_ipairs), when ipairs is the base
** library's. */
static void find_ipairs(lua_State *L) {
  if (lua_getglobal(L, "ipairs") == LUA_TFUNCTION) {
    lua_newtable(L);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_iscfunction(L, -1)) {
      lua_rawsetp(L, LUA_REGISTRYINDEX, &ipairs_key);
      return;
    }
  }
  lua_pop(L, 1);
}

static const luaL_Reg funcs[] = {
  {"array", l_array},
  {"zeros", l_zeros},
  {"ones", l_ones},
  {"empty", l_empty},
  {"full", l_full},
  {"linspace", l_linspace},
  {"arange", l_arange},
  {"meshgrid", l_meshgrid},
  {"concat", l_concat},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"get", a_get},
  {"set", a_set},
  {"slice", a_slice},
  {"col", a_col},
  {"copy", a_copy},
  {"reshape", a_reshape},
  {"astype", a_astype},
  {"totable", a_totable},
  {"transpose", a_transpose},
  {"dot", a_dot},
  {NULL, NULL}
};

static const luaL_Reg meta[] = {
  {"__len", a_len},
  {"__pairs", a_pairs},
  {NULL, NULL}
};

/* __index and __newindex, closures over the metatable (see checkself). */
static void setindex(lua_State *L) {
  luaL_getmetatable(L, PAR_ARRAY_MT);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, a_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, a_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pop(L, 1);
}

void par_open_array(lua_State *L) {
  luaL_setfuncs(L, funcs, 0);
  par_array_addmethods(L, methods);
  par_array_addmeta(L, meta);       /* creates the metatable */
  setindex(L);
  find_ipairs(L);
}
