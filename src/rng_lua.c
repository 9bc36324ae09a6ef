/*
** rng_lua.c: random numbers in Lua. Generator objects (par.rng, par.stream,
** g:normal(...)), the default generator (par.seed, par.random, ...) and
** NumPy's argument conventions. The numbers come from rng.c.
**
** Every distribution is written once as a function of (generator, index of
** its first argument): a method calls it with its own generator and 2, the
** par.* function with the default generator (or, inside a kernel, the
** iteration's stream) and 1. So argument errors name the same position in
** both forms.
**
** NumPy-exact (numpy.random.Generator(PCG64(seed)), bit for bit, checked by
** tests/lua/rng.lua): random, uniform, standard_normal, normal, lognormal,
** exponential, integers (including the 32-bit buffer shared across calls),
** gamma, poisson, binomial, shuffle, permutation, choice (with and without
** replacement and p), spawn, advance. Lua conventions on top: integers
** from permutation(n) and choice(n) are 1..n (NumPy's value plus 1); par.rng()
** without a seed takes one from the default generator, so par.seed() replays
** it; a bad PARLUA_SEED is an error at the default generator's first use.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "array.h"
#include "lauxlib.h"
#include "modules.h"
#include "parallel.h"
#include "rng.h"

#define GEN_MT "par.rng"

enum { GEN_SEQ, GEN_STREAM, GEN_FRESH };

/*
** A generator object. GEN_SEQ: numpy's PCG64(SeedSequence(seed, spawn_key));
** the spawn key is the user value, a string of packed uint64_t ("" when
** empty). GEN_STREAM: par_stream_init(seed, index). GEN_FRESH: the default
** generator before its first use.
*/
typedef struct Gen {
  pcg64 g;
  uint64_t seed;
  uint64_t count;    /* GEN_SEQ: children spawned; GEN_STREAM: the index */
  int kind;
} Gen;

static char defkey;  /* registry key of the default generator */

/* {{{ generator objects */

static Gen *newgen(lua_State *L, int kind, uint64_t seed, uint64_t count) {
  Gen *d = lua_newuserdatauv(L, sizeof(Gen), 1);
  memset(d, 0, sizeof *d);
  d->kind = kind;
  d->seed = seed;
  d->count = count;
  luaL_setmetatable(L, GEN_MT);
  lua_pushliteral(L, "");
  lua_setiuservalue(L, -2, 1);
  return d;
}

/* Pushes a copy of the spawn key of the generator at 'idx' (scratch
** memory) and returns it; *n gets its length. */
static uint64_t *pushkey(lua_State *L, int idx, size_t *n) {
  size_t len;
  const char *s;
  uint64_t *key;
  lua_getiuservalue(L, idx, 1);
  s = lua_tolstring(L, -1, &len);
  key = lua_newuserdatauv(L, len + 1, 0);
  memcpy(key, s, len);
  lua_remove(L, -2);
  *n = len / sizeof *key;
  return key;
}

/* Seeds a GEN_SEQ generator (at 'idx') from its seed and spawn key. */
static void seedgen(lua_State *L, int idx, Gen *d) {
  size_t n;
  uint64_t *key = pushkey(L, idx, &n);
  pcg64_seed(&d->g, d->seed, key, n);
  lua_pop(L, 1);
}

static Gen *checkgen(lua_State *L) {
  Gen *d = luaL_checkudata(L, 1, GEN_MT);
  if (par_rng_current() != NULL)
    luaL_error(L, "generator objects cannot be used inside a parallel kernel");
  return d;
}

/* Lua integers show seeds of 2^63 and above as negative numbers: print
** those in hex, as they would be written. */
static const char *seedstr(uint64_t s, char *buf, size_t size) {
  snprintf(buf, size, s > INT64_MAX ? "0x%016llx" : "%llu", (unsigned long long)s);
  return buf;
}

static int g_tostring(lua_State *L) {
  Gen *d = luaL_checkudata(L, 1, GEN_MT);
  char s[48];
  luaL_Buffer b;
  size_t i, n;
  uint64_t *key = pushkey(L, 1, &n);
  seedstr(d->seed, s, sizeof s);
  if (d->kind == GEN_STREAM) {
    lua_pushfstring(L, "par.stream(%s, %I)", s, (lua_Integer)d->count);
    return 1;
  }
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "par.rng(");
  luaL_addstring(&b, s);
  for (i = 0; i < n; i++) {
    snprintf(s, sizeof s, "%s%llu", i == 0 ? ", spawn_key={" : ", ",
             (unsigned long long)key[i]);
    luaL_addstring(&b, s);
  }
  luaL_addstring(&b, n > 0 ? "})" : ")");
  luaL_pushresult(&b);
  return 1;
}

/* }}} */

/* {{{ arguments: seeds and sizes */

