-- lua_mode.lua: Lua-mode kernels (worker lua_States): the parallel speed-up
-- of the wealth and pi kernels over parallel = false, and the fixed cost of
-- a small par.prange.
--   parlua -t 2 scripts/bench/lua_mode.lua [households [points [repeats]]]
-- Defaults: 10,000 households x 1,000 periods (the lecture has 50,000),
-- 10^7 points, 3 repeats. Each repeat runs parallel = false and parallel
-- in turn (alternating pairs), and the medians are compared.
local U = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/util.lua")

local households = tonumber(arg[1]) or 10000
local points = tonumber(arg[2]) or 1e7
local repeats = tonumber(arg[3]) or 3
local periods = 1000
local LUA = {mode = "lua"}

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local household = dofile(here .. "/../models/wealth.lua").household(periods)

local function inside(i)
  local u1, u2 = par.random(), par.random()
  return (u1 * u1 + u2 * u2 < 1) and 1 or 0
end

local median = U.median

-- Times run(opts) with parallel = false and true, alternating; returns the
-- medians and the last results of each.
local function pair(run)
  local ts, tp, rs, rp = {}, {}, nil, nil
  for _ = 1, repeats do
    local t0 = par.clock()
    rs = run({mode = "lua", seed = 42, parallel = false})
    ts[#ts + 1] = par.clock() - t0
    t0 = par.clock()
    rp = run({mode = "lua", seed = 42})
    tp[#tp + 1] = par.clock() - t0
  end
  return median(ts), median(tp), rs, rp
end

local function report(name, ts, tp, rs, rp)
  print(string.format("%-34s serial %8.3f s   parallel %8.3f s   speed-up %.2fx   %s",
                      name, ts, tp, ts / tp, rs == rp and "same result" or "RESULTS DIFFER"))
end

print(string.format("parlua %s, %d threads, Lua mode", par.version, par.threads()))

local ts, tp, rs, rp = pair(function(o) return par.prange(households, household, o):median() end)
report(string.format("wealth %d x %d, prange", households, periods), ts, tp, rs, rp)
print(string.format("  median wealth %.6f", rs))

ts, tp, rs, rp = pair(function(o) return par.preduce("+", points, inside, o) end)
report(string.format("pi %.0e points, preduce", points), ts, tp, rs, rp)
print(string.format("  pi ~ %.6f", 4 * rs / points))

-- the fixed cost of a call: an empty kernel over 1000 iterations (one block)
local empty = function() end
par.prange(1000, empty, LUA)
local calls, t0 = 2000, par.clock()
for _ = 1, calls do par.prange(1000, empty, LUA) end
local per = (par.clock() - t0) / calls
print(string.format("%-34s %8.1f us per call", "empty prange(1000)", per * 1e6))
t0 = par.clock()
for _ = 1, calls do par.prange(1000, function() end, LUA) end
per = (par.clock() - t0) / calls
print(string.format("%-34s %8.1f us per call", "  with a new closure each call", per * 1e6))
