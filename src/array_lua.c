/* array_lua.c: stub, to be written. */
#include "modules.h"

void par_open_array(lua_State *L) {
  (void)L;
}
