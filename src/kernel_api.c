/*
** kernel_api.c: par.prange, par.preduce, par.map, par.mapreduce,
** par.vectorize and par.jit (API section 4): arguments and options, the
** choice between native and Lua mode, and the assembly of results by the
** dtype rules (all integers: int64; any float: float64; booleans: bool;
** other values: a Lua table in iteration order).
**
** A kernel runs as native code (native.h) when it can, else in Lua mode
** (lua_mode.h): trynative() is the mode decision. A par.jit function in
** Lua mode runs as rewritten by par.jit.lua_loops, its `for i in
** par.prange(n)` loops calling par._ploop with the streams and reduction
** order of native code (emit_c.lua, kernel_rt.h).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"

#include "array.h"
#include "lua_mode.h"
#include "modules.h"
#include "native.h"
#include "parallel.h"
#include "progress.h"
#include "reduce.h"
#include "rng.h"
#include "transfer.h"

#define KERNEL_MT "par.kernel"
#define JITCALL_MT "par.jitcall"

enum { MODE_AUTO, MODE_NATIVE, MODE_LUA };
enum { K_JIT, K_VECTORIZE };

typedef struct Opts {
  int parallel;          /* false: one thread */
  int hasseed;
  uint64_t seed;         /* the loop seed, when given */
  int progress;          /* accepted; the progress bar is not drawn yet */
  int mode;
  int fastmath;          /* accepted; only native code would use it */
} Opts;

/* A par.jit or par.vectorize callable. Plain data, so that it crosses
** into worker states byte for byte (transfer.h); user value 1 is the
** function it stands for. */
typedef struct Kernel {
  int kind;
  Opts opts;
} Kernel;

/* One call of a par.jit function in Lua mode: its seed (opts.seed, else
** drawn at the call) and the parallel loops it has run. Plain data, so
** that it crosses into workers with a closure that holds it; 'stream' (the
** iteration stream current at the call, never dereferenced) tells such a
** copy from the original. */
typedef struct JitCall {
  uint64_t seed;
  uint64_t loops;
  int parallel;
  const void *stream;
} JitCall;

/* Shape of a result: n iterations as 1-D (n) or 2-D (rows, cols). */
typedef struct Shape {
  int ndim;
  int64_t d0, d1;
} Shape;

static const char *const opnames[] = {"+", "*", "min", "max", NULL};


/* {{{ arguments and options */

