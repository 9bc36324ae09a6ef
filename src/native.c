/*
** native.c: native kernels at run time. Asks the compiler (par.jit.driver)
** for a plan, loads its C through the kernel cache, fills the context the
** generated code reads (kernel_rt.h), runs it in blocks (par_kernel_block) with
** par_run, and turns results and error records into Lua values and errors.
** Also opens par._native, the native path alone, for tests.
*/
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "array.h"
#include "kernel_cache.h"
#include "kernel_rt.h"
#include "modules.h"
#include "native.h"
#include "parallel.h"
#include "reduce.h"
#include "rng.h"
#include "stream_batch.h"

extern const char par_kernel_rt_text[];

_Static_assert(sizeof(prt_pcg64) == sizeof(pcg64), "prt_pcg64 layout");
_Static_assert(offsetof(prt_pcg64, inc) == offsetof(pcg64, inc), "prt_pcg64 layout");
_Static_assert(offsetof(prt_pcg64, has_uint32) == offsetof(pcg64, has_uint32), "prt_pcg64 layout");

/* Kinds of calls, as the driver names them. */
enum { K_PRANGE, K_PREDUCE, K_MAP, K_MAPREDUCE, K_JIT };
static const char *const kindnames[] = {"prange", "preduce", "map", "mapreduce", "jit"};

/* ======================================================================
** Callbacks of generated code
** ====================================================================== */

static double normal_slow(prt_pcg64 *g, uint64_t r) {
  return par_rng_normal_slow((pcg64 *)(void *)g, r);
}

static double exp_slow(prt_pcg64 *g, uint64_t r) {
  return par_rng_exponential_slow((pcg64 *)(void *)g, r);
}

static uint64_t bounded(prt_pcg64 *g, uint64_t rng) {
  return par_rng_bounded((pcg64 *)(void *)g, rng);
}

/* Arrays made by par.zeros/par.empty during one call, a list per thread:
** those of a parallel iteration are freed when it ends (none can outlive
** it: a loop body cannot assign to outer variables), the others after the
** call unless returned. */
typedef struct host_list {
  par_buffer **bufs;
  size_t n, cap;
} host_list;

typedef struct host {
  host_list *lists;      /* one per thread */
  int nlists;
} host;

static host_list *hostlist(const prt_ctx *K, int tid) {
  host *h = K->host;
  return &h->lists[tid % h->nlists];
}

static int host_alloc(const prt_ctx *K, int tid, int dtype, int ndim, int64_t n, int64_t m,
                      int zero, prt_arr *out) {
  host_list *l = hostlist(K, tid);
  size_t bytes = (size_t)(n * m) * par_dtype_size((par_dtype)dtype);
  par_buffer *b;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    par_buffer **nb = realloc(l->bufs, cap * sizeof *nb);
    if (nb == NULL) return -1;
    l->bufs = nb;
    l->cap = cap;
  }
  if ((b = par_buffer_new(bytes ? bytes : 1)) == NULL) return -1;
  l->bufs[l->n++] = b;
  out->data = par_buffer_data(b);
  if (zero) memset(out->data, 0, bytes);
  out->n0 = n; out->n1 = m; out->size = n * m; out->ndim = ndim;
  return 0;
}

static int64_t host_allocs(const prt_ctx *K, int tid) {
  return (int64_t)hostlist(K, tid)->n;
}

static void host_release(const prt_ctx *K, int tid, int64_t mark) {
  host_list *l = hostlist(K, tid);
  while (l->n > (size_t)mark) par_buffer_release(l->bufs[--l->n]);
}

/* K->stat: reduce.h on the calling thread, as the array methods compute. */
static int host_stat(int what, const prt_arr *a, int dt, double ddof, prt_slot *out) {
  int64_t i;
  double mean, var;
  int st;
  if (what >= PRT_MEDIAN)
    st = par_order_stat(a->data, (par_dtype)dt, a->size, what == PRT_MEDIAN ? -1.0 : ddof,
                        what == PRT_QUANTILE_INT, &out->f, &out->i);
  else if (what == PRT_ARGMIN || what == PRT_ARGMAX) {
    st = par_argreduce(what == PRT_ARGMIN ? PAR_OP_MIN : PAR_OP_MAX, a->data, (par_dtype)dt,
                       a->size, 1, &i);
    out->i = i + 1;
  }
  else {
    st = par_moments(a->data, (par_dtype)dt, a->size, ddof, 1, &mean,
                     what == PRT_MEAN ? NULL : &var);
    out->f = what == PRT_MEAN ? mean : what == PRT_VAR ? var : sqrt(var);
  }
  return st == PAR_OK ? 0 : st == PAR_INTERRUPTED ? 1 : -1;
}

