/*
** array_format.c: tostring(a), as NumPy's str(a) with its default print
** options (precision 8, floatmode 'maxprec', line width 75, threshold 1000,
** 3 edge items): one format shared by the shown elements, rows wrapped at
** the line width, '...' for the hidden part of long arrays.
**
** Float digits are the shortest that round-trip, as NumPy's Dragon4 gives
** them, found by trying "%.{p}e" for p = 0..16 with strtod; values cut at
** 8 decimals are rounded by printf from the exact binary value (half to
** even on exact ties, as Dragon4). Known difference: where two shortest
** digit strings are equally near (values on a rounding-interval boundary,
** a few powers of two and subnormals), the two methods may choose
** differently. Formatting depends on the C locale's decimal point.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "modules.h"

#define LINEWIDTH  75
#define THRESHOLD  1000
#define EDGE       3
#define PRECISION  8
#define WORDMAX    64       /* longer than any element's text */

/* ======================================================================
** Float digits
** ====================================================================== */

/* Digits d[0..n-1] of a finite value >= 0, d[0] in the place of 10^e10. */
typedef struct digits {
  char d[24];
  int n;
  int e10;
} digits;

/* Parses printf's "D.DDDe+XX" into g, dropping trailing zeros. */
static void parse_e(const char *s, digits *g) {
  g->n = 0;
  for (; *s != 'e'; s++)
    if (*s != '.') g->d[g->n++] = *s;
  g->e10 = atoi(s + 1);
  while (g->n > 1 && g->d[g->n - 1] == '0') g->n--;
}

/* Shortest round-tripping digits of finite x >= 0. */
static void shortest(double x, digits *g) {
  char buf[48];
  int p;
  for (p = 0; p < 17; p++) {
    snprintf(buf, sizeof buf, "%.*e", p, x);
    if (strtod(buf, NULL) == x) break;
  }
  parse_e(buf, g);
}

/* Fixed-point text of finite x >= 0 with at most PRECISION decimals, zeros
** trimmed: integer part into ip, decimals into fp (both WORDMAX long). */
static void positional(double x, char *ip, char *fp) {
  digits g;
  char buf[WORDMAX], *dot;
  int k;
  shortest(x, &g);
  k = g.n - 1 - g.e10;
  k = k < 0 ? 0 : k > PRECISION ? PRECISION : k;
  snprintf(buf, sizeof buf, "%.*f", k, x);   /* x < 1e8 here */
  dot = strchr(buf, '.');
  fp[0] = '\0';
  if (dot != NULL) {
    *dot = '\0';
    strcpy(fp, dot + 1);
  }
  strcpy(ip, buf);
  for (k = (int)strlen(fp); k > 0 && fp[k - 1] == '0'; k--) fp[k - 1] = '\0';
}

/* Scientific digits of finite x >= 0, at most PRECISION mantissa decimals. */
static void scientific(double x, digits *g) {
  shortest(x, g);
  if (g->n > PRECISION + 1) {
    char buf[48];
    snprintf(buf, sizeof buf, "%.*e", PRECISION, x);
    parse_e(buf, g);
  }
}

static int expdigits(int e10) {
  int n = 2;
  for (e10 = abs(e10); e10 >= 100; e10 /= 10) n++;
  return n;
}

/* ======================================================================
** The common format (NumPy's FloatingFormat, IntegerFormat, BoolFormat)
** ====================================================================== */

typedef struct fmt {
  const par_array *a;
  int summary;              /* more than THRESHOLD elements */
  int64_t shown[THRESHOLD]; /* flat positions of the shown elements */
  int nshown;
  int expfmt;               /* floats in scientific notation */
  int padleft, padright;    /* floats: widths left and right of the point */
  int precision, expsize;   /* scientific: mantissa decimals, exponent digits */
  int width;                /* int64: field width */
} fmt;

/* Next shown index after k along an axis of length n. */
static int64_t nextshown(const fmt *F, int64_t k, int64_t n) {
  k++;
  if (F->summary && n > 2 * EDGE && k == EDGE) k = n - EDGE;
  return k;
}

