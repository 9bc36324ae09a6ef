/*
** rng.c: PCG64, SeedSequence and numpy.random.Generator's distributions in
** pure C. Each algorithm performs NumPy's floating-point operations in
** NumPy's order, so results agree bit for bit (see README, "Random numbers",
** for the list of exact methods).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* {{{ PCG64 */

static void pcg64_step(pcg64 *g) {
  g->state = g->state * PAR_PCG_MULT + g->inc;
}

void pcg64_init(pcg64 *g, par_u128 initstate, par_u128 initseq) {
  g->state = 0;
  g->inc = (initseq << 1) | 1;
  pcg64_step(g);
  g->state += initstate;
  pcg64_step(g);
  g->uinteger = 0;
  g->has_uint32 = 0;
}

/*
** Brown's jump-ahead: applying the LCG delta times is the affine map
** s -> A s + C; square-and-multiply builds A and C from the bits of delta.
*/
void pcg64_advance(pcg64 *g, par_u128 delta) {
  par_u128 mult = PAR_PCG_MULT, plus = g->inc;
  par_u128 acc_mult = 1, acc_plus = 0;
  for (; delta > 0; delta >>= 1) {
    if (delta & 1) {
      acc_mult *= mult;
      acc_plus = acc_plus * mult + plus;
    }
    plus = (mult + 1) * plus;
    mult *= mult;
  }
  g->state = acc_mult * g->state + acc_plus;
  g->uinteger = 0;
  g->has_uint32 = 0;
}

/* }}} */

/* {{{ SeedSequence: a hash of the entropy words into a pool of 4 words */

#define SS_INIT_A 0x43b0d7e5u
#define SS_MULT_A 0x931e8875u
#define SS_INIT_B 0x8b51f9ddu
#define SS_MULT_B 0x58f38dedu
#define SS_MIX_L 0xca01f9ddu
#define SS_MIX_R 0x4973f715u

/* Hashes one word; the multiplier *h evolves with every call. */
static uint32_t ss_hash(uint32_t value, uint32_t *h) {
  value ^= *h;
  *h *= SS_MULT_A;
  value *= *h;
  return value ^ (value >> 16);
}

static uint32_t ss_mix(uint32_t x, uint32_t y) {
  uint32_t r = SS_MIX_L * x - SS_MIX_R * y;
  return r ^ (r >> 16);
}

/* Appends the 32-bit words of v, low first (0 has one word). */
static size_t ss_words(uint64_t v, uint32_t *out) {
  out[0] = (uint32_t)v;
  if (v >> 32 == 0) return 1;
  out[1] = (uint32_t)(v >> 32);
  return 2;
}

static void ss_mix_pool(uint32_t *pool, const uint32_t *ent, size_t n) {
  uint32_t h = SS_INIT_A;
  size_t i, j;
  for (i = 0; i < PAR_SEEDSEQ_POOL; i++)
    pool[i] = ss_hash(i < n ? ent[i] : 0, &h);
  for (i = 0; i < PAR_SEEDSEQ_POOL; i++)
    for (j = 0; j < PAR_SEEDSEQ_POOL; j++)
      if (i != j) pool[j] = ss_mix(pool[j], ss_hash(pool[i], &h));
  for (i = PAR_SEEDSEQ_POOL; i < n; i++)
    for (j = 0; j < PAR_SEEDSEQ_POOL; j++)
      pool[j] = ss_mix(pool[j], ss_hash(ent[i], &h));
}

