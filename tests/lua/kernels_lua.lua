-- kernels_lua.lua: parallel kernels in Lua mode: par.prange, par.preduce,
-- par.map, par.mapreduce, par.vectorize and par.jit; results and their
-- dtypes, streams (the same numbers on 1 and 2 threads and with
-- parallel = false), the reduction order, options, errors with iteration
-- numbers, nested kernels, LAPACK in kernels, and Ctrl-C (child processes).
print("testing parallel kernels in Lua mode")

local T = require "common"
local LUA = {mode = "lua"}
local THREADS = par.threads()

local function with(t)
  local o = {mode = "lua"}
  for k, v in pairs(t) do o[k] = v end
  return o
end

local flat = T.flat

-- arrays (or numbers) with the same dtype, shape and bits
local function same(a, b, what)
  if type(a) == "number" then
    assert(T.same(a, b), what .. ": " .. tostring(a) .. " vs " .. tostring(b))
    return
  end
  assert(a.dtype == b.dtype and a.ndim == b.ndim and a.size == b.size, what)
  local x, y = flat(a), flat(b)
  for i = 1, #x do
    if not T.same(x[i], y[i]) then
      error(string.format("%s: element %d: %s vs %s", what, i, tostring(x[i]), tostring(y[i])), 2)
    end
  end
end

-- Runs f on 1 and 2 threads and with parallel = false: same results.
local function threads_agree(what, f)
  par.set_threads(1)
  local r1 = table.pack(f({}))
  par.set_threads(2)
  local r2 = table.pack(f({}))
  local r3 = table.pack(f({parallel = false}))
  par.set_threads(THREADS)
  assert(r1.n == r2.n and r1.n == r3.n, what)
  for i = 1, r1.n do
    same(r1[i], r2[i], what .. " (1 vs 2 threads)")
    same(r1[i], r3[i], what .. " (parallel = false)")
  end
  return table.unpack(r1, 1, r1.n)
end

