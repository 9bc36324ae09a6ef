-- Native kernels against hand-written C and Numba (the targets of issue 3),
-- on the same machine, in the same run:
--   parlua scripts/bench/kernels.lua [--rounds R] [--reps K] [--threads T]
--                                    [--only wealth,jit,pi,grid,gridfast,cold]
-- Each round runs, per kernel, one parlua process, one hand-written C process
-- (scripts/bench/ref, built by its build.sh) and one Numba process (the
-- anchors' scripts), in alternating order; each process makes one warm-up
-- call and then K timed calls and reports their median. Ratios are taken
-- round by round (the pairs share the machine's state), then their median.
-- The parlua process alternates parallel and parallel = false calls, for
-- the speed-up. The cold row runs whole processes (start-up, compile into
-- an empty PARLUA_CACHE, one call) against Numba's, alternating.
-- Env: PARLUA_ANCHORS (default <repo>/../shared/anchors), PYTHON
-- (/usr/bin/python3). Worker mode (internal): --case NAME --reps K.
local U = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/util.lua")

local function usage (msg)
  io.stderr:write("kernels.lua: ", msg, "\n",
    "usage: parlua scripts/bench/kernels.lua [--rounds R] [--reps K] [--threads T] [--only list]\n")
  os.exit(1)
end

local opts = {rounds = 3, reps = 3, threads = 2, only = "wealth,jit,pi,grid,gridfast,cold"}
do
  local k = 1
  while arg[k] do
    local name, v = arg[k]:match("^%-%-(%w+)$"), arg[k + 1]
    if not name or opts[name] == nil and name ~= "case" then usage("unknown option " .. arg[k]) end
    if v == nil then usage("option --" .. name .. " needs a value") end
    opts[name] = tonumber(v) or v
    k = k + 2
  end
end

local median = U.median

---------------------------------------------------------------------------
-- Worker: the kernels as a user writes them (the wealth model of
-- scripts/models/wealth.lua, pi.lua's and grid_max.lua's kernels), through
-- par._native (the native path alone)
---------------------------------------------------------------------------

local HOUSEHOLDS, PERIODS, POINTS, GRID = 50000, 1000, 100000000, 5000
local here = arg[0]:match("^(.*)/[^/]*$") or "."

local function cases ()
  local N = par._native
  local household = dofile(here .. "/../models/wealth.lua").household(PERIODS)
  local function wealth (n)
    local obs = par.empty(n)
    for i in par.prange(n) do obs[i] = household(i) end
    return obs
  end
  local jit_par, jit_ser = N.jit(wealth, {seed = 42}), N.jit(wealth, {seed = 42, parallel = false})
  local function inside (i)
    local x, y = par.random(), par.random()
    return (x * x + y * y < 1) and 1 or 0
  end
  local function f (a, b)
    return math.cos(a ^ 2 + b ^ 2) / (1 + a ^ 2 + b ^ 2)
  end
  local X, Y
  local function grid ()
    if not X then
      local g = par.linspace(-3, 3, GRID)
      X, Y = par.meshgrid(g, g)
    end
  end
  return {
    wealth = {run = function (p)
      return N.prange(HOUSEHOLDS, household, {seed = 42, parallel = p}):median() end},
    jit = {run = function (p) return (p and jit_par or jit_ser)(HOUSEHOLDS):median() end},
    pi = {run = function (p)
      return 4 * N.preduce("+", POINTS, inside, {seed = 42, parallel = p}) / POINTS end},
    grid = {setup = grid, run = function (p)
      return N.mapreduce("max", f, X, Y, {parallel = p}) end},
    gridfast = {setup = grid, run = function (p)
      return N.mapreduce("max", f, X, Y, {parallel = p, fastmath = true}) end},
  }
end

local function worker (name, reps)
  local c = cases()[name] or usage("no case " .. name)
  if c.setup then c.setup() end
  local t0 = par.clock()
  local res = c.run(true)
  print(string.format("first %.6f", par.clock() - t0))
  c.run(false)   -- warm, like the parallel call above
  local tp, ratios = {}, {}
  for k = 1, reps do
    t0 = par.clock()
    res = c.run(true)
    tp[k] = par.clock() - t0
    t0 = par.clock()
    assert(c.run(false) == res, "parallel = false gave another result")
    ratios[k] = (par.clock() - t0) / tp[k]
  end
  print(string.format("result %.17g", res))
  print(string.format("time %.6f", median(tp)))
  print(string.format("speedup %.4f", median(ratios)))
end

if opts.case then
  worker(opts.case, opts.reps)
  return
end

---------------------------------------------------------------------------
-- Driver
---------------------------------------------------------------------------

local function interpreter ()
  local k = -1
  while arg[k - 1] do k = k - 1 end
  return arg[k]
end

local sh = U.quote

local parlua = interpreter()
local script = arg[0]
local root = here .. "/../.."
local build = parlua:match("^(.*)/[^/]*$") or "."
local anchors = os.getenv("PARLUA_ANCHORS") or root .. "/../shared/anchors"
local python = os.getenv("PYTHON") or "/usr/bin/python3"
local refdir = build .. "/bench-ref"
local threads = math.tointeger(opts.threads) or usage("--threads needs an integer")
local env = string.format("PARLUA_NUM_THREADS=%d OMP_NUM_THREADS=%d NUMBA_NUM_THREADS=%d ",
  threads, threads, threads)

local run = U.run

local function num (out, pat, what)
  local v = tonumber(out:match(pat))
  if not v then error("no " .. what .. " in output:\n" .. out, 0) end
  return v
end

local function loadavg ()
  local f = io.open("/proc/loadavg")
  if not f then return "?" end
  local s = f:read("l")
  f:close()
  return s:match("^(%S+ %S+ %S+)")
end

-- The three contestants of each kernel: commands and how to read them.
local function parlua_cmd (name, reps)
  return string.format("%s%s -t %d %s --case %s --reps %d", env, sh(parlua), threads, sh(script),
    name, reps)
end

local function ref (bin, vars)
  return {cmd = string.format("%s%s %s", env, vars, sh(refdir .. "/" .. bin)),
    time = function (out) return num(out, "time (%S+)", "time") end,
    result = function (out) return tonumber(out:match("result (%S+)")) end}
end

local function numba (file, vars, pat)
  return {cmd = string.format("%s%s %s %s", env, vars, sh(python), sh(anchors .. "/" .. file)),
    time = function (out) return num(out, pat, "Numba time") end}
end

-- One row of the table: the parlua case, its title, the hand-written C
-- program (binary and env), the Numba anchor (file, env, pattern of its
-- median time) and the target of parlua / Numba (parlua / C: 1.1).
local function kernel (name, title, c, cvars, anchor, target)
  return {name = name, title = title, c = c, cvars = cvars, numba = anchor,
    targets = {numba = target, c = 1.1}}
end

local wealth_c = string.format("HOUSEHOLDS=%d PERIODS=%d SEED=42", HOUSEHOLDS, PERIODS)
local wealth_numba = {"wealth_numba.py", "WHICH=parallel", "parallel:.-median=(%S-)s"}
local grid_c = string.format("N=%d", GRID)
local grid_numba = {"p4_numba_vectorize_parallel.py", "", "steady%-state: .-median=(%S-)s"}
local kernels = {
  kernel("wealth", "wealth `par.prange(n, f)`", "wealth_ref", wealth_c, wealth_numba, 0.5),
  kernel("jit", "wealth `par.jit` + `for i in par.prange(n)`", "wealth_ref", wealth_c,
    wealth_numba, 0.5),
  kernel("pi", "pi `par.preduce` (10^8 points)", "pi_ref", string.format("N=%d SEED=42", POINTS),
    {"pi_numba.py", string.format("WHICH=parallel NS=%d", POINTS), "parallel:.-median=(%S-)s"},
    0.5),
  kernel("grid", "grid max `par.mapreduce` (5000^2)", "grid_ref", grid_c, grid_numba, 0.7),
  kernel("gridfast", "grid max `par.mapreduce`, fastmath", "grid_ref_fast", grid_c, grid_numba,
    0.2),
}

local function selected (name)
  for w in opts.only:gmatch("[^,]+") do if w == name then return true end end
  return false
end

-- Built at every run (a second or two), so that they never lag behind
-- their sources.
local function build_refs ()
  run(string.format("sh %s %s %s", sh(here .. "/ref/build.sh"), sh(build), sh(refdir)))
end

local function fmt (x, d) return x and string.format("%." .. (d or 3) .. "f", x) or "–" end

local function mark (ratio, limit) return ratio and limit and (ratio <= limit and " ✓" or " ✗") or "" end
local function mark_ge (ratio, limit) return ratio and (ratio >= limit and " ✓" or " ✗") or "" end

-- One kernel: R rounds of (parlua, C, Numba) processes in alternating order.
local function bench_kernel (k)
  local n = numba(k.numba[1], k.numba[2] .. " REPS=" .. opts.reps, k.numba[3])
  local c = ref(k.c, k.cvars .. " REPS=" .. opts.reps)
  local t = {p = {}, c = {}, n = {}, pc = {}, pn = {}, sp = {}}
  local same = true
  for round = 1, opts.rounds do
    local order = round % 2 == 1 and {"p", "c", "n"} or {"n", "c", "p"}
    local res = {}
    for _, who in ipairs(order) do
      if who == "p" then
        local out = run(parlua_cmd(k.name, opts.reps))
        res.p = num(out, "time (%S+)", "time")
        res.presult = tonumber(out:match("result (%S+)"))
        t.sp[#t.sp + 1] = num(out, "speedup (%S+)", "speed-up")
      elseif who == "c" then
        local out = run(c.cmd)
        res.c, res.cresult = c.time(out), c.result(out)
      else
        res.n = n.time(run(n.cmd))
      end
    end
    t.p[round], t.c[round], t.n[round] = res.p, res.c, res.n
    t.pc[round], t.pn[round] = res.p / res.c, res.p / res.n
    if k.name ~= "jit" and res.presult ~= res.cresult then same = false end
    io.stderr:write(string.format("  %s round %d: parlua %.4f  C %.4f  Numba %.4f  (load %s)\n",
      k.name, round, res.p, res.c, res.n, loadavg()))
  end
  local pc, pn, sp = median(t.pc), median(t.pn), median(t.sp)
  return string.format("| %s | %s | %s | %s%s | %s | %s%s | %s%s | %s |", k.title, fmt(median(t.p)),
    fmt(median(t.c)), fmt(pc, 2), mark(pc, k.targets.c), fmt(median(t.n)), fmt(pn, 2),
    mark(pn, k.targets.numba), fmt(sp, 2), mark_ge(sp, 1.8),
    k.name == "jit" and "other loop seed" or same and "same bits as C" or "**differs from C**")
end

-- Whole processes with a cold cache: parlua wealth vs Numba's.
local function bench_cold ()
  local p, n, ratio = {}, {}, {}
  local ncmd = numba("wealth_numba.py", "WHICH=parallel REPS=0", "").cmd
  for round = 1, opts.rounds do
    local dir = run("mktemp -d"):match("^%s*(.-)%s*$")
    local pcmd = string.format("%sPARLUA_CACHE=%s %s -t %d %s", env, sh(dir), sh(parlua), threads,
      sh(root .. "/scripts/wealth.lua") .. " --only parallel")
    local tp, tn
    if round % 2 == 1 then
      tp = select(2, run(pcmd)); tn = select(2, run(ncmd))
    else
      tn = select(2, run(ncmd)); tp = select(2, run(pcmd))
    end
    run("rm -rf " .. sh(dir))
    p[round], n[round], ratio[round] = tp, tn, tp / tn
    io.stderr:write(string.format("  cold round %d: parlua %.3f  Numba %.3f  (load %s)\n",
      round, tp, tn, loadavg()))
  end
  local r = median(ratio)
  return string.format("| wealth, whole process, cold cache | %s | – | – | %s | %s%s | – | |",
    fmt(median(p)), fmt(median(n)), fmt(r, 2), mark(r, 1.0))
end

build_refs()
local rows = {}
local load0 = loadavg()
io.stderr:write(string.format("kernels.lua: %d rounds x %d calls, %d threads, load %s\n",
  opts.rounds, opts.reps, threads, load0))
for _, k in ipairs(kernels) do
  if selected(k.name) then rows[#rows + 1] = bench_kernel(k) end
end
if selected("cold") then rows[#rows + 1] = bench_cold() end
print(string.format("Native kernels on %d threads: medians over %d rounds of %d calls; "
  .. "ratios per round, then their median (✓/✗: issue 3's targets). Load average %s -> %s.",
  threads, opts.rounds, opts.reps, load0, loadavg()))
print()
print("| kernel | parlua [s] | hand C [s] | parlua / C (≤ 1.1) | Numba [s] | parlua / Numba | "
  .. "speed-up vs parallel=false (≥ 1.8) | result |")
print("|---|---|---|---|---|---|---|---|")
for _, r in ipairs(rows) do print(r) end
print()
print("Targets parlua / Numba: wealth and pi ≤ 0.5, grid ≤ 0.7, grid fastmath ≤ 0.2; "
  .. "cold whole process < 1.")
