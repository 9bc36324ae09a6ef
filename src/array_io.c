/*
** array_io.c: arrays in files. a:save(path) writes NumPy's .npy format
** (version 1.0, little-endian, C order, the header laid out as numpy.save
** lays it out); par.load(path) reads .npy files of versions 1.0 to 3.0 with
** any byte order, C or Fortran order, 0 to 2 dimensions, and dtypes
** f4/f8 (to float64), i1..i8 and u1..u8 (to int64), b1 (to bool).
** a:savetxt(path [, delim]) and par.loadtxt(path [, delim]) write and read
** delimited text (',' by default; " " means runs of blanks) as
** numpy.savetxt and numpy.loadtxt do: float64 result, '#' comments, blank
** lines skipped, a single row or column gives a 1-D array. Errors name the
** file (and the line); files are closed on every error.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "modules.h"

#define IOHANDLE "par.iohandle"
#define CHUNK    8192            /* elements converted per read */

/* Resources of one load or save, released by __close even on errors. */
typedef struct iohandle {
  FILE *f;
  char *line;                    /* loadtxt: the current line */
  size_t linecap;
  double *v;                     /* loadtxt: the values read so far */
  size_t n, cap;
} iohandle;

static int h_close(lua_State *L) {
  iohandle *h = (iohandle *)luaL_checkudata(L, 1, IOHANDLE);
  if (h->f != NULL) fclose(h->f);
  free(h->line);
  free(h->v);
  memset(h, 0, sizeof *h);
  return 0;
}

/* Pushes a to-be-closed handle on path opened with mode, or raises
** "path: reason". */
static iohandle *openfile(lua_State *L, const char *path, const char *mode) {
  iohandle *h = (iohandle *)lua_newuserdatauv(L, sizeof(iohandle), 0);
  memset(h, 0, sizeof *h);
  luaL_setmetatable(L, IOHANDLE);
  lua_toclose(L, -1);
  h->f = fopen(path, mode);
  if (h->f == NULL) luaL_error(L, "%s: %s", path, strerror(errno));
  return h;
}

/* Closes a file being written, raising if any write failed. */
static void finishwrite(lua_State *L, iohandle *h, const char *path) {
  int bad = ferror(h->f);
  int err = errno;
  if (fclose(h->f) != 0) {
    bad = 1;
    err = errno;
  }
  h->f = NULL;
  if (bad) luaL_error(L, "%s: write error (%s)", path, strerror(err));
}

static int hostbig(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 0;
}

static void swapbytes(unsigned char *p, int size) {
  int k;
  for (k = 0; k < size / 2; k++) {
    unsigned char c = p[k];
    p[k] = p[size - 1 - k];
    p[size - 1 - k] = c;
  }
}

/* ======================================================================
** .npy writing
** ====================================================================== */

/* Writes n elements of es bytes as little-endian. */
static void writele(FILE *f, const void *data, int64_t n, int es) {
  unsigned char buf[CHUNK * 8];
  const unsigned char *p = (const unsigned char *)data;
  int64_t done, k;
  if (!hostbig() || es == 1) {
    fwrite(data, (size_t)es, (size_t)n, f);
    return;
  }
  for (done = 0; done < n; done += k) {
    k = n - done < CHUNK ? n - done : CHUNK;
    memcpy(buf, p + done * es, (size_t)(k * es));
    for (int64_t i = 0; i < k; i++) swapbytes(buf + i * es, es);
    fwrite(buf, (size_t)es, (size_t)k, f);
  }
}

