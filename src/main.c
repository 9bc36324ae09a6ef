/* main.c: stub host. */
#include <stdio.h>

#include "lauxlib.h"
#include "lualib.h"
#include "parlua.h"

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  int status;
  luaL_openlibs(L);
  parlua_open(L);
  status = argc > 1 ? luaL_dofile(L, argv[argc - 1]) : 0;
  if (status != 0) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);
  return status != 0;
}
