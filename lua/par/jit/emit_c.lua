--[=[ par.jit.emit_c: pass 5 of parlua's kernel compiler.

Consumes a typed program (par.jit.types) and the form it runs in. Produces
readable C that follows kernel_rt.h (prepended by the runtime), with #line
directives pointing at the Lua source. There is no separate IR: the typed
AST is structured enough (no goto) to map statement by statement onto C,
and each expression becomes a C expression of its type, after the
statements that must run first (checks, calls, short-circuits).

  emit_c.emit(prog, form) -> C text, entry symbol
    form.kind: "prange" | "preduce" | "map" | "mapreduce" | "jit"
    form.op:   "+" | "*" | "min" | "max" (reductions)
    form.args: types of map's arguments (arrays or scalars), in order

Every compiled Lua function becomes `static int f<k>(prt_it *it, params...,
results...)` returning PRT_OK, PRT_ERR (error recorded) or PRT_ABORT.
A `for i in par.prange(n)` loop of the par.jit function's own text becomes
a block function over a struct of the locals it reads, run through K->run
(serially, seeded from the iteration's stream, when an iteration runs it);
elsewhere it is Lua's plain serial loop, a C for loop.

Every C expression returned is free of side effects and reads no array:
random draws, calls, checks and array reads are statements made in Lua's
order, so C text may mention an expression twice or evaluate operands in
any order.
]=]

local types = require "par.jit.types"

local M = {}

local format, concat = string.format, table.concat
local mathtype = math.type
local isnum, isarr, isopt, arr_dt, arr_nd = types.isnum, types.isarr, types.isopt,
  types.arr_dt, types.arr_nd

local ctypes = {int = "int64_t", float = "double", bool = "int", num = "prt_num"}
local function ctype (t)
  if isarr(t) then return "prt_arr" end
  return ctypes[t] or error("no C type for " .. tostring(t))
end
local zeros = {int = "0", float = "0.0", bool = "0", num = "prt_num0"}
local function zero (t) return isarr(t) and "prt_arr0" or zeros[t] end
local slotfield = {int = "i", float = "f", bool = "b", num = "n"}
local function field (t) return isarr(t) and "a" or slotfield[t] end
local elemc = {f64 = "double", i64 = "int64_t", bool = "uint8_t"}

-- Shortest decimal that reads back as the same double.
local function flit (x)
  if x ~= x then return "(0.0/0.0)" end
  if x == math.huge then return "(1.0/0.0)" end
  if x == -math.huge then return "(-1.0/0.0)" end
  if x == 0 and 1 / x < 0 then return "-0.0" end
  for p = 1, 17 do
    local s = format("%." .. p .. "g", x)
    if tonumber(s) == x then
      if not s:find("[%.eEn]") then s = s .. ".0" end
      return s
    end
  end
end
M.float_literal = flit

local function ilit (i)
  if i == math.mininteger then return "INT64_MIN" end
  return format("INT64_C(%d)", i)
end

local function cstring (s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("[%c]", function (c)
    return format("\\%03o", c:byte())
  end) .. '"'
end

---------------------------------------------------------------------------
-- Output: a C function under construction (fs): lines, indentation, its
-- temporaries, the slots it loads and the locals it declares.
---------------------------------------------------------------------------

local function new_fs (prog, inst)
  return {prog = prog, inst = inst, lines = {}, ind = 1, ntmp = 0, slots = {}, decls = {},
    declared = {}}
end

local function line (fs, s, ...)
  if select("#", ...) > 0 then s = format(s, ...) end
  fs.lines[#fs.lines + 1] = string.rep("  ", fs.ind) .. s
end

local function at (fs, node)
  if node and node.line then
    fs.lines[#fs.lines + 1] = format("#line %d %s", node.line, fs.inst.cfile)
  end
  fs.cur = node or fs.cur
end

local function tmp (fs, t, init)
  fs.ntmp = fs.ntmp + 1
  local name = "t" .. fs.ntmp
  line(fs, "%s %s = %s;", ctype(t), name, init or zero(t))
  return name
end

-- c evaluated once: c itself when it is a name or a literal, else a
-- temporary of type t holding it (for C text that mentions a value twice).
local function once (fs, c, t)
  if c:match("^[%w_]+$") or c:match("^%-?[%d.]+$") or c:match("^INT64_C%(%-?%d+%)$") then
    return c
  end
  return tmp(fs, t, c)
end

local function var (fs, d)
  local name = format("v%d_%s", d.id, d.name)
  if not fs.declared[d] then
    fs.declared[d] = true
    fs.decls[#fs.decls + 1] = d
  end
  return name
end

local function fail (fs, node, msg)
  return format("return prt_fail(it, %s, %d, %s);", fs.inst.cfilevar, (node or fs.cur).line, cstring(msg))
end

local function slotname (fs, s)
  fs.slots[s] = true
  return "s" .. s
end

---------------------------------------------------------------------------
-- Conversions
---------------------------------------------------------------------------

local function tonum (c, t)
  if t == "int" then return "prt_ni(" .. c .. ")" end
  if t == "float" then return "prt_nf(" .. c .. ")" end
  return c
end

-- An integer literal c (ilit) as an exact float literal, or nil.
local function intlit_float (c)
  local i = math.tointeger(c:match("^INT64_C%((%-?%d+)%)$"))
  if not (i and i >= -(1 << 53) and i <= 1 << 53) then return nil end
  return i < 0 and "(" .. flit(i + 0.0) .. ")" or flit(i + 0.0)
end

local function tofloat (c, t)
  if t == "int" then return intlit_float(c) or "((double)(" .. c .. "))" end
  if t == "num" then return "prt_tof(" .. c .. ")" end
  return c
end

-- c of type 'from' as type 'to' (a join of it).
local function conv (c, from, to)
  if from == to then return c end
  if to == "num" then return tonum(c, from) end
  if to == "float" then return tofloat(c, from) end
  error(format("cannot convert %s to %s", from, to))
end

-- An integer from a number of type t, or the error 'msg'.
local function toint (fs, node, c, t, msg)
  if t == "int" then return c end
  if t == "num" then c = once(fs, c, t) end
  local r = tmp(fs, "int")
  if t == "float" then
    line(fs, "if (!prt_f2i(%s, 0, &%s)) %s", c, r, fail(fs, node, msg))
  else
    line(fs, "if (%s.isint) %s = %s.i;", c, r, c)
    line(fs, "else if (!prt_f2i(%s.f, 0, &%s)) %s", c, r, fail(fs, node, msg))
  end
  return r
end

---------------------------------------------------------------------------
-- Expressions
---------------------------------------------------------------------------

local ex, exlist, truth, block

local function ttype (fs, e)
  local t = fs.inst.t[e]
  if type(t) == "table" then return t[1] end
  return t
end

local function name_ex (fs, e)
  local inst = fs.inst
  if e.kind == "local" then return var(fs, e.decl) end
  if e.kind == "const" then
    local v = e.decl.value
    if type(v) == "boolean" then return v and "1" or "0" end
    return mathtype(v) == "integer" and ilit(v) or flit(v)
  end
  local k = inst.live[e]
  return slotname(fs, fs.prog.slotidx[k])
end

-- Element pointer of array c (type t) at 0-based position pos.
local function elem (t, c, pos)
  return format("((%s *)%s.data)[%s]", elemc[arr_dt(t)], c, pos)
end

-- The checked 0-based position along one dimension of size 'n' of index
-- kc (C expression of type kt).
local function position_check (fs, node, kc, kt, n, what, shape)
  local i
  if kt == "int" then i = kc
  else
    kc = once(fs, kc, kt)
    i = tmp(fs, "int")
    local f = kt == "num" and format("%s.f", kc) or kc
    if kt == "num" then line(fs, "if (%s.isint) %s = %s.i; else", kc, i, kc) end
    line(fs, "if (!prt_f2i(%s, 0, &%s)) return prt_badindex(it, %s, %d, %s);", f, i,
      fs.inst.cfilevar, node.line, f)
  end
  line(fs, "if (PRT_UNLIKELY((uint64_t)%s - 1u >= (uint64_t)%s)) return prt_range_fail(it, %s, %d, %s, %s, %s);",
    i, n, fs.inst.cfilevar, node.line, cstring(what), i, shape)
  return "(" .. i .. " - 1)"
end

-- Index 'key' checked now, or (defer) evaluated now and checked by the
-- function returned: an assignment checks its target's index only after
-- evaluating the values, as Lua's __newindex does.
local function position (fs, node, key, n, what, shape, defer)
  local kt = ttype(fs, key)
  if not defer then return position_check(fs, node, ex(fs, key), kt, n, what, shape) end
  local kc = tmp(fs, kt, ex(fs, key))
  return function () return position_check(fs, node, kc, kt, n, what, shape) end
end

-- The array, its type and the flat 0-based position of an element access
-- (with defer: a function giving the position; see position).
local function element (fs, e, tt, defer)
  local base = e.obj
  if fs.inst.t[base] == "row" then
    local at_ = ttype(fs, base.obj)
    local a = ex(fs, base.obj)
    local r = position(fs, e, base.key, a .. ".n0", "row index", format("%s.n0, %s.n1, 2", a, a))
    -- the column message shows the row's shape (n1,)
    local c = position(fs, e, e.key, a .. ".n1", "index", format("%s.n1, 1, 1", a), defer)
    if defer then
      return a, at_, function () return format("%s * %s.n1 + %s", r, a, c()) end
    end
    return a, at_, format("%s * %s.n1 + %s", r, a, c)
  end
  local at_ = tt or ttype(fs, base)
  local a = ex(fs, base)
  local p = position(fs, e, e.key, a .. ".n0", "index", format("%s.n0, 1, 1", a), defer)
  return a, at_, p
end

-- An element read, made now into a temporary: a call later in the
-- expression may write the array, and Lua reads the element first.
local function index_ex (fs, e)
  if fs.inst.live[e] then return slotname(fs, fs.prog.slotidx[fs.inst.live[e]]) end
  local a, at_, p = element(fs, e)
  local r = elem(at_, a, p)
  if arr_dt(at_) == "bool" then r = "(int)" .. r end
  return tmp(fs, ttype(fs, e), r)
end

local arith_i = {["+"] = "prt_iadd", ["-"] = "prt_isub", ["*"] = "prt_imul"}
local arith_n = {["+"] = "prt_nadd", ["-"] = "prt_nsub", ["*"] = "prt_nmul"}
local cmp_if = {["<"] = "prt_lt_if", ["<="] = "prt_le_if"}
local cmp_fi = {["<"] = "prt_lt_fi", ["<="] = "prt_le_fi"}
local cmp_n = {["<"] = "prt_nlt", ["<="] = "prt_nle"}

local function compare (op, a, ta, b, tb)
  if op == ">" then return compare("<", b, tb, a, ta) end
  if op == ">=" then return compare("<=", b, tb, a, ta) end
  -- a float against an integer literal of at most 2^53 compares as floats
  if ta == "float" and tb == "int" and intlit_float(b) then b, tb = intlit_float(b), "float" end
  if tb == "float" and ta == "int" and intlit_float(a) then a, ta = intlit_float(a), "float" end
  if ta == "num" or tb == "num" then return format("%s(%s, %s)", cmp_n[op], tonum(a, ta), tonum(b, tb)) end
  if ta == tb then return format("(%s %s %s)", a, op, b) end
  if ta == "int" then return format("%s(%s, %s)", cmp_if[op], a, b) end
  return format("%s(%s, %s)", cmp_fi[op], a, b)
end

local function equal (a, ta, b, tb)
  if ta == "bool" or tb == "bool" then
    if ta ~= tb then return "0" end
    return format("(%s == %s)", a, b)
  end
  if ta == "float" and tb == "int" and intlit_float(b) then b, tb = intlit_float(b), "float" end
  if tb == "float" and ta == "int" and intlit_float(a) then a, ta = intlit_float(a), "float" end
  if ta == "num" or tb == "num" then return format("prt_neq(%s, %s)", tonum(a, ta), tonum(b, tb)) end
  if ta == tb then return format("(%s == %s)", a, b) end
  if ta == "int" then return format("prt_eq_if(%s, %s)", a, b) end
  return format("prt_eq_if(%s, %s)", b, a)
end

local function divmod (fs, e, op, a, ta, b, tb, t)
  local msg = op == "//" and "attempt to divide by zero" or "attempt to perform 'n%0'"
  if t == "float" then
    return format("%s(%s, %s)", op == "//" and "prt_fidiv" or "prt_fmod", tofloat(a, ta), tofloat(b, tb))
  end
  local bi = t == "int" and math.tointeger(b:match("^INT64_C%((%-?%d+)%)$"))
  if bi and bi ~= 0 and bi ~= -1 then   -- a constant divisor needs no check
    return format("%s(%s, %s)", op == "//" and "prt_idiv_" or "prt_imod_", a, b)
  end
  local r = tmp(fs, t)
  local f = t == "int" and (op == "//" and "prt_idiv" or "prt_imod") or (op == "//" and "prt_nidiv" or "prt_nmod")
  if t == "num" then a, b = tonum(a, ta), tonum(b, tb) end
  line(fs, "if (%s(%s, %s, &%s)) %s", f, a, b, r, fail(fs, e, msg))
  return r
end


-- Lua's message for operand e without an integer value (luaG_tointerror).
-- Lua names the operand by the instruction that loaded its register
-- (getobjname): a local, an upvalue, a global, or a field: 'k' for a
-- constant string key, 'integer index' for an integer constant key in
-- 0..255 (OP_GETI), '?' for other keys.
local function noint (e)
  while e.tag == "Paren" do e = e.expr end
  local what, name
  if e.tag == "Name" and (e.kind == "local" or e.kind == "upvalue" or e.kind == "global") then
    what, name = e.kind, e.name
  elseif e.tag == "Index" then
    local k = e.key
    while k.tag == "Paren" do k = k.expr end
    what = "field"
    if k.tag == "String" then name = k.value
    elseif k.tag == "Number" and mathtype(k.value) == "integer" and k.value >= 0 and k.value <= 255 then
      name = "integer index"
    else name = "?" end
  end
  if what then return format("number (%s '%s') has no integer representation", what, name) end
  return "number has no integer representation"
end

local function bitwise (fs, e, op, a, ta, b, tb)
  a = toint(fs, e, a, ta, noint(e.lhs))
  b = toint(fs, e, b, tb, noint(e.rhs))
  if op == "<<" then return format("prt_shl(%s, %s)", a, b) end
  if op == ">>" then return format("prt_shr(%s, %s)", a, b) end
  if op == "~" then op = "^" end
  return format("(%s %s %s)", a, op, b)
end

-- Short-circuit operators: their right side runs only when needed.
local function andor (fs, e, t)
  local ta, tb = ttype(fs, e.lhs), ttype(fs, e.rhs)
  local a = ex(fs, e.lhs)
  if not (ta == "bool" or isopt(ta)) then           -- lhs always true
    if e.op == "or" then return a end
    return ex(fs, e.rhs)
  end
  local acond = isopt(ta) and a .. "_ok" or a
  if t == "bool" then
    local r = tmp(fs, "bool", acond)
    line(fs, e.op == "and" and "if (%s) {" or "if (!%s) {", r)
    fs.ind = fs.ind + 1
    local b = ex(fs, e.rhs)
    line(fs, "%s = %s;", r, b)
    fs.ind = fs.ind - 1
    line(fs, "}")
    return r
  end
  if isopt(t) then                                   -- result: false or T
    local vt = t:sub(5)
    fs.ntmp = fs.ntmp + 1
    local r = "t" .. fs.ntmp
    line(fs, "int %s_ok = %s; %s %s_v = %s;", r, acond, ctype(vt), r, zero(vt))
    if e.op == "or" then                             -- a is opt, b is false
      line(fs, "if (%s_ok) %s_v = %s_v;", r, r, a)
      return r
    end
    line(fs, "if (%s_ok) {", r)
    fs.ind = fs.ind + 1
    local b = ex(fs, e.rhs)
    if isopt(tb) then
      line(fs, "%s_ok = %s_ok;", r, b)
      line(fs, "%s_v = %s;", r, conv(b .. "_v", tb:sub(5), vt))
    else
      line(fs, "%s_v = %s;", r, conv(b, tb, vt))
    end
    fs.ind = fs.ind - 1
    line(fs, "}")
    return r
  end
  -- 'x or y' where x is false or a T: the result is a T
  local r = tmp(fs, t)
  line(fs, "if (%s_ok) %s = %s;", a, r, conv(a .. "_v", ta:sub(5), t))
  line(fs, "else {")
  fs.ind = fs.ind + 1
  local b = ex(fs, e.rhs)
  line(fs, "%s = %s;", r, conv(b, tb, t))
  fs.ind = fs.ind - 1
  line(fs, "}")
  return r
end

-- The value of e when Lua folds it to an integer constant (numerals under
-- + - * and unary minus), else nil.
local function intconst (e)
  if e.tag == "Number" then return mathtype(e.value) == "integer" and e.value or nil end
  if e.tag == "Paren" then return intconst(e.expr) end
  if e.tag == "Unop" and e.op == "-" then
    local v = intconst(e.operand)
    return v and -v
  end
  if e.tag == "Binop" and (e.op == "+" or e.op == "-" or e.op == "*") then
    local a, b = intconst(e.lhs), intconst(e.rhs)
    if not (a and b) then return nil end
    return e.op == "+" and a + b or e.op == "-" and a - b or a * b
  end
  return nil
end

local function binop_ex (fs, e, t)
  local op = e.op
  -- Lua codes x - k, k a small integer constant, as x + (-k) (OP_ADDI):
  -- for k = 0 that is x + 0, which is +0.0 where x - 0 would keep -0.0
  if op == "-" and intconst(e.rhs) == 0 then op = "+" end
  if op == "and" or op == "or" then return andor(fs, e, t) end
  local ta, tb = ttype(fs, e.lhs), ttype(fs, e.rhs)
  local a = ex(fs, e.lhs)
  local b = ex(fs, e.rhs)
  if op == "==" then return equal(a, ta, b, tb) end
  if op == "~=" then return "!" .. equal(a, ta, b, tb) end
  if op == "<" or op == "<=" or op == ">" or op == ">=" then return compare(op, a, ta, b, tb) end
  if op == "/" then return format("(%s / %s)", tofloat(a, ta), tofloat(b, tb)) end
  if op == "^" then return format("prt_pow(%s, %s)", tofloat(a, ta), tofloat(b, tb)) end
  if op == "//" or op == "%" then return divmod(fs, e, op, a, ta, b, tb, t) end
  if arith_i[op] then
    if t == "int" then return format("%s(%s, %s)", arith_i[op], a, b) end
    if t == "float" then return format("(%s %s %s)", tofloat(a, ta), op, tofloat(b, tb)) end
    return format("%s(%s, %s)", arith_n[op], tonum(a, ta), tonum(b, tb))
  end
  return bitwise(fs, e, op, a, ta, b, tb)
end

local function unop_ex (fs, e, t)
  local ot = ttype(fs, e.operand)
  if e.op == "not" then return "!" .. truth(fs, e.operand) end
  local a = ex(fs, e.operand)
  if e.op == "#" then return a .. ".n0" end
  if e.op == "~" then
    return "(~" .. toint(fs, e, a, ot, noint(e.operand)) .. ")"
  end
  if t == "int" then return "prt_ineg(" .. a .. ")" end
  if t == "float" then return "(-" .. a .. ")" end
  return "prt_nneg(" .. a .. ")"
end

---------------------------------------------------------------------------
-- Calls
---------------------------------------------------------------------------

-- C expressions and types of an argument list (the last call expands).
local function args_ex (fs, args)
  local cs, ts = {}, {}
  for k, a in ipairs(args) do
    if a.tag == "String" then
      -- messages of error/assert are read by their builtins
    elseif k == #args and (a.tag == "Call" or a.tag == "Invoke") then
      for _, r in ipairs(exlist(fs, a)) do cs[#cs + 1], ts[#ts + 1] = r.c, r.t end
    else
      ts[#ts + 1] = ttype(fs, a)
      cs[#cs + 1] = ex(fs, a)
    end
  end
  return cs, ts
end

local builtin = {}

local function f1 (cfun)
  return function (fs, e, cs, ts) return {format("%s(%s)", cfun, tofloat(cs[1], ts[1]))} end
end
for _, n in ipairs{"sqrt", "sin", "cos", "tan", "asin", "acos", "exp"} do
  builtin["math." .. n] = f1(n)
end
builtin["math.atan"] = function (fs, e, cs, ts)
  return {format("atan2(%s, %s)", tofloat(cs[1], ts[1]), cs[2] and tofloat(cs[2], ts[2]) or "1.0")}
end
builtin["math.log"] = function (fs, e, cs, ts)
  local x = tofloat(cs[1], ts[1])
  if not cs[2] then return {format("log(%s)", x)} end
  local b = e.args[2]
  if b.tag == "Number" and b.value == 2 then return {format("log2(%s)", x)} end
  if b.tag == "Number" and b.value == 10 then return {format("log10(%s)", x)} end
  x = once(fs, x, "float")
  local bc = once(fs, tofloat(cs[2], ts[2]), "float")
  return {format("(%s == 2.0 ? log2(%s) : %s == 10.0 ? log10(%s) : log(%s) / log(%s))", bc, x, bc, x, x, bc)}
end
builtin["math.abs"] = function (fs, e, cs, ts)
  if ts[1] == "float" then return {format("fabs(%s)", cs[1])} end
  local x = once(fs, cs[1], ts[1])
  if ts[1] == "int" then return {format("(%s < 0 ? prt_ineg(%s) : %s)", x, x, x)} end
  return {format("(%s.isint ? prt_ni(%s.i < 0 ? prt_ineg(%s.i) : %s.i) : prt_nf(fabs(%s.f)))",
    x, x, x, x, x)}
end
local function rounding (fn)
  return function (fs, e, cs, ts)
    if ts[1] == "int" then return {cs[1]} end
    if ts[1] == "float" then return {format("prt_%s(%s)", fn, cs[1])} end
    local x = once(fs, cs[1], ts[1])
    return {format("(%s.isint ? %s : prt_%s(%s.f))", x, x, fn, x)}
  end
end
builtin["math.floor"] = rounding("floor")
builtin["math.ceil"] = rounding("ceil")
-- Integer fmod of a and b into r (math_fmod: 0 for -1, an error for 0).
local function ifmod (fs, e, r, a, b)
  line(fs, "if ((uint64_t)%s + 1u <= 1u) {", b)
  line(fs, "  if (%s == 0) %s", b, fail(fs, e, "bad argument #2 to 'fmod' (zero)"))
  line(fs, "} else %s = %s %% %s;", r, a, b)
end
builtin["math.fmod"] = function (fs, e, cs, ts)
  if ts[1] == "int" and ts[2] == "int" then
    local b = once(fs, cs[2], "int")
    local r = tmp(fs, "int")
    ifmod(fs, e, r, cs[1], b)
    return {r}
  end
  if ts[1] == "num" or ts[2] == "num" then   -- integer fmod when both are
    local a, b = tmp(fs, "num", tonum(cs[1], ts[1])), tmp(fs, "num", tonum(cs[2], ts[2]))
    local r = tmp(fs, "num", format("prt_ni(0)"))
    line(fs, "if (%s.isint && %s.isint) {", a, b)
    fs.ind = fs.ind + 1
    ifmod(fs, e, r .. ".i", a .. ".i", b .. ".i")
    fs.ind = fs.ind - 1
    line(fs, "} else %s = prt_nf(fmod(prt_tof(%s), prt_tof(%s)));", r, a, b)
    return {r}
  end
  return {format("fmod(%s, %s)", tofloat(cs[1], ts[1]), tofloat(cs[2], ts[2]))}
end
builtin["math.modf"] = function (fs, e, cs, ts)
  if ts[1] == "int" then return {cs[1], "0.0"} end
  local x = once(fs, cs[1], ts[1])
  local xf = ts[1] == "num" and x .. ".f" or x
  local ip = tmp(fs, "float", format("(%s < 0) ? ceil(%s) : floor(%s)", xf, xf, xf))
  local ipn = tmp(fs, "num", format("prt_floor(%s)", ip))
  local frac = format("((%s == %s) ? 0.0 : (%s - %s))", xf, ip, xf, ip)
  if ts[1] == "num" then   -- an integer is its own integer part
    return {format("(%s.isint ? %s : %s)", x, x, ipn), format("(%s.isint ? 0.0 : %s)", x, frac)}
  end
  return {ipn, frac}
end
local function minmax (isnmax)
  return function (fs, e, cs, ts)
    local t = fs.inst.t[e][1]
    local r = tmp(fs, t, conv(cs[1], ts[1], t))
    local rt = t
    for k = 2, #cs do
      local x, c = once(fs, cs[k], ts[k])
      if isnmax then c = compare("<", r, rt, x, ts[k])
      else c = compare("<", x, ts[k], r, rt) end
      line(fs, "if (%s) %s = %s;", c, r, conv(x, ts[k], t))
    end
    return {r}
  end
end
builtin["math.max"] = minmax(true)
builtin["math.min"] = minmax(false)
builtin["math.ult"] = function (fs, e, cs)
  return {format("((uint64_t)%s < (uint64_t)%s)", cs[1], cs[2])}
end
-- A draw from the iteration's stream, made now: in C a call in an
-- expression could run twice (a macro) or out of Lua's order (operands).
-- prog.draws (every draw sets it) tells prt_iter to set up streams.
local function draw (fs, c)
  fs.prog.draws = true
  return tmp(fs, "float", c)
end

builtin["math.random"] = function (fs, e, cs)
  if #cs == 0 then return {draw(fs, "prt_random(it)")} end
  fs.prog.draws = true
  local a = once(fs, cs[1], "int")
  local lo, hi = "INT64_C(1)", a
  if #cs == 2 then lo, hi = a, once(fs, cs[2], "int") end
  local r = tmp(fs, "int")
  if #cs == 1 then
    line(fs, "if (%s == 0) %s = (int64_t)prt_draw64(it); else", hi, r)
  end
  line(fs, "if (%s > %s) %s", lo, hi, fail(fs, e, "bad argument #1 to 'random' (interval is empty)"))
  line(fs, "else %s = prt_integers(it, %s, %s);", r, lo, hi)
  return {r}
end
builtin["par.random"] = function (fs) return {draw(fs, "prt_random(it)")} end
builtin["par.randn"] = function (fs) return {draw(fs, "prt_randn(it)")} end
local function nonneg (fs, e, c, argn, fname, what)
  line(fs, "if (!isnan(%s) && signbit(%s)) %s", c, c,
    fail(fs, e, format("bad argument #%d to '%s' (%s < 0)", argn, fname, what)))
end
builtin["par.uniform"] = function (fs, e, cs, ts)
  local lo = cs[1] and tofloat(cs[1], ts[1]) or "0.0"
  local hi = cs[2] and tofloat(cs[2], ts[2]) or "1.0"
  local lt = tmp(fs, "float", lo)
  local d = tmp(fs, "float", format("%s - %s", hi, lt))
  line(fs, "if (!isfinite(%s)) %s", d, fail(fs, e, "bad argument #2 to 'uniform' (high - low range exceeds valid bounds)"))
  nonneg(fs, e, d, 2, "uniform", "high - low")
  return {draw(fs, format("%s + %s * prt_random(it)", lt, d))}
end
builtin["par.normal"] = function (fs, e, cs, ts)
  local loc = tmp(fs, "float", cs[1] and tofloat(cs[1], ts[1]) or "0.0")
  local sc = tmp(fs, "float", cs[2] and tofloat(cs[2], ts[2]) or "1.0")
  nonneg(fs, e, sc, 2, "normal", "scale")
  return {draw(fs, format("%s + %s * prt_randn(it)", loc, sc))}
end
builtin["par.lognormal"] = function (fs, e, cs, ts)
  local m = tmp(fs, "float", cs[1] and tofloat(cs[1], ts[1]) or "0.0")
  local sg = tmp(fs, "float", cs[2] and tofloat(cs[2], ts[2]) or "1.0")
  nonneg(fs, e, sg, 2, "lognormal", "sigma")
  return {draw(fs, format("exp(%s + %s * prt_randn(it))", m, sg))}
end
builtin["par.exponential"] = function (fs, e, cs, ts)
  local sc = tmp(fs, "float", cs[1] and tofloat(cs[1], ts[1]) or "1.0")
  nonneg(fs, e, sc, 1, "exponential", "scale")
  return {draw(fs, format("%s * prt_rande(it)", sc))}
end
builtin["par.integers"] = function (fs, e, cs)
  local a = once(fs, cs[1], "int")
  local lo, hi = "INT64_C(0)", a
  if #cs == 2 then lo, hi = a, once(fs, cs[2], "int") end
  local r = tmp(fs, "int")
  line(fs, "if (%s == INT64_MIN || %s > %s - 1) %s", hi, lo, hi,
    fail(fs, e, format("bad argument #%d to 'integers' (low >= high)", #cs)))
  fs.prog.draws = true
  line(fs, "%s = prt_integers(it, %s, %s - 1);", r, lo, hi)
  return {r}
end
local function alloc (fname, zero_)
  return function (fs, e, cs)
    local t = fs.inst.t[e][1]
    local r = tmp(fs, t)
    local dt = ({f64 = 0, i64 = 1, bool = 2})[arr_dt(t)]
    line(fs, "if (prt_alloc(it, %s, %d, %s, %d, %d, %s, %s, %d, &%s)) return PRT_ERR;",
      fs.inst.cfilevar, e.line, cstring(fname), dt, arr_nd(t), cs[1], cs[2] or "1", zero_, r)
    return {r}
  end
end
builtin["par.zeros"] = alloc("zeros", 1)
builtin["par.empty"] = alloc("empty", 0)
builtin["error"] = function (fs, e)
  line(fs, "%s", fail(fs, e, e.args[1].value))
  return {}
end
builtin["assert"] = function (fs, e, cs, ts)
  local msg = e.args[2] and e.args[2].value or "assertion failed!"
  local c = ts[1] == "bool" and cs[1] or isopt(ts[1]) and cs[1] .. "_ok" or "1"
  line(fs, "if (!%s) %s", c, fail(fs, e, msg))
  return {cs[1]}
end

local stats = {mean = "PRT_MEAN", var = "PRT_VAR", std = "PRT_STD", argmin = "PRT_ARGMIN",
  argmax = "PRT_ARGMAX", median = "PRT_MEDIAN", quantile = "PRT_QUANTILE"}
local dtcodes = {f64 = 0, i64 = 1, bool = 2}

-- a:mean(), a:var([ddof]), a:std([ddof]), a:argmin(), a:argmax(),
-- a:median(), a:quantile(q): the runtime computes them (K->stat), as the
-- methods do, with their messages.
local function stat_ex (fs, e, at_, a)
  local m = e.method
  local rt = ttype(fs, e)
  local isint = rt == "int"
  local r = tmp(fs, rt)
  local ddof = e.args[1] and tmp(fs, "float", tofloat(ex(fs, e.args[1]), ttype(fs, e.args[1])))
    or "0.0"
  local what = stats[m]
  if m == "quantile" and ttype(fs, e.args[1]) == "int" then what = "PRT_QUANTILE_INT" end
  fs.ntmp = fs.ntmp + 1
  local v, st = "t" .. fs.ntmp .. "v", "t" .. fs.ntmp .. "s"
  line(fs, "{")
  fs.ind = fs.ind + 1
  line(fs, "prt_arr %s = %s;", v, a)
  line(fs, "prt_slot %s;", st)
  if m == "argmin" or m == "argmax" then
    line(fs, "if (%s.size == 0) %s", v, fail(fs, e, format("calling '%s' on bad self "
      .. "(attempt to get %s of an empty sequence)", m, m)))
  elseif m == "quantile" then
    line(fs, "if (!(%s >= 0.0 && %s <= 1.0)) %s", ddof, ddof,
      fail(fs, e, "bad argument #1 to 'quantile' (quantiles must be in the range [0, 1])"))
    line(fs, "if (%s.size == 0) %s", v,
      fail(fs, e, "calling 'quantile' on bad self (cannot take a quantile of an empty array)"))
  end
  line(fs, "switch (it->K->stat(%s, &%s, %d, %s, &%s)) {", what, v, dtcodes[arr_dt(at_)], ddof, st)
  line(fs, "  case 0: break;")
  line(fs, "  case 1: return PRT_ABORT;")
  line(fs, "  default: %s", fail(fs, e, "not enough memory"))
  line(fs, "}")
  line(fs, "%s = %s.%s;", r, st, isint and "i" or "f")
  fs.ind = fs.ind - 1
  line(fs, "}")
  return {{c = r, t = rt}}
end

-- a:sum(), a:prod(), a:min(), a:max() in reduce.h's block order.
local function method_ex (fs, e)
  local at_ = ttype(fs, e.obj)
  local a = ex(fs, e.obj)
  local m = e.method
  if stats[m] then return stat_ex(fs, e, at_, a) end
  local dt = arr_dt(at_)
  local t = dt == "f64" and "float" or "int"
  local el = elem(at_, a, "k")
  if dt == "bool" then el = "(int64_t)" .. el end
  local r = tmp(fs, t)
  fs.ntmp = fs.ntmp + 1
  local p, k, b = "t" .. fs.ntmp .. "p", "k", "t" .. fs.ntmp .. "b"
  line(fs, "{")
  fs.ind = fs.ind + 1
  line(fs, "int64_t %s, k;", b)
  line(fs, "%s %s;", ctype(t), p)
  if m == "sum" or m == "prod" then
    local id = m == "sum" and "0" or "1"
    local opf = t == "int" and (m == "sum" and "prt_iadd(%s, %s)" or "prt_imul(%s, %s)")
      or (m == "sum" and "(%s + %s)" or "(%s * %s)")
    line(fs, "%s = %s;", r, id)
    line(fs, "for (%s = 0; %s < %s.size; %s += 1024) {", b, b, a, b)
    line(fs, "  %s = %s;", p, id)
    line(fs, "  for (%s = %s; %s < %s.size && %s < %s + 1024; %s++) %s = %s;", k, b, k, a, k, b, k, p,
      format(opf, p, el))
    line(fs, "  %s = %s;", r, format(opf, r, p))
    line(fs, "}")
  else
    local better = m == "min" and "<" or ">"
    line(fs, "if (%s.size == 0) %s", a, fail(fs, e, format("calling '%s' on bad self (zero-size array to reduction "
      .. "operation %s which has no identity)", m, m)))
    line(fs, "%s = %s;", r, elem(at_, a, "0"))
    line(fs, "for (%s = 0; %s < %s.size; %s += 1024) {", b, b, a, b)
    line(fs, "  %s = %s;", p, elem(at_, a, b))
    if t == "float" then
      line(fs, "  for (%s = %s + 1; %s < %s.size && %s < %s + 1024; %s++)", k, b, k, a, k, b, k)
      line(fs, "    if (%s == %s && (%s != %s || %s %s %s)) %s = %s;", p, p, el, el, el, better, p, p, el)
      line(fs, "  if (%s == %s && (%s != %s || %s %s %s)) %s = %s;", r, r, p, p, p, better, r, r, p)
    else
      line(fs, "  for (%s = %s + 1; %s < %s.size && %s < %s + 1024; %s++) if (%s %s %s) %s = %s;",
        k, b, k, a, k, b, k, el, better, p, p, el)
      line(fs, "  if (%s %s %s) %s = %s;", p, better, r, r, p)
    end
    line(fs, "}")
  end
  fs.ind = fs.ind - 1
  line(fs, "}")
  return {{c = r, t = t}}
end

-- Can instance 'from' reach instance 'to' through calls? Only calls that
-- close a cycle (recursion) count towards the depth bound: the others
-- follow the acyclic part of the call graph, whose length is bounded.
local function reaches (prog, from, to)
  prog.reach = prog.reach or {}
  local set = prog.reach[from]
  if not set then
    set = {}
    local function visit (inst)
      for _, c in pairs(inst.call) do
        if type(c) == "table" and not set[c] then
          set[c] = true
          visit(c)
        end
      end
    end
    visit(from)
    prog.reach[from] = set
  end
  return set[to] == true
end

-- A call: the list {c = C expression, t = type} of its results.
function exlist (fs, e)
  local inst = fs.inst
  if e.tag == "Invoke" then return method_ex(fs, e) end
  local callee = inst.call[e]
  local rts = inst.t[e]
  if type(callee) == "string" then
    local cs, ts = args_ex(fs, e.args)
    local rs = builtin[callee](fs, e, cs, ts)
    local out = {}
    for k, c in ipairs(rs) do out[k] = {c = c, t = rts[k]} end
    return out
  end
  local cs = args_ex(fs, e.args)
  local out, argv = {}, {"it"}
  for k = 1, #callee.fn.params do argv[#argv + 1] = cs[k] end
  for k, t in ipairs(callee.rets) do
    local r = tmp(fs, t)
    out[k] = {c = r, t = t}
    argv[#argv + 1] = "&" .. r
  end
  local recursive = reaches(fs.prog, callee, inst)
  if recursive then
    line(fs, "if (PRT_UNLIKELY(++it->depth > PRT_MAXDEPTH)) %s", fail(fs, e, "stack overflow"))
  end
  line(fs, "if ((rc = f%d(%s)) != 0) return rc;", callee.id, concat(argv, ", "))
  if recursive then line(fs, "it->depth--;") end
  fs.usesrc = true
  return out
end

-- Expression e as a C expression of its type (opt types: a name with
-- _ok and _v parts).
function ex (fs, e)
  local tag = e.tag
  local t = ttype(fs, e)
  if tag == "Number" then
    return mathtype(e.value) == "integer" and ilit(e.value) or flit(e.value)
  elseif tag == "True" then return "1"
  elseif tag == "False" then return "0"
  elseif tag == "Name" then return name_ex(fs, e)
  elseif tag == "Paren" then return ex(fs, e.expr)
  elseif tag == "Index" then return index_ex(fs, e)
  elseif tag == "Binop" then return binop_ex(fs, e, t)
  elseif tag == "Unop" then return unop_ex(fs, e, t)
  elseif tag == "Call" or tag == "Invoke" then
    return exlist(fs, e)[1].c
  end
  error("cannot emit " .. tag)
end

-- A C condition for the truth of e.
function truth (fs, e)
  local t = ttype(fs, e)
  local c = ex(fs, e)
  if t == "bool" then return "(" .. c .. ")" end
  if isopt(t) then return c .. "_ok" end
  return "1"
end

---------------------------------------------------------------------------
-- Statements
---------------------------------------------------------------------------

-- Values of an expression list adjusted to n: {c, t} each.
local function values (fs, exprs, n)
  local out = {}
  for k, e in ipairs(exprs) do
    if k == #exprs and (e.tag == "Call" or e.tag == "Invoke") then
      for _, r in ipairs(exlist(fs, e)) do out[#out + 1] = r end
    else
      local t = ttype(fs, e)
      local c = ex(fs, e)
      -- all values are computed before any is assigned (a, b = b, a)
      if (n > 1 or #exprs > 1) and e.tag ~= "Number" then c = tmp(fs, t, c) end
      out[#out + 1] = {c = c, t = t}
    end
  end
  return out
end

local function store (fs, s, tg, v)
  local inst = fs.inst
  if tg.tag == "Name" then
    line(fs, "%s = %s;", var(fs, tg.decl), conv(v.c, v.t, inst.vars[tg.decl]))
    return
  end
  local a, at_, p = tg.a, tg.at, tg.p
  local dt = arr_dt(at_)
  local target = elem(at_, a, p)
  if dt == "f64" then line(fs, "%s = %s;", target, tofloat(v.c, v.t))
  elseif dt == "bool" then line(fs, "%s = (uint8_t)%s;", target, v.c)
  else
    line(fs, "%s = %s;", target, toint(fs, s, v.c, v.t, "number has no integer representation"))
  end
end

-- As Lua: arrays and indices of the targets, then the values, then the
-- stores from the last target to the first (each checking its index).
local function assign (fs, s)
  local targets = {}
  for k, tg in ipairs(s.targets) do
    if tg.tag == "Index" then
      local a, at_, pf = element(fs, tg, fs.inst.t[tg], true)
      if #s.targets > 1 then a = tmp(fs, at_, a) end   -- a later store may change it
      targets[k] = {tag = "Index", a = a, at = at_, pf = pf}
    else
      targets[k] = tg
    end
  end
  local vs = values(fs, s.exprs, #s.targets)
  for k = #targets, 1, -1 do
    local tg = targets[k]
    if tg.pf then tg.p = tmp(fs, "int", tg.pf()) end
    store(fs, s, tg, vs[k])
  end
end

local function local_stat (fs, s)
  local inst = fs.inst
  if inst.fnvars[s.vars[1]] or (s.vars[1].ctc) then return end
  local vs = values(fs, s.exprs, #s.vars)
  for k, d in ipairs(s.vars) do
    line(fs, "%s = %s;", var(fs, d), conv(vs[k].c, vs[k].t, inst.vars[d]))
  end
end

local function return_stat (fs, s)
  local inst = fs.inst
  local vs = values(fs, s.exprs, #inst.rets)
  for k, t in ipairs(inst.rets) do
    line(fs, "*r%d = %s;", k, conv(vs[k].c, vs[k].t, t))
  end
  line(fs, "return PRT_OK;")
end

local function open (fs, fmt, ...)
  line(fs, fmt, ...)
  fs.ind = fs.ind + 1
end

local function close (fs, s)
  fs.ind = fs.ind - 1
  line(fs, s or "}")
end

local function if_stat (fs, s, k)
  k = k or 1
  local c = s.clauses[k]
  at(fs, c.cond)
  open(fs, "if (%s) {", truth(fs, c.cond))
  block(fs, c.body)
  if s.clauses[k + 1] then
    close(fs, "} else {")
    fs.ind = fs.ind + 1
    if_stat(fs, s, k + 1)
    close(fs)
  elseif s.orelse then
    close(fs, "} else {")
    fs.ind = fs.ind + 1
    block(fs, s.orelse)
    close(fs)
  else
    close(fs)
  end
end

local skip = {decl = true, env = true, label = true, outer_assigns = true}

-- Whether instance inst, or one it calls, makes arrays (par.zeros/empty).
local function allocates (inst, seen)
  if seen[inst] then return false end
  seen[inst] = true
  for _, c in pairs(inst.call) do
    if c == "par.zeros" or c == "par.empty" or (type(c) == "table" and allocates(c, seen)) then
      return true
    end
  end
  return false
end

-- Whether loop body b of fs's instance may make arrays.
local function body_allocates (fs, b)
  local function walk (n)
    if type(n) ~= "table" then return false end
    local c = fs.inst.call[n]
    if c == "par.zeros" or c == "par.empty" or (type(c) == "table" and allocates(c, {})) then
      return true
    end
    for k, v in pairs(n) do
      if not skip[k] and walk(v) then return true end
    end
    return false
  end
  return walk(b)
end

-- Whether the arrays an iteration of serial loop s makes (par.zeros) die
-- with it: it makes some, no variable declared outside it that can hold an
-- array is assigned in it, and it has no 'return'.
local function arrays_die (fs, s)
  if not (fs.prog.allocs and body_allocates(fs, s.body)) then return false end
  for _, d in ipairs(s.outer_assigns) do
    local t = fs.inst.vars[d]
    if t == nil or t:find("A:", 1, true) then return false end
  end
  local function returns (n)
    if type(n) ~= "table" or n.tag == "Function" then return false end
    if n.tag == "Return" then return true end
    for k, v in pairs(n) do
      if not skip[k] and returns(v) then return true end
    end
    return false
  end
  return not returns(s.body)
end

-- The body of serial loop s; the arrays an iteration makes are freed at its
-- end when they cannot outlive it (a 'break' leaves them to the call's end).
local function loop_body (fs, s)
  if not arrays_die(fs, s) then return block(fs, s.body) end
  fs.ntmp = fs.ntmp + 1
  local mark = "t" .. fs.ntmp .. "m"
  open(fs, "{")
  line(fs, "int64_t %s = it->K->allocs(it->K, it->tid);", mark)
  block(fs, s.body)
  line(fs, "it->K->release(it->K, it->tid, %s);", mark)
  close(fs)
end

local function fornum (fs, s)
  local inst = fs.inst
  local ta, tb = ttype(fs, s.start), ttype(fs, s.limit)
  local tc = s.step and ttype(fs, s.step) or "int"
  local a = tmp(fs, ta, ex(fs, s.start))
  local b = tmp(fs, tb, ex(fs, s.limit))
  local c = s.step and tmp(fs, tc, ex(fs, s.step)) or "INT64_C(1)"
  local v = var(fs, s.var)
  if inst.vars[s.var] == "int" then
    local lim = b
    if tb ~= "int" then
      lim = tmp(fs, "int")
    end
    fs.ntmp = fs.ntmp + 1
    local cnt = "t" .. fs.ntmp
    line(fs, "uint64_t %s = 0;", cnt)
    if s.step then line(fs, "if (%s == 0) %s", c, fail(fs, s, "'for' step is zero")) end
    local cond = format("prt_forprep(%s, %s, %s, &%s)", a, lim, c, cnt)
    if tb == "float" then cond = format("prt_forlimit(%s, %s, &%s) && %s", b, c, lim, cond)
    elseif tb == "num" then
      cond = format("(%s.isint ? (%s = %s.i, 1) : prt_forlimit(%s.f, %s, &%s)) && %s", b, lim, b, b, c, lim, cond)
    end
    open(fs, "if (%s) {", cond)
    open(fs, "for (;;) {")
    line(fs, "%s = %s;", v, a)
    line(fs, "PRT_POLLCHECK(it);")
    loop_body(fs, s)
    line(fs, "if (%s-- == 0) break;", cnt)
    line(fs, "%s = prt_iadd(%s, %s);", a, a, c)
    close(fs)
    close(fs)
    return
  end
  local fa = tmp(fs, "float", tofloat(a, ta))
  local fb = tmp(fs, "float", tofloat(b, tb))
  local fc = tmp(fs, "float", tofloat(c, tc))
  line(fs, "if (%s == 0) %s", fc, fail(fs, s, "'for' step is zero"))
  open(fs, "if (!(0 < %s ? %s < %s : %s < %s)) {", fc, fb, fa, fa, fb)
  open(fs, "for (;;) {")
  line(fs, "%s = %s;", v, fa)
  line(fs, "PRT_POLLCHECK(it);")
  loop_body(fs, s)
  line(fs, "%s += %s;", fa, fc)
  line(fs, "if (!(0 < %s ? %s <= %s : %s <= %s)) break;", fc, fa, fb, fb, fa)
  close(fs)
  close(fs)
end

local forin

local function stat (fs, s)
  local tag = s.tag
  at(fs, s)
  if tag == "Local" then local_stat(fs, s)
  elseif tag == "LocalFunction" then -- compiled as its own C function
  elseif tag == "Assign" then assign(fs, s)
  elseif tag == "Call" or tag == "Invoke" then exlist(fs, s)
  elseif tag == "Do" then
    open(fs, "{")
    block(fs, s.body)
    close(fs)
  elseif tag == "While" then
    open(fs, "for (;;) {")
    line(fs, "if (!%s) break;", truth(fs, s.cond))
    line(fs, "PRT_POLLCHECK(it);")
    loop_body(fs, s)
    close(fs)
  elseif tag == "Repeat" then
    open(fs, "for (;;) {")
    line(fs, "PRT_POLLCHECK(it);")
    block(fs, s.body)
    at(fs, s.cond)
    line(fs, "if (%s) break;", truth(fs, s.cond))
    close(fs)
  elseif tag == "If" then if_stat(fs, s)
  elseif tag == "Fornum" then fornum(fs, s)
  elseif tag == "Forin" then forin(fs, s)
  elseif tag == "Return" then return_stat(fs, s)
  elseif tag == "Break" then line(fs, "break;")
  end
end

function block (fs, b)
  for _, s in ipairs(b.stats) do stat(fs, s) end
end

---------------------------------------------------------------------------
-- Functions
---------------------------------------------------------------------------

-- The C name of parameter k of inst: its variable, unless the variable
-- has another type (an int argument later assigned a float: a tagged
-- number), which the prologue then initialises from the parameter.
local function param_name (inst, k)
  local d = inst.fn.params[k]
  local vt = inst.vars[d]
  if vt == nil or vt == inst.args[k] then return format("v%d_%s", d.id, d.name) end
  return format("a%d_%s", d.id, d.name)
end

-- Declarations of a C function's locals, temporaries aside.
local function prologue (fs)
  local out = {}
  for _, d in ipairs(fs.decls) do
    if not fs.params or not fs.params[d] then
      local t = fs.inst.vars[d]
      local init = zero(t)
      local k = fs.convert and fs.convert[d]
      if k then init = conv(param_name(fs.inst, k), fs.inst.args[k], t) end
      out[#out + 1] = format("  %s v%d_%s = %s;", ctype(t), d.id, d.name, init)
    end
  end
  local ss = {}
  for s in pairs(fs.slots) do ss[#ss + 1] = s end
  table.sort(ss)
  for _, s in ipairs(ss) do
    local t = fs.prog.slots[s].type
    out[#out + 1] = format("  const %s s%d = it->K->slots[%d].%s;", ctype(t), s, s - 1, field(t))
  end
  if fs.usesrc then out[#out + 1] = "  int rc;" end
  local uses = {"(void)it;"}
  for _, d in ipairs(fs.decls) do uses[#uses + 1] = format("(void)v%d_%s;", d.id, d.name) end
  for _, p in ipairs(fs.fnparams or {}) do uses[#uses + 1] = format("(void)%s;", p) end
  for _, s in ipairs(ss) do uses[#uses + 1] = format("(void)s%d;", s) end
  if #uses > 0 then out[#out + 1] = "  " .. concat(uses, " ") end
  return out
end

local function signature (inst)
  local ps = {"prt_it *it"}
  for k in ipairs(inst.fn.params) do
    ps[#ps + 1] = format("%s %s", ctype(inst.args[k]), param_name(inst, k))
  end
  for k, t in ipairs(inst.rets) do ps[#ps + 1] = format("%s *r%d", ctype(t), k) end
  -- pure functions are inlined into the loop that calls them (simd)
  local attr = inst.pure and "static inline __attribute__((always_inline)) int" or "static int"
  return format("%s f%d(%s)", attr, inst.id, concat(ps, ", "))
end

-- Is the body in fs pure: no use of the iteration state (no draws, no
-- errors, no calls, no abort polls), so that it always returns PRT_OK and
-- iterations are independent?
local function pure_body (fs)
  if fs.usesrc then return false end
  for _, l in ipairs(fs.lines) do
    if l:sub(1, 5) ~= "#line" and l:find("%f[%w_]it%f[^%w_]") then return false end
  end
  return true
end

local function function_c (prog, inst, out)
  local fs = new_fs(prog, inst)
  fs.params, fs.convert, fs.fnparams = {}, {}, {}
  for k, d in ipairs(inst.fn.params) do
    local p = param_name(inst, k)
    if p == format("v%d_%s", d.id, d.name) then fs.params[d] = true else fs.convert[d] = k end
    fs.fnparams[k] = p
  end
  block(fs, inst.fn.body)
  if #inst.rets == 0 then line(fs, "return PRT_OK;") end
  inst.pure = pure_body(fs)
  local name = inst.fn.name or "function"
  out[#out + 1] = format("/* %s, %s:%d, arguments (%s) */", name, inst.file,
    inst.fn.linedefined, concat(inst.args, ", "))
  out[#out + 1] = signature(inst) .. " {"
  for _, l in ipairs(prologue(fs)) do out[#out + 1] = l end
  for _, l in ipairs(fs.lines) do out[#out + 1] = l end
  out[#out + 1] = "}"
  out[#out + 1] = ""
  for _, l in ipairs(fs.extra or {}) do out[#out + 1] = l end
end

---------------------------------------------------------------------------
-- for i in par.prange(n): a block function over the locals it reads
---------------------------------------------------------------------------

-- Locals of inst read in b that are declared outside it (scope decls:
-- inner).
local function captures (inst, b, inner, found, order)
  local function walk (n)
    if type(n) ~= "table" then return end
    if n.tag == "Function" then return end
    if n.tag == "Name" and n.kind == "local" and not inner[n.decl] and not found[n.decl]
       and inst.vars[n.decl] then   -- a value (not a local function)
      found[n.decl] = true
      order[#order + 1] = n.decl
    end
    if n.tag == "Local" then for _, d in ipairs(n.vars) do inner[d] = true end end
    if n.tag == "LocalFunction" then inner[n.var] = true end
    if n.tag == "Fornum" then inner[n.var] = true end
    if n.tag == "Forin" then for _, d in ipairs(n.vars) do inner[d] = true end end
    for k, v in pairs(n) do
      if k ~= "decl" and k ~= "env" and k ~= "label" and k ~= "outer_assigns"
         and k ~= "vars" and k ~= "var" and type(v) == "table" then
        walk(v)
      end
    end
  end
  walk(b)
  return order
end

local redop = {["+"] = "prt_nadd", ["*"] = "prt_nmul"}

-- A loop that Lua runs as par.prange(n)'s plain serial iterator: in a
-- kernel of par.prange/map/..., or in a function called by a par.jit
-- function but defined outside it (API section 4). Its iterations are
-- those of a numeric for: same stream, no iteration in messages.
local function plain_loop (fs, s)
  local n = tmp(fs, "int", ex(fs, s.exprs[1].args[1]))
  line(fs, "if (%s < 0) %s", n,
    fail(fs, s.exprs[1], "bad argument #1 to 'prange' (count must be non-negative)"))
  fs.ntmp = fs.ntmp + 1
  local k = "t" .. fs.ntmp
  open(fs, "for (int64_t %s = 1; %s <= %s; %s++) {", k, k, n, k)
  line(fs, "%s = %s;", var(fs, s.vars[1]), k)
  line(fs, "PRT_POLLCHECK(it);")
  block(fs, s.body)
  close(fs)
end

-- A loop of the text of the par.jit function (prog.intext, par.jit.types)
-- is parallel; any other is plain_loop.
function forin (fs, s)
  local inst, prog = fs.inst, fs.prog
  if not prog.intext[inst.fn] then return plain_loop(fs, s) end
  local info = inst.loops[s]
  local n = tmp(fs, "int", ex(fs, s.exprs[1].args[1]))
  line(fs, "if (%s < 0) %s", n,
    fail(fs, s.exprs[1], "bad argument #1 to 'prange' (count must be non-negative)"))
  prog.nloops = (prog.nloops or 0) + 1
  local L = "L" .. prog.nloops
  local inner = {[s.vars[1]] = true}
  local caps = captures(inst, s.body, inner, {}, {})
  local red = {}
  for d, op in pairs(info.red) do red[#red + 1] = {d = d, op = op} end
  table.sort(red, function (x, y) return x.d.id < y.d.id end)
  local isred = {}
  for _, r in ipairs(red) do isred[r.d] = r.op end
  -- the struct and the block function
  local sfields = {format("struct %s {", L), "  const prt_ctx *K;", "  const prt_it *up;",
    "  uint64_t seed;", "  int depth;"}
  for _, d in ipairs(caps) do
    sfields[#sfields + 1] = format("  %s v%d_%s;", ctype(inst.vars[d]), d.id, d.name)
  end
  for _, r in ipairs(red) do
    sfields[#sfields + 1] = format("  prt_num *p%d;", r.d.id)
  end
  if #red > 0 then sfields[#sfields + 1] = "  int64_t pbase;   /* block of p[0] */" end
  sfields[#sfields + 1] = "};"
  local bfs = new_fs(prog, inst)
  bfs.ind = 2
  bfs.inloop = true
  local bodyfs = bfs
  block(bodyfs, s.body)
  local vi = var(bodyfs, s.vars[1])
  local bl = {sfields[1]}
  for k = 2, #sfields do bl[#bl + 1] = sfields[k] end
  bl[#bl + 1] = ""
  bl[#bl + 1] = format("static int %s_block(void *data, int64_t lo, int64_t hi, int64_t block, int tid) {", L)
  bl[#bl + 1] = format("  struct %s *c = data;", L)
  bl[#bl + 1] = "  prt_it it_, *it = &it_;"
  bl[#bl + 1] = "  int64_t k;"
  bfs.params = {}
  for _, d in ipairs(caps) do bfs.params[d] = true end
  for _, d in ipairs(caps) do
    local t = inst.vars[d]
    local op = isred[d]
    local ids = {["+"] = "0", ["*"] = "1"}
    if op and ids[op] then   -- a block's partial starts at the identity
      local init = t == "int" and ids[op] or t == "float" and ids[op] .. ".0" or format("prt_ni(%s)", ids[op])
      bl[#bl + 1] = format("  %s v%d_%s = %s;", ctype(t), d.id, d.name, init)
    elseif op then           -- min/max: at the value before the loop
      bl[#bl + 1] = format("  %s v%d_%s = c->v%d_%s;", ctype(t), d.id, d.name, d.id, d.name)
    else
      bl[#bl + 1] = format("  const %s v%d_%s = c->v%d_%s;", ctype(t), d.id, d.name, d.id, d.name)
    end
  end
  bl[#bl + 1] = "  prt_it_init(it, c->K, c->seed, block, tid);"
  bl[#bl + 1] = "  it->up = c->up;"
  for _, l in ipairs(prologue(bfs)) do bl[#bl + 1] = l end
  bl[#bl + 1] = "  for (k = lo; k < hi; k++) {"
  -- arrays an iteration makes die with it (no outer variable can hold one)
  local frees = prog.allocs and body_allocates(fs, s.body)
  if frees then bl[#bl + 1] = "    int64_t marked = c->K->allocs(c->K, tid);" end
  bl[#bl + 1] = "    prt_iter(it, k + 1, PRT_DRAWS); it->depth = c->depth;"
  bl[#bl + 1] = format("    %s = k + 1;", vi)
  for _, l in ipairs(bodyfs.lines) do bl[#bl + 1] = l end
  if frees then bl[#bl + 1] = "    c->K->release(c->K, tid, marked);" end
  bl[#bl + 1] = "  }"
  for _, r in ipairs(red) do
    bl[#bl + 1] = format("  c->p%d[block - c->pbase] = %s;", r.d.id,
      tonum(format("v%d_%s", r.d.id, r.d.name), inst.vars[r.d]))
  end
  bl[#bl + 1] = "  return PRT_OK;"
  bl[#bl + 1] = "}"
  bl[#bl + 1] = ""
  prog.loopdefs = prog.loopdefs or {}
  prog.loopdefs[#prog.loopdefs + 1] = bl
  open(fs, "{")
  line(fs, "struct %s c;", L)
  line(fs, "int st = PRT_OK;")
  line(fs, "c.K = it->K;")
  -- as par._ploop: a loop run by an iteration (of an enclosing loop, maybe
  -- through calls) is serial, seeded from that iteration's stream
  line(fs, "c.up = it->iter > 0 ? it : NULL;")
  line(fs, "c.depth = it->depth;")
  -- a loop that may run inside an iteration (in a loop's body, or in a
  -- function the body may call) draws its seed from it
  if fs.inloop or inst ~= prog.entry then prog.draws = true end
  line(fs, "c.seed = c.up ? prt_draw64(it) : prt_loop_seed(it->K->seed, ++it->loops);")
  for _, d in ipairs(caps) do line(fs, "c.v%d_%s = %s;", d.id, d.name, var(fs, d)) end
  local serial = "c.up || !it->K->parallel"
  if #red == 0 then
    -- finer blocks for a short loop without reductions (par_kernel_block)
    line(fs, "st = it->K->run(it->K, %s, %s_block, &c, it->tid, %s, 0, 0, INT64_MAX);", n, L, serial)
    line(fs, "if (st != PRT_OK) return st;")
    close(fs)
    return
  end
  -- blocks of 1024, their partials combined in order, PRT_REDUCE_CHUNK
  -- blocks at a time
  line(fs, "int64_t b, b0, b1, nb = %s > 0 ? (%s - 1) / 1024 + 1 : 0;", n, n)
  line(fs, "int64_t ch = nb < PRT_REDUCE_CHUNK ? nb : PRT_REDUCE_CHUNK;")
  line(fs, "prt_num *parts = malloc((size_t)(ch > 0 ? ch : 1) * %d * sizeof(prt_num));", #red)
  line(fs, "if (parts == NULL) %s", fail(fs, s, "not enough memory"))
  for k, r in ipairs(red) do
    line(fs, "prt_num acc%d = %s;", r.d.id, tonum(var(fs, r.d), inst.vars[r.d]))
    line(fs, "c.p%d = parts + %d * ch;", r.d.id, k - 1)
  end
  open(fs, "for (b0 = 0; b0 < nb && st == PRT_OK; b0 = b1) {")
  line(fs, "b1 = b0 + ch < nb ? b0 + ch : nb;")
  line(fs, "c.pbase = b0;")
  line(fs, "st = it->K->run(it->K, %s, %s_block, &c, it->tid, %s, 1, b0, b1);", n, L, serial)
  line(fs, "if (st != PRT_OK) break;")
  for _, r in ipairs(red) do
    local a = "acc" .. r.d.id
    if redop[r.op] then
      line(fs, "for (b = 0; b < b1 - b0; b++) %s = %s(%s, c.p%d[b]);", a, redop[r.op], a, r.d.id)
    else
      local cmp = r.op == "min" and "prt_nlt(c.p%d[b], %s)" or "prt_nlt(%s, c.p%d[b])"
      cmp = r.op == "min" and format(cmp, r.d.id, a) or format(cmp, a, r.d.id)
      line(fs, "for (b = 0; b < b1 - b0; b++) if (%s) %s = c.p%d[b];", cmp, a, r.d.id)
    end
  end
  close(fs)
  line(fs, "free(parts);")
  line(fs, "if (st != PRT_OK) return st;")
  for _, r in ipairs(red) do
    local t, v, a = inst.vars[r.d], var(fs, r.d), "acc" .. r.d.id
    if t == "int" then line(fs, "%s = %s.i;", v, a)
    elseif t == "float" then line(fs, "%s = prt_tof(%s);", v, a)
    else line(fs, "%s = %s;", v, a) end
  end
  close(fs)
end

---------------------------------------------------------------------------
-- Entry points
---------------------------------------------------------------------------

local function store_out (k, t, pos, c)
  if t == "num" then return format("((prt_num *)K->outs[%d].data)[%s] = %s;", k - 1, pos, c) end
  local el = ({int = "int64_t", float = "double", bool = "uint8_t"})[t]
  return format("((%s *)K->outs[%d].data)[%s] = (%s)%s;", el, k - 1, pos, el, c)
end

local function reduce_step (op, t, p, r)
  if op == "+" or op == "*" then
    if t == "int" then return format("%s = %s(%s, %s);", p, op == "+" and "prt_iadd" or "prt_imul", p, r) end
    if t == "float" then return format("%s = %s %s %s;", p, p, op, r) end
    return format("%s = %s(%s, %s);", p, op == "+" and "prt_nadd" or "prt_nmul", p, r)
  end
  if t == "num" then return format("%s = %s(%s, %s);", p, op == "min" and "prt_nmin" or "prt_nmax", p, r) end
  local better = op == "min" and "<" or ">"
  if t == "int" then return format("if (%s %s %s) %s = %s;", r, better, p, p, r) end
  return format("if (%s == %s && (%s != %s || %s %s %s)) %s = %s;", p, p, r, r, r, better, p, p, r)
end

-- Arguments of the entry function at iteration k, for the block loop
-- (K->args: arrays and scalars of map; the index of prange). With 'hoist',
-- arrays and scalars are read through locals declared in 'decls' first.
local function entry_args (inst, form, hoist, decls, reads)
  local argv = {"&it"}
  if form.kind == "prange" or form.kind == "preduce" then
    if #inst.fn.params >= 1 then argv[2] = "k + 1" end
    return argv
  end
  for j, at_ in ipairs(form.args) do
    if j <= #inst.fn.params then
      local c
      if form.arrays[j] then
        local el = elemc[({float = "f64", int = "i64", bool = "bool"})[at_]]
        if hoist then
          decls[#decls + 1] = format("  const %s *restrict a%d = (const %s *)K->args[%d].a.data;", el, j, el, j - 1)
          reads[#reads + 1] = j
          c = format("a%d[k]", j)
        else
          c = format("((%s *)K->args[%d].a.data)[k]", el, j - 1)
        end
        if at_ == "bool" then c = "(int)" .. c end
      else
        c = format("K->args[%d].%s", j - 1, field(at_))
        if hoist then
          decls[#decls + 1] = format("  const %s a%d = %s;", ctype(at_), j, c)
          c = "a" .. j
        end
      end
      argv[#argv + 1] = c
    end
  end
  return argv
end

-- The '#pragma omp simd' of a pure block loop, or nil when its iterations
-- must run in order: reductions of floats reorder only under fastmath
-- (integer ones wrap, so any order gives the same bits); tagged numbers
-- do not vectorise.
local function simd_pragma (form, t)
  if not (form.kind == "preduce" or form.kind == "mapreduce") then return "#pragma omp simd" end
  if t == "num" or t == "bool" or (t == "float" and not form.fastmath) then return nil end
  return format("#pragma omp simd reduction(%s:p)", form.op)
end

-- The loop over a block for prange/preduce/map/mapreduce. A pure entry
-- (see pure_body) runs as a plain loop over hoisted pointers that GCC can
-- vectorise, in chunks that prefetch the arrays (kernel_rt.h's PRT_CHUNK);
-- others start each iteration (prt_iter) and check each status.
local function block_entry (prog, form, out)
  local inst = prog.entry
  local rets = inst.rets
  local kind = form.kind
  local red = kind == "preduce" or kind == "mapreduce"
  local pure = inst.pure
  local t = rets[1]
  out[#out + 1] = "int prt_kernel(void *data, int64_t lo, int64_t hi, int64_t block, int tid) {"
  out[#out + 1] = "  const prt_ctx *K = data;"
  out[#out + 1] = "  prt_it it;"
  out[#out + 1] = "  int64_t k;"
  if not pure then out[#out + 1] = "  int rc;" end
  local decls, reads = {}, {}
  local argv = entry_args(inst, form, pure, decls, reads)
  for _, l in ipairs(decls) do out[#out + 1] = l end
  if pure and not red then
    for k, rt in ipairs(rets) do
      local el = rt == "num" and "prt_num" or ({int = "int64_t", float = "double", bool = "uint8_t"})[rt]
      out[#out + 1] = format("  %s *restrict o%d = (%s *)K->outs[%d].data;", el, k, el, k - 1)
    end
  end
  local minmax = red and (form.op == "min" or form.op == "max")
  if red then
    local op = form.op
    local init = (op == "+" and "0") or (op == "*" and "1")
    if init then
      init = t == "float" and init .. ".0" or t == "num" and format("prt_ni(%s)", init) or init
    else
      init = zero(t)
    end
    out[#out + 1] = format("  %s p = %s;", ctype(t), init)
  end
  out[#out + 1] = "  prt_it_init(&it, K, K->seed, block, tid);"
  local rdecl, rargs = {}, {}
  for k, rt in ipairs(rets) do
    rdecl[k] = format("%s r%d = %s;", ctype(rt), k, zero(rt))
    rargs[k] = "&r" .. k
  end
  for _, a in ipairs(rargs) do argv[#argv + 1] = a end
  local call = format("f%d(%s)", inst.id, concat(argv, ", "))
  local first = "lo"
  if pure and minmax and (t == "float" or t == "int") then
    -- from the identity, so that whole vectors cover the block; a value
    -- equal to it leaves the bits that starting at the first value leaves
    local id = {float = {max = "-INFINITY", min = "INFINITY"},
                int = {max = "INT64_MIN", min = "INT64_MAX"}}
    out[#out + 1] = format("  p = %s;", id[t][form.op])
  elseif pure and minmax then   -- the partial starts at the first value
    out[#out + 1] = "  k = lo;"
    out[#out + 1] = "  {"
    out[#out + 1] = "    " .. concat(rdecl, " ")
    out[#out + 1] = format("    (void)%s;", call)
    out[#out + 1] = "    p = r1;"
    out[#out + 1] = "  }"
    first = "lo + 1"
  end
  local loop = {}
  if pure then loop[#loop + 1] = simd_pragma(form, t) end
  local head = #loop + 1
  loop[head] = format("for (k = %s; k < hi; k++) {", first)
  loop[#loop + 1] = "  " .. concat(rdecl, " ")
  if pure then
    loop[#loop + 1] = format("  (void)%s;", call)
  else
    loop[#loop + 1] = "  prt_iter(&it, k + 1, PRT_DRAWS); it.depth = 0;"
    loop[#loop + 1] = format("  if ((rc = %s) != 0) return rc;", call)
  end
  if red then
    if minmax and not pure then
      loop[#loop + 1] = "  if (k == lo) p = r1; else"
    end
    loop[#loop + 1] = "  " .. reduce_step(form.op, t, "p", "r1")
  elseif pure then
    for k, rt in ipairs(rets) do
      local el = rt == "num" and "" or format("(%s)", ({int = "int64_t", float = "double", bool = "uint8_t"})[rt])
      loop[#loop + 1] = format("  o%d[k] = %sr%d;", k, el, k)
    end
  else
    for k, rt in ipairs(rets) do loop[#loop + 1] = "  " .. store_out(k, rt, "k", "r" .. k) end
  end
  loop[#loop + 1] = "}"
  local ind = "  "
  if #reads > 0 then
    -- in chunks, each prefetching the arrays a few chunks on (kernel_rt.h)
    loop[head] = "for (k = kc; k < ke; k++) {"
    -- (past the block too: the next one is often this thread's)
    out[#out + 1] = format("  const int64_t size = K->args[%d].a.size;", reads[1] - 1)
    out[#out + 1] = "  int64_t kc, ke;"
    out[#out + 1] = format("  for (kc = %s; kc < hi; kc = ke) {", first)
    out[#out + 1] = "    ke = hi - kc > PRT_CHUNK ? kc + PRT_CHUNK : hi;"
    out[#out + 1] = "    if (size - kc >= PRT_AHEAD + PRT_CHUNK) {"
    for _, j in ipairs(reads) do
      out[#out + 1] = format("      prt_prefetch(a%d + kc + PRT_AHEAD, PRT_CHUNK * sizeof *a%d);", j, j)
    end
    out[#out + 1] = "    }"
    ind = "    "
  end
  for _, l in ipairs(loop) do out[#out + 1] = (l:sub(1, 1) == "#" and "" or ind) .. l end
  if #reads > 0 then out[#out + 1] = "  }" end
  if red then out[#out + 1] = "  K->partials[block - K->pbase] = " .. tonum("p", t) .. ";" end
  out[#out + 1] = "  return PRT_OK;"
  out[#out + 1] = "}"
end

local function jit_entry (prog, out)
  local inst = prog.entry
  out[#out + 1] = "int prt_kernel(void *data, int64_t lo, int64_t hi, int64_t block, int tid) {"
  out[#out + 1] = "  const prt_ctx *K = data;"
  out[#out + 1] = "  prt_it it;"
  out[#out + 1] = "  int rc;"
  local argv = {"&it"}
  for j, at_ in ipairs(inst.args) do
    argv[#argv + 1] = format("K->args[%d].%s", j - 1, field(at_))
  end
  for k, rt in ipairs(inst.rets) do
    out[#out + 1] = format("  %s r%d = %s;", ctype(rt), k, zero(rt))
    argv[#argv + 1] = "&r" .. k
  end
  out[#out + 1] = "  (void)lo; (void)hi; (void)block;"
  out[#out + 1] = "  prt_it_serial(&it, K, tid);"
  out[#out + 1] = format("  rc = f%d(%s);", inst.id, concat(argv, ", "))
  out[#out + 1] = "  prt_it_done(&it);"
  out[#out + 1] = "  if (rc != 0) return rc;"
  for k, rt in ipairs(inst.rets) do
    out[#out + 1] = format("  K->rets[%d].%s = r%d;", k - 1, field(rt), k)
  end
  out[#out + 1] = "  return PRT_OK;"
  out[#out + 1] = "}"
end

-- The C text of program prog run as 'form' (see the header).
function M.emit (prog, form)
  local out = {"/* generated by parlua's kernel compiler from " .. prog.entry.file .. " */",
    "#include <stdlib.h>", ""}
  local files, nfiles = {}, 0
  for _, inst in ipairs(prog.insts) do
    if not files[inst.file] then
      nfiles = nfiles + 1
      files[inst.file] = "F" .. nfiles
      out[#out + 1] = format("static PRT_UNUSED const char F%d[] = %s;", nfiles, cstring(inst.file))
    end
    inst.cfilevar = files[inst.file]
    inst.cfile = cstring(inst.file)
  end
  out[#out + 1] = ""
  local bodies = {}
  for _, inst in ipairs(prog.insts) do function_c(prog, inst, bodies) end
  out[#out + 1] = format("#define PRT_DRAWS %d  /* prt_iter */", prog.draws and 1 or 0)
  for _, inst in ipairs(prog.insts) do out[#out + 1] = signature(inst) .. ";" end
  out[#out + 1] = ""
  for _, bl in ipairs(prog.loopdefs or {}) do
    for _, l in ipairs(bl) do out[#out + 1] = l end
  end
  for _, l in ipairs(bodies) do out[#out + 1] = l end
  if form.kind == "jit" then jit_entry(prog, out) else block_entry(prog, form, out) end
  return concat(out, "\n") .. "\n", "prt_kernel"
end

return M