/* Raises "bad argument #arg to 'fname' (msg)". The name is given rather
** than found by Lua, which would say 'par.prange' when the function is
** called through pcall and 'prange' otherwise. */
static int argerror(lua_State *L, int arg, const char *fname, const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

static int typeerror(lua_State *L, int arg, const char *fname, const char *tname) {
  const char *got = luaL_getmetafield(L, arg, "__name") == LUA_TSTRING
                  ? lua_tostring(L, -1) : luaL_typename(L, arg);
  return argerror(L, arg, fname, lua_pushfstring(L, "%s expected, got %s", tname, got));
}

static void defaultopts(Opts *o) {
  memset(o, 0, sizeof *o);
  o->parallel = 1;
  o->mode = MODE_AUTO;
}

static int optbool(lua_State *L, int arg, const char *fname, const char *name) {
  if (!lua_isboolean(L, -1))
    argerror(L, arg, fname, lua_pushfstring(L, "option '%s' must be a boolean", name));
  return lua_toboolean(L, -1);
}

/* The value on top as a seed, by the rules of par.rng seeds: an integer
** taken as its unsigned 64 bits, or a float with an integer value in
** [-2^63, 2^64). */
static uint64_t optseed(lua_State *L, int arg, const char *fname) {
  lua_Number f = lua_tonumber(L, -1);
  if (lua_isinteger(L, -1)) return (uint64_t)lua_tointeger(L, -1);
  if (lua_type(L, -1) == LUA_TNUMBER && f == floor(f)) {
    if (f >= -0x1p63 && f < 0x1p63) return (uint64_t)(int64_t)f;
    if (f >= 0x1p63 && f < 0x1p64) return (uint64_t)f;
  }
  argerror(L, arg, fname, "option 'seed' must be an integer below 2^64");
  return 0;
}

static int optmode(lua_State *L, int arg, const char *fname) {
  static const char *const modes[] = {"auto", "native", "lua", NULL};
  const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
  int i;
  for (i = 0; modes[i] != NULL; i++)
    if (strcmp(s, modes[i]) == 0) return i;
  argerror(L, arg, fname, "option 'mode' must be \"auto\", \"native\" or \"lua\"");
  return MODE_AUTO;
}

/* The options table at arg (none or nil: the defaults). */
static void checkopts(lua_State *L, int arg, const char *fname, Opts *o) {
  static const char *const names[] = {
    "parallel", "seed", "progress", "mode", "fastmath", NULL
  };
  defaultopts(o);
  if (lua_isnoneornil(L, arg)) return;
  if (!lua_istable(L, arg)) typeerror(L, arg, fname, "table");
  lua_pushnil(L);
  while (lua_next(L, arg)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    int i;
    for (i = 0; names[i] != NULL && strcmp(names[i], name) != 0; i++) {}
    switch (i) {
      case 0: o->parallel = optbool(L, arg, fname, name); break;
      case 1: o->seed = optseed(L, arg, fname); o->hasseed = 1; break;
      case 2: o->progress = optbool(L, arg, fname, name); break;
      case 3: o->mode = optmode(L, arg, fname); break;
      case 4: o->fastmath = optbool(L, arg, fname, name); break;
      default:
        if (lua_type(L, -2) != LUA_TSTRING)
          argerror(L, arg, fname, "option names must be strings");
        argerror(L, arg, fname, lua_pushfstring(L, "unknown option '%s'", name));
    }
    lua_pop(L, 1);
  }
}

/* An iteration count: a non-negative integer (a float with an integer
** value is accepted). */
static int64_t checkcount(lua_State *L, int arg, const char *fname) {
  int isint;
  lua_Integer n = lua_tointegerx(L, arg, &isint);
  if (!isint) {
    if (lua_isnumber(L, arg)) argerror(L, arg, fname, "number has no integer representation");
    typeerror(L, arg, fname, "number");
  }
  if (n < 0) argerror(L, arg, fname, "count must be non-negative");
  return n;
}

static int checkop(lua_State *L, int arg, const char *fname) {
  const char *s = lua_tostring(L, arg);
  int i;
  if (lua_type(L, arg) != LUA_TSTRING) typeerror(L, arg, fname, "string");
  for (i = 0; opnames[i] != NULL; i++)
    if (strcmp(s, opnames[i]) == 0) return i;
  return argerror(L, arg, fname, lua_pushfstring(L, "invalid option '%s'", s));
}

/* The kernel at arg: a function, or a par.jit/par.vectorize callable,
** which is replaced by the function it stands for. */
static void checkkernel(lua_State *L, int arg, const char *fname) {
  if (lua_type(L, arg) == LUA_TFUNCTION) return;
  if (luaL_testudata(L, arg, KERNEL_MT) == NULL) typeerror(L, arg, fname, "function");
  lua_getiuservalue(L, arg, 1);
  lua_replace(L, arg);
}

/* }}} */


/* {{{ the mode decision */

/* What native.h is asked to run. */
enum { N_PRANGE, N_PREDUCE, N_MAP, N_MAPREDUCE, N_CALL };

typedef struct NativeCall {
  int kind;
  int op;                /* preduce, mapreduce */
  int64_t n;             /* prange, preduce */
  int fidx, first, nargs;
} NativeCall;

/* The one-line auto-mode notice, printed once per kernel (by its source
** and line), with the reason on the stack top. */
static void notice(lua_State *L, int fidx) {
  lua_Debug ar;
  lua_pushvalue(L, fidx);
  lua_getinfo(L, ">S", &ar);
  if (lua_getfield(L, LUA_REGISTRYINDEX, "parlua.notified") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "parlua.notified");
  }
  lua_pushfstring(L, "%s:%d", ar.short_src, ar.linedefined);
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_pushfstring(L, "%s:%d", ar.short_src, ar.linedefined);
    lua_pushboolean(L, 1);
    lua_rawset(L, -4);
    fprintf(stderr, "parlua: the kernel at %s:%d runs in Lua mode: %s\n",
            ar.short_src, ar.linedefined, lua_tostring(L, -3));
    fflush(stderr);
  }
  lua_pop(L, 2);
}

static int callnative(lua_State *L, const NativeCall *c, const par_native_opts *no) {
  switch (c->kind) {
    case N_PRANGE: return par_native_prange(L, c->n, c->fidx, no);
    case N_PREDUCE: return par_native_preduce(L, opnames[c->op], c->n, c->fidx, no);
    case N_MAP: return par_native_map(L, c->fidx, c->first, c->nargs, no);
    case N_MAPREDUCE:
      return par_native_mapreduce(L, opnames[c->op], c->fidx, c->first, c->nargs, no);
    default: return par_native_call(L, c->fidx, c->first, c->nargs, no);
  }
}

/*
** The mode decision (API section 4): runs the kernel natively when the
** options allow it and the compiler accepts it, returning the number of
** results pushed; else returns -1 and the caller runs it in Lua mode.
** mode = "native" raises instead of falling back; "auto" prints the
** notice with the reason, once per kernel; "lua" and --no-jit stay silent.
*/
static int trynative(lua_State *L, const Opts *o, const NativeCall *c) {
  par_native_opts no;
  int r;
  if (!par_jit_enabled()) {
    if (o->mode == MODE_NATIVE)
      luaL_error(L, "native mode requested but --no-jit is set");
    return -1;
  }
  if (o->mode == MODE_LUA) return -1;
  no.parallel = o->parallel;
  no.has_seed = o->hasseed;
  no.seed = o->seed;
  no.fastmath = o->fastmath;
  r = callnative(L, c, &no);
  if (r != PAR_NATIVE_REFUSED) return r;
  if (o->mode == MODE_NATIVE)
    luaL_error(L, "not native: %s", lua_tostring(L, -1));
  notice(L, c->fidx);
  lua_pop(L, 1);
  return -1;
}

