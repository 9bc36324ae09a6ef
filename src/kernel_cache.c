/*
** kernel_cache.c: compiles C source into a shared object with the system C
** compiler, caches it on disk under a hash of everything that affects the
** code, and loads it with dlopen. The contract is in kernel_cache.h.
** Sections: SHA-256, the key, the cache folder, objects on disk, running
** the compiler, building, eviction, loading.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel_cache.h"
#include "parlua.h"

#ifndef PARLUA_DEFAULT_CC
#define PARLUA_DEFAULT_CC "cc"
#endif

/* Flags added to every compile and link of a sanitizer build. */
#if defined(PARLUA_KERNEL_CFLAGS)
#define KERNEL_CFLAGS PARLUA_KERNEL_CFLAGS
#elif defined(__SANITIZE_ADDRESS__)
#define KERNEL_CFLAGS "-fsanitize=address"
#elif defined(__SANITIZE_THREAD__)
#define KERNEL_CFLAGS "-fsanitize=thread"
#else
#define KERNEL_CFLAGS ""
#endif

#define DEFAULT_MAX   ((int64_t)256 << 20)
#define STALE_SECONDS 3600        /* age after which a temporary file is junk */
#define MAX_OBJECT    ((off_t)1 << 30)
#define TRAILER       56          /* SHA-256, length, magic */
#define KEYHEX        64

static const char magic[16] = {'p','a','r','l','u','a','-','k','c','-','o','b','j','-','1','\n'};

static pthread_mutex_t kc_lock = PTHREAD_MUTEX_INITIALIZER;

static int setmsg(par_kc_result *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets r->status and r->msg; returns the status. */
static int setmsg(par_kc_result *r, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
  r->status = status;
  return status;
}


/* ---- SHA-256 (FIPS 180-4) ---- */

static uint32_t sha_k[64], sha_h0[8];
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;

/* floor(v^(1/k)) for k = 2 or 3 and a root below 2^36, by bisection. */
static uint64_t iroot(unsigned __int128 v, int k) {
  uint64_t lo = 0, hi = (uint64_t)1 << 36;
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    unsigned __int128 p = (unsigned __int128)mid * mid;
    if (k == 3) p *= mid;
    if (p <= v) lo = mid; else hi = mid;
  }
  return lo;
}

static int isprime(uint32_t p) {
  uint32_t d;
  for (d = 2; d * d <= p; d++)
    if (p % d == 0) return 0;
  return 1;
}

