/* array_io.c: stub, to be written. */
#include "modules.h"

void par_open_array_io(lua_State *L) {
  (void)L;
}
