-- catalogue.lua: a catalogue of bad input. Each case misuses the API
-- (wrong types and counts of arguments, shapes, non-finite and extreme
-- values, huge sizes, malformed files, bad command lines, errors inside
-- kernels) and must raise an error whose message matches its pattern: a
-- clear message, never a crash. All cases run, the failures are listed
-- together, and afterwards the process must still compute correctly.
-- Kernel cases join when par.prange exists. A crash found by the fuzzers
-- becomes a case here (see tests/fuzz/CMakeLists.txt).
print("testing the bad-input catalogue")

local T = require "common"

local cases = {}

-- case(pattern, f, ...): f(...) must raise an error matching pattern (a
-- Lua pattern, matched anywhere in the message).
local function case (pattern, f, ...)
  local info = debug.getinfo(2, "l")
  cases[#cases + 1] = {line = info.currentline, pattern = pattern, f = f,
    args = table.pack(...)}
end

local tmpfiles = {}

local function tmpfile (bytes)
  local name = T.writefile(T.tmpname(), bytes)
  tmpfiles[#tmpfiles + 1] = name
  return name
end

local a3 = par.array({1.0, 2.0, 3.0})
local i3 = par.array({1, 2, 3})
local b3 = par.array({true, false, true})
local m23 = par.array({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}})
local empty = par.zeros(0)
local huge = math.maxinteger

---------------------------------------------------------------------------
-- Construction
---------------------------------------------------------------------------
case("table expected", par.array, 5)
case("table expected", par.array, nil)
case("entry %[2%] is a string, expected a number", par.array, {1, "x"})
case("entry %[2%] is a boolean, expected a number", par.array, {1, true})
case("entry %[2%] is nil", par.array, {1, nil, 3})
case("row 2 has length 1, row 1 has length 2", par.array, {{1, 2}, {3}})
case("entry %[1%]%[1%] is a table", par.array, {{{1}}})
case("has no integer representation", par.array, {1.5}, "int64")
case("invalid option 'int32'", par.array, {1}, "int32")
case("size must be a non%-negative integer", par.zeros, -1)
case("size must be a non%-negative integer", par.zeros, 1.5)
case("number expected, got string", par.zeros, "3")
case("size must be a non%-negative integer", par.zeros, 0 / 0)
case("size must be a non%-negative integer", par.zeros, 1 / 0)
case("not enough memory", par.zeros, 2^40)
case("array is too big %(1099511627776 x 1048576 elements%)", par.empty, 1 << 40, 1 << 20)
case("too big", par.zeros, huge, huge)
case("shape must have 1 or 2 dimensions", par.zeros, {2, 2, 2})
case("shape must have 1 or 2 dimensions", par.ones, {})
case("value expected", par.full, 3)
case("number or boolean expected, got string", par.full, 3, "x")
case("#3 to '[%w.]*linspace' %(size must be a non%-negative integer%)", par.linspace, 0, 1, -1)
case("#3 to '[%w.]*linspace' %(size must be a non%-negative integer%)", par.linspace, 0, 1, 2.5)
case("step must not be zero", par.arange, 0, 10, 0)
case("cannot compute length", par.arange, 0, 0 / 0)
case("array is too big", par.arange, 0, 1 / 0)
case("array is too big", par.arange, 0.0, 1e300, 1e-300)
case("number expected, got no value", par.arange)
case("number expected, got string", par.arange, "ten")
case("cannot join", par.concat, a3, m23)
case("#1 to '[%w.]*concat' %(par.array expected, got no value%)", par.concat)
case("#1 to '[%w.]*meshgrid' %(par.array expected, got string%)", par.meshgrid, "x", a3)

---------------------------------------------------------------------------
-- Indexing and methods
---------------------------------------------------------------------------
case("out of range", function () return a3[0] end)
case("out of range", function () return a3[4] end)
case("out of range", function () a3[huge] = 1 end)
case("out of range", function () return a3[math.mininteger] end)
case("array index must be an integer, got 1.5", function () return a3[1.5] end)
case("cannot set field 'x' of an array", function () a3.x = 1 end)
case("must be a number, got string", function () a3[1] = "1" end)
case("has no integer representation", function () i3[1] = 1.5 end)
case("has no integer representation", function () i3[1] = 0 / 0 end)
case("has no integer representation", function () i3[1] = 2^63 end)
case("must be a boolean, got number", function () b3[1] = 1 end)
case("out of range", m23.get, m23, 3, 1)
case("out of range", m23.get, m23, 1, 4)
case("out of range", m23.set, m23, 0, 1, 5)
case("cannot assign array of shape %(2,%) to a row of shape %(3,%)",
     function () m23[1] = par.array({1.0, 2.0}) end)