/* The constants as the standard defines them: the first 32 bits of the
** fractional parts of the square roots of the first 8 primes (initial
** hash) and of the cube roots of the first 64 primes (round constants),
** i.e. the low 32 bits of floor(sqrt(p * 2^64)) and floor(cbrt(p * 2^96)). */
static void sha_constants(void) {
  uint32_t p;
  int i = 0;
  for (p = 2; i < 64; p++) {
    if (!isprime(p)) continue;
    if (i < 8) sha_h0[i] = (uint32_t)iroot((unsigned __int128)p << 64, 2);
    sha_k[i++] = (uint32_t)iroot((unsigned __int128)p << 96, 3);
  }
}

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t load_be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void sha_block(uint32_t h[8], const uint8_t *b) {
  uint32_t w[64], v[8];
  int i;
  for (i = 0; i < 16; i++) w[i] = load_be32(b + 4 * i);
  for (i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  memcpy(v, h, sizeof v);
  for (i = 0; i < 64; i++) {   /* v = a b c d e f g h */
    uint32_t a = v[0], e = v[4];
    uint32_t t1 = v[7] + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
                  ((e & v[5]) ^ (~e & v[6])) + sha_k[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
                  ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
    memmove(v + 1, v, 7 * sizeof v[0]);
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (i = 0; i < 8; i++) h[i] += v[i];
}

void par_sha256_init(par_sha256 *s) {
  pthread_once(&sha_once, sha_constants);
  memcpy(s->h, sha_h0, sizeof s->h);
  s->len = 0;
}

void par_sha256_update(par_sha256 *s, const void *p, size_t n) {
  const uint8_t *b = p;
  size_t used = (size_t)(s->len % 64);
  s->len += n;
  if (used > 0) {
    size_t take = n < 64 - used ? n : 64 - used;
    memcpy(s->buf + used, b, take);
    b += take, n -= take;
    if (used + take < 64) return;
    sha_block(s->h, s->buf);
  }
  for (; n >= 64; b += 64, n -= 64) sha_block(s->h, b);
  memcpy(s->buf, b, n);
}

void par_sha256_final(par_sha256 *s, uint8_t out[32]) {
  uint64_t bits = s->len * 8;
  uint8_t pad[72] = {0x80};
  size_t padlen = 64 - (size_t)((s->len + 8) % 64), i;   /* 1..64 */
  for (i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
  par_sha256_update(s, pad, padlen + 8);
  for (i = 0; i < 32; i++) out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}


/* ---- the key: compiler, CPU, flags, source ---- */

/* One kernel to build and load. */
typedef struct job {
  const par_kc_options *o;
  const char *ccname;          /* the compiler as the user named it */
  char cc[PATH_MAX];           /* its resolved path */
  const char **argv;           /* room for one command line */
  int nuser;                   /* number of opts->flags */
  uint8_t key[32];
  char dir[PATH_MAX];          /* cache folder */
  int dfd;                     /* open on dir */
  int64_t max;                 /* size bound */
  char base[KEYHEX + 48];      /* <key>-<pid>-<random>: this build's files */
} job;

static int is_exec(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Finds the compiler (opts, $PARLUA_CC, build default; bare names in PATH). */
static int find_cc(job *j, par_kc_result *r) {
  const char *name = j->o->cc, *p;
  if (name == NULL || *name == '\0') name = getenv("PARLUA_CC");
  if (name == NULL || *name == '\0') name = PARLUA_DEFAULT_CC;
  j->ccname = name;
  if (strchr(name, '/') != NULL) {
    if ((size_t)snprintf(j->cc, sizeof j->cc, "%s", name) < sizeof j->cc && is_exec(j->cc))
      return 0;
    return setmsg(r, PAR_KC_NOCC, "no C compiler: '%s' %s (set PARLUA_CC)", name,
                  access(name, F_OK) == 0 ? "is not an executable file" : "not found");
  }
  p = getenv("PATH");
  if (p == NULL || *p == '\0') p = "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    size_t l = strcspn(p, ":");
    if ((size_t)snprintf(j->cc, sizeof j->cc, "%.*s/%s", l > 0 ? (int)l : 1,
                         l > 0 ? p : ".", name) < sizeof j->cc && is_exec(j->cc))
      return 0;
    if (p[l] == '\0') break;
    p += l + 1;
  }
  return setmsg(r, PAR_KC_NOCC, "no C compiler: '%s' not found in PATH (set PARLUA_CC)",
                name);
}

static void hash_field(par_sha256 *s, const void *p, size_t n) {
  uint8_t len[8];
  int i;
  for (i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)n >> (8 * i));
  par_sha256_update(s, len, 8);
  par_sha256_update(s, p, n);
}

static void hash_str(par_sha256 *s, const char *str) { hash_field(s, str, strlen(str)); }

/* The compiler's identity: its resolved binary and that file's inode, size
** and modification time (a compiler upgrade replaces the file). */
static void hash_compiler(par_sha256 *s, const job *j) {
  char real[PATH_MAX];
  struct stat st;
  long long id[4] = {0};
  hash_str(s, j->ccname);
  if (realpath(j->cc, real) == NULL) snprintf(real, sizeof real, "%s", j->cc);
  hash_str(s, real);
  if (stat(real, &st) == 0) {
    id[0] = (long long)st.st_ino, id[1] = (long long)st.st_size;
    id[2] = (long long)st.st_mtim.tv_sec, id[3] = st.st_mtim.tv_nsec;
  }
  hash_field(s, id, sizeof id);
}

/* Lines of /proc/cpuinfo that tell what -march=native selects (x86, ARM,
** POWER, RISC-V names; GCC also tunes for the cache size); clock speeds
** and core ids are left out. */
static int cpu_line_wanted(const char *line, size_t n) {
  static const char *const keys[] = {"vendor_id", "cpu family", "model", "model name",
    "flags", "cache size", "Features", "CPU implementer", "CPU architecture",
    "CPU variant", "CPU part", "cpu", "isa", "uarch", NULL};
  size_t k = strcspn(line, ":\t\n");
  int i;
  if (k >= n || line[k] == '\n') return 0;
  for (i = 0; keys[i] != NULL; i++)
    if (strlen(keys[i]) == k && memcmp(line, keys[i], k) == 0) return 1;
  return 0;
}

static char cpu_desc[8192];
static size_t cpu_len;
static int cpu_read;

/* Reads the first processor's block of /proc/cpuinfo (once per process)
** and keeps the wanted lines, after the machine name from uname. */
static void read_cpu(void) {
  static char buf[32768];
  struct utsname u;
  size_t n = 0, i;
  int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
  cpu_read = 1;
  cpu_len = uname(&u) == 0 ? (size_t)snprintf(cpu_desc, 256, "%s\n", u.machine) : 0;
  if (fd < 0) return;
  while (n < sizeof buf - 1) {
    ssize_t got = read(fd, buf + n, sizeof buf - 1 - n);
    if (got <= 0) break;
    n += (size_t)got;
    buf[n] = '\0';
    if (strstr(buf, "\n\n") != NULL) break;
  }
  close(fd);
  for (i = 0; i < n;) {
    size_t l = strcspn(buf + i, "\n");
    if (l == 0) break;                          /* end of the first block */
    if (cpu_line_wanted(buf + i, l) && cpu_len + l + 1 <= sizeof cpu_desc) {
      memcpy(cpu_desc + cpu_len, buf + i, l);
      cpu_len += l;
      cpu_desc[cpu_len++] = '\n';
    }
    i += l + 1;
  }
}

/* Command lines: one step (strict), or compile then link (fastmath). */
enum { STEP_ONE, STEP_COMPILE, STEP_LINK };

/* 512-bit vectors where the machine has them (GCC prefers 256 on some
** CPUs): libmvec's cos 8 at a time, stream batches 8 at a time. Strict
** kernels call libm's pow as Lua does: GCC turns pow(x, -1.0) into 1.0 / x,
** which differs from glibc's pow in the last bit of one result in 1,200. */
static const char *const strict_flags[] = {"-O2", "-march=native", "-mprefer-vector-width=512",
                                           "-ffp-contract=off", "-fno-math-errno",
                                           "-fno-builtin-pow", "-fPIC", "-pipe", NULL};
static const char *const fast_flags[] = {"-O2", "-march=native", "-mprefer-vector-width=512",
                                         "-ffast-math", "-fPIC", "-pipe", NULL};
static char *san_flags[32];       /* KERNEL_CFLAGS split at blanks */

static void split_san_flags(void) {
  static char buf[1024];
  char *save = NULL, *t;
  int n = 0;
  snprintf(buf, sizeof buf, "%s", KERNEL_CFLAGS);
  for (t = strtok_r(buf, " \t", &save); t != NULL && n < 31; t = strtok_r(NULL, " \t", &save))
    san_flags[n++] = t;
}

static int addall(const char **argv, int n, const char *const *v) {
  for (; v != NULL && *v != NULL; v++) argv[n++] = *v;
  return n;
}

/* Fills j->argv with the command line of 'step' (in, out: file paths) and
** returns its length. */
static int cmdline(job *j, int step, const char *in, const char *out) {
  const char **a = j->argv;
  int n = 0;
  a[n++] = j->ccname;
  if (step == STEP_ONE) n = addall(a, n, strict_flags);
  if (step == STEP_COMPILE) n = addall(a, n, fast_flags);
  n = addall(a, n, (const char *const *)san_flags);
  n = addall(a, n, j->o->flags);
  a[n++] = step == STEP_COMPILE ? "-c" : "-shared";
  a[n++] = "-o";
  a[n++] = out;
  a[n++] = in;
  if (step != STEP_COMPILE) a[n++] = "-lm";
  a[n] = NULL;
  return n;
}

static void hash_cmdline(par_sha256 *s, job *j, int step) {
  int i, n = cmdline(j, step, "", "");
  for (i = 1; i < n; i++) hash_str(s, j->argv[i]);
}

static void make_key(job *j, const char *src, size_t len) {
  par_sha256 s;
  par_sha256_init(&s);
  hash_str(&s, "parlua kernel cache 1");
  hash_str(&s, PARLUA_VERSION);
  hash_compiler(&s, j);
  if (!cpu_read) read_cpu();
  hash_field(&s, cpu_desc, cpu_len);
  if (j->o->fastmath) {
    hash_cmdline(&s, j, STEP_COMPILE);
    hash_cmdline(&s, j, STEP_LINK);
  }
  else hash_cmdline(&s, j, STEP_ONE);
  hash_field(&s, src, len);
  par_sha256_final(&s, j->key);
}

static void tohex(char *out, const uint8_t *b, size_t n) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}


/* ---- the cache folder ---- */

int64_t par_kc_parse_size(const char *s) {
  char *end;
  unsigned long long v;
  int shift = 0;
  if (s == NULL || *s < '0' || *s > '9') return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0) return -1;
  switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
  }
  if (shift > 0 && *end == 'i') end++;
  if (*end == 'B' && (shift > 0 || end[1] == '\0')) end++;
  if (*end != '\0' || v > ((unsigned long long)INT64_MAX >> shift)) return -1;
  return (int64_t)(v << shift);
}

