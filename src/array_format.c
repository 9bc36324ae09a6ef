/* array_format.c: stub, to be written. */
#include "modules.h"

void par_open_array_format(lua_State *L) {
  (void)L;
}
