/* array_reduce.c: stub, to be written. */
#include "modules.h"

void par_open_array_reduce(lua_State *L) {
  (void)L;
}
