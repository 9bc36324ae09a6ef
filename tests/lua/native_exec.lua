-- native_exec.lua: the shared execution table of the kernel compiler:
-- every case runs compiled (par._native.jit) and by plain Lua, and both
-- must agree exactly (values, math.type, or the error message).
print("testing native kernels against Lua")

local T = require "common"
local N = par._native

local ncases = 0

-- Runs f natively and in Lua on the same arguments; compares.
local function same_result (name, f, ...)
  ncases = ncases + 1
  local lua = table.pack(pcall(f, ...))
  local nat = table.pack(pcall(N.jit(f), ...))
  if not lua[1] then
    assert(not nat[1], name .. ": Lua raised '" .. tostring(lua[2]) .. "', native did not")
    assert(nat[2] == lua[2], name .. ": native error '" .. tostring(nat[2]) ..
      "' vs Lua error '" .. tostring(lua[2]) .. "'")
    return
  end
  assert(nat[1], name .. ": native raised " .. tostring(nat[2]))
  assert(nat.n == lua.n, name .. ": result count")
  for k = 2, lua.n do
    local a, b = lua[k], nat[k]
    if type(a) == "number" then
      assert(T.same(a, b), string.format("%s: result %d: Lua %s (%s), native %s (%s)", name, k - 1,
        tostring(a), math.type(a), tostring(b), math.type(b)))
    elseif type(a) == "userdata" then
      assert(a.size == b.size and a.dtype == b.dtype, name .. ": array result")
      for i = 1, a.size do assert(T.same(a:reshape(a.size)[i], b:reshape(b.size)[i]), name) end
    else
      assert(a == b, name .. ": result " .. (k - 1))
    end
  end
end

local function case (src, ...)
  local f = assert(load("return " .. src))()
  same_result(src, f, ...)
end

-- operators on int/float/mixed/edge operands: one kernel per signature
local values = {3, -7, 0, 2.5, -0.0, 0/0, 1/0, math.mininteger, math.maxinteger, -1, 7.0, 1e300}
local arith = load([[return function (a, b)
  return a + b, a - b, a * b, a / b, a ^ b, -a, a == b, a ~= b, a < b, a <= b, a > b, a >= b,
    a * b + a, (a < b) and a or b, not (a < b), math.abs(a), math.max(a, b), math.min(a, b)
end]])()
for _, a in ipairs(values) do
  for _, b in ipairs(values) do
    same_result(string.format("arith(%s, %s)", a, b), arith, a, b)
  end
end
local idiv = load("return function (a, b) return a // b end")()
local mod = load("return function (a, b) return a % b end")()
for _, a in ipairs{7, -7, 0, 7.5, -7.5, math.mininteger} do
  for _, b in ipairs{2, -2, 0, -1, 2.5, -0.0, 1/0} do
    same_result(string.format("%s // %s", a, b), idiv, a, b)
    same_result(string.format("%s %% %s", a, b), mod, a, b)
  end
end
local bits = load("return function (a, b) return a & b, a | b, a ~ b, a << b, a >> b, ~a end")()
for _, p in ipairs{{5, 3}, {-1, 63}, {1, 64}, {-8, -2}, {6.0, 1}, {5.5, 1}} do
  same_result("bits", bits, p[1], p[2])
end