static void listshown(fmt *F) {
  const par_array *a = F->a;
  int64_t i, j, m = a->ndim == 1 ? 1 : a->dim[1];
  F->nshown = 0;
  for (i = 0; i < a->dim[0]; i = nextshown(F, i, a->dim[0]))
    for (j = 0; j < m; j = nextshown(F, j, m))
      F->shown[F->nshown++] = i * m + j;
}

/* Float layout: scientific when the largest magnitude is >= 1e8, or the
** smallest < 1e-4, or their ratio > 1000 (nonzero finite values only). */
static void floatformat(fmt *F) {
  const double *x = PAR_F64P(F->a);
  double lo = HUGE_VAL, hi = 0;
  int k, nfinite = 0, neginf = 0;
  char ip[WORDMAX], fp[WORDMAX];
  for (k = 0; k < F->nshown; k++) {
    double v = x[F->shown[k]];
    if (isfinite(v)) {
      nfinite++;
      if (v != 0 && fabs(v) < lo) lo = fabs(v);
      if (v != 0 && fabs(v) > hi) hi = fabs(v);
    }
    else if (v < 0) neginf = 1;
  }
  F->expfmt = hi != 0 && (hi >= 1e8 || lo < 1e-4 || hi / lo > 1000);
  F->padleft = F->padright = F->precision = 0;
  F->expsize = 2;
  for (k = 0; k < F->nshown; k++) {
    double v = x[F->shown[k]];
    int left = signbit(v) ? 2 : 1;
    if (!isfinite(v)) continue;
    if (F->expfmt) {
      digits g;
      scientific(fabs(v), &g);
      if (g.n - 1 > F->precision) F->precision = g.n - 1;
      if (expdigits(g.e10) > F->expsize) F->expsize = expdigits(g.e10);
    }
    else {
      positional(fabs(v), ip, fp);
      left = (int)strlen(ip) + (signbit(v) ? 1 : 0);
      if ((int)strlen(fp) > F->padright) F->padright = (int)strlen(fp);
    }
    if (left > F->padleft) F->padleft = left;
  }
  if (F->expfmt) F->padright = F->expsize + 2 + F->precision;
  if (nfinite < F->nshown) {        /* room for nan, inf, -inf */
    int need = 3 + neginf - (F->padright + 1);
    if (need > F->padleft) F->padleft = need;
  }
}

static void intformat(fmt *F) {
  int k;
  char buf[32];
  F->width = 0;
  for (k = 0; k < F->nshown; k++) {
    int w = snprintf(buf, sizeof buf, "%lld", (long long)PAR_I64P(F->a)[F->shown[k]]);
    if (w > F->width) F->width = w;
  }
}

/* Writes element k (flat position) into w; returns its length. */
static int word(const fmt *F, int64_t k, char *w) {
  switch (F->a->dtype) {
    case PAR_BOOL:
      return snprintf(w, WORDMAX, "%s", PAR_BOOLP(F->a)[k] ? " True" : "False");
    case PAR_I64:
      return snprintf(w, WORDMAX, "%*lld", F->width, (long long)PAR_I64P(F->a)[k]);
    default: {
      double v = PAR_F64P(F->a)[k];
      const char *sign = signbit(v) ? "-" : "";
      int width = F->padleft + F->padright + 1;
      if (isnan(v)) return snprintf(w, WORDMAX, "%*s", width, "nan");
      if (isinf(v)) return snprintf(w, WORDMAX, "%*s", width, v < 0 ? "-inf" : "inf");
      if (F->expfmt) {
        digits g;
        char mant[32];
        scientific(fabs(v), &g);
        snprintf(mant, sizeof mant, "%s%c", sign, g.d[0]);
        memset(g.d + g.n, '0', (size_t)(F->precision + 1 - g.n));
        return snprintf(w, WORDMAX, "%*s.%.*se%c%0*d", F->padleft, mant,
                        F->precision, g.d + 1, g.e10 < 0 ? '-' : '+',
                        F->expsize, abs(g.e10));
      }
      else {
        char ip[WORDMAX], fp[WORDMAX], sip[WORDMAX + 1];
        positional(fabs(v), ip, fp);
        snprintf(sip, sizeof sip, "%s%s", sign, ip);
        return snprintf(w, WORDMAX, "%*s.%-*s", F->padleft, sip, F->padright, fp);
      }
    }
  }
}

