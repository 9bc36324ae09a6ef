/*
** stream_batch.c: iteration streams set up PRT_BATCH at a time (see
** stream_batch.h). One stream at a time, an iteration waits on two
** finalisers and a 128-bit multiplication; across a batch the work is
** independent, so it runs in vector registers. With AVX-512 the 128-bit
** product is built from 32-bit products (vpmuludq, one instruction where
** compilers emit three for a 64-bit product) and XSL RR uses a rotate
** instruction: twice as fast as the code GCC vectorises from the portable
** loop, which serves the other CPUs.
*/
#include "stream_batch.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_AVX512_PATH 1
#include <immintrin.h>
#endif

/* ---- portable ---- */

/* PCG64's multiplier in 64-bit halves. */
#define MULT_HI ((uint64_t)(PRT_PCG_MULT >> 64))
#define MULT_LO ((uint64_t)PRT_PCG_MULT)

/* One PCG64 step on a state in 64-bit halves (h, l) with increment (ih, il):
** the high half of the low product built from 32-bit products. The state
** stays in halves (no 128-bit type), so that the compiler vectorises. */
static inline void step_halves(uint64_t *h, uint64_t *l, uint64_t ih, uint64_t il) {
  const uint64_t mh = MULT_HI, ml = MULT_LO;
  const uint64_t m0 = ml & 0xffffffffu, m1 = ml >> 32;
  uint64_t a = *l, a0 = a & 0xffffffffu, a1 = a >> 32;
  uint64_t p00 = a0 * m0, p01 = a0 * m1, p10 = a1 * m0, p11 = a1 * m1;
  uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
  uint64_t lo = (mid << 32) | (p00 & 0xffffffffu);
  uint64_t hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32) + a * mh + *h * ml;
  lo += il;
  *h = hi + ih + (lo < il);
  *l = lo;
}

/* kernel_rt.h's prt_xsl_rr on a state in halves. */
static inline uint64_t xsl_rr(uint64_t h, uint64_t l) {
  uint64_t x = h ^ l;
  unsigned r = (unsigned)(h >> 58);
  return (x >> r) | (x << (-r & 63));
}

/* Built also for AVX2, which vectorises the loop, where the compiler can. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void par_stream_batch_portable(prt_batch *restrict b, const prt_keys *s, int64_t first) {
  const uint64_t k1 = s->k1, k2 = s->k2;
  const uint64_t ih = (uint64_t)(s->inc >> 64), il = (uint64_t)s->inc;
  int j;
#pragma omp simd
  for (j = 0; j < PRT_BATCH; j++) {
    uint64_t i = (uint64_t)first + (uint64_t)j;
    uint64_t h = prt_mix_a(i ^ k1), l = prt_mix_b(i ^ k2);
    b->out[j][0] = xsl_rr(h, l);
    step_halves(&h, &l, ih, il);
    b->out[j][1] = xsl_rr(h, l);
  }
}

/* ---- AVX-512 ---- */

#ifdef HAVE_AVX512_PATH
#define AVX512 __attribute__((target("avx512f,avx512dq")))
#define BCAST(x) _mm512_set1_epi64((long long)(x))

static inline AVX512 __m512i mix_v(__m512i z, int s1, uint64_t c1, int s2, uint64_t c2, int s3) {
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, s1)), BCAST(c1));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, s2)), BCAST(c2));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, s3));
}

/* step_halves on 8 states */
static inline AVX512 void step_v(__m512i *h, __m512i *l, __m512i ih, __m512i il) {
  const __m512i mh = BCAST(MULT_HI), ml = BCAST(MULT_LO);
  const __m512i m1 = BCAST(MULT_LO >> 32), low = BCAST(0xffffffffu);
  __m512i a = *l, a1 = _mm512_srli_epi64(a, 32);
  __m512i p00 = _mm512_mul_epu32(a, ml), p01 = _mm512_mul_epu32(a, m1);
  __m512i p10 = _mm512_mul_epu32(a1, ml), p11 = _mm512_mul_epu32(a1, m1);
  __m512i mid = _mm512_add_epi64(_mm512_srli_epi64(p00, 32),
                  _mm512_add_epi64(_mm512_and_si512(p01, low), _mm512_and_si512(p10, low)));
  __m512i lo = _mm512_add_epi64(_mm512_slli_epi64(mid, 32), _mm512_and_si512(p00, low));
  __m512i hi = _mm512_add_epi64(_mm512_add_epi64(p11, _mm512_srli_epi64(p01, 32)),
                 _mm512_add_epi64(_mm512_srli_epi64(p10, 32), _mm512_srli_epi64(mid, 32)));
  hi = _mm512_add_epi64(hi, _mm512_add_epi64(_mm512_mullo_epi64(a, mh),
                                             _mm512_mullo_epi64(*h, ml)));
  lo = _mm512_add_epi64(lo, il);
  hi = _mm512_add_epi64(hi, ih);
  *h = _mm512_mask_add_epi64(hi, _mm512_cmplt_epu64_mask(lo, il), hi, BCAST(1));
  *l = lo;
}

static inline AVX512 __m512i xsl_rr_v(__m512i h, __m512i l) {
  return _mm512_rorv_epi64(_mm512_xor_si512(h, l), _mm512_srli_epi64(h, 58));
}

static AVX512 void batch_avx512(prt_batch *restrict b, const prt_keys *s, int64_t first) {
  const __m512i k1 = BCAST(s->k1), k2 = BCAST(s->k2);
  const __m512i ih = BCAST(s->inc >> 64), il = BCAST(s->inc);
  const __m512i even = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i odd = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  __m512i i = _mm512_add_epi64(BCAST(first), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
  int j;
  for (j = 0; j < PRT_BATCH; j += 8) {
    __m512i h = mix_v(_mm512_xor_si512(i, k1), 30, 0xbf58476d1ce4e5b9ULL, 27,
                      0x94d049bb133111ebULL, 31);   /* prt_mix_a */
    __m512i l = mix_v(_mm512_xor_si512(i, k2), 33, 0xff51afd7ed558ccdULL, 33,
                      0xc4ceb9fe1a85ec53ULL, 33);   /* prt_mix_b */
    __m512i d0 = xsl_rr_v(h, l), d1;
    step_v(&h, &l, ih, il);
    d1 = xsl_rr_v(h, l);   /* interleaved: out[j][0], out[j][1], out[j + 1][0]... */
    _mm512_storeu_si512(b->out[j], _mm512_permutex2var_epi64(d0, even, d1));
    _mm512_storeu_si512(b->out[j + 4], _mm512_permutex2var_epi64(d0, odd, d1));
    i = _mm512_add_epi64(i, BCAST(8));
  }
}
#endif

int par_stream_batch_has_avx512(void) {
#ifdef HAVE_AVX512_PATH
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#else
  return 0;
#endif
}

void par_stream_batch(prt_batch *restrict b, const prt_keys *s, int64_t first) {
#ifdef HAVE_AVX512_PATH
  if (par_stream_batch_has_avx512()) {
    batch_avx512(b, s, first);
    return;
  }
#endif
  par_stream_batch_portable(b, s, first);
}