/* The loop seed of a call, drawn before the mode is chosen so that both
** modes see the same one: opts.seed, else one raw output of the default
** generator (of the iteration's stream inside a kernel). */
static void loopseed(lua_State *L, Opts *o) {
  if (!o->hasseed) {
    o->seed = pcg64_next_uint64(par_rng_get(L));
    o->hasseed = 1;
  }
}

/* }}} */


/* {{{ results */

/* Kind of value c of iteration i (0-based). */
static int kindat(const par_job *job, int c, int64_t i) {
  const par_jblock *blk = &job->blocks[i / job->bsize];
  int k = c < blk->ncols ? blk->kind[c][i % job->bsize] : PAR_V_NIL;
  return k == 0 ? PAR_V_NIL : k;
}

/* First iteration (0-based) whose value c is of one of 'kinds'. */
static int64_t firstof(const par_job *job, int c, unsigned kinds) {
  int64_t i;
  for (i = 0; i < job->n; i++)
    if ((unsigned)kindat(job, c, i) & kinds) return i;
  return -1;
}

static const char *kindname(int k) {
  return k == PAR_V_BOOL ? "a boolean" : k == PAR_V_OBJ ? "a non-number" : "a number";
}

/* The kinds value c takes over all iterations. */
static unsigned colmask(const par_job *job, int c) {
  unsigned m = 0;
  int64_t b;
  for (b = 0; b < job->nblocks; b++) {
    const par_jblock *blk = &job->blocks[b];
    m |= c < blk->ncols ? blk->mask[c] : PAR_V_NIL;
  }
  return m;
}

/* Raises the error for value c when iterations disagree: nil against a
** value, or booleans against numbers. */
static void checkmix(lua_State *L, const par_job *job, int c, unsigned m, const char *fname) {
  unsigned others = m & ~(unsigned)PAR_V_NIL;
  if ((m & PAR_V_NIL) && others != 0) {
    int64_t i = firstof(job, c, PAR_V_NIL), j = firstof(job, c, others);
    luaL_error(L, "%s: value %d is nil in iteration %I but %s in iteration %I", fname,
               c + 1, (lua_Integer)i + 1, kindname(kindat(job, c, j)), (lua_Integer)j + 1);
  }
  if ((m & PAR_V_BOOL) && (m & (PAR_V_INT | PAR_V_FLT)) && !(m & PAR_V_OBJ)) {
    int64_t i = firstof(job, c, PAR_V_BOOL), j = firstof(job, c, PAR_V_INT | PAR_V_FLT);
    luaL_error(L, "%s: value %d mixes booleans and numbers (a boolean in iteration %I, "
               "a number in iteration %I)", fname, c + 1, (lua_Integer)i + 1, (lua_Integer)j + 1);
  }
}

/* Pushes value c of every iteration as an array of dtype dt. */
static void pusharray(lua_State *L, const par_job *job, int c, const Shape *s, par_dtype dt) {
  par_array *a = par_newarray(L, dt, s->ndim, s->d0, s->d1);
  int64_t i;
  for (i = 0; i < job->n; i++) {
    const par_jblock *blk = &job->blocks[i / job->bsize];
    uint64_t v = blk->val[c][i % job->bsize];
    if (dt == PAR_I64) PAR_I64P(a)[i] = (int64_t)v;
    else if (dt == PAR_BOOL) PAR_BOOLP(a)[i] = (uint8_t)v;
    else if (blk->kind[c][i % job->bsize] == PAR_V_INT) PAR_F64P(a)[i] = (double)(int64_t)v;
    else memcpy(&PAR_F64P(a)[i], &v, sizeof v);
  }
}

/* Pushes value c of iteration i; objs: index of block i's objects. */
static void pushvalue(lua_State *L, const par_job *job, int c, int64_t i, int objs) {
  const par_jblock *blk = &job->blocks[i / job->bsize];
  uint64_t v = blk->val[c][i % job->bsize];
  lua_Number f;
  switch (kindat(job, c, i)) {
    case PAR_V_INT: lua_pushinteger(L, (lua_Integer)v); break;
    case PAR_V_FLT: memcpy(&f, &v, sizeof f); lua_pushnumber(L, f); break;
    case PAR_V_BOOL: lua_pushboolean(L, v != 0); break;
    default: lua_rawgeti(L, objs, (lua_Integer)v); break;
  }
}

