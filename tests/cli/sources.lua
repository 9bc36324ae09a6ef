-- sources.lua: native kernels from chunks without a file (REPL lines, -e
-- code, a script on stdin), whose text the host keeps; and sources checked
-- against the bytecode (a file edited after loading is not used).
-- Run as: parlua tests/cli/sources.lua <path of the parlua binary>

local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local bin = T.parlua_bin()
print("testing kernel sources")

-- Runs parlua with 'args' and 'stdin'; returns stdout+stderr and the status.
local function run (args, stdin)
  local code, o = T.run(string.format("%s %s %s 2>&1", T.NO_INIT, T.q(bin), args), stdin)
  return o, code
end

local function expect (o, code, pattern)
  assert(code == 0 and string.find(o, pattern), o)
end

-- REPL lines: functions at the same line numbers of different lines stay
-- apart; multi-line chunks; expressions (compiled as 'return ...').
local repl = [[
f = function(i) return i * 2 end
g = function(i) return i * 3 end
a = par.array({1, 2, 3})
print(par.explain(f))
print(par.map(g, a, {mode = "native"}), par.map(f, a, {mode = "native"}))
h = function(i)
  return i + 0.5
end
print(par.map(h, a, {mode = "native"}))
par.preduce("+", 10, function(i) return i * i end, {mode = "native"})
w = par.jit(function(n)
  local s = 0.0
  for i in par.prange(n) do s = s + i end
  return s
end)
print("jit", w(100))
print(pcall(par.map, function(i) return {i} end, a, {mode = "native"}))
]]
local o, code = run("-i", repl)
expect(o, code, "native: yes.-function at stdin:1 %(i: int%)")
expect(o, code, "%[3 6 9%]\t%[2 4 6%]")
expect(o, code, "%[1%.5 2%.5 3%.5%]")
expect(o, code, "\n385\n")
expect(o, code, "jit\t5050%.0")
expect(o, code, "false\tnot native: stdin:1:%d+: table constructor is not supported")

-- The same through a pseudo-terminal is tests/cli/tty.lua's business; here
-- -e chunks and a script on stdin (with a '#' first line).
o, code = run([[-e "f = function(i) return i - 1 end" -e "print(par.map(f, par.array({5}), {mode = 'native'}))"]])
expect(o, code, "^%[4%]\n$")
o, code = run("-", "#!/usr/bin/env parlua\nlocal k = function(i)\n  return i // 0\nend\n" ..
  "print(pcall(par.prange, 3, k, {mode = 'native'}))\n")
expect(o, code, "false\titeration 1: stdin:3: attempt to divide by zero")
-- without '-' too, as lua5.4 reads stdin when it has no arguments
o, code = run("", "local k = function(i) return i * 2 end\nprint(par.prange(3, k, {mode = 'native'}))\n")
expect(o, code, "^%[2 4 6%]\n$")

-- A file edited after its function was loaded: the old function's source is
-- gone, so it is not compiled from the new text.
local path = T.tmpname(".lua")
local script = string.format([[
local function write(s) local f = assert(io.open(%q, "w")); f:write(s); f:close() end
write("return function(i) return i * 2 end\n")
local f1 = dofile(%q)
write("return function(i) return i * 3 end\n")
local f2 = dofile(%q)
local a = par.array({1, 2, 3})
print(par.map(f2, a, {mode = "native"}), par.map(f1, a))
print(par.explain(f1))
local named = load("return function(i) return i + 1 end", "=named")()
local virtual = load("local k = ...\nreturn function(i)\n  return i * k\nend", "@virtual.lua")(3)
print("named", par.map(named, a, {mode = "native"}), par.map(virtual, a, {mode = "native"}))
print(par.explain(load(%q, "=bin", "b")()))
print(par.explain(load("return function(i) return i end")()))
]], path, path, path, string.dump(load("return function(i) return i end", "=bin")))
o, code = run("-", script)
expect(o, code, "\n%[3 6 9%]\t%[2 4 6%]\n")
expect(o, code, "runs in Lua mode: the source file '[^']*' has changed since the function was loaded")
expect(o, code, "not native: the source file '[^']*' has changed since the function was loaded")
-- strings given to load under a name of their own: the host keeps them
-- (a binary chunk made by another process has no text here)
expect(o, code, "named\t%[2 3 4%]\t%[3 6 9%]")
expect(o, code, "not native: the source of chunk 'bin' is not available")
expect(o, code, "native: yes")
os.remove(path)
print("OK")
