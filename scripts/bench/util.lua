-- util.lua: what the benchmark scripts share. Load it with
--   local U = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/util.lua")
local U = {}

-- The median of the numbers of t (t is left as it is), as numpy.median.
function U.median(t)
  local s = table.move(t, 1, #t, 1, {})
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

-- v quoted for the shell.
function U.quote(v)
  return "'" .. tostring(v):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns its output (stderr included) and wall
-- time. A failure is an error with the output.
function U.run(cmd)
  local t0 = par.clock()
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  local wall = par.clock() - t0
  if not ok then error("command failed: " .. cmd .. "\n" .. out, 0) end
  return out, wall
end

return U
