/*
** transfer.c: moving values between lua_States (see transfer.h): the
** message format, the encoder (with the library-name map and the queue of
** globals), the decoder (with the per-state cache of loaded functions), and
** the scan of Lua 5.4 bytecode that finds the globals a function reads.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lualib.h"

#include "array.h"
#include "transfer.h"

/* Value tags of the message format. Tables, arrays, Lua functions and
** plain userdata get ids (1, 2, ...) in the order they are written, which
** is the order the decoder creates them; T_REF refers back to one. */
enum {
  T_END, T_NIL, T_FALSE, T_TRUE, T_INT, T_FLT, T_STR, T_REF, T_TABLE,
  T_ARRAY, T_LFUNC, T_NAMED, T_ENV, T_UDATA, T_GLOBAL
};

/* Deepest nesting of tables and functions a message may hold. */
#define MAXDEPTH 200

/* Longest path of fields an error message shows in full. */
#define MAXPATH 12

/* Functions loaded by a receiver are cached by dump, up to this many. */
#define MAXCACHE 256

/* Modules whose C functions and tables cross by name: those that every
** parlua state opens (luaL_openlibs and parlua_open), and par.linalg. */
static const char *const libmods[] = {
  "_G", "package", "coroutine", "table", "io", "os", "string", "math",
  "utf8", "debug", "par", "par.linalg", NULL
};

/* Registry keys. */
static char fninfokey;   /* sender: function -> {dump, names...} (weak keys) */
static char nameskey;    /* sender: library value -> name */
static char cachekey;    /* receiver: dump -> loaded function */
static char loadedkey;   /* receiver: functions of the last message */


/* {{{ messages */

struct par_msg {
  char *data;
  size_t len, cap;
  par_buffer **bufs;      /* array memory the message keeps alive */
  size_t nbufs, capbufs;
};

par_msg *par_msg_new(void) {
  return calloc(1, sizeof(par_msg));
}

void par_msg_free(par_msg *m) {
  size_t i;
  if (m == NULL) return;
  for (i = 0; i < m->nbufs; i++) par_buffer_release(m->bufs[i]);
  free(m->bufs);
  free(m->data);
  free(m);
}

/* Grows *p (of *cap elements of 'size' bytes) to hold 'need'. */
static int grow(void **p, size_t *cap, size_t need, size_t size) {
  size_t ncap = *cap < 64 ? 64 : *cap;
  void *q;
  while (ncap < need) ncap *= 2;
  if (ncap == *cap) return 1;
  q = realloc(*p, ncap * size);
  if (q == NULL) return 0;
  *p = q;
  *cap = ncap;
  return 1;
}

static void put(lua_State *L, par_msg *m, const void *p, size_t n) {
  if (m->len + n > m->cap && !grow((void **)&m->data, &m->cap, m->len + n, 1))
    luaL_error(L, "not enough memory");
  memcpy(m->data + m->len, p, n);
  m->len += n;
}

static void putbyte(lua_State *L, par_msg *m, int b) {
  unsigned char c = (unsigned char)b;
  put(L, m, &c, 1);
}

static void putu64(lua_State *L, par_msg *m, uint64_t v) {
  put(L, m, &v, sizeof v);
}

static void putlstr(lua_State *L, par_msg *m, const char *s, size_t len) {
  putu64(L, m, len);
  put(L, m, s, len);
}

/* Keeps b alive with the message; returns its index there. */
static size_t putbuffer(lua_State *L, par_msg *m, par_buffer *b) {
  if (m->nbufs == m->capbufs &&
      !grow((void **)&m->bufs, &m->capbufs, m->nbufs + 1, sizeof *m->bufs))
    luaL_error(L, "not enough memory");
  par_buffer_retain(b);
  m->bufs[m->nbufs] = b;
  return m->nbufs++;
}

/* }}} */


/* {{{ library names (sender side) */

