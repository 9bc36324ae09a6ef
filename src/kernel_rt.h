/*
** kernel_rt.h: the runtime every generated kernel starts with (the kernel
** compiler prepends this text, so kernels need no include path). Plain C99
** plus unsigned __int128; no Lua: kernels never touch a lua_State.
**
** It holds Lua 5.4's arithmetic on plain C types (integer wrap through
** uint64, floor division and modulo as luaV_idiv, luaV_mod and
** luai_nummod, '^' as luai_numpow, int/float comparisons as LTnum and
** LEnum, float-to-integer conversions as luaV_flttointns), tagged numbers
** for values that are integer on one path and float on another, PCG64 with
** the ziggurat fast paths of rng.h (slow paths are
** called through the context), error records and the abort checks.
** native.c includes it too, so both sides share one layout.
*/
#ifndef PARLUA_KERNEL_RT_H
#define PARLUA_KERNEL_RT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Two GCC 12 folds that tests/lua/native_fuzz.lua caught giving other
** results than Lua: jump threading took 'x <= x' for true on a path where
** x is a NaN, and '0.0 - (double)i' became '-(double)i' (-0.0, not 0.0,
** for i = 0; also '0.0 - fabs(x)' and '0.0 + -x'). Strict kernels do
** without jump threading and with rounding-math, which stops those folds
** (and any compile-time rounding that run time would not do). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("no-thread-jumps")
#ifndef __FAST_MATH__
#pragma GCC optimize ("rounding-math")
#endif
#endif

#define PRT_LIKELY(x) __builtin_expect(!!(x), 1)
#define PRT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PRT_UNUSED __attribute__((unused))
#define PRT_NOINLINE __attribute__((noinline, unused))
#define PRT_ALWAYS_INLINE __attribute__((always_inline))

/* Status of compiled code: PRT_OK, PRT_ERR (an error record was written)
** or PRT_ABORT (interrupted, or a lower block failed). */
enum { PRT_OK = 0, PRT_ERR = 1, PRT_ABORT = 2 };

/* Recursion bound of compiled functions ("stack overflow" beyond it). */
#define PRT_MAXDEPTH 4000
/* Loop iterations between two abort checks. */
#define PRT_POLL 65536

/* ---- values ---- */

typedef struct prt_num {      /* a Lua number whose subtype is known at run time */
  int isint;
  int64_t i;
  double f;
} prt_num;

typedef struct prt_arr {      /* an array as kernels see it (dtype is static) */
  void *data;
  int64_t n0, n1, size;       /* rows, cols (1 for 1-D), elements */
  int ndim;
} prt_arr;

typedef union prt_slot {      /* a live value, an argument or a result */
  int64_t i;
  double f;
  int b;
  prt_num n;
  prt_arr a;
} prt_slot;

/* ---- PCG64 (the layout of rng.h's pcg64) ---- */

__extension__ typedef unsigned __int128 prt_u128 __attribute__((aligned(8)));

typedef struct prt_pcg64 {
  prt_u128 state, inc;
  uint32_t uinteger;
  int has_uint32;
} prt_pcg64;

/* ---- the context of one kernel call (filled by native.c) ---- */

typedef struct prt_err {
  int64_t iter;               /* 1-based iteration of the outermost loop, 0 outside */
  int64_t block;              /* block of that iteration, -1 outside */
  char msg[480];              /* "file:line: message", after "iteration j: " for
                              ** each inner loop running it */
} prt_err;

struct prt_ctx;
typedef int (*prt_blockfn)(void *data, int64_t lo, int64_t hi, int64_t block, int tid);

/* The first two draws of the streams of iterations first .. first +
** PRT_BATCH - 1 (1-based) of a loop, computed together in vector registers
** (K->batch_fill, stream_batch.c: pi's kernel spent half its time setting
** up streams one at a time). In a kernel that draws, an outermost
** iteration past the batch fills the next one (a block of 1024 iterations
** takes whole batches). Only outermost iterations use a batch, their
** thread's (K->batches[tid]): nested loops, maybe recursive, keep small
** stack frames and set up each stream alone. */
#define PRT_BATCH 128