/* The record of the thread that ran block 'b', or NULL. */
static prt_err *find_record(const prt_ctx *K, int nrec, int64_t b) {
  int t;
  for (t = 0; t < nrec; t++)
    if (K->errs[t].block == b) return &K->errs[t];
  return NULL;
}

static int nrecords(void) {
  int n = par_threads();
  return n > 0 ? n : 1;
}

/* A parallel loop of a jit function (K->run). */
static int host_run(const prt_ctx *K, int64_t n, prt_blockfn fn, void *data, int tid,
                    int serial, int reduces, int64_t b0, int64_t b1) {
  int64_t bsize = par_kernel_block(n, reduces), b, nb = par_nblocks(n, bsize);
  par_result r;
  prt_err *e;
  if (b1 > nb) b1 = nb;
  if (serial || par_in_parallel()) {
    for (b = b0; b < b1; b++) {
      int64_t lo = b * bsize, hi = lo + bsize < n ? lo + bsize : n;
      int rc;
      if (par_interrupted()) return PRT_ABORT;
      rc = fn(data, lo, hi, b, tid);
      if (rc != PRT_OK) return rc;
    }
    return PRT_OK;
  }
  r = par_run_blocks(n, bsize, b0, b1, par_threads(), (par_block_fn)fn, data);
  if (r.status == PAR_INTERRUPTED) return PRT_ABORT;
  if (r.status == PAR_OK) return PRT_OK;
  if (r.code != PRT_ERR) return PRT_ABORT;
  e = find_record(K, nrecords(), r.failed_block);
  if (e != NULL && e != &K->errs[tid]) K->errs[tid] = *e;
  return PRT_ERR;
}

/* ======================================================================
** Plans: the driver's answer for a function and its arguments
** ====================================================================== */

/* Pushes par.jit.driver.prepare (loaded once, kept in the registry). */
static void push_driver_fn(lua_State *L, const char *name) {
  static const char key = 'd';
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "par.jit.driver");
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key);
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
}

/* Calls driver.prepare(kind, op, fastmath, f, args...). On success leaves
** plan and live values on the stack and returns 1; otherwise leaves the
** reason and returns 0. */
static int prepare(lua_State *L, int kind, const char *op, int fastmath, int fidx,
                   int first, int nargs) {
  int k;
  push_driver_fn(L, "prepare");
  lua_pushstring(L, kindnames[kind]);
  if (op) lua_pushstring(L, op); else lua_pushnil(L);
  lua_pushboolean(L, fastmath);
  lua_pushvalue(L, fidx);
  for (k = 0; k < nargs; k++) lua_pushvalue(L, first + k);
  lua_call(L, 4 + nargs, 3);
  if (lua_isnil(L, -3)) {
    if (lua_toboolean(L, -1)) {          /* a rule of parallel loops: Lua mode refuses it too */
      lua_pop(L, 1);
      lua_error(L);
    }
    lua_pop(L, 1);
    lua_remove(L, -2);
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}

static int interrupted_cb(void) { return par_interrupted(); }

/* The entry point of plan at 'pidx', compiling it at first use; NULL with
** the reason pushed when it cannot be loaded. */
static prt_blockfn plan_entry(lua_State *L, int pidx) {
  /* '#pragma omp simd' of pure block loops (emit_c.lua), no OpenMP runtime */
  static const char *const flags[] = {"-fopenmp-simd", NULL};
  prt_blockfn fn;
  par_kc_options ko;
  par_kc_result *r;
  luaL_Buffer b;
  size_t len;
  const char *code;
  if (lua_getfield(L, pidx, "sym") == LUA_TLIGHTUSERDATA) {
    fn = (prt_blockfn)(uintptr_t)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return fn;
  }
  lua_pop(L, 1);
  lua_getfield(L, pidx, "fastmath");
  memset(&ko, 0, sizeof ko);
  ko.fastmath = lua_toboolean(L, -1);
  ko.interrupted = interrupted_cb;
  ko.flags = flags;
  lua_pop(L, 1);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, par_kernel_rt_text);
  lua_getfield(L, pidx, "c");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  code = lua_tolstring(L, -1, &len);
  r = lua_newuserdatauv(L, sizeof *r, 0);
  if (par_kc_load(code, len, &ko, r) != PAR_KC_OK) {
    if (r->status == PAR_KC_INTERRUPTED) par_raise_interrupt(L);
    lua_pushfstring(L, "cannot load native code: %s", r->msg);
    lua_replace(L, -3);
    lua_pop(L, 1);
    return NULL;
  }
  fn = (prt_blockfn)(uintptr_t)par_kc_sym(r->handle, "prt_kernel");
  lua_pop(L, 2);
  if (fn == NULL) {
    lua_pushliteral(L, "cannot load native code: no entry point");
    return NULL;
  }
  lua_pushlightuserdata(L, (void *)(uintptr_t)fn);
  lua_setfield(L, pidx, "sym");
  return fn;
}

