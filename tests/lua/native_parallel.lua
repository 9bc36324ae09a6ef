-- native_parallel.lua: native kernels give identical results on 1 and 2
-- threads and with parallel = false; streams depend on (seed, i) only.
print("testing native kernels across thread counts")

local T = require "common"
local N = par._native

local function h (w)
  local R = math.exp(0.1 * par.randn()) * 1.1
  return R * 0.3 * w + math.exp(par.randn())
end
local wealth = function (i) local w = 1.0 for _ = 1, 50 do w = h(w) end return w end
local pi = function (i) local x, y = par.random(), par.random() return (x*x + y*y < 1) and 1 or 0 end
local sumsq = function (i) return (i % 7) * 0.1 + 1 / i end

local function run_all (opts)
  local out = {}
  out.w = N.prange(5000, wealth, opts)
  out.pi = N.preduce("+", 100000, pi, opts)
  out.s = N.preduce("+", 100000, sumsq, opts)
  out.mx = N.preduce("max", 100000, function (i) return math.sin(i) end, opts)
  local x = par.linspace(-3, 3, 300)
  local X, Y = par.meshgrid(x, x)
  out.g = N.mapreduce("max", function (a, b) return math.cos(a^2 + b^2) / (1 + a^2 + b^2) end, X, Y, opts)
  out.m = N.map(function (a, b) return a * b + 1 end, X, Y, opts)
  out.j = N.jit(function (n)
    local c, s = 0, 0.0
    for i in par.prange(n) do
      if par.random() < 0.5 then c = c + 1 end
      s = s + 1 / i
    end
    return c, s
  end, opts)
  out.jc, out.js = out.j(50000)
  return out
end

local function same (a, b)
  assert(T.same(a.pi, b.pi) and T.same(a.s, b.s) and T.same(a.mx, b.mx) and T.same(a.g, b.g))
  assert(T.same(a.jc, b.jc) and T.same(a.js, b.js))
  for i = 1, #a.w do assert(T.same(a.w[i], b.w[i])) end
  for i = 1, a.m.size, 997 do assert(T.same(a.m:reshape(a.m.size)[i], b.m:reshape(b.m.size)[i])) end
end

local n0 = par.threads()
par.set_threads(2)
local two = run_all{seed = 99}
par.set_threads(1)
local one = run_all{seed = 99}
par.set_threads(n0)
local serial = run_all{seed = 99, parallel = false}
same(two, one)
same(two, serial)
assert(math.type(two.pi) == "integer" and math.type(two.s) == "float")

-- iteration i draws from par.stream(seed, i)
local r = N.prange(10, function (i) return par.random() end, {seed = 5})
for i = 1, 10 do assert(T.same(r[i], par.stream(5, i):random())) end

