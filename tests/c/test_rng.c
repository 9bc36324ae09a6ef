/*
** test_rng.c: known answers from NumPy 1.24 for PCG64 (NumPy's raw-output
** test sets), SeedSequence, advance, the ziggurat tables and the
** distributions; the 32-bit buffer; and the independence of kernel streams.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "unit.h"

#define U128(hi, lo) ((par_u128)(hi##ULL) << 64 | lo##ULL)

static pcg64 seeded(uint64_t seed) {
  pcg64 g;
  pcg64_seed(&g, seed, NULL, 0);
  return g;
}

/* NumPy's pcg64-testset-N.csv: "seed, 0x..." then 1000 lines "i, 0x...". */
static void test_testset(const char *name) {
  const char *dir = getenv("PARLUA_TESTDATA");
  char path[1024], line[256];
  unsigned long long seed = 0, v;
  long i, n = 0;
  pcg64 g;
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : "../shared/testdata", name);
  f = fopen(path, "r");
  CHECK(f != NULL);
  if (f == NULL) return;
  CHECK(fgets(line, sizeof line, f) != NULL && sscanf(line, "seed, %llx", &seed) == 1);
  g = seeded(seed);
  while (fgets(line, sizeof line, f) != NULL && sscanf(line, "%ld, %llx", &i, &v) == 2) {
    CHECK_EQ_I64(i, n);
    CHECK_EQ_U64(pcg64_next_uint64(&g), v);
    n++;
  }
  CHECK_EQ_I64(n, 1000);
  fclose(f);
}

static void test_seedseq(void) {
  static const uint32_t pool[4] = {0xf293d734, 0xfd668225, 0xf94ff895, 0x872090a0};
  static const uint32_t gen[4] = {0xa03d837c, 0xb5ae6482, 0xfa1f7a2f, 0xbbe2996f};
  static const uint32_t keyed[4] = {0x2b72c82b, 0x89d99c40, 0x78fc7004, 0xad2214a7};
  static const uint64_t key[2] = {3, 7};
  uint32_t p[4], w[4];
  pcg64 g;
  int i;
  par_seedseq_pool(p, 12345, NULL, 0);
  par_seedseq_generate(p, w, 4);
  for (i = 0; i < 4; i++) {
    CHECK_EQ_U64(p[i], pool[i]);
    CHECK_EQ_U64(w[i], gen[i]);
  }
  par_seedseq_pool(p, 0x8000000000000005ULL, key, 2);
  for (i = 0; i < 4; i++) CHECK_EQ_U64(p[i], keyed[i]);
  g = seeded(12345);
  CHECK(g.state == U128(0x1905e0335aae9634, 0x9199b0d09775add5));
  CHECK(g.inc == U128(0xc9c7353e6e2b1f28, 0x7d761f2d4027fae7));
  g = seeded(0x8000000000000005ULL);
  CHECK(g.state == U128(0xda3fbbd7a00e04ef, 0x1f54f7edf9e1adcc));
  CHECK(g.inc == U128(0x90591fa7d97bef81, 0xf963ed7ba1deea5d));
}

static void test_advance(void) {
  pcg64 g = seeded(12345), h = g;
  int i;
  pcg64_advance(&g, U128(0x8000000000000000, 0x3039));   /* 2^127 + 12345 */
  CHECK(g.state == U128(0x7528c71c0813cf7b, 0x363689147bab1a48));
  CHECK_EQ_U64(pcg64_next_uint64(&g), 0xca4dd4d6f07abe53ULL);
  for (i = 0; i < 1000; i++) pcg64_next_uint64(&h);
  g = seeded(12345);
  pcg64_advance(&g, 1000);
  CHECK(g.state == h.state);
  g = seeded(0);                            /* advance(-1) steps back */
  pcg64_advance(&g, ~(par_u128)0);
  CHECK_EQ_U64(pcg64_next_uint64(&g), 0x384fe7ae0ffc0c93ULL);
  CHECK_EQ_U64(pcg64_next_uint64(&g), 0xa30febcfd9c2825fULL);
  g = seeded(1);                            /* advance drops the buffer */
  pcg64_next_uint32(&g);
  pcg64_advance(&g, 0);
  CHECK(!g.has_uint32);
}