typedef struct prt_batch {
  uint64_t out[PRT_BATCH][2];
} prt_batch;

struct prt_keys;

enum { PRT_MEAN, PRT_VAR, PRT_STD, PRT_ARGMIN, PRT_ARGMAX, PRT_MEDIAN, PRT_QUANTILE,
       PRT_QUANTILE_INT };

/* Blocks whose partial results a reduction holds at once: a longer loop
** runs in several parts, the partials combined in order after each, so
** that its memory does not grow with its length. */
#define PRT_REDUCE_CHUNK ((int64_t)1 << 16)

typedef struct prt_ctx {
  const prt_slot *slots;      /* live upvalues and globals, in the plan's order */
  const prt_slot *args;       /* jit: arguments; map: arrays and scalars */
  prt_slot *rets;             /* jit: results */
  prt_arr *outs;              /* prange/map: one output per result */
  prt_num *partials;          /* preduce/mapreduce: one per block from pbase */
  int64_t pbase;
  uint64_t seed;              /* loop seed (parallel forms), call seed (jit) */
  prt_pcg64 *defgen;          /* the caller's default generator */
  prt_err *errs;              /* one record per thread */
  prt_batch *batches;         /* one per thread */
  int64_t *lowest_failed;     /* lowest failed block so far (atomic) */
  int parallel;               /* opts.parallel */
  int (*interrupted)(void);
  double (*normal_slow)(prt_pcg64 *g, uint64_t r);
  double (*exp_slow)(prt_pcg64 *g, uint64_t r);
  uint64_t (*bounded)(prt_pcg64 *g, uint64_t rng);
  void (*batch_fill)(prt_batch *restrict b, const struct prt_keys *s, int64_t first);
  /* runs blocks b0 .. b1-1 (b1 clamped to their count) of a parallel loop
  ** of a jit function; returns a PRT_ status and, on PRT_ERR, has copied
  ** the failing record to errs[tid] */
  int (*run)(const struct prt_ctx *K, int64_t n, prt_blockfn fn, void *data, int tid,
             int serial, int reduces, int64_t b0, int64_t b1);
  /* new array of a valid shape for par.zeros/par.empty, made on thread
  ** tid; 0, or -1 when out of memory */
  int (*alloc)(const struct prt_ctx *K, int tid, int dtype, int ndim, int64_t n, int64_t m,
               int zero, prt_arr *out);
  /* the count of arrays made on thread tid, and the release of those made
  ** since the count was 'mark' (at the end of a parallel iteration) */
  int64_t (*allocs)(const struct prt_ctx *K, int tid);
  void (*release)(const struct prt_ctx *K, int tid, int64_t mark);
  /* a:mean(), a:var(ddof), a:std(ddof), a:argmin(), a:argmax(),
  ** a:median(), a:quantile(q) (PRT_MEAN ...; ddof is q, an integer one for
  ** PRT_QUANTILE_INT) of an array of dtype dt (0 float64, 1 int64, 2 bool):
  ** the runtime's own code, so the bits are the methods'; 0, 1 when
  ** interrupted, or -1 when out of memory */
  int (*stat)(int what, const prt_arr *a, int dt, double ddof, prt_slot *out);
  void *host;                 /* native.c's own data */
  const uint64_t *zig_ki, *zig_ke;
  const double *zig_wi, *zig_we;
} prt_ctx;

static const prt_num prt_num0 PRT_UNUSED;
static const prt_arr prt_arr0 PRT_UNUSED;

/* ---- streams: par_stream_init of rng.h, split in two ----
** The part that depends on the loop seed alone (two keys and the
** increment) is computed once per block; an iteration that draws then
** costs two finalisers, which give its state after the first draw (in
** batches, above). This mirrors rng.h's formula, which par.stream and Lua
** mode use: tests/lua/native_parallel.lua and native_fuzz.lua check that
** both give the same streams. */

