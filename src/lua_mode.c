/*
** lua_mode.c: running a kernel in Lua mode (see lua_mode.h): setting up
** the workers, the loop over a block's iterations with their streams,
** collecting or folding returned values, and recording errors.
*/
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"

#include "lua_mode.h"
#include "parallel.h"
#include "reduce.h"
#include "rng.h"
#include "transfer.h"
#include "worker_pool.h"

#define JOB_MT "par.job"

/* Failure codes of a block. */
enum { E_ITER = 1, E_INTERRUPT, E_NOMEM };

static atomic_ullong lastjob;

/* A state running iterations: the kernel and the message handler at
** fixed stack slots; 'objs' is the table returned objects go to in a
** direct run (0 in workers, which encode them). */
typedef struct Runner {
  lua_State *L;
  int fidx, msgh, objs;
} Runner;


/* {{{ reductions */

static lua_Number tof(par_lnum a) {
  return a.isint ? (lua_Number)a.i : a.f;
}

static par_lnum flt(lua_Number f) {
  par_lnum r = {0, 0, f};
  return r;
}

/* i < f and f < i exactly, as Lua's LTintfloat and LTfloatint. */
static int lt_if(lua_Integer i, lua_Number f) {
  if (i >= -((lua_Integer)1 << 53) && i <= ((lua_Integer)1 << 53))
    return (lua_Number)i < f;
  f = ceil(f);
  if (f >= -0x1p63 && f < 0x1p63) return i < (lua_Integer)f;
  return f > 0;
}

static int lt_fi(lua_Number f, lua_Integer i) {
  if (i >= -((lua_Integer)1 << 53) && i <= ((lua_Integer)1 << 53))
    return f < (lua_Number)i;
  f = floor(f);
  if (f >= -0x1p63 && f < 0x1p63) return (lua_Integer)f < i;
  return f < 0;
}

static int lt(par_lnum a, par_lnum b) {
  if (a.isint) return b.isint ? a.i < b.i : lt_if(a.i, b.f);
  return b.isint ? lt_fi(a.f, b.i) : a.f < b.f;
}

static int isnan_l(par_lnum a) {
  return !a.isint && isnan(a.f);
}

par_lnum par_lnum_fold(int op, par_lnum acc, par_lnum x) {
  switch (op) {
    case PAR_OP_SUM:
      if (!acc.isint || !x.isint) return flt(tof(acc) + tof(x));
      acc.i = (lua_Integer)((lua_Unsigned)acc.i + (lua_Unsigned)x.i);
      return acc;
    case PAR_OP_PROD:
      if (!acc.isint || !x.isint) return flt(tof(acc) * tof(x));
      acc.i = (lua_Integer)((lua_Unsigned)acc.i * (lua_Unsigned)x.i);
      return acc;
    case PAR_OP_MIN:
      return isnan_l(acc) ? acc : (isnan_l(x) || lt(x, acc)) ? x : acc;
    default:
      return isnan_l(acc) ? acc : (isnan_l(x) || lt(acc, x)) ? x : acc;
  }
}

void par_lnum_push(lua_State *L, par_lnum a) {
  if (a.isint) lua_pushinteger(L, a.i);
  else lua_pushnumber(L, a.f);
}

/* }}} */


/* {{{ errors */

/* Message handler of kernel calls: the message and the traceback of the
** state that ran the iteration. */
static int msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {   /* as lua.c: __tostring, else the type */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, NULL, 1);
  lua_pushfstring(L, "%s\nkernel %s", msg, lua_tostring(L, -1));
  return 1;
}

/* Records a failure of blk with a printf-style message. */
static int blockfail(par_jblock *blk, const char *fmt, ...) {
  va_list ap;
  int len;
  va_start(ap, fmt);
  len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  blk->err = len >= 0 ? malloc((size_t)len + 1) : NULL;
  if (blk->err == NULL) return blk->code = E_NOMEM;
  va_start(ap, fmt);
  vsnprintf(blk->err, (size_t)len + 1, fmt, ap);
  va_end(ap);
  return blk->code = E_ITER;
}

/* Iteration 'iter' raised the error on top of L. */
static int iterfail(par_jblock *blk, lua_State *L, int64_t iter) {
  const char *msg = lua_tostring(L, -1);
  if (par_interrupted()) return blk->code = E_INTERRUPT;
  return blockfail(blk, "iteration %lld: %s", (long long)iter,
                   msg != NULL ? msg : "(error object is not a string)");
}

