/*
** progress.c: the progress bar of kernels (see progress.h): the counter
** par_run feeds, the drawing thread, the Lua handle and the formatting.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lauxlib.h"

#include "parallel.h"
#include "progress.h"

#define TICK_NS 200000000LL      /* drawing period: 5 frames a second at most */
#define DELAY_NS 300000000LL     /* running time before the first frame */
#define LABELMAX 24              /* longest label shown */
#define MINBAR 10                /* narrowest bar drawn, in cells */
#define HANDLE_MT "par.progress"

/* The active progress. begin fills it before publishing 'owner'; the
** drawing thread reads label, total and the atomics; 'drawn' is the
** thread's, read by finish after the join. */
typedef struct progress {
  par_progress_slot done[PAR_PROGRESS_SLOTS];   /* iterations finished */
  char label[LABELMAX + 1];
  int64_t total;             /* <= 0: unknown */
  atomic_llong t0, t1;       /* ns: start of the first counted run, end of the last */
  int draw;                  /* a drawing thread runs */
  int drawn;                 /* it drew at least one frame */
  int stop;                  /* asks the thread to stop (under 'lock') */
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
} progress;

static progress P;
static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;  /* begin and end */
static int current;                /* id of the active progress, 0: none */
static int lastid;
static atomic_uintptr_t owner;     /* &me of the counting thread, 0: none */
static _Thread_local char me;      /* its address tells threads apart */
static _Thread_local int depth;    /* par_runs going on in this thread */


/* {{{ formatting */

void par_progress_fmtnum(char *buf, size_t cap, double x, int integral) {
  static const char suffix[] = "kMGTP";
  char s[2] = "";
  int k = -1;
  if (!(x >= 0)) x = 0;
  if (integral && x < 999.5) {
    snprintf(buf, cap, "%.0f", x);
    return;
  }
  while (x >= 999.5 && k < 4) { x /= 1000; k++; }
  s[0] = k >= 0 ? suffix[k] : '\0';
  snprintf(buf, cap, x < 9.995 ? "%.2f%s" : x < 99.95 ? "%.1f%s" : "%.0f%s", x, s);
}

