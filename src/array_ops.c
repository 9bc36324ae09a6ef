/*
** array_ops.c: element-wise arithmetic on arrays (the metamethods __add ...
** __unm), comparisons (par.lt ... par.ne), par.where, a:select(mask) and
** a:count().
**
** Every element gets exactly the value Lua computes for the same operands:
** int64 with int64 stays int64 for + - * // % (wrapping), / and ^ give
** float64, mixed operands are computed in float64; comparisons between
** integers and floats are exact, as in Lua. So results do not depend on the
** thread count, and the loops stay plain enough for the compiler to
** vectorise (the build keeps -ffp-contract=off: no fused multiply-adds).
*/
#include <math.h>
#include <string.h>

#include "array.h"
#include "array_elementwise.h"
#include "lauxlib.h"
#include "modules.h"
#include "parallel.h"

/* Elements converted at a time when an operand needs int64 -> float64. */
#define CHUNK 512

/* Elements lo..hi of o as float64: a pointer into o's elements, or a copy
** converted from int64 into buf; NULL for a scalar, whose value goes to *s. */
static const double *fchunk(const par_operand *o, int64_t lo, int64_t hi,
                            double *buf, double *s) {
  const int64_t *q;
  int64_t k;
  *s = o->dt == PAR_I64 ? (double)o->i : o->f;
  if (o->p == NULL) return NULL;
  if (o->dt == PAR_F64) return (const double *)o->p + lo;
  q = (const int64_t *)o->p + lo;
  for (k = 0; k < hi - lo; k++) buf[k] = (double)q[k];
  return buf;
}

/* Typed element pointer of an operand from index lo, NULL for a scalar. */
#define ELEMS(o, T, lo) ((o)->p != NULL ? (const T *)(o)->p + (lo) : NULL)


/* ---- float arithmetic ---- */

/* Lua's float modulo: fmod truncates, so a non-zero remainder of the
** opposite sign to the divisor is moved into the divisor's sign. */
static double lua_fmod(double a, double b) {
  double m = fmod(a, b);
  if ((m > 0 && b < 0) || (m < 0 && b > 0)) m += b;
  return m;
}

/* Lua 5.4's float power: squaring is a multiplication. */
static double lua_fpow(double a, double b) {
  return b == 2 ? a * a : pow(a, b);
}

/* z[k] = EXPR for k in [0, n), with a and b taken from x and y or, where
** those are NULL, from the scalars xs and ys. */
#define LOOPS(T, EXPR) \
  if (x == NULL) { for (k = 0; k < n; k++) { T a = xs, b = y[k]; z[k] = (EXPR); } } \
  else if (y == NULL) { for (k = 0; k < n; k++) { T a = x[k], b = ys; z[k] = (EXPR); } } \
  else { for (k = 0; k < n; k++) { T a = x[k], b = y[k]; z[k] = (EXPR); } }

static void farith(int op, const double *x, double xs, const double *y, double ys,
                   double *restrict z, int64_t n) {
  int64_t k;
  switch (op) {
    case LUA_OPADD: LOOPS(double, a + b); break;
    case LUA_OPSUB: LOOPS(double, a - b); break;
    case LUA_OPMUL: LOOPS(double, a * b); break;
    case LUA_OPDIV: LOOPS(double, a / b); break;
    case LUA_OPIDIV: LOOPS(double, floor(a / b)); break;
    case LUA_OPMOD: LOOPS(double, lua_fmod(a, b)); break;
    case LUA_OPPOW:
      if (y == NULL && ys == 2)   /* the common x^2, vectorised */
        for (k = 0; k < n; k++) z[k] = x[k] * x[k];
      else {
        LOOPS(double, lua_fpow(a, b));
      }
      break;
    default:  /* LUA_OPUNM */
      for (k = 0; k < n; k++) z[k] = -x[k];
      break;
  }
}

void par_arith_f64(int op, const par_operand *x, const par_operand *y,
                   double *z, int64_t lo, int64_t hi) {
  static const par_operand zero = {NULL, PAR_F64, 0, 0.0};
  double bx[CHUNK], by[CHUNK];
  int64_t s;
  if (op == LUA_OPUNM) y = &zero;
  for (s = lo; s < hi; s += CHUNK) {
    int64_t e = hi - s > CHUNK ? s + CHUNK : hi;
    double xs, ys;
    const double *px = fchunk(x, s, e, bx, &xs);
    const double *py = fchunk(y, s, e, by, &ys);
    farith(op, px, xs, py, ys, z + s, e - s);
  }
}


