/*
** linalg.c: par.linalg, dense linear algebra on arrays through OpenBLAS
** (CBLAS) and LAPACKE.
**
** This file is its own shared object (par/linalg.so), dlopened by par.c at
** the first use of par.linalg. It cannot link to the runtime, so it reaches
** it only through the function table of capi.h, kept as upvalue 1 of every
** function here.
**
** LAPACK overwrites its input, so every routine works on a copy; the copy is
** made in column-major order (transposing costs no more than copying), and
** LAPACK is called exactly as NumPy calls it; matrix results are transposed
** back to row-major. Every buffer is a Lua array or userdata, so an error
** raised at any point leaks nothing. Shapes are checked before each call,
** because OpenBLAS reports bad arguments only by printing.
*/
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "lua.h"
#include "lauxlib.h"

#include "capi.h"

int luaopen_par_linalg(lua_State *L);

/* The runtime's function table. */
#define API(L) ((const par_capi *)lua_touserdata(L, lua_upvalueindex(1)))

/* Leading dimension of a column-major matrix with r rows (LAPACK wants >= 1). */
#define LD(r) ((r) > 0 ? (r) : 1)

/* Edge of the square tiles used to transpose in cache. */
#define TILE 32


/*
** {======================================================
** OpenBLAS threads
** =======================================================
*/

/* Thread count last given to OpenBLAS (0: none yet), or -1 when the user set
** OPENBLAS_NUM_THREADS and OpenBLAS is left alone. OpenBLAS's count is one
** per process, so this mirror of it is too (not per lua_State). */
static atomic_int blas_threads;

/* Gives OpenBLAS par.threads() threads, or one inside a parallel kernel
** (where more would oversubscribe the cores). */
static void setthreads(lua_State *L) {
  const par_capi *api = API(L);
  int last = atomic_load(&blas_threads), want;
  if (last < 0) return;
  want = api->in_parallel() ? 1 : api->threads();
  if (want != last) {
    openblas_set_num_threads(want);
    atomic_store(&blas_threads, want);
  }
}

/* }====================================================== */


/*
** {======================================================
** Arguments and errors
** =======================================================
*/

