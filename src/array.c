/*
** array.c: the core of parlua's arrays: reference-counted buffers, array
** userdata creation and checking, element get/set, and the metatable that
** the other array files add their methods to.
*/
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "array.h"

/* ---- buffers ---- */

struct par_buffer {
  atomic_long refs;
  size_t bytes;     /* asked for */
  size_t cap;       /* allocated */
  void *data;       /* 64-byte aligned */
};

static atomic_size_t in_use;
static size_t max_memory;      /* 0: no cap; read once from PARLUA_MAX_MEMORY */
static atomic_int max_read;

size_t par_memory_in_use(void) {
  return atomic_load(&in_use);
}

/* The cap of PARLUA_MAX_MEMORY in *cap: decimal digits, optionally followed
** by K, M, G or T (powers of 1024, either case); unset, empty or 0 is no
** cap (0). Returns NULL, or the problem of a bad value (then *cap is 0). */
static const char *parse_cap(const char *s, size_t *cap) {
  static const char units[] = "KMGTkmgt";
  const char *form = "bytes expected, optionally with a K, M, G or T suffix";
  char *end;
  unsigned long long v;
  int shift = 0;
  *cap = 0;
  if (s == NULL || *s == '\0') return NULL;
  if (*s < '0' || *s > '9') return form;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (*end != '\0') {
    const char *u = strchr(units, *end);
    if (u == NULL || end[1] != '\0') return form;
    shift = 10 * ((int)(u - units) % 4 + 1);
  }
  if (errno == ERANGE || v > (SIZE_MAX >> shift)) return "too large";
  *cap = (size_t)v << shift;
  return NULL;
}

/* A bad value was refused when par was opened (par_check_max_memory). */
static size_t read_cap(void) {
  size_t cap;
  parse_cap(getenv("PARLUA_MAX_MEMORY"), &cap);
  return cap;
}

void par_check_max_memory(lua_State *L) {
  const char *s = getenv("PARLUA_MAX_MEMORY");
  size_t cap;
  const char *bad = parse_cap(s, &cap);
  if (bad != NULL) luaL_error(L, "bad PARLUA_MAX_MEMORY '%s' (%s)", s, bad);
}

