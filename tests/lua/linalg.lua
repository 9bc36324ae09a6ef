-- linalg.lua: par.linalg against naive Lua loops, exact small cases,
-- NumPy (when /usr/bin/python3 has it) and the error for each bad input.
print("testing linalg")

local T = require "common"
local la = par.linalg

-- {======================================================
-- Helpers: matrices as Lua tables of rows
-- =======================================================

-- Uniform numbers in [-1, 1) from a 64-bit LCG, independent of par's
-- generators, so the matrices are the same whatever else changes.
local state = 20240611
local function rand()
  state = state * 6364136223846793005 + 1442695040888963407
  return (state >> 11) * 2.0^-53 * 2 - 1
end

local function build(n, m, f)
  local t = {}
  for i = 1, n do
    t[i] = {}
    for j = 1, m do t[i][j] = f(i, j) end
  end
  return t
end

local function randtab(n, m) return build(n, m, rand) end
local function eye(n) return build(n, n, function(i, j) return i == j and 1.0 or 0.0 end) end

-- An array back as a table (of rows for 2-D).
local function totab(a)
  local t = {}
  if a.ndim == 1 then
    for i = 1, a.shape[1] do t[i] = a[i] end
    return t
  end
  for i = 1, a.shape[1] do
    t[i] = {}
    for j = 1, a.shape[2] do t[i][j] = a:get(i, j) end
  end
  return t
end

local function mul(a, b)
  return build(#a, #b[1], function(i, j)
    local s = 0.0
    for k = 1, #b do s = s + a[i][k] * b[k][j] end
    return s
  end)
end

local function mulvec(a, x)
  local y = {}
  for i = 1, #a do
    local s = 0.0
    for k = 1, #x do s = s + a[i][k] * x[k] end
    y[i] = s
  end
  return y
end

local function transpose(a)
  return build(#a[1], #a, function(i, j) return a[j][i] end)
end

-- Largest absolute difference of two tables (vectors or matrices).
local function maxdiff(a, b)
  assert(#a == #b, "lengths differ")
  local d = 0.0
  for i = 1, #a do
    if type(a[i]) == "table" then
      d = math.max(d, maxdiff(a[i], b[i]))
    else
      d = math.max(d, math.abs(a[i] - b[i]))
    end
  end
  return d
end

local function close(a, b, tol)
  return math.abs(a - b) <= (tol or 1e-12) * math.max(1.0, math.abs(a), math.abs(b))
end

local function sameshape(a, ...)
  local want = {...}
  assert(#a.shape == #want, "ndim " .. #a.shape .. " vs " .. #want)
  for i = 1, #want do assert(a.shape[i] == want[i]) end
  assert(a.dtype == "float64")
end

-- Asserts every element of two tables (or arrays) is bitwise equal.
local function identical(a, b)
  if type(a) ~= "table" then a = totab(a) end
  if type(b) ~= "table" then b = totab(b) end
  assert(#a == #b)
  for i = 1, #a do
    if type(a[i]) == "table" then identical(a[i], b[i])
    else assert(T.same(a[i], b[i]), tostring(a[i]) .. " vs " .. tostring(b[i])) end
  end
end

-- Determinant by cofactor expansion along the first row.
local function cofactor(a)
  local n = #a
  if n == 1 then return a[1][1] end
  local d, sign = 0.0, 1.0
  for j = 1, n do
    local minor = {}
    for i = 2, n do
      local row = {}
      for k = 1, n do if k ~= j then row[#row + 1] = a[i][k] end end
      minor[i - 1] = row
    end
    d = d + sign * a[1][j] * cofactor(minor)
    sign = -sign
  end
  return d
end

-- Calls f(A, ...) and checks that A is left as it was.
local function keeps(f, A, ...)
  local before = totab(A)
  local r = table.pack(f(A, ...))
  identical(before, A)
  return table.unpack(r, 1, r.n)
end

-- }======================================================


do print("testing matmul")
  local a, b = randtab(13, 17), randtab(17, 11)
  local C = la.matmul(par.array(a), par.array(b))
  sameshape(C, 13, 11)
  assert(maxdiff(totab(C), mul(a, b)) < 1e-13)

  local x = {}
  for i = 1, 17 do x[i] = rand() end
  local y = la.matmul(par.array(a), par.array(x))          -- matrix x vector
  sameshape(y, 13)
  assert(maxdiff(totab(y), mulvec(a, x)) < 1e-13)
  local z = la.matmul(par.array(x), par.array(b))          -- vector x matrix
  sameshape(z, 11)
  assert(maxdiff(totab(z), mulvec(transpose(b), x)) < 1e-13)
  local d = la.matmul(par.array(x), par.array(x))          -- vector x vector
  assert(math.type(d) == "float")
  local s = 0.0
  for i = 1, 17 do s = s + x[i] * x[i] end
  assert(close(d, s))

  -- larger than OpenBLAS's single-thread threshold
  local p, q = randtab(70, 90), randtab(90, 80)
  assert(maxdiff(totab(la.matmul(par.array(p), par.array(q))), mul(p, q)) < 1e-12)

  -- integers are converted to float64; small products are exact
  local I = la.matmul(par.array{{1, 2}, {3, 4}}, par.array{{5, 6}, {7, 8}})
  sameshape(I, 2, 2)
  identical(I, {{19.0, 22.0}, {43.0, 50.0}})
  identical(la.matmul(par.array{{1, 2}, {3, 4}}, par.array{1.5, -1}), {-0.5, 0.5})
  identical(la.matmul(par.array{1, 2}, par.array{{1, 2}, {3, 4}}), {7.0, 10.0})
  assert(T.same(la.matmul(par.array{1, 2, 3}, par.array{4, 5, 6}), 32.0))

  -- a row view is a vector
  local A = par.array(a)
  assert(maxdiff(totab(la.matmul(A[3], par.array(b))), mul(a, b)[3]) < 1e-13)

  -- empty operands, as in NumPy
  local E = la.matmul(par.zeros(2, 0), par.zeros(0, 3))
  sameshape(E, 2, 3)
  identical(E, {{0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}})
  sameshape(la.matmul(par.zeros(0, 3), par.zeros(3, 2)), 0, 2)
  sameshape(la.matmul(par.zeros(3, 0), par.zeros(0)), 3)
  assert(T.same(la.matmul(par.zeros(0), par.zeros(0)), 0.0))

  keeps(la.matmul, A, par.array(b))
end


do print("testing det")
  identical({la.det(par.array(eye(4)))}, {1.0})
  identical({la.det(par.array{{2, 0, 0}, {0, 3, 0}, {0, 0, 4}})}, {24.0})
  identical({la.det(par.array{{0, 1}, {1, 0}})}, {-1.0})
  identical({la.det(par.array{{1, 2}, {2, 4}})}, {0.0})     -- singular: 0, no error
  identical({la.det(par.array{{0.0, 0.0}, {0.0, 0.0}})}, {0.0})
  identical({la.det(par.zeros(0, 0))}, {1.0})
  for n = 1, 6 do
    local a = randtab(n, n)
    assert(close(keeps(la.det, par.array(a)), cofactor(a), 1e-12))
  end
  local m = {{3, 1, 4}, {1, 5, 9}, {2, 6, 5}}
  assert(close(la.det(par.array(m)), cofactor(m)))
  assert(close(la.det(par.array(m)), -90.0))
end


do print("testing solve")
  local a, b = randtab(9, 9), randtab(9, 4)
  local A = par.array(a)
  local x = keeps(la.solve, A, par.array(b))
  sameshape(x, 9, 4)
  assert(maxdiff(mul(a, totab(x)), b) < 1e-12)
  local v = {}
  for i = 1, 9 do v[i] = rand() end
  local xv = la.solve(A, par.array(v))
  sameshape(xv, 9)
  assert(maxdiff(mulvec(a, totab(xv)), v) < 1e-12)
  -- the columns of a 2-D b are separate systems
  for j = 1, 4 do
    local col = {}
    for i = 1, 9 do col[i] = b[i][j] end
    local xj = totab(la.solve(A, par.array(col)))
    for i = 1, 9 do assert(close(xj[i], x:get(i, j), 1e-13)) end
  end
  identical(la.solve(par.array{{2, 0}, {0, 4}}, par.array{2, 8}), {1.0, 2.0})
  identical(la.solve(par.array{{2.0, 0}, {0, 4}}, par.array{{2, 4}, {8, 12}}),
            {{1.0, 2.0}, {2.0, 3.0}})
  sameshape(la.solve(par.zeros(0, 0), par.zeros(0)), 0)
  sameshape(la.solve(par.zeros(0, 0), par.zeros(0, 3)), 0, 3)
  sameshape(la.solve(par.array{{1, 0}, {0, 2}}, par.zeros(2, 0)), 2, 0)
  sameshape(la.solve(par.zeros(2, 2), par.zeros(2, 0)), 2, 0)     -- NumPy: no error
  identical(la.solve(par.array{{4, 2}, {2, 3}}, par.array{2, 1}),
            la.solve(par.array{{4.0, 2.0}, {2.0, 3.0}}, par.array{2.0, 1.0}))
end


do print("testing inv")
  local a = randtab(7, 7)
  local Ai = keeps(la.inv, par.array(a))
  sameshape(Ai, 7, 7)
  assert(maxdiff(mul(totab(Ai), a), eye(7)) < 1e-12)
  assert(maxdiff(mul(a, totab(Ai)), eye(7)) < 1e-12)
  identical(la.inv(par.array{{2, 0}, {0, 4}}), {{0.5, 0.0}, {0.0, 0.25}})
  identical(la.inv(par.array{{0, 1}, {1, 0}}), {{0.0, 1.0}, {1.0, 0.0}})
  sameshape(la.inv(par.zeros(0, 0)), 0, 0)
  identical(la.inv(par.array{{4, 7}, {2, 6}}), la.inv(par.array{{4.0, 7.0}, {2.0, 6.0}}))
end


-- Checks A v = lambda v for every eigenpair of eig(A), complex pairs
-- included, and unit norms; returns the number of complex eigenvalues.
local function checkeig(a, re, im, VR, VI)
  local n = #a
  local vr, vi, complex = totab(VR), totab(VI), 0
  for k = 1, n do
    local l, m = re[k], im[k]
    if m ~= 0 then complex = complex + 1 end
    local norm = 0.0
    for i = 1, n do
      local sr, si = 0.0, 0.0
      for j = 1, n do
        sr = sr + a[i][j] * vr[j][k]
        si = si + a[i][j] * vi[j][k]
      end
      -- (A v)_i = (l + i m)(vr + i vi)_i
      assert(math.abs(sr - (l * vr[i][k] - m * vi[i][k])) < 1e-12)
      assert(math.abs(si - (l * vi[i][k] + m * vr[i][k])) < 1e-12)
      norm = norm + vr[i][k]^2 + vi[i][k]^2
    end
    assert(close(norm, 1.0))
  end
  return complex
end

do print("testing eigvals and eig")
  local a = randtab(8, 8)
  local A = par.array(a)
  local re, im = keeps(la.eigvals, A)
  sameshape(re, 8)
  sameshape(im, 8)
  local tr, sre, sim = 0.0, 0.0, 0.0
  for i = 1, 8 do tr, sre, sim = tr + a[i][i], sre + re[i], sim + im[i] end
  assert(close(sre, tr) and math.abs(sim) < 1e-13)
  -- complex eigenvalues come in conjugate pairs, positive imaginary part first
  for k = 1, 8 do
    if im[k] > 0 then assert(re[k + 1] == re[k] and im[k + 1] == -im[k]) end
  end

  local re2, im2, VR, VI = keeps(la.eig, A)
  sameshape(VR, 8, 8)
  sameshape(VI, 8, 8)
  identical(re2, re)
  identical(im2, im)
  assert(checkeig(a, totab(re2), totab(im2), VR, VI) >= 2)   -- the pairs were tested

  -- a rotation by 90 degrees: eigenvalues +i and -i
  local r = {{0, -1}, {1, 0}}
  local rre, rim, RR, RI = la.eig(par.array(r))
  identical(rre, {0.0, 0.0})
  identical(rim, {1.0, -1.0})
  assert(checkeig(r, totab(rre), totab(rim), RR, RI) == 2)

  local dre, dim = la.eigvals(par.array{{1, 0, 0}, {0, 2, 0}, {0, 0, 3}})
  identical(dre, {1.0, 2.0, 3.0})
  identical(dim, {0.0, 0.0, 0.0})
  local tre = la.eigvals(par.array{{2, 1}, {0, 3}})
  identical(tre, {2.0, 3.0})
  local s = {{2, 1}, {1, 2}}
  local sre2, sim2, SR, SI = la.eig(par.array(s))
  assert(checkeig(s, totab(sre2), totab(sim2), SR, SI) == 0)
  identical(SI, {{0.0, 0.0}, {0.0, 0.0}})

  local e1, e2 = la.eigvals(par.zeros(0, 0))
  sameshape(e1, 0)
  sameshape(e2, 0)
  local _, _, v0, w0 = la.eig(par.zeros(0, 0))
  sameshape(v0, 0, 0)
  sameshape(w0, 0, 0)
end


do print("testing eigh")
  local m = randtab(6, 6)
  local s = build(6, 6, function(i, j) return m[i][j] + m[j][i] end)
  local w, V = keeps(la.eigh, par.array(s))
  sameshape(w, 6)
  sameshape(V, 6, 6)
  local v = totab(V)
  for k = 2, 6 do assert(w[k - 1] <= w[k]) end
  assert(maxdiff(mul(transpose(v), v), eye(6)) < 1e-13)
  local D = build(6, 6, function(i, j) return i == j and w[i] or 0.0 end)
  assert(maxdiff(mul(s, v), mul(v, D)) < 1e-12)
  -- only the lower triangle is read
  local lower = build(6, 6, function(i, j) return j <= i and s[i][j] or 99.0 end)
  local w2, V2 = la.eigh(par.array(lower))
  identical(w2, w)
  identical(V2, V)
  local we = la.eigh(par.array{{2, 0}, {0, 1}})
  identical(we, {1.0, 2.0})
  local w0, V0 = la.eigh(par.zeros(0, 0))
  sameshape(w0, 0)
  sameshape(V0, 0, 0)
end


do print("testing svd")
  for _, dims in ipairs{{5, 3}, {3, 5}, {4, 4}} do
    local m, n = dims[1], dims[2]
    local a = randtab(m, n)
    local U, s, Vt = keeps(la.svd, par.array(a))
    local k = math.min(m, n)
    sameshape(U, m, m)
    sameshape(s, k)
    sameshape(Vt, n, n)
    local u, vt = totab(U), totab(Vt)
    assert(maxdiff(mul(transpose(u), u), eye(m)) < 1e-13)
    assert(maxdiff(mul(vt, transpose(vt)), eye(n)) < 1e-13)
    for i = 1, k do assert(s[i] >= 0 and (i == 1 or s[i] <= s[i - 1])) end
    local S = build(m, n, function(i, j) return i == j and s[i] or 0.0 end)
    assert(maxdiff(mul(mul(u, S), vt), a) < 1e-13)
  end
  local _, sd = la.svd(par.array{{3, 0}, {0, -4}})
  identical(sd, {4.0, 3.0})
  local U0, s0, V0 = la.svd(par.zeros(0, 3))     -- NumPy gives identities
  sameshape(U0, 0, 0)
  sameshape(s0, 0)
  identical(V0, eye(3))
  local U1 = la.svd(par.zeros(2, 0))
  identical(U1, eye(2))
end


do print("testing cholesky")
  local m = randtab(6, 6)
  local a = mul(m, transpose(m))
  for i = 1, 6 do a[i][i] = a[i][i] + 6 end
  local L = keeps(la.cholesky, par.array(a))
  sameshape(L, 6, 6)
  local l = totab(L)
  for i = 1, 6 do
    assert(l[i][i] > 0)
    for j = i + 1, 6 do assert(T.same(l[i][j], 0.0)) end
  end
  assert(maxdiff(mul(l, transpose(l)), a) < 1e-12)
  identical(la.cholesky(par.array{{4, 2}, {2, 5}}), {{2.0, 0.0}, {1.0, 2.0}})
  -- only the lower triangle is read
  identical(la.cholesky(par.array{{4, 99}, {2, 5}}), {{2.0, 0.0}, {1.0, 2.0}})
  sameshape(la.cholesky(par.zeros(0, 0)), 0, 0)
end


do print("testing lstsq")
  local a, b = randtab(10, 3), {}
  for i = 1, 10 do b[i] = rand() end
  local A = par.array(a)
  local x, res, rank, s = keeps(la.lstsq, A, par.array(b))
  sameshape(x, 3)
  sameshape(res, 1)
  assert(math.type(rank) == "integer" and rank == 3)
  sameshape(s, 3)
  -- normal equations: A^T A x = A^T b
  local at = transpose(a)
  local xn = totab(la.solve(par.array(mul(at, a)), par.array(mulvec(at, b))))
  assert(maxdiff(totab(x), xn) < 1e-12)
  local r, rr = mulvec(a, totab(x)), 0.0
  for i = 1, 10 do rr = rr + (r[i] - b[i])^2 end
  assert(close(res[1], rr, 1e-10))
  local _, s2 = la.svd(A)
  assert(maxdiff(totab(s), totab(s2)) < 1e-13)

  -- several right-hand sides
  local B = randtab(10, 2)
  local X, R = la.lstsq(A, par.array(B))
  sameshape(X, 3, 2)
  sameshape(R, 2)
  for j = 1, 2 do
    local col = {}
    for i = 1, 10 do col[i] = B[i][j] end
    local xj, rj = la.lstsq(A, par.array(col))
    for i = 1, 3 do assert(close(X:get(i, j), xj[i], 1e-12)) end
    assert(close(R[j], rj[1], 1e-12))
  end

  local xe, re, ke = la.lstsq(par.array{{1, 0}, {0, 1}, {1, 1}}, par.array{1, 2, 4})
  assert(close(xe[1], 4 / 3) and close(xe[2], 7 / 3) and close(re[1], 1 / 3))
  assert(ke == 2)
  -- rank deficient or underdetermined: no residuals, as in NumPy
  local xd, rd, kd = la.lstsq(par.array{{1, 1}, {1, 1}, {1, 1}}, par.array{1, 2, 3})
  assert(kd == 1 and rd.shape[1] == 0)
  assert(close(xd[1], 1.0) and close(xd[2], 1.0))     -- minimum norm
  local xu, ru, ku, su = la.lstsq(par.array{{1, 1}}, par.array{2})
  assert(ku == 1 and ru.shape[1] == 0 and su.shape[1] == 1)
  assert(close(xu[1], 1.0) and close(xu[2], 1.0))
  -- empty
  local x0, r0, k0 = la.lstsq(par.zeros(0, 3), par.zeros(0))
  identical(x0, {0.0, 0.0, 0.0})
  assert(k0 == 0 and r0.shape[1] == 0)
  local x1, r1 = la.lstsq(par.zeros(3, 0), par.array{1, 1, 1})
  sameshape(x1, 0)
  identical(r1, {3.0})
  -- b without columns (LAPACK refuses them): NumPy's x (n, 0), no residuals,
  -- and the rank and singular values of A, bit for bit
  local xz, rz, kz, sz = la.lstsq(par.array{{1, 2}, {3, 4}, {5, 7}}, par.zeros(3, 0))
  sameshape(xz, 2, 0)
  sameshape(rz, 0)
  assert(kz == 2 and math.type(kz) == "integer")
  identical(sz, {10.191428257097224, 0.36713768594389923})
  xz, rz, kz, sz = la.lstsq(par.array{{1.0}, {2.0}}, par.zeros(2, 0))
  sameshape(xz, 1, 0)
  assert(kz == 1 and rz.size == 0)
  identical(sz, {2.2360679774997898})
  xz, rz, kz, sz = la.lstsq(par.array{{3, 4}}, par.zeros(1, 0))
  sameshape(xz, 2, 0)
  assert(kz == 1 and rz.size == 0)
  identical(sz, {5.0})
  xz, rz, kz, sz = la.lstsq(par.zeros(2, 0), par.zeros(2, 0))
  sameshape(xz, 0, 0)
  assert(kz == 0 and rz.size == 0 and sz.size == 0)
  xz, rz = la.lstsq(par.zeros(2, 0), par.ones(2, 3))
  sameshape(xz, 0, 3)
  identical(rz, {2.0, 2.0, 2.0})
  xz, rz, kz = la.lstsq(par.zeros(0, 2), par.zeros(0, 3))
  identical(xz, {{0.0, 0.0, 0.0}, {0.0, 0.0, 0.0}})
  assert(kz == 0 and rz.size == 0)
end


do print("testing errors")
  local sq, rect = par.array{{1, 2}, {3, 4}}, par.array{{1, 2, 3}, {4, 5, 6}}
  local vec, flags = par.array{1, 2, 3}, par.array{{true, false}, {false, true}}
  T.checkerror("bad argument #2 to 'matmul' (inner dimensions differ: 3 vs 4)",
               la.matmul, par.zeros(2, 3), par.zeros(4, 2))
  T.checkerror("bad argument #2 to 'matmul' (inner dimensions differ: 3 vs 2)",
               la.matmul, vec, sq)
  T.checkerror("bad argument #2 to 'matmul' (inner dimensions differ: 3 vs 2)",
               la.matmul, vec, par.array{1, 2})
  T.checkerror("bad argument #2 to 'matmul' (array expected, got number)", la.matmul, sq, 2)
  T.checkerror("bad argument #1 to 'matmul' (array expected, got table)", la.matmul, {}, sq)
  T.checkerror("bad argument #1 to 'inv' (array expected, got no value)", la.inv)
  T.checkerror("bad argument #1 to 'matmul' (expected a float64 or int64 array, got bool)",
               la.matmul, flags, sq)
  for _, name in ipairs{"inv", "det", "eigvals", "eig", "eigh", "cholesky"} do
    T.checkerror("bad argument #1 to '" .. name .. "' (matrix must be square, got shape (2, 3))",
                 la[name], rect)
    T.checkerror("bad argument #1 to '" .. name .. "' (expected a 2-D array, got shape (3,))",
                 la[name], vec)
    T.checkerror("bad argument #1 to '" .. name .. "' (expected a float64 or int64 array, got bool)",
                 la[name], flags)
  end
  T.checkerror("bad argument #1 to 'svd' (expected a 2-D array, got shape (3,))", la.svd, vec)
  T.checkerror("bad argument #1 to 'lstsq' (expected a 2-D array, got shape (3,))",
               la.lstsq, vec, vec)
  T.checkerror("bad argument #1 to 'solve' (matrix must be square, got shape (2, 3))",
               la.solve, rect, par.array{1, 2})
  T.checkerror("bad argument #2 to 'solve' (dimensions differ: A is (2, 2), b is (3,))",
               la.solve, sq, vec)
  T.checkerror("bad argument #2 to 'solve' (dimensions differ: A is (2, 2), b is (3, 2))",
               la.solve, sq, par.zeros(3, 2))
  T.checkerror("bad argument #2 to 'solve' (expected a float64 or int64 array, got bool)",
               la.solve, sq, par.array{true, false})
  T.checkerror("bad argument #2 to 'lstsq' (dimensions differ: A is (2, 3), b is (3,))",
               la.lstsq, rect, vec)

  local singular = par.array{{1, 2}, {2, 4}}
  T.checkerror("matrix is singular", la.solve, singular, par.array{1, 2})
  T.checkerror("matrix is singular", la.inv, singular)
  T.checkerror("matrix is singular", la.inv, par.zeros(3, 3))
  T.checkerror("matrix is not positive definite", la.cholesky, par.array{{1, 2}, {2, 1}})
  T.checkerror("matrix is not positive definite", la.cholesky, par.array{{-1}})
  local nan = par.array{{1.0, 0.0}, {0.0, 0.0 / 0.0}}
  T.checkerror("bad argument #1 to 'eigvals' (array must not contain infs or NaNs)",
               la.eigvals, nan)
  T.checkerror("bad argument #1 to 'eig' (array must not contain infs or NaNs)",
               la.eig, par.array{{1.0, math.huge}, {0.0, 1.0}})
  -- NaNs elsewhere flow through, as in NumPy
  local d = la.det(nan)
  assert(d ~= d)
  -- an error leaves the library usable
  assert(la.det(sq) == -2.0)
end


-- {======================================================
-- NumPy cross-check (skipped without /usr/bin/python3 and numpy)
-- =======================================================

local function writematrix(path, a)
  local f = assert(io.open(path, "w"))
  for i = 1, #a do
    local row = {}
    for j = 1, #a[i] do row[j] = string.format("%.17g", a[i][j]) end
    f:write(table.concat(row, " "), "\n")
  end
  f:close()
end

-- NumPy's answers for the matrix in file 'path' and right-hand side b:
-- one line each of sorted eigenvalues (re im pairs), det, solve, singular values.
local numpy_script = [[
import sys
import numpy as np
a = np.loadtxt(sys.argv[1], ndmin=2)
b = np.loadtxt(sys.argv[2], ndmin=1)
ev = np.linalg.eigvals(a).astype(complex)
ev = ev[np.lexsort((ev.imag, ev.real))]
out = lambda xs: print(" ".join(repr(float(x)) for x in xs))
out([v for e in ev for v in (e.real, e.imag)])
out([np.linalg.det(a)])
out(np.linalg.solve(a, b))
out(np.linalg.svd(a, compute_uv=False))
]]

local function numbers(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = assert(tonumber(w)) end
  return t
end

local function vclose(a, b, tol)
  assert(#a == #b, #a .. " values vs " .. #b)
  for i = 1, #a do
    assert(math.abs(a[i] - b[i]) <= tol * math.max(1.0, math.abs(b[i])),
           string.format("value %d: %.17g vs %.17g", i, a[i], b[i]))
  end
end

if T.has_numpy() then print("testing against NumPy")
  local n = 12
  local a, b = randtab(n, n), {}
  for i = 1, n do b[i] = rand() end
  local pa, pb = T.tmpname(".txt"), T.tmpname(".txt")
  writematrix(pa, a)
  writematrix(pb, build(n, 1, function(i) return b[i] end))
  local out, lines = T.python(numpy_script, pa, pb), {}
  for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = numbers(line) end
  os.remove(pa); os.remove(pb)
  assert(#lines == 4)

  local A = par.array(a)
  local re, im = la.eigvals(A)
  local ev = {}
  for i = 1, n do ev[i] = {re[i], im[i]} end
  table.sort(ev, function(x, y) return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2]) end)
  local flat = {}
  for i = 1, n do flat[2 * i - 1], flat[2 * i] = ev[i][1], ev[i][2] end
  vclose(flat, lines[1], 1e-10)
  vclose({la.det(A)}, lines[2], 1e-10)
  vclose(totab(la.solve(A, par.array(b))), lines[3], 1e-10)
  local _, s = la.svd(A)
  vclose(totab(s), lines[4], 1e-10)
else
  print("(NumPy not found: cross-check skipped)")
end

-- }======================================================

print("OK")