/* ======================================================================
** Layout (NumPy's _formatArray with separator ' ')
** ====================================================================== */

/* A line being built, then flushed into the output buffer. */
typedef struct line {
  char s[LINEWIDTH + 2 * WORDMAX];
  int len;
  int first;             /* the first line of this row: its indent is '[' */
} line;

/* Appends the line (without trailing blanks) and a newline. */
static void flush(luaL_Buffer *B, line *ln, int indent) {
  int n = ln->len;
  while (n > 0 && ln->s[n - 1] == ' ') n--;
  if (ln->first) {
    luaL_addchar(B, '[');
    luaL_addlstring(B, ln->s + indent, (size_t)(n - indent));
  }
  else luaL_addlstring(B, ln->s, (size_t)n);
  luaL_addchar(B, '\n');
  ln->first = 0;
}

/* Adds a word, first moving to a new line when it would pass 'width' (and
** the line holds more than its indent). */
static void extend(luaL_Buffer *B, line *ln, const char *w, int wlen,
                   int width, int indent) {
  if (ln->len + wlen > width && ln->len > indent) {
    flush(B, ln, indent);
    memset(ln->s, ' ', (size_t)indent);
    ln->len = indent;
  }
  memcpy(ln->s + ln->len, w, (size_t)wlen);
  ln->len += wlen;
}

/* Adds the row of m elements starting at flat position 'at', bracketed,
** its continuation lines indented by 'indent' blanks. */
static void addrow(luaL_Buffer *B, const fmt *F, int64_t at, int64_t m,
                   int indent, int width) {
  line ln;
  int64_t j;
  char w[WORDMAX];
  ln.first = 1;
  memset(ln.s, ' ', (size_t)indent);
  ln.len = indent;
  for (j = 0; j < m; j = nextshown(F, j, m)) {
    if (j > 0 && j == m - EDGE && F->summary && m > 2 * EDGE) {
      extend(B, &ln, "...", 3, width - 1, indent);
      ln.s[ln.len++] = ' ';
    }
    extend(B, &ln, w, word(F, at + j, w), width - 1, indent);
    if (j < m - 1) ln.s[ln.len++] = ' ';
  }
  if (ln.first) {
    luaL_addchar(B, '[');
    luaL_addlstring(B, ln.s + indent, (size_t)(ln.len - indent));
  }
  else luaL_addlstring(B, ln.s, (size_t)ln.len);
  luaL_addchar(B, ']');
}

/* Pushes the text of a (non-empty). */
static void pushtext(lua_State *L, fmt *F) {
  const par_array *a = F->a;
  luaL_Buffer B;
  int64_t i, n = a->dim[0];
  luaL_buffinit(L, &B);
  if (a->ndim == 1) addrow(&B, F, 0, n, 1, LINEWIDTH);
  else {
    luaL_addchar(&B, '[');
    for (i = 0; i < n; i = nextshown(F, i, n)) {
      if (i > 0 && i == n - EDGE && F->summary && n > 2 * EDGE)
        luaL_addstring(&B, " ...\n");
      if (i > 0) luaL_addchar(&B, ' ');
      addrow(&B, F, i * a->dim[1], a->dim[1], 2, LINEWIDTH - 1);
      if (i < n - 1) luaL_addchar(&B, '\n');
    }
    luaL_addchar(&B, ']');
  }
  luaL_pushresult(&B);
}

static int a_tostring(lua_State *L) {
  par_array *a = luaL_checkudata(L, 1, PAR_ARRAY_MT);
  fmt *F;
  if (a->buf == NULL) {
    lua_pushliteral(L, "closed array");
    return 1;
  }
  if (a->size == 0) {
    lua_pushliteral(L, "[]");
    return 1;
  }
  F = (fmt *)lua_newuserdatauv(L, sizeof(fmt), 0);   /* about 8 KB */
  F->a = a;
  F->summary = a->size > THRESHOLD;
  listshown(F);
  if (a->dtype == PAR_F64) floatformat(F);
  else if (a->dtype == PAR_I64) intformat(F);
  pushtext(L, F);
  return 1;
}

static const luaL_Reg meta[] = {
  {"__tostring", a_tostring},
  {NULL, NULL}
};

void par_open_array_format(lua_State *L) {
  par_array_addmeta(L, meta);
}