/* Adds names for the modules of libmods present in L: each module table
** under its name, then each C function field as "module\0field". Tables
** in fields are not named (a user's table stored in _G is data). */
static void buildnames(lua_State *L, int map) {
  int i;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (i = 0; libmods[i] != NULL; i++) {
    if (lua_getfield(L, -1, libmods[i]) == LUA_TTABLE) {
      lua_pushstring(L, libmods[i]);
      lua_rawset(L, map);
    }
    else lua_pop(L, 1);
  }
  for (i = 0; libmods[i] != NULL; i++) {
    if (lua_getfield(L, -1, libmods[i]) == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_iscfunction(L, -1)) {
          lua_pushvalue(L, -1);
          if (lua_rawget(L, map) == LUA_TNIL) {
            lua_pushvalue(L, -2);
            lua_pushfstring(L, "%s", libmods[i]);
            lua_pushlstring(L, "", 1);
            lua_pushvalue(L, -6);
            lua_concat(L, 3);
            lua_rawset(L, map);
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Number of the modules of libmods loaded in L. */
static lua_Integer countmods(lua_State *L) {
  lua_Integer n = 0;
  int i;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (i = 0; libmods[i] != NULL; i++) {
    n += lua_getfield(L, -1, libmods[i]) == LUA_TTABLE;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return n;
}

/* Pushes the name map of L, rebuilt when 'fresh' or when the set of
** loaded library modules changed (par.linalg loads lazily). Field 0
** holds the module count it was built with. */
static void pushnames(lua_State *L, int fresh) {
  lua_Integer n = countmods(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &nameskey) == LUA_TTABLE && !fresh) {
    lua_rawgeti(L, -1, 0);
    if (lua_tointeger(L, -1) == n) {
      lua_pop(L, 1);
      return;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  buildnames(L, lua_gettop(L));
  lua_pushinteger(L, n);
  lua_rawseti(L, -2, 0);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &nameskey);
}

/* }}} */


/* {{{ encoder */

/* Where the value being encoded was reached from, for error messages: a
** variable (kind and name) or a field of the table above (its key). */
typedef struct Path {
  const struct Path *up;
  const char *kind;     /* "upvalue", "global"; NULL for a field */
  const char *name;     /* variable name */
  int key;              /* field: stack index of its key; 0: the metatable */
} Path;

typedef struct Enc {
  lua_State *L;
  par_msg *m;
  int kernel;           /* kernel mode: functions, globals, library names */
  int memo;             /* value -> id */
  lua_Integer nextid;
  int globals;          /* kernel mode: the global table */
  int names;            /* kernel mode: library value -> name */
  int names_fresh;      /* the name map was rebuilt during this encoding */
  int queue;            /* kernel mode: global names to send: name, soft */
  lua_Integer qhead, qtail;
  int depth;
  const Path *path;
} Enc;

static void encode(Enc *e, int idx);

/* Appends to b the key at stack index 'key' as Lua would write it. */
static void addkey(luaL_Buffer *b, lua_State *L, int key) {
  size_t len, i;
  const char *s;
  if (key == 0) {
    luaL_addstring(b, ".<metatable>");
    return;
  }
  switch (lua_type(L, key)) {
    case LUA_TSTRING:
      s = lua_tolstring(L, key, &len);
      for (i = 0; i < len && (s[i] == '_' || ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') ||
                              (i > 0 && s[i] >= '0' && s[i] <= '9')); i++) {}
      lua_pushfstring(L, i == len && len > 0 ? ".%s" : "[\"%s\"]", s);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, key)) lua_pushfstring(L, "[%I]", (LUAI_UACINT)lua_tointeger(L, key));
      else lua_pushfstring(L, "[%f]", (LUAI_UACNUMBER)lua_tonumber(L, key));
      break;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, key) ? "[true]" : "[false]");
      break;
    default:
      lua_pushfstring(L, "[%s]", luaL_typename(L, key));
      break;
  }
  luaL_addvalue(b);
}

/* Raises the error for a value that cannot cross: 'what' describes it
** ("a coroutine"); the path names the variable it was reached through. */
_Noreturn static void fail(Enc *e, const char *what) {
  lua_State *L = e->L;
  const Path *fields[MAXDEPTH + 2], *p, *var = NULL;
  int n = 0, i;
  luaL_Buffer b;
  for (p = e->path; p != NULL && var == NULL; p = p->up) {
    if (p->kind != NULL) var = p;
    else if (n < MAXDEPTH + 2) fields[n++] = p;
  }
  luaL_buffinit(L, &b);
  if (var != NULL) luaL_addstring(&b, var->name);
  for (i = n - 1; i >= 0; i--) {   /* outermost first; long paths lose their middle */
    if (n > MAXPATH && i == n - 5) {
      luaL_addstring(&b, "...");
      i = 3;
    }
    addkey(&b, L, fields[i]->key);
  }
  luaL_pushresult(&b);
  if (!e->kernel)
    luaL_error(L, "cannot return %s from a parallel kernel%s%s%s", what,
               lua_rawlen(L, -1) > 0 ? " (at " : "", lua_tostring(L, -1),
               lua_rawlen(L, -1) > 0 ? ")" : "");
  if (var == NULL)
    luaL_error(L, "cannot run %s as a parallel kernel", what);
  luaL_error(L, "cannot pass %s '%s' (%s) to a parallel kernel", var->kind,
             lua_tostring(L, -1), what);
  abort();   /* not reached */
}

/* Encodes the value at idx reached through the field whose key is at
** 'key' (0: a metatable) of the table being encoded. */
static void encodefield(Enc *e, int idx, int key) {
  Path p;
  p.up = e->path; p.kind = NULL; p.name = NULL; p.key = key;
  e->path = &p;
  encode(e, idx);
  e->path = p.up;
}

/* Encodes the value at idx reached through a variable. */
static void encodevar(Enc *e, int idx, const char *kind, const char *name) {
  Path p;
  p.up = e->path; p.kind = kind; p.name = name; p.key = 0;
  e->path = &p;
  encode(e, idx);
  e->path = p.up;
}

/* Writes a library value by name when the value at idx is one. */
static int putnamed(Enc *e, int idx) {
  lua_State *L = e->L;
  size_t len;
  const char *s;
  if (!e->kernel) return 0;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, e->names) != LUA_TSTRING) {
    lua_pop(L, 1);
    if (e->names_fresh || !lua_iscfunction(L, idx)) return 0;
    pushnames(L, 1);     /* a C function not seen yet: maybe a new one */
    lua_replace(L, e->names);
    e->names_fresh = 1;
    return putnamed(e, idx);
  }
  s = lua_tolstring(L, -1, &len);
  putbyte(L, e->m, T_NAMED);
  putlstr(L, e->m, s, len);
  lua_pop(L, 1);
  return 1;
}

/* Writes a reference when the value at idx was written before; else
** gives it the next id. */
static int putref(Enc *e, int idx) {
  lua_State *L = e->L;
  lua_pushvalue(L, idx);
  if (lua_rawget(L, e->memo) == LUA_TNUMBER) {
    putbyte(L, e->m, T_REF);
    putu64(L, e->m, (uint64_t)lua_tointeger(L, -1));
    lua_pop(L, 1);
    return 1;
  }
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_pushinteger(L, ++e->nextid);
  lua_rawset(L, e->memo);
  return 0;
}

