-- common.lua: helpers shared by parlua's test scripts: require "common"
-- in tests/lua, dofile of this file in tests/cli.
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

-- The whole content of a file, or nil (and io.open's message) when it
-- cannot be opened.
function M.readfile(path)
  local f, msg = io.open(path, "rb")
  if not f then return nil, msg end
  local s = f:read("a")
  f:close()
  return s
end

-- The whole content of a file, which must exist.
function M.slurp(path)
  return assert(M.readfile(path))
end

-- Writes the string 's' to the file 'path' (replacing it); returns path.
function M.writefile(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  assert(f:close())
  return path
end

-- A fresh empty folder (mode 700), removed by the caller (M.rmtree).
function M.tmpdir()
  local p = assert(io.popen("mktemp -d"))
  local dir = p:read("l")
  p:close()
  assert(dir and dir:match("^/"), "mktemp -d failed")
  return dir
end

-- Removes a file or a folder with all it holds.
function M.rmtree(path)
  os.execute("rm -rf " .. M.q(path))
end

-- 's' (a string or a number) quoted as one word of a shell command.
function M.q(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

-- The parlua binary that a CLI test (parlua tests/cli/x.lua <parlua
-- binary>) runs: its argument, else $PARLUA_BIN.
function M.parlua_bin()
  return assert(arg[1] or os.getenv("PARLUA_BIN"), "usage: parlua " .. arg[0] .. " <parlua binary>")
end

-- The start of a shell command that runs a child (parlua) without the
-- LUA_INIT of this environment: a test sets it when it wants one.
M.NO_INIT = "env -u LUA_INIT_5_4 -u LUA_INIT"

-- Runs the shell command 'cmd' with the string 'stdin' as its standard
-- input (nil: /dev/null); returns its exit status, stdout and stderr. A
-- '2>&1' in cmd sends its stderr to the stdout returned. A command ended
-- by a signal (status 128 + n for the shell) is an error.
function M.run(cmd, stdin)
  local input = stdin and M.writefile(M.tmpname(), stdin) or "/dev/null"
  local out, err = M.tmpname(), M.tmpname()
  local _, how, code = os.execute(string.format("(%s) < %s > %s 2> %s", cmd, M.q(input),
                                                M.q(out), M.q(err)))
  local o, e = M.slurp(out), M.slurp(err)
  os.remove(out)
  os.remove(err)
  if stdin then os.remove(input) end
  assert(how == "exit" and code <= 128, cmd .. " ended by a signal")
  return code, o, e
end

-- Starts the shell command 'cmd' (a child parlua) in the background and
-- reads its first line, which must be "ready"; 'pause' seconds later (0
-- if nil) sends it SIGINT and waits for its exit (at most 20 s, then an
-- error). Returns its exit status, the seconds from the signal to the
-- exit, its stdout after "ready" and its stderr.
function M.interrupt(cmd, pause)
  local err = M.tmpname()
  -- the child's shell prints its pid before it becomes the command (exec),
  -- so the pid always comes before the child's own "ready"
  local p = assert(io.popen(string.format("sh -c %s 2> %s; echo \"status $?\"",
    M.q("echo $$; exec " .. cmd), M.q(err)), "r"))
  local pid = assert(math.tointeger(tonumber(p:read("l"))))
  local first = p:read("l")
  assert(first == "ready", "child did not start: " .. tostring(first) .. " " ..
         (M.readfile(err) or ""))
  if pause then os.execute("sleep " .. pause) end
  local t0 = par.clock()
  assert(os.execute("kill -INT " .. pid))
  local delay
  while not delay do
    os.execute("sleep 0.02")
    if not os.execute("kill -0 " .. pid .. " 2> /dev/null") then
      delay = par.clock() - t0
    elseif par.clock() - t0 > 20 then
      os.execute("kill -KILL " .. pid)
      error("SIGINT did not stop: " .. cmd)
    end
  end
  local rest = p:read("a")
  p:close()
  local e = M.readfile(err) or ""
  os.remove(err)
  local status = math.tointeger(tonumber(rest:match("status (%d+)\n$")))
  return status, delay, (rest:gsub("status %d+\n$", "")), e
end

-- Whether util-linux 'script' (for M.terminal) is installed.
function M.has_script()
  return os.execute("script --version > /dev/null 2>&1") == true
end

-- Runs the shell command 'cmd' with /bin/sh in a pseudo-terminal made by
-- util-linux 'script' (killed after 60 s), without LUA_INIT, with 'env'
-- ("VAR=value ...", say TERM) in the environment; 'steps' are typed into
-- it (nil: no input): a string is typed, a number waits that many seconds,
-- a table {file = path} waits (up to 30 s) until that file exists.
-- Returns the transcript, carriage returns included, and script's exit
-- status.
function M.terminal(cmd, steps, env)
  local typing, nothing = "", "< /dev/null "
  if steps then
    local sh = {}
    for _, s in ipairs(steps) do
      if type(s) == "table" then
        sh[#sh + 1] = "i=0; while [ ! -e " .. M.q(s.file) .. " ] && [ $i -lt 300 ]; do " ..
                      "sleep 0.1; i=$((i+1)); done"
      else
        sh[#sh + 1] = type(s) == "number" and "sleep " .. s or "printf '%s' " .. M.q(s)
      end
    end
    typing, nothing = "(" .. table.concat(sh, "; ") .. ") | ", ""
  end
  local out = M.tmpname()
  local _, _, code = os.execute(string.format(
    "%s%s %s SHELL=/bin/sh timeout 60 script -qec %s /dev/null %s> %s 2>&1",
    typing, M.NO_INIT, env or "", M.q(cmd), nothing, M.q(out)))
  local t = M.readfile(out) or ""
  os.remove(out)
  return t, code
end

-- Python with NumPy, for cross-checks.
M.PYTHON = "/usr/bin/python3"

-- Whether M.PYTHON has numpy.
function M.has_numpy()
  return os.execute(M.PYTHON .. " -c 'import numpy' >/dev/null 2>&1") == true
end

-- Runs the Python program 'code' with the arguments that follow; returns
-- its stdout. A failure is an error with its output.
function M.python(code, ...)
  local src = M.writefile(M.tmpname(".py"), code)
  local words = {M.PYTHON, src, ...}
  for i, w in ipairs(words) do words[i] = M.q(w) end
  local status, out, err = M.run(table.concat(words, " "))
  os.remove(src)
  if status ~= 0 then error("python failed:\n" .. out .. err, 2) end
  return out
end

-- Runs a NumPy snippet on the numbers of 't' (as float64 array 'x'); each
-- line it prints with out(v) becomes a number of the result. nil, after
-- saying that the cross-check is skipped, when M.PYTHON has no numpy.
function M.numpy(script, t)
  if not M.has_numpy() then
    print("  (numpy not available: NumPy cross-check skipped)")
    return nil
  end
  local lines = {}
  for i = 1, #t do lines[i] = string.format("%a\n", t[i]) end
  local name = M.writefile(M.tmpname(".txt"), table.concat(lines))
  local out = M.python([[
import numpy as np, sys
x = np.array([float.fromhex(l) for l in open(sys.argv[1])])
def out(v): print(v.hex() if isinstance(v, float) else v)
]] .. script, name)
  os.remove(name)
  local res = {}
  for l in out:gmatch("[^\n]+") do res[#res + 1] = l == "nan" and 0/0 or tonumber(l) end
  return res
end

-- A fixed sequence from 'seed' (an LCG on Lua's wrapping integers):
-- rnd() is a float in [0, 1), rnd(n) an integer in 1..n.
function M.lcg(seed)
  return function(n)
    seed = seed * 6364136223846793005 + 1442695040888963407
    if n then return (seed >> 33) % n + 1 end
    return (seed >> 11) * 2.0^-53
  end
end

-- All elements of a 1-D or 2-D array as a table, row by row.
function M.flat(a)
  local t = {}
  if a.ndim == 1 then
    for i = 1, #a do t[i] = a[i] end
  else
    for i = 1, a.shape[1] do
      for j = 1, a.shape[2] do t[#t + 1] = a:get(i, j) end
    end
  end
  return t
end

-- Whether x is a NaN.
function M.isnan(x) return x ~= x end

-- The value of JSON's null in M.json_decode's results.
M.json_null = setmetatable({}, {__name = "null"})

-- The value of a JSON text (objects and arrays as tables, integers
-- without '.' or exponent as Lua integers); strict: malformed text, or
-- anything after the value, is an error "JSON: ...".
function M.json_decode(s)
  local pos = 1
  local value
  local function fail(what) error(string.format("JSON: %s at %d", what, pos), 0) end
  local function skip() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local function expect(c)
    skip()
    if s:sub(pos, pos) ~= c then fail("'" .. c .. "' expected") end
    pos = pos + 1
  end
  local function str()
    expect('"')
    local out = {}
    while true do
      local c = s:sub(pos, pos)
      if c == "" then fail("unfinished string") end
      pos = pos + 1
      if c == '"' then return table.concat(out) end
      if c:byte() < 32 then fail("control character in string") end
      if c == "\\" then
        local e = s:sub(pos, pos)
        pos = pos + 1
        local simple = ({['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
                         n = "\n", r = "\r", t = "\t"})[e]
        if simple then
          c = simple
        elseif e == "u" and s:sub(pos, pos + 3):find("^%x%x%x%x$") then
          c = utf8.char(tonumber(s:sub(pos, pos + 3), 16))
          pos = pos + 4
        else
          fail("bad escape")
        end
      end
      out[#out + 1] = c
    end
  end
  local function list(open, close, item)
    expect(open)
    local t = {}
    skip()
    if s:sub(pos, pos) == close then pos = pos + 1 return t end
    repeat
      item(t)
      skip()
      local c = s:sub(pos, pos)
      pos = pos + 1
      if c == close then return t end
      if c ~= "," then fail("',' or '" .. close .. "' expected") end
    until false
  end
  function value()
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      return list("{", "}", function(t)
        skip()
        local k = str()
        expect(":")
        t[k] = value()
      end)
    elseif c == "[" then
      return list("[", "]", function(t) t[#t + 1] = value() end)
    elseif c == '"' then
      return str()
    end
    for word, v in pairs{["true"] = true, ["false"] = false, null = M.json_null} do
      if s:sub(pos, pos + #word - 1) == word then
        pos = pos + #word
        return v
      end
    end
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or num == "" or not tonumber(num) then fail("value expected") end
    pos = pos + #num
    return num:find("[.eE]") and tonumber(num) or math.tointeger(tonumber(num))
  end
  local v = value()
  skip()
  if pos <= #s then fail("trailing text after the value") end
  return v
end

-- RFC 4180 CSV: a list of records, each a list of fields.
function M.csv_decode(s)
  local records, fields, pos = {}, {}, 1
  while pos <= #s do
    local field
    if s:sub(pos, pos) == '"' then
      local parts = {}
      pos = pos + 1
      while true do
        local q = assert(s:find('"', pos, true), "unfinished quoted field")
        parts[#parts + 1] = s:sub(pos, q - 1)
        pos = q + 1
        if s:sub(pos, pos) ~= '"' then break end
        parts[#parts + 1] = '"'
        pos = pos + 1
      end
      field = table.concat(parts)
    else
      field = s:match('^[^,\r\n"]*', pos)
      pos = pos + #field
    end
    fields[#fields + 1] = field
    local sep = s:sub(pos, pos)
    if sep == "," then
      pos = pos + 1
    else
      assert(sep == "\n" or sep == "\r", "bad character after a field: " .. sep)
      pos = (s:find("\n", pos, true) or #s) + 1
      records[#records + 1], fields = fields, {}
    end
  end
  return records
end

return M
