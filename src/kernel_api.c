/* kernel_api.c: stub, to be written. */
#include "modules.h"

void par_open_kernels(lua_State *L) {
  (void)L;
}