/* Pushes value c of every iteration as a Lua table: a sequence, or for a
** 2-D shape a sequence of rows. */
static void pushtable(lua_State *L, int jobidx, const par_job *job, int c, const Shape *s) {
  int t, objs = 0;
  int64_t i, b = -1;
  lua_createtable(L, s->d0 > INT32_MAX ? 0 : (int)s->d0, 0);
  t = lua_gettop(L);
  for (i = 0; s->ndim == 2 && i < s->d0; i++) {
    lua_createtable(L, s->d1 > INT32_MAX ? 0 : (int)s->d1, 0);
    lua_rawseti(L, t, (lua_Integer)i + 1);
  }
  for (i = 0; i < job->n; i++) {
    if (i / job->bsize != b) {
      b = i / job->bsize;
      lua_settop(L, t);
      objs = 0;
      if (c < job->blocks[b].ncols && (job->blocks[b].mask[c] & PAR_V_OBJ)) {
        par_job_pushobjs(L, jobidx, b);
        objs = lua_gettop(L);
      }
    }
    if (s->ndim == 2) {
      lua_rawgeti(L, t, (lua_Integer)(i / s->d1) + 1);
      pushvalue(L, job, c, i, objs);
      lua_rawseti(L, -2, (lua_Integer)(i % s->d1) + 1);
      lua_pop(L, 1);
    }
    else {
      pushvalue(L, job, c, i, objs);
      lua_rawseti(L, t, (lua_Integer)i + 1);
    }
  }
  lua_settop(L, t);
}

/* Pushes the result for value c. */
static void pushcolumn(lua_State *L, int jobidx, const par_job *job, int c,
                       const Shape *s, const char *fname) {
  unsigned m = colmask(job, c);
  checkmix(L, job, c, m, fname);
  if (m == PAR_V_NIL) lua_pushnil(L);
  else if (m & PAR_V_OBJ) pushtable(L, jobidx, job, c, s);
  else if (m & PAR_V_BOOL) pusharray(L, job, c, s, PAR_BOOL);
  else pusharray(L, job, c, s, m & PAR_V_FLT ? PAR_F64 : PAR_I64);
}

/* Pushes one result per value the kernel returned (nil when it returned
** nothing), and frees the job's blocks. */
static int pushresults(lua_State *L, int jobidx, const Shape *s, const char *fname) {
  par_job *job = lua_touserdata(L, jobidx);
  int64_t b;
  int n = 0, c;
  for (b = 0; b < job->nblocks; b++)
    if (job->blocks[b].ncols > n) n = job->blocks[b].ncols;
  if (n == 0) {
    par_job_free(L, jobidx);
    lua_pushnil(L);
    return 1;
  }
  luaL_checkstack(L, n + 8, "too many results");
  for (c = 0; c < n; c++) pushcolumn(L, jobidx, job, c, s, fname);
  par_job_free(L, jobidx);
  return n;
}


/* }}} */


/* {{{ running */

/* Sets the job's threads and loop seed (opts.seed, else one raw output of
** the default generator, or of the iteration's stream inside a kernel),
** and runs the kernel at fidx. */
typedef struct Dump { char *p; size_t len, cap; } Dump;

static int dumpwriter(lua_State *L, const void *p, size_t sz, void *ud) {
  Dump *d = ud;
  (void)L;
  if (d->len + sz > d->cap) {
    size_t cap = (d->len + sz) * 2;
    char *q = realloc(d->p, cap);
    if (q == NULL) return 1;
    d->p = q;
    d->cap = cap;
  }
  memcpy(d->p + d->len, p, sz);
  d->len += sz;
  return 0;
}

/* Functions reached from a kernel that are checked, at most this deep. */
#define MAXREACH 64

typedef struct Names { lua_State *L; int t; } Names;

static void addglobal(void *ud, const char *name, size_t len, int soft) {
  Names *n = ud;
  if (soft) return;
  lua_pushlstring(n->L, name, len);
  lua_rawseti(n->L, n->t, (lua_Integer)lua_rawlen(n->L, n->t) + 1);
}

/* Pushes the names of the globals the Lua function at fidx reads, after
** checking that neither it nor a function nested in it assigns to a global
** or to a variable declared outside it; the registry's weak table
** "parlua.nowrites" keeps the names of the functions checked. */
static void pushglobals(lua_State *L, int fidx) {
  Dump d = {NULL, 0, 0};
  par_write w = {NULL, 0, 0, 0};
  Names n;
  if (lua_getfield(L, LUA_REGISTRYINDEX, "parlua.nowrites") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_pushvalue(L, -1);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "parlua.nowrites");
  }
  lua_pushvalue(L, fidx);
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_newtable(L);
  n.L = L;
  n.t = lua_gettop(L);
  lua_pushvalue(L, fidx);
  if (lua_dump(L, dumpwriter, &d, 0) == 0 && par_scan_outer_write(d.p, d.len, &w) == 0 &&
      w.name == NULL)
    par_scan_globals(d.p, d.len, addglobal, &n);
  lua_pop(L, 1);
  if (w.name != NULL) {
    lua_Debug ar;
    lua_pushlstring(L, w.name, w.len);
    free(d.p);
    lua_pushvalue(L, fidx);
    lua_getinfo(L, ">S", &ar);
    lua_pushfstring(L, "%s:%d: assignment to %s '%s' in a parallel kernel (%s: use an "
                    "array, or a reduction)", ar.short_src, w.line, w.global ? "global" : "upvalue",
                    lua_tostring(L, -1), w.global ? "each thread has globals of its own"
                    : "a variable declared outside it");
    lua_error(L);                        /* the message names the place of the write */
  }
  free(d.p);
  lua_pushvalue(L, fidx);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);                     /* nowrites[f] = names */
  lua_remove(L, -2);
}

