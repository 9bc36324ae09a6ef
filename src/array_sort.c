/*
** array_sort.c: order statistics of arrays: sort, argsort, median,
** quantile and histogram. Pure-C cores first (a stable radix sort on
** order-preserving uint64 keys, introselect, NumPy's interpolation and
** histogram binning), then the Lua bindings.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "modules.h"
#include "reduce.h"

/* Up to this many keys, insertion sort (and no scratch memory). */
#define SMALL 32
/* Elements per scheduling unit of par_run (sorting rows, histograms). */
#define TASK_ELEMS (64 * 1024)
/* Long serial loops run in chunks of POLL steps and poll the interrupt flag
** between chunks: about a millisecond of work, so Ctrl-C stops a sort of
** 10^8 elements at once, while the inner loops stay as fast as before. */
#define POLL (64 * 1024)

/* The end of the chunk of [lo, n) that starts at lo, or -1 when Ctrl-C
** was pressed (asked after the first chunk: short loops, such as those of
** small rows, never poll). */
static int64_t chunk(int64_t lo, int64_t n) {
  if (lo > 0 && par_interrupted()) return -1;
  return n - lo > POLL ? lo + POLL : n;
}

/* ---- sorting keys ---- */

/* Stable insertion sort of key[0..n), moving idx along when not NULL. */
static void insertion(uint64_t *key, int64_t *idx, int64_t n) {
  int64_t i, j;
  for (i = 1; i < n; i++) {
    uint64_t k = key[i];
    int64_t v = idx != NULL ? idx[i] : 0;
    for (j = i; j > 0 && key[j - 1] > k; j--) {
      key[j] = key[j - 1];
      if (idx != NULL) idx[j] = idx[j - 1];
    }
    key[j] = k;
    if (idx != NULL) idx[j] = v;
  }
}