/* Raises the failure of blk in L. A nested run leaves the interrupt flag
** to the outermost call. */
static void raiseblock(lua_State *L, par_jblock *blk, int outer) {
  if (blk->code == E_INTERRUPT) {
    if (outer) par_raise_interrupt(L);
    luaL_error(L, "interrupted!");
  }
  if (blk->code == E_NOMEM) luaL_error(L, "not enough memory");
  lua_pushstring(L, blk->err);
  lua_error(L);
}

/* }}} */


/* {{{ one block */

/* Makes sure blk has n columns for a block of len iterations (kinds 0:
** the iterations already run returned nil there). */
static int addcols(par_jblock *blk, int n, int64_t len) {
  if (n > blk->capcols) {
    int cap = n < 4 ? 4 : 2 * n;
    uint8_t **k = realloc(blk->kind, (size_t)cap * sizeof *k);
    uint64_t **v;
    unsigned *m;
    if (k == NULL) return 0;
    blk->kind = k;
    if ((v = realloc(blk->val, (size_t)cap * sizeof *v)) == NULL) return 0;
    blk->val = v;
    if ((m = realloc(blk->mask, (size_t)cap * sizeof *m)) == NULL) return 0;
    blk->mask = m;
    blk->capcols = cap;
  }
  while (blk->ncols < n) {
    int c = blk->ncols;
    blk->kind[c] = calloc((size_t)len, 1);
    blk->val[c] = malloc((size_t)len * sizeof(uint64_t));
    blk->mask[c] = 0;
    blk->ncols++;
    if (blk->kind[c] == NULL || blk->val[c] == NULL) return 0;
  }
  return 1;
}

/* Protected: stores the value at 1 into the message (light userdata at 2)
** or into the table at 2 at index 3. */
static int putobj(lua_State *L) {
  if (lua_istable(L, 2)) {
    lua_settop(L, 3);
    lua_pushvalue(L, 1);
    lua_rawseti(L, 2, lua_tointeger(L, 3));
  }
  else
    par_msg_putvalue(L, lua_touserdata(L, 2), 1);
  return 0;
}

/* Keeps the object at idx returned by iteration 'iter'; *v gets its
** number. */
static int keepobj(par_job *job, const Runner *r, par_jblock *blk, int idx,
                   int64_t iter, uint64_t *v) {
  lua_State *L = r->L;
  if (!lua_checkstack(L, 4)) return blk->code = E_NOMEM;   /* above the results */
  lua_pushcfunction(L, putobj);
  lua_pushvalue(L, idx);
  if (r->objs != 0) {
    *v = (uint64_t)++job->ndirect;
    lua_pushvalue(L, r->objs);
    lua_pushinteger(L, (lua_Integer)*v);
  }
  else {
    if (blk->objs == NULL && (blk->objs = par_msg_new()) == NULL)
      return blk->code = E_NOMEM;
    *v = (uint64_t)++blk->nobj;
    lua_pushlightuserdata(L, blk->objs);
    lua_pushnil(L);
  }
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) return iterfail(blk, L, iter);
  return 0;
}

/* Stores the values iteration 'iter' (at offset j of a block of 'len')
** returned above 'base'. */
static int collect(par_job *job, const Runner *r, par_jblock *blk, int base,
                   int64_t iter, int64_t j, int64_t len) {
  lua_State *L = r->L;
  int n = lua_gettop(L) - base, c;
  if (n > blk->ncols && !addcols(blk, n, len)) return blk->code = E_NOMEM;
  for (c = 0; c < blk->ncols; c++) {
    int idx = base + 1 + c, kind = PAR_V_NIL;
    uint64_t v = 0;
    if (c < n)
      switch (lua_type(L, idx)) {
        case LUA_TNIL: break;
        case LUA_TBOOLEAN:
          kind = PAR_V_BOOL;
          v = (uint64_t)lua_toboolean(L, idx);
          break;
        case LUA_TNUMBER:
          if (lua_isinteger(L, idx)) {
            kind = PAR_V_INT;
            v = (uint64_t)lua_tointeger(L, idx);
          }
          else {
            lua_Number f = lua_tonumber(L, idx);
            kind = PAR_V_FLT;
            memcpy(&v, &f, sizeof v);
          }
          break;
        default: {
          int rc = keepobj(job, r, blk, idx, iter, &v);
          if (rc != 0) return rc;
          kind = PAR_V_OBJ;
        }
      }
    blk->kind[c][j] = (uint8_t)kind;
    blk->val[c][j] = v;
  }
  return 0;
}