/* ---- integer arithmetic ---- */

/* Wrapping + - *: computed in uint64, so overflow is defined. */
#define WRAP(a, op, b) ((int64_t)((uint64_t)(a) op (uint64_t)(b)))

/* Lua's integer floor division (luaV_idiv), n != 0. */
static int64_t lua_idiv(int64_t m, int64_t n) {
  int64_t q;
  if (n == -1) return WRAP(0, -, m);  /* INT64_MIN // -1 wraps */
  q = m / n;
  if ((m ^ n) < 0 && m % n != 0) q -= 1;
  return q;
}

/* Lua's integer modulo (luaV_mod), n != 0. */
static int64_t lua_imod(int64_t m, int64_t n) {
  int64_t r;
  if (n == -1) return 0;  /* avoids INT64_MIN % -1 */
  r = m % n;
  if (r != 0 && (r ^ n) < 0) r += n;
  return r;
}

/* Is some divisor zero? */
static int haszero(const int64_t *y, int64_t ys, int64_t n) {
  int64_t k;
  int zero = 0;
  if (y == NULL) return n > 0 && ys == 0;
  for (k = 0; k < n; k++) zero |= (y[k] == 0);
  return zero;
}

static int iarith(int op, const int64_t *x, int64_t xs, const int64_t *y, int64_t ys,
                  int64_t *restrict z, int64_t n) {
  int64_t k;
  switch (op) {
    case LUA_OPADD: LOOPS(int64_t, WRAP(a, +, b)); break;
    case LUA_OPSUB: LOOPS(int64_t, WRAP(a, -, b)); break;
    case LUA_OPMUL: LOOPS(int64_t, WRAP(a, *, b)); break;
    case LUA_OPIDIV:
      if (haszero(y, ys, n)) return 1;
      LOOPS(int64_t, lua_idiv(a, b));
      break;
    case LUA_OPMOD:
      if (haszero(y, ys, n)) return 1;
      LOOPS(int64_t, lua_imod(a, b));
      break;
    default:  /* LUA_OPUNM */
      for (k = 0; k < n; k++) z[k] = WRAP(0, -, x[k]);
      break;
  }
  return 0;
}

int par_arith_i64(int op, const par_operand *x, const par_operand *y,
                  int64_t *z, int64_t lo, int64_t hi) {
  if (op == LUA_OPUNM) y = x;
  return iarith(op, ELEMS(x, int64_t, lo), x->i, ELEMS(y, int64_t, lo), y->i,
                z + lo, hi - lo);
}


/* ---- comparisons ---- */

