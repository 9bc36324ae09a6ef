-- The par module in a stock lua5.4 (`lua5.4 -l par`), found through
-- LUA_CPATH in the build folder: the same module as inside parlua.
print("testing par.so in lua5.4")
local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local build = assert(os.getenv("PARLUA_BUILD"), "PARLUA_BUILD not set")

local function lua54(code)
  local status, out = T.run(string.format("LUA_CPATH=%s LUA_INIT= lua5.4 -l par -e %s 2>&1",
                                          T.q(build .. "/?.so"), T.q(code)))
  return status == 0, out
end

if not os.execute("command -v lua5.4 >/dev/null") then
  print("lua5.4 is not installed: skipped")
  return
end

local ok, out = lua54("print(type(par), require('par') == par, par.version)")
assert(ok, out)
assert(out == "table\ttrue\t" .. par.version .. "\n", out)

ok, out = lua54("print(par.threads() >= 1, type(par.clock()))")
assert(ok and out == "true\tnumber\n", out)

-- the Lua modules shipped with parlua are found too
ok, out = lua54("print(type(require('par.args').parse))")
assert(ok and out == "function\n", out)

-- a bad environment value is an error of require "par", as of parlua
for env, msg in pairs{
  ["PARLUA_NUM_THREADS=abc"] = "bad PARLUA_NUM_THREADS 'abc' (positive integer expected)",
  ["PARLUA_MAX_MEMORY=1x"] =
    "bad PARLUA_MAX_MEMORY '1x' (bytes expected, optionally with a K, M, G or T suffix)",
} do
  local _, text = T.run(string.format("%s LUA_CPATH=%s LUA_INIT= lua5.4 -e %s 2>&1", env,
    T.q(build .. "/?.so"), T.q("print(pcall(require, 'par'))")))
  assert(text == "false\t" .. msg .. "\n", text)
end

-- par.linalg is loaded on first use, next to par.so
ok, out = lua54("print(type(par.linalg), type(par.linalg.matmul))")
assert(ok and out == "table\tfunction\n", out)
-- closing the state dlcloses par.so: threads of OpenMP, OpenBLAS and the
-- Lua-mode watcher must not be left running unmapped code (the first
-- crashed nearly every time)
for _ = 1, 3 do
  ok, out = lua54("print(par.cos(par.ones(100000)):sum()); os.exit(0, true)")
  assert(ok and out == "54030.230586814\n", out)
  ok, out = lua54("print(par.prange(3, function (i) return i end, {mode = 'lua'}), "
    .. "par.linalg.det(par.ones(3, 3))); os.exit(0, true)")
  assert(ok and out == "[1 2 3]\t0.0\n", out)
end
print("OK")