/* Element 'k' of the string list field 'name' of the table at idx. */
static const char *listitem(lua_State *L, int idx, const char *name, int k) {
  const char *s;
  lua_getfield(L, idx, name);
  lua_rawgeti(L, -1, k);
  s = lua_tostring(L, -1);
  lua_pop(L, 2);   /* the strings stay alive in the plan */
  return s;
}

static int listlen(lua_State *L, int idx, const char *name) {
  int n;
  lua_getfield(L, idx, name);
  n = (int)luaL_len(L, -1);
  lua_pop(L, 1);
  return n;
}

/* An array as kernels see it; a closed one is an error, as in Lua. */
static void toarr(lua_State *L, const par_array *a, prt_arr *out) {
  if (a->buf == NULL) luaL_error(L, "attempt to use a closed array");
  out->data = a->data;
  out->n0 = a->dim[0];
  out->n1 = a->dim[1];
  out->size = a->size;
  out->ndim = a->ndim;
}

/* Stores the Lua value at 'idx' into a slot of type 't' (the driver has
** checked the type). */
static void toslot(lua_State *L, int idx, const char *t, prt_slot *s) {
  memset(s, 0, sizeof *s);
  if (t[0] == 'A') toarr(L, par_toarray(L, idx), &s->a);
  else if (strcmp(t, "int") == 0) s->i = lua_tointeger(L, idx);
  else if (strcmp(t, "float") == 0) s->f = lua_tonumber(L, idx);
  else if (strcmp(t, "bool") == 0) s->b = lua_toboolean(L, idx);
  else if (lua_isinteger(L, idx)) { s->n.isint = 1; s->n.i = lua_tointeger(L, idx); }
  else s->n.f = lua_tonumber(L, idx);
}

/* ======================================================================
** One call
** ====================================================================== */

typedef struct call {
  prt_ctx K;
  host h;
  int nrec;
  int plan, values;     /* stack indices */
} call;

static int call_gc(lua_State *L) {
  call *c = lua_touserdata(L, 1);
  int t;
  for (t = 0; c->h.lists != NULL && t < c->h.nlists; t++) {
    host_release(&c->K, t, 0);
    free(c->h.lists[t].bufs);
  }
  free(c->h.lists);
  c->h.lists = NULL;
  return 0;
}

/* A call context on the stack (freed by the collector, also on errors). */
static call *newcall(lua_State *L, int plan, int values) {
  static const char key = 'c';
  call *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, call_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key);
  }
  lua_setmetatable(L, -2);
  c->plan = plan;
  c->values = values;
  c->nrec = nrecords();
  c->K.host = &c->h;
  if ((c->h.lists = calloc((size_t)c->nrec, sizeof *c->h.lists)) == NULL)
    luaL_error(L, "not enough memory");
  c->h.nlists = c->nrec;
  c->K.errs = lua_newuserdatauv(L, sizeof(prt_err) * (size_t)c->nrec, 0);
  lua_setfield(L, values, "errs");   /* the values table keeps it alive */
  {  /* on cache lines of their own: threads write their batch often (pi
     * ran 10% slower on 2 threads when two batches shared a line) */
    _Static_assert(sizeof(prt_batch) % 64 == 0, "a batch fills whole cache lines");
    char *b = lua_newuserdatauv(L, sizeof(prt_batch) * (size_t)c->nrec + 63, 0);
    c->K.batches = (prt_batch *)(void *)(b + (-(uintptr_t)b & 63));
    lua_setfield(L, values, "batches");
  }
  return c;
}

