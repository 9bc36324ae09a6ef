/*
** array_reduce.c: reductions of arrays (sum, prod, min, max, mean, var,
** std, argmin, argmax, cumsum): pure-C cores computed in the fixed block
** order defined in reduce.h, then the Lua bindings, registered both as
** array methods (a:sum()) and as functions of the par table (par.sum(a)).
*/
#include <math.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "modules.h"
#include "reduce.h"

/* Columns per task of a column reduction (one stack buffer of doubles). */
#define COLCHUNK 256
/* Elements per scheduling unit of par_run; any value gives the same bits. */
#define TASK_ELEMS (16 * PAR_BLOCK)

/* ---- element access ---- */

/* Elements [lo, hi) of x as doubles: a pointer into x for float64, else
** converted into buf (which holds hi - lo doubles). */
static const double *load_f(const void *x, par_dtype dt, int64_t lo, int64_t hi,
                            double *buf) {
  int64_t i;
  if (dt == PAR_F64) return (const double *)x + lo;
  if (dt == PAR_I64)
    for (i = lo; i < hi; i++) buf[i - lo] = (double)((const int64_t *)x)[i];
  else
    for (i = lo; i < hi; i++) buf[i - lo] = ((const uint8_t *)x)[i];
  return buf;
}

/* The same as int64 (bool as 0/1). */
static const int64_t *load_i(const void *x, par_dtype dt, int64_t lo, int64_t hi,
                             int64_t *buf) {
  int64_t i;
  if (dt == PAR_I64) return (const int64_t *)x + lo;
  for (i = lo; i < hi; i++) buf[i - lo] = ((const uint8_t *)x)[i];
  return buf;
}

static int isminmax(par_op op) {
  return op == PAR_OP_MIN || op == PAR_OP_MAX;
}

/* ---- one step, one block, one row of columns ---- */

/* The min/max step of reduce.h: NaN sticks, ties keep the first. */
static double step_f(par_op op, double acc, double v) {
  if (acc != acc) return acc;
  if (v != v) return v;
  return (op == PAR_OP_MIN ? v < acc : v > acc) ? v : acc;
}

static int64_t step_i(par_op op, int64_t acc, int64_t v) {
  return (op == PAR_OP_MIN ? v < acc : v > acc) ? v : acc;
}

/* The partial of m > 0 values: sums start at 0.0, products at 1.0,
** min/max at the first value; then left to right. */
static double fold_f(par_op op, const double *p, int64_t m, double center) {
  double acc;
  int64_t i;
  switch (op) {
    case PAR_OP_SUM:
      acc = 0.0;
      for (i = 0; i < m; i++) acc += p[i];
      return acc;
    case PAR_OP_PROD:
      acc = 1.0;
      for (i = 0; i < m; i++) acc *= p[i];
      return acc;
    case PAR_OP_SSD:
      acc = 0.0;
      for (i = 0; i < m; i++) {
        double d = p[i] - center;
        acc += d * d;
      }
      return acc;
    default:
      acc = p[0];
      for (i = 1; i < m; i++) acc = step_f(op, acc, p[i]);
      return acc;
  }
}

/* Integer partial; sums and products wrap (uint64). */
static int64_t fold_i(par_op op, const int64_t *p, int64_t m) {
  uint64_t u;
  int64_t acc, i;
  switch (op) {
    case PAR_OP_SUM:
      for (u = 0, i = 0; i < m; i++) u += (uint64_t)p[i];
      return (int64_t)u;
    case PAR_OP_PROD:
      for (u = 1, i = 0; i < m; i++) u *= (uint64_t)p[i];
      return (int64_t)u;
    default:
      acc = p[0];
      for (i = 1; i < m; i++) acc = step_i(op, acc, p[i]);
      return acc;
  }
}

/* acc[j] = acc[j] op p[j] for j < w (each column keeps its own order). */
static void steprow_f(par_op op, double *acc, const double *p, int64_t w) {
  int64_t j;
  if (op == PAR_OP_SUM)
    for (j = 0; j < w; j++) acc[j] += p[j];
  else if (op == PAR_OP_PROD)
    for (j = 0; j < w; j++) acc[j] *= p[j];
  else
    for (j = 0; j < w; j++) acc[j] = step_f(op, acc[j], p[j]);
}

