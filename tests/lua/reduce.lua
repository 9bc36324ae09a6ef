-- reduce.lua: sum, prod, min, max, mean, var, std, argmin, argmax and
-- cumsum of arrays: the blocked reduction order bit for bit, thread-count
-- independence, NumPy's numbers and the error messages.
print("testing reductions")

local T = require "common"
local nan, inf = 0/0, math.huge

local isnan = T.isnan
local rnd = T.lcg(20240607)      -- deterministic data

-- n floats of mixed signs and magnitudes; 'special' sprinkles zeros of
-- both signs and infinities
local function fdata(n, special)
  local t = {}
  for i = 1, n do
    t[i] = (rnd() - 0.5) * 2.0^(math.floor(rnd() * 40) - 20)
    if special and i % 97 == 0 then t[i] = ({0.0, -0.0, inf, -inf})[i % 4 + 1] end
  end
  return t
end

-- API section 2: a:sum() is exactly this loop (and a:prod() with 1 and *)
local function blocked(t, n, op, f)
  f = f or function (x) return x end
  local mul = op == "*"
  local s = mul and 1 or 0
  for b = 0, (n - 1) // 1024 do
    local p = mul and 1 or 0
    for i = b * 1024 + 1, math.min(n, b * 1024 + 1024) do
      if mul then p = p * f(t[i]) else p = p + f(t[i]) end
    end
    if mul then s = s * p else s = s + p end
  end
  return s
end

local nthreads = par.threads()