-- floor, ceil, math.* and conversions
case("function (x) return math.floor(x), math.ceil(x), math.sqrt(x), math.exp(x), math.sin(x), math.cos(x), math.tan(x) end", 2.5)
case("function (x) return math.floor(x), math.ceil(x) end", 1e300)
case("function (x) return math.floor(x), math.ceil(x), math.abs(x) end", math.mininteger)
case("function (x) return math.log(x), math.log(x, 2), math.log(x, 10), math.log(x, 3), math.atan(x), math.atan(x, 2) end", 8.0)
case("function (x) return math.fmod(x, 3), math.fmod(-x, 3), math.modf(x), math.modf(-x) end", 7)
case("function (x) return math.fmod(x, 3), math.fmod(-x, 3.5), math.modf(x), math.modf(-x) end", 7.25)
case("function (x) return math.fmod(x, 0) end", 7)
case("function (a, b) return math.ult(a, b), math.max(a, b, 2.0), math.min(a, 1, b) end", 3, -1)
case("function (a, b) return math.pi * a, math.huge, math.maxinteger + b, math.mininteger - b end", 2, 1)
-- control flow
case("function (n) local s = 0 for i = 1, n do s = s + i end return s end", 100)
case("function (n) local s = 0 for i = n, 1, -3 do s = s + i end return s end", 100)
case("function (n) local s = 0 for x = 1, n, 0.5 do s = s + x end return s end", 10)
case("function (n) local s = 0 for x = n, 1, -0.25 do s = s + x end return s end", 3)
case("function (n) local s = 0 for i = 1, n do s = s + i / 3 end return s end", 0)
case("function (n) local s = 0 for i = 1, n do s = s + i / 3 end return s end", 10)
case("function (n) local c = 0 for i = math.maxinteger - 2, math.maxinteger do c = c + 1 end return c end", 1)
case("function (n) local c = 0 for i = 1, 3.5 do c = c + i end return c end", 1)
case("function (n) local c = 0 for i = 1, 0/0 do c = c + i end return c end", 1)
case("function (n) for i = 1, n, 0 do end end", 1)
case("function (n) local i = 0 while true do i = i + 1 if i >= n then break end end return i end", 17)
case("function (n) local i = 0 repeat local j = i * 2 i = i + 1 until j > n return i end", 17)
case("function (x) if x < 0 then return -1 elseif x == 0 then return 0 else return 1 end end", -4.5)
case("function (x) if x < 0 then return -1 elseif x == 0 then return 0 else return 1 end end", 0)
case("function (x) local a, b = x, 2 * x a, b = b, a return a - b end", 3)
case("function (x) return (x > 1) and 10 or 20, x and 5, (x > 9) or (x < 0) end", 3)
case("function (x) local y = x > 2 and 1.5 or 3 return y end", 3)
case("function (x) local y = x > 2 and 1.5 or 3 return y end", 1)
case("function (x) return 1 // x end", 0)
case("function (a, b) return math.random(a, b) end", 3, 2)
case("function (a) return math.random(a) end", -1)
case("function (x) return x % 0 end", 5)
-- calls, recursion, multiple returns
case([[function (n)
  local function fib (k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
  return fib(n)
end]], 20)
case([[function (n)
  local function two (k) return k, k * 0.5 end
  local a, b = two(n)
  return a, b, two(n + 1)
end]], 7)
case([[function (n)
  local function f (k) if k == 0 then return 0 end return 1 + f(k - 1) end
  return f(n)
end]], 1000)
case("function (x) error('boom') end", 1)
case("function (x) assert(x > 5, 'too small') return x end", 1)
case("function (x) assert(x > 5) return x end", 10)
-- arrays
local A = par.array({1.5, 2.5, 3.5})
local B = par.array({{1, 2, 3}, {4, 5, 6}})
local C = par.array({true, false, true})
local g = load("local A, B, C = ... return function (i) return A[i] + B[2][i], #A, #B, C[i] end")(A, B, C)
for i = 1, 4 do same_result("array read " .. i, g, i) end
local h = load("local A, B = ... return function (i, v) A[i] = v B[1][i] = v return A[i], B[1][i] end")(A, B)
same_result("array write", h, 2, 7)
same_result("array write float to int64", h, 2, 7.5)
same_result("array write out of range", h, 4, 1)
same_result("array index float", g, 2.0)
same_result("array index bad float", g, 1.5)
local s = load("local A, B = ... return function () return A:sum(), B:sum(), A:max(), B:min(), A:prod() end")(A, B)
same_result("array reductions", s)
-- an element read before a call that writes it keeps the value Lua read
-- (found by native_fuzz.lua: C read the array after the call)
local order = load([[local A = ...
  local function w (v) A[1] = v return 0 end
  local function h (a, b) return a - b end
  return function (v)
    A[1] = 1.5
    local r1 = A[1] * 2 + w(v) + A[1]
    A[1] = 1.5
    local r2 = A[1] <= w(v)
    A[1] = 1.5
    local r3, r4 = math.max(A[1], w(v)), h(A[1], w(v + 1))
    A[1] = 1.5
    return r1, r2, r3, r4, h(h(A[1], 0), h(w(v), 0)), -A[1] + w(2 * v)
  end]])(A)
same_result("array read before a call that writes it", order, -7)
same_result("array read before a call that writes it", order, 9.25)

-- constant divisors (no zero check in the C)
case("function (a) return a % 7, a // 7, a % 2 + a // 3, a // 1, a % 1 end", -23)
case("function (a) return a % 7, a // 7, a % 2 + a // 3, a // 1, a % 1 end", math.mininteger)
-- found by native_fuzz.lua: GCC 12's jump threading took 'p1 >= p1' for
-- true on the path where 'p1 == p1' had failed (p1 a NaN)
case([[function (p1, p2, p3)
  p2, p1 = -1e300, math.fmod((10 - 0.0), (p3 and p2 or p2))
  if ((p1 == p1) and p3) then
    p1 = -1e300
  elseif ((p2 >= p1) == (p3 or p3)) then
    p2 = (math.floor(3) >> math.floor((p3 and 2 or p2)))
  else
    p2 = 1e-310
    p3 = (math.ceil(p2) == (100 - p2))
    p2 = ((not (p1 >= p1)) and 100 or ((p1 < 2) and 2.0 or 2))
  end
  return p1, p2, p3
end]], 0.0, 0, true)
-- found by native_fuzz.lua: GCC 12 folded '0.0 - (double)i' to
-- '-(double)i' and '0.0 + -x' to '-x' (-0.0 where Lua gives 0.0)
case([[function (i, x)
  return 0.0 - i, 0.0 - math.abs(x), 0.0 + -x, 0.0 + -(i + 0.0), (0.0 * 64) - math.fmod(0, i + 3)
end]], 0, 0.0)
case("function (p) return (0.0 * 64) - math.fmod(0, p) end", math.mininteger)
-- found by native_fuzz.lua: Lua codes x - 0 as x + 0 (OP_ADDI), which is
-- 0.0 for x = -0.0 (x - 0.0 stays -0.0)
case([[function (x)
  return 1 / (x - 0), 1 / (x - (1 - 1)), 1 / (x - -0), 1 / (x - (0)), 1 / (x - 0.0), 0.5 // -(x - 0)
end]], -0.0)
-- found by native_fuzz.lua: GCC turns pow(x, -1.0) into 1.0 / x, which
-- differs from libm's pow (Lua's '^') for these x
for _, x in ipairs{53.285714285714285, 103.28571428571429, 206.57142857142858} do
  case("function (x) return x ^ -1.0, x ^ (-1.5 + 0.5), x ^ 0.5, x ^ 3 end", x)