static int over_cap(size_t bytes) {
  if (!atomic_load(&max_read)) {
    max_memory = read_cap();
    atomic_store(&max_read, 1);
  }
  return max_memory != 0 && atomic_load(&in_use) + bytes > max_memory;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* Element memory. Large blocks are aligned to 2 MiB and advised to use
** transparent huge pages: on this kind of VM a 4 KiB page fault costs
** microseconds, so first-touching 200 MB takes 0.7 s with small pages
** and 15 ms with huge ones (NumPy gives the same advice). */
static void *alloc_data(size_t rounded) {
  void *p = NULL;
  if (rounded < HUGE_PAGE)
    return aligned_alloc(64, rounded > 0 ? rounded : 64);
  if (posix_memalign(&p, HUGE_PAGE, rounded) != 0) return NULL;
  madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

/* A few freed large blocks are kept for reuse: eager array expressions
** free a temporary and allocate one of the same size at once, and memory
** already touched costs a third of fresh pages to write. At most
** SPARE_MAX blocks; a block serves requests between half its size and
** its size. Guarded by a mutex, as buffers die on any thread. */
#define SPARE_MAX 4

static struct { void *data; size_t cap; } spare[SPARE_MAX];
static int nspare;
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;

/* Blocks this large are kept for reuse (smaller ones are malloc's business). */
#define SPARE_MIN ((size_t)256 << 10)

/* A spare block of at least 'rounded' bytes (best fit), or NULL. */
static void *take_spare(size_t rounded, size_t *cap) {
  int i, best = -1;
  void *p = NULL;
  pthread_mutex_lock(&spare_lock);
  for (i = 0; i < nspare; i++)
    if (spare[i].cap >= rounded && spare[i].cap / 2 <= rounded &&
        (best < 0 || spare[i].cap < spare[best].cap))
      best = i;
  if (best >= 0) {
    p = spare[best].data;
    *cap = spare[best].cap;
    spare[best] = spare[--nspare];
  }
  pthread_mutex_unlock(&spare_lock);
  return p;
}

/* Keeps a freed block for reuse, or frees it (or the smallest spare). */
static void give_back(void *data, size_t cap) {
  if (cap >= SPARE_MIN) {
    pthread_mutex_lock(&spare_lock);
    if (nspare == SPARE_MAX) {
      int i, min = 0;
      for (i = 1; i < nspare; i++)
        if (spare[i].cap < spare[min].cap) min = i;
      if (spare[min].cap < cap) {
        void *old = spare[min].data;
        spare[min].data = data;
        spare[min].cap = cap;
        data = old;
      }
    }
    else {
      spare[nspare].data = data;
      spare[nspare++].cap = cap;
      data = NULL;
    }
    pthread_mutex_unlock(&spare_lock);
  }
  free(data);
}

/* Frees every spare block (when memory runs short). */
static void drop_spares(void) {
  pthread_mutex_lock(&spare_lock);
  while (nspare > 0) free(spare[--nspare].data);
  pthread_mutex_unlock(&spare_lock);
}

par_buffer *par_buffer_new(size_t bytes) {
  par_buffer *b;
  size_t cap = (bytes + 63) & ~(size_t)63;
  if (cap < bytes || over_cap(bytes)) return NULL;
  b = malloc(sizeof *b);
  if (b == NULL) return NULL;
  b->data = cap >= SPARE_MIN ? take_spare(cap, &cap) : NULL;
  if (b->data == NULL) b->data = alloc_data(cap);
  if (b->data == NULL) {
    drop_spares();
    b->data = alloc_data(cap);
  }
  if (b->data == NULL) { free(b); return NULL; }
  atomic_init(&b->refs, 1);
  b->bytes = bytes;
  b->cap = cap;
  atomic_fetch_add(&in_use, bytes);
  return b;
}

void par_buffer_retain(par_buffer *b) {
  atomic_fetch_add(&b->refs, 1);
}

void par_buffer_release(par_buffer *b) {
  if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
    atomic_fetch_sub(&in_use, b->bytes);
    give_back(b->data, b->cap);
    free(b);
  }
}

void *par_buffer_data(par_buffer *b) { return b->data; }
size_t par_buffer_bytes(const par_buffer *b) { return b->bytes; }

/* ---- dtypes ---- */

static const char *const dtype_names[] = {"float64", "int64", "bool", NULL};

size_t par_dtype_size(par_dtype dt) {
  return dt == PAR_BOOL ? 1 : 8;
}

const char *par_dtype_name(par_dtype dt) {
  return dtype_names[dt];
}

int par_dtype_from_name(const char *name) {
  int i;
  for (i = 0; dtype_names[i] != NULL; i++)
    if (strcmp(name, dtype_names[i]) == 0) return i;
  return -1;
}

par_dtype par_optdtype(lua_State *L, int arg, par_dtype def) {
  if (lua_isnoneornil(L, arg)) return def;
  return (par_dtype)luaL_checkoption(L, arg, NULL, dtype_names);
}

/* ---- array userdata ---- */

static int array_gc(lua_State *L) {
  par_array *a = luaL_checkudata(L, 1, PAR_ARRAY_MT);
  par_buffer_release(a->buf);
  a->buf = NULL;
  a->data = NULL;
  a->size = a->dim[0] = 0;
  return 0;
}

/* Pushes the array metatable, creating it on first use. */
static void pushmeta(lua_State *L) {
  if (luaL_newmetatable(L, PAR_ARRAY_MT)) {
    lua_pushcfunction(L, array_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, array_gc);
    lua_setfield(L, -2, "__close");
    lua_pushliteral(L, "par.array");
    lua_setfield(L, -2, "__name");
    lua_newtable(L);                     /* methods */
    lua_setfield(L, -2, "__methods");
  }
}

void par_array_addmethods(lua_State *L, const luaL_Reg *l) {
  pushmeta(L);
  lua_getfield(L, -1, "__methods");
  luaL_setfuncs(L, l, 0);
  lua_pop(L, 2);
}

void par_array_addmeta(lua_State *L, const luaL_Reg *l) {
  pushmeta(L);
  luaL_setfuncs(L, l, 0);
  lua_pop(L, 1);
}

/* Array memory is reported to Lua's collector as debt, which starts a
** step (in generational mode, lua.c's default, a minor collection that
** frees young garbage). An array that outlives two minor collections is
** old, and old objects go only in a major collection, which Lua starts
** when its own heap has doubled; array memory never counts
** there, so a loop whose arrays each outlive two later ones would grow
** without bound. Hence also a full collection whenever more array memory
** has been allocated since the last one than the larger of the array
** memory it left, the Lua heap, and PACE_MIN. */
#define PACE_MIN ((size_t)64 << 20)

typedef struct { size_t since, limit; } gc_pace;

static const char pace_key = 'p';

static void reportbytes(lua_State *L, size_t bytes) {
  gc_pace *p;
  if (!lua_gc(L, LUA_GCISRUNNING)) return;  /* collectgarbage("stop") */
  lua_gc(L, LUA_GCSTEP, (int)(bytes / 1024 > INT32_MAX ? INT32_MAX : bytes / 1024));
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &pace_key) == LUA_TNIL) {
    lua_pop(L, 1);
    p = lua_newuserdatauv(L, sizeof *p, 0);
    p->since = 0;
    p->limit = PACE_MIN;
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &pace_key);
  }
  p = lua_touserdata(L, -1);
  lua_pop(L, 1);
  p->since += bytes;
  if (p->since > p->limit) {
    size_t heap;
    lua_gc(L, LUA_GCCOLLECT);
    heap = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024;
    p->since = 0;
    p->limit = par_memory_in_use();
    if (p->limit < heap) p->limit = heap;
    if (p->limit < PACE_MIN) p->limit = PACE_MIN;
  }
}