static void steprow_i(par_op op, int64_t *acc, const int64_t *p, int64_t w) {
  int64_t j;
  if (op == PAR_OP_SUM)
    for (j = 0; j < w; j++) acc[j] = (int64_t)((uint64_t)acc[j] + (uint64_t)p[j]);
  else if (op == PAR_OP_PROD)
    for (j = 0; j < w; j++) acc[j] = (int64_t)((uint64_t)acc[j] * (uint64_t)p[j]);
  else
    for (j = 0; j < w; j++) acc[j] = step_i(op, acc[j], p[j]);
}

/* Starts w accumulators: identities, or the values p for min/max. */
static void startrow_f(par_op op, double *acc, const double *p, int64_t w) {
  int64_t j;
  for (j = 0; j < w; j++)
    acc[j] = isminmax(op) ? p[j] : op == PAR_OP_PROD ? 1.0 : 0.0;
}

static void startrow_i(par_op op, int64_t *acc, const int64_t *p, int64_t w) {
  int64_t j;
  for (j = 0; j < w; j++)
    acc[j] = isminmax(op) ? p[j] : op == PAR_OP_PROD ? 1 : 0;
}

/* ---- the drivers: partials in parallel, combined in block order ---- */

typedef struct red_ctx {
  par_op op;
  int isint;            /* int64 arithmetic, else double */
  const void *x;
  par_dtype dt;
  int64_t rows, len;    /* rows: runs of len elements; cols: the matrix */
  int64_t nb, nc;       /* blocks per run (rows) / row blocks, col chunks (cols) */
  double center;
  double *pf;           /* partials (one kind is used) */
  int64_t *pi;
} red_ctx;

/* Partials of items [lo, hi): item = run * nb + block. */
static int rows_task(void *ud, int64_t lo, int64_t hi, int64_t blk, int tid) {
  red_ctx *c = ud;
  int64_t it;
  (void)blk; (void)tid;
  for (it = lo; it < hi; it++) {
    int64_t run = it / c->nb, b = it % c->nb;
    int64_t s = run * c->len + b * PAR_BLOCK;
    int64_t e = b == c->nb - 1 ? (run + 1) * c->len : s + PAR_BLOCK;
    if (c->isint) {
      int64_t buf[PAR_BLOCK];
      c->pi[it] = fold_i(c->op, load_i(c->x, c->dt, s, e, buf), e - s);
    }
    else {
      double buf[PAR_BLOCK];
      c->pf[it] = fold_f(c->op, load_f(c->x, c->dt, s, e, buf), e - s, c->center);
    }
  }
  return 0;
}

/* Partials of items [lo, hi): item = row block * nc + column chunk; the
** partial of column j for row block rb goes to p[rb * cols + j]. */
static int cols_task(void *ud, int64_t lo, int64_t hi, int64_t blk, int tid) {
  red_ctx *c = ud;
  int64_t it, r, cols = c->len;
  (void)blk; (void)tid;
  for (it = lo; it < hi; it++) {
    int64_t rb = it / c->nc, c0 = (it % c->nc) * COLCHUNK;
    int64_t w = c0 + COLCHUNK < cols ? COLCHUNK : cols - c0;
    int64_t r0 = rb * PAR_BLOCK, r1 = r0 + PAR_BLOCK < c->rows ? r0 + PAR_BLOCK : c->rows;
    if (c->isint) {
      int64_t buf[COLCHUNK], *acc = c->pi + rb * cols + c0;
      startrow_i(c->op, acc, load_i(c->x, c->dt, r0 * cols + c0, r0 * cols + c0 + w, buf), w);
      for (r = r0; r < r1; r++)
        steprow_i(c->op, acc, load_i(c->x, c->dt, r * cols + c0, r * cols + c0 + w, buf), w);
    }
    else {
      double buf[COLCHUNK], *acc = c->pf + rb * cols + c0;
      startrow_f(c->op, acc, load_f(c->x, c->dt, r0 * cols + c0, r0 * cols + c0 + w, buf), w);
      for (r = r0; r < r1; r++)
        steprow_f(c->op, acc, load_f(c->x, c->dt, r * cols + c0, r * cols + c0 + w, buf), w);
    }
  }
  return 0;
}

