/*
** test_embed.c: a C host opens parlua with one call (parlua.h) in a fresh
** lua_State: `par` is a global, `require "par"` returns it, and it works.
*/
#include "lauxlib.h"
#include "lualib.h"
#include "parlua.h"
#include "unit.h"

static int run(lua_State *L, const char *code) {
  int ok = luaL_dostring(L, code) == LUA_OK;
  if (!ok) fprintf(stderr, "error: %s\n", lua_tostring(L, -1));
  return ok;
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
  return unit_report("embed");
}