-- every kind of draw, first, second or third in an iteration (an
-- iteration's first two draws come from a batch set up ahead), and draws
-- that take the ziggurat's slow paths, continue iteration i's stream
local function kind (i, j)  -- what iteration i draws j-th
  local a, b = i % 4 + 1, i // 4 % 4 + 1
  if j == 1 then return a elseif j == 2 then return b else return (a + b) % 4 + 1 end
end
local function draw (k)
  if k == 1 then return par.random() elseif k == 2 then return par.randn()
  elseif k == 3 then return par.exponential() else return par.integers(3, 10) end
end
local mixed = N.prange(2000, function (i)
  return draw(kind(i, 1)) + 10 * draw(kind(i, 2)) + 100 * draw(kind(i, 3)) + 1000 * draw(1)
end, {seed = 8})
local kinds = {
  function (g) return g:random() end,
  function (g) return g:standard_normal() end,
  function (g) return g:exponential() end,
  function (g) return g:integers(3, 10) end,
}
local tails = N.prange(2000, function (i)  -- about one in 40 iterations draws a tail
  local s = 0.0
  for _ = 1, 3 do s = s + math.abs(par.randn()) + par.exponential() end
  return s + par.random()
end, {seed = 8})
for i = 1, 2000 do
  local g = par.stream(8, i)
  local d1, d2, d3 = kinds[kind(i, 1)](g), kinds[kind(i, 2)](g), kinds[kind(i, 3)](g)
  assert(T.same(mixed[i], d1 + 10 * d2 + 100 * d3 + 1000 * g:random()), i)
  g = par.stream(8, i)
  local s = 0.0
  for _ = 1, 3 do s = s + math.abs(g:standard_normal()) + g:exponential() end
  assert(T.same(tails[i], s + g:random()), i)
end

-- without a seed, the loop seed is one draw of the default generator
par.seed(123)
local a = N.prange(10, function (i) return par.randn() end)
par.seed(123)
local b = N.prange(10, function (i) return par.randn() end)
for i = 1, 10 do assert(T.same(a[i], b[i])) end

-- the reduction order of reduce.h: a:sum() == preduce over a[i]
local v = par.array({0.1, 0.2, 0.3})
local big = N.map(function (x) return x * 1.1 end, par.linspace(0, 1, 5000))
assert(T.same(big:sum(), N.preduce("+", #big, function (i) return big[i] end)))
assert(T.same(v:sum(), N.preduce("+", 3, function (i) return v[i] end)))

-- min and max map-reductions over edge values, in blocks that hold only
-- them (the partial starts from the identity): the bits of Lua mode
local edges = {
  par.full(3000, -math.huge), par.full(3000, math.huge), par.full(3000, -0.0),
  par.array({1.0, 0/0, 2.0}), par.full(3000, math.mininteger, "int64"),
  par.full(3000, math.maxinteger, "int64"), par.zeros(2050),
}
edges[7][2049] = -0.0
for _, op in ipairs{"min", "max"} do
  for k, a in ipairs(edges) do
    local id = function (x) return x end
    local native = N.mapreduce(op, id, a)
    local lua = par.mapreduce(op, id, a, {mode = "lua"})
    assert(T.same(native, lua), op .. " " .. k .. ": " .. tostring(native) .. " ~= " .. tostring(lua))
  end
end

-- pure loops over arrays run in chunks of 64 that prefetch ahead: every
-- element counted once, in order, at sizes around a chunk, the prefetch
-- distance and a block; a NaN last or in the second chunk still wins
for _, n in ipairs{1, 63, 64, 65, 319, 320, 321, 1025, 5000} do
  local x = par.linspace(-2, 2, n)
  local k = par.arange(n)
  local b = par.map(function (v) return v > 0 end, x, {mode = "lua"})
  local f = function (v, i, t) return t and v * i or v - i end
  local nm, lm = N.map(f, x, k, b), par.map(f, x, k, b, {mode = "lua"})
  for i = 1, n do assert(T.same(nm[i], lm[i]), "map of " .. n .. " at " .. i) end
  for _, op in ipairs{"+", "max", "min"} do
    assert(T.same(N.mapreduce(op, f, x, k, b), par.mapreduce(op, f, x, k, b, {mode = "lua"})), op .. " of " .. n)
  end
  for _, at in ipairs{n, math.min(n, 65)} do
    local y = x:copy()
    y[at] = 0 / 0
    local id = function (v) return v end
    assert(N.mapreduce("max", id, y) ~= N.mapreduce("max", id, y), "NaN at " .. at .. " of " .. n)
  end
end

-- the lowest failing iteration is reported
T.checkerror("^iteration 3000: ", N.prange, 10000,
  function (i) if i >= 3000 then error("bad") end return i end)
-- reductions longer than PRT_REDUCE_CHUNK (65,536) blocks combine their
-- partials a part at a time, in the same order: exact and float results
do
  local n = 70000000                       -- 68,360 blocks of 1024
  assert(N.preduce("+", n, function (i) return i end) == n * (n + 1) // 2)
  assert(N.preduce("max", n, function (i) return i == 66000000 and 1e9 or i % 7 end) == 1e9)
  local want, part = 0, 0
  for _ = 1, 1024 do part = part + 0.1 end
  local last = 0
  for _ = 1, n % 1024 do last = last + 0.1 end
  for _ = 1, n // 1024 do want = want + part end
  want = want + last
  assert(T.same(N.preduce("+", n, function (i) return 0.1 end), want))
  local jit = N.jit(function (m)
    local s, top = 0, 0
    for i in par.prange(m) do
      s = s + 0.1
      top = math.max(top, i == 66000000 and 1e9 or i % 7)
    end
    return s, top
  end)
  local s, top = jit(n)
  assert(T.same(s, want) and top == 1e9, s)
end
-- Lua mode combines 1024 blocks at a time (PAR_JOB_CHUNK): the same bits
do
  local n, lua = 2500000, {mode = "lua"}
  local f = function (i) return (i % 3 == 0) and 0.1 or i * 1e-7 end
  assert(T.same(par.preduce("+", n, f, lua), N.preduce("+", n, f)))
  assert(T.same(par.preduce("max", n, f, lua), N.preduce("max", n, f)))
  local g = function (m)
    local s, top = 0, 0
    for i in par.prange(m) do
      s = s + i * 1e-7
      top = math.max(top, i == 2400000 and 1e9 or i % 7)
    end
    return s, top
  end
  local s1, t1 = par.jit(g, lua)(n)
  local s2, t2 = N.jit(g)(n)
  assert(T.same(s1, s2) and t1 == 1e9 and t2 == 1e9, s1)
end
print("OK")
