/*
** timing.c: par.clock (monotonic seconds) and par.timeit, which times a
** function the way IPython's %timeit does: it picks a loop count so that
** one run takes at least 0.2 s, repeats the run (7 times by default),
** prints "mean ± std per loop (...)" and returns the figures.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "modules.h"
#include "parallel.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int l_clock(lua_State *L) {
  lua_pushnumber(L, now());
  return 1;
}

/* Seconds taken by 'loops' calls of the function at index 1. */
static double time_loops(lua_State *L, lua_Integer loops) {
  double t0 = now();
  lua_Integer i;
  for (i = 0; i < loops; i++) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 0);
  }
  return now() - t0;
}

/* IPython's autorange: 1, 2, 5, 10, 20, 50, ... loops until a run takes
** at least 0.2 s. */
static lua_Integer autorange(lua_State *L) {
  lua_Integer loops = 1;
  for (;;) {
    static const int bases[3] = {1, 2, 5};
    int k;
    for (k = 0; k < 3; k++) {
      lua_Integer n = loops * bases[k];
      if (time_loops(L, n) >= 0.2 || n >= 1000000000) return n;
    }
    loops *= 10;
  }
}

/* A time span with 3 significant digits in s, ms, µs or ns, as IPython
** (order = -floor(floor(log10 t) / 3)); a minute or more as "1min 2.5s". */
static void format_time(char *buf, size_t size, double t) {
  static const char *const units[] = {"s", "ms", "\xc2\xb5s", "ns"};
  static const double scale[] = {1, 1e3, 1e6, 1e9};
  int order = 3;
  if (t >= 60) {
    snprintf(buf, size, "%.0fmin %.3gs", floor(t / 60), fmod(t, 60));
    return;
  }
  if (t > 0) {
    order = -(int)floor(floor(log10(t)) / 3.0);
    if (order > 3) order = 3;
    if (order < 0) order = 0;
  }
  snprintf(buf, size, "%.3g %s", t * scale[order], units[order]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Rejects option names other than runs, loops and quiet in the table at
** index 2, as par.prange does. */
static void checkoptnames(lua_State *L) {
  static const char *const names[] = {"runs", "loops", "quiet", NULL};
  if (!lua_istable(L, 2)) return;
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int i;
    if (name == NULL)
      luaL_error(L, "bad argument #2 to 'timeit' (option names must be strings)");
    for (i = 0; names[i] != NULL && strcmp(names[i], name) != 0; i++) {}
    if (names[i] == NULL)
      luaL_error(L, "bad argument #2 to 'timeit' (unknown option '%s')", name);
    lua_pop(L, 1);
  }
}

/* Integer option 'name' of the table at index 2, or 'def'. */
static lua_Integer opt_int(lua_State *L, const char *name, lua_Integer def) {
  lua_Integer v;
  if (!lua_istable(L, 2)) return def;
  lua_getfield(L, 2, name);
  if (lua_isnil(L, -1)) v = def;
  else {
    int ok;
    v = lua_tointegerx(L, -1, &ok);
    if (!ok || v < 1)
      luaL_error(L, "bad option '%s' to 'timeit' (a positive integer expected)", name);
  }
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, const char *name) {
  int v;
  if (!lua_istable(L, 2)) return 0;
  lua_getfield(L, 2, name);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void set_number(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

/* n with thousands separators: 1,000,000. */
static const char *with_commas(char *buf, size_t size, long long n) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%lld", n), i, o = 0;
  for (i = 0; i < len && (size_t)o + 2 < size; i++) {
    if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

/* Prints IPython's %timeit line. */
static void print_line(double mean, double sd, lua_Integer runs, lua_Integer loops) {
  char m[32], s[32], r[40], l[40];
  format_time(m, sizeof m, mean);
  format_time(s, sizeof s, sd);
  printf("%s \xc2\xb1 %s per loop (mean \xc2\xb1 std. dev. of %s run%s, %s loop%s each)\n",
         m, s, with_commas(r, sizeof r, runs), runs == 1 ? "" : "s",
         with_commas(l, sizeof l, loops), loops == 1 ? "" : "s");
  fflush(stdout);
}

/* Most runs of par.timeit: each keeps a time, and the table of them is
** made with an int size. */
#define MAX_RUNS (1 << 24)

static int l_timeit(lua_State *L) {
  lua_Integer runs, loops, i;
  double *t, mean = 0, var = 0;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  checkoptnames(L);
  runs = opt_int(L, "runs", 7);
  if (runs > MAX_RUNS)
    luaL_error(L, "bad option 'runs' to 'timeit' (at most %d, got %I)", MAX_RUNS, runs);
  loops = opt_int(L, "loops", 0);
  if (loops == 0) loops = autorange(L);
  t = lua_newuserdatauv(L, sizeof(double) * (size_t)runs, 0);
  for (i = 0; i < runs; i++) {
    lua_gc(L, LUA_GCCOLLECT);   /* dead temporaries of the last run go first */
    t[i] = time_loops(L, loops) / (double)loops;
    mean += t[i];
  }
  mean /= (double)runs;
  for (i = 0; i < runs; i++) var += (t[i] - mean) * (t[i] - mean);
  var /= (double)runs;
  if (!opt_bool(L, "quiet")) print_line(mean, sqrt(var), runs, loops);
  lua_createtable(L, 0, 7);
  set_number(L, "mean", mean);
  set_number(L, "std", sqrt(var));
  lua_createtable(L, (int)runs, 0);
  for (i = 0; i < runs; i++) {
    lua_pushnumber(L, t[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "times");
  qsort(t, (size_t)runs, sizeof(double), cmp_double);
  set_number(L, "median", runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]));
  set_number(L, "best", t[0]);
  lua_pushinteger(L, runs);
  lua_setfield(L, -2, "runs");
  lua_pushinteger(L, loops);
  lua_setfield(L, -2, "loops");
  return 1;
}

static const luaL_Reg funcs[] = {
  {"clock", l_clock},
  {"timeit", l_timeit},
  {NULL, NULL}
};

void par_open_timing(lua_State *L) {
  luaL_setfuncs(L, funcs, 0);
}
