/*
** wealth_ref.c: the wealth kernel by hand. Household i (1-based) draws
** from stream i of the loop seed; w' = R s w + y with the expression
** order of the Lua kernel, so the results are the same bits.
** Env: HOUSEHOLDS (50000), PERIODS (1000), SEED (42), REPS (5).
*/
#include <math.h>

#include "ref.h"

typedef struct wealth { uint64_t seed; int64_t T; double *obs; } wealth;

static int block(void *ctx, int64_t lo, int64_t hi, int64_t b, int tid) {
  const wealth *k = ctx;
  const double r = 0.1, s = 0.3, v1 = 0.1, v2 = 1.0;
  int64_t i, t;
  (void)b; (void)tid;
  for (i = lo; i < hi; i++) {
    pcg64 g;
    double w = 1.0;
    par_stream_init(&g, k->seed, (uint64_t)i + 1);
    for (t = 0; t < k->T; t++) {
      double R = exp(v1 * par_rng_standard_normal(&g)) * (1 + r);
      double y = exp(v2 * par_rng_standard_normal(&g));
      w = R * s * w + y;
    }
    k->obs[i] = w;
  }
  return 0;
}

int main(void) {
  int64_t n = ref_env("HOUSEHOLDS", 50000);
  int reps = (int)ref_env("REPS", 5), k;
  wealth w = {(uint64_t)ref_env("SEED", 42), ref_env("PERIODS", 1000), NULL};
  double *times = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1)), med = 0;
  w.obs = malloc(sizeof(double) * (size_t)n);
  for (k = 0; k < reps; k++) {
    double t0 = ref_now();
    par_run(n, PAR_BLOCK, 0, block, &w);
    med = ref_median(w.obs, n);
    times[k] = ref_now() - t0;
  }
  printf("result %.17g\n", med);
  printf("time %.6f\n", ref_median(times, reps));
  return 0;
}
