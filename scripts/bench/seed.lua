-- The seed experiments as one benchmark batch, swept over thread counts:
--   parlua scripts/bench/seed.lua [--threads 1,2] [--repeats 3] [--plot speedup.png]
-- Sizes are the lecture's; SEED_SCALE=0.1 (env) shrinks the loops (and the
-- matrices) for a quick run.
local scale = tonumber(os.getenv("SEED_SCALE") or "1")
local households, periods = math.floor(50000 * scale), 1000
local points = math.floor(1e8 * scale)
local gridn = math.floor(5000 * math.sqrt(scale))
local matrices = math.max(2, math.floor(20 * scale))
local msize = math.max(50, math.floor(1000 * math.sqrt(scale)))

-- The wealth model (scripts/models/wealth.lua), found from this file's own
-- path: par.bench may load it from another script.
local here = debug.getinfo(1, "S").source:match("^@(.*)/") or "."
local household = dofile(here .. "/../models/wealth.lua").household(periods)

local function inside(i)
  local x, y = par.random(), par.random()
  return (x * x + y * y < 1) and 1 or 0
end

local function f(a, b)
  return math.cos(a ^ 2 + b ^ 2) / (1 + a ^ 2 + b ^ 2)
end

local function grid()
  local g = par.linspace(-3, 3, gridn)
  return {par.meshgrid(g, g)}
end

local function radius(i)
  local re, im = par.linalg.eigvals(par.randn({msize, msize}))
  return par.sqrt(re * re + im * im):max()
end

return require("par.bench").batch{
  name = "seed",
  repeats = 3,
  cases = {
    {name = "wealth prange", deterministic = true,
     run = function() return par.prange(households, household, {seed = 42}):median() end},
    {name = "pi preduce", deterministic = true,
     run = function() return 4 * par.preduce("+", points, inside, {seed = 42}) / points end},
    {name = "grid eager", setup = grid,
     run = function(xy) return (par.cos(xy[1] ^ 2 + xy[2] ^ 2) / (1 + xy[1] ^ 2 + xy[2] ^ 2)):max() end},
    {name = "grid mapreduce", setup = grid, deterministic = true,
     run = function(xy) return par.mapreduce("max", f, xy[1], xy[2]) end},
    {name = "eigvals loop", threads = {1},
     run = function()
       local g, best = par.rng(1234), 0
       for _ = 1, matrices do
         local re, im = par.linalg.eigvals(g:standard_normal({msize, msize}))
         best = math.max(best, par.sqrt(re * re + im * im):max())
       end
       return best
     end},
    {name = "eigvals prange", baseline = "eigvals loop", deterministic = true,
     run = function() return par.prange(matrices, radius, {seed = 1234, mode = "lua"}):max() end},
  },
}
