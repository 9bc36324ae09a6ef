-- array_math.lua: par.exp ... par.ceil on numbers (bit-equal to math.*) and
-- on arrays (SIMD, within 4 ulp of math.* / libm; exact for sqrt, abs,
-- floor, ceil), special values, dtypes and errors.
print("testing array math")

local T = require "common"

-- Distance in units in the last place between two floats (0 for two NaNs).
local function ordered(x)
  local i = string.unpack("<i8", string.pack("<d", x))
  return i < 0 and math.mininteger - i or i   -- monotonic; -0.0 and 0.0 both 0
end

local function ulps(a, b)
  if a ~= a or b ~= b then return (a ~= a and b ~= b) and 0 or math.huge end
  local ia, ib = ordered(a), ordered(b)
  if (ia < 0) ~= (ib < 0) and (math.abs(ia) > 1 << 62 or math.abs(ib) > 1 << 62) then
    return math.huge
  end
  return math.abs(ia - ib)
end

assert(ulps(1.0, 1.0 + 2^-52) == 1 and ulps(-0.0, 0.0) == 0 and ulps(0.0, 5e-324) == 1)
assert(ulps(-5e-324, 5e-324) == 2 and ulps(0/0, 1.0) == math.huge)

local names = {"exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "asin",
               "acos", "atan", "sinh", "cosh", "tanh", "abs", "floor", "ceil"}
local exact = {sqrt = true, abs = true, floor = true, ceil = true}

-- Arguments per function: a sweep over the interesting range plus specials.
local ranges = {
  exp = {-746, 710}, log = {0, 1e6}, log1p = {-1, 1e6}, expm1 = {-60, 710},
  sqrt = {0, 1e10}, sin = {-1e6, 1e6}, cos = {-1e6, 1e6}, tan = {-1e4, 1e4},
  asin = {-1, 1}, acos = {-1, 1}, atan = {-1e3, 1e3}, sinh = {-711, 711},
  cosh = {-711, 711}, tanh = {-20, 20}, abs = {-1e300, 1e300}, floor = {-1e16, 1e16},
  ceil = {-1e16, 1e16},
}
local specials = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, math.huge, -math.huge, 0/0,
                  1e300, -1e300, 1e22, 2.0^1000, 5e-324, 2.2250738585072014e-308, 1e-310,
                  710.0, -745.2, 4503599627370497.5, -1.0000000000000002}

