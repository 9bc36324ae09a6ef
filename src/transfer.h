/*
** transfer.h: moving Lua values between lua_States (the caller of a
** parallel kernel and the worker states of the Lua mode).
**
** Values are encoded into a message (plain bytes, no Lua inside) in one
** state and decoded in another, so the two states never meet: the caller
** encodes the kernel before the parallel run, each worker decodes it in its
** own thread; workers encode the values their iterations return and the
** caller decodes them after the join.
**
** What crosses, and how:
**   nil, booleans, numbers, strings   copied
**   par arrays                         shared: the receiver gets a view of the
**                                      same memory (writes are seen by every
**                                      state), and the memory stays alive
**                                      while any state holds it
**   tables                             copied deeply, with their metatables;
**                                      cycles and shared references are kept
**                                      (within one message); writes to a
**                                      copy are NOT seen by the sender
**   Lua functions                      dumped and loaded, with their upvalues
**                                      (each crossing by these rules); a
**                                      receiver keeps the loaded prototypes
**                                      keyed by the dump, so later messages
**                                      with the same function do not reload
**                                      it. Each closure gets its own copy of
**                                      its upvalues: two closures sharing an
**                                      upvalue in the sender do not share it
**                                      in the receiver.
**   the global table                   the receiver's "kernel environment":
**                                      a fresh table per message holding the
**                                      globals the functions read, that falls
**                                      back to the receiver's own globals
**   library values                     C functions and tables reachable as
**                                      package.loaded[m] or its fields, for
**                                      the modules every parlua state opens
**                                      (_G, string, table, math, io, os,
**                                      coroutine, utf8, debug, package, par,
**                                      par.linalg), cross by name: math.sin
**                                      becomes the receiver's math.sin
**   userdata whose metatable has       copied byte for byte with their user
**   __par_plain = true                 values (par.jit/par.vectorize
**                                      callables); the receiver's metatable
**                                      of the same __name is used
** Anything else (coroutines, file handles, par.rng generators, other
** userdata, light userdata, C functions outside those modules) is an error
** naming the upvalue or global it was reached through:
**   cannot pass upvalue 'g' (a par.rng generator) to a parallel kernel
**
** Globals: a kernel message carries, besides the functions, the current
** value of every global variable those functions (and the functions they
** reach) read by name, found by scanning their bytecode: `x` in `return x`
** is OP_GETTABUP on the upvalue _ENV with constant "x". Values are read at
** each encoding, so a later assignment is seen by the next kernel call.
** Library values cross by name as above (`math`, `print` and `par` are the
** worker's own). Assignments to globals inside a kernel go to the kernel
** environment of that worker and are not seen by the caller.
*/
#ifndef PARLUA_TRANSFER_H
#define PARLUA_TRANSFER_H

#include <stddef.h>

#include "lua.h"

typedef struct par_msg par_msg;

/* A new empty message (malloc'd), or NULL when out of memory. */
par_msg *par_msg_new(void);
/* Frees a message and releases the array memory it holds (NULL is fine). */
void par_msg_free(par_msg *m);

/* Appends the kernel at 'idx' (a function or a callable that can cross)
** and the globals it reads. Raises a Lua error in L when something cannot
** cross. */
void par_msg_putkernel(lua_State *L, par_msg *m, int idx);
/* Appends the plain data value at 'idx': no functions, metatables are
** dropped. Raises "cannot return a function from a parallel kernel" (and
** the like) when the value holds something else. */
void par_msg_putvalue(lua_State *L, par_msg *m, int idx);

/* Pushes the values of a message, in order, and returns their count.
** Raises a Lua error in L when a value cannot be rebuilt there. */
int par_msg_get(lua_State *L, const par_msg *m);

/* Sets to nil the upvalues of the functions that messages decoded in L
** since the last call loaded (cached functions stay cached), so that the
** arrays and tables they reached can be collected. */
void par_msg_clear(lua_State *L);

/* An assignment found by par_scan_outer_write: 'name' (len bytes, inside
** the dump) of a global or an upvalue, at 'line'; name NULL for none. */
typedef struct par_write {
  const char *name;
  size_t len;
  int global, line;
} par_write;

/* Looks in the function of a lua_dump image (with debug information) and
** in the functions nested in it for the first assignment to a global or to
** a variable declared outside that function. Returns 0, or -1 when the
** image cannot be read. */
int par_scan_outer_write(const char *dump, size_t len, par_write *w);

/* Calls fn(ud, name, len, soft) for each global variable read by name in
** the function of a lua_dump image (of this Lua version) or in its nested
** functions. 'soft' is 1 for names that are only possibly globals (string
** constants of a function that uses _ENV as a value, as Lua compiles
** global accesses beyond its 256th constant). Returns 0, or -1 when the
** image cannot be read (a stripped image gives no names). */
int par_scan_globals(const char *dump, size_t len,
                     void (*fn)(void *ud, const char *name, size_t len, int soft),
                     void *ud);

#endif
