/*
** pi_ref.c: pi from n random points by hand: iteration i (1-based) draws
** two uniforms from stream i; per-block integer counts combined in block
** order, as par.preduce("+", ...) does. Env: N (10^8), SEED (42), REPS (5).
*/
#include "ref.h"

typedef struct pi { uint64_t seed; int64_t *count; } pi;

static int block(void *ctx, int64_t lo, int64_t hi, int64_t b, int tid) {
  const pi *k = ctx;
  int64_t i, c = 0;
  (void)tid;
  for (i = lo; i < hi; i++) {
    pcg64 g;
    double x, y;
    par_stream_init(&g, k->seed, (uint64_t)i + 1);
    x = pcg64_next_double(&g);
    y = pcg64_next_double(&g);
    c += (x * x + y * y < 1) ? 1 : 0;
  }
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