int par_cmp_int_float(int64_t i, double f) {
  int64_t t;
  double frac;
  if (f != f) return 2;
  if (f >= 0x1p63) return -1;
  if (f < -0x1p63) return 1;
  t = (int64_t)f;          /* f's integer part, exactly */
  if (i != t) return i < t ? -1 : 1;
  frac = f - (double)t;    /* exact: (double)t is exact when f has a fraction */
  return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

/* Does the three-way result r (as par_cmp_int_float's) satisfy op? */
static int holds(int op, int r) {
  switch (op) {
    case PAR_CMPLT: return r == -1;
    case PAR_CMPLE: return r == -1 || r == 0;
    case PAR_CMPEQ: return r == 0;
    default: return r != 0;
  }
}

/* Comparisons of two operands of the same numeric type T. */
#define CMPFN(name, T) \
  static void name(int op, const T *x, T xs, const T *y, T ys, \
                   uint8_t *restrict z, int64_t n) { \
    int64_t k; \
    switch (op) { \
      case PAR_CMPLT: LOOPS(T, a < b); break; \
      case PAR_CMPLE: LOOPS(T, a <= b); break; \
      case PAR_CMPEQ: LOOPS(T, a == b); break; \
      default: LOOPS(T, a != b); break; \
    } \
  }

CMPFN(cmp_f64, double)
CMPFN(cmp_i64, int64_t)

/* Bool equality (any non-zero byte is true). */
static void cmp_bool(int op, const uint8_t *x, uint8_t xs, const uint8_t *y, uint8_t ys,
                     uint8_t *restrict z, int64_t n) {
  int64_t k;
  int ne = op == PAR_CMPNE;
  LOOPS(int, ((a != 0) == (b != 0)) ^ ne);
}

/* Integer against float, element by element. */
static void cmp_mixed(int op, const par_operand *x, const par_operand *y,
                      uint8_t *z, int64_t lo, int64_t hi) {
  const par_operand *io = x->dt == PAR_I64 ? x : y, *fo = x->dt == PAR_I64 ? y : x;
  const int64_t *ip = ELEMS(io, int64_t, 0);
  const double *fp = ELEMS(fo, double, 0);
  int64_t k;
  for (k = lo; k < hi; k++) {
    int r = par_cmp_int_float(ip ? ip[k] : io->i, fp ? fp[k] : fo->f);
    if (io == y && r != 2) r = -r;
    z[k] = (uint8_t)holds(op, r);
  }
}

void par_compare(int op, const par_operand *x, const par_operand *y,
                 uint8_t *z, int64_t lo, int64_t hi) {
  if (x->dt == PAR_BOOL)
    cmp_bool(op, ELEMS(x, uint8_t, lo), (uint8_t)x->i, ELEMS(y, uint8_t, lo),
             (uint8_t)y->i, z + lo, hi - lo);
  else if (x->dt != y->dt)
    cmp_mixed(op, x, y, z, lo, hi);
  else if (x->dt == PAR_F64)
    cmp_f64(op, ELEMS(x, double, lo), x->f, ELEMS(y, double, lo), y->f, z + lo, hi - lo);
  else
    cmp_i64(op, ELEMS(x, int64_t, lo), x->i, ELEMS(y, int64_t, lo), y->i, z + lo, hi - lo);
}


/* ---- where, select, count ---- */

/* z[k] = m[k] ? a : b over [0, n), a and b from pa/pb or the scalars. */
#define WHERE(T, pa, sa, pb, sb) \
  if (pa != NULL && pb != NULL) { for (k = 0; k < n; k++) z[k] = m[k] ? pa[k] : pb[k]; } \
  else if (pa != NULL) { for (k = 0; k < n; k++) z[k] = m[k] ? pa[k] : (T)(sb); } \
  else if (pb != NULL) { for (k = 0; k < n; k++) z[k] = m[k] ? (T)(sa) : pb[k]; } \
  else { for (k = 0; k < n; k++) z[k] = m[k] ? (T)(sa) : (T)(sb); }

#define WHEREFN(name, T) \
  static void name(const uint8_t *m, const T *pa, T sa, const T *pb, T sb, \
                   T *restrict z, int64_t n) { \
    int64_t k; \
    WHERE(T, pa, sa, pb, sb) \
  }

WHEREFN(where_f64, double)
WHEREFN(where_i64, int64_t)
WHEREFN(where_bool, uint8_t)

void par_where(const uint8_t *m, const par_operand *a, const par_operand *b,
               par_dtype dt, void *z, int64_t lo, int64_t hi) {
  double ba[CHUNK], bb[CHUNK];
  int64_t s;
  if (dt == PAR_I64)
    where_i64(m + lo, ELEMS(a, int64_t, lo), a->i, ELEMS(b, int64_t, lo), b->i,
              (int64_t *)z + lo, hi - lo);
  else if (dt == PAR_BOOL)
    where_bool(m + lo, ELEMS(a, uint8_t, lo), (uint8_t)a->i, ELEMS(b, uint8_t, lo),
               (uint8_t)b->i, (uint8_t *)z + lo, hi - lo);
  else
    for (s = lo; s < hi; s += CHUNK) {
      int64_t e = hi - s > CHUNK ? s + CHUNK : hi;
      double sa, sb;
      const double *pa = fchunk(a, s, e, ba, &sa), *pb = fchunk(b, s, e, bb, &sb);
      where_f64(m + s, pa, sa, pb, sb, (double *)z + s, e - s);
    }
}

int64_t par_count_nonzero(const void *p, par_dtype dt, int64_t lo, int64_t hi) {
  int64_t k, c = 0;
  if (dt == PAR_F64) {
    const double *x = (const double *)p;
    for (k = lo; k < hi; k++) c += x[k] != 0;
  }
  else if (dt == PAR_I64) {
    const int64_t *x = (const int64_t *)p;
    for (k = lo; k < hi; k++) c += x[k] != 0;
  }
  else {
    const uint8_t *x = (const uint8_t *)p;
    for (k = lo; k < hi; k++) c += x[k] != 0;
  }
  return c;
}

int64_t par_select(const uint8_t *m, const void *src, size_t esize, void *dst,
                   int64_t lo, int64_t hi) {
  int64_t k, c = 0;
  if (esize == 8) {
    const uint64_t *x = (const uint64_t *)src;
    uint64_t *y = (uint64_t *)dst;
    for (k = lo; k < hi; k++)
      if (m[k]) y[c++] = x[k];
  }
  else {
    const uint8_t *x = (const uint8_t *)src;
    uint8_t *y = (uint8_t *)dst;
    for (k = lo; k < hi; k++)
      if (m[k]) y[c++] = x[k];
  }
  return c;
}


/* ---- Lua bindings ---- */

/* What a block function computes. */
typedef struct ew_ctx {
  int op;
  par_operand x, y;
  par_dtype dt;
  const uint8_t *m;
  const void *src;
  void *z;
  int64_t *counts;     /* per block (select, count) */
} ew_ctx;

static int fblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  ew_ctx *c = (ew_ctx *)ud;
  (void)b; (void)tid;
  par_arith_f64(c->op, &c->x, &c->y, (double *)c->z, lo, hi);
  return 0;
}