int par_kc_cachedir(const par_kc_options *opts, char *buf, size_t n) {
  const char *d = opts != NULL ? opts->cache_dir : NULL, *home;
  int len;
  if (d == NULL || *d == '\0') d = getenv("PARLUA_CACHE");
  if (d != NULL && *d != '\0') len = snprintf(buf, n, "%s", d);
  else if ((d = getenv("XDG_CACHE_HOME")) != NULL && d[0] == '/')
    len = snprintf(buf, n, "%s/parlua", d);
  else {
    struct passwd *pw;
    home = getenv("HOME");
    if ((home == NULL || *home == '\0') && (pw = getpwuid(geteuid())) != NULL)
      home = pw->pw_dir;
    if (home == NULL || *home == '\0') {
      snprintf(buf, n, "no cache folder: set PARLUA_CACHE or HOME");
      return -1;
    }
    len = snprintf(buf, n, "%s/.cache/parlua", home);
  }
  if (len < 0 || (size_t)len >= n) {
    snprintf(buf, n, "cache folder path too long");
    return -1;
  }
  return 0;
}

/* mkdir -p with mode 0700 for every folder it creates. */
static int mkdirs(char *path) {
  char *p;
  for (p = path + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) { *p = '/'; return -1; }
    *p = '/';
  }
  return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Opens the cache folder, creating it if needed, and refuses a symbolic