/* Sets the kinds of each column of a finished block of len iterations.
** (Done once per block: blocks next to each other share cache lines, so
** threads must not write them at every iteration.) */
static void setmasks(par_jblock *blk, int64_t len) {
  int c;
  int64_t j;
  for (c = 0; c < blk->ncols; c++) {
    unsigned m = 0;
    for (j = 0; j < len; j++) m |= blk->kind[c][j] != 0 ? blk->kind[c][j] : PAR_V_NIL;
    blk->mask[c] = m;
  }
}

/* Folds the number iteration 'iter' of the kernel at fidx returned (at
** base + 1) into *acc (none yet when !*has). */
static int fold(par_job *job, lua_State *L, par_jblock *blk, int fidx, int base, int64_t iter,
                par_lnum *acc, int *has) {
  par_lnum x;
  int idx = base + 1;
  if (lua_type(L, idx) != LUA_TNUMBER) {
    lua_Debug ar;
    lua_pushvalue(L, fidx);
    lua_getinfo(L, ">S", &ar);
    return blockfail(blk, "iteration %lld: %s:%d: %s needs a number, got %s", (long long)iter,
                     ar.short_src, ar.linedefined, job->fname, luaL_typename(L, idx));
  }
  x.isint = lua_isinteger(L, idx);
  x.i = x.isint ? lua_tointeger(L, idx) : 0;
  x.f = x.isint ? 0.0 : lua_tonumber(L, idx);
  if (*has) *acc = par_lnum_fold(job->op, *acc, x);
  else {
    *acc = x;
    *has = 1;
  }
  return 0;
}

/* A par.jit loop: takes the partials iteration 'iter' returned above
** 'base' into blk->red. */
static int takered(par_job *job, lua_State *L, par_jblock *blk, int base, int64_t iter) {
  int k;
  for (k = 0; k < job->nred; k++) {
    int idx = base + 1 + k;
    par_lnum *p = &blk->red[k];
    if (lua_type(L, idx) != LUA_TNUMBER)
      return blockfail(blk, "iteration %lld: reduction variable '%s' holds a %s value",
                       (long long)iter, job->rednames[k], luaL_typename(L, idx));
    p->isint = lua_isinteger(L, idx);
    p->i = p->isint ? lua_tointeger(L, idx) : 0;
    p->f = p->isint ? 0.0 : lua_tonumber(L, idx);
  }
  return 0;
}

static void pusharg(lua_State *L, const par_marg *a, int64_t i) {
  if (a->data == NULL) {
    if (a->isbool) lua_pushboolean(L, a->boolean);
    else if (a->num.isint) lua_pushinteger(L, a->num.i);
    else lua_pushnumber(L, a->num.f);
  }
  else if (a->dtype == PAR_F64) lua_pushnumber(L, ((const double *)a->data)[i]);
  else if (a->dtype == PAR_I64) lua_pushinteger(L, ((const int64_t *)a->data)[i]);
  else lua_pushboolean(L, ((const uint8_t *)a->data)[i]);
}

/* Runs iterations lo+1 .. hi of block b in r's state. */
/* Records that block b was reached, so that freeing the job visits only
** the blocks that ran (a long loop stopped early has millions that did not). */
static void reached(par_job *job, int64_t b) {
  long long cur = atomic_load(&job->ranto), to = b - job->base + 1;
  while (cur < to && !atomic_compare_exchange_weak(&job->ranto, &cur, to)) {}
}