/* Raises "bad argument #arg to 'fname' (msg)". The name is given rather
** than found by luaL_argerror, so it reads the same however the function
** was reached (a field, a local, pcall, the a:dot method). */
static int argerror(lua_State *L, int arg, const char *fname, const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

/* Raises "<what>, got shape (r, c)" for argument 'arg'. */
static int shapeerror(lua_State *L, int arg, const char *fname, const char *what,
                      const par_array *a) {
  char buf[48];
  lua_pushfstring(L, "%s, got shape %s", what, API(L)->shapestr(a, buf));
  return argerror(L, arg, fname, lua_tostring(L, -1));
}

/* Raises "<what>: A is (r, c), b is (n,)" for a pair of operands that do
** not fit together. */
static int pairerror(lua_State *L, const char *fname, const char *what,
                     const par_array *a, const par_array *b) {
  char sa[48], sb[48];
  lua_pushfstring(L, "%s: A is %s, b is %s", what, API(L)->shapestr(a, sa),
                  API(L)->shapestr(b, sb));
  return argerror(L, 2, fname, lua_tostring(L, -1));
}

/* The float64 or int64 array at argument 'arg' (bool is an error, as BLAS
** has no use for it), with dimensions BLAS's 32-bit integers can hold. */
static const par_array *checknum(lua_State *L, int arg, const char *fname) {
  const par_array *a = API(L)->toarray(L, arg);
  if (a == NULL) {
    const char *got = luaL_getmetafield(L, arg, "__name") == LUA_TSTRING
                      ? lua_tostring(L, -1) : luaL_typename(L, arg);
    lua_pushfstring(L, "array expected, got %s", got);
    argerror(L, arg, fname, lua_tostring(L, -1));
  }
  if (a->buf == NULL) argerror(L, arg, fname, "array is closed");
  if (a->dtype == PAR_BOOL)
    argerror(L, arg, fname, "expected a float64 or int64 array, got bool");
  if (a->dim[0] > INT_MAX || a->dim[1] > INT_MAX)
    shapeerror(L, arg, fname, "array too large for BLAS", a);
  return a;
}

static const par_array *checkmatrix(lua_State *L, int arg, const char *fname) {
  const par_array *a = checknum(L, arg, fname);
  if (a->ndim != 2) shapeerror(L, arg, fname, "expected a 2-D array", a);
  return a;
}

static const par_array *checksquare(lua_State *L, int arg, const char *fname) {
  const par_array *a = checkmatrix(L, arg, fname);
  if (a->dim[0] != a->dim[1]) shapeerror(L, arg, fname, "matrix must be square", a);
  return a;
}

/* NumPy refuses infinities and NaNs in eig and eigvals (LAPACK's QR
** iteration may not end on them); so do we. */
static void checkfinite(lua_State *L, int arg, const char *fname, const double *x,
                        int64_t n) {
  int64_t i;
  for (i = 0; i < n; i++)
    if (!isfinite(x[i])) argerror(L, arg, fname, "array must not contain infs or NaNs");
}

/* svd and lstsq scale their input first, and LAPACK's scaling rejects
** NaN and infinities as a bad argument (printing on stdout): refuse them
** here, as for eig. */
static void checkfinitearray(lua_State *L, int arg, const char *fname, const par_array *a) {
  if (a->dtype == PAR_F64) checkfinite(L, arg, fname, PAR_F64P(a), a->size);
}

/* Raises the error for a LAPACKE result. info < 0 is a bad argument, so a
** bug here (or LAPACKE out of memory); info > 0 is the numerical failure
** 'msg' that the user must hear about. */
static void checkinfo(lua_State *L, lapack_int info, const char *routine,
                      const char *msg) {
  if (info == 0) return;
  if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
    luaL_error(L, "not enough memory");
  if (info < 0)
    luaL_error(L, "internal error: %s rejected argument %d", routine, (int)-info);
  luaL_error(L, "%s", msg);
}

/* }====================================================== */


/*
** {======================================================
** Buffers and layouts
** =======================================================
*/

static double elem(const par_array *a, int64_t i) {
  return a->dtype == PAR_F64 ? PAR_F64P(a)[i] : (double)PAR_I64P(a)[i];
}

/* Pushes a new float64 array: 1-D of n elements when ndim is 1, else n x m. */
static double *pushnew(lua_State *L, int ndim, int64_t n, int64_t m) {
  return PAR_F64P(API(L)->newarray(L, PAR_F64, ndim, n, m));
}

/* Removes the scratch array at stack index idx and gives its memory back
** at once (its __close), so that the next large array of a loop reuses
** pages already touched instead of waiting for the garbage collector. */
static void dropscratch(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (luaL_callmeta(L, idx, "__close")) lua_pop(L, 1);
  lua_remove(L, idx);
}

/* Pushes scratch space for n LAPACK integers. */
static lapack_int *pushints(lua_State *L, int64_t n) {
  return lua_newuserdatauv(L, sizeof(lapack_int) * (size_t)(n > 0 ? n : 1), 0);
}

/* Pushes a copy of the r x c array a (a vector: c = 1) as a float64
** column-major matrix with leading dimension ld >= r: element (i, j) at
** [i + j*ld]. Rows r..ld-1 are zero. */
static double *pushcolmajor(lua_State *L, const par_array *a, int64_t ld) {
  int64_t r = a->dim[0], c = a->dim[1], i0, j0, i, j;
  double *w = pushnew(L, 1, ld * c > 0 ? ld * c : 1, 1);
  if (ld != r) memset(w, 0, sizeof(double) * (size_t)(ld * c));
  for (i0 = 0; i0 < r; i0 += TILE)
    for (j0 = 0; j0 < c; j0 += TILE)
      for (i = i0; i < r && i < i0 + TILE; i++)
        for (j = j0; j < c && j < j0 + TILE; j++)
          w[i + j * ld] = elem(a, i * c + j);
  return w;
}

/* Pushes the first r rows of the column-major matrix w (leading dimension
** ld, c columns) as a new row-major array: 1-D of r elements when ndim is 1
** (then c is 1), else r x c. */
static double *pushrowmajor(lua_State *L, const double *w, int64_t ld, int ndim,
                            int64_t r, int64_t c) {
  double *z = pushnew(L, ndim, r, c);
  int64_t i0, j0, i, j;
  for (j0 = 0; j0 < c; j0 += TILE)
    for (i0 = 0; i0 < r; i0 += TILE)
      for (j = j0; j < c && j < j0 + TILE; j++)
        for (i = i0; i < r && i < i0 + TILE; i++)
          z[i * c + j] = w[i + j * ld];
  return z;
}

/* a's elements as float64: its own memory, or a converted copy pushed on
** the stack (BLAS does not write its inputs, so no copy is needed else). */
static const double *asf64(lua_State *L, const par_array *a) {
  double *d;
  int64_t i;
  if (a->dtype == PAR_F64) return PAR_F64P(a);
  d = pushnew(L, 1, a->size, 1);
  for (i = 0; i < a->size; i++) d[i] = (double)PAR_I64P(a)[i];
  return d;
}

static void identity(double *z, int64_t n) {
  int64_t i;
  memset(z, 0, sizeof(double) * (size_t)(n * n));
  for (i = 0; i < n; i++) z[i * n + i] = 1.0;
}

/* }====================================================== */


/*
** {======================================================
** Products
** =======================================================
*/

static double dot(lua_State *L, const double *x, const double *y, int64_t k) {
  if (k == 0) return 0.0;
  setthreads(L);
  return cblas_ddot((int)k, x, 1, y, 1);
}

/* z = x y with x m x k, y k x n (a vector operand has m or n = 1); the
** caller has checked that no dimension is zero. */
static void product(lua_State *L, const par_array *a, const par_array *b,
                    const double *x, const double *y, double *z) {
  int m = (int)(a->ndim == 2 ? a->dim[0] : 1), n = (int)(b->ndim == 2 ? b->dim[1] : 1);
  int k = (int)b->dim[0];
  setthreads(L);
  if (a->ndim == 2 && b->ndim == 2)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, x, k,
                y, n, 0.0, z, n);
  else {
    memset(z, 0, sizeof(double) * (size_t)(m > n ? m : n));
    if (a->ndim == 2)
      cblas_dgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0, x, k, y, 1, 0.0, z, 1);
    else
      cblas_dgemv(CblasRowMajor, CblasTrans, k, n, 1.0, y, n, x, 1, 0.0, z, 1);
  }
}

