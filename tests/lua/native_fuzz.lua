-- native_fuzz.lua: differential fuzzing of the kernel compiler. Random
-- programs (integer, float and boolean arithmetic with loops, ifs, calls,
-- array reads and writes, // and % edge cases) run compiled through
-- par._native.jit and by plain Lua, on many arguments each; both must
-- agree exactly: values, math.type, array contents and error messages.
-- Runs for PARLUA_FUZZ_SECONDS (default 3); PARLUA_FUZZ_SEED replays a
-- run (program k of a run uses seed + k - 1, so the seed printed with a
-- failing program replays it first); PARLUA_FUZZ_VERBOSE lists refusals
-- and the kinds of errors the programs raised.
print("testing native kernels with random programs")

local T = require "common"
local N = par._native

local seed = math.tointeger(tonumber(os.getenv("PARLUA_FUZZ_SEED") or ""))
  or (os.time() * 1000 + math.floor(os.clock() * 1000)) % 1000000007
local seconds = tonumber(os.getenv("PARLUA_FUZZ_SECONDS") or "") or 3
print(string.format("fuzz seed %d (replay with PARLUA_FUZZ_SEED=%d), %g s", seed, seed, seconds))

local R = math.random
local format, concat = string.format, table.concat

local function pick (t) return t[R(#t)] end

---------------------------------------------------------------------------
-- The generator: type-correct by construction (every variable is a number
-- or a boolean), loops bounded by literals or counters
---------------------------------------------------------------------------

local int_lits = {"0", "1", "2", "3", "-1", "-2", "5", "7", "10", "100", "-7", "63", "64",
  "math.maxinteger", "math.mininteger", "0x7fffffff", "-(1 << 53)"}
local float_lits = {"0.5", "-1.5", "2.0", "0.0", "-0.0", "3.25", "1e300", "-1e300", "1e-310",
  "(1/0)", "(-1/0)", "(0/0)", "math.pi", "math.huge", "7.0", "-2.5", "0.1", "2^53"}

local G   -- state of the program being generated

local function newname (prefix)
  G.nnames = G.nnames + 1
  return prefix .. G.nnames
end

local function vars_of (kind, writable)
  local out = {}
  for s = #G.scopes, 1, -1 do
    for _, v in ipairs(G.scopes[s]) do
      if v.kind == kind and not (writable and v.readonly) then out[#out + 1] = v.name end
    end
  end
  return out
end

local function declare (name, kind, readonly)
  local sc = G.scopes[#G.scopes]
  sc[#sc + 1] = {name = name, kind = kind, readonly = readonly}
end

local numexpr, boolexpr, intexpr, index

-- A call of a helper (its results not adjusted).
local function helper_call (d)
  local h = pick(G.helpers)
  local args = {}
  for k = 1, h.nparams do args[k] = numexpr(d - 1) end
  if h.rec then args[#args + 1] = tostring(R(0, 4)) end
  return format("%s(%s)", h.name, concat(args, ", ")), h
end

local function num_leaf ()
  local vs = vars_of("num")
  if #vs > 0 and R() < 0.55 then return pick(vs) end
  if R() < 0.6 then return pick(int_lits) end
  return pick(float_lits)
end

local arith = {"+", "-", "*", "/", "//", "%", "^", "+", "-", "*", "//", "%"}
local bitops = {"&", "|", "~", "<<", ">>"}
local math1 = {"math.floor", "math.ceil", "math.abs", "math.sqrt", "math.exp", "math.sin",
  "math.cos", "math.log"}

function numexpr (d)
  if d <= 0 or R() < 0.25 then return num_leaf() end
  local r = R(100)
  if r <= 40 then
    return format("(%s %s %s)", numexpr(d - 1), pick(arith), numexpr(d - 1))
  elseif r <= 45 then
    return format("(- %s)", numexpr(d - 1))
  elseif r <= 50 then   -- mostly on integers: floats rarely convert
    if R() < 0.2 then return format("(~%s)", intexpr(d - 1)) end
    return format("(%s %s %s)", intexpr(d - 1), pick(bitops), intexpr(d - 1))
  elseif r <= 62 then
    return format("%s(%s)", pick(math1), numexpr(d - 1))
  elseif r <= 70 then
    local f = pick{"math.max", "math.min", "math.fmod"}
    if f ~= "math.fmod" and R() < 0.3 then
      return format("%s(%s, %s, %s)", f, numexpr(d - 1), numexpr(d - 1), numexpr(d - 1))
    end
    return format("%s(%s, %s)", f, numexpr(d - 1), numexpr(d - 1))
  elseif r <= 73 then
    return format("(math.modf(%s))", numexpr(d - 1))
  elseif r <= 80 then
    return format("(%s and %s or %s)", boolexpr(d - 1), numexpr(d - 1), numexpr(d - 1))
  elseif r <= 88 and #G.helpers > 0 then
    return format("(%s)", helper_call(d))
  elseif r <= 95 and not G.noarrays then
    local a = pick{"A", "I"}
    if R() < 0.15 then return "(#" .. a .. ")" end
    return format("%s[%s]", a, index(a, d - 1))
  end
  return num_leaf()
end

local cmps = {"<", "<=", ">", ">=", "==", "~="}

-- A number that is mostly an integer (math.floor of anything finite).
function intexpr (d)
  if R() < 0.75 then return format("math.floor(%s)", numexpr(d)) end
  return numexpr(d)
end

-- An index of array a: mostly in range, sometimes anything.
function index (a, d)
  local r = R(100)
  if r <= 75 then return format("math.floor(%s) %% #%s + 1", numexpr(d), a) end
  if r <= 92 then return format("%s %% #%s + 1", numexpr(d), a) end
  return numexpr(d)
end

function boolexpr (d)
  local bs = vars_of("bool")
  if d <= 0 or R() < 0.2 then
    if #bs > 0 and R() < 0.6 then return pick(bs) end
    return pick{"true", "false"}
  end
  local r = R(100)
  if r <= 55 then
    return format("(%s %s %s)", numexpr(d - 1), pick(cmps), numexpr(d - 1))
  elseif r <= 65 then
    return format("(not %s)", boolexpr(d - 1))
  elseif r <= 85 then
    return format("(%s %s %s)", boolexpr(d - 1), pick{"and", "or"}, boolexpr(d - 1))
  elseif r <= 92 then
    return format("(%s %s %s)", boolexpr(d - 1), pick{"==", "~="}, boolexpr(d - 1))
  end
  if #bs > 0 then return pick(bs) end
  return "true"
end

local block

local function returns (d)
  local out = {}
  for k, kind in ipairs(G.rets) do
    out[k] = kind == "num" and numexpr(d) or boolexpr(d)
  end
  return "return " .. concat(out, ", ")
end

local function stat (out, ind, d)
  local r = R(100)
  local pad = string.rep("  ", ind)
  local nums, bools = vars_of("num", true), vars_of("bool", true)
  if r <= 22 and #nums > 0 then
    out[#out + 1] = format("%s%s = %s", pad, pick(nums), numexpr(3))
  elseif r <= 28 and #bools > 0 then
    out[#out + 1] = format("%s%s = %s", pad, pick(bools), boolexpr(2))
  elseif r <= 33 and #nums > 1 then
    local a, b = pick(nums), pick(nums)
    out[#out + 1] = format("%s%s, %s = %s, %s", pad, a, b, numexpr(2), numexpr(2))
  elseif r <= 45 then
    local kind = R() < 0.8 and "num" or "bool"
    local name = newname(kind == "num" and "x" or "b")
    out[#out + 1] = format("%slocal %s = %s", pad, name, kind == "num" and numexpr(3) or boolexpr(2))
    declare(name, kind)
  elseif r <= 55 and d > 0 then
    out[#out + 1] = format("%sif %s then", pad, boolexpr(2))
    block(out, ind + 1, d - 1)
    if R() < 0.3 then
      out[#out + 1] = format("%selseif %s then", pad, boolexpr(2))
      block(out, ind + 1, d - 1)
    end
    if R() < 0.5 then
      out[#out + 1] = pad .. "else"
      block(out, ind + 1, d - 1)
    end
    out[#out + 1] = pad .. "end"
  elseif r <= 65 and d > 0 then
    local i = newname("i")
    local lo = pick{"1", "0", "-2", "3", "0.5", "-1.5", "2.0"}
    local hi = pick{"3", "5", "0", "-3", "4.5", "2.0", "1"}
    local step = pick{"", "", ", 1", ", 2", ", -1", ", 0.5", ", -0.75", ", 3"}
    if R() < 0.02 then step = ", 0" end
    out[#out + 1] = format("%sfor %s = %s, %s%s do", pad, i, lo, hi, step)
    G.scopes[#G.scopes + 1] = {}
    declare(i, "num", true)
    G.loops = G.loops + 1
    block(out, ind + 1, d - 1)
    G.loops = G.loops - 1
    table.remove(G.scopes)
    out[#out + 1] = pad .. "end"
  elseif r <= 72 and d > 0 then
    local w = newname("w")
    out[#out + 1] = format("%slocal %s = 0", pad, w)
    declare(w, "num", true)
    if R() < 0.5 then
      out[#out + 1] = format("%swhile %s < %d and %s do", pad, w, R(6), boolexpr(2))
      out[#out + 1] = format("%s  %s = %s + 1", pad, w, w)
      G.loops = G.loops + 1
      block(out, ind + 1, d - 1)
      G.loops = G.loops - 1
      out[#out + 1] = pad .. "end"
    else
      out[#out + 1] = pad .. "repeat"
      out[#out + 1] = format("%s  %s = %s + 1", pad, w, w)
      G.loops = G.loops + 1
      block(out, ind + 1, d - 1)
      G.loops = G.loops - 1
      out[#out + 1] = format("%suntil %s >= %d or %s", pad, w, R(6), boolexpr(2))
    end
  elseif r <= 76 and G.loops > 0 then
    out[#out + 1] = format("%sif %s then break end", pad, boolexpr(2))
  elseif r <= 80 and G.rets then
    out[#out + 1] = format("%sif %s then %s end", pad, boolexpr(2), returns(2))
  elseif r <= 81 then
    out[#out + 1] = format("%sif %s then error(\"fuzz error\") end", pad, boolexpr(2))
  elseif r <= 82 then
    out[#out + 1] = format("%sassert(%s, \"fuzz assert\")", pad, boolexpr(2))
  elseif r <= 92 and not G.noarrays and not G.readonly then
    local a = pick{"A", "I"}
    out[#out + 1] = format("%s%s[%s] = %s", pad, a, index(a, 2), a == "I" and intexpr(2) or numexpr(2))
  elseif r <= 96 and #G.helpers > 0 then   -- all results of a call
    local call, h = helper_call(2)
    local names = {}
    for k = 1, h.nrets do names[k] = newname("x") end
    out[#out + 1] = format("%slocal %s = %s", pad, concat(names, ", "), call)
    for _, n in ipairs(names) do declare(n, "num") end
  else
    local name = newname("x")
    out[#out + 1] = format("%slocal %s = %s", pad, name, numexpr(4))
    declare(name, "num")
  end
end

function block (out, ind, d)
  G.scopes[#G.scopes + 1] = {}
  for _ = 1, R(4) do stat(out, ind, d) end
  table.remove(G.scopes)
end

-- A helper: local function of numbers only (no upvalues but A and I),
-- with one or two results; some recurse on a depth counter.
local function helper (out)
  local name = newname("g")
  local np = R(3)
  local params = {}
  G.scopes = {{}}
  for k = 1, np do params[k] = newname("q"); declare(params[k], "num") end
  local saved = G.rets
  G.rets = R() < 0.3 and {"num", "num"} or {"num"}
  local rec = R() < 0.25
  if rec then params[#params + 1] = "depth" end
  out[#out + 1] = format("  local function %s(%s)", name, concat(params, ", "))
  if rec then
    local args = {}
    for k = 1, np do args[k] = numexpr(1) end
    args[#args + 1] = "depth - 1"
    local call = format("%s(%s)", name, concat(args, ", "))
    out[#out + 1] = format("    if depth > 0 then %s = %s end", params[R(np)], call)
  end
  block(out, 2, 2)
  out[#out + 1] = "    " .. returns(3)
  out[#out + 1] = "  end"
  G.helpers[#G.helpers + 1] = {name = name, nparams = np, nrets = #G.rets, rec = rec}
  G.rets = saved
end

-- An element-wise kernel for par.map/mapreduce: straight-line code (ifs,
-- no loops), mostly without arrays or calls, so that most are pure and
-- take the vectorised path; 'nrets' results, numbers unless 'bools'. It
-- reads arrays but never writes them: its iterations run in parallel, and
-- two writing one element would race (the API leaves the value open).
local function map_program (ptypes, nrets, bools)
  G = {nnames = 0, helpers = {}, loops = 0, scopes = {{}}, noarrays = R() < 0.7, readonly = true}
  local out = {"local A, I = ...", "return function (p1, p2, p3)"}
  if R() < 0.2 then helper(out) end
  G.scopes = {{}}
  for k = 1, 3 do declare("p" .. k, ptypes[k] == "bool" and "bool" or "num") end
  G.rets = {}
  for k = 1, nrets do G.rets[k] = bools and R() < 0.5 and "bool" or "num" end
  block(out, 1, 1)
  out[#out + 1] = "  " .. returns(3)
  out[#out + 1] = "end"
  return concat(out, "\n") .. "\n"
end

-- A program: its source and the kinds and types of its parameters.
local function program ()
  G = {nnames = 0, helpers = {}, loops = 0, scopes = {{}}}
  local out = {"local A, I = ...", "return function (p1, p2, p3)"}
  for _ = 1, R(0, 2) do helper(out) end
  G.scopes = {{}}
  local ptypes = {}
  for k = 1, 3 do
    ptypes[k] = pick{"int", "int", "float", "float", "bool"}
    declare("p" .. k, ptypes[k] == "bool" and "bool" or "num")
  end
  G.rets = {}
  for k = 1, R(3) do G.rets[k] = R() < 0.75 and "num" or "bool" end
  block(out, 1, 3)
  out[#out + 1] = "  " .. returns(3)
  out[#out + 1] = "end"
  return concat(out, "\n") .. "\n", ptypes
end

local int_args = {0, 1, -1, 2, 3, -3, 7, 10, 64, -64, 1000, math.maxinteger, math.mininteger,
  math.maxinteger - 1, 1 << 53, -(1 << 31)}
local float_args = {0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -7.25, 1e300, -1e300, 1 / 0, -1 / 0,
  0 / 0, 3.0, 1e-320, 2 ^ 63, -2 ^ 63, 0.1}

local function arg_of (t)
  if t == "int" then return R() < 0.7 and pick(int_args) or R(-100, 100) end
  if t == "float" then return R() < 0.7 and pick(float_args) or (R() - 0.5) * 10 ^ R(-3, 5) end
  return R() < 0.5
end

---------------------------------------------------------------------------
-- Running and comparing
---------------------------------------------------------------------------

local A0 = {1.5, -2.0, 0.25, 8.0, -0.0}
local I0 = {3, -4, 0, 9}
local A, I = par.array(A0), par.array(I0)

local function reset ()
  for k, v in ipairs(A0) do A[k] = v end
  for k, v in ipairs(I0) do I[k] = v end
end

local function snapshot ()
  local out = {}
  for k = 1, #A0 do out[#out + 1] = A[k] end
  for k = 1, #I0 do out[#out + 1] = I[k] end
  return out
end

local function show (v)
  if math.type(v) == "float" then return format("%.17g (float)", v) end
  if math.type(v) == "integer" then return format("%d (integer)", v) end
  return tostring(v)
end

-- Two differences are not bugs: Lua 5.4.4 (before 5.4.6) reports integer
-- division by zero with the line of an earlier instruction (OP_MOD and
-- OP_IDIV do not save the pc), so those two messages are compared without
-- their line; and the sign of a NaN, which IEEE 754 leaves unspecified,
-- depends on how the C compiler arranged the operations (GCC turns
-- a + (-b) into a - b), so "-nan" and "nan" in messages are the same.
local function sameerror (a, b)
  a, b = tostring(a):gsub("%-nan", "nan"), tostring(b):gsub("%-nan", "nan")
  if a == b then return true end
  local function strip (m)
    local pre, msg = tostring(m):match("^(.*):%d+: (attempt to .+)$")
    if msg == "attempt to divide by zero" or msg == "attempt to perform 'n%0'" then
      return pre .. ": " .. msg
    end
  end
  local sa = strip(a)
  return sa ~= nil and sa == strip(b)
end

-- nil if the two runs agree, else what differs
local function compare (lua, nat, lstate, nstate)
  if not lua[1] then
    if nat[1] then return "Lua raised '" .. tostring(lua[2]) .. "', native did not" end
    if not sameerror(nat[2], lua[2]) then
      return format("error messages differ:\n  Lua:    %s\n  native: %s", tostring(lua[2]), tostring(nat[2]))
    end
  else
    if not nat[1] then return "native raised '" .. tostring(nat[2]) .. "', Lua did not" end
    if nat.n ~= lua.n then return format("%d results in Lua, %d native", lua.n - 1, nat.n - 1) end
    for k = 2, lua.n do
      local a, b = lua[k], nat[k]
      local ok
      if type(a) == "number" then ok = T.same(a, b) else ok = a == b end
      if not ok then return format("result %d: Lua %s, native %s", k - 1, show(a), show(b)) end
    end
  end
  for k = 1, #lstate do
    if not T.same(lstate[k], nstate[k]) then
      return format("array element %d: Lua %s, native %s", k, show(lstate[k]), show(nstate[k]))
    end
  end
  return nil
end

local function argstr (args)
  local s = {}
  for k, v in ipairs(args) do s[k] = show(v) end
  return concat(s, ", ")
end

local stats = {programs = 0, runs = 0, refused = 0, errors = 0}
local fuzz_map
local refusals, errkinds = {}, {}

-- Generates and checks program number k; raises on a disagreement.
local function fuzz_one (k)
  local pseed = seed + k - 1
  math.randomseed(pseed)
  if k % 3 == 0 then return fuzz_map(k, pseed) end
  local src, ptypes = program()
  local chunk, perr = load(src)
  if not chunk then error(perr .. "\n" .. src, 0) end
  local f = chunk(A, I)
  local jf = N.jit(f)
  stats.programs = stats.programs + 1
  for _ = 1, 25 do
    local args = {arg_of(ptypes[1]), arg_of(ptypes[2]), arg_of(ptypes[3])}
    reset()
    local lua = table.pack(pcall(f, table.unpack(args, 1, 3)))
    local lstate = snapshot()
    reset()
    local nat = table.pack(pcall(jf, table.unpack(args, 1, 3)))
    local nstate = snapshot()
    if not nat[1] and tostring(nat[2]):find("^not native: ") then
      local why = tostring(nat[2])
      if why:find("cannot load native code", 1, true) then
        error(format("program %d (PARLUA_FUZZ_SEED=%d): the generated C does not compile:\n%s\n%s",
          k, pseed, src, why), 0)
      end
      stats.refused = stats.refused + 1
      refusals[#refusals + 1] = why
      return
    end
    stats.runs = stats.runs + 1
    if not lua[1] then
      stats.errors = stats.errors + 1
      local m = tostring(lua[2]):gsub("^.-:%d+: ", ""):gsub("%-?[%d.]+", "N")
      errkinds[m] = (errkinds[m] or 0) + 1
    end
    local diff = compare(lua, nat, lstate, nstate)
    if diff then
      error(format("program %d (PARLUA_FUZZ_SEED=%d) disagrees on arguments (%s): %s\n%s",
        k, pseed, argstr(args), diff, src), 0)
    end
  end
end

-- Element-wise arrays of each type, edge values first (3 blocks of 1024).
local NE = 2500
local map_arrays = {}
do
  math.randomseed(seed)
  local x, y, z = {}, {}, {}
  for i = 1, NE do
    x[i] = float_args[i] or arg_of("float")
    y[i] = int_args[i] or arg_of("int")
    z[i] = R() < 0.5
  end
  map_arrays.float, map_arrays.int, map_arrays.bool = par.array(x), par.array(y), par.array(z)
end

-- Lua's reduction order (reduce.h): blocks of 1024 left to right (min/max
-- start at the first value; NaN wins), then the partials in block order.
local function lua_step (op, p, r)
  if op == "+" then return p + r end
  if op == "*" then return p * r end
  if p ~= p then return p end
  if r ~= r then return r end
  if op == "max" then return (p < r) and r or p end
  return (r < p) and r or p
end

local function lua_reduce (op, v)
  local acc
  for b = 1, #v, 1024 do
    local p = (op == "+" and 0) or (op == "*" and 1) or nil
    for i = b, math.min(b + 1023, #v) do
      if p == nil then p = v[i] else p = lua_step(op, p, v[i]) end
    end
    if acc == nil then acc = (op == "+" and 0 + p) or (op == "*" and 1 * p) or p
    else acc = lua_step(op, acc, p) end
  end
  return acc
end

-- Checks par.map and par.mapreduce of a random kernel against Lua.
function fuzz_map (k, pseed)
  local ptypes = {pick{"float", "int", "bool"}, pick{"float", "int"}, pick{"float", "int", "bool"}}
  local reduce = R() < 0.5
  local nrets = reduce and 1 or R(2)
  local src = map_program(ptypes, nrets, not reduce)
  local f = assert(load(src))(A, I)
  local arrays = {map_arrays[ptypes[1]], map_arrays[ptypes[2]], map_arrays[ptypes[3]]}
  local op = pick{"+", "*", "min", "max"}
  local function fail (what)
    error(format("map program %d (PARLUA_FUZZ_SEED=%d, %s): %s\n%s", k, pseed,
      reduce and "mapreduce " .. op or "map", what, src), 0)
  end
  -- Lua: element by element
  reset()
  local vals, lerr = {}, nil
  for r = 1, nrets do vals[r] = {} end
  for i = 1, NE do
    local res = table.pack(pcall(f, arrays[1][i], arrays[2][i], arrays[3][i]))
    if not res[1] then lerr = format("iteration %d: %s", i, tostring(res[2])) break end
    for r = 1, nrets do vals[r][i] = res[r + 1] end
  end
  local lstate = snapshot()
  reset()
  local nat
  if reduce then
    nat = table.pack(pcall(N.mapreduce, op, f, arrays[1], arrays[2], arrays[3]))
  else
    nat = table.pack(pcall(N.map, f, arrays[1], arrays[2], arrays[3]))
  end
  local nstate = snapshot()
  stats.programs = stats.programs + 1
  if not nat[1] and tostring(nat[2]):find("^not native: ") then
    if tostring(nat[2]):find("cannot load native code", 1, true) then fail(tostring(nat[2])) end
    stats.refused = stats.refused + 1
    refusals[#refusals + 1] = tostring(nat[2])
    return
  end
  stats.runs = stats.runs + 1
  if lerr then
    if nat[1] then fail("Lua raised '" .. lerr .. "', native did not") end
    if not sameerror(nat[2], lerr) then fail("errors differ:\n  Lua:    " .. lerr .. "\n  native: " .. tostring(nat[2])) end
    return
  end
  if not nat[1] then fail("native raised " .. tostring(nat[2])) end
  for i = 1, #lstate do
    if not T.same(lstate[i], nstate[i]) then fail("array element " .. i .. " written differently") end
  end
  if reduce then
    for i = 1, NE do
      if type(vals[1][i]) ~= "number" then return end   -- a boolean: not reducible
    end
    local want = lua_reduce(op, vals[1])
    if not T.same(want, nat[2]) then fail(format("Lua %s, native %s", show(want), show(nat[2]))) end
    return
  end
  for r = 1, nrets do
    local v, a = vals[r], nat[r + 1]
    local allint, isbool = true, type(v[1]) == "boolean"
    for i = 1, NE do allint = allint and math.type(v[i]) == "integer" end
    local dt = isbool and "bool" or allint and "int64" or "float64"
    if a.dtype ~= dt then fail(format("result %d: dtype %s, Lua's values give %s", r, a.dtype, dt)) end
    for i = 1, NE do
      local want = v[i]
      if dt == "float64" and math.type(want) == "integer" then want = want + 0.0 end
      local ok = isbool and a[i] == want or not isbool and T.same(a[i], want)
      if not ok then fail(format("result %d, element %d: Lua %s, native %s", r, i, show(want), show(a[i]))) end
    end
  end
end

-- streams: native kernels draw what par.stream(seed, i) gives, for any seed
math.randomseed(seed)
for _ = 1, 4 do
  local s = math.random(math.mininteger, math.maxinteger)
  local r = N.prange(3, function (i) return par.random(), par.randn() end, {seed = s})
  for i = 1, 3 do
    local g = par.stream(s, i)
    assert(T.same(r[i], g:random()), "stream of seed " .. s)
  end
end

local wall0 = par.clock()
local k = 0
repeat
  k = k + 1
  fuzz_one(k)
until par.clock() - wall0 >= seconds
print(format("%d programs, %d runs compared (%d raised errors), %d refused as not native",
  stats.programs, stats.runs, stats.errors, stats.refused))
if #refusals > 0 then print("first refusal: " .. refusals[1]) end
if os.getenv("PARLUA_FUZZ_VERBOSE") then
  for _, r in ipairs(refusals) do print("refused: " .. r) end
  for m, c in pairs(errkinds) do print(format("%6d raised: %s", c, m)) end
end
-- most programs must compile: the generator stays inside the native subset
assert(stats.refused <= stats.programs // 4, "too many programs refused")
print("OK")