** link, a folder of another user and one that others may write to.
** Sets j->dfd, or returns PAR_KC_CACHE with the reason. */
static int open_cachedir(job *j, par_kc_result *r) {
  struct stat st;
  const char *d = j->dir;
  if (mkdirs(j->dir) != 0)
    return setmsg(r, PAR_KC_CACHE, "cannot create cache folder '%s': %s", d, strerror(errno));
  if (lstat(d, &st) != 0)
    return setmsg(r, PAR_KC_CACHE, "cache folder '%s': %s", d, strerror(errno));
  if (S_ISLNK(st.st_mode))
    return setmsg(r, PAR_KC_CACHE, "cache folder '%s' refused: it is a symbolic link", d);
  j->dfd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (j->dfd < 0 || fstat(j->dfd, &st) != 0)
    return setmsg(r, PAR_KC_CACHE, "cache folder '%s': %s", d, strerror(errno));
  if (st.st_uid != geteuid())
    return setmsg(r, PAR_KC_CACHE, "cache folder '%s' refused: owned by another user "
                  "(uid %u)", d, (unsigned)st.st_uid);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return setmsg(r, PAR_KC_CACHE, "cache folder '%s' refused: writable by group or "
                  "others (mode %04o)", d, (unsigned)(st.st_mode & 07777));
  return PAR_KC_OK;
}

static int cache_bound(job *j, par_kc_result *r) {
  const char *s = getenv("PARLUA_CACHE_MAX");
  j->max = j->o->cache_max;
  if (j->max > 0) return PAR_KC_OK;
  j->max = s != NULL && *s != '\0' ? par_kc_parse_size(s) : DEFAULT_MAX;
  if (j->max < 0)
    return setmsg(r, PAR_KC_CACHE, "bad PARLUA_CACHE_MAX '%s' (bytes with an optional "
                  "K, M or G suffix)", s);
  return PAR_KC_OK;
}


/* ---- objects on disk: <object> <SHA-256> <length, 8 bytes LE> <magic> ---- */

static int read_all(int fd, uint8_t *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = pread(fd, buf + done, n - done, (off_t)done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    done += (size_t)got;
  }
  return 0;
}

