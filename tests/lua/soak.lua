-- soak.lua: 10,000 rounds of small array operations (and small kernels,
-- when par.prange exists) must run in flat memory: the resident set size
-- (VmRSS), the thread count and the open files are sampled every 1,000
-- rounds and may not grow after a warm-up. Arrays are freed by the
-- garbage collector or at once by <close>.
-- Under sanitizers (PARLUA_SANITIZED set by .ci/stages) freed memory sits
-- in ASan's quarantine, so only threads and files are checked there; LSan
-- checks for leaks at exit.
print("testing memory, threads and files over 10,000 rounds")

local ROUNDS, WARMUP, EVERY = 10000, 2000, 1000
local RSS_SLACK = 24 * 1024      -- kB of growth allowed after the warm-up
local sanitized = os.getenv("PARLUA_SANITIZED")

local function status (field)
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)"))
end

local open_files = require("common").open_files

local g = par.rng(11)
local file = os.tmpname()
local kernels = par.prange ~= nil

-- One round: a dozen operations on arrays of a few thousand elements.
local function round (k)
  local x = par.linspace(0, 1, 1000 + k % 7)
  local y = par.exp(x) * 2 + x ^ 2 - 1
  assert(math.type(y:sum()) == "float")
  local s <close> = y:sort()
  assert(s[1] <= s[#s])
  local m = g:normal(0, 1, {20, 30})
  local row = m[k % 20 + 1]
  assert(#row == 30 and m:mean(1).size == 30)
  local mask = par.gt(x, 0.5)
  assert(x:select(mask).size == mask:count())
  local t = par.array({{1, 2, k}, {4, 5, 6}})
  assert(t:get(1, 3) == k and t.T.shape[1] == 3)
  assert(g:integers(0, 10, 50):max() < 10)
  if k % 10 == 0 then
    local a = par.linalg.matmul(m, m.T)
    assert(a.shape[1] == 20)
  end
  if k % 100 == 0 then
    m:save(file)
    assert(par.load(file).size == 600)
    t:savetxt(file)
    assert(par.loadtxt(file).size == 6)
    assert(#tostring(m) > 0)
    local big = par.zeros(300000)          -- 2.4 MB: the buffer reuse path
    big[k] = 1
    assert(big:sum() == 1.0)
  end
  if kernels then
    local r = par.prange(64, function (i) return i * 0.5 end)
    assert(r[64] == 32.0)
    assert(par.preduce("+", 100, function (i) return i end) == 5050)
    assert(par.map(function (v) return v + 1 end, x)[1] == 1.0)
    if k % 10 == 0 then
      local l = par.prange(16, function (i) return i end, {mode = "lua"})
      assert(l[16] == 16)
    end
  end
end

local base, peak = {}, {}
for k = 1, ROUNDS do
  round(k)
  if k % EVERY == 0 then
    local now = {rss = status("VmRSS"), threads = status("Threads"), files = open_files()}
    if k == WARMUP then base = now end
    if k > WARMUP then
      for key, v in pairs(now) do peak[key] = math.max(peak[key] or v, v) end
    end
  end
end
os.remove(file)

print(string.format("  after the warm-up: RSS %d kB (peak +%d kB), %d threads, %d files",
                    base.rss, peak.rss - base.rss, base.threads, base.files))
assert(peak.threads <= base.threads, "threads grew from " .. base.threads .. " to " .. peak.threads)
assert(peak.files <= base.files, "open files grew from " .. base.files .. " to " .. peak.files)
if not sanitized then
  assert(peak.rss - base.rss <= RSS_SLACK,
         string.format("RSS grew by %d kB over %d rounds", peak.rss - base.rss, ROUNDS - WARMUP))
end
print("OK")