static int runblock(par_job *job, const Runner *r, int64_t lo, int64_t hi, int64_t b) {
  lua_State *L = r->L;
  par_jblock *blk = &job->blocks[b - job->base];
  pcg64 g, *prev = par_rng_current();
  par_lnum acc = {1, job->op == PAR_OP_PROD, 0.0};
  int base = lua_gettop(L), rc = 0, a;
  int has = job->op == PAR_OP_SUM || job->op == PAR_OP_PROD;
  int nres = job->nred > 0 ? job->nred : job->op >= 0 ? 1 : LUA_MULTRET;
  int64_t i;
  reached(job, b);
  if (!lua_checkstack(L, job->nargs + job->nred + 8)) return blk->code = E_NOMEM;
  if (job->nred > 0) {
    if ((blk->red = malloc((size_t)job->nred * sizeof *blk->red)) == NULL)
      return blk->code = E_NOMEM;
    memcpy(blk->red, job->red0, (size_t)job->nred * sizeof *blk->red);
  }
  par_rng_set_current(&g);
  for (i = lo; i < hi && rc == 0; i++) {
    if (par_interrupted()) {
      rc = blk->code = E_INTERRUPT;
      break;
    }
    par_stream_init(&g, job->seed, (uint64_t)i + 1);
    lua_pushvalue(L, r->fidx);
    if (job->nargs == 0) lua_pushinteger(L, (lua_Integer)i + 1);
    for (a = 0; a < job->nargs; a++) pusharg(L, &job->args[a], i);
    for (a = 0; a < job->nred; a++) par_lnum_push(L, blk->red[a]);
    if (lua_pcall(L, (job->nargs > 0 ? job->nargs : 1) + job->nred, nres, r->msgh) != LUA_OK)
      rc = iterfail(blk, L, i + 1);
    else if (job->nred > 0)
      rc = takered(job, L, blk, base, i + 1);
    else if (job->op >= 0)
      rc = fold(job, L, blk, r->fidx, base, i + 1, &acc, &has);
    else
      rc = collect(job, r, blk, base, i + 1, i - lo, hi - lo);
    lua_settop(L, base);
  }
  par_rng_set_current(prev);
  blk->acc = acc;
  blk->hasacc = has;
  if (rc == 0) setmasks(blk, hi - lo);
  return rc;
}

/* }}} */


/* {{{ running a job */

/* Protected, in a worker: decodes the kernel message (light userdata). */
static int decodekernel(lua_State *L) {
  if (par_msg_get(L, lua_touserdata(L, 1)) != 1)
    return luaL_error(L, "corrupt parallel-kernel message");
  return 1;
}

/* Sets a worker up for the job: message handler at 1, the kernel at 2. */
static int setup(par_job *job, par_worker *w, par_jblock *blk) {
  lua_State *W = w->L;
  lua_settop(W, 0);
  lua_pushcfunction(W, msgh);
  lua_pushcfunction(W, decodekernel);
  lua_pushlightuserdata(W, job->kernel);
  if (lua_pcall(W, 1, 1, 0) != LUA_OK) {
    int rc = par_interrupted() ? (blk->code = E_INTERRUPT)
                               : blockfail(blk, "%s", lua_tostring(W, -1));
    lua_settop(W, 0);
    return rc;
  }
  w->job = job->id;
  return 0;
}

/* par_run's block function: block b on the worker of thread 'tid'. */
static int poolblock(void *ctx, int64_t lo, int64_t hi, int64_t b, int tid) {
  par_job *job = ctx;
  par_worker *w = &job->workers[tid];
  Runner r;
  reached(job, b);
  if (w->job != job->id) {
    int rc = setup(job, w, &job->blocks[b - job->base]);
    if (rc != 0) return rc;
  }
  r.L = w->L;
  r.fidx = 2;
  r.msgh = 1;
  r.objs = 0;
  return runblock(job, &r, lo, hi, b);
}

/* Runs blocks b0 .. b1-1 in L itself, in order; returns the failing block
** or -1. */
static int64_t rundirect(lua_State *L, int jobidx, par_job *job, int fidx, int64_t b0,
                         int64_t b1) {
  Runner r;
  int64_t b, failed = -1;
  lua_pushcfunction(L, msgh);
  r.msgh = lua_gettop(L);
  lua_getiuservalue(L, jobidx, 1);
  r.objs = lua_gettop(L);
  r.L = L;
  r.fidx = fidx;
  for (b = b0; b < b1 && failed < 0; b++) {
    int64_t lo = b * job->bsize, hi = lo + job->bsize < job->n ? lo + job->bsize : job->n;
    if (runblock(job, &r, lo, hi, b) != 0) failed = b;
  }
  lua_pop(L, 2);
  return failed;
}

/* Frees what the blocks held reached, and empties them. */
static void clearblocks(par_job *job) {
  int64_t b;
  int c;
  int64_t end = atomic_load(&job->ranto);
  for (b = 0; job->blocks != NULL && b < end && b < job->nheld; b++) {
    par_jblock *blk = &job->blocks[b];
    for (c = 0; c < blk->ncols; c++) {
      free(blk->kind[c]);
      free(blk->val[c]);
    }
    free(blk->kind);
    free(blk->val);
    free(blk->mask);
    free(blk->red);
    par_msg_free(blk->objs);
    free(blk->err);
    memset(blk, 0, sizeof *blk);
  }
  atomic_store(&job->ranto, 0);
}

