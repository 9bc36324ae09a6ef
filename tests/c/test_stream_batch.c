/*
** test_stream_batch.c: the batched stream set-up of generated kernels
** (stream_batch.c) gives what par_stream_init gives one stream at a time
** (par.stream, Lua mode): the first two draws; its AVX-512 and portable
** versions agree bit for bit.
*/
#include <stdio.h>
#include <string.h>

#include "rng.h"
#include "stream_batch.h"
#include "unit.h"

static void check_batch(uint64_t seed, int64_t first) {
  static prt_batch b, p;
  prt_keys k;
  int j;
  prt_stream_keys(&k, seed);
  par_stream_batch(&b, &k, first);
  par_stream_batch_portable(&p, &k, first);
  CHECK(memcmp(&b, &p, sizeof b) == 0);
  for (j = 0; j < PRT_BATCH; j++) {
    pcg64 g;
    par_stream_init(&g, seed, (uint64_t)first + (uint64_t)j);
    CHECK(g.inc == k.inc);
    CHECK_EQ_U64(b.out[j][0], pcg64_next_uint64(&g));
    CHECK_EQ_U64(b.out[j][1], pcg64_next_uint64(&g));
  }
}

int main(void) {
  static const uint64_t seeds[] = {0, 7, 42, 0x8000000000000005ULL, UINT64_MAX};
  static const int64_t firsts[] = {1, 129, 1000001, INT64_C(1) << 40, INT64_MAX - 200};
  size_t s, f;
  printf("AVX-512 path: %s\n", par_stream_batch_has_avx512() ? "tested" : "not on this CPU");
  for (s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
    for (f = 0; f < sizeof firsts / sizeof firsts[0]; f++) check_batch(seeds[s], firsts[f]);
  return unit_report("stream_batch");
}
