-- transfer.lua: what a Lua-mode kernel sees of its caller: upvalues and
-- globals of every kind (copied, shared arrays, deep-copied tables with
-- cycles, nested and global functions, library C functions), globals read
-- afresh at each call, the errors for values that cannot cross, and the
-- values that come back.
print("testing values crossing into parallel kernels")

local T = require "common"
local LUA = {mode = "lua"}

-- Runs f(i) for i = 1..n (n above one block, so both threads take part)
-- and returns the results.
local function run(f, n)
  return par.prange(n or 2100, f, LUA)
end

-- globals used by the kernels below
function gsquare(x) return x * x end
function gcube(x) return gsquare(x) * x end
function gfact(n) if n <= 1 then return 1 end return n * gfact(n - 1) end
SCALE = 2
CONFIG = {offset = 10, nested = {k = 3}}
GARRAY = par.arange(1, 2101)

print("scalars")
do
  local n, f, s, yes, no, big = 3, 0.5, "ab\0c", true, false, math.mininteger
  local nan, negz, inf = 0 / 0, -0.0, math.huge
  local r = run(function(i)
    assert(math.type(n) == "integer" and math.type(f) == "float")
    assert(s == "ab\0c" and #s == 4 and yes == true and no == false and big == math.mininteger)
    assert(nan ~= nan and 1 / negz == -math.huge and inf == math.huge)
    return n * i + f
  end)
  assert(r[2100] == 6300.5)
  -- nil upvalues, and globals that are nil
  local nothing
  assert(run(function(i) return nothing == nil and UNDEFINED_GLOBAL == nil and i end)[7] == 7)
  -- special floats and integers come back bit for bit
  local v = par.prange(3, function(i) return i == 1 and negz or (i == 2 and nan or inf) end, LUA)
  assert(1 / v[1] < 0 and v[2] ~= v[2] and v[3] == math.huge)
  local strs = par.prange(2, function(i) return s .. i end, LUA)
  assert(strs[1] == "ab\0c1")
end

print("arrays are shared")
do
  local out = par.zeros(2100)
  run(function(i) out[i] = i * 2 end)
  assert(out[1] == 2 and out[2100] == 4200)
  local m = par.zeros(3, 700)
  par.prange(2100, function(i) m[(i - 1) // 700 + 1][(i - 1) % 700 + 1] = i end, LUA)
  assert(m:get(3, 700) == 2100 and m:get(2, 1) == 701)
  local row = m[2]                      -- a view
  run(function(i) if i <= 700 then row[i] = -i end end)
  assert(m:get(2, 5) == -5)
  local b = par.zeros(4, "bool")
  par.prange(4, function(i) b[i] = i % 2 == 0 end, LUA)
  assert(b[2] == true and b[3] == false)
  -- the same array twice is the same array in the worker
  local alias = {out, out}
  assert(run(function() return rawequal(alias[1], alias[2]) end)[1] == true)
  -- arrays stay alive while a worker holds them
  local function maker()
    local a = par.arange(0, 2100)
    return function(i) return a[i] end
  end
  local k = maker()
  collectgarbage()
  assert(run(k)[2100] == 2099)
  -- global arrays too
  assert(run(function(i) return GARRAY[i] end)[2000] == 2000)
end

print("tables are copied deeply")
do
  local t = {x = 1, list = {1, 2, 3}, [2.5] = "f", [true] = "b"}
  t.self = t
  t.alias = t.list
  local r = run(function(i)
    assert(t.self == t and t.alias == t.list and t[2.5] == "f" and t[true] == "b")
    t.x = t.x + 1                       -- a write to the copy
    return t.list[2] + t.x
  end)
  assert(r[1] >= 4 and t.x == 1)          -- writes to copied tables are not seen
  local keys = {}
  keys[keys] = "self key"
  assert(run(function() return keys[keys] end, 1)[1] == "self key")
  -- metatables come along
  local mt = {__index = function(_, key) return key .. "!" end}
  local obj = setmetatable({}, mt)
  assert(run(function() return obj.foo end)[5] == "foo!")
  -- a class with methods
  local Point = {}
  Point.__index = Point
  function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
  function Point:norm2() return self.x * self.x + self.y * self.y end
  local p = Point.new(3, 4)
  assert(run(function(i) return p:norm2() + Point.new(i, 0):norm2() end)[2] == 29)
  -- global tables, read afresh
  assert(run(function() return CONFIG.offset + CONFIG.nested.k end)[1] == 13)
  CONFIG.offset = 20
  assert(run(function() return CONFIG.offset end)[1] == 20)
  -- deep nesting is refused, not a crash
  local deep = {}
  local cur = deep
  for _ = 1, 300 do cur.next = {}; cur = cur.next end
  T.checkerror("cannot pass upvalue 'deep.next.next", run, function() return deep end)
end

print("functions")
do
  -- a nested function with its own upvalues
  local k = 7
  local function helper(x) return x * k end
  assert(run(function(i) return helper(i) end)[3] == 21)
  -- a recursive local function (an upvalue of itself)
  local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
  assert(run(function(i) return fib(i % 15) end)[14] == 377)
  -- global functions, and the globals they use
  assert(run(function(i) return gcube(i) + gfact(5) end)[3] == 147)
  -- a global reassigned between two calls: the second call sees it
  local function scaled(i) return SCALE * i end
  assert(run(scaled)[10] == 20)
  SCALE = 3
  assert(run(scaled)[10] == 30)
  SCALE = 2.5
  assert(run(scaled)[10] == 25.0)
  function gsquare(x) return x + 0.5 end
  assert(run(function(i) return gsquare(i) end)[1] == 1.5)
  function gsquare(x) return x * x end
  -- closures of one prototype with different upvalues, in one kernel
  local adders = {}
  for j = 1, 3 do adders[j] = function(x) return x + j end end
  assert(run(function(i) return adders[1](i) + adders[2](i) + adders[3](i) end)[1] == 9)
  -- and across calls (the workers cache loaded functions)
  for j = 1, 3 do
    local c = j * 10
    assert(run(function(i) return i + c end)[1] == c + 1)
  end
  -- library values are the worker's own: C functions and module tables
  local sin, fmt, m, la = math.sin, string.format, math, par.linalg
  local r = run(function(i) return sin(i) + m.cos(i) end)
  assert(T.same(r[1234], math.sin(1234) + math.cos(1234)))
  assert(run(function(i) return fmt("%03d", i) end)[7] == "007")
  assert(run(function() return la.det(par.ones(1, 1) * 2) end)[1] == 2.0)
  assert(run(function(i) return select("#", i, i) + #tostring(i) + (tonumber("1") or 0) end)[1] == 4)
  -- par.random as an upvalue draws from the iteration's stream too
  local rnd = par.random
  local a = par.prange(5, function() return rnd() end, {seed = 3, mode = "lua"})
  local b = par.prange(5, function() return par.random() end, {seed = 3, mode = "lua"})
  assert(T.same(a[5], b[5]))
  -- a recursive par.jit callable: a cycle through the callable
  local depth
  depth = par.jit(function(n) if n == 0 then return 0 end return 1 + depth(n - 1) end)
  assert(run(function(i) return depth(i % 10) end)[19] == 9)
  -- a function with its own environment
  local function withenv()
    local _ENV = {x = 5, math = math}
    return function(i) return x + math.floor(i / 2) end
  end
  assert(run(withenv())[4] == 7)
  -- a function with more than 255 constants reaches globals through _ENV
  local src = {"local t = {"}
  for j = 1, 300 do src[#src + 1] = string.format("'k%d',", j) end
  src[#src + 1] = "} return SOFT_GLOBAL + #t + i"
  local big = assert(load("return function(i) " .. table.concat(src) .. " end"))()
  SOFT_GLOBAL = 1000
  assert(run(big)[1] == 1301)
end

print("writes that a worker's copy would lose are errors")
do
  -- the place of the write, in the kernel, a function in it or a helper
  local at = debug.getinfo(1, "l").currentline
  COUNTER = 0
  T.checkerror("transfer.lua:" .. at + 4 .. ": assignment to global 'COUNTER' in a parallel kernel",
               run, function()
    COUNTER = COUNTER + 1
  end)
  assert(COUNTER == 0)
  local count = 0
  local function bump() count = count + 1 end
  T.checkerror("transfer.lua:" .. at + 8 .. ": assignment to upvalue 'count' in a parallel kernel",
               run, function() bump() end)
  T.checkerror("transfer.lua:" .. at + 12 .. ": assignment to upvalue 'count'", run, function()
    local function inner() count = 2 end
    inner()
  end)
  function HELPER() COUNTER = 1 end
  T.checkerror("transfer.lua:" .. at + 15 .. ": assignment to global 'COUNTER'", run,
               function() HELPER() end)
  HELPER = nil
  -- writes to the kernel's own locals, fields and arrays are fine
  local t, a = {n = 0}, par.zeros(4)
  assert(run(function(i)
    local x = 0
    local function set() x = i end
    set()
    t.n = x
    a[i] = x
    return t.n
  end, 4)[4] == 4 and a:sum() == 10)
end

print("values that cannot cross")
do
  local co = coroutine.create(function() end)
  T.checkerror("cannot pass upvalue 'co' (a coroutine) to a parallel kernel", run,
               function() return co end)
  local out = io.stdout
  T.checkerror("cannot pass upvalue 'out' (a file handle) to a parallel kernel", run,
               function() out:write("") end)
  local g = par.rng(1)
  T.checkerror("cannot pass upvalue 'g' (a par.rng generator) to a parallel kernel", run,
               function() return g:random() end)
  GEN = par.rng(2)
  T.checkerror("cannot pass global 'GEN' (a par.rng generator) to a parallel kernel", run,
               function() return GEN:random() end)
  GEN = nil
  local cfg = {gens = {par.rng(3)}}
  T.checkerror("cannot pass upvalue 'cfg.gens[1]' (a par.rng generator)", run,
               function() return cfg end)
  -- reached through a helper function: the helper's upvalue is named
  local file = io.stderr
  local function log(x) file:write(x) end
  T.checkerror("cannot pass upvalue 'file' (a file handle)", run, function(i) log(i) end)
  -- C functions outside parlua's libraries (here a C closure)
  local it = string.gmatch("a b", "%a+")
  T.checkerror("cannot pass upvalue 'it' (a C function from outside parlua's libraries)",
               run, function() return it end)
  -- a table key
  local byco = {[co] = 1}
  T.checkerror("cannot pass upvalue 'byco", run, function() return byco end)
  -- a closed array
  local closed = par.zeros(2)
  getmetatable(closed).__close(closed)
  T.checkerror("cannot pass upvalue 'closed' (a closed array)", run, function() return closed end)
  -- values returned: data only
  T.checkerror("^iteration 1: cannot return a function from a parallel kernel", par.prange, 2,
               function() return function() end end, LUA)
  T.checkerror("^iteration 2: cannot return a coroutine from a parallel kernel %(at %.co%)",
               par.prange, 2, function(i)
                 if i == 2 then return {co = coroutine.create(print)} end
                 return {}
               end, LUA)
  -- the pool still works
  assert(run(function(i) return i end)[2100] == 2100)
end

print("OK")
