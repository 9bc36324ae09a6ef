/*
** kernel_cache.h: C source text to a loaded shared object, through an
** on-disk cache ("kc"). Pure C: no Lua, errors are returned, never raised.
**
** par_kc_load(src) hashes everything that affects the machine code (the
** source, the compiler as invoked and the identity of its binary, the
** flags, the CPU, PARLUA_VERSION) into a 256-bit key and returns a dlopen
** handle (RTLD_NOW | RTLD_LOCAL) for <cache>/<key>.so, compiling it first
** when it is missing or fails its checksum. Handles stay loaded for the
** life of the process; a key loaded once is served from a process table.
**
** Compiler: opts->cc, else $PARLUA_CC, else PARLUA_DEFAULT_CC (the compiler
** found at build time); a name without '/' is searched in PATH. It runs
** through posix_spawn (no shell) in its own process group, stdin from
** /dev/null, stdout and stderr captured. Flags:
**   strict:   -O2 -march=native -ffp-contract=off -fno-math-errno -fPIC
**             -pipe -shared ... -lm   (one step)
**   fastmath: -O2 -march=native -ffast-math -fPIC -pipe -c, then
**             -shared ... -lm without -ffast-math: GCC links crtfastmath.o
**             into anything linked with -ffast-math, and its constructor
**             turns on flush-to-zero for the whole process at dlopen.
** -ffp-contract=off keeps a*b+c from becoming an FMA (Lua rounds twice).
** -fno-math-errno only drops errno updates (kernels never read errno) so
** that sqrt inlines to one instruction; every result is unchanged.
** Sanitizer builds: the flags of the compile-time string
** PARLUA_KERNEL_CFLAGS (space-separated) are added to every compile and
** link; without it, an ASan or TSan build adds -fsanitize=address/thread.
** opts->flags adds more (e.g. -fopenmp, -I dirs); never -ffast-math.
**
** Compiler identity: the path as invoked (clang++ is clang under another
** name) plus the resolved binary's path, inode, size and mtime. A compiler
** upgrade replaces the driver binary, so it changes the key without running
** `cc --version` in every process.
**
** Cache folder: opts->cache_dir, else $PARLUA_CACHE, else
** $XDG_CACHE_HOME/parlua (absolute XDG path only), else ~/.cache/parlua.
** Missing folders are created with mode 0700. A folder that is a symbolic
** link, is owned by another user or is writable by group or others is
** refused (PAR_KC_CACHE): the caller then runs the kernel in Lua mode.
**
** Files: <key>.so is the object followed by a 56-byte trailer (SHA-256 of
** the object, its length, a magic string), checked before every dlopen
** from disk: a truncated or tampered object is rebuilt. Builds go to
** <key>-<pid>-<random>.* and are renamed into place, so processes building
** the same key at once all succeed. A C file the compiler rejects is kept
** as <key>.c. After each build the least recently used <key>.so and <key>.c
** files (mtime, touched on every load from disk) are deleted until the
** folder holds at most opts->cache_max bytes (0: $PARLUA_CACHE_MAX, bytes
** with an optional K, M or G suffix, default 256M); the new object is kept
** even when it alone exceeds the bound. Temporary files of crashed
** processes are removed after an hour.
**
** Thread-safe: one load at a time per process.
*/
#ifndef PARLUA_KERNEL_CACHE_H
#define PARLUA_KERNEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* par_kc_result.status */
enum {
  PAR_KC_OK = 0,
  PAR_KC_NOCC,        /* no C compiler: not found or not executable */
  PAR_KC_CCFAIL,      /* the compiler failed: msg has the kept C file and stderr */
  PAR_KC_CACHE,       /* the cache folder was refused or is unusable */
  PAR_KC_DLOPEN,      /* the object does not load: msg has dlerror() */
  PAR_KC_INTERRUPTED  /* opts->interrupted() said stop; the compiler was killed */
};

/* par_kc_result.origin */
enum {
  PAR_KC_TABLE = 1,   /* already loaded by this process */
  PAR_KC_DISK,        /* loaded from the cache folder */
  PAR_KC_BUILT        /* compiled by this call */
};

#define PAR_KC_MSGSIZE 4096

typedef struct par_kc_options {
  int fastmath;               /* -ffast-math (compile only, never at link) */
  const char *const *flags;   /* extra flags, NULL-terminated, or NULL */
  const char *cc;             /* NULL: $PARLUA_CC or PARLUA_DEFAULT_CC */
  const char *cache_dir;      /* NULL: $PARLUA_CACHE, XDG, ~/.cache/parlua */
  int64_t cache_max;          /* bytes; 0: $PARLUA_CACHE_MAX or 256 MiB */
  int (*interrupted)(void);   /* polled while the compiler runs; NULL: never */
} par_kc_options;

typedef struct par_kc_result {
  int status;                 /* PAR_KC_OK or an error above */
  int origin;                 /* when PAR_KC_OK: PAR_KC_TABLE/DISK/BUILT */
  void *handle;               /* when PAR_KC_OK: the dlopen handle */
  char key[65];               /* hex key (empty if no key could be made) */
  char msg[PAR_KC_MSGSIZE];   /* when not PAR_KC_OK: what failed, one or
                              ** more lines, no trailing newline */
} par_kc_result;

/* Loads (compiling if needed) the 'len' bytes of C source 'src' with
** options 'opts' (NULL: all defaults). Fills *r and returns r->status. */
int par_kc_load(const char *src, size_t len, const par_kc_options *opts,
                par_kc_result *r);

/* Address of symbol 'name' in a handle from par_kc_load, or NULL. */
void *par_kc_sym(void *handle, const char *name);

/* The cache folder that opts selects (not created, not checked) into buf.
** Returns 0, or -1 with a message in buf when no folder can be named. */
int par_kc_cachedir(const par_kc_options *opts, char *buf, size_t n);

/* "123", "64K", "256M", "2G" (also "256MB", "256MiB"): bytes, or -1. */
int64_t par_kc_parse_size(const char *s);

/* SHA-256 (FIPS 180-4), used for keys and object checksums. */
typedef struct par_sha256 {
  uint32_t h[8];
  uint64_t len;               /* bytes hashed so far */
  uint8_t buf[64];
} par_sha256;

void par_sha256_init(par_sha256 *s);
void par_sha256_update(par_sha256 *s, const void *p, size_t n);
void par_sha256_final(par_sha256 *s, uint8_t out[32]);

#endif
