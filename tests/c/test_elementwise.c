/*
** test_elementwise.c: the element-wise kernels of array_elementwise.h
** against scalar references: Lua itself (lua_arith, lua_compare) for the
** arithmetic and comparisons, plain loops for where/select/count, and libm
** for the vector math (exact for sqrt/abs/floor/ceil, within 4 ulp for the
** libmvec functions) on every instruction set this CPU has.
*/
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array_elementwise.h"
#include "lauxlib.h"
#include "lualib.h"
#include "unit.h"

#define NF (sizeof fvals / sizeof fvals[0])
#define NI (sizeof ivals / sizeof ivals[0])

static const double fvals[] = {
  0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 5.5, -7.25, 0.1, 1e300,
  -1e300, 1e-300, DBL_MIN, DBL_TRUE_MIN, DBL_MAX, 9007199254740992.0,
  9007199254740993.0, -9007199254740994.0, 0x1p63, -0x1p63, 0x1p64, 4.5e15 + 0.5,
  INFINITY, -INFINITY, NAN
};

static const int64_t ivals[] = {
  0, 1, -1, 2, -2, 3, -3, 7, -7, 10, 1000000007, -123456789012345,
  INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 9007199254740992,
  9007199254740993, -9007199254740993, (int64_t)1 << 62
};

static lua_State *L;

static par_operand farr(const double *p) {
  par_operand o = {p, PAR_F64, 0, 0.0};
  return o;
}
static par_operand iarr(const int64_t *p) {
  par_operand o = {p, PAR_I64, 0, 0.0};
  return o;
}
static par_operand fsc(double f) {
  par_operand o = {NULL, PAR_F64, 0, f};
  return o;
}
static par_operand isc(int64_t i) {
  par_operand o = {NULL, PAR_I64, i, 0.0};
  return o;
}

/* Lua's a op b, as pushed by the two callers; returns 0 if Lua raised. */
static int lua_op(lua_State *LL) {
  int op = (int)lua_tointeger(LL, 3);
  lua_settop(LL, 2);
  if (op == LUA_OPUNM) lua_pop(LL, 1);
  lua_arith(LL, op);
  return 1;
}

