/*
** chunk_texts.c: the texts of chunks that have no file (REPL lines, -e
** code, a script read from stdin), kept so that the kernel compiler can
** read the source of functions they define (debug.getinfo only gives the
** chunk's name, "=stdin"). The compiler checks a text against the
** function's bytecode before using it (lua/par/jit/sources.lua).
**
** Storage: registry["par.chunk_texts"][name] = {first = i, last = j,
** bytes = b, [i] = text, ..., [j] = text}; ids only grow, and the oldest
** texts go when a name holds more than MAX_TEXTS or MAX_BYTES.
*/
#include <string.h>

#include "lauxlib.h"
#include "modules.h"
#include "parlua.h"

#define REGKEY "par.chunk_texts"
#define MAX_TEXTS 2000
#define MAX_BYTES (16 * 1024 * 1024)

/* Pushes the field k of the table on top as an integer (0 if absent). */
static lua_Integer getint(lua_State *L, const char *k) {
  lua_Integer v;
  lua_getfield(L, -1, k);
  v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static void setint(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* Pushes the list of 'name', creating it if 'create'; else may push nil. */
static int getlist(lua_State *L, const char *name, int create) {
  if (!create && lua_getfield(L, LUA_REGISTRYINDEX, REGKEY) != LUA_TTABLE) return 0;
  if (create) luaL_getsubtable(L, LUA_REGISTRYINDEX, REGKEY);
  if (create) luaL_getsubtable(L, -1, name);
  else if (lua_getfield(L, -1, name) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

void parlua_keep_chunk(lua_State *L, const char *chunkname, const char *text, size_t len) {
  lua_Integer first, last, bytes;
  getlist(L, chunkname, 1);
  first = getint(L, "first");
  last = getint(L, "last");
  bytes = getint(L, "bytes") + (lua_Integer)len;
  if (first == 0) first = 1;
  lua_pushlstring(L, text, len);
  lua_rawseti(L, -2, ++last);
  while (first < last && (last - first >= MAX_TEXTS || bytes > MAX_BYTES)) {
    lua_rawgeti(L, -1, first);
    bytes -= (lua_Integer)lua_rawlen(L, -1);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, -2, first++);
  }
  setint(L, "first", first);
  setint(L, "last", last);
  setint(L, "bytes", bytes);
  lua_pop(L, 1);
}

/* par._chunk_texts(name): {{id = i, text = s}, ...}, the newest first. */
static int chunk_texts(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_Integer first, id;
  int k = 0;
  lua_newtable(L);
  if (!getlist(L, name, 0)) return 1;
  first = getint(L, "first");
  for (id = getint(L, "last"); id >= first && id > 0; id--) {
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
    lua_rawgeti(L, -2, id);
    lua_setfield(L, -2, "text");
    lua_rawseti(L, -3, ++k);
  }
  lua_pop(L, 1);
  return 1;
}

void par_open_chunk_texts(lua_State *L) {
  lua_pushcfunction(L, chunk_texts);
  lua_setfield(L, -2, "_chunk_texts");
}
