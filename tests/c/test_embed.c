/*
** test_embed.c: a C host opens parlua with one call (parlua.h) in a fresh
** lua_State: `par` is a global, `require "par"` returns it, and it works.
*/
#include <string.h>

#include "lauxlib.h"
#include "lualib.h"
#include "parlua.h"
#include "unit.h"

static int run(lua_State *L, const char *code) {
  int ok = luaL_dostring(L, code) == LUA_OK;
  if (!ok) fprintf(stderr, "error: %s\n", lua_tostring(L, -1));
  return ok;
}

/* Loads and runs 'line' as a host's REPL would, keeping its text or not. */
static int repl_line(lua_State *L, const char *line, int keep) {
  if (luaL_loadbuffer(L, line, strlen(line), "=myrepl") != LUA_OK) return 0;
  if (keep) parlua_keep_chunk(L, "=myrepl", line, strlen(line));
  return lua_pcall(L, 0, 0, 0) == LUA_OK;
}

/* Functions of a host's REPL compile when it keeps their text. */
static void test_keep_chunk(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  parlua_open(L);
  CHECK(repl_line(L, "f = function(i) return i * 7 end", 1));
  CHECK(repl_line(L, "g = function(i) return i * 8 end", 0));
  CHECK(run(L, "assert(par.explain(f):find('^native: yes'), par.explain(f))"));
  CHECK(run(L, "assert(par.map(f, par.array({1, 2}), {mode = 'native'}):get(2) == 14)"));
  CHECK(run(L, "assert(par.explain(g) == \"not native: the source of chunk 'myrepl' is not available\")"));
  lua_close(L);
}

int main(void) {
  lua_State *L = luaL_newstate();
  int top;
  luaL_openlibs(L);
  top = lua_gettop(L);
  CHECK(parlua_open(L) == 0);
  CHECK(lua_gettop(L) == top);
  CHECK(run(L, "assert(type(par) == 'table' and require('par') == par)"));
  CHECK(run(L, "assert(par.version == '" PARLUA_VERSION "')"));
  CHECK(run(L, "assert(par.threads() >= 1)"));
  CHECK(run(L, "assert(type(par.clock()) == 'number')"));
  lua_close(L);
  test_keep_chunk();
  return unit_report("embed");
}