end
-- found by native_fuzz.lua: an integer parameter later assigned a float
case("function (p, q) if q then p = p + 0.5 end return p end", 3, true)
case("function (p, q) if q then p = p + 0.5 end return p end", 3, false)
-- assignments: targets' indices are checked after the values are computed,
-- and stores go from the last target to the first
local J = par.array({1, 2, 3, 4})
local asg = load("local J = ... return function (x) J[x * 10] = J[x + 0.5] return J[1] end")(J)
same_result("assignment order of index errors", asg, 1)
case("function (x) local a = 0 a, a = x, x + 1 return a end", 5)
local two = load("local J = ... return function (x) J[x], J[x] = 10, 20 return J[x] end")(J)
same_result("stores from the last target", two, 2)
-- names of non-integer operands: fields of constant and computed keys
case("function (x) return math.huge | x end", 1)
case("function (x) return x & math.pi end", 1)
local D = par.array({1.5, 2.5})
local fld = load("local D = ... return function (i) return D[i] | 1, D[1] ~ 2 end")(D)
same_result("field '?'", fld, 2)
local fld1 = load("local D = ... return function (i) return i, D[1] ~ 2 end")(D)
same_result("field 'integer index'", fld1, 2)
-- math.fmod and math.modf of numbers that are integers or floats at run time
local fm = "function (a, b) local x = a if b > 0 then x = x + 0.5 end return math.fmod(x, 3), math.modf(x) end"
case(fm, 7, 1)
case(fm, 7, -1)
case(fm, -7, -1)
case("function (a, b) local x = a if b > 0 then x = x + 0.5 end return math.fmod(7, x) end", 0, -1)

