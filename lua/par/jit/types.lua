--[=[ par.jit.types: pass 4 of parlua's kernel compiler.

Consumes a checked Function (par.jit.check), the closure it came from and
the types of its arguments. Produces a typed program, or nil and a list of
error records naming the first construct that cannot be typed:

  program.insts       instances: one per (function, closure, argument
                      types), each with vars[Decl], t[node] (type of an
                      expression, or a list for calls), call[node] (the
                      instance or builtin called), rets (result types)
  program.entry       the instance of the kernel
  program.paths       live values: {base = k, up = i} (upvalue i of the
                      closure at path k) or {base = k, key = s} (field s of
                      the table at path k); path 1 is the kernel's closure.
                      Each carries expect (a type code, or the identity of a
                      function or table) so that a later call can tell
                      whether this program still fits (par.jit.driver)
  program.slots       the live numbers, booleans and arrays the code reads:
                      {path = k, type = t}, read at each call (API: upvalues
                      are live)
  program.intext      (par.jit) the Function nodes of the jit function's
                      text, whose prange loops are parallel ones
  program.textloops   (par.jit) those loops, in source order

Types are strings: "int", "float", "bool", "num" (a number whose subtype is
known only at run time: a tagged number), "opt:T" (false or a T, as
`c and x` gives; only usable as a condition or before 'or'), "A:f64:1"
(array of dtype and rank), "fn:k" (a function, program.fns[k]), "bi:name"
(a builtin such as math.exp), "tbl:k" (a table at path k: only indexed).
Inference is by specialisation and a fixpoint: variables and results join
(int and float give num), instances are made for each argument signature.
]=]

local lexer = require "par.jit.lexer"
local check = require "par.jit.check"

local M = {}

local format = string.format
local mathtype = math.type

local dtypes = {float64 = "f64", int64 = "i64", bool = "bool"}
local elem_of = {f64 = "float", i64 = "int", bool = "bool"}

local function isnum (t) return t == "int" or t == "float" or t == "num" end
local function isarr (t) return t and t:sub(1, 2) == "A:" end
local function arr_dt (t) return t:match("^A:(%w+):") end
local function arr_nd (t) return tonumber(t:match(":(%d)$")) end
local function isopt (t) return t and t:sub(1, 4) == "opt:" end
M.isnum, M.isarr, M.arr_dt, M.arr_nd, M.isopt = isnum, isarr, arr_dt, arr_nd, isopt

local array_mt = debug.getregistry()["par.array"]
local kernel_mt = debug.getregistry()["par.kernel"]   -- par.jit/par.vectorize callables

-- The type code of a live value (nil for unsupported values).
function M.typeof (v)
  local tv = type(v)
  if tv == "number" then return mathtype(v) == "integer" and "int" or "float" end
  if tv == "boolean" then return "bool" end
  if tv == "userdata" and array_mt and getmetatable(v) == array_mt then
    return format("A:%s:%d", dtypes[v.dtype], v.ndim)
  end
  return nil
end

---------------------------------------------------------------------------
-- Errors
---------------------------------------------------------------------------

local function fail (st, node, msg, ...)
  error(lexer.new_error(st.file, node and node.line, node and node.col, format(msg, ...)), 0)
end

-- A break of the rules of parallel loops (API section 4), which Lua mode
-- refuses too: an error of the call, not a reason to run in Lua mode.
local function rule_fail (st, node, msg, ...)
  local e = lexer.new_error(st.file, node and node.line, node and node.col, format(msg, ...))
  e.rule = true
  error(e, 0)
end

local function describe (t)
  if t == nil then return "no value" end
  if t == "int" then return "an integer" end
  if t == "float" then return "a float" end
  if t == "num" then return "a number" end
  if t == "bool" then return "a boolean" end
  if isopt(t) then return "false or " .. describe(t:sub(5)) end
  if isarr(t) then return format("a %d-D %s array", arr_nd(t), arr_dt(t)) end
  if t:sub(1, 3) == "fn:" then return "a function" end
  if t:sub(1, 3) == "bi:" then return "the builtin " .. t:sub(4) end
  if t:sub(1, 4) == "tbl:" then return "a table" end
  return t
end
M.describe = describe

-- Join of two types, or nil when they cannot share a variable.
local function join (a, b)
  if a == nil then return b end
  if b == nil or a == b then return a end
  if isnum(a) and isnum(b) then return "num" end
  if isopt(a) and isopt(b) then
    local j = join(a:sub(5), b:sub(5))
    return j and "opt:" .. j
  end
  return nil
end
M.join = join

---------------------------------------------------------------------------
-- Live values: paths from the kernel's closure
---------------------------------------------------------------------------

local function add_path (prog, base, how, key, value)
  local pkey = base .. how .. tostring(key)
  local k = prog.pathidx[pkey]
  if k then return k end
  k = #prog.paths + 1
  local p = {base = base}
  p[how] = key
  prog.paths[k], prog.values[k], prog.pathidx[pkey] = p, value, k
  local tv = type(value)
  if tv == "function" then
    if prog.builtins[value] then p.expect = value
    else
      local first = prog.closure_path[value]
      if first then p.alias = first else prog.closure_path[value] = k end
      p.proto = prog.protokey(value)
    end
  elseif tv == "table" then
    p.expect = value
  else
    p.code = M.typeof(value) or type(value)
  end
  return k