static void enter(Enc *e) {
  if (++e->depth > MAXDEPTH) fail(e, "a value nested too deeply");
  luaL_checkstack(e->L, 12, "value nested too deeply");
}

static void encodetable(Enc *e, int idx) {
  lua_State *L = e->L;
  if (e->kernel && lua_rawequal(L, idx, e->globals)) {
    putbyte(L, e->m, T_ENV);
    return;
  }
  if (putnamed(e, idx) || putref(e, idx)) return;
  enter(e);
  putbyte(L, e->m, T_TABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int key = lua_gettop(L) - 1;
    encodefield(e, key, key);
    encodefield(e, key + 1, key);
    lua_pop(L, 1);
  }
  putbyte(L, e->m, T_END);
  if (e->kernel && lua_getmetatable(L, idx)) {
    encodefield(e, lua_gettop(L), 0);
    lua_pop(L, 1);
  }
  else
    putbyte(L, e->m, T_NIL);
  e->depth--;
}

static void encodearray(Enc *e, int idx, par_array *a) {
  lua_State *L = e->L;
  par_msg *m = e->m;
  if (putref(e, idx)) return;
  if (a->buf == NULL) fail(e, "a closed array");
  putbyte(L, m, T_ARRAY);
  putu64(L, m, putbuffer(L, m, a->buf));
  putu64(L, m, (uint64_t)((char *)a->data - (char *)par_buffer_data(a->buf)));
  putbyte(L, m, a->dtype);
  putbyte(L, m, a->ndim);
  putu64(L, m, (uint64_t)a->dim[0]);
  putu64(L, m, (uint64_t)a->dim[1]);
}

/* Userdata whose metatable says __par_plain: bytes and user values. */
static void encodeplain(Enc *e, int idx) {
  lua_State *L = e->L;
  size_t len;
  const char *name;
  int n, i;
  if (putref(e, idx)) return;
  enter(e);
  lua_getmetatable(L, idx);
  lua_getfield(L, -1, "__name");
  name = lua_tolstring(L, -1, &len);
  putbyte(L, e->m, T_UDATA);
  putlstr(L, e->m, name != NULL ? name : "", name != NULL ? len : 0);
  lua_pop(L, 2);
  putlstr(L, e->m, lua_touserdata(L, idx), lua_rawlen(L, idx));
  for (n = 0; lua_getiuservalue(L, idx, n + 1) != LUA_TNONE; n++) lua_pop(L, 1);
  lua_pop(L, 1);
  putu64(L, e->m, (uint64_t)n);
  for (i = 1; i <= n; i++) {
    lua_getiuservalue(L, idx, i);
    encode(e, lua_gettop(L));
    lua_pop(L, 1);
  }
  e->depth--;
}

static void encodeudata(Enc *e, int idx) {
  lua_State *L = e->L;
  par_array *a = par_toarray(L, idx);
  const char *what = "a userdata";
  if (a != NULL) {
    encodearray(e, idx, a);
    return;
  }
  if (lua_getmetatable(L, idx)) {
    int plain = lua_getfield(L, -1, "__par_plain") == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (plain && e->kernel) {
      lua_pop(L, 1);
      encodeplain(e, idx);
      return;
    }
    if (lua_getfield(L, -1, "__name") == LUA_TSTRING) {
      const char *name = lua_tostring(L, -1);
      if (strcmp(name, LUA_FILEHANDLE) == 0) what = "a file handle";
      else if (strcmp(name, "par.rng") == 0) what = "a par.rng generator";
      else what = lua_pushfstring(L, "a userdata of type '%s'", name);
    }
  }
  fail(e, what);
}

/* {{{ function info: the dump and the global names of a Lua function */

typedef struct Dumper {
  luaL_Buffer b;
  int init;
} Dumper;

static int dumpwriter(lua_State *L, const void *p, size_t size, void *ud) {
  Dumper *d = ud;
  if (!d->init) {
    d->init = 1;
    luaL_buffinit(L, &d->b);
  }
  luaL_addlstring(&d->b, p, size);
  return 0;
}

typedef struct Names {
  lua_State *L;
  int info, seen;       /* the info table; the names found (a set) */
  lua_Integer n;
} Names;

/* Scan callback: info[n] = name (soft names prefixed with a zero byte). */
static void addname(void *ud, const char *name, size_t len, int soft) {
  Names *nm = ud;
  lua_State *L = nm->L;
  luaL_checkstack(L, 4, NULL);
  lua_pushlstring(L, "", soft);
  lua_pushlstring(L, name, len);
  lua_concat(L, 2);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, nm->seen) == LUA_TNIL) {
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, nm->seen);
    lua_pushvalue(L, -2);
    lua_rawseti(L, nm->info, ++nm->n);
  }
  lua_pop(L, 2);
}