static void setup(lua_State *L, call *c, const par_native_opts *o, int needseed) {
  prt_ctx *K = &c->K;
  int ns = listlen(L, c->plan, "slottypes"), k;
  prt_slot *slots = lua_newuserdatauv(L, sizeof(prt_slot) * (size_t)(ns > 0 ? ns : 1), 0);
  lua_setfield(L, c->values, "slots");
  for (k = 0; k < ns; k++) {
    lua_rawgeti(L, c->values, k + 1);
    toslot(L, -1, listitem(L, c->plan, "slottypes", k + 1), &slots[k]);
    lua_pop(L, 1);
  }
  memset(c->K.errs, 0, sizeof(prt_err) * (size_t)c->nrec);
  for (k = 0; k < c->nrec; k++) c->K.errs[k].block = -2;
  K->slots = slots;
  K->defgen = (prt_pcg64 *)(void *)par_rng_get(L);
  K->seed = o->has_seed ? o->seed : needseed ? pcg64_next_uint64((pcg64 *)(void *)K->defgen) : 0;
  K->parallel = o->parallel;
  K->interrupted = interrupted_cb;
  K->normal_slow = normal_slow;
  K->exp_slow = exp_slow;
  K->bounded = bounded;
  K->batch_fill = par_stream_batch;
  K->stat = host_stat;
  K->run = host_run;
  K->alloc = host_alloc;
  K->allocs = host_allocs;
  K->release = host_release;
  K->zig_ki = par_zig_ki;
  K->zig_ke = par_zig_ke;
  K->zig_wi = par_zig_wi;
  K->zig_we = par_zig_we;
}

/* Raises the error of a failed run as Lua mode does: the iteration and
** the message, which carries its own position (no position of the caller
** added). */
static int raise_failure(lua_State *L, call *c, int code, int64_t block) {
  prt_err *e;
  if (code == PRT_ABORT) return par_raise_interrupt(L);
  e = block >= 0 ? find_record(&c->K, c->nrec, block) : &c->K.errs[0];
  if (e == NULL) return luaL_error(L, "native kernel failed");
  if (e->iter > 0) lua_pushfstring(L, "iteration %I: %s", (lua_Integer)e->iter, e->msg);
  else lua_pushstring(L, e->msg);
  return lua_error(L);
}

static int run_blocks(lua_State *L, call *c, prt_blockfn fn, int64_t n, int64_t bsize,
                      int64_t b0, int64_t b1) {
  int64_t lowest = INT64_MAX;
  par_result r;
  c->K.lowest_failed = &lowest;
  r = par_run_blocks(n, bsize, b0, b1, c->K.parallel ? par_threads() : 1, (par_block_fn)fn, &c->K);
  if (r.status == PAR_INTERRUPTED) return par_raise_interrupt(L);
  if (r.status == PAR_FAILED) return raise_failure(L, c, r.code, r.failed_block);
  return 0;
}

static par_dtype dtype_of(const char *t) {
  if (strcmp(t, "int") == 0) return PAR_I64;
  if (strcmp(t, "bool") == 0) return PAR_BOOL;
  return PAR_F64;
}

/* Converts a buffer of n tagged numbers into a new array: int64 if all are
** integers, else float64. Pushes it. */
static void push_tagged(lua_State *L, const prt_num *v, int ndim, int64_t n0, int64_t n1) {
  int64_t k, n = ndim == 1 ? n0 : n0 * n1;
  int allint = 1;
  par_array *a;
  for (k = 0; k < n && allint; k++) allint = v[k].isint;
  a = par_newarray(L, allint ? PAR_I64 : PAR_F64, ndim, n0, n1);
  for (k = 0; k < n; k++) {
    if (allint) PAR_I64P(a)[k] = v[k].i;
    else PAR_F64P(a)[k] = prt_tof(v[k]);
  }
}

