/*
** test_progress.c: the progress bar's formatting (numbers with suffixes,
** times, the line fitted to the terminal width) and its counter: par_run
** counts finished iterations of the runs its owner makes, never nested
** runs, runs of other threads, or begins made inside a kernel.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "parallel.h"
#include "progress.h"
#include "unit.h"

static int streq(const char *a, const char *b) {
  if (strcmp(a, b) == 0) return 1;
  printf("  got \"%s\", expected \"%s\"\n", a, b);
  return 0;
}

static void test_fmtnum(void) {
  char b[16];
  static const struct { double x; int integral; const char *s; } cases[] = {
    {0, 1, "0"}, {7, 1, "7"}, {999, 1, "999"}, {1000, 1, "1.00k"}, {1234, 1, "1.23k"},
    {12345, 1, "12.3k"}, {123456, 1, "123k"}, {999499, 1, "999k"}, {999500, 1, "1.00M"},
    {1.5e9, 1, "1.50G"}, {2.5e12, 1, "2.50T"}, {4.2e15, 1, "4.20P"}, {4.2e18, 1, "4200P"},
    {0, 0, "0.00"}, {0.5, 0, "0.50"}, {9.994, 0, "9.99"}, {9.996, 0, "10.0"},
    {12.345, 0, "12.3"}, {123.4, 0, "123"}, {999.6, 0, "1.00k"}, {1.23e6, 0, "1.23M"},
    {-3, 0, "0.00"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    par_progress_fmtnum(b, sizeof b, cases[i].x, cases[i].integral);
    CHECK(streq(b, cases[i].s));
  }
}

static void test_fmttime(void) {
  char b[16];
  static const struct { double s; const char *t; } cases[] = {
    {0, "00:00"}, {0.99, "00:00"}, {59.9, "00:59"}, {61, "01:01"}, {3599.9, "59:59"},
    {3600, "1:00:00"}, {36061, "10:01:01"}, {359999, "99:59:59"}, {360000, "--:--"},
    {-1, "--:--"}, {1.0 / 0.0, "--:--"}, {0.0 / 0.0, "--:--"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    par_progress_fmttime(b, sizeof b, cases[i].s);
    CHECK(streq(b, cases[i].t));
  }
}

/* Cells of the bar in a line: '#' and '-' between '[' and ']'. */
static int barcells(const char *line, int *filled) {
  const char *l = strchr(line, '['), *r = strchr(line, ']');
  int k, n = 0;
  *filled = 0;
  if (l == NULL || r == NULL) return 0;
  for (k = 1; l + k < r; k++, n++) {
    if (l[k] == '#') (*filled)++;
    else if (l[k] != '-') return -1;
  }
  return n;
}

static void test_line(void) {
  char b[PAR_PROGRESS_MAXCOLS + 1];
  int cols, cells, filled, prev = 0;
  size_t n = par_progress_line(b, "prange", 420, 1000, 2.0, 80);
  CHECK_EQ_I64((int64_t)n, 79);    /* the bar takes the room left */
  CHECK(strncmp(b, "prange [", 8) == 0);
  CHECK(strstr(b, "]  42% 420/1.00k 210 it/s 00:02 eta 00:02") != NULL);
  cells = barcells(b, &filled);
  CHECK_EQ_I64(cells * 42 / 100, filled);
  n = par_progress_line(b, "map", 10000000, 10000000, 8.0, 100);
  CHECK(strstr(b, "] 100% 10.0M/10.0M 1.25M it/s 00:08 eta 00:00") != NULL);
  cells = barcells(b, &filled);
  CHECK(cells == filled && filled > 0);
  par_progress_line(b, "prange", 0, 500, 0.0, 80);        /* no rate yet */
  CHECK(strstr(b, "   0% 0/500 0.00 it/s 00:00 eta --:--") != NULL);
  par_progress_line(b, "preduce", 9999, 10000, 1.0, 80);  /* never 100% too soon */
  CHECK(strstr(b, " 99% ") != NULL);
  par_progress_line(b, "map", 700, 500, 1.0, 80);         /* counts beyond total */
  CHECK(strstr(b, " 100% 500/500 ") != NULL);
  par_progress_line(b, "jit", 4200000, 0, 2.0, 80);       /* unknown total */
  CHECK(streq(b, "jit 4.20M it 2.10M it/s 00:02"));
  /* every width: never the last column; the bar grows with the width */
  for (cols = 1; cols <= PAR_PROGRESS_MAXCOLS + 20; cols++) {
    n = par_progress_line(b, "prange", 123456, 1000000, 3.0, cols);
    cells = barcells(b, &filled);
    CHECK(n == strlen(b));
    CHECK((int)n <= (cols < PAR_PROGRESS_MAXCOLS ? cols : PAR_PROGRESS_MAXCOLS) - 1);
    CHECK(cells == 0 || (cells >= 10 && cells >= prev && filled == cells * 123456 / 1000000));
    if (cells > 0) prev = cells;
  }
  CHECK(prev > 100);
  n = par_progress_line(b, "prange", 123456, 1000000, 3.0, 0);   /* unknown: 80 */
  CHECK_EQ_I64((int64_t)n, 79);
  n = par_progress_line(b, "prange", 1, 2, 1.0, 50);   /* no room for a bar */
  CHECK(streq(b, "prange  50% 1/2 1.00 it/s 00:01 eta 00:01"));
  n = par_progress_line(b, "prange", 1, 2, 1.0, 30);   /* nor for the label */
  CHECK(streq(b, "50% 1/2 1.00 it/s 00:01 eta 0"));
  n = par_progress_line(b, "a very long label that goes on and on", 1, 2, 1.0, 120);
  CHECK(strncmp(b, "a very long label that g [", 26) == 0);
}

