/*
** main.c: parlua, the stand-alone interpreter.
**
** It behaves like Lua 5.4's `lua` (options, `arg` table, LUA_INIT, exit
** codes, tracebacks, warnings, Ctrl-C, REPL) and adds the parlua options
** -t/--threads, --seed, --no-jit, --help and --version. In a terminal the
** REPL edits lines with GNU readline and keeps ~/.parlua_history.
*/
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "parallel.h"
#include "parlua.h"

#define PROGNAME     "parlua"
#define INIT_VAR     "LUA_INIT"
#define INIT_VARVER  INIT_VAR LUA_VERSUFFIX
#define MAX_THREADS  4096          /* as par.set_threads */
#define BANNER       PROGNAME " " PARLUA_VERSION " on " LUA_COPYRIGHT
#define VERSION_LINE PROGNAME " " PARLUA_VERSION " (" LUA_RELEASE ")"

static lua_State *globalL = NULL;      /* the state the SIGINT hook goes to */
static const char *progname = PROGNAME;


/* {==================================================================
** Ctrl-C
** =================================================================== */

/* sigaction without SA_RESTART, so a signal interrupts a blocking read */
static void setsignal (int sig, void (*handler)(int)) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/*
** Hook set by the SIGINT handler. A parallel loop that saw the interrupt
** flag has already raised "interrupted!" and cleared the flag; then
** there is nothing left to report.
*/
static void lstop (lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (par_interrupted()) {
    par_clear_interrupt();
    luaL_error(L, "interrupted!");
  }
}

/*
** SIGINT while Lua code runs: a signal handler cannot touch the state,
** so it only sets a hook (for Lua code) and the interrupt flag (for the
** C loops of par). A second Ctrl-C kills the process, as in lua.
*/
static void laction (int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  setsignal(sig, SIG_DFL);
  par_interrupt();
  lua_sethook(globalL, lstop, flag, 1);
}

/* Drops an interrupt that arrived too late to be delivered. */
static void endinterrupt (lua_State *L) {
  if (lua_gethook(L) == lstop) lua_sethook(L, NULL, 0, 0);
  par_clear_interrupt();
}

/* }================================================================== */


/* {==================================================================
** Messages
** =================================================================== */

static void write_usage (FILE *f) {
  fprintf(f,
  "usage: %s [options] [script [args]]\n"
  "Options:\n"
  "  -e stat            run the Lua statement 'stat'\n"
  "  -i                 go interactive after running 'script'\n"
  "  -l mod             set global 'mod' to require('mod')\n"
  "  -l g=mod           set global 'g' to require('mod')\n"
  "  -v                 print version information\n"
  "  -E                 ignore LUA_INIT, LUA_PATH and LUA_CPATH\n"
  "  -W                 turn warnings on\n"
  "  -t N, --threads N  use N worker threads\n"
  "  --seed S           seed the default random generator with integer S\n"
  "  --no-jit           run every kernel in Lua mode, never as native code\n"
  "  --help             print this help and exit\n"
  "  --version          print parlua's version and exit\n"
  "  --                 end of options\n"
  "  -                  end of options; run stdin as the script\n",
  progname);
  fflush(f);
}

/* Prints an error message, after the program name if there is one. */
static void l_message (const char *pname, const char *msg) {
  if (pname) lua_writestringerror("%s: ", pname);
  lua_writestringerror("%s\n", msg);
}

