/*
** grid_ref.c: max of cos(x^2+y^2)/(1+x^2+y^2) over the 5000^2 meshgrid
** arrays, fused by hand: reads the two arrays, writes none; per-block
** maxima combined in block order, NaN-propagating like generated strict
** kernels (and np.max). Built strict and with -ffast-math; the
** fast build vectorises the block loop (libmvec's cos), as generated
** fastmath kernels do. Env: N (5000), REPS (5).
*/
#include <math.h>

#include "array.h"
#include "ref.h"
#include "kernel_rt.h"

typedef struct grid { const double *x, *y; double *bmax; int64_t size; } grid;

static int block(void *ctx, int64_t lo, int64_t hi, int64_t b, int tid) {
  const grid *k = ctx;
  const double *restrict x = k->x, *restrict y = k->y;
  double m = -INFINITY;
  int64_t i, c, e;
  (void)tid;
  for (c = lo; c < hi; c = e) {   /* in chunks, prefetching, as generated code */
    e = hi - c > PRT_CHUNK ? c + PRT_CHUNK : hi;
    if (k->size - c >= PRT_AHEAD + PRT_CHUNK) {
      prt_prefetch(x + c + PRT_AHEAD, PRT_CHUNK * sizeof *x);
      prt_prefetch(y + c + PRT_AHEAD, PRT_CHUNK * sizeof *y);
    }
#ifdef __FAST_MATH__
#pragma omp simd reduction(max:m)
#endif
    for (i = c; i < e; i++) {
      double u = x[i], v2 = y[i];
      double v = cos(u * u + v2 * v2) / (1 + u * u + v2 * v2);
#ifdef __FAST_MATH__
      m = v > m ? v : m;
#else
      if (m == m && (v != v || v > m)) m = v;   /* a NaN wins, as in par.mapreduce */
#endif
    }
  }
  k->bmax[b] = m;
  return 0;
}

int main(void) {
  int64_t n = ref_env("N", 5000), size = n * n, nb = par_nblocks(size, PAR_BLOCK), i, j;
  int reps = (int)ref_env("REPS", 5), k;
  grid g;
  /* parlua's array memory (2 MiB aligned, huge pages), as par.meshgrid's */
  par_buffer *bx = par_buffer_new(sizeof(double) * (size_t)size);
  par_buffer *by = par_buffer_new(sizeof(double) * (size_t)size);
  double *x = par_buffer_data(bx), *y = par_buffer_data(by);
  double *times = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1)), best = 0;
  double step = 6.0 / (double)(n - 1);
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      x[i * n + j] = j == n - 1 ? 3.0 : -3.0 + (double)j * step;
      y[i * n + j] = i == n - 1 ? 3.0 : -3.0 + (double)i * step;
    }
  g.x = x; g.y = y; g.size = size;
  g.bmax = malloc(sizeof(double) * (size_t)nb);
  for (k = 0; k < reps; k++) {
    double t0 = ref_now();
    par_run(size, PAR_BLOCK, 0, block, &g);
    for (best = -INFINITY, i = 0; i < nb; i++) best = g.bmax[i] > best ? g.bmax[i] : best;
    times[k] = ref_now() - t0;
  }
  printf("result %.17g\n", best);
  printf("time %.6f\n", ref_median(times, reps));
  return 0;
}