/* Pushes {dump, name1, name2, ...} for the Lua function at idx, from the
** cache of the sender's functions or made now. */
static void pushfninfo(lua_State *L, int idx) {
  Dumper d;
  Names nm;
  size_t len;
  const char *s;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &fninfokey) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_pushvalue(L, -1);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &fninfokey);
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_newtable(L);                       /* cache, info */
  nm.L = L; nm.info = lua_gettop(L); nm.n = 1;
  lua_pushvalue(L, idx);
  d.init = 0;
  lua_dump(L, dumpwriter, &d, 0);
  luaL_pushresult(&d.b);                 /* cache, info, f, dump */
  lua_remove(L, -2);
  lua_pushvalue(L, -1);
  lua_rawseti(L, nm.info, 1);
  s = lua_tolstring(L, -1, &len);
  lua_newtable(L);
  nm.seen = lua_gettop(L);
  if (par_scan_globals(s, len, addname, &nm) != 0)
    luaL_error(L, "cannot read the bytecode of a kernel function");
  lua_pop(L, 2);                         /* cache, info */
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  lua_remove(L, -2);
}

/* }}} */

/* Queues the global names of the function info on top. */
static void queuenames(Enc *e) {
  lua_State *L = e->L;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 2; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, e->queue, ++e->qtail);
  }
}

static void encodefunction(Enc *e, int idx) {
  lua_State *L = e->L;
  const char *name;
  size_t len;
  const char *dump;
  int n, i, env = 0;
  if (lua_iscfunction(L, idx)) {
    if (putnamed(e, idx)) return;
    fail(e, e->kernel ? "a C function from outside parlua's libraries" : "a function");
  }
  if (!e->kernel) fail(e, "a function");
  if (putref(e, idx)) return;
  enter(e);
  pushfninfo(L, idx);
  lua_rawgeti(L, -1, 1);
  dump = lua_tolstring(L, -1, &len);
  putbyte(L, e->m, T_LFUNC);
  putlstr(L, e->m, dump, len);
  lua_pop(L, 1);
  for (n = 0; lua_getupvalue(L, idx, n + 1) != NULL; n++) lua_pop(L, 1);
  putu64(L, e->m, (uint64_t)n);
  for (i = 1; i <= n; i++) {
    name = lua_getupvalue(L, idx, i);
    if (lua_rawequal(L, -1, e->globals)) {
      putbyte(L, e->m, T_ENV);
      env = 1;
    }
    else
      encodevar(e, lua_gettop(L), "upvalue", name);
    lua_pop(L, 1);
  }
  if (env) queuenames(e);
  lua_pop(L, 1);
  e->depth--;
}

static void encode(Enc *e, int idx) {
  lua_State *L = e->L;
  lua_Integer i;
  lua_Number f;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: putbyte(L, e->m, T_NIL); break;
    case LUA_TBOOLEAN: putbyte(L, e->m, lua_toboolean(L, idx) ? T_TRUE : T_FALSE); break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        i = lua_tointeger(L, idx);
        putbyte(L, e->m, T_INT);
        put(L, e->m, &i, sizeof i);
      }
      else {
        f = lua_tonumber(L, idx);
        putbyte(L, e->m, T_FLT);
        put(L, e->m, &f, sizeof f);
      }
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      putbyte(L, e->m, T_STR);
      putlstr(L, e->m, s, len);
      break;
    }
    case LUA_TTABLE: encodetable(e, idx); break;
    case LUA_TFUNCTION: encodefunction(e, idx); break;
    case LUA_TUSERDATA: encodeudata(e, idx); break;
    case LUA_TTHREAD: fail(e, "a coroutine");
    case LUA_TLIGHTUSERDATA: fail(e, "a light userdata");
    default: fail(e, luaL_typename(L, idx));   /* no other types in 5.4 */
  }
}

/* Can the global at idx, only possibly read, cross without an error? */
static int softok(Enc *e, int idx) {
  lua_State *L = e->L;
  int t = lua_type(L, idx);
  if (t == LUA_TNUMBER || t == LUA_TSTRING || t == LUA_TBOOLEAN ||
      par_toarray(L, idx) != NULL)
    return 1;
  lua_pushvalue(L, idx);
  t = lua_rawget(L, e->names);
  lua_pop(L, 1);
  return t == LUA_TSTRING;
}

/* Sends the queued globals (which may queue more). */
static void encodeglobals(Enc *e) {
  lua_State *L = e->L;
  int done;
  lua_newtable(L);
  done = lua_gettop(L);
  while (e->qhead < e->qtail) {
    size_t len;
    const char *s;
    int soft;
    lua_rawgeti(L, e->queue, ++e->qhead);
    s = lua_tolstring(L, -1, &len);
    soft = len > 0 && s[0] == '\0';
    lua_pushlstring(L, s + soft, len - (size_t)soft);   /* entry, name */
    lua_pushvalue(L, -1);
    if (lua_rawget(L, done) != LUA_TNIL) {
      lua_pop(L, 3);
      continue;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, done);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, e->globals) != LUA_TNIL && (!soft || softok(e, lua_gettop(L)))) {
      s = lua_tolstring(L, -2, &len);
      putbyte(L, e->m, T_GLOBAL);
      putlstr(L, e->m, s, len);
      encodevar(e, lua_gettop(L), "global", s);
    }
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
}

/* Encodes the value at idx; in kernel mode, then the globals it reads. */
static void encodetop(lua_State *L, par_msg *m, int idx, int kernel) {
  Enc e;
  int top = lua_gettop(L);
  idx = lua_absindex(L, idx);
  memset(&e, 0, sizeof e);
  e.L = L;
  e.m = m;
  e.kernel = kernel;
  luaL_checkstack(L, 20, NULL);
  lua_newtable(L);
  e.memo = lua_gettop(L);
  if (kernel) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    e.globals = lua_gettop(L);
    pushnames(L, 0);
    e.names = lua_gettop(L);
    lua_newtable(L);
    e.queue = lua_gettop(L);
  }
  encode(&e, idx);
  if (kernel) encodeglobals(&e);
  lua_settop(L, top);
}

