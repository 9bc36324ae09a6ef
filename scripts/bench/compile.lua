-- The cost of native compilation as a user meets it (the targets of issue
-- 3: cold at most 0.5 s, warm at most 10 ms):
--   parlua scripts/bench/compile.lua [--runs R]
-- cold: the first call of a kernel in a new process with an empty
--       PARLUA_CACHE (front end, C compiler, dlopen);
-- warm: the same in a new process whose cache an earlier process filled
--       (front end, cache lookup, checksum, dlopen).
-- Each figure is the time of that first call, made with n = 1 so that the
-- kernel's own work is nil, measured inside the child; medians of R
-- processes. Worker mode (internal): --case NAME.
local U = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/util.lua")

local args = require("par.args").parse(arg, {
  {"runs", 5, "processes per figure"},
  {"case", "", "internal: run one case and print its first call's time"},
}, "parlua scripts/bench/compile.lua [--runs R]")

local here = arg[0]:match("^(.*)/[^/]*$") or "."

-- The kernels of the seed experiments, as the scripts write them.
local function cases ()
  local household = dofile(here .. "/../models/wealth.lua").household(1000)
  local x = par.linspace(-3, 3, 2)
  local X, Y = par.meshgrid(x, x)
  return {
    wealth = function () return par.prange(1, household, {mode = "native"}) end,
    jit = function ()
      local f = par.jit(function (n)
        local obs = par.empty(n)
        for i in par.prange(n) do obs[i] = household(i) end
        return obs
      end, {mode = "native"})
      return f(1)
    end,
    pi = function ()
      return par.preduce("+", 1, function (i)
        local u, v = par.random(), par.random()
        return (u * u + v * v < 1) and 1 or 0
      end, {mode = "native"})
    end,
    grid = function ()
      return par.mapreduce("max", function (a, b)
        local r = a * a + b * b
        return math.cos(r) / (1 + r)
      end, X, Y, {mode = "native"})
    end,
  }
end

if args.case ~= "" then
  local run = assert(cases()[args.case], "unknown case " .. args.case)
  local t0 = par.clock()
  run()
  io.write(string.format("%.6f\n", par.clock() - t0))
  return
end

local median = U.median

local bin = arg[-1]
local q = U.quote

-- The first call's time in a new process using cache folder 'dir'.
local function first_call (dir, case)
  local p = assert(io.popen(string.format("PARLUA_CACHE=%s %s %s --case %s", q(dir), q(bin),
    q(arg[0]), case)))
  local out = p:read("a")
  assert(p:close(), "the worker failed: " .. out)
  return assert(tonumber(out), out)
end

local function newdir ()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -m 700 " .. q(d)))
  return d
end

print(string.format("compile.lua: %d processes per figure, load %s", args.runs,
  (io.open("/proc/loadavg"):read("l"):match("^(%S+ %S+ %S+)"))))
print(string.format("%-8s %10s %10s", "kernel", "cold [s]", "warm [ms]"))
for _, case in ipairs{"wealth", "jit", "pi", "grid"} do
  local cold, warm = {}, {}
  local dirs = {}
  for r = 1, args.runs do
    dirs[r] = newdir()
    cold[r] = first_call(dirs[r], case)
    warm[r] = first_call(dirs[r], case)
  end
  for _, d in ipairs(dirs) do os.execute("rm -rf " .. q(d)) end
  print(string.format("%-8s %10.3f %10.2f", case, median(cold), 1000 * median(warm)))
end