static int write_all(int fd, const void *p, size_t n, off_t at) {
  const char *b = p;
  while (n > 0) {
    ssize_t put = pwrite(fd, b, n, at);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return -1;
    b += put, n -= (size_t)put, at += put;
  }
  return 0;
}

static void make_trailer(uint8_t t[TRAILER], const uint8_t *obj, size_t n) {
  par_sha256 s;
  int i;
  par_sha256_init(&s);
  par_sha256_update(&s, obj, n);
  par_sha256_final(&s, t);
  for (i = 0; i < 8; i++) t[32 + i] = (uint8_t)((uint64_t)n >> (8 * i));
  memcpy(t + 40, magic, sizeof magic);
}

/* Reads the regular file fd (at most MAX_OBJECT bytes) into a new buffer. */
static uint8_t *slurp(int fd, size_t *n) {
  struct stat st;
  uint8_t *buf;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_OBJECT) return NULL;
  *n = (size_t)st.st_size;
  buf = malloc(*n > 0 ? *n : 1);
  if (buf != NULL && read_all(fd, buf, *n) != 0) { free(buf); buf = NULL; }
  return buf;
}

/* Is fd a sealed object of ours, intact? */
static int verify_object(int fd) {
  struct stat st;
  uint8_t *buf, t[TRAILER];
  size_t n;
  int ok;
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return 0;
  if ((buf = slurp(fd, &n)) == NULL) return 0;
  ok = n > TRAILER;
  if (ok) {
    make_trailer(t, buf, n - TRAILER);
    ok = memcmp(t, buf + n - TRAILER, TRAILER) == 0;
  }
  free(buf);
  return ok;
}

/* Appends the trailer to the freshly linked object dir/name; mode 0600. */
static int seal_object(int dfd, const char *name) {
  uint8_t *buf, t[TRAILER];
  size_t n;
  int fd = openat(dfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW), rc = -1;
  if (fd < 0) return -1;
  if ((buf = slurp(fd, &n)) != NULL) {
    make_trailer(t, buf, n);
    rc = write_all(fd, t, TRAILER, (off_t)n) == 0 && fchmod(fd, 0600) == 0 ? 0 : -1;
    free(buf);
  }
  if (close(fd) != 0) rc = -1;
  return rc;
}


/* ---- running the compiler ---- */

extern char **environ;

/* Waits for pid; with a poll function, checks it every millisecond and
** kills the compiler's process group when it says stop (returns -1).
** Returns 0, or an errno value. */
static int wait_child(pid_t pid, int (*interrupted)(void), int *status) {
  struct timespec nap = {0, 1000000};
  for (;;) {
    pid_t w = waitpid(pid, status, interrupted != NULL ? WNOHANG : 0);
    if (w == pid) return 0;
    if (w < 0 && errno != EINTR) return errno;
    if (w == 0 && interrupted()) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
      return -1;
    }
    if (w == 0) nanosleep(&nap, NULL);
  }
}

/* Runs j->argv with stdin from /dev/null and stdout, stderr into logfd, in
** a new process group with default signal handling. Returns 0 (and the
** wait status), -1 if interrupted, or an errno value. */
static int spawn_wait(job *j, int logfd, int *status) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, def;
  pid_t pid;
  int e;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, logfd, 1);
  posix_spawn_file_actions_adddup2(&fa, logfd, 2);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGINT), sigaddset(&def, SIGPIPE), sigaddset(&def, SIGTERM);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                POSIX_SPAWN_SETPGROUP);
  e = posix_spawn(&pid, j->cc, &fa, &at, (char *const *)j->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return e != 0 ? e : wait_child(pid, j->o->interrupted, status);
}

/* Replaces every 'from' in s by the shorter-or-equal 'to', in place. */
static void replace_all(char *s, const char *from, const char *to) {
  size_t lf = strlen(from), lt = strlen(to);
  char *p;
  while ((p = strstr(s, from)) != NULL) {
    memmove(p + lt, p + lf, strlen(p + lf) + 1);
    memcpy(p, to, lt);
    s = p + lt;
  }
}

