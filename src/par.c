/*
** par.c: the `par` module: opens every part (like Lua's linit.c), loads
** par.linalg lazily (OpenBLAS costs milliseconds of start-up), and lets
** `require "par.bench"` and friends find the Lua files shipped with parlua.
*/
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capi.h"
#include "lauxlib.h"
#include "lualib.h"
#include "modules.h"
#include "parallel.h"
#include "parlua.h"

#ifndef PARLUA_CMOD_DIR
#define PARLUA_CMOD_DIR "/usr/local/lib/lua/5.4"
#endif
#ifndef PARLUA_LMOD_DIR
#define PARLUA_LMOD_DIR "/usr/local/share/lua/5.4"
#endif
#ifndef PARLUA_CMOD_REL
#define PARLUA_CMOD_REL "lib/lua/5.4"
#endif
#ifndef PARLUA_LMOD_REL
#define PARLUA_LMOD_REL "share/lua/5.4"
#endif

static void (*const parts[])(lua_State *L) = {
  par_open_parallel, par_open_timing, par_open_array, par_open_array_format,
  par_open_array_io, par_open_array_ops, par_open_array_math,
  par_open_array_reduce, par_open_array_sort, par_open_rng, par_open_kernels,
  par_open_native, par_open_chunk_texts, NULL
};

/* Folder of the file (executable or shared object) holding this code. */
static const char *own_dir(char *buf, size_t size) {
  Dl_info info;
  char *slash;
  if (dladdr((void *)own_dir, &info) == 0 || info.dli_fname == NULL) return ".";
  if (strchr(info.dli_fname, '/') == NULL) {
    /* the main program found through PATH: ask the kernel */
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0) return ".";
    buf[n] = '\0';
  }
  else
    snprintf(buf, size, "%s", info.dli_fname);
  slash = strrchr(buf, '/');
  if (slash != NULL) *slash = '\0';
  return buf;
}

/* Pushes the first readable path of a file of parlua's and returns 1, or
** returns 0. Looked for, in order: "<own dir>/<rel>" (the build tree),
** "<own dir>/../<reldir>/<rel_installed>" (an installed tree moved
** elsewhere, seen from bin/ or lib/), "<absdir>/<rel_installed>". */
static int find_file(lua_State *L, const char *rel, const char *reldir,
                     const char *absdir, const char *rel_installed) {
  char dir[4096];
  const char *own = own_dir(dir, sizeof dir);
  int i;
  lua_pushfstring(L, "%s/%s", own, rel);
  lua_pushfstring(L, "%s/../%s/%s", own, reldir, rel_installed);
  lua_pushfstring(L, "%s/%s", absdir, rel_installed);
  for (i = -3; i < 0; i++)
    if (access(lua_tostring(L, i), R_OK) == 0) {
      lua_pushvalue(L, i);
      lua_replace(L, -4);
      lua_pop(L, 2);
      return 1;
    }
  lua_pop(L, 3);
  return 0;
}

/* par.linalg, loaded at first use. */
static int load_linalg(lua_State *L) {
  lua_CFunction open;
  void *lib;
  if (!find_file(L, "par/linalg.so", PARLUA_CMOD_REL, PARLUA_CMOD_DIR, "par/linalg.so"))
    return luaL_error(L, "par.linalg: module file 'par/linalg.so' not found");
  lib = dlopen(lua_tostring(L, -1), RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return luaL_error(L, "par.linalg: %s", dlerror());
  open = (lua_CFunction)(void (*)(void))dlsym(lib, "luaopen_par_linalg");
  if (open == NULL) return luaL_error(L, "par.linalg: %s", dlerror());
  luaL_requiref(L, "par.linalg", open, 0);
  return 1;
}

/* __index of the par table: only 'linalg' is lazy. */
static int par_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "linalg") != 0)
    return 0;
  load_linalg(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, 1, "linalg");
  return 1;
}

/* package.searchers entry for the Lua modules shipped with parlua. */
static int search_par_lua(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  char rel[512];
  size_t i;
  if (strncmp(name, "par.", 4) != 0 || strlen(name) >= sizeof rel - 16)
    return 0;
  for (i = 0; name[i]; i++) rel[i] = name[i] == '.' ? '/' : name[i];
  memcpy(rel + i, ".lua", 5);
  lua_pushfstring(L, "lua/%s", rel);
  if (!find_file(L, lua_tostring(L, -1), PARLUA_LMOD_REL, PARLUA_LMOD_DIR, rel)) {
    lua_pushfstring(L, "no parlua file '%s'", rel);
    return 1;
  }
  lua_remove(L, -2);
  if (luaL_loadfile(L, lua_tostring(L, -1)) != LUA_OK) return lua_error(L);
  lua_insert(L, -2);       /* loader, file name */
  return 2;
}

static void add_searcher(lua_State *L) {
  lua_getglobal(L, "package");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "searchers");
    if (lua_istable(L, -1)) {
      lua_pushcfunction(L, search_par_lua);
      lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static const par_capi capi = {
  PAR_CAPI_VERSION, par_newarray, par_checkarray, par_toarray, par_shapestr,
  par_threads, par_in_parallel
};

/* A stock lua5.4 dlcloses par.so when it closes the state that loaded it,
** while libgomp's threads and the Lua-mode watcher still run code of par.so
** or of its libraries: keep the file loaded for the life of the process. */
static void keep_loaded(void) {
  Dl_info info;
  if (dladdr((void *)keep_loaded, &info) != 0 && info.dli_fname != NULL)
    dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

/* Keeps a copy of math's fields as they are now (registry "par.math0"):
** kernels call math's own functions (lua/par/jit/driver.lua). */
static void keep_math(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "par.math0") == LUA_TNIL) {
    lua_newtable(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "math") == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -6);
      }
    }
    lua_pop(L, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, "par.math0");
  }
  lua_pop(L, 1);
}

int luaopen_par(lua_State *L) {
  int i;
  keep_loaded();
  keep_math(L);
  lua_pushlightuserdata(L, (void *)&capi);
  lua_setfield(L, LUA_REGISTRYINDEX, PAR_CAPI_KEY);
  lua_newtable(L);
  for (i = 0; parts[i] != NULL; i++) parts[i](L);
  lua_pushliteral(L, PARLUA_VERSION);
  lua_setfield(L, -2, "version");
  lua_newtable(L);
  lua_pushcfunction(L, par_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  add_searcher(L);
  return 1;
}

int parlua_open(lua_State *L) {
  luaL_requiref(L, "par", luaopen_par, 1);
  lua_pop(L, 1);
  return 0;
}