/* ---- the counter ---- */

typedef struct nest { int inner; int64_t inner_n; atomic_int begun; } nest;

static int nop(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  (void)ctx; (void)lo; (void)hi; (void)block; (void)tid;
  return 0;
}

/* A block that runs a nested par_run and tries to begin a progress. */
static int nested(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  nest *c = ctx;
  (void)lo; (void)hi; (void)block; (void)tid;
  if (c->inner) par_run(c->inner_n, 100, 2, nop, NULL);
  if (par_progress_begin("inner", 10) != 0) atomic_fetch_add(&c->begun, 1);
  return 0;
}

/* Another thread trying to begin a progress. */
static void *otherbegin(void *arg) {
  *(int *)arg = par_progress_begin("other", 10);
  return NULL;
}

static int begin_elsewhere(void) {
  pthread_t t;
  int id = -1;
  pthread_create(&t, NULL, otherbegin, &id);
  pthread_join(t, NULL);
  return id;
}

/* Blocks from 'from' on fail. */
static int failing(void *ctx, int64_t lo, int64_t hi, int64_t block, int tid) {
  (void)lo; (void)hi; (void)tid;
  return block >= *(int64_t *)ctx;
}

static void test_counter(int threads) {
  nest c = {1, 5000, 0};
  int64_t from = 3;
  int id, id2;
  CHECK_EQ_I64(par_progress_done(), 0);
  par_run(5000, 100, threads, nop, NULL);      /* no progress: nothing counted */
  CHECK_EQ_I64(par_progress_done(), 0);
  id = par_progress_begin("test", 20000);
  CHECK(id > 0);
  CHECK(begin_elsewhere() == 0);                /* one at a time */
  par_run(10000, 1024, threads, nested, &c);    /* inner runs are not counted */
  CHECK_EQ_I64(par_progress_done(), 10000);
  CHECK_EQ_I64(atomic_load(&c.begun), 0);       /* no begin inside a kernel */
  par_run(10000, 1000, threads, failing, &from);   /* only finished blocks */
  CHECK_EQ_I64(par_progress_done(), 13000);
  par_progress_end(id);
  CHECK_EQ_I64(par_progress_done(), 0);
  par_progress_end(id);                         /* ended once only */
  /* a progress its caller forgot to end gives way to the next one */
  id = par_progress_begin("forgotten", 10);
  par_run(10, 3, threads, nop, NULL);
  id2 = par_progress_begin("next", 10);
  CHECK(id2 > 0 && id2 != id);
  par_progress_end(id);                         /* stale id: no effect */
  par_run(7, 3, threads, nop, NULL);
  CHECK_EQ_I64(par_progress_done(), 7);
  par_progress_end(id2);
  par_progress_end(0);
}

int main(void) {
  test_fmtnum();
  test_fmttime();
  test_line();
  test_counter(1);
  test_counter(2);
  return unit_report("progress");
}
