/*
** reduce.h: pure-C cores of parlua's reductions, selection, sorting and
** histograms (no Lua here), shared by array_reduce.c, array_sort.c and the
** kernel compiler, and unit-tested in tests/c/test_reduce.c.
**
** THE REDUCTION ORDER (API section 2), exactly:
**   sum:  s = 0; for each block b of 1024 consecutive elements, in index
**         order: p = 0; for each x of b, left to right: p = p + x;
**         then s = s + p.  So a:sum() is the Lua loop
**           local s = 0
**           for b = 0, (n - 1) // 1024 do
**             local p = 0
**             for i = b*1024 + 1, math.min(n, b*1024 + 1024) do p = p + a[i] end
**             s = s + p
**           end
**         and an empty sum is 0 (integer 0 for int64/bool, 0.0 for floats).
**         (Lua's integer 0 + x is 0.0 + x for a float x, so this loop gives
**         the same bits for float arrays and for par.preduce("+", ...).)
**         Starting at +0.0 means a sum of -0.0 values is +0.0, as NumPy's;
**         a partial is then never -0.0, so 0 + p == p and up to 1024
**         elements the blocked sum is the plain left-to-right loop.
**   prod: the same with 1 and *. (1 * x == x for every x, -0.0 and NaN
**         included, so this equals the fold that starts at the first element.)
**   int64 sums and products wrap modulo 2^64 (computed in uint64).
**   min/max: p = first element of the block, then p = step(p, x) for each x,
**         s likewise over the block results, where step(acc, x) is acc if acc
**         is NaN, else x if x is NaN, else x if x < acc (min) / x > acc (max),
**         else acc. The result is the first NaN if there is one, otherwise the
**         first element (in index order) equal to the extremum; so -0.0 and
**         0.0 give whichever comes first, and a:min() == a[a:argmin()].
** Every combining step is sequential and the block boundaries depend only on
** n, so the results are bitwise identical on any number of threads.
** Axis reductions apply the same definition to each row or each column.
*/
#ifndef PARLUA_REDUCE_H
#define PARLUA_REDUCE_H

#include <stdint.h>
#include <string.h>

#include "array.h"
#include "parallel.h"

/* Status of a core: PAR_OK, PAR_INTERRUPTED (parallel.h) or PAR_NOMEM. */
#define PAR_NOMEM 3

typedef enum {
  PAR_OP_SUM, PAR_OP_PROD, PAR_OP_MIN, PAR_OP_MAX,
  PAR_OP_SSD   /* sum of squared deviations (x - center)^2, summed as SUM */
} par_op;

/* ---- reductions (x: 'n' elements of dtype 'dt', row-major) ---- */

/* Reduces each of 'rows' consecutive runs of 'len' elements, converted to
** double, into out[0..rows). 'center' is used by PAR_OP_SSD only. An empty
** run gives 0.0 (sum, ssd), 1.0 (prod) or NaN (min, max). */
int par_reduce_rows_f(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t len, double center, int nthreads, double *out);
/* Same in int64 arithmetic (dt PAR_I64 or PAR_BOOL, as 0/1); an empty run
** gives 0 (sum, min, max) or 1 (prod). PAR_OP_SSD is not allowed. */
int par_reduce_rows_i(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t len, int nthreads, int64_t *out);
/* Reduces each column of a rows x cols matrix into out[0..cols) (ops SUM,
** PROD, MIN, MAX). */
int par_reduce_cols_f(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t cols, int nthreads, double *out);
int par_reduce_cols_i(par_op op, const void *x, par_dtype dt, int64_t rows,
                      int64_t cols, int nthreads, int64_t *out);

/* The mean of n elements (the blocked float64 sum over n, NaN when n is
** 0) and, when var is not NULL, their variance with 'ddof' (NumPy's two
** passes: the blocked sum of (x - mean)^2 over max(n - ddof, 0)), as the
** array methods and native kernels compute them. */
int par_moments(const void *x, par_dtype dt, int64_t n, double ddof, int nthreads, double *mean,
                double *var);