/* A kernel must not assign to variables declared outside it (API section
** 4): in Lua mode the write would go to a worker's copy and be lost. Checks
** the Lua function at fidx and those it reaches through upvalues and
** globals (table 'seen' holds those already checked by this call). */
static void checkreach(lua_State *L, int fidx, int seen, int depth) {
  int u, names, env = 0;
  lua_Integer i;
  const char *up;
  if (lua_type(L, fidx) != LUA_TFUNCTION || lua_iscfunction(L, fidx) || depth > MAXREACH)
    return;
  luaL_checkstack(L, 10, "functions nested too deeply");
  lua_pushvalue(L, fidx);
  if (lua_rawget(L, seen) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, fidx);
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
  pushglobals(L, fidx);
  names = lua_gettop(L);
  for (u = 1; (up = lua_getupvalue(L, fidx, u)) != NULL; u++) {
    if (strcmp(up, "_ENV") == 0 && lua_istable(L, -1)) {
      env = lua_gettop(L);
      continue;                          /* kept on the stack */
    }
    checkreach(L, lua_gettop(L), seen, depth + 1);
    lua_pop(L, 1);
  }
  for (i = 1; env != 0 && lua_rawgeti(L, names, i) == LUA_TSTRING; i++) {
    lua_rawget(L, env);
    checkreach(L, lua_gettop(L), seen, depth + 1);
    lua_pop(L, 1);
  }
  lua_settop(L, names - 1);
}

static void checkwrites(lua_State *L, int fidx) {
  lua_newtable(L);
  checkreach(L, fidx, lua_gettop(L), 0);
  lua_pop(L, 1);
}

static void run(lua_State *L, int jobidx, int fidx, const Opts *o, par_job_fold fold, void *ud) {
  par_job *job = lua_touserdata(L, jobidx);
  checkwrites(L, fidx);
  job->nthreads = o->parallel ? 0 : 1;
  job->seed = o->seed;
  par_job_run(L, jobidx, fidx, fold, ud);
}

/* The reduction of the block results so far, in block order. */
typedef struct Total { par_lnum s; int has; } Total;

static void foldtotal(lua_State *L, const par_job *job, int64_t count, void *ud) {
  Total *t = ud;
  int64_t b;
  (void)L;
  for (b = 0; b < count; b++) {
    const par_jblock *blk = &job->blocks[b];
    if (!blk->hasacc) continue;
    t->s = t->has ? par_lnum_fold(job->op, t->s, blk->acc) : blk->acc;
    t->has = 1;
  }
}

/* Runs a reduction job and pushes its result. */
static int runreduction(lua_State *L, int jobidx, int fidx, const Opts *o) {
  par_job *job = lua_touserdata(L, jobidx);
  Total t = {{1, 0, 0.0}, 0};
  t.has = job->op == PAR_OP_SUM || job->op == PAR_OP_PROD;
  t.s.i = job->op == PAR_OP_PROD;
  run(L, jobidx, fidx, o, foldtotal, &t);
  par_job_free(L, jobidx);
  if (t.s.isint) lua_pushinteger(L, t.s.i);
  else lua_pushnumber(L, t.s.f);
  return 1;
}

/* min and max of nothing have no value. */
static void checkempty(lua_State *L, int op, int64_t n, int arg, const char *fname) {
  if (n == 0 && (op == PAR_OP_MIN || op == PAR_OP_MAX))
    argerror(L, arg, fname, lua_pushfstring(L, "'%s' of an empty range", opnames[op]));
}

/* for i in par.prange(n): the iterator of a plain serial loop. */
static int rangeiter(lua_State *L) {
  lua_Integer n = lua_tointeger(L, 1), i = lua_tointeger(L, 2);
  if (i >= n) return 0;
  lua_pushinteger(L, i + 1);
  return 1;
}

/* par.prange(n, f [, opts]); par.prange(n): a serial iterator. */
static int l_prange(lua_State *L) {
  Opts o;
  par_job *job;
  Shape s;
  int64_t n = checkcount(L, 1, "prange");
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3)) {
    lua_pushcfunction(L, rangeiter);
    lua_pushinteger(L, n);
    lua_pushinteger(L, 0);
    return 3;
  }
  checkkernel(L, 2, "prange");
  checkopts(L, 3, "prange", &o);
  lua_settop(L, 3);
  loopseed(L, &o);
  par_progress_push(L, o.progress ? "prange" : NULL, n);   /* 4 */
  {
    NativeCall c = {N_PRANGE, 0, n, 2, 0, 0};
    int r = trynative(L, &o, &c);
    if (r >= 0) return r;
  }
  job = par_job_push(L, 0);
  job->n = n;
  job->fname = "prange";
  run(L, 5, 2, &o, NULL, NULL);
  s.ndim = 1; s.d0 = n; s.d1 = 1;
  return pushresults(L, 5, &s, "prange");
}