/*
** If 'status' is an error, prints the message on top of the stack (a
** string: made by Lua or by 'msghandler') and pops it.
*/
static int report (lua_State *L, int status) {
  if (status != LUA_OK) {
    l_message(progname, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status;
}

/* Message handler of all chunks: the message plus a traceback. */
static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {  /* not a string: try its __tostring */
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/*
** Calls the function below 'narg' arguments with 'msghandler' and the
** SIGINT handler in place. The previous SIGINT action comes back after
** (the terminal REPL's, or an inherited SIG_IGN).
*/
static int docall (lua_State *L, int narg, int nres) {
  int status;
  int base = lua_gettop(L) - narg;
  struct sigaction old;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  sigaction(SIGINT, NULL, &old);
  setsignal(SIGINT, laction);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  lua_remove(L, base);
  endinterrupt(L);
  return status;
}

/* -v and the REPL banner (Lua's testes/main.lua wants the copyright
** at the end of the line); --version prints VERSION_LINE. */
static void print_version (const char *text) {
  lua_writestring(text, strlen(text));
  lua_writeline();
}

/* }================================================================== */


/* {==================================================================
** Running chunks
** =================================================================== */

/*
** The 'arg' table: the script name at index 0, its arguments at 1, 2...,
** the interpreter and options at negative indices. Without a script,
** the interpreter's name is at index 0.
*/
static void createargtable (lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script == argc) script = 0;
  narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk (lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dofile (lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}

/* Loads a chunk without a file, keeping its text for the kernel compiler. */
static int loadtext (lua_State *L, const char *s, size_t len, const char *name) {
  int status = luaL_loadbuffer(L, s, len, name);
  if (status == LUA_OK) parlua_keep_chunk(L, name, s, len);
  return status;
}

static int dostring (lua_State *L, const char *s, const char *name) {
  return dochunk(L, loadtext(L, s, strlen(s), name));
}

/*
** The global 'load', keeping the text of a chunk given as a string under a
** name of its own ("=name" or "@name": debug.getinfo then has no text), so
** that the kernel compiler can read the functions it defines. A string
** chunk is loaded here, as Lua's load does (no extra C level, so the C
** stack limit falls where it does in lua); a reader function goes to
** Lua's load (upvalue 1).
*/
static int keepingload (lua_State *L) {
  size_t len;
  const char *s, *name, *mode;
  int env = lua_isnone(L, 4) ? 0 : 4;
  if (!lua_isstring(L, 1)) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
  }
  s = lua_tolstring(L, 1, &len);
  name = luaL_optstring(L, 2, s);
  mode = luaL_optstring(L, 3, "bt");
  if (luaL_loadbufferx(L, s, len, name, mode) != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;                              /* fail, message */
  }
  if ((name[0] == '=' || name[0] == '@') && s[0] != LUA_SIGNATURE[0])
    parlua_keep_chunk(L, name, s, len);
  if (env != 0) {                          /* env: the first upvalue */
    lua_pushvalue(L, env);
    if (lua_setupvalue(L, -2, 1) == NULL) lua_pop(L, 1);
  }
  return 1;
}

static void wrapload (lua_State *L) {
  lua_getglobal(L, "load");
  lua_pushcclosure(L, keepingload, 1);
  lua_setglobal(L, "load");
}

/* -l 'globname[=modname]': globname = require(modname) */
static int dolibrary (lua_State *L, const char *opt) {
  int status;
  const char *eq = strchr(opt, '=');
  lua_getglobal(L, "require");
  lua_pushstring(L, eq ? eq + 1 : opt);
  status = docall(L, 1, 1);
  if (status == LUA_OK) {
    const char *g = eq ? lua_pushlstring(L, opt, (size_t)(eq - opt))
                       : lua_pushstring(L, opt);
    lua_insert(L, -2);  /* the name stays below, anchoring 'g' */
    lua_setglobal(L, g);
    lua_pop(L, 1);
  }
  return report(L, status);
}

/* Pushes arg[1] .. arg[#arg], the script's arguments. */
static int pushargs (lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

/*
** Loads the script on stdin as luaL_loadfile(L, NULL) would (without a
** UTF-8 BOM and a first line starting with '#'), keeping its text.
*/
static int loadstdin (lua_State *L) {
  luaL_Buffer b;
  size_t n, len;
  const char *s, *nl;
  int status;
  luaL_buffinit(L, &b);
  while ((n = fread(luaL_prepbuffer(&b), 1, LUAL_BUFFERSIZE, stdin)) > 0)
    luaL_addsize(&b, n);
  luaL_pushresult(&b);
  if (ferror(stdin)) {
    lua_pushfstring(L, "cannot read stdin: %s", strerror(errno));
    lua_remove(L, -2);
    return LUA_ERRFILE;
  }
  s = lua_tolstring(L, -1, &len);
  if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, len -= 3;
  if (len > 0 && *s == '#') {  /* keep the '\n' for the line numbers */
    nl = memchr(s, '\n', len);
    n = nl ? (size_t)(nl - s) : len;
    s += n, len -= n;
    if (len > 1 && s[1] == LUA_SIGNATURE[0]) s++, len--;  /* binary */
  }
  status = loadtext(L, s, len, "=stdin");
  lua_remove(L, -2);
  return status;
}

static int handle_script (lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    status = loadstdin(L);
  else
    status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}

/* LUA_INIT_5_4, else LUA_INIT: a chunk, or '@file'. */
static int handle_luainit (lua_State *L) {
  const char *name = "=" INIT_VARVER;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return dostring(L, init, name);
}

/* }================================================================== */


/* {==================================================================
** Options
** =================================================================== */

/* bits of the mask returned by 'collectargs' */
#define has_error    1    /* bad option: see Options.error */
#define has_i        2    /* -i */
#define has_v        4    /* -v */
#define has_e        8    /* -e */
#define has_E        16   /* -E */
#define has_nojit    32   /* --no-jit */
#define has_help     64   /* --help */
#define has_version  128  /* --version */

enum { ERR_UNKNOWN = 1, ERR_NOARG };

typedef struct Options {
  int script;          /* first argument not handled: script or bad option */
  int error;           /* ERR_UNKNOWN or ERR_NOARG when has_error */
  const char *topt;    /* the thread option as written ('-t', '--threads') */
  const char *threads; /* its value, or NULL */
  const char *seed;    /* --seed value, or NULL */
} Options;

/*
** Does 'arg' name the long option "--name", alone or as "--name=value"?
** Sets *value to the text after '=', or NULL.
*/
static int islong (const char *arg, const char *name, const char **value) {
  size_t l = strlen(name);
  if (strncmp(arg + 2, name, l) != 0) return 0;
  if (arg[2 + l] == '\0') *value = NULL;
  else if (arg[2 + l] == '=') *value = arg + 3 + l;
  else return 0;
  return 1;
}

/* Does option 'arg' take the next word as its value? */
static int takesnext (const char *arg) {
  const char *v;
  if (arg[1] == '-')
    return (islong(arg, "threads", &v) || islong(arg, "seed", &v)) && v == NULL;
  return arg[1] != '\0' && strchr("elt", arg[1]) != NULL && arg[2] == '\0';
}

/*
** Value of option argv[*i]: 'inword' when it is not NULL, else the next
** word (advancing *i). As in lua, -e and -l refuse a next word that
** looks like an option; numbers may be negative.
*/
static const char *optvalue (char **argv, int *i, const char *inword, int strict) {
  if (inword != NULL) return inword;
  if (argv[*i + 1] == NULL || (strict && argv[*i + 1][0] == '-')) return NULL;
  return argv[++*i];
}

/* --threads, --seed, --no-jit, --help, --version: returns the option's
** bits, or minus an error code. */
static int longoption (char **argv, int *i, Options *o) {
  const char *arg = argv[*i], *v;
  if (islong(arg, "threads", &v)) {
    o->topt = "--threads";
    o->threads = optvalue(argv, i, v, 0);
    return o->threads ? 0 : -ERR_NOARG;
  }
  if (islong(arg, "seed", &v)) {
    o->seed = optvalue(argv, i, v, 0);
    return o->seed ? 0 : -ERR_NOARG;
  }
  if (strcmp(arg, "--no-jit") == 0) return has_nojit;
  if (strcmp(arg, "--help") == 0) return has_help;
  if (strcmp(arg, "--version") == 0) return has_version;
  return -ERR_UNKNOWN;
}

/* A single-letter option; returns its bits, or minus an error code. */
static int shortoption (char **argv, int *i, Options *o) {
  const char *arg = argv[*i];
  int c = arg[1];
  if (c == 'e' || c == 'l' || c == 't') {
    const char *v = optvalue(argv, i, arg[2] ? arg + 2 : NULL, c != 't');
    if (v == NULL) return -ERR_NOARG;
    if (c == 't') { o->topt = "-t"; o->threads = v; }
    return c == 'e' ? has_e : 0;
  }
  if (strchr("EWiv", c) == NULL || arg[2] != '\0') return -ERR_UNKNOWN;
  switch (c) {
    case 'E': return has_E;
    case 'i': return has_i | has_v;  /* -i implies -v */
    case 'v': return has_v;
    default: return 0;  /* -W acts in 'runargs' */
  }
}

/*
** Scans the options before any Lua code runs and returns the mask of
** those found (has_error for a bad one). Sets o->script to the script's
** index (argc if none), or to the bad option. --help and --version end
** the scan.
*/
static int collectargs (char **argv, Options *o) {
  int args = 0;
  int i;
  for (i = 1; argv[i] != NULL; i++) {
    int r;
    o->script = i;
    if (argv[i][0] != '-' || argv[i][1] == '\0')  /* script, or '-' */
      return args;
    if (strcmp(argv[i], "--") == 0) {
      o->script = i + 1;
      return args;
    }
    r = (argv[i][1] == '-') ? longoption(argv, &i, o) : shortoption(argv, &i, o);
    if (r < 0) {
      o->error = -r;
      return has_error;
    }
    args |= r;
    if (r & (has_help | has_version)) return args;
  }
  o->script = i;
  return args;
}

/* Prints the error for a bad option (and the usage) on stderr. */
static void print_badoption (const char *opt, int error) {
  if (error == ERR_NOARG)
    fprintf(stderr, "%s: '%s' needs argument\n", progname, opt);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, opt);
  write_usage(stderr);
}

/* Prints "bad value for 'opt' (why, got 'value')" on stderr; returns 0. */
static int badvalue (const char *opt, const char *why, const char *value) {
  fprintf(stderr, "%s: bad value for '%s' (%s, got '%s')\n",
          progname, opt, why, value);
  fflush(stderr);
  return 0;
}

/* Checks the -t value and sets the thread count; 0 if invalid. */
static int setthreads (const Options *o) {
  const char *s = o->threads;
  char *end;
  long n;
  if (s == NULL) return 1;
  errno = 0;
  n = strtol(s, &end, 10);
  if (*s < '0' || *s > '9' || *end != '\0' || n < 1)
    return badvalue(o->topt, "positive integer expected", s);
  if (errno == ERANGE || n > MAX_THREADS) {
    char why[32];
    snprintf(why, sizeof why, "at most %d threads", MAX_THREADS);
    return badvalue(o->topt, why, s);
  }
  par_set_threads((int)n);
  return 1;
}

/*
** Checks the --seed value: a number with an integer value, as Lua reads
** numbers (so 0x8000000000000005 and 1e3 work). Leaves the stack as is.
*/
static int checkseed (lua_State *L, const char *s) {
  lua_Number x;
  if (s == NULL) return 1;
  if (lua_stringtonumber(L, s) == 0)
    return badvalue("--seed", "number expected", s);
  x = lua_tonumber(L, -1);
  if (!lua_isinteger(L, -1) && !(isfinite(x) && x == floor(x))) {
    lua_pop(L, 1);
    return badvalue("--seed", "integer expected", s);
  }
  lua_pop(L, 1);
  return 1;
}

/* Calls par.seed(S) once par is open; 0 on error. */
static int doseed (lua_State *L, const char *s) {
  int top = lua_gettop(L);
  int ok;
  lua_getglobal(L, "par");
  ok = lua_getfield(L, -1, "seed") == LUA_TFUNCTION;
  if (!ok)
    l_message(progname, "--seed: the par.seed function is not available");
  else {
    lua_stringtonumber(L, s);
    ok = lua_pcall(L, 1, 0, 0) == LUA_OK;
    if (!ok)
      l_message(progname, lua_pushfstring(L, "--seed: %s",
                                          luaL_tolstring(L, -1, NULL)));
  }
  lua_settop(L, top);
  return ok;
}

/*
** Runs -e and -l, and -W (which affects the state), in order. Returns 0
** when some code raises an error.
*/
static int runargs (lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    const char *opt = argv[i];
    const char *value = takesnext(opt) ? argv[++i] : opt + 2;
    int status = LUA_OK;
    if (opt[1] == 'e')
      status = dostring(L, value, "=(command line)");
    else if (opt[1] == 'l')
      status = dolibrary(L, value);
    else if (opt[1] == 'W')
      lua_warning(L, "@on", 0);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

/* }================================================================== */


/* {==================================================================
** Read-Eval-Print Loop
** =================================================================== */

#define PROMPT       "> "
#define PROMPT2      ">> "
#define HISTORY_MAX  1000          /* entries kept, also in the file */
#define EOFMARK      "<eof>"
#define marklen      (sizeof(EOFMARK) - 1)

/* reading results besides 1 (a line), distinct from Lua's status codes */
#define NO_INPUT     (-1)          /* end of input */
#define DISCARDED    (-2)          /* Ctrl-C at the prompt */

static int use_readline;           /* stdin is a terminal */
static char histfile[4096];        /* "" when there is no history file */
static volatile sig_atomic_t prompt_interrupted;
static char *rl_result;            /* line handed over by readline */
static int rl_have_result;

static void prompt_sigint (int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

/* Readline set-up, only when a terminal REPL starts (start-up stays
** quick). Multi-line chunks stay one history entry across sessions. */
static void init_readline (void) {
  const char *home = getenv("HOME");
  rl_readline_name = PROGNAME;
  rl_catch_signals = 0;            /* Ctrl-C is ours: see 'read_tty' */
  history_comment_char = '#';      /* timestamps "#<time>" separate... */
  history_write_timestamps = 1;
  history_multiline_entries = 1;   /* ...the entries in the file */
  stifle_history(HISTORY_MAX);
  if (home != NULL && *home != '\0' &&
      snprintf(histfile, sizeof histfile, "%s/.parlua_history", home)
        < (int)sizeof histfile)
    read_history(histfile);
  else
    histfile[0] = '\0';
}

static void got_line (char *line) {
  rl_callback_handler_remove();
  rl_result = line;
  rl_have_result = 1;
}

/* Ctrl-C at the prompt: drop the line, leave the terminal clean. */
static void discard_tty_line (void) {
  rl_echo_signal_char(SIGINT);
  rl_free_line_state();
  rl_callback_sigcleanup();
  rl_callback_handler_remove();
  rl_crlf();
  fflush(rl_outstream);
}

/*
** Reads a line from the terminal with readline's callback interface, so
** that Ctrl-C can discard the input. 'prompt_sigint' handles SIGINT all
** through a terminal REPL (but inside 'docall'); here SIGINT is blocked
** except while waiting in pselect, so an earlier Ctrl-C is forgotten.
*/
static int read_tty (const char *prompt, char **line) {
  sigset_t block, old;
  int fd = fileno(rl_instream ? rl_instream : stdin);
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old);
  prompt_interrupted = 0;
  rl_have_result = 0;
  rl_callback_handler_install(prompt, got_line);
  while (!rl_have_result && !prompt_interrupted) {
    fd_set fds;
    int n;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    n = pselect(fd + 1, &fds, NULL, NULL, NULL, &old);
    if (n > 0)
      rl_callback_read_char();
    else if (n < 0 && errno != EINTR)
      got_line(NULL);  /* treat as end of input */
  }
  if (!rl_have_result) discard_tty_line();
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (!rl_have_result) return DISCARDED;
  *line = rl_result;
  return rl_result != NULL ? 1 : NO_INPUT;
}

/*
** Reads a line from a pipe or file, without line editing. The line is
** echoed after the prompt, as readline does, so that a transcript reads
** like a terminal session (Lua's own tests of lua -i expect this).
*/
static int read_plain (const char *prompt, char **line) {
  size_t cap = 0;
  ssize_t n;
  fputs(prompt, stdout);
  fflush(stdout);
  *line = NULL;
  n = getline(line, &cap, stdin);
  if (n < 0) {
    free(*line);
    return NO_INPUT;
  }
  if (n > 0 && (*line)[n - 1] == '\n') (*line)[--n] = '\0';
  fwrite(*line, 1, (size_t)n, stdout);
  fputc('\n', stdout);
  return 1;
}

/* Adds a non-empty chunk to the history and to the history file. */
static void saveline (const char *line) {
  if (!use_readline || line[0] == '\0') return;
  add_history(line);
  if (histfile[0] != '\0') {
    if (append_history(1, histfile) != 0) write_history(histfile);
    history_truncate_file(histfile, HISTORY_MAX);
  }
}

/*
** _PROMPT or _PROMPT2 through tostring, or the default; left on the
** stack to keep it anchored.
*/
static const char *get_prompt (lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL)
    return firstline ? PROMPT : PROMPT2;
  else {
    const char *p = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return p;
  }
}

/*
** Shows a prompt, reads a line and pushes it ("=expr" becomes "return
** expr", as in lua 5.4). Returns 1, NO_INPUT or DISCARDED.
*/
static int pushline (lua_State *L, int firstline) {
  char *b = NULL;
  const char *prmt = get_prompt(L, firstline);
  int st = use_readline ? read_tty(prmt, &b) : read_plain(prmt, &b);
  lua_pop(L, 1);  /* prompt */
  if (st != 1) return st;
  if (firstline && b[0] == '=')
    lua_pushfstring(L, "return %s", b + 1);
  else
    lua_pushstring(L, b);
  free(b);
  return 1;
}

/* A syntax error ending in <eof>: the chunk may go on in the next line. */
static int incomplete (lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    return lmsg >= marklen && strcmp(msg + lmsg - marklen, EOFMARK) == 0;
  }
  return 0;
}

/*
** Tries the line on the stack as 'return <line>;'. On success the
** compiled chunk replaces the line.
*/
static int addreturn (lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = loadtext(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);  /* modified line */
    saveline(line);
  }
  else
    lua_pop(L, 2);
  return status;
}

/*
** Compiles the chunk at index 1, reading more lines while it is
** incomplete. At the end of input the last syntax error stands.
*/
static int multiline (lua_State *L) {
  for (;;) {
    size_t len;
    const char *chunk = lua_tolstring(L, 1, &len);
    int status = loadtext(L, chunk, len, "=stdin");
    int st = incomplete(L, status) ? pushline(L, 0) : NO_INPUT;
    if (st == DISCARDED) return DISCARDED;
    if (st == NO_INPUT) {  /* complete, or no more input */
      saveline(chunk);
      return status;
    }
    lua_remove(L, -2);  /* error message */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/*
** Reads a chunk: first as 'return <line>' so that expressions show
** their values, then as statements, maybe over several lines. Leaves
** the function or the error message on the stack.
*/
static int loadline (lua_State *L) {
  int status;
  lua_settop(L, 0);
  status = pushline(L, 1);
  if (status != 1) return status;
  if ((status = addreturn(L)) != LUA_OK)
    status = multiline(L);
  if (status == DISCARDED) return status;
  lua_remove(L, 1);  /* the line */
  return status;
}

/* Prints the values on the stack with the global 'print'. */
static void l_print (lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      l_message(progname, lua_pushfstring(L, "error calling 'print' (%s)",
                                          lua_tostring(L, -1)));
  }
}

/*
** Reads, runs and prints until the end of input. In a terminal, a Ctrl-C
** outside a computation only sets 'prompt_interrupted' (see 'read_tty').
*/
static void doREPL (lua_State *L) {
  int status;
  const char *oldprogname = progname;
  progname = NULL;  /* no program name on errors in interactive mode */
  use_readline = isatty(STDIN_FILENO);
  if (use_readline) {
    init_readline();
    setsignal(SIGINT, prompt_sigint);
  }
  while ((status = loadline(L)) != NO_INPUT) {
    if (status == DISCARDED) continue;
    if (status == LUA_OK)
      status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) l_print(L);
    else report(L, status);
  }
  if (use_readline) setsignal(SIGINT, SIG_DFL);
  lua_settop(L, 0);
  lua_writeline();
  progname = oldprogname;
}

/* }================================================================== */


/*
** The interpreter, in protected mode: options first, then the state,
** LUA_INIT, -e/-l, the script and the REPL.
*/
static int pmain (lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  Options o = {0, 0, NULL, NULL, NULL};
  int args = collectargs(argv, &o);
  int script = o.script;
  luaL_checkversion(L);
  if (argv[0] && argv[0][0]) progname = argv[0];
  if (args & has_error) {
    print_badoption(argv[script], o.error);
    return 0;
  }
  if (args & has_help) {
    write_usage(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & has_version) {
    print_version(VERSION_LINE);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (!setthreads(&o) || !checkseed(L, o.seed)) return 0;
  if (args & has_nojit) par_set_jit(0);
  if (args & has_v) print_version(BANNER);
  if (args & has_E) {  /* libraries ignore LUA_PATH and friends */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  parlua_open(L);
  wrapload(L);
  if (o.seed != NULL && !doseed(L, o.seed)) return 0;
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & has_E) && handle_luainit(L) != LUA_OK) return 0;
  if (!runargs(L, argv, script)) return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
  if (args & has_i)
    doREPL(L);
  else if (script == argc && !(args & (has_e | has_v))) {  /* no arguments */
    if (isatty(STDIN_FILENO)) {
      print_version(BANNER);
      doREPL(L);
    }
    else dochunk(L, loadstdin(L));  /* stdin as a file, its text kept */
  }
  lua_pushboolean(L, 1);
  return 1;
}


int main (int argc, char **argv) {
  int status, result;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    l_message(argv[0], "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, &pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  result = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
