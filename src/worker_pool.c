/*
** worker_pool.c: the pool of worker lua_States of the Lua mode and the
** watcher thread that stops them on Ctrl-C (see worker_pool.h).
*/
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lauxlib.h"
#include "lualib.h"

#include "parallel.h"
#include "parlua.h"
#include "rng.h"
#include "transfer.h"
#include "worker_pool.h"

/* Polling period of the watcher while a call runs, in nanoseconds. */
#define WATCH_NS 20000000L

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int holding;   /* this thread holds the pool */
static par_worker *workers;
static int nworkers, capworkers;


/* {{{ math.random in workers */

static int w_random(lua_State *L) {
  pcg64 *g = par_rng_get(L);
  lua_Integer lo, up;
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, pcg64_next_double(g));
      return 1;
    case 1:
      lo = 1;
      up = luaL_checkinteger(L, 1);
      if (up == 0) {   /* all 64 bits, as Lua's math.random(0) */
        lua_pushinteger(L, (lua_Integer)pcg64_next_uint64(g));
        return 1;
      }
      break;
    case 2:
      lo = luaL_checkinteger(L, 1);
      up = luaL_checkinteger(L, 2);
      break;
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  luaL_argcheck(L, lo <= up, 1, "interval is empty");
  lua_pushinteger(L, (lua_Integer)((lua_Unsigned)lo +
                  par_rng_bounded(g, (lua_Unsigned)up - (lua_Unsigned)lo)));
  return 1;
}

static int w_randomseed(lua_State *L) {
  return luaL_error(L, "math.randomseed cannot be used inside a parallel kernel");
}

/* }}} */


/* {{{ worker states */

static int openworker(lua_State *L) {
  luaL_openlibs(L);
  parlua_open(L);
  lua_getglobal(L, "math");
  lua_pushcfunction(L, w_random);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, w_randomseed);
  lua_setfield(L, -2, "randomseed");
  return 0;
}

/* A new worker state, or NULL with a message in err. */
static lua_State *newworker(char *err, size_t size) {
  lua_State *W = luaL_newstate();
  if (W == NULL) {
    snprintf(err, size, "cannot create a worker state: not enough memory");
    return NULL;
  }
  lua_pushcfunction(W, openworker);
  if (lua_pcall(W, 0, 0, 0) != LUA_OK) {
    snprintf(err, size, "cannot create a worker state: %s", lua_tostring(W, -1));
    lua_close(W);
    return NULL;
  }
  return W;
}

/* Closes the workers from n on. */
static void shrink(int n) {
  while (nworkers > n) lua_close(workers[--nworkers].L);
}

/* Makes sure there are n workers; 0 with a message in err when not. */
static int grow(int n, char *err, size_t size) {
  if (n > capworkers) {
    par_worker *w = realloc(workers, (size_t)n * sizeof *w);
    if (w == NULL) {
      snprintf(err, size, "not enough memory");
      return 0;
    }
    workers = w;
    capworkers = n;
  }
  while (nworkers < n) {
    lua_State *W = newworker(err, size);
    if (W == NULL) return 0;
    workers[nworkers].L = W;
    workers[nworkers++].job = 0;
  }
  return 1;
}

/* }}} */


/* {{{ the watcher */

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond;
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;
static int watch_ok;       /* the watcher thread runs */
static int watching;       /* a call is running */
static int hooked;         /* hooks were installed during this call */

static void stophook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (par_interrupted()) luaL_error(L, "interrupted!");
}

/*
** The watcher's loop. lua_sethook on a state that another thread is
** running is what lua.c does from a signal handler: it only stores the
** hook and sets trap flags, which the running thread reads at its next
** instruction. The pool's array does not change while 'watching' is set.
*/
static void *watcher(void *arg) {
  (void)arg;
  pthread_mutex_lock(&watch_lock);
  for (;;) {
    struct timespec t;
    if (!watching) {
      pthread_cond_wait(&watch_cond, &watch_lock);
      continue;
    }
    if (!hooked && par_interrupted()) {
      int i, mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
      for (i = 0; i < nworkers; i++) lua_sethook(workers[i].L, stophook, mask, 1);
      hooked = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += WATCH_NS;
    if (t.tv_nsec >= 1000000000L) {
      t.tv_sec++;
      t.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&watch_cond, &watch_lock, &t);
  }
  return NULL;
}

/* Starts the watcher, with every signal blocked (SIGINT goes to the
** threads running Lua, as without it). */
static void startwatcher(void) {
  pthread_condattr_t ca;
  pthread_attr_t ta;
  pthread_t t;
  sigset_t all, old;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&watch_cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  watch_ok = pthread_create(&t, &ta, watcher, NULL) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&ta);
}

/* Starts (on = 1) or stops watching; returns whether hooks were set. */
static int watch(int on) {
  int h;
  pthread_once(&watch_once, startwatcher);
  if (!watch_ok) return 0;
  pthread_mutex_lock(&watch_lock);
  watching = on;
  h = hooked;
  if (on) {
    hooked = 0;
    pthread_cond_signal(&watch_cond);
  }
  pthread_mutex_unlock(&watch_lock);
  return h;
}

/* }}} */


par_worker *par_pool_acquire(lua_State *L, int n) {
  char err[256];
  int keep = par_threads();
  if (holding) return NULL;
  pthread_mutex_lock(&pool_lock);
  holding = 1;
  shrink(n > keep ? n : keep);
  if (!grow(n, err, sizeof err)) {
    holding = 0;
    pthread_mutex_unlock(&pool_lock);
    luaL_error(L, "%s", err);
  }
  watch(1);
  return workers;
}

void par_pool_release(void) {
  int i, h = watch(0);
  for (i = 0; i < nworkers; i++) {
    lua_State *W = workers[i].L;
    if (h) lua_sethook(W, NULL, 0, 0);
    lua_settop(W, 0);
    par_msg_clear(W);
    workers[i].job = 0;
  }
  holding = 0;
  pthread_mutex_unlock(&pool_lock);
}