static void pushnum(lua_State *L, prt_num v) {
  if (v.isint) lua_pushinteger(L, v.i);
  else lua_pushnumber(L, v.f);
}

/* Output arrays of an element-wise kernel: one per result, pushed; the
** tagged ones go through scratch buffers first. Returns their count. */
static int make_outputs(lua_State *L, call *c, int ndim, int64_t n0, int64_t n1,
                        prt_arr *outs) {
  int nr = listlen(L, c->plan, "rets"), k;
  int64_t n = ndim == 1 ? n0 : n0 * n1;
  for (k = 0; k < nr; k++) {
    const char *t = listitem(L, c->plan, "rets", k + 1);
    if (strcmp(t, "num") == 0) {
      void *buf = lua_newuserdatauv(L, sizeof(prt_num) * (size_t)(n > 0 ? n : 1), 0);
      outs[k].data = buf;
    }
    else outs[k].data = par_newarray(L, dtype_of(t), ndim, n0, n1)->data;
    outs[k].n0 = n0; outs[k].n1 = ndim == 1 ? 1 : n1; outs[k].size = n; outs[k].ndim = ndim;
  }
  return nr;
}

/* Replaces the tagged scratch outputs by arrays. */
static void finish_outputs(lua_State *L, call *c, int nr, int ndim, int64_t n0, int64_t n1,
                           prt_arr *outs) {
  int k, base = lua_gettop(L) - nr + 1;
  for (k = 0; k < nr; k++) {
    if (strcmp(listitem(L, c->plan, "rets", k + 1), "num") == 0) {
      push_tagged(L, outs[k].data, ndim, n0, n1);
      lua_replace(L, base + k);
    }
  }
}

#define MAXRESULTS 64

/* Element-wise kinds (prange, map): n iterations, outputs of the shape. */
static int run_elementwise(lua_State *L, call *c, prt_blockfn fn, int ndim, int64_t n0,
                           int64_t n1) {
  prt_arr outs[MAXRESULTS];
  int nr = listlen(L, c->plan, "rets");
  int64_t n = ndim == 1 ? n0 : n0 * n1;
  if (nr > MAXRESULTS) return luaL_error(L, "too many results of a kernel (%d)", nr);
  nr = make_outputs(L, c, ndim, n0, n1, outs);
  c->K.outs = outs;
  run_blocks(L, c, fn, n, par_kernel_block(n, 0), 0, par_nblocks(n, par_kernel_block(n, 0)));
  finish_outputs(L, c, nr, ndim, n0, n1, outs);
  return nr;
}

/* Combines block partials in block order (reduce.h) with Lua arithmetic,
** PRT_REDUCE_CHUNK blocks at a time. */
static int run_reduce(lua_State *L, call *c, prt_blockfn fn, const char *op, int64_t n) {
  int64_t bsize = par_kernel_block(n, 1), nb = par_nblocks(n, bsize), b0, b1, b;
  int64_t chunk = nb < PRT_REDUCE_CHUNK ? nb : PRT_REDUCE_CHUNK;
  prt_num acc = op[0] == '*' ? prt_ni(1) : prt_ni(0);
  if (n <= 0) {
    if (op[0] == '+' || op[0] == '*') pushnum(L, acc);
    else lua_pushnil(L);
    return 1;
  }
  c->K.partials = lua_newuserdatauv(L, sizeof(prt_num) * (size_t)chunk, 0);
  lua_setfield(L, c->values, "partials");
  for (b0 = 0; b0 < nb; b0 = b1) {
    b1 = b0 + chunk < nb ? b0 + chunk : nb;
    c->K.pbase = b0;
    run_blocks(L, c, fn, n, bsize, b0, b1);
    if (b0 == 0 && op[0] != '+' && op[0] != '*') acc = c->K.partials[0];
    for (b = 0; b < b1 - b0; b++) {
      prt_num p = c->K.partials[b];
      if (op[0] == '+') acc = prt_nadd(acc, p);
      else if (op[0] == '*') acc = prt_nmul(acc, p);
      else if (strcmp(op, "min") == 0) acc = prt_nmin(acc, p);
      else acc = prt_nmax(acc, p);
    }
  }
  pushnum(L, acc);
  return 1;
}

