/* unit.c: the checks of unit.h. */
#include <math.h>
#include <string.h>

#include "unit.h"

int unit_failures;
int unit_checks;

void unit_check(int ok, const char *what, const char *file, int line) {
  unit_checks++;
  if (!ok) {
    unit_failures++;
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  }
}

void unit_check_u64(uint64_t a, uint64_t b, const char *what, const char *file, int line) {
  unit_checks++;
  if (a != b) {
    unit_failures++;
    fprintf(stderr, "%s:%d: %s: got 0x%016llx, want 0x%016llx\n", file, line, what,
            (unsigned long long)a, (unsigned long long)b);
  }
}

void unit_check_i64(int64_t a, int64_t b, const char *what, const char *file, int line) {
  unit_checks++;
  if (a != b) {
    unit_failures++;
    fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", file, line, what,
            (long long)a, (long long)b);
  }
}

void unit_check_bits(double a, double b, const char *what, const char *file, int line) {
  uint64_t x, y;
  memcpy(&x, &a, 8);
  memcpy(&y, &b, 8);
  unit_checks++;
  if (x != y && !(isnan(a) && isnan(b))) {
    unit_failures++;
    fprintf(stderr, "%s:%d: %s: got %.17g, want %.17g\n", file, line, what, a, b);
  }
}

void unit_check_near(double a, double b, double tol, const char *what, const char *file, int line) {
  unit_checks++;
  if (!(fabs(a - b) <= tol)) {
    unit_failures++;
    fprintf(stderr, "%s:%d: %s: got %.17g, want %.17g (tol %g)\n", file, line, what, a, b, tol);
  }
}

int unit_report(const char *name) {
  printf("%s: %d passed, %d failed\n", name, unit_checks - unit_failures, unit_failures);
  return unit_failures == 0 ? 0 : 1;
}
