-- Wealth dynamics, the lecture's main job. Each household's wealth follows
--   w' = R s w + y,  R = exp(v1 z1) (1 + r),  y = exp(v2 z2),  z1, z2 ~ N(0, 1)
-- and we want the median wealth after T periods over many households.
-- The model is written once in models/wealth.lua, next to this script
-- (wealth_path.lua and the benchmarks use it too): step(w) is one period,
-- household(T) the kernel over T periods. The household loop is a parallel
-- kernel: household i draws from its own random stream, so the serial and
-- the parallel run give the same bits.
local plot = require "par.plot"
local opts = require("par.args").parse(arg, {
  {"households", 50000, "number of households"},
  {"periods", 1000, "periods simulated"},
  {"seed", 42, "seed of the random streams"},
  {"only", "", "run one variant only: serial or parallel"},
  {"mode", "auto", "kernel mode: auto, native or lua"},
  {"plot", false, "draw the histogram of final wealth to wealth_hist.png"},
}, "parlua scripts/wealth.lua [options]")

local here = arg[0]:match("^(.*)/") or "."
local model = dofile(here .. "/models/wealth.lua")
local T = opts.periods

-- Final wealth of household i after T periods, starting from w = 1.
local household = model.household(T)

-- Final wealth of every household; serially or in parallel.
local function simulate(parallel)
  return par.prange(opts.households, household,
    {parallel = parallel, seed = opts.seed, mode = opts.mode})
end

print(string.format("wealth: %d households, %d periods, seed %d, %d threads",
  opts.households, T, opts.seed, par.threads()))
local t0 = par.clock()
par.prange(1, household, {seed = opts.seed, mode = opts.mode})   -- compiles the kernel
print(string.format("compile and first call: %.3f s", par.clock() - t0))
local timings, last = {}, nil
for _, variant in ipairs({"serial", "parallel"}) do
  if opts.only == "" or opts.only == variant then
    local t0 = par.clock()
    last = simulate(variant == "parallel")
    timings[variant] = par.clock() - t0
    print(string.format("%-8s median wealth = %.17g   (%.3f s)", variant, last:median(), timings[variant]))
  end
end
if timings.serial and timings.parallel then
  print(string.format("speed-up on %d threads: %.2fx", par.threads(), timings.serial / timings.parallel))
end
if opts.plot then
  local median = last:median()
  local path = plot.hist{values = last, bins = 60, range = {0, last:quantile(0.99)},
    marks = {{x = median, label = string.format("median %.3f", median)}},
    title = "Final wealth of " .. opts.households .. " households",
    xlabel = "wealth", ylabel = "households", output = "wealth_hist.png"}
  print("histogram: " .. path)
end
