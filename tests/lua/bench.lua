-- bench.lua: par.bench batches: the table, CSV, JSON, options and errors.
print("testing par.bench")
local T = require "common"
local bench = require "par.bench"

local json_decode, csv_decode, json_null = T.json_decode, T.csv_decode, T.json_null

-- the test parsers themselves
do
  local v = json_decode(' {"a": [1, 2.5, -3e2, true, null], "b": "x\\"\\u00e9\\n", "c": {}} ')
  assert(v.a[1] == 1 and v.a[2] == 2.5 and v.a[3] == -300.0 and v.a[4] == true)
  assert(v.a[5] == json_null and v.b == 'x"\u{e9}\n' and next(v.c) == nil)
  T.checkerror("JSON", json_decode, '{"a": 1,}')
  T.checkerror("JSON", json_decode, '[1] 2')
  T.checkerror("JSON", json_decode, '"a\nb"')
  local r = csv_decode('a,"b,""c""",\r\n1,2,3\n')
  assert(#r == 2 and r[1][2] == 'b,"c"' and r[1][3] == "" and r[2][3] == "3")
end

----------------------------------------------------------------------------
-- bench.json
----------------------------------------------------------------------------
do
  local s = "quote \" backslash \\ newline \n tab \t bell \a nul \0 é"
  local v = json_decode(bench.json{s = s, n = {1, 2.5, 0 / 0, 1 / 0, -1 / 0, 2 ^ 63}})
  assert(v.s == s)
  assert(v.n[1] == 1 and math.type(v.n[1]) == "integer" and v.n[2] == 2.5)
  assert(v.n[3] == json_null and v.n[4] == json_null and v.n[5] == json_null)
  assert(T.same(v.n[6], 2.0 ^ 63))
  assert(bench.json{} == "[]" and bench.json(0.1) == "0.10000000000000001")
  assert(bench.json(-0.0) == "-0" and bench.json(math.mininteger) == "-9223372036854775808")
  assert(json_decode(bench.json("\xff\xfe")) == "\u{ff}\u{fe}")  -- Latin-1 fallback
  T.checkerror("cannot write a function to JSON", bench.json, {print})
  T.checkerror("cannot write a number key to JSON", bench.json, {1, [2.5] = 0})
end

----------------------------------------------------------------------------
-- a tiny batch across 1 and 2 threads
----------------------------------------------------------------------------
local calls = 0
local batch = {
  name = 'tiny, "quoted" batch',
  repeats = 3,
  cases = {
    {name = "serial", threads = {1}, run = function()
      local s = 0
      for i = 1, 2000 do s = s + i end
      return s
    end},
    {name = "sum", setup = function() return par.arange(1, 10001) * 0.5 end,
     run = function(a) return a:sum() end, deterministic = true, baseline = "serial"},
    {name = "text", loops = 4, run = function() calls = calls + 1 return "a,b" end},
    {name = "nothing", run = function() end},
  },
}

local threads0 = par.threads()

-- Runs f with print replaced; returns the printed lines and f's results.
local function capture(f, ...)
  local lines, saved = {}, print
  print = function(...)
    local t = table.pack(...)
    for i = 1, t.n do t[i] = tostring(t[i]) end
    lines[#lines + 1] = table.concat(t, "\t")
  end
  local r = table.pack(pcall(f, ...))
  print = saved
  assert(r[1], r[2])
  return lines, table.unpack(r, 2, r.n)
end

local csv, json = T.tmpname(".csv"), T.tmpname(".json")
local lines, r = capture(bench.run, batch, {threads = {2, 1, 2}, csv = csv, json = json})
assert(par.threads() == threads0)

-- the results table
assert(r.name == batch.name and r.repeats == 3 and #r.threads == 2)
assert(r.threads[1] == 1 and r.threads[2] == 2)
assert(r.files.csv == csv and r.files.json == json and r.files.plot == nil)
assert(#r.rows == 1 + 2 + 2 + 2)
assert(calls == 2 * (1 + 3 * 4))  -- warm-up + repeats * loops, at 2 thread counts
local rows = {}
for _, row in ipairs(r.rows) do
  rows[row.case .. row.threads] = row
  assert(#row.times == 3)
  local sorted = {table.unpack(row.times)}
  table.sort(sorted)
  assert(row.min == sorted[1] and row.median == sorted[2] and row.max == sorted[3])
  assert(row.min > 0 and row.min <= row.median and row.median <= row.max)
  assert(row.efficiency == row.speedup * 1 / row.threads)
end
assert(rows.serial1.speedup == 1 and rows.serial1.result == 2001000 and rows.serial2 == nil)
assert(rows.text1.speedup == 1 and rows.text1.efficiency == 1 and rows.text1.loops == 4)
assert(rows.text2.speedup == rows.text1.median / rows.text2.median)
assert(rows.sum1.speedup == rows.serial1.median / rows.sum1.median)
assert(rows.sum2.speedup == rows.serial1.median / rows.sum2.median)
assert(rows.sum1.result == 25002500.0 and rows.sum2.result == 25002500.0)
assert(rows.sum1.consistent == true and rows.sum2.consistent == true)
assert(rows.text1.consistent == nil and rows.nothing1.result == nil)
for k, v in pairs{cpu = "string", cores = "number", os = "string", compiler = "string",
                  parlua = "string", lua = "string", date = "string"} do
  assert(type(r.machine[k]) == v and r.machine[k] ~= "", k)
end
assert(math.type(r.machine.cores) == "integer" and r.machine.cores >= 1)
assert(r.machine.parlua == par.version and r.machine.lua == _VERSION)
assert(r.date:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))

-- the printed table: a header, then one aligned line per row
do
  local head
  for i, l in ipairs(lines) do
    if l:find("^case ") then head = i end
  end
  assert(head and lines[1]:find(r.machine.cpu, 1, true))
  local words = {}
  for w in lines[head]:gmatch("%S+") do words[#words + 1] = w end
  assert(table.concat(words, " ") == "case threads median min max speedup efficiency result")
  local width = utf8.len(lines[head]:match("^(.-)result$"))
  for i, row in ipairs(r.rows) do
    local l = lines[head + i]
    assert(l:find("^" .. row.case .. " +" .. row.threads .. " "), l)
    local v = row.result
    local shown = v == nil and "" or
      math.type(v) == "float" and string.format("%.10g", v) or tostring(v)
    local prefix = l:sub(1, #l - #shown)
    assert(prefix .. shown == l and utf8.len(prefix) == width, l)
  end
  assert(lines[head + #r.rows + 1] == "csv: " .. csv)
  assert(lines[head + #r.rows + 2] == "json: " .. json)
end

-- the CSV: a header and one record per row, machine columns included
do
  local records = csv_decode(T.slurp(csv))
  local head = records[1]
  assert(#head == 19 and head[1] == "batch" and head[2] == "case" and head[6] == "median_s")
  assert(#records == 1 + #r.rows)
  local col = {}
  for i, name in ipairs(head) do col[name] = i end
  for i, row in ipairs(r.rows) do
    local rec = records[i + 1]
    assert(#rec == #head)
    assert(rec[col.batch] == batch.name and rec[col.case] == row.case)
    assert(tonumber(rec[col.threads]) == row.threads and tonumber(rec[col.repeats]) == 3)
    assert(tonumber(rec[col.median_s]) == row.median and tonumber(rec[col.min_s]) == row.min)
    assert(tonumber(rec[col.speedup]) == row.speedup)
    assert(rec[col.cpu] == r.machine.cpu and rec[col.compiler] == r.machine.compiler)
    assert(rec[col.parlua] == par.version and rec[col.date] == r.date)
  end
  assert(records[2][col.result] == "2001000" and records[5][col.result] == "a,b")
  assert(records[3][col.consistent] == "true" and records[2][col.consistent] == "")
  os.remove(csv)
end

-- the JSON: the whole results table
do
  local v = json_decode(T.slurp(json))
  assert(v.name == batch.name and v.repeats == 3 and v.date == r.date and v.files == nil)
  for k, x in pairs(r.machine) do assert(v.machine[k] == x, k) end
  assert(#v.rows == #r.rows)
  for i, row in ipairs(r.rows) do
    local j = v.rows[i]
    assert(j.case == row.case and j.threads == row.threads and j.median == row.median)
    assert(j.speedup == row.speedup and #j.times == 3 and j.times[2] == row.times[2])
    assert(j.result == row.result)
  end
  os.remove(json)
end

----------------------------------------------------------------------------
-- options
----------------------------------------------------------------------------

-- filter: the matching cases and the baselines they name
do
  local out, q = capture(bench.run, batch, {filter = "^su", threads = {1}, repeats = 1,
                                            save = false, quiet = true})
  assert(#out == 0)
  assert(#q.rows == 2 and q.rows[1].case == "serial" and q.rows[2].case == "sum")
  assert(q.repeats == 1 and next(q.files) == nil)
  T.checkerror("no case matches 'zzz' (cases: serial, sum, text, nothing)", bench.run, batch,
    {filter = "zzz", quiet = true, save = false})
end

-- default file names in the 'out' folder, and the speed-up plot
do
  local dir = T.tmpdir()
  local png = dir .. "/speedup.png"
  local q = bench.run(batch, {threads = {1, 2}, repeats = 1, out = dir, quiet = true, plot = png})
  local stamp = "%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d"
  local name = "/bench%-tiny%-quoted%-batch%-" .. stamp .. "%.csv$"
  assert(q.files.csv:find("^" .. dir:gsub("%p", "%%%0") .. name))
  assert(q.files.json == q.files.csv:gsub("csv$", "json"))
  assert(q.files.plot == png and T.slurp(png):sub(1, 4) == "\137PNG" and #T.slurp(png) > 1024)
  for _, f in pairs(q.files) do assert(os.remove(f)) end
  assert(os.remove(dir))
end

-- a deterministic case whose results vary is flagged, with a warning
do
  local n = 0
  local warned = {}
  local stderr = io.stderr
  io.stderr = {write = function(_, s) warned[#warned + 1] = s end}
  local ok, q = pcall(bench.run, {name = "flaky", repeats = 2, cases = {
    {name = "count", deterministic = true, run = function() n = n + 1 return n end}}},
    {threads = {1}, save = false, quiet = true})
  io.stderr = stderr
  assert(ok, q)
  assert(q.rows[1].consistent == false and q.rows[1].result == 2)
  assert(#warned == 1)
  assert(warned[1]:find("deterministic case 'count' returned 2 on 1 thread after 1", 1, true))
end

----------------------------------------------------------------------------
-- batch files and the command line
----------------------------------------------------------------------------
local plainfile, selffile = T.tmpname(".lua"), T.tmpname(".lua")
T.writefile(plainfile, [[
return {name = "plain", cases = {{name = "one", run = function() return 1 end}}}
]])
T.writefile(selffile, [[
return require("par.bench").batch{name = "self", repeats = 2,
  cases = {{name = "two", run = function() return 2 end}}}
]])
do
  local q = bench.run(plainfile, {threads = {1}, save = false, quiet = true})
  assert(q.name == "plain" and q.repeats == 5 and q.rows[1].result == 1)
  q = bench.run(selffile, {threads = {1}, save = false, quiet = true})
  assert(q.name == "self" and q.repeats == 2 and q.rows[1].result == 2)
  q = bench.main{selffile, "--threads", "1", "--repeats=1", "--quiet", "--no-save"}
  assert(q.name == "self" and q.repeats == 1 and #q.rows == 1)
  local out = capture(bench.main, {"--help"})
  assert(out[1]:find("^usage:") and table.concat(out, "\n"):find("--threads LIST", 1, true))
  T.checkerror("par.bench: no batch file given (try --help)", bench.main, {"--quiet"})
  T.checkerror("option '--threads' expects a list like 1,2,4, got '1,x'", bench.main,
    {plainfile, "--threads", "1,x"})
  T.checkerror("option '--repeats' expects a positive integer, got '0'", bench.main,
    {plainfile, "--repeats", "0"})
  T.checkerror("option '--csv' needs a value", bench.main, {plainfile, "--csv"})
  T.checkerror("unknown argument '--bogus' (try --help)", bench.main, {plainfile, "--bogus"})
  T.checkerror("unknown argument 'extra' (try --help)", bench.main, {plainfile, "extra"})
end

-- a self-running batch file run as a script
do
  local cmd = string.format("%s %s --threads 1 --no-save 2>&1", os.getenv("PARLUA_BIN"), selffile)
  local status, out = T.run(cmd)
  assert(status == 0, out)
  assert(out:find("bench 'self'", 1, true) and out:find("\ntwo +1 ", 1, false), out)
  cmd = string.format("%s %s --threads 0 2>&1", os.getenv("PARLUA_BIN"), selffile)
  status, out = T.run(cmd)
  assert(status ~= 0 and out:find("option '--threads' expects a list", 1, true), out)
end
os.remove(plainfile)
os.remove(selffile)

----------------------------------------------------------------------------
-- errors: checked before anything runs; threads restored after failures
----------------------------------------------------------------------------
local function run(b, o)
  return bench.run(b, o or {threads = {1}, save = false, quiet = true})
end
local ok1 = {name = "ok", run = function() end}
T.checkerror("par.bench: a batch must be a table, got number", run, 42)
T.checkerror("par.bench: the batch has no name", run, {cases = {ok1}})
T.checkerror("batch 'b' has no cases", run, {name = "b", cases = {}})
T.checkerror("case 2 has no name", run, {name = "b", cases = {ok1, {run = print}}})
T.checkerror("case 2 must be a table, got string", run, {name = "b", cases = {ok1, "x"}})
T.checkerror("case 'x': 'run' must be a function, got number", run,
  {name = "b", cases = {{name = "x", run = 1}}})
T.checkerror("case 'x': 'run' must be a function, got nil", run,
  {name = "b", cases = {{name = "x"}}})
T.checkerror("case 'x': 'setup' must be a function, got string", run,
  {name = "b", cases = {{name = "x", run = print, setup = "s"}}})
T.checkerror("case 'ok' appears twice", run, {name = "b", cases = {ok1, ok1}})
T.checkerror("case 'x' has an unknown field 'repeat'", run,
  {name = "b", cases = {{name = "x", run = print, ["repeat"] = 2}}})
T.checkerror("case 'x': baseline 'later' must name a case listed before it", run,
  {name = "b", cases = {{name = "x", run = print, baseline = "later"},
                        {name = "later", run = print}}})
T.checkerror("case 'x': 'loops' must be a positive integer", run,
  {name = "b", cases = {{name = "x", run = print, loops = 0.5}}})
T.checkerror("case 'x': 'threads'[1] must be a positive integer, got 0", run,
  {name = "b", cases = {{name = "x", run = print, threads = {0}}}})
T.checkerror("batch 'repeats' must be a positive integer", run,
  {name = "b", repeats = 0, cases = {ok1}})
T.checkerror("option 'threads' must be a non-empty list of positive integers", run,
  {name = "b", cases = {ok1}}, {threads = 2})
T.checkerror("option 'threads'[2] must be a positive integer, got 1.5", run,
  {name = "b", cases = {ok1}}, {threads = {1, 1.5}})
T.checkerror("option 'repeats' must be a positive integer", run,
  {name = "b", cases = {ok1}}, {repeats = -1})
T.checkerror("par.bench: unknown option 'thread'", run, {name = "b", cases = {ok1}}, {thread = {1}})
T.checkerror("par.bench: cannot load batch: ", run, "/nonexistent/batch.lua")
do
  local bad = T.tmpname(".lua")
  T.writefile(bad, "return {name = 'b', cases = {}}}")
  T.checkerror("par.bench: cannot load batch: ", run, bad)
  T.writefile(bad, "error('boom in file')")
  T.checkerror("par.bench: error loading batch '" .. bad .. "': ", run, bad)
  os.remove(bad)
end
par.set_threads(1)
T.checkerror("case 'boom' failed: ", run, {name = "b", cases = {{name = "boom", run = function()
  error("kaboom")
end}}}, {threads = {2}, save = false, quiet = true})
assert(par.threads() == 1)
T.checkerror("case 'tbl' returned a table: return a number, a string, a boolean or nothing", run,
  {name = "b", cases = {{name = "tbl", run = function() return {} end}}},
  {threads = {2}, save = false, quiet = true})
assert(par.threads() == 1)
-- an output folder that cannot take the files fails before the cases run
local ran = false
local probe = {name = "probe", run = function () ran = true end}
T.checkerror("par.bench: cannot write in folder '/nonexistent': No such file or directory", run,
  {name = "b", cases = {probe}}, {threads = {1}, csv = "/nonexistent/x.csv", quiet = true})
T.checkerror("par.bench: cannot write in folder '/nonexistent/dir'", run,
  {name = "b", cases = {probe}}, {threads = {1}, out = "/nonexistent/dir", quiet = true})
T.checkerror("par.bench: cannot write in folder '/nonexistent'", run,
  {name = "b", cases = {probe}}, {threads = {1}, save = false, plot = "/nonexistent/s.png", quiet = true})
-- so do every option checkable before the run: plot names, thread counts,
-- filter patterns, also from the command line
local function probing(o) return run({name = "b", cases = {probe}}, o) end
T.checkerror("par.bench: option 'plot' must end in .png or .svg, got 'speed.txt'", probing,
  {threads = {1}, save = false, plot = "speed.txt", quiet = true})
T.checkerror("par.bench: option 'threads'[2] must be at most 4096, got 99999", probing,
  {threads = {1, 99999}, save = false, quiet = true})
T.checkerror("par.bench: batch 'threads'[1] must be at most 4096, got 4097", run,
  {name = "b", threads = {4097}, cases = {probe}})
T.checkerror("par.bench: case 'probe': 'threads'[1] must be at most 4096, got 5000", run,
  {name = "b", cases = {{name = "probe", run = probe.run, threads = {5000}}}})
T.checkerror("par.bench: option 'filter' is not a valid pattern: malformed pattern (missing ']')",
  probing, {threads = {1}, save = false, filter = "[a", quiet = true})
T.checkerror("par.bench: option '--plot' expects a .png or .svg path, got 'speed.txt'", bench.main,
  {"--plot", "speed.txt", "--no-save", "--threads", "1"}, {name = "b", cases = {probe}})
T.checkerror("par.bench: option '--threads' allows at most 4096 threads, got '1,5000'", bench.main,
  {"--threads", "1,5000", "--no-save"}, {name = "b", cases = {probe}})
T.checkerror("bad argument #2 to 'plot' (a .png or .svg path expected, got 'x.txt')", bench.plot,
  {name = "b", rows = {}}, "x.txt")
assert(not ran)
par.set_threads(threads0)

-- errors about the batch and the options name the caller's line
do
  local function at(stat)
    return assert(load("local bench = require 'par.bench'\n" .. stat, "=caller"))
  end
  local cases = {
    {"bench.run(42)", "par.bench: a batch must be a table, got number"},
    {"bench.run({name = 'b', cases = {}})", "par.bench: batch 'b' has no cases"},
    {"bench.run('/nonexistent/batch.lua')", "par.bench: cannot load batch: "},
    {"bench.run({name = 'b', cases = {{name = 'c', run = print}}}, {thread = {1}})",
     "par.bench: unknown option 'thread'"},
    {"bench.run({name = 'b', cases = {{name = 'c', run = print}}}, {plot = 'a.jpg'})",
     "par.bench: option 'plot' must end in .png or .svg, got 'a.jpg'"},
    {"bench.main({'--bogus'}, {name = 'b', cases = {}})",
     "par.bench: unknown argument '--bogus' (try --help)"},
    {"bench.plot({}, 'x.txt')", "bad argument #2 to 'plot'"},
  }
  for _, c in ipairs(cases) do
    local msg = T.checkerror(c[2], at(c[1]))
    assert(msg:sub(1, 10 + #c[2]) == "caller:2: " .. c[2], msg)
  end
end

-- the CSV and JSON are named before a failing plot is drawn
do
  local dir = T.tmpdir()
  local file = T.writefile(dir .. "/b.lua", [[
return require("par.bench").batch{name = "b", repeats = 1,
  cases = {{name = "c", run = function() end}}}
]])
  local status, out = T.run(string.format("PARLUA_GNUPLOT=/nonexistent %s %s --threads 1 --out %s"
    .. " --plot %s/s.png 2>&1", os.getenv("PARLUA_BIN"), file, dir, dir))
  local csv = "\ncsv: " .. dir:gsub("%p", "%%%0") .. "/bench%-b%-[%d-]+%.csv\njson: "
  assert(status ~= 0 and out:find(csv)
         and out:find("gnuplot not found", 1, true), out)
  T.rmtree(dir)
end

print("OK")
