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
T.checkerror("reduction variable 's' is read inside the parallel loop", N.jit(function (n)
  local s = 0
  for i in par.prange(n) do s = s + i; local z = s end
  return s
end), 10)
T.checkerror("'break' out of a parallel loop", N.jit(function (n)
  for i in par.prange(n) do break end
end), 10)
T.checkerror("'par.zeros' outside a par.jit function", N.prange, 3, function (i) return #par.zeros(i) end)
-- run-time errors name the iteration, the file and the line
T.checkerror("^iteration 2: .*native_errors.lua:%d+: attempt to divide by zero",
  N.prange, 3, function (i) return 1 // (i - 2) end)
local z = par.zeros(3)
T.checkerror("^iteration 4: .*index 4 out of range for array of shape %(3,%)",
  N.prange, 4, function (i) return z[i] end)
print(N.explain(function (i) return "x" end))
assert(N.explain(function (i) return i * 2 end):find("^native: yes"))
assert(N.explain(function (i) return i * 2.5 end, "c"):find("prt_kernel"))
print("OK")
