/*
** unit.h: a tiny assertion layer for parlua's C unit tests. Each failed
** check prints file:line and the values; main() returns the failure count.
*/
#ifndef PARLUA_UNIT_H
#define PARLUA_UNIT_H

#include <stdint.h>
#include <stdio.h>

extern int unit_failures;
extern int unit_checks;

#define CHECK(cond) unit_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_U64(a, b) unit_check_u64((a), (b), #a, __FILE__, __LINE__)
#define CHECK_EQ_I64(a, b) unit_check_i64((a), (b), #a, __FILE__, __LINE__)
/* Bitwise equality of doubles (NaN equal to itself). */
#define CHECK_EQ_BITS(a, b) unit_check_bits((a), (b), #a, __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol) unit_check_near((a), (b), (tol), #a, __FILE__, __LINE__)

void unit_check(int ok, const char *what, const char *file, int line);
void unit_check_u64(uint64_t a, uint64_t b, const char *what, const char *file, int line);
void unit_check_i64(int64_t a, int64_t b, const char *what, const char *file, int line);
void unit_check_bits(double a, double b, const char *what, const char *file, int line);
void unit_check_near(double a, double b, double tol, const char *what, const char *file, int line);
/* Prints "N passed, M failed" and returns the exit status. */
int unit_report(const char *name);

#endif
