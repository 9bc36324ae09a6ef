/*
** ref.h: what the hand-written reference kernels share: parlua's engine
** (fixed blocks handed out dynamically), its per-iteration streams, a
** clock and a median. They are the limit a generated kernel should reach:
** same RNG, streams, block scheduling and compiler flags (build.sh).
*/
#ifndef PARLUA_BENCH_REF_H
#define PARLUA_BENCH_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "parallel.h"
#include "rng.h"

static inline double ref_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int ref_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n-1] (sorts v), as numpy.median. */
static inline double ref_median(double *v, int64_t n) {
  qsort(v, (size_t)n, sizeof *v, ref_cmp);
  return (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Integer from environment variable 'name', or 'def'. */
static inline long ref_env(const char *name, long def) {
  const char *s = getenv(name);
  return s ? atol(s) : def;
}

#endif
