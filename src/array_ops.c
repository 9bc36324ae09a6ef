/* array_ops.c: stub, to be written. */
#include "modules.h"

void par_open_array_ops(lua_State *L) {
  (void)L;
}
