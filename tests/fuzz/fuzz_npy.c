/*
** fuzz_npy.c: libFuzzer target of the .npy reader (par.load): the input
** is the file. See driver_npy.lua for what is checked.
*/
#include "fuzz.h"

extern const char fuzz_prelude[], fuzz_driver[];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  fuzz_setup(fuzz_prelude, fuzz_driver, "=driver_npy.lua");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_setfile(data, size);
  lua_pushstring(fuzz_L, fuzz_path[0]);
  lua_pushstring(fuzz_L, fuzz_path[1]);
  fuzz_run(2);
  return 0;
}
