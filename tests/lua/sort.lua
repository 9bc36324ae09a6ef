-- sort.lua: sort, argsort, median, quantile and histogram of arrays:
-- NumPy's numbers (hard-coded, and against numpy itself when available),
-- stability, NaN placement, thread-count independence, errors.
print("testing sorting and order statistics")

local T = require "common"
local nan, inf = 0/0, math.huge

local isnan = T.isnan
local rnd = T.lcg(777)

local totable = T.flat

local function same(a, t)
  if #a ~= #t then return false end
  for i = 1, #t do
    if not T.same(a[i], t[i]) then return false end
  end
  return true
end

local nthreads = par.threads()

do print("  sort and argsort")
  local a = par.array{3.0, nan, -1.0, 0.0, -0.0, 2.0, -inf}
  local s = a:sort()
  assert(s.dtype == "float64" and #s == 7)
  -- NaN last; equal values (0.0 and -0.0) keep their order: a stable sort
  assert(same({s[1], s[2], s[3], s[4], s[5], s[6]}, {-inf, -1.0, 0.0, -0.0, 2.0, 3.0}))
  assert(isnan(s[7]))
  assert(same(a:argsort(), {7, 3, 4, 5, 6, 1, 2}))
  assert(same(par.array{-0.0, 0.0}:sort(), {-0.0, 0.0}))
  assert(same(par.array{5, -3, math.mininteger, 0}:sort(), {math.mininteger, -3, 0, 5}))
  assert(same(par.array{true, false, true}:sort(), {false, true, true}))
  assert(same(par.array{true, false, true}:argsort(), {2, 1, 3}))
  assert(same(par.array{2, 1, 2, 1}:argsort(), {2, 4, 1, 3}))        -- stable
  assert(#par.zeros(0):sort() == 0 and #par.zeros(0):argsort() == 0)
  -- 2-D: each row (NumPy's default last axis)
  local m = par.array{{3, 1, 2}, {9, 8, 7}}
  local ms, mi = m:sort(), m:argsort()
  assert(ms.ndim == 2 and ms[1][1] == 1 and ms[1][3] == 3 and ms[2][1] == 7)
  assert(mi.dtype == "int64" and mi[1][1] == 2 and mi[2][1] == 3 and mi[2][3] == 1)
  assert(m[1][1] == 3)                                           -- a copy
  -- large: sorted, a permutation, stable, the same on any thread count
  local n = 100003
  local t = {}
  for i = 1, n do t[i] = math.floor(rnd() * 1000) / 8 - 60 end
  local x = par.array(t)
  local sx, ix = x:sort(), x:argsort()
  for i = 1, n do
    assert(T.same(sx[i], t[ix[i]]))
    if i > 1 then
      assert(sx[i - 1] <= sx[i])
      assert(sx[i - 1] < sx[i] or ix[i - 1] < ix[i])
    end
  end
  local rows = {}
  for i = 1, 300 do
    rows[i] = {}
    for j = 1, 400 do rows[i][j] = rnd() end
  end
  local r = par.array(rows)
  par.set_threads(1)
  local r1 = r:argsort()
  par.set_threads(2)
  local r2 = r:argsort()
  par.set_threads(nthreads)
  for i = 1, 300 do
    for j = 1, 400 do assert(r1[i][j] == r2[i][j]) end
    for j = 2, 400 do assert(rows[i][r1[i][j - 1]] <= rows[i][r1[i][j]]) end
  end
end

do print("  long arrays: loops run in chunks of 65536 between interrupt polls")
  -- three chunks and a bit, NaNs and signed zeros on both sides of chunk ends
  local n, t, ti = 3 * 65536 + 5, {}, {}
  for i = 1, n do
    ti[i] = math.floor(rnd() * 5000) - 2500
    t[i] = ti[i] + 0.0
  end
  local nans = {1, 65536, 65537, 131073, n}
  for _, i in ipairs(nans) do t[i] = nan end
  for _, i in ipairs{2, 65535, 131072, 131074, n - 1} do t[i] = -0.0 end
  local x = par.array(t)
  local s, ix = x:sort(), x:argsort()
  local m = n - #nans
  for i = 1, m do
    assert(T.same(s[i], t[ix[i]]))
    if i > 1 then assert(s[i - 1] < s[i] or (s[i - 1] == s[i] and ix[i - 1] < ix[i])) end
  end
  for k, i in ipairs(nans) do assert(isnan(s[m + k]) and ix[m + k] == i) end
  -- int64: median and quantiles are the sorted elements (n - 1 = 4 * 49153)
  local v = par.array(ti)
  local sv = v:sort()
  assert(v:median() == sv[(n + 1) // 2] and math.type(v:median()) == "float")
  assert(same(v:quantile{0.25, 0.75}, {sv[49154] + 0.0, sv[147460] + 0.0}))
  for i = 2, n do assert(sv[i - 1] <= sv[i]) end
  -- bool, and 2-D rows longer than a chunk
  local b = par.gt(v, 0):sort()
  assert(b[1] == false and b[n] == true and b[n - par.gt(v, 0):count()] == false)
  local r = par.array{totable(v:slice(1, 70000)), totable(v:slice(70001, 140000))}
  local rs, ri = r:sort(), r:argsort()
  for i = 1, 70000 do
    assert(rs[2][i] == v[70000 + ri[2][i]])
    if i > 1 then assert(rs[1][i - 1] <= rs[1][i] and rs[2][i - 1] <= rs[2][i]) end
  end
end

do print("  median")
  assert(T.same(par.array{3.0, 1.0, 2.0}:median(), 2.0))
  assert(T.same(par.array{4.0, 1.0, 3.0, 2.0}:median(), 2.5))
  assert(T.same(par.array{4, 1, 3, 2}:median(), 2.5))           -- a float
  assert(T.same(par.array{7}:median(), 7.0))
  assert(T.same(par.array{true, false}:median(), 0.5))
  assert(T.same(par.array{{1, 5}, {3, 2}}:median(), 2.5))       -- flattened
  assert(T.same(par.array{-0.0, -0.0}:median(), 0.0))           -- as NumPy
  assert(par.array{1e308, 1e308}:median() == inf)               -- (a + b) / 2
  assert(isnan(par.array{1.0, nan, 2.0}:median()))
  assert(isnan(par.zeros(0):median()))
  assert(T.same(par.median(par.array{5.0, 1.0}), 3.0))
end

-- x_i = (i * 7919 % 10007) / 101 and integer variants, i = 0..4999
local xt, it = {}, {}
for i = 0, 4999 do
  xt[i + 1] = (i * 7919 % 10007) / 101
  it[i + 1] = i * 7919 % 10007 - 5000
end
local x, xi = par.array(xt), par.array(it)

do print("  median and quantile: NumPy's bits")
  assert(T.same(x:median(), 0x1.8c83cd4e93028p+5))
  assert(T.same(x:slice(1, 4999):median(), 0x1.8c46f86562da0p+5))
  assert(T.same(xi:median(), 6.0) and T.same(xi:slice(1, 4999):median(), 3.0))
  local qs = {0.1, 0.25, 0.5, 0.9, 0.333}
  local want = {0x1.3e8ae625834bap+3, 0x1.8c288df0cac5bp+4, 0x1.8c83cd4e93028p+5,
                0x1.64ea33b4f968fp+6, 0x1.083614515a2c4p+5}
  local wanti = {-0x1.f353333333333p+11, -0x1.3868000000000p+11, 0x1.8p+2,
                 0x1.f583333333334p+11, -0x1.a0154fdf3b645p+10}
  for i, q in ipairs(qs) do
    assert(T.same(x:quantile(q), want[i]) and T.same(xi:quantile(q), wanti[i]))
  end
  assert(same(x:quantile(qs), want) and same(par.quantile(xi, par.array(qs)), wanti))
  local small = par.array{1.0, 2.0, 4.0, 8.0}
  assert(same(small:quantile{0.0, 0.2, 0.5, 0.75, 1.0}, {1.0, 1.6, 3.0, 5.0, 8.0}))
  -- integer quantiles take elements; float ones interpolate (NumPy: inf, nan)
  assert(par.array{1.0, inf}:quantile(1) == inf and isnan(par.array{1.0, inf}:quantile(1.0)))
  local q2 = par.array{3, 1, 2}:quantile(par.array{{0.5, 0.25}, {1.0, 0.0}})
  assert(q2.ndim == 2 and q2[1][1] == 2.0 and q2[1][2] == 1.5 and q2[2][1] == 3.0)
  assert(isnan(par.array{1.0, nan}:quantile(0.5)) and isnan(par.array{nan, 1.0}:quantile{0.1}[1]))
  assert(T.same(par.array{5.0}:quantile(0.3), 5.0) and #x:quantile{} == 0)
  -- a weight >= 0.5 interpolates from the upper end, as NumPy's _lerp
  assert(T.same(par.array{0.0, 0.1, 0.2}:quantile(0.85), 0x1.5c28f5c28f5c3p-3))
  -- integer quantiles of int64 arrays are their elements, exact beyond 2^53
  -- (NumPy: np.quantile(np.array([2**53 + 1, 3]), 1) is int64 9007199254740993)
  local big = par.array{(1 << 53) + 1, 3}
  assert(T.same(big:quantile(1), 9007199254740993) and T.same(big:quantile(0), 3))
  assert(T.same(big:quantile(0.5), 4503599627370497.0) and T.same(big:quantile(1.0), 0x1p53))
  local qi = big:quantile{0, 1}
  assert(qi.dtype == "int64" and same(qi, {3, 9007199254740993}))
  qi = par.array{5, -7, (1 << 62) + 3}:quantile(par.array{{1, 0}})
  assert(qi.dtype == "int64" and qi.ndim == 2 and qi[1][1] == 4611686018427387907 and qi[1][2] == -7)
  assert(T.same(par.array{{4, 9}, {-2, 7}}:quantile(1), 9))
  assert(big:quantile{0, 0.5}.dtype == "float64" and big:quantile{}.dtype == "float64")
  assert(big:quantile(par.array({}, "int64")).dtype == "int64")
  assert(T.same(par.array{1.5, 2.5}:quantile(1), 2.5) and T.same(big:median(), 4503599627370498.0))
end

do print("  histogram: NumPy's counts and edges")
  local c, e = par.histogram(x, 17)
  assert(same(c, {293, 293, 294, 295, 295, 294, 295, 292, 293, 296, 294, 295, 292, 294,
                  293, 295, 297}))
  assert(c.dtype == "int64" and e.dtype == "float64" and #e == 18)
  assert(T.same(e[4], 0x1.17b9a04791126p+4) and T.same(e[18], 0x1.8c46f86562da0p+6))
  c, e = par.histogram(x, 9, 10, 50.5)
  assert(same(c, {226, 227, 228, 227, 227, 227, 227, 227, 228}) and e[1] == 10 and e[10] == 50.5)
  c, e = par.histogram(xi, 13)
  assert(same(c, {385, 384, 385, 383, 386, 385, 383, 385, 384, 384, 385, 385, 386}))
  assert(T.same(e[2], -0x1.0864ec4ec4ec5p+12) and T.same(e[7], -0x1.7dd89d89d89d0p+8))
  -- values outside the range and NaN are ignored; the last bin is closed
  c, e = par.histogram(par.array{0.1, 0.2, 0.3, 0.7, 1.0, 1.0, 1.5, -1.0, nan}, 4, 0, 1)
  assert(same(c, {2, 1, 1, 2}) and same(e, {0.0, 0.25, 0.5, 0.75, 1.0}))
  c, e = par.histogram(par.array{0.1, 0.2, 0.3, 0.7, 1.0}, 3)
  assert(same(c, {3, 0, 2}) and same(e, {0x1.999999999999ap-4, 0x1.999999999999ap-2,
                                         0x1.6666666666666p-1, 1.0}))
  c, e = par.histogram(par.array{2^62, -2^62, 0}, 4)
  assert(same(c, {1, 0, 1, 1}) and e[1] == -2.0^62)
  -- values on or near edges: NumPy corrects its estimated bin both ways
  c = par.histogram(par.array{0.3, 0.6, 0.7, 0.9, 0.1, 0.2}, 10, 0, 1)
  assert(same(c, {0, 1, 2, 0, 0, 1, 1, 0, 0, 1}))
  c = par.histogram(par.array{0x1.6db6db6db6db6p-1, 0x1.d89d89d89d89dp-3}, 7, 0, 1)
  assert(same(c, {0, 1, 0, 0, 0, 1, 0}))
  -- an empty range widens by 0.5; empty data uses [0, 1]
  c, e = par.histogram(par.array{5, 5, 5}, 2)
  assert(same(c, {0, 3}) and same(e, {4.5, 5.0, 5.5}))
  c, e = par.histogram(par.array{3, 3, 3}, 2, 3, 3)
  assert(same(c, {0, 3}) and same(e, {2.5, 3.0, 3.5}))
  c, e = par.histogram(par.zeros(0), 3)
  assert(same(c, {0, 0, 0}) and e[1] == 0 and e[4] == 1)
  c = par.histogram(par.array{true, false, true}, 2)
  assert(same(c, {1, 2}))
  -- the same counts on any thread count
  local big = {}
  for i = 1, 200000 do big[i] = rnd() ^ 3 end
  local b = par.array(big)
  par.set_threads(1)
  local c1 = par.histogram(b, 50)
  par.set_threads(2)
  local c2 = par.histogram(b, 50)
  par.set_threads(nthreads)
  assert(same(c1, totable(c2)) and c1:sum() == 200000)
end

do print("  errors")
  local a = par.array{1.0, 2.0}
  T.checkerror("par.array expected, got table", par.median, {1, 2})
  T.checkerror("par.array expected, got number", par.histogram, 3, 2)
  T.checkerror("quantiles must be in the range [0, 1]", a.quantile, a, 1.5)
  T.checkerror("quantiles must be in the range [0, 1]", a.quantile, a, -0.1)
  T.checkerror("quantiles must be in the range [0, 1]", a.quantile, a, nan)
  T.checkerror("quantiles must be in the range [0, 1]", a.quantile, a, {0.5, 2})
  T.checkerror("quantiles must be numbers", a.quantile, a, {0.5, "x"})
  T.checkerror("number, table or par.array expected, got no value", a.quantile, a)
  T.checkerror("cannot take a quantile of an empty array", par.quantile, par.zeros(0), 0.5)
  -- no axis: an extra argument is an error, not ignored
  local m = par.array{{1.0, 5.0}, {4.0, 2.0}}
  T.checkerror("bad argument #1 to 'median' (no axis: median reduces the whole array)",
               function() return m:median(1) end)
  T.checkerror("bad argument #2 to 'quantile' (no axis: quantile reduces the whole array)",
               function() return m:quantile(0.5, 1) end)
  T.checkerror("bad argument #3 to 'par.quantile' (no axis: quantile reduces the whole array)",
               par.quantile, m, {0.5}, 2)
  T.checkerror("bad argument #1 to 'sort' (no axis: sort sorts each row)",
               function() return m:sort(1) end)
  T.checkerror("bad argument #2 to 'par.argsort' (no axis: argsort sorts each row)",
               par.argsort, m, 2)
  assert(m:median(nil) == 3.0 and m:sort(nil)[2][1] == 2.0)
  T.checkerror("bins must be a positive integer", par.histogram, a, 0)
  T.checkerror("number has no integer representation", par.histogram, a, 2.5)
  T.checkerror("autodetected range of [nan, nan] is not finite",
               par.histogram, par.array{1.0, nan}, 3)
  T.checkerror("autodetected range of [1, inf] is not finite",
               par.histogram, par.array{1.0, inf}, 3)
  T.checkerror("supplied range of [0, inf] is not finite", par.histogram, a, 3, 0, inf)
  T.checkerror("max must be larger than min in range parameter", par.histogram, a, 3, 2, 1)
  T.checkerror("number expected, got no value", par.histogram, a, 3, 0)
end

-- against numpy itself, when python3 with numpy is available
do
  local n, t = 20011, {}
  for i = 1, n do
    t[i] = math.floor(rnd() * 3000) / 7 - 200        -- with many ties
    if i % 101 == 0 then t[i] = -0.0 end
  end
  t[5], t[6] = 1e300, -1e300
  local qs = {0.0, 1e-9, 0.01, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 0.99, 0.999999, 1.0}
  local r = T.numpy([[
out(float(np.median(x))); out(float(np.median(x[:-1])))
for q in (]] .. table.concat(qs, ", ") .. [[,): out(float(np.quantile(x, q)))
c, e = np.histogram(x, 37)
for v in c: out(int(v))
for v in e: out(float(v))
c, e = np.histogram(x, 11, (-100.5, 100))
for v in c: out(int(v))
s = np.sort(x)
for i in (0, 1, 5000, 20010): out(float(s[i]))
]], t)
  if r then
    print("  against NumPy")
    local a = par.array(t)
    assert(T.same(a:median(), r[1]) and T.same(a:slice(1, n - 1):median(), r[2]))
    local k = 2
    for _, q in ipairs(qs) do k = k + 1; assert(T.same(a:quantile(q), r[k]), q) end
    local c, e = par.histogram(a, 37)
    for i = 1, 37 do k = k + 1; assert(c[i] == r[k]) end
    for i = 1, 38 do k = k + 1; assert(T.same(e[i], r[k])) end
    c = par.histogram(a, 11, -100.5, 100)
    for i = 1, 11 do k = k + 1; assert(c[i] == r[k]) end
    local s = a:sort()
    for _, i in ipairs{1, 2, 5001, 20011} do k = k + 1; assert(s[i] == r[k]) end
  end
end

print("OK")