/* Pushes an empty array userdata (no memory yet) with its metatable. */
static par_array *pushempty(lua_State *L, par_dtype dt, int ndim) {
  par_array *a = lua_newuserdatauv(L, sizeof(par_array), 0);
  a->buf = NULL;
  a->data = NULL;
  a->dtype = dt;
  a->ndim = ndim;
  a->dim[0] = 0;
  a->dim[1] = 1;
  a->size = 0;
  pushmeta(L);
  lua_setmetatable(L, -2);
  return a;
}

par_array *par_newarray(lua_State *L, par_dtype dt, int ndim, int64_t n, int64_t m) {
  par_array *a;
  size_t bytes;
  if (ndim == 1) m = 1;
  if (n < 0 || m < 0)
    luaL_error(L, "negative dimensions are not allowed (%I x %I)", (lua_Integer)n, (lua_Integer)m);
  if (m != 0 && n > INT64_MAX / 8 / m)
    luaL_error(L, "array is too big (%I x %I elements)", (lua_Integer)n, (lua_Integer)m);
  bytes = (size_t)(n * m) * par_dtype_size(dt);
  /* reported first, so dead temporaries give their blocks back before
  ** this one is allocated */
#ifdef PARLUA_GC_STRESS  /* CMake option, for the sanitizer stage */
  if (lua_gc(L, LUA_GCISRUNNING)) lua_gc(L, LUA_GCCOLLECT);
#endif
  if (bytes >= 1024) reportbytes(L, bytes);
  a = pushempty(L, dt, ndim);
  a->buf = par_buffer_new(bytes);
  if (a->buf == NULL) {   /* as Lua's emergency collection: free garbage, try again */
    lua_gc(L, LUA_GCCOLLECT);
    a->buf = par_buffer_new(bytes);
  }
  if (a->buf == NULL) luaL_error(L, "not enough memory");
  a->data = par_buffer_data(a->buf);
  a->dim[0] = n;
  a->dim[1] = m;
  a->size = n * m;
  return a;
}

