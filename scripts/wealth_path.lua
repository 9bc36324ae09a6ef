-- One household's wealth over time, plotted: w' = R s w + y with lognormal
-- R and y, as in scripts/wealth.lua.
local plot = require "par.plot"
local opts = require("par.args").parse(arg, {
  {"periods", 100, "periods simulated"},
  {"seed", 42, "seed of the random numbers"},
  {"output", "wealth_path.png", "picture to write (.png or .svg)"},
}, "parlua scripts/wealth_path.lua [options]")

local r, s, v1, v2 = 0.1, 0.3, 0.1, 1.0
local g = par.rng(opts.seed)
local path = par.empty(opts.periods + 1)
path[1] = 1.0
for t = 1, opts.periods do
  local R = math.exp(v1 * g:standard_normal()) * (1 + r)
  local y = math.exp(v2 * g:standard_normal())
  path[t + 1] = R * s * path[t] + y
end
print(string.format("wealth after %d periods: %.6g (mean %.6g)", opts.periods, path[#path], path:mean()))
print("plot: " .. plot.line{x = par.arange(0, opts.periods + 1), y = path,
  title = "Wealth of one household", xlabel = "period", ylabel = "wealth",
  labels = "w(t)", output = opts.output})
