-- par.plot: line, scatter and histogram plots through gnuplot.
--
--   local plot = require "par.plot"
--   plot.line{x = xs, y = ys, title = "wealth", xlabel = "period", ylabel = "w",
--             output = "path.png"}
--   plot.line{x = threads, y = {t1, t2}, labels = {"pi", "wealth"}, logx = 2}
--   plot.scatter{x = xs, y = ys, output = "cloud.svg"}
--   plot.hist{values = w, bins = 50, marks = {{x = w:median(), label = "median"}}}
--
-- Data: parlua arrays (1-D, float64 or int64) or Lua sequences of numbers.
-- 'y' is one series or a list of series; 'x' (default 1..n) is one vector
-- shared by all series or a list with one vector per series. x and y of a
-- series must have the same length. NaN and infinities are passed to
-- gnuplot as NaN, which leaves the point out (a histogram ignores them).
--
-- Options of every plot:
--   output      "name.png" or "name.svg" (format from the extension, case
--               ignored); nil draws text (gnuplot's dumb terminal), which is
--               printed to stdout, or returned when print = false
--   width, height  pixels for files (default 800 x 600), characters for
--               text (default 79 x 24)
--   title, xlabel, ylabel   text, shown literally (no gnuplot markup)
--   labels      legend entries, one per series (a string for one series)
--   logx, logy  true (base 10) or a base > 1, e.g. 2 for thread counts
--   xrange, yrange   {lo, hi}; either may be nil for automatic
--   key         legend position: words from top, bottom, left, right,
--               center, inside, outside (default "top right")
--   marks       vertical lines: a list of {x = number, label = text}
--   xtics       the x tick positions, e.g. the thread counts
-- plot.line also takes style: "lines" (default), "linespoints", "points"
-- or "dashed" (grey, for references such as ideal scaling), or a list with
-- one style per series. plot.hist takes values, bins (default 10, as
-- NumPy), range {lo, hi} (default: the data's extent; values outside are
-- left out; the last bin includes hi, as numpy.histogram) and density =
-- true (bar areas sum to 1 instead of counts). Every function returns the
-- output path, or the text of a text plot drawn with print = false (a
-- printed one returns nothing, so the REPL does not show it twice).
--
-- The script (data inline as $data << EOD blocks) goes to gnuplot through a
-- temporary file, run with io.popen; every path is shell-quoted and every
-- text is a single-quoted gnuplot string, where gnuplot performs no
-- backquote or macro substitution. The program is PARLUA_GNUPLOT if set,
-- else "gnuplot". Bad arguments raise "bad argument #1 to 'line' (...)" at
-- the caller's line; a missing gnuplot or a gnuplot error raises an error
-- starting "par.plot:".
local M = {}

local fmt, concat = string.format, table.concat

----------------------------------------------------------------------------
-- Quoting
----------------------------------------------------------------------------

-- A gnuplot string expression for text s: single-quoted pieces ('' for a
-- quote) joined by "\n" for line breaks; other control characters become
-- spaces.
local function gpstring(s)
  s = tostring(s):gsub("\r\n?", "\n"):gsub("[%z\1-\9\11-\31\127]", " ")
  local parts = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do
    parts[#parts + 1] = "'" .. line:gsub("'", "''") .. "'"
  end
  return concat(parts, '."\\n".')
end

-- s as one word for /bin/sh.
local function shquote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

----------------------------------------------------------------------------
-- Data
----------------------------------------------------------------------------

local function isarray(v)
  if type(v) ~= "userdata" then return false end
  local ok, dtype = pcall(function() return v.dtype end)
  return ok and type(dtype) == "string"
end

-- The numbers of vector v (an array or a sequence) as a Lua table, or nil
-- and a message; 'what' names v in messages.
local function tovector(v, what)
  if isarray(v) then
    if v.ndim ~= 1 then return nil, fmt("%s must be a 1-D array, got %d-D", what, v.ndim) end
    if v.dtype == "bool" then return nil, fmt("%s must be float64 or int64, got bool", what) end
    return v:totable()
  elseif type(v) ~= "table" then
    return nil, fmt("%s must be an array or a table of numbers, got %s", what, type(v))
  end
  local n = #v
  for i = 1, n do
    if type(v[i]) ~= "number" then
      return nil, fmt("%s item %d is a %s, expected a number", what, i, type(v[i]))
    end
  end
  return v
end

-- Is v a list of vectors (several series) rather than one vector?
local function isseries(v)
  return type(v) == "table" and (type(v[1]) == "table" or isarray(v[1]))
end

-- A number as gnuplot data: integers exactly, floats with 17 digits,
-- NaN and infinities as NaN (a point gnuplot leaves out).
local function num(v)
  if math.type(v) == "integer" then return fmt("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then return "NaN" end
  return fmt("%.17g", v)
end

-- A datablock named 'name' with the columns of the given vectors.
local function datablock(name, cols)
  local out = {name .. " << EOD"}
  for i = 1, #cols[1] do
    local row = {}
    for k = 1, #cols do row[k] = num(cols[k][i]) end
    out[#out + 1] = concat(row, " ")
  end
  out[#out + 1] = "EOD"
  return concat(out, "\n")
end

----------------------------------------------------------------------------
-- Options
----------------------------------------------------------------------------

local common_opts = {
  output = true, width = true, height = true, title = true, xlabel = true,
  ylabel = true, labels = true, logx = true, logy = true, xrange = true,
  yrange = true, key = true, marks = true, print = true, xtics = true,
}

local key_words = {
  top = true, bottom = true, left = true, right = true, center = true,
  inside = true, outside = true,
}

local function checkkeys(o, extra)
  for k in pairs(o) do
    if not common_opts[k] and not extra[k] then
      return nil, fmt("unknown option '%s'", tostring(k))
    end
  end
  return true
end

-- The output file name as given to gnuplot, which would pipe to a command
-- for a name starting with '|'.
local function outpath(name)
  return name:sub(1, 1) == "|" and "./" .. name or name
end

-- "set terminal" and "set output" lines for o, and the kind of output.
local function terminal(o)
  local w, h = o.width, o.height
  for name, v in pairs{width = w, height = h} do
    if v ~= nil and (math.type(v) ~= "integer" or v < 1) then
      return nil, fmt("'%s' must be a positive integer", name)
    end
  end
  if o.output == nil then
    return {fmt("set terminal dumb size %d,%d", w or 79, h or 24)}, "text"
  end
  if type(o.output) ~= "string" then
    return nil, fmt("'output' must be a file name, got %s", type(o.output))
  end
  local ext = o.output:match("%.(%w+)$")
  ext = ext and ext:lower()
  local term = ({png = "pngcairo", svg = "svg"})[ext]
  if term == nil then
    return nil, fmt("'output' must end in .png or .svg, got '%s'", o.output)
  end
  return {fmt("set terminal %s size %d,%d", term, w or 800, h or 600),
          "set output " .. gpstring(outpath(o.output))}, ext
end

-- "set" lines for a log scale option v of axis 'ax'.
local function logscale(v, ax)
  if v == nil or v == false then return nil end
  if v == true then return "set logscale " .. ax end
  if type(v) ~= "number" or v <= 1 or v ~= v or v == math.huge then
    return nil, fmt("'log%s' must be true or a base > 1", ax)
  end
  return fmt("set logscale %s %s", ax, num(v))
end

local function range(v, name)
  if v == nil then return nil end
  if type(v) ~= "table" then return nil, fmt("'%s' must be a table {lo, hi}", name) end
  local lo, hi = v[1], v[2]
  for _, b in ipairs{lo or 0, hi or 0} do
    if type(b) ~= "number" or b ~= b or b == math.huge or b == -math.huge then
      return nil, fmt("'%s' bounds must be finite numbers", name)
    end
  end
  if lo and hi and lo >= hi then
    return nil, fmt("'%s' is empty: %s >= %s", name, num(lo), num(hi))
  end
  return fmt("set %s [%s:%s]", name, lo and num(lo) or "*", hi and num(hi) or "*")
end

-- "set xtics (...)" for a list of tick positions.
local function xticsline(v)
  if v == nil then return nil end
  local ticks, err = tovector(v, "'xtics'")
  if not ticks then return nil, err end
  local out = {}
  for i, x in ipairs(ticks) do
    if x ~= x or x == math.huge or x == -math.huge then
      return nil, "'xtics' must be finite numbers"
    end
    out[i] = num(x)
  end
  if #out == 0 then return nil, "'xtics' is empty" end
  return "set xtics (" .. concat(out, ", ") .. ")"
end

local function keyline(v)
  if v == nil then return "set key top right" end
  if type(v) ~= "string" then return nil, "'key' must be a string" end
  for word in v:gmatch("%S+") do
    if not key_words[word] then return nil, fmt("'key' has an unknown word '%s'", word) end
  end
  return "set key " .. v
end

-- Lines drawing the vertical marks of o.marks.
local function marklines(marks)
  if marks == nil then return {} end
  if type(marks) ~= "table" then
    return nil, "'marks' must be a list of {x = number, label = text}"
  end
  local out = {}
  for i, m in ipairs(marks) do
    if type(m) ~= "table" or type(m.x) ~= "number" or m.x ~= m.x
       or m.x == math.huge or m.x == -math.huge then
      return nil, fmt("marks[%d] must be {x = finite number, label = text}", i)
    end
    local x = num(m.x)
    out[#out + 1] = fmt("set arrow from %s, graph 0 to %s, graph 1 nohead front"
      .. " dt 2 lw 2 lc rgb '#d62728'", x, x)
    if m.label ~= nil then
      out[#out + 1] = fmt("set label %s at %s, graph 0.96 offset character 0.5, 0 front"
        .. " tc rgb '#d62728'", gpstring(m.label), x)
    end
  end
  return out
end

-- The settings every plot shares, as script lines, and the output kind.
local function preamble(o, extra)
  local ok, err = checkkeys(o, extra)
  if not ok then return nil, err end
  local lines, kind = terminal(o)
  if not lines then return nil, kind end
  lines[#lines + 1] = "set termoption noenhanced"
  lines[#lines + 1] = "set grid"
  for _, k in ipairs{"title", "xlabel", "ylabel"} do
    if o[k] ~= nil then lines[#lines + 1] = fmt("set %s %s", k, gpstring(o[k])) end
  end
  local extras = {
    {logscale(o.logx, "x")}, {logscale(o.logy, "y")},
    {range(o.xrange, "xrange")}, {range(o.yrange, "yrange")}, {keyline(o.key)},
    {xticsline(o.xtics)},
  }
  for _, r in ipairs(extras) do
    if r[2] then return nil, r[2] end
    lines[#lines + 1] = r[1]
  end
  local marks, merr = marklines(o.marks)
  if not marks then return nil, merr end
  table.move(marks, 1, #marks, #lines + 1, lines)
  return lines, kind
end

-- The legend entries: a list of n titles (nil entries draw no entry).
local function legend(labels, n)
  if labels == nil then return {} end
  if type(labels) == "string" then labels = {labels} end
  if type(labels) ~= "table" then return nil, "'labels' must be a list of strings" end
  if #labels ~= n then
    return nil, fmt("%d labels for %d series", #labels, n)
  end
  return labels
end

----------------------------------------------------------------------------
-- Running gnuplot
----------------------------------------------------------------------------

local function readall(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs gnuplot on 'script' and returns what it printed on stdout.
local function gnuplot(script)
  local prog = os.getenv("PARLUA_GNUPLOT") or "gnuplot"
  local src, errf = os.tmpname(), os.tmpname()
  local f = assert(io.open(src, "w"))
  f:write(script, "\n")
  f:close()
  local p = assert(io.popen(fmt("%s %s 2>%s", shquote(prog), shquote(src), shquote(errf)), "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local err = readall(errf)
  os.remove(src)
  os.remove(errf)
  if code == 126 or code == 127 then
    error("par.plot: gnuplot not found (install the Debian package gnuplot-nox)", 0)
  elseif code ~= 0 then
    -- gnuplot echoes the failing line and a caret before "line N: message"
    err = err:match("line %d+: (.-)%s*$") or err:match("^%s*(.-)%s*$")
    error("par.plot: gnuplot failed: " .. err:gsub("%s*\n%s*", "; "), 0)
  end
  return out
end

-- Runs the script of job {lines, kind, blocks, cmd}; returns the path, the
-- text when print = false, or nothing after printing it. A file left by a
-- failed run is removed.
local function draw(o, job)
  local kind = job.kind
  local script = concat(job.blocks, "\n") .. "\n" .. concat(job.lines, "\n") .. "\n" .. job.cmd
  local ok, out = pcall(gnuplot, script)
  if not ok then
    if kind ~= "text" then os.remove(outpath(o.output)) end
    error(out, 0)
  end
  if kind ~= "text" then return o.output end
  out = out:gsub("^\f", "")
  if o.print == false then return out end
  io.write(out)
end

----------------------------------------------------------------------------
-- Series plots: line and scatter
----------------------------------------------------------------------------

-- The list of {x, y} vectors of o, or nil and a message.
local function series(o)
  if o.y == nil then return nil, "'y' is missing" end
  local ys = isseries(o.y) and o.y or {o.y}
  local xs = o.x
  if xs ~= nil and isseries(xs) and #xs ~= #ys then
    return nil, fmt("%d x vectors for %d series", #xs, #ys)
  end
  local out = {}
  for k = 1, #ys do
    local ny = #ys == 1 and "'y'" or fmt("'y' series %d", k)
    local y, err = tovector(ys[k], ny)
    if not y then return nil, err end
    if #y == 0 then return nil, ny .. " is empty" end
    local x, nx
    if xs == nil then
      x = {}
      for i = 1, #y do x[i] = i end
    else
      nx = isseries(xs) and fmt("'x' series %d", k) or "'x'"
      x, err = tovector(isseries(xs) and xs[k] or xs, nx)
      if not x then return nil, err end
      if #x ~= #y then return nil, fmt("%s and %s lengths differ: %d vs %d", nx, ny, #x, #y) end
    end
    out[k] = {x, y}
  end
  if #out == 0 then return nil, "'y' has no series" end
  return out
end

local styles = {
  lines = "with lines lw 2",
  linespoints = "with linespoints lw 2 pt 7 ps 1",
  points = "with points pt 7 ps 0.6",
  dashed = "with lines dt 2 lw 1.5 lc rgb '#555555'",
}

-- The gnuplot style of each of n series from option 'style' (a name or a
-- list of names).
local function seriesstyles(style, n)
  local list = {}
  if type(style) == "table" and #style ~= n then
    return nil, fmt("%d styles for %d series", #style, n)
  end
  for k = 1, n do
    local name = type(style) == "table" and style[k] or style
    list[k] = styles[name]
    if not list[k] then
      return nil, fmt("'style' must be lines, linespoints, points or dashed, got '%s'",
        tostring(name))
    end
  end
  return list
end

-- The job of line and scatter (see draw), or nil and a message for a bad
-- argument.
local function xyplot(o, extra, style)
  local lines, kind = preamble(o, extra)
  if not lines then return nil, kind end
  local data, err = series(o)
  if not data then return nil, err end
  local titles
  titles, err = legend(o.labels, #data)
  if not titles then return nil, err end
  local st
  st, err = seriesstyles(style, #data)
  if not st then return nil, err end
  local blocks, items = {}, {}
  for k, s in ipairs(data) do
    blocks[k] = datablock("$d" .. k, s)
    items[k] = fmt("$d%d using 1:2 %s %s", k, st[k],
      titles[k] and "title " .. gpstring(titles[k]) or "notitle")
  end
  return {lines = lines, kind = kind, blocks = blocks, cmd = "plot " .. concat(items, ", \\\n  ")}
end

local function checkopts(o, name)
  if type(o) ~= "table" then
    error(fmt("bad argument #1 to '%s' (table expected, got %s)", name, type(o)), 3)
  end
end

-- The job, or a bad argument error naming the line that called plot.'name'
-- (level 3: checked is never called in a tail call).
local function checked(name, job, err)
  if job == nil then error(fmt("bad argument #1 to '%s' (%s)", name, err), 3) end
  return job
end

-- plot.line{y = ..., [x = ...], style = ..., ...}: one or several series
-- as lines.
function M.line(o)
  checkopts(o, "line")
  local extra = {x = true, y = true, style = true}
  return draw(o, checked("line", xyplot(o, extra, o.style or "lines")))
end

-- plot.scatter{x = ..., y = ..., ...}: points.
function M.scatter(o)
  checkopts(o, "scatter")
  return draw(o, checked("scatter", xyplot(o, {x = true, y = true}, "points")))
end

----------------------------------------------------------------------------
-- Histograms
----------------------------------------------------------------------------

-- The finite values of o.values, the bin count and the range {lo, hi}.
local function histdata(o)
  if o.values == nil then return nil, "'values' is missing" end
  local v, err = tovector(o.values, "'values'")
  if not v then return nil, err end
  local finite = {}
  for i = 1, #v do
    local x = v[i]
    if x == x and x ~= math.huge and x ~= -math.huge then finite[#finite + 1] = x end
  end
  if #finite == 0 then return nil, "'values' has no finite numbers" end
  local bins = o.bins or 10
  if math.type(bins) ~= "integer" or bins < 1 then
    return nil, "'bins' must be a positive integer"
  end
  local lo, hi
  if o.range ~= nil then
    local ok
    ok, err = range(o.range, "range")
    if not ok then return nil, err end
    lo, hi = o.range[1], o.range[2]
    if lo == nil or hi == nil then return nil, "'range' needs both bounds" end
  else
    lo, hi = math.huge, -math.huge
    for _, x in ipairs(finite) do lo, hi = math.min(lo, x), math.max(hi, x) end
    if lo == hi then lo, hi = lo - 0.5, hi + 0.5 end  -- as numpy.histogram
  end
  return finite, bins, lo + 0.0, hi + 0.0
end

-- Bin centres and heights (counts, or densities when 'density').
local function binning(v, bins, lo, hi, density)
  local counts, n = {}, 0
  for b = 1, bins do counts[b] = 0 end
  local width = (hi - lo) / bins
  for _, x in ipairs(v) do
    if x >= lo and x <= hi then
      local b = math.min(math.floor((x - lo) / (hi - lo) * bins) + 1, bins)
      counts[b] = counts[b] + 1
      n = n + 1
    end
  end
  local centres = {}
  for b = 1, bins do
    centres[b] = lo + (b - 0.5) * width
    if density then counts[b] = n > 0 and counts[b] / (n * width) or 0 end
  end
  return centres, counts, width
end

-- The job of hist (see draw), or nil and a message for a bad argument.
local function histplot(o)
  local extra = {values = true, bins = true, range = true, density = true}
  local lines, kind = preamble(o, extra)
  if not lines then return nil, kind end
  local v, bins, lo, hi = histdata(o)
  if not v then return nil, bins end
  local titles, err = legend(o.labels, 1)
  if not titles then return nil, err end
  local centres, heights, width = binning(v, bins, lo, hi, o.density)
  lines[#lines + 1] = "set style fill solid 0.5 border"
  lines[#lines + 1] = "set boxwidth " .. num(width) .. " absolute"
  if o.yrange == nil and not o.logy then lines[#lines + 1] = "set yrange [0:*]" end
  if o.xrange == nil then lines[#lines + 1] = fmt("set xrange [%s:%s]", num(lo), num(hi)) end
  if o.ylabel == nil then
    lines[#lines + 1] = o.density and "set ylabel 'density'" or "set ylabel 'count'"
  end
  local cmd = fmt("plot $h using 1:2 with boxes lc rgb '#1f77b4' %s",
    titles[1] and "title " .. gpstring(titles[1]) or "notitle")
  return {lines = lines, kind = kind, blocks = {datablock("$h", {centres, heights})}, cmd = cmd}
end

-- plot.hist{values = ..., bins = ..., range = ..., density = ..., ...}
function M.hist(o)
  checkopts(o, "hist")
  return draw(o, checked("hist", histplot(o)))
end

return M