/* Runs 'task' over 'items' work items of about 'per' elements each, with
** partials allocated for 'nparts' values. Returns a status. */
static int run_items(red_ctx *c, par_block_fn task, int64_t items, int64_t per,
                     int64_t nparts, int nthreads) {
  par_result r;
  void *p = malloc((size_t)(nparts > 0 ? nparts : 1) * 8);
  if (p == NULL) return PAR_NOMEM;
  c->pf = p;
  c->pi = p;
  r = par_run(items, per < TASK_ELEMS ? TASK_ELEMS / (per > 0 ? per : 1) : 1,
              nthreads, task, c);
  if (r.status != PAR_OK) {
    free(p);
    return r.status;
  }
  return PAR_OK;
}

int par_reduce_rows_f(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t len, double center, int nthreads, double *out) {
  red_ctx c = {op, 0, x, dt, rows, len, par_nblocks(len, PAR_BLOCK), 0, center, NULL, NULL};
  par_op cop = op == PAR_OP_SSD ? PAR_OP_SUM : op;
  int64_t r;
  int st = run_items(&c, rows_task, rows * c.nb, len < PAR_BLOCK ? len : PAR_BLOCK,
                     rows * c.nb, nthreads);
  if (st != PAR_OK) return st;
  for (r = 0; r < rows; r++)
    out[r] = c.nb > 0 ? fold_f(cop, c.pf + r * c.nb, c.nb, 0.0)
                      : isminmax(op) ? NAN : op == PAR_OP_PROD ? 1.0 : 0.0;
  free(c.pf);
  return PAR_OK;
}

int par_reduce_rows_i(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t len, int nthreads, int64_t *out) {
  red_ctx c = {op, 1, x, dt, rows, len, par_nblocks(len, PAR_BLOCK), 0, 0.0, NULL, NULL};
  int64_t r;
  int st = run_items(&c, rows_task, rows * c.nb, len < PAR_BLOCK ? len : PAR_BLOCK,
                     rows * c.nb, nthreads);
  if (st != PAR_OK) return st;
  for (r = 0; r < rows; r++)
    out[r] = c.nb > 0 ? fold_i(op, c.pi + r * c.nb, c.nb) : op == PAR_OP_PROD;
  free(c.pi);
  return PAR_OK;
}

/* Items of a column reduction and the elements of each. */
static int64_t col_items(red_ctx *c, int64_t *per) {
  int64_t rb = par_nblocks(c->rows, PAR_BLOCK);
  c->nb = rb;
  c->nc = par_nblocks(c->len, COLCHUNK);
  *per = (c->rows < PAR_BLOCK ? c->rows : PAR_BLOCK) * (c->len < COLCHUNK ? c->len : COLCHUNK);
  return rb * c->nc;
}

int par_reduce_cols_f(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t cols, int nthreads, double *out) {
  red_ctx c = {op, 0, x, dt, rows, cols, 0, 0, 0.0, NULL, NULL};
  int64_t per, items = col_items(&c, &per), rb;
  int st = run_items(&c, cols_task, items, per, c.nb * cols, nthreads);
  if (st != PAR_OK) return st;
  if (c.nb == 0) {
    double e = isminmax(op) ? NAN : op == PAR_OP_PROD ? 1.0 : 0.0;
    for (rb = 0; rb < cols; rb++) out[rb] = e;
  }
  else {
    startrow_f(op, out, c.pf, cols);
    for (rb = 0; rb < c.nb; rb++) steprow_f(op, out, c.pf + rb * cols, cols);
  }
  free(c.pf);
  return PAR_OK;
}