/* A number as a seed: an integer's 64 bits, or a float with an integer
** value in [-2^63, 2^64). Returns NULL or what is wrong. */
static const char *numseed(lua_State *L, int idx, uint64_t *seed) {
  lua_Number f;
  if (lua_isinteger(L, idx)) {
    *seed = (uint64_t)lua_tointeger(L, idx);
    return NULL;
  }
  f = lua_tonumber(L, idx);
  if (f != floor(f)) return "seed must be an integer";
  if (f >= -0x1p63 && f < 0x1p63) *seed = (uint64_t)(int64_t)f;
  else if (f >= 0 && f < 0x1p64) *seed = (uint64_t)f;
  else return "seed out of range";
  return NULL;
}

static uint64_t checkseed(lua_State *L, int arg) {
  uint64_t seed = 0;
  const char *bad;
  if (lua_type(L, arg) != LUA_TNUMBER) luaL_typeerror(L, arg, "integer seed");
  bad = numseed(L, arg, &seed);
  if (bad != NULL) luaL_argerror(L, arg, bad);
  return seed;
}

typedef struct Size {
  int ndim;          /* 0: no size, one value */
  int64_t n, m;
} Size;

static int64_t checkcount(lua_State *L, int arg, lua_Integer n) {
  if (n < 0) luaL_argerror(L, arg, "negative size");
  return n;
}

/* The optional size argument: a count or a table {n} or {n, m}. */
static Size checksize(lua_State *L, int arg) {
  Size s = {0, 1, 1};
  lua_Integer len, i, v[2] = {0, 0};
  if (lua_isnoneornil(L, arg)) return s;
  if (!lua_istable(L, arg)) {
    s.ndim = 1;
    s.n = checkcount(L, arg, luaL_checkinteger(L, arg));
    return s;
  }
  len = luaL_len(L, arg);
  luaL_argcheck(L, len == 1 || len == 2, arg, "size must be a count or {n, m}");
  for (i = 0; i < len; i++) {
    int isint;
    lua_geti(L, arg, i + 1);
    v[i] = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    luaL_argcheck(L, isint, arg, "size must be a count or {n, m}");
    checkcount(L, arg, v[i]);
  }
  s.ndim = (int)len;
  s.n = v[0];
  s.m = len == 2 ? v[1] : 1;
  luaL_argcheck(L, s.m == 0 || s.n <= INT64_MAX / 8 / s.m, arg, "size too big");
  return s;
}

static par_array *newresult(lua_State *L, par_dtype dt, Size s) {
  return par_newarray(L, dt, s.ndim, s.n, s.m);
}

/* NumPy's non-negative parameters: an error when the sign bit is set
** (so -0.0 too), NaN allowed. */
static void checknonneg(lua_State *L, int arg, double v, const char *name) {
  if (!isnan(v) && signbit(v))
    luaL_argerror(L, arg, lua_pushfstring(L, "%s < 0", name));
}

/* }}} */

/* {{{ drawing one value or an array */

typedef double (*contfn)(pcg64 *g, const double *p);
typedef int64_t (*discfn)(pcg64 *g, const void *p);

/* Pushes f's draw, or an array of them when a size is given. */
static int pushcont(lua_State *L, pcg64 *g, Size s, contfn f, const double *p) {
  if (s.ndim == 0)
    lua_pushnumber(L, f(g, p));
  else {
    par_array *a = newresult(L, PAR_F64, s);
    double *out = PAR_F64P(a);
    int64_t i;
    for (i = 0; i < a->size; i++) out[i] = f(g, p);
  }
  return 1;
}

static int pushdisc(lua_State *L, pcg64 *g, Size s, discfn f, const void *p) {
  if (s.ndim == 0)
    lua_pushinteger(L, f(g, p));
  else {
    par_array *a = newresult(L, PAR_I64, s);
    int64_t *out = PAR_I64P(a), i;
    for (i = 0; i < a->size; i++) out[i] = f(g, p);
  }
  return 1;
}

static double c_random(pcg64 *g, const double *p) {
  (void)p;
  return pcg64_next_double(g);
}

static double c_uniform(pcg64 *g, const double *p) {
  return p[0] + p[1] * pcg64_next_double(g);
}

static double c_stdnormal(pcg64 *g, const double *p) {
  (void)p;
  return par_rng_standard_normal(g);
}

static double c_normal(pcg64 *g, const double *p) {
  return p[0] + p[1] * par_rng_standard_normal(g);
}

static double c_lognormal(pcg64 *g, const double *p) {
  return exp(p[0] + p[1] * par_rng_standard_normal(g));
}

static double c_exponential(pcg64 *g, const double *p) {
  return p[0] * par_rng_standard_exponential(g);
}

static double c_gamma(pcg64 *g, const double *p) {
  return p[1] * par_rng_standard_gamma(g, p[0]);
}

static int64_t d_integers(pcg64 *g, const void *p) {
  const uint64_t *b = p;   /* offset, closed range */
  return (int64_t)(b[0] + par_rng_bounded(g, b[1]));
}

