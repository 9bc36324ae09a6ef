-- The seed experiments in parlua against the lecture's NumPy and Numba
-- programs (../shared/anchors), measured in the same run:
--   parlua scripts/bench/compare.lua [--pairs 3] [--threads 2] [--only wealth,grid-eager]
--                                    [--scale 0.1] [--reps 3]
-- Each benchmark runs a parlua process and a peer process in alternating
-- pairs (parlua first in odd pairs, the peer first in even ones). Both time
-- their kernel in-process, steady state: one untimed call (where the JIT
-- compiles), then 'reps' timed calls, and report the median. The table
-- gives the medians over the pairs and the median (min, max) of the pair
-- ratios parlua/peer; below 1 parlua is faster. Without python3-numba the
-- NumPy programs alone are compared.
-- Env: PARLUA_ANCHORS (default <repo>/../shared/anchors), PYTHON
-- (/usr/bin/python3). Worker mode (internal): --worker CASE.
local U = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/util.lua")

local opts = require("par.args").parse(arg, {
  {"pairs", 3, "alternating parlua/peer pairs per benchmark"},
  {"threads", 2, "threads of both sides (Numba, OpenMP, OpenBLAS, parlua)"},
  {"only", "", "comma list of benchmarks, or of their first words (wealth, pi, grid,"
    .. " eigvals), to run; default all"},
  {"scale", "1", "size factor in (0, 1]: households, points and matrix count scale"
    .. " with it, grid and matrix sides with its square root"},
  {"reps", 3, "timed calls per process (eigvals: 1, its loop is long)"},
  {"worker", "", "internal: run one parlua case in this process and print its timing"},
}, "parlua scripts/bench/compare.lua [options]\nbenchmarks: wealth-serial,"
  .. " wealth-parallel, pi-serial, pi-parallel, grid-eager, grid-vectorize,"
  .. " grid-mapreduce, eigvals-loop, eigvals-prange")

local fmt = string.format

----------------------------------------------------------------------------
-- Sizes (as scripts/bench/seed.lua at the same scale)
----------------------------------------------------------------------------

local scale = tonumber(opts.scale)
if not (scale and scale > 0 and scale <= 1) then
  error(fmt("option '--scale' expects a number in (0, 1], got '%s'", opts.scale), 0)
end
local size = {
  households = math.max(100, math.floor(50000 * scale)), periods = 1000,
  points = math.max(10000, math.floor(1e8 * scale)),
  grid = math.max(100, math.floor(5000 * math.sqrt(scale))),
  matrices = math.max(2, math.floor(20 * scale)),
  msize = math.max(50, math.floor(1000 * math.sqrt(scale))),
}

local median = U.median

----------------------------------------------------------------------------
-- parlua's side: the kernels of scripts/*.lua, one per worker process
----------------------------------------------------------------------------

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local household = dofile(here .. "/../models/wealth.lua").household(size.periods)

local function inside(i)
  local x, y = par.random(), par.random()
  return (x * x + y * y < 1) and 1 or 0
end

local function f(a, b)
  return math.cos(a ^ 2 + b ^ 2) / (1 + a ^ 2 + b ^ 2)
end

local function meshgrid()
  local g = par.linspace(-3, 3, size.grid)
  return par.meshgrid(g, g)
end

local function radius(i)
  local re, im = par.linalg.eigvals(par.randn({size.msize, size.msize}))
  return par.sqrt(re * re + im * im):max()
end