static const char *checkop(lua_State *L, const char *op) {
  if (strcmp(op, "+") && strcmp(op, "*") && strcmp(op, "min") && strcmp(op, "max"))
    luaL_error(L, "unknown reduction '%s' (expected '+', '*', 'min' or 'max')", op);
  return op;
}

/* Common start: plan and values on the stack, entry loaded, call made.
** Returns NULL (reason pushed) when not native. */
static call *begin(lua_State *L, int kind, const char *op, const par_native_opts *o,
                   int fidx, int first, int nargs, prt_blockfn *fn) {
  int top;
  fidx = lua_absindex(L, fidx);
  if (first > 0) first = lua_absindex(L, first);
  if (!lua_isfunction(L, fidx)) {
    lua_pushfstring(L, "the kernel is a %s, not a function", luaL_typename(L, fidx));
    return NULL;
  }
  if (!prepare(L, kind, op, o->fastmath, fidx, first, nargs)) return NULL;
  top = lua_gettop(L);
  *fn = plan_entry(L, top - 1);
  if (*fn == NULL) {
    lua_remove(L, top - 1);
    lua_remove(L, top - 1);
    return NULL;
  }
  return newcall(L, top - 1, top);
}

/* Leaves the 'nres' results alone above the original stack. */
static int finish(lua_State *L, int base, int nres) {
  int k;
  for (k = 0; k < 3; k++) lua_remove(L, base + 1);   /* plan, values, call */
  return nres;
}

int par_native_prange(lua_State *L, int64_t n, int fidx, const par_native_opts *o) {
  int base = lua_gettop(L), nr;
  prt_blockfn fn;
  call *c = begin(L, K_PRANGE, NULL, o, fidx, 0, 0, &fn);
  if (c == NULL) return PAR_NATIVE_REFUSED;
  if (n < 0) n = 0;
  setup(L, c, o, 1);
  nr = run_elementwise(L, c, fn, 1, n, 1);
  return finish(L, base, nr);
}

int par_native_preduce(lua_State *L, const char *op, int64_t n, int fidx,
                       const par_native_opts *o) {
  int base = lua_gettop(L);
  prt_blockfn fn;
  call *c = begin(L, K_PREDUCE, checkop(L, op), o, fidx, 0, 0, &fn);
  if (c == NULL) return PAR_NATIVE_REFUSED;
  setup(L, c, o, 1);
  return finish(L, base, run_reduce(L, c, fn, op, n));
}

/* Arguments of map/mapreduce into K->args; the shape of the arrays. */
static void map_args(lua_State *L, call *c, int first, int nargs, const char *fname,
                     int argbase, int *ndim, int64_t *n0, int64_t *n1) {
  prt_slot *args = lua_newuserdatauv(L, sizeof(prt_slot) * (size_t)(nargs > 0 ? nargs : 1), 0);
  par_array *shape = NULL;
  int k;
  char s1[48], s2[48];
  lua_setfield(L, c->values, "args");
  for (k = 0; k < nargs; k++) {
    par_array *a = par_toarray(L, first + k);
    if (a != NULL) {
      if (shape != NULL && !par_sameshape(a, shape))
        luaL_error(L, "bad argument #%d to '%s' (shape %s differs from shape %s)", argbase + k,
                   fname, par_shapestr(a, s1), par_shapestr(shape, s2));
      if (shape == NULL) shape = a;
      toarr(L, a, &args[k].a);
    }
    else toslot(L, first + k, listitem(L, c->plan, "args", k + 1), &args[k]);
  }
  if (shape == NULL) luaL_error(L, "bad argument #%d to '%s' (array expected)", argbase, fname);
  c->K.args = args;
  *ndim = shape->ndim;
  *n0 = shape->dim[0];
  *n1 = shape->dim[1];
}

int par_native_map(lua_State *L, int fidx, int first, int nargs, const par_native_opts *o) {
  int base = lua_gettop(L), ndim, nr;
  int64_t n0, n1;
  prt_blockfn fn;
  call *c = begin(L, K_MAP, NULL, o, fidx, first, nargs, &fn);
  if (c == NULL) return PAR_NATIVE_REFUSED;
  map_args(L, c, lua_absindex(L, first), nargs, "map", 2, &ndim, &n0, &n1);
  setup(L, c, o, 1);
  nr = run_elementwise(L, c, fn, ndim, n0, n1);
  return finish(L, base, nr);
}