static inline uint64_t prt_mix_a(uint64_t z) {   /* SplitMix64 finaliser */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t prt_mix_b(uint64_t z) {   /* MurmurHash3 fmix64 */
  z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
  z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
  return z ^ (z >> 33);
}

typedef struct prt_keys {
  uint64_t k1, k2;
  prt_u128 inc;
} prt_keys;

static inline void prt_stream_keys(prt_keys *s, uint64_t seed) {
  s->k1 = prt_mix_a(seed + 0x9e3779b97f4a7c15ULL);
  s->k2 = prt_mix_b(seed + 0x6a09e667f3bcc909ULL);
  s->inc = ((prt_u128)prt_mix_b(seed ^ 0xa54ff53a5f1d36f1ULL) << 64
            | prt_mix_a(seed ^ 0x510e527fade682d1ULL)) | 1;
}


/* Where an iteration's next draw comes from (prt_it.src): 2 or 1, that
** many of its first two draws (prt_it.first) are left; 0, its own
** generator, to be set up (prt_go_live); PRT_LIVE, its own generator;
** PRT_FRESH, nowhere yet (an iteration of a kernel that does not draw). */
enum { PRT_FRESH = -1, PRT_LIVE = -2 };

/* The state of one iteration (or of one serial jit call). */
typedef struct prt_it {
  const prt_ctx *K;
  const struct prt_it *up;    /* the iteration that runs this one's loop, or NULL */
  prt_pcg64 own;              /* the generator: the iteration's stream, or
                              ** a copy of the default one (serial code) */
  int src;                    /* where the next draw comes from (above) */
  int depth;
  int tid;
  uint32_t poll;
  prt_keys keys;              /* of the loop seed: stream (seed, iter) */
  uint64_t loops;             /* parallel loops started by a jit call */
  int64_t iter, block;
  const uint64_t *first;      /* the iteration's first two draws: in the
                              ** batch, or in 'mine' (nested iterations) */
  uint64_t mine[2];
  prt_batch *batch;           /* K->batches[tid] */
  int64_t batch_first;        /* the first iteration it holds */
} prt_it;

static PRT_UNUSED void prt_it_init(prt_it *it, const prt_ctx *K, uint64_t seed,
                                   int64_t block, int tid) {
  it->K = K;
  it->up = NULL;
  it->src = PRT_FRESH;
  it->depth = 0;
  it->tid = tid;
  it->poll = PRT_POLL;
  prt_stream_keys(&it->keys, seed);
  it->loops = 0;
  it->iter = 0;
  it->block = block;
  it->batch = &K->batches[tid];
  it->batch_first = -2 * PRT_BATCH;   /* none yet: no iter is in range */
}

/* Serial code of a jit call draws from the caller's default generator:
** from a copy, stored back by prt_it_done (also after an error). */
static PRT_UNUSED void prt_it_serial(prt_it *it, const prt_ctx *K, int tid) {
  prt_it_init(it, K, 0, -1, tid);
  it->own = *K->defgen;
  it->src = PRT_LIVE;
}

static PRT_UNUSED void prt_it_done(prt_it *it) { *it->K->defgen = it->own; }

/* ---- errors and abort checks ---- */

/* The outermost iteration of it: the one whose block the loop of the
** call (par_run) handed out. */
static inline const prt_it *prt_top(const prt_it *it) {
  while (it->up != NULL) it = it->up;
  return it;
}

/* Appends "iteration j: " to buf (of *len chars, room for n) for each loop
** level between the outermost iteration (excluded) and it, outermost first,
** as Lua mode nests its messages. 0 when they did not all fit. */
static PRT_UNUSED int prt_chain(char *buf, size_t n, size_t *len, const prt_it *it) {
  char one[40];
  int w;
  if (it->up == NULL) return 1;
  if (!prt_chain(buf, n, len, it->up)) return 0;
  w = snprintf(one, sizeof one, "iteration %lld: ", (long long)it->iter);
  if (w < 0 || *len + (size_t)w >= n) return 0;
  memcpy(buf + *len, one, (size_t)w);
  *len += (size_t)w;
  return 1;
}

/* Records the error 'msg' raised at file:line (a Lua error with position)
** for the running iteration. A chain of iterations too long for the record
** is cut short, not the message. */
static PRT_UNUSED int prt_fail(prt_it *it, const char *file, int line, const char *msg) {
  prt_err *e = &it->K->errs[it->tid];
  const prt_it *top = prt_top(it);
  char tail[320];
  size_t len = 0;
  snprintf(tail, sizeof tail, "%s:%d: %s", file, line, msg);
  prt_chain(e->msg, sizeof e->msg - strlen(tail), &len, it);
  e->iter = top->iter;
  e->block = top->block;
  snprintf(e->msg + len, sizeof e->msg - len, "%s", tail);
  if (top->block >= 0) {   /* lets later blocks stop early */
    int64_t cur = __atomic_load_n(it->K->lowest_failed, __ATOMIC_RELAXED);
    while (top->block < cur &&
           !__atomic_compare_exchange_n(it->K->lowest_failed, &cur, top->block, 1,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  }
  return PRT_ERR;
}

/* Should this iteration stop (Ctrl-C, or a lower block failed)? */
static PRT_UNUSED int prt_stop(prt_it *it) {
  const prt_it *top = prt_top(it);
  it->poll = PRT_POLL;
  if (it->K->interrupted()) return 1;
  return top->block >= 0 &&
         __atomic_load_n(it->K->lowest_failed, __ATOMIC_RELAXED) < top->block;
}

#define PRT_POLLCHECK(it) \
  if (PRT_UNLIKELY(--(it)->poll == 0) && prt_stop(it)) return PRT_ABORT

/* ---- integer and float arithmetic (Lua 5.4) ---- */

static inline int64_t prt_iadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline int64_t prt_isub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static inline int64_t prt_imul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static inline int64_t prt_ineg(int64_t a) { return (int64_t)(0u - (uint64_t)a); }

/* a // b for b not in {0, -1}; the caller handles those (luaV_idiv). */
static inline int64_t prt_idiv_(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a ^ b) < 0 && a % b != 0) q -= 1;
  return q;
}

static inline int64_t prt_imod_(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && (r ^ b) < 0) r += b;
  return r;
}

