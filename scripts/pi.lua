-- Monte Carlo estimate of pi: the share of random points of the unit
-- square that fall inside the quarter circle, times 4; with parallelism
-- switched off and on (the same streams, so the same count).
local opts = require("par.args").parse(arg, {
  {"points", 100000000, "number of random points"},
  {"seed", 42, "seed of the random streams"},
  {"mode", "auto", "kernel mode: auto, native or lua"},
}, "parlua scripts/pi.lua [options]")

local n = opts.points

local function inside(i)
  local x, y = par.random(), par.random()
  return (x * x + y * y < 1) and 1 or 0
end

local function estimate(parallel)
  local t0 = par.clock()
  local count = par.preduce("+", n, inside, {parallel = parallel, seed = opts.seed, mode = opts.mode})
  return 4 * count / n, par.clock() - t0
end

print(string.format("pi: %d points, seed %d, %d threads", n, opts.seed, par.threads()))
local t0 = par.clock()
par.preduce("+", 1, inside, {seed = opts.seed, mode = opts.mode})   -- compiles the kernel
print(string.format("compile and first call: %.3f s", par.clock() - t0))
local serial, ts = estimate(false)
local parallel, tp = estimate(true)
local p = math.pi / 4
print(string.format("serial   pi = %.10f   (%.3f s)", serial, ts))
print(string.format("parallel pi = %.10f   (%.3f s)", parallel, tp))
print(string.format("error %.2e, standard error %.2e; speed-up %.2fx",
  parallel - math.pi, 4 * math.sqrt(p * (1 - p) / n), ts / tp))
