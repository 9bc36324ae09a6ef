/*
** array_elementwise.h: the pure-C element-wise kernels behind array_ops.c
** (arithmetic, comparisons, where) and array_math.c (exp, cos, ...). They
** know nothing of Lua values: operands are raw element pointers or scalars,
** and each call computes the index range [lo, hi) of its output, so the
** Lua bindings can hand disjoint ranges to threads. Results depend only on
** each element's operands, never on the range or thread that computes it.
*/
#ifndef PARLUA_ARRAY_ELEMENTWISE_H
#define PARLUA_ARRAY_ELEMENTWISE_H

#include <stdint.h>

#include "array.h"

/* Elements per par_run block of the element-wise operations. */
#define PAR_EW_BLOCK 16384

/* One operand: an array's elements, or a scalar broadcast to every index.
** dt is PAR_F64, PAR_I64 or PAR_BOOL (bool scalars are held in i, 0 or 1). */
typedef struct par_operand {
  const void *p;     /* elements (indexed like the output), NULL for a scalar */
  par_dtype dt;
  int64_t i;         /* integer or boolean scalar */
  double f;          /* float scalar */
} par_operand;

/* --- arithmetic (op: LUA_OPADD ... LUA_OPIDIV or LUA_OPUNM, as lua_arith) --- */

/* z = x op y in float64 with Lua's float rules, int64 operands converted;
** at least one operand is an array. For LUA_OPUNM y is ignored. */
void par_arith_f64(int op, const par_operand *x, const par_operand *y,
                   double *z, int64_t lo, int64_t hi);
/* z = x op y with Lua's integer rules (wrapping; floor // and %), both
** operands int64; op is not LUA_OPDIV or LUA_OPPOW. Returns 0, or 1 when a
** divisor of // or % is zero (z then partly written). */
int par_arith_i64(int op, const par_operand *x, const par_operand *y,
                  int64_t *z, int64_t lo, int64_t hi);

/* --- comparisons --- */

enum { PAR_CMPLT, PAR_CMPLE, PAR_CMPEQ, PAR_CMPNE };

/* Exact comparison of an integer and a float, as Lua compares them:
** -1 (i < f), 0 (equal), 1 (i > f) or 2 (unordered: f is NaN). */
int par_cmp_int_float(int64_t i, double f);
/* z = x op y (0 or 1). Numbers of either dtype compare mathematically;
** bool operands only with bool operands and only for EQ and NE. */
void par_compare(int op, const par_operand *x, const par_operand *y,
                 uint8_t *z, int64_t lo, int64_t hi);
/* z = m ? a : b, where z has dtype dt: PAR_F64 (numbers converted), PAR_I64
** (both int64) or PAR_BOOL (both bool). */
void par_where(const uint8_t *m, const par_operand *a, const par_operand *b,
               par_dtype dt, void *z, int64_t lo, int64_t hi);
/* Copies the elements lo..hi of src (esize bytes each: 8 or 1) whose mask
** byte m[k] is non-zero to dst[0], dst[1], ... in order; returns how many. */
int64_t par_select(const uint8_t *m, const void *src, size_t esize, void *dst,
                   int64_t lo, int64_t hi);
/* Number of non-zero elements among p[lo..hi) of dtype dt (NaN counts). */
int64_t par_count_nonzero(const void *p, par_dtype dt, int64_t lo, int64_t hi);

/* --- math functions on float64 (array_math.c) --- */

#define PAR_MATHFUNCS(X) \
  X(exp) X(log) X(log1p) X(expm1) X(sqrt) X(sin) X(cos) X(tan) X(asin) \
  X(acos) X(atan) X(sinh) X(cosh) X(tanh) X(abs) X(floor) X(ceil)

enum {
#define PAR_FN_ENUM(f) PAR_FN_##f,
  PAR_MATHFUNCS(PAR_FN_ENUM)
#undef PAR_FN_ENUM
  PAR_NMATHFUNCS
};

/* Instruction sets for the vector math: SSE2 (every x86-64), AVX2, AVX-512. */
enum { PAR_ISA_SSE2, PAR_ISA_AVX2, PAR_ISA_AVX512 };

/* y[0..n) = fn(x[0..n)). sqrt, abs, floor and ceil are exact; the others
** come from glibc's libmvec (at most 4 ulp from the correctly rounded
** result). y may equal x. */
void par_vmath(int fn, const double *x, double *y, int64_t n);
/* The instruction set par_vmath uses: the best one this CPU has, unless
** lowered by par_vmath_setisa (for tests), which returns the level set. */
int par_vmath_isa(void);
int par_vmath_setisa(int isa);

#endif
