-- native_errors.lua: the messages of the kernel compiler (par._native
-- raises "not native: <reason>" with the file, line and construct).
print("testing native compiler messages")

local T = require "common"
local N = par._native

local function refuse (pattern, f, ...)
  T.checkerror("not native: ", N.prange, 3, f, ...)
  T.checkerror(pattern, N.prange, 3, f, ...)
end

local here = "native_errors.lua:"
refuse(here .. "%d+:%d+: string value is not supported", function (i) return "x" end)
refuse("table constructor is not supported", function (i) local t = {} return i end)
refuse("string concatenation '..' is not supported", function (i) return i .. i end)
refuse("nil value is not supported", function (i) return nil end)
refuse("generic 'for'", function (i) for k in pairs({}) do end return i end)
refuse("function value", function (i) return i, function () end end)
refuse("'goto' is not supported", function (i) goto x ::x:: return i end)
refuse("variable 'x' holds a boolean and an integer", function (i) local x = true x = 1 return x end)
refuse("function returns 2 values here and 1 elsewhere", function (i) if i > 1 then return 1 end return 1, 2 end)
refuse("local 'x' declared without a value", function (i) local x x = 1 return x end)
refuse("field 'tointeger': math.tointeger is not in the native subset %(its result may be nil%)",
       function (i) return math.tointeger(i) or 0 end)
refuse("math.type is not in the native subset %(it returns a string%)",
       function (i) return math.type(i) end)
refuse("a C function %(of C functions, only those of math compile%)", function (i) return select(1, i) end)
local t = {}
refuse("result 1 is a table", function (i) return t end)
refuse("assignment to upvalue 'i0'", (function () local i0 = 0 return function (i) i0 = i return i end end)())
T.checkerror("^not native: .*a reduction needs a number", N.preduce, "+", 3, function (i) return true end)
T.checkerror("^not native: .*'or' gives", N.prange, 3, function (i) return (i > 1) or 2 end)
T.checkerror("assignment to 'y', declared outside the parallel loop", N.jit(function (n)
  local y = 0
  for i in par.prange(n) do y = i end
  return y
end), 10)
-- a nested loop may reduce into a local of the enclosing body, not past it
-- (the C of this once failed to compile)
T.checkerror("assignment to 's', declared outside the parallel loop %(a nested loop reduces only",
  N.jit(function (n)
    local s = 0.0
    for i in par.prange(n) do
      for j in par.prange(n) do s = s + i * j end
    end
    return s
  end), 10)
do
  local function f (n)
    local s = 0.0
    for i in par.prange(n) do
      local t = 0.0
      for j in par.prange(n) do t = t + i / j end
      s = s + t
    end
    return s
  end
  local v = N.jit(f)(300)
  assert(T.same(v, par.jit(f, {mode = "lua"})(300)) and v > 0, v)
end
T.checkerror("reduction variable 's' is read inside the parallel loop", N.jit(function (n)
  local s = 0
  for i in par.prange(n) do s = s + i; local z = s end
  return s
end), 10)
T.checkerror("'break' out of a parallel loop", N.jit(function (n)
  for i in par.prange(n) do break end
end), 10)
-- also out of a nested loop (serial, but a parallel loop all the same),
-- and in a local function never called, as in Lua mode
T.checkerror(here .. "%d+:55: 'break' out of a parallel loop", N.jit(function (n)
  for i in par.prange(n) do for j in par.prange(3) do break end end
end), 10)
T.checkerror(here .. "%d+:54: 'break' out of a parallel loop", N.jit(function (n)
  local function never (m) for j in par.prange(m) do break end end
  return n
end), 10)
-- a par.jit callable cannot be called; the par.jit function called by
-- name runs its loops as plain loops, which its C code cannot do
local vinner, jinner = par.vectorize(function (x) return x end), par.jit(function (x) return x end)
refuse(here .. "%d+:%d+: upvalue 'vinner' is a par.vectorize callable, which native code cannot call",
  function (i) return vinner(i) end)
refuse("upvalue 'jinner' is a par.jit callable, which native code cannot call",
  function (i) return jinner(i) end)
local rec
rec = function (n)
  for i in par.prange(n) do end
  return n > 0 and rec(n - 1) or 0
end
T.checkerror(here .. "%d+:%d+: upvalue 'rec' is the par.jit function called by name: its prange "
  .. "loops run as plain serial loops there, which native code does not support", N.jit(rec), 2)
