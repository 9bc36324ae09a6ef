/* native.c: stub, to be written. */
#include "modules.h"

void par_open_native(lua_State *L) {
  (void)L;
}
