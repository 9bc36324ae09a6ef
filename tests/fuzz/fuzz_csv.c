/*
** fuzz_csv.c: libFuzzer target of the delimited-text reader (par.loadtxt):
** the first byte picks the delimiter, the rest is the file. See
** driver_csv.lua for what is checked.
*/
#include "fuzz.h"

extern const char fuzz_prelude[], fuzz_driver[];

/* Delimiters savetxt can write back unambiguously (none occurs in a
** number or starts a comment). */
static const char *const delims[] = {",", ";", " ", "\t", "|", ", ", "::"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  fuzz_setup(fuzz_prelude, fuzz_driver, "=driver_csv.lua");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t ndelims = sizeof delims / sizeof delims[0];
  const char *delim = size > 0 ? delims[data[0] % ndelims] : ",";
  if (size > 0) fuzz_setfile(data + 1, size - 1);
  else fuzz_setfile(data, 0);
  lua_pushstring(fuzz_L, fuzz_path[0]);
  lua_pushstring(fuzz_L, fuzz_path[1]);
  lua_pushstring(fuzz_L, delim);
  fuzz_run(3);
  return 0;
}
