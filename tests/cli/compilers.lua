-- compilers.lua: kernels built by clang (PARLUA_CC=clang) give the same
-- bits as those built by the default compiler, each into a cache of its
-- own: the strict flags must keep Lua's results with either compiler.
-- Skipped without clang, and in sanitizer builds (clang's sanitizer
-- runtime cannot join GCC's in one process).
-- Run as: parlua tests/cli/compilers.lua <path of the parlua binary>

local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local q = T.q
local bin = T.parlua_bin()
print("testing kernels built by another compiler")

if os.getenv("PARLUA_SANITIZED") or not os.execute("clang --version > /dev/null 2>&1") then
  print("  (clang not found, or a sanitizer build: test skipped)")
  print("OK")
  return
end

-- Streams, reductions, NaN rules, pow and a jit loop; every value printed
-- with all its digits.
local script = T.writefile(T.tmpname(".lua"), [[
local native = {mode = "native", seed = 3}
local function show (...)
  local t = table.pack(...)
  for k = 1, t.n do t[k] = string.format("%.17g", t[k]) end
  print(table.concat(t, " "))
end
local function h (w) return math.exp(0.1 * par.randn()) * 1.1 * 0.3 * w + math.exp(par.randn()) end
local w = par.prange(3000, function (i)
  local w = 1.0
  for _ = 1, 20 do w = h(w) end
  return w
end, native)
show(w:sum(), w:median(), w[1], w[3000])
show(par.preduce("+", 100000, function (i)
  local x, y = par.random(), par.random()
  return (x * x + y * y < 1) and 1 or 0
end, native))
local x = par.linspace(-3, 3, 301)
local X, Y = par.meshgrid(x, x)
show(par.mapreduce("max", function (a, b) return math.cos(a^2 + b^2) / (1 + a^2 + b^2) end, X, Y, native))
show(par.mapreduce("+", function (a, b) return (a + 7) ^ -1.0 + (b * 0.5) ^ 3 - a * b + 1 end, X, Y, native))
show(par.mapreduce("+", function (a, b) return math.abs(a * b - (a * 0.5) * (b * 2)) end, X, Y, native))  -- 0 without FMA
local f = par.jit(function (p)
  local n = 0
  for i in par.prange(1000) do
    local v = p / (i - 500)
    if not (v >= v) or v ~= v then n = n + 1 end
  end
  return n, p ^ -1.0, math.fmod(p, 0.7)
end, native)
show(f(0.0))
show(f(103.28571428571429))
]])

local function run (env)
  local cache = T.tmpdir()
  local code, o, e = T.run(string.format("%s PARLUA_CACHE=%s %s %s -t 2 %s", T.NO_INIT, q(cache),
    env, q(bin), q(script)))
  T.rmtree(cache)
  assert(code == 0, e)
  return o
end

local default, clang = run(""), run("PARLUA_CC=clang")
assert(select(2, default:gsub("\n", "")) == 7, default)
assert(default == clang, "default compiler:\n" .. default .. "clang:\n" .. clang)
os.remove(script)
print("OK")
