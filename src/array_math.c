/* array_math.c: stub, to be written. */
#include "modules.h"

void par_open_array_math(lua_State *L) {
  (void)L;
}