static int64_t d_poisson(pcg64 *g, const void *p) {
  return par_rng_poisson(g, *(const double *)p);
}

static int64_t d_binomial(pcg64 *g, const void *p) {
  return par_rng_binomial(g, p);
}

/* }}} */

/* {{{ distributions: f(L, generator, index of the first argument) */

static int random_(lua_State *L, pcg64 *g, int a) {
  return pushcont(L, g, checksize(L, a), c_random, NULL);
}

static int uniform(lua_State *L, pcg64 *g, int a) {
  double p[2], lo = luaL_optnumber(L, a, 0.0), hi = luaL_optnumber(L, a + 1, 1.0);
  Size s = checksize(L, a + 2);
  p[0] = lo;
  p[1] = hi - lo;
  luaL_argcheck(L, isfinite(p[1]), a + 1, "high - low range exceeds valid bounds");
  checknonneg(L, a + 1, p[1], "high - low");
  return pushcont(L, g, s, c_uniform, p);
}

static int standard_normal(lua_State *L, pcg64 *g, int a) {
  return pushcont(L, g, checksize(L, a), c_stdnormal, NULL);
}

static int normal(lua_State *L, pcg64 *g, int a) {
  double p[2];
  Size s;
  p[0] = luaL_optnumber(L, a, 0.0);
  p[1] = luaL_optnumber(L, a + 1, 1.0);
  s = checksize(L, a + 2);
  checknonneg(L, a + 1, p[1], "scale");
  return pushcont(L, g, s, c_normal, p);
}

static int lognormal(lua_State *L, pcg64 *g, int a) {
  double p[2];
  Size s;
  p[0] = luaL_optnumber(L, a, 0.0);
  p[1] = luaL_optnumber(L, a + 1, 1.0);
  s = checksize(L, a + 2);
  checknonneg(L, a + 1, p[1], "sigma");
  return pushcont(L, g, s, c_lognormal, p);
}

static int exponential(lua_State *L, pcg64 *g, int a) {
  double scale = luaL_optnumber(L, a, 1.0);
  Size s = checksize(L, a + 1);
  checknonneg(L, a, scale, "scale");
  return pushcont(L, g, s, c_exponential, &scale);
}

static int gamma_(lua_State *L, pcg64 *g, int a) {
  double p[2];
  Size s;
  p[0] = luaL_checknumber(L, a);
  p[1] = luaL_optnumber(L, a + 1, 1.0);
  s = checksize(L, a + 2);
  checknonneg(L, a, p[0], "shape");
  checknonneg(L, a + 1, p[1], "scale");
  return pushcont(L, g, s, c_gamma, p);
}

static int poisson(lua_State *L, pcg64 *g, int a) {
  /* NumPy's bound: beyond it the PTRS integers overflow int64 */
  const double lam_max = (double)INT64_MAX - sqrt((double)INT64_MAX) * 10;
  double lam = luaL_optnumber(L, a, 1.0);
  Size s = checksize(L, a + 1);
  luaL_argcheck(L, lam >= 0, a, "lam < 0 or lam is NaN");
  luaL_argcheck(L, lam <= lam_max, a, "lam value too large");
  return pushdisc(L, g, s, d_poisson, &lam);
}

static int binomial(lua_State *L, pcg64 *g, int a) {
  lua_Integer n = luaL_checkinteger(L, a);
  double p = luaL_checknumber(L, a + 1);
  Size s = checksize(L, a + 2);
  par_binomial b;
  luaL_argcheck(L, n >= 0, a, "n < 0");
  luaL_argcheck(L, p >= 0 && p <= 1, a + 1, "p < 0, p > 1 or p is NaN");
  par_rng_binomial_prepare(&b, n, p);
  return pushdisc(L, g, s, d_binomial, &b);
}

/* high - 1 for integers(): high may also be 2^63 as a float (the top of
** the int64 range); no low is below a high of minint. */
static int64_t closedhigh(lua_State *L, int arg) {
  lua_Integer h;
  if (lua_type(L, arg) == LUA_TNUMBER && !lua_isinteger(L, arg) &&
      lua_tonumber(L, arg) == 0x1p63)
    return INT64_MAX;
  h = luaL_checkinteger(L, arg);
  luaL_argcheck(L, h != LUA_MININTEGER, arg, "low >= high");
  return h - 1;
}

/* integers(low, high [, size]) or integers(high [, nil, size]): [low, high)
** by NumPy's bounded draws. */
static int integers(lua_State *L, pcg64 *g, int a) {
  int one = lua_isnoneornil(L, a + 1);
  int64_t lo = one ? 0 : luaL_checkinteger(L, a);
  int64_t hc = closedhigh(L, one ? a : a + 1);
  Size s = checksize(L, a + 2);
  uint64_t b[2];
  luaL_argcheck(L, lo <= hc, one ? a : a + 1, "low >= high");
  b[0] = (uint64_t)lo;
  b[1] = (uint64_t)hc - (uint64_t)lo;
  return pushdisc(L, g, s, d_integers, b);
}

