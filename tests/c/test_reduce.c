/*
** test_reduce.c: the reduction, sorting, selection and histogram cores of
** reduce.h against naive scalar loops (bit for bit, on 1, 2, 3 and 7
** threads) and against values computed by NumPy 1.24.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reduce.h"
#include "unit.h"

static const int threads[] = {1, 2, 3, 7};
#define NTHREADS 4

static const int64_t sizes[] = {0, 1, 1023, 1024, 1025, 1000003};
#define NSIZES 6

/* ---- data ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next64(void) {   /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static uint64_t bits(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

static double uniform(void) {
  return (double)(next64() >> 11) * 0x1p-53;
}

/* Random doubles of mixed magnitudes and signs; 'special' adds -0.0, 0.0,
** infinities and NaNs (of both signs) here and there. */
static double *fdata(int64_t n, int special) {
  double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
  int64_t i;
  for (i = 0; i < n; i++) {
    uint64_t r = next64();
    x[i] = (uniform() - 0.5) * ldexp(1.0, (int)(r % 40) - 20);
    if (special && r % 97 == 0) {
      static const double sp[] = {0.0, -0.0, INFINITY, -INFINITY};
      x[i] = sp[(r >> 8) % 4];
    }
    if (special == 2 && i == n / 2) x[i] = (r & 1) ? NAN : -NAN;
  }
  return x;
}

/* Values near 1, so that long products stay finite for a while. */
static double *pdata(int64_t n) {
  double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
  int64_t i;
  for (i = 0; i < n; i++) x[i] = 1.0 + (uniform() - 0.5) * 1e-3;
  return x;
}

static int64_t *idata(int64_t n, int small) {
  int64_t *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
  int64_t i;
  for (i = 0; i < n; i++)
    x[i] = small ? (int64_t)(next64() % 7) - 3 : (int64_t)next64();
  return x;
}

static uint8_t *bdata(int64_t n) {
  uint8_t *x = malloc((size_t)(n > 0 ? n : 1));
  int64_t i;
  for (i = 0; i < n; i++) x[i] = next64() % 3 == 0;
  return x;
}

/* ---- naive references: the definitions of reduce.h, written plainly ---- */

static double ref_sum(const double *x, int64_t n, int prod) {
  double s = prod ? 1.0 : 0.0;
  int64_t b, i;
  for (b = 0; b * PAR_BLOCK < n; b++) {
    double p = prod ? 1.0 : 0.0;
    for (i = b * PAR_BLOCK; i < n && i < (b + 1) * PAR_BLOCK; i++)
      p = prod ? p * x[i] : p + x[i];
    s = prod ? s * p : s + p;
  }
  return s;
}

static double ref_ssd(const double *x, int64_t n, double c) {
  double s = 0.0;
  int64_t b, i;
  for (b = 0; b * PAR_BLOCK < n; b++) {
    double p = 0.0;
    for (i = b * PAR_BLOCK; i < n && i < (b + 1) * PAR_BLOCK; i++)
      p = p + (x[i] - c) * (x[i] - c);
    s = s + p;
  }
  return s;
}

/* First NaN, else first minimum (or maximum), by a plain scan. */
static int64_t ref_arg(const double *x, int64_t n, int max) {
  int64_t i, b = 0;
  for (i = 0; i < n; i++) {
    if (isnan(x[i])) return i;
    if (max ? x[i] > x[b] : x[i] < x[b]) b = i;
  }
  return b;
}

static int64_t ref_isum(const int64_t *x, int64_t n, int prod) {
  uint64_t s = prod;
  int64_t i;
  for (i = 0; i < n; i++) s = prod ? s * (uint64_t)x[i] : s + (uint64_t)x[i];
  return (int64_t)s;
}

/* ---- checks ---- */

