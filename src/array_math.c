/*
** array_math.c: par.exp, par.log, ..., par.floor, par.ceil.
**
** On a number they return what Lua's math library returns (math.exp,
** math.log, math.sqrt, the trigonometric functions, math.abs, math.floor and
** math.ceil, bit for bit: floor and ceil give integers when representable,
** abs keeps integers) and the C library's result for log1p, expm1, sinh,
** cosh and tanh.
**
** On an array they return a new array, computed on threads in blocks and
** with SIMD: sqrt, abs, floor and ceil are exact (vector instructions give
** the same bits as the scalar functions), the others call glibc's vector
** math library libmvec, the AVX-512, AVX2 or SSE variant chosen at run time
** from the CPU. Like NumPy's float64 functions, libmvec is accurate to
** within 4 ulp of the exact result (its documented bound), rather than
** bit-equal to the scalar libm that math.* uses. Each element's result
** depends only on its value, never on where it sits or which thread
** computes it. int64 arrays: abs, floor and ceil keep int64 (abs wraps at
** the minimum integer, like math.abs); the others give float64.
*/
#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>

#include "array.h"
#include "array_elementwise.h"
#include "lauxlib.h"
#include "modules.h"
#include "parallel.h"

/* The functions libmvec provides (glibc >= 2.35 for all of them). */
#define LIBMVEC(X) \
  X(exp) X(log) X(log1p) X(expm1) X(sin) X(cos) X(tan) X(asin) X(acos) \
  X(atan) X(sinh) X(cosh) X(tanh)

/* y[0..n) = f(x[0..n)) for one function and instruction set. */
typedef void (*vkernel)(const double *x, double *y, int64_t n);

/* Tails are padded with a value inside every function's domain. */
#define PAD 0.5


/* ---- SSE2 (every x86-64 CPU; libmvec picks SSE4 inside when it can) ---- */

#define DECL_SSE(f) __m128d _ZGVbN2v_##f(__m128d);
LIBMVEC(DECL_SSE)

#define KERNEL_SSE(name, VF) \
  static void name(const double *x, double *y, int64_t n) { \
    int64_t i; \
    for (i = 0; i + 2 <= n; i += 2) _mm_storeu_pd(y + i, VF(_mm_loadu_pd(x + i))); \
    if (i < n) { \
      double t[2]; \
      t[0] = x[i]; t[1] = PAD; \
      _mm_storeu_pd(t, VF(_mm_loadu_pd(t))); \
      y[i] = t[0]; \
    } \
  }

#define LIBMVEC_SSE(f) KERNEL_SSE(f##_sse2, _ZGVbN2v_##f)
LIBMVEC(LIBMVEC_SSE)

static __m128d abs_2(__m128d v) { return _mm_andnot_pd(_mm_set1_pd(-0.0), v); }

KERNEL_SSE(sqrt_sse2, _mm_sqrt_pd)
KERNEL_SSE(abs_sse2, abs_2)

/* SSE2 has no rounding instruction: the scalar functions. */
static void floor_sse2(const double *x, double *y, int64_t n) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = floor(x[i]);
}

static void ceil_sse2(const double *x, double *y, int64_t n) {
  int64_t i;
  for (i = 0; i < n; i++) y[i] = ceil(x[i]);
}


/* ---- AVX2 ---- */

#define AVX2 __attribute__((target("avx2")))

#define DECL_AVX2(f) AVX2 __m256d _ZGVdN4v_##f(__m256d);
LIBMVEC(DECL_AVX2)

#define KERNEL_AVX2(name, VF) \
  AVX2 static void name(const double *x, double *y, int64_t n) { \
    int64_t i, k; \
    for (i = 0; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, VF(_mm256_loadu_pd(x + i))); \
    if (i < n) { \
      double t[4]; \
      for (k = 0; k < 4; k++) t[k] = i + k < n ? x[i + k] : PAD; \
      _mm256_storeu_pd(t, VF(_mm256_loadu_pd(t))); \
      for (k = 0; i + k < n; k++) y[i + k] = t[k]; \
    } \
  }

#define LIBMVEC_AVX2(f) KERNEL_AVX2(f##_avx2, _ZGVdN4v_##f)
LIBMVEC(LIBMVEC_AVX2)