/* }}} */

/* {{{ shuffle, permutation, choice */

/* Scratch memory owned by Lua (freed by the collector, safe on errors). */
static void *scratch(lua_State *L, size_t bytes) {
  return lua_newuserdatauv(L, bytes > 0 ? bytes : 1, 0);
}

/* Rows of a 2-D array, elements of a 1-D one. */
static void shufflearray(pcg64 *g, par_array *a) {
  par_rng_shuffle(g, a->data, a->dim[0], (size_t)a->dim[1] * par_dtype_size(a->dtype));
}

static void shuffletable(lua_State *L, pcg64 *g, int t) {
  lua_Integer i;
  for (i = luaL_len(L, t) - 1; i >= 1; i--) {
    lua_Integer j = (lua_Integer)par_rng_interval(g, (uint64_t)i);
    if (j == i) continue;
    lua_geti(L, t, i + 1);
    lua_geti(L, t, j + 1);
    lua_seti(L, t, i + 1);
    lua_seti(L, t, j + 1);
  }
}

/* shuffle(x): an array (elements, or rows of a 2-D array) or a sequence,
** in place. */
static int g_shuffle(lua_State *L) {
  Gen *d = checkgen(L);
  if (lua_istable(L, 2))
    shuffletable(L, &d->g, 2);
  else if (par_toarray(L, 2) != NULL)
    shufflearray(&d->g, par_checkarray(L, 2));
  else
    luaL_typeerror(L, 2, "array or table");
  return 0;
}

/* Copy of the sequence at t. */
static void copytable(lua_State *L, int t) {
  lua_Integer i, n = luaL_len(L, t);
  lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_geti(L, t, i);
    lua_seti(L, -2, i);
  }
}

/* permutation(n): 1..n in random order (NumPy's permutation of 0..n-1,
** plus 1). permutation(x): a shuffled copy of an array or sequence. */
static int g_permutation(lua_State *L) {
  Gen *d = checkgen(L);
  par_array *a;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    int64_t i, n = checkcount(L, 2, luaL_checkinteger(L, 2));
    int64_t *v = PAR_I64P(a = par_newarray(L, PAR_I64, 1, n, 1));
    for (i = 0; i < n; i++) v[i] = i + 1;
  }
  else if (lua_istable(L, 2)) {
    copytable(L, 2);
    shuffletable(L, &d->g, lua_gettop(L));
    return 1;
  }
  else {
    par_array *x = par_checkarray(L, 2);
    a = par_newarray_like(L, x, x->dtype);
    memcpy(a->data, x->data, (size_t)x->size * par_dtype_size(x->dtype));
  }
  shufflearray(&d->g, a);
  return 1;
}

/* The population of choice(): an integer n (1..n), an array (its elements,
** or rows of a 2-D array) or a sequence. */
typedef struct Pop {
  lua_Integer n;
  par_array *a;      /* or NULL */
  int table;         /* a sequence? */
} Pop;

static Pop checkpop(lua_State *L, int arg) {
  Pop pop = {0, NULL, 0};
  if (lua_type(L, arg) == LUA_TNUMBER)
    pop.n = luaL_checkinteger(L, arg);
  else if (lua_istable(L, arg)) {
    pop.table = 1;
    pop.n = luaL_len(L, arg);
  }
  else if (par_toarray(L, arg) != NULL) {
    pop.a = par_checkarray(L, arg);
    pop.n = pop.a->dim[0];
  }
  else
    luaL_typeerror(L, arg, "integer, array or table");
  return pop;
}

/* Kahan summation, as NumPy checks the probabilities. */
static double kahan(const double *x, int64_t n) {
  double s = x[0], c = 0.0;
  int64_t i;
  for (i = 1; i < n; i++) {
    double y = x[i] - c, t = s + y;
    c = (t - s) - y;
    s = t;
  }
  return s;
}