/* a:save(path): the header dict, blanks for growth and alignment (data at a
** multiple of 64 bytes), '\n', then the data. */
static int a_save(lua_State *L) {
  static const char *const descr[] = {"<f8", "<i8", "|b1"};
  par_array *a = par_checkarray(L, 1);
  const char *path = luaL_checkstring(L, 2);
  char head[160], shape[48], dim0[24];
  int len, hlen, pad;
  iohandle *h;
  len = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                 descr[a->dtype], par_shapestr(a, shape));
  /* numpy.save leaves room to grow the first dimension to 21 digits */
  hlen = len + 21 - snprintf(dim0, sizeof dim0, "%lld", (long long)a->dim[0]) + 1;
  pad = 64 - (10 + hlen) % 64;
  h = openfile(L, path, "wb");
  fwrite("\x93NUMPY\x01\x00", 1, 8, h->f);
  fputc((hlen + pad) & 0xff, h->f);
  fputc((hlen + pad) >> 8, h->f);
  fputs(head, h->f);
  fprintf(h->f, "%*s\n", hlen - 1 - len + pad, "");
  writele(h->f, a->data, a->size, (int)par_dtype_size(a->dtype));
  finishwrite(L, h, path);
  return 0;
}

/* ======================================================================
** .npy reading
** ====================================================================== */

typedef struct npyhead {
  char kind;             /* 'f', 'i', 'u' or 'b' */
  int size;              /* bytes per element */
  int swap;              /* data byte order differs from the host's */
  int fortran;
  int ndim;
  int64_t dim[2];
  char descr[32];
} npyhead;