-- Each case: setup() returns the state; run(state) one timed call.
local cases = {
  ["wealth-serial"] = {run = function()
    return par.prange(size.households, household, {seed = 42, parallel = false}):median() end},
  ["wealth-parallel"] = {run = function()
    return par.prange(size.households, household, {seed = 42}):median() end},
  ["pi-serial"] = {run = function()
    return 4 * par.preduce("+", size.points, inside, {seed = 42, parallel = false}) / size.points end},
  ["pi-parallel"] = {run = function()
    return 4 * par.preduce("+", size.points, inside, {seed = 42}) / size.points end},
  ["grid-eager"] = {setup = meshgrid, run = function(x, y)
    return (par.cos(x ^ 2 + y ^ 2) / (1 + x ^ 2 + y ^ 2)):max() end},
  ["grid-vectorize"] = {setup = function()
    local x, y = meshgrid()
    return x, y, par.vectorize(f)
  end, run = function(x, y, vf) return vf(x, y):max() end},
  ["grid-mapreduce"] = {setup = meshgrid, run = function(x, y)
    return par.mapreduce("max", f, x, y) end},
  -- the lecture's NumPy loop: matrices drawn one after the other, OpenBLAS
  -- threads inside each eigvals call; no warm-up, as the peer
  ["eigvals-loop"] = {cold = true, run = function()
    local g, best = par.rng(1234), 0
    for _ = 1, size.matrices do
      local re, im = par.linalg.eigvals(g:standard_normal({size.msize, size.msize}))
      best = math.max(best, par.sqrt(re * re + im * im):max())
    end
    return best
  end},
  ["eigvals-prange"] = {cold = true, run = function()
    return par.prange(size.matrices, radius, {seed = 1234, mode = "lua"}):max() end},
}

-- Worker mode: times one case and prints "result V" and "median T".
local function worker(name)
  local c = cases[name] or error(fmt("unknown case '%s'", name), 0)
  local state = table.pack((c.setup or function() end)())
  local reps = c.cold and 1 or opts.reps
  local v
  if not c.cold then v = c.run(table.unpack(state, 1, state.n)) end
  local times = {}
  for k = 1, reps do
    collectgarbage()
    local t0 = par.clock()
    v = c.run(table.unpack(state, 1, state.n))
    times[k] = par.clock() - t0
  end
  print(fmt("result %.17g", v))
  print(fmt("median %.6f", median(times)))
end

if opts.worker ~= "" then
  worker(opts.worker)
  return
end

----------------------------------------------------------------------------
-- The peers: the anchors' programs, their sizes set by env or, for those
-- with fixed sizes, in a copy of their source
----------------------------------------------------------------------------

local anchors = os.getenv("PARLUA_ANCHORS") or here .. "/../../../shared/anchors"
local python = os.getenv("PYTHON") or "/usr/bin/python3"

local shquote = U.quote

-- The parlua binary running this script (the first word of its command line).
local parlua = os.getenv("PARLUA_BIN")
if not parlua then
  local i = 0
  while arg[i - 1] do i = i - 1 end
  parlua = arg[i]
end

local tmpfiles = {}