void par_msg_putkernel(lua_State *L, par_msg *m, int idx) {
  encodetop(L, m, idx, 1);
}

void par_msg_putvalue(lua_State *L, par_msg *m, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN || t == LUA_TNIL) {
    Enc e;
    memset(&e, 0, sizeof e);
    e.L = L;
    e.m = m;
    encode(&e, lua_absindex(L, idx));
  }
  else
    encodetop(L, m, idx, 0);
}

/* }}} */


/* {{{ decoder */

typedef struct Dec {
  lua_State *L;
  const par_msg *m;
  size_t pos;
  int ids;              /* id -> value; [0] the kernel environment */
  lua_Integer nids;
  int depth;
} Dec;

_Noreturn static void corrupt(Dec *d) {
  luaL_error(d->L, "corrupt parallel-kernel message");
  abort();   /* not reached */
}

static const char *get(Dec *d, size_t n) {
  const char *p = d->m->data + d->pos;
  if (n > d->m->len - d->pos) corrupt(d);
  d->pos += n;
  return p;
}

static int getbyte(Dec *d) {
  return (unsigned char)*get(d, 1);
}

static uint64_t getu64(Dec *d) {
  uint64_t v;
  memcpy(&v, get(d, sizeof v), sizeof v);
  return v;
}

static const char *getlstr(Dec *d, size_t *len) {
  *len = (size_t)getu64(d);
  return get(d, *len);
}

static void decode(Dec *d);

/* Stores the value on top as the next id. */
static void setid(Dec *d) {
  lua_pushvalue(d->L, -1);
  lua_rawseti(d->L, d->ids, ++d->nids);
}

/* Pushes the kernel environment: a table of the globals the message
** carries, falling back to this state's globals. */
static void pushenv(Dec *d) {
  lua_State *L = d->L;
  if (lua_rawgeti(L, d->ids, 0) != LUA_TNIL) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawseti(L, d->ids, 0);
}

/* Pushes package.loaded[name] (for "a.b" not loaded yet: a.b reached
** from package.loaded.a, so par.linalg loads on first access). */
static void pushmodule(lua_State *L, const char *s, size_t len) {
  const char *dot = memchr(s, '.', len);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushlstring(L, s, len);
  if (lua_rawget(L, -2) == LUA_TNIL && dot != NULL) {
    lua_pop(L, 1);
    lua_pushlstring(L, s, (size_t)(dot - s));
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_pushlstring(L, dot + 1, len - (size_t)(dot - s) - 1);
      lua_gettable(L, -2);
      lua_remove(L, -2);
    }
  }
  lua_remove(L, -2);
}

/* Pushes the library value named "module" or "module\0field". */
static void pushnamed(Dec *d, const char *s, size_t len) {
  lua_State *L = d->L;
  const char *zero = memchr(s, '\0', len);
  size_t mlen = zero != NULL ? (size_t)(zero - s) : len;
  pushmodule(L, s, mlen);
  if (zero != NULL && lua_istable(L, -1)) {
    lua_pushlstring(L, zero + 1, len - mlen - 1);
    lua_gettable(L, -2);
    lua_remove(L, -2);
  }
  if (lua_isnil(L, -1)) {
    lua_pushlstring(L, s, mlen);
    lua_pushstring(L, zero != NULL ? "." : "");
    lua_pushlstring(L, zero != NULL ? zero + 1 : "", zero != NULL ? len - mlen - 1 : 0);
    lua_concat(L, 3);
    luaL_error(L, "library value '%s' is missing in a worker", lua_tostring(L, -1));
  }
}

/* Pushes the receiver's cache of loaded functions (dump -> function),
** emptied when full. Field "#" counts its entries (dumps start with
** "\x1bLua", so no dump is "#"). */
static int pushcache(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &cachekey) == LUA_TTABLE) {
    int full;
    lua_getfield(L, -1, "#");
    full = lua_tointeger(L, -1) >= MAXCACHE;
    lua_pop(L, 1);
    if (!full) return lua_gettop(L);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &cachekey);
  return lua_gettop(L);
}

/* Pushes the set of dumps this message has loaded so far (ids[-1]). */
static int pushused(Dec *d) {
  lua_State *L = d->L;
  if (lua_rawgeti(L, d->ids, -1) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, d->ids, -1);
  }
  return lua_gettop(L);
}

/* Pushes a function for a dump: the cached one if this message has not
** used it yet (its upvalues are then set afresh), else a new one. */
static void loadfunction(Dec *d, const char *dump, size_t len) {
  lua_State *L = d->L;
  int cache = pushcache(L), used = pushused(d), again, cached = 0;
  lua_pushlstring(L, dump, len);                    /* cache used dump */
  lua_pushvalue(L, -1);
  again = lua_rawget(L, used) != LUA_TNIL;
  lua_pop(L, 1);
  if (!again) {
    lua_pushvalue(L, -1);
    cached = lua_rawget(L, cache) == LUA_TFUNCTION;
    if (!cached) lua_pop(L, 1);
  }
  if (!cached) {
    if (luaL_loadbufferx(L, dump, len, "=(kernel)", "b") != LUA_OK) lua_error(L);
    if (!again) {
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, cache);
      lua_getfield(L, cache, "#");
      lua_pushinteger(L, lua_tointeger(L, -1) + 1);
      lua_setfield(L, cache, "#");
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, -2);                             /* cache used dump f */
  lua_pushboolean(L, 1);
  lua_rawset(L, used);
  lua_replace(L, cache);
  lua_pop(L, 2);
}