/* next_uint32: low half first, the high half kept for the next call. */
static void test_uint32(void) {
  pcg64 g = seeded(5), h = seeded(5);
  uint64_t x = pcg64_next_uint64(&h);
  CHECK_EQ_U64(pcg64_next_uint32(&g), x & 0xffffffffu);
  CHECK(g.has_uint32);
  pcg64_next_double(&g);                    /* 64-bit draws leave it alone */
  pcg64_next_uint64(&h);
  CHECK_EQ_U64(pcg64_next_uint32(&g), x >> 32);
  CHECK(g.state == h.state);
}

/*
** The tables are NumPy's: spot values, then their construction (w = x /
** 2^bits, k = x[i-1] / x[i] in fixed point, f = f(x) to an ulp or two).
*/
static void test_tables(void) {
  int i;
  CHECK_EQ_U64(par_zig_ki[0], 0x000ef33d8025ef6aULL);
  CHECK_EQ_U64(par_zig_ke[0], 0x001c5214272497c6ULL);
  CHECK_EQ_BITS(par_zig_fi[38], 0x1.5ad29acc85c89p-1);  /* the rounded-up exp */
  CHECK_EQ_BITS(par_zig_wi[255] * 0x1p52, par_zig_nor_r);
  CHECK_EQ_BITS(par_zig_we[255] * 0x1p53, par_zig_exp_r);
  CHECK_EQ_BITS(par_zig_nor_inv_r, 0.27366123732975827203338247596);
  for (i = 2; i < 256; i++) {
    double xn = par_zig_wi[i] * 0x1p52, xn1 = par_zig_wi[i - 1] * 0x1p52;
    double xe = par_zig_we[i] * 0x1p53, xe1 = par_zig_we[i - 1] * 0x1p53;
    CHECK(llabs((long long)par_zig_ki[i] - llround(xn1 / xn * 0x1p52)) <= 1);
    CHECK(llabs((long long)par_zig_ke[i] - llround(xe1 / xe * 0x1p53)) <= 4);
    CHECK(par_zig_ke[i] % 2 == 0);
    CHECK_NEAR(par_zig_fi[i], exp(-0.5 * xn * xn), 4e-16);
    CHECK_NEAR(par_zig_fe[i], exp(-xe), 4e-16);
    CHECK(xn1 < xn && xe1 < xe);
  }
}

/* The draw number idx (0-based) of a fresh generator. */
static double nth(double (*f)(pcg64 *), uint64_t seed, int idx) {
  pcg64 g = seeded(seed);
  int i;
  for (i = 0; i < idx; i++) f(&g);
  return f(&g);
}

static double stdnormal(pcg64 *g) { return par_rng_standard_normal(g); }
static double stdexp(pcg64 *g) { return par_rng_standard_exponential(g); }

static void test_ziggurats(void) {
  pcg64 g = seeded(2024);
  CHECK_EQ_BITS(par_rng_standard_normal(&g), 0x1.07632a01e361cp+0);
  CHECK_EQ_BITS(par_rng_standard_normal(&g), 0x1.a454df2d545f6p+0);
  CHECK_EQ_BITS(par_rng_standard_normal(&g), 0x1.258f693d4d4d4p+0);
  /* first tail draws of seed 1 */
  CHECK_EQ_BITS(nth(stdnormal, 1, 860), 0x1.e035931978327p+1);
  CHECK_EQ_BITS(nth(stdnormal, 1, 3284), 0x1.dbdba47b03290p+1);
  CHECK_EQ_BITS(nth(stdexp, 1, 28), 0x1.0d88a39193ba2p+3);
  CHECK_EQ_BITS(nth(stdexp, 1, 4309), 0x1.2b5c4b8a48a1dp+3);
}

static void test_distributions(void) {
  static const int64_t pois3[5] = {3, 3, 3, 6, 2}, pois50[5] = {45, 57, 52, 43, 45};
  static const int64_t b10[5] = {2, 2, 4, 1, 3}, b1000[5] = {403, 405, 407, 392, 421};
  static const int64_t b1000h[5] = {897, 891, 895, 903, 915};
  par_binomial b1, b2, b3;
  pcg64 g[8];
  int i;
  for (i = 0; i < 8; i++) g[i] = seeded(2);
  CHECK_EQ_BITS(par_rng_standard_gamma(&g[0], 0.5), 0x1.18557e8f24b40p-4);
  CHECK_EQ_BITS(par_rng_standard_gamma(&g[0], 0.5), 0x1.faee71fede297p-1);
  CHECK_EQ_BITS(par_rng_standard_gamma(&g[1], 3.0), 0x1.7e64f9b4bd3f5p+1);
  CHECK_EQ_BITS(par_rng_standard_gamma(&g[1], 3.0), 0x1.06119975a3867p+1);
  par_rng_binomial_prepare(&b1, 10, 0.3);
  par_rng_binomial_prepare(&b2, 1000, 0.4);
  par_rng_binomial_prepare(&b3, 1000, 0.9);
  for (i = 0; i < 5; i++) {
    CHECK_EQ_I64(par_rng_poisson(&g[2], 3.0), pois3[i]);
    CHECK_EQ_I64(par_rng_poisson(&g[3], 50.0), pois50[i]);
    CHECK_EQ_I64(par_rng_binomial(&g[4], &b1), b10[i]);
    CHECK_EQ_I64(par_rng_binomial(&g[5], &b2), b1000[i]);
    CHECK_EQ_I64(par_rng_binomial(&g[6], &b3), b1000h[i]);
  }
}

