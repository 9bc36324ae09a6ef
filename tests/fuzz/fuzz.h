/*
** fuzz.h: what parlua's libFuzzer targets share. Each target is a Lua
** driver (a chunk run once per input in one lua_State with `par` open)
** plus the way the fuzzer's bytes reach it: as a file (an in-memory
** memfd, named /proc/self/fd/N) or as a Lua string.
**
** The driver calls the API under test in a pcall and checks that a
** failure is a clean Lua error with a clear message and that a success
** gives a consistent result (round trips). Any error escaping the driver
** is a finding: the harness prints it and aborts, so libFuzzer saves the
** input as a crash. Memory errors are ASan's and UBSan's to report.
*/
#ifndef PARLUA_FUZZ_H
#define PARLUA_FUZZ_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "parlua.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *fuzz_L;
static int fuzz_fd[2] = {-1, -1};     /* the input file, a scratch file */
static char fuzz_path[2][64];

/* Loads chunk 'text' named 'name', or aborts. */
static inline void fuzz_load(const char *text, const char *name) {
  if (luaL_loadbuffer(fuzz_L, text, strlen(text), name) != LUA_OK) {
    fprintf(stderr, "fuzz driver: %s\n", lua_tostring(fuzz_L, -1));
    abort();
  }
}

/* Opens the state, runs the prelude (helpers as globals) and keeps the
** driver. Arrays are capped below libFuzzer's RSS limit, so a huge shape
** is the "not enough memory" error under test, not an out-of-memory crash. */
static inline void fuzz_setup(const char *prelude, const char *driver, const char *name) {
  int k;
  setenv("PARLUA_MAX_MEMORY", "32M", 1);
  setenv("PARLUA_NUM_THREADS", "2", 1);
  fuzz_L = luaL_newstate();
  luaL_openlibs(fuzz_L);
  parlua_open(fuzz_L);
  for (k = 0; k < 2; k++) {
    fuzz_fd[k] = memfd_create("parlua-fuzz", 0);
    if (fuzz_fd[k] < 0) { perror("memfd_create"); abort(); }
    snprintf(fuzz_path[k], sizeof fuzz_path[k], "/proc/self/fd/%d", fuzz_fd[k]);
  }
  fuzz_load(prelude, "=driver_common.lua");
  if (lua_pcall(fuzz_L, 0, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz prelude: %s\n", lua_tostring(fuzz_L, -1));
    abort();
  }
  fuzz_load(driver, name);
  lua_setfield(fuzz_L, LUA_REGISTRYINDEX, "fuzz.driver");
}

/* Makes the input file hold exactly (data, size); the scratch file empty. */
static inline void fuzz_setfile(const uint8_t *data, size_t size) {
  if (ftruncate(fuzz_fd[0], 0) != 0 || ftruncate(fuzz_fd[1], 0) != 0 ||
      (size > 0 && pwrite(fuzz_fd[0], data, size, 0) != (ssize_t)size)) {
    perror("fuzz input file");
    abort();
  }
}

/* Runs the driver with the nargs values on top of the stack; aborts when
** an error escapes it. The state is collected after each input so that
** every run starts alike. */
static inline void fuzz_run(int nargs) {
  lua_State *L = fuzz_L;
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.driver");
  lua_insert(L, -nargs - 1);
  if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
    fprintf(stderr, "\n*** parlua fuzz finding: %s\n", luaL_tolstring(L, -1, NULL));
    abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT);
}

#endif
