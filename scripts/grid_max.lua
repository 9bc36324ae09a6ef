-- The maximum of f(x, y) = cos(x^2 + y^2) / (1 + x^2 + y^2) over a grid,
-- four ways: an eager array expression (as NumPy), par.vectorize serial and
-- parallel (as Numba's @vectorize), and par.mapreduce (fused: no array of
-- f values is ever built).
local opts = require("par.args").parse(arg, {
  {"size", 5000, "grid points per axis"},
  {"mode", "auto", "kernel mode: auto, native or lua"},
}, "parlua scripts/grid_max.lua [options]")

local grid = par.linspace(-3, 3, opts.size)
local x, y = par.meshgrid(grid, grid)

local function f(a, b)
  return math.cos(a ^ 2 + b ^ 2) / (1 + a ^ 2 + b ^ 2)
end

local variants = {
  {"eager arrays", function()
    return (par.cos(x ^ 2 + y ^ 2) / (1 + x ^ 2 + y ^ 2)):max() end},
  {"vectorize serial", function()
    return par.vectorize(f, {parallel = false, mode = opts.mode})(x, y):max() end},
  {"vectorize parallel", function()
    return par.vectorize(f, {mode = opts.mode})(x, y):max() end},
  {"mapreduce", function()
    return par.mapreduce("max", f, x, y, {mode = opts.mode}) end},
}

print(string.format("grid max: %d x %d grid, %d threads", opts.size, opts.size, par.threads()))
for _, v in ipairs(variants) do
  local result = v[2]()
  io.write(string.format("%-19s %.17g   ", v[1], result))
  par.timeit(v[2], {runs = 3, loops = 1})
end