static void test_float_reductions(void) {
  int64_t s;
  int t, special;
  for (special = 0; special <= 2; special++)
    for (s = 0; s < NSIZES; s++) {
      int64_t n = sizes[s];
      double *x = fdata(n, special), *p = pdata(n);
      double want_sum = ref_sum(x, n, 0), want_prod = ref_sum(p, n, 1);
      double want_ssd = ref_ssd(x, n, 0.25);
      int64_t amin = ref_arg(x, n, 0), amax = ref_arg(x, n, 1);
      for (t = 0; t < NTHREADS; t++) {
        double v;
        int64_t i;
        CHECK(par_reduce_rows_f(PAR_OP_SUM, x, PAR_F64, 1, n, 0.0, threads[t], &v) == PAR_OK);
        CHECK_EQ_BITS(v, want_sum);
        CHECK(par_reduce_rows_f(PAR_OP_PROD, p, PAR_F64, 1, n, 0.0, threads[t], &v) == PAR_OK);
        CHECK_EQ_BITS(v, want_prod);
        CHECK(par_reduce_rows_f(PAR_OP_SSD, x, PAR_F64, 1, n, 0.25, threads[t], &v) == PAR_OK);
        CHECK_EQ_BITS(v, want_ssd);
        if (n == 0) continue;
        CHECK(par_reduce_rows_f(PAR_OP_MIN, x, PAR_F64, 1, n, 0.0, threads[t], &v) == PAR_OK);
        CHECK_EQ_U64(bits(v), bits(x[amin]));
        CHECK(par_reduce_rows_f(PAR_OP_MAX, x, PAR_F64, 1, n, 0.0, threads[t], &v) == PAR_OK);
        CHECK_EQ_U64(bits(v), bits(x[amax]));
        CHECK(par_argreduce(PAR_OP_MIN, x, PAR_F64, n, threads[t], &i) == PAR_OK);
        CHECK_EQ_I64(i, amin);
        CHECK(par_argreduce(PAR_OP_MAX, x, PAR_F64, n, threads[t], &i) == PAR_OK);
        CHECK_EQ_I64(i, amax);
      }
      free(x);
      free(p);
    }
}

/* A blocked sum differs from the one-pass sum (and 0.0 + -0.0 is 0.0). */
static void test_definition(void) {
  double x[2048], v, plain = 0.0, p2 = 0.0, z[3] = {-0.0, -0.0, -0.0};
  int64_t i;
  for (i = 0; i < 2048; i++) x[i] = i == 0 ? 1.0 : 1e-16;
  for (i = 0; i < 2048; i++) plain += x[i];
  for (i = 0; i < 1024; i++) p2 += 1e-16;
  par_reduce_rows_f(PAR_OP_SUM, x, PAR_F64, 1, 2048, 0.0, 1, &v);
  CHECK_EQ_BITS(plain, 1.0);      /* each 1e-16 is lost against 1.0 */
  CHECK_EQ_BITS(v, 1.0 + p2);     /* block 2 adds them up first */
  CHECK(v > 1.0);
  par_reduce_rows_f(PAR_OP_SUM, z, PAR_F64, 1, 3, 0.0, 1, &v);
  CHECK_EQ_BITS(v, 0.0);
  par_reduce_rows_f(PAR_OP_PROD, z, PAR_F64, 1, 3, 0.0, 1, &v);
  CHECK_EQ_BITS(v, -0.0);
  par_reduce_rows_f(PAR_OP_SUM, z, PAR_F64, 1, 0, 0.0, 1, &v);
  CHECK_EQ_BITS(v, 0.0);
  par_reduce_rows_f(PAR_OP_PROD, z, PAR_F64, 1, 0, 0.0, 1, &v);
  CHECK_EQ_BITS(v, 1.0);
}

static void test_ties(void) {
  double a[4] = {0.0, -0.0, 1.0, -0.0}, b[4] = {-0.0, 0.0, NAN, -NAN}, v;
  int64_t i;
  par_reduce_rows_f(PAR_OP_MIN, a, PAR_F64, 1, 4, 0.0, 1, &v);
  CHECK_EQ_BITS(v, 0.0);                        /* the first of the equal */
  par_reduce_rows_f(PAR_OP_MIN, b, PAR_F64, 1, 2, 0.0, 1, &v);
  CHECK_EQ_BITS(v, -0.0);
  par_reduce_rows_f(PAR_OP_MAX, b, PAR_F64, 1, 4, 0.0, 1, &v);
  CHECK(isnan(v) && !signbit(v));               /* the first NaN */
  par_argreduce(PAR_OP_MAX, b, PAR_F64, 4, 1, &i);
  CHECK_EQ_I64(i, 2);
}