/* Lua's result for x op y with the given number kinds; 0 if it raised. */
static int lua_ref(int op, int xint, int64_t xi, double xf, int yint, int64_t yi, double yf,
                   lua_Integer *ri, double *rf, int *rint) {
  int ok;
  lua_pushcfunction(L, lua_op);
  if (xint) lua_pushinteger(L, xi); else lua_pushnumber(L, xf);
  if (yint) lua_pushinteger(L, yi); else lua_pushnumber(L, yf);
  lua_pushinteger(L, op);
  ok = lua_pcall(L, 3, 1, 0) == LUA_OK;
  if (ok) {
    *rint = lua_isinteger(L, -1);
    if (*rint) *ri = lua_tointeger(L, -1); else *rf = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return ok;
}

static const int arithops[] = {
  LUA_OPADD, LUA_OPSUB, LUA_OPMUL, LUA_OPMOD, LUA_OPPOW, LUA_OPDIV, LUA_OPIDIV, LUA_OPUNM
};

/* Float (and mixed) arithmetic: array-array, array-scalar, scalar-array. */
static void test_float_arith(void) {
  size_t o, i, j;
  double x[NF * NF], y[NF * NF], z[NF * NF], zs[NF];
  int64_t xi[NI * NF];
  for (i = 0; i < NF; i++)
    for (j = 0; j < NF; j++) { x[i * NF + j] = fvals[i]; y[i * NF + j] = fvals[j]; }
  for (o = 0; o < sizeof arithops / sizeof arithops[0]; o++) {
    int op = arithops[o];
    par_operand px = farr(x), py = farr(y);
    par_arith_f64(op, &px, &py, z, 0, NF * NF);
    for (i = 0; i < NF * NF; i++) {
      lua_Integer ri; double rf; int rint;
      CHECK(lua_ref(op, 0, 0, x[i], 0, 0, y[i], &ri, &rf, &rint) && !rint);
      CHECK_EQ_BITS(z[i], rf);
    }
    for (i = 0; i < NF; i++) {   /* scalar on the right, then on the left */
      par_operand ps = fsc(fvals[i]);
      px = farr(fvals);
      par_arith_f64(op, &px, &ps, zs, 0, NF);
      for (j = 0; j < NF; j++) {
        lua_Integer ri; double rf; int rint;
        lua_ref(op, 0, 0, fvals[j], 0, 0, fvals[i], &ri, &rf, &rint);
        CHECK_EQ_BITS(zs[j], rf);
      }
      if (op == LUA_OPUNM) continue;
      par_arith_f64(op, &ps, &px, zs, 0, NF);
      for (j = 0; j < NF; j++) {
        lua_Integer ri; double rf; int rint;
        lua_ref(op, 0, 0, fvals[i], 0, 0, fvals[j], &ri, &rf, &rint);
        CHECK_EQ_BITS(zs[j], rf);
      }
    }
    if (op == LUA_OPUNM) continue;   /* -int is an integer */
    /* int64 array with float array, and int64 scalar with float array */
    for (i = 0; i < NI; i++)
      for (j = 0; j < NF; j++) { xi[i * NF + j] = ivals[i]; y[i * NF + j] = fvals[j]; }
    px = iarr(xi); py = farr(y);
    par_arith_f64(op, &px, &py, z, 0, NI * NF);
    for (i = 0; i < NI * NF; i++) {
      lua_Integer ri; double rf; int rint;
      lua_ref(op, 1, xi[i], 0, 0, 0, y[i], &ri, &rf, &rint);
      CHECK_EQ_BITS(z[i], rf);
    }
    for (i = 0; i < NI; i++) {
      par_operand ps = isc(ivals[i]);
      px = farr(fvals);
      par_arith_f64(op, &px, &ps, zs, 0, NF);
      for (j = 0; j < NF; j++) {
        lua_Integer ri; double rf; int rint;
        lua_ref(op, 0, 0, fvals[j], 1, ivals[i], 0, &ri, &rf, &rint);
        CHECK_EQ_BITS(zs[j], rf);
      }
    }
  }
}

/* Integer arithmetic, including wrapping and division by zero. */
static void test_int_arith(void) {
  size_t o, i, j;
  int64_t x[NI * NI], y[NI * NI], z[NI * NI], zs[NI];
  double zf[NI * NI];
  for (i = 0; i < NI; i++)
    for (j = 0; j < NI; j++) { x[i * NI + j] = ivals[j]; y[i * NI + j] = ivals[i]; }
  for (o = 0; o < sizeof arithops / sizeof arithops[0]; o++) {
    int op = arithops[o], isint = op != LUA_OPDIV && op != LUA_OPPOW;
    par_operand px = iarr(x), py = iarr(y);
    if (isint) {
      int zero = (op == LUA_OPIDIV || op == LUA_OPMOD);
      CHECK(par_arith_i64(op, &px, &py, z, 0, NI * NI) == zero);
      CHECK(par_arith_i64(op, &px, &py, z, NI, NI * NI) == 0);  /* no zero divisor there */
    }
    else par_arith_f64(op, &px, &py, zf, 0, NI * NI);
    for (i = isint ? NI : 0; i < NI * NI; i++) {
      lua_Integer ri; double rf; int rint;
      CHECK(lua_ref(op, 1, x[i], 0, 1, y[i], 0, &ri, &rf, &rint));
      CHECK(rint == isint);
      if (isint) CHECK_EQ_I64(z[i], ri);
      else CHECK_EQ_BITS(zf[i], rf);
    }
    if (!isint) continue;
    for (i = 0; i < NI; i++) {   /* scalar divisor / scalar dividend */
      par_operand ps = isc(ivals[i]);
      int rc;
      px = iarr(ivals);
      rc = par_arith_i64(op, &px, &ps, zs, 0, NI);
      CHECK(rc == (ivals[i] == 0 && (op == LUA_OPIDIV || op == LUA_OPMOD)));
      for (j = 0; j < NI && rc == 0; j++) {
        lua_Integer ri; double rf; int rint;
        lua_ref(op, 1, ivals[j], 0, 1, ivals[i], 0, &ri, &rf, &rint);
        CHECK_EQ_I64(zs[j], ri);
      }
      if (op == LUA_OPUNM) continue;
      CHECK(par_arith_i64(op, &ps, &px, zs, 1, NI) == 0);  /* ivals[0] is the 0 */
      for (j = 1; j < NI; j++) {
        lua_Integer ri; double rf; int rint;
        lua_ref(op, 1, ivals[i], 0, 1, ivals[j], 0, &ri, &rf, &rint);
        CHECK_EQ_I64(zs[j], ri);
      }
    }
  }
  {   /* an empty range never divides */
    par_operand px = iarr(x), pz = isc(0);
    CHECK(par_arith_i64(LUA_OPIDIV, &px, &pz, z, 5, 5) == 0);
  }
}

/* Lua's comparison of two numbers (op as par_compare's). */
static int lua_cmp(int op, int xint, int64_t xi, double xf, int yint, int64_t yi, double yf) {
  static const int luaop[] = {LUA_OPLT, LUA_OPLE, LUA_OPEQ, LUA_OPEQ};
  int r;
  if (xint) lua_pushinteger(L, xi); else lua_pushnumber(L, xf);
  if (yint) lua_pushinteger(L, yi); else lua_pushnumber(L, yf);
  r = lua_compare(L, -2, -1, luaop[op]);
  lua_pop(L, 2);
  return op == PAR_CMPNE ? !r : r;
}

static void test_compare(void) {
  int op;
  size_t i, j;
  uint8_t z[NI * NF];
  for (op = PAR_CMPLT; op <= PAR_CMPNE; op++) {
    for (i = 0; i < NI; i++) {
      par_operand pi = isc(ivals[i]), pf = farr(fvals), pa = iarr(ivals);
      par_compare(op, &pi, &pf, z, 0, NF);          /* int scalar, float array */
      for (j = 0; j < NF; j++) CHECK(z[j] == lua_cmp(op, 1, ivals[i], 0, 0, 0, fvals[j]));
      par_compare(op, &pf, &pi, z, 0, NF);          /* float array, int scalar */
      for (j = 0; j < NF; j++) CHECK(z[j] == lua_cmp(op, 0, 0, fvals[j], 1, ivals[i], 0));
      par_compare(op, &pa, &pi, z, 0, NI);          /* int array, int scalar */
      for (j = 0; j < NI; j++) CHECK(z[j] == lua_cmp(op, 1, ivals[j], 0, 1, ivals[i], 0));
    }
    for (i = 0; i < NF; i++) {
      par_operand ps = fsc(fvals[i]), pf = farr(fvals), pa = iarr(ivals);
      par_compare(op, &ps, &pf, z, 0, NF);
      for (j = 0; j < NF; j++) CHECK(z[j] == lua_cmp(op, 0, 0, fvals[i], 0, 0, fvals[j]));
      par_compare(op, &pa, &ps, z, 0, NI);          /* int array, float scalar */
      for (j = 0; j < NI; j++) CHECK(z[j] == lua_cmp(op, 1, ivals[j], 0, 0, 0, fvals[i]));
    }
  }
  /* around 2^53 and 2^63, where converting the integer to double would lie */
  CHECK(par_cmp_int_float(9007199254740993, 9007199254740992.0) == 1);
  CHECK(par_cmp_int_float(INT64_MAX, 0x1p63) == -1);
  CHECK(par_cmp_int_float(INT64_MIN, -0x1p63) == 0);
  CHECK(par_cmp_int_float(-9007199254740993, -9007199254740992.0) == -1);
  CHECK(par_cmp_int_float(0, -0.0) == 0);
  CHECK(par_cmp_int_float(-1, -0.5) == -1);
  CHECK(par_cmp_int_float(5, NAN) == 2);
  {   /* bools: eq and ne, any non-zero byte is true */
    uint8_t a[4] = {0, 1, 2, 0}, b[4] = {0, 2, 1, 1};
    par_operand pa = {a, PAR_BOOL, 0, 0}, pb = {b, PAR_BOOL, 0, 0}, pt = {NULL, PAR_BOOL, 1, 0};
    par_compare(PAR_CMPEQ, &pa, &pb, z, 0, 4);
    CHECK(z[0] == 1 && z[1] == 1 && z[2] == 1 && z[3] == 0);
    par_compare(PAR_CMPNE, &pt, &pa, z, 0, 4);
    CHECK(z[0] == 1 && z[1] == 0 && z[2] == 0 && z[3] == 1);
  }
}

static void test_where_select_count(void) {
  enum { N = 1000 };
  static double xf[N], zf[N];
  static int64_t xi[N], zi[N];
  static uint8_t m[N], zb[N];
  int64_t k, c, n;
  for (k = 0; k < N; k++) {
    m[k] = (uint8_t)((k * 7919) % 3 == 0);
    xf[k] = (double)k / 3;
    xi[k] = k * k - 5000;
  }
  {
    par_operand a = farr(xf), b = isc(-4), ai = iarr(xi), bi = isc(9);
    par_where(m, &a, &b, PAR_F64, zf, 0, N);      /* float array, int scalar */
    for (k = 0; k < N; k++) CHECK_EQ_BITS(zf[k], m[k] ? xf[k] : -4.0);
    par_where(m, &b, &ai, PAR_F64, zf, 3, N);     /* int scalar, int array, as float */
    for (k = 3; k < N; k++) CHECK_EQ_BITS(zf[k], m[k] ? -4.0 : (double)xi[k]);
    par_where(m, &ai, &bi, PAR_I64, zi, 0, N);
    for (k = 0; k < N; k++) CHECK_EQ_I64(zi[k], m[k] ? xi[k] : 9);
  }
  {
    par_operand t = {NULL, PAR_BOOL, 1, 0}, f = {m, PAR_BOOL, 0, 0};
    par_where(m, &t, &f, PAR_BOOL, zb, 0, N);
    for (k = 0; k < N; k++) CHECK(zb[k] == (m[k] ? 1 : m[k]));
  }
  for (c = 0, k = 0; k < N; k++) c += m[k] != 0;
  CHECK_EQ_I64(par_count_nonzero(m, PAR_BOOL, 0, N), c);
  CHECK_EQ_I64(par_count_nonzero(xi, PAR_I64, 0, N), N);  /* k*k - 5000 is never 0 */
  xf[10] = NAN; xf[11] = -0.0;
  CHECK_EQ_I64(par_count_nonzero(xf, PAR_F64, 0, 20), 18);
  n = par_select(m, xi, 8, zi, 100, N);
  for (c = 0, k = 100; k < N; k++)
    if (m[k]) { CHECK_EQ_I64(zi[c], xi[k]); c++; }
  CHECK_EQ_I64(n, c);
  n = par_select(m, m, 1, zb, 0, N);
  for (k = 0; k < n; k++) CHECK(zb[k] == 1);
  CHECK_EQ_I64(n, par_count_nonzero(m, PAR_BOOL, 0, N));
}

/* ---- vector math ---- */

/* Distance in units in the last place (0 for two NaNs, huge for one). */
static uint64_t ulps(double a, double b) {
  int64_t ia, ib;
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
  memcpy(&ia, &a, 8);
  memcpy(&ib, &b, 8);
  if (ia < 0) ia = INT64_MIN - ia;   /* monotonic map; -0 and +0 both to 0 */
  if (ib < 0) ib = INT64_MIN - ib;
  return ia > ib ? (uint64_t)ia - (uint64_t)ib : (uint64_t)ib - (uint64_t)ia;
}

static double (*const libm[PAR_NMATHFUNCS])(double) = {
  [PAR_FN_exp] = exp, [PAR_FN_log] = log, [PAR_FN_log1p] = log1p,
  [PAR_FN_expm1] = expm1, [PAR_FN_sqrt] = sqrt, [PAR_FN_sin] = sin,
  [PAR_FN_cos] = cos, [PAR_FN_tan] = tan, [PAR_FN_asin] = asin,
  [PAR_FN_acos] = acos, [PAR_FN_atan] = atan, [PAR_FN_sinh] = sinh,
  [PAR_FN_cosh] = cosh, [PAR_FN_tanh] = tanh, [PAR_FN_abs] = fabs,
  [PAR_FN_floor] = floor, [PAR_FN_ceil] = ceil
};

static const char *const fnames[] = {
#define NAME(f) #f,
  PAR_MATHFUNCS(NAME)
#undef NAME
};

/* Range of interesting arguments of each function. */
static const double range[PAR_NMATHFUNCS][2] = {
  [PAR_FN_exp] = {-746, 710}, [PAR_FN_log] = {0, 1e308}, [PAR_FN_log1p] = {-1, 1e300},
  [PAR_FN_expm1] = {-60, 710}, [PAR_FN_sqrt] = {0, 1e308}, [PAR_FN_sin] = {-1e7, 1e7},
  [PAR_FN_cos] = {-1e7, 1e7}, [PAR_FN_tan] = {-1e7, 1e7}, [PAR_FN_asin] = {-1, 1},
  [PAR_FN_acos] = {-1, 1}, [PAR_FN_atan] = {-1e20, 1e20}, [PAR_FN_sinh] = {-711, 711},
  [PAR_FN_cosh] = {-711, 711}, [PAR_FN_tanh] = {-30, 30}, [PAR_FN_abs] = {-1e308, 1e308},
  [PAR_FN_floor] = {-1e17, 1e17}, [PAR_FN_ceil] = {-1e17, 1e17}
};

static const double specials[] = {
  0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 1.0, -1.0, DBL_MIN, -DBL_MIN, DBL_TRUE_MIN,
  DBL_MAX, -DBL_MAX, 1e300, -1e300, 1e22, 0x1p1000, 710.0, -745.2, 2.5, -2.5, 0.5, -0.5,
  4503599627370497.5, 1e-310, -1.0000000000000002, 1.0000000000000002
};
#define NSPEC (sizeof specials / sizeof specials[0])

/* Arguments: uniform over the range, then log-uniform magnitudes in it,
** then the special values. */
static int64_t fillargs(int fn, double *x, int64_t n) {
  uint64_t s = 88172645463325252u + (uint64_t)fn;
  double lo = range[fn][0], hi = range[fn][1];
  int64_t k;
  for (k = 0; k < n; k++) {
    double u;
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    u = (double)(s >> 11) * 0x1p-53;
    if (k % 2 == 0) x[k] = lo + (hi - lo) * u;
    else {
      double mag = pow(10.0, -300 + 600 * u), lim = fmax(fabs(lo), fabs(hi));
      x[k] = (k % 4 == 1 || lo >= 0 ? 1 : -1) * fmin(mag, lim);
      if (x[k] < lo || x[k] > hi) x[k] = lo + (hi - lo) * u;
    }
  }
  memcpy(x + n, specials, sizeof specials);
  return n + (int64_t)NSPEC;
}

static void test_vmath_isa(int isa) {
  enum { N = 40000 };
  static double x[N + NSPEC], y[N + NSPEC], t[17];
  int fn;
  printf("vector math with isa %d\n", isa);
  for (fn = 0; fn < PAR_NMATHFUNCS; fn++) {
    int exact = fn == PAR_FN_sqrt || fn == PAR_FN_abs || fn == PAR_FN_floor || fn == PAR_FN_ceil;
    int64_t n = fillargs(fn, x, N), k, bad = 0, len;
    uint64_t worst = 0;
    par_vmath(fn, x, y, n);
    for (k = 0; k < n; k++) {
      double r = libm[fn](x[k]);
      uint64_t d = ulps(y[k], r);
      if (d > worst) worst = d;
      if (exact ? memcmp(&y[k], &r, 8) != 0 && !(isnan(r) && isnan(y[k])) : d > 4) {
        if (bad++ < 3)
          fprintf(stderr, "%s(%.17g) = %.17g, libm %.17g\n", fnames[fn], x[k], y[k], r);
      }
      /* special values: same infinities, zeros (with sign) and NaNs as libm */
      if (k >= N && (isinf(r) || r == 0 || isnan(r))) CHECK(ulps(y[k], r) == 0);
    }
    CHECK(bad == 0);
    if (!exact) printf("  %-6s max %llu ulp\n", fnames[fn], (unsigned long long)worst);
    /* every length (tails), results independent of position */
    for (len = 0; len <= 17; len++) {
      par_vmath(fn, x + 5, t, len);
      for (k = 0; k < len; k++) CHECK_EQ_BITS(t[k], y[5 + k]);
    }
    memcpy(t, x + 100, 17 * sizeof(double));   /* in place */
    par_vmath(fn, t, t, 17);
    for (k = 0; k < 17; k++) CHECK_EQ_BITS(t[k], y[100 + k]);
  }
}

static void test_vmath(void) {
  int isa, best = par_vmath_isa();
  for (isa = PAR_ISA_SSE2; isa <= best; isa++) {
    CHECK(par_vmath_setisa(isa) == isa);
    test_vmath_isa(isa);
  }
  CHECK(par_vmath_setisa(PAR_ISA_AVX512 + 1) == best);
}

int main(void) {
  L = luaL_newstate();
  test_float_arith();
  test_int_arith();
  test_compare();
  test_where_select_count();
  test_vmath();
  lua_close(L);
  return unit_report("elementwise");
}
