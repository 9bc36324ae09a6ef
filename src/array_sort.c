/* array_sort.c: stub, to be written. */
#include "modules.h"

void par_open_array_sort(lua_State *L) {
  (void)L;
}