/*
** The entropy is the seed's words, then the key's (each key element gives
** its own words); with a key, the seed's words are padded with zeros to the
** pool size first (NumPy >= 1.19).
*/
void par_seedseq_pool(uint32_t pool[PAR_SEEDSEQ_POOL], uint64_t seed,
                      const uint64_t *key, size_t nkey) {
  uint32_t small[PAR_SEEDSEQ_POOL + 16];
  uint32_t *ent = small;
  size_t n, i, cap = PAR_SEEDSEQ_POOL + 2 * nkey;
  if (cap > sizeof small / sizeof small[0]) {
    ent = malloc(cap * sizeof *ent);
    if (ent == NULL) abort();   /* a spawn key of millions of levels */
  }
  n = ss_words(seed, ent);
  if (nkey > 0)
    while (n < PAR_SEEDSEQ_POOL) ent[n++] = 0;
  for (i = 0; i < nkey; i++) n += ss_words(key[i], ent + n);
  ss_mix_pool(pool, ent, n);
  if (ent != small) free(ent);
}

void par_seedseq_generate(const uint32_t pool[PAR_SEEDSEQ_POOL], uint32_t *out,
                          size_t n) {
  uint32_t h = SS_INIT_B;
  size_t i;
  for (i = 0; i < n; i++) {
    uint32_t v = pool[i % PAR_SEEDSEQ_POOL] ^ h;
    h *= SS_MULT_B;
    v *= h;
    out[i] = v ^ (v >> 16);
  }
}

/* Four 64-bit words (pairs of 32-bit words, low first): the first two make
** the initial state, the last two the stream, high word first. */
void pcg64_seed(pcg64 *g, uint64_t seed, const uint64_t *key, size_t nkey) {
  uint32_t pool[PAR_SEEDSEQ_POOL], w[8];
  uint64_t v[4];
  int i;
  par_seedseq_pool(pool, seed, key, nkey);
  par_seedseq_generate(pool, w, 8);
  for (i = 0; i < 4; i++) v[i] = (uint64_t)w[2 * i] | (uint64_t)w[2 * i + 1] << 32;
  pcg64_init(g, (par_u128)v[0] << 64 | v[1], (par_u128)v[2] << 64 | v[3]);
}

/* }}} */

static _Thread_local pcg64 *current_stream;

void par_rng_set_current(pcg64 *g) {
  current_stream = g;
}

pcg64 *par_rng_current(void) {
  return current_stream;
}

/* {{{ normal and exponential: the ziggurats' slow paths */

/*
** Layer 0 is the base strip plus the tail beyond r, sampled by Marsaglia's
** tail method; other layers test the wedge under the density. A rejection
** starts a new draw from scratch.
*/
double par_rng_normal_slow(pcg64 *g, uint64_t r) {
  for (;;) {
    unsigned idx = (unsigned)(r & 0xff);
    uint64_t rabs = (r >> 9) & 0x000fffffffffffffULL;
    double x = (double)rabs * par_zig_wi[idx];
    if (r & 0x100) x = -x;
    if (rabs < par_zig_ki[idx]) return x;
    if (idx == 0) {
      for (;;) {   /* 1 - U avoids log(0) */
        double xx = -par_zig_nor_inv_r * log1p(-pcg64_next_double(g));
        double yy = -log1p(-pcg64_next_double(g));
        if (yy + yy > xx * xx)
          return ((rabs >> 8) & 1) ? -(par_zig_nor_r + xx) : par_zig_nor_r + xx;
      }
    }
    if ((par_zig_fi[idx - 1] - par_zig_fi[idx]) * pcg64_next_double(g) +
        par_zig_fi[idx] < exp(-0.5 * x * x))
      return x;
    r = pcg64_next_uint64(g);
  }
}

double par_rng_exponential_slow(pcg64 *g, uint64_t r) {
  for (;;) {
    unsigned idx = (unsigned)((r >> 3) & 0xff);
    uint64_t ri = r >> 11;
    double x = (double)ri * par_zig_we[idx];
    if (ri < par_zig_ke[idx]) return x;
    if (idx == 0) return par_zig_exp_r - log1p(-pcg64_next_double(g));
    if ((par_zig_fe[idx - 1] - par_zig_fe[idx]) * pcg64_next_double(g) +
        par_zig_fe[idx] < exp(-x))
      return x;
    r = pcg64_next_uint64(g);
  }
}

/* }}} */

/* {{{ gamma, Poisson, binomial */