/* matmul(A, B): NumPy's matmul for 1-D and 2-D operands; a vector times a
** vector is their dot product, a number. */
static int l_matmul(lua_State *L) {
  const par_array *a = checknum(L, 1, "matmul"), *b = checknum(L, 2, "matmul");
  int64_t k = a->ndim == 2 ? a->dim[1] : a->dim[0];
  int64_t m = a->ndim == 2 ? a->dim[0] : 1, n = b->ndim == 2 ? b->dim[1] : 1;
  const double *x, *y;
  double *z;
  if (k != b->dim[0]) {
    lua_pushfstring(L, "inner dimensions differ: %I vs %I", (lua_Integer)k,
                    (lua_Integer)b->dim[0]);
    return argerror(L, 2, "matmul", lua_tostring(L, -1));
  }
  x = asf64(L, a);
  y = asf64(L, b);
  if (a->ndim == 1 && b->ndim == 1) {
    lua_pushnumber(L, dot(L, x, y, k));
    return 1;
  }
  if (a->ndim == 1) z = pushnew(L, 1, n, 1);
  else z = pushnew(L, b->ndim, m, n);
  if (k == 0) memset(z, 0, sizeof(double) * (size_t)(m * n));
  else if (m > 0 && n > 0) product(L, a, b, x, y, z);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Linear systems, inverse, determinant
** =======================================================
*/

/* solve(A, b): x with A x = b, for b a vector or a matrix of columns. */
static int l_solve(lua_State *L) {
  const par_array *a = checksquare(L, 1, "solve"), *b = checknum(L, 2, "solve");
  int n = (int)a->dim[0], nrhs = (int)b->dim[1];
  double *w, *x;
  lapack_int *ipiv;
  if (b->dim[0] != n) pairerror(L, "solve", "dimensions differ", a, b);
  w = pushcolmajor(L, a, n);
  x = pushcolmajor(L, b, n);
  ipiv = pushints(L, n);
  setthreads(L);
  checkinfo(L, LAPACKE_dgesv(LAPACK_COL_MAJOR, n, nrhs, w, LD(n), ipiv, x, LD(n)),
            "dgesv", "matrix is singular");
  pushrowmajor(L, x, n, b->ndim, n, nrhs);
  return 1;
}

/* Pushes lstsq's residuals: the squared norm of each column of b - A x,
** which dgelsd leaves in rows n..m-1 of its right-hand sides (ld rows);
** empty, as in NumPy, unless A has full column rank and more rows. */
static void pushresiduals(lua_State *L, const double *bx, int64_t ld, int64_t m,
                          int64_t n, int64_t nrhs, int64_t rank) {
  int full = rank == n && m > n;
  double *res = pushnew(L, 1, full ? nrhs : 0, 1);
  int64_t i, j;
  for (j = 0; full && j < nrhs; j++) {
    double s = 0.0;
    for (i = n; i < m; i++) s += bx[i + j * ld] * bx[i + j * ld];
    res[j] = s;
  }
}

/* lstsq(A, b): x, residuals, rank, s as NumPy's lstsq with rcond=None
** (singular values below machine epsilon * max(m, n) * s[1] count as 0).
** dgelsd refuses b without columns: like NumPy, it then solves for one
** zero column, which gives the rank and s, and the n x 0 x is kept. */
static int l_lstsq(lua_State *L) {
  const par_array *a = checkmatrix(L, 1, "lstsq"), *b = checknum(L, 2, "lstsq");
  int m = (int)a->dim[0], n = (int)a->dim[1], nrhs = (int)b->dim[1];
  int ld = LD(m > n ? m : n), sidx;
  double *w, *bx, *s;
  lapack_int rank = 0;
  if (b->dim[0] != m) pairerror(L, "lstsq", "dimensions differ", a, b);
  checkfinitearray(L, 1, "lstsq", a);
  checkfinitearray(L, 2, "lstsq", b);
  w = pushcolmajor(L, a, LD(m));
  if (nrhs > 0) bx = pushcolmajor(L, b, ld);
  else memset(bx = pushnew(L, 1, ld, 1), 0, sizeof(double) * (size_t)ld);
  s = pushnew(L, 1, m < n ? m : n, 1);
  sidx = lua_gettop(L);
  setthreads(L);
  checkinfo(L, LAPACKE_dgelsd(LAPACK_COL_MAJOR, m, n, nrhs > 0 ? nrhs : 1, w, LD(m), bx, ld,
                              s, DBL_EPSILON * (m > n ? m : n), &rank),
            "dgelsd", "SVD did not converge");
  pushrowmajor(L, bx, ld, b->ndim, n, nrhs);
  pushresiduals(L, bx, ld, m, n, nrhs, rank);
  lua_pushinteger(L, rank);
  lua_pushvalue(L, sidx);
  return 4;
}

/* inv(A): the inverse, as NumPy computes it: the solution of A X = I. */
static int l_inv(lua_State *L) {
  const par_array *a = checksquare(L, 1, "inv");
  int n = (int)a->dim[0];
  double *w = pushcolmajor(L, a, n), *x = pushnew(L, 2, n, n);
  lapack_int *ipiv = pushints(L, n);
  identity(x, n);
  setthreads(L);
  checkinfo(L, LAPACKE_dgesv(LAPACK_COL_MAJOR, n, n, w, LD(n), ipiv, x, LD(n)),
            "dgesv", "matrix is singular");
  pushrowmajor(L, x, n, 2, n, n);
  return 1;
}

/* det(A): product of U's diagonal from the LU factorisation, with the sign
** of the row permutation. A singular matrix gives 0.0, as in NumPy. */
static int l_det(lua_State *L) {
  const par_array *a = checksquare(L, 1, "det");
  int n = (int)a->dim[0], i;
  double *w = pushcolmajor(L, a, n), d = 1.0;
  lapack_int *ipiv = pushints(L, n), info;
  setthreads(L);
  info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, n, n, w, LD(n), ipiv);
  if (info < 0) checkinfo(L, info, "dgetrf", "");
  for (i = 0; info == 0 && i < n; i++)
    d *= ipiv[i] != i + 1 ? -w[i + (int64_t)i * n] : w[i + (int64_t)i * n];
  lua_pushnumber(L, info > 0 ? 0.0 : d);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Eigenvalues and decompositions
** =======================================================
*/

/* Runs dgeev on a copy of the square matrix at argument 1, pushing re and
** im (and, when vr is not NULL, the column-major eigenvectors in LAPACK's
** packed form, stored in *vr). Returns n. */
static int geev(lua_State *L, const char *fname, double **vr) {
  const par_array *a = checksquare(L, 1, fname);
  int n = (int)a->dim[0];
  double *w = pushcolmajor(L, a, n), *re, *im;
  int base = lua_gettop(L);
  checkfinite(L, 1, fname, w, (int64_t)n * n);
  re = pushnew(L, 1, n, 1);
  im = pushnew(L, 1, n, 1);
  if (vr != NULL) *vr = pushnew(L, 1, (int64_t)n * n > 0 ? (int64_t)n * n : 1, 1);
  setthreads(L);
  checkinfo(L, LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', vr != NULL ? 'V' : 'N', n, w, LD(n),
                             re, im, NULL, 1, vr != NULL ? *vr : NULL, LD(n)),
            "dgeev", "eigenvalue computation did not converge");
  dropscratch(L, base);  /* the copy of A */
  return n;
}

