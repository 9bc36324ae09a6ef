-- par.bench: runs a batch of named benchmark cases across thread counts,
-- prints a table and writes CSV and JSON with the machine description.
--
-- A batch is a table, or a Lua file returning one:
--
--   return require("par.bench").batch{   -- or simply: return {...}
--     name = "seed",              -- required; names the output files
--     threads = {1, 2, 4},        -- default: 1, 2, 4, ... below the core
--                                 -- count, then the core count
--     repeats = 5,                -- timed samples per case and thread count
--     cases = {
--       {name = "pi serial", threads = {1},
--        run = function() return pi(1e7, false) end},
--       {name = "pi",
--        setup = function() return 1e7 end,   -- optional, untimed, once;
--        run = function(n) return pi(n) end,  -- gets what setup returned
--        loops = 1,               -- calls per sample (default 1)
--        deterministic = true,    -- every call must return the same result
--        baseline = "pi serial"}, -- speed-up against that case
--     },
--   }
--
-- Each case runs at each thread count of its sweep (its own 'threads', else
-- the batch's, else the default) in increasing order, under
-- par.set_threads(t); the previous count is restored afterwards, also on
-- error. Per case and thread count: one untimed warm-up call (kernels
-- compile there), then 'repeats' samples, each a full garbage collection
-- followed by 'loops' calls timed with par.clock, divided by 'loops'.
--
-- Reported per case and thread count:
--   median, min, max  of the samples, in seconds (min and max are the spread)
--   speedup     reference median / median, where the reference is the
--               case's (or its 'baseline' case's) median at its smallest
--               thread count, normally 1 thread; a baseline case must be
--               listed before the cases that name it
--   efficiency  speedup * reference threads / threads (1 = perfect scaling)
--   result      what the first timed call returned (number, string, boolean
--               or nothing), so results can be compared across thread
--               counts
--   consistent  for deterministic cases only: false (and "!" before the
--               result, and a warning on stderr) when any call of the row
--               returned other than the case's first call, bitwise
--
-- bench.run(batch or path [, opts]) checks the batch and the options, then
-- runs it, prints the table as rows complete, writes the files and returns
-- the results table
--   {name, date, machine = {cpu, cores, os, compiler, parlua, lua, date},
--    repeats, rows = {{case, threads, loops, median, min, max, speedup,
--    efficiency, result, consistent, times = {...}}, ...},
--    files = {csv = path, json = path, plot = path}}.
-- bench.machine() returns the machine description alone.
-- opts (each overrides the batch):
--   threads   list of thread counts (1 to 4096, as par.set_threads)
--   repeats   samples (positive integer)
--   filter    Lua pattern: run only the cases whose name matches it (and
--             the baselines they name)
--   csv, json output paths (default bench-<name>-<yyyymmdd-hhmmss>.csv and
--             .json in 'out', default the current folder)
--   save      false: write no files        quiet  true: print nothing
--   plot      a .png or .svg path: speed-up against threads, drawn by
--             bench.plot(results, path) through par.plot (needs gnuplot)
-- The CSV has one row per case and thread count, the machine description
-- repeated in its last columns; the JSON holds the whole results table
-- (non-finite numbers as null).
--
-- Errors in the batch or the options (of bench.run, bench.main or a batch
-- file's command line) are raised before any case runs, as
-- "file:line: par.bench: ..." naming the caller's line (none after a tail
-- call such as "return bench.batch{...}"). A case that fails raises
-- "par.bench: case 'name' failed: " and the case's own error.
--
-- From the command line, bench.main(argv) takes the batch file and the
-- options as words (--threads 1,2,4 --repeats N --filter PATTERN --csv PATH
-- --json PATH --out DIR --no-save --plot PATH --quiet --help):
--   parlua seed.lua --threads 1,2   (a file ending in "return bench.batch{...}"
--                                    runs itself when it is the main script)
--   parlua scripts/bench/run.lua batch.lua --repeats 3
--                                   (run.lua: require("par.bench").main(arg))
--   parlua -e 'require("par.bench").main{"batch.lua", "--quiet"}'
local par = require "par"

local M = {}

local fmt, concat = string.format, table.concat

----------------------------------------------------------------------------
-- Small helpers
----------------------------------------------------------------------------

