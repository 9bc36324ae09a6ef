/*
** progress.h: the progress bar of kernels (opts.progress, API section 4).
**
** A progress is begun on the thread that calls a kernel, for a known
** number of iterations (total > 0) or an unknown one (total <= 0: a
** par.jit call, whose parallel loops are counted as they run, and so are
** the elements of large element-wise array operations in its serial
** code, which run on par_run too). While it is
** active, each par_run made on that thread outside a kernel adds the size
** of every finished block to the counter of the worker's slot (one relaxed
** atomic add per block, on a cache line no other thread writes); par_runs
** nested in iterations and par_runs of other threads do not count. One
** progress at a time: a kernel with progress inside a kernel draws nothing.
**
** Drawing: only when stderr is a terminal and TERM is not "dumb". A thread
** wakes every 200 ms (5 frames a second at most) and, once the counted
** runs have lasted 0.3 s, rewrites one line of stderr with '\r':
**   prange [#########-----------]  42% 4.20M/10.0M 1.23M it/s 00:03 eta 00:04
** (label, a bar sized to the terminal width, percentage, done/total, rate,
** elapsed and estimated time left; an unknown total shows count, rate and
** elapsed). At the end, a progress that drew anything stays on the screen
** in its final state (100%, or where an error or Ctrl-C stopped it) and
** the line is ended, so what follows (results, an error message) starts
** on a clean line; a short kernel writes nothing. The drawing thread never
** touches Lua and blocks all signals.
**
** Wiring (kernel_api.c): par_progress_push pushes a to-be-closed handle,
** closed when the C function returns, when an error unwinds it (a failing
** iteration, "interrupted!"), or by lua_closeslot. In l_prange, after
** lua_settop(L, 3) and loopseed:
**   par_progress_push(L, o.progress ? "prange" : NULL, n);   (slot 4)
** and the job moves to slot 5: run(L, 5, 2, &o), pushresults(L, 5, ...).
** In l_preduce likewise (handle in slot 5, job in 6); in mapcall after
** loopseed, with fname and shape->size (jobidx is already relative). For
** par.jit (k_call), before trynative:
**   par_progress_push(L, o.progress ? "jit" : NULL, 0);      (slot n + 1)
** and when trynative refuses: if (o.progress) lua_closeslot(L, n + 1);
** then lua_settop(L, n) before the plain call (Lua mode has no parallel
** loops to count). Close explicitly with lua_closeslot, never by
** lua_settop alone (Lua 5.4.4's lua_settop mishandles a stack moved by a
** __close).
*/
#ifndef PARLUA_PROGRESS_H
#define PARLUA_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lua.h"

/* Pushes a to-be-closed handle of a progress labelled 'label' over 'total'
** iterations, or nil when label is NULL (no progress wanted), so that the
** slot exists either way. Inside a kernel the handle is inert. */
void par_progress_push(lua_State *L, const char *label, int64_t total);

/* The C core of the handle. par_progress_begin returns the id of the new
** progress (> 0), or 0 when one is already active or when called inside a
** kernel. A still active progress of this thread that its caller failed
** to end (none of its runs is going on) is ended first. par_progress_end
** ends progress 'id' if it is the active one, from any thread. */
int par_progress_begin(const char *label, int64_t total);
void par_progress_end(int id);
/* Iterations counted so far by the active progress (0 if none). */
int64_t par_progress_done(void);

/* Counters of finished iterations: thread tid of a par_run adds to slot
** tid % PAR_PROGRESS_SLOTS, each slot on a cache line of its own. */
#define PAR_PROGRESS_SLOTS 64
typedef struct par_progress_slot {
  _Alignas(64) atomic_llong n;
} par_progress_slot;

/* For par_run, on entry and exit: the slots it must add its finished
** blocks to, or NULL; every enter is paired with a leave. */
par_progress_slot *par_progress_enter(void);
void par_progress_leave(par_progress_slot *slots);

/* ---- formatting (pure functions, exposed for tests) ---- */

/* Longest line drawn; wider terminals get this many columns. */
#define PAR_PROGRESS_MAXCOLS 240

/* x with 3 significant digits and a k/M/G/T/P suffix ("1.23k", "12.3M",
** "123G"); below 1000: an integer when 'integral', else 3 significant
** digits ("12.3", "0.50"). */
void par_progress_fmtnum(char *buf, size_t cap, double x, int integral);

/* Seconds as "mm:ss" below an hour, else "h:mm:ss"; negative, infinite,
** NaN or 100 hours and more: "--:--". */
void par_progress_fmttime(char *buf, size_t cap, double s);

/* The line for 'done' of 'total' iterations (total <= 0: unknown) after
** 'elapsed' seconds, fitted to a terminal of 'cols' columns (<= 0: 80):
** at most cols - 1 characters (never the last column, which would wrap).
** The bar takes the room left, and is dropped below 10 cells; then the
** label; then the line is cut. buf holds PAR_PROGRESS_MAXCOLS + 1 bytes.
** Returns the length. */
size_t par_progress_line(char *buf, const char *label, int64_t done, int64_t total,
                         double elapsed, int cols);

#endif