void par_job_run(lua_State *L, int jobidx, int fidx, par_job_fold take, void *ud) {
  par_job *job = lua_touserdata(L, jobidx);
  int64_t bsize = par_kernel_block(job->n, job->op >= 0 || job->nred > 0);
  int64_t nb = par_nblocks(job->n, bsize), failed = -1, b0, b1;
  int64_t chunk = take != NULL && nb > PAR_JOB_CHUNK ? PAR_JOB_CHUNK : nb;
  int nt = job->nthreads > 0 ? job->nthreads : par_threads();
  int stopped = 0;
  fidx = lua_absindex(L, fidx);
  job->blocks = calloc(chunk > 0 ? (size_t)chunk : 1, sizeof *job->blocks);
  if (job->blocks == NULL) luaL_error(L, "not enough memory");
  atomic_store(&job->ranto, 0);
  job->nblocks = nb;
  job->nheld = chunk;
  job->base = 0;
  job->bsize = bsize;
  if (nb == 0) return;
  if (nt > nb) nt = (int)nb;
  if (par_rng_current() == NULL) {    /* not inside a kernel */
    if ((job->kernel = par_msg_new()) == NULL) luaL_error(L, "not enough memory");
    par_msg_putkernel(L, job->kernel, fidx);
    job->workers = par_pool_acquire(L, nt);
  }
  if (job->workers != NULL) job->id = atomic_fetch_add(&lastjob, 1) + 1;
  for (b0 = 0; b0 < nb && failed < 0 && !stopped; b0 = b1) {
    b1 = b0 + chunk < nb ? b0 + chunk : nb;
    if (b0 > 0) clearblocks(job);
    job->base = b0;
    if (job->workers == NULL)
      failed = rundirect(L, jobidx, job, fidx, b0, b1);
    else {
      par_result res = par_run_blocks(job->n, bsize, b0, b1, nt, poolblock, job);
      stopped = res.status == PAR_INTERRUPTED;
      failed = res.status == PAR_FAILED ? res.failed_block : -1;
    }
    if (failed < 0 && !stopped && take != NULL) take(L, job, b1 - b0, ud);
  }
  if (job->workers != NULL) {
    par_pool_release();
    par_msg_free(job->kernel);
    job->kernel = NULL;
  }
  if (stopped || par_interrupted()) par_raise_interrupt(L);
  if (failed >= 0) raiseblock(L, &job->blocks[failed - job->base], job->workers != NULL);
}

void par_job_pushobjs(lua_State *L, int jobidx, int64_t b) {
  par_job *job = lua_touserdata(L, jobidx);
  const par_jblock *blk = &job->blocks[b];
  int n, i, t;
  if (job->workers == NULL) {
    lua_getiuservalue(L, jobidx, 1);
    return;
  }
  lua_getiuservalue(L, jobidx, 2);      /* decoded blocks */
  if (lua_rawgeti(L, -1, (lua_Integer)b + 1) == LUA_TTABLE) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  n = par_msg_get(L, blk->objs);
  lua_createtable(L, n, 0);
  t = lua_gettop(L);
  lua_insert(L, t - n);
  for (i = n; i >= 1; i--) lua_rawseti(L, t - n, i);
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, (lua_Integer)b + 1);
  lua_remove(L, -2);
}

/* }}} */


/* {{{ the job userdata */

static void freeblocks(par_job *job) {
  clearblocks(job);
  free(job->blocks);
  job->blocks = NULL;
  job->nblocks = job->nheld = 0;
}

static int job_gc(lua_State *L) {
  par_job *job = lua_touserdata(L, 1);
  freeblocks(job);
  par_msg_free(job->kernel);
  job->kernel = NULL;
  return 0;
}

void par_job_free(lua_State *L, int jobidx) {
  freeblocks(lua_touserdata(L, jobidx));
}

par_job *par_job_push(lua_State *L, int nargs) {
  size_t size = sizeof(par_job) + (size_t)nargs * sizeof(par_marg);
  par_job *job = lua_newuserdatauv(L, size, 2);
  memset(job, 0, size);
  job->op = -1;
  job->nargs = nargs;
  job->args = nargs > 0 ? (par_marg *)(job + 1) : NULL;
  if (luaL_newmetatable(L, JOB_MT)) {
    lua_pushcfunction(L, job_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 2);
  return job;
}

/* }}} */