/* par.preduce(op, n, f [, opts]) */
static int l_preduce(lua_State *L) {
  Opts o;
  par_job *job;
  int op = checkop(L, 1, "preduce");
  int64_t n = checkcount(L, 2, "preduce");
  checkkernel(L, 3, "preduce");
  checkopts(L, 4, "preduce", &o);
  checkempty(L, op, n, 2, "preduce");
  lua_settop(L, 4);
  loopseed(L, &o);
  par_progress_push(L, o.progress ? "preduce" : NULL, n);   /* 5 */
  {
    NativeCall c = {N_PREDUCE, op, n, 3, 0, 0};
    int r = trynative(L, &o, &c);
    if (r >= 0) return r;
  }
  job = par_job_push(L, 0);
  job->n = n;
  job->op = op;
  job->fname = "preduce";
  return runreduction(L, 6, 3, &o);
}

/* Sets map argument m from the value at arg; returns its array or NULL. */
static const par_array *maparg(lua_State *L, int arg, const char *fname, par_marg *m) {
  par_array *a;
  switch (lua_type(L, arg)) {
    case LUA_TNUMBER:
      m->num.isint = lua_isinteger(L, arg);
      m->num.i = m->num.isint ? lua_tointeger(L, arg) : 0;
      m->num.f = m->num.isint ? 0.0 : lua_tonumber(L, arg);
      return NULL;
    case LUA_TBOOLEAN:
      m->isbool = 1;
      m->boolean = lua_toboolean(L, arg);
      return NULL;
    default:
      a = par_toarray(L, arg);
      if (a == NULL) typeerror(L, arg, fname, "array or number");
      if (a->buf == NULL) argerror(L, arg, fname, "array is closed");
      m->data = a->data;
      m->dtype = a->dtype;
      return a;
  }
}

/*
** par.map and par.mapreduce (op >= 0), and a vectorize callable given
** arrays: the kernel at fidx (already checked), then the arguments up to
** 'last', arrays of one shape and scalars; opts already read.
*/
static int mapcall(lua_State *L, int fidx, int last, int op, Opts *o,
                   const char *fname) {
  int first = fidx + 1, nargs = last - fidx, i, jobidx;
  const par_array *shape = NULL;
  par_job *job;
  Shape s;
  char b1[48], b2[48];
  lua_settop(L, last);
  for (i = 0; i < nargs; i++) {   /* validate before choosing the mode */
    par_marg m;
    const par_array *a = maparg(L, first + i, fname, &m);
    if (a != NULL && shape != NULL && !par_sameshape(a, shape))
      argerror(L, first + i, fname, lua_pushfstring(L, "shape %s does not match %s",
               par_shapestr(a, b1), par_shapestr(shape, b2)));
    if (shape == NULL) shape = a;
  }
  if (shape == NULL) argerror(L, first, fname, "array expected (no argument is an array)");
  if (op >= 0) checkempty(L, op, shape->size, first, fname);
  loopseed(L, o);
  par_progress_push(L, o->progress ? fname : NULL, shape->size);
  {
    NativeCall c = {op >= 0 ? N_MAPREDUCE : N_MAP, op, 0, fidx, first, nargs};
    int r = trynative(L, o, &c);
    if (r >= 0) return r;
  }
  job = par_job_push(L, nargs);
  jobidx = lua_gettop(L);
  for (i = 0; i < nargs; i++) maparg(L, first + i, fname, &job->args[i]);
  s.ndim = shape->ndim; s.d0 = shape->dim[0]; s.d1 = shape->dim[1];
  job->n = shape->size;
  job->op = op;
  job->fname = fname;
  if (op >= 0) return runreduction(L, jobidx, fidx, o);
  if (job->n == 0) {   /* no values to infer a dtype from */
    par_newarray(L, PAR_F64, s.ndim, s.d0, s.d1);
    return 1;
  }
  run(L, jobidx, fidx, o, NULL, NULL);
  return pushresults(L, jobidx, &s, fname);
}

/* The arguments of par.map/par.mapreduce from fidx on: a last table that
** is not an array holds the options. */
static int mapargs(lua_State *L, int fidx, int op, const char *fname) {
  int last = lua_gettop(L);
  Opts o;
  checkkernel(L, fidx, fname);
  if (last > fidx && lua_type(L, last) == LUA_TTABLE) checkopts(L, last--, fname, &o);
  else defaultopts(&o);
  return mapcall(L, fidx, last, op, &o, fname);
}

static int l_map(lua_State *L) {
  return mapargs(L, 1, -1, "map");
}

static int l_mapreduce(lua_State *L) {
  return mapargs(L, 2, checkop(L, 1, "mapreduce"), "mapreduce");
}

/* }}} */


/* {{{ the parallel loops of par.jit functions in Lua mode */

/* The reductions of a loop, from the spec "+s *p <lo >hi" that
** par.jit.lua_loops writes: an op ('+', '*', '<' min, '>' max) and a name
** each, in the order of the partials. */
typedef struct Reds {
  int n;
  char *op;
  const char **name;
  par_lnum *red0;
} Reds;

