-- tty.lua: the REPL in a terminal (a pseudo-terminal made by util-linux's
-- 'script'): readline, Ctrl-C at the prompt and during a computation, and
-- the history file ~/.parlua_history.
-- Run as: parlua tests/cli/tty.lua <path of the parlua binary>

local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local q = T.q
local bin = T.parlua_bin()
print("testing the parlua REPL in a terminal")

if not T.has_script() then
  print("  ('script' from util-linux not found: test skipped)")
  print("OK")
  return
end

local home = T.tmpdir()
local histfile = home .. "/.parlua_history"

local CTRL_C, CTRL_D, CTRL_P = "\3", "\4", "\16"

-- Types 'steps' into parlua running in a pseudo-terminal (T.terminal).
-- Returns the transcript with carriage returns removed, and parlua's exit
-- status as the shell inside the terminal saw it (script's own status also
-- reflects how it ended the session). The input stays open until that
-- status is written, so that script does not end the session before
-- parlua has exited. Ctrl-C also reaches the shell, which a trap keeps
-- alive ('script' runs /bin/sh, which would die of it). 'env' replaces HOME.
local function session (steps, env)
  local status = T.tmpname(".status")  -- not created yet
  local typed = table.move(steps, 1, #steps, 2, {0.3})
  typed[#typed + 1] = {file = status}
  local t = T.terminal("trap : INT; " .. q(bin) .. "; echo $? > " .. q(status), typed,
                       (env or "HOME=" .. q(home)) .. " TERM=dumb INPUTRC=/dev/null")
  local code = tonumber(T.readfile(status) or "")
  os.remove(status)
  return string.gsub(t, "\r", ""), code
end

-- an old history file of 1200 lines, to be cut to 1000
local f = assert(io.open(histfile, "w"))
for i = 1, 1200 do f:write("y = ", i, "\n") end
f:close()

local t, code = session{
  "x = 41\n", 0.2,
  "abc", 0.2, CTRL_C, 0.2,                       -- discards "abc"
  "print(x + 1)\n",
  "for i = 1, 2 do\n", "print(i * 10)\n", "end\n", 0.2,
  "for j = 1, 3 do\n", 0.2, CTRL_C, 0.2,         -- discards a whole chunk
  "print('fresh')\n",
  "while true do end\n", 0.4, CTRL_C, 0.2,       -- stops the computation
  "print('back')\n",
  "1 + 1\n", 0.2,
  CTRL_D,
}
assert(code == 0, "exit code " .. tostring(code) .. ":\n" .. t)
assert(string.find(t, "^parlua .-PUC%-Rio\n> "), t)
assert(string.find(t, "\n42\n", 1, true), t)
assert(string.find(t, "\n10\n20\n", 1, true), t)
assert(string.find(t, "\nfresh\n", 1, true), t)
assert(string.find(t, "interrupted!\nstack traceback:", 1, true), t)
assert(string.find(t, "\nback\n", 1, true), t)
assert(string.find(t, "\n2\n", 1, true), t)
assert(not string.find(t, "abcprint") and not string.find(t, "expected near"), t)

print("testing the history file")
local h = assert(T.readfile(histfile), "no history file written")
for _, line in ipairs{"x = 41", "print(x + 1)", "for i = 1, 2 do\nprint(i * 10)\nend",
                      "print('fresh')", "while true do end", "print('back')", "1 + 1"} do
  assert(string.find(h, line, 1, true), line)
end
assert(not string.find(h, "abc", 1, true) and not string.find(h, "for j", 1, true))
local n = 0
for line in string.gmatch(h, "[^\n]*\n") do
  if not string.find(line, "^#%d+\n$") then n = n + 1 end  -- not a time stamp
end
assert(n <= 1000 and string.find(h, "y = 1200", 1, true), n)

-- a new session recalls the entries, a multi-line chunk as one entry
t = session{string.rep(CTRL_P, 5), "\n", 0.2, CTRL_D}
assert(string.find(t, "\n10\n20\n", 1, true), t)

-- no history file without HOME: no error either
t = session({"print('nohome')\n", 0.2, CTRL_D}, "-u HOME")
assert(string.find(t, "\nnohome\n", 1, true), t)

-- a text plot typed at the prompt is drawn once: printed, not also echoed
-- as a returned string
t = session{
  "require('par.plot').line{y = {1, 2, 3}, width = 30, height = 8, title = 'T' .. 'PLOT'}\n",
  1, CTRL_D}
assert(select(2, string.gsub(t, "TPLOT", "")) == 1, t)

T.rmtree(home)
print("OK")