static void test_int_reductions(void) {
  int64_t s, n;
  int t, small;
  for (small = 0; small <= 1; small++)
    for (s = 0; s < NSIZES; s++) {
      int64_t *x = idata(n = sizes[s], small), mn = 0, mx = 0, amin = 0, amax = 0, i;
      uint8_t *b = bdata(n);
      int64_t cnt = 0, all = 1, any = 0;
      double want, *xf = malloc((size_t)(n + 1) * sizeof *xf);
      for (i = 0; i < n; i++) {
        xf[i] = (double)x[i];
        if (x[i] < x[amin]) amin = i;
        if (x[i] > x[amax]) amax = i;
        cnt += b[i];
        all = all && b[i];
        any = any || b[i];
      }
      if (n > 0) { mn = x[amin]; mx = x[amax]; }
      want = ref_sum(xf, n, 0);
      for (t = 0; t < NTHREADS; t++) {
        int64_t v;
        double f;
        par_reduce_rows_i(PAR_OP_SUM, x, PAR_I64, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, ref_isum(x, n, 0));
        par_reduce_rows_i(PAR_OP_PROD, x, PAR_I64, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, ref_isum(x, n, 1));
        par_reduce_rows_f(PAR_OP_SUM, x, PAR_I64, 1, n, 0.0, threads[t], &f);
        CHECK_EQ_BITS(f, want);                 /* int64 summed as float64 */
        par_reduce_rows_i(PAR_OP_SUM, b, PAR_BOOL, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, cnt);
        if (n == 0) continue;
        par_reduce_rows_i(PAR_OP_MIN, x, PAR_I64, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, mn);
        par_reduce_rows_i(PAR_OP_MAX, x, PAR_I64, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, mx);
        par_reduce_rows_i(PAR_OP_MIN, b, PAR_BOOL, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, all);
        par_reduce_rows_i(PAR_OP_MAX, b, PAR_BOOL, 1, n, threads[t], &v);
        CHECK_EQ_I64(v, any);
        par_argreduce(PAR_OP_MIN, x, PAR_I64, n, threads[t], &v);
        CHECK_EQ_I64(v, amin);
        par_argreduce(PAR_OP_MAX, x, PAR_I64, n, threads[t], &v);
        CHECK_EQ_I64(v, amax);
      }
      free(x);
      free(b);
      free(xf);
    }
}

/* Rows and columns of several shapes against per-row / per-column loops. */
static void test_axes(void) {
  static const int64_t shapes[][2] = {{3, 2500}, {2500, 3}, {1, 5000}, {1100, 1030},
                                      {0, 4}, {4, 0}, {2049, 1}};
  size_t s;
  for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int64_t rows = shapes[s][0], cols = shapes[s][1], i, j;
    double *x = fdata(rows * cols, 1), *col = malloc((size_t)(rows + 1) * sizeof *col);
    double *wr = malloc((size_t)(rows + 1) * sizeof *wr), *wc = malloc((size_t)(cols + 1) * sizeof *wc);
    double *wm = malloc((size_t)(cols + 1) * sizeof *wm);
    double *got = malloc((size_t)(rows + cols + 1) * sizeof *got);
    int64_t *xi = idata(rows * cols, 0), *gi = malloc((size_t)(rows + cols + 1) * sizeof *gi);
    int t;
    for (i = 0; i < rows; i++) wr[i] = ref_sum(x + i * cols, cols, 0);
    for (j = 0; j < cols; j++) {
      for (i = 0; i < rows; i++) col[i] = x[i * cols + j];
      wc[j] = ref_sum(col, rows, 0);
      wm[j] = rows > 0 ? col[ref_arg(col, rows, 0)] : NAN;
    }
    for (t = 0; t < NTHREADS; t++) {
      par_reduce_rows_f(PAR_OP_SUM, x, PAR_F64, rows, cols, 0.0, threads[t], got);
      for (i = 0; i < rows; i++) CHECK_EQ_BITS(got[i], wr[i]);
      par_reduce_cols_f(PAR_OP_SUM, x, PAR_F64, rows, cols, threads[t], got);
      for (j = 0; j < cols; j++) CHECK_EQ_BITS(got[j], wc[j]);
      par_reduce_cols_f(PAR_OP_MIN, x, PAR_F64, rows, cols, threads[t], got);
      for (j = 0; j < cols; j++) CHECK_EQ_BITS(got[j], wm[j]);
      par_reduce_cols_i(PAR_OP_SUM, xi, PAR_I64, rows, cols, threads[t], gi);
      for (j = 0; j < cols; j++) {
        uint64_t u = 0;
        for (i = 0; i < rows; i++) u += (uint64_t)xi[i * cols + j];
        CHECK_EQ_I64(gi[j], (int64_t)u);
      }
    }
    free(x); free(col); free(wr); free(wc); free(wm); free(got); free(xi); free(gi);
  }
}