/* Integer // and %: 0 on success, -1 for division by zero. */
static inline int prt_idiv(int64_t a, int64_t b, int64_t *q) {
  if (PRT_UNLIKELY((uint64_t)b + 1u <= 1u)) {
    if (b == 0) return -1;
    *q = prt_ineg(a);
    return 0;
  }
  *q = prt_idiv_(a, b);
  return 0;
}

static inline int prt_imod(int64_t a, int64_t b, int64_t *r) {
  if (PRT_UNLIKELY((uint64_t)b + 1u <= 1u)) {
    if (b == 0) return -1;
    *r = 0;
    return 0;
  }
  *r = prt_imod_(a, b);
  return 0;
}

static inline double prt_fidiv(double a, double b) { return floor(a / b); }

static inline double prt_fmod(double a, double b) {
  double m = fmod(a, b);
  if ((m > 0) ? b < 0 : (m < 0 && b > 0)) m += b;   /* signs differ */
  return m;
}

static inline double prt_pow(double a, double b) { return b == 2 ? a * a : pow(a, b); }

/* luaV_shiftl */
static inline int64_t prt_shl(int64_t x, int64_t y) {
  if (y < 0) {
    if (y <= -64) return 0;
    return (int64_t)((uint64_t)x >> (unsigned)(-y));
  }
  if (y >= 64) return 0;
  return (int64_t)((uint64_t)x << (unsigned)y);
}

static inline int64_t prt_shr(int64_t x, int64_t y) { return prt_shl(x, prt_ineg(y)); }

/* ---- float to integer (luaV_flttointns): mode 0 exact, 1 floor, 2 ceil ---- */