local function fail(msg, ...)
  error("par.bench: " .. fmt(msg, ...), 0)
end

-- f(...)'s result; an error is raised again at the line that called the
-- function calling 'checked' (which must not do so in a tail call).
local function checked(f, ...)
  local ok, v = pcall(f, ...)
  if not ok then error(v, 3) end
  return v
end

local function shquote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- First line printed by a shell command, or nil.
local function firstline(cmd)
  local p = io.popen(cmd .. " 2>/dev/null", "r")
  if not p then return nil end
  local line = (p:read("l") or ""):match("^%s*(.-)%s*$")
  p:close()
  return line ~= "" and line or nil
end

local function isposint(v)
  return math.type(v) == "integer" and v >= 1
end

local MAX_THREADS = 4096   -- as par.set_threads and -t

-- Is path a name par.plot can write (.png or .svg, case ignored)?
local function plotpath(path)
  local ext = path:match("%.(%w+)$")
  ext = ext and ext:lower()
  return ext == "png" or ext == "svg"
end

local function median(sorted)
  local n = #sorted
  if n % 2 == 1 then return sorted[(n + 1) // 2] end
  return 0.5 * (sorted[n // 2] + sorted[n // 2 + 1])
end

-- A value as exact text: integers and floats keep their type and bits.
local function exact(v)
  if math.type(v) == "integer" then return fmt("%d", v) end
  if math.type(v) == "float" then return fmt("%.17g", v) end
  return tostring(v)
end

----------------------------------------------------------------------------
-- Machine description
----------------------------------------------------------------------------

-- /proc/cpuinfo after a newline, so that every line starts with "\n".
local function cpuinfo()
  local f = io.open("/proc/cpuinfo", "r")
  if not f then return "\n" end
  local text = f:read("a")
  f:close()
  return "\n" .. text
end

-- The CPU's name, under the key the architecture uses.
local function cpumodel()
  local text = cpuinfo()
  for _, key in ipairs{"model name", "Hardware", "cpu model", "Processor", "cpu"} do
    local v = text:match("\n" .. key .. "%s*:%s*([^\n]-)%s*\n")
    if v and v ~= "" then return v end
  end
  return firstline("uname -m") or "unknown"
end

-- Processors available to this process (nproc honours the affinity mask).
local function cores()
  local n = math.tointeger(tonumber(firstline("nproc") or ""))
  if n then return n end
  local _, count = cpuinfo():gsub("\nprocessor%s*:", "")
  return count > 0 and count or par.threads()
end

local machine_cache

-- {cpu, cores, os, compiler, parlua, lua}: computed once per process.
function M.machine()
  if not machine_cache then
    local cc = os.getenv("PARLUA_CC") or "cc"
    machine_cache = {
      cpu = cpumodel(), cores = cores(), os = firstline("uname -sr") or "unknown",
      compiler = firstline(shquote(cc) .. " --version") or "unknown",
      parlua = par.version, lua = _VERSION,
    }
  end
  local m = {}
  for k, v in pairs(machine_cache) do m[k] = v end
  return m
end

-- The default sweep: 1, 2, 4, ... below the core count, then the count.
local function default_threads()
  local n, t, out = M.machine().cores, 1, {}
  while t < n do
    out[#out + 1] = t
    t = t * 2
  end
  out[#out + 1] = n
  return out
end

----------------------------------------------------------------------------
-- JSON and CSV
----------------------------------------------------------------------------

local json_escapes = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

-- A JSON string; bytes of invalid UTF-8 are taken as Latin-1.
local function json_string(s)
  s = s:gsub('[%c"\\]', function(c)
    return json_escapes[c] or fmt("\\u%04x", c:byte())
  end)
  if not utf8.len(s) then
    s = s:gsub("[\128-\255]", function(c) return utf8.char(c:byte()) end)
  end
  return '"' .. s .. '"'
end

local encode

-- A table with keys 1..n only (n >= 0) is an array; others are objects
-- with their string keys sorted. Objects and arrays of tables take one
-- line per item.
local function json_table(t, indent)
  local n, count = #t, 0
  for _ in pairs(t) do count = count + 1 end
  local inner, items = indent .. "  ", {}
  if count == n then
    if n == 0 then return "[]" end
    if type(t[1]) ~= "table" then
      for i = 1, n do items[i] = encode(t[i], inner) end
      return "[" .. concat(items, ", ") .. "]"
    end
    for i = 1, n do items[i] = inner .. encode(t[i], inner) end
    return "[\n" .. concat(items, ",\n") .. "\n" .. indent .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then fail("cannot write a %s key to JSON", type(k)) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    items[i] = inner .. json_string(k) .. ": " .. encode(t[k], inner)
  end
  return "{\n" .. concat(items, ",\n") .. "\n" .. indent .. "}"
end

function encode(v, indent)
  local tv = type(v)
  if tv == "nil" then return "null"
  elseif tv == "boolean" then return tostring(v)
  elseif math.type(v) == "integer" then return fmt("%d", v)
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return fmt("%.17g", v)
  elseif tv == "string" then return json_string(v)
  elseif tv == "table" then return json_table(v, indent)
  end
  fail("cannot write a %s to JSON", tv)
end

-- JSON text of v (nil, booleans, numbers, strings, arrays and objects).
function M.json(v)
  return encode(v, "")
end

local function csv_field(v)
  if v == nil then return "" end
  local s = type(v) == "number" and exact(v) or tostring(v)
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local csv_columns = {
  "batch", "case", "threads", "repeats", "loops", "median_s", "min_s", "max_s",
  "speedup", "efficiency", "result", "consistent",
  "cpu", "cores", "os", "compiler", "parlua", "lua", "date",
}

-- CSV text of results r: a header and one line per row.
local function tocsv(r)
  local lines = {concat(csv_columns, ",")}
  for _, row in ipairs(r.rows) do
    local m = r.machine
    local values = {
      r.name, row.case, row.threads, r.repeats, row.loops, row.median, row.min,
      row.max, row.speedup, row.efficiency, row.result, row.consistent,
      m.cpu, m.cores, m.os, m.compiler, m.parlua, m.lua, r.date,
    }
    local fields = {}
    for i = 1, #csv_columns do fields[i] = csv_field(values[i]) end
    lines[#lines + 1] = concat(fields, ",")
  end
  return concat(lines, "\n") .. "\n"
end

local function writefile(path, text)
  local f, err = io.open(path, "wb")
  if not f then fail("cannot write '%s': %s", path, err) end
  f:write(text)
  f:close()
end

----------------------------------------------------------------------------
-- Checking a batch and the options (before anything runs)
----------------------------------------------------------------------------

local function checkthreads(v, what)
  if type(v) ~= "table" or #v == 0 then
    fail("%s must be a non-empty list of positive integers", what)
  end
  local seen, out = {}, {}
  for i, t in ipairs(v) do
    if not isposint(t) then fail("%s[%d] must be a positive integer, got %s", what, i, exact(t)) end
    if t > MAX_THREADS then
      fail("%s[%d] must be at most %d, got %d", what, i, MAX_THREADS, t)
    end
    if not seen[t] then out[#out + 1], seen[t] = t, true end
  end
  table.sort(out)
  return out
end

local case_keys = {
  name = true, run = true, setup = true, loops = true, threads = true,
  deterministic = true, baseline = true,
}

local function checkcase(c, i, seen)
  if type(c) ~= "table" then fail("case %d must be a table, got %s", i, type(c)) end
  if type(c.name) ~= "string" or c.name == "" then fail("case %d has no name", i) end
  local what = fmt("case '%s'", c.name)
  if seen[c.name] then fail("%s appears twice", what) end
  for k in pairs(c) do
    if not case_keys[k] then fail("%s has an unknown field '%s'", what, tostring(k)) end
  end
  if type(c.run) ~= "function" then
    fail("%s: 'run' must be a function, got %s", what, type(c.run))
  end
  if c.setup ~= nil and type(c.setup) ~= "function" then
    fail("%s: 'setup' must be a function, got %s", what, type(c.setup))
  end
  if c.loops ~= nil and not isposint(c.loops) then
    fail("%s: 'loops' must be a positive integer", what)
  end
  if c.baseline ~= nil and not seen[c.baseline] then
    fail("%s: baseline '%s' must name a case listed before it", what, tostring(c.baseline))
  end
  if c.threads ~= nil then checkthreads(c.threads, what .. ": 'threads'") end
  seen[c.name] = true
end

local function checkbatch(b)
  if type(b) ~= "table" then fail("a batch must be a table, got %s", type(b)) end
  if type(b.name) ~= "string" or b.name == "" then fail("the batch has no name") end
  if type(b.cases) ~= "table" or #b.cases == 0 then fail("batch '%s' has no cases", b.name) end
  local seen = {}
  for i, c in ipairs(b.cases) do checkcase(c, i, seen) end
  if b.repeats ~= nil and not isposint(b.repeats) then
    fail("batch 'repeats' must be a positive integer")
  end
  if b.threads ~= nil then checkthreads(b.threads, "batch 'threads'") end
end

local loading = 0

-- The batch table of a path (or the table itself), checked.
local function getbatch(b)
  if type(b) == "string" then
    local chunk, err = loadfile(b)
    if not chunk then fail("cannot load batch: %s", err) end
    loading = loading + 1
    local ok, t = pcall(chunk)
    loading = loading - 1
    if not ok then fail("error loading batch '%s': %s", b, tostring(t)) end
    b = t
  end
  checkbatch(b)
  return b
end

-- The cases to run: those matching 'filter', and the baselines they name.
local function selectcases(b, filter)
  if filter == nil then return b.cases end
  local keep = {}
  for _, c in ipairs(b.cases) do
    local ok, hit = pcall(string.find, c.name, filter)
    if not ok then fail("option 'filter' is not a valid pattern: %s", hit) end
    if hit then
      keep[c.name] = true
      if c.baseline then keep[c.baseline] = true end
    end
  end
  local out, names = {}, {}
  for _, c in ipairs(b.cases) do
    if keep[c.name] then out[#out + 1] = c end
    names[#names + 1] = c.name
  end
  if #out == 0 then fail("no case matches '%s' (cases: %s)", filter, concat(names, ", ")) end
  return out
end

local run_opts = {
  threads = true, repeats = true, filter = true, csv = true, json = true,
  out = true, save = true, quiet = true, plot = true,
}

local function checkopts(o)
  if o == nil then return {} end
  if type(o) ~= "table" then fail("options must be a table, got %s", type(o)) end
  for k in pairs(o) do
    if not run_opts[k] then fail("unknown option '%s'", tostring(k)) end
  end
  if o.threads ~= nil then checkthreads(o.threads, "option 'threads'") end
  if o.repeats ~= nil and not isposint(o.repeats) then
    fail("option 'repeats' must be a positive integer")
  end
  for _, k in ipairs{"csv", "json", "out", "plot", "filter"} do
    if o[k] ~= nil and type(o[k]) ~= "string" then fail("option '%s' must be a string", k) end
  end
  if o.plot and not plotpath(o.plot) then
    fail("option 'plot' must end in .png or .svg, got '%s'", o.plot)
  end
  return o
end

----------------------------------------------------------------------------
-- The table on stdout
----------------------------------------------------------------------------

-- A span in s, ms, µs or ns with 3 significant digits, as par.timeit.
local function fmtime(t)
  if t ~= t then return "-" end
  local units, order = {"s", "ms", "\194\181s", "ns"}, 3
  if t > 0 then order = math.max(0, math.min(3, -math.floor(math.floor(math.log(t, 10)) / 3))) end
  return fmt("%.3g %s", t * 1000 ^ order, units[order + 1])
end

-- s right-aligned in w display columns (UTF-8 aware).
local function rjust(s, w)
  return string.rep(" ", w - (utf8.len(s) or #s)) .. s
end

local function showresult(v)
  if v == nil then return "" end
  if math.type(v) == "float" then return fmt("%.10g", v) end
  local s = tostring(v)
  return #s > 40 and s:sub(1, 37) .. "..." or s
end

local widths = {7, 10, 10, 10, 8, 10}

local function header(r, namew)
  local m = r.machine
  print(fmt("bench '%s': %s, %d cores, %s, %s, parlua %s, %s", r.name, m.cpu, m.cores,
    m.os, m.compiler, m.parlua, m.lua))
  print(fmt("median, min and max of %d samples after a warm-up call; speedup against the"
    .. " case's (or its baseline's) median at its fewest threads", r.repeats))
  local cols = {"threads", "median", "min", "max", "speedup", "efficiency"}
  local line = {fmt("%-" .. namew .. "s", "case")}
  for i, c in ipairs(cols) do line[#line + 1] = rjust(c, widths[i]) end
  line[#line + 1] = "  result"
  print(concat(line, "  "))
end

local function printrow(row, namew)
  local cells = {
    fmt("%-" .. namew .. "s", row.case), tostring(row.threads), fmtime(row.median),
    fmtime(row.min), fmtime(row.max), fmt("%.2f", row.speedup), fmt("%.2f", row.efficiency),
  }
  for i = 2, #cells do cells[i] = rjust(cells[i], widths[i - 1]) end
  cells[#cells + 1] = (row.consistent == false and "! " or "  ") .. showresult(row.result)
  print(concat(cells, "  "))
  io.stdout:flush()
end

----------------------------------------------------------------------------
-- Running
----------------------------------------------------------------------------

-- Runs case c at t threads: a warm-up call, then 'repeats' samples.
-- Returns the row (speed-up left to the caller) and the results of all calls.
local function measure(c, state, t, repeats)
  local loops, run, clock = c.loops or 1, c.run, par.clock
  par.set_threads(t)
  local results = {(run(state))}
  local times = {}
  for k = 1, repeats do
    collectgarbage()
    local t0 = clock()
    local v
    for _ = 1, loops do v = run(state) end
    times[k] = (clock() - t0) / loops
    results[#results + 1] = v
  end
  local sorted = {table.unpack(times)}
  table.sort(sorted)
  local v = results[2]
  local tv = type(v)
  if tv ~= "nil" and tv ~= "number" and tv ~= "string" and tv ~= "boolean" then
    fail("case '%s' returned a %s: return a number, a string, a boolean or nothing", c.name, tv)
  end
  return {case = c.name, threads = t, loops = loops, times = times, median = median(sorted),
          min = sorted[1], max = sorted[#sorted], result = v}, results
end

-- For a deterministic case, sets row.consistent: whether all 'results'
-- equal 'first' (the exact text of the case's first result, nil at the
-- first thread count); returns that text.
local function checkresults(c, row, results, first)
  if not c.deterministic then return first end
  first = first or exact(results[1])
  row.consistent = true
  for _, v in ipairs(results) do
    if exact(v) ~= first then
      row.consistent = false
      io.stderr:write(fmt("par.bench: warning: deterministic case '%s' returned %s on %d thread%s"
        .. " after %s on its first call\n", c.name, exact(v), row.threads,
        row.threads == 1 and "" or "s", first))
      break
    end
  end
  return first
end

-- Runs every thread count of case c and appends the rows to r.rows;
-- refs holds the reference row of each case already run.
local function runcase(c, r, sweep, refs, namew, quiet)
  local state = c.setup and c.setup() or nil
  local ref, first = c.baseline and refs[c.baseline], nil
  for _, t in ipairs(sweep) do
    local row, results = measure(c, state, t, r.repeats)
    first = checkresults(c, row, results, first)
    ref = ref or row
    row.speedup = ref.median / row.median
    row.efficiency = row.speedup * ref.threads / t
    r.rows[#r.rows + 1] = row
    if not quiet then printrow(row, namew) end
  end
end

-- Runs the cases with the thread count restored afterwards, even on error.
local function runall(cases, o, r)
  local namew = 4
  for _, c in ipairs(cases) do namew = math.max(namew, utf8.len(c.name) or #c.name) end
  if not o.quiet then header(r, namew) end
  local saved, refs = par.threads(), {}
  local ok, err = pcall(function()
    for _, c in ipairs(cases) do
      local sweep = c.threads and checkthreads(c.threads, "") or r.threads
      local ok1, err1 = pcall(runcase, c, r, sweep, refs, namew, o.quiet)
      if not ok1 then
        if tostring(err1):find("^par%.bench: ") then error(err1, 0) end
        fail("case '%s' failed: %s", c.name, tostring(err1))
      end
      refs[c.name] = r.rows[#r.rows - #sweep + 1]
    end
  end)
  par.set_threads(saved)
  if not ok then error(err, 0) end
end

----------------------------------------------------------------------------
-- Output files and plot
----------------------------------------------------------------------------

-- Speed-up against threads of results r, one line per case, and the ideal.
function M.plot(r, path)
  if type(path) ~= "string" or not plotpath(path) then
    error(fmt("bad argument #2 to 'plot' (a .png or .svg path expected, got %s)",
      type(path) == "string" and "'" .. path .. "'" or type(path)), 2)
  end
  local plot = require "par.plot"
  local xs, ys, labels, bycase, order = {}, {}, {}, {}, {}
  local maxt, ticks, seen = 1, {}, {}
  for _, row in ipairs(r.rows) do
    if not seen[row.threads] then ticks[#ticks + 1], seen[row.threads] = row.threads, true end
    if not bycase[row.case] then
      bycase[row.case] = {x = {}, y = {}}
      order[#order + 1] = row.case
    end
    local s = bycase[row.case]
    s.x[#s.x + 1], s.y[#s.y + 1] = row.threads, row.speedup
    maxt = math.max(maxt, row.threads)
  end
  for i, name in ipairs(order) do
    xs[i], ys[i], labels[i] = bycase[name].x, bycase[name].y, name
  end
  xs[#xs + 1], ys[#ys + 1], labels[#labels + 1] = {1, maxt}, {1, maxt}, "ideal"
  local styles = {}
  for i = 1, #order do styles[i] = "linespoints" end
  styles[#styles + 1] = "dashed"
  -- a margin around the points (gnuplot also drops a log axis' end tick)
  local log, lo = maxt >= 4, math.min(table.unpack(ticks))
  local pad = 0.05 * (maxt - lo)
  local xrange = log and {lo / 1.1, maxt * 1.1} or {lo - pad, maxt + pad}
  return plot.line{x = xs, y = ys, labels = labels, style = styles, output = path, xtics = ticks,
    xrange = maxt > lo and xrange or nil, title = fmt("%s: speed-up (%s)", r.name, r.machine.cpu),
    xlabel = "threads", ylabel = "speed-up", key = "top left", logx = log and 2 or nil,
    logy = log and 2 or nil}
end

-- The CSV and JSON paths of batch 'name' run at time 'now'.
local function outputs(name, o, now)
  local base = fmt("%s/bench-%s-%s", o.out or ".", name:gsub("[^%w_.-]+", "-"),
    os.date("%Y%m%d-%H%M%S", now))
  return o.csv or base .. ".csv", o.json or base .. ".json"
end

-- Fails now, not after a long run, when the folder of 'path' does not take
-- a new file.
local function checkfolder(path)
  local dir = path:match("^(.*)/[^/]*$") or "."
  local probe = fmt("%s/.par-bench-%d", dir, math.random(1 << 30))
  local f, err = io.open(probe, "wb")
  if not f then fail("cannot write in folder '%s': %s", dir, (err:gsub("^[^:]*: ", ""))) end
  f:close()
  os.remove(probe)
end

local function save(r, o, now)
  r.files = {}
  if o.save == false then return end
  r.files.csv, r.files.json = outputs(r.name, o, now)
  writefile(r.files.csv, tocsv(r))
  local files = r.files
  r.files = nil
  writefile(files.json, M.json(r) .. "\n")
  r.files = files
end

-- Checks batch b (a table or a file name) and options o; returns the job
-- {cases, o, r (the results, without rows yet), now}.
local function prepare(b, o)
  o = checkopts(o)
  b = getbatch(b)
  local cases = selectcases(b, o.filter)
  local now = os.time()
  local r = {
    name = b.name, date = os.date("!%Y-%m-%dT%H:%M:%SZ", now),
    machine = M.machine(),
    repeats = o.repeats or b.repeats or 5,
    threads = o.threads and checkthreads(o.threads, "") or b.threads and checkthreads(b.threads, "")
              or default_threads(),
    rows = {},
  }
  r.machine.date = r.date
  if o.save ~= false then
    local csv, json = outputs(r.name, o, now)
    checkfolder(csv)
    checkfolder(json)
  end
  if o.plot then checkfolder(o.plot) end
  return {cases = cases, o = o, r = r, now = now}
end

-- Runs a prepared job; names each file once written (a failing plot
-- comes after the CSV and JSON are named).
local function execute(job)
  local o, r = job.o, job.r
  local function show(k)
    if r.files[k] and not o.quiet then print(fmt("%s: %s", k, r.files[k])) end
  end
  runall(job.cases, o, r)
  save(r, o, job.now)
  show("csv")
  show("json")
  if o.plot then
    r.files.plot = M.plot(r, o.plot)
    show("plot")
  end
  return r
end

-- Runs batch b (a table or a file name) with options o; see the header.
function M.run(b, o)
  return execute(checked(prepare, b, o))
end

----------------------------------------------------------------------------
-- Command line
----------------------------------------------------------------------------

local usage = [[
usage: parlua batch.lua [options]            (a batch ending in "return bench.batch{...}")
       parlua scripts/bench/run.lua batch.lua [options]
options:
  --threads LIST   thread counts, e.g. 1,2,4 (default: the batch's, else 1, 2, 4, ... cores)
  --repeats N      timed samples per case and thread count (default: the batch's, else 5)
  --filter PAT     run only the cases whose name matches the Lua pattern PAT
  --csv PATH       CSV output (default bench-<name>-<date>.csv)
  --json PATH      JSON output (default bench-<name>-<date>.json)
  --out DIR        folder of the default outputs (default: current folder)
  --no-save        write no CSV or JSON
  --plot PATH      draw speed-up against threads to PATH (.png or .svg)
  --quiet          print nothing
  --help           show this help]]

local cli_values = {threads = true, repeats = true, filter = true, csv = true,
                    json = true, out = true, plot = true}

local function cli_value(name, text)
  if name == "repeats" then
    local n = math.tointeger(tonumber(text))
    if not n or n < 1 then fail("option '--repeats' expects a positive integer, got '%s'", text) end
    return n
  elseif name == "threads" then
    local list = {}
    for item in (text .. ","):gmatch("([^,]*),") do
      local n = math.tointeger(tonumber(item))
      if not n or n < 1 then
        fail("option '--threads' expects a list like 1,2,4, got '%s'", text)
      elseif n > MAX_THREADS then
        fail("option '--threads' allows at most %d threads, got '%s'", MAX_THREADS, text)
      end
      list[#list + 1] = n
    end
    return list
  elseif name == "plot" and not plotpath(text) then
    fail("option '--plot' expects a .png or .svg path, got '%s'", text)
  end
  return text
end

-- Parses argv (a table of words; the first non-option word is the batch
-- file) into the batch path and run options; nil when --help was given.
local function parse(argv)
  local o, path, i = {}, nil, 1
  while argv[i] ~= nil do
    local a = argv[i]
    local name, inline = a:match("^%-%-([%w-]+)=(.*)$")
    name = name or a:match("^%-%-([%w-]+)$")
    if a == "--help" then print(usage) return nil
    elseif name == "quiet" and not inline then o.quiet = true
    elseif name == "no-save" and not inline then o.save = false
    elseif name and cli_values[name] then
      local text = inline
      if not text then
        i = i + 1
        text = argv[i]
        if text == nil then fail("option '--%s' needs a value", name) end
      end
      o[name] = cli_value(name, text)
    elseif a:sub(1, 1) == "-" or path then
      fail("unknown argument '%s' (try --help)", a)
    else
      path = a
    end
    i = i + 1
  end
  return o, path
end

-- The job of the batch named in argv (or 'batch', when given) with the
-- options of argv; nil when --help was given.
local function cli(argv, batch)
  local o, path = parse(argv or {})
  if not o then return nil end
  if batch == nil and path == nil then fail("no batch file given (try --help)") end
  if batch ~= nil and path ~= nil then fail("unknown argument '%s' (try --help)", path) end
  return prepare(batch or path, o)
end

-- Command-line entry: runs the batch named in argv (or 'batch', when
-- given) with the options of argv; returns the results.
function M.main(argv, batch)
  local job = checked(cli, argv, batch)
  return job and execute(job)
end

-- For the last line of a batch file: returns t while par.bench loads the
-- file; when the file is run as a script, runs t with the script's
-- arguments (the global 'arg') instead.
function M.batch(t)
  if loading > 0 then return t end
  local job = checked(cli, arg, t)
  return job and execute(job)
end

return M
