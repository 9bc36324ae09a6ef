/*
** capi.h: the runtime functions that separately loaded modules (par.linalg,
** later compiled kernels' loaders) call. They cannot link to the runtime's
** symbols directly, because par.so is loaded RTLD_LOCAL by a stock lua5.4;
** so the runtime publishes this table in the registry, as NumPy publishes
** its C-API in a capsule.
*/
#ifndef PARLUA_CAPI_H
#define PARLUA_CAPI_H

#include "array.h"

#define PAR_CAPI_KEY "par.capi"
#define PAR_CAPI_VERSION 1

typedef struct par_capi {
  int version;
  par_array *(*newarray)(lua_State *L, par_dtype dt, int ndim, int64_t n, int64_t m);
  par_array *(*checkarray)(lua_State *L, int arg);
  par_array *(*toarray)(lua_State *L, int idx);
  const char *(*shapestr)(const par_array *a, char *buf);
  int (*threads)(void);
  int (*in_parallel)(void);
} par_capi;

/* The runtime's table, or an error if `par` was not opened in L. */
static inline const par_capi *par_getcapi(lua_State *L) {
  const par_capi *api;
  lua_getfield(L, LUA_REGISTRYINDEX, PAR_CAPI_KEY);
  api = (const par_capi *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (api == NULL || api->version != PAR_CAPI_VERSION)
    luaL_error(L, "the par module is not loaded in this Lua state");
  return api;
}

#endif