static int iblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  ew_ctx *c = (ew_ctx *)ud;
  (void)b; (void)tid;
  return par_arith_i64(c->op, &c->x, &c->y, (int64_t *)c->z, lo, hi);
}

static int cmpblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  ew_ctx *c = (ew_ctx *)ud;
  (void)b; (void)tid;
  par_compare(c->op, &c->x, &c->y, (uint8_t *)c->z, lo, hi);
  return 0;
}

static int whereblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  ew_ctx *c = (ew_ctx *)ud;
  (void)b; (void)tid;
  par_where(c->m, &c->x, &c->y, c->dt, c->z, lo, hi);
  return 0;
}

static int countblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  ew_ctx *c = (ew_ctx *)ud;
  (void)tid;
  c->counts[b] = par_count_nonzero(c->src, c->dt, lo, hi);
  return 0;
}

static int selectblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  ew_ctx *c = (ew_ctx *)ud;
  size_t esize = par_dtype_size(c->dt);
  (void)tid;
  par_select(c->m, c->src, esize, (char *)c->z + (size_t)c->counts[b] * esize, lo, hi);
  return 0;
}

/* Runs fn over n elements; raises 'failmsg' if a block fails. */
static void run(lua_State *L, int64_t n, par_block_fn fn, ew_ctx *c, const char *failmsg) {
  par_result r = par_run(n, PAR_EW_BLOCK, par_threads_for(n), fn, c);
  if (r.status == PAR_INTERRUPTED) par_raise_interrupt(L);
  else if (r.status == PAR_FAILED) luaL_error(L, "%s", failmsg);
}

/* Reads the value at idx into o if it is an array (also returned in *arr),
** a number or a boolean; returns 0 for other values. */
static int tooperand(lua_State *L, int idx, par_operand *o, par_array **arr) {
  par_array *a = par_toarray(L, idx);
  *arr = a;
  o->p = NULL;
  o->i = 0;
  o->f = 0;
  if (a != NULL) {
    if (a->buf == NULL) luaL_error(L, "attempt to use a closed array");
    o->p = a->data;
    o->dt = a->dtype;
    return 1;
  }
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      o->dt = lua_isinteger(L, idx) ? PAR_I64 : PAR_F64;
      if (o->dt == PAR_I64) o->i = lua_tointeger(L, idx);
      else o->f = lua_tonumber(L, idx);
      return 1;
    case LUA_TBOOLEAN:
      o->dt = PAR_BOOL;
      o->i = lua_toboolean(L, idx);
      return 1;
    default:
      return 0;
  }
}

/* "float64 array", "number", "boolean"...: a value's kind for messages. */
static const char *kindname(lua_State *L, int idx) {
  par_array *a = par_toarray(L, idx);
  if (a != NULL) return lua_pushfstring(L, "%s array", par_dtype_name(a->dtype));
  return luaL_typename(L, idx);
}