/* eigvals(A): re, im, the real and imaginary parts of A's eigenvalues. */
static int l_eigvals(lua_State *L) {
  geev(L, "eigvals", NULL);
  return 2;
}

/* Turns the row-major copy of LAPACK's eigenvectors (in vr) into real and
** imaginary parts: for a complex pair j, j+1 (im[j] > 0), LAPACK stores the
** real part in column j and the imaginary part in column j+1, and the
** second vector is the conjugate of the first. */
static void unpack(double *vr, double *vi, const double *im, int n) {
  int64_t i, j;
  memset(vi, 0, sizeof(double) * (size_t)((int64_t)n * n));
  for (j = 0; j + 1 < n; j++) {
    if (im[j] == 0.0) continue;
    for (i = 0; i < n; i++) {
      double y = vr[i * n + j + 1];
      vr[i * n + j + 1] = vr[i * n + j];
      vi[i * n + j] = y;
      vi[i * n + j + 1] = -y;
    }
    j++;
  }
}

/* eig(A): re, im, VR, VI; eigenvector k is column k of VR + i VI,
** normalised as LAPACK does (unit Euclidean norm, largest component real). */
static int l_eig(lua_State *L) {
  double *packed, *vr, *vi;
  int n = geev(L, "eig", &packed);
  const par_array *im = API(L)->toarray(L, -2);
  vr = pushrowmajor(L, packed, n, 2, n, n);
  vi = pushnew(L, 2, n, n);
  unpack(vr, vi, PAR_F64P(im), n);
  dropscratch(L, -3);  /* the packed vectors */
  return 4;
}

