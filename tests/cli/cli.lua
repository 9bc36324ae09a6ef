-- cli.lua: tests of the parlua program, in the style of Lua's testes/main.lua:
-- options, the 'arg' table, errors and exit codes, LUA_INIT, warnings, the
-- parlua options, the REPL through a pipe and Ctrl-C.
-- Run as: parlua tests/cli/cli.lua <path of the parlua binary>

local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local q, writefile = T.q, T.writefile
local bin = T.parlua_bin()
print("testing the parlua program " .. bin)

local prog = T.tmpname()     -- a script
local dir = T.tmpdir()       -- a folder for modules

-- Runs "parlua <args>" with 'stdin' (a string, default empty) as standard
-- input and 'env' ("VAR=value ...") in the environment, but no LUA_INIT
-- unless env sets it. Returns the exit status, stdout and stderr.
local function run (args, stdin, env)
  return T.run(string.format("%s %s %s %s", T.NO_INIT, env or "", q(bin), args), stdin)
end

-- Asserts that a run succeeds and prints exactly 'expected' on stdout.
local function checkout (expected, args, stdin, env)
  local code, o, e = run(args, stdin, env)
  if code ~= 0 or o ~= expected then
    error(string.format("parlua %s\nstatus %d\nstdout: [%s]\nexpected: [%s]\nstderr: [%s]",
                        args, code, o, expected, e), 2)
  end
  return e
end

-- Asserts that a run fails with 'status' (default 1) and that stderr
-- contains 'msg' (plain text). Returns stdout and stderr.
local function checkfail (msg, args, stdin, env, status)
  local code, o, e = run(args, stdin, env)
  if code ~= (status or 1) or not string.find(e, msg, 1, true) then
    error(string.format("parlua %s\nstatus %d\nstderr: [%s]\nexpected: [%s]",
                        args, code, e, msg), 2)
  end
  return o, e
end


print("testing -e, -l, - and --")
checkout("2\n", [[-e "print(1 + 1)"]])
checkout("1\n3\n", [["-eprint(1)" -ea=3 -e "print(a)"]])
checkout("", [[-e ""]])
writefile(dir .. "/clitestmod.lua", "print('loading', ...); return {v = 42}")
local path = "LUA_PATH=" .. q(dir .. "/?.lua")
checkout("loading\tclitestmod\t" .. dir .. "/clitestmod.lua\n42\n",
         [[-l clitestmod -e "print(clitestmod.v)"]], nil, path)
checkout("loading\tclitestmod\t" .. dir .. "/clitestmod.lua\n42\tnil\n",
         [[-lm=clitestmod -e "print(m.v, clitestmod)"]], nil, path)
checkout("0.0\n", [[-l mth=math -e "print(mth.sin(0))"]])
checkfail("module 'nosuchmod' not found", "-l nosuchmod")
checkout("10\n2\n", "", "print(10)\nprint(2)\n")          -- stdin, no arguments
checkout("-\tx\ty\n", "- x y", "print(arg[0], ...)")
writefile(prog, "print(...)")
checkout("a\t-e\n", "-- " .. q(prog) .. " a -e")
checkout("--help\t-t\n", q(prog) .. " --help -t")          -- options of the script