static inline int prt_f2i(double n, int mode, int64_t *p) {
  double f = floor(n);
  if (n != f) {
    if (mode == 0) return 0;
    if (mode == 2) f += 1;
  }
  if (f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
    *p = (int64_t)f;
    return 1;
  }
  return 0;
}

/* ---- comparisons of mixed subtypes (LTnum, LEnum, luaV_equalobj) ---- */

static inline int prt_fitsf(int64_t i) {
  return ((uint64_t)1 << 53) + (uint64_t)i <= ((uint64_t)2 << 53);
}

static inline int prt_lt_if(int64_t i, double f) {
  int64_t fi;
  if (prt_fitsf(i)) return (double)i < f;
  if (prt_f2i(f, 2, &fi)) return i < fi;
  return f > 0;
}

static inline int prt_le_if(int64_t i, double f) {
  int64_t fi;
  if (prt_fitsf(i)) return (double)i <= f;
  if (prt_f2i(f, 1, &fi)) return i <= fi;
  return f > 0;
}

static inline int prt_lt_fi(double f, int64_t i) {
  int64_t fi;
  if (prt_fitsf(i)) return f < (double)i;
  if (prt_f2i(f, 1, &fi)) return fi < i;
  return f < 0;
}

static inline int prt_le_fi(double f, int64_t i) {
  int64_t fi;
  if (prt_fitsf(i)) return f <= (double)i;
  if (prt_f2i(f, 2, &fi)) return fi <= i;
  return f < 0;
}

static inline int prt_eq_if(int64_t i, double f) {
  int64_t fi;
  return prt_f2i(f, 0, &fi) && fi == i;
}

/* ---- loops over arrays ---- */

/* Pure map and reduction loops run in chunks of PRT_CHUNK elements, each
** prefetching what is read PRT_AHEAD elements on: the hardware prefetcher
** alone left the fastmath grid maximum waiting on memory (it ran a third
** faster with this, on 1 and 2 threads). */
#define PRT_CHUNK 64
#define PRT_AHEAD 256

static inline void prt_prefetch(const void *p, size_t bytes) {
  const char *c = p;
  size_t o;
  for (o = 0; o < bytes; o += 64) __builtin_prefetch(c + o);
}

/* ---- numeric for (Lua's forprep) ---- */

/* An integer loop from init by step runs when this returns 1; *count is
** then the number of iterations after the first. */
static inline int prt_forprep(int64_t init, int64_t limit, int64_t step, uint64_t *count) {
  if (step > 0 ? init > limit : init < limit) return 0;
  if (step > 0) {
    *count = (uint64_t)limit - (uint64_t)init;
    if (step != 1) *count /= (uint64_t)step;
  }
  else {
    *count = (uint64_t)init - (uint64_t)limit;
    *count /= (uint64_t)(-(step + 1)) + 1u;
  }
  return 1;
}

/* A float limit of an integer loop, clipped (forlimit); 0: skip the loop. */
static inline int prt_forlimit(double flim, int64_t step, int64_t *p) {
  if (!prt_f2i(flim, step < 0 ? 2 : 1, p)) {
    if (0 < flim) {
      if (step < 0) return 0;
      *p = INT64_MAX;
    }
    else {
      if (step > 0) return 0;
      *p = INT64_MIN;
    }
  }
  return 1;
}

/* ---- tagged numbers ---- */

static inline prt_num prt_ni(int64_t i) { prt_num n; n.isint = 1; n.i = i; n.f = 0; return n; }
static inline prt_num prt_nf(double f) { prt_num n; n.isint = 0; n.i = 0; n.f = f; return n; }
static inline double prt_tof(prt_num a) { return a.isint ? (double)a.i : a.f; }