/* eigh(A): w, V for a symmetric A, from its lower triangle as NumPy's
** default UPLO='L'; eigenvalues ascending, eigenvectors as columns. */
static int l_eigh(lua_State *L) {
  const par_array *a = checksquare(L, 1, "eigh");
  int n = (int)a->dim[0];
  double *w = pushcolmajor(L, a, n), *e = pushnew(L, 1, n, 1);
  setthreads(L);
  checkinfo(L, LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', n, w, LD(n), e), "dsyevd",
            "eigenvalue computation did not converge");
  pushrowmajor(L, w, n, 2, n, n);
  return 2;
}

/* svd(A): U, s, Vt with A = U diag(s) Vt, U m x m and Vt n x n (NumPy's
** full_matrices=True); s descending. */
static int l_svd(lua_State *L) {
  const par_array *a = checkmatrix(L, 1, "svd");
  int m = (int)a->dim[0], n = (int)a->dim[1];
  double *w, *u, *s, *vt;
  int base;
  checkfinitearray(L, 1, "svd", a);
  w = pushcolmajor(L, a, LD(m));
  base = lua_gettop(L);
  u = pushnew(L, 2, m, m);
  s = pushnew(L, 1, m < n ? m : n, 1);
  vt = pushnew(L, 2, n, n);
  if (m == 0 || n == 0) {  /* LAPACK returns at once; NumPy gives identities */
    identity(u, m);
    identity(vt, n);
  }
  else {
    setthreads(L);
    checkinfo(L, LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'A', m, n, w, m, s, u, m, vt, n),
              "dgesdd", "SVD did not converge");
    pushrowmajor(L, u, m, 2, m, m);
    lua_replace(L, base + 1);
    pushrowmajor(L, vt, n, 2, n, n);
    lua_replace(L, base + 3);
  }
  dropscratch(L, base);
  return 3;
}

