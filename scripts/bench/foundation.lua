-- Foundation benchmarks against NumPy, as ratios measured in one run with
-- the two sides alternating (A B A B ...), so machine drift hits both:
--   grid    eager cos(x^2+y^2)/(1+x^2+y^2) on 5000^2 (target: <= 0.7x NumPy)
--   eigvals 20 eigenvalue problems of 1000^2          (target: <= 1.0x NumPy)
--   startup parlua -e '' vs lua5.4 -e ''               (target: within 2 ms)
-- usage: parlua scripts/bench/foundation.lua [--pairs N] [--threads N] [--only NAME]
local U = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/util.lua")

local opts = require("par.args").parse(arg, {
  {"pairs", 5, "alternating A/B pairs per benchmark"},
  {"threads", 2, "threads for both sides"},
  {"only", "", "run only this benchmark (grid, eigvals, startup)"},
}, "parlua scripts/bench/foundation.lua [options]")

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local parlua = arg[-1]
local python = "/usr/bin/python3"

local run = U.run

local median = U.median

local function has_numpy()
  return os.execute(python .. " -c 'import numpy' 2>/dev/null") == true
end

-- Runs the in-process benchmark 'name' of both sides in alternation;
-- returns the medians and the median of the pair ratios.
local function pair_bench(name, env)
  local a_cmd = string.format("%s PARLUA_NUM_THREADS=%d %s %s/%s.lua", env, opts.threads, parlua, here, name)
  local b_cmd = string.format("%s OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d %s %s/py/%s.py",
    env, opts.threads, opts.threads, python, here, name)
  local ta, tb, ratios = {}, {}, {}
  local ra, rb
  for k = 1, opts.pairs do
    local oa, ob = run(a_cmd), run(b_cmd)
    ta[k] = tonumber(oa:match("time (%S+)"))
    tb[k] = tonumber(ob:match("time (%S+)"))
    ra, rb = oa:match("result (%S+)"), ob:match("result (%S+)")
    ratios[k] = ta[k] / tb[k]
  end
  return median(ta), median(tb), median(ratios), ra, rb
end

-- Start-up: wall time of 'runs' alternating processes of each command.
local function startup_bench(runs)
  local function wall(cmd)
    local t0 = par.clock()
    os.execute(cmd .. " >/dev/null 2>&1")
    return par.clock() - t0
  end
  local ta, tb, diffs = {}, {}, {}
  for k = 1, runs do
    ta[k] = wall(parlua .. " -e ''")
    tb[k] = wall("lua5.4 -e ''")
    diffs[k] = ta[k] - tb[k]
  end
  return median(ta), median(tb), median(diffs)
end

local rows = {}
local function want(name) return opts.only == "" or opts.only == name end

if not has_numpy() then
  print("NumPy is not installed (apt-get install python3-numpy): NumPy pairs skipped")
else
  if want("grid") then
    local a, b, r, ra, rb = pair_bench("grid_eager", "")
    rows[#rows + 1] = string.format("| eager grid expression 5000^2 | %.4f | %.4f | %.2f | <= 0.7 | %s / %s |", a, b, r, ra, rb)
  end
  if want("eigvals") then
    local a, b, r, ra, rb = pair_bench("eigvals_loop", "")
    rows[#rows + 1] = string.format("| 20 x eigvals 1000^2 (serial loop) | %.3f | %.3f | %.2f | <= 1.0 | %s / %s |", a, b, r, ra, rb)
  end
end
if want("startup") then
  local a, b, d = startup_bench(100 * opts.pairs)
  rows[#rows + 1] = string.format("| start-up `-e ''` vs lua5.4 | %.4f | %.4f | +%.2f ms | <= +2 ms | |", a, b, d * 1e3)
end

print(string.format("\n%d threads, %d pairs (medians; ratio = median of per-pair ratios)\n", opts.threads, opts.pairs))
print("| benchmark | parlua [s] | peer [s] | parlua/peer | target | results |")
print("|---|---|---|---|---|---|")
for _, r in ipairs(rows) do print(r) end
