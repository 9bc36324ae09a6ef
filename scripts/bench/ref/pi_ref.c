/*
** pi_ref.c: pi from n random points by hand: iteration i (1-based) draws
** two uniforms from stream i (set up in batches, as generated kernels do);
** per-block integer counts combined in block order, as par.preduce("+", ...)
** does. Env: N (10^8), SEED (42), REPS (5).
*/
#include "ref.h"

#include "stream_batch.h"

typedef struct pi { uint64_t seed; int64_t *count; } pi;

/* Iteration i's two draws come from the batch of streams generated kernels
** use (stream_batch.h: PRT_BATCH streams at a time, with their first two
** draws). */
static int block(void *ctx, int64_t lo, int64_t hi, int64_t b, int tid) {
  const pi *k = ctx;
  int64_t i, c = 0;
  prt_keys keys;
  prt_batch *s = malloc(sizeof *s);
  (void)tid;
  if (s == NULL) return 1;
  prt_stream_keys(&keys, k->seed);
  for (i = lo; i < hi; i++) {
    int64_t j = (i - lo) % PRT_BATCH;
    double x, y;
    if (j == 0) par_stream_batch(s, &keys, i + 1);
    x = (double)(s->out[j][0] >> 11) * (1.0 / 9007199254740992.0);
    y = (double)(s->out[j][1] >> 11) * (1.0 / 9007199254740992.0);
    c += (x * x + y * y < 1) ? 1 : 0;
  }
  free(s);
  k->count[b] = c;
  return 0;
}

int main(void) {
  int64_t n = ref_env("N", 100000000), nb = par_nblocks(n, PAR_BLOCK), j, total = 0;
  int reps = (int)ref_env("REPS", 5), k;
  pi p = {(uint64_t)ref_env("SEED", 42), NULL};
  double *times = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
  p.count = malloc(sizeof(int64_t) * (size_t)nb);
  for (k = 0; k < reps; k++) {
    double t0 = ref_now();
    par_run(n, PAR_BLOCK, 0, block, &p);
    for (total = 0, j = 0; j < nb; j++) total += p.count[j];
    times[k] = ref_now() - t0;
  }
  printf("result %.17g\n", 4.0 * (double)total / (double)n);
  printf("time %.6f\n", ref_median(times, reps));
  return 0;
}
