-- progress.lua: the progress bar of kernels (opts.progress) seen through a
-- pseudo-terminal made by util-linux 'script', as in tty.lua: on a terminal
-- the bar shows percentage, counts, rate, elapsed time and ETA, fits the
-- width, changes at most 5 times a second and ends with a newline before
-- what follows; nothing is drawn when stderr is redirected, when TERM is
-- dumb, or for a short kernel; Ctrl-C leaves a clean line for the error.
-- Run as: parlua tests/cli/progress.lua <path of the parlua binary>

local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local q = T.q
local bin = T.parlua_bin()
print("testing the progress bar in a terminal")

if not T.has_script() then
  print("  ('script' from util-linux not found: test skipped)")
  print("OK")
  return
end

local COLS = 72

-- The kernel: `parlua kernel.lua n lua d` runs a Lua-mode prange of n
-- iterations, iteration i waiting until i/n of d seconds have passed (so
-- that it lasts d seconds however busy the machine is); `n jit d` the same
-- as a par.jit function in Lua mode with 4 parallel loops of n/4; `0
-- native d` a native preduce of about d seconds (n found by a test run).
local kernel = T.writefile(T.tmpname(), [[
local n, mode, d = math.tointeger(tonumber(arg[1])), arg[2], tonumber(arg[3])
local function sin (i) return math.sin(i) end
if mode == "native" then
  par.preduce("+", 10, sin, {mode = "native"})   -- compiles
  local c = par.clock()
  par.preduce("+", 1e7, sin, {mode = "native"})
  n = math.tointeger(math.min(1e9, 1e7 * math.max(1, d // (par.clock() - c))))
end
local t0 = par.clock()
local r
if mode == "lua" then
  r = par.prange(n, function (i)
    local t = t0 + d * i / n
    while par.clock() < t do end
    return i
  end, {progress = true, mode = "lua"}):sum()
elseif mode == "jit" then
  r = par.jit(function (m)
    local s = 0
    for t = 0, 3 do
      for i in par.prange(m) do
        local u = t0 + d * (t * m + i) / n
        while par.clock() < u do end
        s = s + 1
      end
    end
    return s
  end, {progress = true, mode = "lua"})(n // 4)
else
  r = par.preduce("+", n, sin, {progress = true, mode = "native"})
end
print(string.format("result %.17g time %.3f", r, par.clock() - t0))
]])
local err = T.tmpname()

-- Runs the kernel with 'args' on 2 threads in a terminal of COLS columns,
-- stderr going to 'redirect' if given; 'ctrlc': seconds after which Ctrl-C
-- is typed. Returns the transcript and the exit status.
local function run (args, term, redirect, ctrlc)
  local cmd = string.format("stty cols %d; exec %s -t 2 %s %s%s", COLS, q(bin), q(kernel),
                            args, redirect and " 2> " .. q(redirect) or "")
  return T.terminal(cmd, ctrlc and {ctrlc, "\3", 0.5}, "TERM=" .. term)
end

-- The frames drawn: the text of each "\r...ESC[K".
local function frames (t)
  local f = {}
  for s in string.gmatch(t, "\r([^\r\n]-)\27%[K") do f[#f + 1] = s end
  return f
end

-- The lines a terminal shows for t: '\r' goes back to the first column,
-- ESC [ K erases to the end of the line, other escapes are ignored.
local function screen (t)
  local lines, cur, col, i = {}, {}, 1, 1
  while i <= #t do
    local c = string.sub(t, i, i)
    if c == "\r" then col = 1
    elseif c == "\n" then
      lines[#lines + 1] = table.concat(cur)
      cur, col = {}, 1
    elseif c == "\27" then
      local _, e, final = string.find(t, "^%[[%d;?]*(%a)", i + 1)
      if e then
        if final == "K" then for k = col, #cur do cur[k] = nil end end
        i = e
      end
    else
      cur[col] = c
      col = col + 1
    end
    i = i + 1
  end
  lines[#lines + 1] = table.concat(cur)
  return lines
end

local N = "[%d.]+[kMGTP]?"
local BAR = "^(%a+) %[[#-]+%] +(%d+)%% " .. N .. "/" .. N .. " " .. N ..
            " it/s %d%d:%d%d eta [%d:-]+$"

-- Checks the frames of a run: well formed, within the width, percentages
-- going up, at most 5 a second; returns the percentages.
local function checkframes (f, label, seconds, t)
  local pct = {}
  assert(#f >= 2, "no progress bar drawn:\n" .. t)
  assert(#f <= 5 * seconds + 2, string.format("%d frames in %.2f s", #f, seconds))
  for k, s in ipairs(f) do
    local l, p = string.match(s, BAR)
    assert(l == label and #s <= COLS - 1, "bad frame: " .. s)
    pct[k] = tonumber(p)
    assert(k == 1 or pct[k] >= pct[k - 1], t)
  end
  return pct
end

local function index (lines, pattern)
  for k, l in ipairs(lines) do
    if string.find(l, pattern) then return k end
  end
end

-- a Lua-mode kernel of 1 s
do
  local t, code = run("65536 lua 1", "xterm")
  local seconds = tonumber(string.match(t, "result 2147516416 time ([%d.]+)"))
  assert(code == 0 and seconds, t)
  local f = frames(t)
  local pct = checkframes(f, "prange", seconds, t)
  assert(pct[1] < 100 and pct[#pct] == 100, t)
  assert(string.find(f[#f], " 100%% 65%.5k/65%.5k .* eta 00:00$"), f[#f])
  local lines = screen(t)
  local k = assert(index(lines, "^result"), t)
  assert(lines[k - 1] == f[#f], t)     -- the final frame stays, then a new line
  print(string.format("  %d frames in %.2f s, last: %s", #f, seconds, f[#f]))
end

-- a par.jit call: its parallel loops counted, total unknown
do
  local t, code = run("65536 jit 1", "xterm")
  local seconds = tonumber(string.match(t, "result 65536 time ([%d.]+)"))
  assert(code == 0 and seconds, t)
  local f = frames(t)
  assert(#f >= 2 and #f <= 5 * seconds + 2, t)
  for _, s in ipairs(f) do
    assert(string.find(s, "^jit " .. N .. " it " .. N .. " it/s %d%d:%d%d$"), "bad frame: " .. s)
  end
  assert(string.find(f[#f], "^jit 65%.5k it "), f[#f])
  local lines = screen(t)
  assert(lines[assert(index(lines, "^result"), t) - 1] == f[#f], t)
  print("  par.jit, last: " .. f[#f])
end

-- nothing drawn: stderr redirected, a dumb terminal, a short kernel
do
  local t = run("49152 lua 0.6", "xterm", err)
  assert(string.find(t, "result 1207984128 "), t)
  assert(not string.find(t, "it/s") and T.slurp(err) == "", t .. T.slurp(err))
  t = run("49152 lua 0.6", "dumb")
  assert(string.find(t, "result 1207984128 ") and not string.find(t, "it/s"), t)
  t = run("2048 lua 0", "xterm")
  assert(string.find(t, "result 2098176 ") and not string.find(t, "it/s"), t)
  print("  no bar with stderr redirected, with TERM=dumb, for a short kernel")
end

-- Ctrl-C: the bar stops where it was, the error starts a clean line
do
  local t, code = run("1000000 lua 30", "xterm", nil, 0.8)
  local lines = screen(t)
  local k = assert(index(lines, "interrupted!"), t)
  assert(code == 1 and not string.find(t, "result"), t)
  assert(not string.find(lines[k], "it/s") and not string.find(lines[k], "^%^C"), t)
  local l, p = string.match(lines[k - 1], BAR)
  assert(l == "prange" and tonumber(p) < 100, t)
  print("  interrupted: " .. lines[k - 1])
end

-- a native kernel, when there is a C compiler (the bar is checked if the
-- kernel, compiled beforehand, ran long enough to draw one)
if pcall(par.preduce, "+", 10, function (i) return i end, {mode = "native"}) then
  local t, code = run("0 native 0.8", "xterm")
  local seconds = tonumber(string.match(t, "result [-%d.e]+ time ([%d.]+)"))
  assert(code == 0 and seconds, t)
  if seconds >= 0.6 then
    local f = frames(t)
    checkframes(f, "preduce", seconds, t)
    local done, total = string.match(f[#f], " 100%% (%S+)/(%S+) ")
    assert(done and done == total, f[#f])
    print(string.format("  native: %d frames in %.2f s", #f, seconds))
  else
    print(string.format("  (native kernel took %.2f s: too short to check its bar)", seconds))
  end
else
  print("  (no native kernels here: native case skipped)")
end

os.remove(kernel)
os.remove(err)
print("OK")