int par_reduce_cols_i(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t cols, int nthreads, int64_t *out) {
  red_ctx c = {op, 1, x, dt, rows, cols, 0, 0, 0.0, NULL, NULL};
  int64_t per, items = col_items(&c, &per), rb;
  int st = run_items(&c, cols_task, items, per, c.nb * cols, nthreads);
  if (st != PAR_OK) return st;
  if (c.nb == 0)
    for (rb = 0; rb < cols; rb++) out[rb] = op == PAR_OP_PROD;
  else {
    startrow_i(op, out, c.pi, cols);
    for (rb = 0; rb < c.nb; rb++) steprow_i(op, out, c.pi + rb * cols, cols);
  }
  free(c.pi);
  return PAR_OK;
}

/* ---- argmin, argmax ---- */

typedef struct arg_ctx {
  par_op op;
  const void *x;
  par_dtype dt;
  int64_t *best;        /* one index per block */
} arg_ctx;

static int64_t geti(const void *x, par_dtype dt, int64_t i) {
  return dt == PAR_I64 ? ((const int64_t *)x)[i] : ((const uint8_t *)x)[i];
}

/* Should element i replace the current best b? (first NaN, else first
** extremum) */
static int better(const arg_ctx *c, int64_t i, int64_t b) {
  if (c->dt == PAR_F64) {
    const double *x = c->x;
    if (x[b] != x[b]) return 0;
    if (x[i] != x[i]) return 1;
    return c->op == PAR_OP_MIN ? x[i] < x[b] : x[i] > x[b];
  }
  else {
    int64_t v = geti(c->x, c->dt, i), w = geti(c->x, c->dt, b);
    return c->op == PAR_OP_MIN ? v < w : v > w;
  }
}

/* The first extremum of [lo, hi) (float64: stops at the first NaN). */
static int arg_task(void *ud, int64_t lo, int64_t hi, int64_t blk, int tid) {
  arg_ctx *c = ud;
  int64_t i, b = lo;
  (void)tid;
  if (c->dt == PAR_F64) {
    const double *x = c->x;
    double bv = x[lo];
    for (i = lo + 1; i < hi && bv == bv; i++) {
      double v = x[i];
      if (v != v || (c->op == PAR_OP_MIN ? v < bv : v > bv)) { bv = v; b = i; }
    }
  }
  else
    for (i = lo + 1; i < hi; i++)
      if (better(c, i, b)) b = i;
  c->best[blk] = b;
  return 0;
}

int par_argreduce(par_op op, const void *x, par_dtype dt, int64_t n,
                  int nthreads, int64_t *out) {
  arg_ctx c = {op, x, dt, NULL};
  int64_t nb = par_nblocks(n, TASK_ELEMS), b, best;
  par_result r;
  c.best = malloc((size_t)(nb > 0 ? nb : 1) * sizeof(int64_t));
  if (c.best == NULL) return PAR_NOMEM;
  r = par_run(n, TASK_ELEMS, nthreads, arg_task, &c);
  if (r.status == PAR_OK) {
    for (best = c.best[0], b = 1; b < nb; b++)
      if (better(&c, c.best[b], best)) best = c.best[b];
    *out = best;
  }
  free(c.best);
  return r.status;
}

/* ---- running sums ---- */

void par_cumsum_f(const double *x, int64_t n, double *out) {
  int64_t i;
  if (n > 0) out[0] = x[0];
  for (i = 1; i < n; i++) out[i] = out[i - 1] + x[i];
}

void par_cumsum_i(const void *x, par_dtype dt, int64_t n, int64_t *out) {
  uint64_t s = 0;
  int64_t i;
  for (i = 0; i < n; i++) {
    s += (uint64_t)geti(x, dt, i);
    out[i] = (int64_t)s;
  }
}

/* ---- Lua bindings ---- */

/* Raises the error for a core's status, if any. */
static void checkstatus(lua_State *L, int st) {
  if (st == PAR_INTERRUPTED) par_raise_interrupt(L);
  else if (st != PAR_OK) luaL_error(L, "not enough memory");
}

void par_noaxis(lua_State *L, int n, const char *name, const char *what) {
  int k;
  for (k = n + 1; k <= lua_gettop(L); k++)
    if (!lua_isnil(L, k))
      luaL_argerror(L, k, lua_pushfstring(L, "no axis: %s %s", name, what));
}

