-- rng.lua: generators, the default generator and streams: NumPy's numbers
-- bit for bit (the reference table, and numpy itself for random seeds when
-- available), state strings, spawn, advance, argument errors.
print("testing random numbers")

local T = require "common"
local MININT = math.mininteger

-- all elements of an array (1-D or 2-D, row-major), a number or a table
local function flat(a)
  if type(a) == "number" then return {a} end
  if type(a) == "table" then return a end
  return T.flat(a)
end

local function same(got, want, what)
  got = flat(got)
  assert(#got == #want, what .. ": " .. #got .. " values, want " .. #want)
  for i = 1, #want do
    if not T.same(got[i], want[i]) then
      error(string.format("%s: value %d is %s, want %s", what, i,
                          tostring(got[i]), tostring(want[i])), 2)
    end
  end
end

-- raw 64-bit outputs: integers over the whole int64 range give raw + 2^63
local function raw(g, n)
  local t = flat(g:integers(MININT, 0x1p63, n))
  for i = 1, n do t[i] = t[i] ~ MININT end
  return t
end

do print("  NumPy reference values")
  local ref = dofile(T.testdata("numpy_pcg64.lua"))
  local ts = ref.testset_deadbeaf
  same(raw(par.rng(ts.seed), #ts.raw), ts.raw, "testset raw")
  for _, c in ipairs(ref.cases) do
    local s = c.seed
    same(raw(par.rng(s), #c.raw), c.raw, "raw")
    same(par.rng(s):random(#c.random), c.random, "random")
    same(par.rng(s):standard_normal(#c.standard_normal), c.standard_normal, "standard_normal")
    same(par.rng(s):exponential(1, #c.standard_exponential), c.standard_exponential,
         "exponential")
    same(par.rng(s):lognormal(0, 1, #c.lognormal_0_1), c.lognormal_0_1, "lognormal")
    same(par.rng(s):uniform(-2, 3, #c.uniform_m2_3), c.uniform_m2_3, "uniform")
    same(par.rng(s):integers(0, 10, #c.integers_0_10), c.integers_0_10, "integers")
    local kids = par.rng(s):spawn(3)
    for k = 1, 3 do same(raw(kids[k], 4), c.spawn3_raw[k], "spawn") end
    same(raw(par.rng(s):advance(1000), 4), c.advance1000_raw, "advance")
    -- one value at a time gives the same numbers as arrays
    local g, h = par.rng(s), par.rng(s)
    for i = 1, 8 do
      assert(T.same(g:standard_normal(), c.standard_normal[i]))
      assert(T.same(h:integers(0, 10), c.integers_0_10[i]))
    end
  end
end

do print("  against numpy")
  if not T.has_numpy() then
    print("  (python3 with numpy not found: cross-check skipped)")
  else
    -- each case: a Lua function of a generator, and the same in Python
    local cases = {
      {function(g) return g:random(1000) end, "g.random(1000)"},
      {function(g) return g:uniform(-2.5, 7, 200) end, "g.uniform(-2.5, 7, 200)"},
      {function(g) return g:uniform() end, "g.uniform()"},
      {function(g) return g:standard_normal(20000) end, "g.standard_normal(20000)"},
      {function(g) return g:normal(3, 0.5, {4, 5}) end, "g.normal(3, 0.5, (4, 5))"},
      {function(g) return g:normal(5) end, "g.normal(5)"},
      {function(g) return g:lognormal(0.2, 1.3, 300) end, "g.lognormal(0.2, 1.3, 300)"},
      {function(g) return g:exponential(2.5, 20000) end, "g.exponential(2.5, 20000)"},
      {function(g) return g:integers(-7, 1000, 300) end, "g.integers(-7, 1000, 300)"},
      {function(g) return g:integers(5, nil, 30) end, "g.integers(5, size=30)"},
      {function(g) return g:integers(0, 1 << 40, 100) end, "g.integers(0, 2**40, 100)"},
      {function(g) return g:integers(0, 1 << 32, 9) end, "g.integers(0, 2**32, 9)"},
      {function(g)   -- the 32-bit buffer lives across calls and other draws
         return {g:integers(0, 10), g:integers(3), g:random(), g:integers(-5, 5),
                 g:integers(0, 10, 3)[3], g:integers(1, 1 << 33)}
       end, "np.array([g.integers(0, 10), g.integers(3), g.random(), g.integers(-5, 5), "
            .. "g.integers(0, 10, 3)[2], g.integers(1, 2**33)], dtype=float)"},
      {function(g) return g:gamma(0.5, 2, 300) end, "g.gamma(0.5, 2, 300)"},
      {function(g) return g:gamma(4.5, 1, 300) end, "g.gamma(4.5, 1, 300)"},
      {function(g) return g:gamma(1, 3, 100) end, "g.gamma(1, 3, 100)"},
      {function(g) return g:poisson(4.2, 300) end, "g.poisson(4.2, 300)"},
      {function(g) return g:poisson(123.4, 300) end, "g.poisson(123.4, 300)"},
      {function(g) return g:poisson() end, "g.poisson()"},
      {function(g) return g:binomial(20, 0.25, 300) end, "g.binomial(20, 0.25, 300)"},
      {function(g) return g:binomial(5000, 0.35, 300) end, "g.binomial(5000, 0.35, 300)"},
      {function(g) return g:binomial(100, 0.8, 300) end, "g.binomial(100, 0.8, 300)"},
      {function(g) return g:binomial(1000000, 0.999, 50) end, "g.binomial(1000000, 0.999, 50)"},
      {function(g) return g:permutation(50) end, "g.permutation(50) + 1"},
      {function(g)
         local a = par.arange(0, 30); g:shuffle(a); return a
       end, "g.permutation(30)"},
      {function(g)
         local a = par.array({{1, 2}, {3, 4}, {5, 6}, {7, 8}}); g:shuffle(a); return a
       end, "np.array([[1, 2], [3, 4], [5, 6], [7, 8]])[g.permutation(4)]"},
      {function(g) return g:choice(10, 20) end, "g.choice(10, 20) + 1"},
      {function(g) return g:choice(par.array({1.5, 2.5, 4.5}), 7) end,
       "g.choice(np.array([1.5, 2.5, 4.5]), 7)"},
      {function(g) return g:choice(1000, 30, false) end, "g.choice(1000, 30, False) + 1"},
      {function(g) return g:choice(50000, 2000, false) end, "g.choice(50000, 2000, False) + 1"},
      {function(g) return g:choice(5, 10, true, {0.1, 0.2, 0.3, 0.1, 0.3}) end,
       "g.choice(5, 10, True, [0.1, 0.2, 0.3, 0.1, 0.3]) + 1"},
      {function(g) return g:choice(6, 4, false, {0.3, 0, 0.2, 0.1, 0.25, 0.15}) end,
       "g.choice(6, 4, False, [0.3, 0, 0.2, 0.1, 0.25, 0.15]) + 1"},
      {function(g) return g:spawn(2)[2]:random(5) end,
       "np.random.Generator(np.random.PCG64(g.bit_generator._seed_seq.spawn(2)[1])).random(5)"},
      {function(g) return g:advance(123456789):random(3) end,
       "(g.bit_generator.advance(123456789), g.random(3))[1]"},
      {function(g) return g:advance(-1):standard_normal() end,
       "(g.bit_generator.advance(-1), g.standard_normal())[1]"},
    }
    local seeds = {}
    for i = 1, 3 do seeds[i] = math.random(0, 1 << 40) end
    seeds[4] = math.random(MININT, -1)         -- an unsigned seed >= 2^63
    local py = {"import numpy as np",
                "def out(x):",
                "    x = np.ravel(np.asarray(x))",
                "    f = (lambda v: float(v).hex()) if x.dtype.kind == 'f' else str",
                "    print(' '.join(f(v) for v in x.tolist()))"}
    for _, s in ipairs(seeds) do
      for _, c in ipairs(cases) do
        py[#py + 1] = string.format("g = np.random.Generator(np.random.PCG64(%s)); out(%s)",
                                    ("0x%x"):format(s),
                                    c[2])
      end
    end
    local lines = T.python(table.concat(py, "\n") .. "\n"):gmatch("([^\n]*)\n")
    for _, s in ipairs(seeds) do
      for _, c in ipairs(cases) do
        local want = {}
        for tok in assert(lines()):gmatch("%S+") do
          want[#want + 1] = tok:find("p") and tonumber(tok) or math.tointeger(tonumber(tok))
        end
        local got = c[1](par.rng(s))
        if type(got) == "table" and not getmetatable(got) then
          got = par.array(got)      -- mixed values: numpy made them floats
        end
        same(got, want, string.format("seed 0x%x: %s", s, c[2]))
      end
    end
  end
end

do print("  generator objects")
  local g = par.rng(42)
  assert(tostring(g) == "par.rng(42)")
  assert(tostring(par.rng(0x8000000000000005)) == "par.rng(0x8000000000000005)")
  assert(tostring(g:spawn(2)[2]) == "par.rng(42, spawn_key={1})")
  assert(tostring(g:spawn(1)[1]:spawn(1)[1]) == "par.rng(42, spawn_key={2, 0})")
  assert(tostring(par.stream(7, 3)) == "par.stream(7, 3)")
  -- seeds: integers as unsigned 64-bit, integral floats
  assert(T.same(par.rng(-1):random(), par.rng(0xffffffffffffffff):random()))
  assert(T.same(par.rng(12.0):random(), par.rng(12):random()))
  assert(T.same(par.rng(2^63):random(), par.rng(MININT):random()))
  -- scalars and sizes
  assert(math.type(g:integers(0, 10)) == "integer")
  assert(math.type(g:random()) == "float")
  local a = g:normal(0, 1, {3, 4})
  assert(a.ndim == 2 and a.shape[1] == 3 and a.shape[2] == 4 and a.dtype == "float64")
  assert(g:poisson(3, 5).dtype == "int64" and g:binomial(5, 0.5, {2, 2}).dtype == "int64")
  assert(g:random(0).size == 0 and g:random({0, 3}).size == 0)
  for _, v in ipairs(flat(g:integers(0, 1, 4))) do assert(v == 0) end
  for _, v in ipairs(flat(g:uniform(3, 3, 5))) do assert(v == 3) end
  for _, v in ipairs(flat(g:integers(-3, -1, 50))) do assert(v == -3 or v == -2) end
  -- full int64 range, and the largest ranges
  assert(math.type(g:integers(MININT, 0x1p63)) == "integer")
  assert(g:integers(math.maxinteger - 1, 0x1p63) >= math.maxinteger - 1)
  -- permutation and choice of tables and arrays
  local p = flat(g:permutation(10))
  table.sort(p)
  for i = 1, 10 do assert(p[i] == i) end
  local t = g:permutation({"a", "b", "c"})
  table.sort(t)
  assert(table.concat(t) == "abc")
  local w = {"x", "y"}
  g:shuffle(w)
  assert((w[1] == "x" and w[2] == "y") or (w[1] == "y" and w[2] == "x"))
  assert(({x = true, y = true})[g:choice({"x", "y"})])
  assert(#g:choice({"x", "y"}, 5) == 5)
  local c = g:choice(par.array({{1, 2}, {3, 4}}), 3)
  assert(c.shape[1] == 3 and c.shape[2] == 2)
  assert(g:choice(par.array({{1, 2}, {3, 4}})).size == 2)
  local perm = g:permutation(par.array({{1, 2}, {3, 4}, {5, 6}}))
  assert(perm:sum() == 21 and perm:get(1, 2) == perm:get(1, 1) + 1)
  assert(#flat(g:choice(5, 5, false)) == 5)
  assert(g:choice(0, 0).size == 0)
end

do print("  state strings")
  local g = par.rng(99)
  g:integers(0, 10)                   -- leaves half of a 64-bit output
  local s = g:state()
  assert(s:match("^pcg64 %x+ %x+ 1 %x+ seq 0000000000000063 0 %-$"), s)
  local a = {g:integers(0, 10), g:random(), g:integers(0, 100, 5):sum()}
  local h = par.rng(1)
  h:set_state(s)
  assert(h:state() == s and tostring(h) == "par.rng(99)")
  local b = {h:integers(0, 10), h:random(), h:integers(0, 100, 5):sum()}
  for i = 1, 3 do assert(T.same(a[i], b[i])) end
  -- the spawn count and key travel with the state
  local k = g:spawn(2)[2]
  local ks = k:state()
  assert(ks:match(" seq 0000000000000063 0 1$"), ks)
  g:set_state(g:state())
  assert(g:state():match(" seq 0000000000000063 2 %-$"))
  h:set_state(ks)
  assert(tostring(h) == "par.rng(99, spawn_key={1})")
  assert(T.same(h:spawn(1)[1]:random(), k:spawn(1)[1]:random()))
  local st = par.stream(5, 6)
  local ss = st:state()
  assert(ss:match(" stream 0000000000000005 6$"), ss)
  h:set_state(ss)
  assert(tostring(h) == "par.stream(5, 6)" and T.same(h:random(), st:random()))
  local even, before = s:gsub("^(pcg64 %x+ " .. ("%x"):rep(31) .. ")%x", "%10"), h:state()
  for _, bad in ipairs{"", "pcg64", s .. " ", (s:gsub(" 1 ", " 2 ", 1)), (s:gsub("seq", "sec")),
                       (s:gsub("^pcg64 %x", "pcg64 z")), s:sub(1, -3), even} do
    T.checkerror("malformed generator state", h.set_state, h, bad)
  end
  assert(h:state() == before)         -- a failed set_state changes nothing
end

do print("  advance")
  local g, h = par.rng(3), par.rng(3)
  for _ = 1, 10 do h:random() end
  assert(T.same(g:advance(10):random(), h:random()))
  g:advance(-11)
  assert(T.same(g:random(), par.rng(3):random()))
  g, h = par.rng(3), par.rng(3)
  g:advance("0xffffffffffffffffffffffffffffffff")
  h:advance(-1)
  assert(g:state() == h:state())
  g:advance(2^64)
  h:advance("18446744073709551616")
  assert(g:state() == h:state())
  T.checkerror("delta must be an integer", g.advance, g, 1.5)
  T.checkerror("delta must be an integer", g.advance, g, "0x1" .. string.rep("0", 32))
  T.checkerror("delta must be an integer", g.advance, g, "12a")
end

do print("  default generator")
  par.seed(42)
  assert(par.seed() == 42)
  local ref = par.rng(42)
  assert(T.same(par.random(), ref:random()))
  assert(T.same(par.randn(), ref:standard_normal()))
  assert(T.same(par.uniform(1, 2), ref:uniform(1, 2)))
  assert(T.same(par.normal(1, 2), ref:normal(1, 2)))
  assert(T.same(par.lognormal(1, 2), ref:lognormal(1, 2)))
  assert(T.same(par.exponential(3), ref:exponential(3)))
  assert(T.same(par.integers(0, 7), ref:integers(0, 7)))
  same(par.normal(0, 1, 10), flat(ref:normal(0, 1, 10)), "par.normal")
  par.seed(0x8000000000000005)
  assert(par.seed() == MININT + 5)
  par.seed(42.0)
  assert(math.type(par.seed()) == "integer" and par.seed() == 42)
  -- par.rng() draws its seed from the default generator: replayable
  par.seed(5)
  local x = par.rng():random()
  par.seed(5)
  assert(T.same(par.rng():random(), x))
  -- PARLUA_SEED, in a fresh process when the binary is known
  local bin = os.getenv("PARLUA_BIN")
  if bin then
    local f = T.writefile(T.tmpname(".lua"), "print(par.seed(), par.random())\n")
    local function run(env)
      local _, out = T.run(env .. " " .. bin .. " " .. f .. " 2>&1")
      return out
    end
    local want = string.format("%d\t%.14g\n", 123, par.rng(123):random())
    assert(run("PARLUA_SEED=123") == want)
    assert(run("PARLUA_SEED=0x7b") == want)
    assert(run("PARLUA_SEED=18446744073709551615"):match("^%-1\t"))
    assert(run("PARLUA_SEED=abc"):find("bad PARLUA_SEED 'abc' (not a number)", 1, true))
    assert(run("PARLUA_SEED=1.5"):find("bad PARLUA_SEED '1.5' (seed must be an integer)", 1, true))
    assert(run("PARLUA_SEED="):match("^%-?%d+\t%S+\n$"))   -- fresh entropy
    os.remove(f)
  end
end

do print("  streams")
  local a, b = par.stream(11, 5), par.stream(11, 5)
  same(a:random(10), flat(b:random(10)), "stream replay")
  assert(not T.same(par.stream(11, 5):random(), par.stream(11, 6):random()))
  assert(not T.same(par.stream(11, 5):random(), par.stream(12, 5):random()))
  assert(T.same(par.stream(-1, 5):random(), par.stream(0xffffffffffffffff, 5):random()))
  -- neighbouring streams: uncorrelated first uniforms, distinct values
  local n, sxy, sx, sy, sxx, syy, seen, dup = 20000, 0, 0, 0, 0, 0, {}, 0
  local prev = par.stream(99, 0):random() - 0.5
  for i = 1, n do
    local u = par.stream(99, i):random()
    if seen[u] then dup = dup + 1 end
    seen[u] = true
    local x, y = prev, u - 0.5
    sx, sy, sxx, syy, sxy = sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y
    prev = y
  end
  local r = (sxy - sx * sy / n) / math.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
  assert(math.abs(r) < 4 / math.sqrt(n), r)
  assert(dup == 0)
end

do print("  errors")
  local g = par.rng(1)
  local function E(msg, f, ...) T.checkerror(msg, f, ...) end
  E("integer seed expected, got table", par.rng, {})
  E("integer seed expected, got string", par.rng, "12")
  E("seed must be an integer", par.rng, 1.5)
  E("seed out of range", par.rng, 2^64)
  E("seed out of range", par.rng, -2^64)
  E("seed must be an integer", par.seed, 0 / 0)
  E("integer seed expected, got nil", par.stream, nil, 1)
  E("number expected, got no value", par.stream, 1)
  E("low >= high", g.integers, g, 5, 5)
  E("low >= high", g.integers, g, 0)
  E("low >= high", g.integers, g, 3, MININT)
  E("low >= high", par.integers, -1)
  E("number has no integer representation", g.integers, g, 0, 2.5)
  E("scale < 0", g.normal, g, 0, -1)
  E("scale < 0", par.normal, 0, -0.0)
  E("sigma < 0", g.lognormal, g, 0, -1)
  E("sigma < 0", par.lognormal, 0, -1)
  E("scale < 0", g.exponential, g, -2)
  E("scale < 0", par.exponential, -2)
  E("shape < 0", g.gamma, g, -1)
  E("scale < 0", g.gamma, g, 1, -1)
  E("number expected, got no value", g.gamma, g)
  E("lam < 0 or lam is NaN", g.poisson, g, -1)
  E("lam < 0 or lam is NaN", g.poisson, g, 0 / 0)
  E("lam value too large", g.poisson, g, 1e19)
  E("n < 0", g.binomial, g, -1, 0.5)
  E("p < 0, p > 1 or p is NaN", g.binomial, g, 10, 1.5)
  E("p < 0, p > 1 or p is NaN", g.binomial, g, 10, -0.1)
  E("p < 0, p > 1 or p is NaN", g.binomial, g, 10, 0 / 0)
  E("high - low < 0", g.uniform, g, 5)
  E("high - low range exceeds valid bounds", g.uniform, g, -1e308, 1e308)
  E("high - low range exceeds valid bounds", par.uniform, 0, 1 / 0)
  E("negative size", g.random, g, -1)
  E("negative size", g.normal, g, 0, 1, {2, -3})
  E("negative size", par.randn, -5)
  E("size must be a count or {n, m}", g.random, g, {1, 2, 3})
  E("size must be a count or {n, m}", g.random, g, {1.5})
  E("number has no integer representation", g.random, g, 2.5)
  E("negative count", g.spawn, g, -1)
  E("no seed sequence", par.stream(1, 2).spawn, par.stream(1, 2), 1)
  E("array or table expected, got number", g.shuffle, g, 5)
  E("negative size", g.permutation, g, -1)
  E("integer, array or table expected", g.choice, g, "abc")
  E("'a' must be a positive integer unless no samples are taken", g.choice, g, 0)
  E("'a' cannot be empty unless no samples are taken", g.choice, g, {})
  E("cannot take a larger sample than the population", g.choice, g, 3, 4, false)
  E("'a' and 'p' must have the same size", g.choice, g, 3, 2, true, {0.5, 0.5})
  E("probabilities do not sum to 1", g.choice, g, 2, 2, true, {0.5, 0.6})
  E("probabilities are not non-negative", g.choice, g, 2, 2, true, {1.5, -0.5})
  E("probabilities contain NaN", g.choice, g, 2, 2, true, {0 / 0, 1})
  E("fewer non-zero entries in p than size", g.choice, g, 3, 2, false, {1, 0, 0})
  E("p must be 1-dimensional", g.choice, g, 4, 1, true, par.array({{0.5, 0}, {0.5, 0}}))
  E("size {n, m} needs an integer or a 1-D array", g.choice, g, {1, 2}, {2, 2})
  E("bad argument #1 to 'set_state' (malformed", function() g:set_state("x") end)
  -- error positions count from the first argument in both forms
  local ok, msg = pcall(function() return g:normal(0, -1) end)
  assert(not ok and msg:find("bad argument #2 to 'normal' (scale < 0)", 1, true), msg)
  ok, msg = pcall(function() return par.normal(0, -1) end)
  assert(not ok and msg:find("bad argument #2 to 'normal' (scale < 0)", 1, true), msg)
  -- a rejected call draws nothing
  local h, k = par.rng(8), par.rng(8)
  pcall(h.normal, h, 0, -1, 5)
  pcall(h.integers, h, 0, 10, -1)
  pcall(h.choice, h, 3, 5, false)
  assert(h:state() == k:state())
end

print("OK")