case("slice 2..10 out of range", a3.slice, a3, 2, 10)
case("'col' needs a 2%-D array", a3.col, a3, 1)
case("out of range", m23.col, m23, 4)
case("cannot reshape array of shape %(2, 3%) into shape %(4,%)", m23.reshape, m23, 4)
case("only one size can be %-1", m23.reshape, m23, -1, -1)
case("invalid option 'complex128'", a3.astype, a3, "complex128")
case("has no integer representation", par.array({0 / 0}).astype, par.array({0 / 0}), "int64")
case("has no integer representation", par.array({1e300}).astype, par.array({1e300}), "int64")
case("attempt to use a closed array", function ()
  local keep
  do
    local c <close> = par.zeros(3)
    keep = c
  end
  return keep[1]
end)
case("attempt to use a closed array", function ()
  local keep
  do
    local c <close> = par.zeros(3)
    keep = c
  end
  return #keep
end)

---------------------------------------------------------------------------
-- Element-wise operations and comparisons
---------------------------------------------------------------------------
case("shapes %(3,%) and %(2, 3%) do not match", function () return a3 + m23 end)
case("shapes %(3,%) and %(4,%) do not match", function () return a3 * par.zeros(4) end)
case("attempt to divide by zero", function () return i3 // 0 end)
case("attempt to perform 'n%%0'", function () return i3 % par.array({1, 0, 1}) end)
case("bool", function () return b3 + 1 end)
case("string", function () return a3 + "1" end)
case("table", function () return a3 + {} end)
case("#1 to '[%w.]*exp' %(number or array expected, got string%)", par.exp, "x")
case("#1 to '[%w.]*exp' %(number or array expected, got no value%)", par.exp)
case("#1 to '[%w.]*sqrt' %(number or array expected, got boolean%)", par.sqrt, true)
case("shape", par.lt, a3, par.zeros(2))
case("bool array expected, got float64 array", par.where, a3, a3, a3)
case("shape", par.where, par.array({true, false}), a3, a3)
case("bool", a3.select, a3, a3)
case("shape", a3.select, a3, par.array({true}))

---------------------------------------------------------------------------
-- Reductions, sorting, histograms
---------------------------------------------------------------------------
case("zero%-size array to reduction operation min", empty.min, empty)
case("argmax of an empty sequence", empty.argmax, empty)
case("axis", m23.sum, m23, 3)
case("axis", a3.sum, a3, 2)
case("quantiles must be in the range %[0, 1%]", a3.quantile, a3, 1.5)
case("quantiles must be in the range %[0, 1%]", a3.quantile, a3, -0.1)
case("quantiles must be in the range %[0, 1%]", a3.quantile, a3, 0 / 0)
case("bins must be a positive integer", par.histogram, a3, 0)
case("max must be larger than min", par.histogram, a3, 10, 1, 0)
case("range of %[0, inf%] is not finite", par.histogram, a3, 10, 0, 1 / 0)
case("range of %[nan, nan%] is not finite", par.histogram, par.array({1.0, 0 / 0}), 10)
case("bad argument", par.sum, "x")

---------------------------------------------------------------------------
-- Random numbers
---------------------------------------------------------------------------
local g = par.rng(1)
case("seed must be an integer", par.rng, 1.5)
case("integer seed expected, got string", par.rng, "x")
case("seed must be an integer", par.rng, 0 / 0)
case("integer seed expected, got table", par.seed, {})
case("high", g.integers, g, 5, 5)
case("high", g.integers, g, 5, 1)
case("bad argument", g.integers, g, 0, 1 / 0)
case("scale", g.normal, g, 0, -1)
case("size", g.uniform, g, 0, 1, -3)
case("size", g.random, g, {2, 3, 4})
case("not enough memory", g.random, g, 1 << 40)
case("'a' cannot be empty", g.choice, g, empty)
case("bad argument #5", g.choice, g, a3, 2, true, {0.5, 0.5})
case("bad argument", g.poisson, g, -1)
case("bad argument", g.binomial, g, -1, 0.5)
case("bad argument", g.binomial, g, 10, 1.5)
case("bad argument", g.gamma, g, -1)
case("bad argument", g.exponential, g, -1)
case("state", g.set_state, g, "garbage")
case("bad argument", g.spawn, g, -1)
case("too many children %(a table holds at most 2%^31 %- 1%)", g.spawn, g, math.maxinteger)
case("bad argument", g.permutation, g, -1)
case("bad argument", par.stream, "x", 1)
case("bad argument", g.random, "not a generator")

---------------------------------------------------------------------------
-- Linear algebra
---------------------------------------------------------------------------
local la = par.linalg
local sq = par.array({{1.0, 2.0}, {2.0, 4.0}})
case("inner dimensions differ: 3 vs 2", la.matmul, m23, sq)
case("singular", la.solve, sq, par.array({1.0, 2.0}))
case("square", la.solve, m23, par.array({1.0, 2.0}))
case("singular", la.inv, sq)
case("square", la.det, m23)
case("positive definite", la.cholesky, par.array({{1.0, 2.0}, {2.0, 1.0}}))
case("square", la.eigh, m23)
case("bad argument #2 to 'lstsq'", la.lstsq, m23, par.array({1.0, 2.0, 3.0}))
case("must not contain infs or NaNs", la.eigvals, par.array({{0 / 0, 1.0}, {1.0, 1.0}}))
case("must not contain infs or NaNs", la.eig, par.array({{1 / 0, 1.0}, {1.0, 1.0}}))
case("must not contain infs or NaNs", la.svd, par.array({{0 / 0, 1.0}, {1.0, 1.0}}))
case("must not contain infs or NaNs", la.lstsq, par.array({{0 / 0, 0.0}, {0.0, 1.0}}), par.zeros(2))
case("bad argument #1 to 'matmul'", la.matmul, "x", sq)

---------------------------------------------------------------------------
-- Files
---------------------------------------------------------------------------
local missing = "/nonexistent-parlua-dir/x.npy"
case(missing:gsub("%p", "%%%0") .. ": No such file or directory", par.load, missing)
case("not a .npy file", par.load, tmpfile("hello, world\n"))
case("not a .npy file", par.load, tmpfile(""))
case("truncated header", par.load, tmpfile("\x93NUMPY\x01\x00\x50"))
case("unsupported .npy version 9", par.load, tmpfile("\x93NUMPY\x09\x00\x00\x00"))
case("corrupt header", par.load, tmpfile("\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'}\n"))
local function npy (header, data)
  header = header .. string.rep(" ", 63 - (10 + #header) % 64) .. "\n"
  return "\x93NUMPY\x01\x00" .. string.pack("<I2", #header) .. header .. (data or "")
end
case("unsupported dtype '<c16'", par.load,
     tmpfile(npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", string.rep("\0", 16))))
case("3%-dimensional", par.load,
     tmpfile(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }", string.rep("\0", 8))))
case("truncated data", par.load,
     tmpfile(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", "")))
case("corrupt header", par.load,
     tmpfile(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "")))
case("truncated data", par.load,
     tmpfile(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", string.rep("\0", 17))))
case("value out of int64 range", par.load,
     tmpfile(npy("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", string.rep("\255", 8))))
case(missing:gsub("%p", "%%%0") .. ": No such file or directory", a3.save, a3, missing)
case(":2: expected 2 columns, got 3", par.loadtxt, tmpfile("1,2\n3,4,5\n"))
case(":1: bad number 'abc'", par.loadtxt, tmpfile("abc\n"))
case(":1: bad number ''", par.loadtxt, tmpfile("1,,2\n"))
case("delimiter must not be empty", par.loadtxt, tmpfile("1\n"), "")
case("^/: ", par.load, "/")
case("write error", a3.savetxt, a3, "/dev/full")

---------------------------------------------------------------------------
-- Threads and timing
---------------------------------------------------------------------------
case("thread count must be between 1 and 4096", par.set_threads, 0)
case("thread count must be between 1 and 4096", par.set_threads, 5000)
case("number has no integer representation", par.set_threads, 1.5)
case("function expected, got string", par.timeit, "x")
case("boom", par.timeit, function () error("boom") end, {quiet = true})
-- unknown options are refused before the first call (which would raise "ran")
local function ran () error("ran") end
case("^bad argument #2 to 'timeit' %(unknown option 'Runs'%)$", par.timeit, ran,
     {Runs = 1, loops = 1})
case("^bad argument #2 to 'timeit' %(unknown option 'rusn'%)$", par.timeit, ran,
     {rusn = 1, loops = 1, quiet = true})
case("^bad argument #2 to 'timeit' %(option names must be strings%)$", par.timeit, ran, {1})
case("bad option 'runs' to 'timeit' %(at most 16777216, got 9007199254740992%)", par.timeit, ran,
     {runs = 1 << 53, loops = 1})

---------------------------------------------------------------------------
-- Kernels (when they exist): errors inside them in each mode, and code
-- outside the native subset under mode = "native"
---------------------------------------------------------------------------
if par.prange then
  local native = pcall(par.prange, 1, function (i) return i end, {mode = "native"})
  for _, mode in ipairs(native and {"lua", "native"} or {"lua"}) do
    local o = {mode = mode}
    case("iteration 7: .*catalogue.lua:%d+: boom", par.prange, 10, function (i)
      if i == 7 then error("boom") end
      return i
    end, o)
    case("iteration 3: .*first is 3", par.prange, 10, function (i)
      if i >= 3 then error("first is 3") end
      return i
    end, o)
    case("iteration 4: .*index 4 out of range for array of shape %(3,%)", par.prange, 10,
         function (i) return a3[i] end, o)
    case("iteration 4: .*index 4 out of range", par.prange, 10, function (i) a3[i] = 1 end, o)
    case("attempt to divide by zero", par.preduce, "+", 5, function (i) return i // 0 end, o)
    case("bad argument #1 to 'prange' %(count must be non%-negative%)", par.prange, -1,
         function (i) return i end, o)
    case("bad argument #1 to 'prange' %(number has no integer representation%)", par.prange, 1.5,
         function (i) return i end, o)
    case("bad argument #2 to 'prange'", par.prange, 10, "f", o)
    case("bad argument #1 to 'preduce' %(invalid option 'bogus'%)", par.preduce, "bogus", 10,
         function (i) return i end, o)
    case("bad argument #3 to 'map' %(shape %(4,%) does not match %(3,%)%)", par.map,
         function (x, y) return x + y end, a3, par.zeros(4), o)
    case("boolean", par.prange, 4, function (i) if i == 2 then return true end return i end, o)
    case("randomseed", par.prange, 4, function () math.randomseed(1) end, o)
    -- writes to a variable declared outside the loop body (API section 4)
    case("assignment to upvalue 'count'", function ()
      local count = 0
      par.prange(100, function (i) count = count + 1 return i end, o)
      return count
    end)
    case("assignment to 'x', declared outside the parallel loop", function ()
      local f = par.jit(function (n)
        local x = 0
        for i in par.prange(n) do x = i end
        return x
      end, o)
      return f(1000)
    end)
  end
  if native then
    case("not native: .*table constructor", par.prange, 4, function (i) return {i} end,
         {mode = "native"})
    case("not native", par.prange, 4, function (i) return tostring(i) .. "x" end,
         {mode = "native"})
  end
  case("cannot pass upvalue 'g' %(a par.rng generator%) to a parallel kernel", par.prange, 4,
       function () return g:random() end, {mode = "lua"})
  case("preduce needs a number, got string", par.preduce, "+", 10, function () return "x" end,
       {mode = "lua"})
  case("option 'seed' must be an integer", par.prange, 4, function (i) return i end, {seed = "x"})
  case("option 'parallel' must be a boolean", par.prange, 4, function (i) return i end,
       {parallel = "yes"})
  case("option 'mode' must be", par.prange, 10, function (i) return i end, {mode = "bogus"})
  case("bad argument #1 to 'mapreduce' %(invalid option 'avg'%)", par.mapreduce, "avg",
       function (x) return x end, a3)
  case("bad argument #1 to 'jit' %(function expected, got number%)", par.jit, 5)
  case("iteration 1: .*not enough memory", par.prange, 4, function () return par.zeros(2^40) end,
       {mode = "lua"})
  if native then
    case("not enough memory", function ()
      local f = par.jit(function (n)
        local z = par.zeros(n)
        return z[1]
      end, {mode = "native"})
      return f(1 << 40)
    end)
  end
end

---------------------------------------------------------------------------
-- The command line (the parlua binary, from PARLUA_BIN)
---------------------------------------------------------------------------
local bin = os.getenv("PARLUA_BIN")
local cli = {}   -- {arguments, exit status, pattern on stderr [, environment]}
if bin then
  cli = {
    {"-t 0 -e ''", 1, "bad value for '%-t' %(positive integer expected, got '0'%)"},
    {"-t abc -e ''", 1, "bad value for '%-t'"},
    {"-t 99999 -e ''", 1, "bad value for '%-t'"},
    {"--threads", 1, "'%-%-threads' needs argument"},
    {"--seed xyz -e ''", 1, "bad value for '%-%-seed'"},
    {"--seed 1.5 -e ''", 1, "bad value for '%-%-seed'"},
    {"--seed", 1, "'%-%-seed' needs argument"},
    {"-h", 1, "unrecognized option '%-h'"},
    {"--bogus", 1, "unrecognized option '%-%-bogus'"},
    {"-e", 1, "'%-e' needs argument"},
    {"-l", 1, "'%-l' needs argument"},
    {"/nonexistent-parlua-dir/script.lua", 1, "cannot open /nonexistent%-parlua%-dir/script.lua"},
    {"-e 'error(\"bad\")'", 1, "bad\nstack traceback"},
    {"-e 'x ='", 1, "unexpected symbol near <eof>"},
    {"--no-jit -e 'par.prange(1, function (i) return i end, {mode = \"native\"})'", 1,
     "native mode requested but %-%-no%-jit is set"},
    {"-e 'local a = par.zeros(1e5) local b = par.zeros(2e5)'", 1, "not enough memory",
     "PARLUA_MAX_MEMORY=1M"},
  }
  for _, c in ipairs(cli) do
    local cmd = string.format("%s %s %s %s", T.NO_INIT, c[4] or "", T.q(bin), c[1])
    case(c[3], function ()
      local status, _, text = T.run(cmd)
      if status ~= c[2] then return "status " .. tostring(status) .. ": " .. text end
      error(text, 0)
    end)
  end
end

---------------------------------------------------------------------------
-- Run them all
---------------------------------------------------------------------------
local failures = {}
for _, c in ipairs(cases) do
  local ok, msg = pcall(c.f, table.unpack(c.args, 1, c.args.n))
  msg = tostring(msg)
  if ok then
    failures[#failures + 1] = string.format("line %d: no error (expected '%s')%s", c.line,
      c.pattern, msg ~= "nil" and ": " .. msg or "")
  elseif not msg:find(c.pattern) then
    failures[#failures + 1] = string.format("line %d: error '%s' does not match '%s'",
      c.line, msg, c.pattern)
  end
end
for _, name in ipairs(tmpfiles) do os.remove(name) end
print(string.format("  %d cases (%d of the command line), %d failed", #cases, #cli, #failures))
for _, f in ipairs(failures) do print("  FAIL " .. f) end

-- The process still works: numbers, memory, threads, linear algebra.
local s = par.arange(1, 1001):sum()
assert(s == 500500 and math.type(s) == "integer")
local x = par.linspace(0, 1, 100001)
assert(T.same((x * 2):sum(), (x + x):sum()))
assert(T.same(par.rng(42):random(), 0.7739560485559633))
local inv = par.linalg.inv(par.array({{2.0, 0.0}, {0.0, 4.0}}))
assert(inv:get(1, 1) == 0.5 and inv:get(2, 2) == 0.25)
local big = par.ones(1000000)
assert(big:sum() == 1000000.0)
if par.prange then
  local r = par.prange(1000, function (i) return i * i end)
  assert(r:sum() == 333833500)
end
assert(#failures == 0, #failures .. " catalogue cases failed")
assert(#cases >= 80)
print("OK")