/* The probabilities argument p (nil, a sequence or a 1-D array of n
** numbers), checked as NumPy checks them; NULL when absent. */
static double *checkprobs(lua_State *L, int arg, int64_t n) {
  par_array *pa = par_toarray(L, arg);
  double *p, sum;
  int64_t i, len;
  if (lua_isnoneornil(L, arg)) return NULL;
  if (pa == NULL) luaL_checktype(L, arg, LUA_TTABLE);
  luaL_argcheck(L, pa == NULL || pa->ndim == 1, arg, "p must be 1-dimensional");
  len = pa != NULL ? pa->size : luaL_len(L, arg);
  luaL_argcheck(L, len == n, arg, "'a' and 'p' must have the same size");
  p = scratch(L, (size_t)n * sizeof *p);
  for (i = 0; i < n; i++) {
    if (pa != NULL) p[i] = par_getf(pa, i);
    else {
      lua_geti(L, arg, i + 1);
      luaL_argcheck(L, lua_isnumber(L, -1), arg, "probabilities must be numbers");
      p[i] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  }
  sum = n > 0 ? kahan(p, n) : 0.0;
  luaL_argcheck(L, !isnan(sum), arg, "probabilities contain NaN");
  for (i = 0; i < n; i++)
    luaL_argcheck(L, !(p[i] < 0), arg, "probabilities are not non-negative");
  luaL_argcheck(L, fabs(sum - 1.) <= sqrt(0x1p-52), arg, "probabilities do not sum to 1");
  return p;
}

/* k indices into a population of n, drawn as Generator.choice draws them. */
static void choose(lua_State *L, pcg64 *g, int64_t n, int64_t k, int replace,
                   double *p, int64_t *idx) {
  int64_t i;
  if (replace && p == NULL)
    for (i = 0; i < k; i++) idx[i] = (int64_t)par_rng_bounded(g, (uint64_t)n - 1);
  else if (replace) {
    double *cdf = scratch(L, (size_t)(n + k) * sizeof *cdf), *u = cdf + n;
    par_rng_cdf(p, n, cdf);
    for (i = 0; i < k; i++) u[i] = pcg64_next_double(g);
    for (i = 0; i < k; i++) idx[i] = par_rng_cdf_search(cdf, n, u[i]);
    lua_pop(L, 1);
  }
  else if ((p == NULL ? par_rng_sample(g, n, k, idx)
                      : par_rng_sample_p(g, p, n, k, idx)) != 0)
    luaL_error(L, "not enough memory");
}

/* Pushes the population's item 'i' (0-based). */
static void pushitem(lua_State *L, Pop *pop, int arg, int64_t i) {
  if (pop->table)
    lua_geti(L, arg, i + 1);
  else if (pop->a == NULL)
    lua_pushinteger(L, i + 1);
  else if (pop->a->ndim == 1)
    par_pushelem(L, pop->a, i);
  else {
    size_t row = (size_t)pop->a->dim[1] * par_dtype_size(pop->a->dtype);
    par_array *r = par_newarray(L, pop->a->dtype, 1, pop->a->dim[1], 1);
    memcpy(r->data, (char *)pop->a->data + (size_t)i * row, row);
  }
}

/* Pushes the chosen items as a table or an array of shape s. */
static void pushchosen(lua_State *L, Pop *pop, int arg, Size s, const int64_t *idx) {
  int64_t i, k = s.n * s.m;
  if (pop->table) {
    lua_createtable(L, k > INT32_MAX ? 0 : (int)k, 0);
    for (i = 0; i < k; i++) {
      lua_geti(L, arg, idx[i] + 1);
      lua_seti(L, -2, i + 1);
    }
  }
  else if (pop->a == NULL) {
    int64_t *v = PAR_I64P(newresult(L, PAR_I64, s));
    for (i = 0; i < k; i++) v[i] = idx[i] + 1;
  }
  else {
    par_array *x = pop->a;   /* 1-D: shape s; 2-D: k rows */
    size_t row = (size_t)x->dim[1] * par_dtype_size(x->dtype);
    char *src = x->data, *out = x->ndim == 1 ? newresult(L, x->dtype, s)->data
                                             : par_newarray(L, x->dtype, 2, k, x->dim[1])->data;
    for (i = 0; i < k; i++)
      memcpy(out + (size_t)i * row, src + (size_t)idx[i] * row, row);
  }
}

/* choice(a [, size [, replace [, p]]]) */
static int g_choice(lua_State *L) {
  Gen *d = checkgen(L);
  Pop pop = checkpop(L, 2);
  Size s = checksize(L, 3);
  int replace = lua_isnoneornil(L, 4) || lua_toboolean(L, 4);
  int64_t k = s.n * s.m, *idx;
  double *p;
  luaL_argcheck(L, s.ndim < 2 || (!pop.table && (pop.a == NULL || pop.a->ndim == 1)),
                3, "size {n, m} needs an integer or a 1-D array as population");
  if (pop.n <= 0 && k != 0)
    luaL_argerror(L, 2, pop.table || pop.a ? "'a' cannot be empty unless no samples are taken"
                        : "'a' must be a positive integer unless no samples are taken");
  p = checkprobs(L, 5, pop.n);
  if (!replace) {
    int64_t i, nz = 0;
    luaL_argcheck(L, k <= pop.n, 3,
                  "cannot take a larger sample than the population when 'replace' is false");
    for (i = 0; p != NULL && i < pop.n; i++) nz += p[i] > 0;
    luaL_argcheck(L, p == NULL || nz >= k, 5, "fewer non-zero entries in p than size");
  }
  idx = scratch(L, (size_t)k * sizeof *idx);
  choose(L, &d->g, pop.n, k, replace, p, idx);
  if (s.ndim == 0) pushitem(L, &pop, 2, idx[0]);
  else pushchosen(L, &pop, 2, s, idx);
  return 1;
}

/* }}} */

/* {{{ spawn, advance, state */

/* spawn(k): a table of k children, as SeedSequence.spawn: the parent's
** seed, the parent's spawn key plus the child's number. */
static int g_spawn(lua_State *L) {
  Gen *d = checkgen(L);
  lua_Integer k = luaL_checkinteger(L, 2), j;
  luaL_argcheck(L, k >= 0, 2, "negative count");
  luaL_argcheck(L, k <= INT32_MAX, 2, "too many children (a table holds at most 2^31 - 1)");
  luaL_argcheck(L, d->kind == GEN_SEQ, 1, "a stream has no seed sequence to spawn from");
  lua_createtable(L, (int)k, 0);
  for (j = 0; j < k; j++) {
    uint64_t child = d->count + (uint64_t)j;
    if ((j & 0xffff) == 0xffff && par_interrupted()) par_raise_interrupt(L);
    Gen *c = newgen(L, GEN_SEQ, d->seed, 0);
    lua_getiuservalue(L, 1, 1);
    lua_pushlstring(L, (const char *)&child, sizeof child);
    lua_concat(L, 2);
    lua_setiuservalue(L, -2, 1);
    seedgen(L, lua_gettop(L), c);
    lua_rawseti(L, -2, j + 1);
  }
  d->count += (uint64_t)k;
  return 1;
}

/* A 128-bit count from digits ("0x" and hex, or decimal); 0 when bad. */
static int strdelta(const char *s, par_u128 *v) {
  int base = 10, n = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  for (*v = 0; *s; s++, n++) {
    int dig = (*s >= '0' && *s <= '9') ? *s - '0'
            : (base == 16 && *s >= 'a' && *s <= 'f') ? *s - 'a' + 10
            : (base == 16 && *s >= 'A' && *s <= 'F') ? *s - 'A' + 10 : -1;
    if (dig < 0 || *v > (~(par_u128)0 - (par_u128)dig) / (par_u128)base) return 0;
    *v = *v * (par_u128)base + (par_u128)dig;
  }
  return n > 0;
}

/* advance's delta: an integer (negative ones step back, mod 2^128), a float
** with an integer value below 2^128, or a string of digits for any 128-bit
** count. */
static par_u128 checkdelta(lua_State *L, int arg) {
  par_u128 v;
  lua_Number f;
  if (lua_isinteger(L, arg)) {
    lua_Integer i = lua_tointeger(L, arg);
    v = (par_u128)(uint64_t)i;
    return i < 0 ? v | (par_u128)UINT64_MAX << 64 : v;
  }
  if (lua_type(L, arg) == LUA_TSTRING) {
    luaL_argcheck(L, strdelta(lua_tostring(L, arg), &v), arg,
                  "delta must be an integer below 2^128");
    return v;
  }
  f = luaL_checknumber(L, arg);
  luaL_argcheck(L, f == floor(f) && f >= -0x1p63 && f < 0x1p128, arg,
                "delta must be an integer below 2^128");
  if (f < 0) return (par_u128)(uint64_t)(int64_t)f | (par_u128)UINT64_MAX << 64;
  {
    double hi = floor(f / 0x1p64);
    return (par_u128)(uint64_t)hi << 64 | (uint64_t)(f - hi * 0x1p64);
  }
}

/* advance(delta): jumps delta steps ahead, as PCG64.advance. */
static int g_advance(lua_State *L) {
  Gen *d = checkgen(L);
  pcg64_advance(&d->g, checkdelta(L, 2));
  lua_settop(L, 1);
  return 1;
}

/*
** The state string:
**   pcg64 STATE INC HAS UINTEGER seq SEED NSPAWNED KEY
**   pcg64 STATE INC HAS UINTEGER stream SEED INDEX
** in hex: STATE and INC 32 digits, UINTEGER 8, SEED 16; HAS is 0 or 1;
** KEY is "-" or the spawn key's elements separated by commas.
*/
static int g_state(lua_State *L) {
  Gen *d = checkgen(L);
  char buf[160];
  luaL_Buffer b;
  size_t i, n;
  uint64_t *key = pushkey(L, 1, &n);
  snprintf(buf, sizeof buf, "pcg64 %016llx%016llx %016llx%016llx %d %08lx %s %016llx %llx",
           (unsigned long long)(d->g.state >> 64), (unsigned long long)d->g.state,
           (unsigned long long)(d->g.inc >> 64), (unsigned long long)d->g.inc,
           d->g.has_uint32, (unsigned long)d->g.uinteger,
           d->kind == GEN_STREAM ? "stream" : "seq",
           (unsigned long long)d->seed, (unsigned long long)d->count);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, buf);
  if (d->kind != GEN_STREAM) {
    luaL_addstring(&b, n == 0 ? " -" : " ");
    for (i = 0; i < n; i++) {
      snprintf(buf, sizeof buf, "%s%llx", i > 0 ? "," : "", (unsigned long long)key[i]);
      luaL_addstring(&b, buf);
    }
  }
  luaL_pushresult(&b);
  return 1;
}

