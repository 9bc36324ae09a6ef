-- Wealth dynamics, the lecture's main job: each household's wealth follows
--   w' = R s w + y,  R = exp(v1 z1) (1 + r),  y = exp(v2 z2),  z1, z2 ~ N(0, 1)
-- and we report the median wealth after T periods over many households.
--
-- This version is vectorised over households, NumPy style: one array
-- expression per period. (Native parallel kernels will run the
-- household-by-household loop of the lecture.)
local opts = require("par.args").parse(arg, {
  {"households", 50000, "number of households"},
  {"periods", 1000, "periods simulated"},
  {"seed", 42, "seed of the random numbers"},
}, "parlua scripts/wealth.lua [options]")

local r, s, v1, v2 = 0.1, 0.3, 0.1, 1.0

-- Median wealth after T periods of n households starting at w0 = 1.
local function long_run_median(g, n, T)
  local w = par.ones(n)
  for _ = 1, T do
    local R = par.exp(v1 * g:standard_normal(n)) * (1 + r)
    local y = par.exp(v2 * g:standard_normal(n))
    w = R * s * w + y
  end
  return w:median()
end

print(string.format("wealth: %d households, %d periods, seed %d, %d threads",
  opts.households, opts.periods, opts.seed, par.threads()))
local t0 = par.clock()
local median = long_run_median(par.rng(opts.seed), opts.households, opts.periods)
print(string.format("median wealth = %.17g   (%.3f s)", median, par.clock() - t0))