/* The array whose shape the result takes (a or b, at least one non-NULL);
** raises if both are arrays of different shapes. */
static const par_array *resultshape(lua_State *L, const par_array *a, const par_array *b) {
  if (a != NULL && b != NULL && !par_sameshape(a, b)) {
    char sa[48], sb[48];
    luaL_error(L, "shapes %s and %s do not match", par_shapestr(a, sa), par_shapestr(b, sb));
  }
  return a != NULL ? a : b;
}

/* An operand of arithmetic: a numeric array or a number. */
static par_array *arithoperand(lua_State *L, int idx, par_operand *o) {
  par_array *a;
  if (!tooperand(L, idx, o, &a) || (a == NULL && o->dt == PAR_BOOL))
    luaL_error(L, "attempt to perform arithmetic on a %s value", luaL_typename(L, idx));
  if (o->dt == PAR_BOOL)
    luaL_error(L, "attempt to perform arithmetic on a bool array");
  return a;
}

/* The metamethod for op: at least one operand is an array. */
static int arith(lua_State *L, int op) {
  ew_ctx c;
  par_array *a = arithoperand(L, 1, &c.x), *b = arithoperand(L, 2, &c.y);
  const par_array *shape = resultshape(L, a, b);
  int isint = c.x.dt == PAR_I64 && c.y.dt == PAR_I64 && op != LUA_OPDIV && op != LUA_OPPOW;
  par_array *z = par_newarray_like(L, shape, isint ? PAR_I64 : PAR_F64);
  c.op = op;
  c.z = z->data;
  run(L, z->size, isint ? iblock : fblock, &c, op == LUA_OPIDIV ?
      "attempt to divide by zero" : "attempt to perform 'n%0'");
  return 1;
}

static int m_add(lua_State *L) { return arith(L, LUA_OPADD); }
static int m_sub(lua_State *L) { return arith(L, LUA_OPSUB); }
static int m_mul(lua_State *L) { return arith(L, LUA_OPMUL); }
static int m_div(lua_State *L) { return arith(L, LUA_OPDIV); }
static int m_idiv(lua_State *L) { return arith(L, LUA_OPIDIV); }
static int m_mod(lua_State *L) { return arith(L, LUA_OPMOD); }
static int m_pow(lua_State *L) { return arith(L, LUA_OPPOW); }
static int m_unm(lua_State *L) { return arith(L, LUA_OPUNM); }

/* Two scalars: Lua's own comparison (numbers, or booleans for eq/ne). */
static int scalarcompare(lua_State *L, int op, int swap, const par_operand *x,
                         const par_operand *y) {
  static const int luaop[] = {LUA_OPLT, LUA_OPLE, LUA_OPEQ, LUA_OPEQ};
  if ((x->dt == PAR_BOOL) != (y->dt == PAR_BOOL) || (x->dt == PAR_BOOL && op < PAR_CMPEQ))
    return luaL_error(L, "attempt to compare %s with %s", kindname(L, 1), kindname(L, 2));
  lua_pushboolean(L, lua_compare(L, swap ? 2 : 1, swap ? 1 : 2, luaop[op]) ^ (op == PAR_CMPNE));
  return 1;
}

/* par.lt and friends; 'swap' turns gt into lt and ge into le. */
static int compare(lua_State *L, int op, int swap) {
  ew_ctx c;
  par_operand p1, p2;
  par_array *a, *b, *z;
  if (!tooperand(L, 1, &p1, &a)) luaL_typeerror(L, 1, "number, boolean or array");
  if (!tooperand(L, 2, &p2, &b)) luaL_typeerror(L, 2, "number, boolean or array");
  if (a == NULL && b == NULL) return scalarcompare(L, op, swap, &p1, &p2);
  if ((p1.dt == PAR_BOOL) != (p2.dt == PAR_BOOL) || (p1.dt == PAR_BOOL && op < PAR_CMPEQ))
    return luaL_error(L, "attempt to compare %s with %s", kindname(L, 1), kindname(L, 2));
  z = par_newarray_like(L, resultshape(L, a, b), PAR_BOOL);
  c.op = op;
  c.x = swap ? p2 : p1;
  c.y = swap ? p1 : p2;
  c.z = z->data;
  run(L, z->size, cmpblock, &c, "");
  return 1;
}