static void test_cumsum(void) {
  double x[5] = {-0.0, 1.0, 1e16, 1.0, -1e16}, y[5];
  int64_t xi[3] = {INT64_MAX, 1, 5}, yi[3];
  uint8_t b[3] = {1, 0, 1};
  par_cumsum_f(x, 5, y);
  CHECK_EQ_BITS(y[0], -0.0);
  CHECK_EQ_BITS(y[3], 1e16);         /* each 1.0 is absorbed in turn */
  CHECK_EQ_BITS(y[4], 0.0);
  par_cumsum_i(xi, PAR_I64, 3, yi);
  CHECK_EQ_I64(yi[1], INT64_MIN);
  CHECK_EQ_I64(yi[2], INT64_MIN + 5);
  par_cumsum_i(b, PAR_BOOL, 3, yi);
  CHECK_EQ_I64(yi[2], 2);
}

/* ---- sorting ---- */

typedef struct pair { double v; int64_t i; } pair;

/* NaN last, then by value (-0.0 == 0.0), then by index: a stable sort. */
static int cmp_pair(const void *pa, const void *pb) {
  const pair *a = pa, *b = pb;
  int na = isnan(a->v), nb = isnan(b->v);
  if (na != nb) return na - nb;
  if (!na && a->v != b->v) return a->v < b->v ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}

static void test_sort(void) {
  static const int64_t ns[] = {0, 1, 5, 32, 33, 1000, 100003};
  size_t s;
  for (s = 0; s < sizeof ns / sizeof ns[0]; s++) {
    int64_t n = ns[s], i, *idx = malloc((size_t)(n + 1) * sizeof *idx);
    double *x = fdata(n, 2), *out = malloc((size_t)(n + 1) * sizeof *out);
    pair *p = malloc((size_t)(n + 1) * sizeof *p);
    int64_t *xi = idata(n, 1), *oi = malloc((size_t)(n + 1) * sizeof *oi);
    for (i = 0; i < n; i++) {
      if (i % 5 == 1) x[i] = x[i - 1];          /* ties */
      p[i].v = x[i];
      p[i].i = i;
    }
    qsort(p, (size_t)n, sizeof *p, cmp_pair);
    CHECK(par_sort(x, PAR_F64, n, out) == PAR_OK);
    CHECK(par_argsort(x, PAR_F64, n, idx) == PAR_OK);
    for (i = 0; i < n; i++) {
      CHECK_EQ_U64(bits(out[i]), bits(x[p[i].i]));
      CHECK_EQ_I64(idx[i], p[i].i);
    }
    for (i = 0; i < n; i++) { p[i].v = (double)xi[i]; p[i].i = i; }
    qsort(p, (size_t)n, sizeof *p, cmp_pair);
    par_sort(xi, PAR_I64, n, oi);
    for (i = 0; i < n; i++) CHECK_EQ_I64(oi[i], xi[p[i].i]);
    par_argsort(xi, PAR_I64, n, oi);
    for (i = 0; i < n; i++) CHECK_EQ_I64(oi[i], p[i].i);
    free(idx); free(x); free(out); free(p); free(xi); free(oi);
  }
}