/* Stable LSD radix sort, a byte per pass; a pass is skipped when every key
** has the same byte there. kt (and it, with idx) are scratch of n. Returns
** PAR_OK, or PAR_INTERRUPTED with key and idx in any order. */
static int radix(uint64_t *key, int64_t *idx, int64_t n, uint64_t *kt, int64_t *it) {
  int64_t cnt[8][256], i, lo, hi;
  uint64_t *src = key, *dst = kt, *tk;
  int64_t *isrc = idx, *idst = it, *ti;
  int d, b;
  memset(cnt, 0, sizeof cnt);
  for (lo = 0; lo < n; lo = hi) {
    if ((hi = chunk(lo, n)) < 0) return PAR_INTERRUPTED;
    for (i = lo; i < hi; i++)
      for (d = 0; d < 8; d++) cnt[d][(key[i] >> (8 * d)) & 255]++;
  }
  for (d = 0; d < 8; d++) {
    int64_t *c = cnt[d], sum = 0;
    if (c[(key[0] >> (8 * d)) & 255] == n) continue;
    for (b = 0; b < 256; b++) {
      int64_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    for (lo = 0; lo < n; lo = hi) {
      if ((hi = chunk(lo, n)) < 0) return PAR_INTERRUPTED;
      for (i = lo; i < hi; i++) {
        int64_t p = c[(src[i] >> (8 * d)) & 255]++;
        dst[p] = src[i];
        if (idx != NULL) idst[p] = isrc[i];
      }
    }
    tk = src; src = dst; dst = tk;
    ti = isrc; isrc = idst; idst = ti;
  }
  if (src != key) {
    memcpy(key, src, (size_t)n * sizeof *key);
    if (idx != NULL) memcpy(idx, isrc, (size_t)n * sizeof *idx);
  }
  return PAR_OK;
}

static int sortkeys(uint64_t *key, int64_t *idx, int64_t n, uint64_t *kt, int64_t *it) {
  if (n > SMALL) return radix(key, idx, n, kt, it);
  insertion(key, idx, n);
  return PAR_OK;
}

/* Keys of the non-NaN elements of x into key[0..m) (their indices into
** idx when not NULL); returns m. -0.0 takes the key of 0.0, so the two
** stay in their original order like all equal values. -1 when interrupted. */
static int64_t encode(const void *x, par_dtype dt, int64_t n, uint64_t *key, int64_t *idx) {
  int64_t i, m = 0, lo, hi;
  for (lo = 0; lo < n; lo = hi) {
    if ((hi = chunk(lo, n)) < 0) return -1;
    for (i = lo; i < hi; i++) {
      uint64_t k;
      if (dt == PAR_F64) {
        double v = ((const double *)x)[i];
        if (v != v) continue;
        k = par_fkey(v == 0 ? 0.0 : v);
      }
      else if (dt == PAR_I64) k = par_ikey(((const int64_t *)x)[i]);
      else k = ((const uint8_t *)x)[i];
      if (idx != NULL) idx[m] = i;
      key[m++] = k;
    }
  }
  return m;
}

/* Sorted doubles from m sorted keys, then the NaNs of x in their order;
** the zeros get back their signs, in their original order. */
static int decode_f(const double *x, int64_t n, const uint64_t *key, int64_t m, double *out) {
  int64_t i, j = m, z = -1, lo, hi;
  for (lo = 0; lo < m; lo = hi) {
    if ((hi = chunk(lo, m)) < 0) return PAR_INTERRUPTED;
    for (i = lo; i < hi; i++) {
      out[i] = par_funkey(key[i]);
      if (z < 0 && out[i] == 0) z = i;
    }
  }
  for (lo = 0; lo < n; lo = hi) {
    if ((hi = chunk(lo, n)) < 0) return PAR_INTERRUPTED;
    for (i = lo; i < hi; i++) {
      if (x[i] != x[i]) out[j++] = x[i];
      else if (x[i] == 0) out[z++] = x[i];
    }
  }
  return PAR_OK;
}

/* The sorted values of x (n elements, m of them not NaN) from m sorted
** keys into out. */
static int decode(const void *x, par_dtype dt, int64_t n, const uint64_t *key, int64_t m,
                  void *out) {
  int64_t i, lo, hi;
  if (dt == PAR_F64) return decode_f(x, n, key, m, out);
  for (lo = 0; lo < m; lo = hi) {
    if ((hi = chunk(lo, m)) < 0) return PAR_INTERRUPTED;
    if (dt == PAR_I64)
      for (i = lo; i < hi; i++) ((int64_t *)out)[i] = par_iunkey(key[i]);
    else
      for (i = lo; i < hi; i++) ((uint8_t *)out)[i] = (uint8_t)key[i];
  }
  return PAR_OK;
}

/* Scratch of 'words' uint64 (NULL when refused); *b is to be released. */
static uint64_t *scratch(par_buffer **b, int64_t words) {
  *b = par_buffer_new((size_t)words * sizeof(uint64_t));
  return *b != NULL ? par_buffer_data(*b) : NULL;
}

/* par_sort and par_argsort stop early when interrupted (PAR_INTERRUPTED),
** leaving out or idx partly written. */
int par_sort(const void *x, par_dtype dt, int64_t n, void *out) {
  uint64_t small[SMALL], *key = small;
  par_buffer *b = NULL;
  int64_t m;
  int st;
  if (n > SMALL && (key = scratch(&b, 2 * n)) == NULL) return PAR_NOMEM;
  m = encode(x, dt, n, key, NULL);
  st = m < 0 ? PAR_INTERRUPTED : sortkeys(key, NULL, m, n > SMALL ? key + n : NULL, NULL);
  if (st == PAR_OK) st = decode(x, dt, n, key, m, out);
  par_buffer_release(b);
  return st;
}

/* Appends the indices of the n - m NaNs of x (so float64), in order, to
** the m sorted ones. */
static int nans_last(const double *x, int64_t n, int64_t m, int64_t *idx) {
  int64_t i, lo, hi;
  for (lo = 0; m < n; lo = hi) {
    if ((hi = chunk(lo, n)) < 0) return PAR_INTERRUPTED;
    for (i = lo; i < hi; i++)
      if (x[i] != x[i]) idx[m++] = i;
  }
  return PAR_OK;
}

int par_argsort(const void *x, par_dtype dt, int64_t n, int64_t *idx) {
  uint64_t small[SMALL], *key = small;
  par_buffer *b = NULL;
  int64_t m;
  int st;
  if (n > SMALL && (key = scratch(&b, 3 * n)) == NULL) return PAR_NOMEM;
  m = encode(x, dt, n, key, idx);
  if (m < 0) st = PAR_INTERRUPTED;
  else if (n > SMALL) st = sortkeys(key, idx, m, key + n, (int64_t *)(key + 2 * n));
  else st = sortkeys(key, idx, m, NULL, NULL);
  if (st == PAR_OK && m < n) st = nans_last(x, n, m, idx);
  par_buffer_release(b);
  return st;
}

/* ---- selection ---- */

static void swapk(uint64_t *x, int64_t i, int64_t j) {
  uint64_t t = x[i];
  x[i] = x[j];
  x[j] = t;
}

/* Moves x[root] down the heap x[0..n). */
static void siftdown(uint64_t *x, int64_t root, int64_t n) {
  int64_t child;
  for (; (child = 2 * root + 1) < n; root = child) {
    if (child + 1 < n && x[child + 1] > x[child]) child++;
    if (x[root] >= x[child]) return;
    swapk(x, root, child);
  }
}

/* In-place heapsort: the O(n log n) fallback of introselect. A step sifts
** through up to log2(n) levels, so it polls every POLL / 16 steps. */
static int heapsort_keys(uint64_t *x, int64_t n) {
  int64_t i;
  for (i = n / 2 - 1; i >= 0; i--) {
    if (i % (POLL / 16) == 0 && par_interrupted()) return PAR_INTERRUPTED;
    siftdown(x, i, n);
  }
  for (i = n - 1; i > 0; i--) {
    if (i % (POLL / 16) == 0 && par_interrupted()) return PAR_INTERRUPTED;
    swapk(x, 0, i);
    siftdown(x, 0, i);
  }
  return PAR_OK;
}

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c) {
  if (a > b) { uint64_t t = a; a = b; b = t; }
  return c <= a ? a : c >= b ? b : c;
}