/* Parses the spec at arg into a new userdata (pushed) holding r's arrays. */
static void checkreds(lua_State *L, int arg, Reds *r) {
  size_t len, k;
  const char *spec = luaL_checklstring(L, arg, &len);
  char *item;
  int i;
  r->n = len > 0;
  for (k = 0; k < len; k++) r->n += spec[k] == ' ';
  r->red0 = lua_newuserdatauv(L, (size_t)r->n * (sizeof(par_lnum) + sizeof(char *) + 1)
                                  + len + 1, 0);
  r->name = (const char **)(void *)(r->red0 + r->n);
  r->op = (char *)(r->name + r->n);
  item = memcpy(r->op + r->n, spec, len + 1);
  for (i = 0; i < r->n; i++) {
    r->op[i] = item[0];
    r->name[i] = item + 1;
    item += strcspn(item, " ");
    *item++ = '\0';
  }
}

/* Sets the first partials: 0 or 1 (a float when the variable holds one)
** for '+' and '*', the value before the loop for min and max. */
static void setred0(lua_State *L, Reds *r, int first) {
  int k;
  for (k = 0; k < r->n; k++) {
    par_lnum *p = &r->red0[k];
    int idx = first + k;
    if (lua_type(L, idx) != LUA_TNUMBER)
      luaL_error(L, "reduction variable '%s' is %s before the parallel loop (a number is "
                 "needed)", r->name[k], luaL_typename(L, idx));
    p->isint = lua_isinteger(L, idx);
    p->i = p->isint ? lua_tointeger(L, idx) : 0;
    p->f = p->isint ? 0.0 : lua_tonumber(L, idx);
    if (r->op[k] == '+' || r->op[k] == '*') {
      p->i = r->op[k] == '*';
      p->f = (lua_Number)p->i;
    }
  }
}

/* The values of the reductions of a jit loop, combined so far (at 'at'). */
typedef struct Combined { const Reds *r; int at; } Combined;

/* Combines the blocks' partials of each reduction k into the value at
** at + k, in block order, with Lua's + and *, or keeping a partial when it
** compares smaller (min) or larger (max), as native code combines them. */
static void combine(lua_State *L, const par_job *job, int64_t count, void *ud) {
  const Combined *c = ud;
  int64_t b;
  int k;
  for (k = 0; k < c->r->n; k++) {
    char op = c->r->op[k];
    lua_pushvalue(L, c->at + k);
    for (b = 0; b < count; b++) {
      par_lnum_push(L, job->blocks[b].red[k]);
      if (op == '+' || op == '*')
        lua_arith(L, op == '+' ? LUA_OPADD : LUA_OPMUL);
      else if (op == '<' ? lua_compare(L, -1, -2, LUA_OPLT) : lua_compare(L, -2, -1, LUA_OPLT))
        lua_remove(L, -2);
      else
        lua_pop(L, 1);
    }
    lua_replace(L, c->at + k);
  }
}

/* The seed of the k-th parallel loop of a jit call (prt_loop_seed). */
static uint64_t jitloopseed(uint64_t s, uint64_t k) {
  return par_mix_a(s ^ par_mix_b(k + 0x243f6a8885a308d3ULL));
}

/*
** par._ploop(call, n, body, spec, x1, ..., xr): one execution of a loop
** `for i in par.prange(n)` of a par.jit function in Lua mode, whose body
** lua_loops.lua made the function body(i, x1, ..., xr) returning the
** reduction variables x1..xr. Iteration i draws from stream (loop seed, i),
** the loop seed being derived from the call's seed and the loop's rank in
** the call. A loop nested in a loop body (no call, or a copy of the call
** in a worker) runs serially, its loop seed one draw of the iteration's
** stream. Returns the reduced values.
*/
static int l_ploop(lua_State *L) {
  JitCall *jc = luaL_testudata(L, 1, JITCALL_MT);
  lua_Integer n;
  int isint, k, jobidx;
  par_job *job;
  Reds r;
  Combined c;
  n = lua_tointegerx(L, 2, &isint);   /* the count, argument 1 of par.prange */
  if (!isint)
    argerror(L, 1, "prange", lua_isnumber(L, 2) ? "number has no integer representation"
             : lua_pushfstring(L, "number expected, got %s", luaL_typename(L, 2)));
  if (n < 0) argerror(L, 1, "prange", "count must be non-negative");
  luaL_checktype(L, 3, LUA_TFUNCTION);
  checkreds(L, 4, &r);                                  /* at 5 + r.n */
  if (lua_gettop(L) != 5 + r.n) luaL_error(L, "bad call of 'par._ploop'");
  setred0(L, &r, 5);
  job = par_job_push(L, 0);
  jobidx = lua_gettop(L);
  job->n = n;
  job->fname = "prange";
  job->nred = r.n;
  job->red0 = r.red0;
  job->rednames = r.name;
  if (jc != NULL && jc->stream == (const void *)par_rng_current()) {
    job->seed = jitloopseed(jc->seed, ++jc->loops);
    job->nthreads = jc->parallel ? 0 : 1;
  }
  else {
    job->seed = pcg64_next_uint64(par_rng_get(L));
    job->nthreads = 1;
  }
  luaL_checkstack(L, r.n + 4, "too many reductions");
  c.r = &r;
  c.at = 5;
  par_job_run(L, jobidx, 3, combine, &c);
  par_job_free(L, jobidx);
  for (k = 0; k < r.n; k++) lua_pushvalue(L, 5 + k);
  return r.n;
}