/* Remembers the function on top as one of the message's (for
** par_msg_clear). */
static void addloaded(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &loadedkey) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &loadedkey);
  }
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
}

static void decodefunction(Dec *d) {
  lua_State *L = d->L;
  size_t len, n, i;
  const char *dump = getlstr(d, &len);
  loadfunction(d, dump, len);
  setid(d);
  addloaded(L);
  n = (size_t)getu64(d);
  for (i = 1; i <= n; i++) {
    decode(d);
    if (lua_setupvalue(L, -2, (int)i) == NULL) corrupt(d);
  }
}

static void decodetable(Dec *d) {
  lua_State *L = d->L;
  lua_newtable(L);
  setid(d);
  while (d->pos < d->m->len && (unsigned char)d->m->data[d->pos] != T_END) {
    decode(d);
    decode(d);
    lua_rawset(L, -3);
  }
  get(d, 1);
  decode(d);
  if (lua_istable(L, -1)) lua_setmetatable(L, -2);
  else lua_pop(L, 1);
}

static void decodearray(Dec *d) {
  par_array base;
  size_t b = (size_t)getu64(d), off;
  int64_t n, m;
  int dt, ndim;
  if (b >= d->m->nbufs) corrupt(d);
  off = (size_t)getu64(d);
  dt = getbyte(d);
  ndim = getbyte(d);
  n = (int64_t)getu64(d);
  m = (int64_t)getu64(d);
  memset(&base, 0, sizeof base);
  base.buf = d->m->bufs[b];
  base.dtype = (par_dtype)dt;
  par_pushview(d->L, &base, (char *)par_buffer_data(base.buf) + off, ndim, n, m);
  setid(d);
}

static void decodeplain(Dec *d) {
  lua_State *L = d->L;
  size_t nlen, len, nuv, i;
  const char *name = getlstr(d, &nlen);
  const char *bytes = getlstr(d, &len);
  nuv = (size_t)getu64(d);
  if (nuv > 255) corrupt(d);
  memcpy(lua_newuserdatauv(L, len, (int)nuv), bytes, len);
  lua_pushlstring(L, name, nlen);
  if (lua_rawget(L, LUA_REGISTRYINDEX) != LUA_TTABLE)
    luaL_error(L, "no metatable for a userdata in a worker");
  lua_setmetatable(L, -2);
  setid(d);
  for (i = 1; i <= nuv; i++) {
    decode(d);
    lua_setiuservalue(L, -2, (int)i);
  }
}

static void decode(Dec *d) {
  lua_State *L = d->L;
  size_t len;
  const char *s;
  if (++d->depth > MAXDEPTH + 2) corrupt(d);
  luaL_checkstack(L, 12, "value nested too deeply");
  switch (getbyte(d)) {
    case T_NIL: lua_pushnil(L); break;
    case T_FALSE: lua_pushboolean(L, 0); break;
    case T_TRUE: lua_pushboolean(L, 1); break;
    case T_INT: {
      lua_Integer i;
      memcpy(&i, get(d, sizeof i), sizeof i);
      lua_pushinteger(L, i);
      break;
    }
    case T_FLT: {
      lua_Number f;
      memcpy(&f, get(d, sizeof f), sizeof f);
      lua_pushnumber(L, f);
      break;
    }
    case T_STR: s = getlstr(d, &len); lua_pushlstring(L, s, len); break;
    case T_REF:
      if (lua_rawgeti(L, d->ids, (lua_Integer)getu64(d)) == LUA_TNIL) corrupt(d);
      break;
    case T_TABLE: decodetable(d); break;
    case T_ARRAY: decodearray(d); break;
    case T_LFUNC: decodefunction(d); break;
    case T_NAMED: s = getlstr(d, &len); pushnamed(d, s, len); break;
    case T_ENV: pushenv(d); break;
    case T_UDATA: decodeplain(d); break;
    default: corrupt(d);
  }
  d->depth--;
}

int par_msg_get(lua_State *L, const par_msg *m) {
  Dec d;
  int n = 0;
  memset(&d, 0, sizeof d);
  d.L = L;
  d.m = m;
  lua_newtable(L);
  d.ids = lua_gettop(L);
  while (d.pos < m->len) {
    if ((unsigned char)m->data[d.pos] == T_GLOBAL) {
      size_t len;
      const char *s;
      get(&d, 1);
      s = getlstr(&d, &len);
      pushenv(&d);
      lua_pushlstring(L, s, len);
      decode(&d);
      lua_rawset(L, -3);
      lua_pop(L, 1);
    }
    else {
      decode(&d);
      n++;
    }
  }
  lua_remove(L, d.ids);
  return n;
}

void par_msg_clear(lua_State *L) {
  lua_Integer i, n;
  int j;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &loadedkey) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    for (j = 1; lua_getupvalue(L, -1, j) != NULL; j++) {
      lua_pop(L, 1);
      lua_pushnil(L);
      lua_setupvalue(L, -2, j);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &loadedkey);
}

/* }}} */


/* {{{ bytecode scan: the layout written by Lua 5.4's ldump.c */

/* Opcodes (lopcodes.h of Lua 5.4) and the instruction fields used. */
#define OP_GETUPVAL 9
#define OP_SETUPVAL 10
#define OP_GETTABUP 11
#define OPCODE(i) ((i) & 0x7f)
#define ARG_B(i) (((i) >> 16) & 0xff)
#define ARG_C(i) (((i) >> 24) & 0xff)

