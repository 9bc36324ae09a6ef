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

-- A fresh temporary file name, removed at exit by the caller.
function M.tmpname(suffix)
  return os.tmpname() .. (suffix or "")
end

return M