/* Reads 'width' hex digits (1 to 16 when width is 0); NULL when bad. */
static const char *readhex(const char *p, int width, uint64_t *v) {
  int n = 0;
  for (*v = 0; (width == 0 || n < width) && n < 16; n++, p++) {
    int dig = (*p >= '0' && *p <= '9') ? *p - '0'
            : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
    if (dig < 0) break;
    *v = *v << 4 | (uint64_t)dig;
  }
  return (n == 0 || (width > 0 && n < width)) ? NULL : p;
}

static const char *readlit(const char *p, const char *lit) {
  size_t n = strlen(lit);
  return (p != NULL && strncmp(p, lit, n) == 0) ? p + n : NULL;
}

static const char *readu128(const char *p, par_u128 *v) {
  uint64_t hi, lo;
  if (p == NULL || (p = readhex(p, 16, &hi)) == NULL || (p = readhex(p, 16, &lo)) == NULL)
    return NULL;
  *v = (par_u128)hi << 64 | lo;
  return p;
}

/* Parses the spawn key "-" or "k1,k2,..." into a packed string pushed on
** the stack; NULL when bad. */
static const char *readkey(lua_State *L, const char *p) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (p != NULL && *p == '-') p++;
  else
    while (p != NULL) {
      uint64_t k;
      if ((p = readhex(p, 0, &k)) == NULL) break;
      luaL_addlstring(&b, (const char *)&k, sizeof k);
      if (*p != ',') break;
      p++;
    }
  luaL_pushresult(&b);
  return p;
}