local function args(name, n)
  local lo, hi = ranges[name][1], ranges[name][2]
  local t = {}
  for i = 1, n do t[i] = lo + (hi - lo) * ((i * 0.6180339887498949) % 1) end
  for i = 1, 200 do t[#t + 1] = (i % 2 == 0 and 1 or -1) * 10.0^(i / 5 - 20) end
  for _, v in ipairs(specials) do t[#t + 1] = v end
  return t
end

-- Reference for a number: math.* where Lua has the function, else par's
-- number path (the C library's function).
local function ref(name, x)
  return math[name] and math[name](x) or par[name](x)
end

-- The float a C function returns for float x: math.floor and math.ceil give
-- integers, and a zero result takes the sign of x (floor(-0.0), ceil(-0.5)).
local function cref(name, x)
  local r = ref(name, x)
  if math.type(r) == "integer" then
    r = r + 0.0
    if r == 0 and (x < 0 or 1 / x < 0) then r = -0.0 end
  end
  return r
end

do   -- numbers: exactly math.*
  local ints = {0, 1, -1, 7, -7, 1 << 53, math.maxinteger, math.mininteger}
  for _, name in ipairs(names) do
    local f = par[name]
    for _, x in ipairs(args(name, 50)) do
      if math[name] then
        assert(T.same(f(x), math[name](x)), name .. "(" .. x .. ")")
      else
        assert(math.type(f(x)) == "float")
      end
    end
    for _, x in ipairs(ints) do
      if math[name] then assert(T.same(f(x), math[name](x)), name .. "(" .. x .. ")") end
    end
  end
  assert(T.same(par.abs(math.mininteger), math.mininteger))   -- wraps, like math.abs
  assert(T.same(par.floor(-0.0), 0) and T.same(par.ceil(-0.5), 0))
  assert(T.same(par.floor(1e300), 1e300) and T.same(par.floor(3.7), 3))
  assert(T.same(par.abs(-3), 3) and T.same(par.abs(-3.0), 3.0))
  -- the functions Lua lacks, against identities
  assert(math.abs(par.sinh(1.5) - (math.exp(1.5) - math.exp(-1.5)) / 2) < 1e-15)
  assert(math.abs(par.cosh(-2) - (math.exp(2) + math.exp(-2)) / 2) < 1e-14)
  assert(math.abs(par.tanh(0.3) - par.sinh(0.3) / par.cosh(0.3)) < 1e-16)
  assert(T.same(par.log1p(0.0), 0.0) and T.same(par.expm1(-0.0), -0.0))
  assert(par.log1p(1e-20) == 1e-20 and par.expm1(1e-20) == 1e-20)
  assert(math.abs(par.log1p(1.0) - math.log(2)) < 1e-16)
end

-- Checks array results against the per-element reference.
local function checkarray(name, xs, z)
  assert(z.dtype == "float64" and z.size == #xs)
  for i = 1, #xs do
    local want = cref(name, xs[i] + 0.0)
    local d = ulps(z[i], want)
    if d > (exact[name] and 0 or 4) then
      error(string.format("%s(%.17g): got %.17g, want %.17g (%s ulp)", name, xs[i], z[i],
            want, d))
    end
  end
end

do   -- float64 arrays
  for _, name in ipairs(names) do
    local xs = args(name, 3000)
    local z = par[name](par.array(xs))
    checkarray(name, xs, z)
    -- special values: the same infinities, zeros (with sign) and NaNs as libm
    for i = #xs - #specials + 1, #xs do
      local want = cref(name, xs[i])
      if want ~= want or want == 0 or math.abs(want) == math.huge then
        assert(ulps(z[i], want) == 0 and (want ~= 0 or T.same(z[i], want)),
               name .. "(" .. xs[i] .. ")")
      end
    end
  end
  local big = par.cos(par.array({1e300, -1e300, 2^1000, 1e22}))
  for i, x in ipairs({1e300, -1e300, 2^1000, 1e22}) do assert(ulps(big[i], math.cos(x)) <= 4) end
  local l = par.log(par.array({-1.0, 0.0, -0.0, math.huge}))
  assert(l[1] ~= l[1] and l[2] == -math.huge and l[3] == -math.huge and l[4] == math.huge)
  local s = par.sqrt(par.array({-1.0, -0.0, 4.0}))
  assert(s[1] ~= s[1] and T.same(s[2], -0.0) and T.same(s[3], 2.0))
  local A = par.array({{0.0, 1.0}, {2.0, 3.0}})
  local E = par.exp(A)
  assert(E.ndim == 2 and E.shape[1] == 2 and E.shape[2] == 2)
  assert(ulps(E:get(2, 1), math.exp(2.0)) <= 4)
  assert(par.floor(par.array({1.5})).dtype == "float64")     -- like NumPy
end

do   -- int64 arrays: abs, floor, ceil stay int64; the others give float64
  local xs = {0, 1, -1, 7, -123456789, 1 << 53, (1 << 53) + 1, math.maxinteger,
              math.mininteger}
  local X = par.array(xs)
  for _, name in ipairs({"abs", "floor", "ceil"}) do
    local z = par[name](X)
    assert(z.dtype == "int64")
    for i = 1, #xs do assert(T.same(z[i], math[name](xs[i]))) end
  end
  for _, name in ipairs({"exp", "sqrt", "sin", "atan", "tanh", "log1p"}) do
    local z = par[name](X)
    local w = par[name](X / 1)                    -- the same values as floats
    assert(z.dtype == "float64")
    for i = 1, #xs do assert(T.same(z[i], w[i])) end
  end
end

do   -- errors
  for _, name in ipairs(names) do
    T.checkerror("bad argument #1 to '" .. name .. "' (number or array expected, got string)",
                 load("return par." .. name .. "('1')"))
    T.checkerror("bad argument #1 to '" .. name .. "' (number or array expected, got no value)",
                 load("return par." .. name .. "()"))
    T.checkerror("bad argument #1 to '" .. name ..
                 "' (number or numeric array expected, got bool array)",
                 load("return par." .. name .. "(...)"), par.array({true}))
  end
end

do   -- large arrays (threads and blocks) agree with small ones and the scalar loop
  local n = 100003
  local xs = {}
  for i = 1, n do xs[i] = ((i * 0.7548776662466927) % 1) * 40 - 20 end
  local X = par.array(xs)
  for _, name in ipairs({"cos", "exp", "tanh", "floor"}) do
    local z = par[name](X)
    checkarray(name, xs, z)
    for lo = 1, n, 9973 do                       -- serial, small pieces
      local hi = math.min(lo + 99, n)
      local piece = par[name](X:slice(lo, hi))
      for i = lo, hi do assert(T.same(piece[i - lo + 1], z[i])) end
    end
  end
end

print("OK")