/* Three-way partition of x[lo..hi) around p: x[lo..*lt) < p, x[*lt..*gt)
** == p and x[*gt..hi) > p. A step moves i or gt by one, so the flag is
** polled every POLL steps. */
static int partition3(uint64_t *x, int64_t lo, int64_t hi, uint64_t p, int64_t *plt,
                      int64_t *pgt) {
  int64_t lt = lo, i = lo, gt = hi, left, steps;
  for (left = hi - lo; left > 0; ) {        /* left: gt - i */
    if (par_interrupted()) return PAR_INTERRUPTED;
    steps = left < POLL ? left : POLL;
    for (left -= steps; steps > 0; steps--) {
      if (x[i] < p) swapk(x, lt++, i++);
      else if (x[i] > p) swapk(x, i, --gt);
      else i++;
    }
  }
  *plt = lt;
  *pgt = gt;
  return PAR_OK;
}

/* Puts the key of rank k of x[lo..hi) at x[k], smaller ones before it and
** larger ones after: quickselect with three-way partitions (duplicates
** cost nothing), falling back to heapsort after too many rounds. Returns
** PAR_OK, or PAR_INTERRUPTED with x[lo..hi) in any order. */
static int select1(uint64_t *x, int64_t lo, int64_t hi, int64_t k) {
  int depth = 8;
  int64_t s;
  for (s = hi - lo; s > 1; s >>= 1) depth += 2;
  while (hi - lo > SMALL) {
    uint64_t p = median3(x[lo], x[lo + (hi - lo) / 2], x[hi - 1]);
    int64_t lt, gt;
    if (depth-- == 0) return heapsort_keys(x + lo, hi - lo);
    if (partition3(x, lo, hi, p, &lt, &gt) != PAR_OK) return PAR_INTERRUPTED;
    if (k < lt) hi = lt;
    else if (k >= gt) lo = gt;
    else return PAR_OK;
  }
  insertion(x + lo, NULL, hi - lo);
  return PAR_OK;
}

