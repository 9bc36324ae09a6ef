-- array_ops.lua: element-wise arithmetic, comparisons, where, select and
-- count, each element checked against Lua's own scalar operation.
print("testing array arithmetic")

local T = require "common"

local maxi, mini = math.maxinteger, math.mininteger

local ints = {0, 1, -1, 2, -2, 3, -3, 7, -7, 10, 1000000007, -123456789012345,
              maxi, mini, maxi - 1, mini + 1, 1 << 53, (1 << 53) + 1, -(1 << 53) - 1,
              1 << 62}
local floats = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 5.5, -7.25,
                0.1, 1e300, -1e300, 1e-310, 2.0^53, 2.0^53 + 2, 2.0^63, -2.0^63,
                math.huge, -math.huge, 0/0, math.pi}

local ops = {
  ["+"] = function(a, b) return a + b end,
  ["-"] = function(a, b) return a - b end,
  ["*"] = function(a, b) return a * b end,
  ["/"] = function(a, b) return a / b end,
  ["//"] = function(a, b) return a // b end,
  ["%"] = function(a, b) return a % b end,
  ["^"] = function(a, b) return a ^ b end,
}

-- Checks z[i] == Lua's f(x[i], y[i]) bitwise (value and integer/float
-- subtype) for every pair; xs/ys may hold a single scalar (broadcast).
local function checkpairs(name, f, z, xs, ys, n)
  assert(z.size == n)
  for i = 1, n do
    local x = type(xs) == "table" and xs[i] or xs
    local y = type(ys) == "table" and ys[i] or ys
    local want = f(x, y)
    if not T.same(z[i], want) then
      error(string.format("%s %s %s: got %s (%s), want %s (%s)", x, name, y,
            z[i], math.type(z[i]), want, math.type(want)))
    end
  end
end

