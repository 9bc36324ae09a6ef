-- One household's wealth over time, plotted: w' = R s w + y with lognormal
-- R and y, the model of scripts/wealth.lua (models/wealth.lua), drawing
-- from the default generator seeded with --seed.
local plot = require "par.plot"
local opts = require("par.args").parse(arg, {
  {"periods", 100, "periods simulated"},
  {"seed", 42, "seed of the random numbers"},
  {"output", "wealth_path.png", "picture to write (.png or .svg)"},
}, "parlua scripts/wealth_path.lua [options]")

local here = arg[0]:match("^(.*)/") or "."
local model = dofile(here .. "/models/wealth.lua")

par.seed(opts.seed)
local path = par.empty(opts.periods + 1)
path[1] = 1.0
for t = 1, opts.periods do path[t + 1] = model.step(path[t]) end
print(string.format("wealth after %d periods: %.6g (mean %.6g)", opts.periods, path[#path], path:mean()))
print("plot: " .. plot.line{x = par.arange(0, opts.periods + 1), y = path,
  title = "Wealth of one household", xlabel = "period", ylabel = "wealth",
  labels = "w(t)", output = opts.output})
