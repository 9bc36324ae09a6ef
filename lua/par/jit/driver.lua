--[=[ par.jit.driver: runs the passes of parlua's kernel compiler.

Consumes a Lua function (a closure), the form it runs in and its argument
types. Produces a plan for the runtime (native.c): the C text, the types of
its results and of the live values it reads, and those values for this
call; or nil and the reason it is not native ("file:line:col: message").

  driver.prepare(kind, op, fastmath, f, ...)  -- plan, live values | nil, reason, rule
                                              -- (rule: Lua mode refuses it too)
  driver.run_passes(f, form, last)            -- stop after "parse", "check",
                                              -- "types" or "emit" (tests)
  driver.explain(f [, "c"])                   -- text for par.explain

The source comes from par.jit.sources, checked against f's bytecode. Plans
are cached per prototype (the chunk's text and the lines) and form; a later call reuses a plan
when every live value it read still has the same type (functions: the same
prototype; tables and builtins: the same object).
]=]

local parser = require "par.jit.parser"
local check = require "par.jit.check"
local types = require "par.jit.types"
local emit_c = require "par.jit.emit_c"
local sources = require "par.jit.sources"

local M = {}

local format = string.format
local getinfo, getupvalue = debug.getinfo, debug.getupvalue

---------------------------------------------------------------------------
-- Builtins: the functions native code implements itself
---------------------------------------------------------------------------

-- math's functions as they were when par was loaded (par.c keeps them):
-- a kernel's math.sin is math's own even after 'math.sin = f', as in Lua
-- mode, whose workers have their own math.
local math0 = debug.getregistry()["par.math0"] or math
local mathlib = package.loaded.math

local builtins = {}
for _, n in ipairs{"abs", "ceil", "floor", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
                   "exp", "log", "fmod", "modf", "min", "max", "ult", "random"} do
  builtins[math0[n]] = "math." .. n
end

-- t[k] as kernels see it.
local function field (t, k)
  if t == mathlib and type(k) == "string" and builtins[math0[k]] then return math0[k] end
  return t[k]
end
builtins[error], builtins[assert] = "error", "assert"
local parlib = package.loaded.par or rawget(_G, "par")
if parlib then
  for _, n in ipairs{"random", "randn", "uniform", "normal", "lognormal", "exponential",
                     "integers", "zeros", "empty"} do
    if parlib[n] then builtins[parlib[n]] = "par." .. n end
  end
end
M.builtins = builtins

-- A C function of math given as a kernel (par.map(math.sqrt, a), API
-- section 4) compiles as a Lua function that calls it with the kernel's
-- arguments: nargs of them.
local callers = {}   -- "math.sqrt/1" -> Lua function

local function as_lua (f, nargs)
  local name = builtins[f]
  if not (name and name:sub(1, 5) == "math.") then return f end
  local key = name .. "/" .. nargs
  if not callers[key] then
    local ps = {}
    for k = 1, nargs do ps[k] = "x" .. k end
    ps = table.concat(ps, ", ")
    local text = format("local f = ... return function (%s) return f(%s) end", ps, ps)
    sources.keep("=" .. name, text)
    callers[key] = load(text, "=" .. name)(f)
  end
  return callers[key]
end

---------------------------------------------------------------------------
-- Sources and ASTs
---------------------------------------------------------------------------

local asts = {}   -- chunk key -> AST

local function chunk_ast (c)
  local ast = asts[c.key]
  if ast then return ast end
  local errs
  ast, errs = parser.parse(c.text, c.name, c.isfile)
  if not ast then return nil, tostring(errs[1]) end
  asts[c.key] = ast
  return ast
end

-- The prototype of closure f: its chunk's key, its lines and its place
-- among the chunk's functions (which may share their lines).
local function protokey (f)
  local c = sources.of(f)
  local info = getinfo(f, "S")
  return format("%s\0%d:%d:%d", c and c.key or info.source, info.linedefined, info.lastlinedefined,
    c and sources.index_of(f) or 0)
end

-- Why C function f is not native.
local why_not = {tointeger = "its result may be nil", type = "it returns a string",
  randomseed = "kernels cannot reseed the default generator"}

local function c_reason (f)
  for k, v in pairs(math) do
    if v == f then
      return format("math.%s is not in the native subset (%s)", k, why_not[k] or "no C version")
    end
  end
  return "a C function (of C functions, only those of math compile)"
end

-- The Function node of Lua closure f.
local function find_ast (f)
  local info = getinfo(f, "Su")
  if info.what == "C" then return nil, c_reason(f) end
  local c, err = sources.of(f)
  if not c then return nil, err end
  local ast
  ast, err = chunk_ast(c)
  if not ast then return nil, err end
  local names = {}
  for k = 1, info.nups do names[k] = getupvalue(f, k) end
  local fnode, ferr = parser.find_function(ast, info.linedefined, info.lastlinedefined,
    {nparams = info.nparams, isvararg = info.isvararg, nups = info.nups, upvalues = names})
  if not fnode and info.linedefined > 0 then   -- several on its lines: its bytecode tells
    fnode = ast.functions[sources.index_of(f) or 0]
  end
  if not fnode then return nil, ferr end
  fnode.chunkname = ast.chunkname
  return fnode
end
M.find_ast = find_ast

---------------------------------------------------------------------------
-- Passes
---------------------------------------------------------------------------

local function form_args (kind, args)
  if kind == "prange" or kind == "preduce" then return {"int"} end
  local ts = {}
  for k, v in ipairs(args) do
    local t = types.typeof(v)
    if not t then return nil, format("argument %d is a %s", k, type(v)) end
    if kind ~= "jit" and types.isarr(t) then t = ({f64 = "float", i64 = "int", bool = "bool"})[types.arr_dt(t)] end
    ts[k] = t
  end
  return ts
end

-- Which of the argument values are arrays.
local function array_flags (args)
  local arrays = {}
  for k, v in ipairs(args) do arrays[k] = types.isarr(types.typeof(v) or "") end
  return arrays
end

local function first_error (errs)
  return tostring(errs[1])
end

-- Runs the passes on closure f for 'form' ({kind, op, args = values});
-- stops after pass 'last'. Returns the result of that pass (the AST, true,
-- the typed program, or the C text and the program) or nil and a reason.
function M.run_passes (f, form, last)
  if type(f) ~= "function" then return nil, "not a function" end
  local fnode, err = find_ast(f)
  if not fnode then return nil, err end
  if last == "parse" then return fnode end
  local ok, errs = check.check(fnode, fnode.chunkname)
  if not ok then return nil, first_error(errs) end
  if last == "check" then return true end
  local argtypes, aerr = form.argtypes, nil
  if not argtypes then argtypes, aerr = form_args(form.kind, form.args or {}) end
  if not argtypes then return nil, aerr end
  local prog
  prog, errs = types.infer(f, fnode, argtypes, {builtins = builtins, field = field, find_ast = find_ast,
    protokey = protokey, jit = form.kind == "jit"})
  if not prog then return nil, first_error(errs), errs[1].rule end
  local rets = prog.entry.rets
  if form.kind ~= "jit" then
    if form.kind == "preduce" or form.kind == "mapreduce" then
      if #rets < 1 or not types.isnum(rets[1]) then
        return nil, format("%s: a reduction needs a number from each iteration (the function returns %s)",
          prog.entry.file, #rets == 0 and "nothing" or types.describe(rets[1]))
      end
    end
    for k, t in ipairs(rets) do
      if types.isarr(t) then return nil, format("result %d of the kernel is an array", k) end
    end
  end
  if last == "types" then return prog end
  local arrays = form.arrays or array_flags(form.args or {})
  local src = emit_c.emit(prog, {kind = form.kind, op = form.op, args = argtypes, arrays = arrays,
    fastmath = form.fastmath})
  return src, prog
end

---------------------------------------------------------------------------
-- Plans
---------------------------------------------------------------------------

local plans = {}     -- protokey -> {plan, ...}, newest first
local lastform = {}  -- protokey -> the form of its last call (par.explain)

-- Live values of plan p for closure f, or nil when p does not fit f.
local function live_values (p, f)
  local values = {f}
  local paths = p.paths
  for k = 2, #paths do
    local path = paths[k]
    local bv = values[path.base]
    local v
    if path.up then
      if type(bv) ~= "function" then return nil end
      v = select(2, getupvalue(bv, path.up))
    else
      if type(bv) ~= "table" then return nil end
      v = field(bv, path.key)
    end
    if path.alias and not rawequal(v, values[path.alias]) then return nil end
    if path.expect ~= nil and not rawequal(v, path.expect) then return nil end
    if path.proto and not (type(v) == "function" and protokey(v) == path.proto) then return nil end
    if path.code and (types.typeof(v) or type(v)) ~= path.code then return nil end
    values[k] = v
  end
  local out = {}
  for s, slot in ipairs(p.slots) do out[s] = values[slot.path] end
  return out
end

local function argsig (kind, args)
  if kind == "prange" or kind == "preduce" then return "" end
  local ts = {}
  for k, v in ipairs(args) do ts[k] = types.typeof(v) or type(v) end
  return table.concat(ts, ",")
end

-- See the header. The returned plan has: c (C text), slots (types of the
-- live values), rets (result types), args (argument types), fastmath, key.
function M.prepare (kind, op, fastmath, f, ...)
  local args = {...}
  f = as_lua(f, (kind == "prange" or kind == "preduce") and 1 or select("#", ...))
  local pk = protokey(f)
  local formkey = format("%s %s %s %s", kind, op or "", fastmath and "fast" or "strict", argsig(kind, args))
  if not (lastform[pk] and lastform[pk].key == formkey) then
    lastform[pk] = {key = formkey, kind = kind, op = op, fastmath = fastmath,
      argtypes = form_args(kind, args), arrays = array_flags(args)}
  end
  local list = plans[pk]
  if not list then list = {}; plans[pk] = list end
  for _, p in ipairs(list) do
    if p.formkey == formkey then
      local values = live_values(p, f)
      if values then return p, values end
    end
  end
  local src, prog, rule = M.run_passes(f, {kind = kind, op = op, args = args, fastmath = fastmath}, "emit")
  if not src then return nil, prog, rule end
  local slots = {}
  for s, slot in ipairs(prog.slots) do slots[s] = slot.type end
  local argtypes = form_args(kind, args)
  local p = {formkey = formkey, c = src, paths = prog.paths, slots = slots, slotpaths = prog.slots,
    rets = prog.entry.rets, args = argtypes, fastmath = fastmath and true or false,
    hasloop = #prog.textloops > 0}   -- a jit call draws its seed, as lua_loops.prepare does
  p.slots, p.slottypes = prog.slots, slots
  table.insert(list, 1, p)
  return p, live_values(p, f)
end

---------------------------------------------------------------------------
-- par.explain
---------------------------------------------------------------------------

local function describe_types (prog)
  local out = {}
  for _, inst in ipairs(prog.insts) do
    local params = {}
    for k, d in ipairs(inst.fn.params) do params[k] = d.name .. ": " .. inst.args[k] end
    out[#out + 1] = format("  function at %s:%d (%s) -> (%s)", inst.file, inst.fn.linedefined,
      table.concat(params, ", "), table.concat(inst.rets, ", "))
    local vars = {}
    for d, t in pairs(inst.vars) do
      local isparam = false
      for _, p in ipairs(inst.fn.params) do if p == d then isparam = true end end
      if not isparam then vars[#vars + 1] = {d = d, t = t} end
    end
    table.sort(vars, function (a, b) return a.d.id < b.d.id end)
    for _, v in ipairs(vars) do out[#out + 1] = format("    local %s: %s", v.d.name, v.t) end
  end
  for _, slot in ipairs(prog.slots) do
    local p = prog.paths[slot.path]
    out[#out + 1] = format("  live value %s: %s", p.key or ("upvalue " .. p.up), slot.type)
  end
  return table.concat(out, "\n")
end

local dtnames = {f64 = "float64", i64 = "int64", bool = "bool"}

-- The call of form 'form' as a user writes it.
local function form_text (form)
  local ts = {}
  for k, t in ipairs(form.argtypes or {}) do
    if types.isarr(t) then t = format("%d-D %s array", types.arr_nd(t), dtnames[types.arr_dt(t)])
    elseif form.arrays and form.arrays[k] then t = ({float = "float64", int = "int64"})[t] or t
      t = t .. " array" end
    ts[k] = t
  end
  local args = table.concat(ts, ", ")
  if form.kind == "prange" then return "par.prange(n, f)" end
  if form.kind == "preduce" then return format('par.preduce("%s", n, f)', form.op) end
  if form.kind == "map" then return format("par.map(f, %s)", args) end
  if form.kind == "mapreduce" then return format('par.mapreduce("%s", f, %s)', form.op, args) end
  return format("par.jit(f)(%s)", args)
end

-- The text of par.explain(f [, "c"]): f as compiled at its last call;
-- never called, as par.jit would compile it for no arguments, as
-- par.prange's f(i), or as par.map's over float64 arrays; a par.jit
-- callable (isjit) with parameters is only checked until its first call.
function M.explain (f, what, isjit)
  f = as_lua(f, 1)
  local info = getinfo(f, "u")
  local form = lastform[protokey(f)]
  local how = form and ", at its last call" or ""
  if not form then
    if info.nparams == 0 then form = {kind = "jit", argtypes = {}}
    elseif isjit then
      local ok, err = M.run_passes(f, {}, "check")
      if not ok then return "not native: " .. err end
      return "native: not decided yet (par.jit compiles at the first call, for its argument "
        .. "types); nothing outside the native subset so far"
    elseif info.nparams == 1 then form = {kind = "prange"}
    else
      form = {kind = "map", argtypes = {}, arrays = {}}
      for k = 1, info.nparams do form.argtypes[k], form.arrays[k] = "float", true end
      how = " (a guess: not called yet)"
    end
  end
  local src, prog = M.run_passes(f, form, "emit")
  if not src then
    return "not native: " .. prog .. (how ~= "" and format("\n(as %s%s)", form_text(form), how) or "")
  end
  local out = {format("native: yes (as %s%s)", form_text(form), how), "types:", describe_types(prog)}
  local seen = {}
  for _, at in ipairs(prog.serial_loops) do
    if not seen[at] then
      seen[at] = true
      out[#out + 1] = format("note: the par.prange loop at %s runs serially (%s)", at,
        form.kind == "jit" and "in a function f calls, not in f's own text"
        or "inside the kernel's iterations")
    end
  end
  if what == "c" then out[#out + 1] = "C:\n" .. src end
  return table.concat(out, "\n")
end

return M