static void test_integers(void) {
  static const int64_t perm[10] = {9, 6, 0, 2, 1, 4, 7, 5, 3, 8};
  static const int64_t floyd[5] = {3, 12, 1, 4, 19}, tail[5] = {14316, 13289, 12713, 5283, 2159};
  int64_t v[10], *big = malloc(1000 * sizeof *big), sum = 0;
  pcg64 g = seeded(3);
  int i;
  CHECK_EQ_I64((int64_t)((uint64_t)-0x4000000000000000LL + par_rng_bounded(&g, 0x7fffffffffffffffULL)),
               -3821711885214981764LL);
  g = seeded(3);
  CHECK_EQ_I64((int64_t)(0x8000000000000000ULL + par_rng_bounded(&g, UINT64_MAX)),
               -7643423770429963528LL);
  for (i = 0; i < 10; i++) v[i] = i;
  g = seeded(3);
  par_rng_shuffle(&g, v, 10, sizeof v[0]);
  for (i = 0; i < 10; i++) CHECK_EQ_I64(v[i], perm[i]);
  g = seeded(3);
  CHECK(par_rng_sample(&g, 20, 5, v) == 0);
  for (i = 0; i < 5; i++) CHECK_EQ_I64(v[i], floyd[i]);
  g = seeded(3);
  CHECK(big != NULL && par_rng_sample(&g, 20000, 1000, big) == 0);
  for (i = 0; i < 5; i++) CHECK_EQ_I64(big[i], tail[i]);
  for (i = 0; i < 1000; i++) sum += big[i];
  CHECK_EQ_I64(sum, 9808118);
  free(big);
}

/* Streams: a pure function of (seed, i), distinct, and independent-looking:
** correlation of neighbours' first uniforms and a chi-square of pooled
** first outputs. */
static void test_streams(void) {
  enum { N = 100000, BINS = 64, PER = 4 };
  static double u[N];
  static long count[BINS];
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, r, chi = 0, e;
  pcg64 a, b;
  int i, k;
  par_stream_init(&a, 7, 3);
  par_stream_init(&b, 7, 3);
  CHECK(a.state == b.state && a.inc == b.inc && (a.inc & 1));
  par_stream_init(&b, 7, 4);
  CHECK(a.state != b.state && a.inc == b.inc);
  par_stream_init(&b, 8, 3);
  CHECK(a.state != b.state && a.inc != b.inc);
  for (i = 0; i < N; i++) {
    pcg64 g;
    par_stream_init(&g, 12345, (uint64_t)i);
    u[i] = pcg64_next_double(&g);
    count[(int)(u[i] * BINS)]++;
    for (k = 1; k < PER; k++) count[(int)(pcg64_next_double(&g) * BINS)]++;
  }
  for (i = 0; i + 1 < N; i++) {
    double x = u[i] - 0.5, y = u[i + 1] - 0.5;
    sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
  }
  r = (sxy - sx * sy / (N - 1)) / sqrt((sxx - sx * sx / (N - 1)) * (syy - sy * sy / (N - 1)));
  CHECK(fabs(r) < 4 / sqrt((double)N));
  e = (double)N * PER / BINS;
  for (i = 0; i < BINS; i++) chi += (count[i] - e) * (count[i] - e) / e;
  CHECK(chi < BINS - 1 + 6 * sqrt(2.0 * (BINS - 1)));   /* 6 sigma */
}

int main(void) {
  test_testset("pcg64-testset-1.csv");
  test_testset("pcg64-testset-2.csv");
  test_seedseq();
  test_advance();
  test_uint32();
  test_tables();
  test_ziggurats();
  test_distributions();
  test_integers();
  test_streams();
  return unit_report("test_rng");
}
