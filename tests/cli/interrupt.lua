-- interrupt.lua: SIGINT sent to a child parlua in the middle of long
-- element-wise operations, reductions, a large sort, a batch of LAPACK
-- calls and (when they exist) Lua-mode kernels, native kernels and the C
-- compiler building one: the child must stop within MAX_DELAY seconds
-- with status 1 and "interrupted!" on stderr, as lua does, leaving no
-- compiler running; an interrupt caught by pcall must leave the process
-- working.
-- In the REPL (through util-linux 'script', as tty.lua) Ctrl-C during a
-- computation must come back to the prompt.
-- Run as: parlua tests/cli/interrupt.lua <path of the parlua binary>

local T = dofile(arg[0]:match("^(.-)[^/]*$") .. "../lua/common.lua")
local q = T.q
local bin = T.parlua_bin()
print("testing SIGINT during computations")

-- Seconds from the signal to the child's exit. Sanitizer builds get more:
-- ASan's allocator fills a large block of kernel block records (a Lua-mode
-- loop of 10^10 iterations) at allocation and again at release.
local MAX_DELAY = os.getenv("PARLUA_SANITIZED") and 5 or 1.5

local script = T.tmpname()

-- Runs `parlua -t 2 script` in the background, the script being chunk (a
-- file, so that native kernels find their source) and 'env' ("VAR=value
-- ...") added to the environment; chunk prints "ready" when the long part
-- starts. Sends SIGINT 0.3 s later and returns the exit status, the delay
-- between the signal and the exit, stdout after "ready" and stderr.
local function interrupt (chunk, env)
  T.writefile(script, chunk)
  return T.interrupt(string.format("%s %s %s -t 2 %s", T.NO_INIT, env or "", q(bin), q(script)),
                     0.3)
end

local failures = {}   -- every case runs; the failures are listed at the end

local function expect (ok, msg)
  if not ok then
    failures[#failures + 1] = msg
    print("  FAIL " .. msg)
  end
end

-- The child must stop in time, with lua's status and message.
local function check_stops (what, chunk, env)
  local status, delay, _, e = interrupt(chunk, env)
  print(string.format("  %-36s stopped %.2f s after SIGINT", what, delay))
  expect(status == 1, what .. ": status " .. tostring(status) .. "\n" .. e)
  expect(e:find("interrupted!", 1, true), what .. ": stderr: " .. e)
  expect(delay <= MAX_DELAY, string.format("%s: stopped %.2f s after SIGINT", what, delay))
end

local READY = "print('ready') io.stdout:flush() "

check_stops("element-wise operations", "local a = par.ones(2e7) " .. READY
  .. "while true do a = par.exp(a * 0.5) end")
check_stops("reductions", "local a = par.ones(3e7) " .. READY
  .. "while true do local s = a:sum() + a:max() end")
-- one sort of 2e7 elements takes a second or so (640 MB with its scratch): the
-- serial radix passes must poll the flag
check_stops("a large 1-D sort", "local a = par.rng(1):random(2e7) " .. READY
  .. "for k = 1, 1e9 do local s = a:sort() end")
check_stops("a batch of LAPACK calls", "local A = par.rng(1):random({150, 150}) "
  .. "par.linalg.inv(A) " .. READY .. "for k = 1, 1e9 do A = par.linalg.inv(A) end")

-- An interrupt caught by pcall: the flag is cleared, the threads work on.
do
  local status, _, out, e = interrupt("local a = par.ones(2e7) " .. READY
    .. "local ok, msg = pcall(function () while true do a = par.exp(a * 0.5) end end) "
    .. "print(ok, msg) local s = par.ones(1e6):sum() "
    .. "for k = 1, 20 do s = s + par.ones(1e6):sum() end print(s)")
  assert(status == 0, e)
  assert(out:find("^false\t[^\n]*interrupted!\n"), out)
  assert(out:find("\n21000000.0\n$"), out)
  print("  an interrupt caught by pcall: the process works on")
end

if par.preduce then
  check_stops("a Lua-mode kernel", READY
    .. "par.preduce('+', 1e10, function (i) return i % 7 end, {mode = 'lua'})")
  -- iterations in long C operations: the first to see the signal must not
  -- clear it for the other (it did: the other went on for 45 s); then the
  -- flag is cleared and the process works on
  local status, delay, out, e = interrupt(READY .. "local ok, msg = pcall(par.prange, 2, function (i) "
    .. "local a = par.zeros(2e7) for k = 1, 1000 do a = par.cos(a) + 1 end return a[1] end, "
    .. "{mode = 'lua'}) print(ok, msg) print(par.ones(1e6):sum())")
  print(string.format("  %-36s stopped %.2f s after SIGINT", "Lua-mode iterations in C", delay))
  expect(status == 0 and out:find("^false\t[^\n]*interrupted!\n1000000.0\n$"), out .. e)
  expect(delay <= MAX_DELAY, string.format("Lua-mode iterations in C: %.2f s after SIGINT", delay))
  if pcall(par.preduce, "+", 10, function (i) return i end, {mode = "native"}) then
    check_stops("a native kernel", READY
      .. "par.preduce('+', 1e10, function (i) return math.sin(i) end, {mode = 'native'})")
    -- a compiler that takes 30 s, in an empty cache: SIGINT while it runs
    -- stops parlua and the compiler both
    local cache, cc = T.tmpdir(), T.tmpname()
    T.writefile(cc, "#!/bin/sh\nsleep 30 # " .. cc .. "\nexec cc \"$@\"\n")
    assert(os.execute("chmod +x " .. q(cc)))
    check_stops("the compilation of a native kernel", READY
      .. "par.prange(10, function (i) return i + 0.5 end, {mode = 'native'})",
      "PARLUA_CC=" .. q(cc) .. " PARLUA_CACHE=" .. q(cache))
    os.execute("sleep 0.2")
    -- "[/]tmp/..." matches the compiler's command line, not this shell's
    local pattern = "[" .. cc:sub(1, 1) .. "]" .. cc:sub(2)
    expect(not os.execute("pgrep -f " .. q(pattern) .. " > /dev/null"),
           "the compiler was left running")
    T.rmtree(cache)
    os.remove(cc)
  else
    print("  (no native kernels here: native case skipped)")
  end
else
  print("  (no par.preduce yet: kernel cases skipped)")
end
os.remove(script)


print("testing Ctrl-C during a computation in the REPL")
if not T.has_script() then
  print("  ('script' from util-linux not found: REPL case skipped)")
  assert(#failures == 0, #failures .. " interruption cases failed")
  print("OK")
  return
end

-- Types into the REPL in a pseudo-terminal: a computation of 8 s, Ctrl-C
-- after 1 s, then at once a line that prints how long the computation
-- took: it is read when the prompt is back.
local home = T.tmpdir()
local t = T.terminal(q(bin) .. " -t 2", {0.3,
  "x = par.ones(1e7) t0 = par.clock() while par.clock() - t0 < 8 do x = par.exp(x * 0.5) end"
    .. " print('finished')\n",
  1.0, "\3", 0.05,
  "print(string.format('back after %.2f', par.clock() - t0))\n", 1.5,
  "\4",
}, "HOME=" .. q(home) .. " TERM=dumb INPUTRC=/dev/null"):gsub("\r", "")
T.rmtree(home)
local back = tonumber(t:match("\nback after ([%d.]+)\n"))
expect(t:find("interrupted!", 1, true) and not t:find("\nfinished\n", 1, true) and back,
       "REPL transcript:\n" .. t)
if back then
  print(string.format("  prompt back %.2f s after the computation started "
                      .. "(Ctrl-C 1 s after typing it)", back))
  expect(back <= 1.0 + MAX_DELAY, string.format("REPL: prompt back after %.2f s", back))
end
assert(#failures == 0, #failures .. " interruption cases failed")
print("OK")