static inline prt_num prt_nadd(prt_num a, prt_num b) {
  if (a.isint && b.isint) return prt_ni(prt_iadd(a.i, b.i));
  return prt_nf(prt_tof(a) + prt_tof(b));
}
static inline prt_num prt_nsub(prt_num a, prt_num b) {
  if (a.isint && b.isint) return prt_ni(prt_isub(a.i, b.i));
  return prt_nf(prt_tof(a) - prt_tof(b));
}
static inline prt_num prt_nmul(prt_num a, prt_num b) {
  if (a.isint && b.isint) return prt_ni(prt_imul(a.i, b.i));
  return prt_nf(prt_tof(a) * prt_tof(b));
}
static inline prt_num prt_nneg(prt_num a) {
  return a.isint ? prt_ni(prt_ineg(a.i)) : prt_nf(-a.f);
}
/* // and % of tagged numbers: 0, or -1 for integer division by zero */
static inline int prt_nidiv(prt_num a, prt_num b, prt_num *r) {
  if (a.isint && b.isint) { r->isint = 1; r->f = 0; return prt_idiv(a.i, b.i, &r->i); }
  *r = prt_nf(prt_fidiv(prt_tof(a), prt_tof(b)));
  return 0;
}
static inline int prt_nmod(prt_num a, prt_num b, prt_num *r) {
  if (a.isint && b.isint) { r->isint = 1; r->f = 0; return prt_imod(a.i, b.i, &r->i); }
  *r = prt_nf(prt_fmod(prt_tof(a), prt_tof(b)));
  return 0;
}

static inline int prt_nlt(prt_num a, prt_num b) {
  if (a.isint) return b.isint ? a.i < b.i : prt_lt_if(a.i, b.f);
  return b.isint ? prt_lt_fi(a.f, b.i) : a.f < b.f;
}
static inline int prt_nle(prt_num a, prt_num b) {
  if (a.isint) return b.isint ? a.i <= b.i : prt_le_if(a.i, b.f);
  return b.isint ? prt_le_fi(a.f, b.i) : a.f <= b.f;
}
static inline int prt_neq(prt_num a, prt_num b) {
  if (a.isint) return b.isint ? a.i == b.i : prt_eq_if(a.i, b.f);
  return b.isint ? prt_eq_if(b.i, a.f) : a.f == b.f;
}

/* math.floor and math.ceil of a float: an integer when it fits. */
static inline prt_num prt_floor(double x) {
  int64_t i;
  double f = floor(x);
  if (prt_f2i(f, 0, &i)) return prt_ni(i);
  return prt_nf(f);
}
static inline prt_num prt_ceil(double x) {
  int64_t i;
  double f = ceil(x);
  if (prt_f2i(f, 0, &i)) return prt_ni(i);
  return prt_nf(f);
}

/* Reduction steps of reduce.h on tagged numbers ('+', '*', min, max). */
static inline int prt_nisnan(prt_num a) { return !a.isint && a.f != a.f; }
static inline prt_num prt_nmin(prt_num acc, prt_num x) {
  if (prt_nisnan(acc)) return acc;
  if (prt_nisnan(x) || prt_nlt(x, acc)) return x;
  return acc;
}
static inline prt_num prt_nmax(prt_num acc, prt_num x) {
  if (prt_nisnan(acc)) return acc;
  if (prt_nisnan(x) || prt_nlt(acc, x)) return x;
  return acc;
}

/* ---- random numbers (rng.h's algorithms) ---- */

#define PRT_PCG_MULT (((prt_u128)0x2360ed051fc65da4ULL << 64) | 0x4385df649fccf645ULL)
#define PRT_PCG_MULT_INV (((prt_u128)0x07dda22b93979860ULL << 64) | 0x98abc8b0716eac8dULL)

/* PCG64's output (XSL RR) of a state. */
static inline uint64_t prt_xsl_rr(prt_u128 s) {
  uint64_t x = (uint64_t)(s >> 64) ^ (uint64_t)s;
  unsigned rot = (unsigned)(s >> 122);
  return (x >> rot) | (x << ((64 - rot) & 63));
}

static inline uint64_t prt_next64(prt_pcg64 *g) {
  g->state = g->state * PRT_PCG_MULT + g->inc;
  return prt_xsl_rr(g->state);
}

