-- common.lua: helpers shared by parlua's Lua test scripts.
local M = {}

-- Asserts that f(...) raises an error whose message matches 'pattern'
-- (a plain substring unless it starts with '^' or contains '%').
function M.checkerror(pattern, f, ...)
  local ok, msg = pcall(f, ...)
  if ok then error("expected an error matching '" .. pattern .. "', got none", 2) end
  msg = tostring(msg)
  local plain = not pattern:find("[%^%%]")
  if not msg:find(pattern, 1, plain) then
    error("error '" .. msg .. "' does not match '" .. pattern .. "'", 2)
  end
  return msg
end

-- Bitwise equality of two numbers (same math.type, same bits; NaN == NaN).
function M.same(a, b)
  if math.type(a) ~= math.type(b) then return false end
  if a ~= a then return b ~= b end
  if a == 0 and b == 0 and math.type(a) == "float" then
    return 1 / a == 1 / b
  end
  return a == b
end

-- Path of a file in ../shared/testdata.
function M.testdata(name)
  local dir = os.getenv("PARLUA_TESTDATA") or "../shared/testdata"
  return dir .. "/" .. name
end

-- A fresh temporary file name (ending in 'suffix', if given), removed by
-- the caller.
function M.tmpname(suffix)
  local base = os.tmpname()
  if suffix == nil then return base end
  os.remove(base)
  return base .. suffix
end

-- The number of files open in this process, counted by ls in /proc after a
-- pause that lets popen close its copy of the pipe's write end (the read
-- end is counted every time).
function M.open_files()
  local stat = assert(io.open("/proc/self/stat"))
  local pid = stat:read("l"):match("^%d+")
  stat:close()
  local p = assert(io.popen("sleep 0.05; ls /proc/" .. pid .. "/fd | wc -l"))
  local n = tonumber(p:read("l"))
  p:close()
  return n
end

-- The whole content of a file.
function M.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Runs a NumPy snippet on the numbers of 't' (as float64 array 'x'); each
-- line it prints with out(v) becomes a number of the result. nil when
-- /usr/bin/python3 has no numpy.
function M.numpy(script, t)
  if not os.execute("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") then return nil end
  local name = M.tmpname(".txt")
  local f = assert(io.open(name, "w"))
  for i = 1, #t do f:write(string.format("%a\n", t[i])) end
  f:close()
  local p = io.popen("/usr/bin/python3 -c '" .. [[
import numpy as np, sys
x = np.array([float.fromhex(l) for l in open(sys.argv[1])])
def out(v): print(v.hex() if isinstance(v, float) else v)
]] .. script .. "' " .. name)
  local res = {}
  for l in p:lines() do res[#res + 1] = l == "nan" and 0/0 or tonumber(l) end
  p:close()
  os.remove(name)
  return res
end

return M