/* Constant tags (lobject.h: type | variant << 4). */
#define K_NIL 0x00
#define K_FALSE 0x01
#define K_TRUE 0x11
#define K_INT 0x03
#define K_FLT 0x13
#define K_SHRSTR 0x04
#define K_LNGSTR 0x14

typedef struct Reader {
  const unsigned char *p, *end;
  int bad;
  void (*fn)(void *ud, const char *name, size_t len, int soft);
  void *ud;
} Reader;

typedef struct Str {
  const char *s;        /* NULL: not a string */
  size_t len;
} Str;

static const unsigned char *take(Reader *r, size_t n) {
  const unsigned char *p = r->p;
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return NULL;
  }
  r->p += n;
  return p;
}

static unsigned rbyte(Reader *r) {
  const unsigned char *p = take(r, 1);
  return p != NULL ? *p : 0;
}

/* ldump's dumpSize: 7 bits a byte, most significant first, the last byte
** marked with 0x80. */
static size_t rsize(Reader *r) {
  size_t x = 0;
  unsigned b;
  do {
    if (x > (SIZE_MAX >> 7)) r->bad = 1;
    b = rbyte(r);
    x = (x << 7) | (b & 0x7f);
  } while (!(b & 0x80) && !r->bad);
  return r->bad ? 0 : x;
}

/* A dumped string (size + 1, then the bytes; size 0 for none). */
static Str rstring(Reader *r) {
  Str s = {NULL, 0};
  size_t n = rsize(r);
  if (n > 0) {
    s.len = n - 1;
    s.s = (const char *)take(r, s.len);
    if (s.s == NULL) s.len = 0;
  }
  return s;
}

/* Reads n entries into a new array (NULL when n is 0 or memory fails). */
static Str *newstrs(Reader *r, size_t n) {
  Str *v;
  if (n == 0 || r->bad) return NULL;
  if (n > (size_t)(r->end - r->p) || (v = calloc(n, sizeof *v)) == NULL) {
    r->bad = 1;
    return NULL;
  }
  return v;
}

static void rconstants(Reader *r, Str *k, size_t nk) {
  size_t i;
  for (i = 0; i < nk && !r->bad; i++)
    switch (rbyte(r)) {
      case K_NIL: case K_FALSE: case K_TRUE: break;
      case K_INT: case K_FLT: take(r, 8); break;
      case K_SHRSTR: case K_LNGSTR:
        k[i] = rstring(r);
        if (k[i].s == NULL) k[i].s = "";
        break;
      default: r->bad = 1;
    }
}

/* A function's line information: a delta per instruction, and absolute
** lines (pc, line pairs) where deltas do not fit. */
typedef struct Lines {
  const signed char *delta;
  size_t ndelta, nabs;
  size_t *abs;             /* 2 * nabs entries; NULL when none */
} Lines;

static void rlines(Reader *r, Lines *l) {
  size_t i;
  l->ndelta = rsize(r);
  l->delta = (const signed char *)take(r, l->ndelta);
  l->nabs = rsize(r);
  l->abs = NULL;
  if (l->nabs > 0 && !r->bad) {
    if (l->nabs > (size_t)(r->end - r->p) || (l->abs = malloc(2 * l->nabs * sizeof *l->abs)) == NULL)
      r->bad = 1;
    for (i = 0; l->abs != NULL && i < 2 * l->nabs; i++) l->abs[i] = rsize(r);
  }
}

/* The line of instruction pc (as luaG_getfuncline): the last absolute
** line at or before pc, then the deltas after it. */
static int pcline(const Lines *l, int linedefined, size_t pc) {
  size_t from = 0, i;
  int line = linedefined;
  for (i = 0; i < l->nabs && l->abs[2 * i] <= pc; i++) {
    from = l->abs[2 * i] + 1;
    line = (int)l->abs[2 * i + 1];
  }
  for (; from <= pc && from < l->ndelta; from++) line += l->delta[from];
  return line;
}

/* Skips the local variables of the debug information and returns the
** upvalue names. */
static Str *rnames(Reader *r, size_t *nnames) {
  size_t n, i;
  Str *names;
  for (n = rsize(r), i = 0; i < n && !r->bad; i++) {  /* locvars */
    rstring(r);
    rsize(r);
    rsize(r);
  }
  *nnames = rsize(r);
  names = newstrs(r, *nnames);
  for (i = 0; names != NULL && i < *nnames; i++) names[i] = rstring(r);
  return names;
}

/* Skips the debug information, keeping the upvalue names. */
static Str *rdebug(Reader *r, size_t *nnames) {
  Lines l;
  rlines(r, &l);
  free(l.abs);
  return rnames(r, nnames);
}

static int isenv(const Str *names, size_t n, unsigned b) {
  return b < n && names[b].len == 4 && memcmp(names[b].s, "_ENV", 4) == 0;
}

/* Reports the globals read by 'ncode' instructions at 'code'. */
static void scancode(Reader *r, const unsigned char *code, size_t ncode,
                     const Str *k, size_t nk, const Str *up, size_t nup) {
  size_t pc;
  int envvalue = 0;
  for (pc = 0; pc < ncode; pc++) {
    uint32_t i;
    memcpy(&i, code + 4 * pc, 4);
    if (OPCODE(i) == OP_GETTABUP && isenv(up, nup, ARG_B(i)) && ARG_C(i) < nk &&
        k[ARG_C(i)].s != NULL)
      r->fn(r->ud, k[ARG_C(i)].s, k[ARG_C(i)].len, 0);
    else if (OPCODE(i) == OP_GETUPVAL && isenv(up, nup, ARG_B(i)))
      envvalue = 1;
  }
  for (pc = 0; envvalue && pc < nk; pc++)
    if (k[pc].s != NULL) r->fn(r->ud, k[pc].s, k[pc].len, 1);
}

