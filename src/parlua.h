/*
** parlua.h: embedding parlua in a C host.
**
**   lua_State *L = luaL_newstate();
**   luaL_openlibs(L);
**   parlua_open(L);          -- global `par`, and require "par" returns it
**
** Link with -lparlua (and the host's Lua 5.4).
*/
#ifndef PARLUA_H
#define PARLUA_H

#include "lua.h"

#define PARLUA_VERSION "0.1.0"

/* Opens the `par` module in L: sets the global `par` and
** package.loaded.par. Leaves the stack unchanged. Returns 0. */
int parlua_open(lua_State *L);

/* Keeps the text of a chunk that has no file (a REPL line, -e code), so
** that par.jit and the kernels can compile functions it defines: hosts
** with their own REPL call it for each chunk they load, with the same
** chunk name ("=stdin"). The newest texts of each name are kept. */
void parlua_keep_chunk(lua_State *L, const char *chunkname, const char *text, size_t len);

/* The module's entry point for `require "par"` in a stock lua5.4. */
int luaopen_par(lua_State *L);

#endif
