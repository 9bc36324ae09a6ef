/* lua_mode.c: stub, to be written. */
typedef int lua_mode_placeholder;