-- runs f() on 1, 2 and 3 threads, checks that its result has the same bits
-- each time and returns it (a 1-D array as a table)
local function samebits(f)
  local ref
  for _, t in ipairs{1, 2, 3} do
    par.set_threads(t)
    local r = f()
    if type(r) == "userdata" then
      local a = r
      r = {}
      for i = 1, #a do r[i] = a[i] end
    else
      r = {r}
    end
    ref = ref or r
    assert(#r == #ref)
    for i = 1, #ref do assert(T.same(r[i], ref[i]), "differs on " .. t .. " threads") end
  end
  par.set_threads(nthreads)
  return #ref == 1 and ref[1] or ref
end

do print("  the blocked order, bit for bit, on any thread count")
  for _, n in ipairs{0, 1, 1023, 1024, 1025, 100003} do
    local t = fdata(n, true)
    local a = par.array(t, "float64")
    local s = samebits(function () return a:sum() end)
    assert(T.same(s, blocked(t, n, "+") + 0.0))
    assert(T.same(par.sum(a), s))
    assert(T.same(samebits(function () return a:mean() end), s / n))
    local p = {}
    for i = 1, n do p[i] = 1 + (rnd() - 0.5) * 1e-3 end
    local pa = par.array(p, "float64")
    assert(T.same(samebits(function () return pa:prod() end), blocked(p, n, "*") + 0.0))
    -- var: the blocked sum of squared deviations from the blocked mean
    local u = fdata(n)
    local ua = par.array(u, "float64")
    local m = blocked(u, n, "+") / n
    local ssd = blocked(u, n, "+", function (x) return (x - m) * (x - m) end)
    assert(T.same(samebits(function () return ua:var() end), ssd / n))
    assert(T.same(ua:std(1), math.sqrt(ssd / math.max(n - 1, 0))))
  end
  -- the order matters: 1.0 then 2047 times 1e-16
  local t = {1.0}
  for i = 2, 2048 do t[i] = 1e-16 end
  local plain = 0
  for i = 1, 2048 do plain = plain + t[i] end
  local a = par.array(t)
  assert(plain == 1.0 and a:sum() > 1.0 and T.same(a:sum(), blocked(t, 2048, "+")))
  -- sums start at 0: -0.0 values sum to 0.0 (as NumPy's); products keep -0.0
  assert(T.same(par.array{-0.0, -0.0}:sum(), 0.0))
  assert(T.same(par.array{-0.0, 1.0}:prod(), -0.0))
end

do print("  integers and booleans")
  local big = par.array{math.maxinteger, 1, 5}
  assert(math.type(big:sum()) == "integer" and big:sum() == math.mininteger + 5)
  assert(par.array{math.maxinteger, 2}:prod() == -2)          -- wraps
  assert(T.same(par.array{1, 2, 3, 4}:mean(), 2.5))
  local n = 5000
  local t = {}
  for i = 1, n do t[i] = math.floor(rnd() * 2^62) * (i % 2 == 0 and -1 or 1) end
  local a = par.array(t)
  assert(samebits(function () return a:sum() end) == blocked(t, n, "+"))
  -- int64 means sum the elements as float64
  assert(T.same(a:mean(), blocked(t, n, "+", function (x) return x + 0.0 end) / n))
  local b = par.array{true, false, true, true}
  assert(T.same(b:sum(), 3) and T.same(b:mean(), 0.75) and T.same(b:prod(), 0))
  assert(b:min() == false and b:max() == true and b:argmin() == 2 and b:argmax() == 1)
  assert(T.same(par.array{true}:prod(), 1))
  local c = b:cumsum()
  assert(c.dtype == "int64" and c[4] == 3)
end

do print("  min, max, argmin, argmax: NaN first, then the first extremum")
  local a = par.array{3.0, 1.0, nan, -1.0, nan}
  assert(isnan(a:min()) and isnan(a:max()) and a:argmin() == 3 and a:argmax() == 3)
  assert(T.same(par.array{0.0, -0.0}:min(), 0.0) and T.same(par.array{-0.0, 0.0}:min(), -0.0))
  assert(par.array{2, 7, 1, 7, 1}:argmax() == 2 and par.array{2, 7, 1, 7, 1}:argmin() == 3)
  assert(par.array{{1, 9}, {9, 0}}:argmax() == 2 and par.array{{1, 9}, {9, 0}}:argmin() == 4)
  assert(par.array{-inf, inf}:min() == -inf and par.max(par.array{-inf, inf}) == inf)
  local n = 70001
  local t = fdata(n)
  t[40000], t[50000] = -1e300, -1e300
  local x = par.array(t)
  assert(samebits(function () return x:argmin() end) == 40000)
  assert(T.same(x:min(), -1e300))
  t[60000] = nan
  x = par.array(t)
  assert(samebits(function () return x:argmax() end) == 60000 and isnan(x:max()))
end

do print("  axes")
  local m = par.array{{1, 2, 3}, {4, 5, 6}}
  local c, r = m:sum(1), m:sum(2)
  assert(c.dtype == "int64" and #c == 3 and c[1] == 5 and c[2] == 7 and c[3] == 9)
  assert(#r == 2 and r[1] == 6 and r[2] == 15)
  assert(T.same(m:mean(1)[2], 3.5) and T.same(m:mean(2)[2], 5.0))
  assert(m:min(1)[3] == 3 and m:max(2)[1] == 3 and m:min(2)[2] == 4)
  assert(T.same(m:sum(), 21) and m:prod(1)[3] == 18)
  local b = par.array{{true, false}, {true, true}}
  assert(b:sum(1)[1] == 2 and b:min(1).dtype == "bool" and b:min(1)[2] == false)
  -- a 1-D array: axis 1 is the whole array
  assert(T.same(par.array{1.5, 2.5}:sum(1), 4.0))
  -- tall and wide matrices: each column and each row in the blocked order
  for _, shape in ipairs{{3000, 2}, {2, 3000}} do
    local rows, cols = shape[1], shape[2]
    local t, flat = {}, fdata(rows * cols)
    for i = 1, rows do
      t[i] = {}
      for j = 1, cols do t[i][j] = flat[(i - 1) * cols + j] end
    end
    local a = par.array(t)
    local s1 = samebits(function () return a:sum(1) end)
    local s2 = samebits(function () return a:sum(2) end)
    for j = 1, cols do
      local col = {}
      for i = 1, rows do col[i] = t[i][j] end
      assert(T.same(s1[j], blocked(col, rows, "+")))
    end
    for i = 1, rows do assert(T.same(s2[i], blocked(t[i], cols, "+"))) end
  end
  -- zero-size axes: sums give zeros, min and max need something to reduce
  assert(#par.zeros(0, 3):sum(1) == 3 and par.zeros(0, 3):sum(1)[1] == 0.0)
  assert(isnan(par.zeros(0, 3):mean(1)[1]))
  assert(#par.zeros(3, 0):min(1) == 0)
  T.checkerror("zero-size array to reduction operation max which has no identity",
               function () return par.zeros(3, 0):max(2) end)
end

do print("  var and std (NumPy's ddof)")
  local a = par.array{1.0, 2.0, 3.0, 4.0}
  assert(a:var() == 1.25 and a:var(1) == 5 / 3 and a:std() == math.sqrt(1.25))
  assert(par.var(a, 0) == 1.25 and par.std(a, 1) == math.sqrt(5 / 3))
  assert(par.array{1.0, 2.0}:var(2) == inf and isnan(par.array{1.0, 1.0}:var(2)))
  assert(par.array{1.0, 2.0}:var(-1) == 0.16666666666666666)
  assert(par.array{1.0, 2.0}:var(0.5) == 0.3333333333333333)
  assert(par.array{1, 2, 3, 4}:var() == 1.25 and par.array{true, false}:var() == 0.25)
end

do print("  empty arrays")
  local e, ei = par.zeros(0), par.zeros(0, "int64")
  assert(T.same(e:sum(), 0.0) and T.same(ei:sum(), 0) and T.same(e:prod(), 1.0))
  assert(T.same(ei:prod(), 1) and isnan(e:mean()) and isnan(e:var()) and isnan(e:std()))
  assert(#e:cumsum() == 0)
  T.checkerror("zero-size array to reduction operation min which has no identity", e.min, e)
  T.checkerror("zero-size array to reduction operation max which has no identity", par.max, e)
  T.checkerror("attempt to get argmin of an empty sequence", e.argmin, e)
  T.checkerror("attempt to get argmax of an empty sequence", par.argmax, ei)
end

do print("  cumsum")
  local c = par.array{1, 2, 3.5}:cumsum()
  assert(c.dtype == "float64" and T.same(c[1], 1.0) and T.same(c[3], 6.5))
  assert(T.same(par.array{-0.0, 1.0}:cumsum()[1], -0.0))            -- as NumPy
  local w = par.array{math.maxinteger, 1}:cumsum()
  assert(w.dtype == "int64" and w[2] == math.mininteger)
  local f = par.cumsum(par.array{{1, 2}, {3, 4}})
  assert(f.ndim == 1 and #f == 4 and f[4] == 10)
  local t = fdata(3000)
  local s, cs = 0, par.array(t):cumsum()
  for i = 1, 3000 do
    s = s + t[i]
    assert(T.same(cs[i], s))
  end
end

do print("  errors")
  local a = par.array{1.0, 2.0}
  T.checkerror("par.array expected, got number", par.sum, 3)
  T.checkerror("par.array expected, got no value", par.mean)
  T.checkerror("axis 2 is out of bounds for array of dimension 1", a.sum, a, 2)
  T.checkerror("axis 3 is out of bounds for array of dimension 2", par.min, par.zeros(2, 2), 3)
  T.checkerror("axis 0 is out of bounds", par.mean, par.zeros(2, 2), 0)
  T.checkerror("number has no integer representation", a.max, a, 1.5)
  T.checkerror("number expected, got string", a.var, a, "x")
  T.checkerror("bad argument #1 to 'sum'", function () return a:sum(3) end)
  -- an argument a reduction does not take is an error, not ignored (NumPy's
  -- m.argmax(0) is one index per column, m.var(0, 1) a variance per row)
  local m = par.array{{1, 5}, {4, 2}}
  assert(m:argmax() == 2 and m:argmax(nil) == 2 and m:sum(1, nil)[2] == 7)
  T.checkerror("bad argument #1 to 'argmax' (no axis: argmax reduces the whole array)",
               function () return m:argmax(1) end)
  T.checkerror("bad argument #2 to 'par.argmin' (no axis: argmin reduces the whole array)",
               par.argmin, m, 2)
  T.checkerror("bad argument #1 to 'cumsum' (no axis: cumsum runs over the flattened array)",
               function () return m:cumsum(1) end)
  T.checkerror("bad argument #2 to 'var' (no axis: var reduces the whole array)",
               function () return m:var(0, 1) end)
  T.checkerror("bad argument #2 to 'std' (no axis: std reduces the whole array)",
               function () return m:std(1, 2) end)
  T.checkerror("bad argument #2 to 'sum' (at most one axis expected)",
               function () return m:sum(1, 2) end)
  T.checkerror("bad argument #3 to 'par.mean' (at most one axis expected)", par.mean, m, 1, 1)
  T.checkerror("bad argument #2 to 'prod' (at most one axis expected)",
               function () return m:prod(2, 1) end)
  T.checkerror("bad argument #2 to 'min' (at most one axis expected)",
               function () return m:min(nil, 1) end)
end

do
  local t = fdata(100003)
  t[777], t[778] = -1e30, 1e29
  local r = T.numpy([[
for v in (np.min(x), np.max(x), np.sum(x), np.mean(x), np.var(x), np.std(x, ddof=1)):
    out(float(v))
out(int(np.argmin(x)) + 1); out(int(np.argmax(x)) + 1)
c = np.cumsum(x)
for i in (0, 5000, 100002): out(float(c[i]))
]], t)
  if r then
    print("  against NumPy")
    local a = par.array(t)
    assert(T.same(a:min(), r[1]) and T.same(a:max(), r[2]))
    for i, v in ipairs{a:sum(), a:mean(), a:var(), a:std(1)} do
      -- pairwise vs blocked summation: equal to rounding
      assert(math.abs(v - r[i + 2]) <= 1e-9 * math.abs(r[i + 2]) or (isnan(v) and isnan(r[i + 2])))
    end
    assert(a:argmin() == r[7] and a:argmax() == r[8])
    local c = a:cumsum()
    assert(T.same(c[1], r[9]) and T.same(c[5001], r[10]) and T.same(c[100003], r[11]))
  end
end

print("OK")