-- Path of anchor 'file' with the literal texts of 'subst' replaced (each
-- must occur once), or of the file itself when there is nothing to replace.
local function anchor(file, subst)
  local path = anchors .. "/" .. file
  if not subst or next(subst) == nil then return path end
  local src = assert(io.open(path, "r"), "cannot open " .. path)
  local text = src:read("a")
  src:close()
  for from, to in pairs(subst) do
    local a, b = text:find(from, 1, true)
    if not a or text:find(from, b + 1, true) then
      error(fmt("%s: expected '%s' once, to resize it", path, from), 0)
    end
    text = text:sub(1, a - 1) .. to .. text:sub(b + 1)
  end
  local copy = os.tmpname() .. ".py"
  tmpfiles[#tmpfiles + 1] = copy
  local out = assert(io.open(copy, "w"))
  out:write(text)
  out:close()
  return copy
end

local function gridsubst()
  if size.grid == 5000 then return nil end
  return {["np.linspace(-3, 3, 5000)"] = fmt("np.linspace(-3, 3, %d)", size.grid)}
end

local function eigsubst()
  local t = {}
  if size.matrices ~= 20 then t["range(20)"] = fmt("range(%d)", size.matrices) end
  if size.msize ~= 1000 then
    t["np.random.randn(1000, 1000)"] = fmt("np.random.randn(%d, %d)", size.msize, size.msize)
  end
  return t
end

local steady = "steady%-state:? best=%S+s median=(%S+)s"

-- Peers: the command (env and program), the pattern of the median time and
-- that of the result in its output, and the library it needs.
local function peers()
  -- A Numba anchor run with WHICH=serial or parallel: its lines start with
  -- that word, padded ("serial  : ", "parallel: "); 'lead' precedes the
  -- timing, 'result' is the pattern of the result.
  local function numba(which, file, env, lead, result)
    local tag = fmt("%-8s: ", which)
    return {lib = "numba", file = file, env = fmt("WHICH=%s %s", which, env),
      name = which == "serial" and "Numba njit" or "Numba njit(parallel) prange",
      time = tag .. lead .. steady, result = tag .. result}
  end
  local median_wealth = "median wealth = (%S+)"
  local wealth = fmt("T=%d NUM_REPS=%d REPS=%d", size.periods, size.households, opts.reps)
  local pi = fmt("NS=%d REPS=%d", size.points, opts.reps)
  local vectorize = {lib = "numba", name = "Numba vectorize(parallel)",
    env = "REPS=" .. opts.reps, file = "p4_numba_vectorize_parallel.py",
    subst = gridsubst(), time = steady, result = "max f = ([^%s,]+)"}
  local eigvals = {lib = "numpy", name = "NumPy + OpenBLAS",
    env = "REPS=1", file = "p1_eigvals.py", subst = eigsubst(),
    time = "loop %(randn%+eigvals%): min=%S+s median=(%S+)s",
    result = "last matrix = (%S+)"}
  return {
    ["wealth-serial"] = numba("serial", "wealth_numba.py", wealth, ".-", median_wealth),
    ["wealth-parallel"] = numba("parallel", "wealth_numba.py", wealth, ".-", median_wealth),
    ["pi-serial"] = numba("serial", "pi_numba.py", pi, "n=.-", "n=%s*%d+ pi~(%S+)"),
    ["pi-parallel"] = numba("parallel", "pi_numba.py", pi, "n=.-", "n=%s*%d+ pi~(%S+)"),
    ["grid-eager"] = {lib = "numpy", name = "NumPy arrays",
      env = "REPS=" .. opts.reps, file = "p2_numpy_fmax.py", subst = gridsubst(),
      time = "np%.max%(f%(x,y%)%) " .. steady, result = "max f = ([^%s,]+)"},
    ["grid-vectorize"] = vectorize,
    ["grid-mapreduce"] = vectorize,
    ["eigvals-loop"] = eigvals,
    ["eigvals-prange"] = eigvals,
  }
end

local order = {"wealth-serial", "wealth-parallel", "pi-serial", "pi-parallel", "grid-eager",
               "grid-vectorize", "grid-mapreduce", "eigvals-loop", "eigvals-prange"}

local labels = {
  ["wealth-serial"] = fmt("wealth %d x %d, serial", size.households, size.periods),
  ["wealth-parallel"] = fmt("wealth %d x %d, parallel", size.households, size.periods),
  ["pi-serial"] = fmt("pi %d points, serial", size.points),
  ["pi-parallel"] = fmt("pi %d points, parallel", size.points),
  ["grid-eager"] = fmt("grid max %d^2, eager arrays", size.grid),
  ["grid-vectorize"] = fmt("grid max %d^2, vectorize parallel", size.grid),
  ["grid-mapreduce"] = fmt("grid max %d^2, mapreduce (fused)", size.grid),
  ["eigvals-loop"] = fmt("eigvals %d x %d^2, loop", size.matrices, size.msize),
  ["eigvals-prange"] = fmt("eigvals %d x %d^2, prange", size.matrices, size.msize),
}

----------------------------------------------------------------------------
-- Running the pairs
----------------------------------------------------------------------------

-- Output of a shell command; raises with it when the command fails.
local run = U.run

local function firstline(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local line = p and p:read("l")
  if p then p:close() end
  return line
end

local function pyversion(module)
  return firstline(fmt("%s -c 'import %s; print(%s.__version__)'", python, module, module))
end

local function loadavg()
  return firstline("cut -d' ' -f1-3 /proc/loadavg") or "?"
end

local threads_env = fmt("NUMBA_NUM_THREADS=%d OMP_NUM_THREADS=%d OPENBLAS_NUM_THREADS=%d",
  opts.threads, opts.threads, opts.threads)

local function parlua_cmd(name)
  return fmt("env -u OPENBLAS_NUM_THREADS %s -t %d %s --worker %s --reps %d --scale %.17g",
    shquote(parlua), opts.threads, shquote(arg[0]), name, opts.reps, scale)
end

local function peer_cmd(p)
  return fmt("env %s %s %s %s", threads_env, p.env, shquote(python),
    shquote(anchor(p.file, p.subst)))
end

local function field(out, pattern, what, cmd)
  local v = out:match(pattern)
  if v == nil then error(fmt("no %s in the output of %s:\n%s", what, cmd, out), 0) end
  return v
end

-- Runs the pairs of benchmark 'name'; returns its table row.
local function bench(name, p)
  local a_cmd, b_cmd = parlua_cmd(name), peer_cmd(p)
  local ta, tb, ratios, ra, rb = {}, {}, {}, nil, nil
  for k = 1, opts.pairs do
    local function side_a()
      local out = run(a_cmd)
      ta[k] = tonumber(field(out, "median (%S+)", "median", a_cmd))
      ra = field(out, "result (%S+)", "result", a_cmd)
    end
    local function side_b()
      local out = run(b_cmd)
      tb[k] = tonumber(field(out, p.time, "median", b_cmd))
      rb = field(out, p.result, "result", b_cmd)
    end
    if k % 2 == 1 then side_a(); side_b() else side_b(); side_a() end
    ratios[k] = ta[k] / tb[k]
    io.stderr:write(fmt("%s: pair %d/%d: parlua %.4f s, %s %.4f s\n", name, k, opts.pairs,
      ta[k], p.name, tb[k]))
  end
  local rs = {table.unpack(ratios)}
  table.sort(rs)
  return fmt("| %s | %s | %.4f | %.4f | **%.2f** (%.2f – %.2f) | %s / %s |",
    labels[name], p.name, median(ta), median(tb), median(ratios), rs[1], rs[#rs], ra, rb)
end

-- The benchmarks named by --only (a name or its first word), in table order.
local function selected()
  if opts.only == "" then return order end
  local want = {}
  for word in opts.only:gmatch("[^,%s]+") do
    local found = false
    for _, name in ipairs(order) do
      if name == word or name:sub(1, #word + 1) == word .. "-" then
        want[name], found = true, true
      end
    end
    if not found then
      error(fmt("option '--only': unknown benchmark '%s' (one of %s)", word,
        table.concat(order, ", ")), 0)
    end
  end
  local list = {}
  for _, name in ipairs(order) do
    if want[name] then list[#list + 1] = name end
  end
  return list
end

local function main()
  if opts.pairs < 1 or opts.threads < 1 or opts.reps < 1 then
    error("options '--pairs', '--threads' and '--reps' must be positive", 0)
  end
  local list = selected()
  local have = {numpy = pyversion("numpy"), numba = pyversion("numba")}
  if not have.numpy then
    error(fmt("%s has no NumPy: install python3-numpy (and python3-numba)", python), 0)
  end
  if not have.numba then
    print("python3-numba is not installed (apt-get install python3-numba):"
      .. " comparing with NumPy only")
  end
  local m = require("par.bench").machine()
  local load0 = loadavg()
  print(fmt("parlua %s vs NumPy %s, Numba %s on %s, %d cores; %d threads each side,"
    .. " %d pairs, %d timed calls per process, scale %g", par.version, have.numpy,
    have.numba or "-", m.cpu, m.cores, opts.threads, opts.pairs, opts.reps, scale))
  io.stdout:flush()
  local rows = {}
  for _, name in ipairs(list) do
    local p = peers()[name]
    if have[p.lib] then rows[#rows + 1] = bench(name, p) end
  end
  print(fmt("load average: %s at the start, %s at the end\n", load0, loadavg()))
  print("| benchmark | peer | parlua [s] | peer [s] | parlua/peer (min – max) | results parlua / peer |")
  print("|---|---|---|---|---|---|")
  for _, row in ipairs(rows) do print(row) end
  print("\nSteady state, in-process: median of each process's timed calls, then median"
    .. " over the pairs; ratio: median of the per-pair ratios (below 1: parlua is faster).")
end

local ok, err = pcall(main)
for _, path in ipairs(tmpfiles) do os.remove(path) end
if not ok then error(err, 0) end
