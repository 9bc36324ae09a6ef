-- plot.lua: par.plot through gnuplot (PNG, SVG, text), quoting and errors.
print("testing par.plot")
local T = require "common"
local plot = require "par.plot"

-- A PNG file: signature, then the IHDR chunk with the picture's size.
local function checkpng(path, w, h)
  local s = T.slurp(path)
  assert(#s > 1024, "PNG too small: " .. #s .. " bytes")
  assert(s:sub(1, 8) == "\137PNG\r\n\26\n", "no PNG signature")
  local len, kind, pw, ph = string.unpack(">I4c4I4I4", s, 9)
  assert(len == 13 and kind == "IHDR")
  assert(pw == w and ph == h, string.format("PNG is %dx%d, expected %dx%d", pw, ph, w, h))
  os.remove(path)
end

-- An SVG file: an XML prolog or <svg>, properly nested tags, the size
-- asked for, and the given texts (XML-escaped) somewhere in text nodes.
local function checksvg(path, w, h, texts)
  local s = T.slurp(path)
  assert(#s > 1024)
  assert(s:find("^%s*<%?xml") or s:find("^%s*<svg"), "not XML")
  local body = s:gsub("<%?.-%?>", ""):gsub("<!%-%-.-%-%->", ""):gsub("<!%[CDATA%[.-%]%]>", "")
  local stack = {}
  for close, name, attrs in body:gmatch("<(/?)([%w:_-]+)([^>]*)>") do
    if close == "/" then
      assert(table.remove(stack) == name, "unbalanced </" .. name .. ">")
    elseif not attrs:find("/%s*$") then
      stack[#stack + 1] = name
    end
  end
  assert(#stack == 0, "unclosed <" .. tostring(stack[#stack]) .. ">")
  assert(s:find('width="' .. w .. '"', 1, true) and s:find('height="' .. h .. '"', 1, true))
  for _, t in ipairs(texts) do
    local x = t:gsub("&", "&amp;"):gsub("<", "&lt;")
    assert(s:find(">" .. x .. "<", 1, true), "missing text " .. t)
  end
  os.remove(path)
end

-- Runs a Lua statement in a fresh parlua with extra environment settings;
-- returns its output and whether it succeeded.
local function parlua(env, stat)
  local status, out = T.run(string.format("%s %s -e '%s' 2>&1", env, os.getenv("PARLUA_BIN"), stat))
  return out, status == 0
end

local xs, s1, s2 = {}, {}, {}
for i = 1, 200 do
  xs[i] = i / 20
  s1[i], s2[i] = math.sin(xs[i]), math.cos(xs[i])
end

-- PNG: one series, several series, log scales, marks
do
  local png = T.tmpname(".png")
  assert(plot.line{x = xs, y = s1, title = "sine", xlabel = "x", ylabel = "sin x",
                   output = png} == png)
  checkpng(png, 800, 600)
  plot.line{x = xs, y = {s1, s2}, labels = {"sin", "cos"}, title = "two", output = png,
            width = 640, height = 400, marks = {{x = math.pi, label = "pi"}}, key = "bottom left"}
  checkpng(png, 640, 400)
  local t, y = par.array{1, 2, 4, 8, 16}, par.array{1.0, 1.9, 3.6, 6.5, 11.0}
  local upper = png:gsub("%.png$", ".PNG")
  plot.line{x = t, y = {y, t}, labels = {"measured", "ideal"}, style = {"linespoints", "dashed"},
            logx = 2, logy = true, xtics = t, output = upper}
  checkpng(upper, 800, 600)
  local g = par.rng(3)
  plot.scatter{x = g:random(300), y = g:integers(0, 10, 300), title = "cloud", output = png,
               width = 300, height = 300}
  checkpng(png, 300, 300)
  local w = g:lognormal(0, 1, 20000)
  plot.hist{values = w, bins = 40, range = {0, 8}, marks = {{x = w:median(), label = "median"}},
            title = "lognormal", xlabel = "wealth", output = png}
  checkpng(png, 800, 600)
  plot.hist{values = {1, 2, 2, 3, 3, 3}, density = true, labels = "d", output = png}
  checkpng(png, 800, 600)
end

-- SVG: texts literal (no gnuplot markup, no backquote substitution)
do
  local svg = T.tmpname(".svg")
  local title = "A & B <c> \"q\" it's `echo INJECTED` @x"
  plot.line{y = par.arange(10), title = title, xlabel = "x_1^2", ylabel = "n{o}", output = svg,
            width = 500, height = 300}
  checksvg(svg, 500, 300, {title, "x_1^2", "n{o}"})
  plot.hist{values = par.arange(100), bins = 5, title = "h", xlabel = "value", output = svg}
  checksvg(svg, 800, 600, {"h", "value", "count"})
  plot.scatter{x = {1, 2, 3}, y = {3, 1, 2}, labels = {"pts"}, output = svg}
  checksvg(svg, 800, 600, {"pts"})
  -- gnuplot pipes to a command for names starting with '|': never here
  -- (a name of this process's own: the 1- and 2-thread runs share the folder)
  local pipe = "|parlua_plot_pipe_test" .. T.tmpname(""):match("[^/]*$") .. ".svg"
  plot.line{y = {1, 2}, output = pipe}
  checksvg("./" .. pipe, 800, 600, {})
end

-- text: printed (returning nothing, so the REPL shows it once), or
-- returned when print = false
do
  local text = plot.line{x = xs, y = s1, title = "Sine text", print = false}
  assert(text:find("Sine text", 1, true))
  local lines = 0
  for line in text:gmatch("([^\n]*)\n") do
    lines = lines + 1
    assert(#line <= 79)
  end
  assert(lines == 24)
  text = plot.hist{values = {1, 1, 2, 0 / 0, 1 / 0}, width = 40, height = 12, print = false}
  local n = 0
  for _ in text:gmatch("[^\n]*\n") do n = n + 1 end
  assert(n == 12)
  local printed = {}
  local write = io.write
  io.write = function(...) for _, s in ipairs{...} do printed[#printed + 1] = s end end
  local r = table.pack(pcall(plot.scatter, {x = {1, 2}, y = {2, 1}, title = "Printed"}))
  io.write = write
  assert(r[1], r[2])
  assert(r.n == 1, "a printed plot returned a value")
  assert(table.concat(printed):find("Printed", 1, true))
end

-- NaN and infinities are left out
do
  local png = T.tmpname(".png")
  plot.line{y = {1, 0 / 0, 3, 1 / 0, -1 / 0, 2}, output = png}
  checkpng(png, 800, 600)
end

-- bad arguments
T.checkerror("bad argument #1 to 'line' (table expected, got number)", plot.line, 3)
T.checkerror("('y' is missing)", plot.line, {x = {1}})
T.checkerror("('y' is empty)", plot.line, {y = {}})
T.checkerror("('y' series 2 is empty)", plot.line, {y = {{1}, {}}})
T.checkerror("('x' and 'y' lengths differ: 3 vs 2)", plot.line, {x = {1, 2, 3}, y = {1, 2}})
T.checkerror("('x' series 2 and 'y' series 2 lengths differ: 1 vs 2)", plot.line,
  {x = {{1, 2}, {1}}, y = {{1, 2}, {3, 4}}})
T.checkerror("2 x vectors for 1 series", plot.line, {x = {{1}, {2}}, y = {1}})
T.checkerror("('y' item 2 is a string, expected a number)", plot.line, {y = {1, "2"}})
T.checkerror("('y' must be an array or a table of numbers, got string)", plot.line, {y = "1 2"})
T.checkerror("('y' must be float64 or int64, got bool)", plot.line, {y = par.array{true, false}})
T.checkerror("('values' must be a 1-D array, got 2-D)", plot.hist, {values = par.zeros(2, 2)})
T.checkerror("('values' has no finite numbers)", plot.hist, {values = {0 / 0, 1 / 0}})
T.checkerror("bad argument #1 to 'hist' ('values' is missing)", plot.hist, {})
T.checkerror("('bins' must be a positive integer)", plot.hist, {values = {1}, bins = 0})
T.checkerror("('range' is empty: 2 >= 1)", plot.hist, {values = {1}, range = {2, 1}})
T.checkerror("('range' needs both bounds)", plot.hist, {values = {1}, range = {1}})
T.checkerror("(unknown option 'ttle')", plot.line, {y = {1}, ttle = "x"})
T.checkerror("(unknown option 'bins')", plot.line, {y = {1}, bins = 3})
T.checkerror("('output' must end in .png or .svg, got 'a.jpg')", plot.line,
  {y = {1}, output = "a.jpg"})
T.checkerror("('width' must be a positive integer)", plot.line, {y = {1}, width = 0})
T.checkerror("('logx' must be true or a base > 1)", plot.line, {y = {1}, logx = 1})
T.checkerror("(1 labels for 2 series)", plot.line, {y = {{1}, {2}}, labels = {"a"}})
T.checkerror("(2 styles for 1 series)", plot.line, {y = {1}, style = {"lines", "points"}})
T.checkerror("'style' must be lines, linespoints, points or dashed, got 'bars'", plot.line,
  {y = {1}, style = "bars"})
T.checkerror("marks[1] must be {x = finite number, label = text}", plot.line,
  {y = {1}, marks = {{x = 0 / 0}}})
T.checkerror("'key' has an unknown word 'middle'", plot.line, {y = {1}, key = "middle"})
T.checkerror("'xtics' must be finite numbers", plot.line, {y = {1}, xtics = {1 / 0}})

-- argument errors name the caller's line, whichever check finds them
do
  local function at(stat)
    return assert(load("local plot = require 'par.plot'\n" .. stat, "=caller"))
  end
  local cases = {
    {"plot.line(5)", "line", "table expected, got number"},
    {"plot.line{x = {1}}", "line", "'y' is missing"},
    {"plot.line{x = {1, 2, 3}, y = {1, 2}}", "line", "'x' and 'y' lengths differ: 3 vs 2"},
    {"plot.line{y = {1}, ttle = 'x'}", "line", "unknown option 'ttle'"},
    {"plot.line{y = {1, 2}, output = 'x.jpg'}", "line",
     "'output' must end in .png or .svg, got 'x.jpg'"},
    {"plot.line{y = {{1}, {2}}, labels = {'a'}}", "line", "1 labels for 2 series"},
    {"plot.scatter{x = {1}, y = {1}, style = 'lines'}", "scatter", "unknown option 'style'"},
    {"plot.hist{values = {1}, bins = 0}", "hist", "'bins' must be a positive integer"},
    {"plot.hist{bins = 3}", "hist", "'values' is missing"},
  }
  for _, c in ipairs(cases) do
    local msg = T.checkerror("bad argument", at(c[1]))
    local want = string.format("caller:2: bad argument #1 to '%s' (%s)", c[2], c[3])
    assert(msg == want, msg)
  end
end

-- errors from gnuplot itself, and no gnuplot at all
T.checkerror("^par%.plot: gnuplot failed: cannot open file", plot.line,
  {y = {1, 2}, output = "/nonexistent/folder/x.png"})
do
  local png = T.tmpname(".png")
  T.checkerror("^par%.plot: gnuplot failed: all points y value undefined", plot.line,
    {y = {-1, -2}, logy = true, output = png})
  assert(io.open(png) == nil, "failed plot left its file")
end
do
  local out, ok = parlua("PARLUA_GNUPLOT=/nonexistent",
    'require("par.plot").line{y = {1, 2}, print = false}')
  assert(not ok)
  local msg = "par.plot: gnuplot not found (install the Debian package gnuplot-nox)"
  assert(out:find(msg, 1, true), out)
end

print("OK")
