/* timing.c: stub */
#include "modules.h"
void par_open_timing(lua_State *L) { (void)L; }
