/*
** rng.h: parlua's random numbers, as C code sees them (no Lua here except
** the last section).
**
** The generator is NumPy's PCG64: a 128-bit LCG whose state is stepped and
** then output through XSL-RR (xor the halves, rotate by the top 6 bits),
** seeded through NumPy's SeedSequence. The distributions reproduce those of
** numpy.random.Generator bit for bit (same algorithms, same order of draws,
** same floating-point operations; build with -ffp-contract=off). The hot
** paths (raw outputs, uniform doubles, the first try of the ziggurats) are
** static inline so that native kernels can inline them.
*/
#ifndef PARLUA_RNG_H
#define PARLUA_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifndef __SIZEOF_INT128__
#error "parlua's PCG64 needs unsigned __int128 (gcc or clang on a 64-bit target)"
#endif
/* 8-byte aligned, so that a pcg64 fits wherever a double does (Lua
** userdata, malloc'd arrays of streams). */
__extension__ typedef unsigned __int128 par_u128 __attribute__((aligned(8)));

/* --- PCG64 --- */

typedef struct pcg64 {
  par_u128 state;
  par_u128 inc;          /* odd: the stream of the LCG */
  uint32_t uinteger;     /* high half of a 64-bit output kept by next_uint32 */
  int has_uint32;        /* is uinteger pending? */
} pcg64;

#define PAR_PCG_MULT \
  (((par_u128)0x2360ed051fc65da4ULL << 64) | 0x4385df649fccf645ULL)
/* Its inverse modulo 2^128: a step back. */
#define PAR_PCG_MULT_INV \
  (((par_u128)0x07dda22b93979860ULL << 64) | 0x98abc8b0716eac8dULL)

static inline uint64_t pcg64_next_uint64(pcg64 *g) {
  par_u128 s = g->state = g->state * PAR_PCG_MULT + g->inc;
  uint64_t x = (uint64_t)(s >> 64) ^ (uint64_t)s;
  unsigned rot = (unsigned)(s >> 122);
  return (x >> rot) | (x << ((64 - rot) & 63));
}