-- random numbers: native against Lua with the same stream (par.stream)
local r1 = N.prange(5, function (i) return par.random(), par.randn(), math.random(1, 6) end, {seed = 11})
for i = 1, 5 do
  local g2 = par.stream(11, i)
  assert(T.same(r1[i], g2:random()))
end

-- Runs kernel f over n iterations natively and in Lua mode with one seed
-- (kind "prange" or a reduction op); both give the same bits.
local function same_streams (name, f, n, kind)
  local o, lo = {seed = 21}, {seed = 21, mode = "lua"}
  if kind and kind ~= "prange" then
    local a, b = N.preduce(kind, n, f, o), par.preduce(kind, n, f, lo)
    assert(T.same(a, b), string.format("%s: native %s, Lua %s", name, a, b))
    return
  end
  local nat, lua = table.pack(N.prange(n, f, o)), table.pack(par.prange(n, f, lo))
  assert(nat.n == lua.n, name .. ": result count")
  for k = 1, lua.n do
    assert(nat[k].dtype == lua[k].dtype, name .. ": dtype")
    for i = 1, n do
      assert(T.same(nat[k][i], lua[k][i]), string.format("%s: result %d, iteration %d: native %s, Lua %s",
        name, k, i, nat[k][i], lua[k][i]))
    end
  end
end

-- each argument is evaluated once, in Lua's order: draws in arguments of
-- builtins that C expands into ternaries (math.max, min, abs, floor, ...),
-- in the operands of one expression, and against a callee's draws
local draw = par.random
local draws = {
  "function (i) return math.max(0.5, par.random()) + par.random() end",
  "function (i) return math.min(0.5, par.random(), par.randn()) + par.random() end",
  "function (i) return math.max(i, par.integers(1, 100), i * 0.5) end",
  "function (i) return math.abs(par.integers(-5, 5)) + math.abs(par.randn()) end",
  "function (i) local x = i if i > 2 then x = par.random() - 0.5 end return math.abs(x), math.floor(x + par.random()), math.ceil(par.random() - x) end",
  "function (i) return par.random() - 2 * par.random(), par.randn() / par.exponential() end",
  "function (i) return math.fmod(par.integers(1, 100), par.integers(1, 9)), math.log(par.random(), par.integers(2, 10)) end",
  "function (i) return math.random(par.integers(1, 3), par.integers(4, 6)), par.uniform(par.random(), 2), par.normal(par.random(), par.random()) end",
  "function (i) return math.max(par.random(), draw()), math.min(draw(), par.random()), draw() < par.random() end",
  "function (i) return math.modf(par.random() * 10 - 5) end",
}
for _, src in ipairs(draws) do
  same_streams(src, assert(load("local draw = ... return " .. src))(draw), 50)
end
same_streams("preduce max", assert(load("return " .. draws[1]))(), 3000, "+")
same_streams("preduce min", assert(load("return " .. draws[2]))(), 3000, "max")

-- `for i in par.prange(n)` outside a par.jit function's text is Lua's
-- plain serial loop (API section 4): no stream of its own, a reduction
-- is a plain assignment
same_streams("loop in a kernel", function (i)
  local s = 0.0
  for j in par.prange(i % 4) do s = s + par.random() * j end
  return s, par.random()
end, 50)
same_streams("break and math.max in a kernel's loop", function (i)
  local s, m = 0, 0
  for j in par.prange(10) do
    if j > i then break end
    s = s + j
    m = math.max(m, par.random())
  end
  return s, m
end, 20)
local function outside (m)
  local s = 0.0
  for j in par.prange(m) do s = s + par.random() end
  return s
