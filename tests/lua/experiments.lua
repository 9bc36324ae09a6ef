-- experiments.lua: the seed experiments (scripts/*.lua) and their bench
-- batch, run as a user runs them: child processes of PARLUA_BIN at small
-- sizes, their printed results and files checked against NumPy (when
-- /usr/bin/python3 has it) and against each other (serial == parallel,
-- any thread count, native == Lua mode, bit for bit).
local T = require "common"

local bin = assert(os.getenv("PARLUA_BIN"), "PARLUA_BIN is not set")
local root = arg[0]:match("^(.*)/tests/lua/[^/]*$") or "."
local threads = par.threads()
local readfile = T.readfile

-- A fresh folder, removed when the script ends, also on error.
local tmpdir = T.tmpdir()
local _ <close> = setmetatable({}, {__close = function() T.rmtree(tmpdir) end})

-- Runs 'script' (a path under scripts/) with arguments in a child parlua
-- on 't' threads; opts: cwd, env (a prefix such as "SEED_SCALE=0.01"),
-- here (run in the script's folder, naming it without one, as
-- `cd scripts && parlua wealth.lua`). Returns the exit status, stdout and stderr.
local function run(t, script, args, opts)
  opts = opts or {}
  local path, cwd = root .. "/scripts/" .. script, opts.cwd or tmpdir
  if opts.here then cwd, path = path:match("^(.*)/([^/]*)$") end
  local words = {bin, "-t", t, path}
  for _, a in ipairs(args or {}) do words[#words + 1] = a end
  for i, w in ipairs(words) do words[i] = T.q(w) end
  local cmd = string.format("cd %s && %s %s", T.q(cwd), opts.env or "", table.concat(words, " "))
  local status, out, err = T.run(cmd)
  return status == 0, out, err, cmd
end

-- As run, but the script must succeed; returns its stdout.
local function must(t, script, args, opts)
  local ok, out, err, cmd = run(t, script, args, opts)
  if not ok then error("command failed: " .. cmd .. "\n" .. out .. err, 2) end
  return out
end

local has_numpy = T.has_numpy()
if not has_numpy then print("(numpy not found: comparisons with NumPy skipped)") end
local py = T.python

local function num(s, what)
  local v = tonumber(s)
  if v == nil then error("no number for " .. what .. " in the output", 2) end
  return v
end


print("testing wealth.lua")
do
  local n, periods = 20000, 200
  local function medians(t, args)
    local out = must(t, "wealth.lua", args)
    local seed = args[#args - 1] == "--seed" and args[#args] or 42
    assert(out:find("seed " .. seed .. ",", 1, true), "the seed is printed")
    return out:match("\nserial%s+median wealth = (%S+)"),
           out:match("\nparallel median wealth = (%S+)"), out
  end
  local size = {"--households", n, "--periods", periods}
  local s, p, out = medians(threads, size)
  assert(s and s == p, "serial and parallel medians differ:\n" .. out)
  assert(out:find("speed-up on " .. threads .. " threads", 1, true))
  -- the same bits on 3 threads (blocks handed out differently)
  local _, p3 = medians(3, {"--households", n, "--periods", periods, "--only", "parallel"})
  assert(p3 == s, "median on 3 threads " .. tostring(p3) .. " vs " .. s)
  -- Lua mode and native code print the same median
  local small = {"--households", 3000, "--periods", periods}
  local sn = medians(threads, small)
  table.move({"--mode", "lua"}, 1, 2, #small + 1, small)
  local sl, pl = medians(threads, small)
  assert(sl == sn and pl == sn, "Lua mode " .. tostring(sl) .. " vs native " .. sn)
  -- another seed, other numbers
  local so = medians(threads, {"--households", 3000, "--periods", 50, "--seed", 7})
  assert(so ~= sn)

  if has_numpy then
    -- The same model simulated by NumPy (its own random numbers): the two
    -- medians agree within 4 standard errors of their difference, from the
    -- density at the median estimated by the 45% and 55% quantiles.
    local ref = py([[
import sys
import numpy as np
n, T = int(sys.argv[1]), int(sys.argv[2])
g = np.random.Generator(np.random.PCG64(20240611))
w = np.ones(n)
for _ in range(T):
    R = np.exp(0.1 * g.standard_normal(n)) * (1 + 0.1)
    y = np.exp(1.0 * g.standard_normal(n))
    w = R * 0.3 * w + y
q = np.quantile(w, [0.45, 0.5, 0.55])
print(repr(q[1]), repr(0.5 * (q[2] - q[0]) / 0.1 / np.sqrt(n)))
]], n, periods)
    local m, se = ref:match("^(%S+) (%S+)")
    m, se = num(m, "numpy median"), num(se, "standard error")
    local diff = math.abs(num(s, "median") - m)
    assert(se > 0 and se < 0.05)
    assert(diff <= 4 * math.sqrt(2) * se, string.format(
      "median %s vs NumPy %.6f: %.2f standard errors", s, m, diff / (math.sqrt(2) * se)))
  end
end


print("testing pi.lua")
do
  local function estimates(t, args)
    local out = must(t, "pi.lua", args)
    return out:match("\nserial%s+pi = (%S+)"), out:match("\nparallel pi = (%S+)"), out
  end
  local n = 2000000
  local s, p, out = estimates(threads, {"--points", n})
  assert(s and s == p, "serial and parallel differ:\n" .. out)
  local q = math.pi / 4
  local se = 4 * math.sqrt(q * (1 - q) / n)
  local err = math.abs(num(s, "pi") - math.pi)
  assert(err <= 4 * se, string.format("pi %s is %.1f standard errors off", s, err / se))
  assert(out:find("standard error", 1, true))
  local _, p3 = estimates(3, {"--points", n})
  assert(p3 == s, "pi on 3 threads " .. tostring(p3) .. " vs " .. s)
  local sn = estimates(threads, {"--points", 200000})
  local sl, pl = estimates(threads, {"--points", 200000, "--mode", "lua"})
  assert(sl == sn and pl == sn, "Lua mode " .. tostring(sl) .. " vs native " .. sn)
end


print("testing grid_max.lua")
do
  local names = {"eager arrays", "vectorize serial", "vectorize parallel", "mapreduce"}
  local function maxima(args)
    local out = must(threads, "grid_max.lua", args)
    local v = {}
    for i, name in ipairs(names) do
      local text = out:match("\n" .. name .. "%s+(%S+)%s")
      v[i] = num(text, name)
      assert(out:find("per loop", 1, true))
    end
    return v, out
  end

  -- The exact maxima over n x n grids: NumPy's values (pow and libm's cos
  -- are bit-exact in Python floats) at the points where NumPy's vectorised
  -- cos comes within 1e-12 of its maximum.
  local cases = {{600, "auto"}, {200, "lua"}}
  local ref = {}
  if has_numpy then
    local out = py([[
import math, sys
import numpy as np
for n in sys.argv[1:]:
    g = np.linspace(-3, 3, int(n))
    x, y = np.meshgrid(g, g)
    z = np.cos(x**2 + y**2) / (1 + x**2 + y**2)
    best = -math.inf
    for i, j in zip(*np.nonzero(z >= z.max() - 1e-12)):
        a, b = float(x[i, j]), float(y[i, j])
        best = max(best, math.cos(a**2 + b**2) / (1 + a**2 + b**2))
    print(repr(best))
]], cases[1][1], cases[2][1])
    for v in out:gmatch("%S+") do ref[#ref + 1] = num(v, "numpy grid max") end
    assert(#ref == #cases)
  end

  for k, case in ipairs(cases) do
    local n, mode = case[1], case[2]
    local v, out = maxima({"--size", n, "--mode", mode})
    assert(out:find(n .. " x " .. n .. " grid", 1, true))
    -- strict variants: math.cos (libm), the same bits however they run
    assert(v[2] == v[3] and v[3] == v[4], out)
    assert(math.abs(v[1] - v[4]) <= 1e-15 * v[4], out)
    if ref[k] then
      assert(v[4] == ref[k], string.format("%s mode, n = %d: %.17g vs NumPy %.17g",
        mode, n, v[4], ref[k]))
    end
  end

  -- the lecture's value on its 5000 x 5000 grid, without building the
  -- meshgrid (25 million points in a few tenths of a second)
  local n = 5000
  local g = par.linspace(-3, 3, n)
  local function f(k)
    local a, b = g[(k - 1) % n + 1], g[(k - 1) // n + 1]
    return math.cos(a ^ 2 + b ^ 2) / (1 + a ^ 2 + b ^ 2)
  end
  assert(par.preduce("max", n * n, f) == 0.9999992797121728)
end


print("testing plots")
do
  -- width and height of a PNG file's IHDR, or nil
  local function pngsize(s)
    if s:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
    local len, kind, w, h = string.unpack(">I4c4I4I4", s, 9)
    if len ~= 13 or kind ~= "IHDR" then return nil end
    return w, h
  end

  -- Whether the tags of an SVG text balance: every element opened is
  -- closed in order; declarations, comments and CDATA are skipped.
  local function balanced(s)
    local stack, pos = {}, 1
    while true do
      local a = s:find("<", pos, true)
      if not a then return #stack == 0 end
      local b
      if s:sub(a, a + 3) == "<!--" then b = select(2, s:find("-->", a, true))
      elseif s:sub(a, a + 8) == "<![CDATA[" then b = select(2, s:find("]]>", a, true))
      else b = s:find(">", a, true) end
      if not b then return false end
      local tag = s:sub(a, b)
      local close, name = tag:match("^<(/?)([%w_:%-]+)")
      if name and close == "/" then
        if table.remove(stack) ~= name then return false end
      elseif name and not tag:find("/>$") then
        stack[#stack + 1] = name
      elseif not name and not tag:find("^<[?!]") then
        return false
      end
      pos = b + 1
    end
  end

  local function checkpng(path)
    local s = readfile(path)
    assert(s, path .. " was not written")
    assert(#s > 1024, path .. " is too small")
    local w, h = pngsize(s)
    assert(w and w > 0 and h > 0, path .. " is not a PNG")
  end

  if os.execute("command -v gnuplot >/dev/null 2>&1") ~= true then
    local ok, _, err = run(threads, "wealth_path.lua", {"--output", tmpdir .. "/x.png"},
      {env = "PARLUA_GNUPLOT=/nonexistent/gnuplot"})
    assert(not ok and err:find("gnuplot-nox", 1, true))
    print("(gnuplot not found: pictures not checked)")
  else
    local png, svg = tmpdir .. "/path.png", tmpdir .. "/path.svg"
    assert(must(threads, "wealth_path.lua", {"--output", png}):find("plot: " .. png, 1, true))
    checkpng(png)
    must(threads, "wealth_path.lua", {"--periods", 50, "--output", svg})
    local s = readfile(svg)
    assert(s and #s > 1024, "the SVG is missing or too small")
    assert(s:find("^%s*<%?xml") or s:find("^%s*<svg"))
    assert(s:find("<svg", 1, true) and balanced(s), "the SVG is not well formed")
    for _, label in ipairs{">period<", ">wealth<", ">Wealth of one household<"} do
      assert(s:find(label, 1, true), "the SVG has no " .. label)
    end
    -- wealth.lua --plot writes wealth_hist.png in the current folder
    local out = must(threads, "wealth.lua", {"--households", 2000, "--periods", 50, "--plot"})
    assert(out:find("histogram: wealth_hist.png", 1, true))
    checkpng(tmpdir .. "/wealth_hist.png")
    -- a bad output name is an error naming it
    local ok, _, err = run(threads, "wealth_path.lua", {"--output", tmpdir .. "/x.gif"})
    assert(not ok and err:find("x.gif", 1, true))
  end
end


print("testing options")
do
  local all = {"wealth.lua", "wealth_path.lua", "pi.lua", "grid_max.lua", "eigvals.lua",
               "bench/seed.lua", "bench/compare.lua"}
  for _, script in ipairs(all) do
    local ok, out = run(threads, script, {"--help"})
    assert(ok and out:find("usage:", 1, true), script .. " --help")
    local ok2, _, err = run(threads, script, {"--bogus"})
    assert(not ok2 and err:find("--bogus", 1, true), script .. " --bogus")
  end
  local ok, _, err = run(threads, "wealth.lua", {"--households", "many"})
  assert(not ok and err:find("'--households' expects an integer", 1, true))
  ok, _, err = run(threads, "pi.lua", {"--points"})
  assert(not ok and err:find("needs a value", 1, true))
end

print("testing the bench batch")
do
  local parsecsv, parsejson, json_null = T.csv_decode, T.json_decode, T.json_null

  -- the test's parsers on known text
  assert(#parsecsv('a,"b,""c"""\n1,2\n')[1] == 2 and parsecsv('a,"b,""c"""\n')[1][2] == 'b,"c"')
  T.checkerror("JSON", parsejson, '{"a": [1, 2,]}')
  T.checkerror("trailing", parsejson, '{} x')
  local j = parsejson('{"a": [1, 2.5, null, "x\\"y"], "b": {"c": true}}')
  assert(j.a[1] == 1 and j.a[2] == 2.5 and j.a[3] == json_null and j.a[4] == 'x"y' and j.b.c)

  local csv, jsonf = tmpdir .. "/seed.csv", tmpdir .. "/seed.json"
  local out = must(threads, "bench/seed.lua",
    {"--threads", "1,2", "--repeats", 1, "--csv", csv, "--json", jsonf},
    {env = "SEED_SCALE=0.01"})
  assert(out:find("speedup", 1, true) and out:find("efficiency", 1, true))
  local rows = parsecsv(assert(readfile(csv), "no CSV"))
  local header = rows[1]
  local col = {}
  for i, name in ipairs(header) do col[name] = i end
  for _, name in ipairs{"case", "threads", "median_s", "min_s", "max_s", "speedup",
                        "efficiency", "result", "consistent", "cpu", "cores"} do
    assert(col[name], "the CSV has no column " .. name)
  end
  local expected = {
    ["wealth prange"] = 2, ["pi preduce"] = 2, ["grid eager"] = 2,
    ["grid mapreduce"] = 2, ["eigvals loop"] = 1, ["eigvals prange"] = 2,
  }
  local seen, first = {}, {}
  for r = 2, #rows do
    local row = rows[r]
    assert(#row == #header, "CSV row " .. r .. " has " .. #row .. " fields")
    local case = row[col.case]
    assert(expected[case], "unexpected case " .. case)
    seen[case] = (seen[case] or 0) + 1
    for _, k in ipairs{"median_s", "min_s", "max_s", "speedup", "efficiency"} do
      assert(num(row[col[k]], k) > 0)
    end
    assert(row[col.consistent] ~= "false", "case '" .. case .. "' gave other results on "
      .. row[col.threads] .. " threads")
    -- deterministic results: the same text on every thread count
    if row[col.consistent] == "true" then
      first[case] = first[case] or row[col.result]
      assert(row[col.result] == first[case], case)
    end
  end
  for case, count in pairs(expected) do assert(seen[case] == count, case) end
  assert(num(first["pi preduce"], "pi") > 3.1 and num(first["pi preduce"], "pi") < 3.2)

  local res = parsejson(assert(readfile(jsonf), "no JSON"))
  assert(res.name == "seed" and res.repeats == 1 and type(res.date) == "string")
  for _, k in ipairs{"cpu", "cores", "os", "compiler", "parlua", "lua"} do
    assert(res.machine[k] ~= nil, "the JSON has no machine." .. k)
  end
  assert(#res.rows == #rows - 1)
  for i, row in ipairs(res.rows) do
    local c = rows[i + 1]
    assert(row.case == c[col.case] and row.threads == math.tointeger(c[col.threads]))
    assert(row.median == tonumber(c[col.median_s]) and #row.times == 1)
  end

  -- one wealth model (scripts/models/wealth.lua), found from the scripts'
  -- own folders: at the batch's size (500 households, 1000 periods, seed
  -- 42) wealth.lua, compare.lua's worker and the batch run by run.lua print
  -- the batch's median
  local median = num(first["wealth prange"], "batch median")
  out = must(threads, "wealth.lua", {"--households", 500, "--only", "parallel"}, {here = true})
  assert(num(out:match("\nparallel median wealth = (%S+)"), "median") == median, out)
  out = must(threads, "bench/compare.lua",
    {"--worker", "wealth-parallel", "--scale", 0.01, "--reps", 1}, {here = true})
  assert(num(out:match("^result (%S+)"), "result") == median, out)
  must(threads, "bench/run.lua", {"seed.lua", "--filter", "^wealth", "--threads", 1,
    "--repeats", 1, "--csv", csv, "--json", jsonf}, {env = "SEED_SCALE=0.01", here = true})
  res = parsejson(assert(readfile(jsonf), "no JSON"))
  assert(#res.rows == 1 and res.rows[1].result == median)
end


print("testing eigvals.lua")
do
  local n, count, seed = 120, 3, 1234
  local function radii(t)
    local out = must(t, "eigvals.lua", {"--count", count, "--size", n, "--seed", seed})
    return out:match("\nloop%s+largest |eigenvalue| = (%S+)"),
           out:match("\nparallel largest |eigenvalue| = (%S+)"), out
  end
  local l, p, out = radii(threads)
  assert(l and l == p, "loop and parallel differ:\n" .. out)
  local l3 = radii(3)
  assert(l3 == l, "spectral radius on 3 threads " .. tostring(l3) .. " vs " .. l)
  -- circular law: the spectral radius of an n x n standard normal matrix
  -- is close to sqrt(n)
  local r = num(l, "radius")
  assert(r > 0.9 * math.sqrt(n) and r < 1.3 * math.sqrt(n))

  if has_numpy then
    -- iteration i's matrix, replayed from its stream, saved for NumPy
    local paths, mine, top = {}, {}, 0
    for i = 1, count do
      local a = par.stream(seed, i):standard_normal({n, n})
      paths[i] = string.format("%s/m%d.npy", tmpdir, i)
      a:save(paths[i])
      local re, im = par.linalg.eigvals(a)
      local ev = {}
      for k = 1, n do
        ev[k] = {re[k], im[k]}
        top = math.max(top, math.sqrt(re[k] ^ 2 + im[k] ^ 2))
      end
      mine[i] = ev
    end
    assert(math.abs(top - r) <= 1e-10 * r, string.format("replayed radius %.17g vs %s", top, l))
    local out_py = py([[
import sys
import numpy as np
for path in sys.argv[1:]:
    for z in np.linalg.eigvals(np.load(path)):
        print(repr(float(z.real)), repr(float(z.imag)))
]], table.unpack(paths))
    local ref, i, k = {{}}, 1, 0
    for re, im in out_py:gmatch("(%S+) (%S+)\n") do
      if k == n then i, k = i + 1, 0; ref[i] = {} end
      k = k + 1
      ref[i][k] = {num(re, "re"), num(im, "im")}
    end
    assert(#ref == count and #ref[count] == n, "NumPy printed too few eigenvalues")
    local function byparts(a, b)
      if a[1] ~= b[1] then return a[1] < b[1] end
      return a[2] < b[2]
    end
    for m = 1, count do
      table.sort(mine[m], byparts)
      table.sort(ref[m], byparts)
      for k2 = 1, n do
        local a, b = mine[m][k2], ref[m][k2]
        local d = math.sqrt((a[1] - b[1]) ^ 2 + (a[2] - b[2]) ^ 2)
        local scale = math.max(1, math.sqrt(b[1] ^ 2 + b[2] ^ 2))
        assert(d <= 1e-10 * scale, string.format("matrix %d, eigenvalue %d: %.17g%+.17gi vs"
          .. " NumPy %.17g%+.17gi", m, k2, a[1], a[2], b[1], b[2]))
      end
    end
  end
end


print("OK")