par_array *par_newarray_zero(lua_State *L, par_dtype dt, int ndim, int64_t n, int64_t m) {
  par_array *a = par_newarray(L, dt, ndim, n, m);
  memset(a->data, 0, (size_t)a->size * par_dtype_size(dt));
  return a;
}

par_array *par_newarray_like(lua_State *L, const par_array *like, par_dtype dt) {
  return par_newarray(L, dt, like->ndim, like->dim[0], like->dim[1]);
}

par_array *par_pushview(lua_State *L, const par_array *base, void *data,
                        int ndim, int64_t n, int64_t m) {
  par_array *a = pushempty(L, base->dtype, ndim);
  if (ndim == 1) m = 1;
  par_buffer_retain(base->buf);
  a->buf = base->buf;
  a->data = data;
  a->dim[0] = n;
  a->dim[1] = m;
  a->size = n * m;
  return a;
}

par_array *par_toarray(lua_State *L, int idx) {
  return luaL_testudata(L, idx, PAR_ARRAY_MT);
}

par_array *par_checkarray(lua_State *L, int arg) {
  par_array *a = luaL_checkudata(L, arg, PAR_ARRAY_MT);
  if (a->buf == NULL) luaL_argerror(L, arg, "array is closed");
  return a;
}

const char *par_shapestr(const par_array *a, char *buf) {
  if (a->ndim == 1)
    snprintf(buf, 48, "(%lld,)", (long long)a->dim[0]);
  else
    snprintf(buf, 48, "(%lld, %lld)", (long long)a->dim[0], (long long)a->dim[1]);
  return buf;
}

int par_sameshape(const par_array *a, const par_array *b) {
  return a->ndim == b->ndim && a->dim[0] == b->dim[0] && a->dim[1] == b->dim[1];
}

/* ---- elements ---- */

void par_pushelem(lua_State *L, const par_array *a, int64_t i) {
  switch (a->dtype) {
    case PAR_F64: lua_pushnumber(L, PAR_F64P(a)[i]); break;
    case PAR_I64: lua_pushinteger(L, PAR_I64P(a)[i]); break;
    case PAR_BOOL: lua_pushboolean(L, PAR_BOOLP(a)[i]); break;
  }
}

double par_getf(const par_array *a, int64_t i) {
  switch (a->dtype) {
    case PAR_F64: return PAR_F64P(a)[i];
    case PAR_I64: return (double)PAR_I64P(a)[i];
    default: return PAR_BOOLP(a)[i];
  }
}

/* The value at idx as an int64, following Lua's float-to-integer rule. */
static int64_t toint64(lua_State *L, int idx) {
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      luaL_error(L, "number has no integer representation");
    luaL_error(L, "int64 array element must be a number, got %s", luaL_typename(L, idx));
  }
  return v;
}

void par_setelem(lua_State *L, par_array *a, int64_t i, int idx) {
  switch (a->dtype) {
    case PAR_F64: {
      int isnum;
      double v = lua_tonumberx(L, idx, &isnum);
      if (!isnum || lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L, "float64 array element must be a number, got %s", luaL_typename(L, idx));
      PAR_F64P(a)[i] = v;
      break;
    }
    case PAR_I64:
      if (lua_type(L, idx) != LUA_TNUMBER)
        luaL_error(L, "int64 array element must be a number, got %s", luaL_typename(L, idx));
      PAR_I64P(a)[i] = toint64(L, idx);
      break;
    case PAR_BOOL:
      if (lua_type(L, idx) != LUA_TBOOLEAN)
        luaL_error(L, "bool array element must be a boolean, got %s", luaL_typename(L, idx));
      PAR_BOOLP(a)[i] = (uint8_t)lua_toboolean(L, idx);
      break;
  }
}