/* The part of a function's image before its upvalue descriptions. */
typedef struct Head {
  int linedefined;
  const unsigned char *code;
  size_t ncode, nk;
  Str *k;                /* the constants (strings only); the caller frees */
} Head;

static void rhead(Reader *r, int depth, Head *h) {
  if (depth > MAXDEPTH) r->bad = 1;
  rstring(r);                            /* source */
  h->linedefined = (int)rsize(r);
  rsize(r);                              /* lastlinedefined */
  take(r, 3);                            /* numparams, is_vararg, maxstacksize */
  h->ncode = rsize(r);
  if (h->ncode > SIZE_MAX / 4) r->bad = 1;
  h->code = take(r, h->ncode * 4);
  h->nk = rsize(r);
  h->k = newstrs(r, h->nk);
  rconstants(r, h->k, h->nk);
}

static void rfunction(Reader *r, int depth) {
  size_t nup, np, i;
  Head h;
  Str *up;
  rhead(r, depth, &h);
  take(r, 3 * rsize(r));                 /* upvalue descriptions */
  for (np = rsize(r), i = 0; i < np && !r->bad; i++) rfunction(r, depth + 1);
  up = rdebug(r, &nup);
  if (!r->bad) scancode(r, h.code, h.ncode, h.k, h.nk, up, nup);
  free(h.k);
  free(up);
}

/* Starts reading a lua_dump image (of this Lua version) at its main
** function; 0 when it is not one. */
static int rstart(Reader *r, const char *dump, size_t len) {
  static const unsigned char head[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08";
  r->p = (const unsigned char *)dump;
  r->end = r->p + len;
  r->bad = 0;
  r->fn = NULL;
  r->ud = NULL;
  if (len < sizeof head - 1 + 16 + 1 || memcmp(dump, head, sizeof head - 1) != 0) return 0;
  take(r, sizeof head - 1 + 16 + 1);     /* header, LUAC_INT, LUAC_NUM, nupvalues */
  return 1;
}

#define OP_SETTABUP 15
#define ARG_A(i) (((i) >> 7) & 0xff)

/* Looks in a function (depth 0: the kernel) and the functions nested in
** it for the first assignment to a global or to an upvalue whose variable
** lies outside the kernel; outer[u] tells the latter for the upvalues of
** the enclosing function. */
static void wfunction(Reader *r, int depth, const unsigned char *outer, size_t nouter,
                      par_write *w) {
  size_t nup, ndesc, np, i, pc;
  const unsigned char *desc;
  unsigned char *mine = NULL;
  Head h;
  Lines l;
  Str *up;
  rhead(r, depth, &h);
  ndesc = rsize(r);
  desc = take(r, 3 * ndesc);             /* instack, idx, kind */
  if (ndesc > 0 && !r->bad && (mine = malloc(ndesc)) == NULL) r->bad = 1;
  for (i = 0; mine != NULL && i < ndesc; i++)
    mine[i] = depth == 0 || (!desc[3 * i] && desc[3 * i + 1] < nouter && outer[desc[3 * i + 1]]);
  for (np = rsize(r), i = 0; i < np && !r->bad; i++) wfunction(r, depth + 1, mine, ndesc, w);
  rlines(r, &l);
  up = rnames(r, &nup);
  for (pc = 0; !r->bad && w->name == NULL && pc < h.ncode; pc++) {
    uint32_t ins;
    unsigned u;
    int global;
    memcpy(&ins, h.code + 4 * pc, 4);
    if (OPCODE(ins) == OP_SETUPVAL) u = ARG_B(ins), global = 0;
    else if (OPCODE(ins) == OP_SETTABUP) u = ARG_A(ins), global = 1;
    else continue;
    if (u >= nup || u >= ndesc || !mine[u] || up[u].s == NULL) continue;
    if (global != isenv(up, nup, u)) continue;   /* t.k = v on an upvalue t; _ENV = v */
    if (global && (ARG_B(ins) >= h.nk || h.k[ARG_B(ins)].s == NULL)) continue;
    w->global = global;
    w->name = global ? h.k[ARG_B(ins)].s : up[u].s;
    w->len = global ? h.k[ARG_B(ins)].len : up[u].len;
    w->line = pcline(&l, h.linedefined, pc);
  }
  free(h.k);
  free(up);
  free(mine);
  free(l.abs);
}

int par_scan_outer_write(const char *dump, size_t len, par_write *w) {
  Reader r;
  w->name = NULL;
  if (!rstart(&r, dump, len)) return -1;
  wfunction(&r, 0, NULL, 0, w);
  if (r.bad) w->name = NULL;
  return r.bad ? -1 : 0;
}

int par_scan_globals(const char *dump, size_t len,
                     void (*fn)(void *ud, const char *name, size_t len, int soft),
                     void *ud) {
  Reader r;
  if (!rstart(&r, dump, len)) return -1;
  r.fn = fn;
  r.ud = ud;
  rfunction(&r, 0);
  return r.bad ? -1 : 0;
}

/* }}} */