/* set_state(s): restores a state string made by state(). */
static int g_set_state(lua_State *L) {
  Gen *d = checkgen(L);
  const char *p = luaL_checkstring(L, 2);
  pcg64 g;
  uint64_t has = 2, u32 = 0, seed = 0, count = 0;
  int kind;
  memset(&g, 0, sizeof g);
  p = readu128(readlit(p, "pcg64 "), &g.state);
  p = readu128(readlit(p, " "), &g.inc);
  if ((p = readlit(p, " ")) != NULL) p = readhex(p, 1, &has);
  if ((p = readlit(p, " ")) != NULL) p = readhex(p, 8, &u32);
  kind = readlit(p, " stream ") != NULL ? GEN_STREAM : GEN_SEQ;
  p = readlit(p, kind == GEN_STREAM ? " stream " : " seq ");
  if (p != NULL) p = readhex(p, 16, &seed);
  if ((p = readlit(p, " ")) != NULL) p = readhex(p, 0, &count);
  if (kind == GEN_SEQ) p = readkey(L, readlit(p, " "));
  else lua_pushliteral(L, "");
  luaL_argcheck(L, p != NULL && *p == '\0' && has <= 1 && (g.inc & 1), 2,
                "malformed generator state");
  g.has_uint32 = (int)has;
  g.uinteger = (uint32_t)u32;
  d->g = g;
  d->kind = kind;
  d->seed = seed;
  d->count = count;
  lua_setiuservalue(L, 1, 1);
  lua_settop(L, 1);
  return 1;
}

/* }}} */

/* {{{ the default generator */

/* 64 bits of OS entropy (getrandom, else /dev/urandom, else the clock). */
static uint64_t entropy64(void) {
  uint64_t v = 0;
  FILE *f;
  struct timespec ts;
  if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v) return v;
  f = fopen("/dev/urandom", "rb");
  if (f != NULL) {
    size_t got = fread(&v, sizeof v, 1, f);
    fclose(f);
    if (got == 1) return v;
  }
  clock_gettime(CLOCK_REALTIME, &ts);
  return par_mix_a((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^
                   (uint64_t)getpid() << 48);
}

/* PARLUA_SEED as a seed: decimal digits (all 64 bits), or any number Lua
** reads, under the rules of seed arguments. Returns NULL or the problem. */
static const char *parseseed(lua_State *L, const char *s, uint64_t *seed) {
  const char *bad;
  if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
    errno = 0;
    *seed = strtoull(s, NULL, 10);
    return errno == ERANGE ? "seed out of range" : NULL;
  }
  if (lua_stringtonumber(L, s) == 0) return "not a number";
  bad = numseed(L, -1, seed);
  lua_pop(L, 1);
  return bad;
}

static void reseed(lua_State *L, int idx, Gen *d, uint64_t seed) {
  d->kind = GEN_SEQ;
  d->seed = seed;
  d->count = 0;
  lua_pushliteral(L, "");
  lua_setiuservalue(L, idx, 1);
  seedgen(L, idx, d);
}

/* Seeds the default generator (at idx) at its first use: from PARLUA_SEED
** (a bad value is an error, raised at each use until fixed), else from
** fresh OS entropy. */
static Gen *readydefault(lua_State *L, int idx) {
  Gen *d = lua_touserdata(L, idx);
  if (d->kind == GEN_FRESH) {
    const char *env = getenv("PARLUA_SEED"), *bad;
    uint64_t seed = 0;
    if (env == NULL || env[0] == '\0')
      seed = entropy64();
    else if ((bad = parseseed(L, env, &seed)) != NULL)
      luaL_error(L, "bad PARLUA_SEED '%s' (%s)", env, bad);
    reseed(L, lua_absindex(L, idx), d, seed);
  }
  return d;
}