end
same_streams("loop in a callee", function (i) return outside(3) + par.random() end, 50)
-- and in a jit function: the callee's loop is plain, a local function's
-- loop is a loop of the call (nested: seeded from the iteration's stream)
local function same_jit (name, f, ...)
  par.seed(5)
  local nat = table.pack(N.jit(f)(...))
  nat[#nat + 1] = par.random()
  par.seed(5)
  local lua = table.pack(par.jit(f, {mode = "lua"})(...))
  lua[#lua + 1] = par.random()
  for k = 1, #lua do
    local a, b = nat[k], lua[k]
    if type(a) == "number" then assert(T.same(a, b), name .. ": result " .. k)
    else for i = 1, a.size do assert(T.same(a[i], b[i]), name .. ": element " .. i) end end
  end
end
same_jit("callee loop", function (n)
  local a = par.zeros(n)
  for i in par.prange(n) do a[i] = outside(3) end
  return a, outside(4)
end, 3000)
same_jit("local function loop", function (n)
  local a = par.zeros(n)
  local function inner (m)
    local s = 0.0
    for j in par.prange(m) do s = s + par.random() end
    return s
  end
  for i in par.prange(n) do a[i] = inner(3) end
  return a, inner(5)
end, 3000)
-- a call draws its seed when its text has a loop, run or not, as in Lua
-- mode
same_jit("loop never run", function (n)
  local function never (m)
    local s = 0
    for j in par.prange(m) do s = s + j end
    return s
  end
  return par.random() + n
end, 1)
-- a plain loop follows Lua's rules: assignments, 'return' and 'break'
local function plain_rules (m, x)
  local k, last = 0, 0
  for j in par.prange(m) do
    if par.random() > x then break end
    k = k + 1
    last = j
    if last > 40 then return -k end
  end
  return k
end
same_streams("Lua's rules in a kernel's loop", function (i) return plain_rules(i, 0.97) end, 60)
same_jit("Lua's rules in a callee's loop", function (n)
  local a = par.zeros(n)
  for i in par.prange(n) do a[i] = plain_rules(50, 0.97) end
  return a, plain_rules(50, 0.5)
end, 3000)

print(string.format("%d cases", ncases))
assert(ncases >= 150)

-- deep recursion is an error, not a crash
local deep = load("return function (n) local function f (k) if k == 0 then return 0 end return 1 + f(k - 1) end return f(n) end")()
T.checkerror("stack overflow", N.jit(deep), 1000000)
-- also through nested loops (each level a loop's frame), on worker threads
local deeploops = function (n)
  local function rec (d)
    if d == 0 then return 0.0 end
    local s = 0.0
    for i in par.prange(1) do s = s + (rec(d - 1) + par.random()) end
    return s
  end
  local t = 0.0
  for i in par.prange(2) do t = t + rec(n) end
  return t
end
T.checkerror("stack overflow", N.jit(deeploops, {seed = 1}), 5000)
assert(T.same(N.jit(deeploops, {seed = 1})(50), par.jit(deeploops, {seed = 1, mode = "lua"})(50)))

-- a C function of math is a kernel (API section 4), with the arguments
-- of each form, and the same results as Lua's
do
  local x, y = par.linspace(-2, 3, 1001), par.linspace(0.5, 9, 1001)
  local xi = par.arange(-500, 501)
  local function same_arrays (a, b)
    assert(a.size == b.size)
    for i = 1, a.size do assert(T.same(a[i], b[i]), i) end
  end
  local lua = {mode = "lua"}
  same_arrays(N.map(math.sqrt, y), par.map(math.sqrt, y, lua))
  same_arrays(N.map(math.atan, x, y), par.map(math.atan, x, y, lua))
  same_arrays(N.map(math.max, x, y, xi), par.map(math.max, x, y, xi, lua))
  same_arrays(N.map(math.abs, xi), par.map(math.abs, xi, lua))
  same_arrays(N.prange(100, math.sqrt), par.prange(100, math.sqrt, lua))
  assert(T.same(N.mapreduce("+", math.exp, x), par.mapreduce("+", math.exp, x, lua)))
  assert(T.same(N.preduce("max", 100, math.log), par.preduce("max", 100, math.log, lua)))
  assert(T.same(N.jit(math.fmod)(7, 3), 1) and T.same(N.jit(math.floor)(2.5), 2))
  T.checkerror("iteration 1: math.fmod:1: bad argument #2 to 'fmod' %(zero%)", N.map, math.fmod,
               xi, par.zeros(1001, "int64"))
end
-- mean, var, std, argmin and argmax of arrays in kernels: the methods' bits
do
  local x = par.randn({10007, 3})
  local y = x:copy()
  y[77][2], y[5000][1] = 0/0, 0/0
  local xi = par.integers(-50, 50, {5000, 9})
  local xb = par.lt(par.randn(3000), 0.1)
  local E = par.zeros(0)
  local function k (i)
    local a = i == 1 and x or y
    return a:mean(), a:var(), a:std(1), a:var(i / 2), a:argmin(), a:argmax(), xi:mean(),
      xi:var(2), xi:argmax(), xi:argmin(), xb:mean(), xb:argmin(), xb:std(), E:mean(), E:var()
  end
  local native, lua = {N.prange(2, k)}, {par.prange(2, k, {mode = "lua"})}
  assert(#native == 15)
  for j = 1, #native do
    for i = 1, 2 do assert(T.same(native[j][i], lua[j][i]), j .. ", " .. i) end
  end
  assert(native[5][2] == 3 * 76 + 2 and native[6][2] == 3 * 76 + 2)   -- the first NaN
  T.checkerror("^iteration 1: .*: calling 'argmax' on bad self %(attempt to get argmax of an empty sequence%)$",
               N.prange, 2, function (i) return E:argmax() end)
  T.checkerror("'mean' with 1 arguments", N.prange, 2, function (i) return x:mean(i) end)
end
-- median and quantile in kernels: the methods' values and types (an integer
-- q of an int64 array gives the element), NaN, and their messages
do
  local x = par.randn({1001, 3})
  local y = x:copy()
  y[500][2] = 0/0
  local xi = par.integers(-50, 50, {5000, 9})
  local big = par.array({(1 << 53) + 1, 3, 5})
  local xb = par.lt(par.randn(3000), 0.1)
  local E = par.zeros(0)
  local function k (i)
    local a = i == 1 and x or y
    return a:median(), a:quantile(0.3), a:quantile(i - 1), xi:median(), xi:quantile(0.25),
      xi:quantile(1), big:quantile(1), big:quantile(0), xb:median(), xb:quantile(1), E:median(),
      x:quantile(i / 2)
  end
  local native, lua = {N.prange(2, k)}, {par.prange(2, k, {mode = "lua"})}
  assert(#native == 12 and native[7][1] == (1 << 53) + 1)
  for j = 1, #native do
    for i = 1, 2 do assert(T.same(native[j][i], lua[j][i]), j .. ", " .. i) end
  end
  T.checkerror("^iteration 1: .*: bad argument #1 to 'quantile' %(quantiles must be in the range %[0, 1%]%)$",
               N.prange, 2, function (i) return x:quantile(1.5) end)
  T.checkerror("calling 'quantile' on bad self %(cannot take a quantile of an empty array%)$",
               N.prange, 2, function (i) return E:quantile(0.5) end)
end
-- arrays made in a loop's iteration are freed at its end unless they can
-- outlive it: kept when assigned to an outer variable or returned
do
  local keep = N.jit(function (n)
    local u = par.zeros(10)
    for t = 1, n do local v = par.zeros(10); v[1] = u[1] + 1; u = v end
    local w = par.zeros(3)
    while w[1] < n do local z = par.zeros(3); z[1] = w[1] + 1; w = z end
    return u[1] + w[1]
  end)
  assert(keep(100) == 200)
  local ret = N.jit(function (n)
    for t = 1, n do local z = par.zeros(3); z[1] = t; if t == n then return z end end
    return par.zeros(1)
  end)
  assert(ret(5)[1] == 5)
  local function make (m) local z = par.zeros(m); z[m] = m; return z end
  local scratch = N.jit(function (n, m)
    local s = 0.0
    for k in par.prange(n) do local z = make(m); s = s + z[m] end
    for t = 1, n do local z = make(m); s = s + z[1] end
    return s
  end)
  assert(scratch(300, 1000) == 300 * 1000)
end
-- functions that share their lines are told apart by their bytecode
do
  local a, b = function (i) return i * 2 end, function (i) return i * 3 end
  assert(N.prange(3, a)[3] == 6 and N.prange(3, b)[3] == 9)
  local function twice (v) return N.map(function (x) return 2 * x end, v) end
  assert(twice(par.arange(1, 4))[3] == 6)
end
print("OK")