/* Selects the middle rank, then recurses into each side with its ranks.
** PAR_INTERRUPTED when interrupted (the ranks not yet in place). */
static int multiselect(uint64_t *x, int64_t lo, int64_t hi, const int64_t *k, int64_t nk) {
  int64_t m = nk / 2;
  int st;
  if (nk == 0) return PAR_OK;
  if (par_interrupted()) return PAR_INTERRUPTED;
  st = select1(x, lo, hi, k[m]);
  if (st == PAR_OK) st = multiselect(x, lo, k[m], k, m);
  if (st == PAR_OK) st = multiselect(x, k[m] + 1, hi, k + m + 1, nk - m - 1);
  return st;
}

/* Stops early when interrupted: the caller checks par_interrupted(). */
void par_select_keys(uint64_t *key, int64_t n, const int64_t *k, int64_t nk) {
  (void)multiselect(key, 0, n, k, nk);
}

/* NumPy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) when t >= 0.5. */
double par_lerp_f(double a, double b, double t) {
  double d = b - a;
  return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

double par_lerp_i(int64_t a, int64_t b, double t) {
  double d = (double)(int64_t)((uint64_t)b - (uint64_t)a);
  return t >= 0.5 ? (double)b - d * (1.0 - t) : (double)a + d * t;
}

/* ---- histograms ---- */

void par_linspace(double lo, double hi, int64_t num, double *out) {
  int64_t div = num - 1, i;
  double delta = hi - lo, step = div > 0 ? delta / (double)div : 0.0;
  for (i = 0; i < num; i++) {
    if (div <= 0) out[i] = (double)i * delta + lo;
    else if (step == 0) out[i] = (double)i / (double)div * delta + lo;
    else out[i] = (double)i * step + lo;
  }
  if (num > 1) out[num - 1] = hi;
}

void par_hist_init(par_hist *h) {
  if (h->first_int && h->last_int)    /* NumPy subtracts integer edges unsigned */
    h->norm = (double)h->bins / (double)((uint64_t)h->ilast - (uint64_t)h->ifirst);
  else
    h->norm = (double)h->bins / (h->last - h->first);
}

/* Bin of a value inside [first, last]: NumPy's estimate from the scaled
** offset, then its corrections against the edges (the last bin is closed;
** the result is clamped to the bins, where NumPy would fail). */
static int64_t bin_of(const par_hist *h, double v) {
  double f = (v - h->first) * h->norm;
  int64_t b = f >= (double)h->bins ? h->bins - 1 : f > 0 ? (int64_t)f : 0;
  if (v < h->edges[b] && b > 0) b--;
  if (b != h->bins - 1 && v >= h->edges[b + 1]) b++;
  return b;
}

typedef struct hist_ctx {
  const par_hist *h;
  const void *x;
  par_dtype dt;
  int64_t *counts;      /* bins per thread */
} hist_ctx;

static int hist_task(void *ud, int64_t lo, int64_t hi, int64_t blk, int tid) {
  const hist_ctx *c = ud;
  const par_hist *h = c->h;
  int64_t *cnt = c->counts + (int64_t)tid * h->bins, i;
  (void)blk;
  for (i = lo; i < hi; i++) {
    double v;
    if (c->dt == PAR_F64) {
      v = ((const double *)c->x)[i];
      if (!(v >= h->first && v <= h->last)) continue;
    }
    else {   /* integers compare with integer edges exactly, as NumPy's */
      int64_t iv = c->dt == PAR_I64 ? ((const int64_t *)c->x)[i] : ((const uint8_t *)c->x)[i];
      v = (double)iv;
      if (!(h->first_int ? iv >= h->ifirst : v >= h->first)) continue;
      if (!(h->last_int ? iv <= h->ilast : v <= h->last)) continue;
    }
    cnt[bin_of(h, v)]++;
  }
  return 0;
}

int par_histogram(const par_hist *h, const void *x, par_dtype dt, int64_t n,
                  int nthreads, int64_t *counts) {
  hist_ctx c = {h, x, dt, counts};
  par_result r;
  int64_t t, i;
  if (h->bins > n / 4) nthreads = 1;    /* not worth per-thread counts */
  if (nthreads > 1) {
    c.counts = calloc((size_t)nthreads * (size_t)h->bins, sizeof(int64_t));
    if (c.counts == NULL) return PAR_NOMEM;
  }
  r = par_run(n, TASK_ELEMS, nthreads, hist_task, &c);
  if (nthreads > 1) {
    for (t = 0; t < nthreads; t++)
      for (i = 0; i < h->bins; i++) counts[i] += c.counts[t * h->bins + i];
    free(c.counts);
  }
  return r.status;
}

/* ---- Lua bindings ---- */

/* Raises the error for a core's status, if any. */
static void checkstatus(lua_State *L, int st) {
  if (st == PAR_INTERRUPTED) par_raise_interrupt(L);
  else if (st != PAR_OK) luaL_error(L, "not enough memory");
}

/* The status of a par_run whose tasks return a core's status. */
static int runstatus(par_result r) {
  return r.status == PAR_FAILED ? r.code : r.status;
}

typedef struct sort_ctx {
  const par_array *a;
  par_array *r;
  int64_t len;          /* row length */
  int arg;              /* argsort */
} sort_ctx;

/* Adds 1 to the n indices of idx: argsort's are 1-based. */
static int one_based(int64_t *idx, int64_t n) {
  int64_t i, lo, hi;
  for (lo = 0; lo < n; lo = hi) {
    if ((hi = chunk(lo, n)) < 0) return PAR_INTERRUPTED;
    for (i = lo; i < hi; i++) idx[i]++;
  }
  return PAR_OK;
}

static int sort_task(void *ud, int64_t lo, int64_t hi, int64_t blk, int tid) {
  const sort_ctx *s = ud;
  size_t es = par_dtype_size(s->a->dtype);
  int64_t i;
  (void)blk; (void)tid;
  for (i = lo; i < hi; i++) {
    size_t off = (size_t)(i * s->len);
    const char *x = (const char *)s->a->data + off * es;
    int st;
    if (s->arg) {
      st = par_argsort(x, s->a->dtype, s->len, PAR_I64P(s->r) + off);
      if (st == PAR_OK) st = one_based(PAR_I64P(s->r) + off, s->len);
    }
    else st = par_sort(x, s->a->dtype, s->len, (char *)s->r->data + off * es);
    if (st != PAR_OK) return st;
  }
  return 0;
}

/* a:sort() and a:argsort(): the whole 1-D array, or each row of a 2-D one
** (NumPy's default axis), rows in parallel. */
static int sortrows(lua_State *L, int arg) {
  par_array *a = par_checkarray(L, 1);
  int64_t rows = a->ndim == 2 ? a->dim[0] : 1;
  sort_ctx s = {a, NULL, a->ndim == 2 ? a->dim[1] : a->size, arg};
  int64_t rows_per_task = s.len < TASK_ELEMS ? TASK_ELEMS / (s.len + 1) + 1 : 1;
  par_noaxis(L, 1, arg ? "argsort" : "sort", "sorts each row");
  s.r = par_newarray(L, arg ? PAR_I64 : a->dtype, a->ndim, a->dim[0], a->dim[1]);
  checkstatus(L, runstatus(par_run(rows, rows_per_task, rows > 1 ? par_threads_for(a->size) : 1,
                                   sort_task, &s)));
  return 1;
}

static int l_sort(lua_State *L) { return sortrows(L, 0); }
static int l_argsort(lua_State *L) { return sortrows(L, 1); }

/* Pushes a scratch array with the keys of a's elements; returns them, or
** NULL when an element is NaN (then every order statistic is NaN). Bools
** count as the integers 0 and 1. */
/* The keys of n elements of dtype dt into key[]: PAR_OK, PAR_INTERRUPTED,
** or PAR_FAILED when an element is NaN (the keys then incomplete). */
static int fillkeys(uint64_t *key, const void *x, par_dtype dt, int64_t n) {
  int64_t i, lo, hi;
  for (lo = 0; lo < n; lo = hi) {
    if ((hi = chunk(lo, n)) < 0) return PAR_INTERRUPTED;
    for (i = lo; i < hi; i++) {
      if (dt == PAR_F64) {
        double v = ((const double *)x)[i];
        if (v != v) return PAR_FAILED;
        key[i] = par_fkey(v);
      }
      else key[i] = par_ikey(dt == PAR_I64 ? ((const int64_t *)x)[i] : ((const uint8_t *)x)[i]);
    }
  }
  return PAR_OK;
}

static uint64_t *pushkeys(lua_State *L, const par_array *a) {
  par_array *k = par_newarray(L, PAR_I64, 1, a->size, 1);
  uint64_t *key = (uint64_t *)k->data;
  int st = fillkeys(key, a->data, a->dtype, a->size);
  if (st == PAR_INTERRUPTED) par_raise_interrupt(L);
  return st == PAR_OK ? key : NULL;
}

static double keyval(par_dtype dt, uint64_t k) {
  return dt == PAR_F64 ? par_funkey(k) : (double)par_iunkey(k);
}

static void qplan(int64_t n, double q, int isint, int64_t *prev, int64_t *next, double *gamma);

/* A quantile from the keys of ranks prev and next (qplan): into *f, or *i
** for an integer q (isint) of int64 elements. */
static void qvalue(par_dtype dt, const uint64_t *key, int64_t prev, int64_t next, double g,
                   int isint, double *f, int64_t *i) {
  if (isint && dt == PAR_I64) *i = par_iunkey(key[prev]);
  else if (isint) *f = keyval(dt, key[prev]);
  else if (dt == PAR_F64) *f = par_lerp_f(par_funkey(key[prev]), par_funkey(key[next]), g);
  else *f = par_lerp_i(par_iunkey(key[prev]), par_iunkey(key[next]), g);
}

int par_order_stat(const void *x, par_dtype dt, int64_t n, double q, int isint, double *f,
                   int64_t *i) {
  uint64_t *key;
  int64_t k[2];
  double g = 0.0;
  int st;
  *f = NAN;
  if (n == 0) return PAR_OK;
  if ((key = malloc(sizeof *key * (size_t)n)) == NULL) return PAR_NOMEM;
  st = fillkeys(key, x, dt, n);
  if (st != PAR_OK) {            /* a NaN makes every order statistic NaN */
    free(key);
    return st == PAR_INTERRUPTED ? st : PAR_OK;
  }
  if (q < 0) k[0] = (n - 1) / 2, k[1] = n / 2;
  else qplan(n, q, isint, &k[0], &k[1], &g);
  st = multiselect(key, 0, n, k, k[0] == k[1] ? 1 : 2);
  if (q < 0 && n % 2 == 1) *f = 0.0 + keyval(dt, key[k[0]]);
  else if (q < 0) *f = (0.0 + keyval(dt, key[k[0]]) + keyval(dt, key[k[1]])) / 2.0;
  else qvalue(dt, key, k[0], k[1], g, isint, f, i);
  free(key);
  return st;
}

/* a:median(): NumPy's, the mean of the middle value(s) (so 0.0 + x, or
** (0.0 + lo + hi) / 2); NaN for an empty array or when there is a NaN. */
static int l_median(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  double m;
  par_noaxis(L, 1, "median", "reduces the whole array");
  checkstatus(L, par_order_stat(a->data, a->dtype, a->size, -1.0, 0, &m, NULL));
  lua_pushnumber(L, m);
  return 1;
}

/* The quantiles at argument 2: a number (into *one; returns NULL), or a
** table or array of them, copied into a new float64 array of their shape
** (pushed and returned). *isint: all of them are integers. */
static par_array *checkq(lua_State *L, double *one, int *isint) {
  par_array *q = par_toarray(L, 2), *r;
  int64_t i, n;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    *isint = lua_isinteger(L, 2);
    *one = lua_tonumber(L, 2);
    return NULL;
  }
  if (q != NULL) {
    luaL_argcheck(L, q->dtype != PAR_BOOL, 2, "quantiles must be numbers");
    r = par_newarray(L, PAR_F64, q->ndim, q->dim[0], q->dim[1]);
    for (i = 0; i < q->size; i++) PAR_F64P(r)[i] = par_getf(q, i);
    *isint = q->dtype == PAR_I64;
    return r;
  }
  luaL_argexpected(L, lua_istable(L, 2), 2, "number, table or par.array");
  n = luaL_len(L, 2);
  r = par_newarray(L, PAR_F64, 1, n, 1);
  for (*isint = n > 0, i = 0; i < n; i++) {   /* {} is float, as in NumPy */
    lua_geti(L, 2, i + 1);
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_argerror(L, 2, "quantiles must be numbers");
    *isint = *isint && lua_isinteger(L, -1);
    PAR_F64P(r)[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  return r;
}

/* NumPy's 'linear' method for quantile q of n sorted values: the ranks
** to interpolate between and the weight. An integer q (0 or 1) takes an
** element without interpolation, as NumPy does for integer quantiles. */
static void qplan(int64_t n, double q, int isint, int64_t *prev, int64_t *next, double *gamma) {
  double vi = (double)(n - 1) * q;
  if (isint) {
    *prev = *next = (int64_t)vi;
    *gamma = 0.0;
  }
  else if (vi >= (double)(n - 1)) {     /* NumPy's index -1 */
    *prev = *next = n - 1;
    *gamma = vi - -1.0;
  }
  else {
    *prev = (int64_t)floor(vi);
    *next = *prev + 1;
    *gamma = vi - (double)*prev;
  }
}

/* Writes the nq quantiles q[] of a (keys key[], n > 0) into res[]: doubles,
** or int64 for integer quantiles of an int64 array (its elements). */
static void quantiles(lua_State *L, const par_array *a, uint64_t *key, const double *q,
                      int64_t nq, int isint, void *res) {
  int64_t n = a->size, i, nk = 0, prev, next;
  par_array *ks = par_newarray(L, PAR_I64, 1, 4 * nq, 1);
  int64_t *k = PAR_I64P(ks), *sorted = k + 2 * nq;
  double g;
  for (i = 0; i < nq; i++) qplan(n, q[i], isint, &k[2 * i], &k[2 * i + 1], &g);
  checkstatus(L, par_sort(k, PAR_I64, 2 * nq, sorted));
  for (i = 0; i < 2 * nq; i++)            /* distinct ranks */
    if (nk == 0 || sorted[i] != k[nk - 1]) k[nk++] = sorted[i];
  checkstatus(L, multiselect(key, 0, n, k, nk));
  for (i = 0; i < nq; i++) {
    qplan(n, q[i], isint, &prev, &next, &g);
    qvalue(a->dtype, key, prev, next, g, isint, (double *)res + i, (int64_t *)res + i);
  }
  lua_pop(L, 1);
}

/* a:quantile(q): NumPy's quantile with the default 'linear' method, for a
** number (a number) or a table or array of them (a float64 array). As in
** NumPy, integer quantiles of an int64 array give its int64 elements. */
static int l_quantile(lua_State *L) {
  par_array *a = par_checkarray(L, 1), *r, *out;
  double one, *q;
  int isint, res, elem;
  int64_t nq, ione, i;
  uint64_t *key;
  par_noaxis(L, 2, "quantile", "reduces the whole array");
  out = r = checkq(L, &one, &isint);
  nq = r != NULL ? r->size : 1;
  q = r != NULL ? PAR_F64P(r) : &one;
  for (i = 0; i < nq; i++)
    luaL_argcheck(L, q[i] >= 0.0 && q[i] <= 1.0, 2, "quantiles must be in the range [0, 1]");
  luaL_argcheck(L, a->size > 0, 1, "cannot take a quantile of an empty array");
  elem = isint && a->dtype == PAR_I64;
  if (r != NULL && elem) out = par_newarray(L, PAR_I64, r->ndim, r->dim[0], r->dim[1]);
  res = lua_gettop(L);
  key = pushkeys(L, a);
  if (key == NULL)
    for (i = 0; i < nq; i++) q[i] = NAN;
  else
    quantiles(L, a, key, q, nq, isint, out != NULL ? out->data : elem ? (void *)&ione : &one);
  lua_settop(L, res);
  if (r == NULL && elem) lua_pushinteger(L, ione);
  else if (r == NULL) lua_pushnumber(L, one);
  return 1;
}

/* A number for error messages ("nan" whatever its sign, as NumPy). */
static const char *numstr(char *buf, double v) {
  if (v != v) return "nan";
  snprintf(buf, 32, "%.14g", v);
  return buf;
}

/* The outer edges: lo and hi at arguments 3 and 4, else the data's range
** (0 and 1 when empty); NumPy's errors; an empty range widens by 0.5. */
static void hist_range(lua_State *L, const par_array *a, par_hist *h) {
  char b1[32], b2[32];
  if (!lua_isnoneornil(L, 3) || !lua_isnoneornil(L, 4)) {
    h->first = luaL_checknumber(L, 3);
    h->last = luaL_checknumber(L, 4);
    if ((h->first_int = lua_isinteger(L, 3))) h->ifirst = lua_tointeger(L, 3);
    if ((h->last_int = lua_isinteger(L, 4))) h->ilast = lua_tointeger(L, 4);
    if (lua_compare(L, 4, 3, LUA_OPLT))
      luaL_error(L, "max must be larger than min in range parameter");
    if (!isfinite(h->first) || !isfinite(h->last))
      luaL_error(L, "supplied range of [%s, %s] is not finite",
                 numstr(b1, h->first), numstr(b2, h->last));
  }
  else if (a->size == 0) {
    h->first_int = h->last_int = 1;
    h->ifirst = 0; h->ilast = 1;
  }
  else if (a->dtype == PAR_F64) {
    int nt = par_threads_for(a->size);
    checkstatus(L, par_reduce_rows_f(PAR_OP_MIN, a->data, a->dtype, 1, a->size, 0.0, nt, &h->first));
    checkstatus(L, par_reduce_rows_f(PAR_OP_MAX, a->data, a->dtype, 1, a->size, 0.0, nt, &h->last));
    if (!isfinite(h->first) || !isfinite(h->last))
      luaL_error(L, "autodetected range of [%s, %s] is not finite",
                 numstr(b1, h->first), numstr(b2, h->last));
  }
  else {
    int nt = par_threads_for(a->size);
    h->first_int = h->last_int = 1;
    checkstatus(L, par_reduce_rows_i(PAR_OP_MIN, a->data, a->dtype, 1, a->size, nt, &h->ifirst));
    checkstatus(L, par_reduce_rows_i(PAR_OP_MAX, a->data, a->dtype, 1, a->size, nt, &h->ilast));
  }
  if (h->first_int) h->first = (double)h->ifirst;
  if (h->last_int) h->last = (double)h->ilast;
  if (h->first_int && h->last_int ? h->ifirst == h->ilast : h->first == h->last) {
    h->first -= 0.5;
    h->last += 0.5;
    h->first_int = h->last_int = 0;
  }
}

/* par.histogram(a, bins [, lo, hi]): NumPy's histogram with 'bins' equal
** bins; returns the counts (int64) and the bins + 1 edges (float64). */
static int l_histogram(lua_State *L) {
  par_array *a = par_checkarray(L, 1), *counts, *edges;
  lua_Integer bins = luaL_checkinteger(L, 2);
  par_hist h = {0, 0.0, 0.0, 0, 0, 0, 0, 0.0, NULL};
  luaL_argcheck(L, bins >= 1, 2, "bins must be a positive integer");
  luaL_argcheck(L, bins <= ((lua_Integer)1 << 40), 2, "too many bins");
  hist_range(L, a, &h);
  h.bins = bins;
  counts = par_newarray_zero(L, PAR_I64, 1, bins, 1);
  edges = par_newarray(L, PAR_F64, 1, bins + 1, 1);
  par_linspace(h.first, h.last, bins + 1, PAR_F64P(edges));
  h.edges = PAR_F64P(edges);
  par_hist_init(&h);
  checkstatus(L, par_histogram(&h, a->data, a->dtype, a->size, par_threads_for(a->size),
                               PAR_I64P(counts)));
  return 2;
}

static const luaL_Reg methods[] = {
  {"sort", l_sort},
  {"argsort", l_argsort},
  {"median", l_median},
  {"quantile", l_quantile},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"histogram", l_histogram},
  {NULL, NULL}
};

void par_open_array_sort(lua_State *L) {
  luaL_setfuncs(L, methods, 0);
  luaL_setfuncs(L, funcs, 0);
  par_array_addmethods(L, methods);
}