AVX2 static __m256d abs_4(__m256d v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }
AVX2 static __m256d floor_4(__m256d v) { return _mm256_floor_pd(v); }
AVX2 static __m256d ceil_4(__m256d v) { return _mm256_ceil_pd(v); }
AVX2 static __m256d sqrt_4(__m256d v) { return _mm256_sqrt_pd(v); }

KERNEL_AVX2(sqrt_avx2, sqrt_4)
KERNEL_AVX2(abs_avx2, abs_4)
KERNEL_AVX2(floor_avx2, floor_4)
KERNEL_AVX2(ceil_avx2, ceil_4)


/* ---- AVX-512 (tails through masked loads and stores) ---- */

#define AVX512 __attribute__((target("avx512f")))

#define DECL_AVX512(f) AVX512 __m512d _ZGVeN8v_##f(__m512d);
LIBMVEC(DECL_AVX512)

#define KERNEL_AVX512(name, VF) \
  AVX512 static void name(const double *x, double *y, int64_t n) { \
    int64_t i; \
    for (i = 0; i + 8 <= n; i += 8) _mm512_storeu_pd(y + i, VF(_mm512_loadu_pd(x + i))); \
    if (i < n) { \
      __mmask8 k = (__mmask8)((1u << (n - i)) - 1); \
      __m512d v = _mm512_mask_loadu_pd(_mm512_set1_pd(PAD), k, x + i); \
      _mm512_mask_storeu_pd(y + i, k, VF(v)); \
    } \
  }

#define LIBMVEC_AVX512(f) KERNEL_AVX512(f##_avx512, _ZGVeN8v_##f)
LIBMVEC(LIBMVEC_AVX512)

AVX512 static __m512d abs_8(__m512d v) { return _mm512_abs_pd(v); }
AVX512 static __m512d floor_8(__m512d v) {
  return _mm512_roundscale_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
AVX512 static __m512d ceil_8(__m512d v) {
  return _mm512_roundscale_pd(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
}
AVX512 static __m512d sqrt_8(__m512d v) { return _mm512_sqrt_pd(v); }

KERNEL_AVX512(sqrt_avx512, sqrt_8)
KERNEL_AVX512(abs_avx512, abs_8)
KERNEL_AVX512(floor_avx512, floor_8)
KERNEL_AVX512(ceil_avx512, ceil_8)


/* ---- dispatch ---- */

static const vkernel kernels[PAR_NMATHFUNCS][3] = {
#define KROW(f) {f##_sse2, f##_avx2, f##_avx512},
  PAR_MATHFUNCS(KROW)
#undef KROW
};

static atomic_int isa_in_use = -1;   /* -1: not chosen yet */

static int best_isa(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return PAR_ISA_AVX512;
  if (__builtin_cpu_supports("avx2")) return PAR_ISA_AVX2;
  return PAR_ISA_SSE2;
}

int par_vmath_isa(void) {
  int isa = atomic_load(&isa_in_use);
  if (isa < 0) {
    isa = best_isa();
    atomic_store(&isa_in_use, isa);
  }
  return isa;
}

int par_vmath_setisa(int isa) {
  int best = best_isa();
  if (isa > best) isa = best;
  if (isa < PAR_ISA_SSE2) isa = PAR_ISA_SSE2;
  atomic_store(&isa_in_use, isa);
  return isa;
}

void par_vmath(int fn, const double *x, double *y, int64_t n) {
  kernels[fn][par_vmath_isa()](x, y, n);
}


/* ---- Lua bindings ---- */

/* The scalar functions (for atan, see mathnumber). */
static double (*const libm[PAR_NMATHFUNCS])(double) = {
  [PAR_FN_exp] = exp, [PAR_FN_log] = log, [PAR_FN_log1p] = log1p,
  [PAR_FN_expm1] = expm1, [PAR_FN_sqrt] = sqrt, [PAR_FN_sin] = sin,
  [PAR_FN_cos] = cos, [PAR_FN_tan] = tan, [PAR_FN_asin] = asin,
  [PAR_FN_acos] = acos, [PAR_FN_atan] = atan, [PAR_FN_sinh] = sinh,
  [PAR_FN_cosh] = cosh, [PAR_FN_tanh] = tanh, [PAR_FN_abs] = fabs,
  [PAR_FN_floor] = floor, [PAR_FN_ceil] = ceil
};

/* Pushes a float with an integral value as an integer when it fits. */
static void pushnumint(lua_State *L, double d) {
  lua_Integer n;
  if (lua_numbertointeger(d, &n)) lua_pushinteger(L, n);
  else lua_pushnumber(L, d);
}

/* fn of the number at index 1, as math.* computes it. */
static int mathnumber(lua_State *L, int fn) {
  double x;
  if (lua_isinteger(L, 1) && (fn == PAR_FN_abs || fn == PAR_FN_floor || fn == PAR_FN_ceil)) {
    lua_Integer n = lua_tointeger(L, 1);
    if (fn == PAR_FN_abs && n < 0) n = (lua_Integer)(0u - (lua_Unsigned)n);
    lua_pushinteger(L, n);
    return 1;
  }
  x = lua_tonumber(L, 1);
  if (fn == PAR_FN_floor || fn == PAR_FN_ceil) pushnumint(L, libm[fn](x));
  else if (fn == PAR_FN_atan) lua_pushnumber(L, atan2(x, 1.0));  /* as math.atan(x) */
  else lua_pushnumber(L, libm[fn](x));
  return 1;
}

typedef struct math_ctx {
  int fn;
  const void *x;
  void *y;
} math_ctx;

/* float64 in, float64 out. */
static int fblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  math_ctx *c = (math_ctx *)ud;
  (void)b; (void)tid;
  par_vmath(c->fn, (const double *)c->x + lo, (double *)c->y + lo, hi - lo);
  return 0;
}

/* int64 in, float64 out: converted in place, while still in cache. */
static int ifblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  math_ctx *c = (math_ctx *)ud;
  const int64_t *x = (const int64_t *)c->x;
  double *y = (double *)c->y;
  int64_t k;
  (void)b; (void)tid;
  for (k = lo; k < hi; k++) y[k] = (double)x[k];
  par_vmath(c->fn, y + lo, y + lo, hi - lo);
  return 0;
}