/* The optional axis at argument 2: 0 for the whole array, else 1 (down the
** rows, one value per column) or 2 (along each row). On a 1-D array axis 1
** is the whole array. */
static int optaxis(lua_State *L, const par_array *a) {
  lua_Integer ax;
  luaL_argcheck(L, lua_isnoneornil(L, 3), 3, "at most one axis expected");
  if (lua_isnoneornil(L, 2)) return 0;
  ax = luaL_checkinteger(L, 2);
  if (ax < 1 || ax > a->ndim)
    return luaL_argerror(L, 2, lua_pushfstring(L,
        "axis %I is out of bounds for array of dimension %d", ax, a->ndim));
  return a->ndim == 1 ? 0 : (int)ax;
}

/* Pushes the number of a whole-array reduction kept as int64. */
static void pushint(lua_State *L, const par_array *a, par_op op, int64_t v) {
  if (a->dtype == PAR_BOOL && isminmax(op)) lua_pushboolean(L, v != 0);
  else lua_pushinteger(L, v);
}

/* sum, prod, min, max over 'axis' (0: everything): a number, or an array
** with one value per column (axis 1) or per row (axis 2). Integer and bool
** arrays reduce in int64; min/max of bool give bools. */
static int reduce(lua_State *L, par_op op, const char *name) {
  par_array *a = par_checkarray(L, 1);
  int axis = optaxis(L, a), isint = a->dtype != PAR_F64, st;
  int64_t rows = a->dim[0], cols = a->dim[1];
  int64_t len = axis == 0 ? a->size : axis == 1 ? rows : cols;
  int64_t nout = axis == 0 ? 1 : axis == 1 ? cols : rows;
  int nt = par_threads_for(a->size);
  par_array *r;
  if (isminmax(op) && len == 0)
    luaL_argerror(L, 1, lua_pushfstring(L,
        "zero-size array to reduction operation %s which has no identity", name));
  if (axis == 0) {
    int64_t vi;
    double vf;
    st = isint ? par_reduce_rows_i(op, a->data, a->dtype, 1, len, nt, &vi)
               : par_reduce_rows_f(op, a->data, a->dtype, 1, len, 0.0, nt, &vf);
    checkstatus(L, st);
    if (isint) pushint(L, a, op, vi);
    else lua_pushnumber(L, vf);
    return 1;
  }
  r = par_newarray(L, isint ? PAR_I64 : PAR_F64, 1, nout, 1);
  if (axis == 1)
    st = isint ? par_reduce_cols_i(op, a->data, a->dtype, rows, cols, nt, r->data)
               : par_reduce_cols_f(op, a->data, a->dtype, rows, cols, nt, r->data);
  else
    st = isint ? par_reduce_rows_i(op, a->data, a->dtype, rows, cols, nt, r->data)
               : par_reduce_rows_f(op, a->data, a->dtype, rows, cols, 0.0, nt, r->data);
  checkstatus(L, st);
  if (a->dtype == PAR_BOOL && isminmax(op)) {   /* back to bool */
    par_array *b = par_newarray(L, PAR_BOOL, 1, nout, 1);
    int64_t i;
    for (i = 0; i < nout; i++) PAR_BOOLP(b)[i] = PAR_I64P(r)[i] != 0;
  }
  return 1;
}

static int l_sum(lua_State *L) { return reduce(L, PAR_OP_SUM, "sum"); }
static int l_prod(lua_State *L) { return reduce(L, PAR_OP_PROD, "prod"); }
static int l_min(lua_State *L) { return reduce(L, PAR_OP_MIN, "min"); }
static int l_max(lua_State *L) { return reduce(L, PAR_OP_MAX, "max"); }

