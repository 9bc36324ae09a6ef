-- The wealth model of the lecture, written once for scripts/wealth.lua,
-- wealth_path.lua and the benchmarks. Each household's wealth follows
--   w' = R s w + y,  R = exp(v1 z1) (1 + r),  y = exp(v2 z2),  z1, z2 ~ N(0, 1)
-- The scripts load it by its path relative to their own, with dofile:
--   local model = dofile(here .. "/models/wealth.lua")
local r, s, v1, v2 = 0.1, 0.3, 0.1, 1.0

-- One period of one household: next period's wealth.
local function step(w)
  local R = math.exp(v1 * par.randn()) * (1 + r)
  local y = math.exp(v2 * par.randn())
  return R * s * w + y
end

-- The kernel for T periods: household i's final wealth, starting from
-- w = 1 (its draws come from the stream of iteration i).
local function household(T)
  return function(i)
    local w = 1.0
    for _ = 1, T do w = step(w) end
    return w
  end
end

return {step = step, household = household}