/* The seed of the k-th parallel loop run by a jit call with seed s. */
static inline uint64_t prt_loop_seed(uint64_t s, uint64_t k) {
  return prt_mix_a(s ^ prt_mix_b(k + 0x243f6a8885a308d3ULL));
}

/* Makes it->own, at 'state' on the iteration's stream, its generator. */
static inline void prt_own(prt_it *it, prt_u128 state) {
  it->own.state = state;
  it->own.inc = it->keys.inc;
  it->own.uinteger = 0;
  it->own.has_uint32 = 0;
  it->src = PRT_LIVE;
}

/* The state of iteration it->iter's stream after its first draw: the
** finalisers of rng.h's par_stream_init. */
static inline prt_u128 prt_after_first(const prt_it *it) {
  uint64_t i = (uint64_t)it->iter;
  return ((prt_u128)prt_mix_a(i ^ it->keys.k1) << 64) | prt_mix_b(i ^ it->keys.k2);
}

/* The first two draws of an iteration that cannot take them from its
** batch as it is: a nested one (its own), or an outermost one past the
** batch (the next batch). */
static PRT_NOINLINE void prt_iter_far(prt_it *it) {
  if (it->up != NULL) {
    prt_pcg64 g;
    g.state = prt_after_first(it);
    g.inc = it->keys.inc;
    it->mine[0] = prt_xsl_rr(g.state);
    it->mine[1] = prt_next64(&g);
    it->first = it->mine;
    return;
  }
  it->K->batch_fill(it->batch, &it->keys, it->iter);
  it->batch_first = it->iter;
  it->first = it->batch->out[0];
}

/* Starts iteration iter (1-based). In a kernel that draws at all, its
** first two draws are found now, so that a draw need not check for them
** and the compiler sees where they come from; in one that does not, never
** (prt_go_live would, for safety). */
static inline PRT_ALWAYS_INLINE void prt_iter(prt_it *it, int64_t iter, int draws) {
  it->iter = iter;
  if (draws) {
    uint64_t j = (uint64_t)iter - (uint64_t)it->batch_first;
    if (PRT_LIKELY(it->up == NULL && j < PRT_BATCH))
      it->first = it->batch->out[j];
    else
      prt_iter_far(it);
    it->src = 2;
  } else
    it->src = PRT_FRESH;
}

/* Makes it->own the iteration's generator, in the state its draws so far
** have left. */
static PRT_NOINLINE void prt_go_live(prt_it *it) {
  int drawn = it->src == PRT_FRESH ? 0 : 2 - it->src;
  prt_u128 h = prt_after_first(it);
  if (drawn == 0) {
    prt_own(it, (h - it->keys.inc) * PRT_PCG_MULT_INV);
    return;
  }
  prt_own(it, h);
  while (--drawn > 0) (void)prt_next64(&it->own);
}

/* The next 64 random bits of the iteration's stream. */
static inline PRT_ALWAYS_INLINE uint64_t prt_draw64(prt_it *it) {
  int src = it->src;
  if (PRT_LIKELY(src > 0)) {
    it->src = src - 1;
    return it->first[2 - src];
  }
  if (PRT_UNLIKELY(src != PRT_LIVE)) prt_go_live(it);
  return prt_next64(&it->own);
}

/* The iteration's generator, in the state its draws so far have left, for
** the algorithms that take a generator (rng.h's). */
static inline prt_pcg64 *prt_gen(prt_it *it) {
  if (PRT_UNLIKELY(it->src != PRT_LIVE)) prt_go_live(it);
  return &it->own;
}

static inline double prt_randn(prt_it *it) {
  uint64_t r = prt_draw64(it);
  unsigned idx = (unsigned)(r & 0xff);
  uint64_t rabs = (r >> 9) & 0x000fffffffffffffULL;
  double x = (double)rabs * it->K->zig_wi[idx];
  if (PRT_LIKELY(rabs < it->K->zig_ki[idx])) return (r & 0x100) ? -x : x;
  return it->K->normal_slow(prt_gen(it), r);
}