int par_moments(const void *x, par_dtype dt, int64_t n, double ddof, int nthreads, double *mean,
                double *var) {
  double ssd, div = (double)n - ddof;
  int st = par_reduce_rows_f(PAR_OP_SUM, x, dt, 1, n, 0.0, nthreads, mean);
  *mean /= (double)n;
  if (st != PAR_OK || var == NULL) return st;
  st = par_reduce_rows_f(PAR_OP_SSD, x, dt, 1, n, *mean, nthreads, &ssd);
  *var = ssd / (div < 0 ? 0.0 : div);
  return st;
}

/* a:mean([axis]): the blocked float64 sum divided by the count (NaN when
** there is nothing to average, as NumPy without its warning). */
static int l_mean(lua_State *L) {
  par_array *a = par_checkarray(L, 1), *r;
  int axis = optaxis(L, a);
  int64_t rows = a->dim[0], cols = a->dim[1], i;
  if (axis == 0) {
    double mean;
    checkstatus(L, par_moments(a->data, a->dtype, a->size, 0.0, par_threads_for(a->size), &mean,
                               NULL));
    lua_pushnumber(L, mean);
    return 1;
  }
  r = par_newarray(L, PAR_F64, 1, axis == 1 ? cols : rows, 1);
  checkstatus(L, axis == 1
      ? par_reduce_cols_f(PAR_OP_SUM, a->data, a->dtype, rows, cols, par_threads_for(a->size), r->data)
      : par_reduce_rows_f(PAR_OP_SUM, a->data, a->dtype, rows, cols, 0.0, par_threads_for(a->size), r->data));
  for (i = 0; i < r->size; i++) PAR_F64P(r)[i] /= (double)(axis == 1 ? rows : cols);
  return 1;
}

/* The variance of all elements with 'ddof' (par_moments). */
static double variance(lua_State *L, const char *name) {
  par_array *a = par_checkarray(L, 1);
  double ddof = luaL_optnumber(L, 2, 0.0), mean, var;
  par_noaxis(L, 2, name, "reduces the whole array");
  checkstatus(L, par_moments(a->data, a->dtype, a->size, ddof, par_threads_for(a->size), &mean,
                             &var));
  return var;
}

static int l_var(lua_State *L) {
  lua_pushnumber(L, variance(L, "var"));
  return 1;
}

static int l_std(lua_State *L) {
  lua_pushnumber(L, sqrt(variance(L, "std")));
  return 1;
}

/* 1-based index, in row-major order, of the first extremum (or first NaN). */
static int argreduce(lua_State *L, par_op op, const char *name) {
  par_array *a = par_checkarray(L, 1);
  int64_t i;
  par_noaxis(L, 1, name, "reduces the whole array");
  if (a->size == 0)
    luaL_argerror(L, 1, lua_pushfstring(L, "attempt to get %s of an empty sequence", name));
  checkstatus(L, par_argreduce(op, a->data, a->dtype, a->size, par_threads_for(a->size), &i));
  lua_pushinteger(L, i + 1);
  return 1;
}

static int l_argmin(lua_State *L) { return argreduce(L, PAR_OP_MIN, "argmin"); }
static int l_argmax(lua_State *L) { return argreduce(L, PAR_OP_MAX, "argmax"); }

/* a:cumsum(): running sums of the flattened array (sequential as NumPy's);
** int64 and bool give int64. */
static int l_cumsum(lua_State *L) {
  par_array *a = par_checkarray(L, 1), *r;
  par_noaxis(L, 1, "cumsum", "runs over the flattened array");
  r = par_newarray(L, a->dtype == PAR_F64 ? PAR_F64 : PAR_I64, 1, a->size, 1);
  if (a->dtype == PAR_F64) par_cumsum_f(a->data, a->size, r->data);
  else par_cumsum_i(a->data, a->dtype, a->size, r->data);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"sum", l_sum},
  {"prod", l_prod},
  {"min", l_min},
  {"max", l_max},
  {"mean", l_mean},
  {"var", l_var},
  {"std", l_std},
  {"argmin", l_argmin},
  {"argmax", l_argmax},
  {"cumsum", l_cumsum},
  {NULL, NULL}
};

void par_open_array_reduce(lua_State *L) {
  luaL_setfuncs(L, funcs, 0);
  par_array_addmethods(L, funcs);
}