/* int64 in, int64 out: abs (wrapping), floor and ceil (copies). */
static int iblock(void *ud, int64_t lo, int64_t hi, int64_t b, int tid) {
  math_ctx *c = (math_ctx *)ud;
  const int64_t *x = (const int64_t *)c->x;
  int64_t *y = (int64_t *)c->y, k;
  (void)b; (void)tid;
  if (c->fn == PAR_FN_abs)
    for (k = lo; k < hi; k++) y[k] = x[k] < 0 ? (int64_t)(0u - (uint64_t)x[k]) : x[k];
  else
    for (k = lo; k < hi; k++) y[k] = x[k];
  return 0;
}

/* fn of the array a, as a new array. */
static int matharray(lua_State *L, int fn, const par_array *a) {
  math_ctx c;
  par_block_fn blockfn = fblock;
  par_dtype dt = PAR_F64;
  par_array *z;
  par_result r;
  if (a->dtype == PAR_BOOL)
    return luaL_argerror(L, 1, "number or numeric array expected, got bool array");
  if (a->dtype == PAR_I64) {
    int keep = fn == PAR_FN_abs || fn == PAR_FN_floor || fn == PAR_FN_ceil;
    blockfn = keep ? iblock : ifblock;
    dt = keep ? PAR_I64 : PAR_F64;
  }
  z = par_newarray_like(L, a, dt);
  c.fn = fn;
  c.x = a->data;
  c.y = z->data;
  r = par_run(a->size, PAR_EW_BLOCK, par_threads_for(a->size), blockfn, &c);
  if (r.status == PAR_INTERRUPTED) return par_raise_interrupt(L);
  return 1;
}

static int mathfn(lua_State *L, int fn) {
  if (lua_type(L, 1) == LUA_TNUMBER) return mathnumber(L, fn);
  if (par_toarray(L, 1) == NULL) return luaL_typeerror(L, 1, "number or array");
  return matharray(L, fn, par_checkarray(L, 1));
}

#define LUAFN(f) static int math_##f(lua_State *L) { return mathfn(L, PAR_FN_##f); }
PAR_MATHFUNCS(LUAFN)
#undef LUAFN

static const luaL_Reg funcs[] = {
#define REG(f) {#f, math_##f},
  PAR_MATHFUNCS(REG)
#undef REG
  {NULL, NULL}
};

void par_open_array_math(lua_State *L) {
  luaL_setfuncs(L, funcs, 0);
}
