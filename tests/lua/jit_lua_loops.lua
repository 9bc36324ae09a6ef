-- jit_lua_loops.lua: the `for i in par.prange(n)` loops of par.jit
-- functions in Lua mode: same streams, reductions and errors as native
-- code, on any number of threads and with parallel = false.
print("testing parallel loops of par.jit functions in Lua mode")

local T = require "common"

local native_ok = pcall(par.jit(function () return 1 end, {mode = "native"}))

-- Each value of two result lists is bitwise the same (arrays elementwise).
local function same_results (a, b)
  assert(#a == #b)
  for k = 1, #a do
    local x, y = a[k], b[k]
    if type(x) == "number" then
      assert(T.same(x, y), string.format("result %d: %s vs %s", k, x, y))
    else
      assert(x.size == y.size and x.dtype == y.dtype)
      local fx, fy = x:reshape(x.size), y:reshape(y.size)
      for i = 1, x.size do assert(T.same(fx[i], fy[i]), "element " .. i) end
    end
  end
end

-- Runs run(o) with o = opts plus mode and parallel: in Lua mode, natively
-- (when a C compiler is there; opts.modes: other modes), on 1 and 2
-- threads, with and without parallel = false; each run starts from default
-- seed 42. Checks that all agree, and that the default generator ends in
-- the same state; returns the results.
local function agree_runs (run, opts)
  local runs = {}
  local n0 = par.threads()
  local modes = native_ok and {"lua", "native"} or {"lua"}
  for _, mode in ipairs(opts and opts.modes or modes) do
    for _, t in ipairs{1, 2} do
      for _, parallel in ipairs{true, false} do
        local o = {mode = mode, parallel = parallel}
        for k, v in pairs(opts or {}) do if k ~= "modes" then o[k] = v end end
        par.set_threads(t)
        par.seed(42)
        local r = table.pack(run(o))
        r[#r + 1] = par.random()   -- the default generator after the call
        runs[#runs + 1] = r
      end
    end
  end
  par.set_threads(n0)
  for k = 2, #runs do same_results(runs[1], runs[k]) end
  return table.unpack(runs[1], 1, runs[1].n)
end

-- agree_runs for f(...) as a jit function with opts.
local function agree (f, opts, ...)
  local args = table.pack(...)
  return agree_runs(function (o) return par.jit(f, o)(table.unpack(args, 1, args.n)) end, opts)
end

-- array filled with normal draws, with and without a seed
local function fill (n)
  local a = par.zeros(n)
  for i in par.prange(n) do a[i] = par.randn() end
  return a
end
local a1 = agree(fill, nil, 5000)
local a2 = agree(fill, {seed = 7}, 5000)
assert(a1[1] ~= a2[1] and a1[1] ~= a1[2])
-- iteration i of the first loop of a call with seed s draws from stream
-- (loop seed, i): the same for any count
local a3 = agree(fill, {seed = 7}, 10)
for i = 1, 10 do assert(T.same(a2[i], a3[i])) end

-- serial code draws from the default generator, around the loops
agree(function (n)
  local before = par.random()
  local a = par.zeros(n)
  for i in par.prange(n) do a[i] = par.random() end
  return before, a, par.random()
end, nil, 3000)

-- reductions: sums, products, min and max, several in one loop, integers
-- and floats, over several blocks
local function reds (n)
  local c, s, p, lo, hi, mixed = 0, 0.0, 1.0, math.huge, -math.huge, 0
  local imin, imax, ip = 1000, -1000, 1
  for i in par.prange(n) do
    local x = par.randn()
    c = c + 1
    s = s + x
    p = p * (1 + x / 1000)
    lo = math.min(lo, x)
    hi = math.max(hi, x)
    mixed = mixed + 0.5                   -- an integer that becomes a float
    imin = math.min(imin, i % 97)
    imax = math.max(imax, (i * 3) % 1001)
    if i % 5 == 0 then ip = ip * 3 end   -- wraps around
  end
  return c, s, p, lo, hi, mixed, imin, imax, ip
end
local c, s, p, lo, hi, mixed, imin, imax, ip = agree(reds, {seed = 3}, 10000)
assert(c == 10000 and math.type(c) == "integer" and math.type(s) == "float")
assert(lo < -3 and hi > 3 and mixed == 5000.0 and math.type(mixed) == "float")
assert(imin == 0 and imax == 1000 and math.type(ip) == "integer")

-- the block partials are combined into the value before the loop in block
-- order: x0 + p1 + p2 ..., not x0 + (p1 + p2 ...)
local big = agree(function (n)
  local s = 2.0^53
  for i in par.prange(n) do s = s + 1 / 1024 end
  return s
end, nil, 3072)
assert(big == 2.0^53)   -- each partial 1.0 is lost; 2^53 + 3.0 would round up
-- a local of the body may take a reduction variable's name after its
-- reduction
assert(par.jit(function (n)
  local s = 0
  for i in par.prange(n) do s = s + 1; local s = -1; assert(s == -1) end
  return s
end, {mode = "lua"})(2000) == 2000)
-- reductions that run several times, or never, in an iteration
agree(function (n)
  local s, m = 0, 0
  for i in par.prange(n) do
    for k = 1, i % 4 do s = s + k * 0.25 end
    if i % 3 == 0 then local u = par.random(); m = math.max(m, u) end
  end
  return s, m
end, nil, 5000)

-- a loop inside a time loop gets a fresh loop seed at each execution
local function steps (n, nt)
  local w = par.zeros(n)
  local total = 0.0
  for t = 1, nt do
    local s = 0.0
    for i in par.prange(n) do
      w[i] = w[i] + par.randn()
      s = s + w[i]
    end
    total = total + s
  end
  return w, total
end
local w1, tot = agree(steps, {seed = 11}, 2000, 5)
local w2 = agree(steps, {seed = 11}, 2000, 1)
assert(w1[1] ~= w2[1])
agree(steps, nil, 1500, 3)

-- a prange nested in a loop body runs serially, seeded from the
-- iteration's stream; reductions in both
local function nested (n, m)
  local out = par.zeros(n)
  local total = 0
  for i in par.prange(n) do
    local s = 0.0
    for j in par.prange(m) do s = s + par.random() * j end
    out[i] = s
    total = total + 1
  end
  return out, total
end
local out, total = agree(nested, {seed = 5}, 1500, 30)
assert(total == 1500 and out[1] ~= out[2])

-- loops in a local function of the jit function count as the call's loops
agree(function (n)
  local a = par.zeros(n)
  local function step (b, m)
    for i in par.prange(m) do b[i] = b[i] + par.random() end
  end
  step(a, n); step(a, n)
  return a
end, nil, 2500)

-- in Lua mode, a loop of a local function called in a loop body is a
-- nested loop: serial, seeded from the iteration's stream
local out2 = agree(function (n)
  local a = par.zeros(n)
  local function inner (m)
    local s = 0.0
    for j in par.prange(m) do s = s + par.random() end
    return s
  end
  for i in par.prange(n) do a[i] = inner(3) end
  return a
end, {modes = {"lua"}}, 30000)
assert(out2[1] ~= out2[2])

-- upvalues: arrays written in the loop, values written after it
local U = par.zeros(100)
local last, calls = nil, 0
local g = par.jit(function (n)
  local s = 0
  for i in par.prange(n) do
    U[i] = i * 2
    s = s + i
  end
  last = s
  calls = calls + 1
  return s
end, {mode = "lua"})
assert(g(100) == 5050 and last == 5050 and calls == 1 and U[100] == 200)
assert(g(10) == 55 and last == 55 and calls == 2)
-- in Lua mode an upvalue may be reduced too
local acc = 0.5
local upred = par.jit(function (n) for i in par.prange(n) do acc = acc + i end end, {mode = "lua"})
upred(2000); upred(10)
assert(acc == 0.5 + 2001000 + 55)
-- a table captured by the body is copied: writes to it are not seen
local t = {1, 2, 3}
assert(par.jit(function (n)
  local s = 0
  for i in par.prange(n) do s = s + t[1 + i % 3]; t.w = i end
  return s
end, {mode = "lua"})(3) == 6 and t.w == nil)

-- a body outside the native subset still runs in parallel, in Lua mode
local names = par.jit(function (n)
  local len = 0
  for i in par.prange(n) do
    local str = string.format("item %d", i)
    len = len + #str
  end
  return len
end, {mode = "lua"})
assert(names(1200) == 1200 * 5 + 9 + 90 * 2 + 900 * 3 + 201 * 4)

-- errors: the lowest failing iteration, with its file and line
local function failing (n)
  local a = par.zeros(n)
  for i in par.prange(n) do
    if i >= 2500 then error("bad value") end
    a[i] = i
  end
  return a
end
local line = debug.getinfo(failing, "S").linedefined + 3
for _, mode in ipairs(native_ok and {"lua", "native"} or {"lua"}) do
  for _, t in ipairs{1, 2} do
    par.set_threads(t)
    local msg = T.checkerror("^iteration 2500: ", par.jit(failing, {mode = mode}), 5000)
    assert(msg:find("jit_lua_loops.lua:" .. line .. ": bad value", 1, true), msg)
  end
end
T.checkerror("^iteration 3: .*jit_lua_loops.lua:%d+: attempt to perform arithmetic on a nil value",
  par.jit(function (n)
    local s = 0
    for i in par.prange(n) do local v = i < 3 and 1 or nil; s = s + v end
    return s
  end, {mode = "lua"}), 10)
-- after an error the next call runs normally
assert(par.jit(fill, {mode = "lua"})(10).size == 10)

-- a negative count is an error, as for par.prange's own loop
do
  local body = function (n) local s = 0 for i in par.prange(n) do s = s + i end return s end
  local _, plain = pcall(body, -5)
  assert(plain:find("jit_lua_loops.lua:%d+: bad argument #1 to 'prange' %(count must be non%-negative%)$"))
  assert(select(2, pcall(par.jit(body, {mode = "lua"}), -5)) == plain)
  if native_ok then assert(select(2, pcall(par.jit(body, {mode = "native"}), -5)) == plain) end
end

-- writes to variables declared outside the loop: the same error in every
-- mode (auto mode raises it rather than falling back to Lua mode)
local function msg_of (f)
  local ok, msg = pcall(par.jit(f, {mode = "lua"}), 10)
  assert(not ok)
  if native_ok then
    local ok2, nmsg = pcall(par.jit(f, {mode = "native"}), 10)
    assert(not ok2 and nmsg == msg, nmsg)
    ok2, nmsg = pcall(par.jit(f), 10)
    assert(not ok2 and nmsg == msg, nmsg)
  end
  return msg
end
local m = msg_of(function (n)
  local x = 0
  for i in par.prange(n) do x = i end
  return x
end)
assert(m:find("^.*jit_lua_loops.lua:%d+:%d+: assignment to 'x', declared outside the " ..
  "parallel loop %(only reductions x = x %+ e, x %* e, math.min, math.max%)$"), m)
m = msg_of(function (n)
  local x = 0
  for i in par.prange(n) do x = x + 1; x = x * 2 end
  return x
end)
assert(m:find("'x' is reduced with both '+' and '*'", 1, true), m)
m = msg_of(function (n)
  local x, y = 0, 0
  for i in par.prange(n) do x, y = 1, 2 end
  return x + y
end)
assert(m:find(": assignment to 'x', declared outside the parallel loop$"), m)
m = msg_of(function (n)
  local x = 0
  for i in par.prange(n) do x = x + 1; local z = x end
  return x
end)
assert(m:find("reduction variable 'x' is read inside the parallel loop", 1, true), m)
m = msg_of(function (n)
  for i in par.prange(n) do if i > 3 then return i end end
  return 0
end)
assert(m:find("'return' inside a parallel loop", 1, true), m)
m = msg_of(function (n)
  for i in par.prange(n) do if i > 3 then break end end
  return 0
end)
assert(m:find("'break' out of a parallel loop", 1, true), m)
-- a break of a loop inside the body is fine
assert(par.jit(function (n)
  local s = 0
  for i in par.prange(n) do
    for k = 1, 10 do if k > 2 then break end s = s + 1 end
  end
  return s
end, {mode = "lua"})(50) == 100)
-- a write in a nested function of the body is a write too
T.checkerror("assignment to 'x', declared outside the parallel loop", par.jit(function (n)
  local x = 0
  for i in par.prange(n) do (function () x = 1 end)() end
  return x
end, {mode = "lua"}), 10)
-- as is a reduction of an inner loop into a variable of the outer one
T.checkerror("assignment to 's', declared outside the parallel loop %(a nested loop", par.jit(function (n)
  local s = 0
  for i in par.prange(n) do for j in par.prange(3) do s = s + j end end
  return s
end, {mode = "lua"}), 10)
T.checkerror("reduction variable 's' is nil before the parallel loop", par.jit(function (n)
  local s
  for i in par.prange(n) do s = s + 1 end
  return s
end, {mode = "lua"}), 10)

-- a loop nested in a loop body runs serially but is a parallel loop all
-- the same: no 'break' out of it, in either mode (a loop in its body may
-- break)
local brk_line = debug.getinfo(1, "l").currentline + 4
m = msg_of(function (n)
  for i in par.prange(n) do
    for j in par.prange(3) do
      if j > 1 then break end
    end
  end
end)
assert(m:find("jit_lua_loops.lua:" .. brk_line .. ":21: 'break' out of a parallel loop$"), m)
-- also in a local function of the text, called or not
m = msg_of(function (n)
  local function never (k)
    for j in par.prange(k) do break end
  end
  return n
end)
assert(m:find("'break' out of a parallel loop$"), m)
local brk = agree(function (n)
  local a = par.zeros(n)
  for i in par.prange(n) do
    for j in par.prange(4) do
      for k = 1, 10 do
        if k > j then break end
        a[i] = a[i] + par.random()
      end
    end
  end
  return a
end, nil, 2000)
assert(brk[1] ~= brk[2])

-- A par.jit callable called in a kernel makes a par.jit call: its seed one
-- draw of the iteration's stream (of the default generator in serial
-- code), its loops serial. Native code does not call callables (the kernel
-- runs in Lua mode); the callable itself runs in o.mode.
local function draws (m)
  local s = 0.0
  for j in par.prange(m) do s = s + par.random() end
  return s
end
local function with_inner (run)
  return function (o)
    local inner = par.jit(draws, {mode = o.mode})
    return run(inner, {mode = "lua", seed = o.seed, parallel = o.parallel})
  end
end
local k1 = agree_runs(with_inner(function (inner, o)
  return par.prange(2000, function (i) return inner(10) + par.random() end, o)
end), {seed = 3})
assert(k1[1] ~= k1[2])
agree_runs(with_inner(function (inner, o)
  return par.preduce("+", 2000, function (i) return inner(10) + inner(i % 5) end, o)
end), {seed = 3})
agree_runs(with_inner(function (inner, o)
  return par.jit(function (n)
    local a = par.zeros(n)
    for i in par.prange(n) do a[i] = inner(10) end
    return a, inner(n)
  end, o)(2000)
end))
-- with a seed of its own, the same numbers as a call outside a kernel
local seeded = par.jit(draws, {seed = 9})
local k2 = par.prange(3, function (i) return seeded(5) end)
assert(T.same(k2[1], seeded(5)) and T.same(k2[3], k2[1]))

-- a par.jit function calling itself by name calls the plain Lua function,
-- whose loops are plain serial loops (native code refuses it)
local rec
rec = function (n)
  if n == 0 then return 0.0 end
  local s = 0.0
  for i in par.prange(3) do s = s + par.random() end
  return s + rec(n - 1)
end
agree(rec, {modes = {"lua"}}, 3)
par.seed(42)
local once = par.jit(function ()
  local s = 0.0
  for i in par.prange(3) do s = s + par.random() end
  return s
end, {seed = 5})()
local plain = ((0.0 + par.random()) + par.random()) + par.random()
par.seed(42)
assert(T.same(par.jit(rec, {mode = "lua", seed = 5})(2), once + (plain + 0.0)))

-- par.prange(n) outside par.jit stays a serial loop
local order = {}
for i in par.prange(5) do order[#order + 1] = i end
assert(#order == 5 and order[5] == 5)
print("OK")