static void skipws(const char **s) {
  while (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r') (*s)++;
}

/* Reads a quoted Python string into out (at most size - 1 chars). */
static int pystring(const char **s, char *out, size_t size) {
  char q = **s;
  size_t n = 0;
  if (q != '\'' && q != '"') return 0;
  for ((*s)++; **s != q; (*s)++) {
    if (**s == '\0' || n + 1 >= size) return 0;
    out[n++] = **s;
  }
  (*s)++;
  out[n] = '\0';
  return 1;
}

/* Reads a tuple of non-negative ints into h->dim (counting all of them). */
static int pytuple(const char **s, npyhead *h) {
  if (**s != '(') return 0;
  (*s)++;
  for (h->ndim = 0;; h->ndim++) {
    int64_t v = 0;
    skipws(s);
    if (**s == ')') break;
    if (**s < '0' || **s > '9') return 0;
    for (; **s >= '0' && **s <= '9'; (*s)++) {
      if (v > ((int64_t)1 << 56)) return 0;
      v = v * 10 + (**s - '0');
    }
    if (**s == 'L') (*s)++;              /* Python 2 long */
    if (h->ndim < 2) h->dim[h->ndim] = v;
    skipws(s);
    if (**s == ',') (*s)++;
    else if (**s != ')') return 0;
  }
  (*s)++;
  return 1;
}

/* Parses the header dict into h; returns 1 when well formed. */
static int parsehead(const char *s, npyhead *h) {
  int seen = 0;
  skipws(&s);
  if (*s++ != '{') return 0;
  for (;;) {
    char key[32];
    skipws(&s);
    if (*s == '}') break;
    if (!pystring(&s, key, sizeof key)) return 0;
    skipws(&s);
    if (*s++ != ':') return 0;
    skipws(&s);
    if (strcmp(key, "descr") == 0 && *s == '[') {      /* structured */
      size_t n = strcspn(s, "]");
      snprintf(h->descr, sizeof h->descr, "%.*s]", (int)n, s);
      s += s[n] == ']' ? n + 1 : n;
      seen |= 1;
    }
    else if (strcmp(key, "descr") == 0 && pystring(&s, h->descr, sizeof h->descr)) seen |= 1;
    else if (strcmp(key, "fortran_order") == 0 && strncmp(s, "True", 4) == 0) {
      h->fortran = 1;
      s += 4;
      seen |= 2;
    }
    else if (strcmp(key, "fortran_order") == 0 && strncmp(s, "False", 5) == 0) {
      h->fortran = 0;
      s += 5;
      seen |= 2;
    }
    else if (strcmp(key, "shape") == 0 && pytuple(&s, h)) seen |= 4;
    else return 0;
    skipws(&s);
    if (*s == ',') s++;
    else if (*s != '}') return 0;
  }
  return seen == 7;
}

/* Decodes h->descr ("<f8", ">i4", "|b1", ...); returns 1 if supported. */
static int parsedescr(npyhead *h) {
  const char *d = h->descr;
  char order = d[0];
  if (strchr("<>|=", order) == NULL || d[1] == '\0') return 0;
  h->kind = d[1];
  h->size = atoi(d + 2);
  if (strspn(d + 2, "0123456789") != strlen(d + 2)) return 0;
  h->swap = order == '>' ? !hostbig() : order == '<' ? hostbig() : 0;
  switch (h->kind) {
    case 'f': return h->size == 4 || h->size == 8;
    case 'i': case 'u':
      return h->size == 1 || h->size == 2 || h->size == 4 || h->size == 8;
    case 'b': return h->size == 1;
    default: return 0;
  }
}

static par_dtype dtypeof(const npyhead *h) {
  return h->kind == 'f' ? PAR_F64 : h->kind == 'b' ? PAR_BOOL : PAR_I64;
}

/* Converts element k of a chunk (raw bytes p) into a[at]; 0 if an unsigned
** value does not fit int64. */
static int decode(const npyhead *h, unsigned char *p, par_array *a, int64_t at) {
  if (h->swap) swapbytes(p, h->size);
  switch (h->kind) {
    case 'b': PAR_BOOLP(a)[at] = p[0] != 0; return 1;
    case 'f': {
      if (h->size == 4) { float v; memcpy(&v, p, 4); PAR_F64P(a)[at] = v; }
      else memcpy(&PAR_F64P(a)[at], p, 8);
      return 1;
    }
    case 'i': {
      int64_t v = 0;
      switch (h->size) {
        case 1: { int8_t x; memcpy(&x, p, 1); v = x; break; }
        case 2: { int16_t x; memcpy(&x, p, 2); v = x; break; }
        case 4: { int32_t x; memcpy(&x, p, 4); v = x; break; }
        default: memcpy(&v, p, 8); break;
      }
      PAR_I64P(a)[at] = v;
      return 1;
    }
    default: {
      uint64_t v = 0;
      switch (h->size) {
        case 1: v = p[0]; break;
        case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
        case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
        default: memcpy(&v, p, 8); break;
      }
      PAR_I64P(a)[at] = (int64_t)v;
      return v <= (uint64_t)INT64_MAX;
    }
  }
}

/* Reads a->size elements; returns NULL or the reason of failure. */
static const char *readdata(lua_State *L, FILE *f, const npyhead *h, par_array *a) {
  unsigned char buf[CHUNK * 8];
  int64_t done, k, n = a->size;
  size_t got;
  if (!h->swap && h->size == (int)par_dtype_size(a->dtype) && h->kind != 'u') {
    got = fread(a->data, (size_t)h->size, (size_t)n, f);
    if ((int64_t)got == n && h->kind == 'b')
      for (k = 0; k < n; k++) PAR_BOOLP(a)[k] = PAR_BOOLP(a)[k] != 0;
    done = (int64_t)got;
  }
  else {
    for (done = 0; done < n; done += (int64_t)got) {
      k = n - done < CHUNK ? n - done : CHUNK;
      got = fread(buf, (size_t)h->size, (size_t)k, f);
      for (int64_t i = 0; i < (int64_t)got; i++)
        if (!decode(h, buf + i * h->size, a, done + i))
          return "value out of int64 range";
      if ((int64_t)got < k) {
        done += (int64_t)got;
        break;
      }
    }
  }
  if (done < n)
    return lua_pushfstring(L, "truncated data (expected %I bytes, got %I)",
                           (lua_Integer)(n * h->size), (lua_Integer)(done * h->size));
  return NULL;
}

/* Reads the magic string, version and header of an open .npy file. */
static const char *readhead(lua_State *L, FILE *f, npyhead *h) {
  unsigned char pre[12];
  size_t hlen;
  char *text;
  if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0)
    return "not a .npy file";
  if (pre[6] < 1 || pre[6] > 3)
    return lua_pushfstring(L, "unsupported .npy version %d.%d", pre[6], pre[7]);
  if (pre[6] == 1) {
    if (fread(pre + 8, 1, 2, f) != 2) return "truncated header";
    hlen = pre[8] | (size_t)pre[9] << 8;
  }
  else {
    if (fread(pre + 8, 1, 4, f) != 4) return "truncated header";
    hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    if (hlen > (1u << 20)) return "corrupt header";
  }
  text = (char *)lua_newuserdatauv(L, hlen + 1, 0);
  if (fread(text, 1, hlen, f) != hlen) return "truncated header";
  text[hlen] = '\0';
  if (!parsehead(text, h)) return "corrupt header";
  if (!parsedescr(h)) return lua_pushfstring(L, "unsupported dtype '%s'", h->descr);
  if (h->ndim > 2)
    return lua_pushfstring(L, "unsupported: %d-dimensional array (arrays have 1 or 2)", h->ndim);
  return NULL;
}

