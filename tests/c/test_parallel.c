/*
** test_parallel.c: the parallel engine: every index is covered once, the
** lowest failing block is reported and later blocks are cancelled,
** block-ordered combination gives the same bits on any thread count, and
** short kernels take small blocks.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "parallel.h"
#include "unit.h"

typedef struct cover { atomic_int *hits; int64_t fail_from; atomic_llong ran_after; } cover;

static int mark(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  cover *c = ctx;
  int64_t i;
  (void)tid;
  if (c->fail_from >= 0 && block > c->fail_from) atomic_fetch_add(&c->ran_after, 1);
  for (i = lo; i < hi; i++) atomic_fetch_add(&c->hits[i], 1);
  return (c->fail_from >= 0 && block >= c->fail_from && block % 2 == 1) ? 7 : 0;
}

static void test_cover(int64_t n, int64_t bsize, int threads) {
  cover c;
  int64_t i, bad = 0;
  par_result r;
  c.hits = calloc((size_t)(n > 0 ? n : 1), sizeof *c.hits);
  c.fail_from = -1;
  atomic_init(&c.ran_after, 0);
  r = par_run(n, bsize, threads, mark, &c);
  CHECK(r.status == PAR_OK);
  for (i = 0; i < n; i++) bad += atomic_load(&c.hits[i]) != 1;
  CHECK_EQ_I64(bad, 0);
  free(c.hits);
}

/* Blocks 5 and up fail when odd: block 5 is the lowest failure. */
static void test_failure(int threads) {
  cover c;
  int64_t n = 1000 * 64;
  par_result r;
  c.hits = calloc((size_t)n, sizeof *c.hits);
  c.fail_from = 5;
  atomic_init(&c.ran_after, 0);
  r = par_run(n, 64, threads, mark, &c);
  CHECK(r.status == PAR_FAILED);
  CHECK_EQ_I64(r.failed_block, 5);
  CHECK_EQ_I64(r.code, 7);
  CHECK(atomic_load(&c.hits[5 * 64 - 1]) == 1);   /* earlier blocks finished */
  CHECK(atomic_load(&c.ran_after) < 100);         /* later blocks cancelled */
  free(c.hits);
}

typedef struct sums { const double *x; double *partial; } sums;

static int block_sum(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  sums *s = ctx;
  double acc = 0.0;
  int64_t i;
  (void)tid;
  for (i = lo; i < hi; i++) acc += s->x[i];
  s->partial[block] = acc;
  return 0;
}

static double blocked_sum(const double *x, int64_t n, int threads) {
  sums s;
  double total = 0.0;
  int64_t b, nb = par_nblocks(n, PAR_BLOCK);
  s.x = x;
  s.partial = malloc(sizeof(double) * (size_t)(nb > 0 ? nb : 1));
  par_run(n, PAR_BLOCK, threads, block_sum, &s);
  for (b = 0; b < nb; b++) total += s.partial[b];
  free(s.partial);
  return total;
}

static void test_reproducible(void) {
  int64_t n = 1000003, i;
  double *x = malloc(sizeof(double) * (size_t)n);
  double one;
  uint64_t state = 88172645463325252ull;
  for (i = 0; i < n; i++) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    x[i] = ldexp((double)(state >> 11), -53) * pow(10.0, (double)(state % 17) - 8.0);
  }
  one = blocked_sum(x, n, 1);
  CHECK_EQ_BITS(blocked_sum(x, n, 2), one);
  CHECK_EQ_BITS(blocked_sum(x, n, 3), one);
  CHECK_EQ_BITS(blocked_sum(x, n, 8), one);
  free(x);
}

static int stop_midway(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  (void)ctx; (void)lo; (void)hi; (void)tid;
  if (block == 10) par_interrupt();
  return 0;
}

static void test_interrupt(void) {
  par_result r = par_run(1 << 20, 64, 2, stop_midway, NULL);
  CHECK(r.status == PAR_INTERRUPTED);
  CHECK(par_interrupted());
  par_clear_interrupt();
  CHECK(!par_interrupted());
}

/* A short kernel without reductions (20 long iterations) spreads over the
** threads: each block is one iteration; reductions keep blocks of 1024. */
typedef struct spread { atomic_int used[2]; } spread;

static int slow_block(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  spread *s = ctx;
  struct timespec ms = {0, 5000000};
  (void)lo; (void)hi; (void)block;
  atomic_store(&s->used[tid & 1], 1);
  nanosleep(&ms, NULL);
  return 0;
}

static void test_kernel_blocks(void) {
  spread s = {{0, 0}};
  CHECK_EQ_I64(par_kernel_block(20, 0), 1);
  CHECK_EQ_I64(par_kernel_block(20, 1), PAR_BLOCK);
  CHECK_EQ_I64(par_kernel_block(1000, 0), 16);
  CHECK_EQ_I64(par_kernel_block(64 * PAR_BLOCK, 0), PAR_BLOCK);
  CHECK(par_run(20, par_kernel_block(20, 0), 2, slow_block, &s).status == PAR_OK);
  CHECK(atomic_load(&s.used[0]) && atomic_load(&s.used[1]));
}

int main(void) {
  int t;
  for (t = 1; t <= 3; t++) {
    test_cover(0, 16, t);
    test_cover(1, 16, t);
    test_cover(1023, 1024, t);
    test_cover(1025, 1024, t);
    test_cover(100000, 37, t);
    test_failure(t);
  }
  test_reproducible();
  test_kernel_blocks();
  test_interrupt();
  CHECK_EQ_I64(par_nblocks(0, 1024), 0);
  CHECK_EQ_I64(par_nblocks(2048, 1024), 2);
  CHECK_EQ_I64(par_nblocks(2049, 1024), 3);
  par_set_threads(3);
  CHECK(par_threads() == 3);
  CHECK(par_threads_for(10) == 1);
  CHECK(par_threads_for(1 << 20) == 3);
  return unit_report("parallel");
}