/* Appends the compiler's output (logfd) to r->msg, cut at a line end when
** it does not fit, with a note of what was left out; 'from' is replaced by
** 'to' in it (the temporary C file's name by the kept one's). */
static void append_log(par_kc_result *r, int logfd, const char *from, const char *to) {
  size_t used = strlen(r->msg), n;
  struct stat st;
  char *out = r->msg + used, *cut;
  ssize_t got;
  if (used + 128 >= sizeof r->msg || fstat(logfd, &st) != 0 || st.st_size == 0) return;
  got = pread(logfd, out + 1, sizeof r->msg - used - 64, 0);
  if (got <= 0) return;
  out[0] = '\n';
  n = (size_t)got;
  if ((off_t)n < st.st_size && (cut = memrchr(out + 1, '\n', n)) != NULL)
    n = (size_t)(cut - (out + 1));
  while (n > 0 && out[n] == '\n') n--;             /* out[n]: the last byte kept */
  out[n + 1] = '\0';
  replace_all(out, from, to);
  if ((off_t)got < st.st_size)
    snprintf(out + strlen(out), 64, "\n[... %lld more bytes of compiler output]",
             (long long)(st.st_size - (off_t)n));
}

/* Runs one compiler step; on failure sets r (keeping the C file as
** <key>.c when the compiler rejected it). */
static int run_step(job *j, int step, const char *in, const char *out, par_kc_result *r) {
  char name[KEYHEX + 64], kept[KEYHEX + 64];
  int status = 0, e, logfd;
  snprintf(name, sizeof name, "%s.log", j->base);
  logfd = openat(j->dfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (logfd < 0)
    return setmsg(r, PAR_KC_CACHE, "cannot write in cache folder '%s': %s", j->dir,
                  strerror(errno));
  unlinkat(j->dfd, name, 0);
  cmdline(j, step, in, out);
  e = spawn_wait(j, logfd, &status);
  if (e == -1) setmsg(r, PAR_KC_INTERRUPTED, "compilation interrupted");
  else if (e == ENOENT || e == EACCES || e == ENOEXEC)
    setmsg(r, PAR_KC_NOCC, "no C compiler: cannot run '%s': %s", j->cc, strerror(e));
  else if (e != 0) setmsg(r, PAR_KC_CCFAIL, "cannot run '%s': %s", j->cc, strerror(e));
  else if (WIFSIGNALED(status))
    setmsg(r, PAR_KC_CCFAIL, "C compiler '%s' killed by signal %d", j->ccname,
           WTERMSIG(status));
  else if (WEXITSTATUS(status) != 0) {
    snprintf(name, sizeof name, "%s.c", j->base);
    tohex(kept, j->key, 32);
    strcat(kept, ".c");
    if (renameat(j->dfd, name, j->dfd, kept) != 0) snprintf(kept, sizeof kept, "%s", name);
    setmsg(r, PAR_KC_CCFAIL, "C compiler '%s' failed (exit status %d); C source kept "
           "in %s/%s", j->ccname, WEXITSTATUS(status), j->dir, kept);
    append_log(r, logfd, name, kept);
  }
  close(logfd);
  return r->status;
}


/* ---- building ---- */

static uint64_t random64(void) {
  static uint64_t counter;
  uint64_t x = 0;
  struct timespec ts;
  if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x) {
    clock_gettime(CLOCK_REALTIME, &ts);
    x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15u ^ (uint64_t)ts.tv_sec;
  }
  return x + counter++;
}