print("testing the arg table")
writefile(prog, string.format([[
  assert(#arg == 2 and arg[1] == "a" and arg[2] == "b c")
  assert(arg[0] == %q and arg[-1] == "" and arg[-2] == "-e")
  assert(arg[-3] == "2" and arg[-4] == "-t" and arg[-5] == %q)
  assert(arg[-6] == nil and arg[3] == nil)
  local x, y = ...
  assert(x == "a" and y == "b c" and select("#", ...) == 2)
  print("ok")
]], prog, bin))
checkout("ok\n", "-t 2 -e '' " .. q(prog) .. " a 'b c'")
checkout(bin .. "\t-e\tnil\n", [[-e "print(arg[0], arg[1], arg[-1])"]])
checkout("100\n", [[-e "arg[1] = 100" -]], "print(...)")
checkfail("'arg' is not a table", [[-e "arg = 1" -]], "")


print("testing errors and exit codes")
writefile(prog, "local function f ()\n  error('boom')\nend\nf()\n")
local o, e = checkfail(bin .. ": " .. prog .. ":2: boom\nstack traceback:", q(prog))
assert(o == "" and string.find(e, "in local 'f'", 1, true) and
       string.find(e, "in main chunk", 1, true))
writefile(prog, "x = = 1")
o, e = checkfail(prog .. ":1: unexpected symbol near '='", q(prog))
assert(not string.find(e, "traceback"))
checkfail("syntax error", "-e a")
checkfail("(error object is a table value)", [[-e "error({})"]])
checkfail("(error object is a nil value)", [[-e "error(nil)"]])
o, e = checkfail(": custom\n", [[-e "error(setmetatable({}, {__tostring = function () return 'custom' end}))"]])
assert(not string.find(e, "traceback"))
checkfail("cannot open nosuchfile.lua", "nosuchfile.lua")
checkfail("", [[-e "os.exit(3)"]], nil, nil, 3)
checkfail("", [[-e "os.exit(false)"]])
checkfail("", [[-e "os.exit(false, true)"]])
checkout("", [[-e "os.exit(true)"]])
checkout("", [[-e "os.exit(0, true)"]])
checkout("1\n", [[-e "print(1) os.exit()" -e "print(2)"]])
checkfail("", [[-e "error('x')" -e "print(2)"]])            -- stops at the first error


print("testing LUA_INIT and -E")
writefile(prog, "print(X, ...)")
checkout("5\tx\n", q(prog) .. " x", nil, [[LUA_INIT="X=tonumber(arg[1]) or 5"]])
checkout("10\n", [[-e "print(X)"]], nil, [[LUA_INIT_5_4="X=10" LUA_INIT="X=3"]])
writefile(prog, "Y = (Y or 0) + 1")
checkout("1\n", [[-e "print(Y)"]], nil, "LUA_INIT=@" .. q(prog))
checkfail("LUA_INIT:1: msg", "", nil, [[LUA_INIT="error('msg')"]])
checkfail("cannot open /nonexistent", [[-e ""]], nil, "LUA_INIT=@/nonexistent")
checkout("nil\tfalse\n",
         [[-E -e "print(X, string.find(package.path, 'xyz') ~= nil)"]], nil,
         [[LUA_INIT="X=1" LUA_INIT_5_4="X=2" LUA_PATH=xyz]])
checkout("xyz\n", [[-e "print(package.path)"]], nil, "LUA_PATH=xyz")


print("testing warnings")
checkout("", [[-e "warn('hidden')"]])
e = checkout("", [[-W -e "warn('shown', '!')"]])
assert(e == "Lua warning: shown!\n")
e = checkout("", [[-e "warn('@on'); warn('late')"]])
assert(e == "Lua warning: late\n")


print("testing -v, --version, --help and bad options")
local code
code, o, e = run("-v")
assert(code == 0 and e == "")
assert(string.find(o, "^parlua %d+%.%d+%.%d+ on Lua 5%.4%.%d+  Copyright .-PUC%-Rio\n$"))
code, o = run([[-v -e "print('hello')"]])
assert(code == 0 and string.find(o, "PUC%-Rio\nhello\n$"))
code, o, e = run("--version")
assert(code == 0 and e == "")
assert(o == "parlua " .. par.version .. " (" .. _VERSION .. "." ..
            string.match(o, "5%.4%.(%d+)") .. ")\n")
code, o, e = run("--version -e 'print(1)'")     -- --version stops there
assert(code == 0 and not string.find(o, "1\n"))
code, o, e = run("--help")
assert(code == 0 and e == "" and string.find(o, "^usage: "))
for _, opt in ipairs{"-e stat", "-i", "-l mod", "-l g=mod", "-v", "-E", "-W",
                     "-t N, --threads N", "--seed S", "--no-jit", "--help",
                     "--version", "--", "-  "} do
  assert(string.find(o, "\n  " .. opt, 1, true), opt)
end
local function badoption (msg, args)
  local so, se = checkfail(msg, args)
  assert(so == "" and string.find(se, "\nusage: ", 1, true), args)
end
badoption("unrecognized option '-h'", "-h")
badoption("unrecognized option '---'", "---")
badoption("unrecognized option '--bogus'", "--bogus -e 'print(1)'")
badoption("unrecognized option '--threadsx'", "--threadsx 2")
badoption("unrecognized option '-Ex'", "-Ex")
badoption("unrecognized option '-vv'", "-vv")
badoption("unrecognized option '-iv'", "-iv")
badoption("'-e' needs argument", "-e")
badoption("'-e' needs argument", "-e -v")
badoption("'-l' needs argument", "-l")
badoption("'-t' needs argument", "-t")
badoption("'--threads' needs argument", "--threads")
badoption("'--seed' needs argument", "--seed")


print("testing -t, --threads and --no-jit")
checkout("2\n", [[-t 2 -e "print(par.threads())"]])
checkout("3\n", [[-t3 -e "print(par.threads())"]])
checkout("1\n", [[--threads 1 -e "print(par.threads())"]])
checkout("4\n", [[--threads=4 -e "print(par.threads())"]])
checkout("2\n", [[-e "print(par.threads())" -t 2]])        -- set before any code
for _, bad in ipairs{"0", "x", "-1", "1.5", "2x", "' 2'", "''", "+2"} do
  o = checkfail("bad value for '-t' (positive integer expected, got '",
                "-t " .. bad .. [[ -e "print('ran')"]])
  assert(o == "")
end
checkfail("bad value for '--threads' (positive integer expected, got '0')", "--threads=0")
checkfail("bad value for '--threads' (positive integer expected, got '')", "--threads=")
checkfail("bad value for '-t' (at most 4096 threads, got '100000')", "-t 100000")
checkfail("bad value for '-t' (at most 4096 threads, got '99999999999999999999')",
          "-t 99999999999999999999")
checkout("ok\n", [[--no-jit -e "print('ok')"]])
checkout("ok\n", [[--no-jit -t 1 -e "print('ok')"]])


print("testing PARLUA_NUM_THREADS, OMP_NUM_THREADS and PARLUA_MAX_MEMORY")
local threads = [[-e "print(par.threads())"]]
for _, bad in ipairs{"0", "-1", "abc", "2x", " 2", "1.5", "+2"} do
  o = checkfail(bin .. ": bad PARLUA_NUM_THREADS '" .. bad .. "' (positive integer expected)\n",
                threads, nil, "PARLUA_NUM_THREADS=" .. q(bad))
  assert(o == "")
end
checkfail("bad PARLUA_NUM_THREADS '5000' (at most 4096 threads)", threads, nil,
          "PARLUA_NUM_THREADS=5000")
checkout("3\n", threads, nil, "PARLUA_NUM_THREADS=3 OMP_NUM_THREADS=2")
checkout("2\n", "-t 2 " .. threads, nil, "PARLUA_NUM_THREADS=abc")   -- -t wins
-- OMP_NUM_THREADS: the outer level of a list; a bad value is ignored
local _, cores = run(threads, nil, "PARLUA_NUM_THREADS= OMP_NUM_THREADS=")
checkout("5\n", threads, nil, "PARLUA_NUM_THREADS= OMP_NUM_THREADS=5,2")
checkout("3\n", threads, nil, "PARLUA_NUM_THREADS= OMP_NUM_THREADS=3")
for _, bad in ipairs{"abc", "0", "5000", "x,2"} do
  checkout(cores, threads, nil, "PARLUA_NUM_THREADS= OMP_NUM_THREADS=" .. bad)
end
for _, bad in ipairs{"abc", "1x", "16E", "1.5G", "1MB", "-1", " 1M", "1K2"} do
  o = checkfail(bin .. ": bad PARLUA_MAX_MEMORY '" .. bad ..
                "' (bytes expected, optionally with a K, M, G or T suffix)\n",
                [[-e "print('ran')"]], nil, "PARLUA_MAX_MEMORY=" .. q(bad))
  assert(o == "")
end
checkfail("bad PARLUA_MAX_MEMORY '99999999999T' (too large)", "-e ''", nil,
          "PARLUA_MAX_MEMORY=99999999999T")
local two = [[-e "print((pcall(par.zeros, 2^17)), (pcall(par.zeros, 2^19)))"]]
checkout("true\tfalse\n", two, nil, "PARLUA_MAX_MEMORY=2m")
checkout("true\tfalse\n", two, nil, "PARLUA_MAX_MEMORY=2097152")
checkout("true\ttrue\n", two, nil, "PARLUA_MAX_MEMORY=1T")
checkout("true\ttrue\n", two, nil, "PARLUA_MAX_MEMORY=0")
-- at the cap, garbage is collected before an allocation fails, as Lua does
-- for its own memory (24 MB arrays, at most 3 alive, under a 100 MB cap)
checkout("2.0\n", [[-e "local a = par.zeros(3e6) for t = 1, 60 do a = a * 0.5 + 1 end print(a[1])"]],
         nil, "PARLUA_MAX_MEMORY=100M")
-- par.zeros in the iterations of a par.jit function's loops: freed at each
-- iteration's end (2000 x 800 KB in a parallel loop, 40 x 8 MB in a serial one)
checkout("2001000.0\t210.0\n", [[-e "local f = par.jit(function (n, m) local s = 0.0 ]]
  .. [[for k in par.prange(n) do local z = par.zeros(m); z[m] = k; s = s + z[m] end return s end) ]]
  .. [[local g = par.jit(function (n) local s = 0.0 for k = 1, n do local z = par.zeros(1e6); ]]
  .. [[z[1] = k; s = s + z[1] end return s end) print(f(2000, 100000), g(20))"]], nil,
  "PARLUA_MAX_MEMORY=64M")


print("testing --seed")
checkfail("bad value for '--seed' (number expected, got 'abc')", "--seed abc -e ''")
checkfail("bad value for '--seed' (number expected, got '')", "--seed= -e ''")
checkfail("bad value for '--seed' (integer expected, got '1.5')", "--seed 1.5 -e ''")
checkfail("bad value for '--seed' (integer expected, got '1e999')", "--seed 1e999")
checkfail("bad value for '--seed' (number expected, got '0/0')", "--seed 0/0")
if type(par.seed) == "function" then
  checkout("42\n", [[--seed 42 -e "print(math.tointeger(par.seed()))"]])
  checkout("16\n", [[--seed=0x10 -e "print(math.tointeger(par.seed()))"]])
  checkout("1000\n", [[--seed 1e3 -e "print(math.tointeger(par.seed()))"]])
  if type(par.random) == "function" then  -- the same seed, the same numbers
    local _, a = run([[--seed 7 -e "print(par.random())"]])
    local _, b = run([[--seed 7 -e "print(par.random())"]])
    local _, c = run([[--seed 8 -e "print(par.random())"]])
    assert(a == b and a ~= c and string.find(a, "^0%.%d+\n$"))
  end
else
  print("  (par.seed is absent: only its absence is checked)")
  checkfail("--seed: the par.seed function is not available", "--seed 42 -e ''")
end


print("testing par")
checkout("true\ttable\n", [[-e "print(require 'par' == par, type(par))"]])
checkout("true\n", [[-e "print(package.loaded.par == par)"]])


print("testing the REPL through a pipe")
local P = [[-e "_PROMPT='' _PROMPT2=''" -i]]
code, o, e = run(P, "1 + 1\nfor i = 1, 2 do\nprint(i)\nend\n=3*4\nreturn 5, 6\n")
assert(code == 0 and e == "")
assert(string.find(o, "\n2\n.*\n1\n2\n.*\n12\n.*\n5\t6\n"))
assert(string.find(o, "^parlua .-PUC%-Rio\n"))     -- -i implies -v
-- values print through the global print, so __tostring applies
code, o = run(P, "setmetatable({}, {__tostring = function () return 'T!' end})\n")
assert(code == 0 and string.find(o, "\nT!\n"))
code, o = run([[-e "print = function (...) io.write('P:', select('#', ...), '\n') end" -i]],
              "1, nil, 3\n")
assert(code == 0 and string.find(o, "\nP:3\n"))
-- errors: message and traceback, no program name, and the REPL goes on
code, o, e = run(P, "error('boom')\nprint('next')\n")
assert(code == 0 and string.find(o, "\nnext\n"))
assert(string.find(e, "^stdin:1: boom\nstack traceback:"))
-- an incomplete chunk at the end of input is a syntax error
code, o, e = run(P, "for i = 1, 2 do\n")
assert(code == 0 and string.find(e, "^stdin:1: 'end' expected near <eof>\n"))
-- prompts, defaults and _PROMPT/_PROMPT2
code, o = run("-i", "x = 1\nif x then\nend\n")
assert(string.find(o, "\n> x = 1\n> if x then\n>> end\n> \n$"))
code, o = run([[-e "_PROMPT='P1:' _PROMPT2=setmetatable({}, {__tostring = function () return 'P2:' end})" -i]],
              "do\nend\n")
assert(string.find(o, "\nP1:do\nP2:end\nP1:\n$"))
-- a script then the REPL, with the script's variables
writefile(prog, "Z = 99")
code, o = run(P .. " " .. q(prog), "Z\n")
assert(code == 0 and string.find(o, "\n99\n"))
-- print failing
code, o, e = run([[-e "print = nil" -i]], "10\n")
assert(code == 0 and string.find(e, "error calling 'print'", 1, true))


print("testing Ctrl-C")
-- Runs parlua -e 'chunk' in the background, waits for its first line,
-- "ready", sends SIGINT and returns its exit status, its stdout after the
-- first line, and its stderr.
local function interrupt (chunk, threads)
  local status, delay, so, se = T.interrupt(string.format("%s %s -t %d -e %s", T.NO_INIT,
                                                          q(bin), threads, q(chunk)))
  assert(delay <= 10, "SIGINT did not stop parlua")
  return status, so, se
end

local status, so, se = interrupt("print('ready') while true do end", 1)
assert(status == 1 and so == "")
assert(string.find(se, "interrupted!\nstack traceback:", 1, true))
-- a pcall catches the interruption and the script goes on
status, so = interrupt("pcall(function () print('ready') while true do end end) print('after')", 2)
assert(status == 0 and so == "after\n")


os.remove(prog)
os.remove(dir .. "/clitestmod.lua"); os.remove(dir)
print("OK")