static void test_sort_special(void) {
  double x[6] = {0.0, -0.0, NAN, -1.0, -0.0, -INFINITY}, out[6];
  int64_t xi[4] = {INT64_MAX, INT64_MIN, -1, 0}, oi[5], idx[6];
  uint8_t b[5] = {1, 0, 1, 0, 0}, ob[5];
  par_sort(x, PAR_F64, 6, out);
  CHECK_EQ_BITS(out[0], -INFINITY);
  CHECK_EQ_BITS(out[1], -1.0);
  CHECK_EQ_BITS(out[2], 0.0);       /* zeros keep their order and signs */
  CHECK_EQ_BITS(out[3], -0.0);
  CHECK_EQ_BITS(out[4], -0.0);
  CHECK(isnan(out[5]));
  par_argsort(x, PAR_F64, 6, idx);
  CHECK(idx[0] == 5 && idx[1] == 3 && idx[2] == 0 && idx[3] == 1 && idx[4] == 4 && idx[5] == 2);
  par_sort(xi, PAR_I64, 4, oi);
  CHECK(oi[0] == INT64_MIN && oi[1] == -1 && oi[2] == 0 && oi[3] == INT64_MAX);
  par_sort(b, PAR_BOOL, 5, ob);
  CHECK(ob[0] == 0 && ob[2] == 0 && ob[3] == 1 && ob[4] == 1);
  par_argsort(b, PAR_BOOL, 5, oi);
  CHECK(oi[0] == 1 && oi[1] == 3 && oi[2] == 4 && oi[3] == 0 && oi[4] == 2);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Selection of several ranks against a full sort, on random keys, on few
** distinct keys and on sorted input. */
static void test_select(void) {
  int64_t n = 200003, i, k[5] = {0, 17, 100001, 100002, 200002};
  uint64_t *key = malloc((size_t)n * sizeof *key), *ref = malloc((size_t)n * sizeof *ref);
  int kind, j;
  for (kind = 0; kind < 3; kind++) {
    for (i = 0; i < n; i++)
      key[i] = kind == 0 ? next64() : kind == 1 ? next64() % 3 : (uint64_t)i;
    memcpy(ref, key, (size_t)n * sizeof *key);
    qsort(ref, (size_t)n, sizeof *ref, cmp_u64);
    par_select_keys(key, n, k, 5);
    for (j = 0; j < 5; j++) {
      CHECK_EQ_U64(key[k[j]], ref[k[j]]);
      for (i = k[j] > 50 ? k[j] - 50 : 0; i < k[j]; i++) CHECK(key[i] <= key[k[j]]);
    }
  }
  CHECK(par_funkey(par_fkey(-0.0)) == 0 && signbit(par_funkey(par_fkey(-0.0))));
  CHECK(par_fkey(-0.0) < par_fkey(0.0) && par_fkey(-INFINITY) < par_fkey(-1e300));
  CHECK(par_ikey(INT64_MIN) < par_ikey(-1) && par_ikey(-1) < par_ikey(0));
  free(key);
  free(ref);
}

/* ---- NumPy 1.24's numbers ---- */

static void test_numpy(void) {
  double e[8], lerp_lo = par_lerp_f(1.5, 7.25, 0.3), lerp_hi = par_lerp_f(1.5, 7.25, 0.7);
  double tiny[4];
  static const double lin[8] = {-0x1.4cccccccccccdp+0, -0x1.7507507507508p-1,
    -0x1.41d41d41d41d8p-3, 0x1.a83a83a83a838p-2, 0x1.f8af8af8af8aep-1,
    0x1.8ea0ea0ea0e9fp+0, 0x1.1075075075074p+1, 0x1.599999999999ap+1};
  int i;
  par_linspace(-1.3, 2.7, 8, e);
  for (i = 0; i < 8; i++) CHECK_EQ_BITS(e[i], lin[i]);
  par_linspace(0.0, 5e-324, 4, tiny);        /* a zero step: NumPy's other path */
  CHECK_EQ_BITS(tiny[1], 0.0);
  CHECK_EQ_BITS(tiny[2], 5e-324);
  CHECK_EQ_BITS(lerp_lo, 0x1.9ccccccccccccp+1);
  CHECK_EQ_BITS(lerp_hi, 0x1.6199999999999p+2);
  CHECK_EQ_BITS(par_lerp_f(0x1.e436b82bb5cc0p-3, 0x1.204bf8d5634eap+3, 0x1.24e7a4f608ec2p-1),
                0x1.505529aa301dcp+2);    /* b - d (1 - t), not a + d t */
}

/* np.histogram of x_i = (i * 7919 % 10007) / 101 (and integer variants). */
static void test_histogram(void) {
  static const int64_t want17[17] = {293, 293, 294, 295, 295, 294, 295, 292, 293, 296,
                                     294, 295, 292, 294, 293, 295, 297};
  static const int64_t want9[9] = {226, 227, 228, 227, 227, 227, 227, 227, 228};
  static const int64_t want13[13] = {385, 384, 385, 383, 386, 385, 383, 385, 384, 384,
                                     385, 385, 386};
  double x[5000], edges[18];
  int64_t xi[5000], counts[17], i;
  par_hist h;
  int t;
  for (i = 0; i < 5000; i++) {
    x[i] = (double)(i * 7919 % 10007) / 101.0;
    xi[i] = i * 7919 % 10007 - 5000;
  }
  for (t = 0; t < NTHREADS; t++) {
    memset(&h, 0, sizeof h);
    h.bins = 17;
    par_reduce_rows_f(PAR_OP_MIN, x, PAR_F64, 1, 5000, 0.0, 1, &h.first);
    par_reduce_rows_f(PAR_OP_MAX, x, PAR_F64, 1, 5000, 0.0, 1, &h.last);
    par_linspace(h.first, h.last, 18, edges);
    h.edges = edges;
    par_hist_init(&h);
    memset(counts, 0, sizeof counts);
    CHECK(par_histogram(&h, x, PAR_F64, 5000, threads[t], counts) == PAR_OK);
    for (i = 0; i < 17; i++) CHECK_EQ_I64(counts[i], want17[i]);
    CHECK_EQ_BITS(edges[3], 0x1.17b9a04791126p+4);
    h.bins = 9;                                /* range (10, 50.5) */
    h.first = 10; h.first_int = 1; h.ifirst = 10; h.last = 50.5;
    par_linspace(h.first, h.last, 10, edges);
    par_hist_init(&h);
    memset(counts, 0, sizeof counts);
    par_histogram(&h, x, PAR_F64, 5000, threads[t], counts);
    for (i = 0; i < 9; i++) CHECK_EQ_I64(counts[i], want9[i]);
    memset(&h, 0, sizeof h);                   /* integer data, integer edges */
    h.bins = 13;
    h.first_int = h.last_int = 1;
    par_reduce_rows_i(PAR_OP_MIN, xi, PAR_I64, 1, 5000, 1, &h.ifirst);
    par_reduce_rows_i(PAR_OP_MAX, xi, PAR_I64, 1, 5000, 1, &h.ilast);
    h.first = (double)h.ifirst;
    h.last = (double)h.ilast;
    par_linspace(h.first, h.last, 14, edges);
    h.edges = edges;
    par_hist_init(&h);
    memset(counts, 0, sizeof counts);
    par_histogram(&h, xi, PAR_I64, 5000, threads[t], counts);
    for (i = 0; i < 13; i++) CHECK_EQ_I64(counts[i], want13[i]);
    CHECK_EQ_BITS(edges[1], -0x1.0864ec4ec4ec5p+12);
  }
}

int main(void) {
  test_definition();
  test_float_reductions();
  test_ties();
  test_int_reductions();
  test_axes();
  test_cumsum();
  test_sort();
  test_sort_special();
  test_select();
  test_numpy();
  test_histogram();
  return unit_report("test_reduce");
}