/* Johnk-like rejection for shape < 1 (Ahrens-Dieter GS variant NumPy uses)
** and Marsaglia-Tsang for shape > 1. */
double par_rng_standard_gamma(pcg64 *g, double shape) {
  if (shape == 1.0) return par_rng_standard_exponential(g);
  if (shape == 0.0) return 0.0;
  if (shape < 1.0) {
    for (;;) {
      double u = pcg64_next_double(g);
      double v = par_rng_standard_exponential(g);
      if (u <= 1.0 - shape) {
        double x = pow(u, 1. / shape);
        if (x <= v) return x;
      }
      else {
        double y = -log((1 - u) / shape);
        double x = pow(1.0 - shape + shape * y, 1. / shape);
        if (x <= v + y) return x;
      }
    }
  }
  else {
    double b = shape - 1. / 3., c = 1. / sqrt(9 * b);
    for (;;) {
      double x, v, u;
      do {
        x = par_rng_standard_normal(g);
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      u = pcg64_next_double(g);
      if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return b * v;
      if (log(u) < 0.5 * x * x + b * (1. - v + log(v))) return b * v;
    }
  }
}

/* log(Gamma(x)) by Stirling's series, shifted up to x >= 7 (NumPy's
** random_loggam, coefficients as NumPy writes them). */
static double loggam(double x) {
  static const double a[10] = {
    8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
    -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
    6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
    -1.39243221690590e+00};
  double x0, x2, gl, gl0;
  int64_t k, n = 0;
  if (x == 1.0 || x == 2.0) return 0.0;
  if (x < 7.0) n = (int64_t)(7 - x);
  x0 = x + n;
  x2 = (1.0 / x0) * (1.0 / x0);
  gl0 = a[9];
  for (k = 8; k >= 0; k--) {
    gl0 *= x2;
    gl0 += a[k];
  }
  gl = gl0 / x0 + 0.5 * 1.8378770664093453e+00 + (x0 - 0.5) * log(x0) - x0;
  if (x < 7.0) {
    for (k = 1; k <= n; k++) {
      gl -= log(x0 - 1.0);
      x0 -= 1.0;
    }
  }
  return gl;
}

/* Small lam: count uniforms until their product drops below exp(-lam). */
static int64_t poisson_mult(pcg64 *g, double lam) {
  double enlam = exp(-lam), prod = 1.0;
  int64_t x = 0;
  for (;;) {
    prod *= pcg64_next_double(g);
    if (prod <= enlam) return x;
    x++;
  }
}

/* Hoermann's transformed rejection (PTRS), for lam >= 10. */
static int64_t poisson_ptrs(pcg64 *g, double lam) {
  double slam = sqrt(lam), loglam = log(lam);
  double b = 0.931 + 2.53 * slam;
  double a = -0.059 + 0.02483 * b;
  double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    double u = pcg64_next_double(g) - 0.5;
    double v = pcg64_next_double(g);
    double us = 0.5 - fabs(u);
    int64_t k = (int64_t)floor((2 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <=
        -lam + k * loglam - loggam((double)(k + 1)))
      return k;
  }
}

int64_t par_rng_poisson(pcg64 *g, double lam) {
  if (lam >= 10) return poisson_ptrs(g, lam);
  if (lam == 0) return 0;
  return poisson_mult(g, lam);
}

void par_rng_binomial_prepare(par_binomial *b, int64_t n, double p) {
  double pe, q, r;
  memset(b, 0, sizeof *b);
  b->n = n;
  b->p = p;
  b->flip = !(p <= 0.5);
  b->pe = pe = b->flip ? 1.0 - p : p;
  b->btpe = !(pe * n <= 30.0);
  if (!b->btpe) {        /* inversion: q, q^n, n p and the search bound */
    double np;
    b->q = q = 1.0 - pe;
    b->r = exp(n * log(q));
    b->c = np = n * pe;
    b->m = (int64_t)((double)n < np + 10.0 * sqrt(np * q + 1)
                     ? (double)n : np + 10.0 * sqrt(np * q + 1));
    return;
  }
  b->r = r = pe < 1.0 - pe ? pe : 1.0 - pe;
  b->q = q = 1.0 - r;
  b->fm = n * r + r;
  b->m = (int64_t)floor(b->fm);
  b->p1 = floor(2.195 * sqrt(n * r * q) - 4.6 * q) + 0.5;
  b->xm = b->m + 0.5;
  b->xl = b->xm - b->p1;
  b->xr = b->xm + b->p1;
  b->c = 0.134 + 20.5 / (15.3 + b->m);
  {
    double a = (b->fm - b->xl) / (b->fm - b->xl * r);
    b->laml = a * (1.0 + a / 2.0);
    a = (b->xr - b->fm) / (b->xr * q);
    b->lamr = a * (1.0 + a / 2.0);
  }
  b->p2 = b->p1 * (1.0 + 2.0 * b->c);
  b->p3 = b->p2 + b->c / b->laml;
  b->p4 = b->p3 + b->c / b->lamr;
}

/* Inversion: walk the pmf from 0; restart past the bound. */
static int64_t binomial_inversion(pcg64 *g, const par_binomial *b) {
  int64_t n = b->n, x = 0;
  double p = b->pe, q = b->q, px = b->r;
  double u = pcg64_next_double(g);
  while (u > px) {
    x++;
    if (x > b->m) {
      x = 0;
      px = b->r;
      u = pcg64_next_double(g);
    }
    else {
      u -= px;
      px = ((n - x + 1) * p * px) / (x * q);
    }
  }
  return x;
}

/* Stirling-formula bound of BTPE's final acceptance test (step 5.3). */
static double btpe_bound(const par_binomial *b, int64_t y) {
  int64_t n = b->n, m = b->m;
  double x1 = y + 1, f1 = m + 1, z = n + 1 - m, w = n - y + 1;
  double x2 = x1 * x1, f2 = f1 * f1, z2 = z * z, w2 = w * w;
  return b->xm * log(f1 / x1) + (n - m + 0.5) * log(z / w) +
         (y - m) * log(w * b->r / (x1 * b->q)) +
         (13680. - (462. - (132. - (99. - 140. / f2) / f2) / f2) / f2) / f1 / 166320. +
         (13680. - (462. - (132. - (99. - 140. / z2) / z2) / z2) / z2) / z / 166320. +
         (13680. - (462. - (132. - (99. - 140. / x2) / x2) / x2) / x2) / x1 / 166320. +
         (13680. - (462. - (132. - (99. - 140. / w2) / w2) / w2) / w2) / w / 166320.;
}

/* Is y (with its uniform v) accepted by BTPE's step 5 (explicit ratio for
** y near the mode, squeeze and Stirling bound farther away)? */
static int btpe_accept(const par_binomial *b, int64_t y, double v) {
  int64_t n = b->n, m = b->m, k = llabs(y - m), i;
  double nrq = n * b->r * b->q;
  if (!(k > 20 && k < nrq / 2.0 - 1)) {
    double s = b->r / b->q, a = s * (n + 1), f = 1.0;
    if (m < y)
      for (i = m + 1; i <= y; i++) f *= (a / i - s);
    else if (m > y)
      for (i = y + 1; i <= m; i++) f /= (a / i - s);
    return !(v > f);
  }
  else {
    double rho = (k / nrq) * ((k * (k / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5);
    double t = -k * k / (2 * nrq);
    double lv = log(v);
    if (lv < t - rho) return 1;
    if (lv > t + rho) return 0;
    return !(lv > btpe_bound(b, y));
  }
}

/* Kachitvichyanukul and Schmeiser's BTPE: a triangle, two parallelograms
** and two exponential tails over the pmf. */
static int64_t binomial_btpe(pcg64 *g, const par_binomial *b) {
  for (;;) {
    double u = pcg64_next_double(g) * b->p4;
    double v = pcg64_next_double(g);
    int64_t y;
    if (u <= b->p1)
      return (int64_t)floor(b->xm - b->p1 * v + u);
    if (u <= b->p2) {
      double x = b->xl + (u - b->p1) / b->c;
      v = v * b->c + 1.0 - fabs(b->m - x + 0.5) / b->p1;
      if (v > 1.0) continue;
      y = (int64_t)floor(x);
    }
    else if (u <= b->p3) {
      y = (int64_t)floor(b->xl + log(v) / b->laml);
      if (y < 0 || v == 0.0) continue;
      v = v * (u - b->p2) * b->laml;
    }
    else {
      y = (int64_t)floor(b->xr - log(v) / b->lamr);
      if (y > b->n || v == 0.0) continue;
      v = v * (u - b->p3) * b->lamr;
    }
    if (btpe_accept(b, y, v)) return y;
  }
}

int64_t par_rng_binomial(pcg64 *g, const par_binomial *b) {
  int64_t y;
  if (b->n == 0 || b->p == 0.0) return 0;
  y = b->btpe ? binomial_btpe(g, b) : binomial_inversion(g, b);
  return b->flip ? b->n - y : y;
}

/* }}} */

/* {{{ bounded integers, shuffles, sampling */

/* Lemire's multiply-shift with rejection of the biased low products. */
static uint32_t lemire32(pcg64 *g, uint32_t rng) {
  uint32_t excl = rng + 1;
  uint64_t m = (uint64_t)pcg64_next_uint32(g) * excl;
  if ((uint32_t)m < excl) {
    uint32_t threshold = (UINT32_MAX - rng) % excl;
    while ((uint32_t)m < threshold)
      m = (uint64_t)pcg64_next_uint32(g) * excl;
  }
  return (uint32_t)(m >> 32);
}

static uint64_t lemire64(pcg64 *g, uint64_t rng) {
  uint64_t excl = rng + 1;
  par_u128 m = (par_u128)pcg64_next_uint64(g) * excl;
  if ((uint64_t)m < excl) {
    uint64_t threshold = (UINT64_MAX - rng) % excl;
    while ((uint64_t)m < threshold)
      m = (par_u128)pcg64_next_uint64(g) * excl;
  }
  return (uint64_t)(m >> 64);
}

uint64_t par_rng_bounded(pcg64 *g, uint64_t rng) {
  if (rng == 0) return 0;
  if (rng == UINT32_MAX) return pcg64_next_uint32(g);
  if (rng < UINT32_MAX) return lemire32(g, (uint32_t)rng);
  if (rng == UINT64_MAX) return pcg64_next_uint64(g);
  return lemire64(g, rng);
}

/* Smallest 2^k - 1 >= max. */
static uint64_t bitmask(uint64_t max) {
  max |= max >> 1;
  max |= max >> 2;
  max |= max >> 4;
  max |= max >> 8;
  max |= max >> 16;
  return max | max >> 32;
}

uint64_t par_rng_interval(pcg64 *g, uint64_t max) {
  uint64_t mask, v;
  if (max == 0) return 0;
  mask = bitmask(max);
  if (max <= UINT32_MAX) {
    do v = pcg64_next_uint32(g) & mask; while (v > max);
  }
  else {
    do v = pcg64_next_uint64(g) & mask; while (v > max);
  }
  return v;
}

static void swap_items(unsigned char *a, unsigned char *b, size_t size) {
  size_t k;
  for (k = 0; k < size; k++) {
    unsigned char t = a[k];
    a[k] = b[k];
    b[k] = t;
  }
}

/* Fisher-Yates from the end, j drawn by random_interval. */
void par_rng_shuffle(pcg64 *g, void *data, int64_t n, size_t size) {
  unsigned char *d = data;
  int64_t i;
  for (i = n - 1; i >= 1; i--) {
    int64_t j = (int64_t)par_rng_interval(g, (uint64_t)i);
    if (j != i) swap_items(d + (size_t)i * size, d + (size_t)j * size, size);
  }
}

/* Fisher-Yates on int64 from the end down to 'first', j by Lemire. */
static void shuffle_int(pcg64 *g, int64_t *d, int64_t n, int64_t first) {
  int64_t i;
  for (i = n - 1; i >= first; i--) {
    int64_t j = (int64_t)par_rng_bounded(g, (uint64_t)i), t = d[j];
    d[j] = d[i];
    d[i] = t;
  }
}

/* Floyd's algorithm with an open-addressing set: for j in [pop-k, pop),
** add a uniform index of [0, j], or j itself if that one is taken. */
static int sample_floyd(pcg64 *g, int64_t pop, int64_t k, int64_t *out) {
  uint64_t mask = bitmask((uint64_t)(1.2 * k)), *set, loc;
  int64_t j;
  set = malloc((mask + 1) * sizeof *set);
  if (set == NULL) return -1;
  memset(set, 0xff, (mask + 1) * sizeof *set);
  for (j = pop - k; j < pop; j++) {
    uint64_t val = par_rng_bounded(g, (uint64_t)j);
    for (loc = val & mask; set[loc] != UINT64_MAX && set[loc] != val;)
      loc = (loc + 1) & mask;
    if (set[loc] == val) {
      val = (uint64_t)j;
      for (loc = val & mask; set[loc] != UINT64_MAX;) loc = (loc + 1) & mask;
    }
    set[loc] = val;
    out[j - pop + k] = (int64_t)val;
  }
  free(set);
  shuffle_int(g, out, k, 1);
  return 0;
}

int par_rng_sample(pcg64 *g, int64_t pop, int64_t k, int64_t *out) {
  int64_t i, *all;
  if (!(pop > 10000 && k > pop / 50)) return sample_floyd(g, pop, k, out);
  all = malloc((size_t)pop * sizeof *all);   /* partial shuffle of 0..pop-1 */
  if (all == NULL) return -1;
  for (i = 0; i < pop; i++) all[i] = i;
  shuffle_int(g, all, pop, pop - k > 1 ? pop - k : 1);
  memcpy(out, all + (pop - k), (size_t)k * sizeof *out);
  free(all);
  return 0;
}

void par_rng_cdf(const double *p, int64_t n, double *cdf) {
  int64_t i;
  double s = 0.0;
  for (i = 0; i < n; i++) cdf[i] = s = s + p[i];
  for (i = 0; i < n; i++) cdf[i] = cdf[i] / s;
}

int64_t par_rng_cdf_search(const double *cdf, int64_t n, double u) {
  int64_t lo = 0, hi = n;   /* first index with cdf > u */
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] <= u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/*
** Weighted sampling without replacement, as NumPy: draw the missing count
** of uniforms, zero the weights of the indices found so far, search the
** renormalised cdf, keep the first occurrence of each new index, repeat.
*/
int par_rng_sample_p(pcg64 *g, double *p, int64_t n, int64_t k, int64_t *out) {
  double *cdf = malloc((size_t)(n + k) * sizeof *cdf), *u = cdf + n;
  unsigned char *seen = calloc((size_t)n, 1);
  int64_t found = 0, i;
  if (cdf == NULL || seen == NULL) {
    free(cdf);
    free(seen);
    return -1;
  }
  while (found < k) {
    int64_t want = k - found, start = found;
    for (i = 0; i < want; i++) u[i] = pcg64_next_double(g);
    for (i = 0; i < found; i++) p[out[i]] = 0;
    par_rng_cdf(p, n, cdf);
    for (i = 0; i < want; i++) {
      int64_t j = par_rng_cdf_search(cdf, n, u[i]);
      if (!seen[j]) {
        seen[j] = 1;
        out[found++] = j;
      }
    }
    for (i = start; i < found; i++) seen[out[i]] = 0;
  }
  free(cdf);
  free(seen);
  return 0;
}

/* }}} */
