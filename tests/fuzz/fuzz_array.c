/*
** fuzz_array.c: libFuzzer target of the array constructors from Lua
** values: the input is a program that driver_array.lua turns into nested
** tables, numbers, booleans, strings and arrays.
*/
#include "fuzz.h"

extern const char fuzz_prelude[], fuzz_driver[];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  fuzz_setup(fuzz_prelude, fuzz_driver, "=driver_array.lua");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_pushlstring(fuzz_L, (const char *)data, size);
  fuzz_run(1);
  return 0;
}