/* 0-based index of the first minimum (op PAR_OP_MIN) or maximum (PAR_OP_MAX)
** of n > 0 elements, or of the first NaN if there is one. */
int par_argreduce(par_op op, const void *x, par_dtype dt, int64_t n,
                  int nthreads, int64_t *out);

/* Running sums, left to right: out[i] = out[i-1] + x[i] (int64 wraps; bool
** counts). */
void par_cumsum_f(const double *x, int64_t n, double *out);
void par_cumsum_i(const void *x, par_dtype dt, int64_t n, int64_t *out);

/* ---- sorting and selection ---- */

/* Sorted copy of n elements into out, which must not overlap x (ascending;
** NaN last in their original order). The sort is stable for the order '<' (so -0.0 and 0.0 keep their
** relative order, as every pair of equal values): its result is unique.
** Returns a core status: PAR_INTERRUPTED when par_interrupted() stopped it
** (out then holds no useful order). */
int par_sort(const void *x, par_dtype dt, int64_t n, void *out);
/* The stable sorting permutation, 0-based, into idx[0..n); returns as
** par_sort. */
int par_argsort(const void *x, par_dtype dt, int64_t n, int64_t *idx);

/* Order-preserving keys: a < b exactly when key(a) < key(b) as uint64, for
** int64 values and for non-NaN doubles (where -0.0 sorts before 0.0). */
#define PAR_KEYSIGN ((uint64_t)1 << 63)
static inline uint64_t par_fkey(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return (u & PAR_KEYSIGN) ? ~u : u | PAR_KEYSIGN;
}
static inline double par_funkey(uint64_t k) {
  double v;
  k = (k & PAR_KEYSIGN) ? k ^ PAR_KEYSIGN : ~k;
  memcpy(&v, &k, sizeof v);
  return v;
}
static inline uint64_t par_ikey(int64_t v) { return (uint64_t)v ^ PAR_KEYSIGN; }
static inline int64_t par_iunkey(uint64_t k) { return (int64_t)(k ^ PAR_KEYSIGN); }

/* Rearranges key[0..n) so that key[k[j]] holds the key of rank k[j] for
** each of the nk ascending, distinct ranks k[0..nk), smaller keys before it
** and larger ones after (like NumPy's partition). Introselect: O(n log nk)
** expected, O(n log n) at worst. Stops early when par_interrupted(): the
** caller checks that before using the keys. */
void par_select_keys(uint64_t *key, int64_t n, const int64_t *k, int64_t nk);

/* The median (q < 0) or the quantile q (NumPy's 'linear' method; an
** integer q, isint, takes an element) of n elements of dtype dt, as
** a:median() and a:quantile(q) compute them: into *f, or *i for an integer
** q of int64 elements; NaN when empty or when one is NaN. PAR_OK,
** PAR_INTERRUPTED or PAR_NOMEM. */
int par_order_stat(const void *x, par_dtype dt, int64_t n, double q, int isint, double *f,
                   int64_t *i);

/* NumPy's linear interpolation (numpy.lib.function_base._lerp) between a
** and b with weight t, for floats, and for int64 ends (b - a wraps, as in
** NumPy's int64 subtraction). */
double par_lerp_f(double a, double b, double t);
double par_lerp_i(int64_t a, int64_t b, double t);

/* ---- histograms (NumPy's equal-width algorithm) ---- */

typedef struct par_hist {
  int64_t bins;
  double first, last;          /* outer edges */
  int first_int, last_int;     /* edge is an integer (compared as int64) */
  int64_t ifirst, ilast;       /* the edges as integers, when they are */
  double norm;                 /* bins / (last - first), see par_hist_init */
  const double *edges;         /* bins + 1 edges (par_linspace) */
} par_hist;

/* NumPy's linspace(lo, hi, num) with endpoint, bit for bit. */
void par_linspace(double lo, double hi, int64_t num, double *out);
/* Sets h->norm from the edges as NumPy computes it. */
void par_hist_init(par_hist *h);
/* Adds the counts of x's elements into counts[0..bins) (zeroed by the
** caller); values outside [first, last] and NaN are ignored. */
int par_histogram(const par_hist *h, const void *x, par_dtype dt, int64_t n,
                  int nthreads, int64_t *counts);

#endif