/* 32 bits: the low half of a fresh output, then its high half. NumPy keeps
** this buffer in the bit generator, so it survives between calls. */
static inline uint32_t pcg64_next_uint32(pcg64 *g) {
  uint64_t x;
  if (g->has_uint32) {
    g->has_uint32 = 0;
    return g->uinteger;
  }
  x = pcg64_next_uint64(g);
  g->has_uint32 = 1;
  g->uinteger = (uint32_t)(x >> 32);
  return (uint32_t)x;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double pcg64_next_double(pcg64 *g) {
  return (double)(pcg64_next_uint64(g) >> 11) * (1.0 / 9007199254740992.0);
}

/* PCG's srandom: state and stream from two 128-bit numbers. */
void pcg64_init(pcg64 *g, par_u128 initstate, par_u128 initseq);
/* Jumps ahead by delta steps (mod 2^128) and drops the 32-bit buffer, as
** NumPy's PCG64.advance. */
void pcg64_advance(pcg64 *g, par_u128 delta);

/* --- SeedSequence --- */

#define PAR_SEEDSEQ_POOL 4

/* The entropy pool of SeedSequence(seed, spawn_key=key). */
void par_seedseq_pool(uint32_t pool[PAR_SEEDSEQ_POOL], uint64_t seed,
                      const uint64_t *key, size_t nkey);
/* generate_state(n, uint32): n words from a pool. */
void par_seedseq_generate(const uint32_t pool[PAR_SEEDSEQ_POOL], uint32_t *out,
                          size_t n);
/* The generator of numpy.random.PCG64(SeedSequence(seed, spawn_key=key)).
** Children made by SeedSequence.spawn have the parent's key plus their index. */
void pcg64_seed(pcg64 *g, uint64_t seed, const uint64_t *key, size_t nkey);

/* --- streams of parallel kernels ---
**
** Iteration i of a parallel call with loop seed s (i as the kernel sees
** it: 1..n) draws from the generator par_stream_init(g, s, i), a pure
** function of (s, i); par.stream(s, i) returns it. Its state after the
** first draw has two 64-bit halves that are two different finalisers
** (SplitMix64's, MurmurHash3's) of i keyed by s, so that the first draw
** needs no multiplication; the increment is a hash of s alone. For one seed, each half
** is a bijection of i, so distinct iterations start at distinct, unrelated
** points of one 2^128-long PCG64 sequence; their draws overlap only if two
** of n random points fall within a stream's length of each other, which is
** negligible (about n^2 * draws / 2^128). Different seeds have different
** increments, hence different sequences. Everything that depends on s alone
** is loop-invariant, so in a kernel's loop the set-up costs two finalisers
** (about 1.5 ns; a 4-round Feistel network of (s, i) cost 10 ns, more than
** the pi kernel's whole iteration). */

static inline uint64_t par_mix_a(uint64_t z) {   /* SplitMix64 finaliser */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t par_mix_b(uint64_t z) {   /* MurmurHash3 fmix64 */
  z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
  z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
  return z ^ (z >> 33);
}

static inline void par_stream_init(pcg64 *g, uint64_t seed, uint64_t i) {
  uint64_t k1 = par_mix_a(seed + 0x9e3779b97f4a7c15ULL);
  uint64_t k2 = par_mix_b(seed + 0x6a09e667f3bcc909ULL);
  par_u128 h = ((par_u128)par_mix_a(i ^ k1) << 64) | par_mix_b(i ^ k2);
  g->inc = ((par_u128)par_mix_b(seed ^ 0xa54ff53a5f1d36f1ULL) << 64
            | par_mix_a(seed ^ 0x510e527fade682d1ULL)) | 1;
  g->state = (h - g->inc) * PAR_PCG_MULT_INV;   /* one step before h */
  g->uinteger = 0;
  g->has_uint32 = 0;
}

/* The stream the current thread's kernel iteration draws from, or NULL
** outside kernels. The default-generator functions (par.random, ...)
** consult it first. */
void par_rng_set_current(pcg64 *g);
pcg64 *par_rng_current(void);

/* --- distributions (numpy.random.Generator's algorithms) --- */

/* The ziggurat tables (rng_ziggurat.c, made by tools/gen_ziggurat.py). */
extern const double par_zig_nor_r, par_zig_nor_inv_r, par_zig_exp_r;
extern const uint64_t par_zig_ki[256], par_zig_ke[256];
extern const double par_zig_wi[256], par_zig_fi[256];
extern const double par_zig_we[256], par_zig_fe[256];

/* The rest of a normal draw whose first 64 bits 'r' missed the fast path. */
double par_rng_normal_slow(pcg64 *g, uint64_t r);
/* The rest of an exponential draw whose first try missed. */
double par_rng_exponential_slow(pcg64 *g, uint64_t r);

static inline double par_rng_standard_normal(pcg64 *g) {
  uint64_t r = pcg64_next_uint64(g);
  unsigned idx = (unsigned)(r & 0xff);
  uint64_t rabs = (r >> 9) & 0x000fffffffffffffULL;
  double x = (double)rabs * par_zig_wi[idx];
  if (rabs < par_zig_ki[idx])
    return (r & 0x100) ? -x : x;
  return par_rng_normal_slow(g, r);
}

static inline double par_rng_standard_exponential(pcg64 *g) {
  uint64_t r = pcg64_next_uint64(g);
  unsigned idx = (unsigned)((r >> 3) & 0xff);
  uint64_t ri = r >> 11;
  if (ri < par_zig_ke[idx])
    return (double)ri * par_zig_we[idx];
  return par_rng_exponential_slow(g, r);
}

double par_rng_standard_gamma(pcg64 *g, double shape);
int64_t par_rng_poisson(pcg64 *g, double lam);

/* Binomial: the setup depends on (n, p) only, so fills prepare it once. */
typedef struct par_binomial {
  int64_t n;
  double p;          /* as given */
  double pe;         /* min(p, 1 - p), the p the algorithms see */
  int flip;          /* p > 0.5: the result is n minus a draw with pe */
  int btpe;          /* n * pe > 30: BTPE, else inversion */
  int64_t m;         /* BTPE: mode; inversion: bound */
  double r, q, fm, p1, xm, xl, xr, c, laml, lamr, p2, p3, p4;
} par_binomial;

void par_rng_binomial_prepare(par_binomial *b, int64_t n, double p);
int64_t par_rng_binomial(pcg64 *g, const par_binomial *b);

/* A uniform integer in [0, rng] (NumPy's bounded uint64 with Lemire's
** method; ranges of 32 bits use next_uint32 and so its buffer). */
uint64_t par_rng_bounded(pcg64 *g, uint64_t rng);
/* A uniform integer in [0, max] by masked rejection (NumPy's
** random_interval, used by shuffle). */
uint64_t par_rng_interval(pcg64 *g, uint64_t max);

/* Shuffles n items of 'size' bytes in place (Generator.shuffle). */
void par_rng_shuffle(pcg64 *g, void *data, int64_t n, size_t size);
/* k distinct indices of [0, pop) (Generator.choice, replace=False, no p):
** Floyd's algorithm or a partial shuffle, as NumPy picks. Returns 0, or -1
** when out of memory. */
int par_rng_sample(pcg64 *g, int64_t pop, int64_t k, int64_t *out);
/* The cdf of weights p (running sum divided by the total, as NumPy). */
void par_rng_cdf(const double *p, int64_t n, double *cdf);
/* The index searchsorted(cdf, u, side='right') of a non-decreasing cdf. */
int64_t par_rng_cdf_search(const double *cdf, int64_t n, double u);
/* k distinct indices of [0, n) drawn with weights p (Generator.choice,
** replace=False); p is overwritten. At least k weights must be positive.
** Returns 0, or -1 when out of memory. */
int par_rng_sample_p(pcg64 *g, double *p, int64_t n, int64_t k, int64_t *out);

/* --- the Lua side (rng_lua.c) --- */

struct lua_State;
/* The generator par.random would draw from now: the current stream if one
** is set, else the default generator of L (seeded at first use, which may
** raise a Lua error for a bad PARLUA_SEED). */
pcg64 *par_rng_get(struct lua_State *L);

#endif