void par_progress_fmttime(char *buf, size_t cap, double s) {
  long t;
  if (!(s >= 0) || s >= 360000) {   /* NaN, negative, 100 h or more */
    snprintf(buf, cap, "--:--");
    return;
  }
  t = (long)s;
  if (t < 3600) snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
  else snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

/* Whole percent of done/total, 100 only when complete. */
static int percent(int64_t done, int64_t total) {
  int p = (int)(100.0 * (double)done / (double)total);
  return p >= 100 && done < total ? 99 : p;
}

/* The text after the bar: percentage, counts, rate, elapsed and ETA. */
static void tailtext(char *t, size_t cap, int64_t done, int64_t total, double elapsed) {
  char d[16], n[16], r[16], e[16], left[16];
  double rate = elapsed > 0 ? (double)done / elapsed : 0;
  par_progress_fmtnum(d, sizeof d, (double)done, 1);
  par_progress_fmtnum(r, sizeof r, rate, 0);
  par_progress_fmttime(e, sizeof e, elapsed);
  if (total <= 0) {
    snprintf(t, cap, " %s it %s it/s %s", d, r, e);
    return;
  }
  par_progress_fmtnum(n, sizeof n, (double)total, 1);
  par_progress_fmttime(left, sizeof left, rate > 0 ? (double)(total - done) / rate : -1);
  snprintf(t, cap, " %3d%% %s/%s %s it/s %s eta %s", percent(done, total), d, n, r, e, left);
}

size_t par_progress_line(char *buf, const char *label, int64_t done, int64_t total,
                         double elapsed, int cols) {
  char tail[128];
  int room, ll, tl, bar, fill, k = 0;
  cols = cols <= 0 ? 80 : cols > PAR_PROGRESS_MAXCOLS ? PAR_PROGRESS_MAXCOLS : cols;
  room = cols - 1;
  if (done < 0) done = 0;
  if (total > 0 && done > total) done = total;
  tailtext(tail, sizeof tail, done, total, elapsed);
  ll = (int)strnlen(label, LABELMAX);
  tl = (int)strlen(tail);
  bar = room - (ll > 0 ? ll + 1 : 0) - 2 - tl;
  if (total > 0 && bar >= MINBAR) {   /* label [####----] tail */
    fill = (int)((double)bar * (double)done / (double)total);
    k = sprintf(buf, "%.*s%s[", ll, label, ll > 0 ? " " : "");
    memset(buf + k, '#', (size_t)fill);
    memset(buf + k + fill, '-', (size_t)(bar - fill));
    k += bar;
    k += sprintf(buf + k, "]%s", tail);
  }
  else if (ll > 0 && ll + tl <= room)  /* label tail */
    k = sprintf(buf, "%.*s%s", ll, label, tail);
  else {                               /* the tail, cut to the room */
    const char *t = tail + strspn(tail, " ");
    k = (int)strlen(t);
    if (k > room) k = room > 0 ? room : 0;
    memcpy(buf, t, (size_t)k);
  }
  buf[k] = '\0';
  return (size_t)k;
}

/* }}} */


/* {{{ drawing */

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Draw only on a terminal that understands '\r' and ESC [ K. */
static int drawable(void) {
  const char *term = getenv("TERM");
  return isatty(2) && (term == NULL || strcmp(term, "dumb") != 0);
}

static int termcols(void) {
  struct winsize ws;
  return ioctl(2, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
}

static int64_t count(const progress *p) {
  int64_t n = 0;
  int k;
  for (k = 0; k < PAR_PROGRESS_SLOTS; k++)
    n += atomic_load_explicit(&p->done[k].n, memory_order_relaxed);
  return n;
}

/* Rewrites the line with the state after 'elapsed' ns; 'last': then ends
** the line. Writes with write(2): no stdio lock shared with the caller. */
static void frame(const progress *p, long long elapsed, int last) {
  char line[PAR_PROGRESS_MAXCOLS + 8];
  size_t n = 1, off = 0;
  line[0] = '\r';
  n += par_progress_line(line + 1, p->label, count(p), p->total, (double)elapsed * 1e-9,
                         termcols());
  memcpy(line + n, "\033[K\n", 4);   /* clear what a longer line left */
  n += last ? 4 : 3;
  while (off < n) {
    ssize_t w = write(2, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* The drawing thread: a frame every TICK_NS once the counted runs have
** lasted DELAY_NS, until asked to stop. */
static void *drawer(void *arg) {
  progress *p = arg;
  long long next = now_ns();
  pthread_mutex_lock(&p->lock);
  while (!p->stop) {
    struct timespec ts;
    long long t0, t = now_ns();
    next = next + TICK_NS > t ? next + TICK_NS : t + TICK_NS;
    ts.tv_sec = (time_t)(next / 1000000000LL);
    ts.tv_nsec = (long)(next % 1000000000LL);
    while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock, &ts) != ETIMEDOUT) {}
    if (p->stop) break;
    pthread_mutex_unlock(&p->lock);
    t0 = atomic_load(&p->t0);
    t = now_ns();
    if (t0 != 0 && t - t0 >= DELAY_NS) {
      frame(p, t - t0, 0);
      p->drawn = 1;
    }
    pthread_mutex_lock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* Starts the drawing thread with all signals blocked (they go to the
** other threads). Returns 0 if it cannot run. */
static int startdrawer(progress *p) {
  pthread_condattr_t ca;
  sigset_t all, old;
  int rc;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&p->lock, NULL);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(&p->thread, NULL, drawer, p);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
  }
  return rc == 0;
}

/* Stops the drawing thread and leaves the final frame if any was drawn. */
static void stopdrawer(progress *p) {
  long long t0 = atomic_load(&p->t0), t1 = atomic_load(&p->t1);
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_signal(&p->wake);
  pthread_mutex_unlock(&p->lock);
  pthread_join(p->thread, NULL);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  if (p->drawn) frame(p, (t1 > t0 ? t1 : now_ns()) - t0, 1);
}

/* }}} */


/* {{{ begin, end and the engine's hook (begin and end under 'guard') */

static void finish(void) {
  atomic_store(&owner, 0);
  if (P.draw) stopdrawer(&P);
  current = 0;
}

int par_progress_begin(const char *label, int64_t total) {
  int id, k;
  if (depth > 0 || par_in_parallel()) return 0;   /* inside a kernel */
  pthread_mutex_lock(&guard);
  if (current != 0 && atomic_load(&owner) != (uintptr_t)&me) {
    pthread_mutex_unlock(&guard);
    return 0;
  }
  if (current != 0) finish();   /* left behind by a caller that did not end it */
  snprintf(P.label, sizeof P.label, "%s", label);
  P.total = total;
  for (k = 0; k < PAR_PROGRESS_SLOTS; k++) atomic_store(&P.done[k].n, 0);
  atomic_store(&P.t0, 0);
  atomic_store(&P.t1, 0);
  P.drawn = P.stop = 0;
  P.draw = drawable() && startdrawer(&P);
  id = current = lastid = lastid % INT_MAX + 1;
  atomic_store_explicit(&owner, (uintptr_t)&me, memory_order_release);
  pthread_mutex_unlock(&guard);
  return id;
}

void par_progress_end(int id) {
  if (id == 0) return;
  pthread_mutex_lock(&guard);
  if (id == current) finish();
  pthread_mutex_unlock(&guard);
}

int64_t par_progress_done(void) {
  int64_t n;
  pthread_mutex_lock(&guard);
  n = current != 0 ? count(&P) : 0;
  pthread_mutex_unlock(&guard);
  return n;
}

/* Counts only a par_run of the owner thread that is not nested in
** another par_run; the first one starts the clock. */
par_progress_slot *par_progress_enter(void) {
  long long zero = 0;
  if (depth++ > 0) return NULL;
  if (atomic_load_explicit(&owner, memory_order_acquire) != (uintptr_t)&me) return NULL;
  atomic_compare_exchange_strong(&P.t0, &zero, now_ns());
  return P.done;
}

void par_progress_leave(par_progress_slot *slots) {
  depth--;
  if (slots != NULL) atomic_store(&P.t1, now_ns());
}

/* }}} */


/* {{{ the Lua handle: a userdata holding the id, ended by __close */

static int h_close(lua_State *L) {
  int *id = luaL_checkudata(L, 1, HANDLE_MT);
  par_progress_end(*id);
  *id = 0;
  return 0;
}

static const luaL_Reg handle_meta[] = {
  {"__close", h_close},
  {"__gc", h_close},   /* a coroutine that died without closing its slots */
  {NULL, NULL}
};

void par_progress_push(lua_State *L, const char *label, int64_t total) {
  int *id;
  if (label == NULL) {
    lua_pushnil(L);
    return;
  }
  id = lua_newuserdatauv(L, sizeof *id, 0);
  *id = 0;   /* inert until begun */
  if (luaL_newmetatable(L, HANDLE_MT)) luaL_setfuncs(L, handle_meta, 0);
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
  *id = par_progress_begin(label, total);
}

/* }}} */