print("results and dtypes")
do
  local a = par.prange(3000, function(i) return i * 2 end, LUA)
  assert(a.dtype == "int64" and #a == 3000 and a[1] == 2 and a[3000] == 6000)
  local b = par.prange(3000, function(i) return i % 1000 == 0 and i + 0.5 or i end, LUA)
  assert(b.dtype == "float64" and math.type(b[1]) == "float" and b[1000] == 1000.5)
  local c = par.prange(5, function(i) return i > 2 end, LUA)
  assert(c.dtype == "bool" and c[2] == false and c[3] == true)
  assert(par.prange(2000, function() end, LUA) == nil)
  assert(par.prange(0, function() return 1 end, LUA) == nil)
  local x, y, z = par.prange(4, function(i) return i, i / 2, i == 1 end, LUA)
  assert(x.dtype == "int64" and y.dtype == "float64" and z.dtype == "bool")
  local n, m = par.prange(3, function(i) return nil, i end, LUA)
  assert(n == nil and m[3] == 3)
  -- other values: a Lua table in iteration order, copied back
  local s, t = par.prange(2500, function(i) return "s" .. i, {i = i, sq = {i * i}} end, LUA)
  assert(#s == 2500 and s[1] == "s1" and s[2500] == "s2500")
  assert(t[2500].i == 2500 and t[30].sq[1] == 900)
  local mix = par.prange(4, function(i) return i % 2 == 0 and "even" or i end, LUA)
  assert(mix[1] == 1 and mix[2] == "even" and math.type(mix[3]) == "integer")
  local bs = par.prange(3, function(i) return i == 2 and "two" or i == 1 end, LUA)
  assert(bs[1] == true and bs[2] == "two" and bs[3] == false)
  -- arrays made in workers come back sharing their memory
  local arrs = par.prange(4, function(i) return par.full(3, i) end, LUA)
  for _ = 1, 3 do par.prange(3000, function(i) return par.zeros(100) end, LUA) end
  collectgarbage()
  assert(arrs[3][2] == 3 and arrs[4].dtype == "int64")
  -- the dtype errors name iterations
  T.checkerror("prange: value 1 mixes booleans and numbers (a boolean in iteration 1500, a number in iteration 1)",
               par.prange, 3000, function(i) if i == 1500 then return true end return i end, LUA)
  T.checkerror("value 1 mixes booleans and numbers (a boolean in iteration 1, a number in iteration 2)",
               par.map, function(v) return v == 1 or v end, par.arange(1, 4), LUA)
  T.checkerror("prange: value 1 is nil in iteration 2100 but a number in iteration 1",
               par.prange, 3000, function(i) if i ~= 2100 then return i end end, LUA)
  T.checkerror("value 2 is nil in iteration 3 but a number in iteration 1",
               par.prange, 5, function(i) if i == 3 then return 1 end return 1, 2 end, LUA)
  T.checkerror("value 1 is nil in iteration 1 but a non-number in iteration 2",
               par.prange, 2, function(i) if i == 2 then return "x" end end, LUA)
end

print("streams")
do
  local function kernel(i)
    local s = 0
    for _ = 1, 3 do s = s + par.randn() end
    return s + par.random() + math.random(), par.integers(0, 100) + math.random(6)
           + math.random(-3, 3)
  end
  local a, b = threads_agree("prange with a seed", function(o)
    return par.prange(5000, kernel, with({seed = 42, parallel = o.parallel}))
  end)
  assert(a.dtype == "float64" and b.dtype == "int64")
  -- iteration i draws from par.stream(seed, i)
  for _, i in ipairs{1, 17, 1024, 1025, 5000} do
    local g = par.stream(42, i)
    local s = 0
    for _ = 1, 3 do s = s + g:standard_normal() end
    s = s + g:random() + g:random()
    assert(T.same(a[i], s), "stream of iteration " .. i)
    local k = g:integers(0, 100) + g:integers(1, 7) + g:integers(-3, 4)
    assert(b[i] == k, "integers of iteration " .. i)
  end
  -- math.random(0): 64 random bits; math.random(m, m) is m
  local r = par.prange(3, function(i) return math.random(0), math.random(5, 5) end, with({seed = 1}))
  assert(r[1] ~= r[2])
  -- without a seed: one raw output of the default generator
  par.seed(11)
  local x = par.prange(2000, function() return par.random() end, LUA)
  local y = par.prange(2000, function() return par.random() end, LUA)
  par.seed(11)
  local x2 = par.prange(2000, function() return par.random() end, LUA)
  same(x, x2, "default seed")
  assert(x[1] ~= y[1])
  -- seeds as in par.rng: floats with integer values, 64-bit hex
  same(par.prange(3, function() return par.random() end, with({seed = 7.0})),
       par.prange(3, function() return par.random() end, with({seed = 7})), "float seed")
  local h = par.prange(2, function() return par.random() end, with({seed = 0x8000000000000005}))
  assert(T.same(h[2], par.stream(0x8000000000000005, 2):random()))
  -- generators and reseeding are refused inside kernels
  T.checkerror("math.randomseed cannot be used inside a parallel kernel",
               par.prange, 2, function() math.randomseed(1) end, LUA)
  T.checkerror("par.seed cannot be called inside a parallel kernel",
               par.prange, 2, function() par.seed(1) end, LUA)
  T.checkerror("generator objects cannot be used inside a parallel kernel",
               par.prange, 2, function() return par.rng(1):random() end, LUA)
  -- the default generator is untouched by kernels drawing numbers
  par.seed(5)
  local before = par.random()
  par.seed(5)
  par.prange(10, function() return par.random() end, with({seed = 1}))
  assert(par.random() == before)
end

print("reductions")
do
  -- the API's order: blocks of 1024, each left to right, then the blocks
  local function step(op, acc, x)
    if acc ~= acc then return acc end
    if x ~= x then return x end
    if op == "min" then return x < acc and x or acc end
    return x > acc and x or acc
  end
  local function combine(op, acc, x)
    if acc == nil then return x end
    if op == "+" then return acc + x end
    if op == "*" then return acc * x end
    return step(op, acc, x)
  end
  local function blocked(op, n, f)
    local s = (op == "+" and 0) or (op == "*" and 1) or nil
    for b = 0, (n - 1) // 1024 do
      local p = (op == "+" and 0) or (op == "*" and 1) or nil
      for i = b * 1024 + 1, math.min(n, b * 1024 + 1024) do p = combine(op, p, f(i)) end
      s = combine(op, s, p)
    end
    return s
  end
  local cases = {
    {"+", 5000, function(i) return math.sin(i) * 1e3 end},
    {"+", 3000, function(i) return i % 3 == 0 and i + 0.5 or i end},
    {"+", 4000, function(i) return math.maxinteger // 3 + i end},     -- wraps
    {"*", 2500, function(i) return 1 + math.cos(i) * 1e-3 end},
    {"*", 100, function(i) return i end},                             -- wraps
    {"min", 5000, function(i) return math.sin(i * 0.37) end},
    {"max", 5000, function(i) return i % 7 == 0 and i * 1.0 or i end},
    {"max", 3000, function(i) return i == 2500 and 0 / 0 or i end},   -- NaN wins
    {"min", 3000, function(i) return i == 1 and -0.0 or (i == 2 and 0.0 or 1) end},
    {"min", 3, function(i) return (i == 2 and 2^53 + 1) or (i == 3 and 2.0^53) or 2^60 end},
  }
  for k, c in ipairs(cases) do
    local want = blocked(c[1], c[2], c[3])
    local got = threads_agree("reduction case " .. k, function(o)
      return par.preduce(c[1], c[2], c[3], with({parallel = o.parallel}))
    end)
    assert(T.same(got, want), "reduction case " .. k .. ": " .. tostring(got) .. " vs " .. tostring(want))
  end
  assert(1 / par.preduce("min", 3, cases[9][3], LUA) < 0)   -- the first of -0.0 and 0.0
  assert(math.type(par.preduce("min", 3, cases[10][3], LUA)) == "float")
  -- equal to the array reductions
  local g = par.rng(3)
  local a, ia = g:standard_normal(7000), g:integers(-1000, 1000, 7000)
  local function get(x) return function(i) return x[i] end end
  assert(T.same(a:sum(), par.preduce("+", #a, get(a), LUA)))
  assert(T.same(ia:sum(), par.preduce("+", #ia, get(ia), LUA)))
  assert(T.same(a:min(), par.preduce("min", #a, get(a), LUA)))
  assert(T.same(a:max(), par.preduce("max", #a, get(a), LUA)))
  local small = a:slice(1, 900) * 0.01 + 1
  assert(T.same(small:prod(), par.preduce("*", #small, get(small), LUA)))
  assert(T.same(a:sum(), par.mapreduce("+", function(x) return x end, a, LUA)))
  -- empty ranges
  assert(math.type(par.preduce("+", 0, get(a), LUA)) == "integer")
  assert(par.preduce("+", 0, get(a), LUA) == 0 and par.preduce("*", 0, get(a), LUA) == 1)
  T.checkerror("'min' of an empty range", par.preduce, "min", 0, get(a), LUA)
  T.checkerror("'max' of an empty range", par.mapreduce, "max", get(a), par.zeros(0), LUA)
  -- numbers only
  -- an error object with __tostring reads as lua.c prints it
  local obj = setmetatable({}, {__tostring = function () return "my error object" end})
  T.checkerror("^iteration 2: my error object\n", par.prange, 4,
               function (i) if i == 2 then error(obj) end return i end, LUA)
  T.checkerror("^iteration 2: %(error object is a table value%)", par.prange, 4,
               function (i) if i == 2 then error({}) end return i end, LUA)
  T.checkerror("iteration 1500: .*kernels_lua.lua:%d+: preduce needs a number, got string",
               par.preduce, "+", 3000, function(i) return i == 1500 and "1" or i end, LUA)
  T.checkerror("iteration 2: .*kernels_lua.lua:%d+: mapreduce needs a number, got nil",
               par.mapreduce, "+", function(x) if x ~= 2 then return x end end, par.arange(1, 4), LUA)
  T.checkerror("bad argument #1 to 'preduce' (invalid option 'sum')", par.preduce, "sum", 3, get(a))
end

print("map, mapreduce, vectorize, jit")
do
  local x = par.linspace(0, 1, 3000)
  local y = par.arange(0, 3000)
  local z = threads_agree("map", function(o)
    return par.map(function(u, v) return u * v + 1 end, x, y, with({parallel = o.parallel}))
  end)
  assert(z.dtype == "float64" and #z == 3000 and T.same(z[3000], x[3000] * y[3000] + 1))
  -- scalars broadcast, booleans too; integer results give int64
  local w = par.map(function(v, k, flag) return flag and v * k or -v end, y, 3, true, LUA)
  assert(w.dtype == "int64" and w[11] == 30)
  -- 2-D arrays keep their shape
  local m = par.ones(3, 4)
  local m2 = par.map(function(v) return v + 1 end, m, LUA)
  assert(m2.ndim == 2 and m2.shape[1] == 3 and m2.shape[2] == 4 and m2:get(3, 4) == 2)
  local idx = par.map(function(v) return v > 0 end, par.arange(-2, 4):reshape(2, 3), LUA)
  assert(idx.dtype == "bool" and idx:get(1, 3) == false and idx:get(2, 1) == true)
  local strs = par.map(function(v) return tostring(v) end, par.arange(1, 7):reshape(2, 3), LUA)
  assert(strs[2][1] == "4" and #strs == 2 and #strs[1] == 3)
  -- empty arrays give an empty float64 array of their shape
  local e = par.map(function(v) return v end, par.zeros(0), LUA)
  assert(e.dtype == "float64" and e.size == 0)
  -- mapreduce: fused
  local function grid(u, v) return math.cos(u * u + v * v) / (1 + u * u + v * v) end
  local mx = threads_agree("mapreduce", function(o)
    return par.mapreduce("max", grid, x, y, with({parallel = o.parallel}))
  end)
  assert(T.same(mx, par.map(grid, x, y, LUA):max()))
  -- argument errors
  local f = function(v) return v end
  T.checkerror("bad argument #3 to 'map' (shape (4,) does not match (3,))", par.map, f,
               par.zeros(3), par.zeros(4))
  T.checkerror("array expected", par.map, f, 1, 2)
  T.checkerror("array or number expected, got table", par.map, f, {1}, par.zeros(2))
  T.checkerror("array or number expected, got string", par.mapreduce, "+", f, par.zeros(2), "x")
  T.checkerror("function expected", par.map, 3, par.zeros(2))
  -- vectorize: numbers in, number out; arrays in: par.map
  local v = par.vectorize(function(a, b) return a * b + 1 end, LUA)
  assert(v(2, 3) == 7 and math.type(v(2, 3)) == "integer")
  same(v(x, 2), par.map(function(a, b) return a * b + 1 end, x, 2, LUA), "vectorize")
  assert(tostring(v):find("^par.vectorize: "))
  -- jit: calls the function; its par.prange(n) loops run serially for now
  local j = par.jit(function(a, n)
    local s = 0
    for i in par.prange(n) do s = s + a * i end
    return s, n
  end, LUA)
  local s, n = j(2, 10)
  assert(s == 110 and n == 10)
  assert(tostring(j):find("^par.jit: "))
  -- callables stand for their function, also across into workers
  local sq = par.jit(function(i) return i * i end)
  assert(par.prange(5, sq, LUA)[5] == 25)
  assert(par.prange(5, function(i) return sq(i) + 1 end, LUA)[5] == 26)
  local vs = par.vectorize(function(a) return a + 0.5 end)
  assert(par.prange(3, function(i) return vs(i) end, LUA)[3] == 3.5)
  assert(par.map(vs, par.arange(0, 3), LUA)[3] == 2.5)
  -- a C function from a library as the kernel
  same(par.map(math.sqrt, x, LUA), par.map(function(u) return math.sqrt(u) end, x, LUA), "math.sqrt")
  -- serial form outside par.jit
  local k = 0
  for i in par.prange(4) do k = k + i end
  assert(k == 10)
  for _ in par.prange(0) do error("no iterations") end
end

print("options")
do
  local f = function(i) return i end
  local closed = par.zeros(2)
  getmetatable(closed).__close(closed)
  assert(par.prange(3, f, {parallel = false, progress = true, fastmath = true, mode = "auto"})[3] == 3)
  assert(par.prange(3.0, f)[3] == 3)
  T.checkerror("unknown option 'paralel'", par.prange, 3, f, {paralel = true})
  T.checkerror("unknown option 'threads'", par.map, f, par.zeros(2), {threads = 2})
  T.checkerror("option names must be strings", par.prange, 3, f, {true})
  T.checkerror("option 'parallel' must be a boolean", par.prange, 3, f, {parallel = 1})
  T.checkerror("option 'mode' must be \"auto\", \"native\" or \"lua\"", par.prange, 3, f, {mode = "fast"})
  T.checkerror("option 'seed' must be an integer", par.prange, 3, f, {seed = 1.5})
  T.checkerror("option 'seed' must be an integer", par.preduce, "+", 3, f, {seed = "1"})
  local g = function(i) return {i} end   -- tables are outside the native subset
  T.checkerror("not native: ", par.prange, 3, g, {mode = "native"})
  T.checkerror("not native: ", par.jit(g, {mode = "native"}), 1)
  assert(par.prange(3, f, {mode = "native"})[3] == 3)
  T.checkerror("bad argument #1 to 'prange' (count must be non-negative)", par.prange, -1, f)
  T.checkerror("number has no integer representation", par.prange, 2.5, f)
  T.checkerror("bad argument #2 to 'prange' (function expected, got number)", par.prange, 3, 4)
  T.checkerror("bad argument #3 to 'prange' (table expected, got number)", par.prange, 3, f, 5)
  T.checkerror("bad argument #1 to 'vectorize' (function expected, got table)", par.vectorize, {})
  T.checkerror("bad argument #2 to 'jit' (unknown option 'x')", par.jit, f, {x = 1})
  T.checkerror("bad argument #1 to 'prange' (number expected, got table)", par.prange, {}, f)
  T.checkerror("bad argument #1 to 'mapreduce' (string expected, got no value)", par.mapreduce)
  T.checkerror("bad argument #2 to 'map' (array is closed)", par.map, f, closed)
  T.checkerror("bad argument #2 to 'map' (array or number expected, got par.rng)", par.map, f,
               par.rng(1))
end

print("errors")
do
  -- the lowest failing iteration is reported, with the worker's traceback
  local function failing(i)
    if i == 1500 or i == 3000 or i == 4500 or i == 6000 then error("bad " .. i) end
    return i
  end
  for _, t in ipairs{1, 2} do
    par.set_threads(t)
    local msg = T.checkerror("^iteration 1500: [^\n]*kernels_lua.lua:%d+: bad 1500\n", par.prange,
                             8000, failing, LUA)
    assert(msg:find("kernel stack traceback:\n", 1, true) and msg:find("in function 'error'", 1, true))
    T.checkerror("^iteration 1500: ", par.preduce, "+", 8000, failing, with({parallel = false}))
    -- the pool stays usable
    assert(par.preduce("+", 5000, function(i) return i end, LUA) == 12502500)
  end
  par.set_threads(THREADS)
  T.checkerror("^iteration 3: %(error object is a table value%)", par.prange, 5,
               function(i) if i == 3 then error({}) end end, LUA)
  T.checkerror("^iteration 2: plain", par.prange, 5, function(i) if i == 2 then error("plain", 0) end end, LUA)
  -- out of bounds array access is an error, never a crash
  local a = par.zeros(3)
  T.checkerror("^iteration 4: ", par.prange, 5, function(i) return a[i] end, LUA)
  T.checkerror("^iteration 3: [^\n]*index 4 out of range", par.prange, 5, function(i) a[i + 1] = 1 end, LUA)
end

print("nested kernels")
do
  local r = threads_agree("nested", function(o)
    return par.prange(2000, function(i)
      return par.preduce("+", 10, function(k) return k * i end) + par.prange(3, function()
        return par.random()
      end)[2]
    end, with({seed = 5, parallel = o.parallel}))
  end)
  assert(math.floor(r[4]) == 220)
  T.checkerror("^iteration 2: [^\n]-iteration 3: [^\n]*kernels_lua.lua:%d+: inner", par.prange, 4, function(i)
    if i >= 2 then par.prange(5, function(k) if k == 3 then error("inner") end end) end
  end, LUA)
end

print("LAPACK in kernels")
do
  local d = threads_agree("det", function(o)
    return par.prange(4, function() return par.linalg.det(par.randn({50, 50})) end,
                      with({seed = 9, parallel = o.parallel}))
  end)
  local g = par.stream(9, 3)
  assert(T.same(d[3], par.linalg.det(g:standard_normal({50, 50}))))
  local la = par.linalg
  local e = par.prange(3000, function(i)
    local m = par.ones(2, 2) * i
    return la.det(m + par.linalg.inv(par.ones(1, 1) * 2)[1][1])
  end, LUA)
  assert(#e == 3000)
end

print("--no-jit and Ctrl-C (child processes)")
do
  local bin = os.getenv("PARLUA_BIN")
  if bin then
    local q = T.q
    local status, _, text = T.run(q(bin) .. " --no-jit -e " ..
      q("par.prange(2, function() end, {mode = 'native'})"))
    assert(status ~= 0 and text:find("native mode requested but --no-jit is set", 1, true), text)

    -- under ThreadSanitizer a signal waits for an intercepted call, which
    -- a pure Lua loop never makes: these cases would hang there
    if os.getenv("PARLUA_SANITIZED") == "thread" then
      print("  Ctrl-C cases skipped under ThreadSanitizer")
    else
      -- Starts 'code' in the background with a kernel that marks a file
      -- when it runs, sends SIGINT, and returns stdout, stderr, the status
      -- and the seconds from SIGINT to exit.
      local function interrupt(code, nthreads)
        local mark, out, err = T.tmpname(""), T.tmpname(), T.tmpname()
        local script = T.writefile(T.tmpname(), string.format("MARK = %q\n", mark) .. code)
        local sh = table.concat({
          q(bin) .. " -t " .. nthreads .. " " .. q(script) .. " >" .. q(out) .. " 2>" .. q(err) .. " &",
          "pid=$!",
          "i=0; while [ ! -e " .. q(mark) .. " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done",
          "sleep 0.1",
          "t0=$(date +%s%N); kill -INT $pid",
          "i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.02; i=$((i+1)); done",
          "if kill -0 $pid 2>/dev/null; then kill -9 $pid; fi",
          "wait $pid; st=$?; echo $st $(( ($(date +%s%N) - t0) / 1000000 ))",
        }, "\n")
        local p = assert(io.popen("sh -c " .. q(sh)))
        local st, ms = p:read("n", "n")
        p:close()
        local o, e = T.slurp(out), T.slurp(err)
        for _, name in ipairs{mark, script, out, err} do os.remove(name) end
        return o, e, st, ms / 1000
      end
      local spin = "function() io.open(MARK, 'w'):close() while true do end end"
      local out, text, st, secs = interrupt("par.prange(2, " .. spin .. ", {mode = 'lua'})", 2)
      assert(st == 1 and text:find("interrupted!", 1, true) and secs < 1.5, text .. st .. " " .. secs)
      out, text, st, secs = interrupt("par.prange(4000, " .. spin .. ", {mode = 'lua'})", 2)
      assert(st == 1 and text:find("interrupted!", 1, true) and secs < 1.5, text .. st .. " " .. secs)
      -- caught: the pool is usable afterwards
      out, text, st = interrupt("print(pcall(par.prange, 4000, " .. spin .. ", {mode = 'lua'}))\n" ..
                                "print(par.preduce('+', 3000, function(i) return i end))", 2)
      assert(st == 0 and out:find("^false\t[^\n]*interrupted!\n4501500\n"), out .. text)
    end
  end
end

print("OK")