/* Pushes par.jit.lua_loops.prepare (loaded once, kept in the registry). */
static void pushprepare(lua_State *L) {
  static const char key = 'l';
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "par.jit.lua_loops");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "prepare");
    lua_remove(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key);
  }
}

/* A par.jit function in Lua mode: the function at 'base', its nargs
** arguments above it. It runs as rewritten by lua_loops, given a new call
** first; as itself when it has no parallel loop, or when its source is not
** available (its loops then run serially). The call's seed is drawn as
** native code draws it: opts.seed, else one draw of the default generator. */
static int luacall(lua_State *L, const Opts *o, int base, int nargs) {
  JitCall *jc;
  pushprepare(L);
  lua_pushvalue(L, base);
  lua_call(L, 1, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L) - base + 1;
  }
  lua_replace(L, base);
  jc = lua_newuserdatauv(L, sizeof *jc, 0);
  jc->seed = o->hasseed ? o->seed : pcg64_next_uint64(par_rng_get(L));
  jc->loops = 0;
  jc->parallel = o->parallel;
  jc->stream = par_rng_current();
  luaL_setmetatable(L, JITCALL_MT);
  lua_insert(L, base + 1);
  lua_call(L, nargs + 1, LUA_MULTRET);
  return lua_gettop(L) - base + 1;
}

/* }}} */


/* {{{ par.jit and par.vectorize callables */

static int newkernel(lua_State *L, int kind) {
  const char *fname = kind == K_JIT ? "jit" : "vectorize";
  Opts o;
  Kernel *k;
  checkkernel(L, 1, fname);
  checkopts(L, 2, fname, &o);
  k = lua_newuserdatauv(L, sizeof *k, 1);
  k->kind = kind;
  k->opts = o;
  luaL_setmetatable(L, KERNEL_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int l_jit(lua_State *L) {
  return newkernel(L, K_JIT);
}

static int l_vectorize(lua_State *L) {
  return newkernel(L, K_VECTORIZE);
}

/* Calling a callable: a vectorize callable given an array maps over its
** arguments; a jit callable runs natively, else in Lua mode (luacall);
** otherwise the function is called here with the arguments. */
static int k_call(lua_State *L) {
  Kernel *k = luaL_checkudata(L, 1, KERNEL_MT);
  Opts o = k->opts;
  int i, n = lua_gettop(L);
  lua_getiuservalue(L, 1, 1);
  lua_replace(L, 1);
  if (k->kind == K_VECTORIZE) {
    for (i = 2; i <= n; i++)
      if (par_toarray(L, i) != NULL) return mapcall(L, 1, n, -1, &o, "vectorize");
  }
  else {
    NativeCall c = {N_CALL, 0, 0, 1, 2, n - 1};
    int r, base = 1;
    if (o.progress) {   /* the call runs above a to-be-closed progress handle */
      par_progress_push(L, "jit", 0);
      for (i = 1; i <= n; i++) lua_pushvalue(L, i);
      base = n + 2;
      c.fidx = base; c.first = base + 1;
    }
    r = trynative(L, &o, &c);
    if (r >= 0) return r;
    return luacall(L, &o, base, n - 1);
  }
  lua_call(L, n - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* par.explain(f [, "c"]) */
static int l_explain(lua_State *L) {
  int withc = lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "c") == 0;
  Kernel *k = luaL_testudata(L, 1, KERNEL_MT);
  checkkernel(L, 1, "explain");
  lua_settop(L, 1);
  par_native_explain(L, 1, withc, k != NULL && k->kind == K_JIT);
  return 1;
}

static int k_tostring(lua_State *L) {
  Kernel *k = luaL_checkudata(L, 1, KERNEL_MT);
  lua_pushfstring(L, "%s: %p", k->kind == K_JIT ? "par.jit" : "par.vectorize",
                  lua_topointer(L, 1));
  return 1;
}

/* }}} */


static const luaL_Reg kernel_meta[] = {
  {"__call", k_call},
  {"__tostring", k_tostring},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"prange", l_prange},
  {"preduce", l_preduce},
  {"map", l_map},
  {"mapreduce", l_mapreduce},
  {"vectorize", l_vectorize},
  {"jit", l_jit},
  {"explain", l_explain},
  {"_ploop", l_ploop},
  {NULL, NULL}
};

void par_open_kernels(lua_State *L) {
  luaL_newmetatable(L, KERNEL_MT);
  luaL_setfuncs(L, kernel_meta, 0);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "__par_plain");   /* crosses into workers (transfer.h) */
  lua_pop(L, 1);
  luaL_newmetatable(L, JITCALL_MT);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "__par_plain");
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}