static int l_lt(lua_State *L) { return compare(L, PAR_CMPLT, 0); }
static int l_le(lua_State *L) { return compare(L, PAR_CMPLE, 0); }
static int l_gt(lua_State *L) { return compare(L, PAR_CMPLT, 1); }
static int l_ge(lua_State *L) { return compare(L, PAR_CMPLE, 1); }
static int l_eq(lua_State *L) { return compare(L, PAR_CMPEQ, 0); }
static int l_ne(lua_State *L) { return compare(L, PAR_CMPNE, 0); }

/* The bool array at argument arg. */
static par_array *checkmask(lua_State *L, int arg) {
  par_array *m = par_checkarray(L, arg);
  if (m->dtype != PAR_BOOL)
    luaL_argerror(L, arg, lua_pushfstring(L, "bool array expected, got %s array",
                                          par_dtype_name(m->dtype)));
  return m;
}

/* par.where(mask, a, b): a and b arrays shaped like mask, or scalars. */
static int l_where(lua_State *L) {
  ew_ctx c;
  par_array *m = checkmask(L, 1), *a, *b, *z;
  if (!tooperand(L, 2, &c.x, &a)) luaL_typeerror(L, 2, "number, boolean or array");
  if (!tooperand(L, 3, &c.y, &b)) luaL_typeerror(L, 3, "number, boolean or array");
  resultshape(L, m, a);
  resultshape(L, m, b);
  if ((c.x.dt == PAR_BOOL) != (c.y.dt == PAR_BOOL))
    return luaL_argerror(L, 3, lua_pushfstring(L, "cannot mix %s and %s",
                                               kindname(L, 2), kindname(L, 3)));
  c.dt = c.x.dt == PAR_BOOL ? PAR_BOOL
       : (c.x.dt == PAR_I64 && c.y.dt == PAR_I64) ? PAR_I64 : PAR_F64;
  z = par_newarray_like(L, m, c.dt);
  c.m = (const uint8_t *)m->data;
  c.z = z->data;
  run(L, z->size, whereblock, &c, "");
  return 1;
}

/* Counts the non-zero elements of a per block into a new userdata (pushed)
** and returns their total. */
static int64_t blockcounts(lua_State *L, const par_array *a, ew_ctx *c) {
  int64_t nb = par_nblocks(a->size, PAR_EW_BLOCK), b, total = 0;
  c->counts = (int64_t *)lua_newuserdatauv(L, (size_t)(nb + 1) * sizeof(int64_t), 0);
  c->src = a->data;
  c->dt = a->dtype;
  run(L, a->size, countblock, c, "");
  for (b = 0; b < nb; b++) total += c->counts[b];
  return total;
}

/* a:count(): number of true (non-zero) elements. */
static int l_count(lua_State *L) {
  ew_ctx c;
  par_array *a = par_checkarray(L, 1);
  par_noaxis(L, 1, "count", "counts the whole array");
  lua_pushinteger(L, blockcounts(L, a, &c));
  return 1;
}

/* a:select(mask): the elements where mask is true, as a 1-D array. */
static int l_select(lua_State *L) {
  ew_ctx c;
  par_array *a = par_checkarray(L, 1), *m = checkmask(L, 2), *z;
  int64_t nb = par_nblocks(m->size, PAR_EW_BLOCK), b, total;
  resultshape(L, a, m);
  total = blockcounts(L, m, &c);
  for (b = 0, total = 0; b < nb; b++) {  /* counts become offsets */
    int64_t k = c.counts[b];
    c.counts[b] = total;
    total += k;
  }
  z = par_newarray(L, a->dtype, 1, total, 1);
  c.m = (const uint8_t *)m->data;
  c.src = a->data;
  c.dt = a->dtype;
  c.z = z->data;
  run(L, m->size, selectblock, &c, "");
  return 1;
}

static const luaL_Reg meta[] = {
  {"__add", m_add}, {"__sub", m_sub}, {"__mul", m_mul}, {"__div", m_div},
  {"__idiv", m_idiv}, {"__mod", m_mod}, {"__pow", m_pow}, {"__unm", m_unm},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"select", l_select},
  {"count", l_count},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"lt", l_lt}, {"le", l_le}, {"gt", l_gt}, {"ge", l_ge}, {"eq", l_eq}, {"ne", l_ne},
  {"where", l_where},
  {NULL, NULL}
};

void par_open_array_ops(lua_State *L) {
  luaL_setfuncs(L, funcs, 0);
  par_array_addmethods(L, methods);
  par_array_addmeta(L, meta);
}