static inline double prt_rande(prt_it *it) {
  uint64_t r = prt_draw64(it);
  unsigned idx = (unsigned)((r >> 3) & 0xff);
  uint64_t ri = r >> 11;
  if (PRT_LIKELY(ri < it->K->zig_ke[idx])) return (double)ri * it->K->zig_we[idx];
  return it->K->exp_slow(prt_gen(it), r);
}

static inline double prt_random(prt_it *it) {
  return (double)(prt_draw64(it) >> 11) * (1.0 / 9007199254740992.0);
}

/* An integer in [lo, hi] (NumPy's bounded draw of hi - lo). */
static inline int64_t prt_integers(prt_it *it, int64_t lo, int64_t hi) {
  return (int64_t)((uint64_t)lo + it->K->bounded(prt_gen(it), (uint64_t)hi - (uint64_t)lo));
}

/* ---- arrays ---- */

/* Formats "%s %lld out of range for array of shape (..)" into buf. */
static PRT_UNUSED const char *prt_rangemsg(char *buf, size_t n, const char *what,
                                           int64_t i, const prt_arr *a) {
  if (a->ndim == 1)
    snprintf(buf, n, "%s %lld out of range for array of shape (%lld,)", what,
             (long long)i, (long long)a->n0);
  else
    snprintf(buf, n, "%s %lld out of range for array of shape (%lld, %lld)", what,
             (long long)i, (long long)a->n0, (long long)a->n1);
  return buf;
}

/* Index i (1-based) along a dimension of n elements: 0-based, or an error
** naming 'what' and the shape (n0, n1, ndim) as the array module does. */
static PRT_UNUSED int prt_range_fail(prt_it *it, const char *file, int line, const char *what,
                                     int64_t i, int64_t n0, int64_t n1, int ndim) {
  char buf[160];
  prt_arr a;
  a.n0 = n0; a.n1 = n1; a.ndim = ndim;
  return prt_fail(it, file, line, prt_rangemsg(buf, sizeof buf, what, i, &a));
}

/* %.14g as Lua's tostring of a float. */
static PRT_UNUSED const char *prt_fmtf(char *buf, size_t n, double x) {
  if (x != x) snprintf(buf, n, "%snan", signbit(x) ? "-" : "");
  else if (isinf(x)) snprintf(buf, n, "%sinf", x < 0 ? "-" : "");
  else {
    snprintf(buf, n, "%.14g", x);
    if (buf[strspn(buf, "-0123456789")] == '\0') strncat(buf, ".0", n - strlen(buf) - 1);
  }
  return buf;
}

/* "array index must be an integer, got 1.5" */
static PRT_UNUSED int prt_badindex(prt_it *it, const char *file, int line, double x) {
  char num[64], buf[128];
  snprintf(buf, sizeof buf, "array index must be an integer, got %s", prt_fmtf(num, sizeof num, x));
  return prt_fail(it, file, line, buf);
}

/* par.zeros/par.empty (fname) of n elements, or n x m when ndim is 2, into
** *out; errors as the array module raises them. */
static PRT_UNUSED int prt_alloc(prt_it *it, const char *file, int line, const char *fname,
                                int dtype, int ndim, int64_t n, int64_t m, int zero,
                                prt_arr *out) {
  char buf[160];
  if (ndim == 1) m = 1;
  if (n < 0 || m < 0) {
    snprintf(buf, sizeof buf, "bad argument #%d to '%s' (size must be a non-negative integer)",
             n < 0 ? 1 : 2, fname);
    return prt_fail(it, file, line, buf);
  }
  if (m != 0 && n > INT64_MAX / 8 / m) {
    snprintf(buf, sizeof buf, "array is too big (%lld x %lld elements)", (long long)n,
             (long long)m);
    return prt_fail(it, file, line, buf);
  }
  if (it->K->alloc(it->K, it->tid, dtype, ndim, n, m, zero, out) != 0)
    return prt_fail(it, file, line, "not enough memory");
  return PRT_OK;
}

#endif