int par_native_mapreduce(lua_State *L, const char *op, int fidx, int first, int nargs,
                         const par_native_opts *o) {
  int base = lua_gettop(L), ndim;
  int64_t n0, n1;
  prt_blockfn fn;
  call *c = begin(L, K_MAPREDUCE, checkop(L, op), o, fidx, first, nargs, &fn);
  if (c == NULL) return PAR_NATIVE_REFUSED;
  map_args(L, c, lua_absindex(L, first), nargs, "mapreduce", 3, &ndim, &n0, &n1);
  setup(L, c, o, 1);
  return finish(L, base, run_reduce(L, c, fn, op, n0 * n1));
}

/* Pushes result array 'a' of a jit call: the argument or live array it
** is, or a new array owning a buffer the call allocated. */
static void push_jit_array(lua_State *L, call *c, const prt_arr *a, const char *t,
                           int first, int nargs) {
  int k;
  size_t j;
  par_array tmp;
  for (k = 0; k < nargs; k++) {
    par_array *x = par_toarray(L, first + k);
    if (x && x->data == a->data && x->dim[0] == a->n0 && x->dim[1] == a->n1 && x->ndim == a->ndim) {
      lua_pushvalue(L, first + k);
      return;
    }
  }
  lua_getfield(L, c->values, "slots");
  lua_pop(L, 1);
  for (k = 1; lua_rawgeti(L, c->values, k) != LUA_TNIL; k++) {
    par_array *x = par_toarray(L, -1);
    if (x && x->data == a->data && x->dim[0] == a->n0 && x->dim[1] == a->n1 && x->ndim == a->ndim)
      return;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  for (j = 0; j < c->h.lists[0].n; j++) {   /* the serial code's (thread 0) */
    par_buffer *b = c->h.lists[0].bufs[j];
    char *d = par_buffer_data(b);
    if ((char *)a->data >= d && (char *)a->data < d + par_buffer_bytes(b) + 1) {
      tmp.buf = b;
      tmp.dtype = t[2] == 'f' ? PAR_F64 : t[2] == 'i' ? PAR_I64 : PAR_BOOL;
      par_pushview(L, &tmp, a->data, a->ndim, a->n0, a->n1);
      return;
    }
  }
  luaL_error(L, "native kernel returned an unknown array");
}

int par_native_call(lua_State *L, int fidx, int first, int nargs, const par_native_opts *o) {
  int base = lua_gettop(L), nr, k, hasloop;
  prt_blockfn fn;
  prt_slot rets[MAXRESULTS];
  int64_t lowest = INT64_MAX;
  call *c;
  int rc;
  first = lua_absindex(L, first);
  c = begin(L, K_JIT, NULL, o, fidx, first, nargs, &fn);
  if (c == NULL) return PAR_NATIVE_REFUSED;
  nr = listlen(L, c->plan, "rets");
  if (nr > MAXRESULTS) return luaL_error(L, "too many results of a kernel (%d)", nr);
  {
    int na = listlen(L, c->plan, "args");
    prt_slot *args = lua_newuserdatauv(L, sizeof(prt_slot) * (size_t)(na > 0 ? na : 1), 0);
    lua_setfield(L, c->values, "args");
    for (k = 0; k < na; k++) toslot(L, first + k, listitem(L, c->plan, "args", k + 1), &args[k]);
    c->K.args = args;
  }
  lua_getfield(L, c->plan, "hasloop");
  hasloop = lua_toboolean(L, -1);
  lua_pop(L, 1);
  setup(L, c, o, hasloop);
  c->K.rets = rets;
  c->K.lowest_failed = &lowest;
  rc = fn(&c->K, 0, 0, -1, 0);
  if (rc == PRT_ABORT) par_raise_interrupt(L);
  if (rc != PRT_OK) raise_failure(L, c, rc, -1);
  for (k = 0; k < nr; k++) {
    const char *t = listitem(L, c->plan, "rets", k + 1);
    if (t[0] == 'A') push_jit_array(L, c, &rets[k].a, t, first, nargs);
    else if (strcmp(t, "int") == 0) lua_pushinteger(L, rets[k].i);
    else if (strcmp(t, "float") == 0) lua_pushnumber(L, rets[k].f);
    else if (strcmp(t, "bool") == 0) lua_pushboolean(L, rets[k].b);
    else pushnum(L, rets[k].n);
  }
  return finish(L, base, nr);
}

void par_native_explain(lua_State *L, int fidx, int withc, int isjit) {
  fidx = lua_absindex(L, fidx);
  push_driver_fn(L, "explain");
  lua_pushvalue(L, fidx);
  if (withc) lua_pushliteral(L, "c"); else lua_pushnil(L);
  lua_pushboolean(L, isjit);
  lua_call(L, 3, 1);
}

/* ======================================================================
** par._native: the native path alone (mode "native": refusals raise)
** ====================================================================== */

static uint64_t toseed(lua_State *L, int idx) {
  int isint;
  lua_Integer s = lua_tointegerx(L, idx, &isint);
  if (!isint) luaL_error(L, "seed must be an integer");
  return (uint64_t)s;
}

/* Options from the table at idx (absent or nil: defaults). */
static void checkopts(lua_State *L, int idx, par_native_opts *o) {
  o->parallel = 1; o->has_seed = 0; o->seed = 0; o->fastmath = 0;
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  if (lua_getfield(L, idx, "parallel") != LUA_TNIL) o->parallel = lua_toboolean(L, -1);
  if (lua_getfield(L, idx, "fastmath") != LUA_TNIL) o->fastmath = lua_toboolean(L, -1);
  if (lua_getfield(L, idx, "seed") != LUA_TNIL) { o->has_seed = 1; o->seed = toseed(L, -1); }
  lua_pop(L, 3);
}

static int refused(lua_State *L, int r) {
  if (r == PAR_NATIVE_REFUSED) return luaL_error(L, "not native: %s", lua_tostring(L, -1));
  return r;
}

static int l_prange(lua_State *L) {
  par_native_opts o;
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  checkopts(L, 3, &o);
  return refused(L, par_native_prange(L, n, 2, &o));
}

static int l_preduce(lua_State *L) {
  par_native_opts o;
  const char *op = luaL_checkstring(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  checkopts(L, 4, &o);
  return refused(L, par_native_preduce(L, op, n, 3, &o));
}

/* The arguments from 'first' on, less a trailing options table. */
static int map_nargs(lua_State *L, int first, par_native_opts *o) {
  int top = lua_gettop(L);
  if (top >= first && lua_istable(L, top)) {
    checkopts(L, top, o);
    top--;
  }
  else checkopts(L, top + 1, o);
  return top - first + 1;
}

static int l_map(lua_State *L) {
  par_native_opts o;
  int nargs;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  nargs = map_nargs(L, 2, &o);
  return refused(L, par_native_map(L, 1, 2, nargs, &o));
}

static int l_mapreduce(lua_State *L) {
  par_native_opts o;
  const char *op = luaL_checkstring(L, 1);
  int nargs;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  nargs = map_nargs(L, 3, &o);
  return refused(L, par_native_mapreduce(L, op, 2, 3, nargs, &o));
}

/* A jit callable: upvalues f and the options table (or nil). */
static int jit_call(lua_State *L) {
  par_native_opts o;
  int nargs = lua_gettop(L);
  checkopts(L, lua_upvalueindex(2), &o);
  return refused(L, par_native_call(L, lua_upvalueindex(1), 1, nargs, &o));
}

static int l_jit(lua_State *L) {
  par_native_opts o;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  checkopts(L, 2, &o);
  lua_settop(L, 2);
  lua_pushcclosure(L, jit_call, 2);
  return 1;
}

static int l_explain(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  par_native_explain(L, 1, lua_isstring(L, 2) && strcmp(lua_tostring(L, 2), "c") == 0, 0);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"prange", l_prange},
  {"preduce", l_preduce},
  {"map", l_map},
  {"mapreduce", l_mapreduce},
  {"jit", l_jit},
  {"explain", l_explain},
  {NULL, NULL}
};

void par_open_native(lua_State *L) {
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "_native");
}