/* The generator of par.random & co: the current stream inside a kernel,
** else the default generator (an upvalue of those functions). */
static pcg64 *defgen(lua_State *L) {
  pcg64 *cur = par_rng_current();
  return cur != NULL ? cur : &readydefault(L, lua_upvalueindex(1))->g;
}

pcg64 *par_rng_get(lua_State *L) {
  pcg64 *cur = par_rng_current();
  Gen *d;
  if (cur != NULL) return cur;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &defkey);
  d = readydefault(L, -1);
  lua_pop(L, 1);   /* the registry keeps it alive */
  return &d->g;
}

/* par.seed(s) reseeds the default generator; par.seed() returns its seed. */
static int p_seed(lua_State *L) {
  int up = lua_upvalueindex(1);
  if (par_rng_current() != NULL)
    return luaL_error(L, "par.seed cannot be called inside a parallel kernel");
  if (lua_isnoneornil(L, 1)) {
    lua_pushinteger(L, (lua_Integer)readydefault(L, up)->seed);
    return 1;
  }
  reseed(L, up, lua_touserdata(L, up), checkseed(L, 1));
  return 0;
}

/* par.rng([seed]): numpy.random.Generator(PCG64(seed)); without a seed,
** one drawn from the default generator (so par.seed() replays it). */
static int p_rng(lua_State *L) {
  uint64_t seed = lua_isnoneornil(L, 1) ? pcg64_next_uint64(defgen(L)) : checkseed(L, 1);
  Gen *d = newgen(L, GEN_SEQ, seed, 0);
  seedgen(L, lua_gettop(L), d);
  return 1;
}

/* par.stream(seed, i): the generator of iteration i of a parallel call
** made with loop seed 'seed'. */
static int p_stream(lua_State *L) {
  uint64_t seed = checkseed(L, 1);
  uint64_t i = (uint64_t)luaL_checkinteger(L, 2);
  Gen *d = newgen(L, GEN_STREAM, seed, i);
  par_stream_init(&d->g, seed, i);
  return 1;
}

/* }}} */

/* {{{ registration */

#define METHOD(name, f) \
  static int g_##name(lua_State *L) { return f(L, &checkgen(L)->g, 2); }
#define DEFAULT(name, f) \
  static int p_##name(lua_State *L) { return f(L, defgen(L), 1); }

METHOD(random, random_)
METHOD(uniform, uniform)
METHOD(standard_normal, standard_normal)
METHOD(normal, normal)
METHOD(lognormal, lognormal)
METHOD(exponential, exponential)
METHOD(integers, integers)
METHOD(gamma, gamma_)
METHOD(poisson, poisson)
METHOD(binomial, binomial)
DEFAULT(random, random_)
DEFAULT(uniform, uniform)
DEFAULT(randn, standard_normal)
DEFAULT(normal, normal)
DEFAULT(lognormal, lognormal)
DEFAULT(exponential, exponential)
DEFAULT(integers, integers)

static const luaL_Reg methods[] = {
  {"random", g_random},
  {"uniform", g_uniform},
  {"standard_normal", g_standard_normal},
  {"normal", g_normal},
  {"lognormal", g_lognormal},
  {"exponential", g_exponential},
  {"integers", g_integers},
  {"gamma", g_gamma},
  {"poisson", g_poisson},
  {"binomial", g_binomial},
  {"shuffle", g_shuffle},
  {"permutation", g_permutation},
  {"choice", g_choice},
  {"spawn", g_spawn},
  {"advance", g_advance},
  {"state", g_state},
  {"set_state", g_set_state},
  {NULL, NULL}
};

static const luaL_Reg meta[] = {
  {"__tostring", g_tostring},
  {"__index", NULL},
  {NULL, NULL}
};

/* Functions of `par`; their upvalue is the default generator. */
static const luaL_Reg funcs[] = {
  {"seed", p_seed},
  {"rng", p_rng},
  {"stream", p_stream},
  {"random", p_random},
  {"uniform", p_uniform},
  {"randn", p_randn},
  {"normal", p_normal},
  {"lognormal", p_lognormal},
  {"exponential", p_exponential},
  {"integers", p_integers},
  {NULL, NULL}
};

static void createmeta(lua_State *L) {
  luaL_newmetatable(L, GEN_MT);
  luaL_setfuncs(L, meta, 0);
  luaL_newlibtable(L, methods);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void par_open_rng(lua_State *L) {
  createmeta(L);
  newgen(L, GEN_FRESH, 0, 0);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &defkey);
  luaL_setfuncs(L, funcs, 1);
}

/* }}} */