/* Bytes left in f after the current position, or -1 if unknown. */
static int64_t remaining(FILE *f) {
  long here = ftell(f), end;
  if (here < 0 || fseek(f, 0, SEEK_END) != 0) return -1;
  end = ftell(f);
  if (fseek(f, here, SEEK_SET) != 0 || end < here) return -1;
  return (int64_t)(end - here);
}

/* Pushes the transpose of the n x m array t (a Fortran-order file). */
static void pushtransposed(lua_State *L, const par_array *t) {
  int64_t i, j, n = t->dim[0], m = t->dim[1];
  size_t es = par_dtype_size(t->dtype);
  par_array *a = par_newarray(L, t->dtype, 2, m, n);
  if (n == 0 || m == 0) return;   /* (0, huge): nothing to move, no long loop */
  for (i = 0; i < n; i++)
    for (j = 0; j < m; j++)
      memcpy((char *)a->data + (j * n + i) * es, (char *)t->data + (i * m + j) * es, es);
}

/* par.load(path) */
static int l_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1), *err;
  iohandle *h = openfile(L, path, "rb");
  npyhead hd;
  int64_t n, m, left;
  int fortran2d;
  par_array *a;
  memset(&hd, 0, sizeof hd);
  err = readhead(L, h->f, &hd);
  if (err != NULL) return luaL_error(L, "%s: %s", path, err);
  n = hd.ndim == 0 ? 1 : hd.dim[0];
  m = hd.ndim == 2 ? hd.dim[1] : 1;
  fortran2d = hd.fortran && hd.ndim == 2;
  left = remaining(h->f);
  if (left >= 0 && (m != 0 && n > left / hd.size / m))
    return (m != 0 && n > INT64_MAX / (int64_t)hd.size / m)
      ? luaL_error(L, "%s: truncated data (expected %f bytes, got %I)", path,
                   (lua_Number)n * (lua_Number)m * (lua_Number)hd.size, (lua_Integer)left)
      : luaL_error(L, "%s: truncated data (expected %I bytes, got %I)", path,
                   (lua_Integer)(n * m * (int64_t)hd.size), (lua_Integer)left);
  if (fortran2d) a = par_newarray(L, dtypeof(&hd), 2, m, n);
  else a = par_newarray(L, dtypeof(&hd), hd.ndim == 2 ? 2 : 1, n, m);
  err = readdata(L, h->f, &hd, a);
  if (err != NULL) return luaL_error(L, "%s: %s", path, err);
  if (fortran2d) pushtransposed(L, a);
  return 1;
}

/* ======================================================================
** Text
** ====================================================================== */

/* Text of element k: floats with the fewest of 15, 16, 17 significant
** digits that read back exactly; nan, inf, -inf as NumPy writes them. */
static const char *numtext(const par_array *a, int64_t k, char *buf, size_t size) {
  switch (a->dtype) {
    case PAR_I64: snprintf(buf, size, "%lld", (long long)PAR_I64P(a)[k]); break;
    case PAR_BOOL: snprintf(buf, size, "%d", PAR_BOOLP(a)[k]); break;
    default: {
      double v = PAR_F64P(a)[k];
      int p;
      if (isnan(v)) return "nan";
      if (isinf(v)) return v < 0 ? "-inf" : "inf";
      for (p = 15; p < 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v) return buf;
      }
      snprintf(buf, size, "%.17g", v);
    }
  }
  return buf;
}