-- All pairs (a, b) from two value lists, skipping zero integer divisors.
local function pairsof(as, bs, nozero)
  local xs, ys = {}, {}
  for _, a in ipairs(as) do
    for _, b in ipairs(bs) do
      if not (nozero and math.type(b) == "integer" and b == 0) then
        xs[#xs + 1] = a; ys[#ys + 1] = b
      end
    end
  end
  return xs, ys
end

do   -- array op array, for int/int, float/float, int/float, float/int
  local kinds = {{ints, ints}, {floats, floats}, {ints, floats}, {floats, ints}}
  for name, f in pairs(ops) do
    local intdiv = (name == "//" or name == "%")
    for _, k in ipairs(kinds) do
      local xs, ys = pairsof(k[1], k[2], intdiv)
      local X, Y = par.array(xs), par.array(ys)
      checkpairs(name, f, f(X, Y), xs, ys, #xs)
    end
  end
end

do   -- scalars broadcast on either side
  for name, f in pairs(ops) do
    local intdiv = (name == "//" or name == "%")
    for _, vals in ipairs({ints, floats}) do
      local X = par.array(vals)
      for _, s in ipairs(ints) do
        if not (intdiv and s == 0) then checkpairs(name, f, f(X, s), vals, s, #vals) end
      end
      for _, s in ipairs(floats) do
        checkpairs(name, f, f(X, s), vals, s, #vals)
        checkpairs(name, f, f(s, X), s, vals, #vals)
      end
    end
    local nz = {}
    for _, v in ipairs(ints) do if v ~= 0 then nz[#nz + 1] = v end end
    for _, s in ipairs(ints) do
      checkpairs(name, f, f(s, par.array(nz)), s, nz, #nz)
    end
  end
end

do   -- unary minus and result dtypes
  local I, F = par.array(ints), par.array(floats)
  checkpairs("unm", function(a) return -a end, -I, ints, 0, #ints)
  checkpairs("unm", function(a) return -a end, -F, floats, 0, #floats)
  assert((-I)[14] == mini)                      -- -mininteger wraps
  assert((I + I).dtype == "int64" and (I // 3).dtype == "int64" and (I % 3).dtype == "int64")
  assert((I / I).dtype == "float64" and (I ^ 2).dtype == "float64")
  assert((I + 1.0).dtype == "float64" and (2.5 * I).dtype == "float64")
  assert((I + F:slice(1, #ints)).dtype == "float64")
  assert(T.same((I * 2)[13], -2))                -- maxinteger * 2 wraps
  assert(T.same((I + 1)[13], mini))
  assert(T.same((par.array({mini}) // -1)[1], mini))
  assert(T.same((par.array({mini}) % -1)[1], 0))
  assert(T.same((par.array({-7}) // 2)[1], -4) and T.same((par.array({-7}) % 2)[1], 1))
  assert(T.same((par.array({7}) % -2)[1], -1) and T.same((par.array({-7.0}) % 2)[1], 1.0))
  assert(T.same((par.array({5.0}) // 0)[1], math.huge))
  assert(T.same((par.array({-0.0}) * 1)[1], -0.0))
  local y = par.array({3.0}) ^ 2                 -- Lua squares by multiplication
  assert(T.same(y[1], 9.0))
end

do   -- 2-D arrays and views keep their shape
  local A = par.array({{1, 2, 3}, {4, 5, 6}})
  local B = A * 2 - A
  assert(B.ndim == 2 and B.shape[1] == 2 and B.shape[2] == 3)
  for i = 1, 2 do for j = 1, 3 do assert(T.same(B:get(i, j), A:get(i, j))) end end
  local r = A[2] + 0.5                           -- a row view
  assert(r.ndim == 1 and T.same(r[1], 4.5) and T.same(r[3], 6.5))
  local C = 1 / A
  assert(T.same(C:get(2, 2), 1 / 5))
end

do   -- errors
  local a3, a4 = par.array({1, 2, 3}), par.array({1, 2, 3, 4})
  T.checkerror("shapes (3,) and (4,) do not match", function() return a3 + a4 end)
  T.checkerror("shapes (2, 3) and (6,) do not match",
               function() return par.zeros(2, 3) * par.zeros(6) end)
  T.checkerror("shapes (2, 3) and (3, 2) do not match",
               function() return par.zeros(2, 3) - par.zeros(3, 2) end)
  local b = par.array({true, false})
  T.checkerror("attempt to perform arithmetic on a bool array", function() return b + 1 end)
  T.checkerror("attempt to perform arithmetic on a bool array", function() return 1 - b end)
  T.checkerror("attempt to perform arithmetic on a bool array", function() return -b end)
  T.checkerror("attempt to perform arithmetic on a string value", function() return a3 + "1" end)
  T.checkerror("attempt to perform arithmetic on a table value", function() return {} * a3 end)
  T.checkerror("attempt to perform arithmetic on a boolean value", function() return a3 ^ true end)
  T.checkerror("attempt to divide by zero", function() return a3 // 0 end)
  T.checkerror("attempt to perform 'n%%0'", function() return a3 % 0 end)
  T.checkerror("attempt to divide by zero", function() return a3 // par.array({1, 0, 1}) end)
  T.checkerror("attempt to perform 'n%%0'", function() return 5 % par.array({1, 2, 0}) end)
  -- the message points at the Lua line, as Lua's own errors do
  T.checkerror("^[^:]*array_ops.lua:%d+: attempt to divide by zero", function() return a3 // 0 end)
  assert((a3 // 0.0)[1] == math.huge and (par.array({}, "int64") // 0).size == 0)
  local closed
  do
    local c <close> = par.array({1, 2})
    closed = c
  end
  T.checkerror("attempt to use a closed array", function() return closed + 1 end)
  T.checkerror("attempt to use a closed array", function() return par.lt(0, closed) end)
end

do   -- large arrays: threads, blocks and the scalar loop agree
  local n = 100003
  local xs, ys = {}, {}
  for i = 1, n do
    xs[i] = (i * 7919) % 2001 - 1000
    ys[i] = (i * 104729) % 37 - 18
    if ys[i] == 0 then ys[i] = 5 end
  end
  local X, Y = par.array(xs), par.array(ys)
  local XF = X / 7
  for name, f in pairs(ops) do
    checkpairs(name, f, f(X, Y), xs, ys, n)
  end
  local xf = {}
  for i = 1, n do xf[i] = xs[i] / 7 end
  checkpairs("%", ops["%"], XF % 3.5, xf, 3.5, n)
  checkpairs("^", ops["^"], XF ^ 2, xf, 2, n)
  checkpairs("-", ops["-"], 1 - XF, 1, xf, n)
  ys[n - 1] = 0                                  -- a zero divisor in the last block
  T.checkerror("attempt to divide by zero", function() return X // par.array(ys) end)
end

print("testing comparisons")

local cmps = {
  lt = function(a, b) return a < b end, le = function(a, b) return a <= b end,
  gt = function(a, b) return a > b end, ge = function(a, b) return a >= b end,
  eq = function(a, b) return a == b end, ne = function(a, b) return a ~= b end,
}

local function checkcmp(name, z, xs, ys, n)
  local f = cmps[name]
  assert(z.dtype == "bool" and z.size == n)
  for i = 1, n do
    local x = type(xs) == "table" and xs[i] or xs
    local y = type(ys) == "table" and ys[i] or ys
    if z[i] ~= f(x, y) then
      error(string.format("%s(%s, %s): got %s", name, x, y, z[i]))
    end
  end
end

do
  -- exactness around 2^53 and 2^63, where converting an integer to a float rounds
  local edgei = {1 << 53, (1 << 53) + 1, (1 << 53) - 1, -(1 << 53) - 1, maxi, mini, 0, -1}
  local edgef = {2.0^53, 2.0^53 + 2, 2.0^63, -2.0^63, -2.0^53, 0.0, -0.0, -0.5, 0/0,
                 math.huge, -math.huge}
  local kinds = {{ints, ints}, {floats, floats}, {ints, floats}, {floats, ints},
                 {edgei, edgef}, {edgef, edgei}}
  for name in pairs(cmps) do
    for _, k in ipairs(kinds) do
      local xs, ys = pairsof(k[1], k[2])
      checkcmp(name, par[name](par.array(xs), par.array(ys)), xs, ys, #xs)
    end
    for _, s in ipairs(edgef) do
      checkcmp(name, par[name](par.array(edgei), s), edgei, s, #edgei)
      checkcmp(name, par[name](s, par.array(edgei)), s, edgei, #edgei)
    end
    for _, s in ipairs(edgei) do
      checkcmp(name, par[name](par.array(edgef), s), edgef, s, #edgef)
      checkcmp(name, par[name](s, par.array(ints)), s, ints, #ints)
    end
    -- two numbers: a boolean, as Lua compares them
    assert(par[name](1 << 53, 2.0^53) == cmps[name](1 << 53, 2.0^53))
    assert(par[name]((1 << 53) + 1, 2.0^53) == cmps[name]((1 << 53) + 1, 2.0^53))
    assert(par[name](0/0, 0/0) == cmps[name](0/0, 0/0))
  end
  assert(par.eq(1, 1.0) == true and par.ne(2, 3) == true and par.lt(2, 1) == false)
  assert(par.eq(true, true) == true and par.ne(true, false) == true)

  -- bools: eq and ne only, with bools
  local b = par.array({true, false, true})
  local c = par.array({true, true, false})
  local e = par.eq(b, c)
  assert(e[1] == true and e[2] == false and e[3] == false)
  e = par.ne(b, true)
  assert(e[1] == false and e[2] == true and e[3] == false)
  T.checkerror("attempt to compare bool array with bool array", par.lt, b, c)
  T.checkerror("attempt to compare bool array with number", par.eq, b, 1)
  T.checkerror("attempt to compare int64 array with boolean", par.ne, par.array({1}), true)
  T.checkerror("attempt to compare boolean with boolean", par.le, true, false)
  T.checkerror("attempt to compare number with boolean", par.eq, 1, true)
  T.checkerror("bad argument #2 to 'lt' (number, boolean or array expected, got string)",
               function() return par.lt(b, "x") end)
  T.checkerror("bad argument #1 to 'gt' (number, boolean or array expected, got no value)",
               function() return par.gt() end)
  T.checkerror("shapes (3,) and (2,) do not match", par.ge, par.array({1, 2, 3}), par.array({1, 2}))

  local A = par.array({{1, 2}, {3, 4}})
  local m = par.gt(A, 2.5)
  assert(m.ndim == 2 and m:get(1, 2) == false and m:get(2, 1) == true)
end

print("testing where, select, count")

do
  local a = par.array({1, 2, 3, 4, 5})
  local f = par.array({0.5, -1.5, 2.5, 0/0, -0.0})
  local m = par.gt(a, 2)
  local w = par.where(m, a, 0)
  assert(w.dtype == "int64")
  for i, v in ipairs({0, 0, 3, 4, 5}) do assert(T.same(w[i], v)) end
  w = par.where(m, -1.5, a)
  assert(w.dtype == "float64")
  for i, v in ipairs({1.0, 2.0, -1.5, -1.5, -1.5}) do assert(T.same(w[i], v)) end
  w = par.where(m, f, a)
  for i, v in ipairs({1.0, 2.0, 2.5, 0/0, -0.0}) do assert(T.same(w[i], v)) end
  w = par.where(m, 7, 8)
  for i, v in ipairs({8, 8, 7, 7, 7}) do assert(T.same(w[i], v)) end
  w = par.where(m, false, m)
  assert(w.dtype == "bool" and w[1] == false and w[3] == false)
  T.checkerror("bad argument #1 to 'where' (bool array expected, got int64 array)",
               function() return par.where(a, a, a) end)
  T.checkerror("bad argument #3 to 'where' (cannot mix int64 array and boolean)",
               function() return par.where(m, a, true) end)
  T.checkerror("shapes (5,) and (2,) do not match", par.where, m, a, par.array({1, 2}))
  T.checkerror("bad argument #2 to 'where' (number, boolean or array expected, got string)",
               function() return par.where(m, "a", 1) end)

  local s = a:select(m)
  assert(s.dtype == "int64" and s.size == 3 and s[1] == 3 and s[3] == 5)
  s = f:select(par.ne(f, f))                      -- the NaN
  assert(s.size == 1 and s[1] ~= s[1])
  assert(m:select(m).size == 3 and m:select(m)[2] == true)
  assert(a:select(par.gt(a, 10)).size == 0)
  local A = par.array({{1, 2}, {3, 4}})
  s = A:select(par.ne(A, 2))                      -- row-major order
  assert(s.ndim == 1 and s[1] == 1 and s[2] == 3 and s[3] == 4)
  T.checkerror("shapes (5,) and (4,) do not match", a.select, a, par.gt(par.zeros(4), 0))
  T.checkerror("bad argument #1 to 'select' (bool array expected, got int64 array)",
               function() return a:select(a) end)

  assert(m:count() == 3 and a:count() == 5 and f:count() == 4)   -- NaN counts, -0.0 not
  assert(par.array({0, 1, 0}):count() == 1 and par.array({}, "bool"):count() == 0)
  T.checkerror("bad argument #1 to 'count' (no axis: count counts the whole array)",
               function() return A:count(1) end)

  -- large: block counts become offsets
  local n = 70001
  local xs = {}
  for i = 1, n do xs[i] = (i * 7919) % 1000 end
  local X = par.array(xs)
  local mk = par.lt(X, 300)
  local picked, want = X:select(mk), {}
  for i = 1, n do if xs[i] < 300 then want[#want + 1] = xs[i] end end
  assert(picked.size == #want and mk:count() == #want)
  for i = 1, #want do assert(picked[i] == want[i]) end
  local W = par.where(mk, X, -X)
  for i = 1, n do assert(W[i] == (xs[i] < 300 and xs[i] or -xs[i])) end
end

print("OK")
