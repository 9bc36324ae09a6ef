-- One parallel wealth median as a whole process (start-up and compile
-- included), for the cold-cache comparison of kernels.lua with
-- `WHICH=parallel REPS=0 python3 wealth_numba.py`:
--   PARLUA_CACHE=$(mktemp -d) parlua scripts/bench/wealth_once.lua
local r, s, v1, v2 = 0.1, 0.3, 0.1, 1.0
local periods = 1000

local function h (w)
  local R = math.exp(v1 * par.randn()) * (1 + r)
  local y = math.exp(v2 * par.randn())
  return R * s * w + y
end

local function household (i)
  local w = 1.0
  for _ = 1, periods do w = h(w) end
  return w
end

print(string.format("median wealth = %.17g",
  par._native.prange(50000, household, {seed = 42}):median()))