/* a:savetxt(path [, delim]): one row per line (one value per line for 1-D). */
static int a_savetxt(lua_State *L) {
  par_array *a = par_checkarray(L, 1);
  const char *path = luaL_checkstring(L, 2), *delim = luaL_optstring(L, 3, ",");
  int64_t i, j, m = a->ndim == 1 ? 1 : a->dim[1];
  char buf[40];
  iohandle *h = openfile(L, path, "w");
  for (i = 0; i < a->dim[0]; i++) {
    for (j = 0; j < m; j++) {
      if (j > 0) fputs(delim, h->f);
      fputs(numtext(a, i * m + j, buf, sizeof buf), h->f);
    }
    fputc('\n', h->f);
  }
  finishwrite(L, h, path);
  return 0;
}

static void pushvalue(lua_State *L, iohandle *h, double v) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 256;
    double *nv = (double *)realloc(h->v, cap * sizeof(double));
    if (nv == NULL) luaL_error(L, "not enough memory");
    h->v = nv;
    h->cap = cap;
  }
  h->v[h->n++] = v;
}

/* Parses the fields of one line (comment cut, not blank); returns the
** number of fields. delim " " splits at runs of blanks. */
static int64_t parseline(lua_State *L, iohandle *h, char *s, const char *delim,
                         const char *path, long lineno) {
  int blanks = strcmp(delim, " ") == 0, last;
  size_t dl = blanks ? 1 : strlen(delim);
  int64_t k = 0;
  do {
    char *end, *next, *stop;
    double v;
    while (*s == ' ' || *s == '\t') s++;
    next = blanks ? s + strcspn(s, " \t") : strstr(s, delim);
    if (next == NULL) next = s + strlen(s);
    for (end = next; end > s && (end[-1] == ' ' || end[-1] == '\t'); end--) {}
    last = *next == '\0' || (blanks && next[strspn(next, " \t")] == '\0');
    *end = '\0';
    v = strtod(s, &stop);
    if (stop != end || end == s)
      return luaL_error(L, "%s:%d: bad number '%s'", path, (int)lineno, s);
    pushvalue(L, h, v);
    k++;
    s = next + dl;
  } while (!last);
  return k;
}

/* par.loadtxt(path [, delim]): float64; 2-D when several rows and columns.
** Without delim, the first data line decides: commas if it has one, else
** runs of blanks (NumPy's default, which numpy.savetxt writes). */
static int l_loadtxt(lua_State *L) {
  const char *path = luaL_checkstring(L, 1), *delim = luaL_optstring(L, 2, NULL);
  iohandle *h;
  long lineno = 0;
  int64_t rows = 0, cols = 0;
  par_array *a;
  luaL_argcheck(L, delim == NULL || *delim != '\0', 2, "delimiter must not be empty");
  h = openfile(L, path, "r");
  while (getline(&h->line, &h->linecap, h->f) != -1) {
    char *s = h->line;
    int64_t k;
    lineno++;
    s[strcspn(s, "#\r\n")] = '\0';
    if (s[strspn(s, " \t")] == '\0') continue;
    if (delim == NULL) delim = strchr(s, ',') != NULL ? "," : " ";
    k = parseline(L, h, s, delim, path, lineno);
    if (rows > 0 && k != cols)
      return luaL_error(L, "%s:%d: expected %d columns, got %d", path, (int)lineno,
                        (int)cols, (int)k);
    cols = k;
    rows++;
  }
  if (ferror(h->f)) return luaL_error(L, "%s: read error", path);
  if (rows > 1 && cols > 1) a = par_newarray(L, PAR_F64, 2, rows, cols);
  else a = par_newarray(L, PAR_F64, 1, (int64_t)h->n, 1);
  if (h->n > 0) memcpy(a->data, h->v, h->n * sizeof(double));
  return 1;
}

static const luaL_Reg funcs[] = {
  {"load", l_load},
  {"loadtxt", l_loadtxt},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"save", a_save},
  {"savetxt", a_savetxt},
  {NULL, NULL}
};

void par_open_array_io(lua_State *L) {
  if (luaL_newmetatable(L, IOHANDLE)) {
    lua_pushcfunction(L, h_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, h_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
  par_array_addmethods(L, methods);
}