T.checkerror("'par.zeros' outside a par.jit function", N.prange, 3, function (i) return #par.zeros(i) end)
-- run-time errors name the iteration, the file and the line
T.checkerror("^iteration 2: .*native_errors.lua:%d+: attempt to divide by zero",
  N.prange, 3, function (i) return 1 // (i - 2) end)
local z = par.zeros(3)
T.checkerror("^iteration 4: .*index 4 out of range for array of shape %(3,%)",
  N.prange, 4, function (i) return z[i] end)

-- Run-time errors carry the same text in native and in Lua mode (Lua
-- mode adds the worker's traceback after it): the iteration, then the
-- message with the position Lua gives it. Each kernel runs through a Lua
-- function, so that a position of the caller would show.
local at = "[^ ]*native_errors%.lua:%d+: "
local function strip (msg) return (tostring(msg):gsub("\nkernel stack traceback:.*", "")) end
local function prange (k, mode) return par.prange(5, k, {mode = mode}) end
local function same_error (pattern, run, ...)
  local okn, en = pcall(run, "native", ...)
  local okl, el = pcall(run, "lua", ...)
  assert(not okn and not okl, pattern)
  el = strip(el)
  assert(en == el, string.format("native '%s', Lua '%s'", en, el))
  assert(en:find(pattern), string.format("'%s' does not match '%s'", en, pattern))
end
local function kernel (pattern, k) same_error(pattern, function (mode) return prange(k, mode) end) end
kernel("^iteration 3: " .. at .. "x$", function (i) if i == 3 then error("x") end return i end)
kernel("^iteration 3: " .. at .. "msg$", function (i) assert(i ~= 3, "msg") return i end)
kernel("^iteration 3: " .. at .. "assertion failed!$", function (i) assert(i ~= 3) return i end)
kernel("^iteration 4: " .. at .. "index 4 out of range for array of shape %(3,%)$",
  function (i) return z[i] end)
kernel("^iteration 4: " .. at .. "index 4 out of range for array of shape %(3,%)$",
  function (i) z[i] = 1 return i end)
-- (Lua 5.4 names the line of an earlier instruction for these two when
-- the function spans several lines: one-line kernels)
kernel("^iteration 3: " .. at .. "attempt to divide by zero$", function (i) return 1 // (i - 3) end)
kernel("^iteration 3: " .. at .. "attempt to perform 'n%%0'$", function (i) return 1 % (i - 3) end)
-- error with a level or a non-string value is not native: auto mode runs
-- such a kernel in Lua mode
local lvl0 = function (i) if i == 3 then error("x", 0) end return i end
local tbl = function (i) if i == 3 then error({}) end return i end
T.checkerror("'error' needs one string literal message in native code", N.prange, 3, lvl0)
T.checkerror("table constructor is not supported", N.prange, 3, tbl)
assert(strip(select(2, pcall(prange, lvl0, "lua"))) == "iteration 3: x")
assert(strip(select(2, pcall(prange, tbl, "lua"))) == "iteration 3: (error object is a table value)")
-- nested code: numeric for, while, callees, each on its own lines
kernel("^iteration 4: " .. at .. "index 4 out of range", function (i)
  local s = 0
  for j = 1, i do
    s = s + z[j]
  end
  return s
end)
kernel("^iteration 3: " .. at .. "w$", function (i)
  local j = 0
  while j < i do
    j = j + 1
    if j == 3 then error("w") end
  end
  return j
end)
local function callee (k)
  if k == 3 then error("in callee") end
  return k
end
kernel("^iteration 3: " .. at .. "in callee$", function (i)
  local s = 0
  for j = 1, 2 do s = s + callee(i) end
  return s
end)
kernel("^iteration 1: " .. at .. "bad argument #1 to 'prange' %(count must be non%-negative%)$",
  function (i)
    local s = 0
    for j in par.prange(i - 2) do s = s + j end
    return s
  end)
-- a loop of a callee is a plain loop in a kernel: no iteration of its own
local function loops (m)
  local s = 0
  for j in par.prange(m) do
    s = s + z[j]
  end
  return s
end
same_error("^iteration 1500: " .. at .. "index 4 out of range", function (mode)
  return par.prange(3000, function (i) return i < 1500 and 0 or loops(i) end, {mode = mode})
end)
-- other forms, and jit functions: serial code, loops, nested loops
same_error("^iteration 2: " .. at .. "attempt to divide by zero$", function (mode)
  return par.preduce("+", 3, function (i) return 1 // (i - 2) end, {mode = mode})
end)
local I = par.array({1, 0, 2})
same_error("^iteration 2: " .. at .. "attempt to divide by zero$", function (mode)
  return par.map(function (x) return 1 // x end, I, {mode = mode})
end)
same_error("^iteration 2: " .. at .. "attempt to divide by zero$", function (mode)
  return par.mapreduce("+", function (x) return 1 // x end, I, {mode = mode})
end)
-- A runner of par.jit(f)(...) for same_error.
local function jit (f, ...)
  local args = table.pack(...)
  return function (mode, parallel)
    return par.jit(f, {mode = mode, parallel = parallel})(table.unpack(args, 1, args.n))
  end
end
same_error("^" .. at .. "serial$", jit(function (n)
  if n > 2 then error("serial") end
  return n
end, 3))
local loop_error = function (n)
  for i in par.prange(n) do
    z[i] = 0
  end
end
same_error("^iteration 4: " .. at .. "index 4 out of range", jit(loop_error, 5))
local nested = function (n)
  local s = 0
  for i in par.prange(n) do
    for j in par.prange(3) do
      if i == 1500 and j == 2 then error("deep") end
    end
    s = s + 1
  end
  return s
end
local local_fn = function (n)
  local a = par.zeros(n)
  local function inner (m)
    local s = 0
    for j in par.prange(m) do s = s + z[j] end
    return s
  end
  for i in par.prange(n) do
    if i >= 2000 then a[i] = inner(4) end
  end
  return a
end
local zeros = function (n, m)
  local s = 0
  for i in par.prange(n) do
    if i >= 1999 then s = s + #par.zeros(2000 - i, m) end
  end
  return s
end
local threads = par.threads()
for _, t in ipairs{1, 2} do
  par.set_threads(t)
  for _, parallel in ipairs{true, false} do
    local function check (pattern, run) same_error(pattern, run, parallel) end
    check("^iteration 1500: iteration 2: " .. at .. "deep$", jit(nested, 3000))
    check("^iteration 2000: iteration 4: " .. at .. "index 4 out of range", jit(local_fn, 3000))
    check("^iteration 2001: " .. at .. "bad argument #1 to 'zeros' %(size must be a non%-negative integer%)$",
      jit(zeros, 3000, 1))
    check("^iteration 1999: " .. at .. "bad argument #2 to 'zeros' %(size must be a non%-negative integer%)$",
      jit(zeros, 3000, -1))
    check("^iteration 1999: " .. at .. "array is too big %(1 x 4611686018427387904 elements%)$",
      jit(zeros, 3000, 1 << 62))
  end
end
par.set_threads(threads)
-- of several failing iterations, the lowest is reported, also when it
-- failed in a nested loop: other blocks are not cancelled for an inner
-- loop's block
local two = function (n, bad1, bad2)
  for i in par.prange(n) do
    for j in par.prange(50) do
      if (i == bad1 or i == bad2) and j == 5 then error("boom") end
    end
  end
end
same_error("^iteration 1500: iteration 5: " .. at .. "boom$", jit(two, 8192, 1500, 7000))
same_error("^iteration 7000: iteration 5: " .. at .. "boom$", jit(two, 8192, 7000, 7001))

print(N.explain(function (i) return "x" end))
assert(N.explain(function (i) return i * 2 end):find("^native: yes"))
assert(N.explain(function (i) return i * 2.5 end, "c"):find("prt_kernel"))
-- explain tells the form of the last call, or its guess
do
  local X = par.linspace(0, 1, 10)
  local function blend (x, y) return 0.25 * x + 0.75 * y end
  assert(N.explain(blend):find("^native: yes %(as par.map%(f, float64 array, float64 array%) %(a guess"))
  N.map(blend, X, 2)
  assert(N.explain(blend):find("^native: yes %(as par.map%(f, float64 array, int%), at its last call%)"),
         N.explain(blend))
  local j = par.jit(function (a) return a[1] + a[#a] end)
  assert(par.explain(j):find("^native: not decided yet"))
  assert(j(X) == 1.0)
  assert(par.explain(j):find("^native: yes %(as par.jit%(f%)%(1%-D float64 array%), at its last call%)"))
  assert(par.explain(par.jit(function (a) return {a} end)):find("^not native: .*table constructor"))
  -- a loop in a function the jit function calls is serial: explain says so
  local function fill (a) for i in par.prange(#a) do a[i] = i end end
  local g = par.jit(function (a) fill(a) return a:sum() end)
  assert(g(par.empty(4)) == 10)
  assert(par.explain(g):find("\nnote: the par.prange loop at .*native_errors.lua:%d+ runs serially %(in a "
    .. "function f calls"), par.explain(g))
end
-- the same messages in both modes, with the kernel's file and line
do
  local E = par.zeros(0)
  local k = function (i) return E:min() end
  local _, native = pcall(N.prange, 2, k)
  local _, lua = pcall(par.prange, 2, k, {mode = "lua"})
  assert(native == lua:match("^[^\n]*") and native:find("^iteration 1: .*native_errors.lua:%d+: calling 'min' on bad self "
    .. "%(zero%-size array to reduction operation min which has no identity%)$"), native)
  T.checkerror("^iteration 1: .*native_errors.lua:%d+: preduce needs a number, got boolean$",
               par.preduce, "+", 3, function (i) return i > 1 end, {mode = "lua"})
end
-- a closed array is an error in native code too (it read as empty)
do
  local b
  do local x <close> = par.ones(5); b = x end
  T.checkerror("attempt to use a closed array", N.prange, 3,
               function (i) return #b end)
  T.checkerror("attempt to use a closed array", N.jit(function (x) return x:sum() end), b)
  T.checkerror("attempt to use a closed array", N.map, function (x) return x end, b)
end
-- math's own functions, in both modes, even after math.sin is reassigned
-- (Lua mode's workers have their own math; README)
do
  local sin = math.sin
  local k = function (i) return math.sin(i) end
  local want = N.prange(3, k)
  math.sin = function () return 100 end
  local ok, err = pcall(function ()
    local a, b = N.prange(3, k), par.prange(3, k, {mode = "lua"})
    for i = 1, 3 do assert(a[i] == want[i] and b[i] == want[i]) end
  end)
  math.sin = sin
  assert(ok, err)
end
print("OK")