end

local function path_value (prog, base, how, key)
  local bv = prog.values[base]
  local v
  if how == "up" then
    v = select(2, debug.getupvalue(bv, key))
  else
    v = prog.field(bv, key)
  end
  return add_path(prog, base, how, key, v), v
end

-- The type of the live value at path k (registering a slot for numbers,
-- booleans and arrays, a function for Lua closures).
local function live_type (st, node, k, what)
  local prog = st.prog
  st.inst.live[node] = k
  local v = prog.values[k]
  local tv = type(v)
  local t = M.typeof(v)
  if t then
    if not prog.slotidx[k] then
      prog.slots[#prog.slots + 1] = {path = k, type = t}
      prog.slotidx[k] = #prog.slots
    end
    return t
  end
  if tv == "function" then
    local b = prog.builtins[v]
    if b then return "bi:" .. b end
    local p = prog.paths[k]
    local ck = p.alias or k
    local fk = prog.fnidx[ck]
    if not fk then
      local fnode, err = prog.find_ast(v)
      if not fnode then fail(st, node, "%s: %s", what, err) end
      local ok, errs = check.check(fnode, fnode.chunkname)
      if not ok then error(errs[1], 0) end
      fk = #prog.fns + 1
      prog.fns[fk] = {node = fnode, cl = {path = ck, fnode = fnode}, file = lexer.chunkid(fnode.chunkname)}
      prog.fnidx[ck] = fk
    end
    -- A closure reached by name is a plain Lua function, also when it is
    -- the par.jit function itself (recursion): Lua mode runs its prange
    -- loops as plain serial loops, which the text's C code cannot do.
    if #prog.textloops > 0 and prog.intext[prog.fns[fk].node] then
      fail(st, node, "%s is the par.jit function called by name: its prange loops run as "
        .. "plain serial loops there, which native code does not support", what)
    end
    return "fn:" .. fk
  end
  if tv == "table" then return "tbl:" .. k end
  if kernel_mt and getmetatable(v) == kernel_mt then
    fail(st, node, "%s is a %s callable, which native code cannot call", what,
      tostring(v):match("^[^:]*"))
  end
  if tv == "function" or tv == "userdata" then
    fail(st, node, "%s is a %s value, which native code cannot use", what, tv)
  end
  fail(st, node, "%s is %s (native code needs a number, boolean, array or function)",
    what, tv == "nil" and "nil" or "a " .. tv)
end

---------------------------------------------------------------------------
-- Instances
---------------------------------------------------------------------------

local function sigstr (ts)
  return table.concat(ts, ",")
end

local function get_instance (st, fk, argtypes)
  local prog = st.prog
  local fn = prog.fns[fk]
  local key = fk .. "(" .. sigstr(argtypes) .. ")"
  local inst = prog.instidx[key]
  if inst then return inst end
  inst = {fn = fn.node, fk = fk, cl = fn.cl, file = fn.file, args = argtypes, key = key,
    vars = {}, t = {}, call = {}, loops = {}, live = {}, id = #prog.insts + 1, rets = nil}
  prog.insts[#prog.insts + 1] = inst
  prog.instidx[key] = inst
  prog.changed = true
  return inst
end

---------------------------------------------------------------------------
-- Expressions
---------------------------------------------------------------------------

local expr, exprlist, infer_block

local function setvar (st, d, t, node)
  local inst = st.inst
  local old = inst.vars[d]
  if t == nil then return end
  local j = join(old, t)
  if j == nil then
    fail(st, node, "variable '%s' holds %s and %s", d.name, describe(old), describe(t))
  end
  if isopt(j) then
    fail(st, node, "variable '%s' would hold %s (use it in a condition, or add 'or <default>')",
      d.name, describe(j))
  end
  if j ~= old then
    inst.vars[d] = j
    st.prog.changed = true
  end
end

-- Names: locals, compile-time constants, upvalues, globals.
local function name_type (st, e)
  local inst = st.inst
  if e.kind == "local" then
    local d = e.decl
    if st.ploop and st.ploop.red[d] and st.inred ~= d then
      rule_fail(st, e, "reduction variable '%s' is read inside the parallel loop", d.name)
    end
    if inst.fnvars[d] then return inst.fnvars[d] end
    return inst.vars[d]
  elseif e.kind == "const" then
    local v = e.decl.value
    local t = M.typeof(v)
    if not t or isarr(t) then fail(st, e, "constant '%s' is not a number or boolean", e.name) end
    return t, v
  end
  local cl = inst.cl
  local d = e.kind == "upvalue" and e.decl or e.env
  local idx
  for k, u in ipairs(cl.fnode.upvalues) do
    if u == d then idx = k break end
  end
  if not idx then
    -- a local of an enclosing compiled function: only functions are shared
    local ft = st.prog.localfns[d]
    if ft then return ft end
    fail(st, e, "nested function uses local '%s' of an enclosing function", e.name)
  end
  local k = path_value(st.prog, cl.path, "up", idx)
  if e.kind == "upvalue" then return live_type(st, e, k, format("upvalue '%s'", e.name)) end
  local g = path_value(st.prog, k, "key", e.name)
  return live_type(st, e, g, format("global '%s'", e.name))
end

-- The array of a 2-D element access a[i][j] (the Index a[i]), or nil.
local function row_access (st, e)
  local base = e.obj
  if base.tag ~= "Index" or base.key.tag == "String" then return nil end
  local bt = expr(st, base.obj)
  if not (isarr(bt) and arr_nd(bt) == 2) then return nil end
  local kt = expr(st, base.key)
  if kt and not isnum(kt) then fail(st, base.key, "array index is %s", describe(kt)) end
  st.inst.t[base] = "row"
  return bt
end

local function index_type (st, e)
  local at = row_access(st, e)
  if at then
    local kt = expr(st, e.key)
    if kt and not isnum(kt) then fail(st, e.key, "array index is %s", describe(kt)) end
    return elem_of[arr_dt(at)]
  end
  local ot = expr(st, e.obj)
  if ot and ot:sub(1, 4) == "tbl:" then
    if e.key.tag ~= "String" then fail(st, e.key, "table index must be a constant name") end
    local k = path_value(st.prog, tonumber(ot:sub(5)), "key", e.key.value)
    return live_type(st, e, k, format("field '%s'", e.key.value))
  end
  if isarr(ot) then
    if e.key.tag == "String" then fail(st, e.key, "array field '%s'", e.key.value) end
    local kt = expr(st, e.key)
    if kt and not isnum(kt) then fail(st, e.key, "array index is %s", describe(kt)) end
    if arr_nd(ot) == 2 then fail(st, e, "row of a 2-D array used as a value (index it: a[i][j])") end
    return elem_of[arr_dt(ot)]
  end
  if ot == nil then return nil end
  fail(st, e, "indexing %s", describe(ot))
end

local arith = {["+"] = true, ["-"] = true, ["*"] = true, ["//"] = true, ["%"] = true}
local fdiv = {["/"] = true, ["^"] = true}
local bitop = {["&"] = true, ["|"] = true, ["~"] = true, ["<<"] = true, [">>"] = true}
local cmp = {["<"] = true, ["<="] = true, [">"] = true, [">="] = true}
local eq = {["=="] = true, ["~="] = true}

local function numeric (st, node, t, op)
  if not isnum(t) then
    fail(st, node, "operand of '%s' is %s", op, describe(t))
  end
end

local function truthy_part (t)
  if isopt(t) then return t:sub(5) end
  return t
end

local function binop_type (st, e)
  local op = e.op
  if op == "and" or op == "or" then
    local a = expr(st, e.lhs)
    local b = expr(st, e.rhs)
    if a == nil or b == nil then return nil end
    if op == "and" then
      if a == "bool" or isopt(a) then
        if b == "bool" then return "bool" end
        if isopt(b) then return b end
        return "opt:" .. b
      end
      return b                                    -- a is always true
    end
    if a == "bool" then
      if b == "bool" then return "bool" end
      fail(st, e, "'or' gives true or %s", describe(b))
    end
    if isopt(a) then
      if e.rhs.tag == "False" then return a end
      local j = join(truthy_part(a), truthy_part(b))
      if j == nil or (b == "bool") then
        fail(st, e, "'or' gives %s or %s", describe(truthy_part(a)), describe(b))
      end
      if isopt(b) then return "opt:" .. j end
      return j
    end
    return a                                      -- a is always true
  end
  local a, b = expr(st, e.lhs), expr(st, e.rhs)
  if eq[op] then
    if a and b and (isopt(a) or isopt(b) or isarr(a) or isarr(b)) then
      fail(st, e, "'%s' between %s and %s", op, describe(a), describe(b))
    end
    return "bool"
  end
  if a == nil or b == nil then
    if a then numeric(st, e.lhs, a, op) end
    if b then numeric(st, e.rhs, b, op) end
    return nil
  end
  numeric(st, e.lhs, a, op)
  numeric(st, e.rhs, b, op)
  if cmp[op] then return "bool" end
  if fdiv[op] then return "float" end
  if bitop[op] then return "int" end
  if a == "int" and b == "int" then return "int" end
  if a == "float" or b == "float" then return "float" end
  return "num"
end

local function unop_type (st, e)
  local t = expr(st, e.operand)
  local op = e.op
  if op == "not" then return "bool" end
  if t == nil then return nil end
  if op == "#" then
    if not isarr(t) then fail(st, e, "length of %s", describe(t)) end
    return "int"
  end
  numeric(st, e.operand, t, op)
  if op == "~" then return "int" end
  return t
end

---------------------------------------------------------------------------
-- Builtins: argument types to result types
---------------------------------------------------------------------------

local function want_args (st, e, ts, lo, hi, name)
  if #ts < lo or #ts > hi then
    fail(st, e, "'%s' called with %d arguments (expected %s)", name, #ts,
      lo == hi and tostring(lo) or format("%d to %d", lo, hi))
  end
  for k, t in ipairs(ts) do
    if not isnum(t) then fail(st, e.args[k] or e, "argument %d of '%s' is %s", k, name, describe(t)) end
  end
end

local function want_ints (st, e, ts, name)
  for k, t in ipairs(ts) do
    if t ~= "int" then fail(st, e.args[k] or e, "argument %d of '%s' is %s (native code needs an integer)", k, name, describe(t)) end
  end
end

local float1 = {sqrt = 1, sin = 1, cos = 1, tan = 1, asin = 1, acos = 1, exp = 1}

local builtin_rules = {}

for name in pairs(float1) do
  builtin_rules["math." .. name] = function (st, e, ts)
    want_args(st, e, ts, 1, 1, name)
    return {"float"}
  end
end
builtin_rules["math.atan"] = function (st, e, ts) want_args(st, e, ts, 1, 2, "atan") return {"float"} end
builtin_rules["math.log"] = function (st, e, ts) want_args(st, e, ts, 1, 2, "log") return {"float"} end
builtin_rules["math.abs"] = function (st, e, ts) want_args(st, e, ts, 1, 1, "abs") return {ts[1]} end
local function rounding (name)
  return function (st, e, ts)
    want_args(st, e, ts, 1, 1, name)
    return {ts[1] == "int" and "int" or "num"}
  end
end
builtin_rules["math.floor"] = rounding("floor")
builtin_rules["math.ceil"] = rounding("ceil")
builtin_rules["math.fmod"] = function (st, e, ts)
  want_args(st, e, ts, 2, 2, "fmod")
  if ts[1] == "num" or ts[2] == "num" then return {"num"} end   -- decided at run time
  return {(ts[1] == "int" and ts[2] == "int") and "int" or "float"}
end
builtin_rules["math.modf"] = function (st, e, ts)
  want_args(st, e, ts, 1, 1, "modf")
  return {ts[1] == "int" and "int" or "num", "float"}
end
local function minmax (name)
  return function (st, e, ts)
    want_args(st, e, ts, 1, math.huge, name)
    local j = ts[1]
    for k = 2, #ts do j = join(j, ts[k]) end
    return {j}
  end
end
builtin_rules["math.min"] = minmax("min")
builtin_rules["math.max"] = minmax("max")
builtin_rules["math.ult"] = function (st, e, ts)
  want_args(st, e, ts, 2, 2, "ult")
  want_ints(st, e, ts, "ult")
  return {"bool"}
end
builtin_rules["math.random"] = function (st, e, ts)
  want_args(st, e, ts, 0, 2, "random")
  want_ints(st, e, ts, "random")
  st.inst.draws = true
  return {#ts == 0 and "float" or "int"}
end
local function draw (name, hi)
  return function (st, e, ts)
    want_args(st, e, ts, 0, hi, name)
    st.inst.draws = true
    return {"float"}
  end
end
builtin_rules["par.random"] = draw("random", 0)
builtin_rules["par.randn"] = draw("randn", 0)
builtin_rules["par.uniform"] = draw("uniform", 2)
builtin_rules["par.normal"] = draw("normal", 2)
builtin_rules["par.lognormal"] = draw("lognormal", 2)
builtin_rules["par.exponential"] = draw("exponential", 1)
builtin_rules["par.integers"] = function (st, e, ts)
  want_args(st, e, ts, 1, 2, "integers")
  want_ints(st, e, ts, "integers")
  st.inst.draws = true
  return {"int"}
end
local function alloc (name)
  return function (st, e, ts)
    if not st.prog.jit then fail(st, e, "'par.%s' outside a par.jit function", name) end
    st.prog.allocs = true
    local dt = "f64"
    local last = e.args[#e.args]
    if last and last.tag == "String" then
      dt = dtypes[last.value]
      if not dt then fail(st, last, "unknown dtype '%s'", last.value) end
      ts[#ts] = nil
    end
    want_args(st, e, ts, 1, 2, name)
    want_ints(st, e, ts, name)
    return {format("A:%s:%d", dt, #ts)}
  end
end
builtin_rules["par.zeros"] = alloc("zeros")
builtin_rules["par.empty"] = alloc("empty")
builtin_rules["error"] = function (st, e)
  if #e.args ~= 1 or e.args[1].tag ~= "String" then
    fail(st, e, "'error' needs one string literal message in native code")
  end
  return {}
end
builtin_rules["assert"] = function (st, e, ts)
  if #e.args < 1 or #e.args > 2 or (e.args[2] and e.args[2].tag ~= "String") then
    fail(st, e, "'assert' needs a condition and an optional string literal in native code")
  end
  if ts[1] == nil then return nil end
  return {ts[1]}
end

-- Array methods native code has: their result types (nil: the element's)
-- and how many arguments they take.
local methods = {sum = {}, prod = {}, min = {}, max = {}, mean = {t = "float"},
  var = {t = "float", args = 1}, std = {t = "float", args = 1}, argmin = {t = "int"},
  argmax = {t = "int"}, median = {t = "float"}, quantile = {args = 1, need = 1}}

---------------------------------------------------------------------------
-- Calls
---------------------------------------------------------------------------

-- Types of an argument list (the last call expands).
local function arg_types (st, args)
  local ts, complete = {}, true
  for k, a in ipairs(args) do
    if k == #args and (a.tag == "Call" or a.tag == "Invoke") then
      local rs = exprlist(st, a)
      if rs == nil then complete = false
      else for _, t in ipairs(rs) do ts[#ts + 1] = t end end
    elseif not (a.tag == "String") then
      local t = expr(st, a)
      if t == nil then complete = false end
      ts[#ts + 1] = t
    end
  end
  return ts, complete
end

local function call_lua (st, e, ft, ts)
  local fk = tonumber(ft:sub(4))
  local fnode = st.prog.fns[fk].node
  if #ts < #fnode.params then
    fail(st, e, "call passes %d arguments to a function of %d parameters (line %d)",
      #ts, #fnode.params, fnode.linedefined)
  end
  for k = 1, #fnode.params do
    local t = ts[k]
    if not (isnum(t) or t == "bool" or isarr(t)) then
      fail(st, e.args[k] or e, "argument %d is %s", k, describe(t))
    end
  end
  local args = {table.unpack(ts, 1, #fnode.params)}
  local inst = get_instance(st, fk, args)
  st.inst.call[e] = inst
  return inst.rets
end

local function invoke_types (st, e)
  local ot = expr(st, e.obj)
  if not isarr(ot) then fail(st, e, "method call on %s", describe(ot)) end
  local m = methods[e.method]
  if not m then fail(st, e, "array method '%s'", e.method) end
  if #e.args > (m.args or 0) then fail(st, e, "'%s' with %d arguments", e.method, #e.args) end
  if #e.args < (m.need or 0) then fail(st, e, "'%s' needs a number", e.method) end
  local qt
  for _, a in ipairs(e.args) do
    qt = expr(st, a)
    if not isnum(qt) then fail(st, a, "'%s' needs a number", e.method) end
  end
  local dt = arr_dt(ot)
  st.inst.call[e] = "method:" .. e.method
  if e.method == "quantile" then   -- an integer q of an int64 array: the element
    if qt == "num" and dt == "i64" then fail(st, e, "'quantile' of a q that is an integer or a float") end
    return {qt == "int" and dt == "i64" and "int" or "float"}
  end
  if m.t then return {m.t} end
  if dt == "f64" then return {"float"} end
  if (e.method == "min" or e.method == "max") and dt == "bool" then
    fail(st, e, "'%s' of a bool array", e.method)
  end
  return {"int"}
end

local function call_types (st, e)
  if e.tag == "Invoke" then return invoke_types(st, e) end
  local ft = expr(st, e.func)
  local ts, complete = arg_types(st, e.args)
  if ft == nil then return nil end
  if ft:sub(1, 3) == "bi:" then
    local name = ft:sub(4)
    local rule = builtin_rules[name]
    if not rule then fail(st, e, "'%s' is not supported in native code", name) end
    st.inst.call[e] = name
    if not complete and name ~= "error" then return nil end
    return rule(st, e, ts)
  end
  if ft:sub(1, 3) ~= "fn:" then fail(st, e, "call of %s", describe(ft)) end
  if not complete then return nil end
  return call_lua(st, e, ft, ts)
end

-- A list of types (nil while unknown) for a multi-value expression.
function exprlist (st, e)
  local rs
  if e.tag == "Call" or e.tag == "Invoke" then rs = call_types(st, e)
  else
    local t = expr(st, e)
    rs = t and {t}
  end
  st.inst.t[e] = rs
  return rs
end

-- The type of expression e (its first value), nil while unknown.
function expr (st, e)
  local tag, t = e.tag
  if tag == "Number" then t = mathtype(e.value) == "integer" and "int" or "float"
  elseif tag == "True" or tag == "False" then t = "bool"
  elseif tag == "Name" then t = name_type(st, e)
  elseif tag == "Paren" then t = expr(st, e.expr)
  elseif tag == "Index" then t = index_type(st, e)
  elseif tag == "Binop" then t = binop_type(st, e)
  elseif tag == "Unop" then t = unop_type(st, e)
  elseif tag == "Call" or tag == "Invoke" then
    local rs = call_types(st, e)
    st.inst.t[e] = rs
    if rs == nil then return nil end
    if #rs == 0 then fail(st, e, "call used as a value returns no value") end
    return rs[1]
  else
    fail(st, e, "%s expression", tag)
  end
  st.inst.t[e] = t
  return t
end

---------------------------------------------------------------------------
-- Statements
---------------------------------------------------------------------------

-- Types of an expression list adjusted to n values (nil entries unknown).
local function adjust (st, exprs, n, node)
  local ts = {}
  for k, e in ipairs(exprs) do
    if k == #exprs and (e.tag == "Call" or e.tag == "Invoke") then
      local rs = exprlist(st, e)
      if rs == nil then
        for j = k, n do ts[j] = false end
      else
        for j = 1, math.max(#rs, 1) do ts[k + j - 1] = rs[j] end
        if #rs == 0 then ts[k] = nil end
      end
    else
      ts[k] = expr(st, e) or false
    end
  end
  for k = 1, n do
    if ts[k] == nil then fail(st, node, "value %d of %d is nil (not enough values)", k, n) end
  end
  return ts
end

local function falls_through (b)
  local last = b.stats[#b.stats]
  if not last then return true end
  if last.tag == "Return" or last.tag == "Break" then return false end
  if last.tag == "Call" and last.func.tag == "Name" and last.func.name == "error"
     and last.func.kind == "global" then return false end
  if last.tag == "Do" then return falls_through(last.body) end
  if last.tag == "If" and last.orelse then
    for _, c in ipairs(last.clauses) do
      if falls_through(c.body) then return true end
    end
    return falls_through(last.orelse)
  end
  return true
end
M.falls_through = falls_through

local function set_rets (st, node, ts)
  local inst = st.inst
  if inst.rets == nil then
    inst.rets = ts
    st.prog.changed = true
    return
  end
  if #ts ~= #inst.rets then
    fail(st, node, "function returns %d values here and %d elsewhere", #ts, #inst.rets)
  end
  for k, t in ipairs(ts) do
    local j = join(inst.rets[k], t)
    if j == nil then
      fail(st, node, "result %d is %s here and %s elsewhere", k, describe(t), describe(inst.rets[k]))
    end
    if isopt(j) then fail(st, node, "result %d is %s", k, describe(j)) end
    if j ~= inst.rets[k] then inst.rets[k] = j; st.prog.changed = true end
  end
end

local function value_type (st, t, node, what)
  if t and not (isnum(t) or t == "bool" or isarr(t)) then
    fail(st, node, "%s is %s", what, describe(t))
  end
end

local function return_stat (st, s)
  if st.ploop then rule_fail(st, s, "'return' inside a parallel loop") end
  local ts = {}
  for k, e in ipairs(s.exprs) do
    if k == #s.exprs and (e.tag == "Call" or e.tag == "Invoke") then
      local rs = exprlist(st, e)
      if rs == nil then return end
      for _, t in ipairs(rs) do ts[#ts + 1] = t end
    else
      local t = expr(st, e)
      if t == nil then return end
      ts[#ts + 1] = t
    end
  end
  for k, t in ipairs(ts) do value_type(st, t, s.exprs[k] or s, format("result %d", k)) end
  set_rets(st, s, ts)
end

-- An outer loop's partials are per block, a nested loop's are not.
local NESTED_REDUCTION = "assignment to '%s', declared outside the parallel loop "
  .. "(a nested loop reduces only into locals of the enclosing loop's body)"

-- x = x + e, x = x * e, x = math.min(x, e), x = math.max(x, e)
local function reduction_form (st, s)
  if #s.targets ~= 1 or #s.exprs ~= 1 then return nil end
  local t, e = s.targets[1], s.exprs[1]
  local function isx (n) return n.tag == "Name" and n.kind == "local" and n.decl == t.decl end
  if e.tag == "Binop" and (e.op == "+" or e.op == "*") and isx(e.lhs) then return e.op, e.rhs end
  if e.tag == "Call" and #e.args == 2 and isx(e.args[1]) and e.func.tag == "Index"
     and e.func.obj.tag == "Name" and e.func.obj.name == "math" and e.func.key.tag == "String"
     and (e.func.key.value == "min" or e.func.key.value == "max") then
    return e.func.key.value, e.args[2]
  end
  return nil
end

local function assign_stat (st, s)
  local inst = st.inst
  local ploop = st.ploop
  if ploop and #s.targets == 1 and s.targets[1].tag == "Name" and s.targets[1].kind == "local"
     and ploop.outer[s.targets[1].decl] then
    local d = s.targets[1].decl
    local op = reduction_form(st, s)
    local up = ploop.parent
    while up do
      if up.outer[d] then rule_fail(st, s.targets[1], NESTED_REDUCTION, d.name) end
      up = up.parent
    end
    if not op then
      rule_fail(st, s, "assignment to '%s', declared outside the parallel loop (only reductions x = x + e, x * e, math.min, math.max)", d.name)
    end
    if ploop.red[d] and ploop.red[d] ~= op then
      rule_fail(st, s, "'%s' is reduced with both '%s' and '%s'", d.name, ploop.red[d], op)
    end
    ploop.red[d] = op
    st.inred = d
    local ts = adjust(st, s.exprs, 1, s)
    st.inred = nil
    inst.t[s] = ts
    if ts[1] then
      if not isnum(ts[1]) then fail(st, s, "reduction of %s", describe(ts[1])) end
      setvar(st, d, ts[1], s)
    end
    return
  end
  for _, tg in ipairs(s.targets) do
    if tg.tag == "Name" then
      if tg.kind ~= "local" then
        fail(st, tg, "assignment to %s '%s'", tg.kind == "global" and "global" or "upvalue", tg.name)
      end
      if inst.fnvars[tg.decl] then fail(st, tg, "assignment to local function '%s'", tg.name) end
      if ploop and ploop.outer[tg.decl] then
        rule_fail(st, tg, "assignment to '%s', declared outside the parallel loop", tg.name)
      end
    else
      local at = row_access(st, tg)
      if not at then
        at = expr(st, tg.obj)
        if at and not isarr(at) then fail(st, tg, "assignment to a field of %s", describe(at)) end
        if at and arr_nd(at) == 2 then fail(st, tg, "assignment to a row of a 2-D array (use a[i][j] = v)") end
      end
      if tg.key.tag == "String" then fail(st, tg.key, "array field '%s'", tg.key.value) end
      local kt = expr(st, tg.key)
      if not isnum(kt) and kt then fail(st, tg.key, "array index is %s", describe(kt)) end
      inst.t[tg] = at
    end
  end
  local ts = adjust(st, s.exprs, #s.targets, s)
  inst.t[s] = ts
  for k, tg in ipairs(s.targets) do
    local t = ts[k]
    if t then
      if tg.tag == "Name" then
        value_type(st, t, s, format("value assigned to '%s'", tg.name))
        setvar(st, tg.decl, t, s)
      elseif inst.t[tg] then
        local dt = arr_dt(inst.t[tg])
        if dt == "bool" and t ~= "bool" then fail(st, s, "bool array element must be a boolean, got %s", describe(t)) end
        if dt ~= "bool" and not isnum(t) then fail(st, s, "%s array element must be a number, got %s", dt == "f64" and "float64" or "int64", describe(t)) end
      end
    end
  end
end

local function local_stat (st, s)
  local inst = st.inst
  if #s.vars == 1 and #s.exprs == 1 and s.exprs[1].tag == "Function" and not s.vars[1].assigned then
    local d = s.vars[1]
    local f = s.exprs[1]
    local fk = st.prog.fnidx[f]
    if not fk then
      fk = #st.prog.fns + 1
      st.prog.fns[fk] = {node = f, cl = inst.cl, file = inst.file, nested = true}
      st.prog.fnidx[f] = fk
    end
    inst.fnvars[d] = "fn:" .. fk
    st.prog.localfns[d] = "fn:" .. fk
    return
  end
  if #s.exprs == 1 and s.exprs[1].tag == "Function" then
    fail(st, s, "function value assigned to a variable that changes")
  end
  for _, d in ipairs(s.vars) do
    if d.attrib == "const" and d.ctc then return end
  end
  if #s.exprs == 0 then
    fail(st, s, "local '%s' declared without a value (nil)", s.vars[1].name)
  end
  local ts = adjust(st, s.exprs, #s.vars, s)
  inst.t[s] = ts
  for k, d in ipairs(s.vars) do
    if ts[k] then
      value_type(st, ts[k], s, format("value of '%s'", d.name))
      setvar(st, d, ts[k], s)
    end
  end
end

local function cond_type (st, e)
  local t = expr(st, e)
  if t and not (t == "bool" or isopt(t) or isnum(t) or isarr(t)) then
    fail(st, e, "condition is %s", describe(t))
  end
end

local function fornum_stat (st, s)
  local a, b, c = expr(st, s.start), expr(st, s.limit), s.step and expr(st, s.step) or "int"
  for k, t in ipairs({a, b, c}) do
    if t and not isnum(t) then
      fail(st, s, "'for' %s must be a number, got %s", ({"initial value", "limit", "step"})[k], describe(t))
    end
  end
  if a == "num" or c == "num" then
    fail(st, s, "'for' loop whose initial value or step may be an integer or a float")
  end
  if a and c then
    setvar(st, s.var, (a == "int" and c == "int") and "int" or "float", s)
  end
  infer_block(st, s.body)
end

local function forin_stat (st, s)
  local nt = expr(st, s.exprs[1].args[1])
  if nt and nt ~= "int" then fail(st, s, "par.prange count is %s (native code needs an integer)", describe(nt)) end
  local inst = st.inst
  setvar(st, s.vars[1], "int", s)
  if not st.prog.intext[inst.fn] then   -- Lua's plain serial loop: Lua's rules
    local serial = st.prog.serial_loops
    serial[#serial + 1] = format("%s:%d", inst.file, s.line)
    infer_block(st, s.body)
    return
  end
  local info = inst.loops[s]
  if not info then
    info = {red = {}, outer = {}, parent = st.ploop}
    for _, d in ipairs(s.outer_assigns) do info.outer[d] = true end
    inst.loops[s] = info
  end
  local saved = st.ploop
  st.ploop = info
  inst.hasloop = true
  infer_block(st, s.body)
  st.ploop = saved
end

local function stat (st, s)
  local tag = s.tag
  if tag == "Local" then local_stat(st, s)
  elseif tag == "LocalFunction" then
    local f = s.func
    local fk = st.prog.fnidx[f]
    if not fk then
      fk = #st.prog.fns + 1
      st.prog.fns[fk] = {node = f, cl = st.inst.cl, file = st.inst.file, nested = true}
      st.prog.fnidx[f] = fk
    end
    st.inst.fnvars[s.var] = "fn:" .. fk
    st.prog.localfns[s.var] = "fn:" .. fk
  elseif tag == "Assign" then assign_stat(st, s)
  elseif tag == "Call" or tag == "Invoke" then st.inst.t[s] = exprlist(st, s)
  elseif tag == "Do" then infer_block(st, s.body)
  elseif tag == "While" then
    cond_type(st, s.cond)
    infer_block(st, s.body)
  elseif tag == "Repeat" then
    infer_block(st, s.body)
    cond_type(st, s.cond)
  elseif tag == "If" then
    for _, c in ipairs(s.clauses) do
      cond_type(st, c.cond)
      infer_block(st, c.body)
    end
    if s.orelse then infer_block(st, s.orelse) end
  elseif tag == "Fornum" then fornum_stat(st, s)
  elseif tag == "Forin" then forin_stat(st, s)
  elseif tag == "Return" then return_stat(st, s)
  elseif tag ~= "Break" then
    fail(st, s, "%s statement", tag)
  end
end

function infer_block (st, b)
  for _, s in ipairs(b.stats) do stat(st, s) end
end

-- Breaks that would leave the parallel loop whose body is b.
local function check_breaks (st, b, depth)
  for _, s in ipairs(b.stats) do
    local tag = s.tag
    if tag == "Break" and depth == 0 then rule_fail(st, s, "'break' out of a parallel loop") end
    local inner = (tag == "While" or tag == "Repeat" or tag == "Fornum" or tag == "Forin") and 1 or 0
    if s.body then check_breaks(st, s.body, depth + inner) end
    if tag == "If" then
      for _, c in ipairs(s.clauses) do check_breaks(st, c.body, depth) end
      if s.orelse then check_breaks(st, s.orelse, depth) end
    end
  end
end

local function has_return (n)
  if type(n) ~= "table" or n.tag == "Function" then return false end
  if n.tag == "Return" then return true end
  for k, v in pairs(n) do
    if k ~= "decl" and k ~= "env" and k ~= "label" and k ~= "outer_assigns" and has_return(v) then
      return true
    end
  end
  return false
end

local function infer_instance (prog, inst)
  local fn = inst.fn
  local st = {prog = prog, inst = inst, file = inst.file}
  inst.fnvars = inst.fnvars or {}
  for k, d in ipairs(fn.params) do setvar(st, d, inst.args[k], fn) end
  infer_block(st, fn.body)
  if inst.rets == nil and (falls_through(fn.body) or not has_return(fn.body)) then
    set_rets(st, fn, {})
  end
  if inst.rets and #inst.rets > 0 and falls_through(fn.body) then
    fail(st, {line = fn.lastlinedefined, col = 1},
      "function may end without returning its %d values", #inst.rets)
  end
end

-- The text of a par.jit function fnode: the set of its Function nodes
-- (itself and the functions defined in it), and its prange loops in
-- source order. These loops are the parallel ones, in native code
-- (emit_c.lua) and in Lua mode (lua_loops.lua) alike, wherever they run.
local skipkeys = {decl = true, env = true, label = true, outer_assigns = true, vars = true,
  var = true, params = true, upvalues = true, globals = true, functions = true}
local function text_of (fnode)
  local set, loops, seen = {[fnode] = true}, {}, {}
  local function walk (n)
    seen[n] = true
    if n.tag == "Function" then set[n] = true end
    if n.tag == "Forin" and check.is_prange(n) then loops[#loops + 1] = n end
    for k, v in pairs(n) do
      if type(v) == "table" and not skipkeys[k] and not seen[v] then walk(v) end
    end
  end
  walk(fnode)
  table.sort(loops, function (a, b) return a.line < b.line or a.line == b.line and a.col < b.col end)
  return set, loops
end

---------------------------------------------------------------------------
-- The whole program
---------------------------------------------------------------------------

-- Infers the program of closure f (whose Function is fnode) called with
-- argument types 'argtypes'. opts: builtins (function -> name), find_ast
-- (closure -> Function or nil, message), protokey (closure -> string),
-- jit (par.jit: prange loops are parallel, par.zeros allowed).
function M.infer (f, fnode, argtypes, opts)
  local prog = {paths = {{}}, values = {f}, pathidx = {}, closure_path = {[f] = 1},
    slots = {}, slotidx = {}, localfns = {}, fns = {}, fnidx = {}, insts = {}, instidx = {},
    builtins = opts.builtins, field = opts.field, find_ast = opts.find_ast, protokey = opts.protokey,
    jit = opts.jit, chunkname = fnode.chunkname, intext = {}, textloops = {},
    serial_loops = {}}
  prog.paths[1].proto = opts.protokey(f)
  if opts.jit then prog.intext, prog.textloops = text_of(fnode) end
  local ok, err = pcall(function ()
    prog.fns[1] = {node = fnode, cl = {path = 1, fnode = fnode}, file = lexer.chunkid(fnode.chunkname)}
    prog.fnidx[1] = 1
    local st = {prog = prog, file = prog.fns[1].file}
    if #argtypes < #fnode.params then
      fail(st, fnode, "kernel has %d parameters but gets %d arguments", #fnode.params, #argtypes)
    end
    prog.entry = get_instance(st, 1, {table.unpack(argtypes, 1, #fnode.params)})
    for _ = 1, 100 do
      prog.changed = false
      for i = 1, #prog.insts do infer_instance(prog, prog.insts[i]) end
      if not prog.changed then break end
    end
    if prog.changed then fail(st, fnode, "types do not settle (recursion too deep to type)") end
    -- API section 4: no 'break' out of a parallel loop, nested ones
    -- included (they run serially, but are the same construct), checked
    -- in source order as Lua mode does, called or not
    for _, s in ipairs(prog.textloops) do check_breaks(st, s.body, 0) end
    for _, inst in ipairs(prog.insts) do
      if inst.rets == nil then
        fail({file = inst.file}, inst.fn, "function never returns (infinite recursion)")
      end
    end
  end)
  if not ok then
    if not lexer.is_error(err) then error(err, 0) end
    return nil, {err}
  end
  return prog
end

return M