/* Writes the source to a new <key>-<pid>-<random>.c, which reserves that
** base name for this build's files. */
static int write_source(job *j, const char *src, size_t len, par_kc_result *r) {
  char hex[KEYHEX + 1], name[sizeof j->base + 8];
  int fd = -1, tries;
  tohex(hex, j->key, 32);
  for (tries = 0; fd < 0 && tries < 100; tries++) {
    snprintf(j->base, sizeof j->base, "%s-%ld-%016llx", hex, (long)getpid(),
             (unsigned long long)random64());
    snprintf(name, sizeof name, "%s.c", j->base);
    fd = openat(j->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd >= 0 && write_all(fd, src, len, 0) == 0 && close(fd) == 0) return PAR_KC_OK;
  if (fd >= 0) { close(fd); unlinkat(j->dfd, name, 0); }
  return setmsg(r, PAR_KC_CACHE, "cannot write in cache folder '%s': %s", j->dir,
                strerror(errno));
}

static void evict(job *j, const char *keep);

/* Removes this build's temporary file with suffix 'sfx'. */
static void unlink_tmp(job *j, const char *sfx) {
  char name[sizeof j->base + 8];
  snprintf(name, sizeof name, "%s%s", j->base, sfx);
  unlinkat(j->dfd, name, 0);
}

/* Compiles (one or two steps), seals, loads, then renames into place: the
** object is loaded from its unique temporary name, so another process
** replacing or evicting <key>.so meanwhile cannot affect this one. */
static int build(job *j, const char *src, size_t len, par_kc_result *r) {
  char c[PATH_MAX + sizeof j->base + 8], o[sizeof c], so[sizeof c], name[sizeof j->base + 8];
  if (write_source(j, src, len, r) != PAR_KC_OK) return r->status;
  snprintf(c, sizeof c, "%s/%s.c", j->dir, j->base);
  snprintf(o, sizeof o, "%s/%s.o", j->dir, j->base);
  snprintf(so, sizeof so, "%s/%s.tmp", j->dir, j->base);
  if (j->o->fastmath) {
    if (run_step(j, STEP_COMPILE, c, o, r) == PAR_KC_OK) run_step(j, STEP_LINK, o, so, r);
    unlink_tmp(j, ".o");
  }
  else run_step(j, STEP_ONE, c, so, r);
  if (r->status == PAR_KC_OK) {
    snprintf(name, sizeof name, "%s.tmp", j->base);
    if (seal_object(j->dfd, name) != 0)
      setmsg(r, PAR_KC_CACHE, "cannot write in cache folder '%s': %s", j->dir, strerror(errno));
    else if ((r->handle = dlopen(so, RTLD_NOW | RTLD_LOCAL)) == NULL)
      setmsg(r, PAR_KC_DLOPEN, "dlopen failed: %s", dlerror());
  }
  if (r->status == PAR_KC_OK) {
    char final[KEYHEX + 4];
    tohex(final, j->key, 32);
    strcat(final, ".so");
    if (renameat(j->dfd, name, j->dfd, final) == 0) evict(j, final);
  }
  unlink_tmp(j, ".c");                /* gone already if kept as <key>.c */
  unlink_tmp(j, ".tmp");
  return r->status;
}


/* ---- eviction: least recently used first ---- */

typedef struct entry { char name[KEYHEX + 4]; int64_t size; struct timespec mtime; } entry;

static int older(const void *a, const void *b) {
  const struct timespec *x = &((const entry *)a)->mtime, *y = &((const entry *)b)->mtime;
  if (x->tv_sec != y->tv_sec) return x->tv_sec < y->tv_sec ? -1 : 1;
  return (x->tv_nsec > y->tv_nsec) - (x->tv_nsec < y->tv_nsec);
}

/* What a folder entry is: 1 <key>.so or <key>.c, 2 <key>-... (a build's
** temporary file), 0 anything else (never touched). */
static int classify(const char *name) {
  size_t i;
  for (i = 0; i < KEYHEX; i++)
    if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return 0;
  if (strcmp(name + KEYHEX, ".so") == 0 || strcmp(name + KEYHEX, ".c") == 0) return 1;
  return name[KEYHEX] == '-' ? 2 : 0;
}

/* Lists the cache entries of the folder (and deletes stale temporaries). */
static entry *list_entries(job *j, size_t *count) {
  entry *e = NULL, *grown;
  size_t n = 0, cap = 0;
  struct dirent *de;
  struct stat st;
  time_t now = time(NULL);
  int fd = dup(j->dfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) { if (fd >= 0) close(fd); *count = 0; return NULL; }
  rewinddir(d);              /* the duplicate shares dfd's position */
  while ((de = readdir(d)) != NULL) {
    int kind = classify(de->d_name);
    if (kind == 0 || fstatat(j->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) continue;
    if (kind == 2) {
      if (now - st.st_mtime > STALE_SECONDS) unlinkat(j->dfd, de->d_name, 0);
      continue;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      if ((grown = realloc(e, cap * sizeof *e)) == NULL) break;
      e = grown;
    }
    memcpy(e[n].name, de->d_name, strlen(de->d_name) + 1);   /* classify: 66 or 67 */
    e[n].size = (int64_t)st.st_size;
    e[n++].mtime = st.st_mtim;
  }
  closedir(d);
  *count = n;
  return e;
}

/* Deletes the least recently used entries, never 'keep', until the folder
** holds at most j->max bytes. */
static void evict(job *j, const char *keep) {
  size_t n, i;
  int64_t total = 0;
  entry *e = list_entries(j, &n);
  for (i = 0; i < n; i++) total += e[i].size;
  qsort(e, n, sizeof *e, older);
  for (i = 0; i < n && total > j->max; i++) {
    if (strcmp(e[i].name, keep) == 0) continue;
    if (unlinkat(j->dfd, e[i].name, 0) == 0 || errno == ENOENT) total -= e[i].size;
  }
  free(e);
}


/* ---- loading ---- */

typedef struct loaded { uint8_t key[32]; void *handle; } loaded;

static loaded *table;             /* keys loaded by this process */
static size_t ntable, captable;

static void *table_find(const uint8_t key[32]) {
  size_t i;
  for (i = 0; i < ntable; i++)
    if (memcmp(table[i].key, key, 32) == 0) return table[i].handle;
  return NULL;
}

static void table_add(const uint8_t key[32], void *handle) {
  if (ntable == captable) {
    size_t cap = captable ? 2 * captable : 16;
    loaded *grown = realloc(table, cap * sizeof *table);
    if (grown == NULL) return;            /* only the process table is lost */
    table = grown, captable = cap;
  }
  memcpy(table[ntable].key, key, 32);
  table[ntable++].handle = handle;
}

/* Loads <key>.so from the folder if it is there and intact (touching its
** mtime for LRU). Returns 1 when loaded, 0 when it must be built, -1 with
** r set when a valid object fails to load. */
static int load_cached(job *j, par_kc_result *r) {
  char name[KEYHEX + 4], path[PATH_MAX + 80];
  struct timespec touch[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  struct stat a, b;
  int fd;
  tohex(name, j->key, 32);
  strcat(name, ".so");
  snprintf(path, sizeof path, "%s/%s", j->dir, name);
  fd = openat(j->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  if (!verify_object(fd)) { close(fd); return 0; }
  futimens(fd, touch);
  if ((r->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
    const char *why = dlerror();
    /* evicted or replaced since it was checked: build it */
    int gone = fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
               a.st_dev != b.st_dev;
    if (!gone) setmsg(r, PAR_KC_DLOPEN, "dlopen failed: %s", why);
    close(fd);
    return gone ? 0 : -1;
  }
  close(fd);
  return 1;
}

static int load_locked(job *j, const char *src, size_t len, par_kc_result *r) {
  void *h;
  int got;
  if (find_cc(j, r) != PAR_KC_OK) return r->status;
  make_key(j, src, len);
  tohex(r->key, j->key, 32);
  if ((h = table_find(j->key)) != NULL) {
    r->handle = h;
    r->origin = PAR_KC_TABLE;
    return PAR_KC_OK;
  }
  if (par_kc_cachedir(j->o, j->dir, sizeof j->dir) != 0)
    return setmsg(r, PAR_KC_CACHE, "%s", j->dir);
  if (cache_bound(j, r) != PAR_KC_OK || open_cachedir(j, r) != PAR_KC_OK) return r->status;
  if ((got = load_cached(j, r)) < 0) return r->status;
  r->origin = got ? PAR_KC_DISK : PAR_KC_BUILT;
  if (!got && build(j, src, len, r) != PAR_KC_OK) return r->status;
  table_add(j->key, r->handle);
  return PAR_KC_OK;
}

int par_kc_load(const char *src, size_t len, const par_kc_options *opts,
                par_kc_result *r) {
  static const par_kc_options defaults;
  job j;
  const char *const *f;
  memset(r, 0, sizeof *r);
  memset(&j, 0, sizeof j);
  j.o = opts != NULL ? opts : &defaults;
  j.dfd = -1;
  for (f = j.o->flags; f != NULL && *f != NULL; f++) j.nuser++;
  j.argv = malloc((size_t)(j.nuser + 64) * sizeof *j.argv);
  if (j.argv == NULL) return setmsg(r, PAR_KC_CACHE, "not enough memory");
  pthread_mutex_lock(&kc_lock);
  if (san_flags[0] == NULL && KERNEL_CFLAGS[0] != '\0') split_san_flags();
  load_locked(&j, src, len, r);
  pthread_mutex_unlock(&kc_lock);
  if (j.dfd >= 0) close(j.dfd);
  free(j.argv);
  if (r->status != PAR_KC_OK) r->origin = 0, r->handle = NULL;
  return r->status;
}

void *par_kc_sym(void *handle, const char *name) {
  return handle != NULL ? dlsym(handle, name) : NULL;
}