/* cholesky(A): lower triangular L with A = L L^T, from A's lower triangle. */
static int l_cholesky(lua_State *L) {
  const par_array *a = checksquare(L, 1, "cholesky");
  int n = (int)a->dim[0];
  int64_t i, j;
  double *w = pushcolmajor(L, a, n), *z;
  setthreads(L);
  checkinfo(L, LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, w, LD(n)), "dpotrf",
            "matrix is not positive definite");
  z = pushrowmajor(L, w, n, 2, n, n);
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++) z[i * n + j] = 0.0;
  return 1;
}

/* }====================================================== */


static const luaL_Reg linalg_funcs[] = {
  {"matmul", l_matmul},
  {"solve", l_solve},
  {"lstsq", l_lstsq},
  {"inv", l_inv},
  {"det", l_det},
  {"eigvals", l_eigvals},
  {"eig", l_eig},
  {"eigh", l_eigh},
  {"svd", l_svd},
  {"cholesky", l_cholesky},
  {NULL, NULL}
};

int luaopen_par_linalg(lua_State *L) {
  const par_capi *api = par_getcapi(L);
  if (getenv("OPENBLAS_NUM_THREADS") != NULL) atomic_store(&blas_threads, -1);
  /* NaNs go to LAPACK as in NumPy, rather than being refused as bad
  ** arguments (which would look like our bug) */
  LAPACKE_set_nancheck(0);
  luaL_newlibtable(L, linalg_funcs);
  lua_pushlightuserdata(L, (void *)api);
  luaL_setfuncs(L, linalg_funcs, 1);
  return 1;
}
